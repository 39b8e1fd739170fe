"""What every scan backend shares around its core: dtype, step sizes, groups, D skip and gate.

    prepare:   cdt = compute_dtype(...)   u -> cdt   delta -> softplus(delta + delta_bias) (if asked)
               G = group_count(B, C)       (B, C of shape (B, N, L) are one group; (B, G, N, L) are G)
    core:      y, h_L = core(u, delta, A, B, C, ScanPlan(groups=G, chunk_size=K))   -- the backend's job
    epilogue:  y <- y + D u;  y <- y * silu(z);  cast back to u's dtype

A backend is then a small ``core`` plus :func:`scan_with_epilogue`; the group count is computed once
here and handed to the core in the plan.  Shapes (glossary in ``mdtf_lite``): u, delta, z (B, D, L);
A (D, N); B, C (B, N, L) or (B, G, N, L); D, delta_bias (D,); h_L (B, D, N).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "ScanPlan",
    "compute_dtype",
    "group_count",
    "expand_groups",
    "prepare_delta",
    "finish_output",
    "scan_with_epilogue",
]


@dataclass(frozen=True)
class ScanPlan:
    """What a core needs beyond the tensors: G groups of B/C, and K steps between stored states."""

    groups: int = 1
    chunk_size: int = 32


def compute_dtype(*tensors) -> torch.dtype:
    """float64 when any given tensor is float64 (an oracle run), else float32 (mamba-ssm's choice)."""
    return torch.float64 if any(t is not None and t.dtype == torch.float64 for t in tensors) else torch.float32


def group_count(B: torch.Tensor, C: torch.Tensor) -> int:
    """G of B, C: 1 for (B, N, L), else their group axis of (B, G, N, L) (the larger when one is ungrouped)."""
    return max(B.shape[1] if B.dim() == 4 else 1, C.shape[1] if C.dim() == 4 else 1)


def expand_groups(mat: torch.Tensor, d_inner: int) -> torch.Tensor:
    """(B, N, L) -> (B, 1, N, L) and (B, G, N, L) -> (B, D, N, L) by repeating each group D/G times."""
    if mat.dim() == 3:
        return mat.unsqueeze(1)
    groups = mat.shape[1]
    return mat.repeat_interleave(d_inner // groups, dim=1)


def prepare_delta(delta, delta_bias, delta_softplus, cdt):
    """delta (B, D, L) -> the step sizes the recurrence uses: + delta_bias (D,), then softplus if asked."""
    delta = delta.to(cdt)
    if delta_bias is not None:
        delta = delta + delta_bias.to(cdt)[:, None]
    return F.softplus(delta) if delta_softplus else delta


def finish_output(y, u, D, z, dtype_in):
    """y (B, D, L) -> y + D * u, gated by silu(z) when z (B, D, L) is given, cast back to the input dtype."""
    if D is not None:
        y = y + D.to(y.dtype)[:, None] * u
    if z is not None:
        y = y * F.silu(z.to(y.dtype))
    return y.to(dtype_in)


def scan_with_epilogue(
    core,
    u,
    delta,
    A,
    B,
    C,
    D=None,
    z=None,
    delta_bias=None,
    delta_softplus=False,
    return_last_state=False,
    chunk_size: int = 32,
):
    """Prepare, run ``core(u, delta, A, B, C, plan) -> (y, h_L)``, finish.  Returns y [, h_L].

    Computes in float32 (float64 if any input is float64); y comes back in u's dtype.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    dtype_in = u.dtype
    cdt = compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u = u.to(cdt)
    delta = prepare_delta(delta, delta_bias, delta_softplus, cdt)
    plan = ScanPlan(groups=group_count(B, C), chunk_size=int(chunk_size))
    y, last = core(u, delta, A.to(cdt), B.to(cdt), C.to(cdt), plan)
    y = finish_output(y, u, D, z, dtype_in)
    return (y, last) if return_last_state else y
