"""Training throughput: MDTF as stage 2 trains it vs the attention and MLP baselines, side by side.

    python -m mdtf_lite.bench train [--threads 2] [--backends cpp cpu reference] [--repeats 5] [--quick]

For each shape the paper's claim is about -- T = 27 with batch 16 (the CPU recipe) and T = 243 with
batch 2 (the official window) -- and each scan backend, it times in ONE process, with the same threads
and the same random clips:

* ``train``: one optimiser step (forward + loss + backward + AdamW) of the full stage-2 model: MDTF
  with its bone stream and a frozen BAM attached (the BAM makes the bone tokens, as in training);
* ``infer``: a forward pass under ``torch.no_grad`` in eval mode;

(subnormal floats flushed to zero for all models alike, as ``mdtf_lite.train.fit`` does);

for MDTF, the MixSTE-like attention model of the same width and depth, and the per-frame MLP.  Figures
are frames per second (clips x T / median seconds of ``--repeats`` steps after a warm-up step), and the
ratio MDTF / attention.  The issue's bar: >= 0.7x at T = 27 and >= 2x at T = 243.

Every model uses the "cpu" preset's width and depth (C 32, depth 4) with ``n_frames`` set to T.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from mdtf_lite.models import build_model, get_config
from mdtf_lite.models.factory import build_bam
from mdtf_lite.ssm import available_backends
from mdtf_lite.train.config import load_config
from mdtf_lite.train.ensure import config_path
from mdtf_lite.train.loop import make_optimizer
from mdtf_lite.train.losses import pose_loss

SHAPES = ((27, 16), (243, 2))  # (T, clips per batch)
BAM_CONFIG = "bam-default"  # the frozen BAM stage 2 of `make run` attaches


def build(arch: str, frames: int, backend: str) -> torch.nn.Module:
    """The model as the stage-2 loop trains it: ``mdtf`` gets a frozen BAM attached."""
    if arch == "mdtf":
        model = build_model(get_config("cpu", n_frames=frames, scan_backend=backend))
        bam = load_config(config_path(BAM_CONFIG)).model.replace(scan_backend=backend)
        model.attach_bam(build_bam(bam))
        return model
    return build_model(get_config("cpu", arch=arch, n_frames=frames))


def _clips(batch: int, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, frames, 17, 3, generator=g) * 0.3
    x[..., 2] = torch.rand(batch, frames, 17, generator=g)
    return x, torch.randn(batch, frames, 17, 3, generator=g) * 0.2


def time_steps(model: torch.nn.Module, batch: int, frames: int, repeats: int, train: bool) -> float:
    """Frames per second of ``repeats`` training steps (or inference passes) after one warm-up."""
    x, y = _clips(batch, frames)
    if train:
        model.train()
        opt = make_optimizer([p for p in model.parameters() if p.requires_grad], 1e-4, 0.01)  # as fit() does

        def step():
            loss, _ = pose_loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)

    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return batch * frames / statistics.median(times)


def measure(backends, threads: int, repeats: int, shapes=SHAPES) -> list[dict]:
    """Rows {T, batch, backend, mode, mdtf, mixste, mlp (frames/s), ratio} measured in this process."""
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # as the training loop runs (mdtf_lite.train.loop.fit)
    rows = []
    for frames, batch in shapes:
        for mode in ("train", "infer"):
            base = {
                arch: time_steps(build(arch, frames, "auto"), batch, frames, repeats, mode == "train")
                for arch in ("mixste", "mlp")
            }
            for backend in backends:
                torch.manual_seed(0)
                fps = time_steps(build("mdtf", frames, backend), batch, frames, repeats, mode == "train")
                rows.append(
                    {
                        "T": frames,
                        "batch": batch,
                        "mode": mode,
                        "backend": backend,
                        "mdtf": fps,
                        **base,
                        "ratio": fps / base["mixste"],
                    }
                )
    return rows


def format_table(rows: list[dict], threads: int) -> str:
    lines = [
        f"frames/s on {threads} thread(s) (load average {os.getloadavg()[0]:.2f}); ratio = MDTF / attention",
        "",
        "| T | batch | mode | scan backend | MDTF | attention (MixSTE-like) | per-frame MLP | MDTF / attention |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['T']} | {r['batch']} | {r['mode']} | {r['backend']} | {r['mdtf']:,.0f} | "
            f"{r['mixste']:,.0f} | {r['mlp']:,.0f} | {r['ratio']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.bench train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--backends",
        nargs="+",
        default=None,
        help="scan backends for MDTF (default: every CPU backend available here but the slow 'torch')",
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="T = 27 only, 2 repeats (a smoke run)")
    args = ap.parse_args(argv)
    have = available_backends("cpu")
    backends = args.backends or [b for b in ("cpp", "cpu", "reference") if b in have]
    missing = [b for b in backends if b not in have]
    if missing:
        print(f"unavailable here: {missing}; available: {have}")
        return 2
    shapes = SHAPES[:1] if args.quick else SHAPES
    rows = measure(backends, args.threads, 2 if args.quick else args.repeats, shapes)
    print(format_table(rows, args.threads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
