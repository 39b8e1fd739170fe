"""The CLI reports bad configs clearly; the ablation script trains every variant with the same budget."""

import json

import pytest
import yaml

from mdtf_lite.train.__main__ import main as train_main
from mdtf_lite.train.ablation import VARIANTS, differences, run_ablation


def test_cli_bad_config_exits_2_with_the_key(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("stage: mdtf\nepoch: 3\n")
    assert train_main(["--config", str(path)]) == 2
    assert "'epoch' (did you mean 'epochs'?)" in capsys.readouterr().err
    assert train_main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert train_main(["--config", str(path), "epochs"]) == 2  # an override without '='


@pytest.mark.slow
def test_ablation_equal_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("MDTF_RUN_DIR", str(tmp_path))
    cfg = {
        "stage": "mdtf",
        "model": {"preset": "cpu", "dim": 8, "depth": 1, "d_state": 4, "scan_backend": "reference"},
        "data": {"source": "default", "frames": 27, "subjects": ["S1"], "max_clips": 8},
        "val_data": {"subjects": ["S9"], "max_clips": 4},
        "epochs": 1,
        "batch_size": 4,
        "steps_per_epoch": 1,
        "num_threads": 1,
        "progress": False,
        "flip_test": False,
    }
    path = tmp_path / "abl.yaml"
    path.write_text(yaml.safe_dump(cfg))
    rows = run_ablation(path, ["no_bone", "posemamba"], progress=False, seeds=(0, 1))
    assert [r["variant"] for r in rows] == ["no_bone", "posemamba"]
    assert all(r["p1_mm"] > 0 and r["steps"] == 1 and r["seeds"] == 2 and r["p1_spread"] >= 0 for r in rows)
    # scored per test group too: val_data keeps S9 only, so the procedural group alone (the same clips)
    assert all(r["p1_procedural_mm"] == pytest.approx(r["p1_mm"], rel=1e-4) and "p1_real_mm" not in r for r in rows)
    saved = json.loads((tmp_path / "ablation.json").read_text())
    assert len(saved["rows"]) == 2 and len(saved["runs"]) == 4
    assert {r["seed"] for r in saved["runs"]} == {0, 1}
    with pytest.raises(ValueError, match="unknown ablation variants"):
        run_ablation(path, ["nope"], progress=False)
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        run_ablation(path, ["no_bone"], progress=False, jobs=0)
    # two runs side by side (one in a child process) give the numbers of the one-after-the-other table
    side_by_side = run_ablation(path, ["no_bone", "posemamba"], progress=False, seeds=(0, 1), jobs=2)
    for a, b in zip(rows, side_by_side):
        assert a["variant"] == b["variant"] and a["p1_mm"] == pytest.approx(b["p1_mm"], rel=1e-5)
    assert [r["jobs"] for r in json.loads((tmp_path / "ablation.json").read_text())["runs"]] == [2, 2, 2, 2]
    assert {"full", "no_bone", "no_gcn", "unidirectional", "attention", "mlp"} <= set(VARIANTS)


def test_ablation_differences_are_computed_from_the_spread():
    rows = [
        {"variant": "full", "p1_mm": 100.0, "p1_spread": 2.0},
        {"variant": "no_gcn", "p1_mm": 110.0, "p1_spread": 3.0},
        {"variant": "no_bone", "p1_mm": 103.0, "p1_spread": 2.0},
    ]
    lines = differences(rows)
    assert "no_gcn: P1 +10.0 mm" in lines[0] and "exceeds" in lines[0]
    assert "no_bone: P1 +3.0 mm" in lines[1] and "is within" in lines[1]
