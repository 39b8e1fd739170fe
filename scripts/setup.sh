#!/usr/bin/env bash
# Create .venv (if missing) and install everything the series needs, CPU-first.
#   TORCH_SPEC   which torch to install first (default torch==2.13.0, a CPU build on these machines).
#                GPU users: e.g. TORCH_SPEC="torch==2.5.1" TORCH_INDEX=https://download.pytorch.org/whl/cu124
#   MDTF_CUDA=1  build mamba-ssm's CUDA kernels instead of the CPU-only install.
#   MDTF_SETUP_LOG  where pip's and the builds' output goes (default runs/setup.log); this script prints
#                one line per step and, on a failure, the log's last lines.
# Idempotent: a stamp file records what was installed; nothing is reinstalled unless pyproject.toml,
# this script or TORCH_SPEC changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCH_INDEX="${TORCH_INDEX:-}"
MAMBA_SSM_SPEC="${MAMBA_SSM_SPEC:-mamba-ssm==2.3.2.post1}"
MDTF_CUDA="${MDTF_CUDA:-0}"

# The fused C++ CPU kernels (the "cpp" scan backend): compiled once (about 20 s with gcc) into this checkout's
# build/mdtf_cpp/ (or $MDTF_EXTENSIONS_DIR), and again whenever scan_cpu.cpp or torch changed, also when the
# venv is up to date; importing the package only loads that library, never compiles.  If they cannot be
# built the package falls back to its numba/PyTorch scans with one warning.
build_kernels() {
  if "$VENV/bin/python" -m mdtf_lite.ssm.cpp_kernel >"$VENV/cpp-kernel-build.log" 2>&1; then
    echo "setup: fused C++ scan kernels: $(tail -n 1 "$VENV/cpp-kernel-build.log")"
  else
    echo "setup: WARNING the fused C++ scan kernels did not build (see $VENV/cpp-kernel-build.log);" \
         "training falls back to the slower numba scan"
  fi
}

stamp="$VENV/.mdtf-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16) $TORCH_SPEC cuda=$MDTF_CUDA"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: $VENV is up to date"
  build_kernels
  exit 0
fi

log="${MDTF_SETUP_LOG:-runs/setup.log}"
mkdir -p "$(dirname "$log")"
: > "$log"
echo "setup: installing into $VENV (details in $log)"
# run a step with its output in the log; on failure show where it went wrong
quiet() {
  if ! "$@" >>"$log" 2>&1; then
    echo "setup: FAILED: $* -- last lines of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
}

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $("$PYTHON" --version)"
  quiet "$PYTHON" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
quiet "${pip[@]}" install -q --upgrade pip

# 1. torch first and explicitly: anything installed later that asks for "torch" is then satisfied
#    and never pulls a multi-GB CUDA build onto a CPU machine.
echo "setup: installing $TORCH_SPEC"
if [ -n "$TORCH_INDEX" ]; then
  quiet "${pip[@]}" install -q "$TORCH_SPEC" --index-url "$TORCH_INDEX"
else
  quiet "${pip[@]}" install -q "$TORCH_SPEC"
fi

# 2. the package and its extras (editable, so notebooks import the checkout you are editing).
echo "setup: installing mdtf-lite[all]"
quiet "${pip[@]}" install -q -e ".[all]" setuptools wheel packaging ninja

# 3. mamba-ssm.  Its build script downloads a prebuilt CUDA wheel unless told not to; its dependency
#    list pulls ~1.8 GB of GPU-only wheels.  CPU: skip the CUDA build and every dependency (einops and
#    triton, all that its reference scan imports, come from step 2).  GPU: the normal build.
if [ "$MDTF_CUDA" = "1" ]; then
  echo "setup: installing $MAMBA_SSM_SPEC with CUDA kernels (needs nvcc and a CUDA torch)"
  quiet "${pip[@]}" install --no-build-isolation "$MAMBA_SSM_SPEC" causal-conv1d
else
  echo "setup: installing $MAMBA_SSM_SPEC without CUDA kernels (CPU path)"
  quiet env MAMBA_SKIP_CUDA_BUILD=TRUE MAMBA_FORCE_BUILD=TRUE \
    "${pip[@]}" install -q --no-deps --no-build-isolation "$MAMBA_SSM_SPEC"
fi

build_kernels   # 4. the fused C++ kernels (above)

# the kernel notebooks and `make lab` use: "python3", shown as "Python 3 (mdtf-lite)"
quiet "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (mdtf-lite)"
"$VENV/bin/python" - 2>>"$log" <<'PY'
import torch
from mdtf_lite.ssm.mamba_ssm_backend import load_selective_scan_ref
load_selective_scan_ref()
print(f"setup: ok (torch {torch.__version__}, cuda available: {torch.cuda.is_available()})")
PY
echo "$want" > "$stamp"
