"""The embedded default dataset: procedural subjects and real people, seen by the 4 H36M cameras.

``ensure_default_dataset()`` builds ``data/default/`` (pickle-free VideoPose3D layout, see
``layout.py``) unless it is already there for the same seed and generator version.  It is
deterministic: the same seed gives the same bytes.

* **procedural**: 7 synthetic subjects, S1 S5 S6 S7 S8 (train) and S9 S11 (test) with their real camera
  extrinsics; 16 actions x 2 takes each ("Walking", "Walking 1", ...), 8.4-14.4 s per take at 50 fps:
  about 128k frames per camera;
* **real**: every person of the shipped mocap (``mdtf_lite.data.mocap``: CMU and HDM05) as its own subject
  (``CMU02``, ``HDMbd``, see ``data/people.py``), seen through the cameras of one H36M subject of its split,
  with the same simulated detector; split by person (CMU 01 and HDM05 dg are the test people).

``dataset.json`` says which subjects are which (``groups``), whose cameras each real person uses
(``camera_subjects``) and each real clip's database, person, licence and placement (``real_clips``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from mdtf_lite.data.cameras import h36m_cameras
from mdtf_lite.data.geometry import project, world_to_camera
from mdtf_lite.data.layout import check_target, read_info, write_layout
from mdtf_lite.data.mocap import DATABASES, MOCAP_FPS, load_mocap, mocap_dir
from mdtf_lite.data.npz_io import load_npz
from mdtf_lite.data.people import action_name, assign_cameras, fit_in_view, subject_name
from mdtf_lite.data.synthetic.actions import ACTIONS
from mdtf_lite.data.synthetic.noise import NoiseModel, detect
from mdtf_lite.data.synthetic.synth import FPS, TEST_SUBJECTS, TRAIN_SUBJECTS, generate_take, make_subject, take_rng
from mdtf_lite.paths import data_dir

__all__ = [
    "GENERATOR_VERSION",
    "TAKES_PER_ACTION",
    "default_dataset_dir",
    "build_default_dataset",
    "ensure_default_dataset",
    "take_length",
    "views_of",
    "real_people",
]

GENERATOR_VERSION = 4  # 4: real people (data/people.py) beside the procedural subjects
TAKES_PER_ACTION = 2
LENGTH_RANGE = (420, 720)  # frames per take


def default_dataset_dir() -> Path:
    return data_dir() / "default"


def take_length(seed: int, subject: str, action: str, take: int) -> int:
    return int(take_rng(seed, "length", subject, action, take).integers(LENGTH_RANGE[0], LENGTH_RANGE[1] + 1))


def views_of(
    world: np.ndarray,
    subject: str,
    rng: np.random.Generator | None = None,
    camera_subject: str | None = None,
    noise: NoiseModel | None = None,
):
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


def mocap_digest() -> str:
    """sha256 of the shipped mocap arrays (``mdtf_lite/data/mocap/<database>.npz``): a dataset built from other
    arrays is rebuilt by ``ensure_default_dataset`` (about 10 ms for 4 MB)."""
    h = hashlib.sha256()
    for db in DATABASES:
        h.update((mocap_dir() / f"{db}.npz").read_bytes())
    return h.hexdigest()


def real_people(seed: int = 0, subjects=None, noise: NoiseModel | None = None) -> dict:
    """The shipped mocap people as layout subjects (see ``data/people.py``); ``subjects`` keeps only those names.

    Returns ``{"positions": subject -> action -> (T, 17, 3), "gt" / "detected": subject -> action -> 4 x
    (T, 17, 3), "splits": subject -> "train" | "test", "camera_subjects": subject -> "S1".., "people":
    subject -> {database, person, licence, split, camera_subject}, "clips": "<subject>/<clip>" -> its
    database, person, licence, frames, floor shift, actions and dropped frames}``.
    """
    if MOCAP_FPS != FPS:
        raise ValueError(f"the shipped mocap is at {MOCAP_FPS} fps but the default dataset at {FPS}: convert it again")
    clips = [c for c in load_mocap() if subjects is None or subject_name(c.database, c.person) in subjects]
    splits = {}
    for c in clips:
        name = subject_name(c.database, c.person)
        if splits.setdefault(name, c.split) != c.split:
            raise ValueError(
                f"mocap person {c.database}/{c.person} has clips in both splits ({splits[name]}, "
                f"{c.split}): the split is by person, fix the conversion"
            )
    cams = assign_cameras(splits)
    out = {
        "positions": {},
        "gt": {},
        "detected": {},
        "splits": splits,
        "camera_subjects": cams,
        "people": {},
        "clips": {},
    }
    for c in sorted(clips, key=lambda c: (subject_name(c.database, c.person), c.clip)):
        subject = subject_name(c.database, c.person)
        out["people"][subject] = {
            "database": c.database,
            "person": c.person,
            "licence": c.licence,
            "split": c.split,
            "camera_subject": cams[subject],
        }
        world, shift, runs = fit_in_view(c.positions, cams[subject])
        base = action_name(c.database, c.person, c.clip)
        actions = [base if len(runs) == 1 else f"{base} part{k + 1}" for k in range(len(runs))]
        for action, (a, b) in zip(actions, runs):
            gt, det = views_of(
                world[a:b], subject, take_rng(seed, "real-detector", subject, action), cams[subject], noise
            )
            for key, value in (("positions", world[a:b]), ("gt", gt), ("detected", det)):
                out[key].setdefault(subject, {})[action] = value
        out["clips"][f"{subject}/{c.clip}"] = {
            "database": c.database,
            "person": c.person,
            "clip": c.clip,
            "licence": c.licence,
            "frames": len(world),
            "kept_frames": sum(b - a for a, b in runs),
            "shift_m": [float(x) for x in shift],
            "actions": actions,
        }
    return out


def build_default_dataset(
    out: Path | str | None = None,
    seed: int = 0,
    verbose: bool = True,
    subjects: tuple[str, ...] | None = None,
    actions: tuple[str, ...] | None = None,
    takes_per_action: int = TAKES_PER_ACTION,
    noise: NoiseModel | None = None,
) -> Path:
    """Generate the dataset into ``out`` (default ``data/default``), replacing the dataset that is there.

    An ``out`` holding anything but dataset files is refused (``ValueError``) before generating.

    ``subjects`` (procedural "S1".. and real "CMU02".. names; default: all of them) / ``actions`` (procedural
    only) / ``takes_per_action`` restrict it (tests, quick looks): every take is drawn from its own random
    stream, so a restricted build holds exactly the same takes as the full one.
    ``noise`` replaces the default detector-noise model (``noise.NoiseModel``) for experiments.
    """
    out = Path(out) if out is not None else default_dataset_dir()
    check_target(out)  # a folder with other files is refused before ~20 s of generation, never emptied
    t0 = time.perf_counter()
    positions, kp_gt, kp_det = {}, {}, {}
    procedural = tuple(s for s in TRAIN_SUBJECTS + TEST_SUBJECTS if subjects is None or s in subjects)
    actions = tuple(actions) if actions is not None else tuple(ACTIONS)
    for subject in procedural:
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
            print(
                f"  {subject}: {sum(len(x) for x in positions[subject].values())} frames "
                f"({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    wanted_real = None if subjects is None else set(subjects) - set(procedural)
    real = real_people(seed, wanted_real, noise) if wanted_real is None or wanted_real else None
    if real is not None:
        positions.update(real["positions"])
        kp_gt.update(real["gt"])
        kp_det.update(real["detected"])
        if verbose:
            for s in sorted(real["positions"]):
                p = real["people"][s]
                print(
                    f"  {s} ({p['database']} {p['person']}, {p['split']}, cameras of {p['camera_subject']}): "
                    f"{sum(len(x) for x in real['positions'][s].values())} frames",
                    flush=True,
                )
            _report_placement(real["clips"])
    missing = sorted(set(subjects or ()) - set(positions))
    if missing:
        raise ValueError(
            f"unknown subjects {missing}: the default dataset has {list(TRAIN_SUBJECTS + TEST_SUBJECTS)} "
            f"and the mocap people {sorted(real['positions']) if real else '(none asked for)'}"
        )
    real_split = {s: sp for s, sp in (real["splits"] if real else {}).items() if s in positions}  # no clip: left out
    info = {
        "source": "default",
        "seed": int(seed),
        "generator_version": GENERATOR_VERSION,
        "fps": FPS,
        "splits": {
            "train": [s for s in TRAIN_SUBJECTS if s in procedural]
            + sorted(s for s, sp in real_split.items() if sp == "train"),
            "test": [s for s in TEST_SUBJECTS if s in procedural]
            + sorted(s for s, sp in real_split.items() if sp == "test"),
        },
        "groups": {"procedural": list(procedural), "real": sorted(real_split)},
        "camera_subjects": real["camera_subjects"] if real else {},
        "mocap_digest": mocap_digest() if real else None,
        "real_people": real["people"] if real else {},
        "real_clips": real["clips"] if real else {},
        "actions": list(actions),
        "takes_per_action": takes_per_action,
        "complete": (
            subjects is None and set(actions) == set(ACTIONS) and takes_per_action == TAKES_PER_ACTION and noise is None
        ),
        # frozen text (the dataset's bytes must not change with a module move; the generator is now
        # mdtf_lite.data.synthetic.actions): change it only together with GENERATOR_VERSION
        "description": "procedural human motion (mdtf_lite.data.actions) and real people (CMU, HDM05 mocap) "
        "seen by the 4 Human3.6M cameras",
    }
    write_layout(out, positions, {"gt": kp_gt, "detected": kp_det}, info)  # temp folder, renamed into place
    if verbose:
        frames = sum(len(x) for s in positions.values() for x in s.values())
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
        print(
            f"default dataset: {frames} frames per camera, {size:.0f} MiB in {out} ({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    return out


def _report_placement(clips: dict) -> None:
    """Print the real clips that had to be shifted on the floor or lost frames outside an image."""
    moved = {k: c for k, c in clips.items() if any(c["shift_m"]) or c["kept_frames"] < c["frames"]}
    total = sum(c["frames"] for c in clips.values())
    dropped = sum(c["frames"] - c["kept_frames"] for c in clips.values())
    print(
        f"  real clips: {len(clips)}, {dropped} of {total} frames dropped (a joint outside a camera's image), "
        f"{sum(1 for c in clips.values() if any(c['shift_m']))} shifted on the floor",
        flush=True,
    )
    for key, c in moved.items():
        print(
            f"    {key}: shift {c['shift_m']} m, kept {c['kept_frames']} / {c['frames']} frames in "
            f"{len(c['actions'])} part(s)",
            flush=True,
        )


def _is_current(out: Path, seed: int) -> bool:
    try:
        info = read_info(out)
    except (FileNotFoundError, ValueError):
        return False
    files = ["positions_3d.npz", "keypoints_2d_gt.npz", "keypoints_2d_detected.npz"]
    return (
        info.get("seed") == seed
        and info.get("generator_version") == GENERATOR_VERSION
        and info.get("complete")
        and info.get("mocap_digest") == mocap_digest()
        and all((out / f).is_file() for f in files)
    )


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
    """The default dataset's folder, built first if missing or made with another seed, generator version or
    shipped mocap (~20 s)."""
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
    frames = {
        split: sum(len(v) for k, v in arrays.items() if k.split("/")[0] in subs)
        for split, subs in info["splits"].items()
    }
    return {"frames_per_view": frames, "sequences": len(arrays), "info": json.loads(json.dumps(info))}
