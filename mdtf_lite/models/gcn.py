"""Graph convolution over the 17-joint skeleton (the "G" of GEM) and its depthwise-conv stand-in.

    A_norm = D^-1/2 A D^-1/2          A: symmetric 0/1 skeleton adjacency, NO self loops (J, J)
    g(x)   = ReLU(x + BN(A_norm V(x) + U(x)))

``V`` carries a joint's features to its skeletal neighbours (message passing, one hop), ``U`` is the
joint's own update (the self loop lives here and in the residual ``x``), and ``BN`` is a
BatchNorm1d over the joint axis (17 channels: one scale/shift per joint), as in the official code.

The backward direction of GEM scans the joints in reversed order (position i holds joint 16 - i),
so its GCN uses the re-indexed adjacency ``A[rev][:, rev]`` -- same graph, new numbering.

Glossary (``mdtf_lite``): B batch (here clips x frames), J joints (17), C channels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from mdtf_lite.skeleton import NUM_JOINTS, adjacency

__all__ = ["normalized_adjacency", "skeleton_adjacency", "reversed_order", "SkeletonGCN", "JointDepthwiseConv"]


def reversed_order(num_joints: int = NUM_JOINTS) -> tuple[int, ...]:
    """(16, 15, ..., 0): the joint that sits at each position of the backward scan."""
    return tuple(range(num_joints - 1, -1, -1))


def normalized_adjacency(adj) -> np.ndarray:
    """Symmetric normalisation D^-1/2 A D^-1/2 of a (J, J) adjacency; isolated nodes get a zero row.

    Args:
        adj: (J, J) array-like, symmetric, non-negative.
    Returns:
        (J, J) float64 array.
    """
    a = np.asarray(adj, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square (J, J) matrix, got shape {a.shape}")
    if not np.allclose(a, a.T):
        raise ValueError("adjacency must be symmetric (an undirected skeleton graph)")
    if (a < 0).any():
        raise ValueError("adjacency must be non-negative")
    deg = a.sum(axis=1)
    inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
    return inv_sqrt[:, None] * a * inv_sqrt[None, :]


def skeleton_adjacency(reverse: bool = False) -> np.ndarray:
    """Normalised H36M adjacency without self loops, (17, 17); ``reverse`` re-indexes it j -> 16 - j."""
    return normalized_adjacency(adjacency(self_loops=False, order=reversed_order() if reverse else None))


class SkeletonGCN(nn.Module):
    """One residual graph-convolution layer, (B, J, C) -> (B, J, C).

    Args:
        dim: C.
        adj: (J, J) adjacency *already normalised* (e.g. ``skeleton_adjacency(reverse=...)``).

    Parameters: U, V Linear(C, C) with bias (2 C^2 + 2 C) and BatchNorm1d(J) (2 J) -> 8,354 for C = 64.
    """

    def __init__(self, dim: int, adj):
        super().__init__()
        a = torch.as_tensor(np.asarray(adj), dtype=torch.float32)
        if a.dim() != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"SkeletonGCN: adj must be (J, J), got {tuple(a.shape)}")
        self.num_joints = a.shape[0]
        self.register_buffer("adj", a, persistent=False)  # a constant of the skeleton, not a weight
        self.U = nn.Linear(dim, dim)
        self.V = nn.Linear(dim, dim)
        self.bn = nn.BatchNorm1d(self.num_joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, J, C) -> (B, J, C)."""
        if x.dim() != 3 or x.shape[1] != self.num_joints:
            raise ValueError(
                f"SkeletonGCN expects (B, J={self.num_joints}, C), got {tuple(x.shape)}; "
                "it mixes along the joint axis, so it only fits spatial (per-frame) sequences"
            )
        messages = torch.einsum("ij,bjc->bic", self.adj.to(x.dtype), self.V(x))
        return torch.relu(x + self.bn(messages + self.U(x)))


class JointDepthwiseConv(nn.Module):
    """Ablation stand-in for the GCN: the same residual form with a depthwise conv along joint order.

    g(x) = ReLU(x + BN(DWConv_k(x))) with a centred (non-causal) kernel ``k`` over the J positions:
    a joint sees its index neighbours, not its skeletal neighbours.  (B, J, C) -> (B, J, C).
    """

    def __init__(self, dim: int, num_joints: int = NUM_JOINTS, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"JointDepthwiseConv: kernel_size must be odd (centred), got {kernel_size}")
        self.num_joints = num_joints
        self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.bn = nn.BatchNorm1d(num_joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, J, C) -> (B, J, C)."""
        if x.dim() != 3 or x.shape[1] != self.num_joints:
            raise ValueError(f"JointDepthwiseConv expects (B, J={self.num_joints}, C), got {tuple(x.shape)}")
        return torch.relu(x + self.bn(self.conv(x.transpose(1, 2)).transpose(1, 2)))
