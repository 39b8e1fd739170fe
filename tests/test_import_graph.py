"""The package's import graph, read with ``ast`` (imports inside functions included): no cycle, and
function-level imports only where they are listed below with their reason."""

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mdtf_lite"

#: (importing module, imported module) pairs allowed inside a function, by reason.
HEAVY_OPTIONAL = {  # importing these at module level would load a heavy or optional dependency
    ("mdtf_lite.ssm", "mdtf_lite.ssm.triton_kernel"),  # triton (compiler; optional)
    ("mdtf_lite.ssm", "mdtf_lite.ssm.mamba_ssm_backend"),  # mamba-ssm (CUDA; optional)
    ("mdtf_lite.ssm.cpu", "mdtf_lite.ssm.cpu_kernels"),  # numba (JIT compile on import; optional)
    ("mdtf_lite.bench.scan", "mdtf_lite.ssm.mamba_ssm_backend"),
    ("mdtf_lite.bench.gpu", "mdtf_lite.ssm.mamba_ssm_backend"),
    # torch: the parent process of the scaling benchmark only spawns workers, each imports torch itself
    ("mdtf_lite.bench.scaling", "mdtf_lite.models.baselines"),
    ("mdtf_lite.bench.scaling", "mdtf_lite.models.blocks"),
    ("mdtf_lite.course.series", "mdtf_lite.course.preflight"),  # torch: only --params full runs the preflight
    ("mdtf_lite.course.series", "mdtf_lite.viz.export"),  # plotly + nbformat: only --export needs them
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=1)
def import_graph() -> tuple[dict, frozenset]:
    """({module: {imported package modules}}, {(module, imported) made inside a function})."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph, inside = {}, set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        in_function = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
            if isinstance(n, (ast.Import, ast.ImportFrom))
        }
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                # a module always has its parent packages loaded: those edges are implicit, not imports
                if target in modules and target != name and not name.startswith(target + "."):
                    edges.add(target)
                    if id(node) in in_function:
                        inside.add((name, target))
        graph[name] = edges
    return graph, frozenset(inside)


def _cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_the_package():
    graph, inside = import_graph()
    assert "mdtf_lite.models.mdtf" in graph["mdtf_lite.models.factory"]
    assert ("mdtf_lite.ssm", "mdtf_lite.ssm.triton_kernel") in inside
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_no_import_cycle_among_the_package_modules():
    graph, _ = import_graph()
    assert _cycles(graph) == [], "import cycles (function-level imports included)"


def test_function_level_imports_are_listed():
    _, inside = import_graph()
    unlisted = sorted(inside - HEAVY_OPTIONAL)
    assert unlisted == [], (
        "imports inside functions that avoid no heavy optional dependency: move them to the "
        "top of the module (or list them with their reason)"
    )


#: the paper code (the model, its data and training) -- the other two products, the course tooling
#: (``course``) and the figures (``viz``), and the benchmarks sit on top of it and are never imported by it.
PAPER_CODE = (
    "mdtf_lite.skeleton",
    "mdtf_lite.bones",
    "mdtf_lite.paths",
    "mdtf_lite._atomic",
    "mdtf_lite.ssm",
    "mdtf_lite.models",
    "mdtf_lite.data",
    "mdtf_lite.eval",
    "mdtf_lite.train",
    "mdtf_lite.lift",
)
ON_TOP = ("mdtf_lite.course", "mdtf_lite.viz", "mdtf_lite.bench")


def test_the_paper_code_imports_neither_course_nor_figures():
    graph, _ = import_graph()
    paper = [m for m in graph if any(m == p or m.startswith(p + ".") for p in PAPER_CODE)]
    assert "mdtf_lite.data.synthetic.default" in paper and "mdtf_lite.models.mdtf" in paper
    upward = sorted((m, t) for m in paper for t in graph[m] if any(t == p or t.startswith(p + ".") for p in ON_TOP))
    assert upward == [], "paper code importing course tooling, figures or benchmarks"
