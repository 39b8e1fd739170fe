"""Checkpoints: resume is bit-identical, bad checkpoints are refused clearly, NaN keeps the last good one."""

import json

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import TINY_MDTF, clip_set, tiny_config

from mdtf_lite.train import CheckpointError, TrainingDiverged, fit, learning_rate, load_checkpoint
from mdtf_lite.train import stages as stages_module


def weights(folder):
    return load_file(str(folder / "model.safetensors"))


@pytest.mark.parametrize("stage", ["mdtf", "bam"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, stage):
    data, val = clip_set(12), clip_set(4, seed=1)
    full = fit(tiny_config(tmp_path / "a", stage, epochs=3, val_every=2), train_set=data, val_set=val)
    # the "interrupted" run: 2 epochs, then a fresh process-like call resumes to 3
    fit(tiny_config(tmp_path / "b", stage, epochs=2, val_every=2), train_set=data, val_set=val)
    resumed = fit(tiny_config(tmp_path / "b", stage, epochs=3, val_every=2), resume=True, train_set=data, val_set=val)
    a, b = weights(full.checkpoint), weights(resumed.checkpoint)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights differ from the uninterrupted run"
    assert [h["train_loss"] for h in full.history] == [h["train_loss"] for h in resumed.history]
    assert len(resumed.history) == 3
    # the test can fail: a different seed gives different weights
    other = fit(tiny_config(tmp_path / "c", stage, epochs=3, seed=4, val_every=0), train_set=data)
    assert not all(torch.equal(a[k], weights(other.checkpoint)[k]) for k in a)


def test_checkpoint_is_pickle_free_and_reloads(tmp_path):
    res = fit(tiny_config(tmp_path, epochs=1), train_set=clip_set(8), val_set=clip_set(4))
    names = sorted(p.name for p in res.checkpoint.iterdir())
    assert names == ["config.json", "manifest.json", "model.safetensors", "state.json", "state.safetensors"]
    model, cfg = load_checkpoint(res.checkpoint)
    assert cfg.name == "tiny-mdtf" and not model.training
    x = torch.as_tensor(clip_set(2).inputs)
    with torch.no_grad():
        assert torch.equal(model(x), res.model(x))
    meta = json.loads((res.checkpoint / "config.json").read_text())
    assert meta["epoch"] == 1 and "val_p1_mm" in meta["metrics"]


def test_resume_with_another_config_is_refused(tmp_path):
    fit(tiny_config(tmp_path, epochs=1), train_set=clip_set(8), val_set=clip_set(4))
    with pytest.raises(CheckpointError, match=r"different config \(lr: checkpoint 0.001 vs config 0.002"):
        fit(tiny_config(tmp_path, epochs=2, lr=2e-3), resume=True, train_set=clip_set(8), val_set=clip_set(4))


def test_corrupted_checkpoint_is_refused(tmp_path):
    res = fit(tiny_config(tmp_path, epochs=1, val_every=0), train_set=clip_set(8))
    path = res.checkpoint / "model.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(res.checkpoint)
    (res.checkpoint / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="not a complete checkpoint"):
        load_checkpoint(res.checkpoint)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nowhere")


def test_nan_loss_stops_clearly_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = tiny_config(tmp_path, epochs=3, val_every=0, schedule="cosine", warmup_steps=3)
    calls = {"n": 0}
    real = stages_module.pose_loss

    def poisoned(pred, target, weights=None):
        calls["n"] += 1
        loss, terms = real(pred, target, weights)
        return (loss * float("nan") if calls["n"] > 2 else loss), terms  # NaN in epoch 2

    monkeypatch.setattr(stages_module, "pose_loss", poisoned)
    with pytest.raises(TrainingDiverged, match=r"NaN|nan") as info:
        fit(cfg, train_set=clip_set(8))
    assert "epoch 2, step 1" in str(info.value) and "last good checkpoint" in str(info.value)
    # the rate the diverging step was handed (global step 2 of 6, still warming up), not the epoch's
    lr = learning_rate(cfg, 1, 2, 6)
    assert f"this step's was {lr:.3g}" in str(info.value) and lr != cfg.lr
    model, _ = load_checkpoint(tmp_path / "ckpt-mdtf")
    assert json.loads((tmp_path / "ckpt-mdtf" / "config.json").read_text())["epoch"] == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_empty_or_bad_data_is_refused(tmp_path):
    bad = clip_set(4)
    bad.inputs[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        fit(tiny_config(tmp_path, val_every=0), train_set=bad)
    empty = clip_set(4)
    empty.inputs, empty.targets = empty.inputs[:0], empty.targets[:0]
    with pytest.raises(ValueError, match="empty"):
        fit(tiny_config(tmp_path, val_every=0), train_set=empty)
    # checked once, at fit, for the model built: clips longer than its temporal embedding, in either split
    with pytest.raises(ValueError, match="the training split's inputs has T = 12 frames.*n_frames = 9"):
        fit(tiny_config(tmp_path, val_every=0), train_set=clip_set(4, frames=12))
    loud = clip_set(4)
    loud.inputs[..., 2] = 2.0
    with pytest.raises(ValueError, match="the validation split's inputs has confidence 2"):
        fit(tiny_config(tmp_path), train_set=clip_set(4), val_set=loud)
    assert not (tmp_path / "ckpt-mdtf").exists()


def test_stage2_with_bone_stream_needs_and_uses_a_frozen_bam(tmp_path):
    bam = fit(tiny_config(tmp_path, "bam", epochs=1, val_every=0), train_set=clip_set(8))
    model_cfg = {**TINY_MDTF, "ablation": None}
    with pytest.raises(ValueError, match="bam_checkpoint"):
        fit(tiny_config(tmp_path, model=model_cfg, val_every=0), train_set=clip_set(8))
    res = fit(
        tiny_config(tmp_path, model=model_cfg, epochs=1, val_every=0, bam_checkpoint=str(bam.checkpoint)),
        train_set=clip_set(8),
    )
    frozen = load_file(str(bam.checkpoint / "model.safetensors"))
    after = {k[len("bam.") :]: v for k, v in weights(res.checkpoint).items() if k.startswith("bam.")}
    assert after.keys() == frozen.keys() and all(torch.equal(after[k], frozen[k]) for k in frozen)
    model, cfg = load_checkpoint(res.checkpoint)
    assert model.bam is not None and cfg.bam_checkpoint == str(bam.checkpoint)
    with pytest.raises(CheckpointError, match="not a Bone Aware Module"):
        fit(
            tiny_config(tmp_path / "x", model=model_cfg, val_every=0, bam_checkpoint=str(res.checkpoint)),
            train_set=clip_set(8),
        )
