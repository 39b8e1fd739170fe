"""Client-side animation of the clip viewers: a plain plotly figure with frames, shown in an ``ipywidgets.Output``.

``go.FigureWidget`` refuses frames, so a viewer built on it asks the kernel for every frame it plays.  An
:class:`AnimatedViewer` (base of :class:`~mdtf_lite.viz.widgets.SkeletonViewer` and
:class:`~mdtf_lite.viz.data_views.CameraViewer`) renders a plain figure instead: its frames carry only the
coordinates of the moving traces (their style stays on the traces) and a per-frame read-out, with plotly's
own play/pause buttons and frame slider (:func:`mdtf_lite.viz.skeleton._animation_controls`).  Play and the
slider run in the browser with no kernel message: in JupyterLab, and in a page exported by
:mod:`mdtf_lite.viz.export`, which draws the ``Output`` from the saved widget state (the only copy of the
frames in an executed notebook).  Python re-renders the figure when a picker changes and on
``show_frame(t)``, which draws frame ``t`` with the slider on it (the figure sent is the figure shown:
``viewer.figure``).  A frame the reader stops at in the browser is not known to Python: a picker re-renders
at the frame last set from Python.  (An ``Output`` rather than a display id: JupyterLab's plotly renderer
does not redraw on a display update, plotly/plotly.py#3053; an ``Output`` replaces its renderer.)

Long clips: at most ``max_frames`` frames are embedded, every s-th frame of the clip (s = ceil(T /
max_frames)) on the grid through the frame last shown, played at the clip's real speed (``fps``).
Coordinates are float32 typed arrays (:func:`typed_array`): a frame costs about 1.4 kB of JSON per 3D
skeleton and 0.9 kB per 2D skeleton (1.6 / 1.1 kB as nbformat indents them), plus its read-out.

A subclass implements (K moving traces):

    _styled_figure() -> dict     the figure (plain JSON) with the pickers' state; coordinates get replaced
    _moving_traces() -> list     the K trace indices the frames update
    _coords(t) -> list[dict]     K dicts {"x", "y"[, "z"]}: those traces at frame t (skeleton_coords)
    _readout(t) -> str | None    text above the plot at frame t (animated with the frames)

and calls ``self._render()`` once its state is set.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from mdtf_lite.skeleton import BONES, JOINT_SIDES
from mdtf_lite.viz.fallback import PLOTLY_MIME
from mdtf_lite.viz.skeleton import CONTROLS_MARGIN, SIDES, _animation_controls, frame_indices

__all__ = ["AnimatedViewer", "as_index", "typed_array", "decode_arrays", "skeleton_coords", "READOUT_LINE_PX"]

READOUT_LINE_PX = 16  # px of top margin per line of read-out text
PLOTLY_MARGINS = {"t": 100, "b": 80, "l": 80, "r": 80}  # plotly.js defaults, for a layout that sets none


def as_index(value, n: int, what: str) -> int:
    """``value`` as an int in 0..n-1, else ValueError naming ``what`` and the range (bools refused)."""
    try:
        ok = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{what} must be a whole number in 0..{n - 1}, got {value!r}")
    if not 0 <= int(value) < n:
        raise ValueError(f"{what} {int(value)} out of range 0..{n - 1}")
    return int(value)


def typed_array(values) -> dict:
    """plotly's compact array form: ``{"dtype": "f4", "bdata": base64}`` of a 1-D float array (NaN = gap).

    plotly.js decodes it in data and frames alike; in a saved notebook it is one string (nbformat writes
    a list one number per line).
    """
    a = np.ascontiguousarray(values, dtype="<f4")
    if a.ndim != 1:
        raise ValueError(f"typed_array takes a 1-D array, got shape {a.shape}")
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def decode_arrays(obj):
    """A copy of plotly JSON with every ``typed_array`` replaced by its numpy array (for ``go.Figure``)."""
    if isinstance(obj, dict):
        if set(obj) == {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]).newbyteorder("<"))
        return {k: decode_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_arrays(v) for v in obj]
    return obj


#: (parent, child) joint pairs of the bones of each side, in ``BONES`` order (as ``bone_lines`` draws them)
_SIDE_BONES = {side: np.array([(p, c) for p, c in BONES if JOINT_SIDES[c] == side]) for side in SIDES}


def skeleton_coords(points) -> list[dict]:
    """The coordinates of one skeleton's ``TRACES_PER_SKELETON`` traces (bones per side, then joints).

    points: (J, 2) image-like or (J, 3) plot coordinates.  Each bone trace is the polyline start, end,
    gap per bone (as :func:`~mdtf_lite.viz.skeleton.bone_lines`, NaN for its None).  Returns the trace
    updates of one frame: ``{"x", "y"[, "z"]}`` as ``typed_array`` columns (no ``type``: plotly.js keeps
    the trace's; :attr:`AnimatedViewer.figure` adds it back for plotly.py).
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != len(JOINT_SIDES) or p.shape[-1] not in (2, 3):
        raise ValueError(f"points must be (J, 2) or (J, 3) with J = {len(JOINT_SIDES)}, got shape {p.shape}")
    names = "xyz"[: p.shape[-1]]
    out = []
    for side in SIDES:
        seg = p[_SIDE_BONES[side]]  # (n, 2, d): start and end of each bone
        line = np.concatenate([seg, np.full((len(seg), 1, p.shape[-1]), np.nan)], axis=1).reshape(-1, p.shape[-1])
        out.append({n: typed_array(line[:, k]) for k, n in enumerate(names)})
    out.append({n: typed_array(p[:, k]) for k, n in enumerate(names)})
    return out


class AnimatedViewer:
    """Base of the clip viewers: the figure, its frames and slider, and the ``Output`` that shows it.

    Attributes:
        num_frames: T, frames of the clip.  frame: the frame last drawn from Python (0 <= frame < T).
        fps: playback speed of the clip.  max_frames: cap on the frames embedded (None: all T).
        output: the ``ipywidgets.Output`` showing the figure; ``widget`` (set by the subclass) holds it.
    """

    widget = None

    def __init__(self, num_frames: int, *, fps: float = 25.0, max_frames: int | None = 150):
        import ipywidgets as W

        if int(num_frames) < 1:
            raise ValueError(f"a viewer needs at least one frame, got {num_frames}")
        if max_frames is not None and int(max_frames) < 1:
            raise ValueError(f"max_frames must be >= 1 (or None for every frame), got {max_frames}")
        if not float(fps) > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.num_frames, self.fps = int(num_frames), float(fps)
        self.max_frames = None if max_frames is None else int(max_frames)
        self.frame = 0
        self.output = W.Output()
        self._fig: dict | None = None
        self._figure: go.Figure | None = None

    # ------------------------------------------------------------------------------ subclass hooks
    def _styled_figure(self) -> dict:
        raise NotImplementedError

    def _moving_traces(self) -> list[int]:
        raise NotImplementedError

    def _coords(self, t: int) -> list[dict]:
        raise NotImplementedError

    def _readout(self, t: int) -> str | None:
        return None

    # ------------------------------------------------------------------------------ public
    def show_frame(self, t: int) -> None:
        """Draw frame ``t`` (0 <= t < T) and put the plotly slider on it (one re-render of the figure)."""
        self.frame = as_index(t, self.num_frames, "frame")
        self._render()

    @property
    def frame_ids(self) -> np.ndarray:
        """(F,) the clip frames embedded in the figure (through the current frame, at most ``max_frames``)."""
        return frame_indices(self.num_frames, self.max_frames, include=self.frame)

    @property
    def figure(self) -> go.Figure:
        """The figure shown, as a ``go.Figure`` (data at ``frame``, its frames, slider and buttons)."""
        if self._figure is None:
            fig = decode_arrays(self._fig)
            for frame in fig["frames"]:  # plotly.py reads a frame trace without a type as a 2D scatter
                for i, update in zip(frame["traces"], frame["data"]):
                    update["type"] = fig["data"][i]["type"]
            self._figure = go.Figure(fig)
        return self._figure

    @property
    def figure_json(self) -> dict:
        """The figure shown, as the plain JSON sent to the browser (do not modify)."""
        return self._fig

    @property
    def slider_frame(self) -> int | None:
        """The clip frame the plotly slider shows (None for a one-frame clip: no slider)."""
        sliders = self._fig["layout"].get("sliders") if self._fig else None
        if not sliders:
            return None
        return int(sliders[0]["steps"][sliders[0]["active"]]["label"])

    # ------------------------------------------------------------------------------ rendering
    def _render(self) -> None:
        fig = self._styled_figure()
        layout = fig["layout"]
        moving = self._moving_traces()
        for i, update in zip(moving, self._coords(self.frame)):
            fig["data"][i].update(update)
        ids = self.frame_ids
        fixed = len(layout.get("annotations", []))
        text = self._readout(self.frame)
        if text is not None:
            lines = text.count("<br>") + 1
            layout.setdefault("annotations", []).append(
                {
                    "text": text,
                    "x": 0,
                    "y": 1,
                    "xref": "paper",
                    "yref": "paper",
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "yshift": 24 if fixed else 4,
                    "align": "left",
                    "showarrow": False,
                    "font": {"size": 12},
                }
            )
            self._grow(layout, "t", READOUT_LINE_PX * lines + 8)
        frames = []
        if len(ids) > 1:
            for t in ids:
                frame = {"name": str(int(t)), "traces": list(moving), "data": self._coords(int(t))}
                if text is not None:
                    frame["layout"] = {"annotations": [{}] * fixed + [{"text": self._readout(int(t))}]}
                frames.append(frame)
            active = int(np.flatnonzero(ids == self.frame)[0])
            step = int(ids[1] - ids[0])
            layout.update(_animation_controls(ids, max(int(1000 * step / self.fps), 20), active=active))
            self._grow(layout, "b", CONTROLS_MARGIN)
        self._fig = {"data": fig["data"], "layout": layout, "frames": frames}
        self._figure = None
        self.output.outputs = (
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {PLOTLY_MIME: self._fig, "text/plain": f"<{type(self).__name__}: {len(ids)} frames>"},
            },
        )

    @staticmethod
    def _grow(layout: dict, side: str, px: int) -> None:
        """Add ``px`` to one margin and to the height, so the plot area keeps its size."""
        margin = layout.setdefault("margin", {})
        margin[side] = int(margin.get(side, PLOTLY_MARGINS[side])) + px
        layout["height"] = int(layout.get("height") or 450) + px

    def _ipython_display_(self, **kwargs):
        from IPython.display import display

        display(self.widget)
