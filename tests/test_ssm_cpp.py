"""The fused channels-last C++ scan (backend ``cpp``): outputs and every gradient against the float64
reference, strided inputs, thread-count invariance, shape errors, and the Mamba block on top of it."""

import pytest
import torch

from mdtf_lite.ssm import cpp_kernel, selective_scan, selective_scan_channels_last
from mdtf_lite.ssm.reference import selective_scan_reference

pytestmark = pytest.mark.skipif(
    not cpp_kernel.available(), reason=f"the C++ scan could not be built here: {cpp_kernel.build_error()}"
)


def _inputs(S=6, L=11, D=32, N=16, R=2, seed=0):
    """Leaf tensors in the block's layout: u, delta (S, L, D); A (D, N); x_dbl (S, L, R + 2N) whose slices
    are B and C; Dskip, bias (D,); zz (S, L, 2D) whose first half is z (strided views, as in the model)."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).requires_grad_()

    A = (-torch.exp(torch.randn(D, N, generator=g, dtype=torch.float64) * 0.5)).requires_grad_()
    return dict(
        u=rnd(S, L, D),
        delta=rnd(S, L, D, scale=0.7),
        A=A,
        x_dbl=rnd(S, L, R + 2 * N),
        Dskip=rnd(D),
        zz=rnd(S, L, 2 * D),
        bias=rnd(D, scale=0.5),
        R=R,
        N=N,
        D=D,
    )


def _views(x, cast):
    R, N, D = x["R"], x["N"], x["D"]
    B, C = x["x_dbl"][..., R : R + N], x["x_dbl"][..., R + N :]
    return [cast(t) for t in (x["u"], x["delta"], x["A"], B, C, x["Dskip"], x["zz"][..., :D], x["bias"])]


def _reference(u, delta, A, B, C, Dskip, z, bias):
    t = lambda m: m.transpose(1, 2)  # noqa: E731  (S, L, K) -> (S, K, L)
    return t(
        selective_scan_reference(t(u), t(delta), A, t(B), t(C), D=Dskip, z=t(z), delta_bias=bias, delta_softplus=True)
    )


def _forward_backward(x, use_cpp):
    leaves = [x[k] for k in ("u", "delta", "A", "x_dbl", "Dskip", "zz", "bias")]
    if use_cpp:
        y = cpp_kernel.scan_channels_last(*_views(x, lambda t: t.float())).double()
    else:
        y = _reference(*_views(x, lambda t: t))
    w = torch.randn(y.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    grads = torch.autograd.grad((y * w).sum(), leaves)
    return y, grads


@pytest.mark.parametrize("D, L, N", [(32, 17, 16), (16, 27, 16), (32, 9, 5), (12, 9, 16)])
def test_forward_and_every_gradient_match_the_float64_reference(D, L, N):
    """The blocked 8-wide loops (D 32, 16; N 5 takes their odd-state tail) and the generic loop (D 12: not
    a compiled width)."""
    x = _inputs(D=D, L=L, N=N)
    y1, g1 = _forward_backward(x, use_cpp=True)
    y0, g0 = _forward_backward(x, use_cpp=False)
    assert (y1 - y0).abs().max() <= 1e-5 * y0.abs().max()
    for name, a, b in zip(("u", "delta", "A", "x_dbl", "Dskip", "zz", "bias"), g1, g0):
        assert (a - b).abs().max() <= 2e-5 * b.abs().max(), name


def test_thread_count_does_not_change_the_output():
    x = _inputs(S=40, L=17)
    args = _views(x, lambda t: t.detach().float())
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        y1 = cpp_kernel.scan_channels_last(*args)
        torch.set_num_threads(2)
        y2 = cpp_kernel.scan_channels_last(*args)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(y1, y2)  # sequences are independent: the split over threads cannot matter


def test_dispatch_in_both_layouts_agrees_with_the_reference():
    x = _inputs()
    args = _views(x, lambda t: t.detach().float())
    want = _reference(*args)
    assert torch.allclose(selective_scan_channels_last(*args, backend="cpp"), want, atol=1e-5)
    u, delta, A, B, C, Dskip, z, bias = (a.transpose(1, 2) if a.dim() == 3 else a for a in args)
    got = selective_scan(u, delta, A, B, C, D=Dskip, z=z, delta_bias=bias, delta_softplus=True, backend="cpp")
    assert torch.allclose(got.transpose(1, 2), want, atol=1e-5)


def test_wrong_shapes_are_refused_with_the_tensor_named():
    args = _views(_inputs(), lambda t: t.detach().float())
    bad = list(args)
    bad[3] = bad[3][:, :-1]  # B one step short
    with pytest.raises(RuntimeError, match="B must have shape"):
        cpp_kernel.scan_channels_last(*bad)


def test_mamba_block_gives_the_same_function_on_cpp_and_reference():
    from mdtf_lite.models.blocks import mamba_block

    torch.manual_seed(0)
    ref_block = mamba_block(16, scan_backend="reference")
    block = mamba_block(16, scan_backend="cpp")
    block.load_state_dict(ref_block.state_dict())
    x = torch.randn(5, 27, 16, requires_grad=True)
    y_ref = ref_block(x)
    g_ref = torch.autograd.grad(y_ref.sum(), [x, *ref_block.parameters()])
    y = block(x)
    g = torch.autograd.grad(y.sum(), [x, *block.parameters()])
    assert torch.allclose(y, y_ref, atol=1e-5)
    for a, b in zip(g, g_ref):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_the_operators_pass_opcheck(requires_grad):
    """torch.library.opcheck: schema, fake-tensor shapes (torch.compile traces through them), autograd
    registration, and the same results under AOT dispatch, for the scan (strided B, C, z) and the conv."""
    x = _inputs(S=3, L=5, D=8, N=4)
    args = _views(x, lambda t: t.detach().float().requires_grad_(requires_grad))
    torch.library.opcheck(torch.ops.mdtf_lite.scan_fwd.default, args)
    g = torch.Generator().manual_seed(1)
    conv = [torch.randn(3, 5, 8, generator=g), torch.randn(8, 4, generator=g), torch.randn(8, generator=g)]
    torch.library.opcheck(torch.ops.mdtf_lite.conv_silu_fwd.default, [t.requires_grad_(requires_grad) for t in conv])
    gy = torch.randn(3, 5, 8, generator=g)
    torch.library.opcheck(torch.ops.mdtf_lite.scan_bwd.default, [a.detach() for a in args] + [gy])
    torch.library.opcheck(torch.ops.mdtf_lite.conv_silu_bwd.default, [t.detach() for t in conv] + [gy])
