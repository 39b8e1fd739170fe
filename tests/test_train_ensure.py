"""ensure_checkpoint: trains a missing checkpoint, reuses a finished one, resumes an interrupted one."""

import json

import yaml

from mdtf_lite.train import ensure, fit, load_checkpoint, load_config

TINY = {
    "stage": "mdtf",
    "model": {"preset": "cpu", "dim": 8, "depth": 1, "d_state": 4, "ablation": "no_bone", "scan_backend": "reference"},
    "data": {"source": "default", "frames": 27, "subjects": ["S1"], "max_clips": 8},
    "epochs": 2,
    "batch_size": 4,
    "steps_per_epoch": 1,
    "val_every": 0,
    "num_threads": 1,
    "progress": False,
}


def test_ensure_trains_reuses_and_resumes(tmp_path, monkeypatch):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    monkeypatch.setattr(ensure, "configs_dir", lambda: configs)
    monkeypatch.setenv("MDTF_RUN_DIR", str(tmp_path / "run"))

    # an interrupted run: only 1 of 2 epochs on disk -> ensure resumes it to the end
    fit(load_config(configs / "tiny.yaml", ["epochs=1"]))
    path = ensure.ensure_checkpoint("tiny")
    assert path == tmp_path / "run" / "checkpoints" / "tiny"
    assert json.loads((path / "config.json").read_text())["epoch"] == 2
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert ensure.ensure_checkpoint("tiny") == path  # finished: reused, not retrained
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp
    model, cfg = load_checkpoint(path)
    assert cfg.name == "tiny" and not model.training
