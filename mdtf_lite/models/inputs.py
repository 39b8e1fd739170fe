"""Input checks of the models, run at the API boundaries: clear ``ValueError``s before any heavy compute.

The models' ``forward`` does not validate x (a NaN scan is a host sync on every training step); the
entry points do, once per call: ``eval.predict`` (and so ``lift``), and the training loop before its
first step.  ``check_model_input(model, x)`` is the one call they make.

Shapes (glossary in ``mdtf_lite``): x (B, T, J, 3) with J = 17; bone tokens (B, T, J, 3).
"""

from __future__ import annotations

import torch

from mdtf_lite.skeleton import NUM_JOINTS

__all__ = [
    "check_model_input",
    "check_pose_input",
    "check_bone_tokens",
    "model_dtype",
    "root_relative_2d",
    "MAX_ABS_COORD",
]

#: normalised screen coordinates are about [-1, 1]; beyond this the input is not normalised (pixels?) and
#: the first Linear / LayerNorm overflow to NaN for |x| >~ 1e19 in float32.
MAX_ABS_COORD = 1e3


def root_relative_2d(x: torch.Tensor) -> torch.Tensor:
    """x (B, T, 17, 3) -> the same with every non-root joint's (x, y) taken relative to the root's.

    The root token keeps its absolute screen position and every confidence is unchanged, so nothing
    is lost; what changes is that a joint's own token already holds its offset from the pelvis, which
    the 3D target is relative to.  A per-joint embedding otherwise has to learn that subtraction from
    absolute positions first -- the slowest part of training a lifter from scratch on a small budget.
    """
    rel = x.clone()
    rel[..., 1:, :2] = x[..., 1:, :2] - x[..., :1, :2]
    return rel


def _first_bad(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(torch.nonzero(~torch.isfinite(t))[0].tolist())


def model_dtype(model: torch.nn.Module) -> torch.dtype | None:
    """The dtype of a model's floating-point parameters (None for a model without any)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)


def check_model_input(model: torch.nn.Module, x, name: str = "x") -> None:
    """Validate x (B, T, 17, 3) for ``model`` (any mdtf_lite model: MDTF, a baseline, a BAM).

    The dtype must be the model's parameters' dtype; T must fit a temporal position embedding
    (``model.temporal_pos``, (1, n_frames, C)) when the model has one; then :func:`check_pose_input`.
    """
    pos = getattr(model, "temporal_pos", None)
    check_pose_input(x, n_frames=None if pos is None else pos.shape[1], name=name, dtype=model_dtype(model))


def check_pose_input(x, n_frames: int | None, name: str = "x", dtype: torch.dtype | None = None) -> None:
    """Validate a model input x (B, T, 17, 3) = normalised (x, y) + confidence.

    ``dtype``: the dtype of the model's weights (x must match it: torch does not mix dtypes in a
    Linear; ``model_dtype(model)``); ``None`` skips the check.  Normalised x, y must lie within
    +-``MAX_ABS_COORD`` and the confidence in [0, 1].

    ``n_frames``: the longest clip the model takes (None: any).  Refuses T > n_frames: the temporal
    position embedding is a learned table with one row per frame position of the training window, and stretching it (interpolation) silently changes what
    each row means -- the model would see motion at a different apparent frame rate.  Longer clips
    are cut into windows of ``n_frames`` (or the model is rebuilt with a larger ``n_frames`` and
    trained).  Shorter clips use the first T rows, as MotionBERT does.
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (B, T, {NUM_JOINTS}, 3), got {type(x).__name__}")
    if x.dim() != 4 or x.shape[2] != NUM_JOINTS or x.shape[3] != 3:
        hint = ""
        if x.dim() == 3 and x.shape[-2:] == (NUM_JOINTS, 3):
            hint = " (a single clip? add the batch axis: x[None])"
        elif x.dim() == 4 and x.shape[3] == 2:
            hint = " (2D only? append the detector confidence, or ones, as channel 3)"
        elif x.dim() == 4 and x.shape[2] != NUM_JOINTS:
            hint = f" ({x.shape[2]} joints: convert to the Human3.6M-17 layout of mdtf_lite.skeleton first)"
        raise ValueError(
            f"{name} has shape {tuple(x.shape)}, expected (B, T, {NUM_JOINTS}, 3) = normalised x, y "
            f"and confidence per joint{hint}"
        )
    if not x.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {x.dtype} (use x.float())")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(
            f"{name} has dtype {x.dtype} but the model's parameters are {dtype}: convert the input, "
            f"{name} = {name}.to({dtype}) (or the model, model.to({x.dtype}))"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} has an empty batch or time axis: shape {tuple(x.shape)}")
    if n_frames is not None and x.shape[1] > n_frames:
        raise ValueError(
            f"{name} has T = {x.shape[1]} frames but this model's temporal position embedding covers "
            f"n_frames = {n_frames}: cut the clip into windows of at most {n_frames} frames, or build the "
            f"model with n_frames >= {x.shape[1]} (the embedding is learned per position, so it is not "
            "interpolated -- that would change the apparent frame rate)"
        )
    if not torch.isfinite(x).all():
        raise ValueError(
            f"{name} contains NaN/Inf (first at index {_first_bad(x)} of (B, T, J, channel)): "
            "fill missing joints (e.g. interpolate over time) and give them confidence 0"
        )
    big = x[..., :2].abs() > MAX_ABS_COORD
    if big.any():
        where = tuple(torch.nonzero(big)[0].tolist())
        raise ValueError(
            f"{name} has a coordinate {float(x[..., :2][where]):.3g} at index {where} of (B, T, J, xy), "
            f"beyond +-{MAX_ABS_COORD:g}: the model expects screen-normalised x, y (about [-1, 1]), "
            "not pixels; normalise with mdtf_lite.data.normalise_screen (or mdtf_lite.lift.to_model_inputs)"
        )
    conf = x[..., 2]
    outside = (conf < 0) | (conf > 1)
    if outside.any():
        where = tuple(torch.nonzero(outside)[0].tolist())
        raise ValueError(
            f"{name} has confidence {float(conf[where]):.3g} at index {where} of (B, T, J), outside "
            "[0, 1]: channel 3 is the detector score (1 for ground-truth 2D, 0 for a missing joint)"
        )


def check_bone_tokens(tokens, x: torch.Tensor) -> None:
    """Bone tokens (B, T, 17, 3) = (phi/pi, theta_hat/pi, l_hat) must match x's shape and be floating point.

    Cheap (no pass over the values, no host sync): ``MDTF.forward`` runs it when tokens are given.
    """
    if not isinstance(tokens, torch.Tensor):
        raise ValueError(f"bone_tokens must be a torch.Tensor, got {type(tokens).__name__}")
    if tokens.shape != x.shape:
        raise ValueError(
            f"bone_tokens has shape {tuple(tokens.shape)}, expected {tuple(x.shape)} (x's shape): "
            "one (phi/pi, theta_hat/pi, l_hat) token per joint and frame, from mdtf_lite.bones.bone_tokens"
        )
    if not tokens.is_floating_point():
        raise ValueError(f"bone_tokens must be floating point, got {tokens.dtype}")
