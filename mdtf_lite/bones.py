"""Bone geometry: joints <-> bone vectors, Cartesian <-> spherical, polar-angle bins, bone tokens.

MDTF's first idea: a skeleton is a tree of 16 bones, and a bone seen in 2D already fixes two of its
three spherical coordinates.  Write a bone b = child - parent = (bx, by, bz) in a camera-aligned frame
(x, y on the image plane, z = depth) as

    phi    = atan2(by, bx)                      azimuth in the image plane, in (-pi, pi]
    theta  = atan2(|b_xy|, bz)                  polar angle from the depth axis, in [0, pi]
    length = |b|                                so b = length (sin t cos p, sin t sin p, cos t)

phi and the in-plane length |b_xy| = length sin(theta) come straight from the 2D pose; only theta
(how far the bone tilts towards or away from the camera) is lost by the projection.  The Bone Aware
Module (``mdtf_lite.models.bam``) classifies theta into K bins of 180/K degrees (K = 6: 30-degree
bins); from a predicted bin centre theta_hat the bone is rebuilt as

    length_hat = |b_xy| / sin(theta_hat)        depth component = |b_xy| / tan(theta_hat)

Tokens.  The network sees one token per joint, so per-bone quantities are placed at each bone's
CHILD joint (bone k of ``mdtf_lite.skeleton.BONES`` ends in joint k + 1) and the root token is zero.
The official MDTF code puts bone k's features at token k instead (one joint too early) while its labels
sit at the child joint; :func:`at_child_joints` is the corrected placement.

Shapes (glossary in ``mdtf_lite/__init__.py``): a pose is (..., J, d) with J = 17 joints and d = 2 or 3;
bone vectors are (..., J - 1, d), ordered by child joint 1..16; spherical coordinates are (..., 3) =
(phi, theta, length) over any leading shape "...".

Numerical safety.  atan2 and the Euclidean norm have infinite (NaN) gradients at the origin.  Every
function here uses the "double where" trick: a zero-length vector is replaced by a harmless dummy
*before* the sqrt/atan2 and the result is overwritten afterwards, so zero-length bones, bones along the
depth axis (theta = 0 or pi, |b_xy| = 0) and zero 2D bones give finite values and finite gradients
(conventions: phi = 0 when |b_xy| = 0, theta = 0 for a zero bone).

Every public function takes torch tensors (differentiable) or numpy arrays (returns numpy then), and
raises ``ValueError`` naming the problem for wrong shapes, non-tree parent arrays and NaN/Inf.
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
import torch

from mdtf_lite.skeleton import NUM_JOINTS, PARENTS, validate_parents

__all__ = [
    "DEFAULT_NUM_BINS",
    "bone_vectors",
    "ancestor_matrix",
    "joints_from_bones",
    "to_spherical",
    "from_spherical",
    "planar_parts",
    "theta_to_bin",
    "bin_centers",
    "bin_to_theta",
    "token_thetas",
    "theta_labels",
    "length_from_theta",
    "depth_from_theta",
    "reconstruct_bones",
    "at_child_joints",
    "bone_tokens",
    "flip_bone_depth",
    "set_bone_direction",
]

#: number of polar-angle classes in MDTF (6 bins of 30 degrees).
DEFAULT_NUM_BINS = 6


# ------------------------------------------------------------------------------------------ helpers
def _numpy_io(fn):
    """Let ``fn`` (written for torch) accept numpy arrays too: numpy in -> numpy out."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        was_numpy = any(isinstance(a, np.ndarray) for a in args)
        # (np.ascontiguousarray would turn 0-d arrays into 1-d ones; copy() keeps the shape)
        args = tuple(
            torch.from_numpy(a if a.flags.c_contiguous else a.copy()) if isinstance(a, np.ndarray) else a for a in args
        )
        out = fn(*args, **kwargs)
        if was_numpy:
            if isinstance(out, tuple):
                return tuple(o.detach().cpu().numpy() for o in out)
            return out.detach().cpu().numpy()
        return out

    return wrapper


def _check_tensor(x, name: str, last_dims: tuple[int, ...] | None = None) -> torch.Tensor:
    """Return ``x`` as a floating tensor; raise ``ValueError`` for non-tensors, bad last dim or NaN/Inf."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"{name} must be a tensor or array of numbers, got {type(x).__name__}") from exc
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if last_dims is not None and (x.ndim == 0 or x.shape[-1] not in last_dims):
        want = " or ".join(str(d) for d in last_dims)
        raise ValueError(f"{name} has shape {tuple(x.shape)}: its last dimension must be {want}")
    if not torch.isfinite(x).all():
        idx = tuple(torch.nonzero(~torch.isfinite(x))[0].tolist())
        raise ValueError(f"{name} contains NaN/Inf (first at index {idx}): fill or drop missing values first")
    return x


def _check_joints(joints, parents, name: str, dims=(2, 3)) -> tuple[torch.Tensor, tuple[int, ...]]:
    parents = validate_parents(parents)
    joints = _check_tensor(joints, name)
    n = len(parents)
    if joints.ndim < 2 or joints.shape[-2] != n or joints.shape[-1] not in dims:
        want = " or ".join(f"(..., {n}, {d})" for d in dims)
        hint = (
            " (Human3.6M-17 joints in the order of mdtf_lite.skeleton.JOINT_NAMES)"
            if n == NUM_JOINTS
            else f" (one row per entry of the {n}-joint parent array)"
        )
        raise ValueError(f"{name} has shape {tuple(joints.shape)}, expected {want}{hint}")
    return joints, parents


def _safe_hypot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """sqrt(x^2 + y^2) with gradient 0 (not NaN) at x = y = 0.  Shapes: broadcastable -> broadcast."""
    r2 = x * x + y * y
    ok = r2 > torch.finfo(r2.dtype).tiny  # below the smallest normal float the sqrt gradient overflows
    return torch.where(ok, torch.sqrt(torch.where(ok, r2, torch.ones_like(r2))), torch.zeros_like(r2))


def _safe_norm(v: torch.Tensor) -> torch.Tensor:
    """|v| over the last axis, gradient 0 at v = 0.  (..., d) -> (...)."""
    r2 = (v * v).sum(-1)
    ok = r2 > torch.finfo(r2.dtype).tiny
    return torch.where(ok, torch.sqrt(torch.where(ok, r2, torch.ones_like(r2))), torch.zeros_like(r2))


def _safe_atan2(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """atan2(y, x), defined as 0 at the origin with a zero (finite) gradient there."""
    ok = x * x + y * y > torch.finfo(x.dtype).tiny
    xs = torch.where(ok, x, torch.ones_like(x))  # a dummy point (1, 0) where the angle is undefined
    ys = torch.where(ok, y, torch.zeros_like(y))
    return torch.where(ok, torch.atan2(ys, xs), torch.zeros_like(x))


# ------------------------------------------------------------------------------ joints <-> bones
@_numpy_io
def bone_vectors(joints, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """Bone vectors child - parent, ordered by child joint 1..J-1.

    Args:
        joints: (..., J, d) positions, d = 2 or 3 (J = 17 for the default ``parents``).
        parents: parent of each joint, root first with parent -1, every parent before its child.

    Returns:
        (..., J - 1, d): row k is joint (k + 1) minus its parent.
    """
    joints, parents = _check_joints(joints, parents, "joints")
    child = torch.arange(1, len(parents), device=joints.device)
    parent = torch.tensor(parents[1:], device=joints.device)
    return joints[..., child, :] - joints[..., parent, :]


def ancestor_matrix(parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """(J, J - 1) 0/1 matrix M with M[j, k] = 1 when bone k lies on the path from the root to joint j.

    Forward kinematics is then one matrix product: joints = root + M @ bones.
    """
    parents = validate_parents(parents)
    m = torch.zeros(len(parents), len(parents) - 1)
    for j in range(1, len(parents)):
        m[j] = m[parents[j]]  # a joint inherits its parent's path ...
        m[j, j - 1] = 1.0  # ... plus the bone that ends in it (parents come first: one pass suffices)
    return m


@_numpy_io
def joints_from_bones(bones, root=None, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """Forward kinematics: rebuild joint positions from bone vectors and a root position.

    Args:
        bones: (..., J - 1, d), ordered by child joint as returned by :func:`bone_vectors`.
        root: (..., d) root position, broadcastable against ``bones[..., 0, :]``; default zeros
            (a root-relative pose).
        parents: the skeleton tree (default Human3.6M-17).

    Returns:
        (..., J, d) with ``bone_vectors(joints_from_bones(b, r)) == b`` and joint 0 at ``root``.
    """
    parents = validate_parents(parents)
    bones = _check_tensor(bones, "bones")
    if bones.ndim < 2 or bones.shape[-2] != len(parents) - 1:
        raise ValueError(
            f"bones has shape {tuple(bones.shape)}, expected (..., {len(parents) - 1}, d): "
            "one bone per non-root joint, ordered by child joint"
        )
    m = ancestor_matrix(parents).to(dtype=bones.dtype, device=bones.device)
    joints = torch.einsum("jk,...kd->...jd", m, bones)
    if root is not None:
        root = _check_tensor(root, "root", last_dims=(bones.shape[-1],)).to(bones)
        joints = joints + root.unsqueeze(-2)
    return joints


# ------------------------------------------------------------------------- Cartesian <-> spherical
@_numpy_io
def to_spherical(vectors) -> torch.Tensor:
    """Cartesian (x, y, z) -> spherical (phi, theta, length), z being the depth axis.

    Args:
        vectors: (..., 3), e.g. bone vectors (..., 16, 3).

    Returns:
        (..., 3) = (phi in (-pi, pi], theta in [0, pi], length >= 0).  phi = 0 where x = y = 0, and
        theta = 0 for a zero vector; values and gradients are finite everywhere.
    """
    vectors = _check_tensor(vectors, "vectors", last_dims=(3,))
    x, y, z = vectors.unbind(-1)
    r_xy = _safe_hypot(x, y)
    phi = _safe_atan2(y, x)
    theta = _safe_atan2(r_xy, z)  # r_xy >= 0, so theta lands in [0, pi]
    return torch.stack([phi, theta, _safe_norm(vectors)], dim=-1)


@_numpy_io
def from_spherical(spherical) -> torch.Tensor:
    """Spherical (phi, theta, length) -> Cartesian (x, y, z).  (..., 3) -> (..., 3); smooth everywhere."""
    spherical = _check_tensor(spherical, "spherical", last_dims=(3,))
    phi, theta, length = spherical.unbind(-1)
    sin_t = torch.sin(theta)
    return torch.stack(
        [length * sin_t * torch.cos(phi), length * sin_t * torch.sin(phi), length * torch.cos(theta)], dim=-1
    )


@_numpy_io
def planar_parts(joints_2d, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """The part of each bone's spherical coordinates that a 2D pose fixes: (phi, |b_xy|).

    Args:
        joints_2d: (..., J, 2) or (..., J, 3); only channels x, y are used, so a 3D pose, a 2.5D pose
            and a network input (x, y, confidence) all work.

    Returns:
        (..., J - 1, 2) = (phi, in-plane length |b_xy|) per bone, ordered by child joint.
    """
    joints_2d, parents = _check_joints(joints_2d, parents, "joints_2d")
    b = bone_vectors(joints_2d[..., :2], parents)
    x, y = b.unbind(-1)
    return torch.stack([_safe_atan2(y, x), _safe_hypot(x, y)], dim=-1)


# ---------------------------------------------------------------------------------- theta bins
def _check_bins(num_bins: int) -> int:
    if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
        raise ValueError(f"num_bins must be a positive integer (MDTF uses {DEFAULT_NUM_BINS}), got {num_bins!r}")
    return int(num_bins)


@_numpy_io
def theta_to_bin(theta, num_bins: int = DEFAULT_NUM_BINS) -> torch.Tensor:
    """Polar angle -> class index: bin k covers [k, k + 1) * pi / K (theta = pi goes to the last bin).

    Args:
        theta: (...) angles in radians, expected in [0, pi] (values outside are clamped to a bin).
    Returns:
        (...) int64 in 0 .. K - 1.
    """
    k = _check_bins(num_bins)
    theta = _check_tensor(theta, "theta")
    # compare with the inner edges i * pi / K instead of flooring theta * K / pi: the product rounds
    # 30 degrees to bin 0, the comparison puts every edge in the bin above it, as the docstring says
    edges = torch.tensor([i * math.pi / k for i in range(1, k)], dtype=theta.dtype, device=theta.device)
    return torch.bucketize(theta.detach().reshape(-1), edges, right=True).reshape(theta.shape)


def bin_centers(num_bins: int = DEFAULT_NUM_BINS, dtype=None, device=None) -> torch.Tensor:
    """(K,) bin centres (2k + 1) * pi / (2K): 15, 45, ..., 165 degrees for K = 6."""
    k = _check_bins(num_bins)
    return (2 * torch.arange(k, dtype=dtype or torch.get_default_dtype(), device=device) + 1) * (math.pi / (2 * k))


@_numpy_io
def bin_to_theta(classes, num_bins: int = DEFAULT_NUM_BINS, dtype=None) -> torch.Tensor:
    """Class index -> bin-centre angle.  (...) int -> (...) float radians."""
    k = _check_bins(num_bins)
    classes = torch.as_tensor(classes)
    if classes.is_floating_point() or (classes.numel() and (classes.min() < 0 or classes.max() >= k)):
        raise ValueError(f"classes must be integers in 0..{k - 1}; got dtype {classes.dtype}")
    return bin_centers(k, dtype=dtype, device=classes.device)[classes.long()]


@_numpy_io
def token_thetas(joints_3d, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """Polar angle of each bone at its child joint's token, root 0.

    Args:
        joints_3d: (..., J, 3) pose in a camera-aligned frame (z = depth).
    Returns:
        (..., J) radians in [0, pi]; entry j >= 1 is the bone ending in joint j, entry 0 is 0.
    """
    joints_3d, parents = _check_joints(joints_3d, parents, "joints_3d", dims=(3,))
    theta = to_spherical(bone_vectors(joints_3d, parents))[..., 1]
    return at_child_joints(theta.unsqueeze(-1)).squeeze(-1)


@_numpy_io
def theta_labels(joints_3d, num_bins: int = DEFAULT_NUM_BINS, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """Per-token theta classes for the Bone Aware Module: each bone's bin at its child joint, root 0.

    Args:
        joints_3d: (..., J, 3) root-relative target pose in a camera-aligned frame (z = depth).
    Returns:
        (..., J) int64; entry 0 (root, no bone) is 0 and is excluded from the loss.
    """
    return theta_to_bin(token_thetas(joints_3d, parents), num_bins)


# ------------------------------------------------------------------------------- reconstruction
@_numpy_io
def length_from_theta(r_xy, theta, min_sin: float = 1e-6) -> torch.Tensor:
    """3D length of a bone from its in-plane length and polar angle: |b_xy| / sin(theta).

    Shapes: (...) and (...) broadcastable -> (...).  sin(theta) is clamped at ``min_sin`` so a
    theta of 0 or pi (a bone along the depth axis, unrecoverable from 2D) stays finite.
    """
    r_xy, theta = _check_tensor(r_xy, "r_xy"), _check_tensor(theta, "theta")
    return r_xy / torch.sin(theta).clamp_min(min_sin)


@_numpy_io
def depth_from_theta(r_xy, theta, min_sin: float = 1e-6) -> torch.Tensor:
    """Depth component of a bone, |b_xy| / tan(theta) (positive = pointing away from the camera).

    Shapes: (...) and (...) broadcastable -> (...).  Same clamping as :func:`length_from_theta`.
    """
    r_xy, theta = _check_tensor(r_xy, "r_xy"), _check_tensor(theta, "theta")
    return r_xy * torch.cos(theta) / torch.sin(theta).clamp_min(min_sin)


@_numpy_io
def reconstruct_bones(planar, theta, min_sin: float = 1e-6) -> torch.Tensor:
    """Rebuild 3D bone vectors from their 2D parts and a polar angle.

    Args:
        planar: (..., 2) = (phi, |b_xy|) as returned by :func:`planar_parts`.
        theta: (...) polar angles (e.g. bin centres).
    Returns:
        (..., 3) = (|b_xy| cos phi, |b_xy| sin phi, |b_xy| / tan theta).  With the true theta this is
        the original bone exactly (up to the ``min_sin`` clamp).
    """
    planar = _check_tensor(planar, "planar", last_dims=(2,))
    phi, r_xy = planar.unbind(-1)
    return torch.stack([r_xy * torch.cos(phi), r_xy * torch.sin(phi), depth_from_theta(r_xy, theta, min_sin)], dim=-1)


# ------------------------------------------------------------------------------------ bone tokens
def at_child_joints(per_bone: torch.Tensor) -> torch.Tensor:
    """Place per-bone rows at their child joints and a zero row at the root.

    (..., J - 1, C) -> (..., J, C).  Bone k (ordered by child) ends in joint k + 1, so this is a
    zero row prepended.  The official MDTF code omits the shift and puts bone k at token k.
    """
    pad = torch.zeros_like(per_bone[..., :1, :])
    return torch.cat([pad, per_bone], dim=-2)


@_numpy_io
def bone_tokens(joints_2d, theta_hat, parents: Sequence[int] = PARENTS, min_sin: float = 1e-6) -> torch.Tensor:
    """The bone stream's input: (phi / pi, theta_hat / pi, length_hat) per joint token, root zero.

    Args:
        joints_2d: (..., J, 2) or (..., J, 3) pose; channels x, y are used (e.g. the network input).
        theta_hat: (..., J) polar angle per joint token, i.e. of the bone ending in that joint (the BAM
            predicts one per token; entry 0 is ignored).  Use :func:`bin_to_theta` on class indices.
    Returns:
        (..., J, 3) float tokens: row j >= 1 describes the bone ending in joint j; row 0 is zero.
    """
    joints_2d, parents = _check_joints(joints_2d, parents, "joints_2d")
    theta_hat = _check_tensor(theta_hat, "theta_hat").to(joints_2d)
    if theta_hat.shape != joints_2d.shape[:-1]:
        raise ValueError(
            f"theta_hat has shape {tuple(theta_hat.shape)}, expected {tuple(joints_2d.shape[:-1])} "
            "(one angle per joint token, the bone ending in that joint)"
        )
    phi, r_xy = planar_parts(joints_2d, parents).unbind(-1)  # (..., J - 1) each
    theta_b = theta_hat[..., 1:]  # the bone ending in joint j sits at j
    per_bone = torch.stack([phi / math.pi, theta_b / math.pi, length_from_theta(r_xy, theta_b, min_sin)], -1)
    return at_child_joints(per_bone)


# ------------------------------------------------------------------------------ editing a pose
def _bone_indices(bones, n_bones: int) -> list[int]:
    """Bones named by their child joint (1..J-1) -> row indices (0..J-2)."""
    idx = [int(b) for b in ([bones] if isinstance(bones, (int, np.integer)) else bones)]
    bad = [b for b in idx if not 1 <= b <= n_bones]
    if bad:
        raise ValueError(f"bones are named by their child joint, 1..{n_bones}; got {bad}")
    return [b - 1 for b in idx]


@_numpy_io
def flip_bone_depth(joints_3d, bones, parents: Sequence[int] = PARENTS) -> torch.Tensor:
    """The depth-ambiguous twin of a pose: the chosen bones tilt the other way (theta -> pi - theta).

    Negating a bone's depth component keeps its x, y, so every joint keeps its image position under
    an orthographic (2.5D) projection while the 3D pose changes: the ambiguity BAM must resolve.

    Args:
        joints_3d: (..., J, 3).  bones: child joint(s) of the bones to flip, e.g. ``[13, 16]`` (forearms).
    Returns:
        (..., J, 3) with the same root and the same x, y for every joint.
    """
    joints_3d, parents = _check_joints(joints_3d, parents, "joints_3d", dims=(3,))
    b = bone_vectors(joints_3d, parents).clone()
    rows = _bone_indices(bones, len(parents) - 1)
    b[..., rows, 2] = -b[..., rows, 2]
    return joints_from_bones(b, joints_3d[..., 0, :], parents)


@_numpy_io
def set_bone_direction(
    joints_3d, bone: int, phi: float, theta: float, parents: Sequence[int] = PARENTS
) -> torch.Tensor:
    """Point one bone (named by its child joint) along (phi, theta), keeping its length; the joints
    below it move rigidly with it.  (..., J, 3) -> (..., J, 3)."""
    joints_3d, parents = _check_joints(joints_3d, parents, "joints_3d", dims=(3,))
    (row,) = _bone_indices([bone], len(parents) - 1)
    b = bone_vectors(joints_3d, parents).clone()
    sph = to_spherical(b[..., row, :])
    sph = torch.stack(
        [torch.full_like(sph[..., 0], float(phi)), torch.full_like(sph[..., 1], float(theta)), sph[..., 2]], dim=-1
    )
    b[..., row, :] = from_spherical(sph)
    return joints_from_bones(b, joints_3d[..., 0, :], parents)
