"""The Human3.6M 17-joint skeleton: names, tree, bones, left/right symmetry and adjacency.

Every lifting paper (VideoPose3D, MotionBERT, MixSTE, PoseMamba, MDTF) uses this joint order, so
these constants are the contract between the data layer, the model and the metrics.

    index  name          parent
    0      pelvis (root)  -
    1      r_hip          0
    2      r_knee         1
    3      r_ankle        2
    4      l_hip          0
    5      l_knee         4
    6      l_ankle        5
    7      spine          0
    8      thorax         7
    9      neck           8   (called "neck/nose" in H36M)
    10     head           9   (the top of the head)
    11     l_shoulder     8
    12     l_elbow        11
    13     l_wrist        12
    14     r_shoulder     8
    15     r_elbow        14
    16     r_wrist        15

Everything here is plain Python/numpy so it can be imported anywhere without torch.
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 17

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "r_hip",
    "r_knee",
    "r_ankle",
    "l_hip",
    "l_knee",
    "l_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "r_shoulder",
    "r_elbow",
    "r_wrist",
)

#: parent of each joint; the root (pelvis) has parent -1.  Every parent index is smaller than its
#: child's, so a single forward loop over joints visits parents first (forward kinematics relies on it).
PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)


def _flip_permutation() -> tuple[int, ...]:
    perm = list(range(NUM_JOINTS))
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        perm[left], perm[right] = right, left
    return tuple(perm)


#: ``pose[..., FLIP_PERMUTATION, :]`` swaps left and right joints (an involution).  A horizontal flip
#: of a pose is this permutation *and* negating x.
FLIP_PERMUTATION: tuple[int, ...] = _flip_permutation()

#: the 16 bones as (parent, child) pairs, ordered by child index 1..16.
BONES: tuple[tuple[int, int], ...] = tuple((PARENTS[c], c) for c in range(1, NUM_JOINTS))
NUM_BONES = len(BONES)

#: which side a joint (or the bone ending in it) belongs to: "left", "right" or "center".
JOINT_SIDES: tuple[str, ...] = tuple(
    "left" if j in LEFT_JOINTS else "right" if j in RIGHT_JOINTS else "center" for j in range(NUM_JOINTS)
)

#: joints kept from the 32-joint Human3.6M mocap skeleton, in H36M-17 order.
H36M32_TO_17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)

#: typical bone lengths in millimetres, by child joint (the Human3.6M skeleton); index 0 (root) is 0.
TYPICAL_BONE_LENGTH_MM: tuple[float, ...] = (
    0.0,
    133.0,
    443.0,
    454.0,
    133.0,
    443.0,
    454.0,
    233.0,
    257.0,
    121.0,
    115.0,
    151.0,
    279.0,
    252.0,
    151.0,
    279.0,
    252.0,
)


def adjacency(self_loops: bool = False, order: tuple[int, ...] | None = None) -> np.ndarray:
    """Symmetric 0/1 adjacency of the skeleton tree, shape (J, J), float64.

    Args:
        self_loops: add the identity (MDTF's GCN uses *no* self loops; the residual path plays that role).
        order: if given, ``order[i]`` is the original joint that sits at position ``i`` of the new
            sequence, and the matrix is re-indexed accordingly (``A_new = A[order][:, order]``).  The
            backward direction of GEM scans the joints reversed, i.e. ``order = (16, 15, ..., 0)``.
    """
    a = np.zeros((NUM_JOINTS, NUM_JOINTS), dtype=np.float64)
    for parent, child in BONES:
        a[parent, child] = a[child, parent] = 1.0
    if self_loops:
        a += np.eye(NUM_JOINTS)
    if order is not None:
        idx = np.asarray(order)
        if sorted(idx.tolist()) != list(range(NUM_JOINTS)):
            raise ValueError(f"order must be a permutation of 0..{NUM_JOINTS - 1}, got {list(order)}")
        a = a[idx][:, idx]
    return a


def validate_parents(parents) -> tuple[int, ...]:
    """Check that ``parents`` describes a tree rooted at joint 0 with parents before children.

    Returns the parents as a tuple; raises ``ValueError`` naming the offending joint otherwise.
    """
    parents = tuple(int(p) for p in parents)
    if not parents or parents[0] != -1:
        raise ValueError("parents[0] must be -1: joint 0 is the root of the skeleton tree")
    for child, parent in enumerate(parents[1:], start=1):
        if not 0 <= parent < child:
            raise ValueError(
                f"joint {child} has parent {parent}; every parent must be an existing joint with a smaller "
                "index (so the parent array is a tree that a forward loop can walk root-first)"
            )
    return parents


def check_pose_shape(pose, name: str = "pose", dims: tuple[int, ...] = (2, 3)) -> None:
    """Raise a clear ``ValueError`` unless ``pose`` has shape (..., 17, d) with d in ``dims``."""
    shape = tuple(getattr(pose, "shape", ()))
    if len(shape) < 2 or shape[-2] != NUM_JOINTS or shape[-1] not in dims:
        want = " or ".join(f"(..., {NUM_JOINTS}, {d})" for d in dims)
        raise ValueError(
            f"{name} has shape {shape}, expected {want}: Human3.6M-17 joints in the order of "
            "mdtf_lite.skeleton.JOINT_NAMES (convert other layouts first, e.g. COCO-17 with mdtf_lite.lift)"
        )


def rest_pose() -> np.ndarray:
    """A standing pose with the typical bone lengths, shape (17, 3), metres, camera frame.

    The person faces the camera (their right side at negative x), y points down, arms hang at the
    sides, the pelvis is at the origin.  Useful for drawings and as a sanity input; not data.
    """
    length = np.asarray(TYPICAL_BONE_LENGTH_MM) / 1000.0
    down, up = np.array([0.0, 1.0, 0.0]), np.array([0.0, -1.0, 0.0])
    right, left = np.array([-1.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0])
    direction = {
        1: right,
        2: down,
        3: down,
        4: left,
        5: down,
        6: down,
        7: up,
        8: up,
        9: up,
        10: up,
        11: left,
        12: down,
        13: down,
        14: right,
        15: down,
        16: down,
    }
    pose = np.zeros((NUM_JOINTS, 3))
    for parent, child in BONES:  # parents come first, so each parent is placed before its child
        pose[child] = pose[parent] + length[child] * direction[child]
    return pose
