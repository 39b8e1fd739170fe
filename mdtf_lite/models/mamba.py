"""The bidirectional Mamba mixer (Vision-Mamba "v2" style) used by every MDTF block, (B, L, C) -> (B, L, C).

    x, z   = in_proj(tokens).chunk(2)                       # shared by both directions, (B, L, D) each
    y_fwd  = ssm(fwd, x, z)                                 # scan over positions 0 .. L-1
    y_bwd  = ssm(bwd, flip(x), flip(z))                     # scan over positions L-1 .. 0
    out    = out_proj((y_fwd + flip(y_bwd)) / 2)            # shared

    ssm(p, x, z):                                           # one direction, parameters p (a ``Direction``)
        x        = silu(causal_depthwise_conv(x))           # (B, L, D), kernel K
        dt, B, C = x_proj(x).split(R, N, N)                 # input-dependent step and projections
        delta    = dt @ dt_proj.weight^T                    # (B, L, D); + dt_proj.bias, softplus in the scan
        y_t      = <C_t, h_t> + D x_t,  h_t = exp(delta_t A) h_{t-1} + delta_t x_t B_t      (the selective scan)
        return y * silu(z)

The two directions share ``in_proj``/``out_proj`` and own their conv, x_proj, dt_proj, A_log and D.
GEM (``models/gem.py``) is this mixer with a LayerNorm -> skeleton GCN before each direction's conv.

The scan backend is resolved once, when the mixer is built (and again if it is moved to another device
type): ``self.kernels`` holds the conv+SiLU and scan functions of ``mdtf_lite.ssm.mamba_kernels``, so a
forward call makes no backend decision.

Glossary (``mdtf_lite``): B sequences (batch x frames or batch x joints), L sequence length (17 joints or
T frames), C model width, D = expand * C inner width, N = d_state, R = dt_rank, K = d_conv.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from mdtf_lite.ssm import BACKENDS, CUDA_BACKENDS, MambaKernels, mamba_kernels

__all__ = ["Mamba", "Direction", "resolve_dt_rank"]


def resolve_dt_rank(dt_rank, d_model: int) -> int:
    """``"auto"`` -> ceil(C / 16) (Mamba's default); an int is returned unchanged."""
    if dt_rank == "auto":
        return math.ceil(d_model / 16)
    if not isinstance(dt_rank, int) or dt_rank < 1:
        raise ValueError(f"dt_rank must be 'auto' or a positive int, got {dt_rank!r}")
    return dt_rank


class Direction(nn.Module):
    """The parameters of one scan direction (``Mamba.ssm`` runs them; no forward of its own).

    Parameters (D = d_inner, N = d_state, R = dt_rank, K = d_conv):
        conv1d   depthwise Conv1d(D, D, K, groups=D) with bias       D*K + D
        x_proj   Linear(D, R + 2N), no bias (gives dt, B, C)         D*(R + 2N)
        dt_proj  Linear(R, D) with bias (the bias is delta's bias)  R*D + D
        A_log    (D, N), A = -exp(A_log) (S4D-real init: A[:, n] = -(n + 1))
        D        (D,) skip connection, init 1
    """

    def __init__(
        self,
        d_inner: int,
        d_state: int,
        d_conv: int,
        dt_rank: int,
        dt_min: float,
        dt_max: float,
        dt_init_floor: float = 1e-4,
    ):
        super().__init__()
        # stored as a Conv1d (the usual parameter layout), applied channels-last by the backend's conv_silu
        self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, bias=True)
        self.x_proj = nn.Linear(d_inner, dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(dt_rank, d_inner, bias=True)
        # Mamba's initialisation: dt_proj keeps the variance of delta at init, and its bias is
        # softplus^-1 of a step size drawn log-uniformly in [dt_min, dt_max].
        nn.init.uniform_(self.dt_proj.weight, -(dt_rank**-0.5), dt_rank**-0.5)
        dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1)  # (D, N)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(d_inner))
        self.A_log._no_weight_decay = True
        self.D._no_weight_decay = True


class Mamba(nn.Module):
    """Bidirectional Mamba token mixer, (B, L, C) -> (B, L, C).

    Args:
        d_model: C, the token width.
        d_state: N, the SSM state size per channel (16 in MDTF).
        d_conv: K, kernel of the causal depthwise conv (4).
        expand: D = expand * C (1 in MDTF).
        dt_rank: rank R of the delta projection; ``"auto"`` = ceil(C / 16).
        bidirectional: False keeps only the forward direction (the "unidirectional" ablation).
        scan_backend: a name of ``mdtf_lite.ssm.BACKENDS`` ("auto", "reference", "cpp", ...), resolved here.
        dt_range: (dt_min, dt_max) of the initial step sizes, drawn log-uniformly (Mamba: 0.001, 0.1, made
            for sequences of thousands of tokens; a sequence of 17 joints or 27 frames wants larger steps,
            so the state mixes the whole sequence from the first update: the "cpu" preset uses 0.01, 1).

    Parameter count for C = 64 (expand 1, N 16, R 4): in_proj 8,192 + 2 x 4,032 + out_proj 4,096 = 20,352.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 1,
        dt_rank="auto",
        bidirectional: bool = True,
        scan_backend: str = "auto",
        dt_range: tuple[float, float] = (1e-3, 0.1),
    ):
        super().__init__()
        if not 0 < dt_range[0] <= dt_range[1]:
            raise ValueError(f"Mamba: dt_range must be (dt_min, dt_max) with 0 < dt_min <= dt_max, got {dt_range}")
        if d_model < 1 or expand < 1 or d_state < 1 or d_conv < 1:
            raise ValueError(
                f"Mamba: d_model, expand, d_state, d_conv must be positive, got "
                f"{d_model}, {expand}, {d_state}, {d_conv}"
            )
        self.d_model, self.d_inner, self.d_state, self.d_conv = d_model, expand * d_model, d_state, d_conv
        self.dt_rank = resolve_dt_rank(dt_rank, d_model)
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=False)
        direction = dict(
            d_inner=self.d_inner,
            d_state=d_state,
            d_conv=d_conv,
            dt_rank=self.dt_rank,
            dt_min=dt_range[0],
            dt_max=dt_range[1],
        )
        self.fwd = Direction(**direction)
        self.bwd = Direction(**direction) if bidirectional else None
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)
        if scan_backend not in BACKENDS:
            raise ValueError(f"unknown selective-scan backend {scan_backend!r}; choose one of {BACKENDS}")
        self.scan_backend = scan_backend  # the name asked for; self.kernels is what runs
        self.kernels = self._resolve()

    def _resolve(self) -> MambaKernels | None:
        """The kernels for the parameters' device, resolved once per device.  A CUDA-only backend asked for
        on a model still on the CPU (built there, moved by ``.to("cuda")`` next) resolves when it is moved,
        or, if it never is, at its first forward, which then says why it cannot run."""
        device = self.in_proj.weight.device.type
        if device == "cpu" and self.scan_backend in CUDA_BACKENDS:
            return None
        return mamba_kernels(self.scan_backend, device)

    def _apply(self, fn, *args, **kwargs):
        """``.to()`` / ``.cuda()`` / ``.cpu()``: move the parameters, then resolve the backend for their device."""
        super()._apply(fn, *args, **kwargs)
        self.kernels = self._resolve()
        return self

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, L, C) -> (B, L, C)."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.d_model:
            raise ValueError(f"Mamba expects tokens of shape (B, L, C={self.d_model}), got {tuple(tokens.shape)}")
        x, z = self.in_proj(tokens).chunk(2, dim=-1)  # (B, L, D) each
        y = self.ssm(self.fwd, x, z)
        if self.bwd is not None:
            y = (y + self.ssm(self.bwd, x.flip(1), z.flip(1)).flip(1)) / 2
        return self.out_proj(y)

    def ssm(self, p: Direction, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """One direction: x, z (B, L, D) in that direction's order -> y (B, L, D) = scan(conv(x)) * silu(z)."""
        if self.kernels is None:  # a CUDA-only backend on a model left on the CPU: raises, naming the fix
            self.kernels = mamba_kernels(self.scan_backend, x.device.type)
        x = self.kernels.conv_silu(x, p.conv1d.weight, p.conv1d.bias)  # (B, L, D)
        dt, B, C = p.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)  # (B, L, R|N|N)
        delta = dt @ p.dt_proj.weight.t()  # (B, L, D)
        return self.kernels.scan(
            x, delta, -torch.exp(p.A_log.float()), B, C, p.D.float(), z, p.dt_proj.bias.float()
        )  # (B, L, D)

    def extra_repr(self) -> str:
        return f"scan_backend={self.scan_backend!r} -> {self.kernels.backend if self.kernels else '(resolved on its device)'!r}"
