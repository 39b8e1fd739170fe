"""--params full preflight: real-data detection, the refusal without data or GPU, --force, the estimate."""

import json

import numpy as np
import pytest

from mdtf_lite.course import preflight, series


def _fake_real(data_dir, folder="motionbert_h36m", frames=500):
    d = data_dir / folder
    d.mkdir(parents=True, exist_ok=True)
    (d / "dataset.json").write_text(json.dumps({"source": folder}))
    np.savez(d / "positions_3d.npz", **{"S1/Walking": np.zeros((frames, 17, 3)), "S9/Walking": np.zeros((9, 17, 3))})
    return d


def test_pick_source_prefers_real_files(tmp_path):
    assert preflight.real_sources(tmp_path) == {} and preflight.pick_source("auto", data_dir=tmp_path) == "default"
    (tmp_path / "h36m_vp3d").mkdir()  # an empty folder is not a dataset
    assert preflight.pick_source("auto", data_dir=tmp_path) == "default"
    _fake_real(tmp_path, "h36m_vp3d")
    assert preflight.pick_source("auto", data_dir=tmp_path) == "h36m"
    _fake_real(tmp_path, "motionbert_h36m")
    assert preflight.pick_source("auto", preferred="h36m", data_dir=tmp_path) == "h36m"
    assert preflight.pick_source("auto", data_dir=tmp_path) == "motionbert"
    assert preflight.pick_source("default", data_dir=tmp_path) == "default"  # an explicit choice stays


def test_clip_count_reads_headers_only(tmp_path):
    from mdtf_lite.train import TrainConfig

    _fake_real(tmp_path, frames=500)
    cfg = TrainConfig(data={"source": "motionbert", "frames": 243}, batch_size=16, epochs=2)
    n, known = preflight._count_clips(cfg, tmp_path)
    assert known and n == 4 * ((500 - 243) // 243 + 1)  # S1 only (S9 is a test subject), four cameras
    n, known = preflight._count_clips(cfg, tmp_path / "absent")
    assert not known and n > 1000


def test_full_refuses_without_data_and_gpu_unless_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(preflight, "gpu_available", lambda: False)
    with pytest.raises(preflight.PreflightError, match="no real Human3.6M.*no CUDA GPU.*--force"):
        preflight.preflight_full(probe=False, data_dir=tmp_path)
    problems = preflight.preflight_full(force=True, probe=False, data_dir=tmp_path)
    assert len(problems) == 2 and "starting anyway" in capsys.readouterr().out
    _fake_real(tmp_path)
    monkeypatch.setattr(preflight, "gpu_available", lambda: True)
    assert preflight.preflight_full(probe=False, data_dir=tmp_path) == []


def test_estimate_is_measured_and_scaled():
    from mdtf_lite.train import load_config
    from mdtf_lite.train.ensure import config_path

    cfg = load_config(config_path("ci"))
    est = preflight.estimate_training(cfg, probe_steps=1)
    assert est.step_s > 0 and est.peak_mb > 0 and est.steps == cfg.epochs * cfg.steps_per_epoch
    assert "an estimate" in est.describe() and "per step" in est.describe()


def test_series_run_full_stops_before_any_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MDTF_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(preflight, "gpu_available", lambda: False)
    monkeypatch.setattr(preflight, "estimate_training", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("skip")))
    ran = []
    monkeypatch.setattr(series, "run_series", lambda *a, **k: ran.append(a) or ([], tmp_path))
    assert series.main(["run", "--params", "full"]) == 3 and not ran
    assert "--force" in capsys.readouterr().err
    assert series.main(["run", "--params", "full", "--force"]) == 0 and ran
