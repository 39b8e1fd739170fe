"""Exercise checkers for notebook 01 (data): cameras, normalisation, flips, 2.5D, clip windows.

Each ``check_<name>(student_fn)`` runs the student's function on seeded inputs and compares it with the
package's, printing per-case feedback (see :func:`mdtf_lite.course.checks.run_check`).
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.course.checks import run_check
from mdtf_lite.data.cameras import h36m_camera
from mdtf_lite.data.clips import window_starts
from mdtf_lite.data.geometry import flip_poses, normalise_screen, project, world_to_camera
from mdtf_lite.skeleton import BONES

__all__ = [
    "check_world_to_camera",
    "check_project",
    "check_normalise_screen",
    "check_flip_poses",
    "check_window_starts",
    "check_bone_lengths",
]


def _cases_points(n_cases: int = 3):
    rng = np.random.default_rng(0)
    return [rng.normal([0, 0, 0.9], 0.5, size=(8, 17, 3)) for _ in range(n_cases)]


def check_world_to_camera(student_fn) -> None:
    """``student_fn(points (..., 3) world m, camera) -> (..., 3)`` camera frame."""
    cases = [(p, h36m_camera(s, c)) for p, (s, c) in zip(_cases_points(), [("S1", 0), ("S9", 2), ("S11", 3)])]
    run_check(
        "world_to_camera",
        student_fn,
        world_to_camera,
        cases,
        atol=1e-9,
        hint="X_cam = R^T (X - t) with R from the quaternion (camera -> world) and t in metres",
    )


def check_project(student_fn) -> None:
    """``student_fn(points_cam (..., 3), camera) -> (..., 2)`` pixels with the distortion model."""
    cases = []
    for p, (s, c) in zip(_cases_points(), [("S1", 0), ("S9", 2), ("S11", 3)]):
        cam = h36m_camera(s, c)
        cases.append((world_to_camera(p, cam), cam))
    run_check(
        "project",
        student_fn,
        project,
        cases,
        atol=1e-6,
        hint="clamp X/Z to [-1, 1]; radial 1 + k1 r2 + k2 r2^2 + k3 r2^3; tangential p.XX and p r2; f XXX + c",
    )


def check_normalise_screen(student_fn) -> None:
    """``student_fn(uv (..., 2) pixels, w, h) -> (..., 2)`` screen units."""
    rng = np.random.default_rng(1)
    cases = [(rng.uniform(0, 1000, (5, 17, 2)), 1000, 1002), (rng.uniform(0, 2048, (3, 17, 2)), 1920, 1080)]
    run_check("normalise_screen", student_fn, normalise_screen, cases, hint="uv / w * 2 - [1, h / w]")


def check_flip_poses(student_fn) -> None:
    """``student_fn(poses (..., 17, C)) -> (..., 17, C)`` mirrored left/right."""
    rng = np.random.default_rng(2)
    cases = [(rng.normal(size=(4, 17, 3)),), (rng.normal(size=(2, 9, 17, 3)),)]
    run_check(
        "flip_poses",
        student_fn,
        flip_poses,
        cases,
        hint="negate x (channel 0) AND swap left and right joints (mdtf_lite.skeleton.FLIP_PERMUTATION)",
    )


def check_window_starts(student_fn) -> None:
    """``student_fn(length, frames, stride) -> list of start frames`` of the full windows."""
    cases = [(100, 27, 9), (243, 243, 81), (500, 81, 81), (80, 81, 27)]
    run_check(
        "window_starts",
        lambda *a: np.asarray(student_fn(*a), float),
        lambda *a: np.asarray(window_starts(*a), float),
        cases,
        hint="starts 0, stride, 2 stride, ... while start + frames <= length (the tail is dropped)",
    )


def check_bone_lengths(student_fn) -> None:
    """``student_fn(poses (T, 17, 3)) -> (T, 16)`` length of each bone (parent, child) ordered by child."""

    def reference(p):
        return np.stack([np.linalg.norm(p[:, c] - p[:, a], axis=-1) for a, c in BONES], -1)

    run_check(
        "bone_lengths",
        student_fn,
        reference,
        [(x[0],) for x in [_cases_points(1)]],
        hint="for (parent, child) in BONES: |pose[child] - pose[parent]|",
    )
