"""The default dataset's motion: subjects, takes and world-frame 3D joints from procedural actions.

    subject (bone lengths, style) x action (``actions.ACTIONS``) x take -> joints (T, 17, 3) metres, world Z up

A take = an action's DOF curves, made to flow like a capture (``with_transitions``: a lead-in from
standing idle, settling at the end, a walk to another spot in between) + smooth per-DOF variation
(postural sway included), clipped to human joint ranges
(``body.JOINT_LIMITS_DEG``), forward kinematics with the subject's bone lengths, a root trajectory
integrated from the action's speed/yaw rate (kept inside the 4 m capture area), and the pelvis height
chosen so that the lowest ankle rests on the ground (plus the action's flight height for jumps).
Everything is drawn from ``numpy.random.default_rng`` streams keyed by (seed, subject, action, take),
so one take does not change when others are added.
"""

from __future__ import annotations

import zlib

import numpy as np

from mdtf_lite.data.synthetic.actions import (
    ACTIONS,
    DEG,
    LOCOMOTION,
    Motion,
    _smoothstep,
    idle,
    smooth_noise,
    walking,
)
from mdtf_lite.data.synthetic.body import (
    DOF_NAMES,
    JOINT_LIMITS_DEG,
    forward_kinematics,
    limit_key,
    subject_bone_lengths,
)

__all__ = [
    "TRAIN_SUBJECTS",
    "TEST_SUBJECTS",
    "FPS",
    "ANKLE_HEIGHT",
    "Subject",
    "make_subject",
    "generate_take",
    "take_rng",
    "with_transitions",
]

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS = ("S9", "S11")
FPS = 50.0
ANKLE_HEIGHT = 0.09  # metres: the ankle joint's height above the floor when the foot is flat
AREA_RADIUS = 1.5  # metres: walkers turn back towards the centre beyond this radius


def take_rng(seed: int, *names) -> np.random.Generator:
    """An independent random stream for (seed, names...): stable across Python runs (crc32, not hash())."""
    key = zlib.crc32("/".join(map(str, names)).encode())
    return np.random.default_rng([int(seed), key])


class Subject:
    """A synthetic person: bone lengths (17,) m and a movement style: tempo, arm swing, leg length, amount of
    variation, resting knee / elbow flexion (rad), step amplitude, forward lean (rad), gait knee offset (rad)."""

    def __init__(self, name: str, bone_lengths: np.ndarray, style: dict):
        self.name, self.bone_lengths, self.style = name, bone_lengths, style

    def __repr__(self) -> str:
        return f"Subject({self.name}, height~{self.height():.2f} m, style={self.style})"

    def height(self) -> float:
        b = self.bone_lengths
        return float(b[2] + b[3] + b[7] + b[8] + b[9] + b[10] + ANKLE_HEIGHT)


def make_subject(seed: int, name: str) -> Subject:
    rng = take_rng(seed, "subject", name)
    bones = subject_bone_lengths(rng)
    style = {
        "tempo": float(rng.uniform(0.9, 1.1)),
        "arm_swing": float(rng.uniform(0.7, 1.3)),
        "leg_length": float(bones[2] + bones[3] + ANKLE_HEIGHT),
        "variation": float(rng.uniform(0.7, 1.3)),
        # personal style (radians / factors): resting knee and elbow flexion, step amplitude, posture
        "knee_rest": float(rng.uniform(3, 12) * DEG),
        "elbow_rest": float(rng.uniform(10, 30) * DEG),
        "stride": float(rng.uniform(0.9, 1.1)),
        "lean": float(rng.uniform(-2, 4) * DEG),
        # the between-subject SD of the gait knee curve is ~5 deg (Winter 2009's normative data)
        "gait_knee": float(np.clip(rng.normal(0, 5), -5, 10) * DEG),
    }
    return Subject(name, bones, style)


def _clip_to_limits(dofs: dict) -> dict:
    out = {}
    for k, v in dofs.items():
        key = limit_key(k)
        out[k] = v if key is None else np.clip(v, JOINT_LIMITS_DEG[key][0] * DEG, JOINT_LIMITS_DEG[key][1] * DEG)
    return out


def _trajectory(rng, n: int, fps: float, motion, body_steps, start_xy, heading0) -> tuple[np.ndarray, np.ndarray]:
    """Root xy (n, 2) and heading (n,): integrate the body-frame steps (n - 1, 2) of the stance-foot
    pinning, rotated by a heading that follows the action's yaw rate and steers back to the centre."""
    yaw_rate = np.zeros(n) if motion.yaw_rate is None else motion.yaw_rate
    if motion.speed is None and motion.yaw_rate is None:  # standing actions: the body turns a little
        return np.broadcast_to(start_xy, (n, 2)).copy(), heading0 + smooth_noise(rng, n, fps, 10 * DEG, 0.1)
    xy = np.zeros((n, 2))
    heading = np.zeros(n)
    p, h = np.array(start_xy, float), float(heading0)
    dt = 1.0 / fps
    steps = np.concatenate([body_steps, body_steps[-1:]])
    for i in range(n):  # sequential because the steering depends on the position
        c, s_ = np.cos(h), np.sin(h)
        step = np.array([c * steps[i, 0] - s_ * steps[i, 1], s_ * steps[i, 0] + c * steps[i, 1]])
        if motion.steer:  # look 1.2 s ahead: fast walkers start turning earlier
            q = p + 1.2 * fps * step
            r = np.hypot(*q)
            if r > AREA_RADIUS * 0.4:  # turn towards the centre, harder the further out (up to ~3 rad/s)
                to_centre = np.arctan2(-p[1], -p[0])
                err = (to_centre - h + np.pi) % (2 * np.pi) - np.pi
                moving = min(1.0, float(np.hypot(*step)) * fps / 0.4)  # a person standing still does not steer
                h += np.clip(err, -1, 1) * 3.0 * dt * min(1.0, (r - AREA_RADIUS * 0.4) / 0.6) * moving
        h += yaw_rate[i] * dt
        xy[i], heading[i] = p, h
        p = p + step
    return xy, heading


def generate_take(seed: int, subject: Subject, action: str, take: int, num_frames: int, fps: float = FPS) -> np.ndarray:
    """World-frame joints (T, 17, 3) float64 metres of one take (T = ``num_frames``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; the generator knows {list(ACTIONS)}")
    rng = take_rng(seed, subject.name, action, take)
    n = int(num_frames)
    motion = ACTIONS[action](n, fps, rng, subject.style)
    motion = with_transitions(
        take_rng(seed, subject.name, action, take, "transitions"), n, fps, motion, subject.style, action in LOCOMOTION
    )
    dofs = {k: np.asarray(v, float) * np.ones(n) for k, v in motion.dofs.items()}
    var = subject.style["variation"]
    for name in DOF_NAMES:  # smooth idiosyncratic variation on every joint (bigger on the free ones)
        amp = (5.0 if name.startswith(("neck", "l_sh", "r_sh")) else 2.5) * DEG * var
        dofs[name] = dofs.get(name, np.zeros(n)) + smooth_noise(rng, n, fps, amp, 0.5)
    dofs = _clip_to_limits(dofs)
    start = rng.uniform(-0.8, 0.8, size=2)
    lift = np.zeros(n) if motion.lift is None else motion.lift
    carry = motion.locomotion and motion.speed is None  # a jog's flights carry the speed of its steps
    # 1) the body in place (heading 0): how far does pinning the stance foot carry it each frame?
    body = forward_kinematics(dofs, subject.bone_lengths, n)
    planned = np.zeros((n, 2))
    if motion.speed is not None:  # in the air the body keeps the action's forward speed
        planned[:, 0] = np.cumsum(motion.speed) / fps
    body_steps = np.diff(_pin_stance_foot(body, planned, lift, carry), axis=0)
    # 2) steer those steps around the capture area, 3) final pose with the heading, pinned again below
    xy, heading = _trajectory(rng, n, fps, motion, body_steps, start, rng.uniform(-np.pi, np.pi))
    # adding the heading to root_yaw (the first factor of the pelvis frame) turns the whole in-place body
    # about the vertical through the pelvis: rotate the joints instead of running the kinematics again
    c, s_ = np.cos(heading)[:, None], np.sin(heading)[:, None]
    joints = np.stack([c * body[..., 0] - s_ * body[..., 1], s_ * body[..., 0] + c * body[..., 1], body[..., 2]], -1)
    # feet on the ground: the lowest ankle sits at ANKLE_HEIGHT (plus flight during jumps) ...
    lowest = np.minimum(joints[:, 3, 2], joints[:, 6, 2])
    height = ANKLE_HEIGHT - lowest + lift
    # ... and does not slide: the pelvis moves so that the stance (lower) ankle stays put on the floor
    xy = _pin_stance_foot(joints, xy, lift, carry)
    joints += np.concatenate([xy, height[:, None]], axis=-1)[:, None, :]
    return joints


def _blend(a: Motion, b: Motion, w: np.ndarray, n: int) -> Motion:
    """(1 - w) * a + w * b for every DOF curve, speed, yaw rate and flight height (w (n,) in [0, 1])."""
    z = np.zeros(n)
    dofs = {k: (1 - w) * np.asarray(a.dofs.get(k, z)) + w * np.asarray(b.dofs.get(k, z)) for k in {*a.dofs, *b.dofs}}

    def mix(x, y):
        if x is None and y is None:
            return None
        return (1 - w) * (z if x is None else x) + w * (z if y is None else y)

    lift = mix(a.lift, b.lift)
    return Motion(
        dofs, mix(a.speed, b.speed), mix(a.yaw_rate, b.yaw_rate), lift, a.steer or b.steer, a.locomotion or b.locomotion
    )


def with_transitions(rng, n: int, fps: float, motion: Motion, style: dict, locomotion: bool) -> Motion:
    """Make a take flow like a real capture: it may start from standing idle and blend into the action,
    end by settling back into idle, and (for non-locomotion actions) walk a few steps to another spot in
    between (stand up, walk, resume).  Blends last 0.6-1.4 s (quintic smoothstep, as the key poses).

    Drawn from its own stream ``rng``, so the action's curves stay those of ``ACTIONS[action]``.
    """
    t = np.arange(n) / fps
    rest = idle(n, fps, rng, style)
    rest.yaw_rate = smooth_noise(rng, n, fps, 0.08, 0.1)
    w = np.ones(n)  # weight of the action
    if rng.random() < 0.6:  # lead-in from standing
        t0, ramp = rng.uniform(0.4, 2.0), rng.uniform(0.6, 1.4)
        w = w * _smoothstep((t - t0) / ramp)
    if rng.random() < 0.4:  # settle into standing at the end
        t1, ramp = n / fps - rng.uniform(0.8, 2.5), rng.uniform(0.6, 1.4)
        w = w * (1 - _smoothstep((t - t1) / ramp))
    out = _blend(rest, motion, w, n)
    if motion.yaw_rate is None and motion.speed is None and not motion.locomotion:
        out.yaw_rate = rest.yaw_rate  # a standing person turns a little
    if not locomotion and rng.random() < 0.35 and n / fps > 7:  # walk to another spot in between
        walk = walking(n, fps, rng, style)
        t0, dur, ramp = rng.uniform(1.5, n / fps - 5.5), rng.uniform(1.5, 3.5), rng.uniform(0.7, 1.2)
        ww = _smoothstep((t - t0) / ramp) * (1 - _smoothstep((t - t0 - ramp - dur) / ramp))
        walk.speed = None
        out = _blend(out, walk, ww, n)
        out.locomotion = True
    return out


def _pin_stance_foot(joints: np.ndarray, planned_xy: np.ndarray, lift: np.ndarray, carry: bool = False) -> np.ndarray:
    """Root xy (T, 2) that keeps the stance ankle's horizontal position fixed between consecutive frames.

    ``joints`` are relative to the pelvis (T, 17, 3).  In the air (``lift`` > 0) the planned velocity is used,
    or, with ``carry`` (a jog's flights), the velocity of the ground frames around the flight.
    """
    stance = np.where(joints[:, 3, 2] <= joints[:, 6, 2], 3, 6)[:-1]  # (T-1,)
    t = np.arange(len(joints) - 1)
    foot_step = joints[t + 1, stance, :2] - joints[t, stance, :2]  # ankle motion w.r.t. the pelvis
    step = -foot_step
    airborne = (lift[1:] > 0) | (lift[:-1] > 0)
    if carry and airborne.any() and not airborne.all():
        ground = np.flatnonzero(~airborne)
        for d in range(2):
            step[airborne, d] = np.interp(np.flatnonzero(airborne), ground, step[ground, d])
    else:
        step[airborne] = np.diff(planned_xy, axis=0)[airborne]
    # a 0.1 s moving average smooths the push at each foot contact (the procedural gait's swing foot does not
    # land exactly at rest): a few cm/s of residual foot sliding instead of jerky pelvis speed
    k = 5
    pad = np.concatenate([np.repeat(step[:1], k // 2, 0), step, np.repeat(step[-1:], k // 2, 0)])
    c = np.concatenate([np.zeros((1, 2)), np.cumsum(pad, axis=0)])
    step = (c[k:] - c[:-k]) / k
    return planned_xy[0] + np.concatenate([np.zeros((1, 2)), np.cumsum(step, axis=0)])
