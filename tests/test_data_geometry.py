"""Cameras and geometry: hand-computed points, round trips, normalisation, flips, 2.5D."""

import numpy as np
import pytest
import torch

from mdtf_lite.data import (
    FLIP_PERMUTATION,
    camera_to_world,
    flip_poses,
    h36m_camera,
    normalise_screen,
    pose_25d,
    project,
    unnormalise_screen,
    world_to_camera,
)
from mdtf_lite.data.cameras import CAMERA_SUBJECTS, quaternion_to_matrix
from mdtf_lite.skeleton import rest_pose


def test_s1_camera0_maps_known_point():
    # DATA_FORMATS / issue: S1 camera 0 maps world (0, 0, 0.9) m to about (-0.323, -0.337, 5.307) m
    x = world_to_camera(np.array([0.0, 0.0, 0.9]), h36m_camera("S1", 0))
    np.testing.assert_allclose(x, [-0.323, -0.337, 5.307], atol=1e-3)


def test_world_camera_round_trip_and_rotation_is_proper():
    rng = np.random.default_rng(0)
    pts = rng.normal(0, 1, (50, 3))
    for s in CAMERA_SUBJECTS:
        for c in range(4):
            cam = h36m_camera(s, c)
            np.testing.assert_allclose(camera_to_world(world_to_camera(pts, cam), cam), pts, atol=1e-12)
            assert np.isclose(np.linalg.det(cam.R), 1.0)
            # every camera looks at the capture area: the origin is about 5 m in front of it
            assert 3.5 < world_to_camera(np.zeros(3), cam)[2] < 7.0


def test_quaternion_matrix_matches_hand_computed_rotation():
    half = np.pi / 4  # 90 degrees about z
    R = quaternion_to_matrix([np.cos(half), 0, 0, np.sin(half)])
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_projection_without_distortion_is_pinhole_and_distortion_is_small_near_centre():
    cam = h36m_camera("S9", 2)
    x = np.array([[0.1, -0.2, 5.0]])
    uv = project(x, cam, distort=False)
    np.testing.assert_allclose(uv, cam.focal * x[:, :2] / 5.0 + cam.center)
    # hand-computed distortion for this point: XX = (0.02, -0.04)
    xx = np.array([0.02, -0.04])
    r2 = (xx**2).sum()
    radial = 1 + cam.radial[0] * r2 + cam.radial[1] * r2**2 + cam.radial[2] * r2**3
    want = cam.focal * (xx * (radial + (cam.tangential * xx).sum()) + cam.tangential * r2) + cam.center
    np.testing.assert_allclose(project(x, cam)[0], want)
    assert np.abs(project(x, cam) - uv).max() < 2.0


def test_projection_refuses_points_behind_camera():
    with pytest.raises(ValueError, match="behind the camera"):
        project(np.array([[0, 0, -1.0]]), h36m_camera("S1", 0))


def test_screen_normalisation_round_trip_and_range():
    uv = np.array([[0, 0], [1000, 1002], [500, 501]], float)
    v = normalise_screen(uv, 1000, 1002)
    np.testing.assert_allclose(v[:, 0], [-1, 1, 0])
    np.testing.assert_allclose(unnormalise_screen(v, 1000, 1002), uv)


def test_flip_is_an_involution_and_mirrors_the_image():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 17, 3))
    x0 = x.copy()
    np.testing.assert_allclose(flip_poses(flip_poses(x)), x)
    y = flip_poses(x)
    np.testing.assert_allclose(y[:, 1, 0], -x[:, FLIP_PERMUTATION[1], 0])
    np.testing.assert_allclose(y[..., 1:], x[:, list(FLIP_PERMUTATION), 1:])
    t = torch.from_numpy(x)
    assert torch.allclose(flip_poses(t), torch.from_numpy(y))
    np.testing.assert_array_equal(x, x0)  # the input is not modified in place


def test_flipped_camera_projects_the_mirrored_image():
    # mirror a pose about the camera's x = 0 plane: its image under the flipped camera is the mirrored image
    cam = h36m_camera("S11", 1)
    pose = rest_pose() + np.array([0.3, 0.1, 4.5])
    mirrored = pose * np.array([-1, 1, 1])
    uv, uv_m = project(pose, cam), project(mirrored, cam.flipped())
    np.testing.assert_allclose(uv_m[:, 0], cam.res_w - uv[:, 0], atol=1e-9)
    np.testing.assert_allclose(uv_m[:, 1], uv[:, 1], atol=1e-9)


def test_pose_25d_scale_converts_back_to_millimetres():
    cam = h36m_camera("S9", 0)
    pose = rest_pose()[None] + np.array([0.2, 0.0, 5.0])
    p25, factor = pose_25d(pose, cam, distort=False)
    assert 3.5 < factor[0] < 5.5  # about 4-5 mm per pixel in H36M
    dz_mm = (pose[0, :, 2] - pose[0, 0, 2]) * 1000
    np.testing.assert_allclose(p25[0, :, 2] * factor[0], dz_mm, atol=1e-9)
    # x, y: for joints at the root depth the pixel offsets times the factor are millimetres too
    np.testing.assert_allclose(
        (p25[0, 1, 0] - p25[0, 0, 0]) * factor[0], (pose[0, 1, 0] - pose[0, 0, 0]) * 1000, rtol=1e-2
    )


def test_bad_camera_requests_are_named():
    with pytest.raises(ValueError, match="S2"):
        h36m_camera("S2", 0)
    with pytest.raises(ValueError, match="camera index"):
        h36m_camera("S1", 4)
