"""Trivial baselines every reported number stands beside, as "models" for :func:`evaluate_model`.

* :class:`MeanPose` -- the training set's mean root-relative pose, whatever the input: what a lifter
  scores when it has learnt the average person and nothing about the clip in front of it.
* :class:`FlatPose` -- the 2D keypoints themselves, root-relative, on a plane (depth offset 0): a
  lifter that learnt no depth at all.  Its scale is arbitrary, so only P2 (which fits a scale) is
  meaningful for it; compare P1 against :class:`MeanPose` and a learned baseline instead.

Both map x (B, T, 17, 3) -> (B, T, 17, 3) like the real models, so the same protocol (flip TTA, per
action means, Procrustes) scores them.  :func:`baseline_scores` evaluates both on a dataset.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .evaluate import evaluate_model

__all__ = ["MeanPose", "FlatPose", "baseline_scores"]


class MeanPose(nn.Module):
    """Predicts one fixed pose (17, 3) for every frame; build it from training targets (N, T, 17, 3)."""

    def __init__(self, train_targets):
        super().__init__()
        y = torch.as_tensor(np.asarray(train_targets), dtype=torch.float32)
        if y.dim() < 2 or y.shape[-2:] != (17, 3):
            raise ValueError(f"MeanPose: training targets must be (..., 17, 3), got {tuple(y.shape)}")
        self.register_buffer("pose", y.reshape(-1, 17, 3).mean(0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pose.to(x.dtype).expand(*x.shape[:2], 17, 3).clone()


class FlatPose(nn.Module):
    """x (B, T, 17, 3) -> (x_j - x_root, y_j - y_root, 0) per joint: the image itself, no depth."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = torch.zeros(*x.shape[:3], 3, dtype=x.dtype)
        flat[..., :2] = x[..., :2] - x[..., :1, :2]
        return flat


def baseline_scores(train_targets, ds) -> dict:
    """{"mean_pose": {"p1_mm", "p2_mm"}, "flat": {"p2_mm"}} on ``ds`` with the standard protocol."""
    mean = evaluate_model(MeanPose(train_targets), ds, flip=False)
    flat = evaluate_model(FlatPose(), ds, flip=False)
    return {"mean_pose": {"p1_mm": mean["p1_mm"], "p2_mm": mean["p2_mm"]}, "flat": {"p2_mm": flat["p2_mm"]}}
