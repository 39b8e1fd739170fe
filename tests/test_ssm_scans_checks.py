"""The teaching scans agree with each other, and the exercise checkers accept right and reject wrong answers."""

import pytest
import torch

from mdtf_lite.course.checks.scan import check_chunked_scan, check_combine, check_sequential_scan
from mdtf_lite.ssm import scans


@pytest.mark.parametrize("length", [1, 2, 5, 8, 13, 64])
def test_parallel_scans_equal_the_sequential_scan(length):
    g = torch.Generator().manual_seed(length)
    a = torch.rand(length, 3, 2, generator=g, dtype=torch.float64)
    b = torch.randn(length, 3, 2, generator=g, dtype=torch.float64)
    want = scans.sequential_scan(a, b)
    for got in (
        scans.hillis_steele_scan(a, b),
        scans.blelloch_scan(a, b),
        scans.chunked_scan(a, b, 3),
        scans.chunked_scan(a, b, 100),
    ):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("length", [1, 5, 8, 13])
def test_schedules_reach_every_prefix(length):
    """Replaying a schedule on sets of covered indices gives every position all of 0..t."""
    for levels in (
        scans.hillis_steele_schedule(length),
        scans.blelloch_schedule(length),
        scans.chunked_schedule(length, 3),
    ):
        cover = [{t} for t in range(length)]
        for level in levels:
            new = [set(c) for c in cover]
            for src, dst in level:
                new[dst] |= cover[src]
            cover = new
        assert all(cover[t] == set(range(t + 1)) for t in range(length)), levels


def test_reference_solutions_pass_the_checkers():
    check_combine(scans.combine)
    check_sequential_scan(scans.sequential_scan)
    check_chunked_scan(scans.chunked_scan)


def test_wrong_combine_is_rejected():
    with pytest.raises(AssertionError, match="combine"):
        check_combine(lambda left, right: (left[0] * right[0], left[0] * right[1] + left[1]))  # applies right first


def test_wrong_sequential_scan_is_rejected():
    def off_by_one(a, b):  # uses a_{t-1} instead of a_t
        h, out = torch.zeros_like(b[0]), []
        for t in range(len(a)):
            h = (a[t - 1] if t else a[0]) * h + b[t]
            out.append(h)
        return torch.stack(out)

    with pytest.raises(AssertionError, match="sequential_scan"):
        check_sequential_scan(off_by_one)


def test_chunked_scan_that_forgets_the_carry_is_rejected():
    def no_carry(a, b, k):
        return torch.cat([scans.sequential_scan(a[s : s + k], b[s : s + k]) for s in range(0, len(a), k)])

    with pytest.raises(AssertionError, match="chunked_scan"):
        check_chunked_scan(no_carry)


def test_unsolved_stub_fails_as_a_stub():
    def stub(a, b):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        check_sequential_scan(stub)
