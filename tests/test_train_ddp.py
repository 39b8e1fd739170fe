"""DDP: two gloo processes give the same weights as one process (same global batch, no BatchNorm)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parents[1]

# a tiny model without BatchNorm (no GCN): per-rank batch statistics are the documented DDP difference
CONFIG = {
    "stage": "mdtf",
    "model": {
        "preset": "cpu",
        "dim": 8,
        "depth": 1,
        "n_frames": 27,
        "d_state": 4,
        "ablation": ["no_bone", "no_gcn"],
        "drop_path": 0.0,
        "scan_backend": "reference",
    },
    "data": {"source": "default", "frames": 27, "subjects": ["S1"], "max_clips": 16},
    "epochs": 2,
    "batch_size": 8,
    "steps_per_epoch": 2,
    "val_every": 0,
    "num_threads": 1,
    "progress": False,
    "flip_augment": True,
    "lr": 1e-3,
}


def run(tmp_path, nproc):
    cfg_path = tmp_path / f"ddp{nproc}.yaml"
    cfg_path.write_text(yaml.safe_dump({**CONFIG, "out_dir": str(tmp_path / f"out{nproc}")}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "mdtf_lite.train", "--config", str(cfg_path)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            "-m",
            "mdtf_lite.train",
            "--config",
            str(cfg_path),
        ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_file(str(tmp_path / f"out{nproc}" / "model.safetensors"))


@pytest.mark.slow
def test_two_gloo_processes_match_one(tmp_path):
    try:
        import torch.distributed as dist

        if not dist.is_available() or not dist.is_gloo_available():
            pytest.skip("torch.distributed with gloo is not available in this torch build")
    except ImportError:
        pytest.skip("torch.distributed is not available")
    one, two = run(tmp_path, 1), run(tmp_path, 2)
    assert one.keys() == two.keys()
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    assert worst < 1e-5, f"2-process DDP drifted from 1 process by {worst}"
