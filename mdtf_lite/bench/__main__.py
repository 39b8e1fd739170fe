"""Benchmarks: scripts that print measured figures (never asserted in tests).

    python -m mdtf_lite.bench scan    # selective-scan backends vs mamba-ssm's reference and mamba.py
    python -m mdtf_lite.bench train   # training/inference frames/s: MDTF vs attention vs MLP, same process
    python -m mdtf_lite.bench model   # MDTF inference speed, MAC rate, temporal scaling vs attention
    python -m mdtf_lite.bench scaling # time and memory of temporal Mamba vs attention as T grows
    python -m mdtf_lite.bench data    # default generator's motion statistics vs the real training people's mocap
    python -m mdtf_lite.bench gpu     # CUDA machines only: GPU scan backends vs the oracle, a short training
    python -m mdtf_lite.bench all     # all of the above but gpu, one after the other

Extra arguments after the name go to that benchmark (``--help`` lists them).
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "train": "mdtf_lite.bench.train",
    "scan": "mdtf_lite.bench.scan",
    "model": "mdtf_lite.bench.model",
    "scaling": "mdtf_lite.bench.scaling",
    "data": "mdtf_lite.bench.data",
    "gpu": "mdtf_lite.bench.gpu",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in (*BENCHMARKS, "all"):
        print(__doc__)
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    names = [n for n in BENCHMARKS if n != "gpu"] if argv[0] == "all" else [argv[0]]
    status = 0
    for name in names:
        print(f"\n### benchmark: {name}\n", flush=True)
        status |= importlib.import_module(BENCHMARKS[name]).main(argv[1:]) or 0
    return status


if __name__ == "__main__":
    sys.exit(main())
