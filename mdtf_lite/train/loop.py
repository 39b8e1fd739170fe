"""The one training loop, for both stages, on one process or many (DDP), resumable bit for bit.

    from mdtf_lite.train import TrainConfig, fit
    result = fit(TrainConfig(stage="bam", name="bam-ci", data={"frames": 27, "max_clips": 256}, epochs=2))
    result.model, result.history, result.checkpoint

What one epoch does (same code for stage 1 and stage 2):

1. a permutation of the training clips from a seeded ``torch.Generator`` (its state is checkpointed);
2. for each global batch of ``batch_size`` clips: random horizontal flips (p = 0.5, same generator),
   forward, loss (stage 1: BAM cross-entropy; stage 2: MPJPE + 0.5 N-MPJPE + 20 velocity), a NaN/Inf
   check, backward, optional gradient clipping, AdamW step;
3. the learning rate of the step: ``lr * lr_decay ** epoch`` (the official per-epoch decay) or a cosine
   from ``lr`` to ``lr * lr_final`` over the run, after ``warmup_steps`` of linear warm-up
   (:func:`learning_rate`); with ``time_budget`` the run ends when its optimiser steps have used that
   many seconds, and the cosine follows whichever of steps and seconds runs out first;
4. validation every ``val_every`` epochs (stage 1: theta-class accuracy; stage 2: P1/P2 in mm, per
   action then averaged), optionally with flip test-time augmentation;
5. a checkpoint (weights, optimiser, scheduler, RNG states, history) every ``checkpoint_every`` epochs.

Resuming (``resume=True``) restores all of that state and continues with the next epoch, so the final
weights are bit-identical to an uninterrupted run on CPU (tests/test_train_resume.py checks it).

Data parallel: launched with ``torchrun --nproc_per_node K python -m mdtf_lite.train ...``, each rank
takes every K-th clip of the same global batch and DDP averages the gradients, so with ``batch_size``
divisible by K one step equals the single-process step up to floating-point summation order.  Known
batch-split difference: BatchNorm layers (the GCN's) see per-rank statistics (batch_size / K clips).
Only rank 0 writes checkpoints and shows the progress bar.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from .. import paths
from .._atomic import FolderRefused, check_writable, foreign_names
from ..data import load_clips
from ..data.geometry import flip_poses
from .build import _load_weights
from .checkpoint import (CheckpointError, OWN_NAMES, checkpoint_status, optimizer_from_flat, optimizer_to_flat,
                         read_checkpoint, save_checkpoint)
from .config import RESUME_MAY_CHANGE, TrainConfig, _check_known
from .losses import pose_loss
from .records import format_epoch
from .stages import Stage, dataset_tensors, get_stage

__all__ = ["fit", "FitResult", "make_optimizer", "TrainingDiverged", "checkpoint_dir", "learning_rate", "load_split", "validate",
           "Run", "train_epoch", "run_epochs"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (unwrapped, eval mode), its history and checkpoint."""

    model: torch.nn.Module
    config: TrainConfig
    history: list = field(default_factory=list)
    checkpoint: Path | None = None

    @property
    def last(self) -> dict:
        return self.history[-1] if self.history else {}

    @property
    def train_seconds(self) -> float:
        """Seconds spent in optimiser steps (validation excluded): the budget a baseline gets."""
        return float(sum(h.get("train_seconds", h.get("seconds", 0.0)) for h in self.history))


def learning_rate(cfg: TrainConfig, epoch: int, step: int, total_steps: int, elapsed: float = 0.0) -> float:
    """The lr of global optimiser step ``step`` (0-based) in ``epoch``, out of ``total_steps`` planned.

    exponential: lr * lr_decay ** epoch;  cosine: lr * (f + (1 - f) (1 + cos(pi p)) / 2), f = lr_final,
    p = the fraction of the run done (steps, or ``elapsed / time_budget`` if that is further);
    both times min(1, (step + 1) / warmup_steps).
    """
    warm = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    if cfg.schedule == "exponential":
        return cfg.lr * cfg.lr_decay ** epoch * warm
    progress = step / max(1, total_steps)
    if cfg.time_budget:
        progress = max(progress, elapsed / cfg.time_budget)
    progress = min(1.0, progress)
    return cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))) * warm


def checkpoint_dir(cfg: TrainConfig) -> Path:
    """Where ``cfg``'s checkpoint lives: ``out_dir`` or ``<run_dir>/checkpoints/<name>``."""
    if cfg.out_dir:
        return Path(cfg.out_dir).expanduser()
    root = paths.run_dir() / "checkpoints"
    folder = root / cfg.name
    if folder.resolve().parent != root.resolve():  # TrainConfig refuses such names; never aim at a shared folder
        raise CheckpointError(f"name={cfg.name!r} does not name a folder inside {root}; use a plain name")
    return folder


def _preflight(cfg: TrainConfig, resume: bool, folder: Path) -> None:
    """Refuse, before any data is loaded or weight is built, a checkpoint folder this run would damage
    or could not write: a file; an existing checkpoint on a fresh run (no ``resume``) without
    ``overwrite``; a folder holding other files without ``overwrite`` (with it, those files are kept);
    an unwritable location.  Raises: CheckpointError naming the folder and the fix."""
    status = checkpoint_status(folder)
    if status == "file":
        raise CheckpointError(f"the checkpoint folder {folder} is an existing file; nothing was changed. Set out_dir "
                              "to a folder (new, or one holding a checkpoint)")
    has_checkpoint = status == "checkpoint" or (status == "foreign" and (folder / "manifest.json").is_file())
    if has_checkpoint and not resume and not cfg.overwrite:
        raise CheckpointError(f"a checkpoint already exists at {folder}; a fresh run would replace it. Continue it "
                              "with --resume (resume=True), replace it with --overwrite (overwrite=True), or choose "
                              "another name= / out_dir=")
    if status == "foreign" and not cfg.overwrite and not (resume and has_checkpoint):
        shown = ", ".join(foreign_names(folder, OWN_NAMES)[:5])
        raise CheckpointError(f"out_dir {folder} is an existing folder with other files ({shown}), not a checkpoint. "
                              "Choose a new or empty folder, or pass --overwrite (overwrite=True) to write the "
                              "checkpoint files into it (the other files are kept)")
    try:
        check_writable(folder, "checkpoint")
    except FolderRefused as exc:
        raise CheckpointError(f"{exc} (checked before training, so no epoch is lost)") from None


# ------------------------------------------------------------------------------------------ data
_SPLIT_CACHE: dict = {}  # (split, kwargs) -> ClipDataset: stage 1 and stage 2 of one process share the clips


def load_split(cfg: TrainConfig, split: str):
    """The ``ClipDataset`` of ``split`` ("train" or "test") from ``mdtf_lite.data.load_clips``.

    The last few datasets are kept in memory (the loop never modifies them), so training the BAM and then
    MDTF on the same data in one process cuts the clips once.
    """
    kwargs = dict(cfg.data)
    if split != "train":
        kwargs.update(cfg.val_data)
    key = (split, repr(sorted(kwargs.items())))
    if key in _SPLIT_CACHE:
        return _SPLIT_CACHE[key]
    try:
        ds = load_clips(split=split, **kwargs)
    except TypeError as exc:
        raise ValueError(f"data config {kwargs} does not fit mdtf_lite.data.load_clips ({exc})") from exc
    if len(_SPLIT_CACHE) >= 4:
        _SPLIT_CACHE.pop(next(iter(_SPLIT_CACHE)))
    _SPLIT_CACHE[key] = ds
    if len(ds) == 0:
        raise ValueError(f"the {split} split of {kwargs} is empty: check data.source / subjects / max_clips "
                         "and that the dataset exists (python -m data_tools make-default)")
    return ds


_tensors = dataset_tensors     # the former private name


# ------------------------------------------------------------------------------------ validation
def validate(model: torch.nn.Module, stage: str, ds, flip: bool = True, batch_size: int = 64) -> dict:
    """Validation metrics of ``model`` on ``ds``: stage "bam" -> accuracy/loss; "mdtf" -> P1/P2 (mm)."""
    return get_stage(stage).validate(model, ds, flip=flip, batch_size=batch_size)


# --------------------------------------------------------------------------------------- helpers
def _dist_info() -> tuple[int, int, bool]:
    """(rank, world size, whether this call initialised the process group)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    created = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        created = True
    return dist.get_rank(), dist.get_world_size(), created


def _all_mean(value: torch.Tensor, world: int) -> torch.Tensor:
    if world == 1:
        return value
    import torch.distributed as dist

    value = value.detach().clone()
    dist.all_reduce(value)
    return value / world


def _any_rank(flag: bool, world: int) -> bool:
    """True on every rank when ``flag`` is True on any rank."""
    if world == 1:
        return flag
    import torch.distributed as dist

    value = torch.tensor(float(flag))
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value > 0)


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _device(cfg: TrainConfig, world: int) -> torch.device:
    """cfg.device, else CUDA when available (the LOCAL_RANK-th GPU under torchrun), else CPU."""
    if cfg.device:
        device = torch.device(cfg.device)
    elif torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) if world > 1 else 0)
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={cfg.device!r} but this torch has no CUDA device; use device: cpu")
        torch.cuda.set_device(device)
    return device


def _math_differences(saved: dict, cfg: TrainConfig) -> list[str]:
    now = cfg.math_fields()
    saved = {k: v for k, v in saved.items() if k not in RESUME_MAY_CHANGE}
    keys = sorted(set(now) | set(saved))
    return [f"{k}: checkpoint {saved.get(k)!r} vs config {now.get(k)!r}" for k in keys if saved.get(k) != now.get(k)]


def _save(folder: Path, cfg: TrainConfig, model, description, optimizer, scheduler, generator, epoch, history):
    opt_tensors, opt_meta = optimizer_to_flat(optimizer)
    state_tensors = {**opt_tensors, "rng.torch": torch.get_rng_state(), "rng.shuffle": generator.get_state()}
    state_meta = {"epoch": epoch, "optimizer": opt_meta, "scheduler": scheduler.state_dict(), "history": history}
    config = {"train_config": cfg.to_dict(), "model": description, "epoch": epoch,
              "metrics": history[-1] if history else {}}
    return save_checkpoint(folder, model.state_dict(), state_tensors, state_meta, config)


def _restore(folder: Path, cfg: TrainConfig, model, optimizer, scheduler, generator) -> tuple[int, list]:
    ckpt = read_checkpoint(folder)
    saved_cfg = ckpt["config"].get("train_config", {})
    diffs = _math_differences(saved_cfg, cfg)
    if diffs:
        raise CheckpointError(f"cannot resume from {ckpt['dir']}: it was trained with a different config "
                              f"({'; '.join(diffs)}). Resume with the same config (only {RESUME_MAY_CHANGE} may "
                              "change), or start a fresh run with a new name / out_dir")
    _load_weights(model, ckpt["model_state"], ckpt["dir"])
    meta = ckpt["state_meta"]
    optimizer.load_state_dict(optimizer_from_flat(ckpt["state_tensors"], meta["optimizer"]))
    scheduler.load_state_dict(meta["scheduler"])
    torch.set_rng_state(ckpt["state_tensors"]["rng.torch"])
    generator.set_state(ckpt["state_tensors"]["rng.shuffle"])
    return int(meta["epoch"]), list(meta["history"])


def _batches(n: int, batch_size: int, steps_cap: int | None) -> int:
    steps = max(1, n // batch_size) if n >= batch_size else 1
    return min(steps, steps_cap) if steps_cap else steps


# ------------------------------------------------------------------------------------------ fit
def fit(cfg: TrainConfig, resume: bool = False, train_set=None, val_set=None,
        callbacks: Sequence[Callable[[dict], None]] = ()) -> FitResult:
    """Train ``cfg`` and return the model, its per-epoch history and its checkpoint folder.

    Args:
        cfg: the run (see ``TrainConfig``).
        resume: continue from ``checkpoint_dir(cfg)`` if a checkpoint is there (else start fresh).
        train_set, val_set: datasets with ``inputs``/``targets`` (N, T, 17, 3) and ``meta["action"]``;
            default: ``load_clips`` with ``cfg.data`` (and ``cfg.val_data``) for "train" / "test".
        callbacks: called on rank 0 with each epoch's record (``epoch``, ``train_loss``, ``lr``,
            ``frames_per_s``, ``seconds``, validation metrics) -- e.g. a live loss plot.

    Raises:
        TrainingDiverged: the loss became NaN/Inf (the last good checkpoint is left in place).
        CheckpointError: ``resume`` with a checkpoint of another config, or a corrupted one; a fresh run onto an
            existing checkpoint or a folder with other files without ``cfg.overwrite``; an unwritable folder.
        ValueError: empty splits, bad data, invalid model config.
    """
    if isinstance(cfg, dict):
        _check_known(cfg)
        cfg = TrainConfig(**cfg)
    threads_before = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    # subnormal floats (|x| < 1.2e-38: decayed SSM states, tiny gradients) cost ~100 cycles per operation on
    # x86; flushing them to zero changes nothing a model can notice and made CPU training steps ~1.5x faster
    flushed = torch.set_flush_denormal(True)
    rank, world, created_group = _dist_info()
    try:
        return _fit(cfg, resume, train_set, val_set, callbacks, rank, world)
    finally:
        torch.set_num_threads(threads_before)
        if flushed:
            torch.set_flush_denormal(False)
        if created_group:
            import torch.distributed as dist

            dist.destroy_process_group()


@dataclass
class Run:
    """Everything one epoch needs, prepared once by :func:`_prepare` (data, model, optimiser, resumed state)."""

    cfg: TrainConfig
    stage: Stage
    model: torch.nn.Module            # the network (unwrapped)
    net: torch.nn.Module              # what the forward runs: ``model`` or its DDP wrapper
    description: dict
    optimizer: torch.optim.Optimizer
    scheduler: object
    generator: torch.Generator
    x: torch.Tensor                   # (N, T, 17, 3) training inputs
    y: torch.Tensor                   # (N, T, 17, 3) training targets
    device: torch.device
    rank: int
    world: int
    folder: Path
    steps: int                        # optimiser steps per epoch
    global_batch: int
    start_epoch: int = 0
    history: list = field(default_factory=list)
    elapsed: float = 0.0              # seconds of optimiser steps so far
    saved_at: Path | None = None      # the last checkpoint written (or resumed from)


def make_optimizer(params, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW as both stages (and ``bench train``) use it: the fused kernel, one pass over all parameters.

    The model has ~150 small parameter tensors; the per-tensor loop of the default AdamW took 17 ms of a
    ~330 ms CPU step (fused: 2.5 ms; cpu preset, batch 8, T 27, one thread).
    Same update rule and state dict as the default implementation, so checkpoints resume either way.
    """
    params = list(params)
    fused = all(p.dtype in (torch.float32, torch.float64) and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused or None)


def _prepare(cfg: TrainConfig, resume: bool, train_set, rank: int, world: int) -> Run:
    """Data, stage, model, optimiser and (with ``resume``) the restored state of a run."""
    x_all, y_all = _tensors(train_set)
    if len(x_all) == 0:
        raise ValueError("the training split is empty")
    stage = get_stage(cfg, loss_fn=pose_loss)
    torch.manual_seed(cfg.seed)                       # same initial weights on every rank
    model = stage.build(cfg)
    description = stage.describe(model, cfg)
    device = _device(cfg, world)
    model.to(device).train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(trainable, cfg.lr, cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=cfg.lr_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    folder = checkpoint_dir(cfg)
    start_epoch, history = 0, []
    if resume:
        if (folder / "manifest.json").is_file() or folder.with_name(folder.name + ".old").is_dir():
            start_epoch, history = _restore(folder, cfg, model, optimizer, scheduler, generator)
            if rank == 0:
                print(f"resumed {cfg.name} from {folder} after epoch {start_epoch}")
        elif rank == 0:
            print(f"--resume: no checkpoint at {folder} yet, starting from scratch")
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    global_batch = min(cfg.batch_size, len(x_all))
    if global_batch % world and rank == 0:
        print(f"note: batch_size {global_batch} is not divisible by {world} ranks; ranks get unequal shares")
    return Run(cfg=cfg, stage=stage, model=model, net=net, description=description, optimizer=optimizer,
               scheduler=scheduler, generator=generator, x=x_all, y=y_all, device=device, rank=rank, world=world,
               folder=folder, steps=_batches(len(x_all), cfg.batch_size, cfg.steps_per_epoch),
               global_batch=global_batch, start_epoch=start_epoch, history=history,
               elapsed=sum(h.get("train_seconds", 0.0) for h in history),
               saved_at=folder if (folder / "manifest.json").is_file() and resume else None)


def _step(run: Run, epoch: int, step: int, perm: torch.Tensor, lr_now: float) -> tuple[float, dict]:
    """One optimiser step on global batch ``step`` of ``perm``: flips, forward, loss, NaN check, backward, AdamW."""
    cfg, world = run.cfg, run.world
    for group in run.optimizer.param_groups:
        group["lr"] = lr_now
    idx = perm[step * run.global_batch:(step + 1) * run.global_batch]
    flips = torch.rand(len(idx), generator=run.generator) < 0.5
    idx, flips = idx[run.rank::world], flips[run.rank::world]
    xb, yb = run.x[idx], run.y[idx]
    if cfg.flip_augment and flips.any():
        xb, yb = xb.clone(), yb.clone()
        xb[flips], yb[flips] = flip_poses(xb[flips]), flip_poses(yb[flips])
    xb, yb = xb.to(run.device, non_blocking=True), yb.to(run.device, non_blocking=True)
    loss, terms = run.stage.loss(run.model, run.net(xb), yb, cfg)
    global_loss = float(_all_mean(loss.detach(), world))
    if not math.isfinite(global_loss):
        where = f"epoch {epoch + 1}, step {step + 1}"
        kept = f"the last good checkpoint is kept at {run.saved_at}" if run.saved_at else "no checkpoint was written yet"
        raise TrainingDiverged(f"{cfg.name}: the loss became {global_loss} at {where}; {kept}. "
                               f"Lower lr (now {run.scheduler.get_last_lr()[0]:.3g}), set grad_clip, or check "
                               "the data for extreme values")
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.grad_clip:
        torch.nn.utils.clip_grad_norm_([p for p in run.model.parameters() if p.requires_grad], cfg.grad_clip)
    run.optimizer.step()
    return global_loss, terms


def train_epoch(run: Run, epoch: int) -> tuple[dict, bool]:
    """Train one epoch of ``run``: (its history record without validation, whether the time budget ran out)."""
    cfg = run.cfg
    frames = run.x.shape[1]
    t0 = time.perf_counter()
    step_seconds, loss_sum, term_sums, done, out_of_time = 0.0, 0.0, {}, 0, False
    perm = torch.randperm(len(run.x), generator=run.generator)
    bar = None
    if cfg.progress and run.rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=run.steps, desc=f"{cfg.name} epoch {epoch + 1}/{cfg.epochs}", leave=False)
    for step in range(run.steps):
        ts = time.perf_counter()
        lr_now = learning_rate(cfg, epoch, epoch * run.steps + step, run.steps * cfg.epochs,
                               run.elapsed + step_seconds)
        global_loss, terms = _step(run, epoch, step, perm, lr_now)
        done += 1
        step_seconds += time.perf_counter() - ts
        loss_sum += global_loss
        for k, v in terms.items():
            term_sums[k] = term_sums.get(k, 0.0) + v
        if bar is not None:
            rate = (step + 1) * run.global_batch * frames / (time.perf_counter() - t0)
            bar.set_postfix(loss=f"{loss_sum / (step + 1):.4f}", frames_per_s=f"{rate:.0f}")
            bar.update()
        if cfg.time_budget and _any_rank(run.elapsed + step_seconds >= cfg.time_budget, run.world):
            out_of_time = True          # every rank stops at the same step
            break
    if bar is not None:
        bar.close()
    run.scheduler.step()                # kept for checkpoint compatibility; the lr is set per step above
    run.elapsed += step_seconds
    rec = {"epoch": epoch + 1, "train_loss": loss_sum / done, "lr": lr_now, "seconds": time.perf_counter() - t0,
           "train_seconds": step_seconds, "steps": done,
           "frames_per_s": done * run.global_batch * frames / step_seconds}
    rec.update({f"train_{k}": v / done for k, v in term_sums.items()})
    if out_of_time:
        rec["stopped_by_time_budget"] = True     # finished early on purpose, not interrupted
    return rec, out_of_time


def run_epochs(run: Run, val_set=None, callbacks: Sequence[Callable[[dict], None]] = ()) -> list:
    """The run: train epochs, validate, checkpoint, report, until ``cfg.epochs`` or the time budget."""
    cfg = run.cfg
    for epoch in range(run.start_epoch, cfg.epochs):
        rec, out_of_time = train_epoch(run, epoch)
        last = epoch + 1 == cfg.epochs or out_of_time
        if val_set is not None and ((epoch + 1) % cfg.val_every == 0 or last):
            if run.rank == 0:
                rec.update(run.stage.validate(run.model, val_set, flip=cfg.flip_test))
            _barrier(run.world)
        run.history.append(rec)
        if run.rank == 0:
            if cfg.progress:
                print(f"[{cfg.name}] epoch {epoch + 1}/{cfg.epochs}: {format_epoch(rec)}")   # errors in mm
            if (epoch + 1) % cfg.checkpoint_every == 0 or last:
                run.saved_at = _save(run.folder, cfg, run.model, run.description, run.optimizer, run.scheduler,
                                     run.generator, epoch + 1, run.history)
            for cb in callbacks:
                cb(rec)
        _barrier(run.world)
        if out_of_time:
            break
    return run.history


def _fit(cfg, resume, train_set, val_set, callbacks, rank, world) -> FitResult:
    _preflight(cfg, resume, checkpoint_dir(cfg))
    train_set = train_set if train_set is not None else load_split(cfg, "train")
    if len(dataset_tensors(train_set)[0]) == 0:     # bad data is refused before the validation split is cut
        raise ValueError("the training split is empty")
    if cfg.val_every > 0 and val_set is None:
        val_set = load_split(cfg, "test")
    run = _prepare(cfg, resume, train_set, rank, world)
    run_epochs(run, val_set if cfg.val_every > 0 else None, callbacks)
    run.model.cpu().eval()
    return FitResult(model=run.model, config=cfg, history=run.history,
                     checkpoint=run.folder if (run.folder / "manifest.json").is_file() else None)
