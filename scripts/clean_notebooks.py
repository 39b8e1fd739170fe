#!/usr/bin/env python3
"""Make notebooks commit-ready: no outputs, no execution counts, kernelspec python3, no widget state.

    python scripts/clean_notebooks.py                 # every notebook under notebooks/
    python scripts/clean_notebooks.py --check         # exit 1 and list offenders, change nothing
    python scripts/clean_notebooks.py path.ipynb ...  # just these

The rules are the ones tests/test_notebook_hygiene.py enforces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
KEEP_METADATA = {"kernelspec", "language_info"}


def clean(nb: dict) -> dict:
    nb["metadata"] = {k: v for k, v in nb.get("metadata", {}).items() if k in KEEP_METADATA}
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    nb["metadata"].setdefault("language_info", {"name": "python"})
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        cell["metadata"] = {k: v for k, v in meta.items() if k in ("tags",)}
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [Path(a) for a in argv if a != "--check"] or sorted(Path("notebooks").rglob("*.ipynb"))
    files = [f for f in files if ".ipynb_checkpoints" not in f.parts]
    dirty = []
    for path in files:
        text = path.read_text()
        cleaned = json.dumps(clean(json.loads(text)), indent=1, ensure_ascii=False) + "\n"
        if cleaned != text:
            dirty.append(path)
            if not check:
                path.write_text(cleaned)
    for path in dirty:
        print(("needs cleaning: " if check else "cleaned: ") + str(path))
    return 1 if (check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
