"""Reader and converter for MotionBERT's ``h36m_sh_conf_cam_source_final.pkl`` (also used by MotionAGFormer
and the official MDTF): fine-tuned Stacked-Hourglass detections with confidences, 2.5D targets.

    {'train': {...}, 'test': {...}}, one row per frame, videos concatenated:
      joint_2d (N, 17, 2) px, confidence (N, 17[, 1]), joint3d_image (N, 17, 3) 2.5D pixels,
      camera_name (N,), source (N,) e.g. 's_09_act_05_subact_02_ca_01';
      test adds action (N,), 2.5d_factor (N,) mm/px, joints_2.5d_image (N, 17, 3) mm

A plain pickle: reading it needs ``trust_pickle=True``.  :func:`convert_motionbert` writes
``train.npz`` / ``test.npz`` with the same keys as plain arrays; :func:`motionbert_videos` cuts them
into videos by ``source``, dropping the three S9 takes the protocol excludes from the test set.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

from mdtf_lite._atomic import swap_in
from mdtf_lite.data.cameras import CAMERA_IDS, camera_facts
from mdtf_lite.data.clips import Video
from mdtf_lite.data.layout import fresh_dataset_folder as _fresh_dataset_folder
from mdtf_lite.data.npz_io import load_npz, load_pickled, save_npz
from mdtf_lite.skeleton import NUM_JOINTS

OWN_NAMES = ("dataset.json", "train.npz", "test.npz", "*.npz.partial")

__all__ = [
    "MOTIONBERT_FILE",
    "EXCLUDED_TEST_TAKES",
    "H36M_ACTIONS",
    "read_motionbert",
    "convert_motionbert",
    "motionbert_videos",
    "parse_source",
]

MOTIONBERT_FILE = "h36m_sh_conf_cam_source_final.pkl"
FORMAT = "mdtf-lite/motionbert-arrays/1"
EXCLUDED_TEST_TAKES = ("s_09_act_05_subact_02", "s_09_act_10_subact_02", "s_09_act_13_subact_01")
#: Human3.6M action ids (the ``act_XX`` of a source id) -> action names as in VideoPose3D.
H36M_ACTIONS = {
    2: "Directions",
    3: "Discussion",
    4: "Eating",
    5: "Greeting",
    6: "Phoning",
    7: "Posing",
    8: "Purchases",
    9: "Sitting",
    10: "SittingDown",
    11: "Smoking",
    12: "Photo",
    13: "Waiting",
    14: "Walking",
    15: "WalkDog",
    16: "WalkTogether",
}
REQUIRED = ("joint_2d", "confidence", "joint3d_image", "camera_name", "source")
REQUIRED_TEST = ("action", "2.5d_factor", "joints_2.5d_image")
_SOURCE = re.compile(r"s_(\d+)_act_(\d+)_subact_(\d+)_ca_(\d+)")


def parse_source(source: str) -> tuple[str, int, int, int]:
    """'s_09_act_05_subact_02_ca_01' -> ('S9', 5, 2, 0): subject, action id, sub-action, camera index."""
    m = _SOURCE.fullmatch(str(source))
    if not m:
        raise ValueError(f"source id {source!r} is not of the form 's_09_act_05_subact_02_ca_01'")
    s, a, sa, c = (int(g) for g in m.groups())
    return f"S{s}", a, sa, c - 1


def _check_split(split: dict, name: str, path) -> dict:
    need = REQUIRED + (REQUIRED_TEST if name == "test" else ())
    missing = [k for k in need if k not in split]
    if missing:
        raise ValueError(f"{path}: split {name!r} lacks {missing}; is this MotionBERT's {MOTIONBERT_FILE}?")
    out = {}
    n = len(split["source"])
    for k in need:
        a = np.asarray(split[k])
        if len(a) != n:
            raise ValueError(f"{path}: {name}/{k} has {len(a)} rows but source has {n}: the file is inconsistent")
        if k in ("camera_name", "source", "action"):
            out[k] = a.astype(str)
            continue
        a = a.astype(np.float32)
        if k == "confidence":
            a = a.reshape(n, -1)
        want = {
            "joint_2d": (NUM_JOINTS, 2),
            "confidence": (NUM_JOINTS,),
            "joint3d_image": (NUM_JOINTS, 3),
            "2.5d_factor": (),
            "joints_2.5d_image": (NUM_JOINTS, 3),
        }[k]
        if a.shape[1:] != want:
            raise ValueError(f"{path}: {name}/{k} has shape {a.shape}, expected (N, {', '.join(map(str, want))})")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{path}: {name}/{k} has NaN/Inf at row {int(np.argwhere(~np.isfinite(a))[0][0])}")
        out[k] = a
    for s in np.unique(out["source"]):
        parse_source(s)
    return out


def read_motionbert(path, trust_pickle: bool = False) -> dict:
    """The pkl -> {'train': {key: array}, 'test': {...}} validated (shapes, rows, NaN)."""
    data = load_pickled(path, None, trust_pickle)
    if not isinstance(data, dict) or not {"train", "test"} <= set(data):
        raise ValueError(f"{path}: expected a dict with 'train' and 'test'; is this MotionBERT's {MOTIONBERT_FILE}?")
    return {name: _check_split(data[name], name, path) for name in ("train", "test")}


def convert_motionbert(src, out, trust_pickle: bool = False) -> Path:
    """Write ``out/train.npz``, ``out/test.npz`` and ``out/dataset.json`` (pickle-free)."""
    src = Path(src)
    if src.is_dir():
        src = src / MOTIONBERT_FILE
    data = read_motionbert(src, trust_pickle)
    out = Path(out)
    tmp = _fresh_dataset_folder(out, OWN_NAMES)
    try:
        for name, arrays in data.items():
            save_npz(tmp / f"{name}.npz", arrays)
        (tmp / "dataset.json").write_text(
            json.dumps({"format": FORMAT, "source": "motionbert", "fps": 50.0, "converted_from": str(src)}, indent=1)
            + "\n"
        )
        return swap_in(tmp, out, OWN_NAMES, "dataset")  # temp folder renamed into place; other files refused
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def motionbert_videos(folder, split: str, keypoints: str = "detected") -> list[Video]:
    """Videos (one per ``source`` run) of a converted MotionBERT folder; test drops the 3 excluded S9 takes.

    Inputs: SH detections + confidence ("detected") or the 2D of ``joint3d_image`` with confidence 1 ("gt").
    Target: 2.5D only (``joint3d_image``; ``2.5d_factor`` on test).
    """
    folder = Path(folder)
    info_path = folder / "dataset.json"
    if not info_path.is_file():
        raise FileNotFoundError(
            f"{info_path} is missing: convert MotionBERT's {MOTIONBERT_FILE} first with "
            "`python -m data_tools convert-motionbert --src data/motionbert --trust-pickle`"
        )
    if json.loads(info_path.read_text()).get("format") != FORMAT:
        raise ValueError(f"{info_path}: not a converted MotionBERT folder; convert again")
    d = load_npz(folder / f"{split}.npz")
    src = d["source"]
    cuts = np.flatnonzero(src[1:] != src[:-1]) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, len(src)])
    intr = {c["id"]: c for c in camera_facts()["intrinsics"]}
    videos = []
    for a, b in bounds:
        sid = str(src[a])
        if split == "test" and any(sid.startswith(x) for x in EXCLUDED_TEST_TAKES):
            continue
        subject, act, sub, cam = parse_source(sid)
        res = intr.get(
            str(d["camera_name"][a]), camera_facts()["intrinsics"][cam] if 0 <= cam < len(CAMERA_IDS) else None
        )
        if res is None:
            raise ValueError(f"{folder}: video {sid} has camera {d['camera_name'][a]!r}, unknown to h36m_cameras.json")
        if keypoints == "detected":
            kp = np.concatenate([d["joint_2d"][a:b], d["confidence"][a:b, :, None]], -1)
        else:
            kp = np.concatenate([d["joint3d_image"][a:b, :, :2], np.ones((b - a, NUM_JOINTS, 1), np.float32)], -1)
        action = str(d["action"][a]) if "action" in d else H36M_ACTIONS.get(act, f"act_{act:02d}")
        videos.append(
            Video(
                keypoints=kp.astype(np.float64),
                res_w=int(res["res_w"]),
                res_h=int(res["res_h"]),
                subject=subject,
                action=action,
                camera=cam,
                name=sid,
                pose_25d=d["joint3d_image"][a:b].astype(np.float64),
                factor_25d=d["2.5d_factor"][a:b] if "2.5d_factor" in d else None,
            )
        )
    return videos
