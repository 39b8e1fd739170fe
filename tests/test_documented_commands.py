"""Every command shown in the README's bash blocks and in the notebooks' markdown is checked.

Commands are extracted from the files (``bash`` fenced blocks of README.md; indented or back-quoted
``python -m`` / ``papermill`` / ``make`` / ``bash`` / ``torchrun`` commands of every notebook's markdown).
Long ones are not run: ``make X`` must be a Makefile target; ``python -m M sub ...`` must be an importable
module whose ``--help`` (of the subcommand) works; ``--config F k=v`` must load with those overrides;
``papermill NB out -p name ...`` must name a notebook that declares those parameters; ``bash script`` must
exist.  A command of any other shape fails the test, so a new kind of command needs a rule here.

The cheap ones are also executed (``RUN``: a few seconds each, in a temp working directory, with
``MDTF_RUN_DIR`` in that directory and the data directory only read); every other command is listed in
``NOT_RUN`` with the reason, and a command in neither list fails, so a new one has to be classified.
"""

import csv
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTS = (
    "python -m",
    ".venv/bin/python -m",
    "papermill ",
    "make ",
    "bash ",
    "torchrun ",
    "python3 scripts/",
    "python scripts/",
)


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].split(" # ")[0].strip()
            if line:
                out.append(("README.md", line))
    return out


def _notebook_commands():
    out = []
    for nb_path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            spans = re.findall(r"`([^`\n]+)`", cell.source)
            spans += [m.strip() for m in re.findall(r"^ {4}(\S.*)$", cell.source, flags=re.M)]
            for span in spans:
                span = span.split("  #")[0].split(" # ")[0].split(" | ")[0].strip()  # "a | b": alternatives
                if span.startswith(STARTS) and "…" not in span:  # "convert-…" names a family, not a command
                    out.append((nb_path.relative_to(ROOT).as_posix(), span))
    return out


COMMANDS = sorted(set(_readme_commands() + _notebook_commands()))
_HELP_SEEN: dict = {}


def _make_targets():
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def _help(module, subs=()):
    """``python -m module *subs --help`` (cached)."""
    key = (module, tuple(subs))
    if key not in _HELP_SEEN:
        args = [sys.executable, "-m", module, *subs, "--help"]
        _HELP_SEEN[key] = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    return _HELP_SEEN[key]


def _is_word(w):
    """A subcommand-like word: not an option, override, path or file."""
    return not w.startswith("-") and "=" not in w and "/" not in w and not w.endswith((".ipynb", ".html", ".json"))


def check_command(where, cmd):
    words = shlex.split(cmd.replace("\\", ""))
    env = []
    while words and re.match(r"^[A-Z_]+=", words[0]):
        env.append(words.pop(0))
    head = words[0]
    if head == "make":
        missing = [w for w in words[1:] if "=" not in w and w not in _make_targets()]
        assert not missing, f"{where}: `{cmd}`: Makefile has no target {missing}"
        return
    if head == "bash":
        assert (ROOT / words[1]).is_file(), f"{where}: `{cmd}`: {words[1]} does not exist"
        return
    if head in ("python3", "python") and words[1].startswith("scripts/"):
        assert (ROOT / words[1]).is_file(), f"{where}: `{cmd}`: {words[1]} does not exist"
        return
    if head == "papermill":
        if words[1] == "--help-notebook":
            nb = ROOT / words[2]
            assert nb.is_file(), f"{where}: `{cmd}`: no notebook {words[2]}"
            return
        from mdtf_lite.course.series import declared_parameters

        nb = ROOT / words[1]
        assert nb.is_file(), f"{where}: `{cmd}`: no notebook {words[1]}"
        declared = declared_parameters(nb)
        names = [words[i + 1] for i, w in enumerate(words) if w == "-p"]
        names += [
            ln.split(":")[0].strip() for i, w in enumerate(words) if w == "-y" for ln in words[i + 1].splitlines()
        ]
        unknown = [n for n in names if n not in declared]
        assert not unknown, f"{where}: `{cmd}`: {words[1]} declares no parameter {unknown}"
        return
    if head == "torchrun":
        words = ["python"] + words[words.index("-m") :]
        head = "python"
    if head.endswith("python") or head.endswith("python3"):
        assert words[1] == "-m", f"{where}: `{cmd}`: only `python -m module` commands are checked"
        module, rest = words[2], words[3:]
        # the front door takes a command and that command's subcommand (python -m mdtf_lite series run ...);
        # a package main one subcommand (python -m data_tools make-default)
        depth = 2 if module == "mdtf_lite" else 1
        subs = []
        for w in rest[:depth]:
            if not _is_word(w):
                break
            subs.append(w)
        if module == "mdtf_lite":
            from mdtf_lite.cli import SUBCOMMANDS

            assert subs and subs[0] in SUBCOMMANDS, f"{where}: `{cmd}`: `python -m mdtf_lite` has no command {subs[:1]}"
        res = _help(module, subs)
        while res.returncode != 0 and len(subs) > (module == "mdtf_lite"):  # a positional argument, not a subcommand
            subs = subs[:-1]
            res = _help(module, subs)
        shown = " ".join([module, *subs])
        assert res.returncode == 0, f"{where}: `{cmd}`: `python -m {shown} --help` failed: {res.stderr[-500:]}"
        if "--config" in rest:
            from mdtf_lite.train import load_config

            i = rest.index("--config")
            overrides = [w for w in rest[i + 2 :] if "=" in w and not w.startswith("-")]
            load_config(ROOT / rest[i + 1], overrides)
        for flag in (w.split("=")[0] for w in rest if w.startswith("--")):
            assert flag in res.stdout or flag in _help(module, subs[:1]).stdout, (
                f"{where}: `{cmd}`: {shown} has no option {flag}"
            )
        return
    pytest.fail(f"{where}: `{cmd}`: no rule checks this kind of command; add one to {Path(__file__).name}")


def test_commands_were_found():
    assert len(COMMANDS) > 20 and any(w == "README.md" for w, _ in COMMANDS)


@pytest.mark.parametrize("where, cmd", COMMANDS, ids=[f"{w}:{c[:60]}" for w, c in COMMANDS])
@pytest.mark.slow
def test_documented_command(where, cmd):
    check_command(where, cmd)


@pytest.mark.parametrize(
    "cmd, words",
    [
        ("papermill notebooks/06_training.ipynb out.ipynb -k python3 -p n_epochs 5", "declares no parameter"),
        ("make lunch", "no target"),
        ("python -m mdtf_lite.train --config configs/default.yaml epoch=8", "epoch"),
        ("python -m mdtf_lite series run --parms ci", "no option"),
        ("python -m mdtf_lite serie list", "no command"),
        ("curl https://example.org | sh", "no rule"),
    ],
)
def test_the_rules_catch_wrong_commands(cmd, words):
    with pytest.raises((AssertionError, pytest.fail.Exception, Exception), match=words):
        check_command("self-test", cmd)


# ------------------------------------------------------------------------------- executed commands
#: commands that are too long (or need hardware / files this machine lacks) to execute in a test: (regex, reason).
NOT_RUN = [
    (r"^make (run|test|ablation)$", "too long: runs the whole notebook series / the test suite / the ablation"),
    (r"^make lab$", "too long: a JupyterLab server that runs until stopped (tests/test_lab.py starts one headless)"),
    (
        r"mdtf_lite series run --params full",
        "too long: its preflight alone measures a training step (> 60 s on "
        "2 cores), then the full recipe takes days on a CPU",
    ),
    (r"mdtf_lite series run", "too long: executes notebooks of the series (minutes)"),
    (r"mdtf_lite(\.train| train| ablation)", "too long: trains a model (the configs and overrides are loaded above)"),
    (r"^torchrun ", "too long and needs 4 GPUs: distributed training"),
    (
        r"^papermill notebooks/\S+ out\.ipynb",
        "too long: executes the training notebook (its parameters are checked above)",
    ),
    (r"mdtf_lite[. ]bench (scan|model|train)$", "too long: a benchmark of minutes (its --help is checked above)"),
    (r"mdtf_lite(\.bench\.scaling|[. ]bench scaling)", "too long: times T up to 2048 (its --help is checked above)"),
    (r"data_tools make-default$", "too long: builds the whole default dataset (the test suite's data step does)"),
    (r"data_tools convert-vp3d$", "needs the VideoPose3D originals, which are not shipped"),
]
#: commands executed: (regex, check of the finished process and its temp working directory).
RUN = {}


def _runs(pattern):
    def register(check):
        RUN[pattern] = check
        return check

    return register


@_runs(r"mdtf_lite series list$")
def _check_series_list(res, cwd):
    sets = sorted(p.stem for p in (ROOT / "params").glob("*.yaml"))
    assert "parameter sets:" in res.stdout and all(s in res.stdout for s in sets), res.stdout[-800:]
    assert "06_training.ipynb" in res.stdout


@_runs(r"^papermill --help-notebook ")
def _check_help_notebook(res, cwd):
    from mdtf_lite.course.series import declared_parameters

    nb = ROOT / re.search(r"--help-notebook (\S+)", res.args_text).group(1)
    missing = [n for n in declared_parameters(nb) if f"{n}:" not in res.stdout]
    assert not missing, f"papermill --help-notebook does not list {missing}:\n{res.stdout[-800:]}"


@_runs(r"mdtf_lite[. ]bench data$")
def _check_bench_data(res, cwd):
    """The medians table: knee, elbow and foot sliding, each a plausible number on both sides, gap = difference."""
    rows = {
        m.group(1): [float(v) for v in m.groups()[1:]]
        for m in re.finditer(
            r"^\| (knee angle|elbow angle|foot sliding at contact) \(\S+\) \| (\S+) \| (\S+) \| (\S+) \|",
            res.stdout,
            flags=re.M,
        )
    }
    assert set(rows) == {"knee angle", "elbow angle", "foot sliding at contact"}, (
        f"the realism benchmark printed no medians table:\n{res.stdout[-1500:]}"
    )
    for name, (default, cmu, gap) in rows.items():
        high = 180.0 if name.endswith("angle") else 5.0  # degrees; m/s
        assert 0 <= default <= high and 0 <= cmu <= high, f"{name}: default {default}, CMU {cmu}"
        assert abs(gap - (default - cmu)) <= 0.011, f"{name}: gap {gap} is not {default} - {cmu}"


@_runs(r"mdtf_lite exercises grade ")
def _check_grade(res, cwd):
    out = cwd / re.search(r"--out (\S+)", res.args_text).group(1)
    assert out.is_file(), f"grade wrote no {out.name}; stdout:\n{res.stdout[-800:]}"
    rows = list(csv.DictReader(out.open()))
    graded = {r["notebook"] for r in rows}
    assert graded == {p.name for p in res.inputs}, f"{out.name} grades {graded}, expected {res.inputs}"
    assert all(r["status"] for r in rows)


@_runs(r"^bash scripts/gpu_check\.sh$")
def _check_gpu_check(res, cwd):
    assert res.returncode == 3 and "no NVIDIA GPU" in res.stderr, (res.returncode, res.stderr[-500:])


def _classify(cmd):
    """("run", check) or ("not run", reason) or (None, None) for a command no list names."""
    for pattern, check in RUN.items():
        if re.search(pattern, cmd):
            return "run", check
    for pattern, reason in NOT_RUN:
        if re.search(pattern, cmd):
            return "not run", reason
    return None, None


def _exercise_copies(pattern, where, cwd):
    """Copy one exercise notebook (the one documenting the command, else e01) to match ``pattern`` in cwd."""
    src = (
        ROOT / where
        if where.startswith("notebooks/exercises/")
        else sorted((ROOT / "notebooks" / "exercises").glob("e01*.ipynb"))[0]
    )
    folder = cwd / Path(pattern).parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, folder / src.name)
    return [folder / src.name]


def run_command(where, cmd, cwd, timeout=60):
    """Execute ``cmd`` as documented (no shell) in ``cwd``; globs are expanded there, project paths made absolute."""
    words = shlex.split(cmd.replace("\\", ""))
    bin_dir = Path(sys.executable).parent
    inputs = []
    if re.search(r"mdtf_lite exercises grade ", cmd):
        for w in words:
            if w.endswith(".ipynb") and "*" in w:
                inputs += _exercise_copies(w, where, cwd)
    args = []
    for i, w in enumerate(words):
        if i == 0 and w.endswith(("python", "python3")):
            w = sys.executable
        elif i == 0 and w == "papermill":
            w = str(bin_dir / "papermill")
        elif "*" in w:
            args += sorted(glob.glob(w, root_dir=cwd)) or [w]
            continue
        elif (ROOT / w).exists() and "/" in w:
            w = str(ROOT / w)
        args.append(w)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        MDTF_RUN_DIR=str(cwd / "runs"),
        MDTF_DATA_DIR=os.environ.get("MDTF_DATA_DIR", str(ROOT / "data")),
    )
    try:
        res = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{where}: `{cmd}` did not finish in {timeout} s: move it to NOT_RUN with the reason")
    res.args_text, res.inputs = cmd, inputs
    return res


_RAN: dict = {}


def test_every_command_is_run_or_listed_as_not_run():
    unclassified = [f"{w}: `{c}`" for w, c in COMMANDS if _classify(c)[0] is None]
    assert not unclassified, "add these to RUN or NOT_RUN (with the reason):\n" + "\n".join(unclassified)
    assert sum(_classify(c)[0] == "run" for _, c in COMMANDS) >= 4


@pytest.mark.parametrize(
    "where, cmd",
    [(w, c) for w, c in COMMANDS if _classify(c)[0] == "run"],
    ids=[f"{w}:{c[:60]}" for w, c in COMMANDS if _classify(c)[0] == "run"],
)
@pytest.mark.slow
def test_cheap_command_runs(where, cmd, tmp_path):
    _, check = _classify(cmd)
    if check is _check_gpu_check and shutil.which("nvidia-smi"):
        pytest.skip("not run: an NVIDIA GPU is visible, so scripts/gpu_check.sh would build a CUDA venv (~10 min)")
    if check is _check_bench_data and not (Path(os.environ.get("MDTF_DATA_DIR", ROOT / "data")) / "default").is_dir():
        pytest.skip("not run: no default dataset (make data builds it)")
    if cmd in _RAN:  # the same command documented in several notebooks runs once
        pytest.skip(f"not run again: executed for {_RAN[cmd]}")
    _RAN[cmd] = where
    res = run_command(where, cmd, tmp_path)
    if check is not _check_gpu_check:
        assert res.returncode == 0, f"{where}: `{cmd}` exited {res.returncode}:\n{res.stderr[-1500:]}"
    check(res, tmp_path)


@pytest.mark.parametrize("cmd", ["python -m mdtf_lite series list --bogus", "bash scripts/no_such_script.sh"])
def test_a_failing_command_is_caught(cmd, tmp_path):
    res = run_command("self-test", cmd, tmp_path)
    assert res.returncode != 0
