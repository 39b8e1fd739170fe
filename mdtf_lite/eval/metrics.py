"""Pose-error metrics every lifting paper reports: MPJPE (P1), P-MPJPE (P2), N-MPJPE, MPJVE, accel.

All functions take ``pred`` and ``target`` of the same shape (..., J, 3) -- typically (N, T, J, 3)
or (T, J, 3) -- as torch tensors or numpy arrays, and return the same kind (tensor in, tensor out;
numpy in, numpy out / Python float).  Units are whatever the inputs use (multiply by 1000 for mm).

``reduction`` chooses the shape of the answer:

    "mean"   one number: the mean over every joint of every pose
    "pose"   (...,)     mean over the J joints of each pose (per frame), for per-action averaging
    "joint"  (..., J)   the per-joint errors, for per-joint tables and PCK

The torch versions are differentiable, so the stage-2 loss (``mdtf_lite.train.losses``) is built from
these same functions: the number you train on is the number you report.
"""

from __future__ import annotations

import numpy as np
import torch

from ..skeleton import NUM_JOINTS

__all__ = ["mpjpe", "p_mpjpe", "n_mpjpe", "mpjve", "acceleration_error", "procrustes_align", "REDUCTIONS"]

REDUCTIONS = ("mean", "pose", "joint")


def _as_tensors(pred, target, name: str, min_frames: int = 0):
    """Validate shapes and convert to torch; returns (pred, target, was_numpy)."""
    was_numpy = not isinstance(pred, torch.Tensor)
    p = torch.as_tensor(np.asarray(pred) if was_numpy else pred)
    t = torch.as_tensor(np.asarray(target) if not isinstance(target, torch.Tensor) else target)
    if p.shape != t.shape:
        raise ValueError(f"{name}: pred has shape {tuple(p.shape)} but target has {tuple(t.shape)}; they must match")
    if p.ndim < 2 or p.shape[-1] != 3 or p.shape[-2] != NUM_JOINTS:
        raise ValueError(f"{name}: expected poses of shape (..., {NUM_JOINTS}, 3), got {tuple(p.shape)}")
    if min_frames and (p.ndim < 3 or p.shape[-3] < min_frames):
        raise ValueError(f"{name}: needs a frame axis (..., T, J, 3) with T >= {min_frames}, got {tuple(p.shape)}")
    if not p.is_floating_point():
        p = p.double()
    t = t.to(p.dtype)
    return p, t, was_numpy


def _reduce(per_joint: torch.Tensor, reduction: str, was_numpy: bool):
    """per_joint (..., J) -> the requested reduction, in the caller's array type."""
    if reduction == "mean":
        out = per_joint.mean()
    elif reduction == "pose":
        out = per_joint.mean(dim=-1)
    elif reduction == "joint":
        out = per_joint
    else:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if was_numpy:
        out = out.detach().cpu().numpy()
        return float(out) if out.ndim == 0 else out
    return out


def mpjpe(pred, target, reduction: str = "mean"):
    """Mean per-joint position error (Protocol 1): mean Euclidean distance ||pred_j - target_j||.

    Args: pred, target (..., J, 3), root-relative.  Returns see module docstring.
    """
    p, t, was_numpy = _as_tensors(pred, target, "mpjpe")
    return _reduce(torch.linalg.norm(p - t, dim=-1), reduction, was_numpy)


def n_mpjpe(pred, target, reduction: str = "mean"):
    """MPJPE after the optimal per-pose scale s = <pred, target> / <pred, pred> (no rotation).

    Args: pred, target (..., J, 3).  The scale is computed per pose, over its J joints.
    """
    p, t, was_numpy = _as_tensors(pred, target, "n_mpjpe")
    num = (p * t).sum(dim=(-1, -2), keepdim=True)
    den = (p * p).sum(dim=(-1, -2), keepdim=True).clamp_min(torch.finfo(p.dtype).tiny)
    return _reduce(torch.linalg.norm(num / den * p - t, dim=-1), reduction, was_numpy)


def procrustes_align(pred, target):
    """Best similarity transform of each pose of ``pred`` onto ``target`` (reflection excluded).

    Solves min_{s, R, c} ||s * pred @ R + c - target||^2 per pose with R a proper rotation
    (det R = +1): centre both, SVD of the 3x3 cross-covariance pred_c^T target_c = U S V^T,
    R = U diag(1, 1, d) V^T with d = sign(det(U V^T)), s = trace(diag(1, 1, d) S) / ||pred_c||^2.
    Without d a mirrored pose could be "aligned" by a reflection, hiding a left/right error.

    Args: pred, target (..., J, 3).  Returns the aligned pred (..., J, 3) (float64 for accuracy).
    """
    p, t, was_numpy = _as_tensors(pred, target, "procrustes_align")
    dtype = p.dtype
    p, t = p.double(), t.double()
    mu_p, mu_t = p.mean(dim=-2, keepdim=True), t.mean(dim=-2, keepdim=True)
    a, b = p - mu_p, t - mu_t
    u, s, vh = torch.linalg.svd(a.transpose(-1, -2) @ b)  # (..., 3, 3), (..., 3), (..., 3, 3)
    d = torch.sign(torch.linalg.det(u @ vh))
    d = torch.where(d == 0, torch.ones_like(d), d)  # degenerate (planar) poses: no flip
    flip = torch.ones_like(s)
    flip[..., -1] = d
    rot = u @ (flip.unsqueeze(-1) * vh)  # U diag(1,1,d) V^T, a proper rotation
    norm_a = (a * a).sum(dim=(-1, -2)).clamp_min(torch.finfo(a.dtype).tiny)
    scale = (s * flip).sum(dim=-1) / norm_a  # (...,)
    aligned = scale[..., None, None] * (a @ rot) + mu_t
    aligned = aligned.to(dtype)
    return aligned.detach().cpu().numpy() if was_numpy else aligned


def p_mpjpe(pred, target, reduction: str = "mean"):
    """Protocol 2: MPJPE after a per-pose similarity Procrustes alignment (scale, rotation, shift).

    Args: pred, target (..., J, 3).  Reflection is not allowed (see :func:`procrustes_align`).
    Raises ``ValueError`` for a target pose whose joints all sit at one point (e.g. all zeros): any pose
    scales onto it with s = 0, so the error would read 0.0 for every prediction.
    """
    p, t, was_numpy = _as_tensors(pred, target, "p_mpjpe")
    spread = (t - t.mean(dim=-2, keepdim=True)).abs().amax(dim=(-1, -2))  # (...,)
    degenerate = ~(spread > 1e-9)  # NaN counts as degenerate too
    if bool(degenerate.any()):
        raise ValueError(
            f"p_mpjpe: {int(degenerate.sum())} of {degenerate.numel()} target poses have all joints at one "
            "point (e.g. all zeros) or are not finite; Procrustes alignment would scale any prediction "
            "onto them with error 0. Drop those poses or check that the target holds real 3D joints"
        )
    aligned = procrustes_align(p, t)
    return _reduce(torch.linalg.norm(aligned - t, dim=-1), reduction, was_numpy)


def mpjve(pred, target, reduction: str = "mean"):
    """Mean per-joint velocity error: MPJPE between first differences along the frame axis.

    Args: pred, target (..., T, J, 3) with T >= 2.  Per-pose results have T - 1 entries.
    Units per frame (multiply by the frame rate for units per second).
    """
    p, t, was_numpy = _as_tensors(pred, target, "mpjve", min_frames=2)
    dv = (p[..., 1:, :, :] - p[..., :-1, :, :]) - (t[..., 1:, :, :] - t[..., :-1, :, :])
    return _reduce(torch.linalg.norm(dv, dim=-1), reduction, was_numpy)


def acceleration_error(pred, target, reduction: str = "mean"):
    """Mean per-joint acceleration error: MPJPE between second differences along the frame axis.

    Args: pred, target (..., T, J, 3) with T >= 3.  Per-pose results have T - 2 entries.
    """
    p, t, was_numpy = _as_tensors(pred, target, "acceleration_error", min_frames=3)

    def accel(x):
        return x[..., 2:, :, :] - 2 * x[..., 1:-1, :, :] + x[..., :-2, :, :]

    return _reduce(torch.linalg.norm(accel(p) - accel(t), dim=-1), reduction, was_numpy)
