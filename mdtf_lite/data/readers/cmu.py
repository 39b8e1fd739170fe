"""Real human motion from CMU mocap BVH files, turned into the same data as the default dataset.

    BVH (120 fps, Y up, CMU units) --bvh_to_h36m17--> (T, 17, 3) m, Y up
        --resample to 50 fps--> --to_h36m_world: (x, y, z) -> (x, -z, y)--> Z-up world, centred
        --4 H36M cameras of S9 / S11 + the detector-noise model--> VP3D array layout (data/cmu/)

``(x, y, z) -> (x, -z, y)`` is a proper rotation (90 degrees about x, determinant +1).  A single-axis
flip such as (x, z, y) would mirror the body and silently swap left and right.
Evaluation only: never train on these clips.  Acknowledgement: "The data used in this project was
obtained from mocap.cs.cmu.edu. The database was created with funding from NSF EIA-0196217."
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mdtf_lite.data.clips import ClipDataset, make_clips
from mdtf_lite.data.layout import Layout, read_info, write_layout
from mdtf_lite.data.readers.bvh import bvh_to_h36m17
from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.synthetic.synth import ANKLE_HEIGHT, take_rng
from mdtf_lite.data.videos import layout_videos
from mdtf_lite.paths import data_dir, project_root

__all__ = [
    "Y_UP_TO_Z_UP",
    "resample",
    "to_h36m_world",
    "load_cmu_bvh",
    "shared_cmu_dir",
    "cmu_bvh_files",
    "cmu_layout",
    "convert_bvh_files",
    "ensure_cmu_dataset",
    "cmu_clips",
    "CAMERA_SUBJECTS_FOR_CMU",
]

#: rotation taking the BVH's Y-up frame to the H36M world's Z-up frame: (x, y, z) -> (x, -z, y).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
CAMERA_SUBJECTS_FOR_CMU = ("S9", "S11")  # test-subject calibrations (CMU is evaluation data)


def resample(x: np.ndarray, fps_in: float, fps_out: float = 50.0) -> np.ndarray:
    """Linear interpolation in time: (T, ...) at ``fps_in`` -> (T', ...) at ``fps_out`` over the same span."""
    for name, fps in (("fps_in", fps_in), ("fps_out", fps_out)):
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"resample: {name}={fps} must be a positive, finite frame rate")
    T = len(x)
    if T < 1:
        raise ValueError("resample: the sequence has no frames")
    t_out = np.arange(0, (T - 1) / fps_in + 1e-9, 1.0 / fps_out)
    pos = t_out * fps_in
    i0 = np.clip(np.floor(pos).astype(int), 0, T - 1)
    i1 = np.clip(i0 + 1, 0, T - 1)
    w = (pos - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    return x[i0] * (1 - w) + x[i1] * w


def to_h36m_world(joints_y_up: np.ndarray) -> np.ndarray:
    """(T, 17, 3) Y-up -> Z-up world, centred on the mean pelvis position, lowest ankle on the floor."""
    w = joints_y_up @ Y_UP_TO_Z_UP.T
    w[..., :2] -= w[:, 0, :2].mean(axis=0)
    w[..., 2] -= np.percentile(np.minimum(w[:, 3, 2], w[:, 6, 2]), 5) - ANKLE_HEIGHT
    return w


def load_cmu_bvh(path, fps: float = 50.0) -> np.ndarray:
    """One CMU BVH -> world joints (T, 17, 3) metres at ``fps`` (H36M world: Z up, centred)."""
    x, fps_in, _ = bvh_to_h36m17(path)
    return to_h36m_world(resample(x, fps_in, fps))


def shared_cmu_dir() -> Path:
    """``$MDTF_SHARED_DIR/mocap/cmu`` or ``<repo>/../shared/mocap/cmu``."""
    base = (
        Path(os.environ["MDTF_SHARED_DIR"]) if os.environ.get("MDTF_SHARED_DIR") else project_root().parent / "shared"
    )
    return base / "mocap" / "cmu"


def cmu_bvh_files(folder: Path | None = None) -> list[Path]:
    folder = folder or shared_cmu_dir()
    files = sorted(folder.glob("cmu_bvh_*/*.bvh"))
    if not files:
        raise FileNotFoundError(
            f"no CMU BVH files under {folder}/cmu_bvh_*/ : set MDTF_SHARED_DIR or pass BVH paths "
            "(any CMU BVH from mocap.cs.cmu.edu in the MotionBuilder- or 3dsMax-style skeleton)"
        )
    return files


def cmu_layout(paths, seed: int = 0, fps: float = 50.0) -> tuple[dict, dict, dict]:
    """BVH files -> (positions_3d, keypoints {gt, detected}, camera_subjects) for the VP3D array layout.

    Each file becomes subject ``CMU_<take>`` with one action (the take id), seen by the cameras of S9 or
    S11 (alternating), with detections from the same noise model as the default dataset.
    """
    pos, gt, det, cams = {}, {}, {}, {}
    paths = sorted(Path(p) for p in paths)
    by_stem: dict[str, list[Path]] = {}
    for p in paths:
        by_stem.setdefault(p.stem, []).append(p)
    clashes = {stem: ps for stem, ps in by_stem.items() if len(ps) > 1}
    if clashes:
        stem, ps = next(iter(clashes.items()))
        raise ValueError(
            f"{len(ps)} BVH files share the name {stem!r} ({', '.join(map(str, ps))}): each file becomes "
            f"subject CMU_<file name>, so they would collapse into one. Rename them apart (e.g. "
            f"{ps[0].parent.name}_{stem}.bvh) or convert them separately"
        )
    for k, p in enumerate(paths):
        take = p.stem
        subject = f"CMU_{take}"
        world = load_cmu_bvh(p, fps)
        cams[subject] = CAMERA_SUBJECTS_FOR_CMU[k % len(CAMERA_SUBJECTS_FOR_CMU)]
        g, d = views_of(world, subject, take_rng(seed, "cmu-detector", take), camera_subject=cams[subject])
        pos[subject], gt[subject], det[subject] = {take: world}, {take: g}, {take: d}
    return pos, {"gt": gt, "detected": det}, cams


def convert_bvh_files(paths, out, seed: int = 0) -> Path:
    """``data_tools convert-bvh``: write BVH files as a dataset folder (all clips in the test split)."""
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"{p} does not exist")
    pos, kps, cams = cmu_layout(paths, seed)
    info = {
        "source": "cmu",
        "fps": 50.0,
        "seed": int(seed),
        "splits": {"train": [], "test": sorted(pos)},
        "camera_subjects": cams,
        "files": [str(p) for p in paths],
        "acknowledgement": "The data used in this project was obtained from mocap.cs.cmu.edu. The database was "
        "created with funding from NSF EIA-0196217.",
    }
    return write_layout(out, pos, kps, info)


def ensure_cmu_dataset(out: Path | None = None, seed: int = 0) -> Path:
    """``data/cmu`` (built from the shared CMU BVH clips if missing)."""
    out = Path(out) if out is not None else data_dir() / "cmu"
    try:
        if read_info(out).get("seed") == seed:
            return out
    except (FileNotFoundError, ValueError):
        pass
    return convert_bvh_files(cmu_bvh_files(), out, seed)


def cmu_clips(
    paths=None,
    frames: int = 27,
    stride: int | None = None,
    keypoints: str = "detected",
    target: str = "camera",
    seed: int = 0,
    max_clips: int | None = None,
) -> ClipDataset:
    """Real CMU motion as clips with exactly the default dataset's inputs/targets (evaluation only).

    ``paths``: BVH files (default: every BVH of the shared CMU folder).  Returns a ClipDataset with
    inputs / targets (N, T, 17, 3), meta subject = ``CMU_<take>``, action = take id, camera 0..3.
    """
    paths = cmu_bvh_files() if paths is None else [Path(p) for p in paths]
    pos, kps, cams = cmu_layout(paths, seed)
    lay = Layout(Path("<memory>"), {"camera_subjects": cams}, pos, kps)
    videos = layout_videos(lay, sorted(pos), keypoints, need_25d=(target == "2.5d"))
    inputs, targets, meta = make_clips(
        videos, frames, stride if stride is not None else frames, target, max_clips=max_clips, seed=seed
    )
    return ClipDataset(inputs, targets, meta, source="cmu", split="test", target=target, keypoints=keypoints)
