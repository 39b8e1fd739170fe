"""Auto-checkers for the exercises: run a student's function on named, seeded cases, compare, diagnose.

Each topic module (``mdtf_lite.course.checks.bones``, ``.scan``, ``.graph``, ``.metrics``, ...) defines
``check_<exercise>(student_fn)`` functions built on :func:`run_check`.  A checker

* runs every case (each has a name: "mirror image", "L = 1", "batch (4, 17, 3)", ...) and prints one line
  per case: exact / approx / wrong, the largest difference and, when wrong, a **diagnosis** of the common
  mistakes (:func:`diagnose`: negated, transposed, scaled -- a sum where a mean belongs, metres vs
  millimetres --, shifted or cut by one step, an axis reduced too many or too few, wrong shape) or of a
  mistake the checker knows for this exercise (``mistakes=``);
* raises ``AssertionError`` naming every failing case with its diagnosis and the exercise's hint;
* in **strict mode** (:func:`set_strict`, on in the exercise notebooks and whenever the grader runs,
  ``MDTF_CHECKS_STRICT=1``) rejects a "solution" that is the package's own function or calls it while the
  checker runs (``forbid=``: the functions the exercise asks you to write).  Outside strict mode, as when
  a lesson notebook checks the package itself, that is allowed and said;
* remembers the outcome per check (:func:`require_passed` lets a later cell stop with a clear message
  instead of a bare ``AssertionError``) and, when ``MDTF_GRADE_LOG`` names a file, appends one JSON line
  per case to it: the grader (``python -m mdtf_lite exercises grade``) builds its score table from those.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

__all__ = [
    "CheckResult",
    "Case",
    "compare",
    "diagnose",
    "run_check",
    "set_strict",
    "is_strict",
    "require_passed",
    "outcomes",
    "CheckFailed",
    "GRADE_LOG_ENV",
    "STRICT_ENV",
]

GRADE_LOG_ENV = "MDTF_GRADE_LOG"
STRICT_ENV = "MDTF_CHECKS_STRICT"
_STRICT: bool | None = None
_OUTCOMES: dict[str, dict] = {}


class CheckFailed(AssertionError):
    """A checker found wrong answers (the message names the cases and diagnoses them)."""


@dataclass
class CheckResult:
    """Outcome of comparing one output: ``exact``, ``approx`` (within tolerance) or ``wrong``."""

    verdict: str
    max_abs_diff: float
    detail: str = ""

    def __bool__(self) -> bool:  # a result is truthy when the answer is acceptable
        return self.verdict in ("exact", "approx")


@dataclass
class Case:
    """One named input of a checker: ``args`` is the argument tuple given to both functions."""

    name: str
    args: tuple


def set_strict(on: bool | None = True) -> None:
    """Strict mode: reject solutions that are, or call, the package's own implementation.

    ``None`` goes back to the environment's choice (``MDTF_CHECKS_STRICT=1`` or a grading run).
    """
    global _STRICT
    _STRICT = None if on is None else bool(on)


def is_strict() -> bool:
    if _STRICT is not None:
        return _STRICT
    return os.environ.get(STRICT_ENV, "") == "1" or bool(os.environ.get(GRADE_LOG_ENV))


def outcomes() -> dict[str, dict]:
    """Per check name: ``{"passed": bool, "status": ..., "failing": [case names]}`` of its last run."""
    return {k: dict(v) for k, v in _OUTCOMES.items()}


def require_passed(*names: str) -> None:
    """Stop a cell that uses a student's function unless its check(s) passed in this kernel.

    Raises NotImplementedError while the function is still a stub (so a student notebook runs top to
    bottom before it is solved) and :class:`CheckFailed` naming the failing cases otherwise.
    """
    for name in names:
        got = _OUTCOMES.get(name)
        if got is None:
            raise CheckFailed(f"{name}: its check has not run yet -- run the check cell above first")
        if got["status"] == "not implemented":
            raise NotImplementedError(f"{name} is still a stub: write it and pass its check above first")
        if not got["passed"]:
            raise CheckFailed(
                f"{name} did not pass its check ({got['status']}"
                + (f"; failing cases: {', '.join(got['failing'])}" if got["failing"] else "")
                + "): fix it above before using it here"
            )


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
    try:
        s = _to_numpy(student)
    except (TypeError, ValueError) as exc:
        return CheckResult("wrong", float("inf"), f"output of type {type(student).__name__} is not numeric ({exc})")
    r = _to_numpy(reference)
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


def _close(a, b, rtol, atol) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=max(rtol, 1e-6), atol=max(atol, 1e-9)))


def _shape_diagnosis(s: np.ndarray, r: np.ndarray, rtol: float, atol: float) -> str:
    if s.ndim >= 2 and s.shape == r.shape[::-1]:
        return f"transposed: shape {s.shape} is the expected {r.shape} reversed (swap the axes)"
    if s.ndim == r.ndim:
        off = [k for k in range(s.ndim) if s.shape[k] != r.shape[k]]
        if len(off) == 1 and abs(s.shape[off[0]] - r.shape[off[0]]) == 1:
            k = off[0]
            return (
                f"off by one along axis {k}: {s.shape[k]} entries where {r.shape[k]} are expected "
                "(check where the loop or slice starts and stops)"
            )
        if sorted(s.shape) == sorted(r.shape):
            return f"axes in the wrong order: shape {s.shape}, expected {r.shape} (permute, do not reshape)"
    if s.ndim == r.ndim + 1:
        for k in range(s.ndim):
            if s.shape[:k] + s.shape[k + 1 :] == r.shape:
                for how, red in (("mean", s.mean(axis=k)), ("sum", s.sum(axis=k))):
                    if _close(red, r, rtol, atol):
                        return f"wrong reduction: the {how} over axis {k} is missing (you return one value per entry of it)"
                return f"one axis too many (axis {k}, size {s.shape[k]}): a reduction or indexing step is missing"
    if s.ndim + 1 == r.ndim:
        for k in range(r.ndim):
            if r.shape[:k] + r.shape[k + 1 :] == s.shape:
                return f"wrong reduction: you reduced axis {k} (size {r.shape[k]}) that the answer keeps"
    if s.ndim < r.ndim and s.size == 1:
        return f"wrong reduction: a single number where an array of shape {r.shape} is expected"
    if s.size == r.size:
        return f"right number of values, wrong shape {s.shape} (expected {r.shape}): reshape or permute"
    return f"wrong shape {s.shape}, expected {r.shape}"


def diagnose(student, reference, rtol: float = 1e-5, atol: float = 1e-6) -> str:
    """Name the common mistake that turns ``reference`` into ``student`` (or describe where they differ).

    Recognises: wrong shape (transposed, off by one along an axis, a missing or extra reduction),
    negated, scaled by a constant (with the likely cause: a sum instead of a mean, metres vs millimetres,
    a factor of 2), transposed matrices, a shift by one step along an axis, NaN/Inf.  Returns "" when the
    two agree.  Works on arrays, tensors, numbers and tuples of them.
    """
    if isinstance(reference, (tuple, list)):
        if not isinstance(student, (tuple, list)) or len(student) != len(reference):
            return f"expected a tuple of {len(reference)} outputs, got {type(student).__name__}"
        parts = [(i, diagnose(s, r, rtol, atol)) for i, (s, r) in enumerate(zip(student, reference))]
        return "; ".join(f"output {i}: {d}" for i, d in parts if d)
    try:
        s = _to_numpy(student)
    except (TypeError, ValueError):
        return f"returned a {type(student).__name__}, expected numbers"
    r = _to_numpy(reference)
    if s.shape != r.shape:
        return _shape_diagnosis(s, r, rtol, atol)
    if np.allclose(s, r, rtol=rtol, atol=atol, equal_nan=True):
        return ""
    if not np.all(np.isfinite(s)):
        return "NaN or Inf in your output (a division by zero, or log/sqrt of a negative number?)"
    if np.any(r) and _close(s, -r, rtol, atol):
        return "negated: every value has the wrong sign (a difference taken the wrong way round?)"
    rr = float((r * r).sum())
    if rr > 0:
        c = float((s * r).sum()) / rr
        if abs(c - 1) > 1e-3 and c != 0 and _close(s, c * r, rtol * abs(c), atol * abs(c)):
            why = ""
            if abs(c - round(c)) < 1e-6 and round(c) >= 2:
                why = f" (an integer factor {round(c)}: a sum where a mean belongs, or counted twice?)"
            elif abs(1 / c - round(1 / c)) < 1e-6 and round(1 / c) >= 2:
                why = f" (1/{round(1 / c)}: a mean where a sum belongs, or divided once too often?)"
            if abs(c - 1000) < 1e-3 or abs(c - 0.001) < 1e-9:
                why = " (a factor 1000: millimetres vs metres)"
            return f"scaled: your output is {c:.6g} x the answer{why}"
    if s.ndim >= 2 and s.shape[-1] == s.shape[-2] and _close(s, np.swapaxes(r, -1, -2), rtol, atol):
        return "transposed: the last two axes are swapped (row vs column convention?)"
    for k in range(s.ndim):
        n = s.shape[k]
        if n < 2:
            continue
        head, tail = [slice(None)] * s.ndim, [slice(None)] * s.ndim
        head[k], tail[k] = slice(1, None), slice(None, -1)
        if _close(s[tuple(head)], r[tuple(tail)], rtol, atol):
            return f"shifted by one along axis {k}: your entry t holds the answer's entry t - 1 (off by one)"
        if _close(s[tuple(tail)], r[tuple(head)], rtol, atol):
            return f"shifted by one along axis {k}: your entry t holds the answer's entry t + 1 (off by one)"
        first = [slice(None)] * s.ndim
        first[k] = slice(1, None)
        if n > 2 and _close(s[tuple(first)], r[tuple(first)], rtol, atol):
            return f"only the first entry along axis {k} is wrong: check the start (h_-1 = 0, t = 0, ...)"
    if s.size > 1:
        bad = ~np.isclose(s, r, rtol=rtol, atol=atol)
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return f"{int(bad.sum())} of {s.size} values differ, the first at index {idx}"
    return f"{float(s.reshape(-1)[0]):.6g} instead of {float(r.reshape(-1)[0]):.6g}"


def _describe_args(args: tuple) -> str:
    shapes = []
    for a in args:
        if hasattr(a, "shape"):
            shapes.append(str(tuple(a.shape)))
        elif isinstance(a, (tuple, list)) and a and hasattr(a[0], "shape"):
            shapes.append("(" + ", ".join(str(tuple(x.shape)) for x in a) + ")")
        elif isinstance(a, (int, float)):
            shapes.append(repr(a))
    return "shapes " + ", ".join(shapes) if shapes else "no arguments"


def _named_cases(cases) -> list[Case]:
    if isinstance(cases, dict):
        return [Case(str(k), tuple(v)) for k, v in cases.items()]
    out = []
    for i, c in enumerate(cases):
        if isinstance(c, Case):
            out.append(c)
        else:
            out.append(Case(f"case {i} ({_describe_args(tuple(c))})", tuple(c)))
    return out


def _code_of(fn):
    fn = inspect.unwrap(fn)
    if isinstance(fn, type):  # a module class: forbid its forward
        fn = getattr(fn, "forward", None) or fn.__call__
    fn = getattr(fn, "__func__", fn)
    return getattr(fn, "__code__", None)


def _qualname(fn) -> str:
    fn = inspect.unwrap(fn)
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', getattr(fn, '__name__', repr(fn)))}"


def _call_watching(fn, args, forbidden_codes: dict):
    """Call ``fn(*args)``; return (result, name of a forbidden function it called or None)."""
    if not forbidden_codes:
        return fn(*args), None
    hit: list[str] = []
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in forbidden_codes and not hit:
            hit.append(forbidden_codes[frame.f_code])

    sys.setprofile(profiler)
    try:
        out = fn(*args)
    finally:
        sys.setprofile(previous)
    return out, (hit[0] if hit else None)


def _log(entry: dict) -> None:
    path = os.environ.get(GRADE_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def _finish(name: str, status: str, cases: list[str], failing: list[str], detail: dict | None = None) -> None:
    _OUTCOMES[name] = {"passed": status == "passed", "status": status, "failing": list(failing)}
    for case in cases:
        entry = {
            "check": name,
            "case": case,
            "ok": status == "passed" or (status == "wrong" and case not in failing),
            "status": status,
        }
        if detail and case in detail:
            entry["diagnosis"] = detail[case]
        _log(entry)


def run_check(
    name: str,
    student_fn: Callable,
    reference_fn: Callable,
    cases: Iterable,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    hint: str = "",
    mistakes: dict[str, Callable] | None = None,
    forbid: Iterable[Callable] = (),
) -> list[CheckResult]:
    """Call both functions on every case, print per-case feedback, raise if any case is wrong.

    Args:
        cases: argument tuples (named automatically from their shapes), :class:`Case` objects, or a dict
            ``{case name: argument tuple}``.
        mistakes: ``{hint: fn}``: known wrong answers of this exercise; when the student's output equals
            ``fn(*args)`` that hint is the diagnosis (checked before the generic :func:`diagnose`).
        forbid: the package functions (or classes) the exercise asks the student to write; in strict mode
            a student function that is one of them or calls one of them is rejected.

    Raises:
        NotImplementedError: passed through untouched, so an unsolved stub fails as a stub.
        CheckFailed (an AssertionError): names each wrong case with its diagnosis, then ``hint``.
    """
    cases = _named_cases(cases)
    names = [c.name for c in cases]
    forbid = list(forbid)
    forbidden_codes = {}
    for f in forbid:
        code = _code_of(f)
        if code is not None:
            forbidden_codes[code] = _qualname(f)
    strict = is_strict()
    target = inspect.unwrap(getattr(student_fn, "__func__", student_fn))
    if any(target is inspect.unwrap(f) for f in forbid):
        msg = f"{name}: you passed the package's own {_qualname(target)}, not your function"
        if strict:
            _finish(name, "rejected", names, names)
            raise CheckFailed(msg + ": write it yourself (this check does not grade the package)")
        print(f"note: {msg} -- accepted outside an exercise; the grader rejects it")

    results, failing, detail, called = [], [], {}, None
    for case in cases:
        expected = reference_fn(*case.args)
        try:
            got, used = _call_watching(student_fn, case.args, forbidden_codes if strict or not called else {})
        except NotImplementedError:
            _finish(name, "not implemented", names, names)
            raise
        except Exception as exc:  # a crash in student code is feedback, not a checker bug
            _finish(name, "error", names, names, {n: f"{type(exc).__name__}: {exc}" for n in names})
            raise CheckFailed(f"{name} [{case.name}] raised {type(exc).__name__}: {exc}. {hint}".strip()) from exc
        if used and strict:
            _finish(name, "rejected", names, names)
            raise CheckFailed(
                f"{name}: your function calls the package's {used}; the exercise is to write it "
                "yourself, so the checker rejects it (it would only be checking the package)"
            )
        called = called or used
        res = compare(got, expected, rtol, atol)
        why = ""
        if not res:
            for label, wrong_fn in (mistakes or {}).items():
                try:
                    if compare(got, wrong_fn(*case.args), max(rtol, 1e-6), max(atol, 1e-9)):
                        why = label
                        break
                except Exception:  # a mistake model that does not apply to this case
                    continue
            why = why or diagnose(got, expected, rtol, atol) or res.detail
            failing.append(case.name)
            detail[case.name] = why
        diff = "" if not np.isfinite(res.max_abs_diff) else f"max|diff| {res.max_abs_diff:.2e}"
        print(f"{name} [{case.name}]: {res.verdict}" + (f" {diff}" if diff else "") + (f" -- {why}" if why else ""))
        results.append(res)
    if called:
        print(
            f"note: {name}: your function calls the package's {called} -- accepted outside an exercise; "
            "the grader rejects it"
        )
    if failing:
        _finish(name, "wrong", names, failing, detail)
        lines = "\n".join(f"  * {n}: {detail[n]}" for n in failing)
        raise CheckFailed(
            f"{name}: {len(failing)} of {len(cases)} cases wrong:\n{lines}" + (f"\nHint: {hint}" if hint else "")
        )
    _finish(name, "passed", names, [])
    print(
        f"{name}: all {len(results)} cases pass "
        f"({sum(r.verdict == 'exact' for r in results)} exact, {sum(r.verdict == 'approx' for r in results)} approx)"
    )
    return results
