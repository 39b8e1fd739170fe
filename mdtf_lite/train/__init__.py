"""Training: one loop for both stages (BAM, then MDTF with the BAM frozen), checkpoints, resume, DDP, CLI.

    python -m mdtf_lite.train --config configs/ci.yaml [key=value ...] [--resume]
    torchrun --nproc_per_node 2 -m mdtf_lite.train --config configs/ci.yaml      # data parallel

    from mdtf_lite.train import TrainConfig, fit, load_config, ensure_checkpoint, load_checkpoint
    result = fit(load_config("configs/bam-ci.yaml"))          # stage 1
    result = fit(load_config("configs/ci.yaml"))              # stage 2 (bam_checkpoint: bam-ci)
    model, cfg = load_checkpoint(ensure_checkpoint("ci"))     # a trained model, weights-only

Modules: config.py (TrainConfig: frozen, YAML + overrides, the model section parsed once), loop.py (fit,
run_epochs, train_epoch, train_step, save, restore), stages.py (BAMStage, MDTFStage: build, loss,
validate), losses.py, data.py (the splits, converted and checked once), distributed.py (threads, device,
DDP ranks), run_folder.py (where checkpoints go, the checks before writing), checkpoint.py (safetensors +
JSON, atomic), build.py (a model from a checkpoint), ensure.py, ablation.py, background.py.
"""

from .background import BackgroundFit
from .build import load_checkpoint
from .checkpoint import CheckpointError, read_checkpoint
from .config import ConfigError, TrainConfig, apply_overrides, load_config
from .data import load_split
from .ensure import config_path, configs_dir, ensure_checkpoint
from .loop import FitResult, TrainingDiverged, fit, learning_rate, run_epochs, train_epoch
from .losses import pose_loss
from .run_folder import checkpoint_dir, resolve_checkpoint_path
from .stages import BAMStage, MDTFStage, Stage, get_stage

__all__ = [
    "TrainConfig",
    "ConfigError",
    "load_config",
    "apply_overrides",
    "fit",
    "FitResult",
    "run_epochs",
    "train_epoch",
    "TrainingDiverged",
    "CheckpointError",
    "checkpoint_dir",
    "load_checkpoint",
    "read_checkpoint",
    "resolve_checkpoint_path",
    "ensure_checkpoint",
    "configs_dir",
    "config_path",
    "load_split",
    "pose_loss",
    "BackgroundFit",
    "learning_rate",
    "Stage",
    "BAMStage",
    "MDTFStage",
    "get_stage",
]
