"""The ``cpp`` backend: the fused channels-last C++ kernels (``ssm/csrc/scan_cpu.cpp``) as torch operators.

One scan call does a whole Mamba direction's S6 step -- softplus(delta + bias), the recurrence, the
``D`` skip and the ``silu(z)`` gate -- for all sequences at once, spread over torch's intra-op threads
(``torch.set_num_threads`` controls it), with gradients that are bit-identical at any thread count.
Layout is channels-last, the layout the model computes in:

    u, delta, z (S, L, D);  A (D, N);  B, C (S, L, N);  D, delta_bias (D,)  ->  y (S, L, D)

(S sequences, L length, D channels, N states; glossary in ``mdtf_lite``).  ``delta`` is the raw
projection: the kernel adds ``delta_bias`` and applies softplus itself.  Each (S, L, *) tensor may be a
strided view as long as its last dimension is contiguous.

Built once at set-up (``python -m mdtf_lite.ssm.cpp_kernel``; ``build.py`` says where and how), never at
import.  ``load()`` loads the prebuilt library with ``torch.ops.load_library`` -- no compiler, no lock --
and registers the operators' fake-tensor shapes and autograd formulas, so ``torch.compile`` can trace
through them:

    torch.ops.mdtf_lite.scan_fwd(u, delta, A, B, C, Dskip, z, delta_bias) -> (y (S, L, D), h_L (S, N, D))
    torch.ops.mdtf_lite.scan_bwd(..., grad_y) -> [du, ddelta, dA, dB, dC, dDskip, dz, ddelta_bias]
    torch.ops.mdtf_lite.conv_silu_fwd(x, weight (D, K), bias) -> u (S, L, D)
    torch.ops.mdtf_lite.conv_silu_bwd(x, weight, bias, grad_u) -> [dx, dweight, dbias]

A missing or stale build (another source or torch version) is not loaded: ``available()`` is False,
``build_error()`` says why, and ``backend="auto"`` falls back to the other CPU backends after one warning.
"""

from __future__ import annotations

import warnings

import torch

from . import build as _build

__all__ = ["load", "available", "build_error", "scan_channels_last", "causal_conv_silu"]

_STATE: dict = {}


def _ops_registered() -> bool:
    """True when the operators exist in this process already (the build step loads its library as a check)."""
    try:
        _ = torch.ops.mdtf_lite.scan_fwd  # the attribute lookup fails when the library is not loaded
    except (AttributeError, RuntimeError):
        return False
    return True


def load() -> bool:
    """Load the prebuilt library once (cached): True when the ``cpp`` operators are ready.

    Never compiles and never waits on a lock.  When the build is missing or stale, returns False after one
    ``RuntimeWarning`` saying how to build it; ``build_error()`` keeps the reason.
    """
    if "ok" in _STATE:
        return _STATE["ok"]
    problem = None
    if not _ops_registered():
        problem = _build.build_problem()
        if problem is None:
            try:
                torch.ops.load_library(str(_build.library_file()))
            except (OSError, RuntimeError) as exc:  # e.g. built against another libtorch ABI
                problem = f"broken: {_build.library_file()} does not load ({str(exc).strip().splitlines()[0]})"
    if problem is None:
        _register_fake_and_autograd()
        _STATE["ok"] = True
        return True
    _STATE["ok"] = False
    _STATE["error"] = (
        f"the fused C++ scan kernels are {problem}; build them with "
        "`python -m mdtf_lite.ssm.cpp_kernel` (or `make setup`)"
    )
    warnings.warn(
        f"mdtf_lite: {_STATE['error']}. Using the numba/PyTorch CPU scans meanwhile.", RuntimeWarning, stacklevel=2
    )
    return False


def available() -> bool:
    """True when the ``cpp`` backend can run here (``load()``; cached after the first call)."""
    return load()


def build_error() -> str | None:
    """Why the ``cpp`` backend is unavailable and how to fix it (None when it works or was not tried)."""
    return _STATE.get("error")


# ------------------------------------------------------------------ fake tensors and autograd
def _scan_fwd_fake(u, delta, A, B, C, Dskip, z, delta_bias):
    S, L, D = u.shape
    return u.new_empty((S, L, D)), u.new_empty((S, A.shape[1], D))


def _scan_bwd_fake(u, delta, A, B, C, Dskip, z, delta_bias, grad_y):
    S, L, D = u.shape
    N = A.shape[1]
    return [
        u.new_empty((S, L, D)),
        u.new_empty((S, L, D)),
        A.new_empty((D, N)),
        u.new_empty((S, L, N)),
        u.new_empty((S, L, N)),
        u.new_empty((D,)),
        u.new_empty((S, L, D)),
        u.new_empty((D,)),
    ]


def _conv_fwd_fake(x, weight, bias):
    return x.new_empty(x.shape)


def _conv_bwd_fake(x, weight, bias, grad_u):
    return [x.new_empty(x.shape), weight.new_empty(weight.shape), bias.new_empty(bias.shape)]


def _scan_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)
    ctx.mark_non_differentiable(output[1])  # the last state h_L: returned for inspection, no gradient


def _scan_backward(ctx, grad_y, grad_last):
    return tuple(torch.ops.mdtf_lite.scan_bwd(*ctx.saved_tensors, grad_y.contiguous()))


def _conv_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _conv_backward(ctx, grad_u):
    return tuple(torch.ops.mdtf_lite.conv_silu_bwd(*ctx.saved_tensors, grad_u.contiguous()))


def _register_fake_and_autograd() -> None:
    if _STATE.get("registered"):
        return
    torch.library.register_fake("mdtf_lite::scan_fwd")(_scan_fwd_fake)
    torch.library.register_fake("mdtf_lite::scan_bwd")(_scan_bwd_fake)
    torch.library.register_fake("mdtf_lite::conv_silu_fwd")(_conv_fwd_fake)
    torch.library.register_fake("mdtf_lite::conv_silu_bwd")(_conv_bwd_fake)
    torch.library.register_autograd("mdtf_lite::scan_fwd", _scan_backward, setup_context=_scan_setup)
    torch.library.register_autograd("mdtf_lite::conv_silu_fwd", _conv_backward, setup_context=_conv_setup)
    _STATE["registered"] = True


# ------------------------------------------------------------------ the functions the models call
def _last_dim_contiguous(t: torch.Tensor) -> torch.Tensor:
    return t if t.stride(-1) == 1 else t.contiguous()


def causal_conv_silu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """silu(causal depthwise conv(x)) in one pass: x (S, L, D), weight (D, 1, K) or (D, K), bias (D,) -> (S, L, D).

    Equal to ``F.silu(mdtf_lite.ssm.conv.causal_depthwise_conv(x, weight, bias))``.
    """
    if not _STATE.get("ok") and not load():  # a dict lookup once loaded: torch.compile traces it freely
        raise RuntimeError(f"the cpp kernels are unavailable: {build_error()}")
    w = weight.reshape(weight.shape[0], weight.shape[-1])
    y = torch.ops.mdtf_lite.conv_silu_fwd(
        _last_dim_contiguous(x.float()), w.float().contiguous(), bias.float().contiguous()
    )
    return y.to(x.dtype)


def scan_channels_last(u, delta, A, B, C, D, z, delta_bias, return_last_state: bool = False):
    """Fused scan on (S, L, D) tensors (see the module docstring) -> y (S, L, D) [, h_L (S, D, N)].

    ``delta_softplus`` is always on (as in every Mamba block); ``D``, ``z`` and ``delta_bias`` are required.
    The last state h_L carries no gradient.
    """
    if not _STATE.get("ok") and not load():
        raise RuntimeError(f"the cpp scan backend is unavailable: {build_error()}")
    args = [_last_dim_contiguous(t.float()) for t in (u, delta, A, B, C, D, z, delta_bias)]
    y, last = torch.ops.mdtf_lite.scan_fwd(*args)
    y = y.to(u.dtype)
    return (y, last.transpose(1, 2)) if return_last_state else y
