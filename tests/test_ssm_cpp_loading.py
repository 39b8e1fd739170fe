"""Loading the fused C++ kernels never compiles and never waits on a lock: a current build (even one
with a leftover lock file) loads in seconds; a missing or stale build falls back to the numba scan with
one warning saying how to build; a build killed at any point leaves nothing that blocks the next process."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mdtf_lite.ssm import cpp_kernel
from mdtf_lite.ssm.cpp_kernel import build

ROOT = Path(__file__).resolve().parents[1]
WARNING = "the fused C++ scan kernels are"
#: a fresh process: pick the CPU backend as `auto` does, run one scan, say which backend ran
SCAN = """
import torch
from mdtf_lite.ssm import resolve_backend, selective_scan_channels_last
g = torch.Generator().manual_seed(0)
S, L, D, N = 2, 5, 8, 4
u, delta, z = (torch.randn(S, L, D, generator=g) for _ in range(3))
y = selective_scan_channels_last(u, delta, -torch.rand(D, N, generator=g) - 0.1, torch.randn(S, L, N, generator=g),
                                 torch.randn(S, L, N, generator=g), torch.ones(D), z, torch.zeros(D))
assert torch.isfinite(y).all()
print("backend", resolve_backend("auto", "cpu"))
"""

needs_build = pytest.mark.skipif(
    not cpp_kernel.available(), reason=f"the C++ kernels are not built here: {cpp_kernel.build_error()}"
)


def _env(ext_dir):
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "MDTF_EXTENSIONS_DIR": str(ext_dir), "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def run_scan(ext_dir, timeout=90):
    """Run SCAN in a new process with ext_dir as the build folder -> (backend, stderr, seconds)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", SCAN], env=_env(ext_dir), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[-1], proc.stderr, time.perf_counter() - start


BUILT = build.library_dir()  # this checkout's build (read before any test points MDTF_EXTENSIONS_DIR elsewhere)


def _copy_current_build(ext_dir):
    """The build of this checkout copied under ext_dir (same folder name, so it is current there too)."""
    return Path(shutil.copytree(BUILT, ext_dir / BUILT.name))


@needs_build
def test_a_current_build_loads_even_with_a_leftover_lock_and_a_dead_build(tmp_path):
    folder = _copy_current_build(tmp_path)
    (folder / "lock").write_text("")  # torch's build lock, left by a killed process
    (tmp_path / f".{folder.name}.tmp-999999999").mkdir()  # the private folder of a dead build
    backend, err, seconds = run_scan(tmp_path)
    assert backend == "cpp" and WARNING not in err
    assert seconds < 60


def test_a_missing_build_falls_back_with_one_line(tmp_path):
    backend, err, _ = run_scan(tmp_path / "empty")
    assert backend in ("cpu", "torch")
    assert err.count(WARNING) == 1, err
    assert "not built" in err and "python -m mdtf_lite.ssm.cpp_kernel" in err and "make setup" in err


@needs_build
def test_build_problem_names_missing_stale_and_current_builds(tmp_path, monkeypatch):
    monkeypatch.setenv("MDTF_EXTENSIONS_DIR", str(tmp_path))
    assert build.build_problem().startswith("not built")
    folder = _copy_current_build(tmp_path)
    assert build.build_problem() is None
    manifest = folder / build.MANIFEST
    recorded = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**recorded, "source_sha256": "0" * 64}))  # built from another source
    assert build.build_problem().startswith("stale")
    manifest.write_text("{")
    assert build.build_problem().startswith("broken")
    folder.rename(tmp_path / f"{build.library_name()}-0000000000000000")  # only another version's build
    assert build.build_problem().startswith("stale")


@needs_build
def test_a_stale_build_is_not_loaded(tmp_path):
    folder = _copy_current_build(tmp_path)
    manifest = folder / build.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "torch": "0.0"}))
    backend, err, _ = run_scan(tmp_path)
    assert backend in ("cpu", "torch") and err.count(WARNING) == 1 and "stale" in err


def _kill_group(proc):
    os.killpg(proc.pid, signal.SIGKILL)  # the build and its compiler children, as a killed session would
    proc.wait()


def _spawn(args, ext):
    """A Python process in its own session (so that its compiler children can be killed with it)."""
    return subprocess.Popen(
        [sys.executable, *args],
        env=_env(ext),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.slow
def test_a_build_or_load_killed_at_any_point_never_blocks_the_next_process(tmp_path):
    ext = tmp_path / "ext"
    for delay in (0.5, 1, 2, 4, 8):
        proc = _spawn(["-m", "mdtf_lite.ssm.cpp_kernel"], ext)
        time.sleep(delay)
        _kill_group(proc)
        backend, err, seconds = run_scan(ext)
        complete = (ext / build.library_dir().name / build.MANIFEST).is_file()
        assert seconds < 60, (delay, seconds)
        if complete:  # the build got far enough: the library is whole and current
            assert backend == "cpp" and WARNING not in err
        else:  # no library yet: the fallback, with its one line
            assert backend in ("cpu", "torch") and err.count(WARNING) == 1, err
    done = subprocess.run(
        [sys.executable, "-m", "mdtf_lite.ssm.cpp_kernel"],
        env=_env(ext),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not list(ext.glob(".*.tmp-*")), "the leftovers of the killed builds are still there"
    for delay in (0.5, 1.5):  # a process killed while loading
        proc = _spawn(["-c", SCAN], ext)
        time.sleep(delay)
        _kill_group(proc)
    backend, err, seconds = run_scan(ext)
    assert backend == "cpp" and WARNING not in err and seconds < 60
