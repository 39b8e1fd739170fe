"""Committed notebooks: ordered names, no outputs, kernel python3, one literal-only parameters cell."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
SERIES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_series_is_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in SERIES]
    assert numbers == list(range(len(numbers))), f"notebooks must be 00, 01, ... without gaps: {numbers}"
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in SERIES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3"
    assert "widgets" not in nb["metadata"], "strip widget state (python scripts/clean_notebooks.py)"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} has stored outputs: run python scripts/clean_notebooks.py"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", SERIES, ids=lambda p: p.name)
def test_one_literal_parameters_cell(path):
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    for node in ast.parse("".join(cells[0]["source"])).body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), "parameters cell: assignments only"
        ast.literal_eval(node.value)  # raises if a value is not a literal


@pytest.mark.parametrize("path", SERIES, ids=lambda p: p.name)
def test_series_sections(path):
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    for heading in ("## Summary", "## Exercises", "## Next"):
        if path.name.startswith("09") and heading == "## Next":
            continue  # the last notebook has nothing after it
        assert heading in text, f"{path.name} lacks a '{heading}' section"


def test_param_files_name_existing_notebooks():
    import yaml

    stems = {p.stem for p in SERIES}
    for file in sorted((ROOT / "params").glob("*.yaml")):
        data = yaml.safe_load(file.read_text()) or {}
        unknown = set(data) - stems - {"all", "runner"}
        assert not unknown, f"{file.name} has sections for notebooks that do not exist: {sorted(unknown)}"
