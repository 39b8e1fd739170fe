"""Data preparation commands (thin CLI over ``mdtf_lite.data``).

    python -m data_tools make-default [--if-missing] [--seed 0] [--out data/default]
    python -m data_tools convert-vp3d --src data/h36m [--out data/h36m_vp3d] --trust-pickle
    python -m data_tools convert-h36m-cdf --src /path/to/H36M [--out data/h36m_vp3d]
    python -m data_tools convert-motionbert --src data/motionbert/h36m_sh_conf_cam_source_final.pkl --trust-pickle
    python -m data_tools convert-3dhp --src data/mpi_inf_3dhp [--out data/mpi3dhp] --trust-pickle
    python -m data_tools convert-bvh FILES... [--out data/cmu] [--seed 0]
    python -m data_tools convert-mocap SRC... --out DIR [--max-speed 15] [--min-seconds 0.4]
                                       [--test-people cmu:01,hdm05:dg]

The originals of VideoPose3D / MotionBERT / 3DHP hold Python pickles, which can execute code when
loaded: the converters refuse them unless you pass --trust-pickle, and write a pickle-free copy that
training reads from then on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _data(*parts) -> Path:
    from mdtf_lite.paths import data_dir

    return data_dir().joinpath(*parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m data_tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-default", help="build the embedded default dataset (deterministic)")
    p.add_argument("--if-missing", action="store_true", help="do nothing if it exists for this seed")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="folder (default: data/default)")
    for name, helptext, needs_pickle in (
        ("convert-vp3d", "VideoPose3D data_3d_h36m.npz + data_2d_h36m_{cpn_ft_h36m_dbb,gt}.npz", True),
        ("convert-h36m-cdf", "the official Human3.6M release (S*/MyPoseFeatures/D3_Positions/*.cdf)", False),
        ("convert-motionbert", "MotionBERT h36m_sh_conf_cam_source_final.pkl", True),
        ("convert-3dhp", "MPI-INF-3DHP data_train_3dhp.npz / data_test_3dhp.npz", True),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--src", type=Path, required=True, help="file or folder of the original release")
        p.add_argument("--out", type=Path, default=None)
        if needs_pickle:
            p.add_argument(
                "--trust-pickle",
                action="store_true",
                help="allow unpickling the original (it can run code: only for files you trust)",
            )
    p = sub.add_parser("convert-bvh", help="CMU mocap BVH -> H36M-17 at 50 fps in the VP3D array layout")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=None, help="folder (default: data/cmu)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated detector noise")
    p = sub.add_parser(
        "convert-mocap",
        help="CMU / HDM05 mocap (BVH, ASF/AMC) -> DIR/<database>.npz at 50 fps "
        "(H36M-17 world, per person, glitches trimmed, licence beside)",
    )
    p.add_argument("srcs", nargs="+", type=Path, help=".bvh / .amc files or folders (searched recursively)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for <database>.npz/.json + licence (the shipped arrays: mdtf_lite/data/mocap)",
    )
    p.add_argument("--max-speed", type=float, default=None, help="m/s: a faster joint is a glitch (default 15)")
    p.add_argument("--min-seconds", type=float, default=None, help="drop cleaned pieces shorter than this (0.4)")
    p.add_argument(
        "--test-people",
        default=None,
        help="database:person pairs of the test split, comma separated (default cmu:01,hdm05:dg); everyone else trains",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.cmd == "make-default":
            from mdtf_lite.data.synthetic.default import build_default_dataset, ensure_default_dataset

            if args.if_missing:
                out = ensure_default_dataset(args.out, seed=args.seed, verbose=True)
            else:
                out = build_default_dataset(args.out, seed=args.seed, verbose=True)
        elif args.cmd == "convert-vp3d":
            from mdtf_lite.data.readers.vp3d import convert_vp3d

            out = convert_vp3d(args.src, args.out or _data("h36m_vp3d"), trust_pickle=args.trust_pickle)
        elif args.cmd == "convert-h36m-cdf":
            from mdtf_lite.data.readers.h36m_cdf import convert_h36m_cdf

            out = convert_h36m_cdf(args.src, args.out or _data("h36m_vp3d"))
        elif args.cmd == "convert-motionbert":
            from mdtf_lite.data.readers.motionbert import convert_motionbert

            out = convert_motionbert(args.src, args.out or _data("motionbert_h36m"), trust_pickle=args.trust_pickle)
        elif args.cmd == "convert-3dhp":
            from mdtf_lite.data.readers.mpi3dhp import convert_3dhp

            out = convert_3dhp(args.src, args.out or _data("mpi3dhp"), trust_pickle=args.trust_pickle)
        elif args.cmd == "convert-bvh":
            from mdtf_lite.data.readers.cmu import convert_bvh_files

            out = convert_bvh_files(args.files, args.out or _data("cmu"), seed=args.seed)
        elif args.cmd == "convert-mocap":
            from mdtf_lite.data.mocap.convert import MAX_SPEED, MIN_SECONDS, convert_mocap

            test = None  # the default test people (cmu:01, hdm05:dg), where present
            if args.test_people is not None:
                test = {
                    tuple(i.strip() for i in item.split(":", 1)) for item in args.test_people.split(",") if item.strip()
                }
                if not test or any(len(t) != 2 for t in test):
                    raise ValueError(
                        f"--test-people {args.test_people!r}: expected database:person pairs, e.g. cmu:01,hdm05:dg"
                    )
            convert_mocap(
                args.srcs,
                args.out,
                max_speed=MAX_SPEED if args.max_speed is None else args.max_speed,
                min_seconds=MIN_SECONDS if args.min_seconds is None else args.min_seconds,
                test_people=test,
            )
            out = args.out
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.cmd}: wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
