"""Evaluate a lifting model on a ``ClipDataset``: the numbers a paper's table reports, plus the raw errors.

    result = evaluate_model(model, load_clips(split="test", frames=27))
    result["p1_mm"], result["p2_mm"], result["per_action_p1"], result["per_clip_p1"], result["pred"]

Protocol choices follow the dataset (the published Human3.6M / MPI-INF-3DHP conventions): camera-metre targets are scored in mm (x 1000),
normalised 2.5D targets per frame with ``2.5d_factor * w / 2``; frames marked invalid (MPI-INF-3DHP)
are not scored; MotionBERT's three excluded S9 takes are dropped with ``exclude_takes=True``.
"""

from __future__ import annotations

import numpy as np
import torch

from .protocols import is_excluded_take, pose_errors_mm, predict, summarise_errors

__all__ = ["evaluate_model", "mm_per_unit"]


def mm_per_unit(ds) -> np.ndarray | float:
    """Millimetres per target unit: 1000 for camera metres; (N, T) ``factor * w / 2`` for normalised 2.5D."""
    target = getattr(ds, "target", "camera")
    if target == "camera":
        return 1000.0
    meta = getattr(ds, "meta", {})
    if target == "2.5d" and "factor_2.5d" in meta and "res_w" in meta:
        factor = np.asarray(meta["factor_2.5d"], dtype=np.float64)
        if not np.isfinite(factor).all():
            raise ValueError("this dataset has no 2.5d_factor for some clips: evaluate it with target='camera'")
        return factor * np.asarray(meta["res_w"], dtype=np.float64).reshape(-1, 1) / 2.0
    raise ValueError(
        f"cannot convert {target!r} targets to millimetres: the dataset needs meta['factor_2.5d'] "
        "and meta['res_w'] (load it with mdtf_lite.data.load_clips)"
    )


def evaluate_model(
    model: torch.nn.Module, ds, flip: bool = True, batch_size: int = 64, exclude_takes: bool = False
) -> dict:
    """P1/P2 (mm) per action and overall, per clip and per joint, with optional flip TTA.

    Args:
        model: maps (B, T, 17, 3) inputs to (B, T, 17, 3) root-relative poses in the dataset's units.
        ds: a ``ClipDataset`` (``inputs``, ``targets`` (N, T, 17, 3), ``meta['action']``, ``target``).
        flip: flip test-time augmentation.
        exclude_takes: drop the MotionBERT protocol's three S9 takes (by ``meta['video']``).
    Returns: dict with ``p1_mm``, ``p2_mm``, ``mpjve_mm`` (velocity error, mm per frame), ``per_action_p1``/``p2``, ``per_joint_p1`` (17,), ``frames``,
        ``per_clip_p1``/``p2`` (N,) numpy, ``errors`` (``pose_errors_mm`` output), ``pred`` (N, T, 17, 3).
    """
    n = len(ds.inputs)
    if n == 0:
        raise ValueError("evaluate_model: the dataset is empty")
    keep = np.ones(n, bool)
    meta = getattr(ds, "meta", {})
    if exclude_takes and "video" in meta:
        keep = ~np.array([is_excluded_take(v) for v in meta["video"]])
    pred = predict(model, ds.inputs, batch_size=batch_size, flip=flip)
    errors = pose_errors_mm(pred, ds.targets, mm_per_unit(ds))
    valid = np.asarray(meta["valid"], bool) if "valid" in meta else np.ones(errors["p1"].shape, bool)
    valid = valid & keep[:, None]
    result = summarise_errors(errors, meta["action"], valid)
    weights = valid.sum(1).clip(min=1)
    pairs = valid[:, 1:] & valid[:, :-1]  # velocity: both frames of a pair count
    result["mpjve_mm"] = float(errors["vel"][pairs].mean()) if pairs.any() else float("nan")
    result.update(
        {
            "per_clip_p1": (errors["p1"] * valid).sum(1) / weights,
            "per_clip_p2": (errors["p2"] * valid).sum(1) / weights,
            "errors": errors,
            "pred": pred.numpy(),
            "valid": valid,
        }
    )
    return result
