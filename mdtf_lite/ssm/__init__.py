"""The selective scan (Mamba's S6 recurrence) with interchangeable backends.

``selective_scan`` has the signature and semantics of mamba-ssm's ``selective_scan_fn`` (real-valued):

    u, delta, z (B, D, L);  A (D, N);  B, C (B, N, L) or grouped (B, G, N, L);  D, delta_bias (D,)
    delta <- softplus(delta + delta_bias)             (softplus only if delta_softplus)
    h_t = exp(delta_t A) * h_{t-1} + delta_t u_t B_t    h: (B, D, N), h_0 = 0
    y_t = <C_t, h_t> + D u_t ;  y <- y * silu(z)        returns y (B, D, L) [, h_L (B, D, N)]

Backends (``backend=``):

* ``reference`` -- the plain sequential recurrence (``mdtf_lite.ssm.reference``), for teaching;
* ``cpp``       -- the fused channels-last C++ kernel (``mdtf_lite.ssm.cpp_kernel``): softplus, scan, D skip
  and gate in one pass over SIMD lanes of channels, on torch's threads; built once at set-up;
* ``cpu``       -- numba kernels with a checkpointed backward (``mdtf_lite.ssm.cpu``);
* ``torch``     -- the pure-PyTorch chunked scan of ``mdtf_lite.ssm.cpu`` (any device, no compiler);
* ``triton``    -- Triton forward/backward kernels (``mdtf_lite.ssm.triton_kernel``), CUDA tensors, or
  any tensors under ``TRITON_INTERPRET=1`` (Triton's CPU interpreter, slow; used by the tests);
* ``mamba_ssm`` -- mamba-ssm's compiled CUDA ``selective_scan_fn`` (needs its CUDA build and CUDA tensors);
* ``auto``      -- the fastest available for the device and shape: CUDA -> mamba_ssm, else triton;
  CPU -> by measured speed at the shape (``CPU_PREFERENCE``; ``python -m mdtf_lite.bench scan-shapes``).

Dispatch is a table, ``SCAN_CORES`` (name -> scan function); every backend shares the preparation and
epilogue of ``mdtf_lite.ssm.epilogue`` (dtype, softplus(delta + bias), group count, D skip, silu gate)
around its own small core.

Two layouts.  ``selective_scan`` takes mamba-ssm's (B, D, L) and resolves its backend on every call (a
function for tests, notebooks and benchmarks).  A model resolves its backend ONCE, when it is built
(or moved to another device): ``mamba_kernels(backend, device_type)`` returns the pair a Mamba direction
calls -- ``conv_silu`` and ``scan`` -- in the (S, L, D) layout the blocks compute in (S sequences), so
the ``cpp`` kernels need no transposes and the other backends are reached through one.  Which backends
can run here is probed once per process (``available_backends`` is cached).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Callable

import torch

from . import cpp_kernel
from .conv import causal_conv_silu
from .cpu import numba_available, selective_scan_cpu, selective_scan_torch
from .reference import selective_scan_reference
from .validate import validate_scan_inputs

BACKENDS = ("auto", "reference", "cpp", "cpu", "torch", "triton", "mamba_ssm")
CUDA_BACKENDS = ("triton", "mamba_ssm")  # run on CUDA tensors (triton also under TRITON_INTERPRET=1)

#: what ``auto`` picks on CPU tensors, fastest first, per sequence length L (forward + backward at the
#: models' shapes: C = 16..64, N = 16; measured with ``python -m mdtf_lite.bench scan-shapes``, README).
#: The fused C++ kernel leads at every measured L; without a compiler, numba's kernels beat the
#: Python-loop reference at every L of the models too.  The first available entry is used.
CPU_PREFERENCE = ("cpp", "cpu", "torch", "reference")

__all__ = [
    "selective_scan",
    "selective_scan_channels_last",
    "mamba_kernels",
    "MambaKernels",
    "available_backends",
    "resolve_backend",
    "BACKENDS",
    "CUDA_BACKENDS",
    "CPU_PREFERENCE",
    "SCAN_CORES",
    "selective_scan_reference",
    "selective_scan_cpu",
    "validate_scan_inputs",
]


@functools.cache
def _triton_usable(device_type: str) -> tuple[bool, str]:
    if importlib.util.find_spec("triton") is None:
        return False, "triton is not installed (`pip install triton`)"
    if device_type == "cuda":
        return True, ""
    loaded = sys.modules.get("mdtf_lite.ssm.triton_kernel")
    if loaded.INTERPRETED if loaded is not None else os.environ.get("TRITON_INTERPRET") == "1":
        return True, ""
    return False, (
        "the triton backend needs CUDA tensors, or TRITON_INTERPRET=1 set before triton is first "
        "imported (Triton's CPU interpreter; slow, for testing)"
    )


@functools.cache
def _mamba_ssm_usable(device_type: str) -> tuple[bool, str]:
    from .mamba_ssm_backend import has_cuda_kernels

    if device_type != "cuda":
        return False, "the mamba_ssm backend runs mamba-ssm's CUDA kernels and needs CUDA tensors"
    if not has_cuda_kernels():
        return False, "mamba-ssm's CUDA kernels are not built on this machine (CPU install)"
    return True, ""


@functools.cache
def _cpu_backend_usable(name: str) -> bool:
    """Whether a CPU backend of ``CPU_PREFERENCE`` runs here (asked in preference order: ``auto`` stops at
    the first, so a built C++ kernel spares the numba import)."""
    if name == "cpp":
        return cpp_kernel.available()
    if name == "cpu":
        return numba_available()
    return True


@functools.cache
def available_backends(device_type: str = "cpu") -> tuple[str, ...]:
    """Backends that can run tensors on ``device_type`` ("cpu" or "cuda") on this machine.

    Probed once per process and device type (the answer cannot change: a compiler or a CUDA build does
    not appear while Python runs).

    >>> {"reference", "torch"} <= set(available_backends("cpu"))     # pure PyTorch: always
    True
    """
    names = ["reference", "torch"]
    if device_type == "cpu":
        names += [name for name in ("cpu", "cpp") if _cpu_backend_usable(name)]
    if _triton_usable(device_type)[0]:
        names.append("triton")
    if _mamba_ssm_usable(device_type)[0]:
        names.append("mamba_ssm")
    return tuple(names)


def resolve_backend(backend: str, device_type: str) -> str:
    """Map ``auto`` to a concrete backend and raise a clear ``ValueError``/``RuntimeError`` if unusable."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown selective-scan backend {backend!r}; choose one of {list(BACKENDS)}")
    if backend == "auto":
        if device_type == "cuda":
            for name in ("mamba_ssm", "triton"):
                if name in available_backends("cuda"):
                    return name
            return "torch"
        return next(name for name in CPU_PREFERENCE if _cpu_backend_usable(name))
    if backend in ("cpp", "cpu") and device_type != "cpu":
        raise RuntimeError(
            f"selective-scan backend {backend!r} runs CPU tensors only; use 'auto' or 'triton' on {device_type}"
        )
    if backend == "cpp" and not cpp_kernel.available():
        raise RuntimeError(
            f"selective-scan backend 'cpp' is unavailable: {cpp_kernel.build_error()}; available "
            f"here: {available_backends(device_type)}"
        )
    if backend == "triton":
        ok, why = _triton_usable(device_type)
    elif backend == "mamba_ssm":
        ok, why = _mamba_ssm_usable(device_type)
    else:
        ok, why = True, ""
    if not ok:
        raise RuntimeError(
            f"selective-scan backend {backend!r} is unavailable: {why}. "
            f"Available here for {device_type} tensors: {available_backends(device_type)}"
        )
    return backend


# ------------------------------------------------------------------------------ the backend table
# Every entry: (u, delta, A, B, C, *, D, z, delta_bias, delta_softplus, return_last_state) -> y [, h_L],
# (B, D, L) layout.  The triton and mamba_ssm modules are imported on first use only: each pulls in a
# heavy optional dependency (triton's compiler; mamba-ssm's CUDA extension).
def _scan_cpp(u, delta, A, B, C, **kw):
    """The fused C++ kernel covers the Mamba block's case (D, z, delta_bias, softplus, ungrouped B/C);
    anything else goes to the next CPU backend."""
    if (
        kw["D"] is None
        or kw["z"] is None
        or kw["delta_bias"] is None
        or not kw["delta_softplus"]
        or B.dim() != 3
        or C.dim() != 3
        # the kernel's last state carries no gradient: when one may flow through it, the next backend scans
        or (kw["return_last_state"] and torch.is_grad_enabled() and any(t.requires_grad for t in (u, delta, A, B, C)))
    ):
        return selective_scan_cpu(u, delta, A, B, C, **kw)
    out = cpp_kernel.scan_channels_last(
        u.transpose(1, 2),
        delta.transpose(1, 2),
        A,
        B.transpose(1, 2),
        C.transpose(1, 2),
        kw["D"],
        kw["z"].transpose(1, 2),
        kw["delta_bias"],
        return_last_state=kw["return_last_state"],
    )
    if kw["return_last_state"]:
        return out[0].transpose(1, 2), out[1]
    return out.transpose(1, 2)


def _scan_triton(u, delta, A, B, C, **kw):
    from .triton_kernel import selective_scan_triton

    return selective_scan_triton(u, delta, A, B, C, **kw)


def _scan_mamba_ssm(u, delta, A, B, C, **kw):
    from .mamba_ssm_backend import load_selective_scan_fn

    return load_selective_scan_fn()(u, delta, A, B, C, **kw)


#: backend name -> scan function; ``resolve_backend`` picks the name ("auto" included).
SCAN_CORES = {
    "reference": selective_scan_reference,
    "cpp": _scan_cpp,
    "cpu": selective_scan_cpu,
    "torch": selective_scan_torch,
    "triton": _scan_triton,
    "mamba_ssm": _scan_mamba_ssm,
}


def selective_scan(
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
    backend: str = "auto",
    check_finite: bool = True,
):
    """Run the selective scan on ``backend``.  Returns y (B, D, L) [, last state h_L (B, D, N)].

    Shapes as in the module docstring.  Bad shapes, mixed devices, complex or non-finite inputs raise
    ``ValueError`` before any compute; an unavailable backend raises ``RuntimeError`` naming the ones
    that are available.  ``check_finite=False`` skips only the NaN/Inf scan of every input (a full
    pass over each tensor): models that validate their own input once at the entry use it, since
    inside a network a non-finite value can only come from that input or from the weights.
    """
    validate_scan_inputs(u, delta, A, B, C, D=D, z=z, delta_bias=delta_bias, check_finite=check_finite)
    name = resolve_backend(backend, u.device.type)
    return SCAN_CORES[name](
        u,
        delta,
        A,
        B,
        C,
        D=D,
        z=z,
        delta_bias=delta_bias,
        delta_softplus=delta_softplus,
        return_last_state=return_last_state,
    )


# ------------------------------------------------------------------- what a model's mixer calls
@dataclass(frozen=True)
class MambaKernels:
    """The two functions of one Mamba direction on one backend, channels-last (resolved once).

    conv_silu(x, weight, bias):  x (S, L, D), weight (D, 1, K), bias (D,) -> silu(causal depthwise conv) (S, L, D)
    scan(u, delta, A, B, C, D, z, delta_bias):  u, delta, z (S, L, D); A (D, N); B, C (S, L, N);
        D, delta_bias (D,) -> y (S, L, D), with delta <- softplus(delta + delta_bias) and y * silu(z)
    """

    backend: str
    conv_silu: Callable
    scan: Callable


@dataclass(frozen=True)
class _ThroughTranspose:
    """A (B, D, L) scan core as a channels-last ``MambaKernels.scan`` (one transpose each way; picklable)."""

    core: Callable

    def __call__(self, u, delta, A, B, C, D, z, delta_bias):
        y = self.core(
            u.transpose(1, 2),
            delta.transpose(1, 2),
            A,
            B.transpose(1, 2).contiguous(),
            C.transpose(1, 2).contiguous(),
            D=D,
            z=z.transpose(1, 2),
            delta_bias=delta_bias,
            delta_softplus=True,
            return_last_state=False,
        )
        return y.transpose(1, 2)


@functools.cache
def mamba_kernels(backend: str, device_type: str) -> MambaKernels:
    """The conv + scan pair a Mamba mixer calls on ``device_type`` tensors, ``backend`` ("auto" included)
    resolved now: an unknown or unusable backend raises here, when the module is built, not mid-training.

    ``cpp`` gets the fused C++ conv+SiLU and scan (no transposes); every other backend the PyTorch conv
    (``mdtf_lite.ssm.conv``) and its ``SCAN_CORES`` entry through a transpose.  Inputs are not
    validated per call: the model builds them with the right shapes, and validates its own input at the
    API boundary (``mdtf_lite.models.inputs``).
    """
    name = resolve_backend(backend, device_type)
    if name == "cpp":
        return MambaKernels(name, cpp_kernel.causal_conv_silu, cpp_kernel.scan_channels_last)
    return MambaKernels(name, causal_conv_silu, _ThroughTranspose(SCAN_CORES[name]))


def selective_scan_channels_last(u, delta, A, B, C, D, z, delta_bias, backend: str = "auto"):
    """The Mamba block's scan in its own layout: y (S, L, D) = selective_scan(...) with softplus on.

    Args:
        u, delta, z: (S, L, D) -- S sequences of L steps, D channels; ``delta`` before bias and softplus.
        A: (D, N).  B, C: (S, L, N) (strided views are fine).  D, delta_bias: (D,).
        backend: any of ``BACKENDS``, resolved by :func:`mamba_kernels` (cached).
    """
    return mamba_kernels(backend, u.device.type).scan(u, delta, A, B, C, D, z, delta_bias)
