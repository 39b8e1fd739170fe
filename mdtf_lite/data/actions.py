"""Procedural human actions for the default generator: joint-angle curves + a root trajectory.

Each action is a function ``(n, fps, rng, style) -> Motion`` producing DOF curves (radians, see
``body.DOF_NAMES``), a forward speed and yaw rate (for locomotion) and a ballistic height (jumps).
Periodic actions (walking, jogging) are driven by a gait phase whose frequency drifts slowly;
discrete actions (sitting down, reaching, kicking, ...) interpolate random key poses with
smoothstep ramps (a cheap stand-in for minimum-jerk movements).  The generator then adds smooth
per-DOF variation, clips to human joint ranges and puts the lowest ankle on the ground.

Shapes: every curve is (n,) float64, n frames at ``fps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Motion", "ACTIONS", "smooth_noise", "keyframe_curves", "drifting_phase"]

DEG = np.pi / 180.0      # radians per degree
GRAVITY = 9.81           # m / s^2
D, G = DEG, GRAVITY      # the former names (they clash with the tensor glossary's D and G): go in phase 2


@dataclass
class Motion:
    """Output of an action: DOF curves (radians), forward speed (m/s), yaw rate (rad/s), lift (m)."""

    dofs: dict = field(default_factory=dict)
    speed: np.ndarray | None = None      # (n,) m/s along the heading; None = stands (small drift)
    yaw_rate: np.ndarray | None = None   # (n,) rad/s added to the heading
    lift: np.ndarray | None = None       # (n,) metres of flight above the feet-on-ground height
    steer: bool = False                  # keep the walker inside the capture area


def smooth_noise(rng, n: int, fps: float, amp: float, fmax: float = 0.4, k: int = 3) -> np.ndarray:
    """A smooth random curve (n,): a sum of ``k`` sinusoids below ``fmax`` Hz, std about ``amp``."""
    t = np.arange(n) / fps
    f = rng.uniform(0.03, fmax, size=k)
    ph = rng.uniform(0, 2 * np.pi, size=k)
    a = rng.normal(0, 1, size=k)
    return amp * np.sqrt(2.0 / k) * (a[:, None] * np.sin(2 * np.pi * f[:, None] * t + ph[:, None])).sum(0)


def drifting_phase(rng, n: int, fps: float, f0: float) -> np.ndarray:
    """Phase (n,) radians of an oscillation whose frequency drifts around ``f0`` Hz (+-8 %)."""
    f = f0 * (1 + 0.08 * np.tanh(smooth_noise(rng, n, fps, 1.0, 0.15)))
    return 2 * np.pi * np.cumsum(f) / fps + rng.uniform(0, 2 * np.pi)


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)  # quintic: zero velocity and acceleration at both ends


def keyframe_curves(rng, n: int, fps: float, sample, hold=(0.5, 2.0), ramp=(0.6, 1.4), first=None) -> dict:
    """Interpolate random key poses: ``sample(rng, k) -> dict dof -> value`` for the k-th key pose.

    Keys are held ``hold`` seconds and blended over ``ramp`` seconds with a quintic smoothstep.
    Returns dof -> (n,) curve.  ``first`` (a dict) is the pose at frame 0 if given.
    """
    keys, times = [], []
    t, k = 0.0, 0
    pose = first if first is not None else sample(rng, 0)
    while t < n / fps + 3:
        keys.append(pose)
        times.append(t)
        t += rng.uniform(*hold)
        keys.append(pose)
        times.append(t)
        t += rng.uniform(*ramp)
        k += 1
        pose = sample(rng, k)
    names = sorted({d for p in keys for d in p})
    tt = np.arange(n) / fps
    idx = np.clip(np.searchsorted(times, tt, side="right") - 1, 0, len(times) - 2)
    t0, t1 = np.asarray(times)[idx], np.asarray(times)[idx + 1]
    w = _smoothstep((tt - t0) / np.maximum(t1 - t0, 1e-9))
    out = {}
    for d in names:
        v = np.asarray([p.get(d, 0.0) for p in keys])
        out[d] = v[idx] * (1 - w) + v[idx + 1] * w
    return out


def _pos(x, power=1.0):
    return np.maximum(x, 0.0) ** power


# ------------------------------------------------------------------------------------- locomotion
def _gait(rng, n, fps, f0, hip_amp, knee_swing, arm_amp, elbow, lean, style) -> tuple[dict, np.ndarray, np.ndarray]:
    ph = drifting_phase(rng, n, fps, f0)
    leg = style["leg_length"]
    dofs = {}
    for side, off in (("l", 0.0), ("r", np.pi)):
        p = ph + off
        dofs[f"{side}_hip_flex"] = 10 * D + hip_amp * np.sin(p)
        # the knee bends in swing (hip moving forward), peaking just before the hip's forward peak, and
        # a little at loading (after heel strike); it is never locked straight
        dofs[f"{side}_knee"] = 12 * D + knee_swing * _pos(np.cos(p - 0.35), 2.0) + 15 * D * _pos(np.cos(p - np.pi - 0.4), 4)
        dofs[f"{side}_hip_abd"] = 3 * D + 2 * D * np.sin(p)
        arm_phase = p + np.pi  # an arm swings with the opposite leg
        dofs[f"{side}_sh_flex"] = 4 * D + arm_amp * np.sin(arm_phase)
        dofs[f"{side}_sh_abd"] = 8 * D
        dofs[f"{side}_elbow"] = elbow + 0.5 * elbow * (1 + np.sin(arm_phase)) / 2
    dofs["root_pitch"] = lean + 2 * D * np.sin(2 * ph)
    dofs["root_roll"] = 3 * D * np.sin(ph)
    dofs["root_yaw"] = 5 * D * np.sin(ph)
    dofs["thorax_twist"] = -7 * D * np.sin(ph)
    f = np.gradient(ph) * fps / (2 * np.pi)
    speed = f * 4 * leg * np.sin(hip_amp) * 0.85  # two steps per cycle, a step ~ 2 L sin(amplitude)
    return dofs, speed, ph


def walking(n, fps, rng, style):
    dofs, speed, _ = _gait(rng, n, fps, rng.uniform(0.8, 1.0) * style["tempo"], rng.uniform(18, 27) * D,
                           rng.uniform(50, 62) * D, rng.uniform(12, 25) * D * style["arm_swing"], rng.uniform(15, 40) * D,
                           rng.uniform(2, 7) * D, style)
    # stop and go: the speed and the gait amplitude fade together now and then
    go = 0.35 + 0.65 * keyframe_curves(rng, n, fps, lambda r, k: {"g": float(r.random() > 0.2)}, (2, 6), (0.8, 1.5))["g"]
    for k in dofs:
        if k.endswith(("hip_flex", "knee", "sh_flex")):
            dofs[k] = dofs[k] * go
    return Motion(dofs, speed * go, smooth_noise(rng, n, fps, 0.35, 0.2), steer=True)


def jogging(n, fps, rng, style):
    dofs, speed, ph = _gait(rng, n, fps, rng.uniform(1.25, 1.45) * style["tempo"], rng.uniform(24, 32) * D,
                            rng.uniform(80, 100) * D, rng.uniform(28, 40) * D * style["arm_swing"], 80 * D,
                            rng.uniform(8, 13) * D, style)
    lift = 0.045 * _pos((np.sin(2 * ph - 0.6) - 0.35) / 0.65, 1.5)  # flight ~40 % of the time
    return Motion(dofs, speed, smooth_noise(rng, n, fps, 0.5, 0.2), lift, steer=True)


def turning(n, fps, rng, style):
    """Walking on tight circles and turning on the spot, changing direction now and then."""
    dofs, speed, _ = _gait(rng, n, fps, rng.uniform(0.7, 0.9), rng.uniform(12, 18) * D, rng.uniform(40, 55) * D,
                           rng.uniform(8, 15) * D, 15 * D, 4 * D, style)
    direction = keyframe_curves(rng, n, fps, lambda r, k: {"d": r.choice([-1.0, 1.0]) * r.uniform(0.8, 1.8)},
                                (2, 4), (0.6, 1.0))["d"]
    return Motion(dofs, speed * 0.6, direction, steer=True)


# ---------------------------------------------------------------------------------- key-pose actions
def _standing(r, k, style=None):
    side = r.uniform(-1, 1)
    return {"l_sh_abd": r.uniform(4, 14) * D, "r_sh_abd": r.uniform(4, 14) * D, "l_elbow": r.uniform(5, 70) * D,
            "r_elbow": r.uniform(5, 70) * D, "l_sh_flex": r.uniform(-5, 25) * D, "r_sh_flex": r.uniform(-5, 25) * D, "neck_yaw": r.uniform(-30, 30) * D, "root_roll": 2 * side * D,
            "l_hip_abd": (3 + 2 * side) * D, "r_hip_abd": (3 - 2 * side) * D, "l_knee": r.uniform(3, 20) * D,
            "r_knee": r.uniform(3, 20) * D, "l_hip_flex": r.uniform(0, 15) * D, "r_hip_flex": r.uniform(0, 15) * D}


def sitting_down(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k)
        return {"l_hip_flex": r.uniform(80, 100) * D, "r_hip_flex": r.uniform(80, 100) * D,
                "l_knee": r.uniform(80, 110) * D, "r_knee": r.uniform(80, 110) * D,
                "l_hip_abd": r.uniform(4, 14) * D, "r_hip_abd": r.uniform(4, 14) * D,
                "lumbar_flex": r.uniform(-10, 15) * D, "l_sh_flex": r.uniform(20, 50) * D,
                "r_sh_flex": r.uniform(20, 50) * D, "l_elbow": r.uniform(50, 90) * D, "r_elbow": r.uniform(50, 90) * D,
                "neck_flex": r.uniform(-5, 25) * D, "neck_yaw": r.uniform(-40, 40) * D}
    dofs = keyframe_curves(rng, n, fps, sample, (1.5, 4.0), (1.0, 1.8))
    # lean forward while the hips pass from standing to sitting (balance over the feet)
    hip = (dofs["l_hip_flex"] + dofs["r_hip_flex"]) / 2
    dofs["root_pitch"] = 30 * D * np.sin(np.clip(hip / (90 * D), 0, 1) * np.pi) ** 2
    return Motion(dofs)


def picking_up(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k)
        squat = r.random() < 0.4
        return {"lumbar_flex": r.uniform(30, 60) * D * (0.5 if squat else 1), "thorax_flex": r.uniform(10, 30) * D,
                "l_hip_flex": (r.uniform(80, 100) if squat else r.uniform(35, 60)) * D,
                "r_hip_flex": (r.uniform(80, 100) if squat else r.uniform(35, 60)) * D,
                "l_knee": (r.uniform(100, 125) if squat else r.uniform(10, 40)) * D,
                "r_knee": (r.uniform(100, 125) if squat else r.uniform(10, 40)) * D,
                "l_sh_flex": r.uniform(50, 95) * D, "r_sh_flex": r.uniform(30, 95) * D,
                "l_elbow": r.uniform(5, 30) * D, "r_elbow": r.uniform(5, 40) * D, "neck_flex": r.uniform(0, 30) * D,
                "lumbar_twist": r.uniform(-15, 15) * D}
    return Motion(keyframe_curves(rng, n, fps, sample, (0.6, 2.0), (0.8, 1.5)))


def squatting(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k)
        return {"l_hip_flex": r.uniform(95, 120) * D, "r_hip_flex": r.uniform(95, 120) * D,
                "l_knee": r.uniform(110, 140) * D, "r_knee": r.uniform(110, 140) * D,
                "l_hip_abd": r.uniform(10, 25) * D, "r_hip_abd": r.uniform(10, 25) * D,
                "root_pitch": r.uniform(15, 35) * D, "lumbar_flex": r.uniform(0, 20) * D,
                "l_sh_flex": r.uniform(50, 95) * D, "r_sh_flex": r.uniform(50, 95) * D,
                "l_elbow": r.uniform(0, 40) * D, "r_elbow": r.uniform(0, 40) * D}
    return Motion(keyframe_curves(rng, n, fps, sample, (0.4, 1.5), (0.7, 1.3)))


def waving(n, fps, rng, style):
    both = rng.random() < 0.3
    arms = ("l", "r") if both else (rng.choice(["l", "r"]),)
    on = keyframe_curves(rng, n, fps, lambda r, k: {"on": float(k % 2 == 1)}, (1.0, 3.0), (0.5, 0.9))["on"]
    t = np.arange(n) / fps
    f = rng.uniform(1.5, 2.6)
    dofs = keyframe_curves(rng, n, fps, _standing, (1, 3), (1, 2))
    for s in arms:
        wave = np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
        dofs[f"{s}_sh_abd"] = dofs[f"{s}_sh_abd"] * (1 - on) + on * (rng.uniform(110, 160) * D + 8 * D * wave)
        dofs[f"{s}_sh_flex"] = on * rng.uniform(0, 30) * D
        dofs[f"{s}_sh_twist"] = on * (rng.uniform(20, 50) * D + 20 * D * wave)
        dofs[f"{s}_elbow"] = dofs[f"{s}_elbow"] * (1 - on) + on * (rng.uniform(30, 60) * D + 25 * D * wave)
    dofs["neck_yaw"] = dofs["neck_yaw"] * (1 - on)
    return Motion(dofs)


def jumping(n, fps, rng, style):
    """Counter-movement jumps: crouch, push off, ballistic flight (h = v0^2 / 2g), land, recover."""
    dofs = {k: np.zeros(n) for k in ("l_hip_flex", "r_hip_flex", "l_knee", "r_knee", "root_pitch",
                                     "l_sh_flex", "r_sh_flex", "l_elbow", "r_elbow")}
    lift, speed = np.zeros(n), np.zeros(n)
    t = rng.uniform(0.5, 1.5)
    tt = np.arange(n) / fps
    while t < n / fps:
        crouch, v0 = rng.uniform(0.35, 0.55), rng.uniform(1.8, 2.8)
        depth = rng.uniform(0.6, 1.0)
        flight = 2 * v0 / G
        forward = rng.choice([0.0, rng.uniform(0.3, 1.2)])
        # crouch: bell over [t, t + crouch]; landing absorption: bell after touchdown
        c = np.sin(np.clip((tt - t) / crouch, 0, 1) * np.pi) ** 2 * depth
        land = t + crouch + flight
        a = np.sin(np.clip((tt - land) / 0.4, 0, 1) * np.pi) ** 2 * 0.7 * depth
        bend = c + a
        in_air = (tt >= t + crouch) & (tt < land)
        s = tt - (t + crouch)
        lift = np.where(in_air, v0 * s - 0.5 * G * s ** 2, lift)
        speed = np.where(in_air, forward / flight, speed)
        dofs["l_hip_flex"] += bend * 80 * D
        dofs["r_hip_flex"] += bend * 80 * D
        dofs["l_knee"] += bend * 100 * D
        dofs["r_knee"] += bend * 100 * D
        dofs["root_pitch"] += bend * 30 * D
        tuck = np.where(in_air, np.sin(np.clip(s / flight, 0, 1) * np.pi), 0) * rng.uniform(0, 0.6)
        for k in ("l_hip_flex", "r_hip_flex"):
            dofs[k] += tuck * 60 * D
        for k in ("l_knee", "r_knee"):
            dofs[k] += tuck * 80 * D
        # arms swing back in the crouch and up through take-off
        up = np.where(s < 0, 0.0, np.where(s < flight, np.sin(np.clip(s / flight, 0, 1) * np.pi / 2),
                                            np.exp(-np.clip(s - flight, 0, None) / 0.35)))
        swing = -50 * D * c + 140 * D * up * rng.uniform(0.6, 1.0)
        dofs["l_sh_flex"] += swing
        dofs["r_sh_flex"] += swing
        t = land + 0.4 + rng.uniform(0.5, 2.0)
    dofs["l_elbow"] += rng.uniform(15, 60) * D
    dofs["r_elbow"] += rng.uniform(15, 60) * D
    dofs["l_knee"] += 10 * D
    dofs["r_knee"] += 10 * D
    return Motion(dofs, speed, lift=np.maximum(lift, 0), steer=True)


def reaching(n, fps, rng, style):
    def sample(r, k):
        p = _standing(r, k)
        if k % 2 == 1:
            side = r.choice(["l", "r"])
            height = r.uniform(-1, 1)  # -1: reach to the floor, +1: overhead
            p[f"{side}_sh_flex"] = (95 + 70 * height) * D if height > -0.4 else r.uniform(60, 90) * D
            p[f"{side}_sh_abd"] = r.uniform(0, 50) * D
            p[f"{side}_elbow"] = r.uniform(0, 30) * D
            p["lumbar_twist"] = (15 if side == "l" else -15) * D * r.uniform(0, 1.5)
            if height < -0.4:
                p["lumbar_flex"] = r.uniform(30, 60) * D
                p["l_hip_flex"] = p["r_hip_flex"] = r.uniform(20, 50) * D
                p["l_knee"] = p["r_knee"] = r.uniform(10, 50) * D
        return p
    return Motion(keyframe_curves(rng, n, fps, sample, (0.3, 1.5), (0.6, 1.2)))


def kicking(n, fps, rng, style):
    dofs = keyframe_curves(rng, n, fps, _standing, (1, 3), (1, 2))
    tt = np.arange(n) / fps
    for k in ("l_hip_flex", "r_hip_flex", "l_sh_flex", "r_sh_flex", "root_pitch"):
        dofs.setdefault(k, np.zeros(n))
    t = rng.uniform(0.5, 1.5)
    while t < n / fps:
        s = rng.choice(["l", "r"])
        o = "r" if s == "l" else "l"
        dur, height = rng.uniform(0.5, 0.9), rng.uniform(50, 95) * D
        u = np.clip((tt - t) / dur, 0, 1)
        up = np.sin(u * np.pi) ** 2
        chamber = np.sin(np.clip(u * 2, 0, 1) * np.pi)      # knee bends early, extends at the hit
        dofs[f"{s}_hip_flex"] = dofs[f"{s}_hip_flex"] + height * up
        dofs[f"{s}_knee"] = dofs[f"{s}_knee"] + 85 * D * chamber
        dofs["root_pitch"] = dofs["root_pitch"] - 12 * D * up
        dofs[f"{o}_knee"] = dofs[f"{o}_knee"] + 12 * D * up
        dofs[f"{o}_sh_abd"] = dofs[f"{o}_sh_abd"] + 35 * D * up
        dofs[f"{s}_sh_flex"] = dofs[f"{s}_sh_flex"] - 30 * D * up
        t += dur + rng.uniform(0.8, 2.5)
    return Motion(dofs)


def stretching(n, fps, rng, style):
    def sample(r, k):
        kind = r.integers(0, 4) if k % 2 else -1
        p = _standing(r, k)
        if kind == 0:  # arms overhead, side bend
            p.update({"l_sh_abd": r.uniform(150, 175) * D, "r_sh_abd": r.uniform(150, 175) * D,
                      "l_elbow": r.uniform(0, 25) * D, "r_elbow": r.uniform(0, 25) * D,
                      "lumbar_side": r.uniform(-25, 25) * D, "thorax_side": r.uniform(-15, 15) * D})
        elif kind == 1:  # forward bend
            p.update({"lumbar_flex": r.uniform(45, 70) * D, "thorax_flex": r.uniform(15, 35) * D,
                      "l_hip_flex": r.uniform(50, 80) * D, "r_hip_flex": r.uniform(50, 80) * D,
                      "l_sh_flex": r.uniform(70, 110) * D, "r_sh_flex": r.uniform(70, 110) * D, "neck_flex": 20 * D})
        elif kind == 2:  # trunk twist with arms out
            tw = r.uniform(-35, 35) * D
            p.update({"lumbar_twist": tw, "thorax_twist": tw * 0.6, "l_sh_abd": r.uniform(70, 95) * D,
                      "r_sh_abd": r.uniform(70, 95) * D})
        elif kind == 3:  # lunge
            s = r.choice(["l", "r"])
            o = "r" if s == "l" else "l"
            p.update({f"{s}_hip_flex": r.uniform(60, 85) * D, f"{s}_knee": r.uniform(70, 95) * D,
                      f"{o}_hip_flex": -r.uniform(15, 25) * D, f"{o}_knee": r.uniform(30, 70) * D,
                      "l_sh_abd": r.uniform(100, 170) * D, "r_sh_abd": r.uniform(100, 170) * D})
        return p
    return Motion(keyframe_curves(rng, n, fps, sample, (1.0, 2.5), (1.2, 2.2)))


def boxing(n, fps, rng, style):
    base = {"l_sh_flex": 45 * D, "r_sh_flex": 45 * D, "l_elbow": 120 * D, "r_elbow": 120 * D,
            "l_sh_abd": 20 * D, "r_sh_abd": 20 * D, "l_hip_flex": 15 * D, "r_hip_flex": 10 * D,
            "l_knee": 22 * D, "r_knee": 22 * D, "l_hip_abd": 8 * D, "r_hip_abd": 8 * D, "neck_flex": 10 * D}
    tt = np.arange(n) / fps
    dofs = {k: v + smooth_noise(rng, n, fps, 6 * D, 0.6) for k, v in base.items()}
    dofs["lumbar_twist"] = smooth_noise(rng, n, fps, 5 * D, 0.5)
    bob = np.sin(2 * np.pi * rng.uniform(1.2, 1.8) * tt) * 6 * D
    dofs["l_knee"] += bob
    dofs["r_knee"] += bob
    t = rng.uniform(0.3, 0.8)
    while t < n / fps:
        s = rng.choice(["l", "r"])
        u = np.clip((tt - t) / rng.uniform(0.25, 0.4), 0, 1)
        jab = np.sin(u * np.pi) ** 2
        dofs[f"{s}_sh_flex"] += 45 * D * jab
        dofs[f"{s}_elbow"] -= 110 * D * jab
        dofs["lumbar_twist"] += (-18 if s == "l" else 18) * D * jab
        t += rng.uniform(0.35, 1.1)
    return Motion(dofs)


def directions(n, fps, rng, style):
    """Standing, looking around and pointing in a direction (like H36M 'Directions')."""
    def sample(r, k):
        p = _standing(r, k)
        if r.random() < 0.6:
            side = r.choice(["l", "r"])
            p[f"{side}_sh_flex"] = r.uniform(60, 110) * D
            p[f"{side}_sh_abd"] = r.uniform(0, 60) * D
            p[f"{side}_elbow"] = r.uniform(0, 25) * D
            p["neck_yaw"] = (1 if side == "l" else -1) * r.uniform(0, 50) * D
        return p
    turn = keyframe_curves(rng, n, fps, lambda r, k: {"y": r.uniform(-0.6, 0.6) * (r.random() < 0.4)}, (1, 3), (0.8, 1.4))
    return Motion(keyframe_curves(rng, n, fps, sample, (0.8, 2.5), (0.7, 1.3)), yaw_rate=turn["y"])


#: action name -> generator, in a fixed order (the order of the dataset's takes).
ACTIONS = {
    "Walking": walking, "Jogging": jogging, "Turning": turning, "SittingDown": sitting_down,
    "PickingUp": picking_up, "Squatting": squatting, "Waving": waving, "Jumping": jumping,
    "Reaching": reaching, "Kicking": kicking, "Stretching": stretching, "Boxing": boxing, "Directions": directions,
}
