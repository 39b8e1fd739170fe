"""Trivial baselines every reported number stands beside, as "models" for :func:`evaluate_model`.

* :class:`MeanPose` -- the training set's mean root-relative pose, whatever the input: what a lifter
  scores when it has learnt the average person and nothing about the clip in front of it.
* :class:`FlatPose` -- the 2D keypoints themselves, root-relative, on a plane (depth offset 0): a
  lifter that learnt no depth at all.  Its scale is arbitrary, so only P2 (which fits a scale) is
  meaningful for it; compare P1 against :class:`MeanPose` and a learned baseline instead.

* :class:`TemporallySmoothed` -- any per-frame model with its output smoothed over time (a Gaussian
  along T): what a temporal model gains over a per-frame one when it learns nothing but smoothness.

All map x (B, T, 17, 3) -> (B, T, 17, 3) like the real models, so the same protocol (flip TTA, per
action means, Procrustes) scores them.  :func:`baseline_scores` evaluates the first two on a dataset.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .evaluate import evaluate_model

__all__ = ["MeanPose", "FlatPose", "TemporallySmoothed", "gaussian_smooth", "baseline_scores"]


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


def gaussian_smooth(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """y (B, T, ...) -> the same shape, each series along T convolved with a normalised Gaussian of
    ``sigma`` frames (truncated at 3 sigma; the clip's first and last frames repeat past its ends)."""
    if not sigma > 0:
        raise ValueError(f"gaussian_smooth: sigma must be > 0 frames, got {sigma}")
    radius = int(np.ceil(3 * sigma))
    k = torch.arange(-radius, radius + 1, dtype=y.dtype)
    w = torch.exp(-(k**2) / (2 * sigma**2))
    w = w / w.sum()
    idx = (torch.arange(y.shape[1])[:, None] + k.long()[None]).clamp(0, y.shape[1] - 1)  # (T, 2r+1)
    return torch.einsum("btk...,k->bt...", y[:, idx], w)


class TemporallySmoothed(nn.Module):
    """``model``'s output (B, T, 17, 3) smoothed along T by :func:`gaussian_smooth` (``sigma`` frames)."""

    def __init__(self, model: nn.Module, sigma: float = 3.0):
        super().__init__()
        if not sigma > 0:
            raise ValueError(f"TemporallySmoothed: sigma must be > 0 frames, got {sigma}")
        self.model, self.sigma = model, float(sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gaussian_smooth(self.model(x), self.sigma)


def baseline_scores(train_targets, ds) -> dict:
    """{"mean_pose": {"p1_mm", "p2_mm"}, "flat": {"p2_mm"}} on ``ds`` with the standard protocol."""
    mean = evaluate_model(MeanPose(train_targets), ds, flip=False)
    flat = evaluate_model(FlatPose(), ds, flip=False)
    return {"mean_pose": {"p1_mm": mean["p1_mm"], "p2_mm": mean["p2_mm"]}, "flat": {"p2_mm": flat["p2_mm"]}}
