"""Plotly figures of H36M-17 skeletons: static 3D/2D views, animations, overlays, 2D beside 3D.

Every function here is pure: it takes numpy arrays (or torch tensors) and returns a ``go.Figure``;
nothing is displayed, so the tests check the figure dicts headlessly and the notebooks only show them.

Conventions
    * 3D poses are in the camera frame of ``mdtf_lite`` (x right, y down, z forward).  They are drawn
      upright by plotting ``(x, z, -y)``: plot-x = right, plot-y = depth, plot-z = up.  That map is a
      proper rotation (determinant +1), so left and right are never mirrored.
    * 2D keypoints are image-like (x right, y down: pixels or normalised screen coordinates); the y axis
      of 2D panels is reversed so they look like the image.
    * Bones are coloured by side (``mdtf_lite.skeleton.JOINT_SIDES`` of the child joint): left blue,
      right red, centre grey.  A second skeleton (e.g. ground truth) uses a light, dashed palette.
    * Each skeleton is ``TRACES_PER_SKELETON`` traces (left, right, centre bones with ``None`` between
      segments, then the joints), in that order; animation frames replace exactly those traces.

Shapes: a pose is (J, 3) or (J, 2); a sequence is (T, J, 3); J = 17.  A third channel of a 2D input
(e.g. detector confidence, shape (T, J, 3) for ``keypoints_2d``) is ignored when drawing.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mdtf_lite.skeleton import BONES, JOINT_NAMES, JOINT_SIDES, NUM_JOINTS, check_pose_shape

__all__ = [
    "PALETTES",
    "TRACES_PER_SKELETON",
    "to_plot_coords",
    "bone_lines",
    "skeleton_traces",
    "skeleton_2d_traces",
    "skeleton_figure",
    "skeleton_2d_figure",
    "skeleton_animation",
    "overlay_figure",
    "side_by_side_figure",
    "scene_ranges",
]

SIDES = ("left", "right", "center")
JOINT_SIZE = 6.0
CONTROLS_MARGIN = 110  # px below an animated plot for the play/pause buttons and the frame slider
MAX_SLIDER_LABELS = 40  # frame sliders with more steps hide their step labels (they would overprint)
TRACES_PER_SKELETON = len(SIDES) + 1  # three bone traces + one joint-marker trace

#: colours per side for the first, second, third ... skeleton of a figure, plus line dash and opacity.
PALETTES: tuple[dict, ...] = (
    {"left": "#1f77b4", "right": "#d62728", "center": "#444444", "dash": "solid", "opacity": 1.0},
    {"left": "#7fb8e0", "right": "#f4a29a", "center": "#a8a8a8", "dash": "dash", "opacity": 0.85},
    {"left": "#2ca02c", "right": "#ff7f0e", "center": "#8c564b", "dash": "dot", "opacity": 0.9},
)

#: preset viewpoints of the 3D scene (plot coordinates: x right, y depth, z up).
VIEWS: dict[str, dict] = {
    "front": {"eye": {"x": 0.3, "y": -1.6, "z": 0.35}, "up": {"x": 0, "y": 0, "z": 1}},
    "side": {"eye": {"x": 1.5, "y": 0.0, "z": 0.3}, "up": {"x": 0, "y": 0, "z": 1}},
    "top": {"eye": {"x": 0.0, "y": -0.15, "z": 1.8}, "up": {"x": 0, "y": 1, "z": 0}},
    "back": {"eye": {"x": -0.3, "y": 1.6, "z": 0.35}, "up": {"x": 0, "y": 0, "z": 1}},
}


# ----------------------------------------------------------------------------------------- inputs
def _as_array(x, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of joints, got {type(x).__name__}: {exc}") from exc
    return arr


def _as_sequence(x, name: str, dims: tuple[int, ...]) -> np.ndarray:
    """(J, d) or (T, J, d) -> (T, J, d) float64, refusing NaN/Inf with a clear message."""
    arr = _as_array(x, name)
    check_pose_shape(arr, name, dims)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"{name} has shape {arr.shape}: pass one pose (J, d) or a sequence (T, J, d)")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no frames (shape {arr.shape})")
    bad = ~np.isfinite(arr)
    if bad.any():
        t, j = np.argwhere(bad)[0][:2]
        raise ValueError(
            f"{name} has NaN/Inf (first at frame {t}, joint {j} = {JOINT_NAMES[j]}): fill or drop missing "
            "joints before plotting (mdtf_lite.lift interpolates short gaps)"
        )
    return arr


def _as_named(poses, dims: tuple[int, ...], default_name: str) -> dict[str, np.ndarray]:
    """An array or a ``{label: array}`` mapping -> ``{label: (T, J, d)}`` with equal T."""
    named = dict(poses) if isinstance(poses, Mapping) else {default_name: poses}
    if not named:
        raise ValueError("no skeletons given: pass an array (T, J, 3) or a non-empty {label: array} dict")
    if len(named) > len(PALETTES):
        raise ValueError(f"at most {len(PALETTES)} skeletons per figure, got {len(named)}")
    out = {str(k): _as_sequence(v, f"poses[{k!r}]", dims) for k, v in named.items()}
    lengths = {k: v.shape[0] for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"all skeletons of one figure need the same number of frames, got {lengths}")
    return out


def frame_indices(num_frames: int, max_frames: int | None, include: int = 0) -> np.ndarray:
    """Evenly spaced frame indices, at most ``max_frames`` of them, on the grid through frame ``include``.

    Animations embed every frame in the figure JSON, so long clips are subsampled to keep exported
    HTML small: every s-th frame, s = ceil(num_frames / max_frames), starting at ``include % s`` (so
    frame ``include``, 0 by default, is always one of them).  Returns int array (F,), F <= max_frames.
    """
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1 (or None for every frame), got {max_frames}")
    if not 0 <= include < num_frames:
        raise ValueError(f"frame {include} is out of range 0..{num_frames - 1}")
    if max_frames is None or num_frames <= max_frames:
        return np.arange(num_frames)
    step = int(np.ceil(num_frames / max_frames))
    return np.arange(include % step, num_frames, step)


# ------------------------------------------------------------------------------------ geometry
def to_plot_coords(pose) -> np.ndarray:
    """Camera frame (x right, y down, z forward) -> upright plot frame (x, z, -y).  (..., 3) -> (..., 3)."""
    p = np.asarray(pose, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def bone_lines(points: np.ndarray, side: str) -> tuple[list, ...]:
    """Coordinates of the bones of one side as polyline lists with ``None`` between segments.

    Args:
        points: (J, d) joint coordinates (already in plot coordinates for 3D).
        side: "left", "right" or "center" (the side of a bone is the side of its child joint).
    Returns:
        d lists (x, y[, z]), each of length 3 * (bones on that side): start, end, None per bone.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    cols: list[list] = [[] for _ in range(points.shape[-1])]
    for parent, child in BONES:
        if JOINT_SIDES[child] != side:
            continue
        for axis, col in enumerate(cols):
            col.extend([float(points[parent, axis]), float(points[child, axis]), None])
    return tuple(cols)


def scene_ranges(*sequences: np.ndarray, margin: float = 0.1) -> dict[str, list[float]]:
    """Cubic axis ranges (same length on x, y, z) covering every plot-coordinate point given.

    Fixed, equal ranges with ``aspectmode="cube"`` keep a skeleton from stretching or the view from
    jumping between animation frames.  Each input is (..., 3) in plot coordinates.
    """
    pts = np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 3) for s in sequences])
    lo, hi = pts.min(0), pts.max(0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-6) * (1 + margin)
    return {ax: [float(c - half), float(c + half)] for ax, c in zip("xyz", centre)}


# -------------------------------------------------------------------------------------- traces
def skeleton_traces(
    pose,
    name: str = "pose",
    palette: int = 0,
    show_joints: bool = True,
    legend: bool = True,
    highlight: int | None = None,
) -> list[go.Scatter3d]:
    """The ``TRACES_PER_SKELETON`` Scatter3d traces of one 3D pose (J, 3) in camera coordinates.

    ``highlight`` enlarges one joint marker (used by the joint picker of the widget).
    """
    p = to_plot_coords(_as_sequence(pose, name, (3,))[0])
    style = PALETTES[palette % len(PALETTES)]
    traces = []
    for i, side in enumerate(SIDES):
        x, y, z = bone_lines(p, side)
        traces.append(
            go.Scatter3d(
                x=x,
                y=y,
                z=z,
                mode="lines",
                name=name,
                legendgroup=name,
                showlegend=legend and i == 0,
                line={"color": style[side], "width": 5, "dash": style["dash"]},
                opacity=style["opacity"],
                hoverinfo="skip",
            )
        )
    sizes = [JOINT_SIZE] * NUM_JOINTS  # drawn over the 5 px lines, so a little wider than them
    if highlight is not None:
        sizes[int(highlight)] = 2.5 * JOINT_SIZE
    traces.append(
        go.Scatter3d(
            x=p[:, 0],
            y=p[:, 1],
            z=p[:, 2],
            mode="markers",
            name=f"{name} joints",
            legendgroup=name,
            showlegend=False,
            visible=True if show_joints else False,
            text=list(JOINT_NAMES),
            marker={"size": sizes, "color": [style[s] for s in JOINT_SIDES]},
            hovertemplate="%{text}<extra>" + name + "</extra>",
        )
    )
    return traces


def skeleton_2d_traces(
    keypoints, name: str = "2D keypoints", palette: int = 0, legend: bool = True
) -> list[go.Scatter]:
    """The ``TRACES_PER_SKELETON`` Scatter traces of one 2D pose (J, 2) or (J, 3) (third column ignored)."""
    k = _as_sequence(keypoints, name, (2, 3))[0][:, :2]
    style = PALETTES[palette % len(PALETTES)]
    traces = []
    for i, side in enumerate(SIDES):
        x, y = bone_lines(k, side)
        traces.append(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=name,
                legendgroup=name,
                showlegend=legend and i == 0,
                line={"color": style[side], "width": 3, "dash": style["dash"]},
                opacity=style["opacity"],
                hoverinfo="skip",
            )
        )
    traces.append(
        go.Scatter(
            x=k[:, 0],
            y=k[:, 1],
            mode="markers",
            name=f"{name} joints",
            legendgroup=name,
            showlegend=False,
            text=list(JOINT_NAMES),
            marker={"size": 6, "color": [style[s] for s in JOINT_SIDES]},
            hovertemplate="%{text}: (%{x:.3f}, %{y:.3f})<extra></extra>",
        )
    )
    return traces


def _scene_layout(ranges: dict, view: str = "front", unit: str = "m") -> dict:
    if view not in VIEWS:
        raise ValueError(f"view must be one of {sorted(VIEWS)}, got {view!r}")
    axis = {"showbackground": True, "backgroundcolor": "#f4f4f4", "zeroline": False}
    return {
        "xaxis": {**axis, "title": {"text": f"x right ({unit})"}, "range": ranges["x"]},
        "yaxis": {**axis, "title": {"text": f"z depth ({unit})"}, "range": ranges["y"]},
        "zaxis": {**axis, "title": {"text": f"-y up ({unit})"}, "range": ranges["z"]},
        "aspectmode": "cube",
        "camera": VIEWS[view],
    }


def _axis_2d_ranges(seqs: Sequence[np.ndarray], margin: float = 0.08) -> tuple[list, list]:
    pts = np.concatenate([s[..., :2].reshape(-1, 2) for s in seqs])
    lo, hi = pts.min(0), pts.max(0)
    pad = max(float((hi - lo).max()), 1e-6) * margin
    # y reversed: image rows grow downwards
    return [float(lo[0] - pad), float(hi[0] + pad)], [float(hi[1] + pad), float(lo[1] - pad)]


# -------------------------------------------------------------------------------------- figures
def skeleton_figure(
    pose,
    *,
    frame: int = 0,
    title: str | None = None,
    view: str = "front",
    unit: str = "m",
    show_joints: bool = True,
    height: int = 520,
) -> go.Figure:
    """A static 3D skeleton (or several overlaid), drawn upright.

    Args:
        pose: one pose (J, 3), a sequence (T, J, 3) (``frame`` picks the frame shown), or a dict
            ``{label: array}`` of such arrays to overlay (e.g. prediction and ground truth).  Camera
            coordinates (x right, y down, z forward), any unit (``unit`` only labels the axes).
        frame: which frame of a sequence to draw.
        view: "front", "side", "top" or "back".
    Returns:
        go.Figure with ``TRACES_PER_SKELETON`` traces per skeleton and one 3D scene.
    """
    named = _as_named(pose, (3,), "pose")
    num_frames = next(iter(named.values())).shape[0]
    if not 0 <= frame < num_frames:
        raise ValueError(f"frame {frame} is out of range for a sequence of {num_frames} frames")
    fig = go.Figure()
    for i, (label, seq) in enumerate(named.items()):
        fig.add_traces(skeleton_traces(seq[frame], label, i, show_joints, legend=len(named) > 1))
    ranges = scene_ranges(*(to_plot_coords(s[frame]) for s in named.values()))
    fig.update_layout(
        scene=_scene_layout(ranges, view, unit),
        height=height,
        title=title,
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0},
        legend={"x": 0.01, "y": 0.99},
    )
    return fig


def skeleton_2d_figure(
    keypoints,
    *,
    frame: int = 0,
    title: str | None = None,
    image_size: tuple[float, float] | None = None,
    height: int = 480,
) -> go.Figure:
    """A static 2D skeleton (or several overlaid) in image orientation (y axis pointing down).

    Args:
        keypoints: (J, 2|3), (T, J, 2|3) or ``{label: array}``; a third column (confidence) is ignored.
        image_size: (width, height) in the keypoints' units: axes then span the image, else the points.
    """
    named = _as_named(keypoints, (2, 3), "2D keypoints")
    num_frames = next(iter(named.values())).shape[0]
    if not 0 <= frame < num_frames:
        raise ValueError(f"frame {frame} is out of range for a sequence of {num_frames} frames")
    fig = go.Figure()
    for i, (label, seq) in enumerate(named.items()):
        fig.add_traces(skeleton_2d_traces(seq[frame], label, i, legend=len(named) > 1))
    if image_size is not None:
        xr, yr = [0, float(image_size[0])], [float(image_size[1]), 0]
    else:
        xr, yr = _axis_2d_ranges([s[frame] for s in named.values()])
    fig.update_layout(
        xaxis={"range": xr, "title": {"text": "x"}, "constrain": "domain"},
        yaxis={"range": yr, "title": {"text": "y (down)"}, "scaleanchor": "x", "scaleratio": 1},
        height=height,
        title=title,
        plot_bgcolor="#f8f8f8",
        margin={"l": 40, "r": 10, "t": 40 if title else 10, "b": 40},
    )
    return fig


def _animation_controls(frame_ids: np.ndarray, duration_ms: int, redraw: bool = True, active: int = 0) -> dict:
    """Play/pause buttons and a frame slider whose steps name the original frame numbers.

    ``active``: the slider step shown first (the figure's data must show that frame).  Play continues from
    the frame on screen; from a later ``active`` step it plays to the end, then from the start up to it
    (plotly starts a first play at the head of the frame list, whatever the slider shows).
    """
    names = [str(int(t)) for t in frame_ids]
    if not 0 <= active < len(names):
        raise ValueError(f"active slider step {active} out of range 0..{len(names) - 1}")

    def args(frames, d):
        return [
            frames,
            {
                "frame": {"duration": d, "redraw": redraw},
                "mode": "immediate",
                "transition": {"duration": 0},
                "fromcurrent": True,
            },
        ]

    play = args(names[active:] + names[:active] if active else None, duration_ms)
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "y": -0.06,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"r": 10, "t": 0},
                "buttons": [
                    {"label": "\u25b6 play", "method": "animate", "args": play},
                    {"label": "\u275a\u275a pause", "method": "animate", "args": args([None], 0)},
                ],
            }
        ],
        "sliders": [
            {
                "active": int(active),
                "x": 0.2,
                "len": 0.78,
                "y": -0.06,
                "yanchor": "top",
                "currentvalue": {"prefix": "frame ", "font": {"color": "#444"}},
                "pad": {"t": 10},
                # plotly labels every step: past MAX_SLIDER_LABELS they overprint, so only the current value shows
                **({"font": {"color": "rgba(0,0,0,0)"}} if len(names) > MAX_SLIDER_LABELS else {}),
                "steps": [{"label": n, "method": "animate", "args": args([n], 0)} for n in names],
            }
        ],
    }


def skeleton_animation(
    poses,
    *,
    max_frames: int | None = 150,
    fps: float = 25.0,
    title: str | None = None,
    view: str = "front",
    unit: str = "m",
    height: int = 560,
) -> go.Figure:
    """A 3D skeleton animation with play/pause buttons and a frame slider.

    Args:
        poses: (T, J, 3) camera coordinates, or ``{label: (T, J, 3)}`` with equal T to animate several
            skeletons together (prediction vs ground truth: use :func:`overlay_figure`).
        max_frames: cap on the frames embedded (evenly subsampled; ``None`` keeps all).  Each frame
            costs about 4 kB of JSON per skeleton in an exported HTML page.
        fps: playback speed of the *original* clip; subsampled clips keep real time.
    Returns:
        go.Figure with F = min(T, max_frames) frames named by their original frame index, fixed cubic
        axis ranges over the whole clip and ``redraw=True`` animation (needed for 3D scenes).
    """
    named = _as_named(poses, (3,), "pose")
    num_frames = next(iter(named.values())).shape[0]
    ids = frame_indices(num_frames, max_frames)
    step = int(ids[1] - ids[0]) if len(ids) > 1 else 1
    multi = len(named) > 1

    def traces_at(t):
        out = []
        for i, (label, seq) in enumerate(named.items()):
            out += skeleton_traces(seq[t], label, i, legend=multi)
        return out

    fig = go.Figure(data=traces_at(ids[0]), frames=[go.Frame(data=traces_at(t), name=str(int(t))) for t in ids])
    ranges = scene_ranges(*(to_plot_coords(s[ids]) for s in named.values()))
    fig.update_layout(
        scene=_scene_layout(ranges, view, unit),
        height=height,
        title=title,
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": CONTROLS_MARGIN},
        legend={"x": 0.01, "y": 0.99},
        **_animation_controls(ids, max(int(1000 * step / fps), 20)),
    )
    return fig


def overlay_figure(
    prediction,
    ground_truth,
    *,
    max_frames: int | None = 150,
    fps: float = 25.0,
    title: str | None = None,
    unit: str = "m",
    view: str = "front",
) -> go.Figure:
    """Prediction (solid, saturated) over ground truth (dashed, light); static for (J, 3), else animated.

    Both are camera coordinates of the same shape, (J, 3) or (T, J, 3).  The title gets the mean
    per-joint position error of the shown frames (in ``unit``) so the picture and the number agree.
    """
    pred = _as_sequence(prediction, "prediction", (3,))
    gt = _as_sequence(ground_truth, "ground_truth", (3,))
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground_truth {gt.shape} must have the same shape")
    err = float(np.linalg.norm(pred - gt, axis=-1).mean())
    label = f"{title + ' - ' if title else ''}MPJPE {err:.3g} {unit}"
    named = {"prediction": pred, "ground truth": gt}
    if pred.shape[0] == 1:
        return skeleton_figure(named, title=label, unit=unit, view=view)
    return skeleton_animation(named, max_frames=max_frames, fps=fps, title=label, unit=unit, view=view)


def side_by_side_figure(
    keypoints_2d,
    poses_3d,
    *,
    max_frames: int | None = 120,
    fps: float = 25.0,
    title: str | None = None,
    unit: str = "m",
    image_size=None,
    height: int = 500,
) -> go.Figure:
    """The 2D input (left panel) beside the 3D skeleton(s) (right panel), animated together.

    Args:
        keypoints_2d: (T, J, 2|3) image-like coordinates (third column ignored), or (J, 2|3).
        poses_3d: (T, J, 3) camera coordinates or ``{label: (T, J, 3)}`` (e.g. lifted + ground truth).
        image_size: optional (width, height) of the 2D panel in the keypoints' units.
    Returns:
        go.Figure with an xy subplot and a 3D scene; for T > 1, F frames, slider and play/pause.
    """
    from plotly.subplots import make_subplots

    kp = _as_sequence(keypoints_2d, "keypoints_2d", (2, 3))[..., :2]
    named = _as_named(poses_3d, (3,), "3D pose")
    num_frames = next(iter(named.values())).shape[0]
    if kp.shape[0] != num_frames:
        raise ValueError(f"keypoints_2d has {kp.shape[0]} frames but poses_3d has {num_frames}")
    ids = frame_indices(num_frames, max_frames)
    multi = len(named) > 1

    def traces_at(t):
        out = skeleton_2d_traces(kp[t], "2D input", 0, legend=False)
        for i, (label, seq) in enumerate(named.items()):
            out += skeleton_traces(seq[t], label, i, legend=multi)
        return out

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.42, 0.58],
        specs=[[{"type": "xy"}, {"type": "scene"}]],
        subplot_titles=("2D input", "3D (camera frame, upright)"),
    )
    first = traces_at(ids[0])
    for k, trace in enumerate(first):
        fig.add_trace(trace, row=1, col=1 if k < TRACES_PER_SKELETON else 2)
    if len(ids) > 1:
        fig.frames = [go.Frame(data=traces_at(t), name=str(int(t)), traces=list(range(len(first)))) for t in ids]
        step = int(ids[1] - ids[0])
        fig.update_layout(**_animation_controls(ids, max(int(1000 * step / fps), 20)))
    if image_size is not None:
        xr, yr = [0, float(image_size[0])], [float(image_size[1]), 0]
    else:
        xr, yr = _axis_2d_ranges([kp[ids]])
    ranges = scene_ranges(*(to_plot_coords(s[ids]) for s in named.values()))
    fig.update_layout(
        scene=_scene_layout(ranges, "front", unit),
        height=height,
        title=title,
        xaxis={"range": xr, "constrain": "domain"},
        yaxis={"range": yr, "scaleanchor": "x", "scaleratio": 1, "title": {"text": "y (down)"}},
        margin={"l": 40, "r": 0, "t": 60 if title else 40, "b": CONTROLS_MARGIN if len(ids) > 1 else 10},
        plot_bgcolor="#f8f8f8",
    )
    return fig
