"""Pre-norm residual blocks: the generic block, the GEM (spatial) block and the plain Mamba block.

    x = x + DropPath(mixer(LN(x)))           mixer: (B, L, C) -> (B, L, C), e.g. BiMamba
    x = x + DropPath(MLP(LN(x)))             MLP: C -> mlp_ratio*C -> C with GELU

``ResidualBlock`` is this block around any mixer (BiMamba, or attention in the MixSTE-like baseline).
A GEM block is it with a BiMamba whose per-direction pre-conv hook is LayerNorm -> GCN (the backward
GCN on the reversed joint order); a plain Mamba block (``mamba_block``) has a BiMamba without hooks and
serves as the temporal block, the bone stream's spatial block and every BAM block.  ``spatial_block``
builds what a config's ``spatial_mixer`` names ("gcn" GEM, "none" plain, "dwconv" the ablation).

LayerNorm eps as in the official code: 1e-6 for the block norms (``BLOCK_NORM_EPS``, also used by
the layers' norms), 1e-5 (PyTorch's default, ``GCN_NORM_EPS``) for the LayerNorm before each GCN.  ``fold_spatial`` / ``fold_temporal`` turn (B, T, J, C) into the (B', L, C)
sequences each block scans.

Glossary (``mdtf_lite``): B batch, T frames, J joints, L sequence length, C channels.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from mdtf_lite.models.gcn import JointDepthwiseConv, SkeletonGCN, skeleton_adjacency
from mdtf_lite.models.mamba import BiMamba

__all__ = ["DropPath", "MLP", "ResidualBlock", "MambaBlock", "gem_block", "mamba_block", "spatial_block",
           "temporal_block", "spatial_hooks", "fold_spatial", "unfold_spatial", "fold_temporal", "unfold_temporal",
           "SPATIAL_MIXERS", "BLOCK_NORM_EPS", "GCN_NORM_EPS"]

#: LayerNorm eps of the residual blocks, the layers' (shared) norms and the bone stream (official: 1e-6).
BLOCK_NORM_EPS = 1e-6
#: LayerNorm eps before each GCN (and of the head norm in MDTF): PyTorch's default, as in the official code.
GCN_NORM_EPS = 1e-5

#: what GEM inserts before each direction's causal conv: the skeleton GCN, nothing, or the
#: depthwise-conv-over-joint-order ablation.
SPATIAL_MIXERS = ("gcn", "none", "dwconv")


class DropPath(nn.Module):
    """Stochastic depth: in training, zero a whole sample's residual branch with probability p.

    Survivors are scaled by 1 / (1 - p) so the expected output is unchanged; identity in eval.
    x (B, ...) -> (B, ...).
    """

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"drop-path probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLP(nn.Module):
    """Linear(C, hC) -> GELU -> Linear(hC, C), biases on; (B, L, C) -> (B, L, C)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class ResidualBlock(nn.Module):
    """Pre-norm residual block around any token mixer, (B, L, C) -> (B, L, C).

    Args:
        dim: C.
        mixer: a module (B, L, C) -> (B, L, C); default ``BiMamba(dim)``.  Attention works too
            (the MixSTE-like baseline uses this block with self-attention).
        mlp_ratio: hidden width of the MLP in units of C (2 in MDTF).
        drop_path: stochastic-depth probability of both residual branches.

    Parameters besides the mixer: two LayerNorms (4C) and the MLP (2 r C^2 + r C + C).
    """

    def __init__(self, dim: int, mixer: nn.Module | None = None, mlp_ratio: float = 2, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)
        self.mixer = mixer if mixer is not None else BiMamba(dim)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)
        self.mlp = MLP(dim, int(round(dim * mlp_ratio)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L, C) -> (B, L, C)."""
        x = x + self.drop_path(self.mixer(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


#: the former name of :class:`ResidualBlock` (it wraps attention too); kept for old notebooks and code.
MambaBlock = ResidualBlock


def spatial_hooks(dim: int, spatial_mixer: str = "gcn", gcn_directions: str = "both",
                  bidirectional: bool = True) -> tuple[nn.Module | None, nn.Module | None]:
    """The (forward, backward) pre-conv hooks of a GEM mixer: LayerNorm -> GCN (or the ablations).

    Args:
        spatial_mixer: "gcn" (MDTF), "none" (plain spatial BiMamba), "dwconv" (depthwise conv over
            joint order in place of the GCN).
        gcn_directions: "both" (MDTF as published) or "forward" (the backward GCN left out, which is
            what the official code's ``__init__`` does by mistake).
    """
    if spatial_mixer not in SPATIAL_MIXERS:
        raise ValueError(f"spatial_mixer must be one of {SPATIAL_MIXERS}, got {spatial_mixer!r}")
    if gcn_directions not in ("both", "forward"):
        raise ValueError(f"gcn_directions must be 'both' or 'forward', got {gcn_directions!r}")
    if spatial_mixer == "none":
        return None, None

    def hook(reverse: bool) -> nn.Module:
        inner = SkeletonGCN(dim, skeleton_adjacency(reverse=reverse)) if spatial_mixer == "gcn" else JointDepthwiseConv(dim)
        return nn.Sequential(nn.LayerNorm(dim, eps=GCN_NORM_EPS), inner)

    fwd = hook(reverse=False)
    bwd = hook(reverse=True) if bidirectional and gcn_directions == "both" else None
    return fwd, bwd


def mamba_block(dim: int, *, d_state: int = 16, d_conv: int = 4, mlp_ratio: float = 2, drop_path: float = 0.0,
                bidirectional: bool = True, scan_backend: str = "auto",
                dt_range: tuple[float, float] = (1e-3, 0.1)) -> ResidualBlock:
    """Plain bidirectional Mamba block (no GCN), (B', L, C) -> (B', L, C); 37,184 params for C = 64.

    Over frames it is MDTF's temporal block; over joints the bone stream's spatial block and the BAM's.
    """
    mixer = BiMamba(dim, d_state=d_state, d_conv=d_conv, bidirectional=bidirectional, scan_backend=scan_backend,
                    dt_range=dt_range)
    return ResidualBlock(dim, mixer=mixer, mlp_ratio=mlp_ratio, drop_path=drop_path)


def gem_block(dim: int, *, d_state: int = 16, d_conv: int = 4, mlp_ratio: float = 2, drop_path: float = 0.0,
              gcn_directions: str = "both", bidirectional: bool = True, scan_backend: str = "auto",
              dt_range: tuple[float, float] = (1e-3, 0.1), spatial_mixer: str = "gcn") -> ResidualBlock:
    """GCN-enhanced bidirectional Mamba block over the joints of each frame, (B*T, J, C) -> (B*T, J, C).

    54,148 parameters for C = 64 in the MDTF configuration (temporal block 37,184 + 2 x (LN 128 + GCN 8,354)).
    ``spatial_mixer="dwconv"`` puts the depthwise-conv ablation in place of the GCN; for a block without
    any (``"none"``) use :func:`mamba_block` or :func:`spatial_block`.
    """
    if spatial_mixer == "none":
        raise ValueError("gem_block(spatial_mixer='none') would be a GEM without its GCN: build the plain block "
                         "with mamba_block(dim, ...) or spatial_block(dim, spatial_mixer='none', ...)")
    fwd, bwd = spatial_hooks(dim, spatial_mixer, gcn_directions, bidirectional)
    mixer = BiMamba(dim, d_state=d_state, d_conv=d_conv, bidirectional=bidirectional,
                    pre_conv_fwd=fwd, pre_conv_bwd=bwd, scan_backend=scan_backend, dt_range=dt_range)
    return ResidualBlock(dim, mixer=mixer, mlp_ratio=mlp_ratio, drop_path=drop_path)


def spatial_block(dim: int, *, spatial_mixer: str = "gcn", gcn_directions: str = "both", **mamba) -> ResidualBlock:
    """The spatial block a config names: "gcn" -> :func:`gem_block`, "dwconv" -> GEM with the depthwise-conv
    ablation, "none" -> :func:`mamba_block`.  (B*T, J, C) -> (B*T, J, C); ``mamba`` as for ``mamba_block``."""
    if spatial_mixer not in SPATIAL_MIXERS:
        raise ValueError(f"spatial_mixer must be one of {SPATIAL_MIXERS}, got {spatial_mixer!r}")
    if spatial_mixer == "none":
        return mamba_block(dim, **mamba)
    return gem_block(dim, spatial_mixer=spatial_mixer, gcn_directions=gcn_directions, **mamba)


def temporal_block(dim: int, **mamba) -> ResidualBlock:
    """MDTF's temporal block over frames, (B*J, T, C) -> (B*J, T, C): a :func:`mamba_block`."""
    return mamba_block(dim, **mamba)


def fold_spatial(x: torch.Tensor) -> torch.Tensor:
    """(B, T, J, C) -> (B*T, J, C): one sequence of joints per frame."""
    b, t, j, c = x.shape
    return x.reshape(b * t, j, c)


def unfold_spatial(x: torch.Tensor, batch: int) -> torch.Tensor:
    """(B*T, J, C) -> (B, T, J, C)."""
    return x.reshape(batch, -1, *x.shape[1:])


def fold_temporal(x: torch.Tensor) -> torch.Tensor:
    """(B, T, J, C) -> (B*J, T, C): one sequence of frames per joint."""
    b, t, j, c = x.shape
    return x.permute(0, 2, 1, 3).reshape(b * j, t, c)


def unfold_temporal(x: torch.Tensor, batch: int) -> torch.Tensor:
    """(B*J, T, C) -> (B, T, J, C)."""
    bj, t, c = x.shape
    return x.reshape(batch, bj // batch, t, c).permute(0, 2, 1, 3)
