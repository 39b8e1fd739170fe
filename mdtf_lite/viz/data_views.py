"""Figures and a viewer for notebook 01 (data): the four camera views, the capture rig, statistics,
and an interactive 3D + 2D viewer with a camera selector.

Pure functions return ``go.Figure``; :class:`CameraViewer` is an :class:`~mdtf_lite.viz.animated.AnimatedViewer`
(a figure with frames that plays in the browser, and a camera picker).
World poses are Human3.6M world coordinates (metres, Z up); they are drawn with the skeleton traces of
:mod:`mdtf_lite.viz.skeleton` after the proper rotation ``world_as_camera`` ((X, Y, Z) -> (X, -Z, Y)),
whose upright plot map gives back (X, Y, Z).

Shapes: a world pose (17, 3) or sequence (T, 17, 3); 2D keypoints (T, 17, 2|3) pixels.
"""

from __future__ import annotations

import copy

import numpy as np
import plotly.graph_objects as go

from mdtf_lite.data.cameras import h36m_cameras
from mdtf_lite.data.geometry import project, world_to_camera
from mdtf_lite.viz.animated import AnimatedViewer, as_index, skeleton_coords
from mdtf_lite.viz.fallback import figure_json
from mdtf_lite.viz.skeleton import TRACES_PER_SKELETON, skeleton_2d_traces, skeleton_traces, to_plot_coords

__all__ = ["world_as_camera", "four_views_figure", "rig_figure", "histogram_figure", "realism_figure", "CameraViewer"]


def world_as_camera(world) -> np.ndarray:
    """(…, 3) world (Z up) -> coordinates that the skeleton traces draw as (X, Y, Z) upright."""
    w = np.asarray(world, dtype=np.float64)
    return np.stack([w[..., 0], -w[..., 2], w[..., 1]], axis=-1)


def four_views_figure(world_pose, subject: str = "S1", title: str | None = None) -> go.Figure:
    """One world pose (17, 3) projected into the 4 cameras of ``subject``: a 2 x 2 grid of images (pixels)."""
    from plotly.subplots import make_subplots

    cams = h36m_cameras(subject)
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[f"camera {c.index} ({c.id})" for c in cams],
        horizontal_spacing=0.06,
        vertical_spacing=0.1,
    )
    for c in cams:
        uv = project(world_to_camera(np.asarray(world_pose, float), c), c)
        r, k = c.index // 2 + 1, c.index % 2 + 1
        for t in skeleton_2d_traces(uv, f"camera {c.index}", legend=False):
            fig.add_trace(t, row=r, col=k)
        fig.update_xaxes(range=[0, c.res_w], row=r, col=k)
        fig.update_yaxes(range=[c.res_h, 0], scaleanchor=f"x{c.index + 1 if c.index else ''}", row=r, col=k)
    fig.update_layout(
        height=700,
        title=title or f"one pose seen by the four cameras of {subject} (pixels)",
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return fig


def _camera_markers(subject: str) -> list[go.Scatter3d]:
    traces = []
    for c in h36m_cameras(subject):
        look = c.t + c.R @ np.array([0, 0, 1.0])  # 1 m along the optical axis
        traces.append(
            go.Scatter3d(
                x=[c.t[0], look[0]],
                y=[c.t[1], look[1]],
                z=[c.t[2], look[2]],
                mode="lines+markers+text",
                text=[f"cam {c.index}", ""],
                marker={"size": [6, 2], "color": "#9467bd"},
                line={"color": "#9467bd"},
                name=f"camera {c.index}",
                showlegend=False,
            )
        )
    return traces


def rig_figure(world_seq, subject: str = "S1", frame: int = 0, title: str | None = None) -> go.Figure:
    """The capture room: the 4 cameras of ``subject`` (position + viewing direction), the pelvis
    trajectory and the skeleton at ``frame`` (world metres, Z up)."""
    w = np.asarray(world_seq, float)
    w = w[None] if w.ndim == 2 else w
    fig = go.Figure(skeleton_traces(world_as_camera(w[frame]), "pose", legend=False))
    fig.add_trace(
        go.Scatter3d(
            x=w[:, 0, 0], y=w[:, 0, 1], z=np.zeros(len(w)), mode="lines", name="pelvis path", line={"color": "#2ca02c"}
        )
    )
    fig.add_traces(_camera_markers(subject))
    fig.update_layout(
        height=520,
        title=title or f"capture room of {subject} (world metres, Z up)",
        scene={"aspectmode": "data", "xaxis_title": "X", "yaxis_title": "Y", "zaxis_title": "Z up"},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
    )
    return fig


def histogram_figure(samples: dict, title: str = "", unit: str = "", bins: int = 60) -> go.Figure:
    """Overlaid normalised histograms of 1-D samples ``{label: (n,)}`` (e.g. default vs CMU)."""
    fig = go.Figure()
    for label, x in samples.items():
        fig.add_trace(
            go.Histogram(x=np.asarray(x, float), name=label, histnorm="probability density", nbinsx=bins, opacity=0.55)
        )
    fig.update_layout(
        barmode="overlay", title=title, xaxis_title=unit, height=320, margin={"l": 40, "r": 10, "t": 40, "b": 40}
    )
    return fig


class CameraViewer(AnimatedViewer):
    """3D world skeleton (with the camera rig) beside the 2D view of a selectable camera; plays in the browser.

    An :class:`~mdtf_lite.viz.animated.AnimatedViewer`: plotly's play/pause and frame slider run
    client-side (JupyterLab and exported HTML); the camera picker re-renders from Python.  ``views`` is a
    list of 4 arrays (T, 17, 2|3) pixels (e.g. GT or detections), ``world`` (T, 17, 3) metres.  At most
    ``max_frames`` frames are embedded (evenly subsampled, real time kept; about 2.4 kB per frame).
    Headless runs call ``show_frame`` / ``set_camera`` directly and check ``figure`` (traces: 2D bones per
    side and joints, the same in 3D, then the 4 camera markers) and ``slider_frame``.
    """

    def __init__(
        self, world, views, subject: str = "S1", fps: float = 25.0, height: int = 520, max_frames: int | None = 150
    ):
        import ipywidgets as W
        from plotly.subplots import make_subplots

        self.world = np.asarray(world, float)
        if self.world.ndim != 3 or self.world.shape[1:] != (17, 3) or not np.isfinite(self.world).all():
            raise ValueError(f"world must be finite (T, 17, 3) metres, got shape {self.world.shape}")
        self.views = [np.asarray(v, float)[..., :2] for v in views]
        if any(v.shape != (len(self.world), 17, 2) for v in self.views):
            raise ValueError(
                f"every camera view must be (T, 17, 2|3) with T = {len(self.world)} (the world "
                f"poses' frames), got {[v.shape for v in self.views]}"
            )
        super().__init__(len(self.world), fps=fps, max_frames=max_frames)
        self.cameras = h36m_cameras(subject)
        self.camera = 0
        self._plot = to_plot_coords(world_as_camera(self.world))  # (T, 17, 3): the 3D traces' coordinates
        fig = make_subplots(
            rows=1,
            cols=2,
            specs=[[{"type": "xy"}, {"type": "scene"}]],
            subplot_titles=["2D (pixels)", "3D (world, metres)"],
            column_widths=[0.45, 0.55],
        )
        for t in skeleton_2d_traces(self.views[0][0], "2D", legend=False):
            fig.add_trace(t, row=1, col=1)
        for t in skeleton_traces(world_as_camera(self.world[0]), "3D", legend=False):
            fig.add_trace(t, row=1, col=2)
        for t in _camera_markers(subject):
            fig.add_trace(t, row=1, col=2)
        lo, hi = self.world.reshape(-1, 3).min(0), self.world.reshape(-1, 3).max(0)
        half = max(float((hi - lo)[:2].max()) / 2 + 0.3, 1.0)
        c = (lo + hi) / 2
        fig.update_layout(
            height=height,
            showlegend=False,
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            scene={
                "xaxis": {"range": [c[0] - half, c[0] + half]},
                "yaxis": {"range": [c[1] - half, c[1] + half]},
                "zaxis": {"range": [0, max(2.0, float(hi[2]) + 0.2)]},
                "aspectmode": "manual",
                "aspectratio": {"x": 1, "y": 1, "z": max(2.0, float(hi[2]) + 0.2) / (2 * half)},
            },
        )
        self._base = figure_json(fig)
        self.camera_picker = W.Dropdown(
            options=[(f"camera {c.index} ({c.id})", c.index) for c in self.cameras], value=0, description="camera"
        )
        self.camera_picker.observe(lambda ch: ch["new"] != self.camera and self.set_camera(ch["new"]), names="value")
        self.widget = W.VBox([self.camera_picker, self.output])
        self._render()

    def set_camera(self, index: int) -> None:
        """Show the 2D view of camera ``index`` (0..3) (re-renders)."""
        self.camera = as_index(index, len(self.views), "camera")
        self.camera_picker.value = self.camera
        self._render()

    # ---------------------------------------------------------------------------------- AnimatedViewer hooks
    def _styled_figure(self) -> dict:
        fig = copy.deepcopy(self._base)
        cam = self.cameras[self.camera]
        fig["layout"]["xaxis"]["range"] = [0, cam.res_w]
        fig["layout"]["yaxis"]["range"] = [cam.res_h, 0]  # image rows grow downwards
        return fig

    def _moving_traces(self) -> list[int]:
        return list(range(2 * TRACES_PER_SKELETON))

    def _coords(self, t: int) -> list[dict]:
        return skeleton_coords(self.views[self.camera][t]) + skeleton_coords(self._plot[t])


def realism_figure(default_stats: dict, cmu_stats: dict, labels=("default", "CMU"), bins: int = 45) -> go.Figure:
    """Per-joint angle histograms (knee, elbow, hip, shoulder, spine; degrees) and joint-speed spectra
    (pelvis, wrists, ankles, head; normalised power vs Hz) of two ``bench.data.realism_stats`` outputs,
    one panel each, the medians drawn as dashed lines.  Inputs: ``{"angles": {joint: (n,)},
    "spectra": {group: (freqs (F,), power (F,))}}``."""
    from plotly.subplots import make_subplots

    joints, groups = list(default_stats["angles"]), list(default_stats["spectra"])
    titles = [f"{j} angle (deg)" for j in joints] + [f"{g} speed spectrum" for g in groups]
    cols = 5
    fig = make_subplots(
        rows=2,
        cols=cols,
        subplot_titles=titles + [""] * (2 * cols - len(titles)),
        horizontal_spacing=0.05,
        vertical_spacing=0.16,
    )
    colors = ("#1f77b4", "#d62728")
    for i, j in enumerate(joints):
        for k, stats in enumerate((default_stats, cmu_stats)):
            x = np.asarray(stats["angles"][j], float)
            fig.add_trace(
                go.Histogram(
                    x=x,
                    xbins={"start": 0, "end": 180, "size": 180 / bins},
                    histnorm="probability density",
                    name=labels[k],
                    legendgroup=labels[k],
                    showlegend=i == 0,
                    opacity=0.55,
                    marker_color=colors[k],
                ),
                row=1,
                col=i + 1,
            )
            fig.add_vline(x=float(np.median(x)), line_dash="dash", line_color=colors[k], row=1, col=i + 1)
    for i, g in enumerate(groups):
        for k, stats in enumerate((default_stats, cmu_stats)):
            f, p = stats["spectra"][g]
            fig.add_trace(
                go.Scatter(
                    x=f,
                    y=p,
                    mode="lines",
                    name=labels[k],
                    legendgroup=labels[k],
                    showlegend=False,
                    line={"color": colors[k]},
                ),
                row=2,
                col=i + 1,
            )
        fig.update_xaxes(range=[0, 6], title_text="Hz", row=2, col=i + 1)
    fig.update_layout(
        barmode="overlay",
        height=560,
        title=f"{labels[0]} vs {labels[1]}: joint angles and speed spectra",
        margin={"l": 30, "r": 10, "t": 70, "b": 30},
    )
    return fig
