"""Training losses of both stages, built from the evaluation metrics (what you train on is what you report).

Stage 2 (MDTF):  L = w_mpjpe * MPJPE + w_n * N-MPJPE + w_vel * MPJVE, official weights 1, 0.5, 20.
Stage 1 (BAM):   the model's own ``loss`` (cross-entropy over theta classes, root token excluded).
"""

from __future__ import annotations

import torch

from ..eval.metrics import mpjpe, mpjve, n_mpjpe

__all__ = ["pose_loss", "OFFICIAL_WEIGHTS"]

OFFICIAL_WEIGHTS = {"mpjpe": 1.0, "n_mpjpe": 0.5, "velocity": 20.0}


def pose_loss(pred: torch.Tensor, target: torch.Tensor, weights: dict | None = None) -> tuple[torch.Tensor, dict]:
    """Stage-2 loss.  pred, target (B, T, 17, 3) root-relative.

    Returns ``(scalar loss, {term: detached 0-d tensor})``.  The terms stay tensors (on the loss's device):
    turning them into Python floats here would wait for the device at every step; the loop sums them as
    tensors and converts once, when it writes the epoch's record.  The velocity term needs T >= 2; with
    T = 1 it is skipped (single-frame models).
    """
    w = {**OFFICIAL_WEIGHTS, **(weights or {})}
    terms = {"mpjpe": mpjpe(pred, target), "n_mpjpe": n_mpjpe(pred, target)}
    if pred.shape[1] >= 2:
        terms["velocity"] = mpjve(pred, target)
    total = sum(w[k] * v for k, v in terms.items())
    return total, {k: v.detach() for k, v in terms.items()}
