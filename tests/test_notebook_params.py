"""Notebook 06's training knobs are real papermill parameters that reach the training configs.

Runs papermill (the CLI, as documented) on notebook 06 cut after the cell that turns parameters into
configs, plus one cell that writes the resulting configs to JSON; no training happens.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NB06 = ROOT / "notebooks" / "06_training.ipynb"
CONFIG_CELL = "0b5aceb8"  # the cell after `parameters` that builds bam_cfg / mdtf_cfg / mlp_cfg


def _cut_notebook(tmp_path: Path, out_json: Path) -> Path:
    nb = nbformat.read(NB06, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    assert CONFIG_CELL in ids, "notebook 06's config cell changed id: update CONFIG_CELL"
    nb.cells = nb.cells[: ids.index(CONFIG_CELL) + 1]
    dump = nbformat.v4.new_code_cell(
        "import dataclasses, json\n"
        f"open({str(out_json)!r}, 'w').write(json.dumps({{k: dataclasses.asdict(v) for k, v in "
        "{'bam': bam_cfg, 'mdtf': mdtf_cfg, 'mlp': mlp_cfg}.items()}, default=str))"
    )
    dump.id = "dumpcfg"
    nb.cells.append(dump)
    path = tmp_path / "06_cut.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_papermill_overrides_reach_the_configs(tmp_path):
    out = tmp_path / "cfg.json"
    nb = _cut_notebook(tmp_path, out)
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(nb),
        str(tmp_path / "out.ipynb"),
        "-k",
        "python3",
        "-p",
        "epochs",
        "2",
        "-p",
        "steps_per_epoch",
        "5",
        "-p",
        "lr",
        "0.0007",
        "-p",
        "width",
        "24",
        "-p",
        "time_budget",
        "0",
        "-y",
        "depth: 3\nbam_epochs: 3\nlive_plot: false",
        "--cwd",
        str(ROOT / "notebooks"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Unable to parse" not in res.stderr and "not declared" not in res.stderr.lower()
    cfg = json.loads(out.read_text())
    m = cfg["mdtf"]
    assert (m["epochs"], m["steps_per_epoch"], m["lr"], m["time_budget"]) == (2, 5, 0.0007, None)
    assert m["model"]["dim"] == 24 and m["model"]["depth"] == 3
    assert cfg["bam"]["epochs"] == 3
    assert cfg["mlp"]["epochs"] == 2 and cfg["mlp"]["steps_per_epoch"] == 5 and cfg["mlp"]["time_budget"] is None


def test_papermill_sees_the_knobs_as_parameters():
    from mdtf_lite.course.series import declared_parameters

    declared = declared_parameters(NB06)
    for knob in ("epochs", "steps_per_epoch", "time_budget", "lr", "width", "depth", "bam_epochs"):
        assert knob in declared, f"notebook 06 lacks the parameter {knob!r}"
    src = next(c.source for c in nbformat.read(NB06, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    comments = [line.split("#", 1)[1] for line in src.splitlines() if "#" in line]
    assert not any("=" in c for c in comments), "papermill cannot parse '=' in a parameters-cell comment"


@pytest.mark.parametrize("name", ["ci", "default", "full"])
def test_param_files_name_only_declared_parameters(name):
    from mdtf_lite import paths
    from mdtf_lite.course.series import check_param_set, discover_notebooks, load_param_set

    check_param_set(load_param_set(name, paths.params_dir()), discover_notebooks(paths.notebooks_dir()), name)
