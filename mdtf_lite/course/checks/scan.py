"""Auto-checkers for the selective-scan exercises (notebook 03).

Student function signatures (time first, any state shape S, float64 tensors in the checks):

    combine(left, right) -> (a, b)
        left = (a1, b1), right = (a2, b2): two affine maps h -> a h + b, ``left`` applied first.
        Return the single map equal to "left, then right".  Tensors broadcast elementwise.

    sequential_scan(a, b) -> h
        a, b: (L, *S).  Return h (L, *S) with h_t = a_t * h_{t-1} + b_t and h_{-1} = 0.

    chunked_scan(a, b, chunk_size) -> h
        Same result as sequential_scan, computed chunk by chunk: scan each chunk of ``chunk_size``
        steps from zero, then add the carried state of the previous chunk times the chunk's cumulative
        decay.  Must work when chunk_size does not divide L and when chunk_size >= L.

Each checker prints one line per trial and raises ``AssertionError`` with a hint when wrong.
"""

from __future__ import annotations

import torch

from mdtf_lite.course.checks import Case, run_check
from mdtf_lite.ssm.scans import chunked_scan, combine, sequential_scan

__all__ = ["check_combine", "check_sequential_scan", "check_chunked_scan", "check_zoh", "reference_zoh"]


def _pair_cases(seed=0):
    g = torch.Generator().manual_seed(seed)
    cases = []
    for shape in [(), (4,), (3, 5), (2, 3, 4)]:
        a1, a2 = (torch.rand(shape, generator=g, dtype=torch.float64) for _ in range(2))
        b1, b2 = (torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(2))
        cases.append(Case(f"state shape {shape}", ((a1, b1), (a2, b2))))
    return cases


def _scan_cases(seed=1):
    g = torch.Generator().manual_seed(seed)
    cases = []
    for shape in [(1, 3), (7,), (16, 2, 3), (33, 4, 2)]:
        a = torch.rand(shape, generator=g, dtype=torch.float64)
        b = torch.randn(shape, generator=g, dtype=torch.float64)
        cases.append(Case(f"L = {shape[0]}, state {shape[1:]}", (a, b)))
    return cases


def check_combine(fn):
    """Check ``fn(left, right) -> (a, b)`` against the composition of two affine maps."""
    results = run_check(
        "combine",
        lambda left, right: tuple(fn(left, right)),
        combine,
        _pair_cases(),
        forbid=[combine],
        mistakes={"right applied first: you computed 'right, then left'": lambda left, right: combine(right, left)},
        hint="Apply left first: h -> a1 h + b1, then h -> a2 h + b2. Expand a2 (a1 h + b1) + b2.",
    )
    # associativity is what makes parallel scans possible: check the student's operator has it
    g = torch.Generator().manual_seed(2)
    x, y, z = (
        (torch.rand(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64))
        for _ in range(3)
    )
    run_check(
        "combine is associative",
        lambda: tuple(fn(tuple(fn(x, y)), z)),
        lambda: tuple(fn(x, tuple(fn(y, z)))),
        {"combine(combine(x, y), z) vs combine(x, combine(y, z))": ()},
        forbid=[combine],
        hint="combine(combine(x, y), z) must equal combine(x, combine(y, z)).",
    )
    return results


def check_sequential_scan(fn):
    """Check ``fn(a, b) -> h`` (a, b, h: (L, *S)) against the recurrence h_t = a_t h_{t-1} + b_t."""

    def from_t1(a, b):  # the loop starts at t = 1
        return sequential_scan(a[1:], b[1:])

    def a_before(a, b):  # h_t = a_{t-1} h_{t-1} + b_t
        return sequential_scan(torch.cat([a[:1], a[:-1]]), b)

    def h_before(a, b):  # stores h_{t-1} instead of h_t
        return torch.cat([torch.zeros_like(b[:1]), sequential_scan(a, b)[:-1]])

    return run_check(
        "sequential_scan",
        fn,
        sequential_scan,
        _scan_cases(),
        forbid=[sequential_scan],
        mistakes={
            "off by one: the loop starts at t = 1 (state h_0 = b_0 is missing)": from_t1,
            "off by one: a_{t-1} multiplies h_{t-1}; use a_t": a_before,
            "off by one: you store the state before the update (h_{t-1}); append after it": h_before,
        },
        hint="Start from h = 0 (shape S), loop over t, keep every h_t; stack along dim 0.",
    )


def check_chunked_scan(fn):
    """Check ``fn(a, b, chunk_size) -> h`` for chunk sizes that divide L, do not divide it, and exceed it."""
    cases = [Case(f"{c.name}, chunk {k}", (*c.args, k)) for c in _scan_cases() for k in (1, 3, 4, 50)]

    def no_carry(a, b, k):
        return torch.cat([sequential_scan(a[s : s + k], b[s : s + k]) for s in range(0, len(a), k)])

    return run_check(
        "chunked_scan",
        fn,
        lambda a, b, k: chunked_scan(a, b, k),
        cases,
        forbid=[chunked_scan],
        mistakes={"the carry is missing: every chunk starts from zero": no_carry},
        hint="Inside a chunk scan from zero; then h = local + cumprod(a_chunk) * carry, "
        "carry = last h of the previous chunk. Handle a last, shorter chunk.",
    )


def reference_zoh(delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact zero-order hold of a diagonal SSM, written independently of the package's scan code.

    delta (L, D) > 0, A (D, N) < 0, B (L, N) -> A_bar (L, D, N) = exp(delta A),
    B_bar (L, D, N) = (exp(delta A) - 1) / A * B  (the integral of exp(s A) B over s in [0, delta]).
    """
    dA = delta[:, :, None] * A[None]
    return torch.exp(dA), torch.expm1(dA) / A[None] * B[:, None, :]


def check_zoh(fn):
    """Check ``fn(delta (L, D), A (D, N), B (L, N)) -> (A_bar, B_bar)``, both (L, D, N), exact ZOH."""
    cases = {}
    for name, (L, D, N, scale, seed) in {
        "L 5, D 3, N 4": (5, 3, 4, 1.0, 0),
        "tiny steps (delta ~ 1e-3)": (4, 2, 3, 1e-3, 1),
        "large steps (delta ~ 5)": (3, 4, 2, 5.0, 2),
    }.items():
        g = torch.Generator().manual_seed(seed)
        delta = scale * (0.2 + torch.rand(L, D, generator=g, dtype=torch.float64))
        A = -(0.5 + torch.rand(D, N, generator=g, dtype=torch.float64))
        B = torch.randn(L, N, generator=g, dtype=torch.float64)
        cases[name] = (delta, A, B)

    def euler_b(delta, A, B):
        return torch.exp(delta[:, :, None] * A[None]), delta[:, :, None] * B[:, None, :]

    def euler_a(delta, A, B):
        a, b = reference_zoh(delta, A, B)
        return 1 + delta[:, :, None] * A[None], b

    return run_check(
        "zoh",
        lambda d, a, b: tuple(fn(d, a, b)),
        reference_zoh,
        cases,
        rtol=1e-7,
        atol=1e-10,
        mistakes={
            "B_bar = delta * B is Mamba's first-order simplification; the exercise asks for the "
            "exact hold (exp(delta A) - 1) / A * B": euler_b,
            "A_bar = 1 + delta A is the Euler step; the exact hold is exp(delta A)": euler_a,
        },
        hint="Broadcast delta (L, D, 1) with A (1, D, N); A_bar = exp(delta A); "
        "B_bar = (exp(delta A) - 1) / A * B[:, None, :]. torch.expm1 keeps tiny steps accurate.",
    )
