"""Does a generator's data transfer to real motion?  Train the per-frame MLP baseline on a default dataset
for a fixed wall-clock budget, then score it on that dataset's test subjects (S9, S11) and on the CMU clips
seen through the same 4 cameras and detector model (notebook 07's evaluation, never trained on).

    python scripts/transfer_check.py --arm new=/tmp/new_data --arm old=/tmp/old_data@/tmp/old_code \
        [--budget 120] [--config configs/mlp-default.yaml] [--runs /tmp/transfer_runs]

Each ``--arm label=DATA_DIR[@CODE_DIR]`` trains and evaluates in its own subprocess with
``MDTF_DATA_DIR=DATA_DIR`` and, if given, ``PYTHONPATH=CODE_DIR`` (the package of another commit, e.g.
``git archive <commit> mdtf_lite | tar -x -C CODE_DIR``, so that an older dataset is read by the code that
wrote it and is never rebuilt).  The training and evaluation code must be the same in every arm: only
the data differs.  Prints one table; the numbers are measured on each run, nothing is asserted.
Budget: one MLP run of ``--budget`` seconds per arm (1 thread), plus ~20 s of evaluation.

MDTF: ``--config configs/default.yaml --budget 540`` first trains the arm's own BAM on the arm's data
(``configs/bam-default.yaml``, its own 240 s budget), then MDTF with it frozen, as ``make run`` does.
To train on an older dataset with the *current* code (the same code in every arm), give a scratch copy of
it whose ``dataset.json`` has the current ``generator_version``: the readers only need the layout, and the
version check would otherwise rebuild the folder with the current generator.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bam_config(config: Path) -> str | None:
    """The ``bam_checkpoint`` config name a stage-2 config attaches (None for a model without a BAM)."""
    import yaml

    cfg = yaml.safe_load(config.read_text()) or {}
    return cfg.get("bam_checkpoint") if cfg.get("stage") == "mdtf" else None


def _one(args) -> int:
    """Child: train (unless the checkpoint exists and --reuse) and evaluate; print one JSON line."""
    import numpy as np
    import torch

    from mdtf_lite.data import cmu_clips, load_clips
    from mdtf_lite.eval import evaluate_model
    from mdtf_lite.train import load_checkpoint

    out = ckpt = Path(args.out)
    if not (args.reuse and (ckpt / "manifest.json").exists()):
        budget = [f"time_budget={args.budget}"]
        if args.steps:  # a fixed number of optimiser steps: fair when other jobs share the CPU
            epochs = -(-args.steps // 100)
            budget = [
                "time_budget=null",
                f"epochs={epochs}",
                "steps_per_epoch=100",
                f"val_every={epochs}",
                f"checkpoint_every={epochs}",
            ]
        cwd = os.environ.get("TRANSFER_CODE_DIR", ROOT)
        env = dict(os.environ, MDTF_RUN_DIR=str(Path(f"{out}-run").resolve()))  # the arm's own BAM lives here
        bam = _bam_config(Path(cwd) / args.config)
        if bam:  # a stage-2 config: its frozen BAM is trained on this arm's data first, with its own config
            cmd = [
                sys.executable,
                "-m",
                "mdtf_lite.train",
                "--config",
                str(Path("configs") / f"{bam}.yaml"),
                f"seed={args.seed}",
                "progress=false",
                "--overwrite",
            ]
            print("+", " ".join(cmd), flush=True, file=sys.stderr)
            subprocess.run(cmd, check=True, cwd=cwd, env=env, stdout=sys.stderr)
        cmd = [
            sys.executable,
            "-m",
            "mdtf_lite.train",
            "--config",
            args.config,
            *budget,
            f"seed={args.seed}",
            f"out_dir={out}",
            "progress=false",
            "--overwrite",
        ]
        print("+", " ".join(cmd), flush=True, file=sys.stderr)
        subprocess.run(cmd, check=True, cwd=cwd, env=env, stdout=sys.stderr)
    model, cfg = load_checkpoint(ckpt)
    model.eval()
    torch.set_num_threads(1)
    frames = cfg.data["frames"]
    test = load_clips(
        "default",
        split="test",
        frames=frames,
        keypoints=cfg.data.get("keypoints", "detected"),
        target=cfg.data.get("target", "camera"),
    )
    cmu = cmu_clips(
        frames=frames, keypoints=cfg.data.get("keypoints", "detected"), target=cfg.data.get("target", "camera")
    )
    r_test, r_cmu = evaluate_model(model, test, flip=cfg.flip_test), evaluate_model(model, cmu, flip=cfg.flip_test)
    digest = hashlib.sha256(np.ascontiguousarray(cmu.inputs.numpy()).tobytes()).hexdigest()[:12]
    print(
        json.dumps(
            {
                "test_p1": r_test["p1_mm"],
                "test_p2": r_test["p2_mm"],
                "test_clips": len(test.inputs),
                "cmu_p1": r_cmu["p1_mm"],
                "cmu_p2": r_cmu["p2_mm"],
                "cmu_clips": len(cmu.inputs),
                "cmu_inputs_sha256": digest,
            }
        )
    )
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arm", action="append", default=[], help="label=DATA_DIR[@CODE_DIR] (repeatable)")
    ap.add_argument("--budget", type=float, default=120.0, help="training seconds per arm (same for every arm)")
    ap.add_argument(
        "--steps",
        type=int,
        default=None,
        help="train for this many optimiser steps instead of --budget seconds (rounded up to 100s; "
        "use it when other jobs share the CPU: a wall-clock budget then depends on the load)",
    )
    ap.add_argument("--config", default="configs/mlp-default.yaml")
    ap.add_argument("--seed", type=int, default=0, help="training seed (the same for every arm)")
    ap.add_argument("--runs", default=os.environ.get("MDTF_RUN_DIR", "/tmp/mdtf_transfer_runs"))
    ap.add_argument("--reuse", action="store_true", help="evaluate existing checkpoints instead of retraining")
    ap.add_argument("--_one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._one:
        return _one(args)
    if not args.arm:
        ap.error("give at least one --arm label=DATA_DIR[@CODE_DIR]")
    rows = {}
    for arm in args.arm:
        label, _, rest = arm.partition("=")
        data, _, code = rest.partition("@")
        if not label or not data:
            ap.error(f"--arm {arm!r}: expected label=DATA_DIR[@CODE_DIR]")
        if not (Path(data) / "default" / "dataset.json").is_file():
            ap.error(
                f"--arm {arm!r}: {data}/default/dataset.json not found; build it first with "
                f"MDTF_DATA_DIR={data} python -m data_tools make-default"
            )
        env = dict(os.environ, MDTF_DATA_DIR=str(Path(data).resolve()))
        env["PYTHONPATH"] = env["TRANSFER_CODE_DIR"] = str(Path(code).resolve()) if code else str(ROOT)
        cmd = (
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--_one",
                "--out",
                str(Path(args.runs) / label),
                "--budget",
                str(args.budget),
                "--config",
                args.config,
                "--seed",
                str(args.seed),
            ]
            + (["--reuse"] if args.reuse else [])
            + (["--steps", str(args.steps)] if args.steps else [])
        )
        res = subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        rows[label] = json.loads(res.stdout.strip().splitlines()[-1])
    budget = f"{args.steps} optimiser steps" if args.steps else f"{args.budget:.0f} s of training"
    print(f"\n{args.config}, seed {args.seed}, {budget} per arm; P1 / P2 in mm\n")
    print("| data | test S9+S11 P1 | P2 | clips | CMU P1 | P2 | clips | CMU inputs |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        print(
            f"| {label} | {r['test_p1']:.1f} | {r['test_p2']:.1f} | {r['test_clips']} | {r['cmu_p1']:.1f} | "
            f"{r['cmu_p2']:.1f} | {r['cmu_clips']} | {r['cmu_inputs_sha256']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
