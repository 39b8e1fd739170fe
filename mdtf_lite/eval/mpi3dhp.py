"""MPI-INF-3DHP scoring in pure numpy: MPJPE, PCK@150 mm and AUC, per sequence and overall.

The published evaluation of this benchmark runs a MATLAB script; this module is the Python version of
the same protocol (the published MPI-INF-3DHP convention):

* poses in millimetres, root-relative, H36M-17 order (convert MPI order with :data:`MPI_TO_H36M`);
* only valid frames are scored;
* MPJPE over all 17 joints (the root contributes 0 when both poses are root-relative);
* PCK = percentage of (frame, joint) pairs with error < threshold, over the 14 standard joints
  (head top, neck, shoulders, elbows, wrists, hips, knees, ankles) -- not pelvis, spine or nose;
* AUC = mean PCK over the thresholds 0, 5, ..., 150 mm (31 values);
* "overall" pools every valid frame of every sequence, i.e. sequences are weighted by their number
  of valid frames (TS1 603, TS2 540, TS3 505, TS4 553, TS5 276, TS6 452 in the real test set).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..skeleton import NUM_JOINTS

__all__ = ["MPI_TO_H36M", "PCK_JOINTS", "AUC_THRESHOLDS_MM", "joint_errors_mm", "pck", "auc", "evaluate_3dhp"]

#: ``h36m_pose = mpi_pose[..., MPI_TO_H36M, :]`` converts the 17-joint MPI order to H36M-17.
MPI_TO_H36M: tuple[int, ...] = (14, 8, 9, 10, 11, 12, 13, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)

#: the 14 standard PCK joints are MPI joints 0..13; these are their H36M-17 indices (in H36M order).
PCK_JOINTS: tuple[int, ...] = tuple(h for h, mpi in enumerate(MPI_TO_H36M) if mpi < 14)

AUC_THRESHOLDS_MM: np.ndarray = np.arange(0.0, 151.0, 5.0)


def joint_errors_mm(pred, target, valid=None) -> np.ndarray:
    """Per-joint Euclidean errors of the valid frames.

    Args:
        pred, target: (N, J, 3) millimetres, H36M-17 order, root-relative.
        valid: optional (N,) boolean/0-1 mask; frames with 0 are dropped.
    Returns: (N_valid, J) float64.
    """
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape or pred.ndim != 3 or pred.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(
            f"3DHP scoring needs pred and target of shape (N, {NUM_JOINTS}, 3) in mm, "
            f"got {pred.shape} and {target.shape}"
        )
    if not (np.isfinite(pred).all() and np.isfinite(target).all()):
        raise ValueError("3DHP scoring: pred or target contains NaN/Inf; fix the predictions first")
    err = np.linalg.norm(pred - target, axis=-1)
    if valid is not None:
        valid = np.asarray(valid).astype(bool).reshape(-1)
        if valid.shape[0] != err.shape[0]:
            raise ValueError(f"valid has {valid.shape[0]} entries for {err.shape[0]} frames")
        err = err[valid]
    return err


def pck(errors_mm: np.ndarray, threshold_mm: float = 150.0, joints=PCK_JOINTS) -> float:
    """Percentage (0-100) of (frame, joint) errors strictly below ``threshold_mm``.  errors (N, J)."""
    e = np.asarray(errors_mm)[:, list(joints)]
    if e.size == 0:
        raise ValueError("PCK of zero frames is undefined: no valid frames were given")
    return float(100.0 * np.mean(e < threshold_mm))


def auc(errors_mm: np.ndarray, thresholds_mm=AUC_THRESHOLDS_MM, joints=PCK_JOINTS) -> float:
    """Area under the PCK curve: the mean of PCK (0-100) over ``thresholds_mm``.  errors (N, J)."""
    return float(np.mean([pck(errors_mm, t, joints) for t in thresholds_mm]))


def _scores(err: np.ndarray) -> dict:
    return {"frames": int(err.shape[0]), "mpjpe_mm": float(err.mean()), "pck150": pck(err), "auc": auc(err)}


def evaluate_3dhp(
    pred: Mapping[str, np.ndarray], target: Mapping[str, np.ndarray], valid: Mapping[str, np.ndarray] | None = None
) -> dict:
    """Score every sequence and the frame-weighted whole.

    Args:
        pred, target: sequence name (e.g. ``"TS1"``) -> (N, 17, 3) mm, H36M order, root-relative.
        valid: optional sequence name -> (N,) mask of frames to score.
    Returns:
        ``{"per_sequence": {name: {frames, mpjpe_mm, pck150, auc}}, "overall": {...}}``; overall pools
        the valid frames of all sequences (weights = valid frame counts).
    """
    if set(pred) != set(target):
        raise ValueError(f"pred and target name different sequences: {sorted(pred)} vs {sorted(target)}")
    if not pred:
        raise ValueError("evaluate_3dhp: no sequences given")
    per_sequence, pooled = {}, []
    for name in sorted(pred):
        err = joint_errors_mm(pred[name], target[name], None if valid is None else valid.get(name))
        if err.shape[0] == 0:
            raise ValueError(f"sequence {name!r} has no valid frames")
        per_sequence[name] = _scores(err)
        pooled.append(err)
    return {"per_sequence": per_sequence, "overall": _scores(np.concatenate(pooled))}
