"""Widgets that leave a static copy of their current figure in the notebook (for exports and readers without a kernel).

A widget output is only a reference to a model that lives in the kernel; an exported page or a notebook
opened later has no kernel, so the widget is blank there.  :func:`display_with_fallback` displays a widget
together with the plotly JSON of its *current* figure in the same output (a mime bundle with
``application/vnd.jupyter.widget-view+json`` and ``application/vnd.plotly.v1+json``) under a display id, and
refreshes that copy after every cell whose code changed the figure (an IPython ``post_run_cell`` hook:
one update per cell, never one per slider move).  A live front end draws the widget (its renderer ranks
first); :mod:`mdtf_lite.viz.export` draws the static copy.

    box = FallbackVBox([controls, fig_widget], figure=lambda: fig_widget)
    display(box)                      # widget + static copy of fig_widget, kept current cell by cell

Outside a notebook kernel ``display_with_fallback`` falls back to a plain ``display``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Callable

import ipywidgets as W
import plotly.graph_objects as go

from mdtf_lite.viz.notebook import in_notebook_kernel

__all__ = [
    "PLOTLY_MIME",
    "WIDGET_MIME",
    "FALLBACK_KEY",
    "figure_json",
    "fallback_bundle",
    "display_with_fallback",
    "refresh_fallbacks",
    "FallbackVBox",
    "FallbackFigureWidget",
]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FALLBACK_KEY = "mdtf_static_fallback"  # output metadata flag: the plotly JSON is a widget's static copy

_LIVE: list[dict] = []  # displayed widgets whose static copy the post-run hook keeps current
_HOOKED = False


def figure_json(fig) -> dict:
    """Plain-JSON ``{"data": [...], "layout": {...}}`` of a ``go.Figure`` / ``go.FigureWidget`` (its current state)."""
    import plotly.io as pio

    return json.loads(pio.to_json(fig, validate=False, remove_uids=False))


def _widget_bundle(widget) -> dict:
    bundle = widget._repr_mimebundle_()
    if isinstance(bundle, tuple):  # anywidget returns (data, metadata)
        bundle = bundle[0]
    return dict(bundle or {})


def fallback_bundle(widget, figure: Callable[[], object]) -> tuple[dict, dict]:
    """(data, metadata) of one output: the widget view plus the static plotly JSON of ``figure()``."""
    data = _widget_bundle(widget)
    data[PLOTLY_MIME] = figure_json(figure())
    return data, {FALLBACK_KEY: True}


def _digest(data: dict) -> str:
    return hashlib.sha1(json.dumps(data[PLOTLY_MIME], sort_keys=True).encode()).hexdigest()


def display_with_fallback(widget, figure: Callable[[], object]):
    """Display ``widget`` with a static copy of ``figure()`` (kept current after each cell); returns the handle."""
    from IPython.display import display

    if not in_notebook_kernel():
        display(widget)
        return None
    _install_hook()
    data, meta = fallback_bundle(widget, figure)
    handle = display(data, raw=True, metadata=meta, display_id=uuid.uuid4().hex)
    _LIVE.append({"widget": widget, "figure": figure, "handle": handle, "digest": _digest(data)})
    return handle


def refresh_fallbacks(*_args) -> int:
    """Re-send the static copy of every displayed widget whose figure changed; returns how many were updated."""
    updated = 0
    for entry in list(_LIVE):
        try:
            data, meta = fallback_bundle(entry["widget"], entry["figure"])
        except Exception:  # a closed widget: forget it rather than break every later cell
            _LIVE.remove(entry)
            continue
        digest = _digest(data)
        if digest != entry["digest"]:
            entry["handle"].update(data, raw=True, metadata=meta)
            entry["digest"] = digest
            updated += 1
    return updated


def _install_hook() -> None:
    global _HOOKED
    if _HOOKED:
        return
    from IPython import get_ipython

    get_ipython().events.register("post_run_cell", refresh_fallbacks)
    _HOOKED = True


class FallbackVBox(W.VBox):
    """An ``ipywidgets.VBox`` that displays with a static copy of ``figure()`` (see the module docstring)."""

    def __init__(self, children=(), *, figure: Callable[[], object], **kwargs):
        super().__init__(children, **kwargs)
        self._fallback_figure = figure

    def _ipython_display_(self, **kwargs):
        display_with_fallback(self, self._fallback_figure)


class FallbackFigureWidget(go.FigureWidget):
    """A ``go.FigureWidget`` that displays with a static copy of itself (see the module docstring)."""

    def _ipython_display_(self, **kwargs):
        display_with_fallback(self, lambda: self)
