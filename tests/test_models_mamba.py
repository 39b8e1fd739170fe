"""The Mamba mixer, GEM and the residual blocks: parameter layout, equivalence with mamba.py, causality,
GEM's reversed backward GCN, the backend resolved once at construction, and the depth of a forward call."""

import inspect

import pytest
import torch
import torch.nn as nn

import mdtf_lite.ssm as ssm
from mdtf_lite.models import build_model, get_config
from mdtf_lite.models.blocks import DropPath, ResidualBlock, mamba_block, spatial_block
from mdtf_lite.models.gem import GEM
from mdtf_lite.models.mamba import Mamba, resolve_dt_rank


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_the_official_breakdown():
    assert n_params(Mamba(64)) == 8192 + 2 * (320 + 2304 + 320 + 1024 + 64) + 4096
    assert n_params(mamba_block(64)) == 37_184
    assert n_params(spatial_block(64)) == 54_148  # the GEM block
    assert n_params(GEM(64)) == n_params(Mamba(64)) + 2 * (128 + 8_354)
    assert n_params(GEM(64, gcn_directions="forward")) == n_params(Mamba(64)) + 128 + 8_354
    assert n_params(Mamba(64, bidirectional=False)) == 8192 + 4032 + 4096
    assert resolve_dt_rank("auto", 64) == 4 and resolve_dt_rank("auto", 65) == 5


def _copy_direction_to_mambapy(mixer: Mamba, direction, block):
    with torch.no_grad():
        block.in_proj.weight.copy_(mixer.in_proj.weight)
        block.out_proj.weight.copy_(mixer.out_proj.weight)
        for name in ("conv1d", "x_proj", "dt_proj"):
            getattr(block, name).load_state_dict(getattr(direction, name).state_dict())
        block.A_log.copy_(direction.A_log)
        block.D.copy_(direction.D)


def test_mamba_equals_two_mambapy_blocks():
    """An independent oracle: mamba.py's MambaBlock per direction, out_proj being linear and shared."""
    mambapy = pytest.importorskip("mambapy.mamba")
    torch.manual_seed(0)
    mixer = Mamba(16, d_state=8, scan_backend="reference")
    cfg = mambapy.MambaConfig(d_model=16, n_layers=1, d_state=8, expand_factor=1, pscan=False)
    fwd, bwd = mambapy.MambaBlock(cfg), mambapy.MambaBlock(cfg)
    _copy_direction_to_mambapy(mixer, mixer.fwd, fwd)
    _copy_direction_to_mambapy(mixer, mixer.bwd, bwd)
    x = torch.randn(2, 11, 16)
    want = (fwd(x) + bwd(x.flip(1)).flip(1)) / 2
    assert torch.allclose(mixer(x), want, atol=1e-5)
    uni = Mamba(16, d_state=8, bidirectional=False, scan_backend="reference")
    _copy_direction_to_mambapy(uni, uni.fwd, fwd)
    assert torch.allclose(uni(x), fwd(x), atol=1e-5)


def test_unidirectional_is_causal_and_bidirectional_is_not():
    torch.manual_seed(0)
    x = torch.randn(1, 10, 8)
    x2 = x.clone()
    x2[0, 6] += 1.0
    uni = Mamba(8, bidirectional=False, scan_backend="reference")
    diff = (uni(x2) - uni(x)).abs().sum(-1)[0]
    assert torch.all(diff[:6] == 0) and torch.all(diff[6:] > 0)
    bi = Mamba(8, scan_backend="reference")
    diff = (bi(x2) - bi(x)).abs().sum(-1)[0]
    assert torch.all(diff > 0)


class _Record(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = None

    def forward(self, x):
        self.seen = x.detach().clone()
        return x


def test_gem_backward_gcn_sees_the_reversed_joints():
    torch.manual_seed(0)
    gem = GEM(8, scan_backend="reference")
    gem.gcn_norm_fwd, gem.gcn_norm_bwd = nn.Identity(), nn.Identity()
    gem.gcn_fwd, gem.gcn_bwd = _Record(), _Record()
    gem(torch.randn(2, 17, 8))
    assert torch.equal(gem.gcn_bwd.seen, gem.gcn_fwd.seen.flip(1))


def test_gem_owns_its_gcns_and_norms_so_they_move_with_it():
    gem = GEM(8, scan_backend="reference").double()
    owned = dict(gem.named_children())
    assert {"gcn_norm_fwd", "gcn_fwd", "gcn_norm_bwd", "gcn_bwd", "fwd", "bwd"} <= set(owned)
    assert all(p.dtype == torch.float64 for p in gem.parameters())
    assert gem.gcn_bwd.adj[0, 16] == gem.gcn_fwd.adj[16, 0] == 0  # adjacency re-indexed j -> 16 - j
    assert torch.equal(gem.gcn_bwd.adj, gem.gcn_fwd.adj.flip(0).flip(1))
    y = gem(torch.randn(3, 17, 8, dtype=torch.float64))
    assert y.dtype == torch.float64 and torch.isfinite(y).all()


def test_forward_gcn_only_has_no_backward_gcn():
    gem = GEM(8, gcn_directions="forward", scan_backend="reference")
    assert gem.gcn_bwd is None and gem.gcn_norm_bwd is None and gem.bwd is not None
    with pytest.raises(ValueError, match="plain Mamba"):
        GEM(8, spatial_mixer="none")


def _same_weights(build, backend):
    """``build(backend)`` after ``build("reference")``'s weights were loaded: two builds, one function."""
    torch.manual_seed(0)
    ref = build("reference")
    other = build(backend)
    other.load_state_dict(ref.state_dict())
    return ref, other


@pytest.mark.parametrize("backend", ["cpu", "cpp"])
def test_backends_agree_forward_and_backward(backend):
    if backend not in ssm.available_backends("cpu"):
        pytest.skip(f"{backend} is not available here")
    ref, other = _same_weights(lambda b: spatial_block(16, scan_backend=b), backend)
    x = torch.randn(3, 17, 16, requires_grad=True)
    y_ref, y = ref(x), other(x)
    (g_ref,) = torch.autograd.grad(y_ref.square().sum(), x)
    (g,) = torch.autograd.grad(y.square().sum(), x)
    assert other.mixer.kernels.backend == backend and ref.mixer.kernels.backend == "reference"
    assert torch.allclose(y_ref, y, atol=1e-5)
    assert torch.allclose(g_ref, g, atol=1e-4)


def test_the_backend_is_resolved_at_construction_not_per_call(monkeypatch):
    with pytest.raises(ValueError, match="unknown selective-scan backend 'fast'"):
        Mamba(8, scan_backend="fast")  # refused when built, not mid-training
    cuda_only = Mamba(8, scan_backend="mamba_ssm")  # built on the CPU to be moved: resolved on its device
    assert cuda_only.kernels is None
    with pytest.raises(RuntimeError, match="needs CUDA tensors"):
        cuda_only(torch.rand(1, 4, 8))  # left on the CPU: its first forward says why it cannot run
    model = build_model(get_config("cpu", n_frames=5))
    want = ssm.resolve_backend("auto", "cpu")
    assert {m.kernels.backend for m in model.modules() if isinstance(m, Mamba)} == {want}

    def no_resolution(*args, **kwargs):
        raise AssertionError("a forward call resolved a backend")

    monkeypatch.setattr(ssm, "resolve_backend", no_resolution)
    monkeypatch.setattr(ssm, "available_backends", no_resolution)
    x = torch.rand(1, 5, 17, 3)
    model(x, bone_tokens=torch.rand(1, 5, 17, 3)).sum().backward()
    model.double()  # a move keeps the device type: no new resolution needed
    assert {m.kernels.backend for m in model.modules() if isinstance(m, Mamba)} == {want}


def test_the_forward_reaches_the_scan_in_five_frames_of_package_code():
    """mamba-minimal's depth: MDTF.forward -> layer -> block -> mixer -> ssm -> the scan function."""
    model = build_model(get_config("cpu", n_frames=5, scan_backend="reference"))
    mixer = model.joint_layer.spatial.mixer
    real, depths = mixer.kernels.scan, []

    def scan(*args):
        frames = [f for f in inspect.stack() if "/mdtf_lite/" in f.filename]
        depths.append([(type(f.frame.f_locals["self"]).__name__, f.function) for f in frames])
        return real(*args)

    mixer.kernels = type(mixer.kernels)(mixer.kernels.backend, mixer.kernels.conv_silu, scan)
    model(torch.rand(1, 5, 17, 3), bone_tokens=torch.rand(1, 5, 17, 3))
    assert depths[0] == [
        ("GEM", "ssm"),
        ("GEM", "forward"),
        ("ResidualBlock", "forward"),
        ("SpatioTemporalLayer", "forward"),
        ("MDTF", "forward"),
    ]


def test_residual_block_and_drop_path():
    torch.manual_seed(0)
    block = ResidualBlock(8, nn.Identity(), drop_path=0.5)
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
        Mamba(8)(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="dt_range"):
        Mamba(8, dt_range=(0.1, 0.01))


def test_causal_depthwise_conv_equals_padded_conv1d():
    import torch.nn.functional as F

    from mdtf_lite.ssm.conv import causal_depthwise_conv

    torch.manual_seed(0)
    conv = nn.Conv1d(6, 6, 4, groups=6)
    x = torch.randn(2, 9, 6)
    want = F.conv1d(F.pad(x.transpose(1, 2), (3, 0)), conv.weight, conv.bias, groups=6).transpose(1, 2)
    assert torch.allclose(causal_depthwise_conv(x, conv.weight, conv.bias), want, atol=1e-6)
