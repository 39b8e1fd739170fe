"""The scan benchmark runs end to end on a tiny problem and prints every row (timings are not asserted)."""

import math

import pytest

from mdtf_lite.bench import scan as bench


@pytest.mark.slow
def test_tiny_table_has_every_row_and_ratio(capsys):
    lines = []
    results, rates = bench.run_table([8, 16], batch=2, d_inner=4, n_state=2, reps=1, budget=60.0, out=lines.append)
    assert {r["row"] for r in results} == set(bench.ROWS)
    assert all(r["fwd"] > 0 and r["fwdbwd"] > 0 for r in results)
    text = "\n".join(lines)
    for row in bench.ROWS:
        assert row in text
    assert "floor" in text and all(v > 0 and math.isfinite(v) for v in rates.values())


def test_budget_skips_predicted_slow_cells():
    lines = []
    results, _ = bench.run_table(
        [4, 400],
        batch=1,
        d_inner=2,
        n_state=2,
        reps=1,
        budget=0.0,
        rows=("selective_scan_ref",),
        out=lines.append,
        floor=False,
    )
    second = [r for r in results if r["L"] == 400][0]
    assert second["fwdbwd"] is None and "skip" in "\n".join(lines)


def test_unknown_row_is_rejected():
    with pytest.raises(SystemExit):
        bench.main(["--rows", "cpu,flash"])
