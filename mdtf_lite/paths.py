"""Where things live on disk: one function per location, each overridable by an environment variable.

Notebooks, the CLI and the tests all resolve paths here, so a notebook executed by papermill from
``runs/<name>/``, by nbval from ``notebooks/`` or by hand in JupyterLab reads the same data.

    MDTF_HOME      project root (default: the checkout this package was installed from, else the cwd)
    MDTF_DATA_DIR  datasets (default: <home>/data)
    MDTF_RUNS_DIR  executed notebooks, checkpoints, figures (default: <home>/runs)
    MDTF_RUN_DIR   the current run's folder, set by ``mdtf_lite.course.series`` (default: <runs>/interactive)
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The mdtf-lite checkout (the folder holding ``pyproject.toml`` and ``notebooks/``)."""
    if os.environ.get("MDTF_HOME"):
        return Path(os.environ["MDTF_HOME"]).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "notebooks").is_dir():
        return here  # editable install from a checkout: the usual case
    return Path.cwd().resolve()


def data_dir() -> Path:
    """Root folder of all datasets (real Human3.6M files go in ``data/h36m``, see the README)."""
    return Path(os.environ.get("MDTF_DATA_DIR", project_root() / "data")).expanduser().resolve()


def runs_dir() -> Path:
    return Path(os.environ.get("MDTF_RUNS_DIR", project_root() / "runs")).expanduser().resolve()


def run_dir() -> Path:
    """The folder of the current run (created on demand): checkpoints and figures go here."""
    path = Path(os.environ.get("MDTF_RUN_DIR", runs_dir() / "interactive")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def params_dir() -> Path:
    return project_root() / "params"
