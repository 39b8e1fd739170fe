"""The ablation table with an equal training budget: full MDTF vs no bone stream vs no GCN vs unidirectional,
plus the attention (MixSTE-like) and PoseMamba-like baselines.

    python -m mdtf_lite.train.ablation --config configs/ablation.yaml
    python -m mdtf_lite.train.ablation --config configs/ablation.yaml --variants full no_gcn epochs=4

Every variant trains from the same config (same data, epochs, steps, batch, lr, seed; the same frozen BAM for
the variants with a bone stream) -- only ``model`` changes.  The table (stage-2 parameters, P1/P2 in mm on the
validation clips, training seconds) is printed and written to ``<run_dir>/ablation.json``.  Small budgets on
the default dataset give noisy differences: read them as "what this budget shows", not as the paper's table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .. import paths
from .config import load_config

__all__ = ["VARIANTS", "run_ablation", "main"]

#: variant name -> changes to the config's ``model`` section.
VARIANTS: dict[str, dict] = {
    "full": {},
    "no_bone": {"ablation": "no_bone"},
    "no_gcn": {"ablation": "no_gcn"},
    "unidirectional": {"ablation": "unidirectional"},
    "attention": {"arch": "mixste"},
    "posemamba": {"arch": "posemamba"},
}


def run_ablation(config_path, variants=None, overrides=None, progress: bool = True) -> list[dict]:
    """Train every variant with the budget of ``config_path``; returns one row per variant."""
    from ..models import count_parameters
    from .ensure import ensure_checkpoint
    from .loop import fit

    base = load_config(config_path, overrides)
    if base.stage != "mdtf":
        raise ValueError(f"{config_path}: the ablation compares stage-2 models; use a 'stage: mdtf' config")
    names = list(variants or VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown ablation variants {unknown}; choose from {list(VARIANTS)}")
    if base.bam_checkpoint:
        ensure_checkpoint(base.bam_checkpoint, progress=progress)
    rows = []
    for name in names:
        model_cfg = {**base.model, **VARIANTS[name]}
        cfg = base.replace(name=f"{base.name}-{name}", model=model_cfg)
        t0 = time.perf_counter()
        result = fit(cfg.replace(progress=progress))
        n_params = count_parameters(result.model)
        rows.append({"variant": name, "params": n_params, "p1_mm": result.last.get("val_p1_mm"),
                     "p2_mm": result.last.get("val_p2_mm"), "train_loss": result.last["train_loss"],
                     "seconds": time.perf_counter() - t0, "epochs": cfg.epochs, "steps_per_epoch": cfg.steps_per_epoch,
                     "batch_size": cfg.batch_size})
        print(f"[ablation] {name}: {rows[-1]}")
    out = paths.run_dir() / "ablation.json"
    out.write_text(json.dumps({"config": base.to_dict(), "rows": rows}, indent=1))
    print_table(rows)
    print(f"written {out}")
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'variant':16s} {'params':>9s} {'P1 mm':>8s} {'P2 mm':>8s} {'seconds':>8s}")
    for r in rows:
        p1 = f"{r['p1_mm']:8.1f}" if r["p1_mm"] is not None else "       -"
        p2 = f"{r['p2_mm']:8.1f}" if r["p2_mm"] is not None else "       -"
        print(f"{r['variant']:16s} {r['params']:9d} {p1} {p2} {r['seconds']:8.0f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdtf_lite.train.ablation", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/ablation.yaml")
    parser.add_argument("--variants", nargs="+", default=None, help=f"subset of {list(VARIANTS)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("overrides", nargs="*", help="key=value overrides applied to every variant")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants or () if "=" not in v] or None
    overrides = [v for v in args.variants or () if "=" in v] + list(args.overrides)  # --variants a b k=v
    try:
        run_ablation(args.config, variants, overrides, progress=not args.quiet)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
