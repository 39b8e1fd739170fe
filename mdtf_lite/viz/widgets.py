"""Interactive skeleton viewers: ``go.FigureWidget`` + ipywidgets (frame slider, play, view and joint pickers).

The figures of :mod:`mdtf_lite.viz.skeleton` embed every frame and animate in the browser; these
viewers instead keep the clip in Python and restyle one figure when a control moves, so they handle
long clips and can show things computed on demand (the picked joint's trajectory and coordinates).
They need a live kernel to move; displayed, each leaves a static copy of its current figure in the notebook
(:mod:`mdtf_lite.viz.fallback`), which is what an exported page shows.

Headless runs (papermill, nbval) never move a slider, so notebooks call ``viewer.show_frame(t)`` once
in a checked cell and ``assert`` on ``viewer.figure``.

Shapes: poses (T, J, 3) camera coordinates; keypoints_2d (T, J, 2|3); J = 17.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from mdtf_lite.skeleton import JOINT_NAMES
from mdtf_lite.viz.fallback import FallbackVBox
from mdtf_lite.viz.skeleton import (
    JOINT_SIZE, SIDES, TRACES_PER_SKELETON, VIEWS, _as_named, _as_sequence, _axis_2d_ranges, bone_lines, scene_ranges,
    side_by_side_figure, skeleton_figure, to_plot_coords,
)

__all__ = ["SkeletonViewer", "skeleton_viewer"]


class SkeletonViewer:
    """A 3D skeleton viewer (optionally with the 2D input beside it) driven by ipywidgets.

    Attributes:
        figure: the ``go.FigureWidget`` (traces: TRACES_PER_SKELETON per 2D panel / skeleton, then one
            trajectory trace of the picked joint).
        slider, play: frame controls (linked with ``jslink`` so Play moves the slider in the browser).
        view_picker: viewpoint of the 3D scene camera ("front", "side", "top", "back").
        joint_picker: joint whose trajectory over the clip is drawn and whose coordinates are shown.
        widget: the ``VBox`` to display (displaying the viewer itself shows it too).
    """

    def __init__(self, poses, keypoints_2d=None, *, fps: float = 25.0, view: str = "front",
                 unit: str = "m", joint: int = 10, height: int = 480):
        import ipywidgets as W

        self.poses = _as_named(poses, (3,), "pose")
        self.num_frames = next(iter(self.poses.values())).shape[0]
        self.keypoints = None
        if keypoints_2d is not None:
            self.keypoints = _as_sequence(keypoints_2d, "keypoints_2d", (2, 3))[..., :2]
            if self.keypoints.shape[0] != self.num_frames:
                raise ValueError(f"keypoints_2d has {self.keypoints.shape[0]} frames, poses {self.num_frames}")
        self.unit = unit
        self._plot = {k: to_plot_coords(v) for k, v in self.poses.items()}  # (T, J, 3) upright

        first = {k: v[:1] for k, v in self.poses.items()}
        if self.keypoints is None:
            base = skeleton_figure(first, view=view, unit=unit, height=height)
            self._offset = 0
        else:
            base = side_by_side_figure(self.keypoints[:1], first, unit=unit, height=height)
            xr, yr = _axis_2d_ranges([self.keypoints])
            base.update_layout(xaxis={"range": xr}, yaxis={"range": yr})
            self._offset = TRACES_PER_SKELETON  # the 2D panel's traces come first
        base.update_layout(scene=scene_ranges_layout(self._plot), scene_camera=VIEWS[view])
        base.add_trace(go.Scatter3d(x=[], y=[], z=[], mode="lines", name="joint trajectory",
                                    line={"color": "#9467bd", "width": 3}, hoverinfo="skip"))
        self.figure = go.FigureWidget(base)

        self.slider = W.IntSlider(value=0, min=0, max=self.num_frames - 1, description="frame",
                                  continuous_update=True, layout=W.Layout(width="60%"))
        self.play = W.Play(value=0, min=0, max=self.num_frames - 1, interval=int(1000 / fps),
                           description="play")
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.view_picker = W.Dropdown(options=list(VIEWS), value=view, description="view")
        self.joint_picker = W.Dropdown(options=[(f"{j} {n}", j) for j, n in enumerate(JOINT_NAMES)],
                                       value=joint, description="joint")
        self.readout = W.HTML()
        self.slider.observe(self._on_slider, names="value")
        self.view_picker.observe(lambda ch: self.set_view(ch["new"]), names="value")
        self.joint_picker.observe(lambda ch: self.pick_joint(ch["new"]), names="value")
        self.widget = FallbackVBox([W.HBox([self.play, self.slider]),
                                    W.HBox([self.view_picker, self.joint_picker]), self.figure, self.readout],
                                   figure=lambda: self.figure)
        self.frame = 0
        self.pick_joint(joint)

    # ---------------------------------------------------------------------------------- updates
    def show_frame(self, t: int) -> None:
        """Draw frame ``t`` (0 <= t < T) of every skeleton (and the 2D input) in one batch update."""
        t = int(t)
        if not 0 <= t < self.num_frames:
            raise ValueError(f"frame {t} out of range 0..{self.num_frames - 1}")
        self.frame = t
        if self.slider.value != t:  # called from code: the slider (and Play) follow
            self.slider.value = t  # its observer sees frame == t and does not draw twice
            self.play.value = t
        with self.figure.batch_update():
            if self.keypoints is not None:
                self._restyle(0, self.keypoints[t])
            for s, pts in enumerate(self._plot.values()):
                self._restyle(self._offset + s * TRACES_PER_SKELETON, pts[t])
        self._update_readout()

    def _on_slider(self, change) -> None:
        if int(change["new"]) != self.frame:
            self.show_frame(change["new"])

    def _restyle(self, first_trace: int, pts: np.ndarray) -> None:
        names = "xyz"[: pts.shape[-1]]
        for i, side in enumerate(SIDES):
            trace = self.figure.data[first_trace + i]
            for name, col in zip(names, bone_lines(pts, side)):
                setattr(trace, name, col)
        joints = self.figure.data[first_trace + len(SIDES)]
        for k, name in enumerate(names):
            setattr(joints, name, pts[:, k])

    def set_view(self, view: str) -> None:
        if view not in VIEWS:
            raise ValueError(f"view must be one of {sorted(VIEWS)}, got {view!r}")
        self.figure.layout.scene.camera = VIEWS[view]

    def pick_joint(self, joint: int) -> None:
        """Show the trajectory of ``joint`` (of the first skeleton) over the whole clip."""
        joint = int(joint)
        if not 0 <= joint < len(JOINT_NAMES):
            raise ValueError(f"joint must be in 0..{len(JOINT_NAMES) - 1}, got {joint}")
        self.joint = joint
        path = next(iter(self._plot.values()))[:, joint]
        with self.figure.batch_update():
            self.figure.data[-1].update(x=path[:, 0], y=path[:, 1], z=path[:, 2],
                                        name=f"{JOINT_NAMES[joint]} trajectory")
            for s in range(len(self._plot)):
                markers = self.figure.data[self._offset + s * TRACES_PER_SKELETON + len(SIDES)]
                sizes = [JOINT_SIZE] * len(JOINT_NAMES)
                sizes[joint] = 2.5 * JOINT_SIZE
                markers.marker.size = sizes
        self.show_frame(self.frame)

    def _update_readout(self) -> None:
        rows = []
        for label, seq in self.poses.items():
            x, y, z = seq[self.frame, self.joint]
            rows.append(f"<b>{label}</b> {JOINT_NAMES[self.joint]}: x={x:.3f} y={y:.3f} z={z:.3f} {self.unit}")
        if len(self.poses) == 2:
            a, b = self.poses.values()
            err = np.linalg.norm(a[self.frame] - b[self.frame], axis=-1).mean()
            rows.append(f"frame {self.frame}: mean joint distance {err:.3g} {self.unit}")
        self.readout.value = "<br>".join(rows)

    def _ipython_display_(self, **kwargs):
        self.widget._ipython_display_()


def scene_ranges_layout(plot_seqs: dict) -> dict:
    """Fixed cubic ranges over whole clips (plot coordinates) for a scene layout update."""
    r = scene_ranges(*plot_seqs.values())
    return {"xaxis": {"range": r["x"]}, "yaxis": {"range": r["y"]}, "zaxis": {"range": r["z"]},
            "aspectmode": "cube"}


def skeleton_viewer(poses, keypoints_2d=None, **kwargs) -> SkeletonViewer:
    """Build a :class:`SkeletonViewer`; display the result (or its ``.widget``) in a notebook."""
    return SkeletonViewer(poses, keypoints_2d, **kwargs)
