"""Lift your own 2D keypoints to 3D: read a COCO-17 JSON, map to H36M-17, normalise, lift, export.

Most 2D detectors (OpenPose/COCO-style, MMPose, Detectron2, YOLO-pose, RTMPose) write the 17 COCO
keypoints.  The lifter was trained on the 17 Human3.6M joints, in screen-normalised coordinates with a
confidence channel.  This module bridges the two:

    kp = read_coco_keypoints("video.json")            # Keypoints2D: (T, 17, 2) pixels + (T, 17) scores
    inputs = to_model_inputs(kp)                       # (T, 17, 3) float32: H36M order, normalised, conf
    model, cfg = load_checkpoint(ensure_checkpoint("ci"))
    poses = lift_sequence(model, inputs, window=model_window(model))     # (T, 17, 3)
    result = lift_keypoints_file("video.json", model, cfg)              # all of the above -> LiftResult
    export_json(result, "video_3d.json"); export_npz(result, "video_3d.npz")

(``tests/test_docs_examples.py`` runs this example.)  From a shell: ``mdtf-lite lift video.json``.

Input JSON (one person; pixels, origin top-left, y down)::

    {"image_width": 1920, "image_height": 1080,          # or "width"/"height" or "image_size": [w, h]
     "fps": 30,                                          # optional
     "frames": [{"frame": 0, "keypoints": [[x, y, score], ... 17 COCO joints ...]},
                {"frame": 1, "keypoints": [x0, y0, s0, x1, y1, s1, ...]},   # flat 51 numbers: COCO style
                {"frame": 2, "keypoints": null}, ...]}                      # no detection in frame 2

COCO-17 -> H36M-17 (what is copied, what is synthesised; scores of synthesised joints are the minimum
of the scores they are built from):

    hips, knees, ankles, shoulders, elbows, wrists  copied (same anatomical points in both layouts)
    pelvis  (0)  midpoint of the two hips
    thorax  (8)  midpoint of the two shoulders (H36M hangs the shoulders sideways off the thorax)
    spine   (7)  midpoint of pelvis and thorax (H36M's spine sits at 0.48 of pelvis -> thorax)
    neck/nose (9)  the nose (H36M's joint 9 is labelled "neck/nose" and lies at the face)
    head    (10) the nose reflected through the midpoint of the eyes: 2 * eyes - nose (the top of the
                 head lies on the nose -> eyes line, beyond the eyes; COCO has no head-top point)

The synthesised joints are approximations: on Human3.6M-like motion the mapping's error in 2D is a
few pixels for the torso and larger for the head (see ``tests/test_lift.py``, which lifts a projected
known motion through this path).

Bad input: wrong joint counts, non-numeric or non-finite values, a missing image size and all-zero
scores raise ``ValueError`` naming the frame/joint/key.  Missing frames (absent indices, ``null``
keypoints, or every score 0) are linearly interpolated when a gap is at most ``max_gap`` frames and
refused otherwise; missing frames at the start or end are dropped (``frame_ids`` says which frames
the result covers).  A joint with score 0 inside a detected frame keeps score 0 (the model sees it)
and its coordinates are interpolated over time from the frames where it was seen.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mdtf_lite.data.geometry import normalise_screen
from mdtf_lite.data.npz_io import save_npz
from mdtf_lite.eval.protocols import predict
from mdtf_lite.skeleton import JOINT_NAMES, NUM_JOINTS
from mdtf_lite.train import ensure_checkpoint, load_checkpoint
from mdtf_lite.train.checkpoint import CheckpointError

__all__ = [
    "COCO_JOINT_NAMES",
    "COCO_TO_H36M_COPY",
    "Keypoints2D",
    "LiftResult",
    "read_coco_keypoints",
    "parse_coco_keypoints",
    "coco_to_h36m",
    "normalise_keypoints",
    "to_model_inputs",
    "lift_sequence",
    "lift_keypoints_file",
    "export_json",
    "export_npz",
    "model_window",
    "coco_from_h36m",
    "coco_document",
    "h36m_keypoints",
    "window_starts",
]

COCO_JOINT_NAMES: tuple[str, ...] = (
    "nose",
    "l_eye",
    "r_eye",
    "l_ear",
    "r_ear",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_wrist",
    "r_wrist",
    "l_hip",
    "r_hip",
    "l_knee",
    "r_knee",
    "l_ankle",
    "r_ankle",
)
_C = {name: i for i, name in enumerate(COCO_JOINT_NAMES)}
_H = {name: i for i, name in enumerate(JOINT_NAMES)}

#: H36M joint index -> COCO joint index, for the joints both layouts share.
COCO_TO_H36M_COPY: dict[int, int] = {
    _H[name]: _C[name]
    for name in (
        "r_hip",
        "r_knee",
        "r_ankle",
        "l_hip",
        "l_knee",
        "l_ankle",
        "l_shoulder",
        "l_elbow",
        "l_wrist",
        "r_shoulder",
        "r_elbow",
        "r_wrist",
    )
}

DEFAULT_MAX_GAP = 10  # frames; 0.2-0.4 s of video at 25-50 fps
MAX_PIXELS = 1e6  # no detector writes coordinates or image sides beyond a million pixels


@dataclass
class Keypoints2D:
    """2D keypoints of one person in one video (any 17-joint layout; ``layout`` says which).

    Attributes:
        xy: (T, 17, 2) float64 pixels (x right, y down).
        score: (T, 17) float64 detector confidence in [0, 1].
        width, height: image size in pixels.
        frame_ids: (T,) int, the video frame of each row.
        interpolated: (T,) bool, rows that were missing in the file and filled by interpolation.
        layout: "coco" or "h36m".
        fps: frames per second if the file said so.
    """

    xy: np.ndarray
    score: np.ndarray
    width: float
    height: float
    frame_ids: np.ndarray
    interpolated: np.ndarray
    layout: str = "coco"
    fps: float | None = None

    def __len__(self) -> int:
        return int(self.xy.shape[0])


@dataclass
class LiftResult:
    """Lifted 3D poses and where they came from.

    Attributes:
        poses: (T, 17, 3) float32 root-relative 3D joints in H36M order (camera frame, x right, y down,
            z forward), in ``unit``.
        keypoints: the H36M-layout 2D keypoints that were lifted (``Keypoints2D``).
        unit: "m" for camera-space models, "normalised 2.5D" for 2.5D models.
        meta: model/window details for the export.
    """

    poses: np.ndarray
    keypoints: Keypoints2D
    unit: str = "m"
    meta: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------- reading
def _image_size(doc: dict, image_size) -> tuple[float, float]:
    if image_size is not None:
        w, h = image_size
    elif "image_size" in doc:
        w, h = doc["image_size"]
    else:
        w = doc.get("image_width", doc.get("width"))
        h = doc.get("image_height", doc.get("height"))
        if w is None or h is None:
            raise ValueError(
                'the keypoint file has no image size: add "image_width" and "image_height" (pixels) to the '
                "JSON, or pass image_size=(width, height); it is needed to normalise the keypoints"
            )
    try:
        w, h = float(w), float(h)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"image size must be two numbers (pixels), got {w!r} x {h!r}") from exc
    if not (math.isfinite(w) and math.isfinite(h) and 1 <= w <= MAX_PIXELS and 1 <= h <= MAX_PIXELS):
        raise ValueError(
            f"image size must be positive and finite, between 1 and {MAX_PIXELS:.0e} pixels per side, got {w} x {h}"
        )
    return w, h


def _frame_size(entry: dict, pos: int):
    """A frame's own ``image_width``/``image_height`` (or ``width``/``height``), or None when it has none."""
    w = entry.get("image_width", entry.get("width"))
    h = entry.get("image_height", entry.get("height"))
    if w is None and h is None:
        return None
    try:
        return _image_size({}, (w, h))
    except ValueError as exc:
        raise ValueError(f"frames[{pos}]: {exc}") from None


def _frame_keypoints(raw, frame: int) -> np.ndarray | None:
    """One frame's keypoints -> (17, 3) float64, or None when the frame has no detection."""
    if raw is None or (isinstance(raw, list) and len(raw) == 0):
        return None
    if not isinstance(raw, list):
        raise ValueError(f"frame {frame}: keypoints must be a list, got {type(raw).__name__}")
    if all(isinstance(v, list) for v in raw):
        rows = raw
    elif len(raw) % 3 == 0 and not any(isinstance(v, list) for v in raw):
        rows = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    else:
        raise ValueError(f"frame {frame}: keypoints must be 17 [x, y, score] triples or a flat list of 51 numbers")
    if len(rows) != NUM_JOINTS:
        raise ValueError(
            f"frame {frame}: {len(rows)} keypoints, expected 17 in COCO order {COCO_JOINT_NAMES}; "
            "convert other layouts (e.g. OpenPose BODY_25, Halpe-26) to COCO-17 first"
        )
    out = np.empty((NUM_JOINTS, 3))
    for j, row in enumerate(rows):
        if not isinstance(row, list) or len(row) not in (2, 3):
            raise ValueError(f"frame {frame}, joint {j} ({COCO_JOINT_NAMES[j]}): expected [x, y, score], got {row!r}")
        if len(row) == 2:
            row = row + [1.0]
        for k, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(
                    f"frame {frame}, joint {j} ({COCO_JOINT_NAMES[j]}): {'xys'[k]} = {v!r} is not a number"
                )
            if not math.isfinite(v):
                raise ValueError(
                    f"frame {frame}, joint {j} ({COCO_JOINT_NAMES[j]}): {'xys'[k]} = {v} is not finite; "
                    'write a missing joint as score 0 (any x, y), a missing frame as "keypoints": null'
                )
            if abs(v) > MAX_PIXELS:
                raise ValueError(
                    f"frame {frame}, joint {j} ({COCO_JOINT_NAMES[j]}): {'xys'[k]} = {v} is beyond {MAX_PIXELS:.0e} "
                    "pixels; the keypoints must be pixel coordinates of the image"
                )
            out[j, k] = float(v)
    if np.any(out[:, 2] < 0) or np.any(out[:, 2] > 1):
        bad = int(np.argmax((out[:, 2] < 0) | (out[:, 2] > 1)))
        raise ValueError(f"frame {frame}, joint {bad}: score {out[bad, 2]} outside [0, 1]")
    if not out[:, 2].any():
        return None  # every score zero: the detector found nobody in this frame
    return out


def _interpolate_rows(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Linearly interpolate rows of ``values`` (T, ...) where ``known`` (T,) is False (inner gaps only)."""
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1).copy()
    for c in range(flat.shape[1]):
        flat[~known, c] = np.interp(t[~known], t[known], flat[known, c])
    return flat.reshape(values.shape)


PERSON_KEYS = ("person_id", "track_id")
MAX_FPS = 10_000.0
#: a keypoint (score > 0) further than this fraction of the image side outside the image is refused.
OUTSIDE_MARGIN = 1.0


def _check_one_person(frames: list) -> None:
    """Refuse frames that name more than one ``person_id`` / ``track_id`` (several people merged into one)."""
    for key in PERSON_KEYS:
        ids = {repr(e[key]) for e in frames if isinstance(e, dict) and e.get(key) is not None}
        if len(ids) > 1:
            shown = ", ".join(sorted(ids)[:5])
            raise ValueError(
                f"the frames hold {len(ids)} different {key} values ({shown}): several people, which "
                f"would be lifted as one person jumping between them; keep one {key} per file (select "
                "the tracked person's frames) and lift each person from their own file"
            )


def _check_pixels(by_id: dict, width: float, height: float) -> None:
    """Refuse keypoints that are not pixels of a ``width`` x ``height`` image: normalised coordinates (all
    within [-1, 1] on an image larger than 2 pixels) or points far outside the image."""
    pts = np.concatenate([k[k[:, 2] > 0, :2] for k in by_id.values() if k is not None])  # (P, 2)
    if max(width, height) > 2 and np.abs(pts).max() <= 1.0:
        raise ValueError(
            f"every keypoint lies within [-1, 1] but the image is {width:g} x {height:g} pixels: the "
            "keypoints look normalised; write them in pixels (x * image_width, y * image_height)"
        )
    size = np.array([width, height])
    outside = (pts < -OUTSIDE_MARGIN * size) | (pts > (1 + OUTSIDE_MARGIN) * size)
    if outside.any():
        x, y = pts[int(np.argmax(outside.any(axis=1)))]
        raise ValueError(
            f"keypoint ({x:g}, {y:g}) lies far outside the {width:g} x {height:g} image ({int(outside.any(axis=1).sum())} "
            "points do): check image_width / image_height and that the keypoints are pixels of this video"
        )


def _fps(value) -> float | None:
    """The file's ``fps``: absent/null, or a positive finite number of frames per second."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_FPS
        or not math.isfinite(value)
    ):
        raise ValueError(
            f'"fps" = {value!r} must be a positive number of frames per second (at most '
            f'{MAX_FPS:g}); write the video\'s frame rate or leave "fps" out'
        )
    return float(value)


def parse_coco_keypoints(doc, image_size=None, max_gap: int = DEFAULT_MAX_GAP) -> Keypoints2D:
    """Parse a COCO-17 keypoint document (the JSON described in the module docstring) -> ``Keypoints2D``.

    Args:
        doc: the decoded JSON: a dict with "frames" (and image size), or a bare list of frames
            (then pass ``image_size``, or give each frame ``image_width``/``image_height``).  A COCO
            *results list* (entries with ``image_id``, ``keypoints``, ``score``) is read with
            ``image_id`` as the frame; several detections of one image are refused (one person per file).
            Per-frame image sizes must agree with each other and with the file's.
        image_size: (width, height) in pixels, overriding / replacing the file's.
        max_gap: longest run of missing frames that is interpolated; longer gaps raise ValueError.
    Returns: Keypoints2D with layout "coco": xy (T, 17, 2), score (T, 17).
    """
    if isinstance(doc, list):
        doc = {"frames": doc}
    if not isinstance(doc, dict) or "frames" not in doc:
        raise ValueError('expected a JSON object with a "frames" list (see mdtf_lite.lift\'s docstring for the format)')
    frames = doc["frames"]
    if not isinstance(frames, list) or not frames:
        raise ValueError('"frames" must be a non-empty list of {"frame": i, "keypoints": [...]} entries')
    if isinstance(max_gap, bool) or not isinstance(max_gap, int) or max_gap < 0:
        raise ValueError(f"max_gap must be a non-negative integer (frames), got {max_gap!r}")
    sizes = {}
    by_id: dict[int, np.ndarray | None] = {}
    for pos, entry in enumerate(frames):
        if not isinstance(entry, dict) or "keypoints" not in entry:
            raise ValueError(f'frames[{pos}] must be an object with "keypoints" (and optionally "frame")')
    _check_one_person(frames)
    for pos, entry in enumerate(frames):
        results_list = "frame" not in entry and "image_id" in entry  # a COCO results list entry
        fid = entry["image_id"] if results_list else entry.get("frame", pos)
        key = "image_id" if results_list else "frame"
        if isinstance(fid, bool) or not isinstance(fid, int) or fid < 0:
            raise ValueError(f'frames[{pos}]: "{key}" must be a non-negative integer, got {fid!r}')
        if fid in by_id:
            if results_list:
                n = sum(1 for e in frames if isinstance(e, dict) and e.get("image_id") == fid and "frame" not in e)
                raise ValueError(
                    f"image_id {fid} has {n} detections: this is a COCO results list with several people per image, "
                    "and lifting needs one person over time. Keep one detection per image (the tracked person, "
                    'e.g. by track id or the highest "score") and lift each person from their own file'
                )
            raise ValueError(f"frame {fid} appears twice; keep one person per file (the tracked subject)")
        size = _frame_size(entry, pos)
        if size is not None:
            sizes[fid] = size
        by_id[fid] = _frame_keypoints(entry["keypoints"], fid)
    if image_size is not None or "image_size" in doc or "image_width" in doc or "width" in doc or not sizes:
        width, height = _image_size(doc, image_size)
        if image_size is None and sizes and set(sizes.values()) != {(width, height)}:
            f, (w, h) = next((f, wh) for f, wh in sorted(sizes.items()) if wh != (width, height))
            raise ValueError(
                f"frame {f} says its image is {w:g} x {h:g} pixels but the file says {width:g} x "
                f"{height:g}; one file must hold one video at one resolution (or pass image_size=)"
            )
    else:  # no file-level size: every frame that gives one must give the same
        items = sorted(sizes.items())
        (f0, (width, height)), other = items[0], next(((f, wh) for f, wh in items if wh != items[0][1]), None)
        if other is not None:
            raise ValueError(
                f"frames have different image sizes (frame {f0}: {width:g} x {height:g}, frame "
                f"{other[0]}: {other[1][0]:g} x {other[1][1]:g}); one file must hold one video at one "
                "resolution: split it or rescale the keypoints"
            )

    detected = sorted(f for f, k in by_id.items() if k is not None)
    if not detected:
        raise ValueError("no frame has a detection (all keypoints missing or every score 0): nothing to lift")
    # refuse long gaps before allocating anything (frame ids 0 and 10**9 must not allocate 10**9 rows)
    for prev, nxt in zip(detected[:-1], detected[1:]):
        if nxt - prev - 1 > max_gap:
            raise ValueError(
                f"frames {prev + 1}..{nxt - 1} ({nxt - prev - 1} frames) have no keypoints; gaps of at "
                f"most max_gap={max_gap} frames are interpolated. Split the video there, or raise max_gap"
            )
    _check_pixels(by_id, width, height)
    fps = _fps(doc.get("fps"))
    first, last = detected[0], detected[-1]
    ids = np.arange(first, last + 1)
    known = np.zeros(len(ids), bool)
    known[np.asarray(detected) - first] = True
    data = np.zeros((len(ids), NUM_JOINTS, 3))
    for i, f in enumerate(ids):
        if known[i]:
            data[i] = by_id[int(f)]
    if not known.all():
        data = _interpolate_rows(data, known)
    # joints with score 0 inside detected frames: coordinates from the frames where the joint was seen
    xy, score = data[..., :2], data[..., 2]
    for j in range(NUM_JOINTS):
        seen = score[:, j] > 0
        if not seen.any():
            warnings.warn(
                f"joint {j} ({COCO_JOINT_NAMES[j]}) has score 0 in every frame; its coordinates are "
                "whatever the detector wrote and the model sees confidence 0",
                stacklevel=2,
            )
        elif not seen.all():
            xy[:, j] = _interpolate_rows(xy[:, j], seen)
    skipped = len(by_id) - len(detected) - int((~known).sum())
    if skipped > 0:
        warnings.warn(
            f"{skipped} frames without detections at the start/end were dropped "
            f"(the result covers frames {first}..{last})",
            stacklevel=2,
        )
    return Keypoints2D(
        xy=xy, score=score, width=width, height=height, frame_ids=ids, interpolated=~known, layout="coco", fps=fps
    )


def read_coco_keypoints(path, image_size=None, max_gap: int = DEFAULT_MAX_GAP) -> Keypoints2D:
    """Read a COCO-17 keypoint JSON file (format: module docstring) -> ``Keypoints2D`` (layout "coco")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no keypoint file at {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); see mdtf_lite.lift for the expected format") from exc
    try:
        return parse_coco_keypoints(doc, image_size, max_gap)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


# -------------------------------------------------------------------------------------- mapping
def coco_to_h36m(xy, score) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 keypoints -> H36M-17 (the rule table is in the module docstring).

    Args: xy (..., 17, 2) pixels, score (..., 17).
    Returns: xy (..., 17, 2), score (..., 17) in ``mdtf_lite.skeleton.JOINT_NAMES`` order.
    """
    xy, score = np.asarray(xy, dtype=np.float64), np.asarray(score, dtype=np.float64)
    if xy.shape[-2:] != (NUM_JOINTS, 2) or score.shape != xy.shape[:-1]:
        raise ValueError(f"coco_to_h36m expects xy (..., 17, 2) and score (..., 17), got {xy.shape} and {score.shape}")
    out = np.zeros_like(xy)
    conf = np.zeros_like(score)
    for h, c in COCO_TO_H36M_COPY.items():
        out[..., h, :], conf[..., h] = xy[..., c, :], score[..., c]

    def mid(a, b):
        return (xy[..., _C[a], :] + xy[..., _C[b], :]) / 2, np.minimum(score[..., _C[a]], score[..., _C[b]])

    pelvis, s_pelvis = mid("l_hip", "r_hip")
    thorax, s_thorax = mid("l_shoulder", "r_shoulder")
    eyes, s_eyes = mid("l_eye", "r_eye")
    nose, s_nose = xy[..., _C["nose"], :], score[..., _C["nose"]]
    out[..., _H["pelvis"], :], conf[..., _H["pelvis"]] = pelvis, s_pelvis
    out[..., _H["thorax"], :], conf[..., _H["thorax"]] = thorax, s_thorax
    out[..., _H["spine"], :], conf[..., _H["spine"]] = (pelvis + thorax) / 2, np.minimum(s_pelvis, s_thorax)
    out[..., _H["neck"], :], conf[..., _H["neck"]] = nose, s_nose
    out[..., _H["head"], :], conf[..., _H["head"]] = 2 * eyes - nose, np.minimum(s_eyes, s_nose)
    return out, conf


def normalise_keypoints(xy, width: float, height: float) -> np.ndarray:
    """Pixels (..., 2) -> the screen units the model was trained on (x in [-1, 1], aspect kept)."""
    return normalise_screen(xy, width, height)


def to_model_inputs(kp: Keypoints2D) -> np.ndarray:
    """Keypoints2D (COCO or H36M layout) -> model inputs (T, 17, 3) float32: normalised x, y, confidence."""
    xy, score = coco_to_h36m(kp.xy, kp.score) if kp.layout == "coco" else (kp.xy, kp.score)
    out = np.concatenate([normalise_keypoints(xy, kp.width, kp.height), score[..., None]], axis=-1)
    if not np.isfinite(out).all():
        raise ValueError("the normalised keypoints are not finite: check the image size and the pixel coordinates")
    return out.astype(np.float32)


def h36m_keypoints(kp: Keypoints2D) -> Keypoints2D:
    """The same keypoints in H36M-17 layout (what the model sees, in pixels)."""
    if kp.layout == "h36m":
        return kp
    xy, score = coco_to_h36m(kp.xy, kp.score)
    return Keypoints2D(xy, score, kp.width, kp.height, kp.frame_ids, kp.interpolated, "h36m", kp.fps)


# --------------------------------------------------------------------------- demo / test input
def coco_from_h36m(xy, eye_offset: float = 6.0) -> np.ndarray:
    """Make COCO-17 points from H36M-17 points (..., 17, 2), for demos and tests (not an inverse in general).

    Limbs copy over, the nose is H36M's joint 9, the eyes sit halfway between the nose and the head
    top (so :func:`coco_to_h36m`'s ``2 * eyes - nose`` returns the head exactly), ``eye_offset``
    pixels to either side, and the ears twice as far out.  Pelvis, spine and thorax are *not*
    encoded: the reader rebuilds them from hips and shoulders, which is where a real detector's
    output differs from Human3.6M's joints.
    """
    xy = np.asarray(xy, dtype=np.float64)
    out = np.zeros_like(xy)
    for h, c in COCO_TO_H36M_COPY.items():
        out[..., c, :] = xy[..., h, :]
    nose, head = xy[..., _H["neck"], :], xy[..., _H["head"], :]
    eyes = (nose + head) / 2
    side = np.array([eye_offset, 0.0])
    out[..., _C["nose"], :] = nose
    out[..., _C["l_eye"], :], out[..., _C["r_eye"], :] = eyes + side, eyes - side
    out[..., _C["l_ear"], :], out[..., _C["r_ear"], :] = eyes + 2 * side, eyes - 2 * side
    return out


def coco_document(
    xy, score=None, width: float = 1000, height: float = 1002, fps: float | None = None, missing=()
) -> dict:
    """A keypoint document in this module's JSON format from COCO points (T, 17, 2) and scores (T, 17).

    Frames listed in ``missing`` get ``"keypoints": null`` (no detection), as a detector would write.
    """
    xy = np.asarray(xy, dtype=np.float64)
    score = np.ones(xy.shape[:2]) if score is None else np.asarray(score, dtype=np.float64)
    missing = set(int(m) for m in missing)
    frames = [
        {
            "frame": t,
            "keypoints": None
            if t in missing
            else [[round(float(x), 3), round(float(y), 3), round(float(c), 4)] for (x, y), c in zip(pts, sc)],
        }
        for t, (pts, sc) in enumerate(zip(xy, score))
    ]
    doc = {"image_width": float(width), "image_height": float(height), "frames": frames}
    if fps is not None:
        doc["fps"] = float(fps)
    return doc


# -------------------------------------------------------------------------------------- lifting
def model_window(model, cfg=None) -> int:
    """The clip length T a model was trained on: ``model.cfg.n_frames`` (or that of ``cfg.model``)."""
    for source in (getattr(model, "cfg", None), getattr(cfg, "model", None)):
        n = getattr(source, "n_frames", None)
        if n:
            return int(n)
    raise ValueError("cannot tell the model's window length: pass window=T (the n_frames it was trained with)")


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Starts of windows of ``window`` frames covering 0..length-1, the last one flush with the end."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def lift_sequence(
    model, inputs, window: int, stride: int | None = None, batch_size: int = 16, flip: bool = False
) -> np.ndarray:
    """Lift a whole sequence of any length with a fixed-window model: (T, 17, 3) -> (T, 17, 3).

    Sequences shorter than ``window`` are padded by repeating their first and last frames (centred),
    and the padding is cut from the output.  Longer ones are cut into windows of ``window`` frames
    every ``stride`` frames (default window // 2; the last window ends at the last frame); each frame's
    output is the mean over the windows that contain it.

    Args:
        model: a module mapping (B, window, 17, 3) inputs to (B, window, 17, 3) 3D poses.
        inputs: (T, 17, 3) normalised x, y + confidence (``to_model_inputs``), T >= 1.
        flip: also lift the horizontally flipped input and average (test-time augmentation).

    The windows run through ``mdtf_lite.eval.predict`` (eval mode, batches of ``batch_size``, flip TTA),
    so lifting and evaluation share one inference path.
    """
    x = np.asarray(inputs, dtype=np.float32)
    if x.ndim != 3 or x.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"inputs have shape {x.shape}; expected (T, 17, 3) = normalised x, y, confidence per joint")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN/Inf: fill missing keypoints first (read_coco_keypoints interpolates)")
    for name, value, allow_none in (
        ("window", window, False),
        ("stride", stride, True),
        ("batch_size", batch_size, False),
    ):
        if value is None and allow_none:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(
                f"{name} must be an integer >= 1{' or None (= window // 2)' if allow_none else ''}, got {value!r}"
            )
    stride = stride or max(window // 2, 1)
    length = x.shape[0]
    pad_front = pad_back = 0
    if length < window:
        pad_front = (window - length) // 2
        pad_back = window - length - pad_front
        x = np.concatenate([np.repeat(x[:1], pad_front, 0), x, np.repeat(x[-1:], pad_back, 0)])
    starts = window_starts(x.shape[0], window, stride)
    windows = np.stack([x[s : s + window] for s in starts])  # (W, window, 17, 3)
    out = predict(model, windows, batch_size=batch_size, flip=flip).double().numpy()  # eval mode, batched
    if out.shape != (len(starts), window, NUM_JOINTS, 3):
        raise ValueError(f"the model returned {out.shape[1:]} per window; expected {(window, NUM_JOINTS, 3)}")
    total = np.zeros((x.shape[0], NUM_JOINTS, 3), dtype=np.float64)
    count = np.zeros((x.shape[0], 1, 1))
    for s, pose in zip(starts, out):
        total[s : s + window] += pose
        count[s : s + window] += 1
    poses = total / count
    return poses[pad_front : pad_front + length].astype(np.float32)


def lift_keypoints_file(
    path,
    model,
    cfg=None,
    *,
    image_size=None,
    max_gap: int = DEFAULT_MAX_GAP,
    window: int | None = None,
    stride: int | None = None,
    flip: bool | None = None,
) -> LiftResult:
    """Read a COCO-17 JSON, map and normalise it, and lift every frame.  Returns a ``LiftResult``.

    ``cfg`` (the checkpoint's ``TrainConfig``) supplies the window (its model's ``n_frames``), the
    target kind (camera metres or 2.5D) and whether to flip-average (``flip_test``).
    """
    kp = read_coco_keypoints(path, image_size=image_size, max_gap=max_gap)
    window = window or model_window(model, cfg)
    if flip is None:
        flip = bool(getattr(cfg, "flip_test", False))
    poses = lift_sequence(model, to_model_inputs(kp), window, stride=stride, flip=flip)
    target = (getattr(cfg, "data", None) or {}).get("target", "camera") if cfg is not None else "camera"
    unit = "m" if target == "camera" else "normalised 2.5D"
    meta = {
        "source": str(path),
        "window": window,
        "stride": stride or max(window // 2, 1),
        "flip": flip,
        "model": getattr(cfg, "name", None),
        "target": target,
    }
    return LiftResult(poses=poses, keypoints=h36m_keypoints(kp), unit=unit, meta=meta)


# -------------------------------------------------------------------------------------- export
def export_json(result: LiftResult, path) -> Path:
    """Write the 3D poses as JSON: joint names, unit, and per frame the 17 [x, y, z] (camera frame)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kp = result.keypoints
    doc = {
        "format": "mdtf-lite 3D poses v1",
        "joint_names": list(JOINT_NAMES),
        "coordinates": "camera frame, root-relative (pelvis = 0): x right, y down, z forward",
        "unit": result.unit,
        "image_width": kp.width,
        "image_height": kp.height,
        "fps": kp.fps,
        "meta": result.meta,
        "frames": [
            {"frame": int(f), "interpolated": bool(i), "joints": np.round(p.astype(np.float64), 5).tolist()}
            for f, i, p in zip(kp.frame_ids, kp.interpolated, result.poses)
        ],
    }
    tmp = path.with_name(path.name + ".partial")
    text = json.dumps(doc, allow_nan=False)  # strict JSON: no NaN / Infinity
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export_npz(result: LiftResult, path) -> Path:
    """Write poses (T, 17, 3), frame_ids (T,), interpolated (T,), keypoints_2d (T, 17, 2) pixels, scores
    (T, 17), joint_names (17,) and unit as a pickle-free npz."""
    kp = result.keypoints
    return save_npz(
        path,
        {
            "poses": result.poses.astype(np.float32),
            "frame_ids": kp.frame_ids.astype(np.int64),
            "interpolated": kp.interpolated.astype(bool),
            "keypoints_2d": kp.xy.astype(np.float32),
            "scores": kp.score.astype(np.float32),
            "joint_names": np.array(JOINT_NAMES),
            "unit": np.array(result.unit),
            "image_size": np.array([kp.width, kp.height]),
        },
        compress=True,
    )


# ----------------------------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    """``mdtf-lite lift`` / ``python -m mdtf_lite.lift``: COCO-17 JSON -> 3D poses JSON (and npz)."""
    ap = argparse.ArgumentParser(prog="mdtf-lite lift", description=main.__doc__)
    ap.add_argument("keypoints", type=Path, help="COCO-17 keypoints JSON (format: the mdtf_lite.lift docstring)")
    ap.add_argument(
        "--checkpoint",
        default="ci",
        help="a checkpoint folder, or 'ci' / 'default' (trained on first use); default: ci",
    )
    ap.add_argument("--out", type=Path, default=None, help="output JSON (default: <keypoints>_3d.json)")
    ap.add_argument("--npz", action="store_true", help="also write the npz next to the JSON")
    ap.add_argument("--overwrite", action="store_true", help="replace outputs that exist already")
    args = ap.parse_args(argv)
    try:
        out = args.out or args.keypoints.with_name(args.keypoints.stem + "_3d.json")
        if out.is_dir():
            raise ValueError(f"{out}: is a folder; pass --out <file>.json (the npz goes next to it)")
        outputs = [out, out.with_suffix(".npz")] if args.npz else [out]
        for target in outputs:  # never the input, never an existing file unless asked
            if target.resolve() == args.keypoints.resolve():
                raise ValueError(f"{target}: is the input keypoint file; pass another --out")
            if target.exists() and not args.overwrite:
                raise ValueError(f"{target}: exists already; pass --overwrite to replace it, or another --out")
        with warnings.catch_warnings():  # refuse a bad input before a checkpoint is trained or loaded
            warnings.simplefilter("ignore")  # (its warnings come once, from the read below)
            read_coco_keypoints(args.keypoints)
        path = ensure_checkpoint(args.checkpoint) if args.checkpoint in ("ci", "default") else Path(args.checkpoint)
        model, cfg = load_checkpoint(path)
        result = lift_keypoints_file(args.keypoints, model, cfg)
        print(export_json(result, out))
        if args.npz:
            print(export_npz(result, out.with_suffix(".npz")))
    except (ValueError, OSError, CheckpointError) as exc:  # FileNotFoundError is an OSError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
