"""Record a notebook's headline numbers so the series runner can put them in ``summary.json``.

Notebooks call ``record("bam_test_accuracy", acc, headline=True)``; the runner
(``mdtf_lite.course.series``) points ``MDTF_RECORD_FILE`` at a JSON file per notebook and reads it back
after execution.  Nothing is parsed out of cell outputs.  Outside the runner the values are only
printed, so the same notebook works in JupyterLab.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

RECORD_ENV = "MDTF_RECORD_FILE"


def _plain(value):
    """Convert numpy/torch scalars to Python floats/ints so the JSON is portable."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"refusing to record a non-finite value ({value}): fix the computation first")
        return value
    raise TypeError(f"record() takes a number or string, got {type(value).__name__}")


def record(name: str, value, unit: str | None = None, headline: bool = False) -> None:
    """Store ``name = value`` for this notebook (the last value wins).

    Args:
        name: a short identifier, e.g. ``"p1_mm_default_test"``.
        value: a Python/numpy/torch scalar or a string.
        unit: optional unit shown in the summary (``"mm"``, ``"%"``, ``"s"``).
        headline: mark the one number the summary table shows for this notebook.
    """
    value = _plain(value)
    print(f"[record] {name} = {value}{' ' + unit if unit else ''}")
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    file = Path(path)
    data = json.loads(file.read_text()) if file.is_file() else {"metrics": {}, "headline": None}
    data["metrics"][name] = {"value": value, "unit": unit}
    if headline:
        data["headline"] = name
    tmp = file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(file)  # atomic: a crash mid-write never leaves half a JSON behind


def read_records(path: Path) -> dict:
    """Read a record file written by :func:`record`; missing file -> empty record."""
    path = Path(path)
    if not path.is_file():
        return {"metrics": {}, "headline": None}
    return json.loads(path.read_text())
