"""The ``cpp`` backend: the fused channels-last C++ scan (``csrc/scan_cpu.cpp``), built on first use.

One kernel call does a whole Mamba direction's S6 step -- softplus(delta + bias), the recurrence, the
``D`` skip and the ``silu(z)`` gate -- for all sequences at once, spread over torch's intra-op threads
(``torch.set_num_threads`` controls it).  Layout is channels-last, the layout the model computes in:

    u, delta, z (S, L, D);  A (D, N);  B, C (S, L, N);  D, delta_bias (D,)  ->  y (S, L, D)

(S sequences, L length, D channels, N states; glossary in ``mdtf_lite``).  ``delta`` is the raw
projection: the kernel adds ``delta_bias`` and applies softplus itself.  Each (S, L, *) tensor may be a
strided view as long as its last dimension is contiguous.

Building: ``torch.utils.cpp_extension.load`` compiles the source once (about a minute; ``scripts/setup.sh``
does it at set-up) into ``$MDTF_EXTENSIONS_DIR`` (default ``~/.cache/mdtf_lite``), keyed by the source
and flags, and later imports reuse the library.  If it cannot be built (no compiler, no headers),
``available()`` is False, ``build_error()`` says why, and ``backend="auto"`` falls back to the other CPU
backends with a one-time warning.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import torch

__all__ = ["available", "build", "build_error", "scan_channels_last", "causal_conv_silu", "SOURCE"]

SOURCE = Path(__file__).with_name("csrc") / "scan_cpu.cpp"
_STATE: dict = {}


def _flags() -> list[str]:
    flags = ["-O3", "-fopenmp", "-fno-math-errno", "-fno-trapping-math",
             "-fassociative-math", "-fno-signed-zeros"]   # reassociation: SIMD sums over channels
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]          # the SIMD width every x86-64 machine of the last decade has
    return flags


def _build_copy(name: str, flags: list[str]) -> Path:
    """The source copied into its own build folder, named by a hash of (source, flags, torch version).

    Compiling a copy keeps the build independent of where the package lives: two checkouts with the
    same source share one build, and different sources never overwrite each other's library (with the
    checkout's own path in the build file, alternating checkouts would recompile on every import).
    """
    text = SOURCE.read_bytes()
    key = hashlib.sha256(text + " ".join(flags).encode() + torch.__version__.encode()).hexdigest()[:12]
    folder = Path(os.environ.get("MDTF_EXTENSIONS_DIR", Path.home() / ".cache" / "mdtf_lite")) / f"{name}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / SOURCE.name
    if not copy.exists() or copy.read_bytes() != text:
        tmp = folder / f".{SOURCE.name}.{os.getpid()}.tmp"
        tmp.write_bytes(text)
        os.replace(tmp, copy)             # atomic: a concurrent build never sees half a file
    return copy


def build(verbose: bool = False):
    """Compile (or load the cached build of) the extension; returns the module.  Raises on failure."""
    if "module" in _STATE:
        return _STATE["module"]
    from torch.utils.cpp_extension import load

    flags = _flags()
    name = "mdtf_scan_cpu_" + ("avx2" if "-mavx2" in flags else "generic")
    source = _build_copy(name, flags)
    # -fopenmp: at::parallel_for is inline OpenMP; the library links libgomp.so.1, which resolves to the copy
    # torch has already loaded (one thread pool, sized by torch.set_num_threads).
    module = load(name=name, sources=[str(source)], extra_cflags=flags, extra_ldflags=["-fopenmp"],
                  build_directory=str(source.parent), verbose=verbose)
    _STATE["module"] = module
    return module


def available() -> bool:
    """True when the extension is built or can be built now (the first call may compile it)."""
    if "module" in _STATE:
        return True
    if "error" in _STATE:
        return False
    try:
        build()
    except Exception as exc:  # compiler missing, headers missing, ...: remember why, fall back
        _STATE["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        warnings.warn(f"mdtf_lite: the fused C++ scan could not be built ({_STATE['error']}); using the numba/"
                      "PyTorch CPU scans instead. Run `python -m mdtf_lite.ssm.cpp_kernel` to see the compiler output.",
                      RuntimeWarning, stacklevel=2)
        return False
    return True


def build_error() -> str | None:
    """Why the extension is unavailable (None when it works or was not tried)."""
    return _STATE.get("error")


class _FusedScanCL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, z, delta_bias):
        y, last = _STATE["module"].forward(u, delta, A, B, C, D, z, delta_bias)
        ctx.save_for_backward(u, delta, A, B, C, D, z, delta_bias)
        return y, last

    @staticmethod
    def backward(ctx, gy, glast):
        if glast is not None and bool(glast.abs().sum() > 0):
            raise NotImplementedError("the cpp scan does not back-propagate through the last state")
        grads = _STATE["module"].backward(*ctx.saved_tensors, gy.contiguous())
        return tuple(grads)


class _ConvSiLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight, bias)
        return _STATE["module"].conv_silu_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, gu):
        return tuple(_STATE["module"].conv_silu_backward(*ctx.saved_tensors, gu.contiguous()))


def causal_conv_silu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """silu(causal depthwise conv(x)) in one pass: x (S, L, D), weight (D, 1, K) or (D, K), bias (D,) -> (S, L, D).

    Equal to ``F.silu(mdtf_lite.models.mamba.causal_depthwise_conv(x, weight, bias))``.
    """
    if not available():
        raise RuntimeError(f"the cpp kernels are unavailable: {build_error()}")
    w = weight.reshape(weight.shape[0], weight.shape[-1])
    y = _ConvSiLU.apply(_last_dim_contiguous(x.float()), w.float().contiguous(), bias.float().contiguous())
    return y.to(x.dtype)


def _last_dim_contiguous(t: torch.Tensor) -> torch.Tensor:
    return t if t.stride(-1) == 1 else t.contiguous()


def scan_channels_last(u, delta, A, B, C, D, z, delta_bias, return_last_state: bool = False):
    """Fused scan on (S, L, D) tensors (see the module docstring) -> y (S, L, D) [, h_L (S, D, N)].

    ``delta_softplus`` is always on (as in every Mamba block); ``D``, ``z`` and ``delta_bias`` are required.
    """
    if not available():
        raise RuntimeError(f"the cpp scan backend is unavailable: {build_error()}")
    args = [_last_dim_contiguous(t.float()) for t in (u, delta, A, B, C, D, z, delta_bias)]
    y, last = _FusedScanCL.apply(*args)
    y = y.to(u.dtype)
    return (y, last.transpose(1, 2)) if return_last_state else y


if __name__ == "__main__":  # python -m mdtf_lite.ssm.cpp_kernel: build verbosely, say where it went
    mod = build(verbose=True)
    print(f"cpp scan: built {mod.__file__}")
