"""Loss curves: a pure figure of finished histories and a live-updating widget for notebook 06.

    fig = loss_curve_figure({"BAM": bam.history, "MDTF": mdtf.history})
    live = LiveLossPlot("stage 2"); display(live.widget); fit(cfg, callbacks=[live])
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["loss_curve_figure", "LiveLossPlot"]

VAL_KEYS = ("val_p1_mm", "val_accuracy")


def _val_key(history: list) -> str | None:
    return next((k for k in VAL_KEYS if any(k in h for h in history)), None)


def loss_curve_figure(histories: dict, title: str = "training curves") -> go.Figure:
    """Training loss (left) and the validation metric (right) per epoch, one line per run.

    Args: histories: run name -> list of epoch records from ``fit`` (``epoch``, ``train_loss``, ``val_*``).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "validation"))
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        fig.add_trace(go.Scatter(x=epochs, y=[h["train_loss"] for h in history], mode="lines+markers",
                                 name=f"{name} loss"), row=1, col=1)
        key = _val_key(history)
        if key:
            pts = [(h["epoch"], h[key]) for h in history if key in h]
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="lines+markers",
                                     name=f"{name} {key}"), row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=360)
    return fig


class LiveLossPlot:
    """A ``go.FigureWidget`` that grows by one point per epoch; pass the object as a ``fit`` callback."""

    def __init__(self, name: str = "run"):
        self.name = name
        self.history: list = []
        # an empty line to start from (a NaN placeholder is not JSON: the kernel warned on every display)
        self.widget = go.FigureWidget(loss_curve_figure({name: []},
                                                        title=f"{name}: live"))

    def __call__(self, record: dict) -> None:
        self.history.append(dict(record))
        fresh = loss_curve_figure({self.name: self.history}, title=f"{self.name}: live")
        with self.widget.batch_update():
            self.widget.data = ()
            self.widget.add_traces(list(fresh.data), rows=[1] * len(fresh.data),
                                   cols=[1 if "loss" in t.name else 2 for t in fresh.data])
