"""Readers and converter for the VideoPose3D Human3.6M files.

    data_3d_h36m.npz                     positions_3d: subject -> action -> (T, 32 | 17, 3) metres, world
    data_2d_h36m_cpn_ft_h36m_dbb.npz     positions_2d: subject -> action -> [4 x (T, 17, 2)] pixels
    data_2d_h36m_gt.npz                  (same, ground-truth projections); metadata: num_joints,
                                         keypoints_symmetry (and layout_name in the CPN file)

The values are pickled dicts inside the npz: reading them needs ``trust_pickle=True``.
:func:`convert_vp3d` writes the pickle-free layout (``layout.py``) that ``load_clips("h36m")`` reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mdtf_lite.data.cameras import CAMERA_SUBJECTS, NUM_CAMERAS
from mdtf_lite.data.layout import write_layout
from mdtf_lite.data.npz_io import load_pickled
from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.units import check_metres
from mdtf_lite.skeleton import H36M32_TO_17, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS

__all__ = ["read_vp3d_3d", "read_vp3d_2d", "convert_vp3d", "VP3D_FILES", "check_sequence"]

VP3D_FILES = {"3d": "data_3d_h36m.npz", "detected": "data_2d_h36m_cpn_ft_h36m_dbb.npz", "gt": "data_2d_h36m_gt.npz"}
TRAIN, TEST = ["S1", "S5", "S6", "S7", "S8"], ["S9", "S11"]


def check_sequence(arr, path, key: str, dims: tuple[int, ...]) -> np.ndarray:
    """Validate one sequence (T, J, d): a numeric array, finite, with d in ``dims``; returns float32."""
    try:
        a = np.asarray(arr, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: {key} is not a numeric array (got {type(arr).__name__})") from None
    if a.ndim != 3 or a.shape[-1] not in dims or a.shape[0] == 0:
        raise ValueError(f"{path}: {key} has shape {a.shape}; expected (T, J, {'|'.join(map(str, dims))}) with T > 0")
    if not np.all(np.isfinite(a)):
        t, j = np.argwhere(~np.isfinite(a))[0][:2]
        raise ValueError(f"{path}: {key} has NaN/Inf (first at frame {t}, joint {j}); fix or drop that sequence")
    return a


def _to_h36m17(a: np.ndarray, path, key: str) -> np.ndarray:
    if a.shape[1] == 32:
        return a[:, list(H36M32_TO_17)]
    if a.shape[1] == NUM_JOINTS:
        return a
    raise ValueError(
        f"{path}: {key} has {a.shape[1]} joints, an unknown joint layout: expected the 32-joint "
        "Human3.6M mocap skeleton or its 17-joint subset (mdtf_lite.skeleton.H36M32_TO_17)"
    )


def read_vp3d_3d(path, trust_pickle: bool = False) -> dict:
    """``data_3d_h36m.npz`` -> subject -> action -> (T, 17, 3) float32 metres, world frame."""
    data = load_pickled(path, "positions_3d", trust_pickle)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: positions_3d should be a dict subject -> action -> array, got {type(data).__name__}")
    out = {}
    for s, acts in data.items():
        if not isinstance(acts, dict):
            raise ValueError(f"{path}: positions_3d[{s!r}] should be a dict action -> array")
        out[s] = {
            a: _to_h36m17(
                check_sequence(x, path, f"positions_3d[{s!r}][{a!r}]", (3,)), path, f"positions_3d[{s!r}][{a!r}]"
            )
            for a, x in acts.items()
        }
        for a, x in out[s].items():
            check_metres(x, path, f"positions_3d[{s!r}][{a!r}]")
    return out


def read_vp3d_2d(path, trust_pickle: bool = False) -> tuple[dict, dict]:
    """``data_2d_h36m_*.npz`` -> (subject -> action -> [4 x (T, 17, 2) float32 pixels], metadata dict)."""
    kps = load_pickled(path, "positions_2d", trust_pickle)
    meta = load_pickled(path, "metadata", trust_pickle)
    if not isinstance(kps, dict) or not isinstance(meta, dict):
        raise ValueError(f"{path}: positions_2d and metadata should be dicts; is this a VideoPose3D 2D file?")
    if int(meta.get("num_joints", NUM_JOINTS)) != NUM_JOINTS:
        raise ValueError(
            f"{path}: metadata num_joints={meta.get('num_joints')}, an unknown joint layout: expected 17 "
            "(Human3.6M order); convert other detectors' layouts first"
        )
    sym = meta.get("keypoints_symmetry")
    if sym is not None and (list(sym[0]) != list(LEFT_JOINTS) or list(sym[1]) != list(RIGHT_JOINTS)):
        raise ValueError(
            f"{path}: keypoints_symmetry {sym} is not the Human3.6M left/right split "
            f"{[list(LEFT_JOINTS), list(RIGHT_JOINTS)]}: unknown joint layout"
        )
    out = {}
    for s, acts in kps.items():
        out[s] = {}
        for a, views in acts.items():
            if len(views) != NUM_CAMERAS:
                raise ValueError(
                    f"{path}: positions_2d[{s!r}][{a!r}] has {len(views)} camera views, expected "
                    f"{NUM_CAMERAS} (a camera is missing: re-download the file)"
                )
            seqs = [check_sequence(v, path, f"positions_2d[{s!r}][{a!r}][{c}]", (2,)) for c, v in enumerate(views)]
            for c, v in enumerate(seqs):
                if v.shape[1] != NUM_JOINTS:
                    raise ValueError(f"{path}: positions_2d[{s!r}][{a!r}][{c}] has {v.shape[1]} joints, expected 17")
            out[s][a] = seqs
    return out, meta


def _with_confidence(views: list[np.ndarray], n: int) -> list[np.ndarray]:
    return [np.concatenate([v[:n], np.ones((n, NUM_JOINTS, 1), np.float32)], -1) for v in views]


def convert_vp3d(src, out, trust_pickle: bool = False) -> Path:
    """Convert a folder with the VideoPose3D files (3D + at least one 2D file) to the pickle-free layout.

    The CPN file becomes keypoint kind "detected" (confidence 1: CPN gives none), the GT file "gt"
    (projected from 3D with the cameras when absent).  2D longer than 3D is truncated to the 3D length.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(
            f"{src} is not a folder; put {list(VP3D_FILES.values())} in data/h36m/ and pass --src data/h36m"
        )
    p3 = src / VP3D_FILES["3d"]
    if not p3.is_file():
        raise FileNotFoundError(
            f"{p3} is missing: download data_3d_h36m.npz (VideoPose3D's prepare_data_h36m.py "
            "output) or build it from the official release with `data_tools convert-h36m-cdf`"
        )
    pos = read_vp3d_3d(p3, trust_pickle)
    kinds = {}
    for kind in ("detected", "gt"):
        p = src / VP3D_FILES[kind]
        if p.is_file():
            kinds[kind] = read_vp3d_2d(p, trust_pickle)[0]
    if not kinds:
        raise FileNotFoundError(f"{src} has no 2D file; expected {VP3D_FILES['detected']} and/or {VP3D_FILES['gt']}")
    keypoints = {k: {} for k in kinds}
    for s, acts in pos.items():
        if s not in CAMERA_SUBJECTS:
            raise ValueError(f"{p3}: subject {s!r} has no camera calibration (known: {list(CAMERA_SUBJECTS)})")
        for kind, kp in kinds.items():
            if s not in kp:
                raise ValueError(f"{src / VP3D_FILES[kind]}: subject {s!r} is missing (it has {sorted(kp)})")
            keypoints[kind][s] = {}
            for a, x in acts.items():
                if a not in kp[s]:
                    raise ValueError(f"{src / VP3D_FILES[kind]}: {s}/{a} is missing; the 2D and 3D files disagree")
                n = len(x)
                short = [c for c, v in enumerate(kp[s][a]) if len(v) < n]
                if short:
                    raise ValueError(
                        f"{src / VP3D_FILES[kind]}: {s}/{a} camera {short[0]} has fewer 2D frames than "
                        f"the {n} 3D frames"
                    )
                keypoints[kind][s][a] = _with_confidence(kp[s][a], n)
    if "gt" not in keypoints:
        keypoints["gt"] = {
            s: {a: views_of(x.astype(np.float64), s)[0] for a, x in acts.items()} for s, acts in pos.items()
        }
    info = {
        "source": "h36m",
        "fps": 50.0,
        "splits": {"train": [s for s in TRAIN if s in pos], "test": [s for s in TEST if s in pos]},
        "detected_keypoints": "cpn_ft_h36m_dbb" if "detected" in kinds else None,
        "converted_from": str(src),
    }
    return write_layout(out, pos, keypoints, info)
