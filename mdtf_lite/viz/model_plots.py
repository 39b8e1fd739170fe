"""Pictures and small analyses of the spatial mixers (notebooks 04 and 05); pure functions -> go.Figure.

* ``conv_window`` / ``skeletal_neighbours`` / ``edges_missed_by_conv``: which joints a kernel-K causal
  conv over joint order sees, versus the joints the skeleton connects.
* ``joint_influence``: |d y_i / d x_j| summed over channels for a (1, J, C) -> (1, J, C) mixer.
* ``adjacency_figure``, ``receptive_field_figure``, ``influence_figure``: plotly figures.

Glossary (``mdtf_lite``): J joints (17), C channels, K conv kernel.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from mdtf_lite.skeleton import BONES, JOINT_NAMES, NUM_JOINTS, rest_pose

__all__ = [
    "conv_window",
    "skeletal_neighbours",
    "edges_missed_by_conv",
    "joint_influence",
    "adjacency_figure",
    "receptive_field_figure",
    "influence_figure",
]


def conv_window(joint: int, kernel: int = 4, reverse: bool = False) -> list[int]:
    """Joints a causal conv of width ``kernel`` mixes into ``joint``'s position.

    Forward scan order 0..16: joints joint-K+1 .. joint.  Backward (reversed) order: joint .. joint+K-1.
    """
    if reverse:
        return list(range(joint, min(NUM_JOINTS, joint + kernel)))
    return list(range(max(0, joint - kernel + 1), joint + 1))


def skeletal_neighbours(joint: int) -> list[int]:
    """Joints sharing a bone with ``joint`` (what the GCN mixes in), sorted."""
    return sorted({p for p, c in BONES if c == joint} | {c for p, c in BONES if p == joint})


def edges_missed_by_conv(kernel: int = 4) -> list[tuple[int, int]]:
    """Bones (parent, child) whose two joints never share a causal-conv window in either direction."""
    return [
        (p, c) for p, c in BONES if p not in conv_window(c, kernel) and c not in conv_window(p, kernel, reverse=True)
    ]


def joint_influence(mixer: torch.nn.Module, x: torch.Tensor, seed: int = 0) -> np.ndarray:
    """(J, J) matrix M[i, j] = sum_c' |d <w_i, y[0, i]> / d x[0, j, c']| of a mixer at input x (1, J, C).

    One backward pass per output joint i, with a random unit probe w_i over its channels (the full
    Jacobian would need J*C passes).  M[i, j] is exactly 0 when output i cannot depend on input j, and
    (almost surely) positive when it does, so the zero pattern is the mixer's receptive field.
    """
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"joint_influence expects x of shape (1, J, C), got {tuple(x.shape)}")
    gen = torch.Generator().manual_seed(seed)
    x = x.detach().clone().requires_grad_(True)
    y = mixer(x)[0]  # (J, C)
    rows = []
    for i in range(y.shape[0]):
        w = torch.randn(y.shape[1], generator=gen)
        (g,) = torch.autograd.grad(y[i] @ (w / w.norm()), x, retain_graph=True)
        rows.append(g[0].abs().sum(-1))
    return torch.stack(rows).detach().numpy()


def adjacency_figure(matrices: dict[str, np.ndarray], title: str | None = None) -> go.Figure:
    """Side-by-side heatmaps of (J, J) matrices, joints labelled ``index name``."""
    names = list(matrices)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.08)
    for k, name in enumerate(names, start=1):
        m = np.asarray(matrices[name], dtype=float)
        labels = [str(i) for i in range(m.shape[0])]
        fig.add_trace(
            go.Heatmap(
                z=m,
                x=labels,
                y=labels,
                colorscale="Blues",
                showscale=k == len(names),
                hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=k,
        )
        fig.update_yaxes(autorange="reversed", row=1, col=k)
    fig.update_layout(title=title, height=380, width=380 * len(names) + 80, margin=dict(l=30, r=30, t=60, b=30))
    return fig


def receptive_field_figure(joint: int, kernel: int = 4) -> go.Figure:
    """The skeleton (rest pose, front view) with what ``joint`` mixes in: conv windows vs GCN neighbours."""
    pose = rest_pose()
    xs, ys = pose[:, 0], -pose[:, 1]
    fwd, bwd, gcn = (
        set(conv_window(joint, kernel)),
        set(conv_window(joint, kernel, reverse=True)),
        set(skeletal_neighbours(joint)),
    )
    fig = go.Figure()
    for p, c in BONES:
        fig.add_trace(
            go.Scatter(
                x=[xs[p], xs[c]],
                y=[ys[p], ys[c]],
                mode="lines",
                line=dict(color="#bbbbbb", width=4),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    groups = {
        "the joint": ({joint}, "#d62728", 20),
        f"GCN: skeletal neighbours {sorted(gcn)}": (gcn, "#2ca02c", 16),
        f"forward causal conv k={kernel}: {sorted(fwd - {joint})}": (fwd - {joint}, "#1f77b4", 12),
        f"backward causal conv k={kernel}: {sorted(bwd - {joint})}": (bwd - {joint}, "#9467bd", 9),
    }
    for label, (members, color, size) in groups.items():
        idx = sorted(members)
        fig.add_trace(
            go.Scatter(
                x=xs[idx],
                y=ys[idx],
                mode="markers",
                name=label,
                marker=dict(color=color, size=size, line=dict(color="white", width=1)),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="text",
            text=[str(i) for i in range(NUM_JOINTS)],
            textposition="middle right",
            hovertext=list(JOINT_NAMES),
            showlegend=False,
        )
    )
    fig.update_layout(
        title=f"What joint {joint} ({JOINT_NAMES[joint]}) mixes in before the scan",
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
        height=520,
        width=640,
        legend=dict(x=0.0, y=-0.05, orientation="v"),
    )
    return fig


def influence_figure(matrices: dict[str, np.ndarray], title: str | None = None) -> go.Figure:
    """Heatmaps of joint-influence matrices (rows: output joint i, columns: input joint j), log scale."""
    logged = {name: np.log10(np.asarray(m) + 1e-6) for name, m in matrices.items()}
    fig = adjacency_figure(logged, title=title or "log10 |dy_i/dx_j| (rows: output joint, columns: input joint)")
    fig.update_traces(colorscale="Viridis", hovertemplate="out %{y}, in %{x}: 10^%{z:.2f}<extra></extra>")
    return fig
