"""Real people (the shipped CMU and HDM05 mocap) as subjects of the default dataset.

Each person becomes one subject of the layout, named after the database and the person
(``CMU02``, ``HDMbd``), seen through the four Human3.6M cameras of one subject of its split:
training people borrow S1 S5 S6 S7 S8 (round robin), test people S9 S11.  Each clip becomes one
action, ``"<motion class> <clip>"`` (``"Walk 02_01"``), so ``eval.action_group`` pools the clips of a
class in per-action tables.  A clip must be seen whole by all four cameras: :func:`fit_in_view`
shifts it on the floor if that helps and keeps only the runs of frames in which every joint is
inside every image.

Shapes: world poses (T, 17, 3) metres, H36M world (Z up).
"""

from __future__ import annotations

import re

import numpy as np

from mdtf_lite.data.cameras import h36m_cameras
from mdtf_lite.data.geometry import project, world_to_camera
from mdtf_lite.data.synthetic.synth import TEST_SUBJECTS, TRAIN_SUBJECTS

__all__ = [
    "DATABASE_PREFIX",
    "subject_name",
    "motion_class",
    "action_name",
    "assign_cameras",
    "in_image",
    "fit_in_view",
    "MIN_RUN",
    "SHIFTS_M",
]

#: subject name = prefix + person ("CMU02", "HDMbd"); layout keys allow any name without "/".
DATABASE_PREFIX = {"cmu": "CMU", "hdm05": "HDM"}
#: the CMU index's descriptions of the shipped clips, one word per class (clip id -> class; a person id
#: alone covers all of that person's clips)
CMU_CLASSES = {
    "01": "Playground",
    "02_01": "Walk",
    "02_02": "Walk",
    "02_03": "Run",
    "02_04": "Jump",
    "02_05": "Punch",
    "02_06": "Bend",
    "02_07": "Swordplay",
    "02_08": "Swordplay",
    "02_09": "Swordplay",
    "02_10": "Wash",
    "03": "WalkUneven",
    "05_01": "Walk",
    "05": "Dance",
    "06": "Basketball",
}
#: HDM05 file-name stems start with the motion class ("hopBothLegs1hops" -> "Hop")
HDM05_CLASSES = (
    ("depositFloor", "Deposit"),
    ("elbowToKnee", "ElbowToKnee"),
    ("grabHigh", "GrabHigh"),
    ("hop", "Hop"),
    ("jog", "Jog"),
    ("kick", "Kick"),
    ("lieDown", "LieDown"),
    ("rotateArms", "RotateArms"),
    ("sneak", "Sneak"),
    ("squat", "Squat"),
    ("throw", "Throw"),
)
MIN_RUN = 25  # frames: shorter runs of in-image frames are dropped (0.5 s at 50 fps)
SHIFTS_M = np.arange(-1.0, 1.01, 0.25)  # floor shifts (x and y, metres) tried when a clip leaves an image
SEARCH_STEP = 5  # frames: the shift search looks at every 5th frame, the chosen shift is checked on all


def subject_name(database: str, person: str) -> str:
    """``("cmu", "02") -> "CMU02"``, ``("hdm05", "bd") -> "HDMbd"``."""
    if database not in DATABASE_PREFIX:
        raise ValueError(f"unknown mocap database {database!r}; known: {sorted(DATABASE_PREFIX)}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", str(person)):
        raise ValueError(f"mocap person {person!r} of {database} must be letters, digits or '_' (it names a subject)")
    return DATABASE_PREFIX[database] + str(person)


def motion_class(database: str, person: str, clip: str) -> str:
    """One CamelCase word for the clip's motion ("Walk", "Hop"); "Motion" when the clip is not in the tables."""
    if database == "cmu":
        take = re.sub(r"_part\d+$", "", clip)  # a clip split at a glitch keeps its take's class
        return CMU_CLASSES.get(take) or CMU_CLASSES.get(person) or "Motion"
    stem = re.sub(r"^HDM_[^_]+_", "", clip)
    return next((name for prefix, name in HDM05_CLASSES if stem.startswith(prefix)), "Motion")


def action_name(database: str, person: str, clip: str) -> str:
    """The layout action of a clip: ``"<class> <clip>"`` (``eval.action_group`` gives back the class)."""
    name = f"{motion_class(database, person, clip)} {clip}"
    if "/" in name:
        raise ValueError(f"mocap clip {clip!r} of {database}/{person} contains '/', which separates layout keys")
    return name


def assign_cameras(people: dict[str, str]) -> dict[str, str]:
    """Subject -> whose cameras it is seen through: ``people`` maps subject -> split ("train" | "test").

    Training people take S1 S5 S6 S7 S8 in turn (sorted by name), test people S9 S11.
    """
    out = {}
    for split, pool in (("train", TRAIN_SUBJECTS), ("test", TEST_SUBJECTS)):
        for k, subject in enumerate(sorted(s for s, sp in people.items() if sp == split)):
            out[subject] = pool[k % len(pool)]
    unknown = sorted(set(people) - set(out))
    if unknown:
        raise ValueError(f"people {unknown} have a split other than 'train' / 'test': {[people[s] for s in unknown]}")
    return out


def in_image(world: np.ndarray, camera_subject: str) -> np.ndarray:
    """(T,) bool: every joint of the frame is in front of and inside the image of all four cameras."""
    ok = np.ones(len(world), bool)
    for cam in h36m_cameras(camera_subject):
        x_cam = world_to_camera(world, cam)
        front = x_cam[..., 2] > 0.1
        uv = project(np.where(front[..., None], x_cam, [0.0, 0.0, 1.0]), cam)  # behind: projected as the centre
        ok &= np.all(
            front & (uv[..., 0] >= 0) & (uv[..., 0] < cam.res_w) & (uv[..., 1] >= 0) & (uv[..., 1] < cam.res_h), axis=-1
        )
    return ok


def _runs(ok: np.ndarray, min_run: int) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True at least ``min_run`` long."""
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_run]


def fit_in_view(world: np.ndarray, camera_subject: str, min_run: int = MIN_RUN):
    """Place a clip so that all four cameras see the whole body, as far as a floor shift can.

    Returns ``(shifted world (T, 17, 3), shift (2,) metres, runs)``: ``runs`` lists the [start, stop) frame
    ranges (each >= ``min_run`` frames, or the whole of a shorter clip) in which every joint is inside every
    image; the frames outside them are to be dropped.  The shift (on the grid ``SHIFTS_M`` in x and y, smallest first among
    equals) is tried only when the unshifted clip leaves an image somewhere; it keeps the most frames.
    """
    world = np.asarray(world, np.float64)
    min_run = min(min_run, len(world))  # a clip shorter than min_run is kept whole if it is in view
    ok = in_image(world, camera_subject)
    shift = np.zeros(2)
    if not ok.all():
        grid = sorted(((x, y) for x in SHIFTS_M for y in SHIFTS_M), key=lambda s: (s[0] ** 2 + s[1] ** 2, s))
        few = world[::SEARCH_STEP]  # the search looks at every SEARCH_STEP-th frame
        best = int(ok[::SEARCH_STEP].sum())
        for x, y in grid:
            found = int(in_image(few + np.array([x, y, 0.0]), camera_subject).sum())
            if found > best:
                best, shift = found, np.array([x, y])
                if best == len(few):
                    break
        if shift.any():
            world = world + np.array([shift[0], shift[1], 0.0])
            ok = in_image(world, camera_subject)
    return world, shift, _runs(ok, min_run)
