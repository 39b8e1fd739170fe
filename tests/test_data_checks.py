"""The notebook-01 exercise checkers accept the package's answers and reject typical mistakes."""

import numpy as np
import pytest

from mdtf_lite.course.checks import data as checks
from mdtf_lite.data.clips import window_starts
from mdtf_lite.data.geometry import flip_poses, normalise_screen, project, world_to_camera


def test_checkers_accept_reference_answers():
    checks.check_world_to_camera(world_to_camera)
    checks.check_project(project)
    checks.check_normalise_screen(normalise_screen)
    checks.check_flip_poses(flip_poses)
    checks.check_window_starts(window_starts)


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("check_world_to_camera", lambda x, cam: (x - cam.t) @ cam.R.T),  # R instead of R^T
        ("check_project", lambda x, cam: project(x, cam, distort=False)),  # forgot distortion
        ("check_normalise_screen", lambda uv, w, h: uv / w * 2 - 1),  # aspect ratio lost
        ("check_flip_poses", lambda p: p * np.array([-1, 1, 1])),  # no left/right swap
        ("check_window_starts", lambda n, t, s: list(range(0, n - t, s))),  # off by one: drops last
        ("check_bone_lengths", lambda p: np.linalg.norm(np.diff(p, axis=1), axis=-1)),  # consecutive joints
    ],
)
def test_checkers_reject_typical_mistakes(name, wrong):
    with pytest.raises(AssertionError):
        getattr(checks, name)(wrong)
