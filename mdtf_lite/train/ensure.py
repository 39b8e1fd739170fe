"""Trained checkpoints on demand: reuse the one in the current run folder, or train the cheap config.

    path = ensure_checkpoint("ci")          # <run_dir>/checkpoints/ci, trained in seconds if missing
    model, cfg = load_checkpoint(path)      # weights-only

Used by the notebooks that need a trained model (07 evaluation, 08 in-the-wild lifting) so each one runs
on its own, and by the series, where notebook 06 has already written the checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from .. import paths
from .checkpoint import CheckpointError, read_checkpoint
from .config import TrainConfig, load_config
from .loop import fit
from .run_folder import checkpoint_dir

__all__ = ["ensure_checkpoint", "configs_dir", "config_path"]


def configs_dir() -> Path:
    """The folder of the named training configs (``<project>/configs``)."""
    return paths.project_root() / "configs"


def config_path(name: str) -> Path:
    path = configs_dir() / f"{name}.yaml"
    if not path.is_file():
        have = sorted(p.stem for p in configs_dir().glob("*.yaml"))
        raise FileNotFoundError(f"no training config named {name!r} ({path}); available: {have}")
    return path


def _saved_epoch(folder: Path, epochs: int) -> int | None:
    """The epoch a readable checkpoint reached (``epochs`` if its time budget ended it), or None when there
    is no usable checkpoint."""
    try:
        config = read_checkpoint(folder, with_state=False)["config"]
        if (config.get("metrics") or {}).get("stopped_by_time_budget"):
            return epochs
        return int(config.get("epoch", 0))
    except (CheckpointError, TypeError, ValueError, AttributeError):
        return None


def ensure_checkpoint(name: str = "ci", overrides=None, progress: bool = False, retrain: bool = False) -> Path:
    """Return ``<run_dir>/checkpoints/<name>``, training ``configs/<name>.yaml`` first if it is missing.

    A stage-2 config's ``bam_checkpoint`` (a config name) is ensured first, so ``ensure_checkpoint("ci")``
    trains the ci BAM and then the ci MDTF.  ``retrain=True`` trains even if a checkpoint exists.

    Args:
        name: a config in ``configs/`` ("ci" = seconds, "default" = the series' default run).
        overrides: extra ``key=value`` strings applied to the config (changing the math makes a
            different model under the same name: use with care, or change ``name=`` too).
    Returns: the checkpoint folder (load it with :func:`mdtf_lite.train.load_checkpoint`).
    """
    cfg: TrainConfig = load_config(config_path(name), overrides)
    folder = checkpoint_dir(cfg)
    epoch = _saved_epoch(folder, cfg.epochs)
    # a finished checkpoint is reused as it is (notebook 06 may have trained it on the real files)
    if not retrain and epoch is not None and epoch >= cfg.epochs:
        return folder
    if cfg.stage == "mdtf" and cfg.bam_checkpoint and (configs_dir() / f"{cfg.bam_checkpoint}.yaml").is_file():
        ensure_checkpoint(cfg.bam_checkpoint, progress=progress)

    resume = not retrain and epoch is not None  # an interrupted run continues where it stopped
    print(f"ensure_checkpoint: {'resuming' if resume else 'training'} {name!r} in {folder}")
    # retrain / a corrupted checkpoint under this name: replace it (only its own files; see run_folder.preflight)
    result = fit(cfg.replace(progress=progress, overwrite=cfg.overwrite or not resume), resume=resume)
    return result.checkpoint
