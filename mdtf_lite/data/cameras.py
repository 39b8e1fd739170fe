"""The four Human3.6M cameras: intrinsics (with lens distortion) and per-subject extrinsics.

The numbers are facts published with VideoPose3D (``h36m_cameras.json`` beside this module).
Orientation is a unit quaternion ``[w, x, y, z]`` rotating camera -> world, so with ``R = R(q)``:

    X_world = R @ X_cam + t          X_cam = R.T @ (X_world - t)          (metres, world Z up)

Camera frame: x right, y down, z forward (depth, about 5 m for a subject in the capture area).

Shapes: ``R`` (3, 3), ``t`` (3,), ``focal`` / ``center`` (2,), ``radial`` (3,), ``tangential`` (2,).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "Camera",
    "CAMERA_IDS",
    "CAMERA_SUBJECTS",
    "NUM_CAMERAS",
    "quaternion_to_matrix",
    "h36m_camera",
    "h36m_cameras",
    "camera_facts",
]

_FACTS = Path(__file__).with_name("h36m_cameras.json")
NUM_CAMERAS = 4


@lru_cache(maxsize=1)
def camera_facts() -> dict:
    """The raw JSON of camera facts (intrinsics list + extrinsics per subject, translation in mm)."""
    return json.loads(_FACTS.read_text())


CAMERA_IDS: tuple[str, ...] = tuple(c["id"] for c in camera_facts()["intrinsics"])
#: subjects that have extrinsics (S2-S4 have none in the release).
CAMERA_SUBJECTS: tuple[str, ...] = tuple(camera_facts()["extrinsics"])


def quaternion_to_matrix(q) -> np.ndarray:
    """Unit quaternion ``[w, x, y, z]`` (..., 4) -> rotation matrix (..., 3, 3), float64."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


@dataclass(frozen=True)
class Camera:
    """One calibrated camera.  ``R`` rotates camera -> world; ``t`` is the camera centre in metres."""

    index: int
    id: str
    res_w: int
    res_h: int
    focal: np.ndarray  # (2,) pixels
    center: np.ndarray  # (2,) pixels
    radial: np.ndarray  # (3,) k1 k2 k3
    tangential: np.ndarray  # (2,) p1 p2
    R: np.ndarray  # (3, 3) camera -> world
    t: np.ndarray  # (3,) metres, world frame
    subject: str = ""

    def flipped(self) -> "Camera":
        """The camera of the horizontally mirrored image: cx -> w - cx and p1 -> -p1.

        With screen-normalised coordinates this matches negating x (see ``geometry.flip_poses``).
        """
        return replace(
            self,
            center=np.array([self.res_w - self.center[0], self.center[1]]),
            tangential=np.array([-self.tangential[0], self.tangential[1]]),
        )

    def intrinsics_vector(self) -> np.ndarray:
        """(9,) float32: fx/w*2, fy/w*2 (focal in screen units), cx, cy screen-normalised, k1 k2 k3 p1 p2."""
        c = normalise_screen(self.center[None], self.res_w, self.res_h)[0]
        f = self.focal / self.res_w * 2
        return np.concatenate([f, c, self.radial, self.tangential]).astype(np.float32)


def normalise_screen(uv, res_w: float, res_h: float) -> np.ndarray:
    """Pixels (..., 2) -> screen units: ``uv / w * 2 - [1, h / w]`` (x in [-1, 1], aspect kept)."""
    uv = np.asarray(uv, dtype=np.float64)
    return uv / res_w * 2 - np.array([1.0, res_h / res_w])


def unnormalise_screen(v, res_w: float, res_h: float) -> np.ndarray:
    """Inverse of :func:`normalise_screen`: screen units (..., 2) -> pixels (..., 2)."""
    v = np.asarray(v, dtype=np.float64)
    return (v + np.array([1.0, res_h / res_w])) * res_w / 2


def h36m_camera(subject: str, index: int) -> Camera:
    """Camera ``index`` (0..3, the order of the VideoPose3D files) as calibrated for ``subject``."""
    facts = camera_facts()
    if subject not in facts["extrinsics"]:
        raise ValueError(
            f"no extrinsics for subject {subject!r}; the Human3.6M release has them for "
            f"{list(facts['extrinsics'])} (S2-S4 have none)"
        )
    if not 0 <= int(index) < NUM_CAMERAS:
        raise ValueError(f"camera index must be 0..{NUM_CAMERAS - 1}, got {index!r}")
    intr = facts["intrinsics"][int(index)]
    extr = facts["extrinsics"][subject][int(index)]
    return Camera(
        index=int(index),
        id=intr["id"],
        res_w=int(intr["res_w"]),
        res_h=int(intr["res_h"]),
        focal=np.asarray(intr["focal_length"], float),
        center=np.asarray(intr["center"], float),
        radial=np.asarray(intr["radial_distortion"], float),
        tangential=np.asarray(intr["tangential_distortion"], float),
        R=quaternion_to_matrix(extr["orientation_wxyz"]),
        t=np.asarray(extr["translation_mm"], float) / 1000.0,
        subject=subject,
    )


def h36m_cameras(subject: str) -> list[Camera]:
    """The four cameras of ``subject``, in file order."""
    return [h36m_camera(subject, i) for i in range(NUM_CAMERAS)]
