"""Figures of notebook 09: time/memory scaling with T, and accuracy vs cost of MDTF and its peers.

Pure functions: rows in (lists of dicts as ``mdtf_lite.bench.scaling.measure_scaling`` and
``mdtf_lite.bench.peers.PEERS`` produce them), ``go.Figure`` out.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["scaling_figure", "peers_figure", "loglog_slope", "ablation_figure"]

MIXER_STYLE = {
    "mamba": {"name": "BiMamba (MDTF temporal block)", "color": "#1f77b4"},
    "attention": {"name": "self-attention (fused SDPA)", "color": "#d62728"},
    "naive_attention": {"name": "self-attention (T x T in memory)", "color": "#ff7f0e"},
}


def loglog_slope(lengths, values, last: int = 3) -> float:
    """Slope of log(value) against log(T) over the ``last`` longest lengths (1 = linear, 2 = quadratic)."""
    t = np.log(np.asarray(lengths, dtype=np.float64)[-last:])
    v = np.log(np.maximum(np.asarray(values, dtype=np.float64)[-last:], 1e-12))
    if len(t) < 2:
        raise ValueError("need at least two lengths to fit a slope")
    return float(np.polyfit(t, v, 1)[0])


def scaling_figure(rows: list[dict], title: str | None = None) -> go.Figure:
    """Two log-log panels, seconds and peak MB against T, one line per mixer, with slope-1/2 guides.

    ``rows``: dicts with mixer, T, seconds, peak_mb (``measure_scaling``'s output).
    """
    if not rows:
        raise ValueError("no measurements to plot")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("time per forward pass (s)", "extra peak memory (MB)"))
    mixers = list(dict.fromkeys(r["mixer"] for r in rows))
    all_t = sorted({r["T"] for r in rows})
    for mixer in mixers:
        sel = sorted((r for r in rows if r["mixer"] == mixer), key=lambda r: r["T"])
        style = MIXER_STYLE.get(mixer, {"name": mixer, "color": None})
        for col, key in ((1, "seconds"), (2, "peak_mb")):
            fig.add_trace(
                go.Scatter(
                    x=[r["T"] for r in sel],
                    y=[max(r[key], 1e-3) for r in sel],
                    mode="lines+markers",
                    name=style["name"],
                    legendgroup=mixer,
                    showlegend=col == 1,
                    line={"color": style["color"]},
                    hovertemplate="T=%{x}: %{y:.3g}<extra>" + style["name"] + "</extra>",
                ),
                row=1,
                col=col,
            )
    # guides: slope 1 and slope 2 through the first Mamba time point
    first = min((r for r in rows if r["mixer"] == mixers[0]), key=lambda r: r["T"])
    t0, s0 = first["T"], max(first["seconds"], 1e-4)
    for power, dash in ((1, "dot"), (2, "dash")):
        fig.add_trace(
            go.Scatter(
                x=all_t,
                y=[s0 * (t / t0) ** power for t in all_t],
                mode="lines",
                name=f"~T^{power}",
                line={"color": "#999999", "dash": dash, "width": 1},
            ),
            row=1,
            col=1,
        )
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="clip length T (frames)", row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_layout(
        height=420, title=title, legend={"orientation": "h", "y": -0.25}, margin={"l": 50, "r": 10, "t": 60, "b": 10}
    )
    return fig


def peers_figure(peers: list[dict], measured: list[dict] | None = None) -> go.Figure:
    """MPJPE against MACs per frame (log x), marker area ~ parameters; ``measured`` rows are drawn as
    open markers at their measured MACs (their P1 is the paper's; nothing is trained here)."""
    rows = [p for p in peers if p.get("macs_m") and p.get("p1_mm")]
    if not rows:
        raise ValueError("no peer has both MACs and P1")
    size = [8 + 6 * math.sqrt(p["params_m"] or 1.0) for p in rows]
    colors = ["#1f77b4" if p["method"].startswith("MDTF") else "#7f7f7f" for p in rows]
    fig = go.Figure(
        go.Scatter(
            x=[p["macs_m"] for p in rows],
            y=[p["p1_mm"] for p in rows],
            mode="markers+text",
            text=[p["method"] for p in rows],
            textposition="top center",
            name="published",
            marker={"size": size, "color": colors, "opacity": 0.8},
            customdata=[p["params_m"] for p in rows],
            hovertemplate="%{text}<br>%{x} M MACs/frame<br>P1 %{y} mm<br>%{customdata} M params<extra></extra>",
        )
    )
    if measured:
        fig.add_trace(
            go.Scatter(
                x=[m["macs_m"] for m in measured],
                y=[m["p1_mm"] for m in measured],
                mode="markers",
                name="counted here (mdtf_lite)",
                text=[m["method"] for m in measured],
                marker={"size": 14, "symbol": "circle-open", "color": "#2ca02c", "line": {"width": 3}},
                hovertemplate="%{text}: %{x:.1f} M MACs/frame (counted)<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis={"type": "log", "title": {"text": "MACs per frame (millions, log)"}},
        yaxis={"title": {"text": "Human3.6M MPJPE, P1 (mm, lower is better)"}},
        height=460,
        margin={"l": 60, "r": 10, "t": 30, "b": 50},
        legend={"x": 0.75, "y": 0.98},
    )
    return fig


def ablation_figure(rows: list[dict], title: str | None = None) -> go.Figure:
    """P1 and P2 (mm) per ablation variant as grouped bars, parameters in the hover.

    ``rows``: ``mdtf_lite.train.ablation`` rows (variant, params, p1_mm, p2_mm, p1_spread, ...); the seed
    spread is drawn as error bars; variants without a validation figure are drawn empty.
    """
    if not rows:
        raise ValueError("no ablation rows to plot")
    names = [r["variant"] for r in rows]
    fig = go.Figure()
    for key, label, color in (("p1_mm", "P1 (MPJPE)", "#1f77b4"), ("p2_mm", "P2 (P-MPJPE)", "#9ecae1")):
        spread = [r.get(key.replace("_mm", "_spread")) for r in rows]
        fig.add_trace(
            go.Bar(
                x=names,
                y=[r.get(key) for r in rows],
                name=label,
                marker_color=color,
                error_y={"type": "data", "array": [s or 0.0 for s in spread], "visible": any(spread)},
                customdata=[r.get("params") for r in rows],
                hovertemplate="%{x}: %{y:.1f} mm<br>%{customdata} params<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=380,
        title=title,
        yaxis={"title": {"text": "mm (lower is better)"}},
        margin={"l": 60, "r": 10, "t": 40 if title else 10, "b": 40},
    )
    return fig
