"""A 2D keypoint detector's errors, simulated: what turns ground-truth 2D into "detected" 2D.

Model (per camera view, per take), fitted by eye to what CPN / Stacked-Hourglass detections on
Human3.6M look like (errors of a few pixels, worse at wrists/ankles/hips, occasional failures):

* **jitter**: zero-mean Gaussian with a joint-dependent std ``JOINT_SIGMA_PX`` (pixels for a person at
  5 m seen by a ~1150 px focal length), scaled with the person's apparent size (5 m / root depth),
  half white and half temporally correlated (a 5-frame moving average), like real detector wobble;
* **gross errors**: rare bursts (2-15 frames) where one joint jumps 25-120 px away (confidence drops);
* **left/right swaps**: rare bursts (3-20 frames) where a limb's left and right joints trade places
  (the detector is *confidently* wrong: confidence stays 0.4-0.8);
* **confidence** in (0, 1]: ``exp(-0.5 (err / 2.5 sigma_j)^2)`` with a little noise, so it drops where the
  error is large, and it is never exactly zero.

Shapes: keypoints (T, J, 2) pixels; depth (T,) metres; output (T, J, 3) = pixels + confidence.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.skeleton import NUM_JOINTS

__all__ = ["JOINT_SIGMA_PX", "NoiseModel", "detect"]

#: jitter std (pixels) per joint for a person at 5 m: hips are ambiguous, wrists move fast.
JOINT_SIGMA_PX = np.array([4.5, 6.0, 4.5, 5.0, 6.0, 4.5, 5.0, 6.0, 4.0, 3.5, 4.5, 4.0, 5.0, 7.0, 4.0, 5.0, 7.0])
#: per-frame probability that a gross error starts at a joint (extremities fail more often).
JOINT_GROSS_RATE = np.array([1, 2, 3, 4, 2, 3, 4, 1, 1, 1, 2, 2, 4, 6, 2, 4, 6], float) * 4e-4
#: limb pairs that can be swapped together: (left joints, right joints)
SWAP_GROUPS = (((5, 6), (2, 3)), ((12, 13), (15, 16)), ((4, 5, 6), (1, 2, 3)))


class NoiseModel:
    """Parameters of :func:`detect` (defaults are the default dataset's)."""

    def __init__(self, jitter_scale: float = 1.0, gross_scale: float = 1.0, swap_rate: float = 1.5e-3):
        self.jitter_scale, self.gross_scale, self.swap_rate = jitter_scale, gross_scale, swap_rate


def _moving_average(x: np.ndarray, k: int = 5) -> np.ndarray:
    """Centred moving average over axis 0 of (T, ...) with edge padding, rescaled to unit variance."""
    pad = np.concatenate([np.repeat(x[:1], k // 2, 0), x, np.repeat(x[-1:], k // 2, 0)], 0)
    c = np.cumsum(pad, axis=0)
    c = np.concatenate([np.zeros_like(c[:1]), c], 0)
    return (c[k:] - c[:-k]) / k * np.sqrt(k)


def _bursts(rng, n: int, rate: float, dur: tuple[int, int]) -> list[tuple[int, int]]:
    starts = np.flatnonzero(rng.random(n) < rate)
    return [(int(s), int(min(n, s + rng.integers(dur[0], dur[1] + 1)))) for s in starts]


def detect(keypoints, depth, rng: np.random.Generator, model: NoiseModel | None = None) -> np.ndarray:
    """Simulated detections (T, J, 3) float64 (pixels + confidence) of GT keypoints (T, J, 2) px.

    ``depth`` (T,) is the root depth in metres (sets the apparent size of the person).
    """
    model = model or NoiseModel()
    kp = np.asarray(keypoints, dtype=np.float64)
    n = kp.shape[0]
    if kp.shape[1:] != (NUM_JOINTS, 2):
        raise ValueError(f"keypoints have shape {kp.shape}; expected (T, {NUM_JOINTS}, 2) pixels")
    scale = (5.0 / np.clip(np.asarray(depth, float), 1.0, None))[:, None, None]
    sigma = JOINT_SIGMA_PX[None, :, None] * scale * model.jitter_scale  # (T, J, 1)
    white = rng.standard_normal((n, NUM_JOINTS, 2))
    slow = _moving_average(rng.standard_normal((n, NUM_JOINTS, 2)))
    err = sigma * (np.sqrt(0.5) * white + np.sqrt(0.5) * slow)
    out = kp + err
    conf_override = np.full((n, NUM_JOINTS), np.nan)
    for j in range(NUM_JOINTS):  # gross errors: a joint jumps away for a few frames
        for a, b in _bursts(rng, n, JOINT_GROSS_RATE[j] * model.gross_scale, (2, 15)):
            angle, mag = rng.uniform(0, 2 * np.pi), rng.uniform(25, 120) * scale[a, 0, 0]
            out[a:b, j] += mag * np.array([np.cos(angle), np.sin(angle)])
    for a, b in _bursts(rng, n, model.swap_rate, (3, 20)):  # left/right swaps of one limb
        left, right = SWAP_GROUPS[rng.integers(len(SWAP_GROUPS))]
        left, right = list(left), list(right)
        out[a:b, left + right] = out[a:b, right + left]
        conf_override[a:b, left + right] = rng.uniform(0.4, 0.8)
    dist = np.linalg.norm(out - kp, axis=-1)  # (T, J)
    conf = np.exp(-0.5 * (dist / (2.5 * sigma[..., 0])) ** 2) * 0.97 + rng.normal(0, 0.02, (n, NUM_JOINTS))
    conf = np.where(np.isnan(conf_override), conf, conf_override)
    return np.concatenate([out, np.clip(conf, 0.02, 1.0)[..., None]], axis=-1)
