"""The causal depthwise conv + SiLU that opens every Mamba direction, in plain PyTorch (channels-last).

    y[:, l] = silu(bias + sum_k w[:, k] x[:, l - K + 1 + k])        x, y (B, L, D); w (D, 1, K); bias (D,)

The ``cpp`` backend fuses the same thing in C++ (``cpp_kernel.causal_conv_silu``); every other backend
uses :func:`causal_conv_silu` here (``mdtf_lite.ssm.mamba_kernels`` picks one).  Glossary
(``mdtf_lite``): B sequences, L length, D channels, K kernel size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["causal_depthwise_conv", "causal_conv_silu"]


def causal_depthwise_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Causal depthwise conv along L: x (B, L, D); weight (D, 1, K) as ``nn.Conv1d(D, D, K, groups=D)``
    stores it; bias (D,) or None -> (B, L, D).

    Equal to ``conv1d(F.pad(x.transpose(1, 2), (K - 1, 0)), weight, bias, groups=D).transpose(1, 2)``,
    written as K shifted multiply-adds: no transposes, and none of oneDNN's slow paths for
    strided depthwise inputs (which cost 100x on small CPU tensors).
    """
    k = weight.shape[-1]
    length = x.shape[1]
    xp = F.pad(x, (0, 0, k - 1, 0))  # zeros before position 0
    w = weight[:, 0, :]  # (D, K)
    y = xp[:, 0:length] * w[:, 0]
    for i in range(1, k):
        y = y + xp[:, i : i + length] * w[:, i]
    return y if bias is None else y + bias


def causal_conv_silu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """silu(causal_depthwise_conv(x, weight, bias)): x (B, L, D) -> (B, L, D)."""
    return F.silu(causal_depthwise_conv(x, weight, bias))
