"""The fused C++ kernels give bit-identical gradients at any thread count and on every call (the sums over
sequences -- dA, dD, ddelta_bias, the conv's dw and db -- are added per fixed chunk, in chunk order), and
their outputs still match the float64 reference at the model's shapes."""

import pytest
import torch

from mdtf_lite.ssm import cpp_kernel
from mdtf_lite.ssm.reference import selective_scan_reference

pytestmark = pytest.mark.skipif(
    not cpp_kernel.available(), reason=f"the C++ kernels are not built here: {cpp_kernel.build_error()}"
)

THREADS = (1, 2, 4, 8)
#: the model's scans: MDTF's cpu preset at batch 8, T 27 -> S 432 (spatial: 8 x 27 x 2 directions) or
#: S 216 sequences of L 17 joints, D 32 channels, N 16 states
MODEL_SHAPES = [(432, 17, 32, 16), (216, 17, 32, 16)]


def _scan_inputs(S, L, D, N, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
    A = -torch.exp(r(D, N) * 0.5)
    return [r(S, L, D), r(S, L, D) * 0.7, A, r(S, L, N), r(S, L, N), r(D), r(S, L, D), r(D) * 0.5], r(S, L, D)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _per_thread_count(fn):
    out = {}
    for n in THREADS:
        torch.set_num_threads(n)
        out[n] = fn()
    return out


@pytest.mark.parametrize("S, L, D, N", MODEL_SHAPES)
def test_scan_backward_is_bit_identical_across_thread_counts_and_calls(S, L, D, N, restore_threads):
    args, gy = _scan_inputs(S, L, D, N)
    names = ("du", "ddelta", "dA", "dB", "dC", "dD", "dz", "ddelta_bias")
    grads = _per_thread_count(lambda: torch.ops.mdtf_lite.scan_bwd(*args, gy))
    for n in THREADS[1:]:
        for name, a, b in zip(names, grads[1], grads[n]):
            assert torch.equal(a, b), f"{name} differs between 1 and {n} threads"
    torch.set_num_threads(4)
    for _ in range(10):
        again = torch.ops.mdtf_lite.scan_bwd(*args, gy)
        assert all(torch.equal(a, b) for a, b in zip(grads[1], again)), "a repeated call at 4 threads differs"


def test_conv_backward_is_bit_identical_across_thread_counts_and_calls(restore_threads):
    g = torch.Generator().manual_seed(1)
    x, gu = torch.randn(432, 17, 64, generator=g), torch.randn(432, 17, 64, generator=g)
    w, b = torch.randn(64, 4, generator=g), torch.randn(64, generator=g)
    grads = _per_thread_count(lambda: torch.ops.mdtf_lite.conv_silu_bwd(x, w, b, gu))
    for n in THREADS[1:]:
        assert all(torch.equal(a, c) for a, c in zip(grads[1], grads[n])), f"1 vs {n} threads"
    torch.set_num_threads(4)
    for _ in range(10):
        assert all(torch.equal(a, c) for a, c in zip(grads[1], torch.ops.mdtf_lite.conv_silu_bwd(x, w, b, gu)))


def test_autograd_through_the_block_scan_is_bit_identical_across_thread_counts(restore_threads):
    """The path the model takes (scan_channels_last + autograd), strided B and C views included."""
    S, L, D, N = MODEL_SHAPES[0]
    args, gy = _scan_inputs(S, L, D, N, seed=2)
    x_dbl = torch.randn(S, L, 2 + 2 * N, generator=torch.Generator().manual_seed(3))
    leaves = [t.clone().requires_grad_() for t in (args[0], args[1], args[2], x_dbl, args[5], args[6], args[7])]
    u, delta, A, xd, Dskip, z, bias = leaves

    def grads():
        y = cpp_kernel.scan_channels_last(u, delta, A, xd[..., 2 : 2 + N], xd[..., 2 + N :], Dskip, z, bias)
        return torch.autograd.grad((y * gy).sum(), leaves)

    got = _per_thread_count(grads)
    for n in THREADS[1:]:
        assert all(torch.equal(a, b) for a, b in zip(got[1], got[n])), f"1 vs {n} threads"


@pytest.mark.parametrize("S, L, D, N", MODEL_SHAPES[:1])
def test_outputs_and_gradients_match_the_float64_reference_at_the_model_shape(S, L, D, N, restore_threads):
    torch.set_num_threads(4)
    args, gy = _scan_inputs(S, L, D, N, seed=4)
    y, _ = torch.ops.mdtf_lite.scan_fwd(*args)
    grads = torch.ops.mdtf_lite.scan_bwd(*args, gy)
    leaves = [t.double().requires_grad_() for t in args]
    u, delta, A, B, C, Dskip, z, bias = leaves
    t = lambda m: m.transpose(1, 2)  # noqa: E731  (S, L, K) -> (S, K, L)
    y64 = t(
        selective_scan_reference(t(u), t(delta), A, t(B), t(C), D=Dskip, z=t(z), delta_bias=bias, delta_softplus=True)
    )
    want = torch.autograd.grad((y64 * gy.double()).sum(), leaves)
    assert (y.double() - y64).abs().max() <= 1e-5 * y64.abs().max()
    for name, a, b in zip(("u", "delta", "A", "B", "C", "D", "z", "delta_bias"), grads, want):
        assert (a.double() - b).abs().max() <= 2e-5 * b.abs().max(), name


def test_non_finite_inputs_stay_defined():
    """exp of -inf, +inf, NaN and huge arguments: the kernel returns finite values or NaN, never garbage."""
    args, gy = _scan_inputs(4, 5, 8, 4, seed=5)
    delta = args[1]
    delta[0, 0, :4] = torch.tensor([float("inf"), float("-inf"), 1e30, -1e30])
    delta[1, 0, 0] = float("nan")
    y, _ = torch.ops.mdtf_lite.scan_fwd(*args)
    assert torch.isnan(y[1, :, 0]).all()  # NaN propagates through its sequence and channel
    assert torch.isfinite(y[0, :, 1:4]).all() and torch.isfinite(y[2:]).all()  # +-inf / huge: clamped
    mask = torch.ones_like(y, dtype=torch.bool)
    mask[1, :, 0] = False
    mask[0, :, 0] = False  # +inf: softplus(inf) = inf, a legit inf/NaN
    assert torch.isfinite(y[mask]).all()


def test_a_wrong_dtype_or_layout_is_refused_by_name():
    args, _ = _scan_inputs(4, 5, 8, 4)
    bad = list(args)
    bad[2] = bad[2].double()
    with pytest.raises(RuntimeError, match="A must be float32"):
        torch.ops.mdtf_lite.scan_fwd(*bad)
    bad = list(args)
    bad[3] = bad[3].transpose(1, 2).contiguous().transpose(1, 2)  # B with a non-contiguous last dimension
    with pytest.raises(RuntimeError, match="B needs a contiguous last dimension"):
        torch.ops.mdtf_lite.scan_fwd(*bad)
