"""Realism benchmark: the default generator's motion statistics vs the real TRAINING people's motion capture.

    python -m mdtf_lite.bench data [--subjects S9 S11] [--seed 0]

The real side is the shipped mocap of the training people (``mdtf_lite.data.mocap``, split "train": CMU 02
03 05 06, HDM05 bd bk), never the test people (CMU 01, HDM05 dg) nor the CMU clips of ``../shared/mocap/cmu``
(subject 131's styled walks among them): whatever is tuned on this benchmark must not see a test person.
It prints

1. the medians side by side (``realism_table``), first default Walking against the training people's
   ordinary walks (CMU 02_01, 02_02, 05_01: motion class "Walk"), then every default test take against every
   training clip: knee, elbow, hip, shoulder and spine angles (``motion_stats.joint_angles``), foot sliding
   at ground contact, and the median frequency of the joint-speed spectra (``motion_stats.speed_spectrum``),
   with the issue's bars (knee and elbow medians within 8 degrees, foot sliding at contact <= 0.08 m/s)
   marked met or not;
2. the knee and elbow medians per default action and per real motion class (where a gap comes from),
   beside the medians of the normative gait curves the generator's walk and jog are built from;
3. for each statistic the 5th / 50th / 95th percentiles over all default test takes and over the real
   training clips, with the 1-D Wasserstein distance between the two; then the same for like-for-like
   pairs (default Walking vs the walks, default Jumping vs the jumps and hops: CMU 02_04, HDM05 "Hop").

All figures are measured on each run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mdtf_lite.data.layout import read_layout
from mdtf_lite.data.mocap import load_mocap
from mdtf_lite.data.people import action_name, subject_name
from mdtf_lite.data.synthetic.actions import KNEE_RUN, KNEE_WALK, periodic_curve
from mdtf_lite.data.synthetic.default import ensure_default_dataset
from mdtf_lite.data.synthetic.motion_stats import (
    SPECTRUM_JOINTS,
    foot_skate,
    joint_angles,
    median_frequency,
    speed_spectrum,
    summarise,
    wasserstein_1d,
)


def _row(name, a, b) -> str:
    qa, qb = np.percentile(a, [5, 50, 95]), np.percentile(b, [5, 50, 95])
    fmt = lambda q: "/".join(f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}" for x in q)  # noqa: E731
    return f"| {name:22s} | {fmt(qa):>18s} | {fmt(qb):>18s} | {wasserstein_1d(a, b):8.3f} |"


def table(stats_a: dict, stats_b: dict, label_a: str, label_b: str) -> str:
    lines = [
        f"| {'statistic':22s} | {label_a + ' p5/p50/p95':>18s} | {label_b + ' p5/p50/p95':>18s} | {'W1':>8s} |",
        f"|{'-' * 24}|{'-' * 20}|{'-' * 20}|{'-' * 10}|",
    ]
    for k in stats_a:
        lines.append(_row(k, stats_a[k], stats_b[k]))
    return "\n".join(lines)


#: motion classes (``data.people.motion_class``) of the like-for-like pairs: default action -> real classes
PAIRS = {"Walking": ("Walk",), "Jumping": ("Jump", "Hop")}


def real_training_clips(classes=None) -> dict[str, np.ndarray]:
    """The real training people's clips, ``{"CMU02/Walk 02_01": (T, 17, 3) float64 world metres}``; ``classes``
    keeps only those motion classes (the first word of the action, ``data.people.action_name``)."""
    out = {}
    for c in load_mocap(split="train"):
        action = action_name(c.database, c.person, c.clip)
        if classes is None or action.split(" ")[0] in classes:
            out[f"{subject_name(c.database, c.person)}/{action}"] = np.asarray(c.positions, np.float64)
    return out


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
    return {
        "angles": {k: np.concatenate(v) for k, v in angles.items()},
        "foot_slide": np.concatenate([foot_skate(w) for w in worlds]),
        "spectra": {g: speed_spectrum(worlds, j) for g, j in SPECTRUM_JOINTS.items()},
    }


def realism_rows(a: dict, b: dict) -> list[dict]:
    """Rows (quantity, unit, median a, median b, gap, bar, met) comparing two ``realism_stats`` outputs."""
    rows = []
    for k in a["angles"]:
        ma, mb = float(np.median(a["angles"][k])), float(np.median(b["angles"][k]))
        bar = ANGLE_BAR_DEG.get(k)
        rows.append(
            {
                "quantity": f"{k} angle",
                "unit": "deg",
                "a": ma,
                "b": mb,
                "gap": ma - mb,
                "bar": None if bar is None else f"|gap| <= {bar:g}",
                "met": None if bar is None else abs(ma - mb) <= bar,
            }
        )
    fa, fb = float(np.median(a["foot_slide"])), float(np.median(b["foot_slide"]))
    rows.append(
        {
            "quantity": "foot sliding at contact",
            "unit": "m/s",
            "a": fa,
            "b": fb,
            "gap": fa - fb,
            "bar": f"<= {FOOT_SLIDE_BAR:g}",
            "met": fa <= FOOT_SLIDE_BAR,
        }
    )
    for g in a["spectra"]:
        ma, mb = median_frequency(*a["spectra"][g]), median_frequency(*b["spectra"][g])
        rows.append(
            {
                "quantity": f"{g} speed, median frequency",
                "unit": "Hz",
                "a": ma,
                "b": mb,
                "gap": ma - mb,
                "bar": None,
                "met": None,
            }
        )
    return rows


def realism_table(rows: list[dict], label_a: str = "default", label_b: str = "real") -> str:
    """The rows of ``realism_rows`` as a markdown table (medians side by side)."""
    lines = [
        f"| quantity (median) | {label_a} | {label_b} | {label_a} - {label_b} | bar | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(
            f"| {r['quantity']} ({r['unit']}) | {r['a']:.2f} | {r['b']:.2f} | {r['gap']:+.2f} | "
            f"{r['bar'] or ''} | {met} |"
        )
    return "\n".join(lines)


def breakdown_table(default: dict, real: dict) -> str:
    """Knee and elbow medians (degrees) per default action (pooled over takes) and per real motion class
    (``"<subject>/<class> <clip>"`` keys, pooled over clips and people), and the medians of the generator's
    normative walking and running curves (``actions.KNEE_WALK`` ...).

    The knee's lower quartile tells a bent-knee style from bent phases: a normal gait straightens the knee
    to within ~10 degrees for a good part of every cycle (heel strike to terminal stance)."""
    groups: dict[str, list] = {}
    for key, w in default.items():
        groups.setdefault("default " + key.split("/")[1].split(" ")[0], []).append(w)
    for key, w in real.items():
        groups.setdefault("real " + key.split("/")[1].split(" ")[0], []).append(w)
    lines = ["| sequences | frames | knee median | knee p25 (lower quartile) | elbow median |", "|---|---|---|---|---|"]
    for name, ws in groups.items():
        ang = [joint_angles(w) for w in ws]
        knee = np.concatenate([x["knee"] for x in ang])
        elbow = np.median(np.concatenate([x["elbow"] for x in ang]))
        lines.append(
            f"| {name} | {sum(len(w) for w in ws)} | {np.median(knee):.1f} | {np.percentile(knee, 25):.1f} "
            f"| {elbow:.1f} |"
        )
    u = np.linspace(0, 1, 1000, endpoint=False)
    for name, pts in (("walking", KNEE_WALK), ("running", KNEE_RUN)):
        curve = periodic_curve(pts)(u)
        lines.append(
            f"| gait-lab norm, {name} knee curve | - | {np.median(curve):.1f} | {np.percentile(curve, 25):.1f} | - |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m mdtf_lite.bench data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--subjects", nargs="+", default=["S9", "S11"], help="default-dataset subjects to measure")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    lay = read_layout(ensure_default_dataset(seed=args.seed), kinds=(), subjects=set(args.subjects))
    default = {f"{s}/{a}": x.astype(np.float64) for s, acts in lay.positions_3d.items() for a, x in acts.items()}
    real = real_training_clips()
    people = sorted({k.split("/")[0] for k in real})
    print(
        f"default: {len(default)} takes of {args.subjects}, {sum(len(x) for x in default.values())} frames; real "
        f"training people {', '.join(people)}: {len(real)} clips, {sum(len(x) for x in real.values())} frames; "
        f"50 fps (loaded in {time.perf_counter() - t0:.1f} s)\n"
    )
    pairs = {}
    for name, classes in PAIRS.items():
        a = [x for k, x in default.items() if k.split("/")[1].split(" ")[0] == name]
        b = {k: x for k, x in real.items() if k.split("/")[1].split(" ")[0] in classes}
        pairs[name] = (a, b)
    walks_a, walks_b = pairs["Walking"]
    if walks_a and walks_b:
        print(
            f"Medians side by side: default Walking vs the training people's walks "
            f"({', '.join(k.split(' ')[-1] for k in walks_b)})\n"
        )
        print(
            realism_table(
                realism_rows(realism_stats(walks_a), realism_stats(list(walks_b.values()))), "default", "real walks"
            )
        )
    print("\nMedians side by side: every default test take vs every real training clip\n")
    print(realism_table(realism_rows(realism_stats(list(default.values())), realism_stats(list(real.values())))))
    print("\nWhere the knee and elbow medians come from\n")
    print(breakdown_table(default, real))
    print("\nAll takes (percentiles p5/p50/p95; W1 = 1-D Wasserstein distance, in the statistic's unit)\n")
    print(table(summarise(list(default.values())), summarise(list(real.values())), "default", "real"))
    for name, (a, b) in pairs.items():
        if a and b:
            print(f"\n{name}: default {name} takes vs real {', '.join(b)}\n")
            print(table(summarise(a), summarise(list(b.values())), "default", "real"))
    print(f"\n(measured in {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
