"""The Human3.6M evaluation protocols: flip test-time augmentation, per-action averaging, P1/P2 tables.

Two protocols are in use (the published Human3.6M conventions):

* **VideoPose3D (camera space)**: targets are camera-frame joints in metres, root-relative; errors in mm
  are ``1000 *`` the metric; actions pooled by their first word ('Directions 1' -> 'Directions').
* **MotionBERT (2.5D)**: targets are normalised 2.5D poses; each frame is converted to mm with its
  ``2.5d_factor`` (after undoing the screen normalisation, ``* w / 2``); three S9 takes are excluded
  and the tail of a long video after its last full window is never scored (the clip maker drops it).

Both: average per action first, then over actions (so long actions do not dominate).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Mapping

import numpy as np
import torch

from ..data.geometry import flip_poses  # negate x, swap left/right (one definition, in the data layer)
from ..models.inputs import check_model_input, model_dtype
from ..skeleton import FLIP_PERMUTATION
from .metrics import mpjpe, mpjve, n_mpjpe, p_mpjpe

__all__ = [
    "flip_tta",
    "predict",
    "action_group",
    "per_action_mean",
    "MOTIONBERT_EXCLUDED_TAKES",
    "is_excluded_take",
    "pose_errors_mm",
    "summarise_errors",
]

#: S9 takes whose ground truth is known to be misaligned; the MotionBERT protocol skips them.
MOTIONBERT_EXCLUDED_TAKES = ("s_09_act_05_subact_02", "s_09_act_10_subact_02", "s_09_act_13_subact_01")


def flip_tta(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, output: str = "pose") -> torch.Tensor:
    """Flip test-time augmentation: the average of fn(x) and unflip(fn(flip(x))).

    Args:
        fn: maps inputs (B, T, J, 3) to per-joint outputs (B, T, J, F).
        x: (B, T, J, 3) normalised (x, y, confidence).
        output: ``"pose"`` when F = 3 coordinates (unflip negates x and swaps joints) or
            ``"joint_scores"`` when the outputs are mirror-invariant per-joint features such as the BAM's
            polar-angle logits (theta does not change when x is negated: unflip only swaps joints).
    Returns: (B, T, J, F).
    """
    y = fn(x)
    y_flipped = fn(flip_poses(x))
    if output == "pose":
        back = flip_poses(y_flipped)
    elif output == "joint_scores":
        back = y_flipped[..., list(FLIP_PERMUTATION), :]
    else:
        raise ValueError(f"flip_tta output must be 'pose' or 'joint_scores', got {output!r}")
    return (y + back) / 2


@torch.no_grad()
def predict(
    model: torch.nn.Module, inputs, batch_size: int = 64, flip: bool = True, output: str = "pose"
) -> torch.Tensor:
    """Run ``model`` in eval mode over ``inputs`` (N, T, J, 3) in batches; returns (N, T, J, F) float32.

    The inputs are converted to the model's dtype and validated once here (``check_model_input``: shape,
    window length, finite values, normalised coordinates, confidence in [0, 1]), not in every forward.
    """
    inputs = torch.as_tensor(inputs, dtype=model_dtype(model) or torch.float32)
    if inputs.ndim != 4 or inputs.shape[0] == 0:
        raise ValueError(f"predict: expected a non-empty batch of clips (N, T, 17, 3), got {tuple(inputs.shape)}")
    check_model_input(model, inputs, name="inputs")
    was_training = model.training
    device = next(iter(model.parameters()), next(iter(model.buffers()), inputs)).device  # parameter-free baselines too
    model.eval()
    try:
        outs = []
        for start in range(0, inputs.shape[0], batch_size):
            xb = inputs[start : start + batch_size].to(device)
            outs.append((flip_tta(model, xb, output) if flip else model(xb)).float().cpu())
        return torch.cat(outs)
    finally:
        model.train(was_training)


def action_group(name: str) -> str:
    """Pool H36M take names into the 15 actions: first word, trailing digits dropped ('Walking 1' -> 'Walking')."""
    word = str(name).strip().split(" ")[0].split("_")[0]
    return word.rstrip("0123456789") or word


def per_action_mean(values, actions, pool: bool = True) -> dict:
    """Mean of ``values`` (N,) per action of ``actions`` (N,), plus ``"average"`` = the mean over actions.

    Args:
        values: per-clip or per-frame errors (N,).
        actions: the action name of each entry (N,).
        pool: map take names to the 15 actions with :func:`action_group` first.
    Returns: ``{action: mean, ..., "average": mean of the action means}`` (actions sorted).
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    actions = np.asarray(actions).reshape(-1)
    if values.shape[0] != actions.shape[0]:
        raise ValueError(f"per_action_mean: {values.shape[0]} values but {actions.shape[0]} action labels")
    if values.shape[0] == 0:
        raise ValueError("per_action_mean: nothing to average (empty split?)")
    groups = defaultdict(list)
    for v, a in zip(values, actions):
        groups[action_group(a) if pool else str(a)].append(v)
    table = {a: float(np.mean(groups[a])) for a in sorted(groups)}
    table["average"] = float(np.mean(list(table.values())))
    return table


def is_excluded_take(video: str) -> bool:
    """True for the three S9 takes the MotionBERT protocol skips (matched on the source id prefix)."""
    return any(str(video).startswith(take) for take in MOTIONBERT_EXCLUDED_TAKES)


def pose_errors_mm(pred, target, mm_per_unit) -> dict:
    """Per-frame P1 / P2 / N-MPJPE and per-joint P1 in millimetres.

    Args:
        pred, target: (N, T, J, 3) root-relative, in the dataset's units.
        mm_per_unit: scalar or (N,) or (N, T): millimetres per unit (1000 for metres; the per-frame
            ``2.5d_factor * w / 2`` for normalised 2.5D poses).
    Returns: dict of float64 numpy arrays: ``p1``, ``p2``, ``n_p1`` (N, T), ``joint`` (N, T, J) and ``vel``
        (N, T - 1), the velocity error MPJVE in mm per frame between frames t and t + 1.
    """
    pred = torch.as_tensor(pred, dtype=torch.float64)
    target = torch.as_tensor(target, dtype=torch.float64)
    scale = torch.as_tensor(np.asarray(mm_per_unit, dtype=np.float64))
    while scale.ndim < 4:
        scale = scale.unsqueeze(-1)  # broadcast over (T,) J, 3
    pred, target = pred - pred[..., :1, :], target - target[..., :1, :]  # root zeroed, as every protocol does
    pred, target = pred * scale, target * scale
    joint = mpjpe(pred, target, reduction="joint")
    vel = mpjve(pred, target, reduction="pose").numpy() if pred.shape[-3] >= 2 else np.zeros(pred.shape[:-3] + (0,))
    return {
        "p1": joint.mean(-1).numpy(),
        "p2": p_mpjpe(pred, target, reduction="pose").numpy(),
        "n_p1": n_mpjpe(pred, target, reduction="pose").numpy(),
        "joint": joint.numpy(),
        "vel": vel,
    }


def summarise_errors(errors: Mapping[str, np.ndarray], actions, valid=None) -> dict:
    """Per-action P1/P2 tables from :func:`pose_errors_mm` output and the clips' actions (N,).

    Args:
        errors: ``p1``, ``p2`` (N, T) and ``joint`` (N, T, J) in mm.
        actions: (N,) action (take) names, pooled with :func:`action_group`.
        valid: optional (N, T) mask of scored frames (e.g. MPI-INF-3DHP); every frame by default.
    Frames are averaged per action (clips of one action pooled), then the actions are averaged.
    """
    n, t = errors["p1"].shape
    valid = np.ones((n, t), bool) if valid is None else np.asarray(valid, bool).reshape(n, t)
    if not valid.any():
        raise ValueError("summarise_errors: no valid frames to score")
    keep = valid.reshape(-1)
    frame_actions = np.repeat(np.asarray(actions).reshape(-1), t)[keep]
    p1 = per_action_mean(errors["p1"].reshape(-1)[keep], frame_actions)
    p2 = per_action_mean(errors["p2"].reshape(-1)[keep], frame_actions)
    joint = errors["joint"].reshape(n * t, -1)[keep]
    return {
        "p1_mm": p1["average"],
        "p2_mm": p2["average"],
        "per_action_p1": p1,
        "per_action_p2": p2,
        "per_joint_p1": joint.mean(axis=0).tolist(),
        "frames": int(keep.sum()),
    }
