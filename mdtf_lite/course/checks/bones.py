"""Auto-checkers for the bone exercises of notebook 02 (bones and the Bone Aware Module).

Each checker runs the student's function on seeded torch inputs (float64, several leading shapes,
plus the awkward cases: zero-length bones, bones along the depth axis) and compares with
``mdtf_lite.bones``.  It prints one line per case and raises ``AssertionError`` with a hint if a case
is wrong; a stub that raises ``NotImplementedError`` fails as a stub.

Student signatures (all take and return torch tensors):

    bone_vectors(joints)        joints (..., 17, 3)            -> (..., 16, 3)  child - parent, by child 1..16
    to_spherical(vectors)       vectors (..., 3) = (x, y, z)   -> (..., 3)      (phi, theta, length)
                                phi = atan2(y, x); theta = angle from the +z (depth) axis in [0, pi]
    length_from_theta(r_xy, theta)  r_xy (...), theta (...)     -> (...)         |b_xy| / sin(theta)
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from mdtf_lite import bones as _bones
from mdtf_lite.course.checks import run_check
from mdtf_lite.skeleton import rest_pose

__all__ = ["check_bone_vectors", "check_to_spherical", "check_length_from_theta"]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def check_bone_vectors(fn: Callable) -> list:
    """Check ``fn(joints (..., 17, 3)) -> (..., 16, 3)`` against :func:`mdtf_lite.bones.bone_vectors`."""
    g = _gen(2)
    rest = torch.from_numpy(rest_pose())
    cases = [
        (rest.clone(),),  # one pose (17, 3)
        (torch.randn(4, 17, 3, generator=g, dtype=torch.float64),),  # a batch
        (torch.randn(2, 5, 17, 3, generator=g, dtype=torch.float64),),  # clips x frames
    ]
    cases = {
        "the rest pose (17, 3)": cases[0],
        "a batch (4, 17, 3)": cases[1],
        "clips x frames (2, 5, 17, 3)": cases[2],
    }
    return run_check(
        "bone_vectors",
        fn,
        _bones.bone_vectors,
        cases,
        rtol=1e-9,
        atol=1e-12,
        forbid=[_bones.bone_vectors],
        hint="bone k is joint k + 1 minus its parent PARENTS[k + 1] (the root has no bone); "
        "keep every leading dimension and use the last two axes only.",
    )


def check_to_spherical(fn: Callable) -> list:
    """Check ``fn(vectors (..., 3)) -> (..., 3) = (phi, theta, length)`` against ``mdtf_lite.bones.to_spherical``."""
    g = _gen(3)
    awkward = torch.tensor(
        [[0.2, -0.1, 0.3], [-0.4, 0.0, 0.0], [0.0, 0.5, -0.2], [1e-3, 1e-3, 0.6], [0.1, 0.2, -0.6]], dtype=torch.float64
    )
    cases = [
        (awkward,),
        (torch.randn(3, 16, 3, generator=g, dtype=torch.float64),),
        (_bones.bone_vectors(torch.from_numpy(rest_pose())),),
    ]
    cases = {
        "awkward vectors (on the axes, near the depth axis)": cases[0],
        "random (3, 16, 3)": cases[1],
        "the rest pose's bones": cases[2],
    }
    return run_check(
        "to_spherical",
        fn,
        _bones.to_spherical,
        cases,
        rtol=1e-7,
        atol=1e-9,
        forbid=[_bones.to_spherical],
        hint="phi = atan2(y, x); theta = atan2(sqrt(x^2 + y^2), z) (angle from the depth axis, "
        "in [0, pi]); length = |v|; stack them in that order on the last axis.",
    )


def check_length_from_theta(fn: Callable) -> list:
    """Check ``fn(r_xy (...), theta (...)) -> (...)`` = |b_xy| / sin(theta) on angles away from 0 and pi."""
    g = _gen(4)
    centres = _bones.bin_centers(dtype=torch.float64)
    cases = [
        (torch.full((6,), 0.25, dtype=torch.float64), centres),  # one bone, every bin centre
        (
            torch.rand(4, 16, generator=g, dtype=torch.float64) * 0.5,
            torch.rand(4, 16, generator=g, dtype=torch.float64) * (math.pi - 0.2) + 0.1,
        ),
    ]
    cases = {"one bone at every bin centre": cases[0], "random (4, 16) away from the poles": cases[1]}
    return run_check(
        "length_from_theta",
        fn,
        _bones.length_from_theta,
        cases,
        rtol=1e-7,
        atol=1e-9,
        forbid=[_bones.length_from_theta],
        hint="the in-plane length is length * sin(theta), so length = r_xy / sin(theta).",
    )
