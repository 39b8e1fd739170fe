"""MDTF stage 2, ablations and baselines: exact parameter counts, forward/backward on CPU, bad input."""

import math

import pytest
import torch

from mdtf_lite.models import build_model, count_parameters, get_config, macs_per_frame
from mdtf_lite.models.config import ABLATIONS, ModelConfig, config_from_dict
from mdtf_lite.models.inputs import check_model_input
from mdtf_lite.models.mdtf import MDTF, FusionGate


def test_official_stage2_parameter_counts():
    assert count_parameters(build_model("tiny")) == 823_269
    assert count_parameters(build_model("large")) == 4_313_781


def test_tiny_breakdown_by_part():
    m = build_model("tiny")
    n = lambda mod: sum(p.numel() for p in mod.parameters())  # noqa: E731
    assert m.spatial_pos.numel() == 1_088 and m.temporal_pos.numel() == 15_552
    layers = [m.joint_layer, *m.strm.layers]
    assert [n(layer.spatial) for layer in layers] == [54_148] * 8
    assert [n(layer.temporal) for layer in layers] == [37_184] * 8
    assert n(m.bone_layer.spatial) == n(m.bone_layer.temporal) == 37_184
    assert n(m.fusion) == 258 and n(m.head) == 195


def test_forward_gcn_only_matches_the_released_code_count():
    # the official __init__ leaves out the backward GCN and its LayerNorm: 0.755 M / 3.914 M (stage 2)
    assert count_parameters(build_model(get_config("tiny", ablation="forward_gcn"))) == 823_269 - 8 * 8_482
    assert round(count_parameters(build_model(get_config("large", ablation="forward_gcn"))) / 1e6, 3) == 3.914


def _inputs(b=2, t=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, t, 17, 3, generator=g) * 2 - 1
    x[..., 2] = x[..., 2].abs()  # the confidence channel lies in [0, 1] (the models check it)
    return x, torch.rand(b, t, 17, 3, generator=g)


def _fwd_bwd(model, x, tokens=None):
    kwargs = {"bone_tokens": tokens} if model.cfg.bone_stream else {}
    y = model(x, **kwargs)
    assert y.shape == x.shape and torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    return y


def test_tiny_forward_backward_cpu():
    torch.manual_seed(0)
    model = build_model(get_config("tiny", scan_backend="cpu"))
    x, tokens = _inputs(1, 5)
    _fwd_bwd(model, x, tokens)
    assert model.temporal_pos.grad[:, 5:].abs().sum() == 0  # T < n_frames: only the first T rows are used


CASES = [("mdtf", None)] + [("mdtf", a) for a in ABLATIONS] + [("posemamba", None), ("mixste", None)]


@pytest.mark.parametrize("arch,ablation", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_every_variant_runs_forward_and_backward(arch, ablation):
    torch.manual_seed(0)
    cfg = get_config("cpu", ablation=ablation, arch=arch, scan_backend="cpu", num_heads=4)
    model = build_model(cfg)
    x, tokens = _inputs()
    _fwd_bwd(model, x, tokens)
    dead = [n for n, p in model.named_parameters() if p.requires_grad and not p.grad.abs().sum() > 0]
    assert not dead, f"no gradient reaches {dead}"
    # a change at frame 4 of sample 0 moves sample 0 only: every frame after it, and the earlier ones only when
    # the temporal scan runs both ways
    model.eval()
    kwargs = {"bone_tokens": tokens} if model.cfg.bone_stream else {}
    moved = x.clone()
    moved[0, 4, 3, :2] += 0.5
    with torch.no_grad():
        change = (model(moved, **kwargs) - model(x, **kwargs)).abs().amax(dim=(2, 3))  # (B, T)
    assert torch.all(change[1] == 0), "samples of a batch must not see each other in eval mode"
    assert torch.all(change[0, 4:] > 1e-6), change[0]
    if ablation == "unidirectional":
        assert torch.all(change[0, :4] <= 1e-6), f"a forward-only scan must not see later frames: {change[0]}"
    else:
        assert torch.all(change[0, :4] > 1e-6), f"a two-way scan carries frame 4 back: {change[0]}"


def test_ablation_flags_change_the_structure():
    base = count_parameters(build_model("cpu"))
    counts = {a: count_parameters(build_model(get_config("cpu", ablation=a))) for a in ABLATIONS}
    assert all(c < base for c in counts.values())
    assert len(set(counts.values())) == len(counts)
    assert not build_model(get_config("cpu", ablation="no_bone")).cfg.bone_stream


def test_fusion_gate_starts_50_50():
    gate = FusionGate(8)
    a, b = torch.randn(4, 8), torch.randn(4, 8)
    assert torch.allclose(gate(a, b), (a + b) / 2)
    assert torch.allclose(gate.weights(a, b), torch.full((4, 2), 0.5))
    assert not any(isinstance(v, torch.Tensor) for v in vars(gate).values())  # forward keeps no state
    with torch.no_grad():
        gate.proj.bias.copy_(torch.tensor([10.0, -10.0]))
    assert torch.allclose(gate(a, b), a, atol=1e-4)
    assert torch.allclose(gate.weights(a, b)[..., 0], torch.ones(4), atol=1e-4)


def test_bad_inputs_are_refused_at_the_boundary():
    model = build_model("cpu")
    x, tokens = _inputs(1, 9)
    with pytest.raises(ValueError, match="add the batch axis"):
        check_model_input(model, x[0])
    with pytest.raises(ValueError, match="16 joints"):
        check_model_input(model, x[:, :, :16])
    with pytest.raises(ValueError, match="confidence"):
        check_model_input(model, x[..., :2])
    bad = x.clone()
    bad[0, 3, 5, 1] = float("nan")
    with pytest.raises(ValueError, match=r"NaN/Inf \(first at index \(0, 3, 5, 1\)"):
        check_model_input(model, bad)
    with pytest.raises(ValueError, match="n_frames = 27"):
        check_model_input(model, torch.zeros(1, 28, 17, 3))
    with pytest.raises(ValueError, match="floating point"):
        check_model_input(model, x.long())
    check_model_input(model, x)
    check_model_input(build_model(get_config("cpu", arch="mlp")), torch.zeros(1, 99, 17, 3))  # any T


def test_the_forward_itself_does_not_scan_its_input():
    """No per-step validation (a NaN scan is a host sync): a NaN input gives NaN, the boundary refuses it."""
    model = build_model(get_config("cpu", ablation="no_bone")).eval()
    x, _ = _inputs(1, 9)
    x[0, 3, 5, 1] = float("nan")
    assert torch.isnan(model(x)).any()


def test_bone_token_errors_are_raised_by_the_forward():
    model = build_model("cpu")
    x, tokens = _inputs(1, 9)
    with pytest.raises(ValueError, match="needs bone tokens"):
        model(x)
    with pytest.raises(ValueError, match="bone_tokens has shape"):
        model(x, bone_tokens=tokens[:, :, :, :2])
    with pytest.raises(ValueError, match="no bone stream"):
        build_model(get_config("cpu", ablation="no_bone"))(x, bone_tokens=tokens)


def test_config_errors_and_dict_form():
    with pytest.raises(ValueError, match="unknown model config keys"):
        get_config("tiny", widht=3)
    with pytest.raises(ValueError, match="unknown ablation"):
        get_config("tiny", ablation="nope")
    with pytest.raises(ValueError, match="unknown model preset"):
        build_model("huge")
    with pytest.raises(ValueError, match="spatial_mixer"):
        ModelConfig(spatial_mixer="attention")
    cfg = config_from_dict({"preset": "cpu", "ablation": ["no_gcn"], "drop_path": 0.05})
    assert cfg.spatial_mixer == "none" and cfg.drop_path == 0.05 and cfg.dim == 32
    assert count_parameters(build_model({"preset": "cpu", "ablation": "no_gcn"})) == count_parameters(
        build_model(get_config("cpu", ablation="no_gcn"))
    )


class _ConstantBAM(torch.nn.Module):
    """A stand-in BAM that always predicts class 2 (theta_hat = 75 degrees)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        logits = torch.zeros(*x.shape[:-1], 6)
        logits[..., 2] = 1.0
        return logits + self.w


def test_attached_bam_is_frozen_and_not_counted():
    from mdtf_lite.bones import bin_to_theta, bone_tokens

    torch.manual_seed(0)
    model = build_model("cpu", bam=_ConstantBAM())
    assert count_parameters(model) == count_parameters(build_model("cpu"))
    assert count_parameters(model, include_bam=True) == count_parameters(model) + 1
    model.train()
    assert not model.bam.training and not model.bam.w.requires_grad
    x, _ = _inputs(1, 9)
    theta = bin_to_theta(torch.full(x.shape[:-1], 2))
    assert torch.allclose(model.bone_tokens_from_bam(x), bone_tokens(x, theta))
    model.eval()
    assert torch.allclose(model(x), model(x, bone_tokens=bone_tokens(x, theta)), atol=1e-6)


def test_macs_per_frame_counts_linear_layers():
    model = build_model("cpu")
    macs = macs_per_frame(model, frames=4)
    c, depth, j = 32, 4, 17
    # every per-token matmul of the model, written out (see the breakdown in docs/ARCHITECTURE.md)
    r, n = math.ceil(c / 16), 16
    mixer = 2 * c * c + 2 * (c * (r + 2 * n) + r * c) + c * c
    mlp = 4 * c * c
    gcn = 2 * (2 * c * c + j * c)
    per_token = depth * (2 * (mixer + mlp) + gcn) + 2 * (mixer + mlp) + 2 * 3 * c + 2 * c * 2 + c * 3
    conv = (2 * depth + 2) * 2 * c * 4
    assert macs["counted"] == pytest.approx(j * (per_token + conv))
    assert macs["scan"] == j * (2 * depth + 2) * 2 * c * n * 3
    assert isinstance(model, MDTF)


def test_real_bam_attaches_and_feeds_the_bone_stream():
    bam_mod = pytest.importorskip("mdtf_lite.models.bam")
    torch.manual_seed(0)
    bam = bam_mod.BoneAwareModule(widths=(8, 4), scan_backend="cpu")
    model = build_model(get_config("cpu", scan_backend="cpu"), bam=bam)
    x, _ = _inputs(1, 5)
    y = model(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert all(p.grad is None for p in bam.parameters())
    assert count_parameters(model) == count_parameters(build_model("cpu"))


# ------------------------------------------------------ issue 12, case 12: dtype, magnitude, confidence
@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.bfloat16])
def test_other_float_dtypes_get_a_clear_error_with_a_fix_that_works(dtype):
    model = build_model({"preset": "cpu", "dim": 8, "depth": 1, "n_frames": 9, "ablation": "no_bone"}).eval()
    x, _ = _inputs()
    with pytest.raises(
        ValueError,
        match=rf"dtype {dtype} but the model's parameters are torch.float32.*"
        r"x = x.to\(torch.float32\)",
    ):
        check_model_input(model, x.to(dtype))
    check_model_input(model, x.to(dtype).to(torch.float32))  # the advised fix passes


def test_a_float64_model_is_checked_against_its_own_dtype():
    model = (
        build_model(
            {"preset": "cpu", "dim": 8, "depth": 1, "n_frames": 9, "ablation": "no_bone", "scan_backend": "reference"}
        )
        .double()
        .eval()
    )
    x, _ = _inputs()
    with pytest.raises(ValueError, match=r"x = x.to\(torch.float64\)"):
        check_model_input(model, x)
    check_model_input(model, x.double())
    y = model(x.double())
    assert y.dtype == torch.float64 and torch.isfinite(y).all()


@pytest.mark.parametrize(
    "channel,value,pattern",
    [
        (0, 1e20, "coordinate 1e\\+20.*not pixels"),
        (1, -5e3, "coordinate -5e\\+03"),
        (2, 1e30, "confidence 1e\\+30.*outside \\[0, 1\\]"),
        (2, -0.5, "confidence -0.5"),
    ],
)
def test_values_that_would_give_silent_nan_or_garbage_are_refused(channel, value, pattern):
    model = build_model({"preset": "cpu", "dim": 8, "depth": 1, "n_frames": 9, "ablation": "no_bone"}).eval()
    x, _ = _inputs()
    x[1, 3, 5, channel] = value
    with pytest.raises(ValueError, match=pattern):
        check_model_input(model, x)
    x[1, 3, 5, channel] = 0.5
    check_model_input(model, x)
    assert torch.isfinite(model(x)).all()
