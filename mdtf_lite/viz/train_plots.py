"""Loss curves: a pure figure of finished histories, a live-updating widget for notebook 06, the epoch log line.

    fig = loss_curve_figure({"BAM": bam.history, "MDTF": mdtf.history})
    live = LiveLossPlot("stage 2"); display(live.widget); fit(cfg, callbacks=[live])

One panel per metric, each with its own y axis and unit (a BAM accuracy in [0, 1] and an MPJPE in mm
never share an axis); epochs are whole numbers on the x axes.  Pose errors are shown in millimetres
everywhere, including :func:`format_epoch` (the line ``fit`` prints per epoch).
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mdtf_lite.train.records import METRICS, format_epoch, in_display_units
from mdtf_lite.viz.fallback import FallbackFigureWidget

__all__ = ["METRICS", "loss_curve_figure", "LiveLossPlot", "format_epoch", "in_display_units"]


def _panels(histories: dict) -> list[str]:
    keys = [k for k in METRICS if any(k in h for hist in histories.values() for h in hist)]
    return keys or ["train_loss"]


def loss_curve_figure(histories: dict, title: str = "training curves", metrics: list[str] | None = None) -> go.Figure:
    """One panel per metric (training loss, validation MPJPE in mm, BAM accuracy in %), one line per run.

    Args:
        histories: run name -> list of epoch records from ``fit`` (``epoch``, ``train_loss``, ``val_*``).
        metrics: the record keys to draw (default: those of :data:`METRICS` present in some record).
    """
    keys = list(metrics) if metrics else _panels(histories)
    unknown = [k for k in keys if k not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known: {list(METRICS)}")
    fig = make_subplots(
        rows=1,
        cols=len(keys),
        subplot_titles=[METRICS[k][0] for k in keys],
        horizontal_spacing=0.08 if len(keys) > 2 else 0.12,
    )
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    last_epoch = 1
    for r, (name, history) in enumerate(histories.items()):
        legend = True
        for c, key in enumerate(keys, 1):
            pts = [(int(h["epoch"]), h[key] * METRICS[key][2]) for h in history if key in h]
            if not pts:  # this run does not have this metric (BAM: no MPJPE): no empty line in the panel
                continue
            last_epoch = max([last_epoch] + [p[0] for p in pts])
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in pts],
                    y=[p[1] for p in pts],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=legend,
                    line={"color": colours[r % len(colours)]},
                    hovertemplate=f"{name}<br>epoch %{{x}}<br>{METRICS[key][1]} %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=c,
            )
            legend = False
    for c, key in enumerate(keys, 1):
        fig.update_yaxes(title_text=METRICS[key][1], row=1, col=c)
    # whole epochs only: ticks every epoch (or every few when there are many), never at 1.5
    fig.update_xaxes(
        title_text="epoch",
        tickmode="linear",
        tick0=1,
        dtick=max(1, round(last_epoch / 8)),
        tickformat="d",
        range=[0.5, last_epoch + 0.5],
    )
    fig.update_layout(title=title, height=360, legend={"orientation": "h", "y": -0.25})
    return fig


class LiveLossPlot:
    """A ``go.FigureWidget`` that grows by one point per epoch; pass the object as a ``fit`` callback.

    ``widget`` displays with a static copy of its current figure (:mod:`mdtf_lite.viz.fallback`), so the
    saved notebook and its HTML export show the finished curves, not the empty start.
    """

    def __init__(self, name: str = "run", metrics: list[str] | None = None):
        self.name = name
        self.metrics = metrics
        self.history: list = []
        self.widget = FallbackFigureWidget(loss_curve_figure({name: []}, title=f"{name}: live", metrics=metrics))

    def __call__(self, record: dict) -> None:
        self.history.append(dict(record))
        fresh = loss_curve_figure({self.name: self.history}, title=f"{self.name}: live", metrics=self.metrics)
        with self.widget.batch_update():
            self.widget.data = ()
            self.widget.layout = fresh.layout
            self.widget.add_traces(list(fresh.data))
