"""Input checks shared by every selective-scan backend: clear errors before any heavy compute.

Shapes (glossary in ``mdtf_lite``): u, delta, z (B, D, L); A (D, N); B, C (B, N, L) or grouped
(B, G, N, L) with D divisible by G; D and delta_bias (D,).
"""

from __future__ import annotations

import torch


def _shape(t) -> str:
    return "x".join(str(s) for s in t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def validate_scan_inputs(u, delta, A, B, C, D=None, z=None, delta_bias=None, check_finite: bool = True) -> None:
    """Raise ``ValueError`` naming the argument and its shape when the inputs do not fit together.

    Args:
        u, delta: (B, D, L) real tensors on one device.
        A: (D, N) real (complex A, which mamba-ssm also accepts, is not supported here).
        B, C: (B, N, L) or (B, G, N, L) with D % G == 0.
        D, delta_bias: (D,) or None.  z: (B, D, L) or None.
        check_finite: also reject NaN/Inf in the inputs (one cheap pass; skip it inside hot loops).
    """
    named = {"u": u, "delta": delta, "A": A, "B": B, "C": C, "D": D, "z": z, "delta_bias": delta_bias}
    for name, t in named.items():
        if t is None:
            continue
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"selective_scan: {name} must be a torch.Tensor, got {type(t).__name__}")
        if t.is_complex():
            raise ValueError(
                f"selective_scan: {name} is complex ({t.dtype}); only real-valued scans are "
                "supported (use mamba-ssm's selective_scan_ref for complex A)"
            )
        if not t.is_floating_point():
            raise ValueError(f"selective_scan: {name} must be a floating-point tensor, got {t.dtype}")
    if u.dim() != 3:
        raise ValueError(f"selective_scan: u must be (B, D, L), got shape {_shape(u)}")
    batch, d_inner, length = u.shape
    if length == 0 or batch == 0 or d_inner == 0:
        raise ValueError(f"selective_scan: u has an empty dimension, shape {_shape(u)}")
    if delta.shape != u.shape:
        raise ValueError(f"selective_scan: delta must have u's shape (B, D, L) = {_shape(u)}, got {_shape(delta)}")
    if A.dim() != 2 or A.shape[0] != d_inner:
        raise ValueError(f"selective_scan: A must be (D, N) with D = {d_inner} (u.shape[1]), got {_shape(A)}")
    n_state = A.shape[1]
    for name, m in (("B", B), ("C", C)):
        if m.dim() == 3:
            if m.shape != (batch, n_state, length):
                raise ValueError(
                    f"selective_scan: {name} must be (B, N, L) = ({batch}, {n_state}, {length}) "
                    f"or grouped (B, G, N, L), got {_shape(m)}"
                )
        elif m.dim() == 4:
            groups = m.shape[1]
            if m.shape[0] != batch or m.shape[2:] != (n_state, length) or groups == 0 or d_inner % groups:
                raise ValueError(
                    f"selective_scan: grouped {name} must be (B, G, N, L) = ({batch}, G, {n_state}, "
                    f"{length}) with D = {d_inner} divisible by G, got {_shape(m)}"
                )
        else:
            raise ValueError(
                f"selective_scan: {name} must be (B, N, L) or (B, G, N, L) (input-dependent); "
                f"got {_shape(m)} (time-invariant (D, N) B/C is not supported)"
            )
    if B.dim() == 4 and C.dim() == 4 and B.shape[1] != C.shape[1]:
        raise ValueError(f"selective_scan: B and C must use the same number of groups, got {_shape(B)} and {_shape(C)}")
    for name, t in (("D", D), ("delta_bias", delta_bias)):
        if t is not None and t.shape != (d_inner,):
            raise ValueError(f"selective_scan: {name} must be (D,) = ({d_inner},), got {_shape(t)}")
    if z is not None and z.shape != u.shape:
        raise ValueError(f"selective_scan: z must have u's shape (B, D, L) = {_shape(u)}, got {_shape(z)}")
    devices = {t.device for t in named.values() if t is not None}
    if len(devices) > 1:
        raise ValueError(f"selective_scan: all inputs must be on one device, got {sorted(map(str, devices))}")
    if check_finite:
        for name, t in named.items():
            if t is not None and not bool(torch.isfinite(t).all()):
                raise ValueError(
                    f"selective_scan: {name} contains NaN or Inf; fix the producer of {name} "
                    "(e.g. a diverged layer) before the scan"
                )
