"""The notebook runner: parameters, records, summary, and clear failures (on tiny throwaway notebooks)."""

import json
import subprocess
import sys

import nbformat
import pytest

from mdtf_lite.course import series


def _notebook(path, params_src, body_src):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(params_src)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body_src)]
    nbformat.write(nb, path)


@pytest.fixture()
def project(tmp_path):
    nbs, params, runs = tmp_path / "notebooks", tmp_path / "params", tmp_path / "runs"
    nbs.mkdir(), params.mkdir()
    _notebook(
        nbs / "00_ok.ipynb",
        "steps = 2\nscale = 1.5",
        "from mdtf_lite.course.record import record\nrecord('product', steps * scale, unit='mm', headline=True)",
    )
    _notebook(nbs / "01_fails.ipynb", "steps = 1", "x = 1\nraise ValueError('boom at step %d' % steps)")
    _notebook(nbs / "02_after.ipynb", "steps = 1", "pass")
    (params / "ci.yaml").write_text("all: {steps: 3}\n00_ok: {scale: 2.0}\n")
    (params / "typo.yaml").write_text("00_ok: {scael: 2.0}\n")
    return nbs, params, runs


def _run(project, *args):
    nbs, params, runs = project
    cmd = [
        sys.executable,
        "-m",
        "mdtf_lite",
        "series",
        "run",
        "--notebooks-dir",
        str(nbs),
        "--params-dir",
        str(params),
        "--runs-dir",
        str(runs),
        "--no-html",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_parameters_records_and_summary(project):
    proc = _run(project, "--params", "ci", "--only", "00")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((project[2] / "ci" / "summary.json").read_text())
    (entry,) = summary["notebooks"]
    assert entry["status"] == "ok" and entry["headline"] == "product"
    assert entry["metrics"]["product"] == {"value": 6.0, "unit": "mm"}  # all.steps=3 times own scale=2.0
    assert "product = 6 mm" in proc.stdout


@pytest.mark.slow
def test_failure_names_notebook_and_cell_keeps_partial_and_stops(project):
    proc = _run(project, "--params", "ci")
    assert proc.returncode == 1
    assert "01_fails.ipynb" in proc.stderr and "cell" in proc.stderr and "boom at step 3" in proc.stderr
    partial = project[2] / "ci" / "01_fails.ipynb"
    assert partial.is_file()
    outputs = [o for c in nbformat.read(partial, 4).cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" for o in outputs)
    statuses = [n["status"] for n in json.loads((project[2] / "ci" / "summary.json").read_text())["notebooks"]]
    assert statuses == ["ok", "failed", "skipped"]


@pytest.mark.slow
def test_keep_going_runs_the_rest(project):
    proc = _run(project, "--params", "ci", "--keep-going")
    statuses = [n["status"] for n in json.loads((project[2] / "ci" / "summary.json").read_text())["notebooks"]]
    assert proc.returncode == 1 and statuses == ["ok", "failed", "ok"]


@pytest.mark.slow
def test_unknown_param_set_and_unknown_parameter_are_clear_errors(project):
    proc = _run(project, "--params", "nope")
    assert proc.returncode == 2 and "unknown parameter set 'nope'" in proc.stderr and "ci, typo" in proc.stderr
    proc = _run(project, "--params", "typo")
    assert proc.returncode == 2 and "scael" in proc.stderr and "not declared" in proc.stderr


@pytest.mark.slow
def test_only_rejects_unknown_notebook(project):
    proc = _run(project, "--params", "ci", "--only", "07")
    assert proc.returncode == 2 and "--only 07" in proc.stderr


def test_declared_parameters_refuses_logic(tmp_path):
    _notebook(tmp_path / "00_x.ipynb", "a = 1\nb = a * 2", "pass")
    with pytest.raises(series.SeriesError, match="'b' an expression"):
        series.declared_parameters(tmp_path / "00_x.ipynb")


def test_real_series_parameter_files_are_consistent():
    """Every committed parameter set names only parameters the notebooks declare."""
    for name in series.available_param_sets(series.paths.params_dir()):
        param_set = series.load_param_set(name, series.paths.params_dir())
        notebooks = series.discover_notebooks(series.paths.notebooks_dir())
        series.check_param_set(param_set, notebooks, name)
        for nb in notebooks:
            series.parameters_for(nb, param_set)


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("01_fials: {steps: 2}\n", "section '01_fials' names no notebook \\(did you mean '01_fails'\\?\\)"),
        ("all: {stpes: 2}\n", "all: 'stpes' is declared by no notebook.*'steps'"),
        ("runner: {cell_timout: 5}\n", "runner: unknown key 'cell_timout'.*'cell_timeout'"),
    ],
)
def test_misspelled_sections_and_keys_are_errors(project, text, pattern):
    nbs, params, _ = project
    (params / "bad.yaml").write_text(text)
    param_set = series.load_param_set("bad", params)
    with pytest.raises(series.SeriesError, match=pattern):
        series.check_param_set(param_set, series.discover_notebooks(nbs), "bad.yaml")
    with pytest.raises(series.SeriesError, match=pattern):  # run_series refuses before executing anything
        series.run_series("bad", notebooks_dir=nbs, params_dir=params, runs_root=project[2])
    assert not (project[2] / "bad").exists()


@pytest.mark.slow
def test_quiet_output_one_line_per_notebook_and_no_kernel_warnings(project):
    proc = _run(project, "--params", "ci", "--keep-going")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == 3, proc.stdout
    assert "00_ok" in lines[0] and " ok " in lines[0] and "product = 6 mm" in lines[0]
    assert "FAILED" in lines[1] and " ok " in lines[2]
    assert "without encryption" not in proc.stdout + proc.stderr, "kernels talk over IPC, not plain TCP"
    assert "==>" not in proc.stdout and "notebook" in proc.stdout.splitlines()[-1] or "summary.json" in proc.stdout
    assert (project[2] / "ci" / "kernels.log").is_file()


def test_parameters_line_papermill_cannot_parse_is_refused(tmp_path):
    _notebook(tmp_path / "00_x.ipynb", "steps = 2  # e.g. steps=3", "pass")
    with pytest.raises(series.SeriesError, match="more than one '='"):
        series.declared_parameters(tmp_path / "00_x.ipynb")
