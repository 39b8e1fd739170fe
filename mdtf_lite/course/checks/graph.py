"""Auto-checkers for the skeleton-graph and fusion exercises (notebooks 04 and 05).

Student function signatures (numpy or torch in, same kind out; shapes use the ``mdtf_lite`` glossary):

    normalized_adjacency(adj)            adj (J, J) symmetric 0/1 numpy array -> (J, J) D^-1/2 A D^-1/2
    reversed_adjacency(adj)              adj (J, J) for joint order 0..J-1 -> (J, J) for the reversed
                                         order (position i holds joint J-1-i)
    fusion_gate(x_joint, x_bone, weight, bias)
                                         x_joint, x_bone (B, J, C) torch; weight (2, 2C), bias (2,)
                                         -> (B, J, C): alpha = softmax([x_joint, x_bone] @ weight.T + bias)
                                         over the last axis, out = alpha_0 x_joint + alpha_1 x_bone

Every checker runs the student's function on seeded cases (the skeleton and random graphs without
isolated nodes; random gates) and compares with the package's answer via ``run_check``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from mdtf_lite.course.checks import Case, run_check
from mdtf_lite.models.gcn import SkeletonGCN, normalized_adjacency
from mdtf_lite.models.mdtf import FusionGate
from mdtf_lite.skeleton import NUM_JOINTS, adjacency

__all__ = [
    "check_normalized_adjacency",
    "check_reversed_adjacency",
    "check_fusion_gate",
    "reference_normalized_adjacency",
    "reference_reversed_adjacency",
    "reference_fusion_gate",
    "check_bidirectional_merge",
    "reference_bidirectional_merge",
    "check_gcn_layer",
    "reference_gcn_layer",
]


def _random_graph(n: int, seed: int) -> np.ndarray:
    """Random connected undirected 0/1 graph (a random tree plus a few extra edges), (n, n)."""
    rng = np.random.default_rng(seed)
    a = np.zeros((n, n))
    for child in range(1, n):
        parent = rng.integers(0, child)
        a[parent, child] = a[child, parent] = 1.0
    for _ in range(n // 3):
        i, j = rng.choice(n, 2, replace=False)
        a[i, j] = a[j, i] = 1.0
    return a


def _graph_cases() -> list[tuple[np.ndarray]]:
    return [
        Case("the skeleton", (adjacency(),)),
        Case("the skeleton with self loops", (adjacency(self_loops=True),)),
        Case("a random graph of 7 nodes", (_random_graph(7, 1),)),
        Case("a random graph of 12 nodes", (_random_graph(12, 2),)),
    ]


def reference_normalized_adjacency(adj) -> np.ndarray:
    return normalized_adjacency(adj)


def reference_reversed_adjacency(adj) -> np.ndarray:
    a = np.asarray(adj)
    order = np.arange(a.shape[0])[::-1]
    return a[order][:, order]


def reference_fusion_gate(x_joint, x_bone, weight, bias) -> torch.Tensor:
    gate = FusionGate(x_joint.shape[-1])
    with torch.no_grad():
        gate.proj.weight.copy_(weight)
        gate.proj.bias.copy_(bias)
        return gate(x_joint, x_bone)


def check_normalized_adjacency(fn: Callable) -> None:
    """``fn(adj (J, J)) -> D^-1/2 A D^-1/2``, D the diagonal degree matrix (row sums of A)."""
    run_check(
        "normalized_adjacency",
        fn,
        reference_normalized_adjacency,
        _graph_cases(),
        rtol=1e-6,
        atol=1e-8,
        forbid=[normalized_adjacency],
        mistakes={
            "row normalisation A / deg: divide by sqrt(deg_i deg_j) instead": lambda a: (
                np.asarray(a) / np.asarray(a).sum(1, keepdims=True)
            )
        },
        hint="Divide entry (i, j) by sqrt(deg_i * deg_j), deg = A.sum(1); row normalisation A / deg "
        "is a different (non-symmetric) matrix.",
    )


def check_reversed_adjacency(fn: Callable) -> None:
    """``fn(adj (J, J)) -> adj re-indexed for the reversed joint order``."""
    cases = [
        Case("the skeleton", (adjacency(),)),
        Case("the normalised skeleton", (reference_normalized_adjacency(adjacency()),)),
    ] + _graph_cases()[2:]
    run_check(
        "reversed_adjacency",
        fn,
        reference_reversed_adjacency,
        cases,
        rtol=0,
        atol=0,
        mistakes={
            "only the rows are reversed: reverse the columns too": lambda a: np.asarray(a)[::-1],
            "only the columns are reversed: reverse the rows too": lambda a: np.asarray(a)[:, ::-1],
        },
        hint="Position i of the reversed sequence holds joint J-1-i, so entry (i, k) is A[J-1-i, J-1-k]: "
        "reverse BOTH the rows and the columns.",
    )


def check_fusion_gate(fn: Callable) -> None:
    """``fn(x_joint, x_bone, weight (2, 2C), bias (2,)) -> (B, J, C)`` softmax-gated mix."""
    cases = []
    for seed, c in ((0, 4), (1, 8), (2, 16)):
        g = torch.Generator().manual_seed(seed)
        xj, xb = torch.randn(2, NUM_JOINTS, c, generator=g), torch.randn(2, NUM_JOINTS, c, generator=g)
        cases.append(
            Case(f"random gate, C = {c}", (xj, xb, torch.randn(2, 2 * c, generator=g), torch.randn(2, generator=g)))
        )
    c = 8  # MDTF's initialisation: weight 0, bias 0.5 -> an exact 50/50 mix
    g = torch.Generator().manual_seed(3)
    cases.append(
        Case(
            "MDTF's initialisation (a 50/50 mix)",
            (
                torch.randn(1, NUM_JOINTS, c, generator=g),
                torch.randn(1, NUM_JOINTS, c, generator=g),
                torch.zeros(2, 2 * c),
                torch.full((2,), 0.5),
            ),
        )
    )

    def swapped(xj, xb, w, b):
        alpha = torch.softmax(torch.cat([xj, xb], -1) @ w.T + b, -1)
        return alpha[..., 1:] * xj + alpha[..., :1] * xb

    run_check(
        "fusion_gate",
        fn,
        reference_fusion_gate,
        cases,
        rtol=1e-5,
        atol=1e-6,
        forbid=[FusionGate],
        mistakes={"the two gate weights are swapped: alpha_0 goes with x_joint, alpha_1 with x_bone": swapped},
        hint="Concatenate [x_joint, x_bone] on the channel axis (joint first), apply the linear map, "
        "softmax over the 2 gate logits, then mix with alpha[..., 0:1] and alpha[..., 1:2].",
    )


def reference_bidirectional_merge(x, z, forward_dir, backward_dir):
    """The Mamba mixer's merge, written out: (f(x, z) + flip(b(flip(x), flip(z)))) / 2 along the sequence axis 1.

    x, z (B, L, D); forward_dir, backward_dir: callables (B, L, D), (B, L, D) -> (B, L, D).
    """
    return (forward_dir(x, z) + backward_dir(x.flip(1), z.flip(1)).flip(1)) / 2


def _causal_mixer(weight):
    """A small causal sequence mixer: y_t = sum_{k <= t} w^(t-k) * x_k * sigmoid(z_t)  (B, L, D)."""

    def mix(x, z):
        h, out = torch.zeros_like(x[:, 0]), []
        for t in range(x.shape[1]):
            h = weight * h + x[:, t]
            out.append(h * torch.sigmoid(z[:, t]))
        return torch.stack(out, 1)

    return mix


def check_bidirectional_merge(fn: Callable) -> None:
    """``fn(x, z, forward_dir, backward_dir) -> (B, L, D)``: the mean of the forward pass and the
    backward pass run on the reversed sequence and reversed back."""
    cases = {}
    for name, (b, length, d, seed) in {
        "B 2, L 5, D 3": (2, 5, 3, 0),
        "L 1": (1, 1, 4, 1),
        "B 3, L 8, D 2": (3, 8, 2, 2),
    }.items():
        g = torch.Generator().manual_seed(seed)
        x, z = (
            torch.randn(b, length, d, generator=g, dtype=torch.float64),
            torch.randn(b, length, d, generator=g, dtype=torch.float64),
        )
        cases[name] = (x, z, _causal_mixer(0.7), _causal_mixer(0.3))

    def no_flip_back(x, z, f, bw):
        return (f(x, z) + bw(x.flip(1), z.flip(1))) / 2

    def no_flip(x, z, f, bw):
        return (f(x, z) + bw(x, z)) / 2

    def z_not_flipped(x, z, f, bw):
        return (f(x, z) + bw(x.flip(1), z).flip(1)) / 2

    def summed(x, z, f, bw):
        return f(x, z) + bw(x.flip(1), z.flip(1)).flip(1)

    run_check(
        "bidirectional_merge",
        fn,
        reference_bidirectional_merge,
        cases,
        rtol=1e-9,
        atol=1e-12,
        mistakes={
            "the backward output is not flipped back: position t holds the answer for L-1-t": no_flip_back,
            "no flip at all: the backward direction then sees the same order as the forward one": no_flip,
            "the gate z must be reversed with x (it belongs to the same positions)": z_not_flipped,
            "summed, not averaged: divide by 2 as the Mamba mixer does": summed,
        },
        hint="y = (forward_dir(x, z) + backward_dir(x.flip(1), z.flip(1)).flip(1)) / 2",
    )


def reference_gcn_layer(x, adj, u_weight, u_bias, v_weight, v_bias):
    """MDTF's residual GCN layer without its BatchNorm, written out independently of the package.

    x (B, J, C); adj (J, J) normalised; u_weight, v_weight (C, C); u_bias, v_bias (C,) -> (B, J, C):
    relu(x + adj @ (x V^T + b_V) + (x U^T + b_U)): neighbours send V x, each joint keeps U x, plus the residual.
    """
    messages = torch.einsum("ij,bjc->bic", adj, x @ v_weight.T + v_bias)
    return torch.relu(x + messages + x @ u_weight.T + u_bias)


def check_gcn_layer(fn: Callable) -> None:
    """``fn(x (B, J, C), adj (J, J), u_weight, u_bias, v_weight, v_bias) -> (B, J, C)``."""
    cases = {}
    for name, (b, c, adj, seed) in {
        "the normalised skeleton, C 4": (2, 4, reference_normalized_adjacency(adjacency()), 0),
        "a random graph, C 6": (3, 6, reference_normalized_adjacency(_random_graph(9, 3)), 1),
        "a directed (row-normalised) graph, C 3": (
            1,
            3,
            (lambda a: a / a.sum(1, keepdims=True))(_random_graph(7, 4) + np.eye(7)),
            2,
        ),
    }.items():
        g = torch.Generator().manual_seed(seed)
        j = adj.shape[0]
        t = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
        cases[name] = (t(b, j, c), torch.as_tensor(adj, dtype=torch.float64), t(c, c), t(c), t(c, c), t(c))

    def no_residual(x, a, uw, ub, vw, vb):
        return torch.relu(torch.einsum("ij,bjc->bic", a, x @ vw.T + vb) + x @ uw.T + ub)

    def swapped(x, a, uw, ub, vw, vb):
        return reference_gcn_layer(x, a, vw, vb, uw, ub)

    def transposed_adj(x, a, uw, ub, vw, vb):
        return reference_gcn_layer(x, a.T, uw, ub, vw, vb)

    def no_relu(x, a, uw, ub, vw, vb):
        return x + torch.einsum("ij,bjc->bic", a, x @ vw.T + vb) + x @ uw.T + ub

    def weight_not_transposed(x, a, uw, ub, vw, vb):
        return reference_gcn_layer(x, a, uw.T, ub, vw.T, vb)

    run_check(
        "gcn_layer",
        fn,
        reference_gcn_layer,
        cases,
        rtol=1e-9,
        atol=1e-12,
        forbid=[SkeletonGCN],
        mistakes={
            "the residual x is missing: relu(x + ...)": no_residual,
            "U and V swapped: neighbours send V x (through adj), the joint itself adds U x": swapped,
            "adj transposed: joint i receives from j with weight adj[i, j] (adj @ messages)": transposed_adj,
            "the ReLU is missing": no_relu,
            "weights not transposed: a Linear computes x @ W^T + b": weight_not_transposed,
        },
        hint="messages = adj @ (x V^T + b_V) over the joint axis; out = relu(x + messages + x U^T + b_U).",
    )
