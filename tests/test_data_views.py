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
    v = CameraViewer(world, det, "S1")
    v.show_frame(30)
    v.set_camera(3)
    np.testing.assert_allclose(np.asarray(v.figure.data[3].y, float), det[3][30, :, 1])
    with pytest.raises(ValueError, match="out of range"):
        v.show_frame(60)
    with pytest.raises(ValueError, match="camera must be"):
        v.set_camera(4)
