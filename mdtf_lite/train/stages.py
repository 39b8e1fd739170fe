"""The two training stages as objects: what the one loop asks of a stage.

    stage = get_stage(cfg)                  # BAMStage (stage 1) or MDTFStage (stage 2)
    model = stage.build(cfg)                # a fresh network (stage 2: with the frozen BAM attached)
    loss, terms = stage.loss(model, out, targets, cfg)     # out = model(x); terms: detached tensors
    metrics = stage.validate(model, ds, flip=True)         # {"val_accuracy", ...} or {"val_p1_mm", ...}
    stage.bam_config                        # the attached BAM's config (stage 2), saved in the checkpoint

Stage 1 trains the Bone Aware Module with its own loss (cross-entropy over theta classes, or the
continuous variant's sin/cos MSE) and validates the theta-class accuracy; stage 2 trains MDTF (or a
baseline) with ``pose_loss`` (MPJPE + 0.5 N-MPJPE + 20 velocity) and validates P1/P2 in mm.

Glossary (``mdtf_lite``): B batch, T frames, J = 17 joints.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..bones import theta_labels
from ..eval.evaluate import evaluate_model
from ..eval.groups import by_group
from ..eval.protocols import predict
from ..models.config import BAMConfig
from ..models.factory import build_bam, build_model
from .build import load_checkpoint
from .checkpoint import CheckpointError
from .config import TrainConfig
from .losses import pose_loss
from .run_folder import resolve_checkpoint_path

__all__ = ["Stage", "BAMStage", "MDTFStage", "get_stage"]


class Stage:
    """What the training loop needs from a stage: build, loss, validate."""

    name: str = ""
    #: the frozen BAM attached by ``build`` (stage 2 with a bone stream), else None
    bam_config: BAMConfig | None = None

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        """A freshly initialised network for ``cfg`` (weights from the current torch RNG)."""
        raise NotImplementedError

    def loss(
        self, model: torch.nn.Module, out: torch.Tensor, targets: torch.Tensor, cfg: TrainConfig
    ) -> tuple[torch.Tensor, dict]:
        """(scalar loss, {term name: detached 0-d tensor}) of ``out = model(x)`` against targets (B, T, 17, 3)."""
        raise NotImplementedError

    def validate(self, model: torch.nn.Module, ds, flip: bool = True, batch_size: int = 64) -> dict:
        """Validation metrics of ``model`` on a dataset with ``inputs`` / ``targets`` (N, T, 17, 3)."""
        raise NotImplementedError


class BAMStage(Stage):
    """Stage 1: the Bone Aware Module (theta classes, or the continuous variant)."""

    name = "bam"

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        return build_bam(cfg.model)

    def loss(self, model, out, targets, cfg):
        return model.loss(out, targets), {}

    def validate(self, model, ds, flip: bool = True, batch_size: int = 64) -> dict:
        x, y = (torch.as_tensor(a, dtype=torch.float32) for a in (ds.inputs, ds.targets))  # checked by fit
        out = predict(model, x, batch_size, flip=flip, output="joint_scores")
        classes = model.classes_from_output(out)
        labels = theta_labels(y, model.num_bins)
        with torch.no_grad():
            loss = float(model.loss(out, y))
        return {"val_loss": loss, "val_accuracy": float((classes[..., 1:] == labels[..., 1:]).float().mean())}


class MDTFStage(Stage):
    """Stage 2: MDTF or a baseline, the BAM of ``cfg.bam_checkpoint`` attached frozen when there is a bone stream.

    Args:
        loss_fn: ``(pred, target, weights) -> (loss, terms)``; default ``train.losses.pose_loss``.
    """

    name = "mdtf"

    def __init__(self, loss_fn: Callable | None = None):
        self.loss_fn = loss_fn or pose_loss
        self.bam_config = None

    def build(self, cfg: TrainConfig) -> torch.nn.Module:
        model = build_model(cfg.model)
        if cfg.model.bone_stream:
            if not cfg.bam_checkpoint:
                raise ValueError(
                    "this stage-2 model has a bone stream, so it needs a trained BAM: set "
                    "bam_checkpoint to a stage-1 checkpoint (train one with a 'stage: bam' config), "
                    "or use model.ablation=no_bone"
                )
            bam, bam_cfg = load_checkpoint(resolve_checkpoint_path(cfg.bam_checkpoint))
            if bam_cfg.stage != "bam":
                raise CheckpointError(
                    f"bam_checkpoint={cfg.bam_checkpoint!r} holds a stage-{bam_cfg.stage!r} "
                    "model, not a Bone Aware Module"
                )
            model.attach_bam(bam)
            self.bam_config = bam_cfg.model
        return model

    def loss(self, model, out, targets, cfg):
        return self.loss_fn(out, targets, cfg.loss_weights)

    def validate(self, model, ds, flip: bool = True, batch_size: int = 64) -> dict:
        """P1 / P2 (mm) overall, and per subject group of the dataset (``val_p1_<group>_mm``: procedural /
        real; ``eval.by_group``) from the same predictions."""
        table = evaluate_model(model, ds, flip=flip, batch_size=batch_size)
        out = {"val_p1_mm": table["p1_mm"], "val_p2_mm": table["p2_mm"]}
        if getattr(ds, "source", None) and "subject" in getattr(ds, "meta", {}):
            groups = by_group(table, ds)
            for g, r in groups.items() if set(groups) != {"all"} else ():
                out[f"val_p1_{g}_mm"], out[f"val_p2_{g}_mm"] = r["p1_mm"], r["p2_mm"]
        return out


def get_stage(cfg_or_name, loss_fn: Callable | None = None) -> Stage:
    """The stage of a ``TrainConfig`` (or of the name "bam" / "mdtf")."""
    name = cfg_or_name if isinstance(cfg_or_name, str) else cfg_or_name.stage
    if name == "bam":
        return BAMStage()
    if name == "mdtf":
        return MDTFStage(loss_fn)
    raise ValueError(f"unknown stage {name!r}; choose 'bam' (stage 1) or 'mdtf' (stage 2)")
