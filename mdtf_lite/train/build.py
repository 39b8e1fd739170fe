"""Build the network of a stage from its config, describe it in JSON, and rebuild it from a checkpoint.

    model, description = build_stage_model(cfg)       # description: plain JSON, stored in config.json
    model, cfg = load_checkpoint(path)                 # weights-only: safetensors, never pickle
"""

from __future__ import annotations

from pathlib import Path

import torch

from .. import paths
from ..models.config import ModelConfig
from ..models.factory import build_model
from .checkpoint import CheckpointError, read_checkpoint
from .config import TrainConfig

__all__ = ["build_stage_model", "model_from_description", "load_checkpoint", "resolve_checkpoint_path"]

BAM_VARIANTS = ("classes", "continuous")


def _build_bam(kwargs: dict) -> torch.nn.Module:
    from ..models.bam import BoneAwareModule, ContinuousBAM

    kwargs = dict(kwargs)
    variant = kwargs.pop("variant", "classes")
    if variant not in BAM_VARIANTS:
        raise ValueError(f"BAM model.variant={variant!r} must be one of {BAM_VARIANTS}")
    cls = ContinuousBAM if variant == "continuous" else BoneAwareModule
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"BAM model config {kwargs} is invalid ({exc}); valid keys: widths, num_bins, "
                         "in_channels, d_state, d_conv, mlp_ratio, drop_path, scan_backend, dt_min, dt_max, root_relative_input, "
                         "variant") from exc


def resolve_checkpoint_path(ref) -> Path:
    """A checkpoint reference -> folder: an existing path, else a name under ``<run_dir>/checkpoints``."""
    path = Path(ref).expanduser()
    if path.exists() or path.is_absolute():
        return path
    return paths.run_dir() / "checkpoints" / str(ref)


def build_stage_model(cfg: TrainConfig) -> tuple[torch.nn.Module, dict]:
    """The network trained by ``cfg`` (weights freshly initialised from the current torch RNG).

    Stage 2 with a bone stream attaches the frozen BAM loaded from ``cfg.bam_checkpoint``.
    Returns: (model, description) where description rebuilds the same architecture.
    """
    if cfg.stage == "bam":
        return _build_bam(cfg.model), {"stage": "bam", "bam": dict(cfg.model)}
    model = build_model(dict(cfg.model))
    description = {"stage": "mdtf", "model": model.cfg.to_dict(), "bam": None}
    if model.cfg.bone_stream:
        if not cfg.bam_checkpoint:
            raise ValueError("this stage-2 model has a bone stream, so it needs a trained BAM: set "
                             "bam_checkpoint to a stage-1 checkpoint (train one with a 'stage: bam' config), "
                             "or use model.ablation=no_bone")
        bam, bam_cfg = load_checkpoint(resolve_checkpoint_path(cfg.bam_checkpoint))
        if bam_cfg.stage != "bam":
            raise CheckpointError(f"bam_checkpoint={cfg.bam_checkpoint!r} holds a stage-{bam_cfg.stage!r} model, "
                                  "not a Bone Aware Module")
        model.attach_bam(bam)
        description["bam"] = dict(bam_cfg.model)
    return model, description


def model_from_description(description: dict) -> torch.nn.Module:
    """Rebuild an untrained network with the architecture recorded in a checkpoint."""
    if description.get("stage") == "bam":
        return _build_bam(description["bam"])
    d = dict(description["model"])
    d["ablations"] = tuple(d.get("ablations", ()))
    model = build_model(ModelConfig(**d))
    if description.get("bam") is not None:
        model.attach_bam(_build_bam(description["bam"]))
    return model


def load_checkpoint(path) -> tuple[torch.nn.Module, TrainConfig]:
    """Load a trained model for inference: ``(model in eval mode, its TrainConfig)``.

    Weights-only: reads safetensors and JSON (verified against the checkpoint's SHA-256 manifest);
    nothing is unpickled.  Raises ``CheckpointError`` for a missing, corrupted or mismatched checkpoint.
    """
    ckpt = read_checkpoint(path, with_state=False)
    meta = ckpt["config"]
    try:
        cfg = TrainConfig(**meta["train_config"])
        model = model_from_description(meta["model"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {ckpt['dir']} has an unreadable config.json ({exc})") from exc
    missing, unexpected = _load_weights(model, ckpt["model_state"], ckpt["dir"])
    return model.eval(), cfg


def _load_weights(model: torch.nn.Module, state: dict, where) -> tuple[list, list]:
    if hasattr(model, "upgrade_state_dict"):          # checkpoints written before the layers were named
        state = model.upgrade_state_dict(state)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad_shapes = [k for k in set(own) & set(state) if own[k].shape != state[k].shape]
    if missing or unexpected or bad_shapes:
        raise CheckpointError(
            f"weights in {where} do not fit the model described by its config: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, shape mismatches {sorted(bad_shapes)[:5]}")
    model.load_state_dict(state, strict=True)
    return missing, unexpected
