"""The Triton backend (forward and backward kernels) run through Triton's CPU interpreter.

``TRITON_INTERPRET=1`` must be set before triton builds the kernels, and other tests in this
session may already have imported triton, so the checks run in a fresh interpreter process
(``tests/triton_interpret_check.py``) and this module asserts on what it reports.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def report():
    env = dict(os.environ, TRITON_INTERPRET="1")
    proc = subprocess.run(
        [sys.executable, str(HERE / "triton_interpret_check.py")], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"interpreter run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_kernels_were_interpreted(report):
    assert report["interpreted"] is True
    assert "triton" in report["available"]


@pytest.mark.parametrize("case", ["ungrouped", "grouped", "bare", "one_chunk", "stress"])
@pytest.mark.slow
def test_triton_matches_float64_oracle(report, case):
    errs = report["cases"][case]
    assert set(errs) >= {"out0"}, errs
    bad = {k: v for k, v in errs.items() if not v <= 1e-5}
    assert not bad, f"{case}: normwise relative errors above 1e-5: {bad}"


@pytest.mark.slow
def test_triton_matches_mamba_ssm_reference(report):
    bad = {k: v for k, v in report["vs_selective_scan_ref"].items() if not v <= 1e-5}
    assert not bad, bad
