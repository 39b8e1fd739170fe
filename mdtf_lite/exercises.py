"""Course assignments: turn the instructor exercise notebooks into student versions.

    python -m mdtf_lite.exercises list
    python -m mdtf_lite.exercises make-student [--src notebooks/exercises] [--out runs/student_exercises]

The instructor notebooks in ``notebooks/exercises/`` are the only source.  Cells carry tags:

    solution       a code cell with the model answer: imports and ``def`` statements only.  In the
                   student version each function keeps its signature, comments and docstring, and its
                   body becomes ``raise NotImplementedError(...)``.  A markdown cell tagged
                   ``solution`` (a written answer) becomes an "answer here" placeholder.
    check          a cell calling a checker from ``mdtf_lite.checks``; tagged ``raises-exception`` in the
                   student version, so the notebook still runs top to bottom before it is solved
                   (nbval, nbclient and papermill all let such a cell fail and carry on).
    uses-solution  any other cell that calls the student's functions; treated like ``check``.

Student versions are generated, not committed: the instructor notebook stays the single thing anyone
edits, and the tests regenerate the student versions and execute them, so they cannot drift.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

SOLUTION_TAG = "solution"
CHECK_TAGS = ("check", "uses-solution")
EXPECTED_ERROR_TAG = "raises-exception"
ANSWER_PLACEHOLDER = "_Write your answer here._"

__all__ = ["stub_source", "make_student_notebook", "make_student", "exercise_notebooks", "main"]


class ExerciseError(ValueError):
    """An instructor notebook breaks the tagging rules (named cell and how to fix it)."""


def stub_source(source: str, where: str = "solution cell") -> str:
    """Replace every function body in a solution cell by ``raise NotImplementedError``.

    Keeps imports, decorators, the ``def`` line(s) (with annotations and comments) and the docstring
    verbatim; drops the body.  Raises :class:`ExerciseError` if the cell holds anything but imports
    and function definitions (a stub could not keep such a statement's meaning) or no function at all.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ExerciseError(f"{where}: the solution does not parse ({exc})") from exc
    lines = source.splitlines()
    out: list[str] = []
    functions = 0
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend(lines[first - 1:node.end_lineno])
            continue
        elif isinstance(node, ast.FunctionDef):
            functions += 1
            body = node.body
            has_doc = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                       and isinstance(body[0].value.value, str))
            if body[0].lineno == node.lineno:  # one-line def: "def f(x): return x"
                raise ExerciseError(f"{where}: write {node.name} over several lines so its body can be replaced")
            keep_until = body[0].end_lineno if has_doc else body[0].lineno - 1
            header = lines[first - 1:keep_until]
            while not has_doc and header[-1].strip().startswith("#"):  # comments in a body may be hints
                header.pop()
            indent = " " * (body[0].col_offset)
            if out and out[-1]:
                out.append("")
            out.extend(header)
            out.append(f'{indent}raise NotImplementedError("{node.name}: your code here")')
            out.append("")
        else:
            raise ExerciseError(
                f"{where}: line {node.lineno} is a {type(node).__name__}; solution cells may hold only imports "
                "and function definitions (move other code to an untagged cell)"
            )
    if functions == 0:
        raise ExerciseError(f"{where}: no function definition to turn into a stub")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def make_student_notebook(nb, name: str = "notebook"):
    """Instructor notebook (nbformat node) -> student notebook (new node; the input is not changed)."""
    import nbformat

    student = copy.deepcopy(nb)
    n_solutions = n_checks = 0
    for i, cell in enumerate(student.cells):
        tags = _tags(cell)
        if SOLUTION_TAG in tags:
            n_solutions += 1
            if cell.cell_type == "code":
                cell.source = stub_source(cell.source, f"{name} cell {i}")
            else:
                cell.source = ANSWER_PLACEHOLDER
            tags = [t for t in tags if t != SOLUTION_TAG] + ["exercise"]
        if any(t in tags for t in CHECK_TAGS):
            if cell.cell_type != "code":
                raise ExerciseError(f"{name} cell {i}: tags {CHECK_TAGS} belong on code cells")
            n_checks += 1
            if EXPECTED_ERROR_TAG not in tags:
                tags.append(EXPECTED_ERROR_TAG)
        if tags:
            cell.metadata["tags"] = tags
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if n_solutions == 0 or n_checks == 0:
        raise ExerciseError(f"{name}: an exercise needs at least one '{SOLUTION_TAG}' cell and one 'check' cell "
                            f"(found {n_solutions} and {n_checks})")
    student.metadata.pop("widgets", None)
    banner = nbformat.v4.new_markdown_cell(
        f"> Student version of `{name}`, generated by `python -m mdtf_lite.exercises make-student`. "
        "Fill in the functions that raise `NotImplementedError`, then run the check cell below each one."
    )
    banner.metadata["tags"] = ["generated"]
    student.cells.insert(0, banner)
    return student


def exercise_notebooks(src: Path | None = None) -> list[Path]:
    """Instructor notebooks, in order: ``notebooks/exercises/*.ipynb``."""
    from mdtf_lite.paths import notebooks_dir

    src = Path(src) if src else notebooks_dir() / "exercises"
    found = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise FileNotFoundError(f"no exercise notebooks in {src}")
    return found


def make_student(src: Path | None = None, out: Path | None = None) -> list[Path]:
    """Write the student version of every instructor notebook in ``src`` to ``out``; return the paths."""
    import nbformat

    from mdtf_lite.paths import runs_dir

    out = Path(out) if out else runs_dir() / "student_exercises"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in exercise_notebooks(src):
        nb = nbformat.read(path, as_version=4)
        student = make_student_notebook(nb, path.name)
        target = out / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.exercises", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make-student", help="write student versions (solutions replaced by stubs)")
    mk.add_argument("--src", type=Path, default=None, help="instructor notebooks (default notebooks/exercises)")
    mk.add_argument("--out", type=Path, default=None, help="output folder (default runs/student_exercises)")
    ls = sub.add_parser("list", help="list the exercise notebooks")
    ls.add_argument("--src", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        if args.command == "list":
            for p in exercise_notebooks(args.src):
                print(p)
        else:
            for p in make_student(args.src, args.out):
                print(f"wrote {p}")
    except (ExerciseError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
