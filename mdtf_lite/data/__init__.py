"""The data layer: cameras, geometry, readers of the real files, the default generator, BVH, clips.

Main API (see docs/DEVELOPING.md, "Data contract"):

    ensure_default_dataset() -> Path     builds data/default/ if missing (deterministic, ~15 s)
    load_clips(source="default", split="train", frames=T, ...) -> ClipDataset
        ds.inputs (N, T, 17, 3) normalised x, y + confidence; ds.targets (N, T, 17, 3) root-relative
    flip_poses / flip_inputs / flip_targets   horizontal flip (negate x, swap left/right)

Modules: ``cameras`` (H36M calibration), ``geometry`` (projection, normalisation, 2.5D, flip),
``layout`` (pickle-free VP3D arrays), ``npz_io`` (safe/deterministic npz), ``clips`` (windows ->
ClipDataset), ``sources`` (``load_clips``); ``synthetic/`` the motion generator (``body`` / ``actions`` /
``synth``, ``noise`` detector errors, ``default`` the default dataset); ``readers/`` the real files
(``vp3d``, ``motionbert``, ``mpi3dhp``, ``h36m_cdf``, and ``bvh`` / ``cmu`` real CMU motion capture).
"""

from mdtf_lite.data.cameras import Camera, h36m_camera, h36m_cameras
from mdtf_lite.data.clips import ClipDataset, Video, flip_inputs, flip_targets, make_clips
from mdtf_lite.data.geometry import (
    FLIP_PERMUTATION,
    camera_to_world,
    flip_poses,
    normalise_screen,
    pose_25d,
    project,
    root_relative,
    unnormalise_screen,
    world_to_camera,
)
from mdtf_lite.data.npz_io import PickleRefused
from mdtf_lite.data.readers.cmu import cmu_clips
from mdtf_lite.data.sources import load_clips, subject_groups
from mdtf_lite.data.synthetic.default import build_default_dataset, ensure_default_dataset

__all__ = [
    "ensure_default_dataset",
    "build_default_dataset",
    "load_clips",
    "ClipDataset",
    "Video",
    "make_clips",
    "flip_poses",
    "flip_inputs",
    "flip_targets",
    "FLIP_PERMUTATION",
    "Camera",
    "h36m_camera",
    "h36m_cameras",
    "world_to_camera",
    "camera_to_world",
    "project",
    "normalise_screen",
    "unnormalise_screen",
    "root_relative",
    "pose_25d",
    "PickleRefused",
    "cmu_clips",
    "subject_groups",
]
