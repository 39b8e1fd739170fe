"""The training loop, for both stages, on one process or many (DDP), resumable bit for bit.

    from mdtf_lite.train import TrainConfig, fit
    result = fit(TrainConfig(stage="bam", name="bam-ci", data={"frames": 27, "max_clips": 256}, epochs=2))
    result.model, result.history, result.checkpoint

Read it top to bottom: :func:`fit` sets a run up once, :func:`run_epochs` trains, validates and saves
epoch after epoch, :func:`train_epoch` walks the batches, :func:`train_step` is one optimiser step,
:func:`save` / :func:`restore` write and read back everything a resume needs.  One epoch (same code for
stage 1 and stage 2; what differs is the ``Stage`` object, ``stages.py``):

1. a permutation of the training clips from a seeded ``torch.Generator`` (its state is checkpointed);
2. for each global batch of ``batch_size`` clips: random horizontal flips (p = 0.5, same generator),
   forward, loss (stage 1: BAM cross-entropy; stage 2: MPJPE + 0.5 N-MPJPE + 20 velocity), a NaN/Inf
   check, backward, optional gradient clipping, AdamW step at the rate :func:`learning_rate` gives:
   ``lr * lr_decay ** epoch`` (the official per-epoch decay) or a cosine from ``lr`` to ``lr * lr_final``,
   after ``warmup_steps`` of linear warm-up; with ``time_budget`` the run ends when its optimiser steps
   have used that many seconds, and the cosine follows whichever of steps and seconds runs out first;
3. validation every ``val_every`` epochs (stage 1: theta-class accuracy; stage 2: P1/P2 in mm);
4. a checkpoint (weights, AdamW state, RNG states, history) every ``checkpoint_every`` epochs.

Resuming (``resume=True``) restores all of that state and continues with the next epoch, so the final
weights are bit-identical to an uninterrupted run on CPU (tests/test_train_resume.py checks it).

Around the loop: ``run_folder.py`` (where the checkpoint goes; refusing a folder the run would damage),
``data.py`` (the splits, converted and checked once), ``distributed.py`` (threads, device, DDP ranks),
``checkpoint.py`` (the file format).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from ..data.geometry import flip_poses
from ..models.inputs import check_model_input
from .build import load_weights
from .checkpoint import CheckpointError, optimizer_from_flat, optimizer_to_flat, read_checkpoint, save_checkpoint
from .config import RESUME_MAY_CHANGE, TrainConfig
from .data import clip_tensors, load_split
from .distributed import Ranks, training_process
from .records import format_epoch
from .run_folder import checkpoint_dir, has_checkpoint, preflight
from .stages import Stage, get_stage

__all__ = [
    "fit",
    "FitResult",
    "TrainingDiverged",
    "Run",
    "learning_rate",
    "make_optimizer",
    "run_epochs",
    "train_epoch",
    "train_step",
    "save",
    "restore",
]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (unwrapped, eval mode, on the CPU), its history and checkpoint."""

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
        return cfg.lr * cfg.lr_decay**epoch * warm
    progress = step / max(1, total_steps)
    if cfg.time_budget:
        progress = max(progress, elapsed / cfg.time_budget)
    progress = min(1.0, progress)
    return cfg.lr * (cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))) * warm


def make_optimizer(params, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW as both stages (and ``bench train``) use it: the fused kernel, one pass over all parameters.

    The model has ~150 small parameter tensors; the per-tensor loop of the default AdamW took 17 ms of a
    ~330 ms CPU step (fused: 2.5 ms; cpu preset, batch 8, T 27, one thread).
    Same update rule and state dict as the default implementation, so checkpoints resume either way.
    """
    params = list(params)
    fused = all(p.dtype in (torch.float32, torch.float64) and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused or None)


@dataclass
class Run:
    """Everything an epoch needs, set up once by :func:`fit`."""

    cfg: TrainConfig
    stage: Stage
    model: torch.nn.Module  # the network (unwrapped): what is saved and returned
    net: torch.nn.Module  # what the forward runs: ``model`` or its DDP wrapper
    optimizer: torch.optim.Optimizer
    generator: torch.Generator  # the shuffling and the flips (its state is checkpointed)
    x: torch.Tensor  # (N, T, 17, 3) training inputs
    y: torch.Tensor  # (N, T, 17, 3) training targets
    device: torch.device
    ranks: Ranks
    folder: Path  # the checkpoint folder
    steps: int  # optimiser steps per epoch
    global_batch: int  # clips per step, over all ranks
    start_epoch: int = 0  # epochs already done (a resumed run)
    history: list = field(default_factory=list)
    elapsed: float = 0.0  # seconds of optimiser steps so far
    saved_at: Path | None = None  # the last checkpoint written (or resumed from)


def fit(
    cfg: TrainConfig,
    resume: bool = False,
    train_set=None,
    val_set=None,
    callbacks: Sequence[Callable[[dict], None]] = (),
) -> FitResult:
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
        ValueError: empty splits, bad data.
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"fit needs a TrainConfig (load_config(path) or TrainConfig(...)), got {type(cfg).__name__}")
    folder = checkpoint_dir(cfg)
    preflight(cfg, resume, folder)  # a folder this run would damage is refused before any work
    # the data is converted and checked here, once: no step checks it again
    x, y = clip_tensors(train_set if train_set is not None else load_split(cfg, "train"), "training split")
    if cfg.val_every == 0:
        val_set = None
    elif val_set is None:
        val_set = load_split(cfg, "test")
    val_x = clip_tensors(val_set, "validation split")[0] if val_set is not None else None

    with training_process(cfg.num_threads, cfg.device) as (ranks, device):
        stage = get_stage(cfg)
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        model = stage.build(cfg).to(device).train()
        check_model_input(model, x, "the training split's inputs")
        if val_x is not None:
            check_model_input(model, val_x, "the validation split's inputs")
        optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg.lr, cfg.weight_decay)
        global_batch = min(cfg.batch_size, len(x))
        run = Run(
            cfg=cfg,
            stage=stage,
            model=model,
            net=model,
            optimizer=optimizer,
            generator=torch.Generator().manual_seed(cfg.seed),
            x=x,
            y=y,
            device=device,
            ranks=ranks,
            folder=folder,
            steps=_steps_per_epoch(len(x), cfg),
            global_batch=global_batch,
        )
        if resume and has_checkpoint(folder):
            run.start_epoch = restore(run)
            _say(run, f"resumed {cfg.name} from {folder} after epoch {run.start_epoch}")
        elif resume:
            _say(run, f"--resume: no checkpoint at {folder} yet, starting from scratch")
        if global_batch % ranks.world:
            _say(
                run,
                f"note: batch_size {global_batch} is not divisible by {ranks.world} ranks; ranks get unequal shares",
            )
        run.net = ranks.wrap(model, device)
        run_epochs(run, val_set, callbacks)
    model.cpu().eval()
    return FitResult(
        model=model,
        config=cfg,
        history=run.history,
        checkpoint=folder if (folder / "manifest.json").is_file() else None,
    )


def run_epochs(run: Run, val_set=None, callbacks: Sequence[Callable[[dict], None]] = ()) -> list:
    """The run: train epochs, validate, checkpoint, report, until ``cfg.epochs`` or the time budget."""
    cfg = run.cfg
    for epoch in range(run.start_epoch, cfg.epochs):
        rec, out_of_time = train_epoch(run, epoch)
        last = epoch + 1 == cfg.epochs or out_of_time
        if val_set is not None and ((epoch + 1) % cfg.val_every == 0 or last):
            if run.ranks.rank == 0:
                rec.update(run.stage.validate(run.model, val_set, flip=cfg.flip_test))
            run.ranks.barrier()
        run.history.append(rec)
        if run.ranks.rank == 0:
            if cfg.progress:
                print(f"[{cfg.name}] epoch {epoch + 1}/{cfg.epochs}: {format_epoch(rec)}")  # errors in mm
            if (epoch + 1) % cfg.checkpoint_every == 0 or last:
                run.saved_at = save(run, epoch + 1)
            for cb in callbacks:
                cb(rec)
        run.ranks.barrier()
        if out_of_time:
            break
    return run.history


def train_epoch(run: Run, epoch: int) -> tuple[dict, bool]:
    """Train one epoch of ``run``: (its history record without validation, whether the time budget ran out)."""
    cfg = run.cfg
    t0 = time.perf_counter()
    seconds, loss_sum, term_sums, done, out_of_time = 0.0, 0.0, {}, 0, False
    perm = torch.randperm(len(run.x), generator=run.generator)
    bar = _progress_bar(run, epoch)
    for step in range(run.steps):
        ts = time.perf_counter()
        lr = learning_rate(cfg, epoch, epoch * run.steps + step, run.steps * cfg.epochs, run.elapsed + seconds)
        loss, terms = train_step(run, epoch, step, perm, lr)
        seconds += time.perf_counter() - ts
        done += 1
        loss_sum += loss
        for k, v in terms.items():  # tensors: summed on the device, read once below
            term_sums[k] = term_sums.get(k, 0.0) + v
        if bar is not None:
            bar.set_postfix(
                loss=f"{loss_sum / done:.4f}",
                frames_per_s=f"{done * run.global_batch * run.x.shape[1] / (time.perf_counter() - t0):.0f}",
            )
            bar.update()
        if cfg.time_budget and run.ranks.any(run.elapsed + seconds >= cfg.time_budget):
            out_of_time = True  # every rank stops at the same step
            break
    if bar is not None:
        bar.close()
    run.elapsed += seconds
    rec = {
        "epoch": epoch + 1,
        "train_loss": loss_sum / done,
        "lr": lr,
        "seconds": time.perf_counter() - t0,
        "train_seconds": seconds,
        "steps": done,
        "frames_per_s": done * run.global_batch * run.x.shape[1] / seconds,
    }
    rec.update({f"train_{k}": float(v) / done for k, v in term_sums.items()})
    if out_of_time:
        rec["stopped_by_time_budget"] = True  # finished early on purpose, not interrupted
    return rec, out_of_time


def train_step(run: Run, epoch: int, step: int, perm: torch.Tensor, lr: float) -> tuple[float, dict]:
    """One AdamW step at learning rate ``lr`` on global batch ``step`` of ``perm``: (the loss averaged over
    the ranks, the loss terms as tensors).  Raises ``TrainingDiverged`` before a NaN/Inf loss reaches the weights."""
    cfg, ranks = run.cfg, run.ranks
    idx = perm[step * run.global_batch : (step + 1) * run.global_batch]
    # flips drawn for the whole global batch, then split: every rank and a resumed run draw the same numbers
    flips = torch.rand(len(idx), generator=run.generator) < 0.5
    idx, flips = idx[ranks.rank :: ranks.world], flips[ranks.rank :: ranks.world]
    xb, yb = run.x[idx], run.y[idx]
    if cfg.flip_augment and flips.any():
        xb, yb = xb.clone(), yb.clone()
        xb[flips], yb[flips] = flip_poses(xb[flips]), flip_poses(yb[flips])
    xb, yb = xb.to(run.device, non_blocking=True), yb.to(run.device, non_blocking=True)
    loss, terms = run.stage.loss(run.model, run.net(xb), yb, cfg)
    global_loss = float(ranks.mean(loss.detach()))  # the step's one host sync: the divergence check
    if not math.isfinite(global_loss):
        kept = (
            f"the last good checkpoint is kept at {run.saved_at}" if run.saved_at else "no checkpoint was written yet"
        )
        raise TrainingDiverged(
            f"{cfg.name}: the loss became {global_loss} at epoch {epoch + 1}, step {step + 1}; "
            f"{kept}. Lower lr (this step's was {lr:.3g}), set grad_clip, or check the data for "
            "extreme values"
        )
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.grad_clip:
        torch.nn.utils.clip_grad_norm_([p for p in run.model.parameters() if p.requires_grad], cfg.grad_clip)
    run.optimizer.step()
    return global_loss, terms


def save(run: Run, epoch: int) -> Path:
    """Write ``run``'s checkpoint after ``epoch`` epochs: the weights, the resolved config (and the frozen BAM's),
    and what a resume needs to continue bit for bit: AdamW's state, both RNG states, the history."""
    opt_tensors, opt_meta = optimizer_to_flat(run.optimizer)
    state = {**opt_tensors, "rng.torch": torch.get_rng_state(), "rng.shuffle": run.generator.get_state()}
    meta = {"epoch": epoch, "optimizer": opt_meta, "history": run.history}
    bam = run.stage.bam_config
    config = {
        "train_config": run.cfg.to_dict(),
        "bam": None if bam is None else bam.to_dict(),
        "epoch": epoch,
        "metrics": run.history[-1] if run.history else {},
    }
    return save_checkpoint(run.folder, run.model.state_dict(), state, meta, config)


def restore(run: Run) -> int:
    """Load ``run``'s checkpoint into it (weights, AdamW, RNG states, history); returns the epochs it holds.

    Raises ``CheckpointError`` when it was trained with other maths (only ``RESUME_MAY_CHANGE`` may differ).
    """
    ckpt = read_checkpoint(run.folder)
    saved, now = _flat(ckpt["config"]["train_config"]), _flat(run.cfg.math_fields())
    diffs = [
        f"{k}: checkpoint {saved.get(k)!r} vs config {now.get(k)!r}"
        for k in sorted(set(saved) | set(now))
        if k not in RESUME_MAY_CHANGE and saved.get(k) != now.get(k)
    ]
    if diffs:
        raise CheckpointError(
            f"cannot resume from {ckpt['dir']}: it was trained with a different config "
            f"({'; '.join(diffs)}). Resume with the same config (only {RESUME_MAY_CHANGE} may "
            "change), or start a fresh run with a new name / out_dir"
        )
    load_weights(run.model, ckpt["model_state"], ckpt["dir"])
    meta = ckpt["state_meta"]
    run.optimizer.load_state_dict(optimizer_from_flat(ckpt["state_tensors"], meta["optimizer"]))
    torch.set_rng_state(ckpt["state_tensors"]["rng.torch"])
    run.generator.set_state(ckpt["state_tensors"]["rng.shuffle"])
    run.history = list(meta["history"])
    run.elapsed = sum(h.get("train_seconds", 0.0) for h in run.history)
    run.saved_at = ckpt["dir"]
    return int(meta["epoch"])


# ------------------------------------------------------------------------------------ small helpers
def _flat(config: dict) -> dict:
    """A config dict with the model's fields as ``model.<field>`` (so a difference names the field)."""
    out = {k: v for k, v in config.items() if k != "model"}
    out.update({f"model.{k}": v for k, v in (config.get("model") or {}).items()})
    return out


def _steps_per_epoch(n: int, cfg: TrainConfig) -> int:
    steps = max(1, n // cfg.batch_size)
    return min(steps, cfg.steps_per_epoch) if cfg.steps_per_epoch else steps


def _say(run: Run, text: str) -> None:
    if run.ranks.rank == 0:
        print(text)


def _progress_bar(run: Run, epoch: int):
    if not (run.cfg.progress and run.ranks.rank == 0):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=run.steps, desc=f"{run.cfg.name} epoch {epoch + 1}/{run.cfg.epochs}", leave=False)
