"""MDTF's networks: skeleton GCN, bidirectional Mamba mixer, GEM, blocks, the Bone Aware Module, MDTF, baselines.

    gcn.py        SkeletonGCN, normalized_adjacency, skeleton_adjacency (incl. reversed joint order)
    mamba.py      Mamba -- Vision-Mamba v2 style bidirectional mixer, (B, L, C) -> (B, L, C); backend resolved once
    gem.py        GEM -- Mamba with LayerNorm -> skeleton GCN before each direction's conv, (B*T, J, C)
    blocks.py     ResidualBlock (pre-norm residual + MLP + drop-path), mamba_block, spatial_block
    layers.py     SpatioTemporalLayer (spatial block -> LN -> temporal block -> LN), STRM
    bam.py        BoneAwareModule -- stage 1, polar-angle class logits
    mdtf.py       MDTF -- stage 2, (B, T, 17, 3) 2D + confidence -> (B, T, 17, 3) 3D; FusionGate
    inputs.py     check_model_input (the API-boundary check), root_relative_2d
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
    "Mamba": "mamba",
    "GEM": "gem",
    "SkeletonGCN": "gcn",
    "normalized_adjacency": "gcn",
    "skeleton_adjacency": "gcn",
    "ResidualBlock": "blocks",
    "mamba_block": "blocks",
    "spatial_block": "blocks",
    "DropPath": "blocks",
    "check_model_input": "inputs",
    "SpatioTemporalLayer": "layers",
    "STRM": "layers",
    "BoneAwareModule": "bam",
    "ContinuousBAM": "bam",
    "MDTF": "mdtf",
    "PoseMambaLike": "baselines",
    "MixSTELike": "baselines",
    "FrameMLP": "baselines",
    "ModelConfig": "config",
    "build_model": "factory",
    "as_model_config": "config",
    "get_config": "config",
    "PRESETS": "config",
    "count_parameters": "macs",
    "macs_per_frame": "macs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
