"""Reader and converter for the official Human3.6M release (``S*/MyPoseFeatures/D3_Positions/*.cdf``).

Each CDF holds a variable ``Pose`` with (1, T, 96) or (T, 96) values: 32 joints x (x, y, z) in millimetres,
world frame, 50 fps.  The converter keeps the 17 H36M joints, converts to metres, renames actions
as VideoPose3D does ('TakingPhoto' -> 'Photo', 'WalkingDog' -> 'WalkDog'), skips '_ALL' files, and
produces ground-truth 2D by projecting through the four calibrated cameras (with distortion).
Needs ``cdflib`` (``pip install mdtf-lite[data]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mdtf_lite.data.cameras import CAMERA_SUBJECTS
from mdtf_lite.data.layout import write_layout
from mdtf_lite.data.readers.vp3d import TEST, TRAIN, _to_h36m17, check_sequence
from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.units import check_metres

__all__ = ["read_h36m_cdf", "canonical_action", "convert_h36m_cdf"]


#: takes VideoPose3D leaves out: S11 'Directions' (its video is corrupted).
SKIPPED = {("S11", "Directions")}


def canonical_action(stem: str) -> str:
    return stem.replace("TakingPhoto", "Photo").replace("WalkingDog", "WalkDog")


def read_h36m_cdf(path) -> np.ndarray:
    """One D3_Positions CDF -> (T, 17, 3) float32 metres, world frame."""
    try:
        import cdflib
    except ImportError:  # pragma: no cover
        raise ImportError(
            "reading the official Human3.6M CDF files needs cdflib: pip install 'mdtf-lite[data]'"
        ) from None
    path = Path(path)
    try:
        pose = cdflib.CDF(str(path)).varget("Pose")
    except Exception as exc:  # cdflib raises many types for broken files
        raise ValueError(
            f"{path} is not a readable CDF with a 'Pose' variable ({type(exc).__name__}: {exc}); "
            "the file is truncated or corrupted: extract it again from the release archive"
        ) from None
    pose = np.asarray(pose)
    if pose.ndim not in (2, 3) or pose.shape[-1] != 96 or (pose.ndim == 3 and pose.shape[0] != 1) or pose.size == 0:
        cols = pose.shape[-1] if pose.ndim else None
        hint = f" ({cols // 3} joints x 3?)" if cols and cols % 3 == 0 and cols != 96 else ""
        raise ValueError(
            f"{path}: Pose has shape {pose.shape}{hint}; expected (1, T, 96) or (T, 96) = the 32 joints x "
            "(x, y, z) in millimetres of D3_Positions (not D3_Positions_mono or another skeleton)"
        )
    x = check_sequence(pose.reshape(-1, 32, 3), path, "Pose", (3,)) / 1000.0
    x = _to_h36m17(x, path, "Pose")
    check_metres(x, path, "Pose (read as millimetres)")
    return x


def convert_h36m_cdf(src, out) -> Path:
    """Convert ``src/S*/MyPoseFeatures/D3_Positions/*.cdf`` to the pickle-free layout (3D + GT 2D)."""
    src = Path(src)
    files = sorted(src.glob("S*/MyPoseFeatures/D3_Positions/*.cdf"))
    if not files:
        raise FileNotFoundError(
            f"no S*/MyPoseFeatures/D3_Positions/*.cdf under {src}: extract the official "
            "Poses_D3_Positions_S*.tgz archives there"
        )
    pos, gt = {}, {}
    for f in files:
        subject = f.parts[-4]
        if subject not in CAMERA_SUBJECTS:
            raise ValueError(f"{f}: subject {subject!r} has no camera calibration (known: {list(CAMERA_SUBJECTS)})")
        action = canonical_action(f.stem)
        if f.stem.endswith("_ALL") or (subject, action) in SKIPPED:
            continue
        x = read_h36m_cdf(f)
        pos.setdefault(subject, {})[action] = x
        gt.setdefault(subject, {})[action] = views_of(x.astype(np.float64), subject)[0]
    info = {
        "source": "h36m",
        "fps": 50.0,
        "converted_from": str(src),
        "detected_keypoints": None,
        "splits": {"train": [s for s in TRAIN if s in pos], "test": [s for s in TEST if s in pos]},
    }
    return write_layout(out, pos, {"gt": gt}, info)
