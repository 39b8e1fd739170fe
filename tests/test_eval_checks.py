"""The metric checkers accept the reference and reject typical wrong answers."""

import numpy as np
import pytest

from mdtf_lite.course.checks.metrics import check_mpjpe, check_p_mpjpe
from mdtf_lite.eval import mpjpe, p_mpjpe


def test_check_mpjpe_accepts_reference_and_rejects_squared_error():
    check_mpjpe(mpjpe)
    check_mpjpe(lambda p, t: np.linalg.norm(p - t, axis=-1).mean())
    with pytest.raises(AssertionError, match="mpjpe"):
        check_mpjpe(lambda p, t: ((p - t) ** 2).sum(-1).mean())


def reflection_allowed_p_mpjpe(pred, target):
    """The classic bug: Procrustes without the reflection fix."""
    errs = []
    for p, t in zip(pred, target):
        a, b = p - p.mean(0), t - t.mean(0)
        u, s, vh = np.linalg.svd(a.T @ b)
        aligned = s.sum() / (a**2).sum() * a @ (u @ vh) + t.mean(0)
        errs.append(np.linalg.norm(aligned - t, axis=-1).mean())
    return float(np.mean(errs))


def test_check_p_mpjpe_accepts_reference_and_rejects_reflections():
    check_p_mpjpe(p_mpjpe)
    with pytest.raises(AssertionError, match="p_mpjpe"):
        check_p_mpjpe(reflection_allowed_p_mpjpe)
    with pytest.raises(AssertionError):
        check_p_mpjpe(mpjpe)  # no alignment at all


def test_stub_raises_not_implemented():
    def stub(p, t):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check_mpjpe(stub)


def test_sequence_checkers():
    from mdtf_lite.course.checks.metrics import check_mpjve, check_n_mpjpe
    from mdtf_lite.eval import mpjve, n_mpjpe

    check_n_mpjpe(n_mpjpe)
    check_mpjve(mpjve)
    with pytest.raises(AssertionError):
        check_n_mpjpe(mpjpe)  # forgot the scale
    with pytest.raises(AssertionError):
        check_mpjve(lambda p, t: mpjpe(p[:, 1:] - p[:, :-1], t[:, 1:] - t[:, :-1]) * 2)
