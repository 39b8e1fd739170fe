"""The interactive skeleton viewer: a 3D clip (optionally beside its 2D input) that plays in the browser.

:class:`SkeletonViewer` is an :class:`~mdtf_lite.viz.animated.AnimatedViewer`: a plain plotly figure whose
frames hold the clip (at most ``max_frames`` of them), with plotly's play/pause buttons and frame slider,
in an ``ipywidgets.Output`` below a view picker and a joint picker.  Play and the slider run client-side
(JupyterLab and exported HTML alike); the pickers re-render the figure from Python (the view; the picked
joint's trajectory over the whole clip, its enlarged marker and the coordinates read-out, which follows
the animation).  Exports draw the figure from the saved widget state: they animate; the pickers show
their value, disabled.

Headless runs (papermill, nbval) never press play, so notebooks call ``viewer.show_frame(t)`` once in a
checked cell and ``assert`` on ``viewer.figure`` / ``viewer.slider_frame`` / ``viewer.readout``.

Shapes: poses (T, J, 3) camera coordinates; keypoints_2d (T, J, 2|3); J = 17.
"""

from __future__ import annotations

import copy

import numpy as np

from mdtf_lite.skeleton import JOINT_NAMES
from mdtf_lite.viz.animated import AnimatedViewer, as_index, skeleton_coords, typed_array
from mdtf_lite.viz.fallback import figure_json
from mdtf_lite.viz.skeleton import (
    JOINT_SIZE,
    SIDES,
    TRACES_PER_SKELETON,
    VIEWS,
    _as_named,
    _as_sequence,
    _axis_2d_ranges,
    scene_ranges,
    side_by_side_figure,
    skeleton_figure,
    to_plot_coords,
)

__all__ = ["SkeletonViewer", "skeleton_viewer"]


class SkeletonViewer(AnimatedViewer):
    """A 3D skeleton clip (optionally with the 2D input beside it) that plays in the browser.

    Args:
        poses: (T, J, 3) camera coordinates or ``{label: (T, J, 3)}`` (at most 3 skeletons, equal T).
        keypoints_2d: optional (T, J, 2|3) 2D input drawn in a panel on the left.
        fps: playback speed of the clip.  max_frames: frames embedded in the figure (evenly
            subsampled, real time kept; about 1.4 kB per 3D and 0.9 kB per 2D skeleton and frame; None: all).
        view, joint: initial viewpoint ("front", "side", "top", "back") and picked joint (0..16).

    Attributes:
        figure: the ``go.Figure`` shown (traces: TRACES_PER_SKELETON per 2D panel / skeleton, then the
            trajectory of the picked joint; frames named by clip frame; ``layout.sliders[0]``).
        view_picker, joint_picker: ``Dropdown`` widgets (re-render from Python).
        readout: the coordinates read-out at ``frame`` (str; the figure animates it per frame).
        widget: the ``VBox`` to display (displaying the viewer itself shows it too).
    """

    def __init__(
        self,
        poses,
        keypoints_2d=None,
        *,
        fps: float = 25.0,
        view: str = "front",
        unit: str = "m",
        joint: int = 10,
        height: int = 480,
        max_frames: int | None = 150,
    ):
        import ipywidgets as W

        self.poses = _as_named(poses, (3,), "pose")
        super().__init__(next(iter(self.poses.values())).shape[0], fps=fps, max_frames=max_frames)
        self.keypoints = None
        if keypoints_2d is not None:
            self.keypoints = _as_sequence(keypoints_2d, "keypoints_2d", (2, 3))[..., :2]
            if self.keypoints.shape[0] != self.num_frames:
                raise ValueError(f"keypoints_2d has {self.keypoints.shape[0]} frames, poses {self.num_frames}")
        if view not in VIEWS:
            raise ValueError(f"view must be one of {sorted(VIEWS)}, got {view!r}")
        joint = as_index(joint, len(JOINT_NAMES), "joint")
        self.unit, self.view = unit, view
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
        base.add_scatter3d(
            x=[],
            y=[],
            z=[],
            mode="lines",
            name="joint trajectory",
            line={"color": "#9467bd", "width": 3},
            hoverinfo="skip",
        )
        self._base = figure_json(base)

        self.view_picker = W.Dropdown(options=list(VIEWS), value=view, description="view")
        self.joint_picker = W.Dropdown(
            options=[(f"{j} {n}", j) for j, n in enumerate(JOINT_NAMES)], value=joint, description="joint"
        )
        # a picker moved by the reader re-renders; one moved by set_view / pick_joint already did
        self.view_picker.observe(lambda ch: ch["new"] != self.view and self.set_view(ch["new"]), names="value")
        self.joint_picker.observe(lambda ch: ch["new"] != self.joint and self.pick_joint(ch["new"]), names="value")
        self.joint = None
        self.widget = W.VBox([W.HBox([self.view_picker, self.joint_picker]), self.output])
        self.pick_joint(joint)

    # ---------------------------------------------------------------------------------- pickers
    def set_view(self, view: str) -> None:
        """Viewpoint of the 3D scene: "front", "side", "top" or "back" (re-renders)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {sorted(VIEWS)}, got {view!r}")
        self.view = view
        self.view_picker.value = view
        self._render()

    def pick_joint(self, joint: int) -> None:
        """Draw the trajectory of ``joint`` (of the first skeleton) over the whole clip, enlarge its marker
        and read out its coordinates (re-renders)."""
        self.joint = as_index(joint, len(JOINT_NAMES), "joint")
        self.joint_picker.value = self.joint
        self._render()

    @property
    def readout(self) -> str:
        """The coordinates read-out of the picked joint at ``frame`` (HTML)."""
        return self._readout(self.frame)

    # ---------------------------------------------------------------------------------- AnimatedViewer hooks
    def _styled_figure(self) -> dict:
        fig = copy.deepcopy(self._base)
        fig["layout"]["scene"]["camera"] = copy.deepcopy(VIEWS[self.view])
        path = next(iter(self._plot.values()))[:, self.joint]  # (T, 3)
        fig["data"][-1].update(
            x=typed_array(path[:, 0]),
            y=typed_array(path[:, 1]),
            z=typed_array(path[:, 2]),
            name=f"{JOINT_NAMES[self.joint]} trajectory",
        )
        sizes = [JOINT_SIZE] * len(JOINT_NAMES)
        sizes[self.joint] = 2.5 * JOINT_SIZE
        for s in range(len(self._plot)):
            fig["data"][self._offset + s * TRACES_PER_SKELETON + len(SIDES)]["marker"]["size"] = sizes
        return fig

    def _moving_traces(self) -> list[int]:
        return list(range(self._offset + len(self._plot) * TRACES_PER_SKELETON))

    def _coords(self, t: int) -> list[dict]:
        out = [] if self.keypoints is None else skeleton_coords(self.keypoints[t])
        for seq in self._plot.values():
            out += skeleton_coords(seq[t])
        return out

    def _readout(self, t: int) -> str:
        rows = []
        for label, seq in self.poses.items():
            x, y, z = seq[t, self.joint]
            rows.append(f"<b>{label}</b> {JOINT_NAMES[self.joint]}: x={x:.3f} y={y:.3f} z={z:.3f} {self.unit}")
        if len(self.poses) == 2:
            a, b = self.poses.values()
            err = np.linalg.norm(a[t] - b[t], axis=-1).mean()
            rows.append(f"frame {t}: mean joint distance {err:.3g} {self.unit}")
        return "<br>".join(rows)


def scene_ranges_layout(plot_seqs: dict) -> dict:
    """Fixed cubic ranges over whole clips (plot coordinates) for a scene layout update."""
    r = scene_ranges(*plot_seqs.values())
    return {"xaxis": {"range": r["x"]}, "yaxis": {"range": r["y"]}, "zaxis": {"range": r["z"]}, "aspectmode": "cube"}


def skeleton_viewer(poses, keypoints_2d=None, **kwargs) -> SkeletonViewer:
    """Build a :class:`SkeletonViewer`; display the result (or its ``.widget``) in a notebook."""
    return SkeletonViewer(poses, keypoints_2d, **kwargs)
