"""BiMamba mixer and MambaBlock: shapes, parameter layout, equivalence with mamba.py, causality, hooks."""

import pytest
import torch
import torch.nn as nn

from mdtf_lite.models.blocks import DropPath, MambaBlock, gem_block, temporal_block
from mdtf_lite.models.mamba import BiMamba, resolve_dt_rank


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_the_official_breakdown():
    assert n_params(BiMamba(64)) == 8192 + 2 * (320 + 2304 + 320 + 1024 + 64) + 4096
    assert n_params(temporal_block(64)) == 37_184
    assert n_params(gem_block(64)) == 54_148
    assert n_params(BiMamba(64, bidirectional=False)) == 8192 + 4032 + 4096
    assert resolve_dt_rank("auto", 64) == 4 and resolve_dt_rank("auto", 65) == 5


def _copy_direction_to_mambapy(mixer: BiMamba, direction, block):
    with torch.no_grad():
        block.in_proj.weight.copy_(mixer.in_proj.weight)
        block.out_proj.weight.copy_(mixer.out_proj.weight)
        for name in ("conv1d", "x_proj", "dt_proj"):
            getattr(block, name).load_state_dict(getattr(direction, name).state_dict())
        block.A_log.copy_(direction.A_log)
        block.D.copy_(direction.D)


def test_bimamba_equals_two_mambapy_blocks():
    """An independent oracle: mamba.py's MambaBlock per direction, out_proj being linear and shared."""
    mambapy = pytest.importorskip("mambapy.mamba")
    torch.manual_seed(0)
    mixer = BiMamba(16, d_state=8, scan_backend="reference")
    cfg = mambapy.MambaConfig(d_model=16, n_layers=1, d_state=8, expand_factor=1, pscan=False)
    fwd, bwd = mambapy.MambaBlock(cfg), mambapy.MambaBlock(cfg)
    _copy_direction_to_mambapy(mixer, mixer.fwd, fwd)
    _copy_direction_to_mambapy(mixer, mixer.bwd, bwd)
    x = torch.randn(2, 11, 16)
    want = (fwd(x) + bwd(x.flip(1)).flip(1)) / 2
    assert torch.allclose(mixer(x), want, atol=1e-5)
    uni = BiMamba(16, d_state=8, bidirectional=False, scan_backend="reference")
    _copy_direction_to_mambapy(uni, uni.fwd, fwd)
    assert torch.allclose(uni(x), fwd(x), atol=1e-5)


def test_unidirectional_is_causal_and_bidirectional_is_not():
    torch.manual_seed(0)
    x = torch.randn(1, 10, 8)
    x2 = x.clone()
    x2[0, 6] += 1.0
    uni = BiMamba(8, bidirectional=False, scan_backend="reference")
    diff = (uni(x2) - uni(x)).abs().sum(-1)[0]
    assert torch.all(diff[:6] == 0) and torch.all(diff[6:] > 0)
    bi = BiMamba(8, scan_backend="reference")
    diff = (bi(x2) - bi(x)).abs().sum(-1)[0]
    assert torch.all(diff > 0)


class _Record(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = None

    def forward(self, x):
        self.seen = x.detach().clone()
        return x


def test_backward_hook_sees_the_reversed_sequence():
    torch.manual_seed(0)
    f, b = _Record(), _Record()
    mixer = BiMamba(8, pre_conv_fwd=f, pre_conv_bwd=b, scan_backend="reference")
    mixer(torch.randn(2, 5, 8))
    assert torch.equal(b.seen, f.seen.flip(1))


def test_backends_agree_forward_and_backward():
    torch.manual_seed(0)
    x = torch.randn(3, 17, 16, requires_grad=True)
    block = gem_block(16, scan_backend="reference")
    y_ref = block(x)
    (g_ref,) = torch.autograd.grad(y_ref.square().sum(), x)
    for m in block.modules():
        if isinstance(m, BiMamba):
            m.scan_backend = "cpu"
    y_cpu = block(x)
    (g_cpu,) = torch.autograd.grad(y_cpu.square().sum(), x)
    assert torch.allclose(y_ref, y_cpu, atol=1e-5)
    assert torch.allclose(g_ref, g_cpu, atol=1e-4)


def test_mamba_block_residual_and_drop_path():
    torch.manual_seed(0)
    block = MambaBlock(8, mixer=nn.Identity(), drop_path=0.5)
    x = torch.randn(64, 3, 8)
    block.eval()
    # eval: deterministic and equal to the plain residual formula
    h = x + block.norm1(x)
    assert torch.allclose(block(x), h + block.mlp(block.norm2(h)), atol=1e-6)
    block.train()
    dropped = (block(x) - x).abs().sum((1, 2)) == 0
    assert 0 < dropped.sum() < 64  # some samples lose both branches, some keep them


def test_drop_path_validation_and_shape_errors():
    with pytest.raises(ValueError):
        DropPath(1.0)
    with pytest.raises(ValueError, match="C=8"):
        BiMamba(8)(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="bidirectional"):
        BiMamba(8, bidirectional=False, pre_conv_bwd=nn.Identity())


def test_causal_depthwise_conv_equals_padded_conv1d():
    import torch.nn.functional as F

    from mdtf_lite.models.mamba import causal_depthwise_conv

    torch.manual_seed(0)
    conv = nn.Conv1d(6, 6, 4, groups=6)
    x = torch.randn(2, 9, 6)
    want = F.conv1d(F.pad(x.transpose(1, 2), (3, 0)), conv.weight, conv.bias, groups=6).transpose(1, 2)
    assert torch.allclose(causal_depthwise_conv(x, conv.weight, conv.bias), want, atol=1e-6)
