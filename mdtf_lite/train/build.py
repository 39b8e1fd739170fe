"""Rebuild a trained network from a checkpoint (its JSON description + safetensors weights).

    model, cfg = load_checkpoint(path)                 # weights-only: safetensors, never pickle

(Building a fresh network for a run is the stage's job: ``train/stages.py``, ``build_stage_model``.)
"""

from __future__ import annotations

from pathlib import Path

import torch

from .. import paths
from ..models.config import ModelConfig
from ..models.factory import build_bam, build_model
from .checkpoint import CheckpointError, read_checkpoint
from .config import TrainConfig

__all__ = ["model_from_description", "load_checkpoint", "resolve_checkpoint_path"]

def resolve_checkpoint_path(ref) -> Path:
    """A checkpoint reference -> folder: an existing path, else a name under ``<run_dir>/checkpoints``."""
    path = Path(ref).expanduser()
    if path.exists() or path.is_absolute():
        return path
    return paths.run_dir() / "checkpoints" / str(ref)


def model_from_description(description: dict) -> torch.nn.Module:
    """Rebuild an untrained network with the architecture recorded in a checkpoint."""
    if description.get("stage") == "bam":
        return build_bam(description["bam"])
    d = dict(description["model"])
    d["ablations"] = tuple(d.get("ablations", ()))
    model = build_model(ModelConfig(**d))
    if description.get("bam") is not None:
        model.attach_bam(build_bam(description["bam"]))
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
