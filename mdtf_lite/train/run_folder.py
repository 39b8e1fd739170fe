"""Where a run's checkpoint lives, and the checks made before a run may write there.

folder = checkpoint_dir(cfg)                # out_dir, or <run_dir>/checkpoints/<name>
preflight(cfg, resume, folder)              # refuse a folder this run would damage, before any work
resolve_checkpoint_path("bam-ci")           # a reference: an existing path or a name under <run_dir>/checkpoints
"""

from __future__ import annotations

from pathlib import Path

from .. import paths
from .._atomic import FolderRefused, check_writable, foreign_names
from .checkpoint import OWN_NAMES, CheckpointError, checkpoint_status
from .config import TrainConfig

__all__ = ["checkpoint_dir", "preflight", "resolve_checkpoint_path", "has_checkpoint"]


def checkpoint_dir(cfg: TrainConfig) -> Path:
    """Where ``cfg``'s checkpoint lives: ``out_dir`` or ``<run_dir>/checkpoints/<name>``."""
    if cfg.out_dir:
        return Path(cfg.out_dir).expanduser()
    root = paths.run_dir() / "checkpoints"
    folder = root / cfg.name
    if folder.resolve().parent != root.resolve():  # TrainConfig refuses such names; never aim at a shared folder
        raise CheckpointError(f"name={cfg.name!r} does not name a folder inside {root}; use a plain name")
    return folder


def resolve_checkpoint_path(ref) -> Path:
    """A checkpoint reference -> folder: an existing path, else a name under ``<run_dir>/checkpoints``."""
    path = Path(ref).expanduser()
    if path.exists() or path.is_absolute():
        return path
    return paths.run_dir() / "checkpoints" / str(ref)


def has_checkpoint(folder: Path) -> bool:
    """A complete checkpoint is at ``folder`` (or in the ``<name>.old`` an interrupted save left)."""
    return (folder / "manifest.json").is_file() or (folder.with_name(folder.name + ".old") / "manifest.json").is_file()


def preflight(cfg: TrainConfig, resume: bool, folder: Path) -> None:
    """Refuse, before any data is loaded or weight is built, a checkpoint folder this run would damage
    or could not write: a file; an existing checkpoint on a fresh run (no ``resume``) without
    ``overwrite``; a folder holding other files without ``overwrite`` (with it, those files are kept);
    an unwritable location.  Raises: CheckpointError naming the folder and the fix."""
    if folder.is_symlink():  # a save renames a fresh folder into place: it would meet the link, not its target
        raise CheckpointError(
            f"the checkpoint folder {folder} is a symbolic link; nothing was changed. Set out_dir to "
            f"the real folder ({folder.resolve()}) or to a new folder"
        )
    status = checkpoint_status(folder)
    if status == "file":
        raise CheckpointError(
            f"the checkpoint folder {folder} is an existing file; nothing was changed. Set out_dir "
            "to a folder (new, or one holding a checkpoint)"
        )
    has = status == "checkpoint" or (status == "foreign" and (folder / "manifest.json").is_file())
    if has and not resume and not cfg.overwrite:
        raise CheckpointError(
            f"a checkpoint already exists at {folder}; a fresh run would replace it. Continue it "
            "with --resume (resume=True), replace it with --overwrite (overwrite=True), or choose "
            "another name= / out_dir="
        )
    if status == "foreign" and not cfg.overwrite and not (resume and has):
        shown = ", ".join(foreign_names(folder, OWN_NAMES)[:5])
        raise CheckpointError(
            f"out_dir {folder} is an existing folder with other files ({shown}), not a checkpoint. "
            "Choose a new or empty folder, or pass --overwrite (overwrite=True) to write the "
            "checkpoint files into it (the other files are kept)"
        )
    try:
        check_writable(folder, "checkpoint")
    except FolderRefused as exc:
        raise CheckpointError(f"{exc} (checked before training, so no epoch is lost)") from None
