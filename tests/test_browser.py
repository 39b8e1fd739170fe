"""Real-browser check: an executed notebook's HTML export, opened in headless Chromium, draws the skeletons.

The test executes a small notebook that uses the package's figures exactly like the series does
(``setup_notebook_plotting()`` then figures as cell results), exports it with the series runner's
exporter, and opens it in Chromium.  Screenshots stay in ``runs/browser_check/`` for people to look at.
An empty figure on the same page must come out blank, so the ink measure can tell drawn from not drawn.

Skips (with the install command) when Chromium, chromedriver or selenium is absent; CI installs them.
"""

import re
from pathlib import Path

import pytest

from mdtf_lite.course.browser import find_chromium
from mdtf_lite.paths import runs_dir

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="headless Chromium not installed: apt-get install -y chromium chromium-driver (CI does this)",
)
pytest.importorskip("selenium", reason="pip install selenium (the test extra) to drive Chromium")
pytest.importorskip("PIL", reason="pip install pillow (the test extra) to read the screenshots")

CELLS = [
    """import numpy as np
import plotly.graph_objects as go
from mdtf_lite.skeleton import rest_pose
from mdtf_lite.viz import setup_notebook_plotting, skeleton_figure, skeleton_animation, side_by_side_figure
setup_notebook_plotting()""",
    """pose = rest_pose()  # standing, facing the camera, metres, camera frame (y down)
t = np.arange(40)[:, None, None]
clip = pose + 0.03 * np.sin(t / 4) * np.array([1.0, 0.0, 0.5])""",
    "skeleton_figure(pose, title='standing')",
    "skeleton_animation(clip, max_frames=20, title='swaying')",
    "side_by_side_figure(clip[..., :2] / (3 + clip[..., 2:]), clip, max_frames=10)",
    "go.Figure(layout=dict(title='deliberately empty'))",
    # widgets: two viewers (animated in the page) moved by code after display, a live loss plot filled after
    # display, a progress bar
    """from mdtf_lite.viz import skeleton_viewer
viewer = skeleton_viewer({"clip": clip}, max_frames=20)
display(viewer.widget)""",
    "viewer.show_frame(30)",
    """from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.synthetic.synth import generate_take, make_subject
from mdtf_lite.viz.data_views import CameraViewer
world = generate_take(0, make_subject(0, "S1"), "Walking", 0, 40)
cams = CameraViewer(world, views_of(world, "S1", np.random.default_rng(0))[0], "S1", max_frames=20)
cams.show_frame(12)
display(cams.widget)""",
    """from mdtf_lite.viz.train_plots import LiveLossPlot
live = LiveLossPlot("demo")
display(live.widget)""",
    """for e in range(1, 4):
    live({"epoch": e, "train_loss": 1.0 / e, "val_p1_mm": 200.0 / e})""",
    """from tqdm.auto import tqdm
for _ in tqdm(range(5), desc="steps"):
    pass""",
]
MARKDOWN = r"""The scan: $h_t = \bar{A} h_{t-1} + \bar{B} x_t$ and $$\bar{A} = \exp(\Delta A).$$"""


@pytest.fixture(scope="module")
def exported_page(tmp_path_factory):
    import nbformat
    from nbclient import NotebookClient

    from mdtf_lite.course.series import export_html

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(MARKDOWN)] + [nbformat.v4.new_code_cell(src) for src in CELLS]
    NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    path = tmp_path_factory.mktemp("browser") / "browser_smoke.ipynb"
    nbformat.write(nb, path)
    return export_html(path)


@pytest.mark.slow
def test_exported_page_links_no_cdn_and_plotlyjs_once(exported_page):
    from mdtf_lite.viz.export import ASSETS, plotlyjs_name

    text = Path(exported_page).read_text()
    assert "* plotly.js v" not in text, "plotly.js belongs in assets/, not inlined in every page"
    assert text.count(f'<script src="{ASSETS}/{plotlyjs_name()}"') == 1
    assert (Path(exported_page).parent / ASSETS / plotlyjs_name()).is_file()
    assert not re.findall(r"<script[^>]*src=[\"']?(?:https?:)?//", text), "a remote <script src> is linked"
    assert "application/vnd.jupyter.widget-state+json" not in text, "widget state shows nothing: not exported"
    assert text.count("Plotly.newPlot(") >= 7
    assert text.count("Plotly.addFrames(") == 4, "the two animations and the two viewers, each frames once"


@pytest.mark.slow
def test_skeletons_render_in_headless_chromium(exported_page):
    from mdtf_lite.course.browser import check_html

    report = check_html(exported_page, runs_dir() / "browser_check", play_s=2.5)  # network blocked
    figs = [f for f in report.figures if not f.in_widget]
    widget_figs = [f for f in report.figures if f.in_widget]
    assert len(figs) == 4, f"expected 4 figures on the page, got {len(figs)}: {report}"
    assert not report.js_errors, f"JavaScript errors: {report.js_errors}"
    assert not report.failed_requests, f"the page fetched something from the network: {report.failed_requests}"
    skeletons, empty = figs[:3], figs[3]
    assert all(f.is3d for f in skeletons), "the skeleton figures must have a WebGL 3D canvas"
    for f in skeletons:
        assert f.ink > 0.001, f"figure {f.index} looks blank (ink {f.ink:.4f}); see {f.screenshot}"
        assert Path(f.screenshot).stat().st_size > 5000
    assert skeletons[1].frames == 20 and skeletons[2].frames == 10
    assert empty.ink < 0.0002, f"an empty figure measured ink {empty.ink}: the measure cannot tell blank pages"
    assert any("looks blank" in p for p in report.problems()), "the empty figure must be flagged as blank"
    # widgets: the viewers' and the live plot's current figures are drawn, offline
    assert len(widget_figs) == 3, f"expected the two viewers and the live loss plot, got {widget_figs}"
    for f in widget_figs:
        assert f.ink > 0.001, f"widget figure {f.index} looks blank (ink {f.ink:.4f}); see {f.screenshot}"
    assert report.widget_placeholders == 0
    # the viewers play in the page, with no kernel: plotly's play button moves the frame and the drawn 3D
    # coordinates change (the skeleton animations too); each slider starts where show_frame left it
    viewer, cams = widget_figs[:2]
    assert viewer.frames == 20 and viewer.slider == "30" and cams.slider == "12", widget_figs
    for f in (viewer, cams, skeletons[1], skeletons[2]):
        assert len(set(f.played)) >= 3 and f.poses_drawn >= 3, f"figure {f.index} did not animate: {f}"
    assert viewer.played[0] != "0", "play continues from the frame shown (30), not from the start"
    assert not report.problems() or all("looks blank" in p for p in report.problems()), report.problems()
    # maths: MathJax from assets/ typeset both formulas; no TeX left as source
    assert report.math_loaded, "MathJax did not load from assets/: pip install jupyter-server-mathjax (make setup)"
    assert report.math_typeset >= 2 and not report.math_raw, report


@pytest.mark.slow
def test_exported_widgets_show_their_current_state(exported_page):
    # (the viewers' sliders on their show_frame frame: test_skeletons_render_in_headless_chromium)
    text = Path(exported_page).read_text()
    tags = re.findall(r"<(?:progress|input)[^>]*>", text)  # attribute order/quotes are nbconvert's
    assert any("progress" in t and re.search(r"""value=["']5(\.0)?["']""", t) for t in tags), f"finished bar? {tags}"
    assert text.count(" head: x=") == 20 + 1, "the viewer's read-out: in its figure and in each of its 20 frames"
    assert '"x":[1,2,3]' in text.replace(" ", ""), "the live loss plot's three epochs, not its empty start"
