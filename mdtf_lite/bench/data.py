"""Realism benchmark: the default generator's motion statistics vs real CMU motion capture.

    python -m mdtf_lite.bench data [--subjects S9 S11] [--seed 0]

Prints

1. the medians side by side (``realism_table``): knee, elbow, hip, shoulder and spine angles
   (``motion_stats.joint_angles``), foot sliding at ground contact, and the median frequency of the
   joint-speed spectra (``motion_stats.speed_spectrum``), with the issue's bars (knee and elbow medians
   within 8 degrees of CMU's, foot sliding at contact <= 0.08 m/s) marked met or not;
2. the knee and elbow medians per default action and per CMU clip (where a gap comes from), beside the
   medians of the normative gait curves the generator's walk and jog are built from;
3. for each statistic the 5th / 50th / 95th percentiles over all default test takes and over the CMU
   BVH clips of the shared folder, with the 1-D Wasserstein distance between the two; then the same for
   like-for-like pairs (default Walking vs CMU walks 131_01/131_02, default Jumping vs CMU forward
   jumps 01_01 and hops 131_03).

The CMU clips are a held-out check: nothing in the generator is fitted to them.
All figures are measured on each run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mdtf_lite.data.layout import read_layout
from mdtf_lite.data.readers.cmu import cmu_bvh_files, load_cmu_bvh
from mdtf_lite.data.synthetic.actions import KNEE_RUN, KNEE_WALK, periodic_curve
from mdtf_lite.data.synthetic.default import ensure_default_dataset
from mdtf_lite.data.synthetic.motion_stats import (SPECTRUM_JOINTS, foot_skate, joint_angles, median_frequency,
                                                   speed_spectrum, summarise, wasserstein_1d)


def _row(name, a, b) -> str:
    qa, qb = np.percentile(a, [5, 50, 95]), np.percentile(b, [5, 50, 95])
    fmt = lambda q: "/".join(f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}" for x in q)  # noqa: E731
    return f"| {name:22s} | {fmt(qa):>18s} | {fmt(qb):>18s} | {wasserstein_1d(a, b):8.3f} |"


def table(stats_a: dict, stats_b: dict, label_a: str, label_b: str) -> str:
    lines = [f"| {'statistic':22s} | {label_a + ' p5/p50/p95':>18s} | {label_b + ' p5/p50/p95':>18s} | {'W1':>8s} |",
             f"|{'-' * 24}|{'-' * 20}|{'-' * 20}|{'-' * 10}|"]
    for k in stats_a:
        lines.append(_row(k, stats_a[k], stats_b[k]))
    return "\n".join(lines)


#: the issue's bars: |median gap| of these angles (degrees) and foot sliding at contact (m/s)
ANGLE_BAR_DEG = {"knee": 8.0, "elbow": 8.0}
FOOT_SLIDE_BAR = 0.08


def realism_stats(worlds: list) -> dict:
    """Pooled joint angles (degrees), foot sliding at contact (m/s) and speed spectra of (T, 17, 3) sequences.

    Returns ``{"angles": {joint: (n,)}, "foot_slide": (m,), "spectra": {group: (freqs, power)}}``.
    """
    angles: dict[str, list] = {}
    for w in worlds:
        for k, v in joint_angles(w).items():
            angles.setdefault(k, []).append(v)
    return {"angles": {k: np.concatenate(v) for k, v in angles.items()},
            "foot_slide": np.concatenate([foot_skate(w) for w in worlds]),
            "spectra": {g: speed_spectrum(worlds, j) for g, j in SPECTRUM_JOINTS.items()}}


def realism_rows(a: dict, b: dict) -> list[dict]:
    """Rows (quantity, unit, median a, median b, gap, bar, met) comparing two ``realism_stats`` outputs."""
    rows = []
    for k in a["angles"]:
        ma, mb = float(np.median(a["angles"][k])), float(np.median(b["angles"][k]))
        bar = ANGLE_BAR_DEG.get(k)
        rows.append({"quantity": f"{k} angle", "unit": "deg", "a": ma, "b": mb, "gap": ma - mb,
                     "bar": None if bar is None else f"|gap| <= {bar:g}", "met": None if bar is None else abs(ma - mb) <= bar})
    fa, fb = float(np.median(a["foot_slide"])), float(np.median(b["foot_slide"]))
    rows.append({"quantity": "foot sliding at contact", "unit": "m/s", "a": fa, "b": fb, "gap": fa - fb,
                 "bar": f"<= {FOOT_SLIDE_BAR:g}", "met": fa <= FOOT_SLIDE_BAR})
    for g in a["spectra"]:
        ma, mb = median_frequency(*a["spectra"][g]), median_frequency(*b["spectra"][g])
        rows.append({"quantity": f"{g} speed, median frequency", "unit": "Hz", "a": ma, "b": mb, "gap": ma - mb,
                     "bar": None, "met": None})
    return rows


def realism_table(rows: list[dict], label_a: str = "default", label_b: str = "CMU") -> str:
    """The rows of ``realism_rows`` as a markdown table (medians side by side)."""
    lines = [f"| quantity (median) | {label_a} | {label_b} | {label_a} - {label_b} | bar | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['quantity']} ({r['unit']}) | {r['a']:.2f} | {r['b']:.2f} | {r['gap']:+.2f} | "
                     f"{r['bar'] or ''} | {met} |")
    return "\n".join(lines)


def breakdown_table(default: dict, cmu: dict) -> str:
    """Knee and elbow medians (degrees) per default action (pooled over takes) and per CMU clip, and the
    medians of the generator's normative walking and running curves (``actions.KNEE_WALK`` ...).

    The knee's lower quartile tells a bent-knee style from bent phases: a normal gait straightens the knee
    to within ~10 degrees for a good part of every cycle (heel strike to terminal stance)."""
    groups: dict[str, list] = {}
    for key, w in default.items():
        groups.setdefault("default " + key.split("/")[1].split(" ")[0], []).append(w)
    for key, w in cmu.items():
        groups["CMU " + key] = [w]
    lines = ["| sequences | frames | knee median | knee p25 (lower quartile) | elbow median |", "|---|---|---|---|---|"]
    for name, ws in groups.items():
        ang = [joint_angles(w) for w in ws]
        knee = np.concatenate([x["knee"] for x in ang])
        elbow = np.median(np.concatenate([x["elbow"] for x in ang]))
        lines.append(f"| {name} | {sum(len(w) for w in ws)} | {np.median(knee):.1f} | {np.percentile(knee, 25):.1f} "
                     f"| {elbow:.1f} |")
    u = np.linspace(0, 1, 1000, endpoint=False)
    for name, pts in (("walking", KNEE_WALK), ("running", KNEE_RUN)):
        curve = periodic_curve(pts)(u)
        lines.append(f"| gait-lab norm, {name} knee curve | - | {np.median(curve):.1f} | {np.percentile(curve, 25):.1f} | - |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.bench data", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", nargs="+", default=["S9", "S11"], help="default-dataset subjects to measure")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

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
    rows = realism_rows(realism_stats(list(default.values())), realism_stats(list(cmu.values())))
    print("Medians side by side (the issue's bars; CMU is the held-out check, nothing is fitted to it)\n")
    print(realism_table(rows))
    print("\nWhere the knee and elbow medians come from\n")
    print(breakdown_table(default, cmu))
    print("\nAll takes (percentiles p5/p50/p95; W1 = 1-D Wasserstein distance, in the statistic's unit)\n")
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
