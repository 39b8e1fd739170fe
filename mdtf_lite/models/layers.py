"""The paper's spatio-temporal layer and the refinement module (STRM) built from it.

    SpatioTemporalLayer:  h (B, T, J, C)
        -> spatial block over the joints of each frame  (B*T, J, C)  -> spatial norm
        -> [+ temporal position embedding (1, T, C)]
        -> temporal block over the frames of each joint (B*J, T, C)  -> temporal norm   -> (B, T, J, C)

    STRM: a stack of such layers applied in turn (MDTF's layers 1 .. depth-1).

MDTF's joint stream is one layer (GEM + temporal block, with the temporal position embedding), its bone
stream another (plain spatial block, own norms), the STRM ``depth - 1`` more; every BAM level is one.

Norms are passed in.  A layer either owns its two LayerNorms (BAM levels, bone stream) or *shares*
them (``shared_norms=True``: MDTF's joint layer and every STRM layer use the model's single
``spatial_norm`` / ``temporal_norm``, as the official code does).  Shared norms are held, not
registered, so they appear once in the owner's ``state_dict`` (the owner registers them).

Glossary (``mdtf_lite``): B batch, T frames, J joints, C channels.
"""

from __future__ import annotations

from typing import Iterable

import torch
import torch.nn as nn

from mdtf_lite.models.blocks import fold_spatial, fold_temporal, unfold_spatial, unfold_temporal

__all__ = ["SpatioTemporalLayer", "STRM"]


class SpatioTemporalLayer(nn.Module):
    """spatial block -> spatial norm -> [+ temporal pos] -> temporal block -> temporal norm; (B, T, J, C) -> same.

    Args:
        spatial: module (B*T, J, C) -> (B*T, J, C), e.g. ``gem_block`` or ``mamba_block``.
        temporal: module (B*J, T, C) -> (B*J, T, C), e.g. ``temporal_block``.
        spatial_norm, temporal_norm: modules (..., C) -> (..., C), normally LayerNorms.
        shared_norms: the norms belong to the caller (registered there, shared with other layers);
            False registers them here as ``spatial_norm`` / ``temporal_norm``.
    """

    def __init__(self, spatial: nn.Module, temporal: nn.Module, spatial_norm: nn.Module, temporal_norm: nn.Module,
                 shared_norms: bool = False):
        super().__init__()
        self.spatial = spatial
        self.temporal = temporal
        self.shared_norms = bool(shared_norms)
        if self.shared_norms:
            # held, not registered: the owner's state_dict holds them once
            self.__dict__["_norms"] = (spatial_norm, temporal_norm)
        else:
            self.spatial_norm = spatial_norm
            self.temporal_norm = temporal_norm

    @property
    def norms(self) -> tuple[nn.Module, nn.Module]:
        """(spatial norm, temporal norm), owned or shared."""
        if self.shared_norms:
            return self.__dict__["_norms"]
        return self.spatial_norm, self.temporal_norm

    def forward(self, h: torch.Tensor, temporal_pos: torch.Tensor | None = None) -> torch.Tensor:
        """h (B, T, J, C) [, temporal_pos (1, T, C) added between the two halves] -> (B, T, J, C)."""
        spatial_norm, temporal_norm = self.norms
        batch = h.shape[0]
        h = spatial_norm(unfold_spatial(self.spatial(fold_spatial(h)), batch))
        if temporal_pos is not None:
            h = h + temporal_pos.unsqueeze(2)                      # (1, T, 1, C)
        return temporal_norm(unfold_temporal(self.temporal(fold_temporal(h)), batch))

    def extra_repr(self) -> str:
        return "shared_norms=True" if self.shared_norms else ""


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

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h (B, T, J, C) -> (B, T, J, C)."""
        for layer in self.layers:
            h = layer(h)
        return h
