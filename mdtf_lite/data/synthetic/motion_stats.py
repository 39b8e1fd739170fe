"""Motion statistics used to compare the default generator with real motion capture (CMU).

All take world joints (T, 17, 3) metres at 50 fps (Z up) and return 1-D samples, pooled over frames:

* ``bone_length_cv``     per bone: std / mean of its length over the frames (0 for a rigid skeleton)
* ``joint_speeds``       speed (m/s) of a joint between consecutive frames
* ``flexion_angles``     knee and elbow flexion (degrees, 0 = straight), hip flexion (thigh vs trunk),
                         trunk lean (pelvis->thorax vs vertical)
* ``foot_skate``         horizontal speed (m/s) of the lower ankle while it is within 2 cm of its floor level
* ``wasserstein_1d``     distance between two 1-D samples (mean gap of their quantile functions)
* ``joint_angles``       knee, elbow, hip, shoulder and spine angles (degrees) of the realism table
* ``speed_spectrum``     normalised power spectrum of joint velocity (Hz), ``median_frequency`` its midpoint
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.skeleton import BONES

__all__ = [
    "bone_length_cv",
    "joint_speeds",
    "flexion_angles",
    "foot_skate",
    "wasserstein_1d",
    "summarise",
    "joint_angles",
    "SPECTRUM_JOINTS",
    "speed_spectrum",
    "median_frequency",
]


def bone_length_cv(world: np.ndarray) -> np.ndarray:
    """(16,) coefficient of variation of each bone's length over the T frames."""
    lengths = np.stack([np.linalg.norm(world[:, c] - world[:, p], axis=-1) for p, c in BONES], -1)
    return lengths.std(0) / lengths.mean(0)


def joint_speeds(world: np.ndarray, joints, fps: float = 50.0) -> np.ndarray:
    """Speeds (m/s) of ``joints`` over consecutive frames: (T - 1) * len(joints) samples."""
    v = np.diff(world[:, list(joints)], axis=0) * fps
    return np.linalg.norm(v, axis=-1).reshape(-1)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def flexion_angles(world: np.ndarray) -> dict[str, np.ndarray]:
    """Degrees, pooled over left and right: knee, elbow, hip flexion; trunk lean from vertical."""
    w = world
    knee = np.r_[_angle(w[:, 2] - w[:, 1], w[:, 3] - w[:, 2]), _angle(w[:, 5] - w[:, 4], w[:, 6] - w[:, 5])]
    elbow = np.r_[_angle(w[:, 12] - w[:, 11], w[:, 13] - w[:, 12]), _angle(w[:, 15] - w[:, 14], w[:, 16] - w[:, 15])]
    down_trunk = w[:, 0] - w[:, 8]
    hip = np.r_[_angle(down_trunk, w[:, 2] - w[:, 1]), _angle(down_trunk, w[:, 5] - w[:, 4])]
    lean = _angle(w[:, 8] - w[:, 0], np.array([0.0, 0.0, 1.0]))
    return {
        "knee flexion (deg)": knee,
        "elbow flexion (deg)": elbow,
        "hip flexion (deg)": hip,
        "trunk lean (deg)": lean,
    }


def foot_skate(world: np.ndarray, fps: float = 50.0) -> np.ndarray:
    """Horizontal speed (m/s) of the lower ankle in frames where it is within 2 cm of the floor level."""
    z = np.minimum(world[:, 3, 2], world[:, 6, 2])
    floor = np.percentile(z, 5)
    low = np.where(world[:, 3, 2] < world[:, 6, 2], 3, 6)
    xy = world[np.arange(len(world)), low, :2]
    v = np.linalg.norm(np.diff(xy, axis=0), axis=-1) * fps
    same = low[1:] == low[:-1]
    keep = same & (z[1:] < floor + 0.02)
    return v[keep]


def wasserstein_1d(a: np.ndarray, b: np.ndarray, n: int = 512) -> float:
    """W1 distance of two 1-D samples: mean |Q_a(u) - Q_b(u)| over ``n`` quantile levels."""
    u = (np.arange(n) + 0.5) / n
    return float(np.mean(np.abs(np.quantile(a, u) - np.quantile(b, u))))


def summarise(worlds: list[np.ndarray], fps: float = 50.0) -> dict[str, np.ndarray]:
    """Pooled samples of every statistic over several sequences (each (T, 17, 3))."""
    out: dict[str, list] = {}

    def add(k, v):
        out.setdefault(k, []).append(np.asarray(v, float).reshape(-1))

    for w in worlds:
        add("bone length CV (%)", 100 * bone_length_cv(w))
        add("pelvis speed (m/s)", joint_speeds(w, [0], fps))
        add("wrist speed (m/s)", joint_speeds(w, [13, 16], fps))
        add("ankle speed (m/s)", joint_speeds(w, [3, 6], fps))
        add("head speed (m/s)", joint_speeds(w, [10], fps))
        for k, v in flexion_angles(w).items():
            add(k, v)
        add("foot skate (m/s)", foot_skate(w, fps))
    return {k: np.concatenate(v) for k, v in out.items()}


def joint_angles(world: np.ndarray) -> dict[str, np.ndarray]:
    """Degrees, pooled over left and right, of the five joints the realism table reports:

    * ``knee``      thigh vs shank (0 = straight leg)
    * ``elbow``     upper arm vs forearm (0 = straight arm)
    * ``hip``       thigh vs the trunk's downward axis (thorax -> pelvis; 0 = standing, 90 = seated)
    * ``shoulder``  upper arm vs the trunk's downward axis (0 = arm hanging, 90 = arm horizontal)
    * ``spine``     lower trunk (pelvis -> spine) vs upper trunk (spine -> thorax): bending of the back

    Input (T, 17, 3) metres; each output (2T,) for the paired joints, (T,) for the spine.
    """
    w = world
    base = flexion_angles(w)
    down = w[:, 0] - w[:, 8]
    shoulder = np.r_[_angle(down, w[:, 12] - w[:, 11]), _angle(down, w[:, 15] - w[:, 14])]
    spine = _angle(w[:, 7] - w[:, 0], w[:, 8] - w[:, 7])
    return {
        "knee": base["knee flexion (deg)"],
        "elbow": base["elbow flexion (deg)"],
        "hip": base["hip flexion (deg)"],
        "shoulder": shoulder,
        "spine": spine,
    }


#: joint groups of the speed spectra (H36M-17 indices)
SPECTRUM_JOINTS = {"pelvis": [0], "wrists": [13, 16], "ankles": [3, 6], "head": [10]}


def speed_spectrum(worlds, joints, fps: float = 50.0, window: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Mean power spectrum of joint velocity: (freqs (window // 2 + 1,) Hz, power (window // 2 + 1,)).

    Each sequence (T, 17, 3) is cut into half-overlapping Hann windows of ``window`` frames; the power of
    the x, y, z velocity of each joint is summed and averaged over windows, then normalised to sum 1 (the
    shape of the spectrum, not its level).  Sequences shorter than ``window`` are skipped.
    """
    freqs = np.fft.rfftfreq(window, 1.0 / fps)
    hann = np.hanning(window)[:, None, None]
    total, count = np.zeros(len(freqs)), 0
    for w in worlds:
        v = np.diff(np.asarray(w, float)[:, list(joints)], axis=0) * fps  # (T-1, J, 3)
        for s in range(0, len(v) - window + 1, window // 2):
            seg = v[s : s + window]
            seg = (seg - seg.mean(0)) * hann
            total += (np.abs(np.fft.rfft(seg, axis=0)) ** 2).sum(axis=(1, 2))
            count += 1
    if count == 0:
        raise ValueError(
            f"speed_spectrum: every sequence is shorter than window={window} frames; pass a smaller window"
        )
    return freqs, total / total.sum()


def median_frequency(freqs: np.ndarray, power: np.ndarray) -> float:
    """The frequency (Hz) below which half of the spectrum's power lies."""
    c = np.cumsum(power) / np.sum(power)
    return float(np.interp(0.5, c, freqs))
