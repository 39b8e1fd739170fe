"""Auto-checkers for the exercises: run a student's function on seeded inputs, compare with ours.

Each topic module (``mdtf_lite.checks.bones``, ``.scan``, ``.graph``, ``.metrics``, ...) defines
``check_<exercise>(student_fn)`` functions built on :func:`compare`.  A checker prints
exact / approximate / max-difference feedback for every trial and raises ``AssertionError`` with a
hint when the answer is wrong, so a notebook cell fails visibly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

__all__ = ["CheckResult", "compare", "run_check"]


@dataclass
class CheckResult:
    """Outcome of comparing one output: ``exact``, ``approx`` (within tolerance) or ``wrong``."""

    verdict: str
    max_abs_diff: float
    detail: str = ""

    def __bool__(self) -> bool:  # a result is truthy when the answer is acceptable
        return self.verdict in ("exact", "approx")


def _to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def compare(student, reference, rtol: float = 1e-5, atol: float = 1e-6) -> CheckResult:
    """Compare two arrays/tensors (or nested tuples of them) and classify the difference."""
    if isinstance(reference, (tuple, list)):
        if not isinstance(student, (tuple, list)) or len(student) != len(reference):
            return CheckResult("wrong", float("inf"), f"expected a sequence of {len(reference)} outputs")
        results = [compare(s, r, rtol, atol) for s, r in zip(student, reference)]
        worst = max(results, key=lambda r: (r.verdict == "wrong", r.verdict == "approx", r.max_abs_diff))
        return worst
    s, r = _to_numpy(student), _to_numpy(reference)
    if s.shape != r.shape:
        return CheckResult("wrong", float("inf"), f"shape {s.shape}, expected {r.shape}")
    if not np.all(np.isfinite(s)) and np.all(np.isfinite(r)):
        return CheckResult("wrong", float("inf"), "your output has NaN or Inf where the reference is finite")
    diff = float(np.max(np.abs(s - r))) if s.size else 0.0
    if np.array_equal(s, r):
        return CheckResult("exact", 0.0)
    if np.allclose(s, r, rtol=rtol, atol=atol, equal_nan=True):
        return CheckResult("approx", diff)
    return CheckResult("wrong", diff, f"max |difference| {diff:.3g} exceeds atol={atol:g} + rtol={rtol:g}*|ref|")


def run_check(name: str, student_fn: Callable, reference_fn: Callable, cases: Iterable[tuple],
              rtol: float = 1e-5, atol: float = 1e-6, hint: str = "") -> list[CheckResult]:
    """Call both functions on every argument tuple in ``cases``, print feedback, raise if any is wrong.

    Raises:
        NotImplementedError: passed through untouched, so an unsolved stub fails as a stub.
        AssertionError: when an output differs beyond tolerance (the message carries ``hint``).
    """
    results = []
    for i, args in enumerate(cases):
        expected = reference_fn(*args)
        try:
            got = student_fn(*args)
        except NotImplementedError:
            raise
        except Exception as exc:  # a crash in student code is feedback, not a checker bug
            raise AssertionError(f"{name}: case {i} raised {type(exc).__name__}: {exc}. {hint}") from exc
        res = compare(got, expected, rtol, atol)
        print(f"{name} case {i}: {res.verdict:6s} max|diff| = {res.max_abs_diff:.2e} {res.detail}")
        results.append(res)
    bad = [i for i, r in enumerate(results) if not r]
    if bad:
        raise AssertionError(f"{name}: cases {bad} are wrong. {hint}".strip())
    print(f"{name}: all {len(results)} cases pass "
          f"({sum(r.verdict == 'exact' for r in results)} exact, {sum(r.verdict == 'approx' for r in results)} approx)")
    return results
