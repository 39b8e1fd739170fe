"""The pickle-free VideoPose3D layout that training reads (one folder per dataset).

    <folder>/dataset.json                 what it is: source, fps, splits, camera subjects, keypoint kinds
    <folder>/positions_3d.npz             "S1/Walking 1"   -> (T, 17, 3) float32, metres, world frame (Z up)
    <folder>/keypoints_2d_<kind>.npz      "S1/Walking 1/0" -> (T, 17, 3) float32, pixels + confidence
                                          (kind = "gt" or "detected"; camera index after the last '/')

It mirrors the original ``data_3d_h36m.npz`` / ``data_2d_h36m_*.npz`` (subject -> action -> arrays,
four cameras in the order of ``h36m_cameras.json``) but with plain arrays: no pickle, so opening a
file never runs code.  The default dataset, converted Human3.6M and converted CMU BVH all use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mdtf_lite.data.npz_io import load_npz, save_npz

__all__ = ["LAYOUT_FORMAT", "write_layout", "read_layout", "Layout", "KEY_SEP"]

LAYOUT_FORMAT = "mdtf-lite/vp3d-arrays/1"
KEY_SEP = "/"


@dataclass
class Layout:
    """A dataset folder in memory: ``positions_3d[subject][action]`` (T, 17, 3) and
    ``keypoints[kind][subject][action]`` -> list of (T, 17, 3) per camera."""

    path: Path
    info: dict
    positions_3d: dict = field(default_factory=dict)
    keypoints: dict = field(default_factory=dict)

    def camera_subject(self, subject: str) -> str:
        """Whose camera calibration a subject's videos use (itself for Human3.6M subjects)."""
        return self.info.get("camera_subjects", {}).get(subject, subject)


def write_layout(folder, positions_3d: dict, keypoints: dict, info: dict) -> Path:
    """Write a dataset folder.  ``keypoints`` is kind -> subject -> action -> list of (T, 17, 3) arrays."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"{s}{KEY_SEP}{a}": np.asarray(x, np.float32) for s, acts in positions_3d.items() for a, x in acts.items()}
    save_npz(folder / "positions_3d.npz", arrays)
    for kind, subjects in keypoints.items():
        arrays = {f"{s}{KEY_SEP}{a}{KEY_SEP}{c}": np.asarray(x, np.float32)
                  for s, acts in subjects.items() for a, views in acts.items() for c, x in enumerate(views)}
        save_npz(folder / f"keypoints_2d_{kind}.npz", arrays)
    info = {"format": LAYOUT_FORMAT, **info, "keypoint_kinds": sorted(keypoints)}
    (folder / "dataset.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return folder


def read_info(folder) -> dict:
    folder = Path(folder)
    path = folder / "dataset.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {folder} is not a converted dataset folder. Build the default "
                                "one with `python -m data_tools make-default` or convert real files with "
                                "`python -m data_tools convert-...` (see the README)")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); delete the folder and build/convert it again") from None
    if info.get("format") != LAYOUT_FORMAT:
        raise ValueError(f"{path} has format {info.get('format')!r}, expected {LAYOUT_FORMAT!r}; convert again")
    return info


def read_layout(folder, kinds: tuple[str, ...] = ("gt", "detected"), subjects=None) -> Layout:
    """Read a dataset folder (only the keypoint ``kinds`` asked for, only ``subjects`` if given)."""
    folder = Path(folder)
    info = read_info(folder)
    lay = Layout(folder, info)
    for key, arr in load_npz(folder / "positions_3d.npz").items():
        s, a = key.split(KEY_SEP, 1)
        if subjects is None or s in subjects:
            _check_array(arr, (3,), folder / "positions_3d.npz", key)
            lay.positions_3d.setdefault(s, {})[a] = arr
    for kind in kinds:
        path = folder / f"keypoints_2d_{kind}.npz"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; this dataset has keypoint kinds {info.get('keypoint_kinds')}")
        views: dict = {}
        for key, arr in load_npz(path).items():
            s, rest = key.split(KEY_SEP, 1)
            a, c = rest.rsplit(KEY_SEP, 1)
            if subjects is None or s in subjects:
                _check_array(arr, (3,), path, key)
                views.setdefault(s, {}).setdefault(a, {})[int(c)] = arr
        lay.keypoints[kind] = {s: {a: [v[c] for c in sorted(v)] for a, v in acts.items()} for s, acts in views.items()}
    return lay


def _check_array(arr: np.ndarray, last: tuple[int, ...], path, key) -> None:
    if arr.ndim != 3 or arr.shape[1] != 17 or arr.shape[2] not in last:
        raise ValueError(f"{path} key {key!r} has shape {arr.shape}; expected (T, 17, {'|'.join(map(str, last))}). "
                         "The file is not in the mdtf-lite layout: convert the original again")
    if not np.all(np.isfinite(arr)):
        t = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise ValueError(f"{path} key {key!r} has NaN/Inf values (first at frame {t}); fix or drop that sequence "
                         "and convert again")
