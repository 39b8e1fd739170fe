"""The trivial baselines of mdtf_lite.eval.baselines: shapes, errors, and what temporal smoothing does."""

import math

import numpy as np
import pytest
import torch

from mdtf_lite.eval import FlatPose, MeanPose, TemporallySmoothed, gaussian_smooth


def test_mean_pose_predicts_the_training_mean_for_every_frame():
    y = torch.randn(10, 5, 17, 3)
    out = MeanPose(y)(torch.zeros(2, 7, 17, 3))
    assert out.shape == (2, 7, 17, 3)
    assert torch.allclose(out[1, 3], y.reshape(-1, 17, 3).mean(0))
    with pytest.raises(ValueError, match="17, 3"):
        MeanPose(torch.zeros(4, 16, 3))


def test_flat_pose_is_the_root_relative_image_at_depth_zero():
    x = torch.randn(2, 3, 17, 3)
    out = FlatPose()(x)
    assert torch.allclose(out[..., :2], x[..., :2] - x[..., :1, :2]) and (out[..., 2] == 0).all()


def test_gaussian_smooth_keeps_constants_and_ramps_and_shrinks_white_noise():
    t = torch.arange(40, dtype=torch.float64)
    const = torch.full((1, 40, 17, 3), 2.5, dtype=torch.float64)
    assert torch.allclose(gaussian_smooth(const, 3.0), const)
    ramp = t[None, :, None, None] * torch.ones(1, 1, 17, 3, dtype=torch.float64)
    inner = slice(9, 31)  # 3 sigma from both ends: the symmetric kernel reproduces a line exactly
    assert torch.allclose(gaussian_smooth(ramp, 3.0)[:, inner], ramp[:, inner])
    noise = torch.randn(64, 400, 17, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ratio = gaussian_smooth(noise, 3.0)[:, 20:-20].var() / noise.var()
    assert math.isclose(ratio, 1 / (2 * 3.0 * math.sqrt(math.pi)), rel_tol=0.1)  # sum of squared weights


def test_gaussian_smooth_matches_a_numpy_convolution_with_repeated_ends():
    y = np.random.default_rng(1).normal(size=(2, 27, 17, 3))
    sigma, r = 2.0, 6
    w = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma**2))
    w /= w.sum()
    padded = np.concatenate([np.repeat(y[:, :1], r, 1), y, np.repeat(y[:, -1:], r, 1)], 1)
    want = sum(w[i] * padded[:, i : i + 27] for i in range(2 * r + 1))
    assert np.allclose(gaussian_smooth(torch.as_tensor(y), sigma).numpy(), want)


def test_temporally_smoothed_wraps_a_model_and_refuses_bad_sigma():
    x = torch.randn(2, 27, 17, 3)
    model = TemporallySmoothed(FlatPose(), sigma=2.0)
    assert torch.allclose(model(x), gaussian_smooth(FlatPose()(x), 2.0))
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="sigma"):
            TemporallySmoothed(FlatPose(), sigma=bad)
        with pytest.raises(ValueError, match="sigma"):
            gaussian_smooth(x, bad)


def test_evaluate_model_reports_the_velocity_error_in_mm():
    from mdtf_lite.eval import evaluate_model, mpjve

    class DS:
        inputs = torch.randn(3, 5, 17, 3)
        targets = torch.randn(3, 5, 17, 3) * 0.1
        meta = {"action": np.array(["Walking"] * 3)}
        target = "camera"

    ds = DS()
    ds.targets[..., 0, :] = 0
    ds.inputs[..., 2] = torch.rand(3, 5, 17)  # a confidence in [0, 1]: predict validates its inputs
    r = evaluate_model(FlatPose(), ds, flip=False)
    flat = FlatPose()(ds.inputs).double()
    flat = flat - flat[..., :1, :]
    assert math.isclose(r["mpjve_mm"], 1000 * mpjve(flat.numpy(), ds.targets.double().numpy()), rel_tol=1e-6)


def test_bam_config_checks_the_shared_mamba_knobs():
    from mdtf_lite.models.config import BAMConfig

    with pytest.raises(ValueError, match="dt_min=1.0, dt_max=0.1"):
        BAMConfig(dt_min=1.0, dt_max=0.1)
    with pytest.raises(ValueError, match="d_state=0 must be an integer from 1"):
        BAMConfig(d_state=0)
    with pytest.raises(ValueError, match="variant='nope'"):
        BAMConfig(variant="nope")
