"""Bone geometry: round trips, symmetries, bins, tokens, gradients at the degenerate points, bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mdtf_lite import bones as bn
from mdtf_lite.skeleton import FLIP_PERMUTATION, PARENTS, rest_pose

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, width=64)
poses = arrays(np.float64, (17, 3), elements=finite)
vectors = arrays(np.float64, (5, 3), elements=finite)
FAST = settings(max_examples=60, deadline=None)


def _flip(pose: np.ndarray) -> np.ndarray:
    """Horizontal flip of a pose: negate x and swap left/right joints."""
    out = pose[..., FLIP_PERMUTATION, :].copy()
    out[..., 0] *= -1
    return out


def _wrap(angle):
    """Wrap angles to (-pi, pi]."""
    return np.pi - np.mod(np.pi - angle, 2 * np.pi)


def _angle_close(a, b, atol=1e-9):
    return np.allclose(_wrap(np.asarray(a) - np.asarray(b)), 0.0, atol=atol)


# ------------------------------------------------------------------------------- joints <-> bones
def test_bone_vectors_are_child_minus_parent_in_child_order():
    pose = rest_pose()
    b = bn.bone_vectors(pose)
    assert b.shape == (16, 3)
    for k in range(16):
        assert np.allclose(b[k], pose[k + 1] - pose[PARENTS[k + 1]])


@pytest.mark.parametrize("lead", [(), (4,), (2, 3, 5)])
def test_any_leading_shape(lead):
    pose = torch.randn(*lead, 17, 3, dtype=torch.float64)
    b = bn.bone_vectors(pose)
    assert b.shape == (*lead, 16, 3)
    assert bn.to_spherical(b).shape == (*lead, 16, 3)
    assert bn.planar_parts(pose).shape == (*lead, 16, 2)
    assert bn.theta_labels(pose).shape == (*lead, 17)
    assert bn.bone_tokens(pose, torch.ones(*lead, 17)).shape == (*lead, 17, 3)
    assert torch.allclose(bn.joints_from_bones(b, pose[..., 0, :]), pose)


@FAST
@given(poses)
def test_forward_kinematics_round_trip(pose):
    root = pose[0]
    rebuilt = bn.joints_from_bones(bn.bone_vectors(pose), root)
    assert np.allclose(rebuilt, pose, atol=1e-12)
    # root-relative by default
    assert np.allclose(bn.joints_from_bones(bn.bone_vectors(pose)), pose - root, atol=1e-12)


def test_ancestor_matrix_walks_the_tree():
    m = bn.ancestor_matrix().numpy()
    assert m.shape == (17, 16) and m[0].sum() == 0
    # the right wrist's path: pelvis-spine-thorax-r_shoulder-r_elbow-r_wrist = bones ending in 7, 8, 14, 15, 16
    assert set(np.flatnonzero(m[16]) + 1) == {7, 8, 14, 15, 16}


def test_custom_parent_array():
    parents = (-1, 0, 1, 1)  # a 4-joint tree
    joints = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 0, 2]])
    b = bn.bone_vectors(joints, parents)
    assert np.allclose(b, [[1, 0, 0], [0, 1, 0], [0, 0, 2]])
    assert np.allclose(bn.joints_from_bones(b, joints[0], parents), joints)


# ---------------------------------------------------------------------------------- spherical
@FAST
@given(vectors)
def test_spherical_round_trip_and_ranges(v):
    s = bn.to_spherical(v)
    phi, theta, length = s[..., 0], s[..., 1], s[..., 2]
    assert np.all((phi > -np.pi - 1e-12) & (phi <= np.pi + 1e-12))
    assert np.all((theta >= 0) & (theta <= np.pi + 1e-12))
    assert np.allclose(length, np.linalg.norm(v, axis=-1))
    assert np.allclose(bn.from_spherical(s), v, atol=1e-12)


@FAST
@given(
    st.floats(-np.pi + 1e-3, np.pi, width=64), st.floats(1e-3, np.pi - 1e-3, width=64), st.floats(1e-3, 3.0, width=64)
)
def test_from_then_to_spherical_is_identity_away_from_the_poles(phi, theta, length):
    s = np.array([phi, theta, length])
    assert np.allclose(bn.to_spherical(bn.from_spherical(s)), s, atol=1e-9)


@FAST
@given(poses)
def test_flip_equivariance(pose):
    """Flip = mirror x and swap sides: theta and length move with the joints, phi -> pi - phi."""
    s = bn.at_child_joints(bn.to_spherical(bn.bone_vectors(torch.from_numpy(pose)))).numpy()
    s_flip = bn.at_child_joints(bn.to_spherical(bn.bone_vectors(torch.from_numpy(_flip(pose))))).numpy()
    s_perm = s[list(FLIP_PERMUTATION)]
    assert np.allclose(s_flip[1:, 1:], s_perm[1:, 1:], atol=1e-9)  # theta, length
    has_xy = np.hypot(*bn.bone_vectors(pose)[:, :2].T) > 1e-9
    has_xy = np.concatenate([[False], has_xy])[list(FLIP_PERMUTATION)]
    assert _angle_close(s_flip[has_xy, 0], np.pi - s_perm[has_xy, 0])
    # |b_xy| is unchanged by negating x, so theta and its class move with the joints exactly
    assert np.array_equal(bn.theta_labels(_flip(pose)), bn.theta_labels(pose)[list(FLIP_PERMUTATION)])


@FAST
@given(poses, st.floats(-np.pi, np.pi, width=64))
def test_rotation_about_the_depth_axis_shifts_phi_only(pose, alpha):
    c, s_ = math.cos(alpha), math.sin(alpha)
    rot = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1]])
    sph = bn.to_spherical(bn.bone_vectors(pose))
    sph_rot = bn.to_spherical(bn.bone_vectors(pose @ rot.T))
    assert np.allclose(sph_rot[:, 1:], sph[:, 1:], atol=1e-9)
    has_xy = np.hypot(*bn.bone_vectors(pose)[:, :2].T) > 1e-6
    assert _angle_close(sph_rot[has_xy, 0], sph[has_xy, 0] + alpha, atol=1e-7)


@FAST
@given(poses)
def test_planar_parts_are_the_2d_half_of_the_spherical_coordinates(pose):
    sph = bn.to_spherical(bn.bone_vectors(pose))
    planar = bn.planar_parts(pose[:, :2])
    assert np.allclose(planar, bn.planar_parts(pose))  # a 3rd channel (depth or confidence) is ignored
    assert np.allclose(planar[:, 1], sph[:, 2] * np.sin(sph[:, 1]), atol=1e-12)
    has_xy = planar[:, 1] > 1e-9
    assert _angle_close(planar[has_xy, 0], sph[has_xy, 0])


@FAST
@given(poses)
def test_reconstruction_with_the_true_theta_recovers_the_bones(pose):
    b = bn.bone_vectors(pose)
    sph = bn.to_spherical(b)
    ok = np.sin(sph[:, 1]) > 1e-3  # along the depth axis the depth is unrecoverable from 2D: skip those
    rebuilt = bn.reconstruct_bones(bn.planar_parts(pose), sph[:, 1])
    assert np.allclose(rebuilt[ok], b[ok], atol=1e-9)
    assert np.allclose(bn.length_from_theta(bn.planar_parts(pose)[ok, 1], sph[ok, 1]), sph[ok, 2], atol=1e-9)


def test_depth_axis_conventions():
    s = bn.to_spherical(np.array([[0.0, 0, 2], [0, 0, -2], [0, 0, 0], [1, 0, 0], [0, -1, 0]]))
    assert np.allclose(s, [[0, 0, 2], [0, np.pi, 2], [0, 0, 0], [0, np.pi / 2, 1], [-np.pi / 2, np.pi / 2, 1]])
    assert bn.depth_from_theta(np.array(1.0), np.array(np.pi / 4)) == pytest.approx(1.0)
    assert bn.depth_from_theta(np.array(1.0), np.array(3 * np.pi / 4)) == pytest.approx(-1.0)


# ---------------------------------------------------------------------------------------- bins
def test_bins_and_centres():
    assert np.allclose(np.degrees(bn.bin_centers().numpy()), [15, 45, 75, 105, 135, 165])
    theta = np.radians([0, 14.9, 30, 89.9, 90, 179.9, 180])
    assert bn.theta_to_bin(theta).tolist() == [0, 0, 1, 2, 3, 5, 5]
    assert bn.theta_to_bin(theta, num_bins=4).tolist() == [0, 0, 0, 1, 2, 3, 3]
    assert np.allclose(bn.bin_to_theta(np.array([0, 5])), np.radians([15, 165]))
    # every bin centre falls in its own bin, for any K
    for k in (1, 2, 6, 9):
        assert bn.theta_to_bin(bn.bin_centers(k), k).tolist() == list(range(k))


def test_theta_labels_sit_at_child_joints_with_root_zero():
    pose = rest_pose()
    pose[13] = pose[12] + np.array([0.0, 0.0, 0.25])  # l_wrist: forearm points straight away (theta ~ 0)
    labels = bn.theta_labels(pose)
    assert labels[0] == 0 and labels[13] == 0 and labels[12] == 3
    pose[13] = pose[12] + np.array([0.0, 0.0, -0.25])  # towards the camera: theta = pi
    assert bn.theta_labels(pose)[13] == 5


def test_bone_tokens_are_placed_at_the_child_joint():
    pose = rest_pose()
    theta = np.full(17, np.pi / 2)
    tokens = bn.bone_tokens(pose, theta)
    assert np.all(tokens[0] == 0)
    moved = pose.copy()
    moved[13, 0] += 0.1  # changes only the forearm bone (elbow -> wrist), which ends in joint 13
    diff = np.abs(bn.bone_tokens(moved, theta) - tokens).sum(-1)
    assert np.flatnonzero(diff > 0).tolist() == [13]
    # with theta = 90 degrees the estimated length is the in-plane length
    assert np.allclose(tokens[1:, 2], np.hypot(*bn.bone_vectors(pose)[:, :2].T))
    assert np.allclose(tokens[1:, 1], 0.5)


# --------------------------------------------------------------------------------- gradients
DEGENERATE = torch.tensor(
    [
        [0.3, -0.2, 0.5],  # generic
        [1e-4, 2e-4, 0.7],  # theta near 0
        [-1e-4, 1e-4, -0.7],  # theta near pi
        [1e-3, -1e-3, 1e-3],  # short bone
        [0.4, 0.0, 0.0],  # theta = pi / 2 on the x axis
    ],
    dtype=torch.float64,
)


def test_gradcheck_to_spherical_near_degenerate_bones():
    x = DEGENERATE.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(bn.to_spherical, (x,), eps=1e-7, atol=1e-5, rtol=1e-4)


def test_gradcheck_from_spherical_forward_kinematics_and_tokens():
    s = torch.tensor(
        [[0.3, 1e-4, 0.5], [-2.0, math.pi - 1e-4, 0.1], [1.0, 1.2, 0.0]], dtype=torch.float64, requires_grad=True
    )
    assert torch.autograd.gradcheck(bn.from_spherical, (s,))
    b = torch.randn(2, 16, 3, dtype=torch.float64, requires_grad=True)
    root = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(bn.joints_from_bones, (b, root))
    pose = torch.randn(17, 3, dtype=torch.float64, requires_grad=True)
    theta = (torch.rand(17, dtype=torch.float64) * 2.5 + 0.3).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p, t: bn.bone_tokens(p, t), (pose, theta))
    r = torch.tensor([0.0, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.5, 1e-3, math.pi - 1e-3], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(bn.length_from_theta, (r, t))
    assert torch.autograd.gradcheck(bn.depth_from_theta, (r, t))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients_finite_at_exactly_degenerate_points(dtype):
    x = torch.tensor(
        [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [0.0, 1e-30, 0.0]], dtype=dtype, requires_grad=True
    )
    s = bn.to_spherical(x)
    s.sum().backward()
    assert torch.isfinite(s).all() and torch.isfinite(x.grad).all()
    assert s[0].tolist() == [0.0, 0.0, 0.0]
    pose = torch.zeros(17, 3, dtype=dtype, requires_grad=True)  # every bone zero length, every 2D bone zero
    theta = torch.tensor([0.0, math.pi] + [0.0] * 15, dtype=dtype, requires_grad=True)
    out = torch.cat([bn.bone_tokens(pose, theta).flatten(), bn.planar_parts(pose).flatten()])
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(pose.grad).all() and torch.isfinite(theta.grad).all()
    r = torch.ones(2, dtype=dtype, requires_grad=True)
    t = torch.tensor([0.0, math.pi], dtype=dtype, requires_grad=True)
    ln = bn.length_from_theta(r, t) + bn.depth_from_theta(r, t)
    ln.sum().backward()
    assert torch.isfinite(ln).all() and torch.isfinite(r.grad).all() and torch.isfinite(t.grad).all()


# --------------------------------------------------------------------------------- bad input
def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 2\) or \(\.\.\., 17, 3\)"):
        bn.bone_vectors(np.zeros((16, 3)))
    with pytest.raises(ValueError, match="joint 2"):
        bn.bone_vectors(np.zeros((3, 3)), parents=[-1, 0, 2])
    pose = rest_pose()
    pose[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bn.bone_vectors(pose)
    with pytest.raises(ValueError, match="last dimension must be 3"):
        bn.to_spherical(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="num_bins"):
        bn.theta_to_bin(np.zeros(3), num_bins=0)
    with pytest.raises(ValueError, match="0..5"):
        bn.bin_to_theta(np.array([6]))
    with pytest.raises(ValueError, match="theta_hat has shape"):
        bn.bone_tokens(rest_pose(), np.zeros(16))
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        bn.theta_labels(rest_pose()[:, :2])


# ---------------------------------------------------------------------------------- pose edits
@FAST
@given(poses)
def test_flipping_bone_depth_keeps_the_2d_pose_and_mirrors_theta(pose):
    twin = bn.flip_bone_depth(pose, [3, 13])
    assert np.allclose(twin[:, :2], pose[:, :2], atol=1e-12)
    t, t2 = bn.token_thetas(pose), bn.token_thetas(twin)
    has_len = np.linalg.norm(bn.bone_vectors(pose), axis=-1) > 1e-9
    for j in (3, 13):
        if has_len[j - 1]:
            assert t2[j] == pytest.approx(np.pi - t[j], abs=1e-9)
    # the other bones keep their angles (bones shorter than 1e-6 are skipped: forward kinematics adds
    # the root's coordinates, which rounds a 1e-60 bone away and leaves its direction meaningless)
    keep = np.concatenate([[False], has_len & (np.linalg.norm(bn.bone_vectors(pose), axis=-1) > 1e-6)])
    keep[[3, 13]] = False
    assert np.allclose(t2[keep], t[keep], atol=1e-6)


def test_set_bone_direction_moves_descendants_rigidly():
    pose = rest_pose()
    new = bn.set_bone_direction(pose, 12, phi=0.3, theta=0.4)  # upper arm (shoulder -> elbow)
    sph = bn.to_spherical(bn.bone_vectors(new))
    assert sph[11, 0] == pytest.approx(0.3) and sph[11, 1] == pytest.approx(0.4)
    assert sph[11, 2] == pytest.approx(np.linalg.norm(pose[12] - pose[11]))
    assert np.allclose(new[13] - new[12], pose[13] - pose[12])  # the forearm keeps its vector
    untouched = [j for j in range(17) if j not in (12, 13)]
    assert np.allclose(new[untouched], pose[untouched])
    with pytest.raises(ValueError, match="child joint"):
        bn.set_bone_direction(pose, 0, 0.0, 0.0)
