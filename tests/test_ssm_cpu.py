"""The cpu / torch / reference selective-scan backends vs a float64 oracle and mamba-ssm's selective_scan_ref.

Tolerance: normwise relative error max|x - ref| / max|ref| <= 1e-5 in float32, for the output, the
last state and the gradients of u, delta, A, B, C, D, z, delta_bias.
"""

import itertools
import zlib

import pytest
import torch
from ssm_helpers import assert_close_all, make_inputs, oracle, rel_err, run

from mdtf_lite.ssm import selective_scan
from mdtf_lite.ssm.cpu import _ChunkedScan, _FusedScan, numba_available, selective_scan_cpu, selective_scan_torch
from mdtf_lite.ssm.mamba_ssm_backend import load_selective_scan_ref

FAST = ["cpu", "torch"]
TOL32 = 1e-5


def backend_fn(name, **fixed):
    def fn(*a, **k):
        return selective_scan(*a, backend=name, **k) if name != "torch" else selective_scan_torch(*a, **k, **fixed)

    return fn


# every combination of the optional parts, in both B/C layouts (ungrouped and grouped)
FLAGS = list(itertools.product([False, True], repeat=5))  # D, z, bias, softplus, last_state


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("groups", [None, 2])
@pytest.mark.parametrize(
    "flags", FLAGS[::3] + [FLAGS[-1]], ids=lambda f: "".join("Dzbsl"[i] for i in range(5) if f[i]) or "bare"
)
def test_float32_matches_float64_oracle(backend, groups, flags):
    with_D, with_z, with_bias, softplus, last = flags
    seed = zlib.crc32(repr((backend, groups, flags)).encode()) % 1000  # the same in every process (hash() is not)
    x = make_inputs(seed=seed, groups=groups, with_D=with_D, with_z=with_z, with_bias=with_bias)
    kw = dict(delta_softplus=softplus, return_last_state=last)
    got = run(backend_fn(backend), x, **kw)
    assert_close_all(got, oracle(x, **kw), TOL32, f"{backend} groups={groups} flags={flags}")


@pytest.mark.parametrize("backend", FAST + ["reference"])
@pytest.mark.parametrize("groups", [None, 4])
def test_matches_mamba_ssm_selective_scan_ref(backend, groups):
    """Same float32 inputs through mamba-ssm's own reference: outputs, last state and all gradients."""
    x = make_inputs(seed=7, batch=3, d_inner=8, n_state=5, length=50, groups=groups)
    kw = dict(delta_softplus=True, return_last_state=True)
    assert_close_all(
        run(backend_fn(backend), x, **kw),
        run(load_selective_scan_ref(), x, **kw),
        TOL32,
        f"{backend} vs selective_scan_ref",
    )


@pytest.mark.parametrize("chunk_size", [1, 3, 16, 64, 500])
def test_chunk_size_does_not_change_the_result(chunk_size):
    x = make_inputs(seed=3, length=64, groups=2)
    kw = dict(delta_softplus=True, return_last_state=True)
    want = oracle(x, **kw)
    for fn in (selective_scan_cpu, selective_scan_torch):
        got = run(lambda *a, **k: fn(*a, chunk_size=chunk_size, **k), x, **kw)
        assert_close_all(got, want, TOL32, f"{fn.__name__} chunk_size={chunk_size}")


@pytest.mark.parametrize("backend", FAST)
def test_stress_large_delta_long_sequence(backend):
    """Step sizes above 20 (a_t = exp(delta A) underflows to 0 for many states) and L = 3000: within 1e-5."""
    x = make_inputs(seed=11, batch=2, d_inner=4, n_state=8, length=3000, delta_scale=16.0)
    kw = dict(delta_softplus=True, return_last_state=True)
    assert float(torch.nn.functional.softplus(x["delta"] + x["delta_bias"][:, None]).detach().max()) > 20
    assert_close_all(run(backend_fn(backend), x, **kw), oracle(x, **kw), TOL32, f"{backend} stress")


@pytest.mark.parametrize("backend", FAST)
def test_finite_at_L_16384(backend):
    x = make_inputs(seed=5, batch=1, d_inner=4, n_state=4, length=16384, with_z=False)
    (y,), grads = run(backend_fn(backend), x, delta_softplus=True)
    assert torch.isfinite(y).all()
    for name, g in grads.items():
        assert torch.isfinite(g).all(), f"gradient of {name} is not finite at L=16384"


def test_float64_inputs_compute_in_float64():
    x = make_inputs(seed=2, dtype=torch.float64, groups=2)
    kw = dict(delta_softplus=True, return_last_state=True)
    errs = assert_close_all(run(backend_fn("cpu"), x, **kw), oracle(x, **kw), 1e-12, "cpu float64")
    assert max(errs.values()) < 1e-12


def test_auto_is_cpu_on_cpu_tensors_and_gives_the_same_numbers():
    x = make_inputs(seed=4)
    a = run(backend_fn("auto"), x)
    c = run(backend_fn("cpu"), x)
    assert rel_err(a[0][0], c[0][0]) == 0.0


def _saved_numel(fn, x):
    """Total numbers autograd keeps for the backward of one scan call (via saved-tensor hooks)."""
    sizes = {}

    def pack(t):
        sizes[(t.data_ptr(), t.numel())] = t.numel()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(x["u"], x["delta"], x["A"], x["B"], x["C"], delta_softplus=True)
    return sum(sizes.values())


@pytest.mark.parametrize("core", ["cpu", "torch"])
def test_backward_stores_inputs_and_chunk_states_only(core):
    """The memory claim of the docstring: saved = O(inputs) + B*D*N*ceil(L/K), never B*D*N*L."""
    b, d, n, length, k = 2, 16, 8, 256, 32
    x = make_inputs(seed=0, batch=b, d_inner=d, n_state=n, length=length, with_D=False, with_z=False, with_bias=False)
    fn = selective_scan_cpu if core == "cpu" else selective_scan_torch
    saved = _saved_numel(lambda *a, **kw: fn(*a, chunk_size=k, **kw), x)
    inputs = 2 * b * d * length + d * n + 2 * b * n * length
    # softplus keeps its input (B, D, L); the layout copies of u, delta, B, C count once more
    budget = 3 * inputs + b * d * n * (length // k)
    assert saved <= budget, f"backward keeps {saved} numbers, budget {budget} (B*D*N*L = {b * d * n * length})"
    assert saved < b * d * n * length


def test_numba_kernels_are_used_on_cpu():
    if not numba_available():
        pytest.skip("numba not installed: selective_scan_cpu falls back to the PyTorch chunked scan")
    x = make_inputs(seed=0)
    y = selective_scan_cpu(x["u"], x["delta"], x["A"], x["B"], x["C"])
    assert y.grad_fn is not None and "_FusedScan" in str(y.grad_fn.next_functions) or _find(y.grad_fn, "_FusedScan")
    assert _find(selective_scan_torch(x["u"], x["delta"], x["A"], x["B"], x["C"]).grad_fn, "_ChunkedScan")
    assert _FusedScan is not _ChunkedScan


def _find(fn, name, depth=8):
    if fn is None or depth == 0:
        return False
    if name in type(fn).__name__:
        return True
    return any(_find(f, name, depth - 1) for f, _ in fn.next_functions)
