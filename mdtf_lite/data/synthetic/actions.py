"""Procedural human actions for the default generator: joint-angle curves + a root trajectory.

Each action is a function ``(n, fps, rng, style) -> Motion`` producing DOF curves (radians, see
``body.DOF_NAMES``), a forward speed and yaw rate (for locomotion) and a ballistic height (jumps).
Targets come from published biomechanics, never from the CMU clips (those are the held-out check of
``python -m mdtf_lite.bench data``):

* walking, jogging and turning follow normative gait-lab curves per leg (``KNEE_WALK``, ``HIP_WALK``, ...,
  sources beside them), one phase driving hip, knee, pelvis tilt/obliquity/rotation, thorax
  counter-rotation and the opposite arm's swing with bent elbows; the cadence drifts slowly;
* discrete actions (sitting down, reaching, kicking, eating, ...) interpolate random key poses with
  quintic smoothstep ramps (a cheap stand-in for minimum-jerk movements), inside the joint ranges of
  daily activities (Morrey et al. 1981 for the elbow, Hemmerich et al. 2006 for sitting and squatting,
  Safaee-Rad et al. 1990 for hand-to-mouth);
* the standing pose has soft knees and elbows, a weight shift and one of several daily arm carriages;
  a subject's ``style`` (``synth.make_subject``) sets resting knee/elbow flexion, tempo, step amplitude,
  arm swing and posture.

``synth.generate_take`` then adds transitions (idle lead-in, settling, walks between actions), smooth
per-DOF variation (postural sway included), clips to human joint ranges and puts the lowest ankle on the
ground.

Shapes: every curve is (n,) float64, n frames at ``fps``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Motion",
    "ACTIONS",
    "LOCOMOTION",
    "smooth_noise",
    "keyframe_curves",
    "drifting_phase",
    "periodic_curve",
    "idle",
]

DEG = np.pi / 180.0  # radians per degree
GRAVITY = 9.81  # m / s^2


@dataclass
class Motion:
    """Output of an action: DOF curves (radians), forward speed (m/s), yaw rate (rad/s), lift (m)."""

    dofs: dict = field(default_factory=dict)
    speed: np.ndarray | None = None  # (n,) m/s along the heading; None = stands (small drift)
    yaw_rate: np.ndarray | None = None  # (n,) rad/s added to the heading
    lift: np.ndarray | None = None  # (n,) metres of flight above the feet-on-ground height
    steer: bool = False  # keep the walker inside the capture area
    locomotion: bool = False  # a gait: in flight the body carries the speed of the steps around it


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


def keyframe_curves(
    rng, n: int, fps: float, sample, hold=(0.5, 2.0), ramp=(0.6, 1.4), first=None, hold_odd=None
) -> dict:
    """Interpolate random key poses: ``sample(rng, k) -> dict dof -> value`` for the k-th key pose.

    Keys are held ``hold`` seconds (odd keys ``hold_odd`` if given: the action's own pose in actions that
    alternate it with standing) and blended over ``ramp`` seconds with a quintic smoothstep.
    Returns dof -> (n,) curve.  ``first`` (a dict) is the pose at frame 0 if given.
    """
    keys, times = [], []
    t, k = 0.0, 0
    pose = first if first is not None else sample(rng, 0)
    while t < n / fps + 3:
        keys.append(pose)
        times.append(t)
        t += rng.uniform(*(hold_odd if hold_odd is not None and k % 2 else hold))
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
# Normative joint-angle curves over one gait cycle of a leg (fraction of the cycle from its initial contact,
# degrees), read off the published gait-lab norms, not fitted to any capture used for evaluation:
# * walking at free speed, Perry & Burnfield, *Gait Analysis: Normal and Pathological Function* (2nd ed.
#   2010) and Winter, *Biomechanics and Motor Control of Human Movement* (4th ed. 2009): knee ~5 deg at initial
#   contact, a 15-20 deg loading-response peak at ~15 %, ~5 deg in terminal stance, ~40 deg at toe-off (~60 %),
#   60-65 deg swing peak at ~72 %; hip ~30 deg flexion at contact, ~10 deg extension at ~50 %, ~35 deg late
#   swing; hip adduction ~5-8 deg in loading, slight abduction in swing; pelvic tilt ~4 deg total arc (twice per
#   stride), obliquity ~+-4 deg (the swing side drops), rotation ~+-4 deg; thorax counter-rotation.
# * arm swing, Murray, Sepic & Barnard, Phys. Ther. 47 (1967) 272-284: a shoulder excursion of ~30 deg, more
#   extension than flexion, the elbow flexed ~20 deg behind and ~45 deg in front.
# * running (jogging, ~3 m/s), Novacheck, Gait & Posture 7 (1998) 77-95: stance ~40 % of the cycle, knee ~20 deg
#   at contact, ~45 deg at mid-stance, ~90 deg in swing (more when sprinting); hip ~40 deg flexion at contact,
#   ~10 deg extension at toe-off, ~45 deg late swing; elbows held at ~80-100 deg; trunk lean ~5-10 deg.
KNEE_WALK = ((0.00, 5), (0.15, 18), (0.40, 5), (0.50, 8), (0.62, 40), (0.73, 62), (0.87, 30), (0.97, 5))
HIP_WALK = ((0.00, 30), (0.15, 25), (0.50, -10), (0.62, 0), (0.75, 25), (0.87, 35), (0.95, 31))
HIP_ABD_WALK = ((0.00, 0), (0.15, -6), (0.45, -2), (0.65, 5), (0.85, 1))  # positive = abduction
KNEE_RUN = ((0.00, 20), (0.15, 45), (0.39, 22), (0.55, 70), (0.70, 92), (0.85, 55), (0.95, 25))
HIP_RUN = ((0.00, 38), (0.15, 25), (0.39, -8), (0.50, 0), (0.75, 40), (0.85, 45), (0.95, 40))
RUN_STANCE = 0.39  # fraction of a running cycle a foot is on the ground (Novacheck 1998)


def periodic_curve(points, harmonics: int = 6):
    """A smooth periodic function of the cycle fraction from (fraction, value) control points.

    Fits a Fourier series of ``harmonics`` terms (least squares on a densely resampled piecewise-linear
    periodic interpolation), so curves are smooth with continuous derivatives.  Returns ``f(u) -> array``
    for phase fractions ``u`` of any shape (wrapping at 1).
    """
    x = np.asarray([p[0] for p in points], float)
    y = np.asarray([p[1] for p in points], float)
    u = (np.arange(400) + 0.5) / 400
    dense = np.interp(u, np.r_[x - 1, x, x + 1], np.r_[y, y, y])
    k = np.arange(1, harmonics + 1)
    basis = np.concatenate(
        [np.ones((len(u), 1)), np.cos(2 * np.pi * u[:, None] * k), np.sin(2 * np.pi * u[:, None] * k)], 1
    )
    coef = np.linalg.lstsq(basis, dense, rcond=None)[0]

    def f(phase):
        p = np.asarray(phase, float)[..., None]
        return (
            coef[0]
            + (np.cos(2 * np.pi * p * k) @ coef[1 : harmonics + 1])
            + (np.sin(2 * np.pi * p * k) @ coef[harmonics + 1 :])
        )

    return f


_KNEE_WALK, _HIP_WALK, _HIP_ABD_WALK = periodic_curve(KNEE_WALK), periodic_curve(HIP_WALK), periodic_curve(HIP_ABD_WALK)
_KNEE_RUN, _HIP_RUN = periodic_curve(KNEE_RUN), periodic_curve(HIP_RUN)


def _gait(rng, n, fps, f0, style, run: bool = False, amp: float = 1.0) -> tuple[dict, np.ndarray]:
    """DOF curves of walking (``run=False``) or jogging from the normative curves above.

    Hip, knee and pelvis are driven by one phase per leg (the coupling of hip, knee and ankle height in the
    gait cycle); the arms swing with the opposite leg.  ``amp`` scales the excursions around the standing
    pose (smaller steps when turning).  Returns (dofs, cycle fraction of the left leg (n,)).
    """
    ph = drifting_phase(rng, n, fps, f0) / (2 * np.pi)
    a = amp * style.get("stride", 1.0)
    knee_f, hip_f = (_KNEE_RUN, _HIP_RUN) if run else (_KNEE_WALK, _HIP_WALK)
    knee_mean, hip_mean = float(knee_f(np.linspace(0, 1, 64)).mean()), float(hip_f(np.linspace(0, 1, 64)).mean())
    elbow0 = style.get("elbow_rest", 20 * DEG)
    dofs = {}
    for side, off in (("l", 0.0), ("r", 0.5)):
        u = ph + off
        dofs[f"{side}_hip_flex"] = (hip_mean + a * (hip_f(u) - hip_mean)) * DEG
        dofs[f"{side}_knee"] = (knee_mean + a * (knee_f(u) - knee_mean)) * DEG + style.get("gait_knee", 0.0)
        dofs[f"{side}_hip_abd"] = 2 * DEG + a * _HIP_ABD_WALK(u) * DEG
        dofs[f"{side}_hip_twist"] = a * 4 * DEG * np.cos(2 * np.pi * u)
        swing = np.sin(2 * np.pi * (u + 0.5) + 0.3)  # the arm comes forward with the opposite leg
        arm = style.get("arm_swing", 1.0) * amp
        if run:
            dofs[f"{side}_sh_flex"] = (-12 + 28 * arm * swing) * DEG
            dofs[f"{side}_elbow"] = (rng.uniform(80, 100) + 12 * swing) * DEG
            dofs[f"{side}_sh_abd"] = 12 * DEG
        else:
            dofs[f"{side}_sh_flex"] = (-8 + 16 * arm * swing) * DEG
            dofs[f"{side}_elbow"] = elbow0 + (12 + 13 * arm * (swing + 1)) * DEG
            dofs[f"{side}_sh_abd"] = 8 * DEG
    lean = (rng.uniform(5, 10) if run else rng.uniform(1, 5)) * DEG + style.get("lean", 0.0)
    c = np.cos(2 * np.pi * ph)
    dofs["root_pitch"] = lean + a * 2 * DEG * np.sin(4 * np.pi * ph)  # pelvic tilt, twice per stride
    dofs["root_roll"] = -a * 4 * DEG * np.sin(2 * np.pi * ph)  # obliquity: the swing side drops
    dofs["root_yaw"] = -a * 4 * DEG * c  # the stance-side hip leads
    dofs["thorax_twist"] = a * 7 * DEG * c  # shoulders counter-rotate
    dofs["neck_yaw"] = -a * 3 * DEG * c  # the head keeps looking ahead
    return dofs, ph


def _run_lift(ph, f0):
    """Flight height (n,) m of a jog: both feet leave the ground between one foot's toe-off and the other's
    contact; the lowest ankle clears the floor by ~4-6 cm at the apex (the body's vertical oscillation in
    running is ~6-10 cm, Novacheck 1998; the push-off of the ankle adds to the ballistic g t^2 / 8)."""
    u = ph % 0.5  # the two flights of a stride
    w = np.clip((u - RUN_STANCE) / (0.5 - RUN_STANCE), 0, 1)
    return np.where(u > RUN_STANCE, 0.05 * 4 * w * (1 - w), 0.0)


def walking(n, fps, rng, style):
    """Walking at free cadence (0.8-1.0 strides/s, Perry & Burnfield's ~113 steps/min), stopping now and then."""
    dofs, _ = _gait(rng, n, fps, rng.uniform(0.8, 1.0) * style["tempo"], style, amp=rng.uniform(0.85, 1.1))
    return Motion(dofs, None, smooth_noise(rng, n, fps, 0.35, 0.2), steer=True, locomotion=True)


def jogging(n, fps, rng, style):
    f0 = rng.uniform(1.3, 1.45) * style["tempo"]
    dofs, ph = _gait(rng, n, fps, f0, style, run=True, amp=rng.uniform(0.85, 1.05))
    return Motion(dofs, None, smooth_noise(rng, n, fps, 0.5, 0.2), _run_lift(ph, f0), steer=True, locomotion=True)


def turning(n, fps, rng, style):
    """Walking on tight circles and turning on the spot, changing direction now and then."""
    dofs, _ = _gait(rng, n, fps, rng.uniform(0.7, 0.9) * style["tempo"], style, amp=rng.uniform(0.45, 0.7))
    direction = keyframe_curves(
        rng, n, fps, lambda r, k: {"d": r.choice([-1.0, 1.0]) * r.uniform(0.8, 1.8)}, (2, 4), (0.6, 1.0)
    )["d"]
    return Motion(dofs, None, direction, steer=True, locomotion=True)


# ---------------------------------------------------------------------------------- key-pose actions
def _standing(r, k, style=None):
    """A quiet-standing key pose: soft knees and elbows, weight shifted to one leg, a daily arm carriage.

    Relaxed standing keeps the knees a few degrees flexed and the elbows ~10-30 deg flexed (the subject's
    ``knee_rest`` / ``elbow_rest``); the loaded leg is straighter, the unloaded one relaxes (~10-20 deg).
    Arms hang (half of the poses), are clasped in front (elbows 60-90 deg), rest on the hips (90-110 deg) or
    are folded (120-135 deg): carriages of people waiting or talking (Human3.6M's Waiting, Discussion).
    """
    style = style or {}
    knee0, elbow0 = style.get("knee_rest", 6 * DEG), style.get("elbow_rest", 18 * DEG)
    side = r.uniform(-1, 1)  # weight on the left (> 0) or the right leg
    p = {
        "l_sh_abd": r.uniform(4, 14) * DEG,
        "r_sh_abd": r.uniform(4, 14) * DEG,
        "l_sh_flex": r.uniform(-8, 15) * DEG,
        "r_sh_flex": r.uniform(-8, 15) * DEG,
        "l_elbow": elbow0 + r.uniform(-5, 20) * DEG,
        "r_elbow": elbow0 + r.uniform(-5, 20) * DEG,
        "neck_yaw": r.uniform(-30, 30) * DEG,
        "neck_flex": r.uniform(-5, 15) * DEG,
        "root_roll": 2 * side * DEG,
        "l_hip_abd": (3 + 2 * side) * DEG,
        "r_hip_abd": (3 - 2 * side) * DEG,
        "l_knee": knee0 + _pos(-side) * r.uniform(5, 15) * DEG + r.uniform(0, 4) * DEG,
        "r_knee": knee0 + _pos(side) * r.uniform(5, 15) * DEG + r.uniform(0, 4) * DEG,
        "l_hip_flex": r.uniform(0, 8) * DEG + _pos(-side) * 6 * DEG,
        "r_hip_flex": r.uniform(0, 8) * DEG + _pos(side) * 6 * DEG,
    }
    carriage = r.random()
    if carriage < 0.2:  # hands clasped in front
        p.update(
            {
                "l_sh_flex": r.uniform(10, 25) * DEG,
                "r_sh_flex": r.uniform(10, 25) * DEG,
                "l_sh_abd": 8 * DEG,
                "r_sh_abd": 8 * DEG,
                "l_elbow": r.uniform(60, 90) * DEG,
                "r_elbow": r.uniform(60, 90) * DEG,
                "l_sh_twist": 25 * DEG,
                "r_sh_twist": 25 * DEG,
            }
        )
    elif carriage < 0.3:  # hands on the hips
        p.update(
            {
                "l_sh_abd": r.uniform(30, 45) * DEG,
                "r_sh_abd": r.uniform(30, 45) * DEG,
                "l_sh_flex": -10 * DEG,
                "r_sh_flex": -10 * DEG,
                "l_elbow": r.uniform(90, 110) * DEG,
                "r_elbow": r.uniform(90, 110) * DEG,
            }
        )
    elif carriage < 0.4:  # arms folded
        p.update(
            {
                "l_sh_flex": r.uniform(25, 40) * DEG,
                "r_sh_flex": r.uniform(25, 40) * DEG,
                "l_sh_abd": 15 * DEG,
                "r_sh_abd": 15 * DEG,
                "l_elbow": r.uniform(120, 135) * DEG,
                "r_elbow": r.uniform(120, 135) * DEG,
                "l_sh_twist": 45 * DEG,
                "r_sh_twist": 45 * DEG,
            }
        )
    elif carriage < 0.5:  # one hand gesturing while talking
        s = "l" if r.random() < 0.5 else "r"
        p.update(
            {f"{s}_sh_flex": r.uniform(20, 50) * DEG, f"{s}_elbow": r.uniform(60, 100) * DEG, f"{s}_sh_abd": 15 * DEG}
        )
    return p


def _stand(style):
    return lambda r, k: _standing(r, k, style)


def idle(n, fps, rng, style):
    """Standing idle: weight shifts between the legs and a changing arm carriage, held several seconds."""
    return Motion(keyframe_curves(rng, n, fps, _stand(style), (1.5, 4.0), (0.8, 1.6)))


def sitting_down(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k, style)
        return {
            "l_hip_flex": r.uniform(80, 100) * DEG,
            "r_hip_flex": r.uniform(80, 100) * DEG,
            "l_knee": r.uniform(80, 110) * DEG,
            "r_knee": r.uniform(80, 110) * DEG,
            "l_hip_abd": r.uniform(4, 14) * DEG,
            "r_hip_abd": r.uniform(4, 14) * DEG,
            "lumbar_flex": r.uniform(-10, 15) * DEG,
            "l_sh_flex": r.uniform(20, 50) * DEG,
            "r_sh_flex": r.uniform(20, 50) * DEG,
            "l_elbow": r.uniform(50, 90) * DEG,
            "r_elbow": r.uniform(50, 90) * DEG,
            "neck_flex": r.uniform(-5, 25) * DEG,
            "neck_yaw": r.uniform(-40, 40) * DEG,
        }

    dofs = keyframe_curves(rng, n, fps, sample, (1.0, 2.5), (1.0, 1.8), hold_odd=(2.5, 6.0))
    # lean forward while the hips pass from standing to sitting (balance over the feet)
    hip = (dofs["l_hip_flex"] + dofs["r_hip_flex"]) / 2
    dofs["root_pitch"] = 30 * DEG * np.sin(np.clip(hip / (90 * DEG), 0, 1) * np.pi) ** 2
    return Motion(dofs)


def picking_up(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k, style)
        squat = r.random() < 0.4
        return {
            "lumbar_flex": r.uniform(30, 60) * DEG * (0.5 if squat else 1),
            "thorax_flex": r.uniform(10, 30) * DEG,
            "l_hip_flex": (r.uniform(80, 100) if squat else r.uniform(35, 60)) * DEG,
            "r_hip_flex": (r.uniform(80, 100) if squat else r.uniform(35, 60)) * DEG,
            "l_knee": (r.uniform(100, 125) if squat else r.uniform(10, 40)) * DEG,
            "r_knee": (r.uniform(100, 125) if squat else r.uniform(10, 40)) * DEG,
            "l_sh_flex": r.uniform(50, 95) * DEG,
            "r_sh_flex": r.uniform(30, 95) * DEG,
            "l_elbow": r.uniform(5, 30) * DEG,
            "r_elbow": r.uniform(5, 40) * DEG,
            "neck_flex": r.uniform(0, 30) * DEG,
            "lumbar_twist": r.uniform(-15, 15) * DEG,
        }

    return Motion(keyframe_curves(rng, n, fps, sample, (0.6, 1.5), (0.8, 1.5), hold_odd=(1.0, 3.0)))


def squatting(n, fps, rng, style):
    def sample(r, k):
        if k % 2 == 0:
            return _standing(r, k, style)
        return {
            "l_hip_flex": r.uniform(95, 120) * DEG,
            "r_hip_flex": r.uniform(95, 120) * DEG,
            "l_knee": r.uniform(110, 140) * DEG,
            "r_knee": r.uniform(110, 140) * DEG,
            "l_hip_abd": r.uniform(10, 25) * DEG,
            "r_hip_abd": r.uniform(10, 25) * DEG,
            "root_pitch": r.uniform(15, 35) * DEG,
            "lumbar_flex": r.uniform(0, 20) * DEG,
            "l_sh_flex": r.uniform(50, 95) * DEG,
            "r_sh_flex": r.uniform(50, 95) * DEG,
            "l_elbow": r.uniform(0, 40) * DEG,
            "r_elbow": r.uniform(0, 40) * DEG,
        }

    return Motion(keyframe_curves(rng, n, fps, sample, (0.4, 1.2), (0.7, 1.3), hold_odd=(1.0, 3.0)))


def waving(n, fps, rng, style):
    both = rng.random() < 0.3
    arms = ("l", "r") if both else (rng.choice(["l", "r"]),)
    on = keyframe_curves(rng, n, fps, lambda r, k: {"on": float(k % 2 == 1)}, (1.0, 3.0), (0.5, 0.9))["on"]
    t = np.arange(n) / fps
    f = rng.uniform(1.5, 2.6)
    dofs = keyframe_curves(rng, n, fps, _stand(style), (1, 3), (1, 2))
    for s in arms:
        wave = np.sin(2 * np.pi * f * t + rng.uniform(0, 6))
        dofs[f"{s}_sh_abd"] = dofs[f"{s}_sh_abd"] * (1 - on) + on * (rng.uniform(110, 160) * DEG + 8 * DEG * wave)
        dofs[f"{s}_sh_flex"] = on * rng.uniform(0, 30) * DEG
        dofs[f"{s}_sh_twist"] = on * (rng.uniform(20, 50) * DEG + 20 * DEG * wave)
        dofs[f"{s}_elbow"] = dofs[f"{s}_elbow"] * (1 - on) + on * (rng.uniform(30, 60) * DEG + 25 * DEG * wave)
    dofs["neck_yaw"] = dofs["neck_yaw"] * (1 - on)
    return Motion(dofs)


def jumping(n, fps, rng, style):
    """Counter-movement jumps: crouch, push off, ballistic flight (h = v0^2 / 2g), land, recover."""
    dofs = {
        k: np.zeros(n)
        for k in (
            "l_hip_flex",
            "r_hip_flex",
            "l_knee",
            "r_knee",
            "root_pitch",
            "l_sh_flex",
            "r_sh_flex",
            "l_elbow",
            "r_elbow",
        )
    }
    lift, speed = np.zeros(n), np.zeros(n)
    t = rng.uniform(0.5, 1.5)
    tt = np.arange(n) / fps
    while t < n / fps:
        crouch, v0 = rng.uniform(0.35, 0.55), rng.uniform(1.8, 2.8)
        depth = rng.uniform(0.6, 1.0)
        flight = 2 * v0 / GRAVITY
        forward = rng.choice([0.0, rng.uniform(0.3, 1.2)])
        # crouch: bell over [t, t + crouch]; landing absorption: bell after touchdown
        c = np.sin(np.clip((tt - t) / crouch, 0, 1) * np.pi) ** 2 * depth
        land = t + crouch + flight
        a = np.sin(np.clip((tt - land) / 0.4, 0, 1) * np.pi) ** 2 * 0.7 * depth
        bend = c + a
        in_air = (tt >= t + crouch) & (tt < land)
        s = tt - (t + crouch)
        lift = np.where(in_air, v0 * s - 0.5 * GRAVITY * s**2, lift)
        speed = np.where(in_air, forward / flight, speed)
        dofs["l_hip_flex"] += bend * 80 * DEG
        dofs["r_hip_flex"] += bend * 80 * DEG
        dofs["l_knee"] += bend * 100 * DEG
        dofs["r_knee"] += bend * 100 * DEG
        dofs["root_pitch"] += bend * 30 * DEG
        tuck = np.where(in_air, np.sin(np.clip(s / flight, 0, 1) * np.pi), 0) * rng.uniform(0, 0.6)
        for k in ("l_hip_flex", "r_hip_flex"):
            dofs[k] += tuck * 60 * DEG
        for k in ("l_knee", "r_knee"):
            dofs[k] += tuck * 80 * DEG
        # arms swing back in the crouch and up through take-off
        up = np.where(
            s < 0,
            0.0,
            np.where(
                s < flight, np.sin(np.clip(s / flight, 0, 1) * np.pi / 2), np.exp(-np.clip(s - flight, 0, None) / 0.35)
            ),
        )
        swing = -50 * DEG * c + 140 * DEG * up * rng.uniform(0.6, 1.0)
        dofs["l_sh_flex"] += swing
        dofs["r_sh_flex"] += swing
        t = land + 0.4 + rng.uniform(0.5, 2.0)
    dofs["l_elbow"] += rng.uniform(15, 60) * DEG
    dofs["r_elbow"] += rng.uniform(15, 60) * DEG
    dofs["l_knee"] += 10 * DEG
    dofs["r_knee"] += 10 * DEG
    return Motion(dofs, speed, lift=np.maximum(lift, 0), steer=True)


def reaching(n, fps, rng, style):
    def sample(r, k):
        p = _standing(r, k, style)
        if k % 2 == 1:
            side = r.choice(["l", "r"])
            height = r.uniform(-1, 1)  # -1: reach to the floor, +1: overhead
            p[f"{side}_sh_flex"] = (95 + 70 * height) * DEG if height > -0.4 else r.uniform(60, 90) * DEG
            p[f"{side}_sh_abd"] = r.uniform(0, 50) * DEG
            p[f"{side}_elbow"] = r.uniform(0, 30) * DEG
            p["lumbar_twist"] = (15 if side == "l" else -15) * DEG * r.uniform(0, 1.5)
            if height < -0.4:
                p["lumbar_flex"] = r.uniform(30, 60) * DEG
                p["l_hip_flex"] = p["r_hip_flex"] = r.uniform(20, 50) * DEG
                p["l_knee"] = p["r_knee"] = r.uniform(10, 50) * DEG
        return p

    return Motion(keyframe_curves(rng, n, fps, sample, (0.3, 1.5), (0.6, 1.2)))


def kicking(n, fps, rng, style):
    dofs = keyframe_curves(rng, n, fps, _stand(style), (1, 3), (1, 2))
    tt = np.arange(n) / fps
    for k in ("l_hip_flex", "r_hip_flex", "l_sh_flex", "r_sh_flex", "root_pitch"):
        dofs.setdefault(k, np.zeros(n))
    t = rng.uniform(0.5, 1.5)
    while t < n / fps:
        s = rng.choice(["l", "r"])
        o = "r" if s == "l" else "l"
        dur, height = rng.uniform(0.5, 0.9), rng.uniform(50, 95) * DEG
        u = np.clip((tt - t) / dur, 0, 1)
        up = np.sin(u * np.pi) ** 2
        chamber = np.sin(np.clip(u * 2, 0, 1) * np.pi)  # knee bends early, extends at the hit
        dofs[f"{s}_hip_flex"] = dofs[f"{s}_hip_flex"] + height * up
        dofs[f"{s}_knee"] = dofs[f"{s}_knee"] + 85 * DEG * chamber
        dofs["root_pitch"] = dofs["root_pitch"] - 12 * DEG * up
        dofs[f"{o}_knee"] = dofs[f"{o}_knee"] + 12 * DEG * up
        dofs[f"{o}_sh_abd"] = dofs[f"{o}_sh_abd"] + 35 * DEG * up
        dofs[f"{s}_sh_flex"] = dofs[f"{s}_sh_flex"] - 30 * DEG * up
        t += dur + rng.uniform(0.8, 2.5)
    return Motion(dofs)


def stretching(n, fps, rng, style):
    def sample(r, k):
        kind = r.integers(0, 4) if k % 2 else -1
        p = _standing(r, k, style)
        if kind == 0:  # arms overhead, side bend
            p.update(
                {
                    "l_sh_abd": r.uniform(150, 175) * DEG,
                    "r_sh_abd": r.uniform(150, 175) * DEG,
                    "l_elbow": r.uniform(0, 25) * DEG,
                    "r_elbow": r.uniform(0, 25) * DEG,
                    "lumbar_side": r.uniform(-25, 25) * DEG,
                    "thorax_side": r.uniform(-15, 15) * DEG,
                }
            )
        elif kind == 1:  # forward bend
            p.update(
                {
                    "lumbar_flex": r.uniform(45, 70) * DEG,
                    "thorax_flex": r.uniform(15, 35) * DEG,
                    "l_hip_flex": r.uniform(50, 80) * DEG,
                    "r_hip_flex": r.uniform(50, 80) * DEG,
                    "l_sh_flex": r.uniform(70, 110) * DEG,
                    "r_sh_flex": r.uniform(70, 110) * DEG,
                    "neck_flex": 20 * DEG,
                }
            )
        elif kind == 2:  # trunk twist with arms out
            tw = r.uniform(-35, 35) * DEG
            p.update(
                {
                    "lumbar_twist": tw,
                    "thorax_twist": tw * 0.6,
                    "l_sh_abd": r.uniform(70, 95) * DEG,
                    "r_sh_abd": r.uniform(70, 95) * DEG,
                }
            )
        elif kind == 3:  # lunge
            s = r.choice(["l", "r"])
            o = "r" if s == "l" else "l"
            p.update(
                {
                    f"{s}_hip_flex": r.uniform(60, 85) * DEG,
                    f"{s}_knee": r.uniform(70, 95) * DEG,
                    f"{o}_hip_flex": -r.uniform(15, 25) * DEG,
                    f"{o}_knee": r.uniform(30, 70) * DEG,
                    "l_sh_abd": r.uniform(100, 170) * DEG,
                    "r_sh_abd": r.uniform(100, 170) * DEG,
                }
            )
        return p

    return Motion(keyframe_curves(rng, n, fps, sample, (1.0, 2.5), (1.2, 2.2)))


def boxing(n, fps, rng, style):
    base = {
        "l_sh_flex": 45 * DEG,
        "r_sh_flex": 45 * DEG,
        "l_elbow": 120 * DEG,
        "r_elbow": 120 * DEG,
        "l_sh_abd": 20 * DEG,
        "r_sh_abd": 20 * DEG,
        "l_hip_flex": 15 * DEG,
        "r_hip_flex": 10 * DEG,
        "l_knee": 22 * DEG,
        "r_knee": 22 * DEG,
        "l_hip_abd": 8 * DEG,
        "r_hip_abd": 8 * DEG,
        "neck_flex": 10 * DEG,
    }
    tt = np.arange(n) / fps
    dofs = {k: v + smooth_noise(rng, n, fps, 6 * DEG, 0.6) for k, v in base.items()}
    dofs["lumbar_twist"] = smooth_noise(rng, n, fps, 5 * DEG, 0.5)
    bob = np.sin(2 * np.pi * rng.uniform(1.2, 1.8) * tt) * 6 * DEG
    dofs["l_knee"] += bob
    dofs["r_knee"] += bob
    t = rng.uniform(0.3, 0.8)
    while t < n / fps:
        s = rng.choice(["l", "r"])
        u = np.clip((tt - t) / rng.uniform(0.25, 0.4), 0, 1)
        jab = np.sin(u * np.pi) ** 2
        dofs[f"{s}_sh_flex"] += 45 * DEG * jab
        dofs[f"{s}_elbow"] -= 110 * DEG * jab
        dofs["lumbar_twist"] += (-18 if s == "l" else 18) * DEG * jab
        t += rng.uniform(0.35, 1.1)
    return Motion(dofs)


def directions(n, fps, rng, style):
    """Standing, looking around and pointing in a direction (like H36M 'Directions')."""

    def sample(r, k):
        p = _standing(r, k, style)
        if r.random() < 0.6:
            side = r.choice(["l", "r"])
            p[f"{side}_sh_flex"] = r.uniform(60, 110) * DEG
            p[f"{side}_sh_abd"] = r.uniform(0, 60) * DEG
            p[f"{side}_elbow"] = r.uniform(0, 25) * DEG
            p["neck_yaw"] = (1 if side == "l" else -1) * r.uniform(0, 50) * DEG
        return p

    turn = keyframe_curves(
        rng, n, fps, lambda r, k: {"y": r.uniform(-0.6, 0.6) * (r.random() < 0.4)}, (1, 3), (0.8, 1.4)
    )
    return Motion(keyframe_curves(rng, n, fps, sample, (0.8, 2.5), (0.7, 1.3)), yaw_rate=turn["y"])


def _seated(r, style, arms=True):
    """A seated key pose on a chair of ordinary height: hips ~80-100 deg, knees ~70-115 deg (feet tucked
    under to stretched out; Hemmerich et al., J. Orthop. Res. 24 (2006) 770-781, for the ranges of sitting),
    upright or slouched trunk, hands on the thighs or a table (elbows 60-110 deg) or a hand at the chin."""
    p = {
        "l_hip_flex": r.uniform(78, 100) * DEG,
        "r_hip_flex": r.uniform(78, 100) * DEG,
        "l_knee": r.uniform(70, 115) * DEG,
        "r_knee": r.uniform(70, 115) * DEG,
        "l_hip_abd": r.uniform(3, 15) * DEG,
        "r_hip_abd": r.uniform(3, 15) * DEG,
        "lumbar_flex": r.uniform(-12, 20) * DEG,
        "thorax_flex": r.uniform(-5, 15) * DEG,
        "neck_flex": r.uniform(-5, 25) * DEG,
        "neck_yaw": r.uniform(-40, 40) * DEG,
    }
    if arms:
        for s in ("l", "r"):
            if r.random() < 0.5:  # hand on the thigh
                p.update(
                    {
                        f"{s}_sh_flex": r.uniform(15, 35) * DEG,
                        f"{s}_elbow": r.uniform(55, 85) * DEG,
                        f"{s}_sh_abd": r.uniform(5, 15) * DEG,
                    }
                )
            else:  # forearm on a table / armrest
                p.update(
                    {
                        f"{s}_sh_flex": r.uniform(30, 55) * DEG,
                        f"{s}_elbow": r.uniform(80, 110) * DEG,
                        f"{s}_sh_abd": r.uniform(10, 25) * DEG,
                    }
                )
        if r.random() < 0.2:  # chin on a hand
            s = "l" if r.random() < 0.5 else "r"
            p.update({f"{s}_sh_flex": r.uniform(40, 60) * DEG, f"{s}_elbow": r.uniform(125, 140) * DEG})
    return p


def sitting(n, fps, rng, style):
    """Seated the whole take (Human3.6M's Sitting): shifting posture, leaning back and forward, gestures."""
    return Motion(keyframe_curves(rng, n, fps, lambda r, k: _seated(r, style), (1.5, 4.0), (0.8, 1.6)))


def _hand_to_mouth(rng, n, fps, base, sides, period=(2.5, 5.0)):
    """Cycles of a hand to the mouth and back (eating, drinking, smoking): elbow ~70-90 -> ~125-140 deg,
    shoulder flexion up to ~45 deg and abduction ~20-30 deg (Safaee-Rad et al., Arch. Phys. Med. Rehabil. 71
    (1990) 505-509; Morrey, Askew & Chao, J. Bone Joint Surg. 63-A (1981) 872-877: daily activities need
    30-130 deg of elbow flexion).  Adds to the key-pose curves ``base`` in place."""
    tt = np.arange(n) / fps
    t = rng.uniform(0.3, 2.0)
    while t < n / fps:
        s = sides[rng.integers(len(sides))]
        up, hold = rng.uniform(0.6, 1.0), rng.uniform(0.3, 1.5)
        u = np.clip((tt - t) / up, 0, 1) - np.clip((tt - t - up - hold) / up, 0, 1)
        w = u * u * (3 - 2 * u)
        e = base.get(f"{s}_elbow", np.zeros(n))
        base[f"{s}_elbow"] = e + w * (rng.uniform(125, 142) * DEG - e)
        base[f"{s}_sh_flex"] = base.get(f"{s}_sh_flex", np.zeros(n)) * (1 - w) + w * rng.uniform(25, 45) * DEG
        base[f"{s}_sh_abd"] = base.get(f"{s}_sh_abd", np.zeros(n)) * (1 - w) + w * rng.uniform(15, 30) * DEG
        base["neck_flex"] = base.get("neck_flex", np.zeros(n)) + w * 8 * DEG
        t += 2 * up + hold + rng.uniform(*period)
    return base


def eating(n, fps, rng, style):
    """Eating at a table (seated, a quarter of the takes standing): repeated hand-to-mouth movements."""
    seated = rng.random() < 0.75
    pose = (lambda r, k: _seated(r, style)) if seated else _stand(style)
    dofs = keyframe_curves(rng, n, fps, pose, (2.0, 5.0), (1.0, 1.8))
    return Motion(_hand_to_mouth(rng, n, fps, dofs, ("l", "r") if rng.random() < 0.3 else ("r",)))


def phoning(n, fps, rng, style):
    """On the phone, standing (60 % of the takes) or seated: the phone hand at the ear (elbow ~130-145 deg),
    the other arm hanging, on the hip or gesturing, the weight shifting and the body turning now and then
    (Human3.6M's Phoning has both)."""
    ear = "r" if rng.random() < 0.7 else "l"
    seated = rng.random() < 0.4

    def sample(r, k):
        p = _seated(r, style) if seated else _standing(r, k, style)
        p.update(
            {
                f"{ear}_elbow": r.uniform(130, 145) * DEG,
                f"{ear}_sh_flex": r.uniform(20, 45) * DEG,
                f"{ear}_sh_abd": r.uniform(25, 50) * DEG,
                f"{ear}_sh_twist": r.uniform(10, 30) * DEG,
                "neck_side": (8 if ear == "r" else -8) * DEG * r.uniform(0.3, 1.0),
            }
        )
        return p

    turn = keyframe_curves(
        rng, n, fps, lambda r, k: {"y": r.uniform(-0.8, 0.8) * (r.random() < 0.4)}, (1, 3), (0.8, 1.4)
    )
    return Motion(keyframe_curves(rng, n, fps, sample, (1.0, 3.5), (0.8, 1.5)), yaw_rate=None if seated else turn["y"])


#: action name -> generator, in a fixed order (the order of the dataset's takes).
ACTIONS = {
    "Walking": walking,
    "Jogging": jogging,
    "Turning": turning,
    "SittingDown": sitting_down,
    "PickingUp": picking_up,
    "Squatting": squatting,
    "Waving": waving,
    "Jumping": jumping,
    "Reaching": reaching,
    "Kicking": kicking,
    "Stretching": stretching,
    "Boxing": boxing,
    "Directions": directions,
    "Sitting": sitting,
    "Eating": eating,
    "Phoning": phoning,
}

#: actions whose body travels by its own steps (a walk inserted into another action is a transition).
LOCOMOTION = ("Walking", "Jogging", "Turning")
