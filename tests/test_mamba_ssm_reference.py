"""mamba-ssm's own pure-PyTorch selective_scan_ref is importable and callable on this CPU machine."""

import torch

from mdtf_lite.ssm.mamba_ssm_backend import has_cuda_kernels, load_selective_scan_fn, load_selective_scan_ref


def _naive(u, delta, A, B, C, D):
    """Textbook recurrence, float64, written independently of both mamba-ssm and mdtf_lite."""
    b, d, length = u.shape
    h = torch.zeros(b, d, A.shape[1], dtype=torch.float64)
    ys = []
    for t in range(length):
        h = torch.exp(delta[:, :, t, None] * A) * h + delta[:, :, t, None] * B[:, None, :, t] * u[:, :, t, None]
        ys.append((h * C[:, None, :, t]).sum(-1) + D * u[:, :, t])
    return torch.stack(ys, -1)


def test_selective_scan_ref_runs_on_cpu_and_matches_the_recurrence():
    ref = load_selective_scan_ref()
    g = torch.Generator().manual_seed(0)
    u = torch.randn(2, 4, 11, generator=g, dtype=torch.float64)
    delta = torch.rand(2, 4, 11, generator=g, dtype=torch.float64)
    A = -torch.rand(4, 3, generator=g, dtype=torch.float64)
    B = torch.randn(2, 3, 11, generator=g, dtype=torch.float64)
    C = torch.randn(2, 3, 11, generator=g, dtype=torch.float64)
    D = torch.randn(4, generator=g, dtype=torch.float64)
    # the reference computes in float32 internally, so feed it float32 and compare with float64 maths
    out = ref(*(t.float() for t in (u, delta, A, B, C)), D=D.float())
    assert out.shape == (2, 4, 11) and out.dtype == torch.float32 and out.device.type == "cpu"
    torch.testing.assert_close(out.double(), _naive(u, delta, A, B, C, D), rtol=1e-4, atol=1e-5)


def test_cuda_entry_point_fails_clearly_without_kernels():
    if has_cuda_kernels():
        return  # a CUDA build: nothing to check here
    try:
        load_selective_scan_fn()
    except RuntimeError as exc:
        assert "CUDA kernels are not available" in str(exc)
    else:
        raise AssertionError("expected a clear RuntimeError without CUDA kernels")
