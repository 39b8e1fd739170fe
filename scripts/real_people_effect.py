"""What training with real people changes: the stage-2 models of two `make run`s scored on the same clips.

    python scripts/real_people_effect.py before=/path/to/old/runs/default after=runs/default [--max-clips 512]

Each ``label=RUN_DIR`` names a run folder holding ``checkpoints/default`` (MDTF) and ``checkpoints/mlp-default``
(the per-frame MLP trained for the same budget), as ``make run`` leaves them.  Every model is scored with
notebook 07's protocol (flip test-time augmentation, 27-frame clips, at most ``--max-clips`` clips per group)
on the *current* default dataset's test groups -- the procedural test subjects (S9, S11) and the real test
people (CMU 01, HDM05 dg), never trained on by either run -- and on the CMU clips of ``../shared/mocap/cmu``
(skipped when absent).  Prints one markdown table; nothing is asserted, nothing is tuned.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mdtf_lite.data import cmu_clips
from mdtf_lite.data.readers.cmu import shared_cmu_dir
from mdtf_lite.eval import evaluate_groups, groups_table, load_groups
from mdtf_lite.train import load_checkpoint


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", metavar="LABEL=RUN_DIR")
    parser.add_argument("--max-clips", type=int, default=512, help="clips per group (make run's notebook 07)")
    parser.add_argument("--cmu-clips", type=int, default=200, help="CMU clips (make run's notebook 07)")
    args = parser.parse_args(argv)
    runs = [spec.partition("=")[::2] for spec in args.runs]
    if not all(label and run for label, run in runs):
        parser.error("expected LABEL=RUN_DIR for every run")

    groups = load_groups("test", frames=27, max_clips=args.max_clips)
    if any(shared_cmu_dir().glob("cmu_bvh_*/*.bvh")):
        groups["CMU clips"] = cmu_clips(frames=27, max_clips=args.cmu_clips)
    print("clips: " + ", ".join(f"{g} {len(ds.inputs)}" for g, ds in groups.items()))
    scores = {
        f"{label}: {name}": evaluate_groups(load_checkpoint(Path(run) / "checkpoints" / ckpt)[0], groups)
        for label, run in runs
        for name, ckpt in (("MDTF", "default"), ("per-frame MLP", "mlp-default"))
    }
    print(groups_table(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
