"""``mdtf-lite`` / ``python -m mdtf_lite``: the one front door, one subcommand per job.

    python -m mdtf_lite train --config configs/ci.yaml [key=value ...] [--resume | --overwrite]
    python -m mdtf_lite ablation [--seeds ...]                 # the ablation table over seeds
    python -m mdtf_lite data make-default [--if-missing]       # datasets: build / convert (data_tools)
    python -m mdtf_lite series run --params ci|default|full    # run the notebook series
    python -m mdtf_lite bench train|scan|model|data|gpu|all    # benchmarks
    python -m mdtf_lite lift video.json [--checkpoint ci] [--out video_3d.json]
    python -m mdtf_lite exercises make-student [--out DIR]     # student versions; grade NOTEBOOK...
    python -m mdtf_lite lab [--check]                          # JupyterLab with notebook 00 in front
    python -m mdtf_lite preflight [--config full]              # real data? GPU? time estimate
    python -m mdtf_lite browser runs/ci/*.html                 # exported pages in headless Chromium

``mdtf-lite <command> ...`` (the console script ``pyproject.toml`` installs) is the same function.  Each
subcommand is its module's own ``main(argv)``; the packages ``mdtf_lite.train``, ``mdtf_lite.bench`` and
``data_tools`` keep their own ``python -m`` mains.  ``python -m mdtf_lite <command> --help`` shows that
command's options.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "SUBCOMMANDS"]

#: subcommand -> (module, function, one-line help).  Resolved on use, so ``python -m mdtf_lite --help`` and a
#: subcommand load only what that command needs (torch, plotly and papermill are heavy).
SUBCOMMANDS = {
    "train": ("mdtf_lite.train.__main__", "main", "train a stage from a YAML config"),
    "ablation": ("mdtf_lite.train.ablation", "main", "the ablation table over seeds"),
    "data": ("data_tools.__main__", "main", "build or convert datasets (= python -m data_tools)"),
    "series": ("mdtf_lite.course.series", "main", "run the notebook series with papermill"),
    "bench": ("mdtf_lite.bench.__main__", "main", "benchmarks"),
    "lift": ("mdtf_lite.lift", "main", "lift a COCO-17 keypoint JSON to 3D with a checkpoint"),
    "exercises": ("mdtf_lite.course.exercises", "main", "student versions of the exercises, and grading"),
    "lab": ("mdtf_lite.course.lab", "main", "JupyterLab on this environment, notebook 00 in front"),
    "preflight": ("mdtf_lite.course.preflight", "main", "before a full run: real data, GPU, cost estimate"),
    "browser": ("mdtf_lite.course.browser", "main", "check exported notebook pages in headless Chromium"),
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m mdtf_lite",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(f"  {k:10s} {v[2]}" for k, v in SUBCOMMANDS.items()),
    )
    ap.add_argument("command", choices=sorted(SUBCOMMANDS), metavar="command", help="one of: " + ", ".join(SUBCOMMANDS))
    ap.add_argument(
        "args", nargs=argparse.REMAINDER, help="the command's own arguments (see python -m mdtf_lite <command> -h)"
    )
    return ap


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        _parser().print_help()
        return 0
    args = _parser().parse_args(argv[:1])
    module, function, _ = SUBCOMMANDS[args.command]
    entry = getattr(importlib.import_module(module), function)
    try:
        result = entry(argv[1:])
    except SystemExit as exc:  # argparse's --help / usage errors inside the subcommand
        if isinstance(exc.code, str):  # sys.exit("message"): show it, as the interpreter would
            print(exc.code, file=sys.stderr)
            return 1
        return int(exc.code or 0)
    return int(result or 0)
