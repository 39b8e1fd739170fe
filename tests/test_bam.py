"""The Bone Aware Module: the official parameter count, shapes, scan backends, losses and metrics."""

import math

import pytest
import torch
import torch.nn.functional as F

from mdtf_lite.bones import bin_centers, theta_labels, token_thetas
from mdtf_lite.eval.bam_metrics import (
    angle_error_deg,
    bam_metrics,
    confusion_matrix,
    format_metrics,
    metrics_from_confusion,
)
from mdtf_lite.models.bam import (
    BAM_WIDTHS,
    BoneAwareModule,
    ContinuousBAM,
    bam_loss,
    sincos_loss,
    sincos_to_theta,
    stage1_targets,
)
from mdtf_lite.models.inputs import check_model_input


def _inputs(*shape):
    """Random model inputs (..., 17, 3): x, y ~ N(0, 1) and a confidence in (0, 1) (the models check it)."""
    x = torch.randn(*shape)
    x[..., 2] = torch.sigmoid(x[..., 2] * 2)
    return x


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_official_parameter_count_is_exactly_110526():
    bam = BoneAwareModule()
    assert bam.widths == BAM_WIDTHS == (64, 32, 16, 8) and bam.num_bins == 6
    assert n_params(bam) == 110_526


def test_parameter_breakdown_per_level():
    """Full residual blocks (mixer + MLP) at every level, halving Linears between levels only."""
    bam = BoneAwareModule()
    assert [n_params(level) for level in bam.levels] == [
        2 * 37_184 + 256,
        2 * 11_168 + 128,
        2 * 3_728 + 64,
        2 * 1_416 + 32,
    ]
    assert [n_params(d) for d in bam.downs] == [2_080, 528, 136]
    assert n_params(bam.embed) == 256 and n_params(bam.head) == 54
    # the formula in the module docstring, per block of width C with dt_rank R = ceil(C / 16)
    for level, c in zip(bam.levels, BAM_WIDTHS):
        r = math.ceil(c / 16)
        assert (
            n_params(level.spatial) == n_params(level.temporal) == 3 * c * c + 2 * c * (55 + 2 * r) + 4 * c * c + 7 * c
        )


@pytest.mark.parametrize("frames", [1, 5])
def test_shapes_any_frame_count_and_gradients(frames):
    torch.manual_seed(0)
    bam = BoneAwareModule(widths=(16, 8))
    x = _inputs(2, frames, 17, 3)
    logits = bam(x)
    assert logits.shape == (2, frames, 17, 6)
    labels = torch.randint(0, 6, (2, frames, 17))
    bam_loss(logits, labels).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in bam.parameters())
    theta = bam.predict_theta(x)
    assert theta.shape == (2, frames, 17)
    assert set(theta.unique().tolist()) <= set(bin_centers().tolist())


def test_spatial_mixing_is_over_joints_and_temporal_over_frames():
    """Changing one joint of one frame changes other joints in that frame and the same joint in other frames."""
    torch.manual_seed(1)
    bam = BoneAwareModule(widths=(8,)).eval()
    x = _inputs(1, 4, 17, 3)
    x2 = x.clone()
    x2[0, 1, 5, :2] += 1.0  # (x, y) only: the confidence stays in [0, 1]
    d = (bam(x2) - bam(x)).abs().sum(-1)[0]  # (T, J)
    assert d[1, 12] > 0 and d[3, 5] > 0  # spatial within frame 1; temporal along joint 5 (both directions)
    assert d[0, 5] > 0  # bidirectional in time: an earlier frame sees a later change


def test_backends_agree():
    torch.manual_seed(2)
    bam = BoneAwareModule(widths=(8, 8), scan_backend="reference").eval()
    other = BoneAwareModule(widths=(8, 8), scan_backend="cpu").eval()
    other.load_state_dict(bam.state_dict())
    x = _inputs(2, 3, 17, 3)
    assert torch.allclose(other(x), bam(x), atol=1e-5)


def test_bad_input_is_refused_clearly_at_the_boundary():
    bam = BoneAwareModule(widths=(8,))
    with pytest.raises(ValueError, match="17"):
        check_model_input(bam, torch.randn(1, 2, 16, 3))
    with pytest.raises(ValueError, match="NaN"):
        check_model_input(bam, torch.full((1, 2, 17, 3), float("nan")))
    check_model_input(bam, _inputs(1, 300, 17, 3))  # no position embedding: any T
    with pytest.raises(ValueError, match="widths"):
        BoneAwareModule(widths=())
    with pytest.raises(ValueError, match="channels"):
        bam(torch.zeros(1, 2, 17, 2))


def test_bam_loss_excludes_the_root_and_matches_cross_entropy():
    torch.manual_seed(3)
    logits = torch.randn(2, 3, 17, 6)
    labels = torch.randint(0, 6, (2, 3, 17))
    loss = bam_loss(logits, labels)
    manual = F.cross_entropy(logits[:, :, 1:].reshape(-1, 6), labels[:, :, 1:].reshape(-1))
    assert torch.allclose(loss, manual)
    logits2 = logits.clone()
    logits2[:, :, 0] = 100 * torch.randn(2, 3, 6)  # the root token cannot matter
    labels2 = labels.clone()
    labels2[:, :, 0] = 5
    assert torch.allclose(bam_loss(logits2, labels2), loss)
    with pytest.raises(ValueError, match="0..5"):
        bam_loss(logits, labels + 1)
    with pytest.raises(ValueError, match="same leading shape"):
        bam_loss(logits, labels[:, :2])


def test_continuous_variant_regresses_sin_cos():
    torch.manual_seed(4)
    model = ContinuousBAM(widths=(8,))
    x, y = _inputs(2, 3, 17, 3), torch.randn(2, 3, 17, 3)
    out = model(x)
    assert out.shape == (2, 3, 17, 2)
    theta_hat = model.predict_theta(x)
    assert ((theta_hat >= 0) & (theta_hat <= math.pi)).all()
    theta = token_thetas(y)
    perfect = torch.stack([torch.sin(theta), torch.cos(theta)], -1)
    assert sincos_loss(perfect, theta) == 0
    assert torch.allclose(sincos_to_theta(perfect)[..., 1:], theta[..., 1:], atol=1e-6)
    model.loss(out, y).backward()
    assert torch.allclose(stage1_targets(model, y), theta)
    assert torch.equal(stage1_targets(BoneAwareModule(widths=(8,)), y), theta_labels(y))


@pytest.fixture
def one_thread():
    """Tiny tensors train faster on one thread (and do not fight other processes for the two cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_a_tiny_bam_learns_a_learnable_rule(one_thread):
    """The label is a function of the input (theta bin from a fake depth channel): loss must drop a lot."""
    torch.manual_seed(5)
    x = _inputs(16, 2, 17, 3)
    y = torch.cat([x[..., :2], x[..., 2:] * 2], -1)  # the "depth" is visible in channel 2
    labels = theta_labels(y)
    bam = BoneAwareModule(widths=(16,))
    opt = torch.optim.AdamW(bam.parameters(), lr=1e-2)
    first = None
    for _ in range(40):
        loss = bam_loss(bam(x), labels)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first


# ------------------------------------------------------------------------------------------- metrics
def test_confusion_and_metrics_by_hand():
    labels = torch.tensor([[0, 0, 0, 1, 1, 2]])  # token 0 is the root: dropped
    pred = torch.tensor([[5, 0, 1, 1, 1, 1]])
    cm = confusion_matrix(pred, labels, num_bins=3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [0, 1, 0]]
    m = metrics_from_confusion(cm)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["precision"] == pytest.approx([1.0, 0.5, 0.0])
    assert m["recall"] == pytest.approx([0.5, 1.0, 0.0])
    f1 = [2 / 3, 2 / 3, 0.0]
    assert m["f1"] == pytest.approx(f1) and m["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert m["majority_rate"] == pytest.approx(2 / 5) and m["support"] == [2, 2, 1]
    logits = F.one_hot(pred.clamp_max(2), 3).float()
    assert bam_metrics(logits, labels)["confusion"] == cm.tolist()
    assert "macro F1" in format_metrics(m)


def test_metrics_refuse_bad_input():
    with pytest.raises(ValueError, match="num_bins"):
        confusion_matrix(torch.zeros(2, 17, dtype=torch.long), torch.zeros(2, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="0..2"):
        confusion_matrix(torch.full((1, 4), 3), torch.zeros(1, 4, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="empty"):
        metrics_from_confusion(torch.zeros(3, 3))
    assert angle_error_deg(torch.zeros(1, 3), torch.tensor([[9.0, math.pi, 0.0]])) == pytest.approx(90.0)
