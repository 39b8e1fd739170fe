"""The checkers name the failing case, diagnose the common mistakes, and (strict) reject the package itself."""

import numpy as np
import pytest
import torch

from mdtf_lite import bones as bn
from mdtf_lite.course import checks
from mdtf_lite.course.checks import CheckFailed, diagnose, require_passed, run_check
from mdtf_lite.course.checks.bones import check_bone_vectors
from mdtf_lite.course.checks.metrics import check_mpjpe, check_p_mpjpe, p_mpjpe_with_reflections
from mdtf_lite.course.checks.scan import check_sequential_scan
from mdtf_lite.eval import mpjpe
from mdtf_lite.ssm import scans

R = np.arange(24, dtype=float).reshape(2, 3, 4) + 1.0


@pytest.mark.parametrize(
    "student, words",
    [
        (-R, "negated"),
        (2 * R, "scaled"),
        (17 * R, "sum where a mean"),
        (1000 * R, "millimetres"),
        (R[:, :2], "off by one along axis 1"),
        (R.transpose(2, 1, 0), "transposed"),
        (R.sum(-1), "reduced axis 2"),
        (np.concatenate([np.zeros((1, 3, 4)), R[:-1]]), "shifted by one along axis 0"),
        (R.reshape(4, 6), "wrong shape"),
        (R + np.where(np.arange(24).reshape(2, 3, 4) == 5, 1.0, 0.0), "1 of 24 values differ"),
    ],
)
def test_diagnose_names_the_mistake(student, words):
    assert words in diagnose(student, R)
    assert diagnose(R.copy(), R) == ""


def test_diagnose_transposed_square_and_extra_axis():
    m = np.arange(9.0).reshape(3, 3) + 1
    assert "transposed" in diagnose(m.T, m)
    assert "mean over axis 0 is missing" in diagnose(np.stack([m, m]), m)


def test_failing_case_is_named_with_a_specific_hint(capsys):
    def negated(joints):
        return -bn.bone_vectors(joints)

    with pytest.raises(CheckFailed) as err:
        check_bone_vectors(negated)
    msg = str(err.value)
    assert "the rest pose (17, 3)" in msg and "negated" in msg and "3 of 3 cases wrong" in msg


_reflection_allowed = p_mpjpe_with_reflections  # the mistake the checker knows by name


def test_p_mpjpe_checker_names_the_mirror_case():
    with pytest.raises(CheckFailed) as err:
        check_p_mpjpe(_reflection_allowed)
    msg = str(err.value)
    assert "mirror image" in msg and "reflections allowed" in msg
    assert "noisy prediction" not in msg  # the cases it gets right are not blamed


def test_mpjpe_mistakes_get_different_hints():
    hints = {}
    for label, fn in {
        "squared": lambda p, t: ((p - t) ** 2).sum(-1).mean(),
        "abs": lambda p, t: np.abs(p - t).mean(),
        "negated": lambda p, t: -mpjpe(p, t),
        "mm": lambda p, t: 1000 * mpjpe(p, t),
    }.items():
        with pytest.raises(CheckFailed) as err:
            check_mpjpe(fn)
        hints[label] = str(err.value)
    assert "square root" in hints["squared"] and "Euclidean norm" in hints["abs"]
    assert "negated" in hints["negated"] and "millimetres" in hints["mm"]
    assert len(set(hints.values())) == 4


def test_off_by_one_scan_is_diagnosed_and_later_use_stops_clearly():
    def from_one(a, b):
        h, out = torch.zeros_like(b[0]), []
        for t in range(1, len(a)):
            h = a[t] * h + b[t]
            out.append(h)
        return torch.stack(out) if out else b[:0]

    with pytest.raises(CheckFailed, match="off by one"):
        check_sequential_scan(from_one)
    with pytest.raises(CheckFailed, match="sequential_scan did not pass its check.*L = 1"):
        require_passed("sequential_scan")
    check_sequential_scan(scans.sequential_scan)
    require_passed("sequential_scan")


def test_strict_mode_rejects_the_package_and_solutions_that_call_it():
    def wrapper(a, b):
        return scans.sequential_scan(a, b)

    def sneaky(a, b):  # through a module alias: still a call into the package's code
        import mdtf_lite.ssm.scans as s

        return s.sequential_scan(a, b) + 0

    checks.set_strict(True)
    try:
        for fn in (scans.sequential_scan, wrapper, sneaky):
            with pytest.raises(CheckFailed, match="package"):
                check_sequential_scan(fn)
    finally:
        checks.set_strict(None)
    check_sequential_scan(wrapper)  # outside strict mode: allowed (lessons check the package itself)


def test_stub_status_is_reported_as_not_implemented():
    def stub(a, b):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        run_check("toy", stub, lambda a, b: a, [(1.0, 2.0)])
    with pytest.raises(NotImplementedError, match="still a stub"):
        require_passed("toy")


def test_zoh_checker_accepts_the_exact_hold_and_names_the_euler_mistakes():
    from mdtf_lite.course.checks.scan import check_zoh, reference_zoh

    check_zoh(lambda d, a, b: reference_zoh(d, a, b))
    with pytest.raises(CheckFailed, match="first-order simplification"):
        check_zoh(lambda d, a, b: (torch.exp(d[:, :, None] * a), d[:, :, None] * b[:, None, :]))
    with pytest.raises(CheckFailed, match="Euler step"):
        check_zoh(lambda d, a, b: (1 + d[:, :, None] * a, reference_zoh(d, a, b)[1]))


def test_bidirectional_merge_checker_names_the_flip_mistakes():
    from mdtf_lite.course.checks.graph import check_bidirectional_merge, reference_bidirectional_merge

    check_bidirectional_merge(reference_bidirectional_merge)
    with pytest.raises(CheckFailed, match="not flipped back"):
        check_bidirectional_merge(lambda x, z, f, b: (f(x, z) + b(x.flip(1), z.flip(1))) / 2)
    with pytest.raises(CheckFailed, match="summed, not averaged"):
        check_bidirectional_merge(lambda x, z, f, b: f(x, z) + b(x.flip(1), z.flip(1)).flip(1))


def test_gcn_layer_checker_names_the_usual_mistakes():
    from mdtf_lite.course.checks.graph import check_gcn_layer, reference_gcn_layer

    check_gcn_layer(reference_gcn_layer)
    with pytest.raises(CheckFailed, match="adj transposed"):
        check_gcn_layer(lambda x, a, uw, ub, vw, vb: reference_gcn_layer(x, a.T, uw, ub, vw, vb))
    with pytest.raises(CheckFailed, match="residual x is missing"):
        check_gcn_layer(
            lambda x, a, uw, ub, vw, vb: (
                reference_gcn_layer(x, a, uw, ub, vw, vb) * 0
                + torch.relu(torch.einsum("ij,bjc->bic", a, x @ vw.T + vb) + x @ uw.T + ub)
            )
        )
