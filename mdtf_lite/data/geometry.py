"""Geometry of the data: world <-> camera, projection (with and without distortion), screen
normalisation, root-relative poses, 2.5D poses and horizontal flips.

Shapes: points (..., 3) metres; pixels (..., 2); a pose sequence (T, J, 3) with J = 17.
Every function works on any leading dimensions and returns float64 unless it says otherwise.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.data.cameras import Camera, normalise_screen, unnormalise_screen  # screen units live with the camera
from mdtf_lite.skeleton import FLIP_PERMUTATION

__all__ = [
    "world_to_camera",
    "camera_to_world",
    "project",
    "normalise_screen",
    "unnormalise_screen",
    "root_relative",
    "pose_25d",
    "flip_poses",
    "FLIP_PERMUTATION",
]


def _rotate_rows(x: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``x @ M`` for (..., 3) rows, written out: tiny matmuls through BLAS are slow (and spawn threads)."""
    return x[..., 0:1] * M[0] + x[..., 1:2] * M[1] + x[..., 2:3] * M[2]


def world_to_camera(points, camera: Camera) -> np.ndarray:
    """World points (..., 3) m -> camera frame (..., 3) m: ``R.T @ (X - t)``."""
    x = np.asarray(points, dtype=np.float64)
    return _rotate_rows(x - camera.t, camera.R)  # row vectors: (X - t) R == (R.T (X - t)).T


def camera_to_world(points, camera: Camera) -> np.ndarray:
    """Camera-frame points (..., 3) m -> world (..., 3) m: ``R @ X + t``."""
    x = np.asarray(points, dtype=np.float64)
    return _rotate_rows(x, camera.R.T) + camera.t


def project(points_cam, camera: Camera, distort: bool = True) -> np.ndarray:
    """Camera-frame points (..., 3) -> pixels (..., 2).

    With ``distort`` the Human3.6M lens model is applied (as in the VideoPose3D convention):
    ``XX = clamp(X/Z, -1, 1); r2 = |XX|^2; radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3;
    XXX = XX (radial + p.XX) + p r2`` (p = (p1, p2), the tangential terms), then ``uv = f XXX + c``.
    Points must be in front of the camera (Z > 0).
    """
    x = np.asarray(points_cam, dtype=np.float64)
    if x.shape[-1] != 3:
        raise ValueError(f"points_cam has shape {x.shape}; expected (..., 3) camera-frame points")
    z = x[..., 2:3]
    if np.any(z <= 0):
        raise ValueError(
            "some points are behind the camera (Z <= 0): pass camera-frame points "
            "(world_to_camera first) of a subject inside the capture area"
        )
    xx = x[..., :2] / z
    if distort:
        xx = np.clip(xx, -1.0, 1.0)
        r2 = np.sum(xx**2, axis=-1, keepdims=True)
        k1, k2, k3 = camera.radial
        radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        tan = np.sum(camera.tangential * xx, axis=-1, keepdims=True)
        xx = xx * (radial + tan) + camera.tangential * r2
    return camera.focal * xx + camera.center


def root_relative(poses, root: int = 0):
    """Subtract joint ``root`` from every joint: (..., J, C) -> (..., J, C); works for numpy and torch."""
    return poses - poses[..., root : root + 1, :]


def pose_25d(points_cam, camera: Camera, distort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The MotionBERT "2.5D" pose of camera-frame joints (T, J, 3) m.

    x, y are the joints projected to pixels; z = (Z_j - Z_root) in pixels at the root depth,
    i.e. ``(Z_j - Z_root) * fx / Z_root``.  Returns (pose (T, J, 3) pixels, factor (T,) mm per pixel
    = ``Z_root[mm] / fx``) so that ``pose * factor`` is in millimetres (about 4-5 mm/px in H36M).
    """
    x = np.asarray(points_cam, dtype=np.float64)
    uv = project(x, camera, distort)
    z_root = x[..., 0:1, 2]  # (T, 1) metres
    scale = camera.focal[0] / z_root  # pixels per metre at the root depth
    z = (x[..., 2] - z_root) * scale  # (T, J) pixels
    factor = z_root[..., 0] * 1000.0 / camera.focal[0]
    return np.concatenate([uv, z[..., None]], axis=-1), factor


def flip_poses(poses):
    """Horizontal flip of poses (..., 17, C): negate x (channel 0) and swap left/right joints.

    Valid for screen-normalised 2D (x centred on 0), for camera-frame 3D and for root-relative
    2.5D; confidences (channel 2 of an input) are only permuted.  Works for numpy and torch.
    Pass ``has_confidence`` semantics by channel count: channel 0 is always x.
    """
    perm = list(FLIP_PERMUTATION)
    out = poses[..., perm, :]
    if hasattr(out, "clone"):
        out = out.clone()
    else:
        out = np.array(out, copy=True)
    out[..., 0] = -out[..., 0]
    return out
