"""``load_clips``: every data source -> :class:`~mdtf_lite.data.clips.ClipDataset`.

    source          folder under data/ (pickle-free)     made by
    "default"       data/default/                        built on demand (``ensure_default_dataset``)
    "h36m"          data/h36m_vp3d/                      ``data_tools convert-vp3d`` or ``convert-h36m-cdf``
    "cmu"           data/cmu/                            ``data_tools convert-bvh`` (built on demand from the
                                                         shared CMU clips when they are present)
    "motionbert"    data/motionbert_h36m/                ``data_tools convert-motionbert``
    "3dhp"          data/mpi3dhp/                        ``data_tools convert-3dhp``
    a Path          any folder in the VP3D array layout

Shapes as in ``clips.py``: inputs / targets (N, T, 17, 3).
"""

from __future__ import annotations

from pathlib import Path

from mdtf_lite.data.clips import ClipDataset, make_clips
from mdtf_lite.data.layout import read_info, read_layout
from mdtf_lite.data.readers.cmu import ensure_cmu_dataset
from mdtf_lite.data.readers.motionbert import motionbert_videos
from mdtf_lite.data.readers.mpi3dhp import mpi3dhp_videos
from mdtf_lite.data.synthetic.default import ensure_default_dataset
from mdtf_lite.data.videos import layout_videos
from mdtf_lite.paths import data_dir

__all__ = ["load_clips", "layout_videos", "source_dir", "subject_groups", "SOURCE_FOLDERS"]

SOURCE_FOLDERS = {
    "default": "default",
    "h36m": "h36m_vp3d",
    "cmu": "cmu",
    "motionbert": "motionbert_h36m",
    "3dhp": "mpi3dhp",
}


def source_dir(source: str | Path) -> Path:
    """The folder of a named source (or the given path)."""
    if isinstance(source, Path) or (isinstance(source, str) and ("/" in source or source.startswith("."))):
        return Path(source)
    if source not in SOURCE_FOLDERS:
        raise ValueError(f"unknown source {source!r}; use one of {list(SOURCE_FOLDERS)} or a folder path")
    return data_dir() / SOURCE_FOLDERS[source]


def _folder_kind(source) -> str:
    """ "motionbert", "3dhp" or "vp3d" (the array layout of default / h36m / cmu) for a source name or folder."""
    if source in ("motionbert", "3dhp"):
        return source
    if source in SOURCE_FOLDERS:
        return "vp3d"
    info = Path(source) / "dataset.json"
    if info.is_file():
        import json

        fmt = str(json.loads(info.read_text()).get("format", ""))
        if "motionbert" in fmt:
            return "motionbert"
        if "3dhp" in fmt:
            return "3dhp"
    return "vp3d"


def _vp3d_folder(source) -> Path:
    if source == "default":
        return ensure_default_dataset()
    if source == "cmu":
        return ensure_cmu_dataset()
    return source_dir(source)


def subject_groups(source="default", split: str = "test") -> dict[str, list[str] | None]:
    """The split's subjects by group: ``{"procedural": ["S9", "S11"], "real": ["CMU01", "HDMdg"]}`` for the
    default dataset (its ``dataset.json`` ``groups``; empty groups left out); ``{"all": subjects}`` for a
    dataset without groups, ``{"all": None}`` (the split as ``load_clips`` reads it) for MotionBERT / 3DHP."""
    if _folder_kind(source) != "vp3d":
        return {"all": None}
    info = read_info(_vp3d_folder(source))
    members = list(info["splits"].get(split, []))
    groups = info.get("groups")
    if not groups:
        return {"all": members}
    out = {g: [s for s in members if s in set(subs)] for g, subs in groups.items()}
    return {g: subs for g, subs in out.items() if subs}


def load_clips(
    source="default",
    split: str = "train",
    frames: int = 27,
    stride: int | None = None,
    keypoints: str = "detected",
    target: str = "camera",
    subjects=None,
    max_clips: int | None = None,
    seed: int = 0,
    short: str = "resample",
    cameras=None,
) -> ClipDataset:
    """Clips of ``frames`` (T) frames from a source; see the module docstring for the sources.

    Args:
        split: "train" or "test" (the dataset's subject split; CMU and 3DHP-test are test-only).
        stride: window step; default T // 3 for train (overlapping, as the official recipe) and T for test.
        keypoints: "detected" (simulated / CPN / SH detections) or "gt" (projected ground truth, confidence 1).
        target: "camera" (root-relative camera metres) or "2.5d" (normalised 2.5D, MotionBERT convention).
        subjects: override the split's subjects.  cameras: keep only these camera indices.
        max_clips: keep a seeded random subset of this many clips (order preserved).
    Returns a ClipDataset with inputs / targets (N, T, 17, 3) and meta (N,).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if keypoints not in ("detected", "gt"):
        raise ValueError(f"keypoints must be 'detected' or 'gt', got {keypoints!r}")
    if target not in ("camera", "2.5d"):
        raise ValueError(f"target must be 'camera' or '2.5d', got {target!r}")
    stride = stride if stride is not None else (max(1, int(frames) // 3) if split == "train" else int(frames))
    name = str(source)
    fps = 50.0
    kind = _folder_kind(source)
    if kind == "motionbert":
        videos = motionbert_videos(source_dir(source), split, keypoints)
    elif kind == "3dhp":
        videos = mpi3dhp_videos(source_dir(source), split)
    else:
        folder = _vp3d_folder(source)
        info = read_info(folder)
        fps = float(info.get("fps", 50.0))
        chosen = list(subjects) if subjects is not None else list(info["splits"].get(split, []))
        if not chosen:
            raise ValueError(f"{folder}: split {split!r} has no subjects (splits: {info['splits']}); pass subjects=...")
        lay = read_layout(folder, kinds=(keypoints,), subjects=set(chosen))
        videos = layout_videos(lay, chosen, keypoints, need_25d=(target == "2.5d"))
    if subjects is not None and kind in ("motionbert", "3dhp"):
        videos = [v for v in videos if v.subject in set(subjects)]
    if cameras is not None:
        videos = [v for v in videos if v.camera in set(cameras)]
    if not videos:
        raise ValueError(f"source {name!r} split {split!r}: no videos left after the subject/camera selection")
    inputs, targets, meta = make_clips(videos, frames, stride, target, short, max_clips, seed)
    return ClipDataset(inputs, targets, meta, source=name, split=split, target=target, keypoints=keypoints, fps=fps)
