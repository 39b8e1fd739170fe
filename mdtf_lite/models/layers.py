"""The paper's spatio-temporal layer and the refinement module (STRM) built from it.

    SpatioTemporalLayer:  h (B, T, J, C)
        -> spatial block over the joints of each frame  (B*T, J, C)  -> spatial norm
        -> [+ temporal position embedding (1, T, C)]
        -> temporal block over the frames of each joint (B*J, T, C)  -> temporal norm   -> (B, T, J, C)

    STRM: a stack of such layers applied in turn (MDTF's layers 1 .. depth-1).

MDTF's joint stream is one layer (GEM + temporal block, with the temporal position embedding), its bone
stream another (plain spatial block, own norms), the STRM ``depth - 1`` more; every BAM level is one.

Norms.  A layer either owns its two LayerNorms (``norm_dim=C``: BAM levels, the bone stream; registered
as ``spatial_norm`` / ``temporal_norm``) or is handed a pair at call time: MDTF's joint layer and every
STRM layer use the model's single ``spatial_norm`` / ``temporal_norm`` (as the official code does), which
MDTF registers once and passes in ``forward(h, norms=(spatial_norm, temporal_norm))``.

Glossary (``mdtf_lite``): B batch, T frames, J joints, C channels.
"""

from __future__ import annotations

from typing import Iterable

import torch
import torch.nn as nn

from mdtf_lite.models.blocks import BLOCK_NORM_EPS, fold_spatial, fold_temporal, unfold_spatial, unfold_temporal

__all__ = ["SpatioTemporalLayer", "STRM"]


class SpatioTemporalLayer(nn.Module):
    """spatial block -> spatial norm -> [+ temporal pos] -> temporal block -> temporal norm; (B, T, J, C) -> same.

    Args:
        spatial: module (B*T, J, C) -> (B*T, J, C), e.g. ``spatial_block(...)`` (GEM) or ``mamba_block(...)``.
        temporal: module (B*J, T, C) -> (B*J, T, C), e.g. ``mamba_block(...)``.
        norm_dim: C to build and own the two LayerNorms (eps 1e-6); None when the caller passes a
            shared pair to every ``forward``.
    """

    def __init__(self, spatial: nn.Module, temporal: nn.Module, norm_dim: int | None = None):
        super().__init__()
        self.spatial = spatial
        self.temporal = temporal
        if norm_dim is not None:
            self.spatial_norm = nn.LayerNorm(norm_dim, eps=BLOCK_NORM_EPS)
            self.temporal_norm = nn.LayerNorm(norm_dim, eps=BLOCK_NORM_EPS)

    def forward(
        self,
        h: torch.Tensor,
        norms: tuple[nn.Module, nn.Module] | None = None,
        temporal_pos: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """h (B, T, J, C) -> (B, T, J, C).

        norms: (spatial norm, temporal norm) shared with other layers; None uses this layer's own.
        temporal_pos: (1, T, C), added between the two halves.
        """
        spatial_norm, temporal_norm = norms if norms is not None else (self.spatial_norm, self.temporal_norm)
        batch = h.shape[0]
        h = spatial_norm(unfold_spatial(self.spatial(fold_spatial(h)), batch))
        if temporal_pos is not None:
            h = h + temporal_pos.unsqueeze(2)  # (1, T, 1, C)
        return temporal_norm(unfold_temporal(self.temporal(fold_temporal(h)), batch))


class STRM(nn.Module):
    """Spatio-temporal refinement module: layers applied in order, (B, T, J, C) -> (B, T, J, C).

    Args:
        layers: ``SpatioTemporalLayer``s (MDTF: ``depth - 1`` of them, all sharing the model's two norms).
    """

    def __init__(self, layers: Iterable[SpatioTemporalLayer]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def __len__(self) -> int:
        return len(self.layers)

    def forward(self, h: torch.Tensor, norms: tuple[nn.Module, nn.Module] | None = None) -> torch.Tensor:
        """h (B, T, J, C) -> (B, T, J, C); ``norms`` as for ``SpatioTemporalLayer.forward``."""
        for layer in self.layers:
            h = layer(h, norms)
        return h
