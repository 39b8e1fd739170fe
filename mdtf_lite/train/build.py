"""Rebuild a trained network from a checkpoint: its resolved config + safetensors weights.

    model, cfg = load_checkpoint(path)                 # weights-only: safetensors, never pickle

(Building a fresh network for a run is the stage's job: ``train/stages.py``.)
"""

from __future__ import annotations

import torch

from ..models.config import BAMConfig, bam_config_from_dict
from ..models.factory import build_bam, build_model
from .checkpoint import CheckpointError, read_checkpoint
from .config import ConfigError, TrainConfig

__all__ = ["network", "load_checkpoint", "load_weights"]


def network(cfg: TrainConfig, bam: BAMConfig | None = None) -> torch.nn.Module:
    """The untrained network of ``cfg``: the BAM (stage 1), or the stage-2 model with a BAM of config
    ``bam`` attached (frozen) when given."""
    if cfg.stage == "bam":
        return build_bam(cfg.model)
    model = build_model(cfg.model)
    if bam is not None:
        model.attach_bam(build_bam(bam))
    return model


def load_checkpoint(path) -> tuple[torch.nn.Module, TrainConfig]:
    """Load a trained model for inference: ``(model in eval mode, its TrainConfig)``.

    Weights-only: reads safetensors and JSON (verified against the checkpoint's SHA-256 manifest);
    nothing is unpickled.  Raises ``CheckpointError`` for a missing, corrupted or mismatched checkpoint.
    """
    ckpt = read_checkpoint(path, with_state=False)
    meta = ckpt["config"]
    try:
        cfg = TrainConfig.from_dict(meta["train_config"])
        bam = bam_config_from_dict(meta["bam"]) if meta.get("bam") is not None else None
        model = network(cfg, bam)
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise CheckpointError(f"checkpoint {ckpt['dir']} has an unreadable config.json ({exc})") from exc
    load_weights(model, ckpt["model_state"], ckpt["dir"])
    return model.eval(), cfg


def load_weights(model: torch.nn.Module, state: dict, where) -> None:
    """``model.load_state_dict(state)`` after checking that every name and shape fits.

    Raises ``CheckpointError`` naming the checkpoint ``where`` and the first mismatches.  Weight names of
    older versions are renamed by the model class's own ``upgrade_state_dict`` (MDTF has one; the config
    side of an old checkpoint is ``checkpoint.upgrade_config``'s).
    """
    if hasattr(model, "upgrade_state_dict"):
        state = model.upgrade_state_dict(state)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad_shapes = [k for k in set(own) & set(state) if own[k].shape != state[k].shape]
    if missing or unexpected or bad_shapes:
        raise CheckpointError(
            f"weights in {where} do not fit the model described by its config: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, shape mismatches {sorted(bad_shapes)[:5]}"
        )
    model.load_state_dict(state, strict=True)
