"""`make lab` works: JupyterLab starts headless (random port, token), serves notebook 00 with the widget
extensions, and the notebook's kernel runs a cell from this checkout; then the server shuts down."""

import pytest

pytest.importorskip("jupyterlab", reason="pip install jupyterlab (the notebooks extra) for make lab")


@pytest.mark.slow
def test_lab_opens_notebook_00_and_its_kernel_runs_a_cell(tmp_path):
    from mdtf_lite.course.lab import WIDGET_EXTENSIONS, check_lab

    seen = check_lab(log=tmp_path / "lab.log")
    assert seen["kernel"] == "python3"
    assert set(WIDGET_EXTENSIONS) <= set(seen["extensions"]), seen["extensions"]
    assert "'mdtf_lite'" in seen["result"], seen["result"]


def test_make_lab_runs_the_lab_command():
    from pathlib import Path

    from mdtf_lite.course.lab import FRONT_NOTEBOOK, lab_command

    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    assert "\nlab: " in makefile and "-m mdtf_lite lab" in makefile
    cmd = lab_command()
    assert cmd[1:3] == ["-m", "jupyterlab"] and FRONT_NOTEBOOK in cmd
    assert (Path(__file__).parents[1] / FRONT_NOTEBOOK).is_file()
