"""Small in-memory datasets and tiny model configs so the training tests run in seconds."""

from types import SimpleNamespace

import numpy as np

from mdtf_lite.train import TrainConfig

TINY_MDTF = {
    "preset": "cpu",
    "dim": 8,
    "depth": 2,
    "n_frames": 9,
    "d_state": 4,
    "ablation": "no_bone",
    "drop_path": 0.1,
    "scan_backend": "reference",
}
TINY_BAM = {"widths": [8, 4], "d_state": 4, "scan_backend": "reference"}


def clip_set(n=16, frames=9, seed=0):
    """Random root-relative poses (metres) and their orthographic 2D + confidence 1: (N, T, 17, 3) each."""
    rng = np.random.default_rng(seed)
    y = (rng.normal(size=(n, frames, 17, 3)) * 0.2).astype("float32")
    y -= y[..., :1, :]
    x = np.concatenate([y[..., :2] / 2, np.ones_like(y[..., :1])], -1).astype("float32")
    actions = np.array(["Walking 1", "Eating", "Directions 1", "Walking"] * n)[:n]
    return SimpleNamespace(inputs=x, targets=y, meta={"action": actions}, target="camera")


def tiny_config(tmp_path, stage="mdtf", **changes):
    base = dict(
        name=f"tiny-{stage}",
        stage=stage,
        model=dict(TINY_MDTF if stage == "mdtf" else TINY_BAM),
        epochs=2,
        batch_size=4,
        steps_per_epoch=2,
        out_dir=str(tmp_path / f"ckpt-{stage}"),
        progress=False,
        lr=1e-3,
        seed=3,
        num_threads=1,
    )
    base.update(changes)
    return TrainConfig(**base)
