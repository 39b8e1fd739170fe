"""The ablation table with an equal training budget: full MDTF vs no bone stream vs no GCN vs unidirectional,
plus the attention (MixSTE-like), PoseMamba-like and per-frame MLP baselines, each over several seeds.

    python -m mdtf_lite.train.ablation --config configs/ablation.yaml --jobs 2        # make ablation
    python -m mdtf_lite.train.ablation --config configs/ablation.yaml --variants full no_gcn --seeds 0 1 2

Every variant trains from the same config (same data, batch, lr, schedule, the same wall-clock
``time_budget``, the same frozen BAM for the variants with a bone stream) -- only ``model`` and the seed
change.  Each row is the mean over ``--seeds`` with the spread (half the range, max - min over 2);
:func:`differences` says which variants differ from ``full`` by more than the two spreads together,
i.e. which differences this budget can resolve at all.  Besides the loop's validation P1/P2 (the whole
test split), the same validation per subject group (``MDTFStage.validate`` via ``eval.by_group``: the
default dataset's procedural test subjects and real test people apart), columns ``P1 <group>``.
The table is printed and written to ``<run_dir>/ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .. import paths
from ..models import count_parameters
from ..models.config import vary
from .background import BackgroundFit
from .config import load_config
from .ensure import ensure_checkpoint
from .loop import fit

__all__ = [
    "VARIANTS",
    "DEFAULT_SEEDS",
    "run_ablation",
    "aggregate",
    "differences",
    "print_table",
    "main",
]

#: variant name -> changes to the config's ``model`` section.
VARIANTS: dict[str, dict] = {
    "full": {},
    "no_bone": {"ablation": "no_bone"},
    "no_gcn": {"ablation": "no_gcn"},
    "unidirectional": {"ablation": "unidirectional"},
    "attention": {"arch": "mixste"},
    "posemamba": {"arch": "posemamba"},
    "mlp": {"arch": "mlp"},
}
DEFAULT_SEEDS = (0, 1)


def run_ablation(
    config_path, variants=None, overrides=None, progress: bool = True, seeds=DEFAULT_SEEDS, jobs: int = 1
) -> list[dict]:
    """Train every variant once per seed with the budget of ``config_path``; returns the aggregated rows.

    ``jobs`` runs train side by side (one in this process, the rest in child processes), each with the
    config's ``num_threads``: on 2 cores, ``jobs=2`` with ``num_threads: 1`` halves the wall-clock time and
    gives every run one core, the setting notebook 06 trains MDTF and the MLP in.
    """
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    base = load_config(config_path, overrides)
    if base.stage != "mdtf":
        raise ValueError(f"{config_path}: the ablation compares stage-2 models; use a 'stage: mdtf' config")
    names = list(variants or VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown ablation variants {unknown}; choose from {list(VARIANTS)}")
    if not seeds:
        raise ValueError("give at least one seed")
    if base.bam_checkpoint:
        ensure_checkpoint(base.bam_checkpoint, progress=progress)
    todo = []
    for name in names:
        for seed in seeds:
            model = vary(base.model, **VARIANTS[name])
            cfg = base.replace(name=f"{base.name}-{name}-s{seed}", model=model, seed=int(seed))
            todo.append(
                (name, int(seed), cfg.replace(progress=progress, overwrite=True))
            )  # a new table replaces old runs
    runs = []
    for start in range(0, len(todo), jobs):
        # `jobs` runs side by side, each on its own cores (cfg.num_threads), like notebook 06's MDTF and MLP:
        # the first in this process, the others in child processes; every one gets the same time_budget.
        batch = todo[start : start + jobs]
        t0 = time.perf_counter()
        others = [BackgroundFit(cfg) for _, _, cfg in batch[1:]]
        results = [fit(batch[0][2])] + [bg.result() for bg in others]
        for (name, seed, _), result in zip(batch, results):
            runs.append(
                {
                    "variant": name,
                    "seed": seed,
                    "params": count_parameters(result.model),
                    "p1_mm": result.last.get("val_p1_mm"),
                    "p2_mm": result.last.get("val_p2_mm"),
                    "train_seconds": result.train_seconds,
                    "seconds": time.perf_counter() - t0,
                    "steps": sum(h.get("steps", 0) for h in result.history),
                    "jobs": len(batch),
                    # the loop's last validation, per subject group (procedural / real): "p1_<group>_mm"
                    **{k[len("val_") :]: v for k, v in result.last.items() if _is_group_score(k)},
                }
            )
            print(f"[ablation] {name} seed {seed}: {runs[-1]}")
    rows = aggregate(runs)
    out = paths.run_dir() / "ablation.json"
    out.write_text(json.dumps({"config": base.to_dict(), "seeds": list(seeds), "runs": runs, "rows": rows}, indent=1))
    print_table(rows)
    for line in differences(rows):
        print(line)
    print(f"written {out}")
    return rows


def _is_group_score(key: str) -> bool:
    """``val_p1_<group>_mm`` / ``val_p2_<group>_mm`` (not the overall ``val_p1_mm``)."""
    return key.startswith(("val_p1_", "val_p2_")) and key.endswith("_mm") and key not in ("val_p1_mm", "val_p2_mm")


def _score_keys(runs: list[dict]) -> list[str]:
    """ "p1_mm", "p2_mm", then the per-group keys "p1_<group>_mm", "p2_<group>_mm" in the runs' order."""
    keys = [k for r in runs for k in r if k.startswith(("p1_", "p2_")) and k.endswith("_mm")]
    return list(dict.fromkeys(["p1_mm", "p2_mm", *keys]))


def aggregate(runs: list[dict]) -> list[dict]:
    """Per variant: mean P1/P2 (overall and per test group) over seeds, the spread (max - min) / 2, mean seconds
    and steps."""
    rows = []
    for name in dict.fromkeys(r["variant"] for r in runs):
        rs = [r for r in runs if r["variant"] == name]
        row = {"variant": name, "params": rs[0]["params"], "seeds": len(rs)}
        for key in _score_keys(rs):
            vals = [r[key] for r in rs if r.get(key) is not None]
            row[key] = sum(vals) / len(vals) if vals else None
            row[key.replace("_mm", "_spread")] = (max(vals) - min(vals)) / 2 if vals else None
        for key in ("train_seconds", "steps"):
            row[key] = sum(r.get(key, 0) for r in rs) / len(rs)
        row["seconds"] = row["train_seconds"]
        rows.append(row)
    return rows


def differences(rows: list[dict], reference: str = "full") -> list[str]:
    """Sentences, computed from the rows, on which P1 differences from ``reference`` exceed the spreads."""
    ref = next((r for r in rows if r["variant"] == reference), None)
    if ref is None or ref["p1_mm"] is None:
        return [f"no {reference!r} row: nothing to compare against"]
    lines = []
    for r in rows:
        if r is ref or r["p1_mm"] is None:
            continue
        gap = r["p1_mm"] - ref["p1_mm"]
        noise = (r["p1_spread"] or 0.0) + (ref["p1_spread"] or 0.0)
        verdict = "exceeds" if abs(gap) > noise else "is within"
        lines.append(
            f"{r['variant']}: P1 {gap:+.1f} mm vs {reference} ({'worse' if gap > 0 else 'better'}), "
            f"which {verdict} the seed spread ({noise:.1f} mm)"
        )
    return lines


def print_table(rows: list[dict]) -> None:
    """P1/P2 (the loop's validation), P1 per test group, steps and seconds per variant."""
    groups = [k for k in _score_keys(rows) if k.startswith("p1_") and k != "p1_mm"]
    heads = "".join(f" {'P1 ' + k[3:-3]:>14s}" for k in groups)
    print(f"{'variant':16s} {'params':>9s} {'P1 mm':>14s} {'P2 mm':>14s}{heads} {'steps':>7s} {'seconds':>8s}")
    for r in rows:

        def cell(key):
            if r.get(key) is None:
                return f"{'-':>14s}"
            spread = r.get(key.replace("_mm", "_spread"))
            return f"{r[key]:8.1f} ± {spread:4.1f}" if spread is not None else f"{r[key]:14.1f}"

        cells = "".join(f" {cell(k)}" for k in groups)
        print(
            f"{r['variant']:16s} {r['params']:9d} {cell('p1_mm')} {cell('p2_mm')}{cells} {r.get('steps', 0):7.0f} "
            f"{r.get('seconds', 0):8.0f}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdtf_lite.train.ablation", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/ablation.yaml")
    parser.add_argument("--variants", nargs="+", default=None, help=f"subset of {list(VARIANTS)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS), help="seeds per variant")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs trained side by side, each with the config's num_threads (2 on 2 cores: half the time)",
    )
    parser.add_argument("overrides", nargs="*", help="key=value overrides applied to every variant")
    args = parser.parse_args(argv)
    variants = [v for v in args.variants or () if "=" not in v] or None
    overrides = [v for v in args.variants or () if "=" in v] + list(args.overrides)  # --variants a b k=v
    try:
        run_ablation(args.config, variants, overrides, progress=not args.quiet, seeds=args.seeds, jobs=args.jobs)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
