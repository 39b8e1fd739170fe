"""Execute the ordered notebook series with papermill and summarise what each one measured.

    python -m mdtf_lite series run --params default          # what `make run` does
    python -m mdtf_lite series run --params ci --only 03 05  # a subset, by number or stem
    python -m mdtf_lite series list                          # notebooks and parameter sets

For each ``notebooks/NN_slug.ipynb`` (in order) the runner

1. takes the parameters for that notebook from ``params/<name>.yaml`` (section ``all`` merged with the
   section named after the notebook stem) and refuses names the notebook's ``parameters`` cell does not
   declare, so a typo in a parameter file is an error rather than a silently ignored value (so are a
   section that names no notebook, a key under ``all`` that no notebook declares and an unknown
   ``runner`` key: :func:`check_param_set`);
2. executes it with papermill (kernel ``python3``, a per-cell timeout) into ``runs/<name>/``, with
   ``MDTF_RUN_DIR`` pointing at that folder (checkpoints and figures land there) and
   ``MDTF_RECORD_FILE`` at a per-notebook JSON that :func:`mdtf_lite.course.record.record` fills;
3. drops the widget JavaScript bundles from the executed notebook (:func:`mdtf_lite.viz.export.slim_notebook`)
   and exports an HTML copy that needs no network (plotly.js and MathJax in ``runs/<name>/assets/``,
   widgets drawn from their saved state: :mod:`mdtf_lite.viz.export`);
4. writes ``summary.json`` (status, seconds, recorded metrics per notebook) after every notebook, so an
   interrupted run still leaves a truthful summary.

A failing notebook stops the run (later notebooks build on earlier ones) unless ``--keep-going``; the
runner names the notebook and cell, keeps the partially executed notebook, and exits non-zero.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mdtf_lite import paths
from mdtf_lite.cli_types import check_timeout, timeout_seconds
from mdtf_lite.course.record import RECORD_ENV, read_records
from mdtf_lite.safe_yaml import YamlRefused, load_yaml_text

DEFAULT_CELL_TIMEOUT_S = 1800


RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # a run folder: one plain name under runs/


class SeriesError(Exception):
    """A problem with how the series was invoked (bad parameter set, unknown notebook, ...)."""


@dataclass
class NotebookResult:
    notebook: str
    status: str = "pending"  # ok | failed | skipped | pending
    seconds: float = 0.0
    output: str = ""
    html: str = ""
    headline: str | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None


def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """The series' notebooks in order: ``NN_slug.ipynb`` directly in ``notebooks_dir``."""
    found = sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise SeriesError(f"no notebooks named NN_slug.ipynb in {notebooks_dir}")
    return found


def available_param_sets(params_dir: Path) -> list[str]:
    return sorted(p.stem for p in params_dir.glob("*.yaml"))


def load_param_set(name: str, params_dir: Path) -> dict:
    """Read ``params/<name>.yaml``: ``{"all": {...}, "runner": {...}, "<stem>": {...}, ...}``."""
    path = params_dir / f"{name}.yaml"
    if not path.is_file():
        raise SeriesError(
            f"unknown parameter set {name!r}: there is no {path}. "
            f"Available: {', '.join(available_param_sets(params_dir)) or '(none)'}"
        )
    try:
        data = load_yaml_text(path.read_text(), str(path)) or {}  # no aliases: an alias bomb is refused
    except YamlRefused as exc:
        raise SeriesError(str(exc)) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) or v is None for v in data.values()):
        raise SeriesError(f"{path} must map notebook stems (and 'all', 'runner') to dictionaries of parameters")
    return {k: (v or {}) for k, v in data.items()}


def declared_parameters(notebook: Path) -> dict:
    """Names and literal default values of the notebook's ``parameters`` cell (without running it)."""
    nb = json.loads(notebook.read_text())
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise SeriesError(f"{notebook.name} must have exactly one cell tagged 'parameters' (found {len(cells)})")
    source = "".join(cells[0]["source"])
    for number, line in enumerate(source.splitlines(), 1):
        if line.count("=") > 1:  # papermill's parser then warns "Unable to parse line N" on every run
            raise SeriesError(
                f"{notebook.name}: line {number} of the parameters cell has more than one '=' "
                f"({line.strip()!r}); papermill cannot parse it: keep '=' out of its comments"
            )
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr):  # docstrings/comments are fine, logic is not
            continue
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        elif isinstance(node, ast.AnnAssign):
            target = node.target
        else:  # augmented assignments, loops, calls, imports: logic
            target = None
        if not isinstance(target, ast.Name) or node.value is None:
            raise SeriesError(f"{notebook.name}: the parameters cell may only assign literals")
        try:
            values[target.id] = ast.literal_eval(node.value)
        except ValueError:
            raise SeriesError(
                f"{notebook.name}: line {node.lineno} of the parameters cell assigns {target.id!r} an expression, "
                "not a literal; compute derived values in the next cell"
            ) from None
    return values


def parameters_for(notebook: Path, param_set: dict) -> dict:
    """Merge ``all`` and the notebook's own section; unknown names in its own section are an error."""
    declared = declared_parameters(notebook)
    own = param_set.get(notebook.stem, {})
    unknown = sorted(set(own) - set(declared))
    if unknown:
        raise SeriesError(
            f"parameters {unknown} for {notebook.name} are not declared in its parameters cell "
            f"(declared: {sorted(declared)}); fix the parameter file"
        )
    merged = {k: v for k, v in param_set.get("all", {}).items() if k in declared}
    merged.update(own)
    return merged


#: the keys the ``runner:`` section may set.
RUNNER_KEYS = ("cell_timeout",)


def check_param_set(param_set: dict, notebooks: list[Path], source: str = "the parameter set") -> None:
    """Refuse what the runner would otherwise ignore: a section that names no notebook (``06_trainig``),
    a key under ``all`` that no notebook declares, an unknown key under ``runner``.

    ``notebooks``: every notebook of the series (not only the ``--only`` selection), so a set stays valid
    for any selection.  Raises SeriesError naming the section/key and the closest valid name.
    """
    import difflib

    def hint(name, choices):
        close = difflib.get_close_matches(str(name), [str(c) for c in choices], 1)
        return f" (did you mean {close[0]!r}?)" if close else ""

    stems = [nb.stem for nb in notebooks]
    problems = []
    for section in param_set:
        if section not in ("all", "runner", *stems):
            problems.append(f"section {section!r} names no notebook{hint(section, stems)}")
    declared = set()
    for nb in notebooks:
        declared |= set(declared_parameters(nb))
    for key in param_set.get("all", {}):
        if key not in declared:
            problems.append(f"all: {key!r} is declared by no notebook's parameters cell{hint(key, declared)}")
    for key in param_set.get("runner", {}):
        if key not in RUNNER_KEYS:
            problems.append(f"runner: unknown key {key!r}{hint(key, RUNNER_KEYS)}; known: {list(RUNNER_KEYS)}")
    if problems:
        raise SeriesError(
            f"{source}: " + "; ".join(problems) + f". Notebooks: {', '.join(stems)}; fix the parameter file"
        )


def select(notebooks: list[Path], only: list[str] | None) -> list[Path]:
    if not only:
        return notebooks
    chosen = []
    for key in only:
        hits = [p for p in notebooks if p.stem == key or p.stem.split("_", 1)[0] == key.zfill(2)]
        if not hits:
            raise SeriesError(f"--only {key}: no such notebook; have {', '.join(p.stem for p in notebooks)}")
        chosen.extend(h for h in hits if h not in chosen)
    return sorted(chosen)


def export_html(executed: Path) -> Path:
    """Write an offline HTML copy next to the executed notebook (:func:`mdtf_lite.viz.export.export_html`:
    plotly.js and MathJax from ``assets/`` beside the pages, widgets drawn from their saved state)."""
    from mdtf_lite.viz.export import export_html as _export

    return _export(executed)


def kernel_manager_class(log_path: Path | None = None):
    """A jupyter_client kernel manager for headless runs: the kernel talks over IPC sockets (local files,
    not TCP: ipykernel warns about unencrypted TCP on every start) and its own stdout/stderr (C-level
    messages that never reach the notebook) go to ``log_path`` instead of the terminal."""
    from jupyter_client import AsyncKernelManager

    class SeriesKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            if log_path is not None:
                log = open(log_path, "ab")  # noqa: SIM115 - the kernel process holds it until it exits
                kw.setdefault("stdout", log)
                kw.setdefault("stderr", log)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return SeriesKernelManager


def _describe_failure(exc: Exception) -> str:
    cell = getattr(exc, "cell_index", None)
    count = getattr(exc, "exec_count", None)
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    where = f"cell {cell} (execution count {count})" if cell is not None else "before any cell ran"
    return f"{where}: {ename}: {evalue}".strip()


def run_series(
    param_name: str,
    only: list[str] | None = None,
    run_name: str | None = None,
    notebooks_dir: Path | None = None,
    params_dir: Path | None = None,
    runs_root: Path | None = None,
    keep_going: bool = False,
    html: bool = True,
    cell_timeout: int | None = None,
    verbose: bool = False,
) -> tuple[list[NotebookResult], Path]:
    """Execute the series; returns the per-notebook results and the run folder.

    Prints one line per notebook (``verbose``: the parameters before each one instead); the kernels'
    own output goes to ``<run folder>/kernels.log``.
    """
    import papermill as pm

    notebooks_dir = notebooks_dir or paths.notebooks_dir()
    params_dir = params_dir or paths.params_dir()
    param_set = load_param_set(param_name, params_dir)
    every = discover_notebooks(notebooks_dir)
    check_param_set(param_set, every, str(params_dir / f"{param_name}.yaml"))
    notebooks = select(every, only)
    plans = [(nb, parameters_for(nb, param_set)) for nb in notebooks]  # validate all before running any
    runner_opts = param_set.get("runner", {})
    timeout = cell_timeout if cell_timeout is not None else runner_opts.get("cell_timeout", DEFAULT_CELL_TIMEOUT_S)
    try:
        timeout = check_timeout(timeout, "cell_timeout")
    except ValueError as exc:
        raise SeriesError(str(exc)) from None

    folder_name = run_name or param_name
    if not RUN_NAME.fullmatch(folder_name) or folder_name in (".", ".."):
        raise SeriesError(
            f"run name {folder_name!r}: use a plain folder name (letters, digits, '.', '_', '-'; at most 100); "
            "it is created under runs/ (set MDTF_RUNS_DIR to move runs/)"
        )
    run_folder = (runs_root or paths.runs_dir()) / folder_name
    (run_folder / "records").mkdir(parents=True, exist_ok=True)
    results = [NotebookResult(nb.name) for nb in notebooks]
    summary_path = run_folder / "summary.json"

    def write_summary():
        summary = {"params": param_name, "run_dir": str(run_folder), "notebooks": [asdict(r) for r in results]}
        tmp = summary_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1))
        tmp.replace(summary_path)

    kernel_log = run_folder / "kernels.log"
    kernel_log.write_text("")
    km_class = kernel_manager_class(kernel_log)
    export_warnings: set[str] = set()
    failed = False
    for index, (result, (nb, params)) in enumerate(zip(results, plans), 1):
        if failed and not keep_going:
            result.status = "skipped"
            continue
        out = run_folder / nb.name
        record_file = run_folder / "records" / f"{nb.stem}.json"
        record_file.unlink(missing_ok=True)  # a re-run must not show the previous run's numbers
        os.environ["MDTF_RUN_DIR"] = str(run_folder)
        os.environ[RECORD_ENV] = str(record_file)
        if verbose:
            print(f"==> {nb.name} {json.dumps(params) if params else ''}", flush=True)
        else:
            print(f"[{index:2d}/{len(plans)}] {nb.stem:<24}", end=" ", flush=True)
        start = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb),
                str(out),
                parameters=params,
                kernel_name="python3",
                cwd=str(nb.parent),
                execution_timeout=timeout,
                progress_bar=False,
                kernel_manager_class=km_class,
            )
            result.status = "ok"
        except Exception as exc:  # papermill already wrote the partial notebook with the failing cell
            result.status, result.error, failed = "failed", _describe_failure(exc), True
            if not verbose:
                print("FAILED", flush=True)
            print(f"FAILED {nb.name}, {result.error}\n       partial notebook kept at {out}", file=sys.stderr)
        finally:
            os.environ.pop(RECORD_ENV, None)
        result.seconds = round(time.perf_counter() - start, 1)
        result.output = str(out)
        rec = read_records(record_file)
        result.metrics, result.headline = rec["metrics"], rec["headline"]
        if out.is_file():
            from mdtf_lite.viz.export import slim_notebook

            slim_notebook(out)
        if html and out.is_file():
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result.html = str(export_html(out))
                for w in {str(w.message) for w in caught} - export_warnings:
                    print(f"\nwarning: HTML export: {w}", file=sys.stderr)
                    export_warnings.add(w)  # once per run, not once per notebook
            except Exception as exc:  # an export problem must not hide the execution result
                print(f"warning: HTML export of {out.name} failed: {exc}", file=sys.stderr)
        if not verbose and result.status == "ok":
            print(f"ok {result.seconds:7.1f} s  {headline_text(result)}", flush=True)
        write_summary()
    write_summary()  # once more, so notebooks skipped after a failure show as "skipped"
    return results, run_folder


def headline_text(r: NotebookResult) -> str:
    """``name = value unit`` of the notebook's headline metric, or ''."""
    if not (r.headline and r.headline in r.metrics):
        return ""
    m = r.metrics[r.headline]
    value = m["value"]
    value = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{r.headline} = {value}{' ' + m['unit'] if m.get('unit') else ''}"


def output_sizes(folder: Path) -> dict:
    """Bytes on disk of a run folder's executed notebooks, HTML pages and shared page assets."""
    folder = Path(folder)
    assets = folder / "assets"
    return {
        "ipynb": sum(p.stat().st_size for p in folder.glob("*.ipynb")),
        "html": sum(p.stat().st_size for p in folder.glob("*.html")),
        "assets": sum(p.stat().st_size for p in assets.rglob("*") if p.is_file()) if assets.is_dir() else 0,
    }


def format_table(results: list[NotebookResult]) -> str:
    rows = [("notebook", "status", "seconds", "headline")]
    for r in results:
        rows.append((r.notebook, r.status, f"{r.seconds:.1f}", headline_text(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdtf_lite series", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the notebooks with a parameter set")
    run.add_argument("--params", default="default", help="parameter set: a file params/<name>.yaml")
    run.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (number or stem)")
    run.add_argument("--name", help="run folder name under runs/ (default: the parameter set's name)")
    run.add_argument("--keep-going", action="store_true", help="continue after a failing notebook")
    run.add_argument("--no-html", action="store_true", help="skip the HTML exports")
    run.add_argument(
        "--cell-timeout", type=timeout_seconds, help=f"seconds per cell (default {DEFAULT_CELL_TIMEOUT_S})"
    )
    run.add_argument("--verbose", action="store_true", help="print each notebook's parameters before running it")
    run.add_argument("--notebooks-dir", type=Path, help=argparse.SUPPRESS)
    run.add_argument("--params-dir", type=Path, help=argparse.SUPPRESS)
    run.add_argument("--runs-dir", type=Path, help=argparse.SUPPRESS)
    run.add_argument("--force", action="store_true", help="--params full: start without real data or a GPU")
    sub.add_parser("list", help="list notebooks and parameter sets")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            for nb in discover_notebooks(paths.notebooks_dir()):
                print(nb.name, json.dumps(declared_parameters(nb)))
            print("parameter sets:", ", ".join(available_param_sets(paths.params_dir())))
            return 0
        if args.params == "full":  # refuse days of CPU on generated data (mdtf_lite.course.preflight)
            from mdtf_lite.course.preflight import PreflightError, preflight_full

            try:
                preflight_full(force=args.force)
            except PreflightError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 3
        results, folder = run_series(
            args.params,
            args.only,
            args.name,
            args.notebooks_dir,
            args.params_dir,
            args.runs_dir,
            args.keep_going,
            not args.no_html,
            args.cell_timeout,
            args.verbose,
        )
    except SeriesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    print(format_table(results))
    sizes = output_sizes(folder)
    print(
        f"\nexecuted notebooks {sizes['ipynb'] / 1e6:.1f} MB, HTML {sizes['html'] / 1e6:.1f} MB "
        f"+ {sizes['assets'] / 1e6:.1f} MB shared assets/ (plotly.js, MathJax), summary.json: {folder}"
    )
    return 0 if all(r.status == "ok" for r in results) else 1
