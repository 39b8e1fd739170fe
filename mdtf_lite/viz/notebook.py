"""Choose how plotly figures render in notebooks so that executed notebooks stay small and exports work offline.

plotly's HTML outputs either load plotly.js from a CDN (``notebook_connected``: blank without network)
or embed the 4-5 MB library in the notebook (``notebook``: in every executed notebook, and with a MathJax
CDN ``<script>`` per figure).  ``setup_notebook_plotting()`` (call it once, near the top of a notebook)
selects :data:`DEFAULT_RENDERER` = ``"plotly_mimetype"`` instead: a figure is stored as its JSON
(``application/vnd.plotly.v1+json``), which JupyterLab, Notebook 7 and VS Code draw with their plotly
extension, and which :mod:`mdtf_lite.viz.export` turns into an offline page (plotly.js loaded once, from a
local file).  An executed notebook thus carries figures, never the library.

``mdtf_offline`` (plotly's notebook renderer without the MathJax CDN tag: plotly.js embedded once per
kernel, figures as ``text/html``) stays available for front ends without a plotly extension; the
environment variable ``PLOTLY_RENDERER`` (plotly's own) overrides the choice, e.g.
``PLOTLY_RENDERER=plotly_mimetype+mdtf_offline``.
"""

from __future__ import annotations

import os

import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

__all__ = ["OfflineNotebookRenderer", "DEFAULT_RENDERER", "setup_notebook_plotting", "in_notebook_kernel"]

DEFAULT_RENDERER = "plotly_mimetype"


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's ``notebook`` renderer (plotly.js embedded once, on activation) without CDN MathJax."""

    def to_mimebundle(self, fig_dict):
        from plotly.io import to_html

        html = to_html(
            fig_dict,
            config=self.config,
            auto_play=self.auto_play,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            animation_opts=self.animation_opts,
            default_width="100%",
            default_height=525,
            validate=False,
        )
        return {"text/html": html}


pio.renderers["mdtf_offline"] = OfflineNotebookRenderer()


def in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, papermill, nbval), False in plain Python / pytest."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


_ACTIVE: str | None = None


class RendererName(str):
    """The chosen renderer's name; displays as nothing, so ``setup_notebook_plotting()`` as the last line
    of a cell leaves no ``Out[...]`` behind."""

    def _ipython_display_(self, **kwargs):
        pass


def setup_notebook_plotting(renderer: str | None = None) -> str:
    """Select the plotly renderer for this kernel and return its name.

    Order: the ``renderer`` argument, else ``$PLOTLY_RENDERER``, else :data:`DEFAULT_RENDERER`.
    Outside a notebook kernel nothing is changed (plain scripts keep plotly's default) unless a
    renderer is passed explicitly.  Calling it again with the same choice does nothing, so plotly.js
    is embedded once per kernel.  The returned name (a ``str``) shows no ``Out[...]`` in a notebook.
    """
    global _ACTIVE
    choice = renderer or os.environ.get("PLOTLY_RENDERER") or DEFAULT_RENDERER
    for part in choice.split("+"):
        if part not in pio.renderers:
            raise ValueError(f"unknown plotly renderer {part!r} (from {choice!r}); known: {list(pio.renderers)}")
    if renderer is None and not in_notebook_kernel():
        return RendererName(pio.renderers.default)
    if _ACTIVE != choice:
        pio.renderers.default = choice  # activating mdtf_offline would display plotly.js once
        _ACTIVE = choice
    return RendererName(choice)
