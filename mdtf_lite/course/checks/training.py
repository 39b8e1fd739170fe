"""Checker for the training-loop exercise (e11, goes with notebook 06).

Student signature:

    train_lifter(model, inputs, targets, steps, lr) -> list of `steps` floats
        model: a torch module mapping (N, 51) -> (N, 51); inputs (N, 17, 3) 2D + confidence, targets (N, 17, 3).
        Full-batch Adam (torch.optim.Adam(model.parameters(), lr=lr)); the loss is MPJPE, the mean over
        poses and joints of the Euclidean joint error; returns the loss of each step, taken before its update.

The reference loop here is written independently of ``mdtf_lite.train``; each call gets a freshly built
model from the same seed, so student and reference start from identical weights.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from mdtf_lite.course.checks import run_check

__all__ = ["check_train_lifter", "reference_train_lifter", "make_lifter"]


def make_lifter(seed: int, hidden: int = 64) -> nn.Module:
    """A per-frame MLP lifter (N, 51) -> (N, 51), float64, initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(51, hidden), nn.ReLU(), nn.Linear(hidden, 51)).double()


def _mpjpe(model, inputs, targets):
    pred = model(inputs.reshape(len(inputs), -1)).reshape(targets.shape)
    return (pred - targets).norm(dim=-1).mean()


def reference_train_lifter(model, inputs, targets, steps, lr) -> list[float]:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = _mpjpe(model, inputs, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


def check_train_lifter(fn: Callable) -> None:
    """Check ``fn(model, inputs, targets, steps, lr) -> losses`` against the reference loop, step by step."""
    cases = {}
    for name, (n, steps, lr, seed) in {
        "8 poses, 5 steps": (8, 5, 1e-2, 0),
        "1 pose, 3 steps": (1, 3, 1e-3, 1),
        "32 poses, 10 steps": (32, 10, 3e-3, 2),
    }.items():
        g = torch.Generator().manual_seed(100 + seed)
        cases[name] = (
            seed,
            torch.randn(n, 17, 3, generator=g, dtype=torch.float64),
            torch.randn(n, 17, 3, generator=g, dtype=torch.float64),
            steps,
            lr,
        )

    def no_zero_grad(seed, x, y, steps, lr):
        model = make_lifter(seed)
        opt, out = torch.optim.Adam(model.parameters(), lr=lr), []
        for _ in range(steps):
            loss = _mpjpe(model, x, y)
            loss.backward()
            opt.step()
            out.append(float(loss))
        return out

    def mse(seed, x, y, steps, lr):
        model = make_lifter(seed)
        opt, out = torch.optim.Adam(model.parameters(), lr=lr), []
        for _ in range(steps):
            pred = model(x.reshape(len(x), -1)).reshape(y.shape)
            loss = ((pred - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            out.append(float(loss))
        return out

    run_check(
        "train_lifter",
        lambda seed, x, y, steps, lr: [float(v) for v in fn(make_lifter(seed), x, y, steps, lr)],
        lambda seed, x, y, steps, lr: reference_train_lifter(make_lifter(seed), x, y, steps, lr),
        cases,
        rtol=1e-6,
        atol=1e-9,
        mistakes={
            "gradients accumulate: call opt.zero_grad() before loss.backward() every step": no_zero_grad,
            "mean squared error: the loss is MPJPE, the mean Euclidean joint error": mse,
        },
        hint="for each step: loss = MPJPE(model(inputs flattened to (N, 51)) reshaped to (N, 17, 3), targets); "
        "zero_grad, backward, step; record float(loss) (the loss before the update).",
    )
