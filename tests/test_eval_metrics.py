"""Every metric on hand-constructed cases whose answer is known in closed form."""

import math

import numpy as np
import pytest
import torch

from mdtf_lite.eval import (
    AUC_THRESHOLDS_MM,
    MPI_TO_H36M,
    PCK_JOINTS,
    acceleration_error,
    action_group,
    auc,
    evaluate_3dhp,
    flip_poses,
    flip_tta,
    mpjpe,
    mpjve,
    n_mpjpe,
    p_mpjpe,
    pck,
    per_action_mean,
    pose_errors_mm,
)
from mdtf_lite.skeleton import rest_pose


def random_poses(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=(*shape, 17, 3))


def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def test_mpjpe_known_offset():
    target = random_poses(4, 5)
    pred = target + np.array([3.0, 4.0, 0.0])  # every joint off by exactly 5
    assert mpjpe(pred, target) == pytest.approx(5.0)
    assert mpjpe(pred, target, reduction="pose").shape == (4, 5)
    assert np.allclose(mpjpe(pred, target, reduction="joint"), 5.0)


def test_mpjpe_single_joint_error_is_averaged_over_17():
    target = np.zeros((1, 17, 3))
    pred = target.copy()
    pred[0, 3] = [0, 0, 17.0]
    assert mpjpe(pred, target) == pytest.approx(1.0)


def test_mpjpe_torch_in_torch_out_and_differentiable():
    target = torch.randn(2, 3, 17, 3)
    pred = torch.randn(2, 3, 17, 3, requires_grad=True)
    out = mpjpe(pred, target)
    assert isinstance(out, torch.Tensor) and out.ndim == 0
    out.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="must match"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((3, 17, 3)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        mpjpe(np.zeros((2, 16, 3)), np.zeros((2, 16, 3)))
    with pytest.raises(ValueError, match="reduction"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((2, 17, 3)), reduction="sum")


def test_p_mpjpe_is_zero_for_rotated_scaled_shifted_copy():
    target = random_poses(6, seed=1)
    pred = np.stack(
        [2.5 * t @ rotation([1, 2, 3], 0.3 * i + 0.1) + np.array([1.0, -2.0, 0.5]) * i for i, t in enumerate(target)]
    )
    assert mpjpe(pred, target) > 0.5
    assert p_mpjpe(pred, target) == pytest.approx(0.0, abs=1e-9)


def test_p_mpjpe_does_not_undo_a_mirror_image():
    """A reflected pose cannot be aligned by a proper rotation: P2 stays clearly > 0."""
    target = rest_pose()[None] + random_poses(1, seed=2) * 0.05
    mirrored = target * np.array([-1.0, 1.0, 1.0])
    assert p_mpjpe(mirrored, target) > 0.01
    # an unconstrained (reflection-allowed) alignment would have matched it exactly:
    a = mirrored[0] - mirrored[0].mean(0)
    b = target[0] - target[0].mean(0)
    u, s, vh = np.linalg.svd(a.T @ b)
    aligned = (s.sum() / (a**2).sum()) * a @ (u @ vh) + target[0].mean(0)
    assert np.abs(aligned - target[0]).max() < 1e-9


def test_p_mpjpe_never_exceeds_mpjpe():
    target, pred = random_poses(20, seed=3), random_poses(20, seed=4)
    assert np.all(p_mpjpe(pred, target, reduction="pose") <= mpjpe(pred, target, reduction="pose") + 1e-12)


def test_n_mpjpe_removes_scale_only():
    target = random_poses(3, 4, seed=5)
    assert n_mpjpe(0.5 * target, target) == pytest.approx(0.0, abs=1e-12)
    rotated = target @ rotation([0, 0, 1], 0.7)
    assert n_mpjpe(rotated, target) > 0.1  # a rotation is not forgiven


def test_mpjve_constant_offset_and_known_velocity_error():
    target = random_poses(2, 10, seed=6)
    assert mpjve(target + 3.0, target) == pytest.approx(0.0, abs=1e-12)  # same motion, shifted
    drift = np.arange(10)[None, :, None, None] * np.array([0.0, 0.0, 2.0])  # extra 2 units per frame
    assert mpjve(target + drift, target) == pytest.approx(2.0)
    assert mpjve(target + drift, target, reduction="pose").shape == (2, 9)
    with pytest.raises(ValueError, match="T >= 2"):
        mpjve(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)))


def test_acceleration_error_ignores_constant_velocity():
    target = random_poses(1, 8, seed=7)
    t = np.arange(8)[None, :, None, None]
    assert acceleration_error(target + t * np.array([1.0, 2.0, 3.0]), target) == pytest.approx(0.0, abs=1e-12)
    quad = t**2 * np.array([0.0, 1.5, 0.0])  # second difference of t^2 is 2 -> error 3
    assert acceleration_error(target + quad, target) == pytest.approx(3.0)


def test_flip_is_an_involution_and_tta_is_exact_for_equivariant_fn():
    x = torch.randn(2, 4, 17, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(flip_poses(flip_poses(x)), x)
    assert torch.allclose(flip_poses(x)[..., 1, 0], -x[..., 4, 0])  # r_hip <- mirrored l_hip
    # the identity is flip-equivariant, so the TTA average equals the plain output
    assert torch.allclose(flip_tta(lambda v: v, x), x)
    # a function that is not equivariant gets averaged: f(x) = x + c
    c = torch.tensor([1.0, 0.0, 0.0])
    assert torch.allclose(flip_tta(lambda v: v + c, x), x, atol=1e-6)  # +c and the unflipped -c cancel (to rounding)
    scores = torch.randn(2, 4, 17, 6)
    assert torch.allclose(
        flip_tta(lambda v: scores, x, output="joint_scores"),
        (scores + scores[..., [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13], :]) / 2,
    )


def test_per_action_mean_averages_actions_not_frames():
    values = [1.0, 1.0, 1.0, 4.0]
    actions = ["Walking", "Walking 1", "WalkDog", "Directions 1"]
    table = per_action_mean(values, actions)
    assert table == {"Directions": 4.0, "WalkDog": 1.0, "Walking": 1.0, "average": 2.0}
    assert action_group("WalkTogether 1") == "WalkTogether"
    with pytest.raises(ValueError, match="empty"):
        per_action_mean([], [])


def test_pose_errors_mm_converts_units_and_zeroes_root():
    target = random_poses(2, 3, seed=8) * 0.1
    pred = target + np.array([0.0, 0.0, 0.002])  # 2 mm everywhere, including the root -> root removed
    pred[..., 5, :] += np.array([0.0, 0.017, 0.0])  # 17 mm on one joint
    err = pose_errors_mm(pred, target, 1000.0)
    assert np.allclose(err["p1"], 1.0) and err["joint"].shape == (2, 3, 17)
    per_clip_scale = np.array([1000.0, 2000.0])
    assert np.allclose(pose_errors_mm(pred, target, per_clip_scale)["p1"][1], 2.0)


# ---- MPI-INF-3DHP ---------------------------------------------------------------------------------


def test_3dhp_joint_set():
    assert len(PCK_JOINTS) == 14
    assert set(range(17)) - set(PCK_JOINTS) == {0, 7, 9}  # pelvis, spine, nose are not scored by PCK
    assert sorted(MPI_TO_H36M) == list(range(17)) and len(AUC_THRESHOLDS_MM) == 31


def test_pck_and_auc_known_offsets():
    target = np.zeros((10, 17, 3))
    pred = target.copy()
    pred[:, :, 0] = 100.0  # every joint 100 mm off
    err = np.linalg.norm(pred - target, axis=-1)
    assert pck(err) == 100.0 and pck(err, 100.0) == 0.0  # strictly below the threshold
    # thresholds 0..150: PCK is 0 up to 100 (21 values) and 100 after (10 values) -> AUC = 1000/31
    assert auc(err) == pytest.approx(100.0 * 10 / 31)
    pred[:5, 10, 0] = 200.0  # head top of half the frames 200 mm off -> 5 of 140 pairs fail
    err = np.linalg.norm(pred - target, axis=-1)
    assert pck(err) == pytest.approx(100.0 * 135 / 140)
    pred[:, 7, 0] = 500.0  # the spine is not a PCK joint: no change
    assert pck(np.linalg.norm(pred - target, axis=-1)) == pytest.approx(100.0 * 135 / 140)


def test_3dhp_overall_is_frame_weighted():
    rng = np.random.default_rng(0)
    gt = {"TS1": rng.normal(size=(30, 17, 3)) * 100, "TS2": rng.normal(size=(10, 17, 3)) * 100}
    pred = {"TS1": gt["TS1"] + [10.0, 0, 0], "TS2": gt["TS2"] + [0, 200.0, 0]}
    valid = {"TS1": np.r_[np.ones(20), np.zeros(10)], "TS2": np.ones(10)}
    res = evaluate_3dhp(pred, gt, valid)
    assert res["per_sequence"]["TS1"]["frames"] == 20 and res["per_sequence"]["TS1"]["mpjpe_mm"] == pytest.approx(10)
    assert res["per_sequence"]["TS2"]["pck150"] == 0.0 and res["per_sequence"]["TS1"]["pck150"] == 100.0
    assert res["overall"]["pck150"] == pytest.approx(100.0 * 20 / 30)  # weighted by valid frames, not 50/50
    assert res["overall"]["mpjpe_mm"] == pytest.approx((20 * 10 + 10 * 200) / 30)
    with pytest.raises(ValueError, match="different sequences"):
        evaluate_3dhp({"TS1": gt["TS1"]}, gt)
    with pytest.raises(ValueError, match="NaN"):
        evaluate_3dhp({"TS1": gt["TS1"] * np.nan}, {"TS1": gt["TS1"]})
