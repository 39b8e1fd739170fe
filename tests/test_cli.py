"""The front door ``python -m mdtf_lite <command>`` (= ``mdtf-lite``): its help, every subcommand's help, errors."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mdtf_lite.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def test_top_level_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    missing = [name for name in SUBCOMMANDS if f"\n  {name} " not in shown]
    assert not missing, f"--help does not list {missing}:\n{shown}"


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_help_is_its_own_parser(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "command's own arguments" not in out, f"{name} --help showed the top-level help"
    assert out.lower().startswith("usage:") or f"mdtf_lite.{name} " in out, out[:300]  # bench prints its docstring


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_points_at_a_main(name):
    module, function, help_line = SUBCOMMANDS[name]
    assert callable(getattr(importlib.import_module(module), function)) and help_line


def test_unknown_subcommand_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["trian"])
    assert info.value.code == 2 and "trian" in capsys.readouterr().err


def test_a_subcommand_usage_error_is_its_exit_code(capsys):
    assert main(["series", "run", "--parms", "ci"]) == 2
    assert "--parms" in capsys.readouterr().err


def test_a_subcommand_exit_message_is_shown(monkeypatch, capsys):
    def fails(argv):
        sys.exit("no data/default: run make data")

    monkeypatch.setattr(importlib.import_module("mdtf_lite.course.preflight"), "main", fails)
    assert main(["preflight"]) == 1
    assert "no data/default: run make data" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", [[sys.executable, "-m", "mdtf_lite"], ["mdtf-lite"]], ids=["python -m", "script"])
def test_the_module_and_the_installed_script_run(cmd):
    if cmd == ["mdtf-lite"]:
        script = shutil.which("mdtf-lite") or shutil.which("mdtf-lite", path=str(Path(sys.executable).parent))
        if script is None:
            pytest.skip("the console script is not installed (pip install -e . installs it)")
        cmd = [script]
    done = subprocess.run(cmd + ["series", "list"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and "06_training.ipynb" in done.stdout, done.stderr[-500:]


@pytest.mark.parametrize("alias", ["series.py", "exercises.py", "lab.py", "preflight.py", "viz/browser.py"])
def test_no_alias_modules(alias):
    """One front door: the old ``python -m mdtf_lite.<x>`` aliases of ``mdtf_lite/course/`` are gone.

    (A file check, not an import: a shared editable install can resolve a missing submodule from another checkout.)
    """
    assert not (ROOT / "mdtf_lite" / alias).exists()


def test_course_modules_run_only_through_the_front_door():
    """The course tools are subcommands (``python -m mdtf_lite series ...``), not ``python -m`` modules of their own."""
    scripts = [
        p.relative_to(ROOT).as_posix()
        for p in [ROOT / "mdtf_lite" / "cli.py", *(ROOT / "mdtf_lite" / "course").rglob("*.py")]
        if '__name__ == "__main__"' in p.read_text()
    ]
    assert not scripts, f"run these through `python -m mdtf_lite <command>` only: {scripts}"
