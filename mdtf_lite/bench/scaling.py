"""Time and peak memory of a temporal stack, BiMamba vs self-attention, as the clip length T grows.

    python -m mdtf_lite.bench.scaling --lengths 27 81 243 729 2187 4096 [--depth 2 --dim 64 --sequences 17]

MDTF's temporal blocks scan each joint's trajectory (L = T) with a bidirectional Mamba: work and
memory grow linearly in T.  A MixSTE-like model uses self-attention there: T^2 work.  This measures
both on the same residual block (``mamba_block`` vs ``attention_block``, equal width C and depth),
on ``sequences`` trajectories at once (17 = the joints of one clip), forward only, ``torch.no_grad``.

Every mixer runs in its own fresh Python process (``--worker``) after one warm-up pass.  Peak memory
is the highest resident memory sampled every millisecond during one forward pass, minus the resident
memory just before it (inputs already allocated): the extra memory the pass needs.  Times are medians of ``repeats`` runs after one warm-up.  Note: PyTorch's CPU
``scaled_dot_product_attention`` is a fused kernel that never stores the T x T matrix, so attention's
*memory* stays near-linear while its *time* shows the T^2; ``--naive-attention`` adds a variant that
materialises softmax(QK^T) the textbook way.

Nothing here is asserted by tests: the numbers depend on the machine and on what else runs on it
(the load average is printed with them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

MIXERS = ("mamba", "attention", "naive_attention")

__all__ = ["MIXERS", "build_stack", "run_worker", "measure_scaling", "main"]


def _rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """Context manager sampling this process's resident memory every ``interval`` s in a thread.

    ``peak_mb`` = highest sample minus the resident memory on entry: the extra memory one forward
    pass needed (activations, attention matrices, scan buffers), in MB.
    """

    def __init__(self, interval: float = 0.001):
        import threading

        self.interval, self.peak_mb, self._stop = interval, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _rss_mb() - self._base)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._base = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, _rss_mb() - self._base)


def build_stack(mixer: str, depth: int, dim: int, heads: int = 8, backend: str = "auto"):
    """A stack of ``depth`` temporal blocks, (B, L, C) -> (B, L, C); same residual block, different mixer."""
    import torch

    from mdtf_lite.models.baselines import SelfAttention, attention_block
    from mdtf_lite.models.blocks import ResidualBlock, mamba_block

    class NaiveAttention(SelfAttention):
        """Textbook attention: softmax(Q K^T / sqrt(d)) V with the (B, heads, L, L) matrix in memory."""

        def forward(self, x):
            b, length, c = x.shape
            q, k, v = self.qkv(x).reshape(b, length, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
            att = (q @ k.transpose(-1, -2) / (c // self.num_heads) ** 0.5).softmax(-1)
            return self.proj((att @ v).transpose(1, 2).reshape(b, length, c))

    if mixer == "mamba":
        blocks = [mamba_block(dim, scan_backend=backend) for _ in range(depth)]
    elif mixer == "attention":
        blocks = [attention_block(dim, num_heads=heads) for _ in range(depth)]
    elif mixer == "naive_attention":
        blocks = [ResidualBlock(dim, NaiveAttention(dim, heads)) for _ in range(depth)]
    else:
        raise ValueError(f"mixer must be one of {MIXERS}, got {mixer!r}")
    return torch.nn.Sequential(*blocks).eval()


def run_worker(
    mixer: str, lengths: list[int], depth: int, dim: int, sequences: int, repeats: int, backend: str, max_seconds: float
) -> list[dict]:
    """Measure in *this* process (call it in a fresh one): one row per length, increasing lengths."""
    import torch

    torch.manual_seed(0)
    stack = build_stack(mixer, depth, dim, backend=backend)
    rows = []
    with torch.no_grad():  # one-off costs (kernel compilation, thread pools) before anything is measured
        stack(torch.randn(sequences, min(lengths), dim))
    for length in sorted(lengths):
        x = torch.randn(sequences, length, dim)
        with torch.no_grad():
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                stack(x)  # warm-up, memory, and a first timing (used to skip repeats of very slow runs)
                first = time.perf_counter() - t0
            times = [first]
            if first * repeats < max_seconds:
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    stack(x)
                    times.append(time.perf_counter() - t0)
        rows.append(
            {
                "mixer": mixer,
                "T": length,
                "seconds": statistics.median(times),
                "runs": len(times),
                "peak_mb": mem.peak_mb,
                "sequences": sequences,
                "depth": depth,
                "dim": dim,
            }
        )
        del x
        if first > max_seconds:  # longer lengths would only be slower: stop, and say so
            break
    return rows


def measure_scaling(
    lengths,
    mixers=("mamba", "attention"),
    depth: int = 2,
    dim: int = 64,
    sequences: int = 17,
    repeats: int = 3,
    backend: str = "auto",
    max_seconds: float = 60.0,
    timeout: float = 1800,
) -> list[dict]:
    """Run :func:`run_worker` for each mixer in a fresh subprocess; return all rows (list of dicts).

    Rows: mixer, T, seconds (median), runs, peak_mb (peak resident memory above the pre-forward
    baseline), sequences, depth, dim.  A mixer whose warm-up run at some T exceeds ``max_seconds``
    stops there (its longer lengths are missing from the rows).
    """
    lengths = sorted(int(t) for t in lengths)
    if not lengths or lengths[0] < 1:
        raise ValueError(f"lengths must be positive integers, got {lengths}")
    rows = []
    for mixer in mixers:
        if mixer not in MIXERS:
            raise ValueError(f"mixer must be one of {MIXERS}, got {mixer!r}")
        cmd = [
            sys.executable,
            "-m",
            "mdtf_lite.bench.scaling",
            "--worker",
            "--mixer",
            mixer,
            "--lengths",
            *map(str, lengths),
            "--depth",
            str(depth),
            "--dim",
            str(dim),
            "--sequences",
            str(sequences),
            "--repeats",
            str(repeats),
            "--backend",
            backend,
            "--max-seconds",
            str(max_seconds),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"scaling worker for {mixer!r} failed:\n{res.stderr[-2000:]}")
        rows += json.loads(res.stdout.strip().splitlines()[-1])
    return rows


def _load() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unavailable"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.bench.scaling", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[27, 81, 243, 729, 2187, 4096])
    ap.add_argument("--mixers", nargs="+", default=["mamba", "attention"], choices=MIXERS)
    ap.add_argument("--mixer", choices=MIXERS, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--naive-attention", action="store_true", help="also time textbook attention (T x T in memory)")
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--sequences", type=int, default=17, help="trajectories at once (17 = one clip's joints)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backend", default="auto", help="selective-scan backend of the Mamba blocks")
    ap.add_argument("--max-seconds", type=float, default=60.0, help="stop a mixer once one run takes longer")
    args = ap.parse_args(argv)
    if args.worker:
        rows = run_worker(
            args.mixer, args.lengths, args.depth, args.dim, args.sequences, args.repeats, args.backend, args.max_seconds
        )
        print(json.dumps(rows))
        return 0
    mixers = list(args.mixers) + (
        ["naive_attention"] if args.naive_attention and "naive_attention" not in args.mixers else []
    )
    print(f"temporal stacks: depth {args.depth}, C = {args.dim}, {args.sequences} sequences, no_grad; {_load()}")
    rows = measure_scaling(
        args.lengths, mixers, args.depth, args.dim, args.sequences, args.repeats, args.backend, args.max_seconds
    )
    print(f"{'mixer':>16} {'T':>6} {'seconds':>9} {'peak MB':>9}")
    for r in rows:
        print(f"{r['mixer']:>16} {r['T']:>6} {r['seconds']:>9.4f} {r['peak_mb']:>9.1f}")
    print(_load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
