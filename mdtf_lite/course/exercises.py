"""Course assignments: turn the instructor exercise notebooks into student versions.

    python -m mdtf_lite exercises list
    python -m mdtf_lite exercises make-student [--src notebooks/exercises] [--out runs/student_exercises]
    python -m mdtf_lite exercises grade NOTEBOOK... [--out scores.csv|scores.json] [--timeout 300]

The instructor notebooks in ``notebooks/exercises/`` are the only source.  Cells carry tags:

    solution       a code cell with the model answer: imports and ``def`` statements only.  In the
                   student version each function keeps its signature, comments and docstring, and its
                   body becomes ``raise NotImplementedError(...)``.  A markdown cell tagged
                   ``solution`` (a written answer) becomes an "answer here" placeholder.
    check          a cell calling a checker from ``mdtf_lite.course.checks``; tagged ``raises-exception`` in the
                   student version, so the notebook still runs top to bottom before it is solved
                   (nbval, nbclient and papermill all let such a cell fail and carry on).
    uses-solution  any other cell that calls the student's functions; treated like ``check``.

Student versions are generated, not committed: the instructor notebook stays the single thing anyone
edits, and the tests regenerate the student versions and execute them, so they cannot drift.

``grade`` executes each student notebook in a fresh ``python3`` kernel (nbclient, a timeout per cell,
errors allowed so one failing check does not hide the next), with the checkers in strict mode (a solution
that is or calls the package's own function scores 0) and ``MDTF_GRADE_LOG`` set, so every checker logs
its cases.  The score of a check is its share of passing cases; a check cell that crashes before its
checker runs scores 0 with the error.  It prints a table and writes it as CSV or JSON (by ``--out``'s suffix).
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

from mdtf_lite.cli_types import timeout_seconds
from mdtf_lite.course.checks import GRADE_LOG_ENV, STRICT_ENV
from mdtf_lite.paths import notebooks_dir, runs_dir

SOLUTION_TAG = "solution"
CHECK_TAGS = ("check", "uses-solution")
EXPECTED_ERROR_TAG = "raises-exception"
ANSWER_PLACEHOLDER = "_Write your answer here._"

__all__ = [
    "stub_source",
    "make_student_notebook",
    "make_student",
    "exercise_notebooks",
    "grade_notebook",
    "grade",
    "write_scores",
    "main",
]


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
            out.extend(lines[first - 1 : node.end_lineno])
            continue
        elif isinstance(node, ast.FunctionDef):
            functions += 1
            body = node.body
            has_doc = (
                isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            )
            if body[0].lineno == node.lineno:  # one-line def: "def f(x): return x"
                raise ExerciseError(f"{where}: write {node.name} over several lines so its body can be replaced")
            keep_until = body[0].end_lineno if has_doc else body[0].lineno - 1
            header = lines[first - 1 : keep_until]
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
        raise ExerciseError(
            f"{name}: an exercise needs at least one '{SOLUTION_TAG}' cell and one 'check' cell "
            f"(found {n_solutions} and {n_checks})"
        )
    student.metadata.pop("widgets", None)
    banner = nbformat.v4.new_markdown_cell(
        f"> Student version of `{name}`, generated by `python -m mdtf_lite exercises make-student`. "
        "Fill in the functions that raise `NotImplementedError`, then run the check cell below each one."
    )
    banner.metadata["tags"] = ["generated"]
    student.cells.insert(0, banner)
    return student


def exercise_notebooks(src: Path | None = None) -> list[Path]:
    """Instructor notebooks, in order: ``notebooks/exercises/*.ipynb``."""
    src = Path(src) if src else notebooks_dir() / "exercises"
    found = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise FileNotFoundError(f"no exercise notebooks in {src}")
    return found


def make_student(src: Path | None = None, out: Path | None = None, overwrite: bool = False) -> list[Path]:
    """Write the student version of every instructor notebook in ``src`` to ``out``; return the paths.

    A notebook already in ``out`` (a student's work, perhaps) is refused before anything is written,
    unless ``overwrite``.
    """
    import nbformat

    out = Path(out) if out else runs_dir() / "student_exercises"
    sources = exercise_notebooks(src)
    existing = [out / p.name for p in sources if (out / p.name).exists()]
    if existing and not overwrite:
        raise ExerciseError(
            f"{existing[0]} exists already ({len(existing)} of the {len(sources)} notebooks are there); pass "
            "--overwrite to replace them with fresh stubs, or choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        student = make_student_notebook(nb, path.name)
        target = out / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def _checkers_called(source: str) -> list[str]:
    import re

    return sorted(set(re.findall(r"\b(check_\w+)\s*\(", source)))


def grade_notebook(path: Path, timeout: int = 300, kernel_name: str = "python3") -> list[dict]:
    """Execute one student notebook and score its checks.

    Returns one row per check: ``{"notebook", "check", "passed", "total", "score" (0..1), "status",
    "failing"}`` (``failing``: "case: diagnosis" strings joined by " | ").  Raises FileNotFoundError /
    ExerciseError for a missing file or a notebook without check cells, before starting a kernel.
    """
    import json
    import os
    import tempfile

    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook (pass the student notebooks to grade)")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        raise ExerciseError(f"{path}: not a readable notebook ({exc}); pass .ipynb files") from exc
    check_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "check" in _tags(c)]
    if not check_cells:
        raise ExerciseError(
            f"{path}: no cell tagged 'check' -- is this an exercise notebook from notebooks/exercises/?"
        )
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mdtf_grade_") as tmp:
        log = Path(tmp) / "grade.jsonl"
        log.touch()
        saved = {k: os.environ.get(k) for k in (GRADE_LOG_ENV, STRICT_ENV)}
        os.environ[GRADE_LOG_ENV], os.environ[STRICT_ENV] = str(log), "1"
        try:
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name=kernel_name,
                allow_errors=True,
                resources={"metadata": {"path": str(path.parent.resolve())}},
            )
            with client.setup_kernel():
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    before = len(log.read_text().splitlines())
                    try:
                        client.execute_cell(cell, i)
                    except Exception as exc:  # a timeout or a dead kernel: score what ran, say what stopped
                        cell.outputs = [
                            nbformat.v4.new_output(
                                "error",
                                ename=type(exc).__name__,
                                evalue=str(exc).splitlines()[0] if str(exc) else "",
                                traceback=[],
                            )
                        ]
                    if i not in check_cells:
                        continue
                    entries = [json.loads(x) for x in log.read_text().splitlines()[before:]]
                    rows.extend(_score_cell(path.name, cell, entries))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return rows


def _score_cell(notebook: str, cell, entries: list[dict]) -> list[dict]:
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not entries:  # the checker never ran: a NameError, a crash before it, a timeout
        why = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else "the cell ran no checker"
        return [
            {
                "notebook": notebook,
                "check": ", ".join(_checkers_called(cell.source)) or "?",
                "passed": 0,
                "total": 1,
                "score": 0.0,
                "status": "error",
                "failing": why,
            }
        ]
    rows, by_check = [], {}
    for e in entries:
        by_check.setdefault(e["check"], []).append(e)
    for check, cases in by_check.items():
        passed = sum(bool(c["ok"]) for c in cases)
        status = cases[-1]["status"]
        grouped: dict[str, list[str]] = {}  # one diagnosis, the cases it applies to
        for c in cases:
            if not c["ok"]:
                grouped.setdefault(c.get("diagnosis", ""), []).append(c["case"])
        failing = [f"{', '.join(names)}" + (f": {why}" if why else "") for why, names in grouped.items()]
        if status in ("rejected", "not implemented", "error") and errors:
            failing = [errors[0]["evalue"]]
        rows.append(
            {
                "notebook": notebook,
                "check": check,
                "passed": passed,
                "total": len(cases),
                "score": passed / len(cases),
                "status": status,
                "failing": " | ".join(failing),
            }
        )
    return rows


def grade(paths: list[Path], timeout: int = 300) -> list[dict]:
    """Grade several notebooks (see :func:`grade_notebook`); all inputs are checked before any runs."""
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such notebook: {', '.join(missing)}")
    rows = []
    for p in paths:
        rows.extend(grade_notebook(p, timeout=timeout))
    return rows


def notebook_scores(rows: list[dict]) -> dict[str, float]:
    """Per notebook: the mean of its checks' scores (each check weighs the same)."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["notebook"], []).append(r["score"])
    return {k: sum(v) / len(v) for k, v in out.items()}


def format_scores(rows: list[dict]) -> str:
    lines = [f"{'notebook':28s} {'check':28s} {'cases':>7s} {'score':>6s}  status / failing cases"]
    for r in rows:
        lines.append(
            f"{r['notebook']:28s} {r['check']:28s} {r['passed']:>3d}/{r['total']:<3d} "
            f"{100 * r['score']:5.0f}%  {r['status']}" + (f": {r['failing']}" if r["failing"] else "")
        )
    for nb, score in notebook_scores(rows).items():
        lines.append(f"{nb:28s} {'TOTAL':28s} {'':7s} {100 * score:5.0f}%")
    return "\n".join(lines)


def write_scores(rows: list[dict], out: Path, overwrite: bool = False) -> Path:
    """Write the score table to ``out``: ``.csv`` (one row per check) or ``.json`` (rows + per-notebook totals).

    An existing file is refused unless ``overwrite`` (``--overwrite``): no silent loss of an earlier table.
    """
    import csv
    import json

    out = Path(out)
    if out.suffix.lower() not in (".csv", ".json"):
        raise ExerciseError(f"--out {out}: use a .csv or .json file name")
    if out.is_dir():
        raise ExerciseError(f"--out {out} is a folder; give a file name such as scores.csv")
    if out.exists() and not overwrite:
        raise ExerciseError(f"--out {out} exists; pass --overwrite to replace it, or choose another name")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        with open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["notebook", "check", "passed", "total", "score", "status", "failing"])
            w.writeheader()
            w.writerows(rows)
    else:
        out.write_text(json.dumps({"checks": rows, "notebooks": notebook_scores(rows)}, indent=1))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite exercises", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make-student", help="write student versions (solutions replaced by stubs)")
    mk.add_argument("--src", type=Path, default=None, help="instructor notebooks (default notebooks/exercises)")
    mk.add_argument("--out", type=Path, default=None, help="output folder (default runs/student_exercises)")
    mk.add_argument("--overwrite", action="store_true", help="replace student notebooks already in --out")
    ls = sub.add_parser("list", help="list the exercise notebooks")
    ls.add_argument("--src", type=Path, default=None)
    gr = sub.add_parser("grade", help="execute student notebooks and write a score table per check")
    gr.add_argument("notebooks", nargs="+", type=Path, help="student notebooks (.ipynb)")
    gr.add_argument("--out", type=Path, default=None, help="scores.csv or scores.json (default: print only)")
    gr.add_argument("--timeout", type=timeout_seconds, default=300, help="seconds per cell (default 300)")
    gr.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = ap.parse_args(argv)
    try:
        if args.command == "grade":
            if args.out is not None and args.out.suffix.lower() not in (".csv", ".json"):
                raise ExerciseError(f"--out {args.out}: use a .csv or .json file name")
            if args.out is not None and args.out.exists() and not args.overwrite:
                raise ExerciseError(f"--out {args.out} exists; pass --overwrite to replace it, or choose another name")
            rows = grade(args.notebooks, timeout=args.timeout)
            print(format_scores(rows))
            if args.out is not None:
                print(f"wrote {write_scores(rows, args.out, overwrite=args.overwrite)}")
        elif args.command == "list":
            for p in exercise_notebooks(args.src):
                print(p)
        else:
            for p in make_student(args.src, args.out, overwrite=args.overwrite):
                print(f"wrote {p}")
    except (ExerciseError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
