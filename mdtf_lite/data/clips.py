"""Sequences -> fixed-length clips: the one dataset API every source goes through.

A source is first turned into :class:`Video` records (one per subject x action x camera, or per
MotionBERT ``source`` id); :func:`make_clips` cuts them into clips of T frames and normalises:

    inputs   (N, T, 17, 3)  x, y screen-normalised (``uv / w * 2 - [1, h / w]``) + detector confidence
    targets  (N, T, 17, 3)  root-relative: camera-frame metres ("camera") or normalised 2.5D ("2.5d":
                            x, y as the inputs, z = z_px / w * 2; multiply by w / 2 * factor for mm)
    meta     dict of arrays with first dim N: subject, action, camera, start, video (str id),
             frames (N, T) source frame indices, factor_2.5d (N, T) mm/px (NaN if unknown),
             valid (N, T) bool, res_w, res_h

Windows: starts 0, stride, 2 stride, ... while a full window fits (the tail after the last full window
is dropped, as in the MotionBERT protocol); a video shorter than T gives one clip resampled to T
(nearest frames) with ``short="resample"``, or is skipped / refused with "skip" / "error".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdtf_lite.data.geometry import flip_poses, normalise_screen
from mdtf_lite.skeleton import NUM_JOINTS

__all__ = ["Video", "ClipDataset", "make_clips", "window_starts", "flip_inputs", "flip_targets"]


@dataclass
class Video:
    """One camera view of one sequence.

    keypoints (T, 17, 3) pixels + confidence; target_cam (T, 17, 3) camera metres or None;
    pose_25d (T, 17, 3) pixels (z in pixels at the root depth) or None; factor_25d (T,) mm/px or None;
    valid (T,) bool or None (all valid).
    """

    keypoints: np.ndarray
    res_w: int
    res_h: int
    subject: str
    action: str
    camera: int
    name: str
    target_cam: np.ndarray | None = None
    pose_25d: np.ndarray | None = None
    factor_25d: np.ndarray | None = None
    valid: np.ndarray | None = None


def window_starts(length: int, frames: int, stride: int) -> list[int]:
    """Start frames of the full windows of ``frames`` in a sequence of ``length`` (stride ``stride``)."""
    return list(range(0, length - frames + 1, stride))


def _check_video(v: Video, target: str) -> None:
    kp = v.keypoints
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(
            f"video {v.name!r}: keypoints have shape {kp.shape}, expected (T, {NUM_JOINTS}, 3) "
            "pixels + confidence in H36M-17 joint order"
        )
    if not np.all(np.isfinite(kp)):
        t, j = np.argwhere(~np.isfinite(kp))[0][:2]
        raise ValueError(
            f"video {v.name!r}: keypoints have NaN/Inf (first at frame {t}, joint {j}); "
            "interpolate or drop those frames before making clips"
        )
    if np.all(kp[..., 2] <= 0):
        raise ValueError(
            f"video {v.name!r}: every confidence is zero; the detections are missing. Use "
            "keypoints='gt' or re-run the detector for this video"
        )
    arr = v.target_cam if target == "camera" else v.pose_25d
    if arr is None:
        raise ValueError(
            f"video {v.name!r} has no {target!r} target; this source offers "
            f"{'2.5d' if v.pose_25d is not None else 'camera'} targets only: pass target=... accordingly"
        )
    if arr.shape != kp.shape or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"video {v.name!r}: {target} target has shape {arr.shape} (expected {kp.shape}) "
            "or NaN/Inf values; convert the source again"
        )


def make_clips(
    videos: list[Video],
    frames: int,
    stride: int | None = None,
    target: str = "camera",
    short: str = "resample",
    max_clips: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Cut videos into clips; returns (inputs (N, T, 17, 3), targets (N, T, 17, 3), meta) as float32.

    ``stride`` defaults to T (non-overlapping).  ``target`` is "camera" or "2.5d".  ``max_clips`` keeps a
    seeded random subset of the windows (in their original order), chosen before any array is gathered.
    """
    if target not in ("camera", "2.5d"):
        raise ValueError(f"target must be 'camera' or '2.5d', got {target!r}")
    if short not in ("resample", "skip", "error"):
        raise ValueError(f"short must be 'resample', 'skip' or 'error', got {short!r}")
    frames = int(frames)
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    stride = frames if stride is None else int(stride)
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    per_video = []  # (video index, frame-index matrix (n_clips, T))
    for vi, v in enumerate(videos):
        _check_video(v, target)
        n = len(v.keypoints)
        if n >= frames:
            starts = np.asarray(window_starts(n, frames, stride), np.int64)
            per_video.append((vi, starts[:, None] + np.arange(frames)[None]))
        elif short == "error" or n < 2:
            raise ValueError(
                f"video {v.name!r} has {n} frames, fewer than the clip length T={frames}: use shorter "
                "clips (frames=...), short='resample' (one clip resampled to T) or short='skip'"
            )
        elif short == "resample":
            per_video.append((vi, np.round(np.linspace(0, n - 1, frames)).astype(np.int64)[None]))
    if not per_video:
        raise ValueError(f"no clips: every one of the {len(videos)} videos is shorter than T={frames}")
    total = sum(len(idx) for _, idx in per_video)
    if max_clips is not None and int(max_clips) < total:
        keep = np.zeros(total, bool)
        keep[np.random.default_rng(seed).choice(total, int(max_clips), replace=False)] = True
        kept, offset = [], 0
        for vi, idx in per_video:
            rows = keep[offset : offset + len(idx)]
            offset += len(idx)
            if rows.any():
                kept.append((vi, idx[rows]))
        per_video = kept
    ins, tgs, facs, vals, idxs, rows = [], [], [], [], [], []
    for vi, idx in per_video:  # normalise each video once, then gather its windows (vectorised)
        v = videos[vi]
        kp = v.keypoints
        x = np.concatenate([normalise_screen(kp[..., :2], v.res_w, v.res_h), kp[..., 2:3]], -1)
        if target == "camera":
            t = v.target_cam - v.target_cam[:, :1]
        else:
            p = v.pose_25d
            t = np.concatenate([normalise_screen(p[..., :2], v.res_w, v.res_h), p[..., 2:] / v.res_w * 2], -1)
            t = t - t[:, :1]
        ins.append(x.astype(np.float32)[idx])
        tgs.append(t.astype(np.float32)[idx])
        facs.append(
            np.full(idx.shape, np.nan, np.float32) if v.factor_25d is None else v.factor_25d.astype(np.float32)[idx]
        )
        vals.append(np.ones(idx.shape, bool) if v.valid is None else np.asarray(v.valid, bool)[idx])
        idxs.append(idx)
        rows += [(v.subject, v.action, v.camera, int(r[0]), v.name, v.res_w, v.res_h) for r in idx]
    inputs, targets = np.concatenate(ins), np.concatenate(tgs)
    cols = list(zip(*rows))
    meta = {k: np.asarray(c) for k, c in zip(("subject", "action", "camera", "start", "video", "res_w", "res_h"), cols)}
    meta.update({"frames": np.concatenate(idxs), "factor_2.5d": np.concatenate(facs), "valid": np.concatenate(vals)})
    return inputs, targets, meta


def flip_inputs(inputs):
    """Horizontal flip of inputs (..., 17, 3) (x, y, confidence): negate x, swap left/right joints."""
    return flip_poses(inputs)


def flip_targets(targets):
    """Horizontal flip of root-relative targets (..., 17, 3) (camera metres or 2.5D): negate x, swap sides."""
    return flip_poses(targets)


try:
    import torch
    from torch.utils.data import Dataset as _TorchDataset
except ImportError:  # pragma: no cover - torch is a hard dependency, but keep the data layer importable
    torch, _TorchDataset = None, object


class ClipDataset(_TorchDataset):
    """Clips as a torch ``Dataset``: ``ds[i] -> (inputs[i], targets[i], i)``.

    Attributes: ``inputs`` / ``targets`` float32 tensors (N, T, 17, 3), ``meta`` (dict of numpy arrays, first
    dim N), ``source``, ``split``, ``target`` ("camera" | "2.5d"), ``keypoints`` ("detected" | "gt"), ``fps``.
    """

    def __init__(
        self,
        inputs,
        targets,
        meta: dict,
        source: str = "",
        split: str = "",
        target: str = "camera",
        keypoints: str = "detected",
        fps: float = 50.0,
    ):
        self.inputs = torch.from_numpy(np.ascontiguousarray(inputs, np.float32))
        self.targets = torch.from_numpy(np.ascontiguousarray(targets, np.float32))
        self.meta = meta
        self.source, self.split, self.target, self.keypoints, self.fps = source, split, target, keypoints, fps

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    def __getitem__(self, i):
        return self.inputs[i], self.targets[i], i

    @property
    def frames(self) -> int:
        return int(self.inputs.shape[1])

    def subset(self, indices) -> "ClipDataset":
        """A new dataset with the clips ``indices`` (order kept)."""
        idx = np.asarray(indices, dtype=np.int64)
        meta = {k: v[idx] for k, v in self.meta.items()}
        return ClipDataset(
            self.inputs.numpy()[idx],
            self.targets.numpy()[idx],
            meta,
            self.source,
            self.split,
            self.target,
            self.keypoints,
            self.fps,
        )

    def __repr__(self) -> str:
        return (
            f"ClipDataset(source={self.source!r}, split={self.split!r}, N={len(self)}, T={self.frames}, "
            f"keypoints={self.keypoints!r}, target={self.target!r})"
        )
