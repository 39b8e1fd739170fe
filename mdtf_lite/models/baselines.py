"""Baselines at equal width and depth, on MDTF's own code path (same embedding, layers, head, checks).

* ``PoseMambaLike``: plain bidirectional Mamba over joints and over frames, no GCN, no bone stream.
  The real PoseMamba scans the whole T x 17 grid with a 4-way cross scan plus a 3x3 depthwise conv;
  this factorised version isolates what MDTF adds (GCN + bone stream) on top of a plain bidirectional Mamba.
* ``MixSTELike``: spatial and temporal multi-head self-attention (MixSTE's alternating
  spatial/temporal transformer), same pre-norm residual blocks and MLPs.  Its temporal cost grows as T^2.
* ``FrameMLP``: the simple learned baseline every number stands beside -- a per-frame MLP lifter in the
  manner of Martinez et al. (2017): 51 numbers of one frame -> width ``cfg.dim`` -> ``cfg.depth``
  residual blocks -> 51.  It sees no other frame, so what MDTF gains over it is what time buys.

Both map x (B, T, 17, 3) -> (B, T, 17, 3).  Glossary (``mdtf_lite``): B batch, L length, C channels.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from mdtf_lite.models.blocks import ResidualBlock
from mdtf_lite.models.config import ModelConfig
from mdtf_lite.models.inputs import root_relative_2d
from mdtf_lite.models.mdtf import MDTF
from mdtf_lite.skeleton import NUM_JOINTS

__all__ = ["SelfAttention", "attention_block", "PoseMambaLike", "MixSTELike", "FrameMLP"]


class SelfAttention(nn.Module):
    """Multi-head self-attention, (B, L, C) -> (B, L, C); qkv Linear(C, 3C) and proj Linear(C, C) with bias."""

    def __init__(self, dim: int, num_heads: int = 8):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"SelfAttention: dim {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, c = x.shape
        q, k, v = self.qkv(x).reshape(b, length, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, heads, L, C / heads)
        return self.proj(y.transpose(1, 2).reshape(b, length, c))


def attention_block(dim: int, num_heads: int = 8, mlp_ratio: float = 2, drop_path: float = 0.0) -> ResidualBlock:
    """Pre-norm transformer block: the same residual block as MDTF with attention as the mixer."""
    return ResidualBlock(dim, SelfAttention(dim, num_heads), mlp_ratio=mlp_ratio, drop_path=drop_path)


def _baseline_cfg(cfg: ModelConfig, arch: str) -> ModelConfig:
    if cfg.bone_stream:
        raise ValueError(
            f"the {arch} baseline has no bone stream: build it with get_config(..., arch={arch!r}) "
            "or set bone_stream=False"
        )
    return cfg


class PoseMambaLike(MDTF):
    """Plain spatial/temporal bidirectional-Mamba lifter (cfg.spatial_mixer is forced to "none")."""

    def __init__(self, cfg: ModelConfig):
        cfg = _baseline_cfg(cfg, "posemamba")
        super().__init__(cfg.replace(spatial_mixer="none", arch="posemamba"))


class MixSTELike(MDTF):
    """Spatial + temporal self-attention lifter (MixSTE-like), ``cfg.num_heads`` heads."""

    def __init__(self, cfg: ModelConfig):
        cfg = _baseline_cfg(cfg, "mixste").replace(arch="mixste")

        def make(dp: float) -> ResidualBlock:
            return attention_block(cfg.dim, cfg.num_heads, cfg.mlp_ratio, dp)

        super().__init__(cfg, make_spatial=make, make_temporal=make)


class _ResidualLinear(nn.Module):
    """x + Linear(GELU(LN(x))), (..., H) -> (..., H)."""

    def __init__(self, width: int):
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(width), nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc(F.gelu(self.norm(x)))


class FrameMLP(nn.Module):
    """Per-frame MLP lifter, x (B, T, 17, 3) -> (B, T, 17, 3); every frame on its own.

    Linear(51, H) -> ``depth`` x [x + Linear(GELU(LN(x)))] -> LN -> Linear(H, 51), H = ``cfg.dim``
    (``get_config("cpu", arch="mlp")``: H 512, 2 blocks, 581,171 parameters).  No bone stream, no
    temporal position embedding: any T works.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.bone_stream:
            raise ValueError("the mlp baseline has no bone stream: build it with get_config(..., arch='mlp')")
        self.cfg = cfg.replace(arch="mlp")
        width, flat = cfg.dim, NUM_JOINTS * 3
        self.embed = nn.Linear(flat, width)
        self.blocks = nn.Sequential(*[_ResidualLinear(width) for _ in range(cfg.depth)])
        self.head_norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, flat)

    def forward(self, x: torch.Tensor, bone_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, 17, 3) -> (B, T, 17, 3)."""
        if bone_tokens is not None:
            raise ValueError("the mlp baseline takes no bone tokens")
        if self.cfg.root_relative_input:
            x = root_relative_2d(x)
        b, t = x.shape[:2]
        h = self.blocks(self.embed(x.reshape(b, t, -1)))
        return self.head(self.head_norm(h)).reshape(b, t, NUM_JOINTS, 3)
