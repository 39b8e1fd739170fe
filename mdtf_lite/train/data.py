"""A run's data: the splits of ``cfg.data``, converted and checked once, where ``fit`` starts.

    train_set = load_split(cfg, "train")                # a ClipDataset (mdtf_lite.data.load_clips)
    x, y = clip_tensors(train_set, "training split")    # float32 (N, T, 17, 3): shapes, targets checked
    check_model_input(model, x, "the training inputs")  # what the model accepts (models.inputs)

``fit`` makes these checks once per split, before its first step, so bad data is refused before any
training time is spent and the models' forwards need no checks of their own (no host sync per step).
"""

from __future__ import annotations

import numpy as np
import torch

from ..data import load_clips
from .config import TrainConfig

__all__ = ["load_split", "clip_tensors"]


def load_split(cfg: TrainConfig, split: str):
    """The ``ClipDataset`` of ``split`` ("train" or "test"): ``load_clips(split, **cfg.data)``, the test
    split with ``cfg.val_data`` on top.  Raises ``ValueError`` for keys ``load_clips`` does not take."""
    kwargs = dict(cfg.data)
    if split != "train":
        kwargs.update(cfg.val_data)
    try:
        return load_clips(split=split, **kwargs)
    except TypeError as exc:
        raise ValueError(f"data config {kwargs} does not fit mdtf_lite.data.load_clips ({exc})") from exc


def _as_float32(a) -> torch.Tensor:
    """A tensor stays as it is (float32: no copy); anything else becomes one, once."""
    if isinstance(a, torch.Tensor):
        return a.to(torch.float32)
    return torch.as_tensor(np.asarray(a, dtype=np.float32))


def clip_tensors(ds, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A dataset's ``inputs`` / ``targets`` as float32 tensors, both (N, T, 17, 3): the one conversion.

    Checks a non-empty split, matching shapes and finite targets (the inputs: ``models.inputs.check_model_input``).
    ``what`` names the split in the errors.  Raises: ``ValueError`` naming the split, the problem, the fix.
    """
    x, y = _as_float32(ds.inputs), _as_float32(ds.targets)
    if x.ndim == 4 and len(x) == 0:
        raise ValueError(
            f"the {what} is empty: check data.source / subjects / max_clips and that the dataset "
            "exists (python -m data_tools make-default)"
        )
    if x.ndim != 4 or x.shape[2:] != (17, 3) or y.shape != x.shape:
        raise ValueError(f"the {what}'s inputs {tuple(x.shape)} / targets {tuple(y.shape)} must both be (N, T, 17, 3)")
    if not torch.isfinite(y).all():
        raise ValueError(
            f"the {what}'s targets hold NaN/Inf: fix the data (missing joints must be filled or "
            "their clips dropped) before training"
        )
    return x, y
