"""Sequences -> clips and load_clips on the default dataset (the data contract of docs/DEVELOPING.md)."""

import numpy as np
import pytest
import torch

from mdtf_lite.data import ClipDataset, Video, flip_inputs, flip_targets, load_clips, make_clips
from mdtf_lite.data.cameras import h36m_camera
from mdtf_lite.data.geometry import normalise_screen, project, world_to_camera
from mdtf_lite.skeleton import FLIP_PERMUTATION, rest_pose


def _video(n, name="v", conf=0.9):
    rng = np.random.default_rng(n)
    cam = h36m_camera("S9", 1)
    world = rest_pose()[None] * np.array([1, 1, -1]) + rng.normal(0, 0.01, (n, 17, 3))
    world = world[..., [0, 2, 1]] * np.array([1, 1, 1]) + np.array([0, 0, 1.0])
    x_cam = world_to_camera(world, cam)
    uv = project(x_cam, cam)
    kp = np.concatenate([uv, np.full((n, 17, 1), conf)], -1)
    return Video(kp, cam.res_w, cam.res_h, "S9", "Walking", 1, name, target_cam=x_cam)


def test_windows_strides_and_normalisation():
    v = _video(100)
    inputs, targets, meta = make_clips([v], frames=27, stride=9)
    assert inputs.shape == (9, 27, 17, 3) and targets.shape == (9, 27, 17, 3)  # starts 0, 9, ..., 72
    np.testing.assert_array_equal(meta["start"], np.arange(0, 73, 9))
    np.testing.assert_array_equal(meta["frames"][1], np.arange(9, 36))
    np.testing.assert_allclose(inputs[1, 0, :, :2], normalise_screen(v.keypoints[9, :, :2], 1000, 1000), rtol=1e-6)
    np.testing.assert_allclose(inputs[..., 2], 0.9, rtol=1e-6)
    assert np.all(targets[..., 0, :] == 0)
    np.testing.assert_allclose(targets[2, 3], v.target_cam[21] - v.target_cam[21, :1], atol=1e-6)


def test_short_video_is_resampled_skipped_or_refused():
    long, short = _video(60, "long"), _video(10, "short")
    inputs, _, meta = make_clips([long, short], frames=27, stride=27, short="resample")
    assert len(inputs) == 3 and meta["video"][-1] == "short"
    assert meta["frames"][-1][0] == 0 and meta["frames"][-1][-1] == 9
    assert len(make_clips([long, short], 27, 27, short="skip")[0]) == 2
    with pytest.raises(ValueError, match="'short' has 10 frames, fewer than the clip length T=27"):
        make_clips([long, short], 27, 27, short="error")


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("nan", "NaN/Inf"),
        ("zero_conf", "every confidence is zero"),
        ("shape", "expected \\(T, 17, 3\\)"),
        ("no_target", "has no '2.5d' target"),
    ],
)
def test_bad_videos_get_clear_errors(breakage, message):
    v = _video(40, "bad")
    target = "camera"
    if breakage == "nan":
        v.keypoints[5, 3, 0] = np.nan
    elif breakage == "zero_conf":
        v.keypoints[..., 2] = 0
    elif breakage == "shape":
        v.keypoints = v.keypoints[:, :16]
    else:
        target = "2.5d"
    with pytest.raises(ValueError, match=message):
        make_clips([v], 27, 27, target=target)


def test_flip_helpers_match_skeleton_permutation():
    x = torch.randn(2, 5, 17, 3)
    y = flip_inputs(x)
    assert torch.equal(y[..., 0], -x[..., list(FLIP_PERMUTATION), 0])
    assert torch.equal(y[..., 2], x[..., list(FLIP_PERMUTATION), 2])  # confidence only permuted
    assert torch.equal(flip_targets(flip_targets(x)), x)


@pytest.fixture(scope="module")
def test_set():
    return load_clips("default", split="test", frames=81, keypoints="detected", target="camera")


def test_load_clips_contract(test_set):
    ds = test_set
    assert isinstance(ds, ClipDataset) and len(ds) > 100
    assert ds.inputs.dtype == torch.float32 and ds.inputs.shape[1:] == (81, 17, 3)
    assert ds.targets.shape == ds.inputs.shape
    x, y, i = ds[7]
    assert i == 7 and torch.equal(x, ds.inputs[7]) and torch.equal(y, ds.targets[7])
    for key in ("subject", "action", "camera", "start", "video"):
        assert len(ds.meta[key]) == len(ds)
    assert set(ds.meta["subject"]) == {"S9", "S11", "CMU01", "HDMdg"} and set(ds.meta["camera"]) == {0, 1, 2, 3}
    assert torch.all(ds.targets[:, :, 0] == 0)
    assert torch.isfinite(ds.inputs).all() and torch.isfinite(ds.targets).all()
    # normalised inputs sit in the image ([-1, 1] in x); targets are metres (a body is < 2.5 m across)
    assert ds.inputs[..., 0].abs().quantile(0.999) < 1.0
    assert 0.5 < ds.targets.abs().amax(dim=(1, 2, 3)).median() < 1.5
    # test stride defaults to T: consecutive clips of one video do not overlap
    same = ds.meta["video"][1:] == ds.meta["video"][:-1]
    assert np.all(np.diff(ds.meta["start"])[same] == 81)


@pytest.mark.slow
def test_load_clips_keypoints_targets_and_determinism(test_set):
    gt = load_clips("default", split="test", frames=81, keypoints="gt", max_clips=50, seed=1)
    again = load_clips("default", split="test", frames=81, keypoints="gt", max_clips=50, seed=1)
    other = load_clips("default", split="test", frames=81, keypoints="gt", max_clips=50, seed=2)
    assert torch.equal(gt.inputs, again.inputs) and not torch.equal(gt.inputs, other.inputs)
    assert torch.all(gt.inputs[..., 2] == 1)
    # detections differ from the projected ground truth by a few pixels (normalised: /500)
    full_gt = load_clips("default", split="test", frames=81, keypoints="gt")
    err_px = (test_set.inputs[..., :2] - full_gt.inputs[..., :2]).norm(dim=-1).median() * 500
    assert 1.0 < err_px < 15.0
    assert torch.equal(test_set.targets, full_gt.targets)
    d25 = load_clips("default", split="test", frames=81, target="2.5d", max_clips=20)
    f = d25.meta["factor_2.5d"]
    assert np.all((f > 2) & (f < 7)) and 3.5 < np.median(f) < 5.5  # about 4-5 mm/px in H36M
    # 2.5D back to millimetres: x (normalised) * w / 2 * factor ~ camera x offset in mm
    cam = load_clips("default", split="test", frames=81, target="camera", max_clips=20)
    mm_25 = d25.targets[..., 2].numpy() * 500 * f[..., None]
    np.testing.assert_allclose(mm_25, cam.targets[..., 2].numpy() * 1000, atol=1.0)


def test_train_split_overlaps_and_subject_selection():
    ds = load_clips("default", split="train", frames=27, subjects=["S5"], cameras=[0])
    assert set(ds.meta["subject"]) == {"S5"} and set(ds.meta["camera"]) == {0}
    same = ds.meta["video"][1:] == ds.meta["video"][:-1]
    assert np.all(np.diff(ds.meta["start"])[same] == 9)
    with pytest.raises(ValueError, match="subject 'S2' is missing"):
        load_clips("default", split="train", frames=27, subjects=["S2"])
    with pytest.raises(ValueError, match="split must be"):
        load_clips("default", split="val")
