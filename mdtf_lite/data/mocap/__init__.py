"""Real motion capture shipped with the package: CMU (5 people) and HDM05 (3 actors) as H36M-17 joints.

    load_mocap(databases=("cmu", "hdm05"), split=None) -> list[MocapClip]     # sorted, deterministic
    clip.positions  float32 (T, 17, 3) metres, H36M world (Z up, centred on the mean pelvis xy, lowest
                    ankle on the floor: ``readers.cmu.to_h36m_world``, stored to 0.1 mm), MOCAP_FPS = 50
                    frames per second

The arrays (``cmu.npz``, ``hdm05.npz``, format in ``store.py``) were made from the raw files of
``shared/mocap/real`` by ``python -m data_tools convert-mocap`` (``convert.py``: glitches trimmed, bone
lengths checked; report in ``cmu.json`` / ``hdm05.json``).  The split is by person: train CMU 02 03 05 06 and
HDM05 bd bk; test CMU 01 and HDM05 dg.  Each database keeps its own licence beside it:
``LICENSE-CMU.txt`` (CMU terms) and ``LICENSE-HDM05.txt`` (CC BY-SA 3.0, attribution to HDM05).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdtf_lite.data.mocap.store import read_database

__all__ = ["MocapClip", "load_mocap", "MOCAP_FPS", "DATABASES", "mocap_dir"]

MOCAP_FPS = 50.0
DATABASES = ("cmu", "hdm05")


@dataclass(frozen=True)
class MocapClip:
    database: str  # "cmu" | "hdm05"
    person: str  # e.g. "02", "bd"
    clip: str  # e.g. "02_01", "HDM_bd_squat1Reps_001_120" (+ "_part2" ... when a glitch split it)
    split: str  # "train" | "test"
    licence: str  # short tag: "CMU" | "CC-BY-SA-3.0"
    positions: np.ndarray  # (T, 17, 3) float32 metres, H36M world, MOCAP_FPS


def mocap_dir() -> Path:
    """The folder of the shipped arrays (this package)."""
    return Path(__file__).resolve().parent


def load_mocap(databases=DATABASES, split: str | None = None, folder=None) -> list[MocapClip]:
    """The real mocap clips of ``databases`` (``split``: "train", "test" or None for both), sorted by
    (database, person, clip).  ``folder``: where ``<database>.npz`` lives (default: the shipped arrays;
    the ``--out`` of ``convert-mocap`` for your own).  ValueError naming the file on a damaged file."""
    if isinstance(databases, str):
        databases = (databases,)
    if split not in (None, "train", "test"):
        raise ValueError(f"split={split!r}: expected 'train', 'test' or None (both)")
    folder = Path(folder) if folder is not None else mocap_dir()
    out = []
    for db in databases:
        path = folder / f"{db}.npz"
        if not path.is_file():
            known = sorted(p.stem for p in folder.glob("*.npz"))
            raise FileNotFoundError(
                f"{path} does not exist (databases here: {known}); convert mocap files with "
                f"`python -m data_tools convert-mocap SRC... --out {folder}`"
            )
        header, positions = read_database(path)
        if header["database"] != db:
            raise ValueError(f"{path} holds database {header['database']!r}, not {db!r}: the file was renamed")
        if abs(header["fps"] - MOCAP_FPS) > 1e-9:
            raise ValueError(f"{path} is at {header['fps']} fps, expected {MOCAP_FPS}: convert it again")
        for name, person, sp, pos in zip(header["clip"], header["person"], header["split"], positions):
            if split is None or sp == split:
                pos.setflags(write=False)
                out.append(MocapClip(db, person, name, sp, header["licence"], pos))
    return sorted(out, key=lambda c: (c.database, c.person, c.clip))
