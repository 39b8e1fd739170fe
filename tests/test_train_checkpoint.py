"""What a checkpoint stores: the resolved config once; a format-1 checkpoint (config as written + a model
description) is read through the one upgrade, keeping the resolved model its weights fit."""

import json

import torch
from train_helpers import TINY_MDTF, clip_set, tiny_config

from mdtf_lite.train import fit, load_checkpoint
from mdtf_lite.train.checkpoint import FILES, FORMAT_VERSION, _sha256, read_checkpoint


def _write_config(folder, config):
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "manifest.json").write_text(json.dumps({n: _sha256(folder / n) for n in FILES}))


def test_config_is_stored_once_resolved(tmp_path):
    res = fit(tiny_config(tmp_path, epochs=1, val_every=0), train_set=clip_set(8))
    saved = json.loads((res.checkpoint / "config.json").read_text())
    assert sorted(saved) == ["bam", "epoch", "format_version", "metrics", "train_config"]
    assert saved["format_version"] == FORMAT_VERSION and saved["bam"] is None
    assert saved["train_config"]["model"] == res.config.model.to_dict()  # every field, no preset
    _, cfg = load_checkpoint(res.checkpoint)
    assert cfg == res.config


def test_a_format_1_checkpoint_is_upgraded_and_resumes(tmp_path):
    res = fit(tiny_config(tmp_path, epochs=1, val_every=0), train_set=clip_set(8))
    now = json.loads((res.checkpoint / "config.json").read_text())
    # format 1: the config as written (here disagreeing with the weights) + the resolved description
    written = {**now["train_config"], "model": {**TINY_MDTF, "dim": 999}}
    _write_config(
        res.checkpoint,
        {
            "train_config": written,
            "format_version": 1,
            "epoch": 1,
            "metrics": {},
            "model": {"stage": "mdtf", "model": now["train_config"]["model"], "bam": None},
        },
    )
    upgraded = read_checkpoint(res.checkpoint, with_state=False)["config"]
    assert upgraded == {**now, "metrics": {}}
    model, cfg = load_checkpoint(res.checkpoint)
    x = torch.as_tensor(clip_set(2).inputs)
    with torch.no_grad():
        assert cfg.model.dim == 8 and torch.equal(model(x), res.model(x))
    resumed = fit(tiny_config(tmp_path, epochs=2, val_every=0), resume=True, train_set=clip_set(8))
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert json.loads((res.checkpoint / "config.json").read_text())["format_version"] == FORMAT_VERSION
