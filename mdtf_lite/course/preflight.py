"""Before a long run: which real data is present, is there a GPU, and what will the run cost?

    python -m mdtf_lite preflight [--config full] [--no-probe] [--force]

* :func:`real_sources` lists the converted real Human3.6M folders under ``data/`` (``h36m`` =
  ``data/h36m_vp3d/``, ``motionbert`` = ``data/motionbert_h36m/``: ``dataset.json`` + the arrays written by
  ``python -m data_tools convert-*``); :func:`pick_source` is the choice notebooks 02 and 06 make
  ("auto": the config's real source if present, else any real source, else the generated default data).
* :func:`preflight_full` runs before ``python -m mdtf_lite series run --params full``: it refuses to start
  (:class:`PreflightError`) without the real files and a CUDA GPU unless ``force``, and prints an
  **estimate** of time and memory: the per-step time and peak memory of the full recipe's model, measured
  now on this machine for a few optimiser steps on random clips of the recipe's shape, times the number of
  steps the recipe takes (epochs x ceil(training clips / batch)).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mdtf_lite.data.sources import SOURCE_FOLDERS, source_dir
from mdtf_lite.models import build_model
from mdtf_lite.paths import data_dir as default_dir
from mdtf_lite.train import load_config, pose_loss
from mdtf_lite.train.ensure import config_path

__all__ = [
    "PreflightError",
    "Estimate",
    "real_sources",
    "pick_source",
    "gpu_available",
    "estimate_training",
    "preflight_full",
    "main",
    "REAL_SOURCES",
]

REAL_SOURCES = ("motionbert", "h36m")  # the Human3.6M sources, the official recipe's first


class PreflightError(RuntimeError):
    """The run would start without what it needs (the message says what is missing and how to proceed)."""


@dataclass
class Estimate:
    """Measured cost of one optimiser step, and the recipe's total (an estimate, not a promise)."""

    stage: str
    device: str
    step_s: float
    peak_mb: float
    steps: int
    clips: int
    clips_known: bool

    probe_batch: int = 0

    @property
    def total_s(self) -> float:
        return self.step_s * self.steps

    def describe(self) -> str:
        clips = f"{self.clips:,d} training clips" + ("" if self.clips_known else " (assumed: the real data is absent)")
        total = self.total_s
        when = (
            f"{total / 3600:,.1f} h" if total >= 3600 else f"{total / 60:.1f} min" if total >= 60 else f"{total:.0f} s"
        )
        scaled = (
            " (measured on short clips, batch 1 and 4 at T <= 27, extrapolated linearly to the batch and T)"
            if self.probe_batch
            else ""
        )
        return (
            f"{self.stage}: {self.step_s * 1000:,.0f} ms per step on {self.device}{scaled}, peak memory "
            f"~{self.peak_mb:,.0f} MB; {self.steps:,d} steps ({clips}) -> ~{when} (an estimate)"
        )


def real_sources(data_dir: Path | None = None) -> dict[str, Path]:
    """Converted real Human3.6M folders present under ``data_dir`` (default ``mdtf_lite.paths.data_dir()``)."""
    root = Path(data_dir) if data_dir else default_dir()
    found = {}
    for name in REAL_SOURCES:
        folder = root / SOURCE_FOLDERS[name]
        if (folder / "dataset.json").is_file() and (folder / "positions_3d.npz").is_file():
            found[name] = folder
    return found


def pick_source(source: str = "auto", preferred: str | None = None, data_dir: Path | None = None) -> str:
    """ "auto" -> ``preferred`` if its real files are present, else the first real source present, else "default".

    Any other value is returned unchanged (an explicit choice; ``load_clips`` reports a missing folder).
    """
    if source != "auto":
        return source
    present = real_sources(data_dir)
    if preferred in present:
        return preferred
    return next(iter(present), "default")


def gpu_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def zipfile_error():
    import zipfile

    return zipfile.BadZipFile


def _npz_shapes(path: Path) -> dict[str, tuple]:
    """Array shapes of an .npz from the headers only (nothing is decompressed beyond the header)."""
    import zipfile

    import numpy as np

    shapes = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            with z.open(name) as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, _ = read(f)
            shapes[name[:-4] if name.endswith(".npy") else name] = shape
    return shapes


def _count_clips(cfg, data_dir: Path | None) -> tuple[int, bool]:
    """Training clips of cfg's source (T frames, stride ``data.stride`` or T), or a stated assumption if absent."""

    frames = int(cfg.data.get("frames", 27))
    stride = int(cfg.data.get("stride") or frames)
    source = cfg.data.get("source", "default")
    folder = Path(data_dir) / SOURCE_FOLDERS.get(source, source) if data_dir else source_dir(source)
    train = set(cfg.data.get("subjects") or ("S1", "S5", "S6", "S7", "S8"))
    try:
        lengths = [
            shape[0] for key, shape in _npz_shapes(folder / "positions_3d.npz").items() if key.split("/")[0] in train
        ]
        n = 4 * sum(max(0, (m - frames) // stride + 1) for m in lengths)  # four cameras per take
        if cfg.data.get("max_clips"):
            n = min(n, int(cfg.data["max_clips"]))
        return max(n, 1), True
    except (OSError, KeyError, ValueError, zipfile_error()):
        # assumption, not a measurement: Human3.6M's training subjects, about 1.56 M frames over 4 cameras
        return math.ceil(1_559_752 / stride), False


def _measure_step(cfg, steps: int = 3, batch: int | None = None, frames: int | None = None) -> tuple[float, float, str]:
    """Median seconds and peak memory (MB) of an optimiser step of cfg's model on random clips of its shape.

    ``batch`` / ``frames`` (default the config's) set the probe's clip shape.  Memory: on a GPU
    ``torch.cuda.max_memory_allocated``; on a CPU the tensors autograd saves for the backward pass
    (counted once per storage) plus weights, gradients and AdamW's two moments.
    """
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = build_model(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    b, t = int(batch or cfg.batch_size), int(frames or cfg.data.get("frames", 27))
    x, y, tokens = (torch.randn(b, t, 17, 3, device=device) for _ in range(3))
    x[..., 2] = torch.rand(b, t, 17, device=device)  # channel 2 is a detector confidence in [0, 1]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    saved: dict[int, int] = {}

    def pack(tensor):
        try:
            saved[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        except (RuntimeError, NotImplementedError):
            pass
        return tensor

    times = []
    for i in range(steps + 1):  # step 0 is a warm-up
        t0 = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            try:
                pred = model(x, bone_tokens=tokens)
            except TypeError:
                pred = model(x)
            loss, _ = pose_loss(pred, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        params = sum(p.numel() * p.element_size() for p in model.parameters())
        peak = (sum(saved.values()) + 4 * params) / 2**20
    return sorted(times)[len(times) // 2], peak, device


def estimate_training(cfg, data_dir: Path | None = None, probe_steps: int = 2) -> Estimate:
    """Measure a few steps of ``cfg``'s model (a TrainConfig) and scale to the whole run.

    On a CPU one step of MDTF-Tiny at T = 243 takes many seconds, so there the probe runs one clip of at
    most 27 frames and scales time and memory linearly to the recipe's batch and T (the temporal Mamba is
    linear in T; the estimate says it was scaled).  On a GPU it measures the recipe's own shape.
    """
    import torch

    clips, known = _count_clips(cfg, data_dir)
    per_epoch = cfg.steps_per_epoch or math.ceil(clips / cfg.batch_size)
    frames = int(cfg.data.get("frames", 27))
    scaled = not torch.cuda.is_available() and (cfg.batch_size > 1 or frames > 27)
    if scaled:
        # two probes of short clips (batch 1 and 4, T <= 27) fit time = fixed + per-clip x clips, then the
        # recipe's batch x T / probe T "short clips" per step; memory scales the per-clip part the same way
        probe_t = min(frames, 27)
        t1, m1, device = _measure_step(cfg, probe_steps, batch=1, frames=probe_t)
        t4, m4, _ = _measure_step(cfg, probe_steps, batch=4, frames=probe_t)
        per_clip_t, per_clip_m = max((t4 - t1) / 3, 0.0), max((m4 - m1) / 3, 0.0)
        n = cfg.batch_size * frames / probe_t
        step_s = max(t1 - per_clip_t, 0.0) + per_clip_t * n
        peak = max(m1 - per_clip_m, 0.0) + per_clip_m * n
    else:
        step_s, peak, device = _measure_step(cfg, probe_steps)
    return Estimate(cfg.stage, device, step_s, peak, cfg.epochs * per_epoch, clips, known, 1 if scaled else 0)


def preflight_full(
    force: bool = False, config: str = "full", probe: bool = True, data_dir: Path | None = None, out=print
) -> list[str]:
    """Check what ``--params full`` needs; print an estimate; raise PreflightError unless ready or ``force``.

    Returns the list of problems found (empty when ready).
    """
    cfg = load_config(config_path(config))
    present = real_sources(data_dir)
    problems = []
    if not present:
        where = Path(data_dir) if data_dir else default_dir()
        problems.append(
            f"no real Human3.6M files in {where} (looked for motionbert_h36m/ and h36m_vp3d/ with "
            "dataset.json + positions_3d.npz); convert them first: README, 'Data'"
        )
    elif cfg.data.get("source") not in present:
        out(
            f"note: {config}.yaml names source {cfg.data.get('source')!r}; found {sorted(present)} -- the notebooks "
            "use the real source that is present"
        )
    if not gpu_available():
        problems.append("no CUDA GPU (torch.cuda.is_available() is False): the official recipe takes days on a CPU")
    out(
        f"preflight for --params full (configs/{config}.yaml: {cfg.epochs} epochs, batch {cfg.batch_size}, "
        f"T = {cfg.data.get('frames')}, model {cfg.model.name})"
    )
    if probe:
        try:
            est = estimate_training(cfg, data_dir)
            out("  " + est.describe())
        except Exception as exc:  # an estimate must never be the reason a run fails
            out(f"  (no estimate: measuring a step failed with {type(exc).__name__}: {exc})")
    for p in problems:
        out(f"  missing: {p}")
    if problems and not force:
        raise PreflightError(
            "refusing to start --params full: " + "; ".join(problems) + ". Pass --force to start anyway."
        )
    if problems:
        out("  --force: starting anyway")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite preflight", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="full", help="training config to estimate (default full)")
    ap.add_argument("--no-probe", action="store_true", help="skip measuring a few training steps")
    ap.add_argument("--force", action="store_true", help="report problems but exit 0")
    args = ap.parse_args(argv)
    try:
        preflight_full(force=args.force, config=args.config, probe=not args.no_probe)
    except PreflightError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0
