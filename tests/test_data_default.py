"""The default generator: determinism, layout, plausibility of the motion, detector noise."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from mdtf_lite.data import ensure_default_dataset
from mdtf_lite.data.layout import read_layout
from mdtf_lite.data.synthetic.actions import ACTIONS
from mdtf_lite.data.synthetic.body import DOF_NAMES, JOINT_LIMITS_DEG
from mdtf_lite.data.synthetic.default import build_default_dataset, views_of
from mdtf_lite.data.synthetic.noise import JOINT_SIGMA_PX, detect
from mdtf_lite.data.synthetic.synth import ANKLE_HEIGHT, generate_take, make_subject
from mdtf_lite.skeleton import PARENTS


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    kw = dict(subjects=("S1", "S9"), actions=("Walking", "Jumping"), takes_per_action=1, verbose=False)
    a = _digest(build_default_dataset(tmp_path / "a", seed=3, **kw))
    b = _digest(build_default_dataset(tmp_path / "b", seed=3, **kw))
    c = _digest(build_default_dataset(tmp_path / "c", seed=4, **kw))
    assert a == b
    assert a["positions_3d.npz"] != c["positions_3d.npz"]
    assert set(a) == {"dataset.json", "positions_3d.npz", "keypoints_2d_gt.npz", "keypoints_2d_detected.npz"}


def test_default_dataset_size_split_and_restricted_build_match(tmp_path):
    folder = ensure_default_dataset()
    lay = read_layout(folder, kinds=("gt",))
    procedural = lay.info["groups"]["procedural"]
    assert procedural == ["S1", "S5", "S6", "S7", "S8", "S9", "S11"]
    assert [s for s in lay.info["splits"]["train"] if s in procedural] == ["S1", "S5", "S6", "S7", "S8"]
    assert [s for s in lay.info["splits"]["test"] if s in procedural] == ["S9", "S11"]
    frames = sum(len(x) for s in procedural for x in lay.positions_3d[s].values())
    assert frames >= 100_000, f"only {frames} procedural frames per camera view"
    assert len({a.split(" ")[0] for a in lay.positions_3d["S1"]}) >= 10
    # a take is drawn from its own stream: a restricted build reproduces it exactly
    small = read_layout(
        build_default_dataset(
            tmp_path / "s", subjects=("S11",), actions=("Kicking",), takes_per_action=2, verbose=False
        ),
        kinds=("detected",),
    )
    full = read_layout(folder, kinds=("detected",), subjects={"S11"})
    np.testing.assert_array_equal(small.positions_3d["S11"]["Kicking 1"], lay.positions_3d["S11"]["Kicking 1"])
    np.testing.assert_array_equal(
        small.keypoints["detected"]["S11"]["Kicking"][2], full.keypoints["detected"]["S11"]["Kicking"][2]
    )


def _bone_lengths(j):
    return np.linalg.norm(j[:, 1:] - j[:, list(PARENTS[1:])], axis=-1)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_is_plausible(action):
    subject = make_subject(0, "S5")
    j = generate_take(0, subject, action, 0, 500)
    assert j.shape == (500, 17, 3) and np.all(np.isfinite(j))
    # bone lengths are the subject's, in every frame
    np.testing.assert_allclose(_bone_lengths(j), np.broadcast_to(subject.bone_lengths[1:], (500, 16)), atol=1e-9)
    # feet on the ground: the lowest ankle is at ankle height except in flight, never below it
    lowest = np.minimum(j[:, 3, 2], j[:, 6, 2])
    assert lowest.min() >= ANKLE_HEIGHT - 1e-9
    on_ground = np.isclose(lowest, ANKLE_HEIGHT, atol=1e-6).mean()
    assert on_ground > (0.55 if action in ("Jumping", "Jogging") else 0.99)
    # the head stays above the pelvis and the body moves (no frozen takes), at human speeds
    assert np.all(j[:, 10, 2] > j[:, 0, 2])
    speed = np.linalg.norm(np.diff(j, axis=0), axis=-1) * 50
    assert 0.02 < np.median(speed) and np.percentile(speed, 99.9) < 12.0
    # inside the capture area (cameras at ~5 m see about +-2 m)
    assert np.abs(j[:, 0, :2]).max() < 2.6


def test_subjects_differ_and_are_symmetric():
    a, b = make_subject(0, "S1").bone_lengths, make_subject(0, "S9").bone_lengths
    assert not np.allclose(a, b)
    for left, right in ((4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16)):
        assert a[left] == a[right]
    assert np.all(
        np.abs(
            a[1:] / (np.array([133, 443, 454, 133, 443, 454, 233, 257, 121, 115, 151, 279, 252, 151, 279, 252]) / 1000)
            - 1
        )
        < 0.25
    )


def test_joint_limits_cover_every_dof():
    from mdtf_lite.data.synthetic.body import limit_key

    for name in DOF_NAMES:
        key = limit_key(name)
        assert key is None or key in JOINT_LIMITS_DEG


def test_detector_noise_statistics():
    rng = np.random.default_rng(0)
    gt = np.tile(np.linspace(100, 900, 17)[None, :, None], (20000, 1, 2))
    det = detect(gt, np.full(20000, 5.0), rng)
    err = det[..., :2] - gt
    # joint-dependent jitter: the measured std per joint follows JOINT_SIGMA_PX (robust estimate: MAD)
    mad = np.median(np.abs(err), axis=(0, 2)) / 0.6745
    assert np.corrcoef(mad, JOINT_SIGMA_PX)[0, 1] > 0.9
    np.testing.assert_allclose(mad, JOINT_SIGMA_PX, rtol=0.15)
    # gross errors exist and are rare; confidence drops where the error is large, never reaches 0
    dist = np.linalg.norm(err, axis=-1)
    gross = dist > 8 * JOINT_SIGMA_PX
    assert 0.0005 < gross.mean() < 0.05
    assert det[..., 2][gross].mean() < det[..., 2][~gross].mean() - 0.3
    assert det[..., 2].min() > 0 and det[..., 2].max() <= 1
    # temporally correlated: consecutive errors correlate
    e = err[:, 13, 0]
    assert np.corrcoef(e[1:], e[:-1])[0, 1] > 0.3


def test_detector_swaps_left_and_right():
    rng = np.random.default_rng(1)
    gt = np.zeros((5000, 17, 2))
    gt[:, :, 0] = np.arange(17) * 40.0  # every joint far from the others
    det = detect(gt, np.full(5000, 5.0), rng)
    near = np.abs(det[:, 6, 0] - gt[:, 3, 0]) < 15  # left ankle found where the right ankle is
    assert near.any(), "no left/right swap in 5000 frames"


def test_views_are_inside_the_images():
    subject = make_subject(0, "S7")
    j = generate_take(0, subject, "Walking", 0, 400)
    gt, det = views_of(j, "S7", np.random.default_rng(0))
    for view in gt:
        assert view.shape == (400, 17, 3) and np.all(view[..., 2] == 1)
        inside = (view[..., 0] > 0) & (view[..., 0] < 1000) & (view[..., 1] > 0) & (view[..., 1] < 1002)
        assert inside.mean() > 0.97
