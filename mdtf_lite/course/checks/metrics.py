"""Checkers for the metric exercises of notebook 07.

    check_mpjpe(fn)    fn(pred, target) -> scalar: mean over all joints and poses of ||pred - target||
                       pred, target: float64 numpy arrays (N, 17, 3)
    check_n_mpjpe(fn), check_mpjve(fn): the same for N-MPJPE and the velocity error on (N, T, 17, 3)
    check_p_mpjpe(fn)  fn(pred, target) -> scalar: MPJPE after the per-pose similarity Procrustes
                       alignment (scale, proper rotation -- reflections NOT allowed -- and translation)
                       pred, target: float64 numpy arrays (N, 17, 3)

Both run the student's function on seeded cases (random poses; a rotated, scaled, shifted copy whose
P2 is 0; a mirror image whose P2 is not) and compare with :mod:`mdtf_lite.eval.metrics`.
"""

from __future__ import annotations

import math

import numpy as np

from mdtf_lite.course.checks import Case, run_check
from mdtf_lite.eval import metrics as _metrics
from mdtf_lite.eval.metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe

__all__ = ["check_mpjpe", "check_p_mpjpe", "check_n_mpjpe", "check_mpjve"]


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]) @ np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _cases(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(5, 17, 3))
    noisy = target + 0.1 * rng.normal(size=target.shape)
    similar = 1.7 * target @ _rotation(0.8) + np.array([0.3, -0.2, 1.0])  # P2 = 0
    mirrored = target * np.array([-1.0, 1.0, 1.0])  # P2 > 0 (no reflections)
    return [
        Case("noisy prediction (5 poses)", (noisy, target)),
        Case("rotated, scaled and shifted copy (P2 = 0)", (similar, target)),
        Case("mirror image (P2 > 0: no reflections)", (mirrored, target)),
        Case("a single unrelated pose", (rng.normal(size=(1, 17, 3)), target[:1])),
    ]


def check_mpjpe(fn) -> None:
    """Check ``fn(pred, target) -> float`` (MPJPE, Protocol 1) against the package on four cases."""
    run_check(
        "mpjpe",
        lambda p, t: float(fn(p, t)),
        lambda p, t: float(mpjpe(p, t)),
        _cases(),
        rtol=1e-6,
        atol=1e-9,
        forbid=[_metrics.mpjpe],
        mistakes={
            "squared distances: you left out the square root": lambda p, t: float(((p - t) ** 2).sum(-1).mean()),
            "wrong reduction: the mean of |difference| over x, y, z, not the Euclidean norm": lambda p, t: float(
                np.abs(p - t).mean()
            ),
            "wrong reduction: the norm over the joint axis, not over (x, y, z)": lambda p, t: float(
                np.linalg.norm(p - t, axis=-2).mean()
            ),
            "sum over joints: average over joints and poses instead": lambda p, t: float(
                np.linalg.norm(p - t, axis=-1).sum(-1).mean()
            ),
        },
        hint="MPJPE is the Euclidean norm over the last axis (x, y, z), then the mean over joints and poses.",
    )


def p_mpjpe_with_reflections(pred, target) -> float:
    """The classic P-MPJPE mistake: the Procrustes fit without the det(R) = +1 fix, so mirror images align.

    pred, target (N, J, 3) -> mean error; rows are points, R = U V^T (no sign correction).
    """
    errs = []
    for p, t in zip(pred, target):
        a, b = p - p.mean(0), t - t.mean(0)
        u, s, vt = np.linalg.svd(a.T @ b)
        errs.append(np.linalg.norm(s.sum() / (a**2).sum() * a @ (u @ vt) + t.mean(0) - t, axis=-1).mean())
    return float(np.mean(errs))


def check_p_mpjpe(fn) -> None:
    """Check ``fn(pred, target) -> float`` (P-MPJPE, Protocol 2) against the package on four cases."""

    def transposed_rotation(pred, target):
        errs = []
        for p, t in zip(pred, target):
            a, b = p - p.mean(0), t - t.mean(0)
            u, s, vt = np.linalg.svd(a.T @ b)
            d = np.sign(np.linalg.det(u @ vt))
            rot = u @ np.diag([1, 1, d]) @ vt
            scale = (s * [1, 1, d]).sum() / (a**2).sum()
            errs.append(np.linalg.norm(scale * a @ rot.T + t.mean(0) - t, axis=-1).mean())
        return float(np.mean(errs))

    run_check(
        "p_mpjpe",
        lambda p, t: float(fn(p, t)),
        lambda p, t: float(p_mpjpe(p, t)),
        _cases(),
        rtol=1e-5,
        atol=1e-7,
        forbid=[_metrics.p_mpjpe],
        mistakes={
            "reflections allowed: fix the sign of the last singular direction when det < 0": p_mpjpe_with_reflections,
            "rotation applied in the other convention: with poses as rows, aligned = s * P @ R with "
            "R = U D V^T (or P @ (V D U^T)^T)": transposed_rotation,
            "no alignment at all: this is plain MPJPE": lambda p, t: float(mpjpe(p, t)),
        },
        hint="Align each pose separately: centre both, SVD of pred_c^T target_c, fix the sign of the "
        "last singular direction when det < 0 (no reflections), scale = trace / ||pred_c||^2.",
    )


def _sequence_cases(seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(2, 6, 17, 3))
    drift = np.arange(6)[None, :, None, None] * np.array([0.0, 0.0, 0.3])
    return [
        Case("noisy clips", (target + 0.1 * rng.normal(size=target.shape), target)),
        Case("drift in depth over time", (target + drift, target)),
        Case("half-size prediction", (0.5 * target, target)),
    ]


def check_n_mpjpe(fn) -> None:
    """Check ``fn(pred, target) -> float`` (N-MPJPE: MPJPE after the best per-pose scale).

    pred, target: float64 numpy arrays (N, T, 17, 3); the scale s = <pred, target> / <pred, pred> per pose.
    """
    run_check(
        "n_mpjpe",
        lambda p, t: float(fn(p, t)),
        lambda p, t: float(n_mpjpe(p, t)),
        _sequence_cases(),
        rtol=1e-6,
        atol=1e-9,
        forbid=[n_mpjpe],
        mistakes={"no scale: this is plain MPJPE": lambda p, t: float(mpjpe(p, t))},
        hint="One scale per pose (over its 17 joints and 3 coordinates), no rotation.",
    )


def check_mpjve(fn) -> None:
    """Check ``fn(pred, target) -> float`` (MPJVE: MPJPE between first differences along the frame axis).

    pred, target: float64 numpy arrays (N, T, 17, 3), frames on axis 1.
    """
    run_check(
        "mpjve",
        lambda p, t: float(fn(p, t)),
        lambda p, t: float(mpjve(p, t)),
        _sequence_cases(),
        rtol=1e-6,
        atol=1e-9,
        forbid=[mpjve],
        hint="velocity = x[:, 1:] - x[:, :-1]; then the mean Euclidean error.",
    )
