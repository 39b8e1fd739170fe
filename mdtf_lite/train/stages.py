"""The two training stages as objects: what the one loop asks of a stage.

    stage = get_stage(cfg)              # BAMStage (stage 1) or MDTFStage (stage 2)
    model = stage.build(cfg)            # a fresh network (stage 2: with the frozen BAM attached)
    loss, terms = stage.loss(model, out, targets, cfg)     # out = model(x); terms: floats for the history
    metrics = stage.validate(model, ds, flip=True)         # {"val_accuracy", ...} or {"val_p1_mm", ...}
    description = stage.describe(model, cfg)               # JSON that rebuilds the architecture

Stage 1 trains the Bone Aware Module with its own loss (cross-entropy over theta classes, or the
continuous variant's sin/cos MSE) and validates the theta-class accuracy; stage 2 trains MDTF (or a
baseline) with ``pose_loss`` (MPJPE + 0.5 N-MPJPE + 20 velocity) and validates P1/P2 in mm.

Glossary (``mdtf_lite``): B batch, T frames, J = 17 joints.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..bones import theta_labels
from ..eval.evaluate import evaluate_model
from ..eval.protocols import predict
from ..models.config import BAMConfig, ModelConfig
from ..models.factory import build_bam, build_model
from .build import load_checkpoint, resolve_checkpoint_path
from .checkpoint import CheckpointError
from .config import TrainConfig
from .losses import pose_loss

__all__ = ["Stage", "BAMStage", "MDTFStage", "get_stage", "build_stage_model", "dataset_tensors"]


def dataset_tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
    """A dataset's ``inputs`` / ``targets`` as float32 tensors, both (N, T, 17, 3), checked finite."""
    x = torch.as_tensor(np.asarray(ds.inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.float32)
    if x.ndim != 4 or x.shape[2:] != (17, 3) or y.shape != x.shape:
        raise ValueError(f"dataset inputs {tuple(x.shape)} / targets {tuple(y.shape)} must both be (N, T, 17, 3)")
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError("dataset holds NaN/Inf inputs or targets; fix the data (missing joints must be "
                         "filled or their clips dropped) before training")
    return x, y


class Stage:
    """What the training loop needs from a stage: build, loss, validate, describe."""

    name: str = ""

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        """A freshly initialised network for ``cfg`` (weights from the current torch RNG)."""
        raise NotImplementedError

    def loss(self, model: torch.nn.Module, out: torch.Tensor, targets: torch.Tensor,
             cfg: TrainConfig) -> tuple[torch.Tensor, dict]:
        """(scalar loss, {term name: float}) of ``out = model(x)`` against targets (B, T, 17, 3)."""
        raise NotImplementedError

    def validate(self, model: torch.nn.Module, ds, flip: bool = True, batch_size: int = 64) -> dict:
        """Validation metrics of ``model`` on a dataset with ``inputs`` / ``targets`` (N, T, 17, 3)."""
        raise NotImplementedError

    def describe(self, model: torch.nn.Module, cfg: TrainConfig) -> dict:
        """Plain JSON from which ``train.build.model_from_description`` rebuilds the architecture."""
        raise NotImplementedError


class BAMStage(Stage):
    """Stage 1: the Bone Aware Module (theta classes, or the continuous variant)."""

    name = "bam"

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        model_cfg = cfg.model_config
        assert isinstance(model_cfg, BAMConfig)
        return build_bam(model_cfg)

    def loss(self, model, out, targets, cfg):
        return model.loss(out, targets), {}

    def validate(self, model, ds, flip: bool = True, batch_size: int = 64) -> dict:
        x, y = dataset_tensors(ds)
        out = predict(model, x, batch_size, flip=flip, output="joint_scores")
        classes = model.classes_from_output(out)
        labels = theta_labels(y, model.num_bins)
        with torch.no_grad():
            loss = float(model.loss(out, y))
        return {"val_loss": loss, "val_accuracy": float((classes[..., 1:] == labels[..., 1:]).float().mean())}

    def describe(self, model, cfg):
        return {"stage": "bam", "bam": dict(cfg.model)}


class MDTFStage(Stage):
    """Stage 2: MDTF or a baseline, the BAM of ``cfg.bam_checkpoint`` attached frozen when there is a bone stream.

    Args:
        loss_fn: ``(pred, target, weights) -> (loss, terms)``; default ``train.losses.pose_loss``.
    """

    name = "mdtf"

    def __init__(self, loss_fn: Callable | None = None):
        self.loss_fn = loss_fn or pose_loss
        self.bam_description: dict | None = None     # the attached BAM's config, set by build

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        model_cfg = cfg.model_config
        assert isinstance(model_cfg, ModelConfig)
        model = build_model(model_cfg)
        if model.cfg.bone_stream:
            if not cfg.bam_checkpoint:
                raise ValueError("this stage-2 model has a bone stream, so it needs a trained BAM: set "
                                 "bam_checkpoint to a stage-1 checkpoint (train one with a 'stage: bam' config), "
                                 "or use model.ablation=no_bone")
            bam, bam_cfg = load_checkpoint(resolve_checkpoint_path(cfg.bam_checkpoint))
            if bam_cfg.stage != "bam":
                raise CheckpointError(f"bam_checkpoint={cfg.bam_checkpoint!r} holds a stage-{bam_cfg.stage!r} "
                                      "model, not a Bone Aware Module")
            model.attach_bam(bam)
            self.bam_description = dict(bam_cfg.model)
        return model

    def loss(self, model, out, targets, cfg):
        return self.loss_fn(out, targets, cfg.loss_weights)

    def validate(self, model, ds, flip: bool = True, batch_size: int = 64) -> dict:
        dataset_tensors(ds)                                   # same checks as stage 1
        table = evaluate_model(model, ds, flip=flip, batch_size=batch_size)
        return {"val_p1_mm": table["p1_mm"], "val_p2_mm": table["p2_mm"]}

    def describe(self, model, cfg):
        return {"stage": "mdtf", "model": model.cfg.to_dict(), "bam": self.bam_description}


def get_stage(cfg_or_name, loss_fn: Callable | None = None) -> Stage:
    """The stage of a ``TrainConfig`` (or of the name "bam" / "mdtf")."""
    name = cfg_or_name if isinstance(cfg_or_name, str) else cfg_or_name.stage
    if name == "bam":
        return BAMStage()
    if name == "mdtf":
        return MDTFStage(loss_fn)
    raise ValueError(f"unknown stage {name!r}; choose 'bam' (stage 1) or 'mdtf' (stage 2)")


def build_stage_model(cfg: TrainConfig) -> tuple[torch.nn.Module, dict]:
    """The network trained by ``cfg`` and its description: ``(stage.build(cfg), stage.describe(...))``."""
    stage = get_stage(cfg)
    model = stage.build(cfg)
    return model, stage.describe(model, cfg)
