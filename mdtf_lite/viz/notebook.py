"""Choose how plotly figures render in notebooks so that they also work offline in exported HTML.

The problem: plotly's default HTML output either loads plotly.js from a CDN (``notebook_connected``,
breaks without network) or embeds the 3-4 MB library in *every* figure (``to_html`` default).  And
plotly's ``notebook`` renderer adds a MathJax ``<script src=cdn...>`` to every figure.

``setup_notebook_plotting()`` (call it once, near the top of a notebook) selects
``"plotly_mimetype+mdtf_offline"``:

* ``plotly_mimetype``: JupyterLab / VS Code render the figure with their plotly extension.
* ``mdtf_offline``: plotly's notebook renderer without the MathJax CDN tag.  When activated it
  displays plotly.js *once* (a ``<script>`` in the output of the setup cell); every later figure is a
  small ``text/html`` div calling ``Plotly.newPlot``.  nbconvert's HTML export keeps the ``text/html``
  outputs, so an exported page carries plotly.js once and needs no network.

The environment variable ``PLOTLY_RENDERER`` (plotly's own) overrides the choice, e.g.
``PLOTLY_RENDERER=notebook_connected`` for small files when a CDN is reachable.
"""

from __future__ import annotations

import os

import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer

__all__ = ["OfflineNotebookRenderer", "DEFAULT_RENDERER", "setup_notebook_plotting", "in_notebook_kernel"]

DEFAULT_RENDERER = "plotly_mimetype+mdtf_offline"


class OfflineNotebookRenderer(NotebookRenderer):
    """plotly's ``notebook`` renderer (plotly.js embedded once, on activation) without CDN MathJax."""

    def to_mimebundle(self, fig_dict):
        from plotly.io import to_html

        html = to_html(fig_dict, config=self.config, auto_play=self.auto_play, include_plotlyjs=False,
                       include_mathjax=False, full_html=False, animation_opts=self.animation_opts,
                       default_width="100%", default_height=525, validate=False)
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


def setup_notebook_plotting(renderer: str | None = None) -> str:
    """Select the plotly renderer for this kernel and return its name.

    Order: the ``renderer`` argument, else ``$PLOTLY_RENDERER``, else :data:`DEFAULT_RENDERER`.
    Outside a notebook kernel nothing is changed (plain scripts keep plotly's default) unless a
    renderer is passed explicitly.  Calling it again with the same choice does nothing, so plotly.js
    is embedded once per kernel.
    """
    global _ACTIVE
    choice = renderer or os.environ.get("PLOTLY_RENDERER") or DEFAULT_RENDERER
    for part in choice.split("+"):
        if part not in pio.renderers:
            raise ValueError(f"unknown plotly renderer {part!r} (from {choice!r}); known: {list(pio.renderers)}")
    if renderer is None and not in_notebook_kernel():
        return pio.renderers.default
    if _ACTIVE != choice:
        pio.renderers.default = choice  # activating the offline renderer displays plotly.js once
        _ACTIVE = choice
    return choice
