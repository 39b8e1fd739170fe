"""``mdtf-lite``: one console command, one subcommand per job (installed by ``pyproject.toml``).

    mdtf-lite train --config configs/ci.yaml [key=value ...] [--resume | --overwrite]
    mdtf-lite ablation [--seeds ...]                 # the ablation table over seeds
    mdtf-lite data make-default [--if-missing]       # datasets: build / convert (data_tools)
    mdtf-lite series run --params ci|default|full    # run the notebook series
    mdtf-lite bench train|scan|model|data|gpu|all    # benchmarks
    mdtf-lite lift video.json [--checkpoint ci] [--out video_3d.json]
    mdtf-lite exercises make-student [--out DIR]

Each subcommand is the module's own ``main(argv)``; the ``python -m`` forms (``python -m
mdtf_lite.train``, ``python -m data_tools``, ...) stay and run the same function.  ``mdtf-lite <cmd> --help``
shows that command's options.  Without the installed script: ``python -m mdtf_lite.cli ...``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "SUBCOMMANDS"]

#: subcommand -> (module, function, one-line help).  Resolved on use, so ``mdtf-lite --help`` and a
#: subcommand load only what that command needs (torch, plotly and papermill are heavy).
SUBCOMMANDS = {
    "train": ("mdtf_lite.train.__main__", "main", "train a stage from a YAML config (python -m mdtf_lite.train)"),
    "ablation": ("mdtf_lite.train.ablation", "main", "the ablation table over seeds (python -m mdtf_lite.train.ablation)"),
    "data": ("data_tools.__main__", "main", "build or convert datasets (python -m data_tools)"),
    "series": ("mdtf_lite.course.series", "main", "run the notebook series with papermill (python -m mdtf_lite.series)"),
    "bench": ("mdtf_lite.bench.__main__", "main", "benchmarks (python -m mdtf_lite.bench)"),
    "lift": ("mdtf_lite.lift", "main", "lift a COCO-17 keypoint JSON to 3D with a checkpoint (python -m mdtf_lite.lift)"),
    "exercises": ("mdtf_lite.course.exercises", "main", "student versions of the exercises (python -m mdtf_lite.exercises)"),
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mdtf-lite", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(f"  {k:10s} {v[2]}" for k, v in SUBCOMMANDS.items()))
    ap.add_argument("command", choices=sorted(SUBCOMMANDS), metavar="command",
                    help="one of: " + ", ".join(SUBCOMMANDS))
    ap.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments (see mdtf-lite <command> -h)")
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
    except SystemExit as exc:               # argparse's --help / usage errors inside the subcommand
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
