"""The selective scan (Mamba's S6 recurrence) with interchangeable backends.

``selective_scan`` has exactly the signature and semantics of mamba-ssm's ``selective_scan_fn``.
Backends: ``reference`` (sequential loop), and more added by ``mdtf_lite.ssm`` modules;
``auto`` picks the best one available for the tensors' device.
"""

from __future__ import annotations

from .reference import selective_scan_reference

_BACKENDS = {"reference": selective_scan_reference}


def available_backends() -> list[str]:
    return sorted(_BACKENDS)


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   return_last_state=False, backend: str = "auto"):
    """y (B, D, L) [, last_state (B, D, N)] — see ``mdtf_lite.ssm.reference`` for the recurrence."""
    if backend == "auto":
        backend = "reference"
    if backend not in _BACKENDS:
        raise ValueError(f"unknown or unavailable selective-scan backend {backend!r}; available: {available_backends()}")
    return _BACKENDS[backend](u, delta, A, B, C, D=D, z=z, delta_bias=delta_bias,
                              delta_softplus=delta_softplus, return_last_state=return_last_state)
