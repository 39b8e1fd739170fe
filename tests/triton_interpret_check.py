"""Run under TRITON_INTERPRET=1 (see test_ssm_triton.py): Triton backend vs oracles on small shapes.

Prints one JSON line: {"interpreted": bool, "available": [...], "cases": {name: {tensor: rel_err}},
"vs_selective_scan_ref": {tensor: rel_err}}.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from ssm_helpers import make_inputs, oracle, rel_err, run  # noqa: E402

from mdtf_lite.ssm import (  # noqa: E402
    available_backends,
    selective_scan,
    triton_kernel,  # noqa: E402
)
from mdtf_lite.ssm.mamba_ssm_backend import load_selective_scan_ref  # noqa: E402


def errors(got, want):
    (go, gg), (wo, wg) = got, want
    out = {f"out{i}": rel_err(a, b) for i, (a, b) in enumerate(zip(go, wo))}
    out.update({f"d{k}": (rel_err(gg[k], v) if gg[k] is not None else float("inf")) for k, v in wg.items()})
    return out


def tri(chunk):
    return lambda *a, **k: triton_kernel.selective_scan_triton(*a, chunk_size=chunk, **k)


CASES = {  # name: (make_inputs kwargs, scan kwargs, chunk)
    "ungrouped": (
        dict(seed=1, batch=2, d_inner=6, n_state=3, length=13),
        dict(delta_softplus=True, return_last_state=True),
        4,
    ),
    "grouped": (
        dict(seed=2, batch=2, d_inner=8, n_state=5, length=11, groups=2),
        dict(delta_softplus=True, return_last_state=True),
        4,
    ),
    "bare": (
        dict(seed=3, batch=1, d_inner=4, n_state=4, length=9, with_D=False, with_z=False, with_bias=False),
        {},
        16,
    ),
    "one_chunk": (dict(seed=4, batch=2, d_inner=5, n_state=2, length=7), dict(delta_softplus=True), 16),
    "stress": (
        dict(seed=5, batch=1, d_inner=4, n_state=4, length=40, delta_scale=16.0),
        dict(delta_softplus=True, return_last_state=True),
        8,
    ),
}

report = {"interpreted": triton_kernel.INTERPRETED, "available": available_backends("cpu"), "cases": {}}
for name, (mk, kw, chunk) in CASES.items():
    x = make_inputs(**mk)
    report["cases"][name] = errors(run(tri(chunk), x, **kw), oracle(x, **kw))
x = make_inputs(seed=6, batch=2, d_inner=4, n_state=3, length=10, groups=2)
kw = dict(delta_softplus=True, return_last_state=True)
got = run(lambda *a, **k: selective_scan(*a, backend="triton", **k), x, **kw)
report["vs_selective_scan_ref"] = errors(got, run(load_selective_scan_ref(), x, **kw))
print(json.dumps(report))
