"""The compact, pickle-free file of one mocap database (``cmu.npz``, ``hdm05.npz``): write and read.

Positions (T, 17, 3) metres are stored as integers of ``QUANTUM_M`` (0.1 mm), delta-coded along time within
each clip, so that deflate packs 64 k frames of 17 joints into about 4 MB:

    pelvis_dq  int32 (N, 3)       pelvis, first frame of a clip absolute, then frame-to-frame differences
    joints_dq  int16 (16, 3, N)   the other joints relative to the pelvis, delta-coded the same way
                                  (joint-major: each joint's coordinate is one run of small numbers)
    clip_start int64 (C + 1,)     clip c is frames clip_start[c]:clip_start[c + 1]
    clip, person, split  str (C,) names, person ids, "train" / "test"
    database, licence  str (1,)   "cmu" / "hdm05", short licence tag
    fps, quantum_m  float64 (1,)  50, 1e-4
    format  int64 (1,)            ``FORMAT``

Decoding is exact in integers; the positions read back lie within one QUANTUM_M (pelvis: QUANTUM_M / 2) of
what was written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mdtf_lite.data.npz_io import load_npz, save_npz

__all__ = ["FORMAT", "QUANTUM_M", "KEYS", "write_database", "read_database"]

FORMAT = 1
QUANTUM_M = 1e-4
KEYS = (
    "pelvis_dq",
    "joints_dq",
    "clip_start",
    "clip",
    "person",
    "split",
    "database",
    "licence",
    "fps",
    "quantum_m",
    "format",
)


def _delta(q: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Frame-to-frame differences along axis 0, restarting (absolute value) at every clip start."""
    d = np.diff(q, axis=0, prepend=np.zeros_like(q[:1]))
    d[starts[:-1]] = q[starts[:-1]]
    return d


def _undelta(d: np.ndarray, starts: np.ndarray) -> np.ndarray:
    q = np.cumsum(d, axis=0, dtype=np.int64)
    offset = np.zeros_like(q)
    for a, b in zip(starts[:-1], starts[1:]):
        if a > 0:
            offset[a:b] = q[a - 1]
    return q - offset


def write_database(path, database: str, licence: str, clips: list[dict], fps: float) -> Path:
    """``clips``: dicts with ``clip``, ``person``, ``split`` and ``positions`` (T, 17, 3) metres, in file order."""
    if not clips:
        raise ValueError(f"{path}: no clips to write for database {database!r}")
    pos = np.concatenate([np.asarray(c["positions"], dtype=np.float64) for c in clips])
    starts = np.cumsum([0] + [len(c["positions"]) for c in clips]).astype(np.int64)
    pelvis = np.round(pos[:, 0] / QUANTUM_M).astype(np.int64)
    rel = np.round((pos[:, 1:] - pos[:, :1]) / QUANTUM_M).astype(np.int64)
    pelvis_d, rel_d = _delta(pelvis, starts), _delta(rel, starts)
    if np.abs(pelvis_d).max() > np.iinfo(np.int32).max or np.abs(rel_d).max() > np.iinfo(np.int16).max:
        raise ValueError(
            f"{path}: a joint lies more than 3.2 m from the pelvis or moves more than 3.2 m in one frame "
            "(not a human body): check the source clip and the glitch threshold"
        )
    arrays = {
        "pelvis_dq": pelvis_d.astype(np.int32),
        "joints_dq": np.ascontiguousarray(rel_d.astype(np.int16).transpose(1, 2, 0)),
        "clip_start": starts,
        "clip": np.array([c["clip"] for c in clips]),
        "person": np.array([c["person"] for c in clips]),
        "split": np.array([c["split"] for c in clips]),
        "database": np.array(database),
        "licence": np.array(licence),
        "fps": np.array(float(fps)),
        "quantum_m": np.array(QUANTUM_M),
        "format": np.array(FORMAT, dtype=np.int64),
    }
    return save_npz(path, arrays, compress=True)


def read_database(path) -> tuple[dict, list[np.ndarray]]:
    """-> (header {database, licence, fps, clip, person, split}, [positions (T, 17, 3) float32 per clip]).

    ValueError naming the file on a missing key, a wrong shape or dtype, inconsistent clip offsets or an unknown
    format; FileNotFoundError if absent.
    """
    z = load_npz(path, keys=KEYS)

    def bad(msg):
        return ValueError(
            f"{path}: {msg}; the mocap file is damaged or from another version: restore it "
            "(git checkout) or convert the sources again with `python -m data_tools convert-mocap`"
        )

    def scalar(key):
        if z[key].size != 1:
            raise bad(f"{key} holds {z[key].size} values, expected one")
        return z[key].reshape(-1)[0].item()

    if scalar("format") != FORMAT:
        raise bad(f"format {scalar('format')}, this version reads format {FORMAT}")
    pd, jd, starts = z["pelvis_dq"], z["joints_dq"], z["clip_start"]
    N = len(pd)
    if pd.dtype != np.int32 or pd.shape != (N, 3) or jd.dtype != np.int16 or jd.shape != (16, 3, N):
        raise bad(
            f"pelvis_dq {pd.dtype}{pd.shape} / joints_dq {jd.dtype}{jd.shape}; expected int32 (N, 3) and "
            "int16 (16, 3, N)"
        )
    C = len(z["clip"])
    if starts.shape != (C + 1,) or starts[0] != 0 or starts[-1] != N or np.any(np.diff(starts) < 1):
        raise bad(f"clip_start {starts[:3]}...{starts[-2:]} does not cut {N} frames into {C} non-empty clips")
    if z["person"].shape != (C,) or z["split"].shape != (C,):
        raise bad(f"person {z['person'].shape} / split {z['split'].shape} do not match {C} clips")
    if not set(z["split"].tolist()) <= {"train", "test"}:
        raise bad(f"split values {sorted(set(z['split'].tolist()))}; expected 'train' / 'test'")
    fps, quantum = float(scalar("fps")), float(scalar("quantum_m"))
    if not (np.isfinite(fps) and fps > 0 and np.isfinite(quantum) and 0 < quantum <= 0.01):
        raise bad(f"fps {fps} / quantum_m {quantum} out of range")
    pelvis = _undelta(pd.astype(np.int64), starts) * quantum
    rel = _undelta(jd.transpose(2, 0, 1).astype(np.int64), starts) * quantum
    pos = np.concatenate([pelvis[:, None], pelvis[:, None] + rel], axis=1).astype(np.float32)
    header = {
        "database": str(scalar("database")),
        "licence": str(scalar("licence")),
        "fps": fps,
        "clip": z["clip"].tolist(),
        "person": z["person"].tolist(),
        "split": z["split"].tolist(),
    }
    return header, [pos[a:b] for a, b in zip(starts[:-1], starts[1:])]
