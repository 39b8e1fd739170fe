"""Pre-norm residual blocks: the generic block, the plain Mamba block and the spatial block a config names.

    x = x + DropPath(mixer(LN(x)))           mixer: (B, L, C) -> (B, L, C): Mamba, GEM or attention
    x = x + DropPath(MLP(LN(x)))             MLP: C -> mlp_ratio*C -> C with GELU

``ResidualBlock`` is this block around any mixer.  ``mamba_block`` puts a plain bidirectional
:class:`~mdtf_lite.models.mamba.Mamba` in it: MDTF's temporal block over frames, the bone stream's spatial
block and every BAM block.  ``spatial_block`` builds what a config's ``spatial_mixer`` names: ``"gcn"`` a
GEM block (:class:`~mdtf_lite.models.gem.GEM` as the mixer), ``"dwconv"`` GEM with the depthwise-conv
ablation, ``"none"`` a plain Mamba block.

LayerNorm eps as in the official code: 1e-6 for the block norms (``BLOCK_NORM_EPS``, also used by
the layers' norms); 1e-5 before each GCN (``models.gem.GCN_NORM_EPS``).  ``fold_spatial`` /
``fold_temporal`` turn (B, T, J, C) into the (B', L, C) sequences each block scans.

Glossary (``mdtf_lite``): B batch, T frames, J joints, L sequence length, C channels.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from mdtf_lite.models.gem import GEM
from mdtf_lite.models.mamba import Mamba

__all__ = [
    "DropPath",
    "MLP",
    "ResidualBlock",
    "mamba_block",
    "spatial_block",
    "fold_spatial",
    "unfold_spatial",
    "fold_temporal",
    "unfold_temporal",
    "SPATIAL_MIXERS",
    "BLOCK_NORM_EPS",
]

#: LayerNorm eps of the residual blocks, the layers' (shared) norms and the bone stream (official: 1e-6).
BLOCK_NORM_EPS = 1e-6

#: the spatial mixers a config can name: GEM with the skeleton GCN, a plain Mamba, or GEM with the
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
        mixer: a module (B, L, C) -> (B, L, C): ``Mamba``, ``GEM``, or self-attention (the MixSTE-like baseline).
        mlp_ratio: hidden width of the MLP in units of C (2 in MDTF).
        drop_path: stochastic-depth probability of both residual branches.

    Parameters besides the mixer: two LayerNorms (4C) and the MLP (2 r C^2 + r C + C).
    """

    def __init__(self, dim: int, mixer: nn.Module, mlp_ratio: float = 2, drop_path: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)
        self.mixer = mixer
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=BLOCK_NORM_EPS)
        self.mlp = MLP(dim, int(round(dim * mlp_ratio)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, L, C) -> (B, L, C)."""
        x = x + self.drop_path(self.mixer(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def mamba_block(
    dim: int,
    *,
    d_state: int = 16,
    d_conv: int = 4,
    mlp_ratio: float = 2,
    drop_path: float = 0.0,
    bidirectional: bool = True,
    scan_backend: str = "auto",
    dt_range: tuple[float, float] = (1e-3, 0.1),
) -> ResidualBlock:
    """Plain bidirectional Mamba block (no GCN), (B', L, C) -> (B', L, C); 37,184 params for C = 64.

    Over frames it is MDTF's temporal block; over joints the bone stream's spatial block and the BAM's.
    """
    mixer = Mamba(
        dim, d_state=d_state, d_conv=d_conv, bidirectional=bidirectional, scan_backend=scan_backend, dt_range=dt_range
    )
    return ResidualBlock(dim, mixer, mlp_ratio=mlp_ratio, drop_path=drop_path)


def spatial_block(
    dim: int,
    *,
    spatial_mixer: str = "gcn",
    gcn_directions: str = "both",
    mlp_ratio: float = 2,
    drop_path: float = 0.0,
    **mamba,
) -> ResidualBlock:
    """The spatial block a config names, (B*T, J, C) -> (B*T, J, C): "gcn" -> the GEM block (54,148 params
    for C = 64), "dwconv" -> GEM with the depthwise-conv ablation, "none" -> :func:`mamba_block`.

    ``mamba``: the mixer's keywords (``d_state``, ``d_conv``, ``bidirectional``, ``scan_backend``,
    ``dt_range``), as :func:`mamba_block` takes them.
    """
    if spatial_mixer not in SPATIAL_MIXERS:
        raise ValueError(f"spatial_mixer must be one of {SPATIAL_MIXERS}, got {spatial_mixer!r}")
    if spatial_mixer == "none":
        return mamba_block(dim, mlp_ratio=mlp_ratio, drop_path=drop_path, **mamba)
    mixer = GEM(dim, spatial_mixer=spatial_mixer, gcn_directions=gcn_directions, **mamba)
    return ResidualBlock(dim, mixer, mlp_ratio=mlp_ratio, drop_path=drop_path)


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
