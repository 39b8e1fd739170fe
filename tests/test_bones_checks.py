"""The bone exercise checkers accept the reference and reject plausible wrong answers."""

import pytest
import torch

from mdtf_lite import bones as bn
from mdtf_lite.course.checks import bones as cb
from mdtf_lite.skeleton import PARENTS


def test_reference_solutions_pass(capsys):
    cb.check_bone_vectors(bn.bone_vectors)
    cb.check_to_spherical(bn.to_spherical)
    cb.check_length_from_theta(bn.length_from_theta)
    assert "all" in capsys.readouterr().out


def test_a_textbook_solution_passes():
    def bone_vectors(j):
        return torch.stack([j[..., c, :] - j[..., PARENTS[c], :] for c in range(1, 17)], dim=-2)

    def to_spherical(v):
        x, y, z = v.unbind(-1)
        return torch.stack([torch.atan2(y, x), torch.atan2(torch.hypot(x, y), z), v.norm(dim=-1)], -1)

    cb.check_bone_vectors(bone_vectors)
    cb.check_to_spherical(to_spherical)
    cb.check_length_from_theta(lambda r, t: r / torch.sin(t))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda j: j[..., 1:, :] - j[..., :-1, :],  # consecutive joints, not parents
        lambda j: torch.stack([j[..., PARENTS[c], :] - j[..., c, :] for c in range(1, 17)], -2),  # parent - child
        lambda j: bn.bone_vectors(j)[0],  # drops the batch axis
    ],
)
def test_wrong_bone_vectors_fail(wrong):
    with pytest.raises(AssertionError):
        cb.check_bone_vectors(wrong)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda v: torch.stack([torch.atan2(v[..., 0], v[..., 1]), bn.to_spherical(v)[..., 1], v.norm(dim=-1)], -1),
        lambda v: torch.stack(
            [bn.to_spherical(v)[..., 0], torch.acos(v[..., 2] / v.norm(dim=-1)) - 0.1, v.norm(dim=-1)], -1
        ),
        # polar angle measured from the image plane (elevation) instead of the depth axis
        lambda v: torch.stack(
            [bn.to_spherical(v)[..., 0], torch.atan2(v[..., 2], torch.hypot(v[..., 0], v[..., 1])), v.norm(dim=-1)], -1
        ),
    ],
)
def test_wrong_spherical_fails(wrong):
    with pytest.raises(AssertionError):
        cb.check_to_spherical(wrong)


def test_wrong_length_fails_and_stub_raises():
    with pytest.raises(AssertionError):
        cb.check_length_from_theta(lambda r, t: r / torch.tan(t))
    with pytest.raises(AssertionError):
        cb.check_length_from_theta(lambda r, t: r * torch.sin(t))

    def stub(r, t):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        cb.check_length_from_theta(stub)
