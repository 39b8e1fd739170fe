"""Build the fused C++ kernels once, at set-up, into a folder of this checkout; importing never compiles.

    python -m mdtf_lite.ssm.cpp_kernel        (``scripts/setup.sh``, i.e. ``make setup``, runs it)

Where: ``$MDTF_EXTENSIONS_DIR`` if set; else ``<checkout>/build/mdtf_cpp`` (gitignored) when the package
runs from a source checkout, so every checkout keeps its own build; else ``~/.cache/mdtf_lite``.  A
build is one folder named by a hash of what it was built from (source, compiler flags, torch version):

    <root>/<name>-<key>/<name>.so      the library: registers the operators torch.ops.mdtf_lite.*
    <root>/<name>-<key>/build.json     what it was built from, checked again before it is loaded

Atomic: the compiler runs in a private folder ``<root>/.<name>-<key>.tmp-<pid>`` that is renamed into
place only when the library is complete (and loads).  A build killed at any point leaves no half
library and no lock that anyone waits on (torch's build lock lives in the private folder); the next
build removes the leftovers of dead builds.  Two builds at once both finish; the second rename loses
and its copy is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import torch

SOURCE = Path(__file__).resolve().parents[1] / "csrc" / "scan_cpu.cpp"
MANIFEST = "build.json"
#: the checkout holding this package when it runs from a source tree (None when installed elsewhere)
_CHECKOUT = Path(__file__).resolve().parents[3]


def compiler_flags() -> list[str]:
    flags = [
        "-O3",
        "-fopenmp",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-fassociative-math",
        "-fno-signed-zeros",
    ]  # reassociation: SIMD sums over channels
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]  # the SIMD width every x86-64 machine of the last decade has
    return flags


def library_name() -> str:
    return "mdtf_scan_cpu_" + ("avx2" if "-mavx2" in compiler_flags() else "generic")


def expected_manifest() -> dict:
    """What a build for the current source, flags and torch must record in its ``build.json``."""
    return {
        "source_sha256": hashlib.sha256(SOURCE.read_bytes()).hexdigest(),
        "flags": compiler_flags(),
        "torch": torch.__version__,
    }


def extensions_root() -> Path:
    if os.environ.get("MDTF_EXTENSIONS_DIR"):
        return Path(os.environ["MDTF_EXTENSIONS_DIR"]).expanduser()
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "mdtf_lite").is_dir():
        return _CHECKOUT / "build" / "mdtf_cpp"
    return Path.home() / ".cache" / "mdtf_lite"


def library_dir() -> Path:
    """The folder of the build for the current source, flags and torch version (it may not exist)."""
    m = expected_manifest()
    key = hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()[:16]
    return extensions_root() / f"{library_name()}-{key}"


def library_file() -> Path:
    return library_dir() / f"{library_name()}.so"


def build_problem() -> str | None:
    """None when a complete, current build exists; else one phrase saying what is wrong with it."""
    folder, lib = library_dir(), library_file()
    if not (folder / MANIFEST).is_file() or not lib.is_file():
        others = [p.name for p in extensions_root().glob(f"{library_name()}-*") if p != folder]
        if others:
            return (
                f"stale: {extensions_root()} holds builds of another source or torch version "
                f"({', '.join(others)}), none of the current one"
            )
        return f"not built (no {folder})"
    try:
        recorded = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return f"broken: {folder / MANIFEST} is unreadable ({exc})"
    if recorded != expected_manifest():
        return f"stale: {folder / MANIFEST} records another source, flags or torch version"
    return None


def _remove_leftovers(root: Path) -> None:
    """Delete the private folders of builds whose process is gone (killed mid-build)."""
    for tmp in root.glob(".*.tmp-*"):
        try:
            os.kill(int(tmp.name.rsplit("-", 1)[1]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:  # a live process of another user
            pass


def build(verbose: bool = False) -> Path:
    """Compile the library unless a current build exists; returns its path.  Raises on compiler errors."""
    folder, lib = library_dir(), library_file()
    if build_problem() is None:
        return lib
    from torch.utils.cpp_extension import load

    root = extensions_root()
    root.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(root)
    tmp = root / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    source = tmp / SOURCE.name
    shutil.copyfile(SOURCE, source)
    # -fopenmp: at::parallel_for is inline OpenMP; the library links libgomp.so.1, which resolves to the copy
    # torch has already loaded (one thread pool, sized by torch.set_num_threads).  is_python_module=False:
    # a plain shared library, loaded (here, as a check) with torch.ops.load_library.
    load(
        name=library_name(),
        sources=[str(source)],
        extra_cflags=compiler_flags(),
        extra_ldflags=["-fopenmp"],
        build_directory=str(tmp),
        verbose=verbose,
        is_python_module=False,
    )
    (tmp / MANIFEST).write_text(json.dumps(expected_manifest(), indent=1) + "\n")
    try:
        os.rename(tmp, folder)  # atomic: the folder appears complete or not at all
    except OSError:
        if build_problem() is not None:  # not "another build finished first"
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return lib


def main() -> int:
    if build_problem() is None:
        print(f"cpp scan: {library_file()} is current")
        return 0
    try:
        lib = build(verbose=True)
    except Exception as exc:  # compiler or headers missing: say so, exit non-zero (set-up reports it)
        print(f"cpp scan: the build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"cpp scan: built {lib}")
    return 0
