"""Model benchmark: MDTF-Tiny CPU inference speed, MAC efficiency, temporal scaling of Mamba vs attention.

    python -m mdtf_lite.bench model [--frames 27 81 243] [--repeats 3] [--backend cpu] [--threads N] [--quick]

Prints three measured tables (nothing here is asserted by tests):

1. This machine's float32 matmul rate (square ``torch.mm``, best of a few runs), in GMAC/s.
2. MDTF-Tiny (official configuration, T_max = 243) inference, batch 1, ``torch.no_grad``, for each
   clip length T: seconds per clip, output frames per second (sequence-to-sequence: every frame is
   predicted), and the achieved MAC rate = MACs/frame x frames/s, as a fraction of the matmul rate.
   MACs/frame come from ``mdtf_lite.models.macs.macs_per_frame`` (matmuls + convs + the analytic scan).
3. Temporal scaling: a stack of temporal blocks at equal width (C = 64) over one clip's 17 joint
   sequences, BiMamba vs self-attention, time(T = 2048) / time(T = 256).  Linear-time Mamba should be
   near 8 (the ratio of lengths; the target is <= 10); attention's T^2 term pushes it far above.

The machine has 2 cores that other processes may share: the load average is printed next to the
figures, and timings are medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from mdtf_lite.models import build_model, get_config, macs_per_frame
from mdtf_lite.models.baselines import attention_block
from mdtf_lite.models.blocks import mamba_block

OFFICIAL_MACS = {"tiny": 12.8e6, "large": 58.7e6}


def _median_time(fn, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median wall-clock and process-CPU seconds of ``fn()`` over ``repeats`` runs.

    CPU time counts this process's threads only, so it is much less disturbed than wall time when
    other processes compete for the cores (with 2 threads it can exceed wall time).
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def matmul_rate(size: int = 1024, repeats: int = 5) -> float:
    """Measured float32 matmul throughput in MAC/s (best of ``repeats`` square products)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = min(_median_time(lambda: torch.mm(a, b), 1, warmup=0)[0] for _ in range(repeats))
    return size**3 / best


def _load() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unavailable"


def bench_tiny(frames: list[int], repeats: int, backend: str, mac_rate: float) -> list[dict]:
    torch.manual_seed(0)
    model = build_model(get_config("tiny", scan_backend=backend, drop_path=0.0)).eval()
    macs = macs_per_frame(model, frames=min(frames))["total"]
    rows = []
    for t in frames:
        x = torch.rand(1, t, 17, 3) * 2 - 1
        x[..., 2] = x[..., 2].abs()  # confidences live in [0, 1]
        tokens = torch.rand(1, t, 17, 3)
        with torch.no_grad():
            sec, cpu = _median_time(lambda: model(x, bone_tokens=tokens), repeats)
        fps = t / sec
        rows.append(
            {
                "T": t,
                "sec_per_clip": sec,
                "cpu_sec_per_clip": cpu,
                "frames_per_s": fps,
                "gmac_per_s": macs * fps / 1e9,
                "fraction_of_matmul": macs * fps / mac_rate,
            }
        )
    print(
        f"MDTF-Tiny (823,269 params), batch 1, no_grad, scan backend {backend!r}; "
        f"MACs/frame {macs / 1e6:.2f} M (official README: {OFFICIAL_MACS['tiny'] / 1e6:.1f} M)"
    )
    print(f"{'T':>5} {'s/clip':>9} {'cpu s/clip':>11} {'frames/s':>10} {'GMAC/s':>8} {'of matmul rate':>15}")
    for r in rows:
        print(
            f"{r['T']:>5} {r['sec_per_clip']:>9.3f} {r['cpu_sec_per_clip']:>11.3f} {r['frames_per_s']:>10.1f} "
            f"{r['gmac_per_s']:>8.2f} {r['fraction_of_matmul']:>14.1%}"
        )
    return rows


def bench_scaling(lengths: tuple[int, int], depth: int, dim: int, repeats: int, backend: str) -> dict:
    torch.manual_seed(0)
    stacks = {
        "BiMamba": torch.nn.Sequential(*[mamba_block(dim, scan_backend=backend) for _ in range(depth)]).eval(),
        "attention": torch.nn.Sequential(*[attention_block(dim, num_heads=8) for _ in range(depth)]).eval(),
    }
    result = {}
    print(f"temporal stack: {depth} blocks, C = {dim}, 17 sequences (one clip's joints), no_grad")
    print(
        f"{'mixer':>10} "
        + " ".join(f"{f'T={t} s':>10}" for t in lengths)
        + f" {'ratio':>7}"
        + " ".join(f"{f'cpu s T={t}':>13}" for t in lengths)
        + f" {'cpu ratio':>10}"
    )
    for name, stack in stacks.items():
        wall, cpu = [], []
        for t in lengths:
            x = torch.randn(17, t, dim)
            with torch.no_grad():
                w, c = _median_time(lambda: stack(x), repeats)
            wall.append(w)
            cpu.append(c)
        result[name] = {"wall": wall, "cpu": cpu, "ratio": wall[1] / wall[0], "cpu_ratio": cpu[1] / cpu[0]}
        print(
            f"{name:>10} "
            + " ".join(f"{s:>10.3f}" for s in wall)
            + f" {wall[1] / wall[0]:>7.1f}"
            + " ".join(f"{s:>13.3f}" for s in cpu)
            + f" {cpu[1] / cpu[0]:>10.1f}"
        )
    print(
        f"(length ratio {lengths[1] / lengths[0]:.0f}: linear time gives ~{lengths[1] / lengths[0]:.0f}; "
        "target for Mamba <= 10)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdtf_lite.bench model", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[27, 81, 243], help="clip lengths T for MDTF-Tiny")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--backend", default="cpu", help="selective-scan backend (default: cpu)")
    parser.add_argument("--scaling", type=int, nargs=2, default=[256, 2048], metavar=("T_SHORT", "T_LONG"))
    parser.add_argument("--scaling-depth", type=int, default=2, help="blocks in the temporal stacks")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="T = 27 only, 1 repeat, scaling 64 -> 512")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.frames, args.repeats, args.scaling = [27], 1, [64, 512]
    if max(args.frames) > 243:
        parser.error("--frames: MDTF-Tiny's temporal embedding covers at most 243 frames")

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; {_load()}")
    print("(the cores may be shared with other processes: compare figures from the same run)\n")
    rate = matmul_rate()
    print(f"float32 matmul (1024^3, torch.mm): {rate / 1e9:.2f} GMAC/s\n")
    bench_tiny(args.frames, args.repeats, args.backend, rate)
    print()
    bench_scaling(tuple(args.scaling), args.scaling_depth, 64, args.repeats, args.backend)
    print(f"\n{_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
