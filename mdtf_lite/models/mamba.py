"""The bidirectional Mamba mixer (Vision-Mamba "v2" style) used by every MDTF block.

One mixer maps a token sequence to a sequence of the same shape, (B, L, C) -> (B, L, C):

    x, z   = in_proj(tokens).chunk(2)                 # shared by both directions, (B, L, D) each
    y_fwd  = S6_fwd(x)            * silu(z)           # scan over positions 0 .. L-1
    y_bwd  = S6_bwd(reverse(x))   * silu(reverse(z))  # scan over positions L-1 .. 0
    out    = out_proj((y_fwd + reverse(y_bwd)) / 2)   # shared

where each direction ``S6_dir`` is: [optional pre-conv hook] -> causal depthwise conv1d (kernel
``d_conv``) -> SiLU -> input-dependent (delta, B, C) from ``x_proj``/``dt_proj`` -> selective scan
(``mdtf_lite.ssm.selective_scan``, so every scan backend works).  The two directions share
``in_proj``/``out_proj`` and own their conv, x_proj, dt_proj, A_log and D.

The *pre-conv hook* is how GEM inserts its graph convolution: a module mapping (B, L, D) -> (B, L, D)
applied to ``x`` before the causal conv.  The backward hook receives the sequence *already reversed*
(position 0 is original position L-1), so a GCN there must use the re-indexed adjacency.

Glossary (``mdtf_lite``): B batch, L sequence length (17 joints or T frames), C model width,
D = expand * C inner width, N = d_state, R = dt_rank.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mdtf_lite.ssm import cpp_kernel, resolve_backend, selective_scan_channels_last

__all__ = ["MambaMixer", "BiMamba", "ScanDirection", "causal_depthwise_conv", "resolve_dt_rank"]


def resolve_dt_rank(dt_rank, d_model: int) -> int:
    """``"auto"`` -> ceil(C / 16) (Mamba's default); an int is returned unchanged."""
    if dt_rank == "auto":
        return math.ceil(d_model / 16)
    if not isinstance(dt_rank, int) or dt_rank < 1:
        raise ValueError(f"dt_rank must be 'auto' or a positive int, got {dt_rank!r}")
    return dt_rank


def causal_depthwise_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Causal depthwise conv along L in channels-last layout: y[:, l] = bias + sum_k w[:, k] x[:, l - K + 1 + k].

    x (B, L, D); weight (D, 1, K) as stored by ``nn.Conv1d(D, D, K, groups=D)``; bias (D,) -> (B, L, D).
    Equal to ``conv1d(F.pad(x.transpose(1, 2), (K - 1, 0)), weight, bias, groups=D).transpose(1, 2)``,
    written as K shifted multiply-adds: no transposes, and none of oneDNN's slow paths for
    strided depthwise inputs (which cost 100x on small CPU tensors).
    """
    k = weight.shape[-1]
    length = x.shape[1]
    xp = F.pad(x, (0, 0, k - 1, 0))                                # zeros before position 0
    w = weight[:, 0, :]                                            # (D, K)
    y = xp[:, 0:length] * w[:, 0]
    for i in range(1, k):
        y = y + xp[:, i:i + length] * w[:, i]
    return y if bias is None else y + bias


class ScanDirection(nn.Module):
    """One direction of the mixer: hook -> causal depthwise conv -> SiLU -> selective scan.

    Parameters (D = d_inner, N = d_state, R = dt_rank, K = d_conv):
        conv1d   depthwise Conv1d(D, D, K, groups=D) with bias       D*K + D
        x_proj   Linear(D, R + 2N), no bias (gives delta_low, B, C)  D*(R + 2N)
        dt_proj  Linear(R, D) with bias (the bias is delta's bias)  R*D + D
        A_log    (D, N), A = -exp(A_log) (S4D-real init: A[:, n] = -(n + 1))
        D        (D,) skip connection, init 1
    """

    def __init__(self, d_inner: int, d_state: int = 16, d_conv: int = 4, dt_rank: int = 4,
                 pre_conv: nn.Module | None = None, dt_min: float = 1e-3, dt_max: float = 0.1,
                 dt_init_floor: float = 1e-4):
        super().__init__()
        self.d_inner, self.d_state, self.d_conv, self.dt_rank = d_inner, d_state, d_conv, dt_rank
        self.pre_conv = pre_conv
        # stored as a Conv1d (the usual parameter layout), applied by causal_depthwise_conv
        self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, bias=True)
        self.x_proj = nn.Linear(d_inner, dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(dt_rank, d_inner, bias=True)
        # Mamba's initialisation: dt_proj keeps the variance of delta at init, and its bias is
        # softplus^-1 of a step size drawn log-uniformly in [dt_min, dt_max].
        nn.init.uniform_(self.dt_proj.weight, -dt_rank ** -0.5, dt_rank ** -0.5)
        dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1)  # (D, N)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.A_log._no_weight_decay = True
        self.D._no_weight_decay = True

    def forward(self, x: torch.Tensor, z: torch.Tensor, scan_backend: str = "auto") -> torch.Tensor:
        """x, z: (B, L, D) in this direction's order -> y (B, L, D) = scan(x) * silu(z)."""
        if self.pre_conv is not None:
            x = self.pre_conv(x)
        scan_backend = resolve_backend(scan_backend, x.device.type)   # once per direction: conv and scan agree
        if scan_backend == "cpp":                                     # conv + SiLU fused in the same extension
            x = cpp_kernel.causal_conv_silu(x, self.conv1d.weight, self.conv1d.bias)
        else:
            x = F.silu(causal_depthwise_conv(x, self.conv1d.weight, self.conv1d.bias))   # (B, L, D)
        x_dbl = self.x_proj(x)                                     # (B, L, R + 2N)
        dt, b, c = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = dt @ self.dt_proj.weight.t()                       # (B, L, D); bias + softplus in the scan
        # channels-last scan (no input NaN scan here: MDTF/BAM validate their input once at the entry)
        return selective_scan_channels_last(x, delta, -torch.exp(self.A_log.float()), b, c, self.D.float(), z,
                                            self.dt_proj.bias.float(), backend=scan_backend)   # (B, L, D)


class MambaMixer(nn.Module):
    """Mamba token mixer, bidirectional by default (``BiMamba`` is the same class), (B, L, C) -> (B, L, C).

    Args:
        d_model: C, the token width.
        d_state: N, the SSM state size per channel (16 in MDTF).
        d_conv: kernel of the causal depthwise conv (4).
        expand: D = expand * C (1 in MDTF).
        dt_rank: rank R of the delta projection; ``"auto"`` = ceil(C / 16).
        bidirectional: False keeps only the forward direction (the "unidirectional" ablation).
        pre_conv_fwd, pre_conv_bwd: optional modules (B, L, D) -> (B, L, D) run before each
            direction's conv; the backward one sees the reversed sequence.  GEM passes
            LayerNorm -> GCN here (``mdtf_lite.models.gcn``).
        scan_backend: name passed to ``mdtf_lite.ssm.selective_scan`` ("auto", "reference", "cpp", ...).
        dt_range: (dt_min, dt_max) of the initial step sizes, drawn log-uniformly (Mamba: 0.001, 0.1, made
            for sequences of thousands of tokens; a sequence of 17 joints or 27 frames wants larger steps,
            so the state mixes the whole sequence from the first update: the "cpu" preset uses 0.01, 1).

    Parameter count for C = 64 (expand 1, N 16, R 4): in_proj 8,192 + 2 x 4,032 + out_proj 4,096
    = 20,352 (plus whatever the hooks hold).
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 1, dt_rank="auto",
                 bidirectional: bool = True, pre_conv_fwd: nn.Module | None = None,
                 pre_conv_bwd: nn.Module | None = None, scan_backend: str = "auto",
                 dt_range: tuple[float, float] = (1e-3, 0.1)):
        super().__init__()
        if not 0 < dt_range[0] <= dt_range[1]:
            raise ValueError(f"BiMamba: dt_range must be (dt_min, dt_max) with 0 < dt_min <= dt_max, got {dt_range}")
        if d_model < 1 or expand < 1 or d_state < 1 or d_conv < 1:
            raise ValueError(f"BiMamba: d_model, expand, d_state, d_conv must be positive, got "
                             f"{d_model}, {expand}, {d_state}, {d_conv}")
        if pre_conv_bwd is not None and not bidirectional:
            raise ValueError("BiMamba: pre_conv_bwd given but bidirectional=False (there is no backward direction)")
        self.d_model, self.d_inner = d_model, expand * d_model
        self.bidirectional = bidirectional
        self.scan_backend = scan_backend
        rank = resolve_dt_rank(dt_rank, d_model)
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=False)
        dt_min, dt_max = dt_range
        self.fwd = ScanDirection(self.d_inner, d_state, d_conv, rank, pre_conv=pre_conv_fwd, dt_min=dt_min, dt_max=dt_max)
        self.bwd = (ScanDirection(self.d_inner, d_state, d_conv, rank, pre_conv=pre_conv_bwd, dt_min=dt_min,
                                  dt_max=dt_max) if bidirectional else None)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, L, C) -> (B, L, C)."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.d_model:
            raise ValueError(f"BiMamba expects tokens of shape (B, L, C={self.d_model}), got {tuple(tokens.shape)}")
        x, z = self.in_proj(tokens).chunk(2, dim=-1)               # (B, L, D) each
        y = self.fwd(x, z, self.scan_backend)
        if self.bwd is not None:
            y_bwd = self.bwd(x.flip(1), z.flip(1), self.scan_backend)
            y = (y + y_bwd.flip(1)) / 2
        return self.out_proj(y)


#: the name used throughout the notebooks: MDTF's mixers are all bidirectional (``bidirectional=True``).
BiMamba = MambaMixer
