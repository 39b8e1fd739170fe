"""The embedded default dataset: procedural motion of 7 synthetic subjects seen by the 4 H36M cameras.

``ensure_default_dataset()`` builds ``data/default/`` (pickle-free VideoPose3D layout, see
``layout.py``) unless it is already there for the same seed and generator version.  It is
deterministic: the same seed gives the same bytes.  Subjects S1 S5 S6 S7 S8 (train) and S9 S11
(test) use their real camera extrinsics; 16 actions x 2 takes each ("Walking", "Walking 1", ...),
8.4-14.4 s per take at 50 fps: about 128k frames per camera.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from pathlib import Path

import numpy as np

from mdtf_lite.data.synthetic.actions import ACTIONS
from mdtf_lite.data.cameras import h36m_cameras
from mdtf_lite.data.geometry import project, world_to_camera
from mdtf_lite.data.layout import check_target, read_info, write_layout
from mdtf_lite.data.synthetic.noise import NoiseModel, detect
from mdtf_lite.data.npz_io import load_npz
from mdtf_lite.data.synthetic.synth import FPS, TEST_SUBJECTS, TRAIN_SUBJECTS, generate_take, make_subject, take_rng
from mdtf_lite.paths import data_dir

__all__ = ["GENERATOR_VERSION", "TAKES_PER_ACTION", "default_dataset_dir", "build_default_dataset",
           "ensure_default_dataset", "take_length", "views_of"]

GENERATOR_VERSION = 3
TAKES_PER_ACTION = 2
LENGTH_RANGE = (420, 720)  # frames per take


def default_dataset_dir() -> Path:
    return data_dir() / "default"


def take_length(seed: int, subject: str, action: str, take: int) -> int:
    return int(take_rng(seed, "length", subject, action, take).integers(LENGTH_RANGE[0], LENGTH_RANGE[1] + 1))


def views_of(world: np.ndarray, subject: str, rng: np.random.Generator | None = None, camera_subject: str | None = None,
             noise: NoiseModel | None = None):
    """Project world joints (T, 17, 3) through the 4 cameras of ``camera_subject`` (default: ``subject``).

    Returns (gt, detected): two lists of 4 arrays (T, 17, 3) = pixels + confidence (1 for gt); the
    detections come from ``noise.detect`` with ``rng`` (skipped, ``None``, when no rng is given).
    """
    gt, det = [], []
    for cam in h36m_cameras(camera_subject or subject):
        x_cam = world_to_camera(world, cam)
        uv = project(x_cam, cam)
        gt.append(np.concatenate([uv, np.ones(uv.shape[:-1] + (1,))], -1))
        det.append(None if rng is None else detect(uv, x_cam[:, 0, 2], rng, noise))
    return gt, det


def build_default_dataset(out: Path | str | None = None, seed: int = 0, verbose: bool = True,
                          subjects: tuple[str, ...] | None = None, actions: tuple[str, ...] | None = None,
                          takes_per_action: int = TAKES_PER_ACTION, noise: NoiseModel | None = None) -> Path:
    """Generate the dataset into ``out`` (default ``data/default``), replacing the dataset that is there.

    An ``out`` holding anything but dataset files is refused (``ValueError``) before generating.

    ``subjects`` / ``actions`` / ``takes_per_action`` restrict it (tests, quick looks): every take is drawn
    from its own random stream, so a restricted build holds exactly the same takes as the full one.
    ``noise`` replaces the default detector-noise model (``noise.NoiseModel``) for experiments.
    """
    out = Path(out) if out is not None else default_dataset_dir()
    check_target(out)  # a folder with other files is refused before ~20 s of generation, never emptied
    t0 = time.perf_counter()
    positions, kp_gt, kp_det = {}, {}, {}
    subjects = tuple(subjects) if subjects is not None else TRAIN_SUBJECTS + TEST_SUBJECTS
    actions = tuple(actions) if actions is not None else tuple(ACTIONS)
    for subject in subjects:
        person = make_subject(seed, subject)
        positions[subject], kp_gt[subject], kp_det[subject] = {}, {}, {}
        for action in actions:
            for take in range(takes_per_action):
                name = action if take == 0 else f"{action} {take}"
                world = generate_take(seed, person, action, take, take_length(seed, subject, action, take), FPS)
                gt, det = views_of(world, subject, take_rng(seed, "detector", subject, action, take), noise=noise)
                positions[subject][name] = world
                kp_gt[subject][name] = gt
                kp_det[subject][name] = det
        if verbose:
            print(f"  {subject}: {sum(len(x) for x in positions[subject].values())} frames "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
    info = {"source": "default", "seed": int(seed), "generator_version": GENERATOR_VERSION, "fps": FPS,
            "splits": {"train": [s for s in TRAIN_SUBJECTS if s in subjects],
                       "test": [s for s in TEST_SUBJECTS if s in subjects]},
            "actions": list(actions), "takes_per_action": takes_per_action, "complete": (
                set(subjects) == set(TRAIN_SUBJECTS + TEST_SUBJECTS) and set(actions) == set(ACTIONS)
                and takes_per_action == TAKES_PER_ACTION and noise is None),
            # frozen text (the dataset's bytes must not change with a module move; the generator is now
            # mdtf_lite.data.synthetic.actions): change it only together with GENERATOR_VERSION
            "description": "procedural human motion (mdtf_lite.data.actions) seen by the 4 Human3.6M cameras"}
    write_layout(out, positions, {"gt": kp_gt, "detected": kp_det}, info)  # temp folder, renamed into place
    if verbose:
        frames = sum(len(x) for s in positions.values() for x in s.values())
        size = sum(p.stat().st_size for p in out.iterdir()) / 2 ** 20
        print(f"default dataset: {frames} frames per camera, {size:.0f} MiB in {out} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    return out


def _is_current(out: Path, seed: int) -> bool:
    try:
        info = read_info(out)
    except (FileNotFoundError, ValueError):
        return False
    files = ["positions_3d.npz", "keypoints_2d_gt.npz", "keypoints_2d_detected.npz"]
    return (info.get("seed") == seed and info.get("generator_version") == GENERATOR_VERSION and info.get("complete")
            and all((out / f).is_file() for f in files))


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:  # several processes (tests, notebooks) may ask at once: build once
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_default_dataset(out: Path | str | None = None, seed: int = 0, verbose: bool = False) -> Path:
    """The default dataset's folder, built first if missing or made with another seed/version (~20 s)."""
    out = Path(out) if out is not None else default_dataset_dir()
    if _is_current(out, seed):
        return out
    with _lock(out.with_name(f".{out.name}.lock")):
        if not _is_current(out, seed):
            build_default_dataset(out, seed, verbose=verbose)
    return out


def dataset_summary(folder) -> dict:
    """Frames per split and per camera view of a dataset folder (reads dataset.json and the 3D file)."""
    info = read_info(folder)
    arrays = load_npz(Path(folder) / "positions_3d.npz")
    frames = {split: sum(len(v) for k, v in arrays.items() if k.split("/")[0] in subs)
              for split, subs in info["splits"].items()}
    return {"frames_per_view": frames, "sequences": len(arrays), "info": json.loads(json.dumps(info))}
