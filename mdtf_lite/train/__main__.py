"""CLI: ``python -m mdtf_lite.train --config configs/<name>.yaml [key=value ...] [--resume | --overwrite]``.

Examples:
    python -m mdtf_lite.train --config configs/bam-ci.yaml                 # stage 1, seconds
    python -m mdtf_lite.train --config configs/ci.yaml epochs=3 lr=1e-3    # stage 2 with overrides
    python -m mdtf_lite.train --config configs/default.yaml --resume       # continue an interrupted run
    python -m mdtf_lite.train --config configs/ci.yaml --overwrite         # retrain, replacing the checkpoint
    torchrun --nproc_per_node 2 -m mdtf_lite.train --config configs/ci.yaml   # DDP (gloo on CPU, nccl on GPU)

Exit codes: 0 done, 2 bad config / checkpoint / data, 3 the loss diverged (NaN/Inf).
"""

from __future__ import annotations

import argparse
import json
import sys

from .checkpoint import CheckpointError
from .config import ConfigError, load_config
from .loop import TrainingDiverged, fit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mdtf_lite.train",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--config", required=True, help="a YAML training config, e.g. configs/ci.yaml")
    parser.add_argument("--resume", action="store_true", help="continue from the run's checkpoint if present")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="a fresh run may replace an existing checkpoint (or write into a folder with other "
        "files, which are kept); same as overwrite=true",
    )
    parser.add_argument("overrides", nargs="*", help="key=value overrides (YAML values; dotted keys: model.dim=32)")
    args = parser.parse_intermixed_args(argv)  # overrides may come before and after the flags

    try:
        cfg = load_config(args.config, list(args.overrides) + (["overwrite=true"] if args.overwrite else []))
        result = fit(cfg, resume=args.resume)
    except TrainingDiverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (ConfigError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"checkpoint": str(result.checkpoint), "last": result.last}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
