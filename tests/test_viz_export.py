"""Offline exports without a kernel: widget outputs drawn from saved state, plotly JSON to divs, no CDN, slim notebooks.

The notebooks here are built by hand (the shapes nbclient saves), so these tests run in seconds; the
executed-notebook + headless-browser path is tests/test_browser.py.
"""

import json
import re

import nbformat
import numpy as np

from mdtf_lite.skeleton import rest_pose
from mdtf_lite.viz import skeleton_figure
from mdtf_lite.viz.export import (
    ASSETS,
    WIDGET_STATE_MIME,
    export_html,
    plotlyjs_name,
    slim_notebook,
    static_notebook,
    widget_html,
)
from mdtf_lite.viz.fallback import PLOTLY_MIME, WIDGET_MIME, figure_json

REMOTE_SCRIPT = re.compile(r"<script[^>]*src=[\"']?(?:https?:)?//")


def _models():
    fig = figure_json(skeleton_figure(rest_pose()))
    return {
        "box": {"state": {"_model_name": "VBoxModel", "children": ["IPY_MODEL_row", "IPY_MODEL_fig", "IPY_MODEL_txt"]}},
        "row": {
            "state": {"_model_name": "HBoxModel", "children": ["IPY_MODEL_play", "IPY_MODEL_slider", "IPY_MODEL_dd"]}
        },
        "play": {"state": {"_model_name": "PlayModel", "value": 7}},
        "slider": {"state": {"_model_name": "IntSliderModel", "value": 7, "min": 0, "max": 9, "description": "frame"}},
        "dd": {
            "state": {
                "_model_name": "DropdownModel",
                "_options_labels": ["front", "side"],
                "index": 1,
                "description": "view",
            }
        },
        "fig": {
            "state": {
                "_model_name": "AnyModel",
                "_widget_data": fig["data"],
                "_widget_layout": fig["layout"],
                "_esm": "x" * 5000,
            }
        },
        "txt": {"state": {"_model_name": "HTMLModel", "value": "<b>pelvis</b> x=0.000"}},
        "bar": {"state": {"_model_name": "HBoxModel", "children": ["IPY_MODEL_p"]}},
        "p": {"state": {"_model_name": "FloatProgressModel", "value": 4.0, "max": 4.0}},
        "odd": {"state": {"_model_name": "ColorPickerModel"}},
    }


def _notebook(fallback=True):
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": _models(), "version_major": 2, "version_minor": 0}}
    view = {"version_major": 2, "version_minor": 0, "model_id": "box"}
    data = {"text/plain": "VBox()", WIDGET_MIME: view}
    current = figure_json(skeleton_figure(rest_pose() + np.array([0.0, 0.0, 1.0]), title="CURRENT FRAME"))
    if fallback:
        data[PLOTLY_MIME] = current
    nb.cells = [
        nbformat.v4.new_markdown_cell("Maths: $\\bar{A} = \\exp(\\Delta A)$"),
        nbformat.v4.new_code_cell("viewer", outputs=[nbformat.v4.new_output("display_data", data=data)]),
        nbformat.v4.new_code_cell(
            "fig",
            outputs=[
                nbformat.v4.new_output(
                    "execute_result",
                    data={PLOTLY_MIME: figure_json(skeleton_figure(rest_pose(), title="PLAIN"))},
                    execution_count=1,
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "bar",
            outputs=[
                nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "bar"}, "text/plain": "HBox()"})
            ],
        ),
    ]
    return nb


def test_widget_html_draws_the_saved_tree_with_disabled_controls():
    html = widget_html("box", _models())
    assert "type='range' disabled" in html and "value='7'" in html, "the slider at its saved value"
    assert "<option>side</option>" in html, "the dropdown's chosen label"
    assert "<b>pelvis</b> x=0.000" in html, "HTML read-outs verbatim"
    assert html.count("Plotly.newPlot(") == 1, "the figure model drawn from its saved state"
    assert "needs a live kernel" not in html
    assert "needs a live kernel" in widget_html("odd", _models()), "an unknown widget is named, not dropped"
    assert "<progress value='4.0' max='4.0'>" in widget_html("bar", _models())


def test_static_copy_wins_over_saved_figure_state_and_widget_state_is_dropped():
    nb = static_notebook(_notebook(fallback=True))
    viewer_html = nb.cells[1].outputs[0]["data"]["text/html"]
    assert "CURRENT FRAME" in viewer_html, "the static copy (current figure) is drawn, not the stale state"
    assert WIDGET_MIME not in nb.cells[1].outputs[0]["data"]
    assert "Plotly.newPlot(" in nb.cells[2].outputs[0]["data"]["text/html"], "plain plotly JSON becomes a div"
    assert "<progress" in nb.cells[3].outputs[0]["data"]["text/html"]
    assert "widgets" not in nb.metadata, "no widget state left for a widget manager to load"
    stale = static_notebook(_notebook(fallback=False)).cells[1].outputs[0]["data"]["text/html"]
    assert "CURRENT FRAME" not in stale and "Plotly.newPlot(" in stale, "without a copy: the saved state"


def test_export_links_only_local_assets(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(), path)
    page = export_html(path)
    text = page.read_text()
    assert not REMOTE_SCRIPT.search(text), REMOTE_SCRIPT.findall(text)
    assert "cdn" not in " ".join(re.findall(r"<script[^>]*>", text)).lower()
    assert text.count(f'<script src="{ASSETS}/{plotlyjs_name()}"') == 1
    assert "* plotly.js v" not in text and (tmp_path / ASSETS / plotlyjs_name()).stat().st_size > 1_000_000
    assert text.count("Plotly.newPlot(") == 2
    assert "application/vnd.jupyter.widget-state+json" not in text and "html-manager" not in text


def test_slim_notebook_drops_widget_bundles_only(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(), path)
    before, after = slim_notebook(path)
    assert after < before
    state = json.loads(path.read_text())["metadata"]["widgets"][WIDGET_STATE_MIME]["state"]
    assert state["fig"]["state"]["_esm"] == "" and state["fig"]["state"]["_widget_data"], "figure state kept"
    assert slim_notebook(path)[0] == slim_notebook(path)[1], "idempotent"


def test_viewer_exports_its_frames_once_and_animated(tmp_path):
    """A viewer's figure lives in its Output widget's saved state only; the page draws it with its frames."""
    from ipywidgets.embed import dependency_state

    from mdtf_lite.viz.widgets import skeleton_viewer

    clip = rest_pose()[None] + np.linspace(0, 1, 40)[:, None, None] * np.array([1.0, 0.0, 0.0])
    viewer = skeleton_viewer({"clip": clip}, max_frames=20)
    viewer.show_frame(30)
    models = dependency_state(viewer.widget)  # the widget state a run saves (nbclient records the same)
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": models, "version_major": 2, "version_minor": 0}}
    view = {"version_major": 2, "version_minor": 0, "model_id": viewer.widget.model_id}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "viewer", outputs=[nbformat.v4.new_output("display_data", data={WIDGET_MIME: view, "text/plain": "VBox()"})]
        )
    ]
    path = tmp_path / "viewer.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()
    assert saved.count('"traces"') == 20, "the notebook holds the 20 frames once (in the Output's state)"
    text = export_html(path).read_text()
    assert text.count("Plotly.newPlot(") == 1 and text.count("Plotly.addFrames(") == 1
    assert text.count('"traces":[') == 20, "the page holds the frames once"
    assert "mdtf-w-figure" in text and re.search(r"<select disabled[^>]*><option>front</option>", text), "pickers"
    assert not REMOTE_SCRIPT.search(text)
    saved_fig = models[viewer.output.model_id]["state"]["outputs"][0]["data"][PLOTLY_MIME]
    slider = saved_fig["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["label"] == "30", "saved at the frame show_frame drew"
    # (playing the page, network off: tests/test_browser.py)
