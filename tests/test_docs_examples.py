"""Docs that the code must not contradict: the module map's names exist, every scan backend the docs name
dispatches (or says clearly why it cannot run here), docstring examples run (doctest, and the lift
walkthrough), and no document cites a file the repository does not have."""

import ast
import doctest
import importlib
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import mdtf_lite.ssm as ssm
from mdtf_lite.ssm.reference import selective_scan_reference

ROOT = Path(__file__).resolve().parents[1]
DEVELOPING = ROOT / "docs" / "DEVELOPING.md"

#: modules whose docstring examples (``>>>``) run as doctests.
DOCTEST_MODULES = ["mdtf_lite.models.factory", "mdtf_lite.models.config", "mdtf_lite.ssm"]


def _module_map_rows():
    rows = []
    for line in DEVELOPING.read_text().splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if line.startswith("| `mdtf_lite/") and len(cells) >= 3:
            path = re.match(r"\| `(mdtf_lite/[\w/]*?)(\.py)?/?`", line).group(1)
            rows.append((path.replace("/", "."), cells[-1]))
    return rows


def _names_in(module_name: str) -> set:
    """Names a module (or, for a package, any of its files) defines or imports at top level, read with ``ast``."""
    base = ROOT / Path(*module_name.split("."))
    files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    names = set()
    for path in files:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    names |= {t.id for t in ast.walk(target) if isinstance(t, ast.Name)}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_every_path_in_the_module_map_exists():
    rows = _module_map_rows()
    missing = [
        m
        for m, _ in rows
        if not (ROOT / Path(*m.split("."))).with_suffix(".py").is_file() and not (ROOT / Path(*m.split("."))).is_dir()
    ]
    assert missing == [], f"docs/DEVELOPING.md maps modules the package does not have: {missing}"


def test_every_name_in_the_module_map_exists():
    rows = _module_map_rows()
    assert len(rows) >= 10, "the module map table was not found in docs/DEVELOPING.md"
    missing = []
    for module_name, api in rows:
        if module_name.endswith("checks"):
            continue  # its API column names no functions
        names = _names_in(module_name)
        for call in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)\(", api) + re.findall(r"[,(] ?([a-z_][a-z0-9_]+)\(", api):
            if call not in names and call not in ("model", "python", "len"):
                missing.append(f"{module_name}.{call}")
    assert missing == [], f"docs/DEVELOPING.md names functions that do not exist: {missing}"


def test_every_backend_the_docs_name_dispatches():
    documented = set(re.findall(r"^\* ``(\w+)``", ssm.__doc__, flags=re.M)) - {"auto"}
    documented |= set(re.findall(r"`(reference|cpp|cpu|torch|triton|mamba_ssm)`", DEVELOPING.read_text()))
    assert {"reference", "torch", "cpu", "cpp"} <= documented
    assert documented <= set(ssm.SCAN_CORES) and set(ssm.SCAN_CORES) == set(ssm.BACKENDS) - {"auto"}
    g = torch.Generator().manual_seed(0)
    b, d, n, length = 2, 4, 3, 7
    u, delta, z = (torch.randn(b, d, length, generator=g) for _ in range(3))
    A = -torch.rand(d, n, generator=g) - 0.5
    B, C = torch.randn(b, n, length, generator=g), torch.randn(b, n, length, generator=g)
    D, bias = torch.randn(d, generator=g), torch.randn(d, generator=g)
    kwargs = dict(D=D, z=z, delta_bias=bias, delta_softplus=True)
    want = selective_scan_reference(u, delta, A, B, C, **kwargs)
    usable = ssm.available_backends("cpu")
    for name in sorted(documented):
        if name in usable:
            got = ssm.selective_scan(u, delta, A, B, C, backend=name, **kwargs)
            assert torch.allclose(got, want, atol=1e-4), name
        else:
            with pytest.raises(RuntimeError, match="unavailable|needs CUDA|CPU tensors"):
                ssm.selective_scan(u, delta, A, B, C, backend=name, **kwargs)


@pytest.mark.parametrize("module_name", DOCTEST_MODULES)
def test_docstring_examples_run(module_name):
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{module_name} has no doctest example"
    assert result.failed == 0


@pytest.mark.slow
def test_the_lift_walkthrough_runs(tmp_path, monkeypatch):
    """The example at the top of ``mdtf_lite.lift``, with an untrained model in place of the trained one."""
    import mdtf_lite.lift as lift
    from mdtf_lite.models import build_model
    from mdtf_lite.train import TrainConfig

    lines = lift.__doc__.split("This module bridges the two:")[1].split("\n\n")[1]
    code = textwrap.dedent(lines)
    assert "lift_sequence" in code and "export_json" in code
    model = build_model({"preset": "cpu", "ablation": "no_bone", "n_frames": 9}).eval()
    cfg = TrainConfig(name="doc", model={"preset": "cpu", "ablation": "no_bone", "n_frames": 9})
    rng = np.random.default_rng(0)
    xy = rng.uniform(300, 700, size=(12, 17, 2))
    (tmp_path / "video.json").write_text(__import__("json").dumps(lift.coco_document(lift.coco_from_h36m(xy))))
    monkeypatch.chdir(tmp_path)
    namespace = {name: getattr(lift, name) for name in lift.__all__}
    namespace.update(
        model_window=lift.model_window, ensure_checkpoint=lambda name: name, load_checkpoint=lambda path: (model, cfg)
    )
    exec(compile(code, "mdtf_lite.lift docstring", "exec"), namespace)
    assert namespace["poses"].shape == (12, 17, 3)
    assert (tmp_path / "video_3d.json").is_file() and (tmp_path / "video_3d.npz").is_file()


def test_documents_cite_only_files_the_repository_has():
    present = {p.name for p in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("notebooks/**/*.md")]}
    cited = []
    for path in [
        *ROOT.glob("notebooks/*.ipynb"),
        *ROOT.glob("docs/*.md"),
        ROOT / "README.md",
        *(ROOT / "mdtf_lite").rglob("*.py"),
    ]:
        for name in re.findall(r"\b([A-Z][A-Z_]+\.md)\b", path.read_text(encoding="utf-8")):
            if name not in present:
                cited.append(f"{path.relative_to(ROOT)}: {name}")
    assert cited == [], f"documents cite files that are not in the repository: {cited}"
