"""Parameter and multiply-accumulate (MAC) counts of the stage-2 models.

MACs are measured with ``torch.utils.flop_counter.FlopCounterMode`` (PyTorch's own counter) on one
real forward pass, divided by 2 (it reports FLOPs = 2 x MACs for matmuls/convs) and by B x T frames.
What it counts: every matmul (Linear layers, the GCN's adjacency product, x_proj/dt_proj, attention's
QK^T and AV via scaled_dot_product_attention) and convolutions (the causal depthwise conv).  (On builds where the counter has no formula for the CPU attention kernel, QK^T and AV are added
analytically, 2 L^2 C per sequence, and listed as "attention (analytic)".)  What it does not count: element-wise work -- LayerNorm, BatchNorm, GELU/SiLU/softmax, the residual adds and
the selective scan's recurrence, which is element-wise.  The scan is added analytically as
3 MACs per (position, channel, state) per direction (h = exp(dA) h + (d u) B : 2, y = <C, h> : 1).
The count runs every mixer with the ``reference`` kernels (an element-wise loop the counter ignores),
so the figure does not depend on which backend (some use matmuls inside) the model was built with.  The total is comparable with counters like thop/fvcore that the papers use (which also skip
norms and activations).  Per-frame MACs do not depend on T for Mamba models (every op is per token);
for attention they grow with T, so they are reported at the T asked for.

Glossary (``mdtf_lite``): B batch, T frames, J joints, C channels, D inner width, N state size.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from mdtf_lite.models.baselines import SelfAttention
from mdtf_lite.models.mamba import Mamba
from mdtf_lite.ssm import mamba_kernels

__all__ = ["count_parameters", "macs_per_frame", "SCAN_MACS_PER_STATE"]

#: MACs of the selective-scan recurrence per (position, channel, state), see the module docstring.
SCAN_MACS_PER_STATE = 3


def count_parameters(model: nn.Module, include_bam: bool = False, trainable_only: bool = False) -> int:
    """Number of parameters; an attached BAM (submodule ``bam``) is excluded unless ``include_bam``."""
    total = 0
    for name, p in model.named_parameters():
        if not include_bam and (name.startswith("bam.") or ".bam." in name):
            continue
        if trainable_only and not p.requires_grad:
            continue
        total += p.numel()
    return total


def _dummy_inputs(model: nn.Module, batch: int, frames: int) -> tuple[torch.Tensor, dict]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, frames, 17, 3, generator=gen) * 2 - 1
    x[..., 2] = x[..., 2].abs()  # confidence in [0, 1]
    kwargs = {}
    cfg = getattr(model, "cfg", None)
    if cfg is not None and cfg.bone_stream and getattr(model, "bam", None) is None:
        kwargs["bone_tokens"] = torch.rand(batch, frames, 17, 3, generator=gen)
    return x, kwargs


@torch.no_grad()
def macs_per_frame(model: nn.Module, frames: int = 27, batch: int = 1, include_bam: bool = False) -> dict:
    """Measure MACs per frame of one forward pass.

    Args:
        model: a stage-2 model (``MDTF`` or a baseline), any scan backend.
        frames: T of the dummy clip (<= model.cfg.n_frames).  Mamba models give the same per-frame
            figure at any T; attention does not.
        include_bam: also count an attached BAM's forward pass (it runs inside ``model(x)``).

    Returns:
        dict with ``counted`` (matmul/conv MACs from FlopCounterMode), ``scan`` (analytic recurrence
        MACs), ``total``, all per frame, plus ``by_op`` (counted MACs per frame per aten op name).
    """
    x, kwargs = _dummy_inputs(model, batch, frames)
    scan_macs = [0]

    attention_macs = [0]

    conv_macs = [0]

    def on_mixer(module: Mamba, args, output):
        b, length, _ = output.shape
        positions = b * length * module.d_inner * (1 if module.bwd is None else 2)  # per direction
        scan_macs[0] += positions * module.d_state * SCAN_MACS_PER_STATE
        conv_macs[0] += positions * module.d_conv

    def on_attention(module, args, output):
        b, length, c = output.shape
        attention_macs[0] += 2 * b * length * length * c  # Q K^T and A V

    bam = getattr(model, "bam", None)
    if bam is not None and not include_bam:
        kwargs["bone_tokens"] = model.bone_tokens_from_bam(x)  # computed outside the counter

    mixers = [m for m in model.modules() if isinstance(m, Mamba)]  # GEM included
    hooks = [m.register_forward_hook(on_mixer) for m in mixers]
    hooks += [m.register_forward_hook(on_attention) for m in model.modules() if isinstance(m, SelfAttention)]
    kernels = [m.kernels for m in mixers]
    was_training = model.training
    model.eval()
    try:
        for m in mixers:
            m.kernels = mamba_kernels("reference", "cpu")  # see the module docstring: keep the scan out of the counter
        counter = FlopCounterMode(display=False)
        with counter:
            model(x, **kwargs)
    finally:
        for h in hooks:
            h.remove()
        for m, k in zip(mixers, kernels):
            m.kernels = k
        model.train(was_training)
    n = batch * frames
    by_op = {
        str(op).split(".")[-1] if "." in str(op) else str(op): v / 2 / n
        for op, v in counter.get_flop_counts().get("Global", {}).items()
    }
    counted = counter.get_total_flops() / 2 / n
    # the causal depthwise conv runs as K shifted multiply-adds (element-wise, invisible to the counter)
    by_op["causal_conv (analytic)"] = conv_macs[0] / n
    counted += conv_macs[0] / n
    if attention_macs[0] and not any("attention" in op for op in by_op):
        # this torch build's counter has no formula for the CPU attention kernel: add QK^T and AV
        by_op["attention (analytic)"] = attention_macs[0] / n
        counted += attention_macs[0] / n
    scan = scan_macs[0] / n
    return {"counted": counted, "scan": scan, "total": counted + scan, "by_op": by_op}
