"""Training: one loop for both stages (BAM, then MDTF with the BAM frozen), checkpoints, resume, DDP, CLI.

    python -m mdtf_lite.train --config configs/ci.yaml [key=value ...] [--resume]
    torchrun --nproc_per_node 2 -m mdtf_lite.train --config configs/ci.yaml      # data parallel

    from mdtf_lite.train import TrainConfig, fit, load_config, ensure_checkpoint, load_checkpoint
    result = fit(load_config("configs/bam-ci.yaml"))          # stage 1
    result = fit(load_config("configs/ci.yaml"))              # stage 2 (bam_checkpoint: bam-ci)
    model, cfg = load_checkpoint(ensure_checkpoint("ci"))     # a trained model, weights-only

Modules: config.py (TrainConfig, YAML + overrides), stages.py (Stage: BAMStage, MDTFStage -- build, loss,
validate, describe), loop.py (fit = _prepare + run_epochs over train_epoch), losses.py, checkpoint.py
(safetensors + JSON, atomic), build.py (model from config / checkpoint), ensure.py, ablation.py.
"""

from .build import load_checkpoint, resolve_checkpoint_path
from .checkpoint import CheckpointError, read_checkpoint
from .config import ConfigError, TrainConfig, apply_overrides, load_config
from .ensure import config_path, configs_dir, ensure_checkpoint
from .background import BackgroundFit
from .loop import FitResult, TrainingDiverged, checkpoint_dir, fit, learning_rate, load_split, validate
from .losses import pose_loss
from .stages import BAMStage, MDTFStage, Stage, build_stage_model, get_stage

__all__ = ["TrainConfig", "ConfigError", "load_config", "apply_overrides", "fit", "FitResult",
           "TrainingDiverged", "CheckpointError", "checkpoint_dir", "load_checkpoint", "read_checkpoint",
           "build_stage_model", "resolve_checkpoint_path", "ensure_checkpoint", "configs_dir", "config_path",
           "load_split", "validate", "pose_loss", "BackgroundFit", "learning_rate", "Stage", "BAMStage", "MDTFStage",
           "get_stage"]
