"""Access to the official mamba-ssm package, with or without its compiled CUDA kernels.

mamba-ssm's package ``__init__`` imports its compiled extension ``selective_scan_cuda``
unconditionally, so on a CPU-only install (built with ``MAMBA_SKIP_CUDA_BUILD=TRUE``) a plain
``import mamba_ssm`` fails.  Its pure-PyTorch reference ``selective_scan_ref`` lives in the same
module as the CUDA wrapper and needs none of the compiled code.  When the extension is missing we
therefore import that one module *without* running the package ``__init__``: we register a bare
package object for ``mamba_ssm`` (same search path, no code executed) and a placeholder
``selective_scan_cuda`` that raises a clear error if anything tries to use it.  On a CUDA install
the real package is imported normally and nothing is patched.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

_INSTALL_HINT = (
    "mamba-ssm is not installed. CPU: `MAMBA_SKIP_CUDA_BUILD=TRUE MAMBA_FORCE_BUILD=TRUE pip install "
    "--no-deps --no-build-isolation mamba-ssm==2.3.2.post1 einops triton` (what `make setup` does); "
    "GPU: see environment-cuda.yml."
)


class _MissingCudaExtension(types.ModuleType):
    """Stands in for ``selective_scan_cuda`` on machines without the compiled kernels."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(
            f"selective_scan_cuda.{name} was called, but mamba-ssm's CUDA kernels are not built on this "
            "machine (CPU install). Use mdtf_lite.ssm.selective_scan(backend='cpu') or mamba-ssm's "
            "selective_scan_ref instead."
        )


def has_cuda_kernels() -> bool:
    """True when mamba-ssm's compiled extension is importable (a CUDA build)."""
    if isinstance(sys.modules.get("selective_scan_cuda"), _MissingCudaExtension):
        return False
    return importlib.util.find_spec("selective_scan_cuda") is not None


def _interface_module():
    """Import ``mamba_ssm.ops.selective_scan_interface`` on any machine (see module docstring)."""
    if importlib.util.find_spec("mamba_ssm") is None:
        raise ImportError(_INSTALL_HINT)
    if not has_cuda_kernels() and "mamba_ssm" not in sys.modules:
        spec = importlib.util.find_spec("mamba_ssm")
        package = types.ModuleType("mamba_ssm")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        package.__file__ = spec.origin
        sys.modules["mamba_ssm"] = package
        sys.modules.setdefault("selective_scan_cuda", _MissingCudaExtension("selective_scan_cuda"))
    return importlib.import_module("mamba_ssm.ops.selective_scan_interface")


def load_selective_scan_ref():
    """mamba-ssm's pure-PyTorch ``selective_scan_ref`` (the authors' oracle); runs on CPU."""
    return _interface_module().selective_scan_ref


def load_selective_scan_fn():
    """mamba-ssm's CUDA ``selective_scan_fn``; raises ``RuntimeError`` when the kernels are absent."""
    if not has_cuda_kernels():
        raise RuntimeError(
            "mamba-ssm's CUDA kernels are not available on this machine; backend='mamba_ssm' needs a CUDA "
            "build of mamba-ssm and CUDA tensors. Use backend='cpu' (or 'auto')."
        )
    return _interface_module().selective_scan_fn
