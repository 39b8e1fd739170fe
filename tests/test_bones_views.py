"""Bone figures and the bone-angle widget, checked headlessly on their figure data."""

import math

import numpy as np
import pytest

from mdtf_lite import bones as bn
from mdtf_lite.skeleton import rest_pose
from mdtf_lite.viz.bone_views import BoneAngleWidget, confusion_figure, depth_ambiguity_figure, theta_histogram_figure
from mdtf_lite.viz.skeleton import TRACES_PER_SKELETON


def _bent_pose():
    p = bn.set_bone_direction(rest_pose(), 13, 0.5, 0.6)
    return bn.set_bone_direction(p, 3, 1.4, 2.2)


def test_depth_ambiguity_figure_shows_identical_2d():
    a = _bent_pose()
    b = bn.flip_bone_depth(a, [3, 13])
    fig = depth_ambiguity_figure(a, b)
    assert len(fig.data) == 4 * TRACES_PER_SKELETON
    two_d = [t for t in fig.data if t.type == "scatter"]
    first, second = two_d[:TRACES_PER_SKELETON], two_d[TRACES_PER_SKELETON:]
    for s, t in zip(first, second):
        assert list(s.x) == list(t.x) and list(s.y) == list(t.y)  # the same 2D skeleton, drawn twice
    three_d = [t for t in fig.data if t.type == "scatter3d"]
    assert list(three_d[0].y) != list(three_d[TRACES_PER_SKELETON].y)  # different depths (plot y = depth)


def test_theta_histogram_and_confusion_figures():
    theta = np.radians([10, 20, 50, 95, 100, 170])
    fig = theta_histogram_figure(theta)
    assert np.isclose(sum(fig.data[0].y), 1.0)
    texts = [a.text for a in fig.layout.annotations]
    assert len(texts) == 6 and "33.3%" in texts[0] and "33.3%" in texts[3]
    cm = np.array([[5, 1], [2, 8]])
    fig = confusion_figure(cm)
    assert np.allclose(np.asarray(fig.data[0].z).sum(1), 1.0)
    with pytest.raises(ValueError):
        confusion_figure(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        theta_histogram_figure(np.array([np.nan]))


def test_bone_angle_widget_moves_the_bone_and_its_projection():
    w = BoneAngleWidget(_bent_pose(), bone=12)
    before = w.pose.copy()
    w.update(theta_deg=40, phi_deg=45)
    phi, theta, length = w.spherical()
    assert math.degrees(theta) == pytest.approx(40) and math.degrees(phi) == pytest.approx(45)
    assert length == pytest.approx(np.linalg.norm(before[12] - before[11]))
    assert np.allclose(w.pose[13] - w.pose[12], before[13] - before[12])  # the forearm follows rigidly
    hl2d = w.figure.data[-1]
    assert np.allclose([hl2d.x[1] - hl2d.x[0], hl2d.y[1] - hl2d.y[0]], (w.pose[12] - w.pose[11])[:2])
    assert "class 1" in w.readout.value
    w.theta_slider.value = 100.0  # a slider move redraws through the observer
    assert math.degrees(w.spherical()[1]) == pytest.approx(100)
    w.update(bone=3)
    assert w.bone_picker.value == 3
    w.reset()
    assert np.allclose(w.pose, _bent_pose())
    with pytest.raises(ValueError, match="theta"):
        w.update(theta_deg=200)
