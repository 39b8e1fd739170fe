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

from mdtf_lite.checks import Case, run_check
from mdtf_lite.ssm.scans import chunked_scan, combine, sequential_scan

__all__ = ["check_combine", "check_sequential_scan", "check_chunked_scan"]


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
    results = run_check("combine", lambda l, r: tuple(fn(l, r)), combine, _pair_cases(), forbid=[combine],
                        mistakes={"right applied first: you computed 'right, then left'":
                                  lambda l, r: combine(r, l)},
                        hint="Apply left first: h -> a1 h + b1, then h -> a2 h + b2. Expand a2 (a1 h + b1) + b2.")
    # associativity is what makes parallel scans possible: check the student's operator has it
    g = torch.Generator().manual_seed(2)
    x, y, z = ((torch.rand(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64))
               for _ in range(3))
    run_check("combine is associative", lambda: tuple(fn(tuple(fn(x, y)), z)), lambda: tuple(fn(x, tuple(fn(y, z)))),
              {"combine(combine(x, y), z) vs combine(x, combine(y, z))": ()}, forbid=[combine], hint="combine(combine(x, y), z) must equal combine(x, combine(y, z)).")
    return results


def check_sequential_scan(fn):
    """Check ``fn(a, b) -> h`` (a, b, h: (L, *S)) against the recurrence h_t = a_t h_{t-1} + b_t."""
    def from_t1(a, b):  # the loop starts at t = 1
        return sequential_scan(a[1:], b[1:])

    def a_before(a, b):  # h_t = a_{t-1} h_{t-1} + b_t
        return sequential_scan(torch.cat([a[:1], a[:-1]]), b)

    def h_before(a, b):  # stores h_{t-1} instead of h_t
        return torch.cat([torch.zeros_like(b[:1]), sequential_scan(a, b)[:-1]])

    return run_check("sequential_scan", fn, sequential_scan, _scan_cases(), forbid=[sequential_scan],
                     mistakes={"off by one: the loop starts at t = 1 (state h_0 = b_0 is missing)": from_t1,
                               "off by one: a_{t-1} multiplies h_{t-1}; use a_t": a_before,
                               "off by one: you store the state before the update (h_{t-1}); append after it": h_before},
                     hint="Start from h = 0 (shape S), loop over t, keep every h_t; stack along dim 0.")


def check_chunked_scan(fn):
    """Check ``fn(a, b, chunk_size) -> h`` for chunk sizes that divide L, do not divide it, and exceed it."""
    cases = [Case(f"{c.name}, chunk {k}", (*c.args, k)) for c in _scan_cases() for k in (1, 3, 4, 50)]

    def no_carry(a, b, k):
        return torch.cat([sequential_scan(a[s:s + k], b[s:s + k]) for s in range(0, len(a), k)])

    return run_check("chunked_scan", fn, lambda a, b, k: chunked_scan(a, b, k), cases, forbid=[chunked_scan],
                     mistakes={"the carry is missing: every chunk starts from zero": no_carry},
                     hint="Inside a chunk scan from zero; then h = local + cumprod(a_chunk) * carry, "
                          "carry = last h of the previous chunk. Handle a last, shorter chunk.")
