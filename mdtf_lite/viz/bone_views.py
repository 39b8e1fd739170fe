"""Figures and a widget about bones in spherical coordinates (notebook 02).

    depth_ambiguity_figure(a, b)      two 3D poses side by side + their (identical) 2D projection
    theta_histogram_figure(theta)     distribution of polar angles, coloured by BAM class
    confusion_figure(cm)              theta-class confusion matrix (row-normalised, with counts)
    BoneAngleWidget(pose)             pick a bone, slide theta / phi, watch the 3D skeleton and its 2D view

Projection: the 2D panels draw the pose's (x, y), i.e. the orthographic / 2.5D view in which a
bone's azimuth phi and in-plane length |b_xy| are exactly what the image shows.  Poses are camera
coordinates (x right, y down, z forward), drawn upright as in :mod:`mdtf_lite.viz.skeleton`.

Shapes: a pose is (J, 3) with J = 17; theta arrays any shape (radians); a confusion matrix (K, K).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mdtf_lite import bones as bn
from mdtf_lite.skeleton import JOINT_NAMES, PARENTS
from mdtf_lite.viz.fallback import FallbackVBox
from mdtf_lite.viz.skeleton import (
    SIDES,
    VIEWS,
    _as_sequence,
    _axis_2d_ranges,
    bone_lines,
    scene_ranges,
    skeleton_2d_traces,
    skeleton_traces,
    to_plot_coords,
)

__all__ = ["depth_ambiguity_figure", "theta_histogram_figure", "confusion_figure", "BoneAngleWidget", "CLASS_COLOURS"]

#: one colour per theta class (K <= 12), from "pointing away from the camera" to "towards it".
CLASS_COLOURS = (
    "#313695",
    "#4575b4",
    "#74add1",
    "#f46d43",
    "#d73027",
    "#a50026",
    "#7f3b08",
    "#b35806",
    "#e08214",
    "#8073ac",
    "#542788",
    "#2d004b",
)
HIGHLIGHT = "#9467bd"


def _scene(ranges: dict, view: str = "front") -> dict:
    axis = {"showbackground": True, "backgroundcolor": "#f4f4f4", "zeroline": False}
    return {
        "xaxis": {**axis, "title": {"text": "x"}, "range": ranges["x"]},
        "yaxis": {**axis, "title": {"text": "z depth"}, "range": ranges["y"]},
        "zaxis": {**axis, "title": {"text": "-y up"}, "range": ranges["z"]},
        "aspectmode": "cube",
        "camera": VIEWS[view],
    }


def _pose(pose, name: str) -> np.ndarray:
    return _as_sequence(pose, name, (3,))[0]


# ------------------------------------------------------------------------------ depth ambiguity
def depth_ambiguity_figure(
    pose_a, pose_b, labels: tuple[str, str] = ("pose A", "pose B"), view: str = "side", height: int = 440
) -> go.Figure:
    """Two 3D poses side by side and, on the right, both of their 2D projections overlaid.

    With ``pose_b = mdtf_lite.bones.flip_bone_depth(pose_a, ...)`` the two 2D skeletons coincide:
    the image alone cannot tell the poses apart.  (J, 3), (J, 3) -> Figure with 2 scenes and one 2D axis.
    """
    a, b = _pose(pose_a, "pose_a"), _pose(pose_b, "pose_b")
    fig = make_subplots(
        rows=1,
        cols=3,
        specs=[[{"type": "scene"}, {"type": "scene"}, {"type": "xy"}]],
        subplot_titles=(f"{labels[0]} (3D)", f"{labels[1]} (3D)", "both, projected to 2D"),
        column_widths=[0.36, 0.36, 0.28],
    )
    for col, (pose, label) in enumerate(((a, labels[0]), (b, labels[1])), start=1):
        for trace in skeleton_traces(pose, label, palette=col - 1):
            fig.add_trace(trace, row=1, col=col)
    for i, (pose, label) in enumerate(((a, labels[0]), (b, labels[1]))):
        for trace in skeleton_2d_traces(pose[:, :2], f"{label} 2D", palette=i):
            fig.add_trace(trace, row=1, col=3)
    ranges = scene_ranges(to_plot_coords(a), to_plot_coords(b))
    xr, yr = _axis_2d_ranges([a, b])
    fig.update_layout(
        scene=_scene(ranges, view),
        scene2=_scene(ranges, view),
        height=height,
        margin={"l": 0, "r": 0, "t": 50, "b": 0},
        legend={"orientation": "h", "y": -0.05},
    )
    fig.update_xaxes(range=xr, row=1, col=3)
    fig.update_yaxes(range=yr, scaleanchor="x", scaleratio=1, row=1, col=3)
    return fig


# ----------------------------------------------------------------------------------- histogram
def theta_histogram_figure(
    theta, num_bins: int = bn.DEFAULT_NUM_BINS, step_deg: float = 5.0, title: str | None = None, height: int = 360
) -> go.Figure:
    """Histogram of polar angles (radians, any shape) in ``step_deg`` bars, coloured by BAM class.

    Each class's share of all angles is written above it; dashed lines mark the class edges.
    """
    t = np.degrees(np.asarray(getattr(theta, "numpy", lambda: theta)(), dtype=np.float64).reshape(-1))
    if t.size == 0 or not np.isfinite(t).all():
        raise ValueError("theta must be a non-empty array of finite angles (radians)")
    if num_bins > len(CLASS_COLOURS):
        raise ValueError(f"at most {len(CLASS_COLOURS)} classes can be coloured, got num_bins={num_bins}")
    edges = np.arange(0.0, 180.0 + step_deg, step_deg)
    counts, _ = np.histogram(np.clip(t, 0, 180), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    width = 180.0 / num_bins
    cls = np.minimum((centres // width).astype(int), num_bins - 1)
    share = counts / counts.sum()
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=share,
            width=step_deg * 0.95,
            marker={"color": [CLASS_COLOURS[c] for c in cls]},
            hovertemplate="theta %{x:.1f} deg: %{y:.2%}<extra></extra>",
            showlegend=False,
        )
    )
    class_share = (
        np.bincount(np.minimum((np.clip(t, 0, 180) // width).astype(int), num_bins - 1), minlength=num_bins) / t.size
    )
    top = float(share.max())
    for k in range(num_bins):
        fig.add_annotation(
            x=(k + 0.5) * width,
            y=top * 1.12,
            showarrow=False,
            text=f"class {k}<br>{class_share[k]:.1%}",
            font={"color": CLASS_COLOURS[k]},
        )
        if k:
            fig.add_vline(x=k * width, line={"dash": "dash", "color": "#999", "width": 1})
    fig.update_layout(
        title=title,
        height=height,
        bargap=0,
        margin={"l": 50, "r": 10, "t": 50 if title else 20, "b": 40},
        xaxis={"title": {"text": "theta = angle from the depth axis (degrees)"}, "range": [0, 180], "dtick": width},
        yaxis={"title": {"text": "share of bones"}, "tickformat": ".0%", "range": [0, top * 1.3]},
    )
    return fig


# ------------------------------------------------------------------------------------ confusion
def confusion_figure(cm, title: str | None = None, height: int = 420) -> go.Figure:
    """Heatmap of a (K, K) confusion matrix (rows true class, columns predicted), row-normalised,
    each cell labelled with its share and count."""
    cm = np.asarray(getattr(cm, "numpy", lambda: cm)(), dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.sum() == 0:
        raise ValueError(f"a confusion matrix is a non-empty (K, K) array of counts, got shape {cm.shape}")
    k = cm.shape[0]
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    width = 180 / k
    names = [f"{k_}: {k_ * width:.0f}-{(k_ + 1) * width:.0f}" for k_ in range(k)]
    text = [[f"{rows[i, j]:.0%}<br>{int(cm[i, j])}" for j in range(k)] for i in range(k)]
    fig = go.Figure(
        go.Heatmap(
            z=rows,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="Blues",
            colorbar={"title": {"text": "row share"}},
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 80, "r": 10, "t": 50 if title else 20, "b": 60},
        xaxis={"title": {"text": "predicted class (theta degrees)"}},
        yaxis={"title": {"text": "true class"}, "autorange": "reversed"},
    )
    return fig


# --------------------------------------------------------------------------------------- widget
def _bone_label(child: int) -> str:
    return f"{child}: {JOINT_NAMES[PARENTS[child]]} -> {JOINT_NAMES[child]}"


def subtree_reach(pose, bone: int) -> float:
    """Longest path (metres) from the parent joint of ``bone`` down to a joint of its subtree.

    Rotating the bone about its parent joint keeps every joint of the subtree within this distance.
    ``pose``: (J, 3); ``bone``: the child joint naming the bone (1..J-1).
    """
    pose = np.asarray(pose, dtype=np.float64)
    path = {bone: float(np.linalg.norm(pose[bone] - pose[PARENTS[bone]]))}  # joint -> path length from the pivot
    for j in range(bone + 1, len(PARENTS)):  # H36M-17 lists parents before their children
        if PARENTS[j] in path:
            path[j] = path[PARENTS[j]] + float(np.linalg.norm(pose[j] - pose[PARENTS[j]]))
    return max(path.values())


class BoneAngleWidget:
    """Pick a bone, slide its polar angle theta and azimuth phi; the 3D skeleton and its 2D view follow.

    The bone keeps its length; the joints below it move rigidly (``mdtf_lite.bones.set_bone_direction``).
    Headless runs never move a slider: call :meth:`update` in a checked cell and assert on
    :attr:`pose` / :attr:`figure`.

    Attributes:
        pose: the current pose (J, 3).  figure: ``go.FigureWidget`` (3D scene left, 2D view right;
        ``TRACES_PER_SKELETON`` traces per panel, then one highlight trace per panel).
        bone_picker, theta_slider, phi_slider, readout: the controls; widget: the ``VBox`` to display.
    """

    def __init__(
        self, pose, bone: int = 13, num_bins: int = bn.DEFAULT_NUM_BINS, view: str = "front", height: int = 460
    ):
        import ipywidgets as W

        self.start = _pose(pose, "pose").copy()
        self.pose = self.start.copy()
        self.num_bins = num_bins
        base = make_subplots(
            rows=1,
            cols=2,
            specs=[[{"type": "scene"}, {"type": "xy"}]],
            subplot_titles=("3D (drag to rotate)", "2D projection (x, y)"),
            column_widths=[0.6, 0.4],
        )
        for trace in skeleton_traces(self.pose, "pose"):
            base.add_trace(trace, row=1, col=1)
        for trace in skeleton_2d_traces(self.pose[:, :2], "2D"):
            base.add_trace(trace, row=1, col=2)
        base.add_trace(
            go.Scatter3d(x=[], y=[], z=[], mode="lines", line={"color": HIGHLIGHT, "width": 12}, name="picked bone"),
            row=1,
            col=1,
        )
        base.add_trace(
            go.Scatter(x=[], y=[], mode="lines", line={"color": HIGHLIGHT, "width": 7}, showlegend=False), row=1, col=2
        )
        base.update_layout(height=height, margin={"l": 0, "r": 0, "t": 40, "b": 0}, showlegend=False)
        self._view = view
        self.figure = go.FigureWidget(base)
        self._n = len(SIDES) + 1

        self.bone_picker = W.Dropdown(
            options=[(_bone_label(c), c) for c in range(1, len(PARENTS))], value=bone, description="bone"
        )
        self.theta_slider = W.FloatSlider(
            value=90.0,
            min=0.0,
            max=180.0,
            step=1.0,
            description="theta (deg)",
            continuous_update=True,
            layout=W.Layout(width="45%"),
        )
        self.phi_slider = W.FloatSlider(
            value=0.0,
            min=-180.0,
            max=180.0,
            step=1.0,
            description="phi (deg)",
            continuous_update=True,
            layout=W.Layout(width="45%"),
        )
        self.reset_button = W.Button(description="reset pose")
        self.readout = W.HTML()
        self._syncing = False
        self.bone_picker.observe(lambda ch: self.pick_bone(ch["new"]), names="value")
        for s in (self.theta_slider, self.phi_slider):
            s.observe(lambda ch: self._from_sliders(), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.widget = FallbackVBox(
            [
                W.HBox([self.bone_picker, self.reset_button]),
                W.HBox([self.theta_slider, self.phi_slider]),
                self.figure,
                self.readout,
            ],
            figure=lambda: self.figure,
        )
        self.pick_bone(bone)

    # ------------------------------------------------------------------------------- updates
    def spherical(self, bone: int | None = None) -> tuple[float, float, float]:
        """(phi, theta, length) of a bone (named by its child joint) of the current pose, radians."""
        bone = self.bone if bone is None else bone
        phi, theta, length = bn.to_spherical(bn.bone_vectors(self.pose)[bone - 1])
        return float(phi), float(theta), float(length)

    def pick_bone(self, bone: int) -> None:
        """Select the bone ending in joint ``bone`` (1..16) and move the sliders to its angles."""
        bone = int(bone)
        if not 1 <= bone < len(PARENTS):
            raise ValueError(f"bones are named by their child joint, 1..{len(PARENTS) - 1}; got {bone}")
        self.bone = bone
        self._frame_on_bone()
        phi, theta, _ = self.spherical()
        self._syncing = True
        try:
            self.bone_picker.value = bone
            self.theta_slider.value, self.phi_slider.value = math.degrees(theta), math.degrees(phi)
        finally:
            self._syncing = False
        self._redraw()

    def _frame_on_bone(self) -> None:
        """Axis ranges around the body and every place the picked bone's subtree can swing to.

        Fixed while the sliders move (the view never jumps), re-framed when another bone is picked:
        the union of the pose's bounding box and the sphere around the bone's parent joint whose radius
        is the longest path from it down the subtree; cubic, 5% margin.  Shapes: pose (J, 3).
        """
        reach = subtree_reach(self.pose, self.bone)
        p3 = to_plot_coords(self.pose)
        parent = p3[PARENTS[self.bone]]
        pts = np.concatenate([p3, parent + reach * np.eye(3), parent - reach * np.eye(3)])
        ranges = scene_ranges(pts, margin=0.05)
        p2 = self.pose[:, :2]
        pts2 = np.concatenate(
            [p2, self.pose[PARENTS[self.bone], :2] + reach * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])]
        )
        lo, hi = pts2.min(0), pts2.max(0)
        c2, half2 = (lo + hi) / 2, float((hi - lo).max()) / 2 * 1.05
        with self.figure.batch_update():
            self.figure.update_layout(scene=_scene(ranges, self._view))
            self.figure.update_xaxes(range=[c2[0] - half2, c2[0] + half2], row=1, col=2)
            self.figure.update_yaxes(range=[c2[1] + half2, c2[1] - half2], scaleanchor="x", scaleratio=1, row=1, col=2)

    def _from_sliders(self) -> None:
        if not self._syncing:
            self.update(theta_deg=self.theta_slider.value, phi_deg=self.phi_slider.value)

    def update(self, bone: int | None = None, theta_deg: float | None = None, phi_deg: float | None = None) -> None:
        """Point ``bone`` (default: the picked one) along (theta, phi) in degrees and redraw everything."""
        if bone is not None and int(bone) != self.bone:
            self.pick_bone(bone)
        phi, theta, _ = self.spherical()
        theta = math.radians(theta_deg) if theta_deg is not None else theta
        phi = math.radians(phi_deg) if phi_deg is not None else phi
        if not 0.0 <= theta <= math.pi:
            raise ValueError(f"theta must be in [0, 180] degrees, got {math.degrees(theta):.1f}")
        self.pose = bn.set_bone_direction(self.pose, self.bone, phi, theta)
        self._syncing = True
        try:
            self.theta_slider.value, self.phi_slider.value = math.degrees(theta), math.degrees(phi)
        finally:
            self._syncing = False
        self._redraw()

    def reset(self) -> None:
        self.pose = self.start.copy()
        self.pick_bone(self.bone)

    def _redraw(self) -> None:
        p3, p2 = to_plot_coords(self.pose), self.pose[:, :2]
        parent, child = PARENTS[self.bone], self.bone
        with self.figure.batch_update():
            for i, side in enumerate(SIDES):
                x, y, z = bone_lines(p3, side)
                self.figure.data[i].update(x=x, y=y, z=z)
                x2, y2 = bone_lines(p2, side)
                self.figure.data[self._n + i].update(x=x2, y=y2)
            self.figure.data[self._n - 1].update(x=p3[:, 0], y=p3[:, 1], z=p3[:, 2])
            self.figure.data[2 * self._n - 1].update(x=p2[:, 0], y=p2[:, 1])
            seg3, seg2 = p3[[parent, child]], p2[[parent, child]]
            self.figure.data[2 * self._n].update(x=seg3[:, 0], y=seg3[:, 1], z=seg3[:, 2])
            self.figure.data[2 * self._n + 1].update(x=seg2[:, 0], y=seg2[:, 1])
        phi, theta, length = self.spherical()
        k = int(bn.theta_to_bin(np.array(theta), self.num_bins))
        self.readout.value = (
            f"<b>{_bone_label(self.bone)}</b>: phi = {math.degrees(phi):.1f} deg, theta = {math.degrees(theta):.1f} deg "
            f"(class {k}), length = {length:.3f}<br>seen in 2D: |b_xy| = length sin(theta) = {length * math.sin(theta):.3f}; "
            f"hidden depth = length cos(theta) = {length * math.cos(theta):+.3f}"
        )

    def _ipython_display_(self, **kwargs):
        self.widget._ipython_display_()
