"""Selective-scan benchmark: time and peak memory of every CPU scan, and the floor this machine allows.

    python -m mdtf_lite.bench scan                      # the README table (L in 17, 81, 243, 1024, 4096)
    python -m mdtf_lite.bench scan --lengths 17,81 --reps 2 --budget 20

Shapes are MDTF-Tiny's temporal scan: B = 68 sequences (4 clips x 17 joints), D = 64, N = 16.
Rows: ``cpu`` (numba kernels, the default), ``torch`` (pure-PyTorch chunked scan), ``reference``
(a well-written sequential loop over ``unbind`` views), mamba-ssm's ``selective_scan_ref`` and
mamba.py's parallel scan ``pscan`` (Blelloch, with mamba.py's own discretisation around it).
Ratios are ``selective_scan_ref`` time / row time.  Peak memory is the growth of the process's peak
resident set during one call (Linux: /proc/self/clear_refs resets the peak; glibc's mmap threshold
is pinned at 128 KiB so large buffers go back to the OS when freed).  A cell whose predicted time exceeds ``--budget``
seconds is skipped (``selective_scan_ref``'s backward is quadratic in L) and printed as ``skip``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import sys
import time

import torch

from mdtf_lite.ssm import selective_scan
from mdtf_lite.ssm.cpu import numba_available, selective_scan_torch

ROWS = ("cpu", "torch", "reference", "selective_scan_ref", "mambapy")


# ----------------------------------------------------------------------------- inputs and scans
def make_inputs(batch: int, d_inner: int, n_state: int, length: int, seed: int = 0, requires_grad: bool = True):
    """Random float32 scan inputs: u, delta (B, D, L); A (D, N); B, C (B, N, L); D (D,)."""
    g = torch.Generator().manual_seed(seed)
    x = dict(
        u=torch.randn(batch, d_inner, length, generator=g),
        delta=torch.randn(batch, d_inner, length, generator=g) * 0.5 - 1.0,
        A=-torch.exp(torch.randn(d_inner, n_state, generator=g) * 0.5),
        B=torch.randn(batch, n_state, length, generator=g),
        C=torch.randn(batch, n_state, length, generator=g),
        D=torch.randn(d_inner, generator=g),
    )
    return {k: v.requires_grad_(requires_grad) for k, v in x.items()}


def _mambapy_scan(u, delta, A, B, C, D):
    """mamba.py's selective scan around its parallel ``pscan``, in its own (B, L, D) layout."""
    from mambapy.pscan import pscan

    delta = torch.nn.functional.softplus(delta)
    delta_a = torch.exp(delta.unsqueeze(-1) * A)  # (B, L, D, N)
    bx = delta.unsqueeze(-1) * B.unsqueeze(2) * u.unsqueeze(-1)  # (B, L, D, N)
    hs = pscan(delta_a, bx)
    return (hs @ C.unsqueeze(-1)).squeeze(3) + D * u  # (B, L, D)


def scan_callable(row: str, x: dict):
    """A zero-argument function running one forward scan of ``row`` on inputs ``x``; returns y."""
    from mdtf_lite.ssm.mamba_ssm_backend import load_selective_scan_ref

    args = (x["u"], x["delta"], x["A"], x["B"], x["C"])
    kw = dict(D=x["D"], delta_softplus=True)
    if row in ("cpu", "reference"):
        return lambda: selective_scan(*args, backend=row, **kw)
    if row == "torch":
        return lambda: selective_scan_torch(*args, **kw)
    if row == "selective_scan_ref":
        ref = load_selective_scan_ref()
        return lambda: ref(*args, **kw)
    if row == "mambapy":
        # mamba.py's layout is (B, L, D): transpose once, outside the timed call (leaf tensors keep grads)
        t = {
            k: (v.detach().transpose(1, 2).contiguous().requires_grad_(v.requires_grad) if v.dim() == 3 else v)
            for k, v in x.items()
        }
        return lambda: _mambapy_scan(t["u"], t["delta"], t["A"], t["B"], t["C"], t["D"])
    raise ValueError(f"unknown benchmark row {row!r}; choose from {ROWS}")


# ----------------------------------------------------------------------------- measuring
@contextlib.contextmanager
def threads(n: int):
    """Run the block with ``n`` torch and numba threads (n <= 0: unchanged), then restore them."""
    if n <= 0:
        yield
        return
    old = torch.get_num_threads()
    try:
        import numba
    except ImportError:
        numba = None
    old_nb = numba.get_num_threads() if numba else None
    torch.set_num_threads(n)
    if numba:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(old)
        if numba:
            numba.set_num_threads(old_nb)


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _pin_mmap_threshold() -> None:
    """glibc: serve blocks >= 128 KiB with mmap (returned to the OS on free), so RSS follows live memory."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    _pin_mmap_threshold()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(fn, backward: bool, reps: int = 3, min_time: float = 2.0, clock: str = "wall"):
    """Run ``fn`` (and ``y.sum().backward()`` if ``backward``) and return (best seconds, peak MiB or nan).

    ``clock="wall"`` times with ``perf_counter``; ``clock="cpu"`` with this process's CPU time
    (``process_time``), which on a shared machine leaves out the time spent descheduled -- with one
    thread it is the wall time the call would take on an idle core.  One call measures time and
    peak-RSS growth; further calls (up to ``reps``) only refine the time, and are skipped once a call
    takes longer than ``min_time`` seconds.
    """
    timer = time.process_time if clock == "cpu" else time.perf_counter

    def once():
        t0 = timer()
        if backward:
            fn().float().sum().backward()
        else:
            with torch.no_grad():
                fn()
        return timer() - t0

    gc.collect()
    base = _rss_kib("VmRSS")
    can_peak = _reset_peak()
    best = once()
    peak = (_rss_kib("VmHWM") - base) / 1024 if can_peak else float("nan")
    for _ in range(reps - 1):
        if best > min_time:
            break
        best = min(best, once())
    return best, peak


def machine_rates(n: int = 1 << 16, repeat: int = 100, clock: str = "wall") -> dict:
    """This machine's measured float32 rates for all its threads: exp/s and FMA/s on cache-resident data
    (compute-bound; measured on one thread and multiplied by the thread count, which avoids timing
    OpenMP synchronisation) and copy bandwidth in bytes/s on a 64 MiB buffer (all threads)."""
    threads = torch.get_num_threads()
    x = torch.rand(n) * -4
    y = torch.empty_like(x)

    def exps():
        for _ in range(repeat):
            torch.exp(x, out=y)

    a = torch.randn(256, 256)
    big = torch.empty(1 << 24)
    big2 = torch.empty_like(big)
    out = {}
    torch.set_num_threads(1)
    try:
        for name, op, count in (("exp_per_s", exps, n * repeat), ("fma_per_s", lambda: a @ a, 256**3)):
            op()
            out[name] = threads * count / min(_timed(op, clock) for _ in range(3))
    finally:
        torch.set_num_threads(threads)
    big2.copy_(big)
    out["bytes_per_s"] = 2 * 4 * big.numel() / min(_timed(lambda: big2.copy_(big), clock) for _ in range(3))
    return out


def _timed(op, clock: str = "wall") -> float:
    timer = time.process_time if clock == "cpu" else time.perf_counter
    t0 = timer()
    op()
    return timer() - t0


def floor_seconds(batch, d_inner, n_state, length, rates, backward: bool) -> float:
    """Lower bound for a fused scan: the exps and FMAs it must do, at this machine's torch rates.

    Per (b, d, n, t): forward 1 exp + 3 FMA-class ops (h update, the B product, the C dot);
    forward+backward adds the backward's 1 exp (recomputed, not stored) and ~8 FMA-class ops.
    Bytes (inputs/outputs of size B*D*L and B*N*L, read a few times) are negligible next to that.
    """
    cells = batch * d_inner * n_state * length
    exps, fmas = (2, 11) if backward else (1, 3)
    return cells * (exps / rates["exp_per_s"] + fmas / rates["fma_per_s"])


# ----------------------------------------------------------------------------- the table
def _predict(history, length, row, backward):
    """Predicted seconds for (row, L) from the previous length: linear, quadratic for ref's backward."""
    if not history:
        return 0.0
    prev_len, prev_t = history[-1]
    power = 2 if (row == "selective_scan_ref" and backward) else 1
    return prev_t * (length / prev_len) ** power


def run_table(
    lengths, batch, d_inner, n_state, reps, budget, rows=ROWS, out=print, floor: bool = True, clock: str = "wall"
):
    """Measure every (row, L) cell; print and return the table as a list of dicts."""
    for row in rows:  # warm up (numba compile, imports) on a tiny input
        scan_callable(row, make_inputs(2, 4, 2, 8))().sum().backward()
    results = []
    exp_pass = {}
    history = {(r, b): [] for r in rows for b in (False, True)}
    for length in lengths:
        x = make_inputs(batch, d_inner, n_state, length)
        cells = torch.rand(batch * d_inner * n_state * length) * -1.0
        torch.exp(cells)
        exp_pass[length] = min(_timed(lambda c=cells: torch.exp(c), clock) for _ in range(3))  # the exps alone, now
        del cells
        for row in rows:
            rec = {"row": row, "L": length}
            for backward, key in ((False, "fwd"), (True, "fwdbwd")):
                hist = history[(row, backward)]
                if _predict(hist, length, row, backward) > budget:
                    rec[key], rec[key + "_mib"] = None, None
                    continue
                t, m = measure(scan_callable(row, x), backward, reps, clock=clock)
                print(f"  measured L={length} {row} {key}: {t * 1e3:.1f} ms", file=sys.stderr, flush=True)
                hist.append((length, t))
                rec[key], rec[key + "_mib"] = t, m
            results.append(rec)
    _print_table(results, lengths, rows, out)
    if not floor:
        return results, None
    rates = machine_rates(clock=clock)
    out(
        f"\nmachine rates (torch, float32, {torch.get_num_threads()} threads): "
        f"exp {rates['exp_per_s'] / 1e9:.2f} G/s, fma {rates['fma_per_s'] / 1e9:.2f} G/s, "
        f"copy {rates['bytes_per_s'] / 1e9:.1f} GB/s (FMA rate from a 256^3 matmul)"
    )
    out(
        f"floor = B*D*N*L x (exps / exp-rate + FMAs / fma-rate): 1 exp + 3 FMA forward, 2 exp + 11 FMA fwd+bwd; "
        f"cpu kernels: {'numba' if numba_available() else 'torch fallback (numba missing)'}"
    )
    out(
        "exp pass = torch.exp over B*D*N*L numbers, timed right before that length's rows (the fused scan must "
        "do 1 such pass forward, 2 forward+backward)"
    )
    out(
        f"{'L':>6} {'floor fwd':>10} {'cpu fwd':>10} {'x floor':>8} {'floor f+b':>10} {'cpu f+b':>10} {'x floor':>8}"
        f" {'exp pass':>10} {'fwd/exp':>8} {'f+b/exp':>8}"
    )
    for length in lengths:
        cpu = next((r for r in results if r["row"] == "cpu" and r["L"] == length), None)
        if cpu is None:
            continue
        ff = floor_seconds(batch, d_inner, n_state, length, rates, False)
        fb = floor_seconds(batch, d_inner, n_state, length, rates, True)
        ep = exp_pass[length]
        out(
            f"{length:>6} {ff * 1e3:>8.1f}ms {cpu['fwd'] * 1e3:>8.1f}ms {cpu['fwd'] / ff:>8.1f} "
            f"{fb * 1e3:>8.1f}ms {cpu['fwdbwd'] * 1e3:>8.1f}ms {cpu['fwdbwd'] / fb:>8.1f}"
            f" {ep * 1e3:>8.1f}ms {cpu['fwd'] / ep:>8.1f} {cpu['fwdbwd'] / ep:>8.1f}"
        )
    return results, rates


def _print_table(results, lengths, rows, out):
    def fmt_t(t):
        return "skip" if t is None else (f"{t * 1e3:.1f}ms" if t < 10 else f"{t:.1f}s")

    def fmt_m(m):
        return "-" if m is None or m != m else f"{m:.0f}MiB"

    out(f"\n{'L':>6} {'scan':<19} {'fwd':>9} {'fwd mem':>8} {'x ref':>7} {'fwd+bwd':>9} {'f+b mem':>8} {'x ref':>7}")
    for length in lengths:
        ref = (
            next(r for r in results if r["row"] == "selective_scan_ref" and r["L"] == length)
            if "selective_scan_ref" in rows
            else None
        )
        for rec in (r for r in results if r["L"] == length):
            ratios = []
            for key in ("fwd", "fwdbwd"):
                ok = ref is not None and ref[key] is not None and rec[key] is not None
                ratios.append(f"{ref[key] / rec[key]:.1f}" if ok else "-")
            out(
                f"{length:>6} {rec['row']:<19} {fmt_t(rec['fwd']):>9} {fmt_m(rec['fwd_mib']):>8} {ratios[0]:>7} "
                f"{fmt_t(rec['fwdbwd']):>9} {fmt_m(rec['fwdbwd_mib']):>8} {ratios[1]:>7}"
            )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m mdtf_lite.bench scan", description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", default="17,81,243,1024,4096", help="comma-separated sequence lengths L")
    p.add_argument("--batch", type=int, default=68, help="B: sequences (4 clips x 17 joints)")
    p.add_argument("--d-inner", type=int, default=64, help="D: channels")
    p.add_argument("--n-state", type=int, default=16, help="N: state size")
    p.add_argument("--reps", type=int, default=3, help="timed calls per cell (best is kept)")
    p.add_argument("--budget", type=float, default=60.0, help="skip cells predicted to take longer (s)")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch and numba threads (0 = leave as is); 1 gives steadier numbers on a shared machine",
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or this process's CPU time (steadier on a shared machine; use with --threads 1)",
    )
    p.add_argument("--rows", default=",".join(ROWS), help=f"subset of {','.join(ROWS)}")
    a = p.parse_args(argv)
    rows = tuple(r for r in a.rows.split(",") if r)
    bad = [r for r in rows if r not in ROWS]
    if bad:
        p.error(f"unknown rows {bad}; choose from {ROWS}")
    lengths = [int(v) for v in a.lengths.split(",") if v]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"selective scan, B={a.batch} D={a.d_inner} N={a.n_state}, float32, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"load average at start {load:.2f}, clock: {a.clock} time"
    )
    with threads(a.threads):
        print(f"threads: {torch.get_num_threads()}")
        run_table(lengths, a.batch, a.d_inner, a.n_state, a.reps, a.budget, rows, clock=a.clock)
    print(f"load average at end {os.getloadavg()[0]:.2f} (other processes share these cores: times are upper bounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
