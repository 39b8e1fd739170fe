#!/usr/bin/env bash
# The GPU check, ready for the day a CUDA machine runs it (about 10 minutes, most of it the install):
#   1. stops at once, with a message, when no NVIDIA GPU is visible;
#   2. builds a separate environment .venv-cuda with a CUDA torch and mamba-ssm's CUDA kernels
#      (scripts/setup.sh with MDTF_CUDA=1; the CPU .venv is left alone);
#   3. runs `python -m mdtf_lite.bench gpu`: triton and mamba_ssm backends vs selective_scan_ref
#      (outputs and gradients), their times beside the CPU path, and a few hundred steps of MDTF-Tiny.
# Override the CUDA wheel with TORCH_SPEC / TORCH_INDEX (default: torch 2.5.1 for CUDA 12.4).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU here (nvidia-smi missing or sees no device); nothing to check." >&2
  echo "gpu_check: on a CPU machine the same kernels are tested by 'make test' (Triton's interpreter)." >&2
  exit 3
fi
nvidia-smi -L
export VENV=.venv-cuda MDTF_CUDA=1
export TORCH_SPEC="${TORCH_SPEC:-torch==2.5.1}" TORCH_INDEX="${TORCH_INDEX:-https://download.pytorch.org/whl/cu124}"
bash scripts/setup.sh
[ -d data/default ] || "$VENV/bin/python" -m data_tools make-default --if-missing
exec "$VENV/bin/python" -m mdtf_lite.bench gpu "$@"
