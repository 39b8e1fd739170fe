"""Skeleton figures, checked on their figure dicts (no browser): traces, frames, sliders, ranges, colours."""

import numpy as np
import plotly.io as pio
import pytest

from mdtf_lite.skeleton import BONES, JOINT_SIDES, NUM_JOINTS
from mdtf_lite.viz import notebook as viz_notebook
from mdtf_lite.viz.skeleton import (
    PALETTES,
    SIDES,
    TRACES_PER_SKELETON,
    VIEWS,
    bone_lines,
    frame_indices,
    overlay_figure,
    side_by_side_figure,
    skeleton_2d_figure,
    skeleton_animation,
    skeleton_figure,
    to_plot_coords,
)


def walking(T=40, seed=0):
    """A plausible camera-frame sequence (T, 17, 3): a random pose drifting sideways and bobbing."""
    rng = np.random.default_rng(seed)
    base = rng.normal(scale=0.25, size=(NUM_JOINTS, 3))
    t = np.arange(T)[:, None, None]
    return base + 0.01 * t * np.array([1.0, 0.0, 0.0]) + 0.02 * np.sin(t / 3.0) * np.array([0.0, 1.0, 0.0])


def segments(trace_xyz):
    """Polyline with None separators -> list of ((x0..), (x1..)) segment endpoints."""
    cols = [list(c) for c in trace_xyz]
    out = []
    for k in range(0, len(cols[0]), 3):
        assert all(c[k + 2] is None for c in cols), "every bone must end with a None separator"
        out.append((tuple(c[k] for c in cols), tuple(c[k + 1] for c in cols)))
    return out


def test_upright_map_is_a_rotation_and_puts_head_up():
    m = to_plot_coords(np.eye(3))  # rows: images of the camera axes
    assert np.isclose(np.linalg.det(m), 1.0), "the plot map must not mirror left and right"
    pose = np.zeros((NUM_JOINTS, 3))
    pose[10, 1] = -1.7  # head above the pelvis: camera y points down
    assert to_plot_coords(pose)[10, 2] == pytest.approx(1.7)


def test_static_figure_draws_every_bone_once_with_side_colours():
    pose = walking(1)[0]
    fig = skeleton_figure(pose)
    assert len(fig.data) == TRACES_PER_SKELETON
    drawn = set()
    plot = to_plot_coords(pose)
    for side, trace in zip(SIDES, fig.data[:3]):
        assert trace.line.color == PALETTES[0][side]
        for a, b in segments((trace.x, trace.y, trace.z)):
            match = [(p, c) for p, c in BONES if np.allclose(plot[p], a) and np.allclose(plot[c], b)]
            assert len(match) == 1
            assert JOINT_SIDES[match[0][1]] == side
            drawn.add(match[0])
    assert drawn == set(BONES)
    joints = fig.data[3]
    assert np.allclose(np.c_[joints.x, joints.y, joints.z], plot)
    # fixed cube: equal ranges that contain every joint
    scene = fig.layout.scene
    spans = [r[1] - r[0] for r in (scene.xaxis.range, scene.yaxis.range, scene.zaxis.range)]
    assert np.allclose(spans, spans[0]) and scene.aspectmode == "cube"
    for k, r in enumerate((scene.xaxis.range, scene.yaxis.range, scene.zaxis.range)):
        assert r[0] <= plot[:, k].min() and plot[:, k].max() <= r[1]


def test_bone_lines_rejects_unknown_side():
    with pytest.raises(ValueError, match="side"):
        bone_lines(np.zeros((NUM_JOINTS, 3)), "up")


def test_animation_frames_slider_and_buttons():
    seq = walking(300)
    fig = skeleton_animation(seq, max_frames=50)
    ids = frame_indices(300, 50)
    assert len(fig.frames) == len(ids) <= 50
    assert [f.name for f in fig.frames] == [str(i) for i in ids]
    steps = fig.layout.sliders[0].steps
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]
    assert all(s.args[1]["frame"]["redraw"] is True for s in steps), "3D scenes need redraw=True"
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert any("play" in label for label in labels) and any("pause" in label for label in labels)
    # frame k draws the pose of original frame ids[k]
    k = 7
    joints = fig.frames[k].data[3]
    assert np.allclose(np.c_[joints.x, joints.y, joints.z], to_plot_coords(seq[ids[k]]))
    # axis ranges cover the whole clip, not only the first frame
    plot = to_plot_coords(seq[ids])
    assert fig.layout.scene.xaxis.range[1] >= plot[..., 0].max()
    assert all(np.isfinite(np.asarray(f.data[3].x, float)).all() for f in fig.frames)


def test_frame_indices_caps_and_keeps_first():
    assert list(frame_indices(10, None)) == list(range(10))
    ids = frame_indices(1000, 64)
    assert ids[0] == 0 and len(ids) <= 64 and np.all(np.diff(ids) == np.diff(ids)[0])
    through = frame_indices(1000, 64, include=333)
    assert 333 in through and len(through) <= 64 and np.all(np.diff(through) == np.diff(ids)[0])
    with pytest.raises(ValueError, match="out of range"):
        frame_indices(10, 4, include=10)
    with pytest.raises(ValueError, match="max_frames"):
        frame_indices(10, 0)


def test_overlay_title_reports_error_and_uses_two_palettes():
    gt = walking(20)
    pred = gt + np.array([0.03, 0.04, 0.0])  # every joint off by 5 cm
    fig = overlay_figure(pred, gt, max_frames=10)
    assert "MPJPE 0.05 m" in fig.layout.title.text
    assert len(fig.data) == 2 * TRACES_PER_SKELETON and len(fig.frames) == 10
    assert fig.data[0].line.color == PALETTES[0]["left"]
    assert fig.data[TRACES_PER_SKELETON].line.dash == PALETTES[1]["dash"]
    static = overlay_figure(pred[0], gt[0])
    assert not static.frames and len(static.data) == 2 * TRACES_PER_SKELETON


def test_side_by_side_has_2d_panel_and_3d_scene():
    seq = walking(30)
    kp = np.concatenate([seq[..., :2], np.ones((30, NUM_JOINTS, 1))], axis=-1)  # with a confidence column
    fig = side_by_side_figure(kp, {"lifted": seq, "truth": seq + 0.01}, max_frames=15)
    types = [t.type for t in fig.data]
    assert types[:TRACES_PER_SKELETON] == ["scatter"] * TRACES_PER_SKELETON
    assert types[TRACES_PER_SKELETON:] == ["scatter3d"] * (2 * TRACES_PER_SKELETON)
    assert len(fig.frames) == 15 and list(fig.frames[0].traces) == list(range(len(fig.data)))
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1], "2D panel must have y pointing down"
    assert np.allclose(fig.frames[3].data[3].x, kp[fig.frames[3].name and int(fig.frames[3].name), :, 0])


def test_2d_figure_image_size_sets_axes():
    fig = skeleton_2d_figure(walking(1)[0][:, :2] * 100 + 500, image_size=(1000, 800))
    assert list(fig.layout.xaxis.range) == [0, 1000] and list(fig.layout.yaxis.range) == [800, 0]


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((16, 3)), "shape"),
        (np.zeros((5, 17, 4)), "shape"),
        (np.full((2, 17, 3), np.nan), "NaN"),
        ("not a pose", "numeric"),
    ],
)
def test_bad_input_is_named(bad, match):
    with pytest.raises(ValueError, match=match):
        skeleton_figure(bad)


def test_mismatched_overlay_lengths_rejected():
    with pytest.raises(ValueError, match="same"):
        overlay_figure(walking(5), walking(6))
    with pytest.raises(ValueError, match="frames"):
        skeleton_animation({"a": walking(5), "b": walking(6)})


def test_offline_renderer_embeds_no_cdn_and_no_plotlyjs_per_figure():
    bundle = pio.renderers["mdtf_offline"].to_mimebundle(skeleton_figure(walking(1)[0]).to_dict())
    html = bundle["text/html"]
    assert "Plotly.newPlot" in html
    assert "https://" not in html and "<script src=" not in html, "offline pages must not fetch anything"
    assert len(html) < 200_000, "the library itself must not be inlined in every figure"


def test_setup_notebook_plotting_outside_kernel(monkeypatch):
    monkeypatch.delenv("PLOTLY_RENDERER", raising=False)
    before = pio.renderers.default
    assert viz_notebook.setup_notebook_plotting() == before  # plain python: leave plotly alone
    with pytest.raises(ValueError, match="unknown plotly renderer"):
        viz_notebook.setup_notebook_plotting("no_such_renderer")


def test_viewer_updates_traces_and_readout():
    from mdtf_lite.viz.widgets import skeleton_viewer

    seq = walking(12)
    viewer = skeleton_viewer({"pred": seq, "gt": seq + 0.02}, seq[..., :2])
    viewer.show_frame(9)
    kp_joints = viewer.figure.data[TRACES_PER_SKELETON - 1]
    assert np.allclose(kp_joints.x, seq[9, :, 0], atol=1e-6)
    pred_joints = viewer.figure.data[2 * TRACES_PER_SKELETON - 1]
    assert np.allclose(np.c_[pred_joints.x, pred_joints.y, pred_joints.z], to_plot_coords(seq[9]), atol=1e-6)
    viewer.pick_joint(13)
    assert len(viewer.figure.data[-1].x) == 12 and "l_wrist" in viewer.readout
    assert viewer.figure.data[2 * TRACES_PER_SKELETON - 1].marker.size[13] > viewer.figure.data[7].marker.size[0]
    assert viewer.joint_picker.value == 13, "the picker follows pick_joint"
    viewer.set_view("top")
    assert viewer.figure.layout.scene.camera.eye.z == VIEWS["top"]["eye"]["z"]
    assert viewer.frame == 9 and viewer.slider_frame == 9, "a picker re-renders at the frame shown"
    with pytest.raises(ValueError, match="out of range"):
        viewer.show_frame(12)
    with pytest.raises(ValueError, match="whole number"):
        viewer.show_frame(2.5)
    with pytest.raises(ValueError, match="joint"):
        viewer.pick_joint(17)
    with pytest.raises(ValueError, match="view"):
        viewer.set_view("under")


def test_viewer_frames_play_client_side_and_carry_the_readout():
    from mdtf_lite.viz.widgets import skeleton_viewer

    seq = walking(30)
    viewer = skeleton_viewer({"pred": seq, "gt": seq + 0.02}, seq[..., :2], joint=16)
    fig = viewer.figure
    moving = list(range(3 * TRACES_PER_SKELETON))  # 2D panel + 2 skeletons; the trajectory stays
    assert len(fig.frames) == 30 and all(list(f.traces) == moving for f in fig.frames)
    k = 17
    frame = fig.frames[k]
    assert frame.name == "17"
    gt_joints = frame.data[3 * TRACES_PER_SKELETON - 1]
    assert np.allclose(np.c_[gt_joints.x, gt_joints.y, gt_joints.z], to_plot_coords(seq[17] + 0.02), atol=1e-6)
    ref = np.array(bone_lines(to_plot_coords(seq[17]), "left")[2], dtype=float)  # None -> NaN: the gaps
    assert np.allclose(frame.data[TRACES_PER_SKELETON].z, ref, equal_nan=True)
    # the read-out annotation animates with the frames; the subplot titles are kept (empty updates)
    texts = frame.layout.annotations
    assert all(not a.text for a in texts[:-1]) and "r_wrist" in texts[-1].text and "frame 17" in texts[-1].text
    assert len(fig.layout.annotations) == len(texts) and "frame 0" in fig.layout.annotations[-1].text
    buttons = fig.layout.updatemenus[0].buttons
    assert buttons[0].method == "animate" and buttons[0].args[1]["frame"]["redraw"] is True
    assert viewer.output.outputs[0]["data"]["application/vnd.plotly.v1+json"] is viewer.figure_json


def test_viewer_slider_follows_show_frame_and_caps_frames():
    from mdtf_lite.viz.widgets import skeleton_viewer

    seq = walking(200)
    viewer = skeleton_viewer({"pred": seq}, max_frames=40)
    ids = viewer.frame_ids
    assert len(viewer.figure.frames) == len(ids) <= 40 and ids[0] == 0 and set(np.diff(ids)) == {5}
    duration = viewer.figure.layout.updatemenus[0].buttons[0].args[1]["frame"]["duration"]
    assert duration == 1000 * 5 / 25, "a subsampled clip keeps real time"
    viewer.show_frame(151)  # not on the grid 0, 5, 10, ...: the grid moves to pass through it
    fig = viewer.figure
    assert viewer.frame == 151 and viewer.slider_frame == 151
    assert fig.layout.sliders[0].steps[fig.layout.sliders[0].active].label == "151"
    assert "151" in [f.name for f in fig.frames] and len(fig.frames) <= 40
    joints = fig.data[TRACES_PER_SKELETON - 1]
    assert np.allclose(np.c_[joints.x, joints.y, joints.z], to_plot_coords(seq[151]), atol=1e-6)
    play = fig.layout.updatemenus[0].buttons[0].args[0]
    assert play[0] == "151" and len(play) == len(fig.frames), "play starts at the frame shown, then loops once"
    viewer.joint_picker.value = 3  # a reader picks a joint: re-rendered at the same frame
    assert viewer.joint == 3 and viewer.slider_frame == 151


def test_efficiency_figures():
    from mdtf_lite.bench.peers import PEERS
    from mdtf_lite.viz.efficiency import ablation_figure, loglog_slope, peers_figure, scaling_figure

    lengths = [27, 81, 243, 729]
    assert loglog_slope(lengths, [t**2 * 1e-6 for t in lengths]) == pytest.approx(2.0)
    assert loglog_slope(lengths, [t * 3e-4 + 0 for t in lengths]) == pytest.approx(1.0)
    rows = [
        {"mixer": m, "T": t, "seconds": t**p * 1e-5, "peak_mb": t * 0.1}
        for m, p in (("mamba", 1), ("attention", 2))
        for t in lengths
    ]
    fig = scaling_figure(rows)
    data = [tr for tr in fig.data if tr.name and "~T" not in tr.name]
    assert len(data) == 4 and fig.layout.xaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert list(data[0].x) == lengths
    with pytest.raises(ValueError):
        scaling_figure([])
    pf = peers_figure(list(PEERS), [{"method": "MDTF-Tiny (mdtf_lite)", "macs_m": 14.9, "p1_mm": 41.7}])
    assert len(pf.data[0].x) == sum(1 for p in PEERS if p["macs_m"]) and pf.data[1].x[0] == 14.9
    ab = ablation_figure(
        [
            {"variant": "full", "params": 10, "p1_mm": 50.0, "p2_mm": 40.0},
            {"variant": "no_gcn", "params": 8, "p1_mm": None, "p2_mm": None},
        ]
    )
    assert list(ab.data[0].x) == ["full", "no_gcn"] and ab.data[1].y[0] == 40.0


def test_bone_widget_is_framed_on_the_body():
    pytest.importorskip("anywidget")
    from mdtf_lite.skeleton import rest_pose
    from mdtf_lite.viz.bone_views import BoneAngleWidget, subtree_reach

    pose = rest_pose()
    widget = BoneAngleWidget(pose, bone=13)
    height = float(pose[:, 1].max() - pose[:, 1].min())
    span = widget.figure.layout.scene.zaxis.range
    assert height / (span[1] - span[0]) > 0.5, f"the body fills {height / (span[1] - span[0]):.0%} of the axes"
    # whatever direction the bone points, the moved joints stay inside the frame
    for theta, phi in ((0, 0), (180, 0), (90, 90), (90, -90)):
        widget.update(theta_deg=theta, phi_deg=phi)
        for ax, k in (("xaxis", 0), ("zaxis", 2)):
            lo, hi = widget.figure.layout.scene[ax].range
            vals = np.asarray(
                widget.figure.data[len(widget.figure.data) - 2].x
                if k == 0
                else widget.figure.data[len(widget.figure.data) - 2].z,
                float,
            )
            assert lo <= vals.min() and vals.max() <= hi
    assert subtree_reach(pose, 16) < subtree_reach(pose, 14), "a wrist swings less far than the whole arm"


def test_setup_notebook_plotting_leaves_no_out_prompt(monkeypatch):
    monkeypatch.setattr(pio.renderers, "default", pio.renderers.default)  # restored after the test
    monkeypatch.setattr(viz_notebook, "_ACTIVE", None)
    name = viz_notebook.setup_notebook_plotting("plotly_mimetype")
    assert name == "plotly_mimetype" and hasattr(name, "_ipython_display_")
    assert viz_notebook.DEFAULT_RENDERER == "plotly_mimetype", "executed notebooks must not carry plotly.js"


class _PointViewer:
    """A toy AnimatedViewer: one 2D point moving along x = t (built in a function: ipywidgets is imported lazily)."""

    @staticmethod
    def make(num_frames, **kwargs):
        from mdtf_lite.viz.animated import AnimatedViewer, typed_array

        class PointViewer(AnimatedViewer):
            def __init__(self):
                super().__init__(num_frames, **kwargs)
                self._render()

            def _styled_figure(self):
                return {
                    "data": [{"type": "scatter", "x": [0.0], "y": [0.0], "mode": "markers"}],
                    "layout": {"height": 300, "margin": {"t": 10, "b": 10}},
                }

            def _moving_traces(self):
                return [0]

            def _coords(self, t):
                return [{"x": typed_array([t]), "y": typed_array([0.0])}]

        return PointViewer()


def test_animated_viewer_frames_cap_slider_and_errors():
    from mdtf_lite.viz.animated import decode_arrays, typed_array

    v = _PointViewer.make(100, max_frames=30, fps=50)
    assert len(v.figure.frames) == len(v.frame_ids) == 25, "every 4th frame: ceil(100 / 30) = 4"
    assert v.figure.layout.height == 300 + 110 and v.figure.layout.margin.b == 10 + 110, "room for the controls"
    assert not v.figure.layout.annotations, "no read-out unless the subclass gives one"
    v.show_frame(42)
    assert v.slider_frame == 42 and float(v.figure.data[0].x[0]) == 42.0
    assert [f.name for f in v.figure.frames][:2] == ["2", "6"], "the grid passes through the frame shown"
    assert v.figure.layout.updatemenus[0].buttons[0].args[1]["frame"]["duration"] == 1000 * 4 / 50
    for bad in (100, -1, 3.5, True, "x"):
        with pytest.raises(ValueError, match="frame"):
            v.show_frame(bad)
    assert v.frame == 42, "a refused frame changes nothing"
    single = _PointViewer.make(1)
    assert single.slider_frame is None and not single.figure.frames and not single.figure.layout.sliders
    with pytest.raises(ValueError, match="max_frames"):
        _PointViewer.make(10, max_frames=0)
    with pytest.raises(ValueError, match="fps"):
        _PointViewer.make(10, fps=0)
    with pytest.raises(ValueError, match="at least one frame"):
        _PointViewer.make(0)
    a = np.array([0.5, np.nan, -2.0])
    assert np.array_equal(decode_arrays({"k": [typed_array(a)]})["k"][0], a.astype("f4"), equal_nan=True)
    with pytest.raises(ValueError, match="1-D"):
        typed_array(np.zeros((2, 2)))


def test_skeleton_coords_match_bone_lines():
    from mdtf_lite.viz.animated import decode_arrays, skeleton_coords

    p = walking(1)[0]
    traces = decode_arrays(skeleton_coords(p))
    assert len(traces) == TRACES_PER_SKELETON and all(set(t) == {"x", "y", "z"} for t in traces)
    for side, tr in zip(SIDES, traces):
        for axis, col in zip("xyz", bone_lines(p, side)):
            assert np.allclose(tr[axis], np.array(col, dtype=float), equal_nan=True, atol=1e-6)
    assert np.allclose(traces[-1]["z"], p[:, 2], atol=1e-6)
    assert set(decode_arrays(skeleton_coords(p[:, :2]))[0]) == {"x", "y"}
    with pytest.raises(ValueError, match="shape"):
        skeleton_coords(p[:5])
