"""A kinematic body for the default generator: subject bone lengths, joint rotations -> H36M-17 joints.

Every bone ``c`` (named by its child joint, 1..16) carries a local rotation ``L_c`` relative to the
frame of its parent bone; the frames chain from the pelvis ``F_0`` down the tree
(``F_c = F_parent(c) @ L_c``) and the joint sits at ``X_c = X_parent(c) + F_c @ offset_c``.

Body frame: x forward, y left, z up (the world is Z up, like Human3.6M).  A local rotation is
``Rz(twist) @ Rx(abduction) @ Ry(flexion)``; the sign conventions below make a positive angle mean
the anatomical motion on both sides (flexion forward, knee/elbow bending, abduction away from the body).

Shapes: angles (T,) radians; rotations (T, 3, 3); joints (T, 17, 3) metres.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.skeleton import NUM_JOINTS, PARENTS, TYPICAL_BONE_LENGTH_MM

__all__ = [
    "REST_DIRECTIONS",
    "DOF_NAMES",
    "subject_bone_lengths",
    "rot_x",
    "rot_y",
    "rot_z",
    "forward_kinematics",
    "JOINT_LIMITS_DEG",
]


def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


#: rest direction of each bone (child joint) in its parent's frame; index 0 unused.
REST_DIRECTIONS = np.stack(
    [
        np.zeros(3),
        _unit([0, -1, 0]),
        _unit([0, 0, -1]),
        _unit([0, 0, -1]),  # pelvis, r_hip, r_knee, r_ankle
        _unit([0, 1, 0]),
        _unit([0, 0, -1]),
        _unit([0, 0, -1]),  # l_hip, l_knee, l_ankle
        _unit([0.05, 0, 1]),
        _unit([-0.05, 0, 1]),
        _unit([0.45, 0, 0.9]),
        _unit([-0.35, 0, 0.95]),  # spine..head
        _unit([-0.1, 1, 0.05]),
        _unit([0, 0, -1]),
        _unit([0, 0, -1]),  # l_shoulder, elbow, wrist
        _unit([-0.1, -1, 0.05]),
        _unit([0, 0, -1]),
        _unit([0, 0, -1]),  # r_shoulder, elbow, wrist
    ]
)

#: degrees of freedom the actions drive (radians); everything else stays at rest.
DOF_NAMES = (
    "root_yaw",
    "root_pitch",
    "root_roll",
    "l_hip_flex",
    "l_hip_abd",
    "l_hip_twist",
    "r_hip_flex",
    "r_hip_abd",
    "r_hip_twist",
    "l_knee",
    "r_knee",
    "lumbar_flex",
    "lumbar_side",
    "lumbar_twist",
    "thorax_flex",
    "thorax_side",
    "thorax_twist",
    "neck_flex",
    "neck_yaw",
    "neck_side",
    "l_sh_flex",
    "l_sh_abd",
    "l_sh_twist",
    "r_sh_flex",
    "r_sh_abd",
    "r_sh_twist",
    "l_elbow",
    "r_elbow",
)

#: human joint ranges (degrees) the generator clips to (after adding variation), min/max.
JOINT_LIMITS_DEG = {
    "hip_flex": (-30, 125),
    "hip_abd": (-25, 50),
    "hip_twist": (-35, 35),
    "knee": (0, 150),
    "lumbar_flex": (-25, 70),
    "lumbar_side": (-30, 30),
    "lumbar_twist": (-35, 35),
    "thorax_flex": (-20, 40),
    "thorax_side": (-20, 20),
    "thorax_twist": (-25, 25),
    "neck_flex": (-45, 60),
    "neck_yaw": (-70, 70),
    "neck_side": (-30, 30),
    "sh_flex": (-50, 175),
    "sh_abd": (-15, 175),
    "sh_twist": (-60, 80),
    "elbow": (0, 150),
}


def limit_key(dof: str) -> str | None:
    """The JOINT_LIMITS_DEG key of a DOF name (``l_hip_flex`` -> ``hip_flex``), None for the root."""
    if dof.startswith("root_"):
        return None
    return dof[2:] if dof[:2] in ("l_", "r_") else dof


def subject_bone_lengths(rng: np.random.Generator) -> np.ndarray:
    """Bone lengths (17,) metres of one subject: a global scale ~ N(1, 0.045) times per-bone
    variation ~ N(1, 0.03), identical on the left and right (index 0 is 0)."""
    base = np.asarray(TYPICAL_BONE_LENGTH_MM) / 1000.0
    scale = np.clip(rng.normal(1.0, 0.045), 0.88, 1.12)
    per = np.clip(rng.normal(1.0, 0.03, size=NUM_JOINTS), 0.92, 1.08)
    for left, right in ((4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16)):
        per[right] = per[left]
    out = base * scale * per
    out[0] = 0.0
    return out


def rot_x(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a):
    a = np.asarray(a, float)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _euler(twist, abd, flex):
    return rot_z(twist) @ rot_x(abd) @ rot_y(flex)


def local_rotations(dofs: dict[str, np.ndarray], num_frames: int) -> list[np.ndarray | None]:
    """Per-bone local rotations (T, 3, 3) from DOF curves (radians); None means identity."""
    g = lambda k: dofs.get(k, np.zeros(num_frames))  # noqa: E731
    L: list[np.ndarray | None] = [None] * NUM_JOINTS
    # thighs: flexion forward is Ry(-a); right-side abduction/twist mirrored
    L[5] = _euler(g("l_hip_twist"), g("l_hip_abd"), -g("l_hip_flex"))
    L[2] = _euler(-g("r_hip_twist"), -g("r_hip_abd"), -g("r_hip_flex"))
    L[6] = rot_y(g("l_knee"))
    L[3] = rot_y(g("r_knee"))
    L[7] = _euler(g("lumbar_twist"), g("lumbar_side"), g("lumbar_flex"))
    L[8] = _euler(g("thorax_twist"), g("thorax_side"), g("thorax_flex"))
    L[9] = _euler(g("neck_yaw"), g("neck_side"), g("neck_flex"))
    L[12] = _euler(g("l_sh_twist"), g("l_sh_abd"), -g("l_sh_flex"))
    L[15] = _euler(-g("r_sh_twist"), -g("r_sh_abd"), -g("r_sh_flex"))
    L[13] = rot_y(-g("l_elbow"))
    L[16] = rot_y(-g("r_elbow"))
    return L


def forward_kinematics(dofs: dict[str, np.ndarray], bone_lengths: np.ndarray, num_frames: int) -> np.ndarray:
    """Joints (T, 17, 3) in the world orientation with the pelvis at the origin.

    The pelvis frame is ``Rz(root_yaw) @ Rx(root_roll) @ Ry(root_pitch)`` (pitch > 0 leans forward).
    """
    g = lambda k: dofs.get(k, np.zeros(num_frames))  # noqa: E731
    frames = [None] * NUM_JOINTS
    frames[0] = rot_z(g("root_yaw")) @ rot_x(g("root_roll")) @ rot_y(g("root_pitch"))
    L = local_rotations(dofs, num_frames)
    joints = np.zeros((num_frames, NUM_JOINTS, 3))
    for c in range(1, NUM_JOINTS):
        p = PARENTS[c]
        frames[c] = frames[p] if L[c] is None else frames[p] @ L[c]
        joints[:, c] = joints[:, p] + frames[c] @ (REST_DIRECTIONS[c] * bone_lengths[c])
    return joints
