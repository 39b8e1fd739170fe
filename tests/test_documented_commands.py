"""Every command shown in the README's bash blocks and in the notebooks' markdown is checked.

Commands are extracted from the files (``bash`` fenced blocks of README.md; indented or back-quoted
``python -m`` / ``papermill`` / ``make`` / ``bash`` / ``torchrun`` commands of every notebook's markdown).
Long ones are not run: ``make X`` must be a Makefile target; ``python -m M sub ...`` must be an importable
module whose ``--help`` (of the subcommand) works; ``--config F k=v`` must load with those overrides;
``papermill NB out -p name ...`` must name a notebook that declares those parameters; ``bash script`` must
exist.  A command of any other shape fails the test, so a new kind of command needs a rule here.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTS = ("python -m", ".venv/bin/python -m", "papermill ", "make ", "bash ", "torchrun ", "python3 scripts/",
          "python scripts/")


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


def _help(module, sub):
    key = (module, sub)
    if key not in _HELP_SEEN:
        args = [sys.executable, "-m", module] + ([sub] if sub else []) + ["--help"]
        _HELP_SEEN[key] = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    return _HELP_SEEN[key]


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
        names += [ln.split(":")[0].strip() for i, w in enumerate(words) if w == "-y" for ln in words[i + 1].splitlines()]
        unknown = [n for n in names if n not in declared]
        assert not unknown, f"{where}: `{cmd}`: {words[1]} declares no parameter {unknown}"
        return
    if head == "torchrun":
        words = ["python"] + words[words.index("-m"):]
        head = "python"
    if head.endswith("python") or head.endswith("python3"):
        assert words[1] == "-m", f"{where}: `{cmd}`: only `python -m module` commands are checked"
        module, rest = words[2], words[3:]
        sub = rest[0] if rest and not rest[0].startswith("-") and "=" not in rest[0] and "/" not in rest[0] \
            and not rest[0].endswith((".ipynb", ".html")) else None
        res = _help(module, sub)
        if res.returncode != 0 and sub:  # positional argument, not a subcommand
            res = _help(module, None)
        assert res.returncode == 0, f"{where}: `{cmd}`: `python -m {module} --help` failed: {res.stderr[-500:]}"
        if "--config" in rest:
            from mdtf_lite.train import load_config

            i = rest.index("--config")
            overrides = [w for w in rest[i + 2:] if "=" in w and not w.startswith("-")]
            load_config(ROOT / rest[i + 1], overrides)
        for flag in (w.split("=")[0] for w in rest if w.startswith("--")):
            assert flag in res.stdout or flag in _help(module, None).stdout, \
                f"{where}: `{cmd}`: {module} has no option {flag}"
        return
    pytest.fail(f"{where}: `{cmd}`: no rule checks this kind of command; add one to {Path(__file__).name}")


def test_commands_were_found():
    assert len(COMMANDS) > 20 and any(w == "README.md" for w, _ in COMMANDS)


@pytest.mark.parametrize("where, cmd", COMMANDS, ids=[f"{w}:{c[:60]}" for w, c in COMMANDS])
def test_documented_command(where, cmd):
    check_command(where, cmd)


@pytest.mark.parametrize("cmd, words", [
    ("papermill notebooks/06_training.ipynb out.ipynb -k python3 -p n_epochs 5", "declares no parameter"),
    ("make lunch", "no target"),
    ("python -m mdtf_lite.train --config configs/default.yaml epoch=8", "epoch"),
    ("python -m mdtf_lite.series run --parms ci", "no option"),
    ("curl https://example.org | sh", "no rule"),
])
def test_the_rules_catch_wrong_commands(cmd, words):
    with pytest.raises((AssertionError, pytest.fail.Exception, Exception), match=words):
        check_command("self-test", cmd)
