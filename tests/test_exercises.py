"""Course assignments: the student-version generator and the generated notebooks.

The instructor notebooks themselves run under nbval with the rest of ``notebooks/`` (their checkers
must pass).  Here: stubs keep signatures and docstrings but no solution; the generated student
notebooks (written to a temporary folder by the real CLI, never committed) execute top to bottom with
every stub raising NotImplementedError exactly in the cells tagged to expect it, and nothing else failing.
"""

import ast
import subprocess
import sys

import nbformat
import pytest

from mdtf_lite.course.exercises import (
    EXPECTED_ERROR_TAG,
    ExerciseError,
    exercise_notebooks,
    make_student_notebook,
    stub_source,
)

INSTRUCTOR = exercise_notebooks()

SOLUTION = '''import numpy as np

@staticmethod
def area(width: float,
         height: float) -> float:  # keep me
    """Rectangle area (width, height) -> float."""
    secret = width * height
    return secret

def twice(x):
    # hint that must not leak
    return 2 * x
'''


def test_stub_keeps_signature_and_docstring_but_not_the_body():
    stub = stub_source(SOLUTION)
    assert "import numpy as np" in stub and "@staticmethod" in stub
    assert "height: float) -> float:  # keep me" in stub and '"""Rectangle area' in stub
    assert "secret" not in stub and "2 * x" not in stub and "hint that must not leak" not in stub
    namespace = {}
    exec(stub, namespace)  # the stub is valid Python that raises when called
    for name, args in (("area", (1, 2)), ("twice", (3,))):
        with pytest.raises(NotImplementedError, match=name):
            namespace[name].__func__(*args) if name == "area" else namespace[name](*args)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("x = 1\ndef f():\n    return x\n", "only imports and function definitions"),
        ("import numpy\n", "no function definition"),
        ("def f(): return 1\n", "several lines"),
        ("def f(:\n", "does not parse"),
    ],
)
def test_stub_rejects_cells_it_cannot_stub(bad, match):
    with pytest.raises(ExerciseError, match=match):
        stub_source(bad)


def test_at_least_six_exercises_with_solutions_and_checks():
    assert len(INSTRUCTOR) >= 6
    for path in INSTRUCTOR:
        nb = nbformat.read(path, as_version=4)
        tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
        assert "solution" in tags and "check" in tags, f"{path.name} needs solution and check cells"
        checks = [c.source for c in nb.cells if "check" in c.metadata.get("tags", [])]
        assert all("check_" in src for src in checks), f"{path.name}: check cells must call a checker"


def test_notebook_without_check_is_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f():\n    return 1")])
    nb.cells[0].metadata["tags"] = ["solution"]
    with pytest.raises(ExerciseError, match="check"):
        make_student_notebook(nb, "bad.ipynb")


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    res = subprocess.run(
        [sys.executable, "-m", "mdtf_lite", "exercises", "make-student", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
@pytest.mark.slow
def test_student_version_executes_with_stubs_raising(path, student_dir):
    from nbclient import NotebookClient

    student_path = student_dir / path.name
    assert student_path.is_file(), f"make-student did not write {student_path.name}"
    student = nbformat.read(student_path, as_version=4)
    instructor = nbformat.read(path, as_version=4)

    # no solution survives: every function body of a solution cell is gone
    for cell in instructor.cells:
        if "solution" in cell.metadata.get("tags", []) and cell.cell_type == "code":
            for fn in (n for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)):
                body = ast.get_source_segment(cell.source, fn.body[-1])
                assert all(body not in c.source for c in student.cells), f"{fn.name}'s solution leaked"
    expected = [i for i, c in enumerate(student.cells) if EXPECTED_ERROR_TAG in c.metadata.get("tags", [])]
    assert expected, "check cells must be tagged raises-exception in the student version"

    NotebookClient(student, kernel_name="python3", timeout=300, allow_errors=False).execute()
    for i, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if i in expected:
            assert errors and errors[0].ename == "NotImplementedError", (
                f"cell {i} should fail with the stub's NotImplementedError, got "
                f"{[e.ename + ': ' + e.evalue for e in errors] or 'no error'}"
            )
        else:
            assert not errors, f"untagged cell {i} failed: {errors[0].ename}: {errors[0].evalue}"


def _mutated(path, old, new, out):
    nb = nbformat.read(path, as_version=4)
    hits = [c for c in nb.cells if "solution" in c.metadata.get("tags", []) and old in c.source]
    assert len(hits) == 1, f"{path.name}: the mutation target {old!r} moved; update this test"
    hits[0].source = hits[0].source.replace(old, new)
    nbformat.write(nb, out)
    return out


@pytest.mark.slow
def test_grade_scores_reference_full_and_mutations_lower_naming_the_case(tmp_path):
    """The grade CLI: reference 100 %; a negated answer and a solution that imports the package score less."""
    import csv
    import json

    by_stem = {p.stem[:3]: p for p in INSTRUCTOR}
    negated = _mutated(
        by_stem["e06"],
        "return float(np.linalg.norm(pred - target, axis=-1).mean())",
        "return -float(np.linalg.norm(pred - target, axis=-1).mean())",
        tmp_path / "negated.ipynb",
    )
    nb = nbformat.read(by_stem["e03"], as_version=4)
    for c in nb.cells:
        if "solution" in c.metadata.get("tags", []):
            c.source = "from mdtf_lite.ssm.scans import sequential_scan\n"
    nbformat.write(nb, tmp_path / "imports_package.ipynb")
    out = tmp_path / "scores.csv"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "mdtf_lite",
            "exercises",
            "grade",
            str(by_stem["e06"]),
            str(negated),
            str(tmp_path / "imports_package.ipynb"),
            "--out",
            str(out),
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    rows = list(csv.DictReader(open(out)))
    score = {(r["notebook"], r["check"]): float(r["score"]) for r in rows}
    assert score[(by_stem["e06"].name, "mpjpe")] == 1.0 and score[(by_stem["e06"].name, "p_mpjpe")] == 1.0
    assert score[("negated.ipynb", "mpjpe")] < 1.0
    neg = next(r for r in rows if r["notebook"] == "negated.ipynb" and r["check"] == "mpjpe")
    assert "mirror image" in neg["failing"] and "negated" in neg["failing"]
    pkg = next(r for r in rows if r["notebook"] == "imports_package.ipynb")
    assert float(pkg["score"]) == 0.0 and pkg["status"] == "rejected" and "package" in pkg["failing"]
    assert "TOTAL" in res.stdout

    # an existing table is never overwritten silently; JSON carries per-notebook totals
    again = subprocess.run(
        [sys.executable, "-m", "mdtf_lite", "exercises", "grade", str(negated), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "--overwrite" in again.stderr
    js = tmp_path / "s.json"
    assert (
        subprocess.run(
            [sys.executable, "-m", "mdtf_lite", "exercises", "grade", str(negated), "--out", str(js)],
            capture_output=True,
            text=True,
            timeout=300,
        ).returncode
        == 0
    )
    assert json.loads(js.read_text())["notebooks"]["negated.ipynb"] < 1.0


def test_grade_refuses_bad_inputs_before_running(tmp_path):
    from mdtf_lite.course.exercises import grade

    with pytest.raises(FileNotFoundError, match="no such notebook"):
        grade([tmp_path / "missing.ipynb"])
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), plain)
    with pytest.raises(ExerciseError, match="no cell tagged 'check'"):
        grade([plain])
