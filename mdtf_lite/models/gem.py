"""GEM, the GCN-enhanced bidirectional Mamba: MDTF's spatial mixer over the 17 joints of each frame.

    tokens (B*T, J, C)
    x, z  = in_proj(tokens).chunk(2)                                        (B*T, J, D) each
    y_fwd = ssm(fwd, gcn_fwd(gcn_norm_fwd(x)), z)                           GCN on the skeleton, then conv + scan
    y_bwd = ssm(bwd, gcn_bwd(gcn_norm_bwd(flip(x))), flip(z))               joints reversed: re-indexed adjacency
    out   = out_proj((y_fwd + flip(y_bwd)) / 2)                             (B*T, J, C)

The GCN augments each direction's causal conv, it does not replace it: x -> LayerNorm -> GCN -> causal
conv -> SiLU -> selective scan (``Mamba.ssm``).  The backward direction sees the joints in reversed order
(position i holds joint 16 - i), so its GCN uses the adjacency re-indexed j -> 16 - j.  Everything GEM
owns is a registered submodule: the two GCNs and their LayerNorms here, the convs and scans in the
inherited ``fwd`` / ``bwd`` directions.

Ablations: ``gcn_directions="forward"`` leaves the backward GCN (and its norm) out -- what the official
code's ``__init__`` does by mistake; ``spatial_mixer="dwconv"`` puts a depthwise conv over joint order
(``JointDepthwiseConv``) where the GCNs are.  A plain spatial Mamba (``"none"``) is :class:`Mamba`.

LayerNorm eps before each GCN: 1e-5 (``GCN_NORM_EPS``), as in the official code.
Glossary (``mdtf_lite``): B batch, T frames, J joints (17), C width, D inner width.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from mdtf_lite.models.gcn import JointDepthwiseConv, SkeletonGCN, skeleton_adjacency
from mdtf_lite.models.mamba import Mamba

__all__ = ["GEM", "GCN_NORM_EPS", "GEM_MIXERS"]

#: LayerNorm eps before each GCN (and of the head norm in MDTF): PyTorch's default, as in the official code.
GCN_NORM_EPS = 1e-5
#: what GEM puts before each direction's conv: the skeleton GCN, or the depthwise-conv-over-joint-order ablation.
GEM_MIXERS = ("gcn", "dwconv")


class GEM(Mamba):
    """GCN-enhanced bidirectional Mamba, (B*T, J, C) -> (B*T, J, C).

    Args:
        d_model: C.
        spatial_mixer: "gcn" (MDTF) or "dwconv" (the ablation).
        gcn_directions: "both" (MDTF as published) or "forward" (no backward GCN).
        **mamba: as for :class:`Mamba` (d_state, d_conv, expand, dt_rank, bidirectional, scan_backend, dt_range).

    Parameters for C = 64: the mixer 20,352 + 2 x (LayerNorm 128 + GCN 8,354) = 37,316.
    """

    def __init__(self, d_model: int, spatial_mixer: str = "gcn", gcn_directions: str = "both", **mamba):
        if spatial_mixer not in GEM_MIXERS:
            raise ValueError(
                f"GEM: spatial_mixer must be one of {GEM_MIXERS}, got {spatial_mixer!r} "
                "(a spatial mixer without a GCN is a plain Mamba)"
            )
        if gcn_directions not in ("both", "forward"):
            raise ValueError(f"GEM: gcn_directions must be 'both' or 'forward', got {gcn_directions!r}")
        width = mamba.get("expand", 1) * d_model  # D, the width the GCNs see

        def graph(reverse: bool) -> nn.Module:
            if spatial_mixer == "gcn":
                return SkeletonGCN(width, skeleton_adjacency(reverse=reverse))
            return JointDepthwiseConv(width)

        # built before the mixer's own parameters, as before GEM was one class: a seed gives the same weights
        norm_fwd, gcn_fwd = nn.LayerNorm(width, eps=GCN_NORM_EPS), graph(reverse=False)
        backward = mamba.get("bidirectional", True) and gcn_directions == "both"
        norm_bwd, gcn_bwd = (nn.LayerNorm(width, eps=GCN_NORM_EPS), graph(reverse=True)) if backward else (None, None)
        super().__init__(d_model, **mamba)
        self.gcn_norm_fwd, self.gcn_fwd = norm_fwd, gcn_fwd
        self.gcn_norm_bwd, self.gcn_bwd = norm_bwd, gcn_bwd

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B*T, J, C) -> (B*T, J, C)."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.d_model:
            raise ValueError(f"GEM expects tokens of shape (B*T, J, C={self.d_model}), got {tuple(tokens.shape)}")
        x, z = self.in_proj(tokens).chunk(2, dim=-1)  # (B*T, J, D) each
        y = self.ssm(self.fwd, self.gcn_fwd(self.gcn_norm_fwd(x)), z)
        if self.bwd is not None:
            x_bwd = x.flip(1)  # position i = joint 16 - i
            if self.gcn_bwd is not None:
                x_bwd = self.gcn_bwd(self.gcn_norm_bwd(x_bwd))
            y = (y + self.ssm(self.bwd, x_bwd, z.flip(1)).flip(1)) / 2
        return self.out_proj(y)
