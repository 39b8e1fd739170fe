"""Reader and converter for MPI-INF-3DHP as packed by P-STMO / MotionAGFormer.

    data_test_3dhp.npz   key 'data': {'TS1'..'TS6': {'data_2d' (N, 17, 2) px, 'data_3d' (N, 17, 3) mm, 'valid' (N,)}}
    data_train_3dhp.npz  key 'data': {'S1 Seq1': [{cam: {'data_2d', 'data_3d'}}, fps], ...}  (cams 0,1,2,4,5,6,7,8)

Joints come in MPI order (pelvis at 14) and are reordered to H36M-17 with ``MPI_TO_H36M``.
Images are 2048 x 2048 except TS5/TS6 (1920 x 1080).  Ground-truth 2D is the input (confidence 1);
targets are camera-frame metres.  The values are pickles: reading needs ``trust_pickle=True``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from mdtf_lite._atomic import swap_in
from mdtf_lite.data.clips import Video
from mdtf_lite.data.layout import fresh_dataset_folder as _fresh_dataset_folder
from mdtf_lite.data.npz_io import load_npz, load_pickled, save_npz
from mdtf_lite.data.readers.vp3d import check_sequence

OWN_NAMES = ("dataset.json", "train.npz", "test.npz", "*.npz.partial")

__all__ = ["MPI_TO_H36M", "image_size", "read_3dhp_test", "read_3dhp_train", "convert_3dhp", "mpi3dhp_videos"]

MPI_TO_H36M = (14, 8, 9, 10, 11, 12, 13, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)
FORMAT = "mdtf-lite/3dhp-arrays/1"
FILES = {"train": "data_train_3dhp.npz", "test": "data_test_3dhp.npz"}


def image_size(sequence: str) -> tuple[int, int]:
    """(width, height): 1920 x 1080 for the outdoor test sequences TS5/TS6, else 2048 x 2048."""
    return (1920, 1080) if sequence in ("TS5", "TS6") else (2048, 2048)


def _pair(entry, path, key) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(entry, dict) or "data_2d" not in entry or "data_3d" not in entry:
        raise ValueError(f"{path}: {key} should be a dict with 'data_2d' and 'data_3d'")
    kp = check_sequence(entry["data_2d"], path, f"{key}/data_2d", (2,))
    x3 = check_sequence(entry["data_3d"], path, f"{key}/data_3d", (3,))
    for name, a in (("data_2d", kp), ("data_3d", x3)):
        if a.shape[1] != 17:
            raise ValueError(
                f"{path}: {key}/{name} has {a.shape[1]} joints; expected the 17 MPI-INF-3DHP joints "
                "(unknown joint layout)"
            )
    if len(kp) != len(x3):
        raise ValueError(f"{path}: {key} has {len(kp)} 2D but {len(x3)} 3D frames")
    return kp[:, list(MPI_TO_H36M)], x3[:, list(MPI_TO_H36M)]


def read_3dhp_test(path, trust_pickle: bool = False) -> dict:
    """-> sequence -> (data_2d (N, 17, 2) px, data_3d (N, 17, 3) mm, valid (N,) bool), H36M joint order."""
    data = load_pickled(path, "data", trust_pickle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: key 'data' should be a dict TS1..TS6 -> arrays")
    out = {}
    for seq, entry in data.items():
        kp, x3 = _pair(entry, path, seq)
        valid = np.asarray(entry.get("valid", np.ones(len(kp))), bool).reshape(-1)
        if len(valid) != len(kp):
            raise ValueError(f"{path}: {seq}/valid has {len(valid)} entries for {len(kp)} frames")
        out[str(seq)] = (kp, x3, valid)
    return out


def read_3dhp_train(path, trust_pickle: bool = False) -> dict:
    """-> 'S1 Seq1' -> camera -> (data_2d (N, 17, 2) px, data_3d (N, 17, 3) mm), H36M joint order."""
    data = load_pickled(path, "data", trust_pickle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: key 'data' should be a dict 'S1 Seq1' -> [cameras, fps]")
    out = {}
    for seq, entry in data.items():
        cams = entry[0] if isinstance(entry, (list, tuple)) else entry
        if not isinstance(cams, dict):
            raise ValueError(f"{path}: {seq} should hold a dict camera -> {{'data_2d', 'data_3d'}}")
        out[str(seq)] = {int(c): _pair(v, path, f"{seq}/{c}") for c, v in cams.items()}
    return out


def convert_3dhp(src, out, trust_pickle: bool = False) -> Path:
    """Convert the folder holding data_{train,test}_3dhp.npz (either or both) to pickle-free arrays."""
    src, out = Path(src), Path(out)
    found = {k: src / f for k, f in FILES.items() if (src / f).is_file()}
    if not found:
        raise FileNotFoundError(f"{src} has neither {FILES['train']} nor {FILES['test']}")
    tmp = _fresh_dataset_folder(out, OWN_NAMES)  # written here, then renamed into place
    try:
        if "test" in found:
            arrays = {}
            for seq, (kp, x3, valid) in read_3dhp_test(found["test"], trust_pickle).items():
                arrays.update({f"{seq}/data_2d": kp, f"{seq}/data_3d": x3, f"{seq}/valid": valid})
            save_npz(tmp / "test.npz", arrays)
        if "train" in found:
            arrays = {}
            for seq, cams in read_3dhp_train(found["train"], trust_pickle).items():
                for c, (kp, x3) in cams.items():
                    arrays.update({f"{seq}/{c}/data_2d": kp, f"{seq}/{c}/data_3d": x3})
            save_npz(tmp / "train.npz", arrays)
        (tmp / "dataset.json").write_text(
            json.dumps(
                {"format": FORMAT, "source": "3dhp", "splits": sorted(found), "converted_from": str(src)}, indent=1
            )
            + "\n"
        )
        return swap_in(tmp, out, OWN_NAMES, "dataset")
    finally:  # on an error the temporary folder (ours) goes; the target is untouched
        shutil.rmtree(tmp, ignore_errors=True)


def mpi3dhp_videos(folder, split: str) -> list[Video]:
    """Videos of a converted 3DHP folder: test = TS1..TS6 (with ``valid``), train = sequence x camera."""
    folder = Path(folder)
    path = folder / f"{split}.npz"
    if not (folder / "dataset.json").is_file():
        raise FileNotFoundError(
            f"{folder / 'dataset.json'} is missing: convert the 3DHP files first with "
            "`python -m data_tools convert-3dhp --src data/mpi_inf_3dhp --trust-pickle`"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {FILES[split]} was not converted")
    d = load_npz(path)
    groups = sorted({k.rsplit("/", 1)[0] for k in d})
    videos = []
    for g in groups:
        seq = g.split("/")[0]
        w, h = image_size(seq) if split == "test" else (2048, 2048)
        kp = np.concatenate([d[f"{g}/data_2d"], np.ones(d[f"{g}/data_2d"].shape[:2] + (1,), np.float32)], -1)
        cam = int(g.split("/")[1]) if "/" in g else 0
        videos.append(
            Video(
                keypoints=kp.astype(np.float64),
                res_w=w,
                res_h=h,
                subject=seq.split(" ")[0],
                action=seq,
                camera=cam,
                name=g,
                target_cam=d[f"{g}/data_3d"].astype(np.float64) / 1000.0,
                valid=d.get(f"{g}/valid"),
            )
        )
    return videos
