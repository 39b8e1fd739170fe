"""MDTF's networks: skeleton GCN, bidirectional Mamba mixer, blocks, the Bone Aware Module, MDTF, baselines.

    gcn.py        SkeletonGCN, normalized_adjacency, skeleton_adjacency (incl. reversed joint order)
    mamba.py      MambaMixer (= BiMamba) -- Vision-Mamba v2 style mixer, (B, L, C) -> (B, L, C), any scan backend
    blocks.py     ResidualBlock (pre-norm residual + MLP + drop-path), gem_block, mamba_block, spatial_block
    layers.py     SpatioTemporalLayer (spatial block -> LN -> temporal block -> LN), STRM
    bam.py        BoneAwareModule -- stage 1, polar-angle class logits
    mdtf.py       MDTF -- stage 2, (B, T, 17, 3) 2D + confidence -> (B, T, 17, 3) 3D
    baselines.py  PoseMambaLike, MixSTELike (equal width/depth comparisons), FrameMLP (per-frame lifter)
    config.py     ModelConfig, presets tiny / large / cpu, as_model_config (dict / name -> config)
    factory.py    build_model(cfg)
    official.py   official MDTF-3DHPE state dicts <-> ours
    macs.py       count_parameters, macs_per_frame

Submodules are imported on first use, so ``import mdtf_lite.models`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BiMamba": "mamba", "MambaMixer": "mamba", "ScanDirection": "mamba",
    "SkeletonGCN": "gcn", "normalized_adjacency": "gcn", "skeleton_adjacency": "gcn",
    "ResidualBlock": "blocks", "MambaBlock": "blocks", "gem_block": "blocks", "mamba_block": "blocks",
    "spatial_block": "blocks", "temporal_block": "blocks", "DropPath": "blocks",
    "SpatioTemporalLayer": "layers", "STRM": "layers",
    "BoneAwareModule": "bam", "ContinuousBAM": "bam",
    "MDTF": "mdtf",
    "PoseMambaLike": "baselines", "MixSTELike": "baselines", "FrameMLP": "baselines",
    "ModelConfig": "config", "build_model": "factory", "as_model_config": "config", "get_config": "config", "PRESETS": "config",
    "count_parameters": "macs", "macs_per_frame": "macs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
