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

from mdtf_lite._atomic import FolderRefused, foreign_names, fresh_sibling, swap_in
from mdtf_lite.data.cameras import NUM_CAMERAS
from mdtf_lite.data.npz_io import load_npz, save_npz
from mdtf_lite.data.units import check_metres

__all__ = ["LAYOUT_FORMAT", "write_layout", "read_layout", "Layout", "KEY_SEP", "LAYOUT_NAMES", "check_target"]

LAYOUT_FORMAT = "mdtf-lite/vp3d-arrays/1"
KEY_SEP = "/"
#: the names a dataset folder may hold; a folder with any other name is a user's and is never replaced.
LAYOUT_NAMES = ("dataset.json", "positions_3d.npz", "keypoints_2d_*.npz", "*.npz.partial")


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


def fresh_dataset_folder(folder, own=LAYOUT_NAMES) -> Path:
    """Refuse an unusable target (see :func:`check_target`), then make the fresh temporary sibling folder
    that a converter writes into before ``mdtf_lite._atomic.swap_in`` renames it to ``folder``."""
    folder = Path(folder)
    check_target(folder, own)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return fresh_sibling(folder, "building")


def check_target(folder, own=LAYOUT_NAMES) -> None:
    """Refuse (``FolderRefused``, a ``ValueError``) to write a dataset to ``folder`` when it is a file or holds
    files that are not a dataset's (call it before heavy work; :func:`write_layout` checks again)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FolderRefused(
            f"{folder} exists and is a file, not a dataset folder; choose another --out (nothing was changed)"
        )
    foreign = foreign_names(folder, own)
    if foreign:
        raise FolderRefused(
            f"{folder} already holds files that are not part of a dataset ({', '.join(foreign[:5])}"
            f"{', ...' if len(foreign) > 5 else ''}); they are never deleted. Choose an empty or new "
            "--out folder, or move those files away"
        )


def write_layout(folder, positions_3d: dict, keypoints: dict, info: dict) -> Path:
    """Write a dataset folder.  ``keypoints`` is kind -> subject -> action -> list of (T, 17, 3) arrays.

    The files go to a fresh temporary sibling folder that then replaces ``folder`` in one rename; an
    existing ``folder`` is replaced only if it holds nothing but dataset files (``LAYOUT_NAMES``).
    Raises: FolderRefused (ValueError) for a file or a folder with other files, before writing anything.
    """
    folder = Path(folder)
    tmp = fresh_dataset_folder(folder)
    try:
        arrays = {
            f"{s}{KEY_SEP}{a}": np.asarray(x, np.float32) for s, acts in positions_3d.items() for a, x in acts.items()
        }
        save_npz(tmp / "positions_3d.npz", arrays)
        for kind, subjects in keypoints.items():
            arrays = {
                f"{s}{KEY_SEP}{a}{KEY_SEP}{c}": np.asarray(x, np.float32)
                for s, acts in subjects.items()
                for a, views in acts.items()
                for c, x in enumerate(views)
            }
            save_npz(tmp / f"keypoints_2d_{kind}.npz", arrays)
        info = {"format": LAYOUT_FORMAT, **info, "keypoint_kinds": sorted(keypoints)}
        (tmp / "dataset.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        return swap_in(tmp, folder, LAYOUT_NAMES, "dataset")
    finally:
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def read_info(folder) -> dict:
    folder = Path(folder)
    path = folder / "dataset.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {folder} is not a converted dataset folder. Build the default "
            "one with `python -m data_tools make-default` or convert real files with "
            "`python -m data_tools convert-...` (see the README)"
        )
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); delete the folder and build/convert it again") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc}); delete the folder and build/convert it again") from None
    if not isinstance(info, dict):
        raise ValueError(
            f'{path} holds a JSON {type(info).__name__}, expected an object with "format", "splits", '
            "...; it was not written by mdtf-lite: build/convert the dataset again"
        )
    if info.get("format") != LAYOUT_FORMAT:
        raise ValueError(f"{path} has format {info.get('format')!r}, expected {LAYOUT_FORMAT!r}; convert again")
    splits = info.get("splits")
    if not isinstance(splits, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in splits.values()
    ):
        raise ValueError(
            f'{path} lacks "splits" (an object split -> list of subjects, e.g. {{"train": ["S1"], '
            f'"test": ["S9"]}}), got {splits!r}: add it or convert the dataset again'
        )
    return info


def read_layout(folder, kinds: tuple[str, ...] = ("gt", "detected"), subjects=None) -> Layout:
    """Read a dataset folder (only the keypoint ``kinds`` asked for, only ``subjects`` if given)."""
    folder = Path(folder)
    info = read_info(folder)
    lay = Layout(folder, info)
    p3 = folder / "positions_3d.npz"
    for key, arr in load_npz(p3).items():
        s, a = _split_key(key, p3, 2)
        if subjects is None or s in subjects:
            _check_array(arr, (3,), p3, key)
            check_metres(arr, p3, f"key {key!r}")
            lay.positions_3d.setdefault(s, {})[a] = arr
    for kind in kinds:
        path = folder / f"keypoints_2d_{kind}.npz"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; this dataset has keypoint kinds {info.get('keypoint_kinds')}")
        views: dict = {}
        for key, arr in load_npz(path).items():
            s, a, c = _split_key(key, path, 3)
            if subjects is None or s in subjects:
                _check_array(arr, (3,), path, key)
                views.setdefault(s, {}).setdefault(a, {})[int(c)] = arr
        for s, acts in views.items():
            for a, cams in acts.items():
                if sorted(cams) != list(range(NUM_CAMERAS)):
                    missing = sorted(set(range(NUM_CAMERAS)) - set(cams))
                    extra = sorted(set(cams) - set(range(NUM_CAMERAS)))
                    raise ValueError(
                        f"{path}: {s}/{a} has cameras {sorted(cams)}, expected {list(range(NUM_CAMERAS))} "
                        f"(missing {missing}{f', unknown {extra}' if extra else ''}). Each 2D view is paired "
                        "with the camera of its index, so a gap would pair the wrong cameras: convert the "
                        "dataset again with every camera"
                    )
        lay.keypoints[kind] = {
            s: {a: [v[c] for c in range(NUM_CAMERAS)] for a, v in acts.items()} for s, acts in views.items()
        }
    return lay


def _split_key(key: str, path, parts: int) -> tuple[str, ...]:
    """ "S1/Walking 1" (parts=2) or "S1/Walking 1/0" (parts=3, camera index last) -> its parts."""
    want = "'<subject>/<action>'" if parts == 2 else "'<subject>/<action>/<camera 0..3>'"
    pieces = key.split(KEY_SEP, 1)
    if len(pieces) == 2 and parts == 3:
        pieces = [pieces[0], *pieces[1].rsplit(KEY_SEP, 1)]
    if len(pieces) != parts or not all(pieces) or (parts == 3 and not pieces[2].isdigit()):
        raise ValueError(
            f"{path}: key {key!r} is not {want}; the file is not in the mdtf-lite layout "
            "(mdtf_lite.data.layout): convert the original again with python -m data_tools"
        )
    return tuple(pieces)


def _check_array(arr: np.ndarray, last: tuple[int, ...], path, key) -> None:
    if arr.ndim != 3 or arr.shape[1] != 17 or arr.shape[2] not in last:
        raise ValueError(
            f"{path} key {key!r} has shape {arr.shape}; expected (T, 17, {'|'.join(map(str, last))}). "
            "The file is not in the mdtf-lite layout: convert the original again"
        )
    if not np.all(np.isfinite(arr)):
        t = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise ValueError(
            f"{path} key {key!r} has NaN/Inf values (first at frame {t}); fix or drop that sequence and convert again"
        )
