"""Realism benchmark: the default generator's motion statistics vs real CMU motion capture.

    python -m mdtf_lite.bench data [--subjects S9 S11] [--seed 0]

Prints, for each statistic (``mdtf_lite.data.motion_stats``), the 5th / 50th / 95th percentiles over
all default test takes, over the CMU BVH clips of the shared folder, and the 1-D Wasserstein
distance between the two; then the same for like-for-like pairs (default Walking vs CMU walks
131_01/131_02, default Jumping vs CMU forward jumps 01_01 and hops 131_03).
All figures are measured on each run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _row(name, a, b) -> str:
    from mdtf_lite.data.motion_stats import wasserstein_1d

    qa, qb = np.percentile(a, [5, 50, 95]), np.percentile(b, [5, 50, 95])
    fmt = lambda q: "/".join(f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}" for x in q)  # noqa: E731
    return f"| {name:22s} | {fmt(qa):>18s} | {fmt(qb):>18s} | {wasserstein_1d(a, b):8.3f} |"


def table(stats_a: dict, stats_b: dict, label_a: str, label_b: str) -> str:
    lines = [f"| {'statistic':22s} | {label_a + ' p5/p50/p95':>18s} | {label_b + ' p5/p50/p95':>18s} | {'W1':>8s} |",
             f"|{'-' * 24}|{'-' * 20}|{'-' * 20}|{'-' * 10}|"]
    for k in stats_a:
        lines.append(_row(k, stats_a[k], stats_b[k]))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.bench data", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", nargs="+", default=["S9", "S11"], help="default-dataset subjects to measure")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from mdtf_lite.data.cmu import cmu_bvh_files, load_cmu_bvh
    from mdtf_lite.data.default import ensure_default_dataset
    from mdtf_lite.data.layout import read_layout
    from mdtf_lite.data.motion_stats import summarise

    t0 = time.perf_counter()
    lay = read_layout(ensure_default_dataset(seed=args.seed), kinds=(), subjects=set(args.subjects))
    default = {f"{s}/{a}": x.astype(np.float64) for s, acts in lay.positions_3d.items() for a, x in acts.items()}
    try:
        files = cmu_bvh_files()
    except FileNotFoundError as exc:
        print(f"CMU clips unavailable, nothing to compare: {exc}")
        return 1
    cmu = {f.stem: load_cmu_bvh(f) for f in files}
    n_def = sum(len(x) for x in default.values())
    n_cmu = sum(len(x) for x in cmu.values())
    print(f"default: {len(default)} takes of {args.subjects}, {n_def} frames; CMU: {len(cmu)} clips "
          f"({', '.join(cmu)}), {n_cmu} frames; 50 fps (loaded in {time.perf_counter() - t0:.1f} s)\n")
    print("All takes (percentiles p5/p50/p95; W1 = 1-D Wasserstein distance, in the statistic's unit)\n")
    print(table(summarise(list(default.values())), summarise(list(cmu.values())), "default", "CMU"))
    pairs = {"Walking": (["Walking"], ["131_01", "131_02"]), "Jumping": (["Jumping"], ["01_01", "131_03"])}
    for name, (acts, takes) in pairs.items():
        a = [x for k, x in default.items() if k.split("/")[1].split(" ")[0] in acts]
        b = [cmu[t] for t in takes if t in cmu]
        if a and b:
            print(f"\n{name}: default {name} takes vs CMU {', '.join(t for t in takes if t in cmu)}\n")
            print(table(summarise(a), summarise(b), "default", "CMU"))
    print(f"\n(measured in {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
