"""A small BVH reader (vectorised forward kinematics) and the map of CMU skeletons to H36M-17.

BVH: a HIERARCHY of joints (OFFSET, CHANNELS) and a MOTION block of one row of channel values per
frame.  A joint's local rotation is the product of its rotation channels *in the order listed*
(``Zrotation Yrotation Xrotation`` -> Rz @ Ry @ Rx, degrees); its global rotation is the parent's
times the local one, and it sits at ``parent_position + parent_rotation @ offset`` (plus the
position channels for the root).  End Sites are leaf points (e.g. the top of the head).

Written here rather than taken from a BVH package because the CMU files need only this much, all
frames are computed at once with numpy (a 2752-frame take in ~0.1 s), and the test against the
reference arrays in ``shared/mocap/cmu/derived_h36m17`` pins it down to 1 mm.  Evaluated against
``bvhio`` 1.5.4 (issue 12) on the three shared CMU files with reference arrays (MotionBuilder 01_01,
3dsMax 131_01 and 131_03): both match the references exactly (0.000 mm), ours parses and
runs FK on all frames in 0.1-0.3 s versus 2-30 s, and bvhio accepts a ``nan`` motion value (NaN
joints), ``Frame Time: 0`` or negative, and loops forever on a truncated file; so we keep ours.

Malformed files raise ``ValueError`` naming the file: unbalanced braces (a joint left open before
MOTION, a ``}`` that closes nothing, a JOINT outside the ROOT), non-finite OFFSET or motion values,
``Frames`` < 1, ``Frame Time`` not in (0, 10] s, a value count that is not frames x channels.

Shapes: positions (T, K, 3) in file units (CMU: multiply by ``CMU_UNIT_TO_M``); H36M output (T, 17, 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdtf_lite.data.synthetic.body import rot_x, rot_y, rot_z
from mdtf_lite.data.units import check_metres

__all__ = [
    "BvhJoint",
    "Bvh",
    "read_bvh",
    "bvh_positions",
    "CMU_UNIT_TO_M",
    "CMU_TO_H36M",
    "bvh_to_h36m17",
    "skeleton_style",
]

CMU_UNIT_TO_M = 0.0254 / 0.45  # = 0.0564444...: one CMU length unit (``:units length 0.45``) is 1/0.45 inch

#: H36M joint -> source joint name per CMU skeleton style ("<Joint>/End" = that joint's End Site).
CMU_TO_H36M = {
    "motionbuilder": {
        1: "RightUpLeg",
        2: "RightLeg",
        3: "RightFoot",
        4: "LeftUpLeg",
        5: "LeftLeg",
        6: "LeftFoot",
        7: "Spine",
        8: "Neck1",
        9: "Head",
        10: "Head/End",
        11: "LeftArm",
        12: "LeftForeArm",
        13: "LeftHand",
        14: "RightArm",
        15: "RightForeArm",
        16: "RightHand",
    },
    "3dsmax": {
        1: "RightHip",
        2: "RightKnee",
        3: "RightAnkle",
        4: "LeftHip",
        5: "LeftKnee",
        6: "LeftAnkle",
        7: "Chest",
        8: "Neck",
        9: "Head",
        10: "Head/End",
        11: "LeftShoulder",
        12: "LeftElbow",
        13: "LeftWrist",
        14: "RightShoulder",
        15: "RightElbow",
        16: "RightWrist",
    },
}


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray  # (3,)
    channels: list[str]  # e.g. ["Xposition", ..., "Zrotation", "Yrotation", "Xrotation"]
    first_channel: int  # column of its first channel in the MOTION rows


@dataclass
class Bvh:
    path: Path
    joints: list[BvhJoint]  # End Sites included as joints named "<Parent>/End" with no channels
    motion: np.ndarray  # (T, C) channel values
    frame_time: float

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]


def read_bvh(path) -> Bvh:
    """Parse a BVH file; raises ValueError naming the line on malformed input."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    tokens = path.read_text(errors="replace").split()
    joints: list[BvhJoint] = []
    stack: list[int] = []
    i, n_channels = 0, 0

    def bad(msg):
        return ValueError(f"{path}: not a valid BVH file ({msg}); check that it is complete and uncorrupted")

    if not tokens or tokens[0] != "HIERARCHY":
        raise bad("it does not start with HIERARCHY")
    i = 1
    try:
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                if (tok == "ROOT") != (not stack):
                    raise bad(
                        f"{tok} {tokens[i + 1]} "
                        + (
                            "inside another joint's braces"
                            if tok == "ROOT"
                            else "outside any ROOT's braces (unbalanced '}')"
                        )
                    )
                name = tokens[i + 1]
                joints.append(BvhJoint(name, stack[-1] if stack else -1, np.zeros(3), [], n_channels))
                i += 2
            elif tok == "End":
                if not stack or tokens[i + 1] != "Site":
                    raise bad("'End' must be 'End Site' inside a joint's braces")
                parent = stack[-1]
                joints.append(BvhJoint(f"{joints[parent].name}/End", parent, np.zeros(3), [], n_channels))
                i += 2
            elif tok == "{":
                if not joints or len(stack) >= len(joints) or (stack and stack[-1] == len(joints) - 1):
                    raise bad("a '{' that opens no joint (unbalanced braces)")
                stack.append(len(joints) - 1)
                i += 1
            elif tok == "}":
                if not stack:
                    raise bad("a '}' closes nothing (unbalanced braces)")
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                if not stack:
                    raise bad("OFFSET outside a joint's braces")
                joints[stack[-1]].offset = np.array([float(t) for t in tokens[i + 1 : i + 4]])
                if joints[stack[-1]].offset.shape != (3,) or not np.isfinite(joints[stack[-1]].offset).all():
                    raise bad(f"OFFSET of {joints[stack[-1]].name} is not 3 finite numbers")
                i += 4
            elif tok == "CHANNELS":
                if not stack:
                    raise bad("CHANNELS outside a joint's braces")
                k = int(tokens[i + 1])
                if not 0 <= k <= 6:
                    raise bad(f"CHANNELS {k} of {joints[stack[-1]].name}: a joint has 0..6 channels")
                joints[stack[-1]].channels = tokens[i + 2 : i + 2 + k]
                joints[stack[-1]].first_channel = n_channels
                n_channels += k
                i += 2 + k
            else:
                raise bad(f"unexpected token {tok!r}")
        if stack:
            raise bad(
                f"{len(stack)} joint(s) ({joints[stack[-1]].name}, ...) are not closed with '}}' before MOTION "
                "(unbalanced braces: every joint after it would hang off the wrong parent)"
            )
        if tokens[i + 1 : i + 2] != ["Frames:"] or tokens[i + 3 : i + 5] != ["Frame", "Time:"]:
            raise bad("MOTION must be followed by 'Frames: N' and 'Frame Time: seconds'")
        frames = int(tokens[i + 2])
        frame_time = float(tokens[i + 5])
        values = np.asarray(tokens[i + 6 :], dtype=np.float64)
    except (IndexError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
            raise
        raise bad(f"{type(exc).__name__}: {exc}") from None
    if not joints:
        raise bad("no joints")
    if frames < 1:
        raise bad(f"Frames: {frames}; expected at least one frame")
    if not (np.isfinite(frame_time) and 0 < frame_time <= 10):
        raise bad(f"Frame Time: {frame_time}; expected the seconds per frame, > 0 (CMU: 0.0083333 = 120 fps)")
    if values.size != frames * n_channels:
        raise bad(f"MOTION has {values.size} numbers, expected {frames} frames x {n_channels} channels")
    if not np.isfinite(values).all():
        t, c = divmod(int(np.argmax(~np.isfinite(values))), max(n_channels, 1))
        raise bad(
            f"MOTION frame {t}, channel {c} is {values.reshape(-1)[t * n_channels + c]}: the motion must be "
            "finite numbers (fix or drop that frame)"
        )
    return Bvh(path, joints, values.reshape(frames, n_channels), frame_time)


_ROT = {"Xrotation": rot_x, "Yrotation": rot_y, "Zrotation": rot_z}


def bvh_positions(bvh: Bvh) -> np.ndarray:
    """Global positions (T, K, 3) of every joint and End Site, file units."""
    T = len(bvh.motion)
    K = len(bvh.joints)
    pos = np.zeros((T, K, 3))
    rot = np.zeros((T, K, 3, 3))
    for k, j in enumerate(bvh.joints):
        local = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        trans = np.zeros((T, 3))
        for c, ch in enumerate(j.channels):
            v = bvh.motion[:, j.first_channel + c]
            if ch in _ROT:
                local = local @ _ROT[ch](np.deg2rad(v))
            elif ch.endswith("position"):
                trans[:, "XYZ".index(ch[0])] = v
            else:
                raise ValueError(f"{bvh.path}: joint {j.name} has an unknown channel {ch!r}")
        if j.parent < 0:
            pos[:, k] = j.offset + trans
            rot[:, k] = local
        else:
            pos[:, k] = pos[:, j.parent] + np.einsum("tij,j->ti", rot[:, j.parent], j.offset) + trans
            rot[:, k] = rot[:, j.parent] @ local
    return pos


def skeleton_style(bvh: Bvh) -> str:
    """ "motionbuilder" (LeftUpLeg ...) or "3dsmax" (LeftHip ...); ValueError for other skeletons."""
    names = set(bvh.names)
    for style, mapping in CMU_TO_H36M.items():
        if set(mapping.values()) <= names:
            return style
    best = min(CMU_TO_H36M, key=lambda s: len(set(CMU_TO_H36M[s].values()) - names))
    missing = sorted(set(CMU_TO_H36M[best].values()) - names)
    raise ValueError(
        f"{bvh.path}: the skeleton lacks joints needed for H36M-17: {missing} (closest style: {best}). "
        "Only the CMU MotionBuilder-style and 3dsMax-style BVH skeletons are mapped"
    )


def bvh_to_h36m17(path, drop_tpose: bool | None = None) -> tuple[np.ndarray, float, str]:
    """A CMU BVH -> (joints (T, 17, 3) metres in the file's Y-up frame, fps, style).

    The pelvis is the midpoint of the hips (as in H36M).  ``drop_tpose`` (default: for MotionBuilder-style
    files) drops frame 0, which those conversions use for a T-pose reference.
    """
    bvh = read_bvh(path)
    style = skeleton_style(bvh)
    pos = bvh_positions(bvh) * CMU_UNIT_TO_M
    index = {name: k for k, name in enumerate(bvh.names)}
    out = np.zeros((len(pos), 17, 3))
    for j, name in CMU_TO_H36M[style].items():
        out[:, j] = pos[:, index[name]]
    out[:, 0] = (out[:, 1] + out[:, 4]) / 2
    if drop_tpose if drop_tpose is not None else style == "motionbuilder":
        out = out[1:]
    if len(out) < 2:
        raise ValueError(f"{path}: only {len(out)} frame(s) of motion")

    check_metres(out, path, f"the {style}-style skeleton (converted with CMU_UNIT_TO_M)")
    return out, bvh.fps, style
