"""Plotly figures for notebook 03 (pure functions returning ``go.Figure``): scan schedules and costs."""

from __future__ import annotations

import plotly.graph_objects as go


def scan_schedule_figure(levels: list[list[tuple[int, int]]], length: int, title: str) -> go.Figure:
    """Draw a scan schedule: time steps 0..L-1 across, levels downward, one arrow per combine.

    Args: levels: per level, (source, destination) index pairs (from ``mdtf_lite.ssm.scans``).
    """
    fig = go.Figure()
    xs, ys = [], []
    for depth, level in enumerate(levels):
        for src, dst in level:
            xs += [src, dst, None]
            ys += [-depth, -(depth + 1), None]
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=1.5, color="#1f77b4"), hoverinfo="skip", name="combine")
    )
    grid_x = [t for _ in range(len(levels) + 1) for t in range(length)]
    grid_y = [-d for d in range(len(levels) + 1) for _ in range(length)]
    fig.add_trace(go.Scatter(x=grid_x, y=grid_y, mode="markers", marker=dict(size=7, color="#444"), name="element"))
    work = sum(len(lv) for lv in levels)
    fig.update_layout(
        title=f"{title}: {len(levels)} levels, {work} combines (L = {length})",
        xaxis_title="time step t",
        yaxis_title="level",
        height=260 + 18 * len(levels),
        showlegend=False,
        margin=dict(l=40, r=10, t=50, b=40),
    )
    fig.update_yaxes(tickvals=[-d for d in range(len(levels) + 1)], ticktext=[str(d) for d in range(len(levels) + 1)])
    return fig


def cost_figure(lengths, series: dict[str, list[float]], y_title: str, title: str) -> go.Figure:
    """Log-log lines of a cost (time or memory) against L, one line per method."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=list(lengths), y=list(values), mode="lines+markers", name=name))
    fig.update_layout(
        title=title,
        xaxis_title="sequence length L",
        yaxis_title=y_title,
        height=360,
        margin=dict(l=50, r=10, t=50, b=40),
    )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig
