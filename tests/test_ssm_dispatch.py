"""selective_scan's dispatcher: backend choice, clear errors for bad inputs and unavailable backends."""

import os

import pytest
import torch
from ssm_helpers import make_inputs

from mdtf_lite.ssm import BACKENDS, CPU_PREFERENCE, available_backends, resolve_backend, selective_scan
from mdtf_lite.ssm.reference import selective_scan_reference


def _args(x):
    return x["u"], x["delta"], x["A"], x["B"], x["C"]


def test_auto_resolves_to_the_first_available_cpu_preference():
    have = available_backends("cpu")
    assert {"reference", "torch", "cpu"} <= set(have)
    assert resolve_backend("auto", "cpu") == next(name for name in CPU_PREFERENCE if name in have)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b not in ("triton", "mamba_ssm")])
def test_every_cpu_backend_the_docs_name_dispatches_and_agrees(backend):
    """Each name in BACKENDS that can run on this machine's CPU gives the reference's numbers."""
    if backend not in ("auto", *available_backends("cpu")):
        pytest.skip(f"{backend} is not available on this machine: {available_backends('cpu')}")
    x = make_inputs()
    kw = dict(D=x["D"], z=x["z"], delta_bias=x["delta_bias"], delta_softplus=True)
    want = selective_scan_reference(*_args(x), **kw)
    got = selective_scan(*_args(x), backend=backend, **kw)
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-5)


def test_unknown_backend_is_a_value_error():
    x = make_inputs()
    with pytest.raises(ValueError, match="unknown selective-scan backend 'cuda_fast'"):
        selective_scan(*_args(x), backend="cuda_fast")


def test_mamba_ssm_backend_on_cpu_tensors_says_why():
    x = make_inputs()
    with pytest.raises(RuntimeError, match="needs CUDA tensors"):
        selective_scan(*_args(x), backend="mamba_ssm")


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") == "1", reason="the interpreter makes triton usable on CPU")
def test_triton_backend_on_cpu_without_interpreter_says_why():
    x = make_inputs()
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        selective_scan(*_args(x), backend="triton")


@pytest.mark.parametrize(
    "name, bad, pattern",
    [
        ("u", torch.zeros(2, 8), r"u must be \(B, D, L\)"),
        ("delta", torch.zeros(2, 8, 5), r"delta must have u's shape"),
        ("A", torch.zeros(7, 4), r"A must be \(D, N\) with D = 8"),
        ("B", torch.zeros(2, 3, 33), r"B must be \(B, N, L\)"),
        ("C", torch.zeros(2, 3, 4, 33), r"grouped C must be .* divisible by G"),
        ("B", torch.zeros(8, 4), r"time-invariant"),
        ("D", torch.zeros(3), r"D must be \(D,\)"),
        ("z", torch.zeros(2, 8, 32), r"z must have u's shape"),
        ("delta_bias", torch.zeros(8, 1), r"delta_bias must be \(D,\)"),
        ("A", torch.zeros(8, 4, dtype=torch.complex64), r"complex"),
        ("u", torch.zeros(2, 8, 33, dtype=torch.int64), r"floating-point"),
    ],
)
def test_bad_inputs_name_the_argument(name, bad, pattern):
    x = {k: (v.detach() if v is not None else None) for k, v in make_inputs().items()}
    x[name] = bad
    with pytest.raises(ValueError, match=pattern):
        selective_scan(*_args(x), D=x["D"], z=x["z"], delta_bias=x["delta_bias"])


def test_nan_input_is_rejected_before_compute():
    x = {k: (v.detach().clone() if v is not None else None) for k, v in make_inputs().items()}
    x["delta"][0, 0, 3] = float("nan")
    with pytest.raises(ValueError, match="delta contains NaN or Inf"):
        selective_scan(*_args(x))


def test_mismatched_groups_are_rejected():
    x = {k: (v.detach() if v is not None else None) for k, v in make_inputs(groups=2).items()}
    x["C"] = torch.zeros(2, 4, 4, 33)
    with pytest.raises(ValueError, match="same number of groups"):
        selective_scan(*_args(x))


def test_auto_on_cuda_prefers_mamba_ssm_then_triton():
    """Resolution only (no GPU here): without mamba-ssm's kernels, CUDA tensors would go to triton."""
    from mdtf_lite.ssm.mamba_ssm_backend import has_cuda_kernels

    expected = "mamba_ssm" if has_cuda_kernels() else "triton"
    assert resolve_backend("auto", "cuda") == expected
    with pytest.raises(RuntimeError, match="CUDA kernels are not built") if not has_cuda_kernels() else _null():
        resolve_backend("mamba_ssm", "cuda")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_availability_is_probed_once_per_process(monkeypatch):
    """After the first answer, neither the compiler, numba nor find_spec is asked again."""
    import importlib.util

    import mdtf_lite.ssm as ssm

    have = ssm.available_backends("cpu")
    ssm.resolve_backend("auto", "cuda")  # probes the CUDA side once too

    def no_probe(*args, **kwargs):
        raise AssertionError("availability probed again")

    monkeypatch.setattr(ssm.cpp_kernel, "build", no_probe)
    monkeypatch.setattr(ssm, "numba_available", no_probe)
    monkeypatch.setattr(importlib.util, "find_spec", no_probe)
    assert ssm.available_backends("cpu") == have
    assert ssm.resolve_backend("auto", "cpu") == next(name for name in CPU_PREFERENCE if name in have)
    ssm.resolve_backend("auto", "cuda")
    x = make_inputs()
    selective_scan(*_args(x), D=x["D"], z=x["z"], delta_bias=x["delta_bias"], delta_softplus=True)


@pytest.mark.parametrize("backend", ["reference", "torch", "cpu", "cpp"])
def test_mamba_kernels_are_resolved_once_and_agree(backend):
    """The channels-last pair a mixer holds: one object per (backend, device), the reference's numbers."""
    from mdtf_lite.ssm import mamba_kernels
    from mdtf_lite.ssm.conv import causal_conv_silu

    if backend not in available_backends("cpu"):
        pytest.skip(f"{backend} is not available here")
    kernels = mamba_kernels(backend, "cpu")
    assert kernels is mamba_kernels(backend, "cpu") and kernels.backend == backend
    g = torch.Generator().manual_seed(3)
    s, length, d, n = 4, 9, 8, 5
    u, delta, z = (torch.randn(s, length, d, generator=g) for _ in range(3))
    B, C = torch.randn(s, length, n, generator=g), torch.randn(s, length, n, generator=g)
    A, Dskip, bias = -torch.rand(d, n, generator=g) - 0.5, torch.randn(d, generator=g), torch.randn(d, generator=g)
    want = selective_scan_reference(
        u.transpose(1, 2),
        delta.transpose(1, 2),
        A,
        B.transpose(1, 2),
        C.transpose(1, 2),
        D=Dskip,
        z=z.transpose(1, 2),
        delta_bias=bias,
        delta_softplus=True,
    ).transpose(1, 2)
    assert torch.allclose(kernels.scan(u, delta, A, B, C, Dskip, z, bias), want, rtol=1e-4, atol=1e-5)
    w, b = torch.randn(d, 1, 4, generator=g), torch.randn(d, generator=g)
    assert torch.allclose(kernels.conv_silu(u, w, b), causal_conv_silu(u, w, b), atol=1e-6)
    with pytest.raises(RuntimeError, match="CPU tensors only"):
        mamba_kernels("cpu", "cuda")


def test_gradient_flows_through_the_last_state_on_every_cpu_backend():
    """The fused kernel's last state carries no gradient, so a loss on it is scanned by another backend."""
    torch.manual_seed(0)
    S, D, L, N = 2, 4, 5, 3
    u = torch.randn(S, D, L, requires_grad=True)
    args = (torch.randn(S, D, L), -torch.rand(D, N), torch.randn(S, N, L), torch.randn(S, N, L), torch.randn(D))
    extra = dict(z=torch.randn(S, D, L), delta_bias=torch.randn(D), delta_softplus=True, return_last_state=True)
    grads = {}
    for backend in ("reference", *available_backends("cpu")):
        u.grad = None
        y, last = selective_scan(u, *args, backend=backend, **extra)
        (y.sum() + last.sum()).backward()
        grads[backend] = u.grad.clone()
    for backend, g in grads.items():
        assert torch.allclose(g, grads["reference"], atol=1e-4), backend
