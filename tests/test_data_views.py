"""Notebook-01 figures and the camera viewer (headless: checks on the figure objects)."""

import numpy as np
import pytest

from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.synthetic.synth import generate_take, make_subject
from mdtf_lite.viz.data_views import CameraViewer, four_views_figure, histogram_figure, rig_figure, world_as_camera


@pytest.fixture(scope="module")
def take():
    world = generate_take(0, make_subject(0, "S1"), "Waving", 0, 60)
    gt, det = views_of(world, "S1", np.random.default_rng(0))
    return world, gt, det


def test_world_as_camera_is_a_rotation_drawn_upright():
    from mdtf_lite.viz.skeleton import to_plot_coords

    w = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(to_plot_coords(world_as_camera(w)), w)


def test_four_views_and_rig(take):
    world, gt, _ = take
    fig = four_views_figure(world[0], "S1")
    assert len(fig.data) == 4 * 4
    xs = np.concatenate([np.asarray(t.x, float) for t in fig.data if t.mode == "markers"])
    np.testing.assert_allclose(np.sort(xs), np.sort(np.concatenate([v[0, :, 0] for v in gt])), atol=1e-9)
    rig = rig_figure(world, "S1")
    assert sum(t.name and t.name.startswith("camera") for t in rig.data) == 4
    assert len(histogram_figure({"a": np.arange(5), "b": np.arange(3)}).data) == 2


def test_camera_viewer_updates(take):
    world, _, det = take
    v = CameraViewer(world, det, "S1", max_frames=25)
    assert len(v.figure.frames) == len(v.frame_ids) <= 25
    v.show_frame(31)
    v.set_camera(3)
    fig = v.figure
    assert v.camera_picker.value == 3 and v.slider_frame == 31 and "31" in [f.name for f in fig.frames]
    np.testing.assert_allclose(np.asarray(fig.data[3].y, float), det[3][31, :, 1], atol=1e-3)  # float32 pixels
    np.testing.assert_allclose(np.asarray(fig.data[7].z, float), world[31, :, 2], atol=1e-6)
    k = [f.name for f in fig.frames].index("31")
    np.testing.assert_allclose(np.asarray(fig.frames[k].data[3].x, float), det[3][31, :, 0], atol=1e-3)
    cam = v.cameras[3]
    assert list(fig.layout.yaxis.range) == [cam.res_h, 0], "the 2D panel spans the picked camera's image"
    assert len(fig.data) == 2 * 4 + 4 and all(list(f.traces) == list(range(8)) for f in fig.frames)
    v.camera_picker.value = 1  # a reader picks a camera
    assert v.camera == 1 and v.slider_frame == 31
    with pytest.raises(ValueError, match="out of range"):
        v.show_frame(60)
    with pytest.raises(ValueError, match="camera"):
        v.set_camera(4)
    with pytest.raises(ValueError, match="every camera view"):
        CameraViewer(world, [d[:10] for d in det], "S1")
