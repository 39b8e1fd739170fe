"""Offline HTML exports and slim executed notebooks.

    python -m mdtf_lite.viz.export runs/ci/*.ipynb        # HTML next to each notebook, assets/ beside them

What a page needs, and where it comes from (nothing is fetched from the network):

* **plotly.js**: one file, ``assets/plotly-<version>.min.js``, copied from the installed ``plotly`` package
  and loaded by every page of a folder with a relative ``<script src>`` (once per page, once per folder on
  disk).  Figures are stored in notebooks as plotly JSON (``application/vnd.plotly.v1+json``, what
  JupyterLab's plotly extension draws), so executed notebooks carry no library either.
* **maths**: MathJax 2 from the ``jupyter-server-mathjax`` pip package (the subset that typesets TeX with
  its STIX web fonts), copied to ``assets/mathjax/``.  Without the package
  the export still works and maths shows as LaTeX source (a warning says so).
* **widgets**: no widget manager.  Each widget output is drawn from what the notebook saved: the
  widget tree's state (controls shown disabled, HTML read-outs, progress bars) with plotly figures from the
  static copy that :mod:`mdtf_lite.viz.fallback` keeps current, or from the widget's saved figure state;
  an ``Output`` widget's saved figures are drawn with their frames, so the viewers of
  :mod:`mdtf_lite.viz.animated` play in the page (frames stored once: in that state only).

:func:`slim_notebook` drops what an executed notebook does not need to be read: the JavaScript bundles
that anywidget-based widgets (``go.FigureWidget``) store in the saved widget state (5 MB each).
"""

from __future__ import annotations

import argparse
import copy
import html as htmllib
import json
import shutil
import sys
import warnings
from pathlib import Path

from mdtf_lite.viz.fallback import FALLBACK_KEY, PLOTLY_MIME, WIDGET_MIME

__all__ = [
    "ASSETS",
    "export_html",
    "static_notebook",
    "widget_html",
    "plotly_div",
    "slim_notebook",
    "copy_assets",
    "plotlyjs_name",
]

ASSETS = "assets"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
TEMPLATES = Path(__file__).parent / "templates"
#: MathJax 2 parts that typeset TeX with the HTML-CSS output and STIX web fonts (relative to static/)
MATHJAX_PARTS = (
    "MathJax.js",
    "config/TeX-AMS-MML_HTMLorMML-full.js",
    "config/Safe.js",
    "extensions",
    "jax/input/TeX",
    "jax/element",
    "jax/output/HTML-CSS",
    "fonts/HTML-CSS/STIX-Web",
    "LICENSE",
)
MATHJAX_SKIP = ("a11y",)  # accessibility explorer: 3.7 MB the pages never load
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"


# ------------------------------------------------------------------------------------------ assets
def plotlyjs_name() -> str:
    import plotly

    return f"plotly-{plotly.__version__}.min.js"


def mathjax_source() -> Path | None:
    """The installed MathJax 2 static folder (``jupyter-server-mathjax``), or None."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    return static if (static / "MathJax.js").is_file() else None


def copy_assets(folder: Path) -> dict:
    """Put plotly.js (and MathJax, when installed) into ``folder/assets``; files already there are kept.

    Returns ``{"plotly": relative URL, "mathjax": relative URL or None}`` for the pages of ``folder``.
    """
    from plotly.offline import get_plotlyjs

    assets = Path(folder) / ASSETS
    assets.mkdir(parents=True, exist_ok=True)
    plotly_file = assets / plotlyjs_name()
    if not plotly_file.is_file():
        plotly_file.write_text(get_plotlyjs(), encoding="utf-8")
    urls = {"plotly": f"{ASSETS}/{plotly_file.name}", "mathjax": None}
    source = mathjax_source()
    if source is None:
        warnings.warn(
            "jupyter-server-mathjax is not installed: exported maths shows as LaTeX source "
            "(pip install jupyter-server-mathjax, or run make setup)",
            stacklevel=2,
        )
        return urls
    target = assets / "mathjax"
    if not (target / "MathJax.js").is_file():
        for part in MATHJAX_PARTS:
            src = source / part
            if src.is_dir():
                shutil.copytree(src, target / part, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*MATHJAX_SKIP))
            elif src.is_file():
                (target / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / part)
    urls["mathjax"] = f"{ASSETS}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    return urls


# ------------------------------------------------------------------------------------------ figures
def plotly_div(fig: dict, height: int | None = None) -> str:
    """An HTML ``<div>`` + inline script drawing the plotly JSON ``fig`` (plotly.js loaded by the page)."""
    import plotly.io as pio

    layout = fig.get("layout", {}) if isinstance(fig, dict) else {}
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        validate=False,
        auto_play=False,
        default_width="100%",
        default_height=height or layout.get("height") or 525,
    )


def _is_figure_model(state: dict) -> bool:
    return "_widget_data" in state or "_data" in state and "_layout" in state


def _model_figure(state: dict) -> dict:
    return {
        "data": state.get("_widget_data", state.get("_data", [])),
        "layout": state.get("_widget_layout", state.get("_layout", {})),
    }


def _ref(value) -> str | None:
    return value[len("IPY_MODEL_") :] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def widget_html(model_id: str, models: dict, figure: dict | None = None, _depth: int = 0) -> str:
    """Static HTML of the widget ``model_id`` from saved widget ``models`` (model id -> {"state": ...}).

    ``figure``: plotly JSON to draw for the (first) figure widget in the tree instead of its saved state
    (the static copy of :mod:`mdtf_lite.viz.fallback`, which is current where the saved state is not).
    Controls come out disabled: they need a kernel.
    """
    used = {"figure": figure}

    def render(mid: str, depth: int) -> str:
        entry = models.get(mid)
        if entry is None or depth > 20:
            return ""
        st = entry.get("state", {})
        name = st.get("_model_name") or entry.get("model_name", "")  # JupyterLab saves defaults outside "state"
        esc = htmllib.escape
        desc = esc(str(st.get("description", "") or ""))
        label = f"<span class='mdtf-w-desc'>{desc}</span> " if desc else ""
        if _is_figure_model(st):
            fig, used["figure"] = used["figure"] or _model_figure(st), None
            return f"<div class='mdtf-w-figure'>{plotly_div(fig)}</div>"
        if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel"):
            row = name == "HBoxModel"
            kids = "".join(render(_ref(c), depth + 1) for c in st.get("children", []) if _ref(c))
            return (
                f"<div class='mdtf-w-box' style='display:flex;flex-direction:{'row' if row else 'column'};"
                f"gap:6px;align-items:{'center' if row else 'stretch'}'>{kids}</div>"
            )
        if name in ("HTMLModel", "HTMLMathModel"):
            return f"<div class='mdtf-w-html'>{label}{st.get('value', '')}</div>"
        if name in ("LabelModel", "TextModel", "TextareaModel"):
            return f"<div class='mdtf-w-text'>{label}{esc(str(st.get('value', '')))}</div>"
        if name in ("FloatProgressModel", "IntProgressModel"):
            return f"<span>{label}<progress value='{st.get('value', 0)}' max='{st.get('max', 100)}'></progress></span>"
        if name in ("IntSliderModel", "FloatSliderModel", "FloatLogSliderModel"):
            return (
                f"<span>{label}<input type='range' disabled min='{st.get('min', 0)}' max='{st.get('max', 100)}' "
                f"value='{st.get('value', 0)}'> {esc(str(st.get('value', '')))}</span>"
            )
        if name == "PlayModel":
            return f"<span>{label}<button disabled title='plays in a live kernel'>&#9654;</button></span>"
        if name in ("DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel"):
            labels, index = st.get("_options_labels", []), st.get("index")
            chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
            return f"<span>{label}<select disabled><option>{esc(str(chosen))}</option></select></span>"
        if name in ("CheckboxModel", "ToggleButtonModel"):
            return f"<span>{'&#9745;' if st.get('value') else '&#9744;'} {desc}</span>"
        if name == "ButtonModel":
            return f"<button disabled>{desc}</button>"
        if name == "OutputModel":  # its saved outputs: figures (an AnimatedViewer's, with frames) and text
            parts, text = [], []

            def flush():
                if text:
                    parts.append(f"<pre class='mdtf-w-output'>{''.join(text)}</pre>")
                    text.clear()

            for out in st.get("outputs", []):
                data = out.get("data", {})
                if PLOTLY_MIME in data:
                    flush()
                    parts.append(f"<div class='mdtf-w-figure'>{plotly_div(data[PLOTLY_MIME])}</div>")
                    continue
                raw = out.get("text") or data.get("text/plain", "")
                text.append(esc("".join(raw) if isinstance(raw, list) else str(raw)))
            flush()
            return "".join(parts) or "<pre class='mdtf-w-output'></pre>"
        return f"<i class='mdtf-w-unknown'>[{esc(name or 'widget')}: needs a live kernel]</i>"

    return render(model_id, _depth)


# ------------------------------------------------------------------------------------------ notebooks
def _html_output(output, text: str):
    output["data"] = {"text/html": text, "text/plain": output.get("data", {}).get("text/plain", "")}
    return output


def static_notebook(nb):
    """A copy of the notebook ``nb`` whose widget and plotly-JSON outputs are static ``text/html``
    (figures drawn by plotly.js, widgets from their saved state) and without saved widget state."""
    nb = copy.deepcopy(nb)
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            view = data.get(WIDGET_MIME)
            if view:
                fig = data.get(PLOTLY_MIME)
                html = widget_html(view.get("model_id", ""), models, fig) if models else ""
                if not html and fig is not None:
                    html = plotly_div(fig)
                if not html:
                    html = "<i>[interactive widget: needs a live kernel]</i>"
                _html_output(out, html)
                out.setdefault("metadata", {}).pop(FALLBACK_KEY, None)
            elif PLOTLY_MIME in data and "text/html" not in data:
                _html_output(out, plotly_div(data[PLOTLY_MIME]))
    nb.metadata.pop("widgets", None)  # nothing left for a widget manager: nbconvert links none
    return nb


def export_html(executed: Path, out: Path | None = None) -> Path:
    """Write an offline HTML copy of the executed notebook (default: next to it, ``.html``); returns its path."""
    import nbformat
    from nbconvert import HTMLExporter

    executed = Path(executed)
    out = Path(out) if out else executed.with_suffix(".html")
    urls = copy_assets(out.parent)
    nb = static_notebook(nbformat.read(executed, as_version=4))
    exporter = HTMLExporter(template_name="mdtf_offline", extra_template_basedirs=[str(TEMPLATES)])
    resources = {"mdtf_plotlyjs_url": urls["plotly"], "mdtf_mathjax_url": urls["mathjax"] or ""}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out.write_text(body, encoding="utf-8")
    return out


def slim_notebook(path: Path) -> tuple[int, int]:
    """Drop the widget JavaScript bundles (``_esm``/``_css`` of anywidget models) from a saved notebook's
    widget state, in place.  Returns (bytes before, bytes after)."""
    path = Path(path)
    before = path.stat().st_size
    nb = json.loads(path.read_text(encoding="utf-8"))
    models = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    changed = False
    for entry in models.values():
        st = entry.get("state", {})
        for key in ("_esm", "_css"):
            if isinstance(st.get(key), str) and len(st[key]) > 1000:
                st[key] = ""
                changed = True
    if changed:
        tmp = path.with_suffix(".slim.tmp")
        tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    return before, path.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.viz.export", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path, help="executed notebooks (.ipynb)")
    ap.add_argument("--slim", action="store_true", help="also drop widget JS bundles from the notebooks (in place)")
    args = ap.parse_args(argv)
    for nb in args.notebooks:
        if not nb.is_file():
            print(f"error: no notebook at {nb}", file=sys.stderr)
            return 2
        if args.slim:
            slim_notebook(nb)
        page = export_html(nb)
        print(f"{page} ({page.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
