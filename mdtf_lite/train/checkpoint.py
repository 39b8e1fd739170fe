"""Checkpoints without pickle: safetensors for tensors, JSON for everything else, written atomically.

A checkpoint is a folder:

    model.safetensors   the weights (``state_dict``; a stage-2 model includes its frozen BAM under ``bam.``)
    state.safetensors   optimiser moments and step counts, torch RNG state, the shuffling generator's state
    state.json          optimiser hyper-parameters per group, scheduler state, epoch, loss/metric history
    config.json         the resolved TrainConfig (``train_config``: it rebuilds the network), the config of the
                        frozen BAM a stage-2 model carries (``bam``), the epoch and the latest metrics
    manifest.json       SHA-256 of each file above (written last; checked on load)

Saving writes a sibling temporary folder, then swaps it in with two renames, so an interruption at any
moment leaves either the previous checkpoint or the new one -- never half of one (a leftover
``<name>.old`` from a crash between the renames is picked up by :func:`resolve_checkpoint_dir`).
Loading never unpickles: a corrupted or tampered file fails its hash or the safetensors parser and
raises ``CheckpointError`` naming the file.  Checkpoints of format 1 (the config as written plus a separate
model description) are read through :func:`upgrade_config`, the one conversion of older checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import FolderRefused, foreign_names, fresh_sibling, swap_in
from ..models.config import bam_config_from_dict

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "read_checkpoint",
    "resolve_checkpoint_dir",
    "checkpoint_status",
    "optimizer_to_flat",
    "optimizer_from_flat",
    "upgrade_config",
    "FILES",
    "OWN_NAMES",
    "FORMAT_VERSION",
]

FILES = ("model.safetensors", "state.safetensors", "state.json", "config.json")
#: 2: config.json holds the resolved TrainConfig once (``train_config``) and the attached BAM's config (``bam``)
FORMAT_VERSION = 2


class CheckpointError(ValueError):
    """A checkpoint that is missing, incomplete, corrupted, or from a different configuration."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split ``optimizer.state_dict()`` into tensors (for safetensors) and JSON-able group settings.

    Returns: ({"opt.<param index>.<name>": tensor}, {"param_groups": [...], "non_tensor_state": {...}}).
    """
    sd = optimizer.state_dict()
    tensors, extra = {}, {}
    for index, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{index}.{key}"] = value.detach().clone().contiguous()
            else:
                extra.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "non_tensor_state": extra}


def optimizer_from_flat(tensors: dict, meta: dict) -> dict:
    """Inverse of :func:`optimizer_to_flat`: a state dict for ``optimizer.load_state_dict``."""
    state: dict = {}
    for name, value in tensors.items():
        if not name.startswith("opt."):
            continue
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    for index, values in meta.get("non_tensor_state", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, allow_nan=False))


#: every name a checkpoint folder may hold (anything else in it belongs to someone else and is never touched).
OWN_NAMES = (*FILES, "manifest.json")


def checkpoint_status(folder) -> str:
    """What is at ``folder``: "absent", "file", "empty", "checkpoint" (a manifest, possibly in the
    ``<name>.old`` left by an interrupted swap), "partial" (only checkpoint file names, no manifest) or
    "foreign" (it holds names that are not a checkpoint's: a user's folder)."""
    folder = Path(folder)
    old = folder.with_name(f"{folder.name}.old")
    if folder.is_symlink() and not folder.is_dir() or (folder.exists() and not folder.is_dir()):
        return "file"
    if not folder.exists():
        return "checkpoint" if (old / "manifest.json").is_file() else "absent"
    if foreign_names(folder, OWN_NAMES):
        return "foreign"
    if (folder / "manifest.json").is_file():
        return "checkpoint"
    return "partial" if any(folder.iterdir()) else "empty"


def save_checkpoint(folder, model_state: dict, state_tensors: dict, state_meta: dict, config: dict) -> Path:
    """Write a checkpoint folder atomically (see the module docstring).  Returns the folder.

    The files are written into a fresh temporary sibling folder and renamed into place.  A folder that
    holds only checkpoint files is swapped whole (via ``<name>.old``); a folder that also holds other
    files (allowed by ``fit`` only with ``overwrite``) gets the checkpoint files moved in one by one
    (``manifest.json`` last) and keeps every other file untouched.
    Raises: CheckpointError when ``folder`` is a file or cannot be written (naming the folder).
    """
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = fresh_sibling(folder, "tmp")
    except OSError as exc:
        raise CheckpointError(
            f"cannot write the checkpoint {folder} ({type(exc).__name__}: {exc}): choose a "
            "writable out_dir or fix the permissions"
        ) from None
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in model_state.items()}, str(tmp / "model.safetensors"))
        save_file({k: v.detach().cpu().contiguous() for k, v in state_tensors.items()}, str(tmp / "state.safetensors"))
        _write_json(tmp / "state.json", state_meta)
        _write_json(tmp / "config.json", {**config, "format_version": FORMAT_VERSION})
        _write_json(tmp / "manifest.json", {name: _sha256(tmp / name) for name in FILES})
        for name in OWN_NAMES:  # flush to disk before the swap
            with open(tmp / name, "rb") as f:
                os.fsync(f.fileno())
        swap_in(
            tmp,
            folder,
            OWN_NAMES,
            "checkpoint",
            merge=True,
            last="manifest.json",
            aside=folder.with_name(f"{folder.name}.old"),
        )
        old = folder.with_name(f"{folder.name}.old")
        if old.is_dir() and not any(p.name not in OWN_NAMES for p in old.iterdir()):
            shutil.rmtree(old, ignore_errors=True)
    except FolderRefused as exc:
        raise CheckpointError(str(exc)) from None
    except (OSError, SafetensorError) as exc:  # safetensors reports a full disk as SafetensorError
        raise CheckpointError(
            f"could not write the checkpoint {folder} ({type(exc).__name__}: {exc}); the previous "
            "checkpoint there (if any) is unchanged. Free disk space or choose a writable "
            "out_dir"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def resolve_checkpoint_dir(folder) -> Path:
    """The folder to read: ``folder`` itself, or ``folder.old`` left by a crash during the swap."""
    folder = Path(folder)
    if (folder / "manifest.json").is_file():
        return folder
    old = folder.with_name(f"{folder.name}.old")
    if not folder.exists() and (old / "manifest.json").is_file():
        return old
    if folder.is_file():
        raise CheckpointError(
            f"{folder} is a file; a checkpoint is a folder holding model.safetensors, "
            "config.json, ... (written by mdtf_lite.train)"
        )
    if not folder.exists():
        raise CheckpointError(
            f"no checkpoint at {folder}: train one first (python -m mdtf_lite.train "
            "--config configs/<name>.yaml) or check the path"
        )
    raise CheckpointError(
        f"{folder} is not a complete checkpoint (manifest.json missing): it was not written "
        "by mdtf_lite.train or an earlier save was interrupted; delete it and retrain"
    )


def read_checkpoint(folder, with_state: bool = True) -> dict:
    """Read and verify a checkpoint folder without unpickling anything.

    Returns: ``{"dir", "config", "model_state"[, "state_tensors", "state_meta"]}``.
    Raises: CheckpointError for a missing/incomplete/corrupted checkpoint.
    """
    folder = resolve_checkpoint_dir(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{folder}/manifest.json is unreadable ({exc}); the checkpoint is corrupted") from exc
    if not isinstance(manifest, dict):
        raise CheckpointError(
            f"{folder}/manifest.json holds a JSON {type(manifest).__name__}, not the object of file "
            "-> SHA-256 that mdtf_lite.train writes; the checkpoint is corrupted: retrain or restore it"
        )
    needed = FILES if with_state else ("model.safetensors", "config.json")
    for name in needed:
        path = folder / name
        if not path.is_file():
            raise CheckpointError(f"checkpoint {folder} lacks {name}; it is incomplete: retrain or restore it")
        if manifest.get(name) != _sha256(path):
            raise CheckpointError(
                f"checkpoint file {path} does not match its recorded SHA-256: the file is "
                "corrupted or was modified; retrain or restore it"
            )
    try:
        out = {
            "dir": folder,
            "config": json.loads((folder / "config.json").read_text()),
            "model_state": load_file(str(folder / "model.safetensors")),
        }
        if with_state:
            out["state_tensors"] = load_file(str(folder / "state.safetensors"))
            out["state_meta"] = json.loads((folder / "state.json").read_text())
    except (SafetensorError, json.JSONDecodeError, OSError) as exc:
        raise CheckpointError(f"checkpoint {folder} could not be parsed ({exc}); it is corrupted") from exc
    for name, key in (("config.json", "config"), ("state.json", "state_meta")):
        if key in out and not isinstance(out[key], dict):
            raise CheckpointError(
                f"{folder / name} holds a JSON {type(out[key]).__name__}, not the object that "
                "mdtf_lite.train writes; the checkpoint is corrupted: retrain or restore it"
            )
    for group in ("model_state", "state_tensors"):
        for name, tensor in out.get(group, {}).items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                file = "model.safetensors" if group == "model_state" else "state.safetensors"
                raise CheckpointError(
                    f"{folder / file}: tensor {name!r} holds NaN/Inf values; a model with them "
                    "gives NaN poses. Use an earlier checkpoint or retrain (lower lr / set grad_clip)"
                )
    out["config"] = upgrade_config(out["config"], folder)
    return out


def upgrade_config(config: dict, folder="checkpoint") -> dict:
    """A checkpoint's config.json in the current format: the one conversion of older checkpoints.

    Format 1 stored the TrainConfig as written (its ``model`` in the YAML form, e.g. ``{preset: cpu}``) next
    to a description holding the resolved model; the two could disagree (a preset changed since), and the
    description is what the weights fit.  The upgrade keeps the resolved one: ``train_config.model`` becomes
    the description's model (stage 1: the BAM's fields, completed with their defaults), and the stage-2
    BAM's config moves to ``bam``.  Raises ``CheckpointError`` for an unknown format.
    """
    version = config.get("format_version")
    if version == FORMAT_VERSION:
        return config
    if version != 1:
        raise CheckpointError(
            f"checkpoint {folder} has format version {version!r}; this mdtf_lite reads versions 1 "
            f"and {FORMAT_VERSION}: retrain it with this version"
        )
    try:
        described = config["model"]
        stage = described.get("stage", "mdtf")
        bam = bam_config_from_dict(described["bam"]).to_dict() if described.get("bam") is not None else None
        model = bam if stage == "bam" else described["model"]
        return {
            "train_config": {**config["train_config"], "stage": stage, "model": model},
            "bam": None if stage == "bam" else bam,
            "epoch": config.get("epoch", 0),
            "metrics": config.get("metrics", {}),
            "format_version": FORMAT_VERSION,
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(
            f"checkpoint {folder} has a format-1 config.json without a readable model description "
            f"({type(exc).__name__}: {exc}); retrain it with this version"
        ) from None
