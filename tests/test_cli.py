"""The ``mdtf-lite`` console command: its help and every subcommand's help work (in-process, no training)."""

import importlib
import shutil
import subprocess
import sys

import pytest

from mdtf_lite.cli import SUBCOMMANDS, main


def test_top_level_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in SUBCOMMANDS)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_help_runs(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage" in out.lower() or name in out.lower(), out[:300]


def test_unknown_subcommand_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["trian"])
    assert info.value.code == 2 and "trian" in capsys.readouterr().err


def test_the_installed_script_or_the_module_form_runs():
    cmd = [shutil.which("mdtf-lite")] if shutil.which("mdtf-lite") else [sys.executable, "-m", "mdtf_lite.cli"]
    done = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "train" in done.stdout, done.stderr[-500:]


#: the documented ``python -m`` forms of modules that moved to ``mdtf_lite/course/`` -> their new home
MOVED_COMMANDS = {"mdtf_lite.series": "mdtf_lite.course.series", "mdtf_lite.exercises": "mdtf_lite.course.exercises",
                  "mdtf_lite.lab": "mdtf_lite.course.lab", "mdtf_lite.preflight": "mdtf_lite.course.preflight",
                  "mdtf_lite.viz.browser": "mdtf_lite.course.browser"}


@pytest.mark.parametrize("alias", sorted(MOVED_COMMANDS))
def test_moved_commands_keep_their_python_m_form(alias):
    assert importlib.import_module(alias).main is importlib.import_module(MOVED_COMMANDS[alias]).main
