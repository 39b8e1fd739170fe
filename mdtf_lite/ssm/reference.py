"""The selective scan as a plain sequential recurrence: the teaching version and a second oracle.

Shapes (glossary in ``mdtf_lite``): u, delta (B, D, L); A (D, N); B, C (B, N, L) or grouped
(B, G, N, L); D (D,); z (B, D, L); delta_bias (D,).

    h_t = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t       h: (B, D, N)
    y_t = <C_t, h_t> + D * u_t ;   y = y * silu(z) if z is given
"""

from __future__ import annotations

import torch

from .epilogue import compute_dtype, expand_groups, finish_output, prepare_delta

__all__ = ["selective_scan_reference"]


def selective_scan_reference(
    u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, return_last_state=False
):
    """Sequential selective scan (differentiable by autograd).  Returns y (B, D, L) [, h_L (B, D, N)].

    Computes in float32, or in float64 when any input is float64 (the float64 oracle of the tests).
    Iterates over ``unbind`` views rather than indexing ``x[:, :, t]``: indexing inside the loop makes
    autograd's backward allocate a full-size gradient per step (quadratic in L).
    """
    dtype_in = u.dtype
    cdt = compute_dtype(u, delta, A, B, C, D, z, delta_bias)
    u, A = u.to(cdt), A.to(cdt)
    delta = prepare_delta(delta, delta_bias, delta_softplus, cdt)
    d_inner = u.shape[1]
    Bm = expand_groups(B.to(cdt), d_inner)  # (B, D|1, N, L)
    Cm = expand_groups(C.to(cdt), d_inner)
    h = u.new_zeros(u.shape[0], d_inner, A.shape[1])
    ys = []
    for u_t, d_t, b_t, c_t in zip(u.unbind(-1), delta.unbind(-1), Bm.unbind(-1), Cm.unbind(-1)):
        h = torch.exp(d_t.unsqueeze(-1) * A) * h + (d_t * u_t).unsqueeze(-1) * b_t
        ys.append((h * c_t).sum(-1))
    y = finish_output(torch.stack(ys, dim=-1), u, D, z, dtype_in)
    return (y, h) if return_last_state else y
