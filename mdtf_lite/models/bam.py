"""The Bone Aware Module (BAM): stage 1 of MDTF, predicting each bone's polar angle from 2D.

    x (B, T, 17, 3) = normalised (x, y) + confidence
      -> Linear(3, 64)
      -> level 64:  spatial block over the 17 joints -> LN -> temporal block over T frames -> LN -> Linear(64, 32)
      -> level 32:  ... -> Linear(32, 16)
      -> level 16:  ... -> Linear(16, 8)
      -> level 8:   spatial block -> LN -> temporal block -> LN
      -> Linear(8, K)                                  logits (B, T, 17, K), K = 6 theta bins

Each level is a ``SpatioTemporalLayer`` (``models/layers.py``); each "block" is the package's pre-norm
residual ``ResidualBlock`` (``mamba_block``) (LN -> bidirectional Mamba -> residual, LN -> MLP
C -> 2C -> C -> residual) with a plain bidirectional Mamba mixer (no GCN), so the BAM runs on every
selective-scan backend.  Spatial blocks scan the joints of each frame, (B*T, 17, C); temporal
blocks scan the frames of each joint, (B*17, T, C).  No position embeddings: the BAM takes any T.

Parameter count at the official widths (64, 32, 16, 8), N = 16, expand 1, dt_rank ceil(C / 16):

    embed Linear(3, 64)                                                      256
    level 64: 2 blocks x 37,184 + 2 LN x 128 + Linear(64, 32) 2,080        76,704
    level 32: 2 blocks x 11,168 + 2 LN x  64 + Linear(32, 16)   528        22,992
    level 16: 2 blocks x  3,728 + 2 LN x  32 + Linear(16,  8)   136         7,656
    level  8: 2 blocks x  1,416 + 2 LN x  16 (no halving Linear)            2,864
    head Linear(8, 6)                                                           54
    total                                                                 110,526   (= the official count)

(one block of width C: Mamba mixer 3C^2 + 2C(55 + 2R) with R = dt_rank, plus 2 LN 4C and MLP 4C^2 + 3C.)
Bare mixers without the MLP would give 65,326, so the official levels are full residual blocks.

Also here: :class:`ContinuousBAM`, the same trunk regressing (sin theta, cos theta) instead of
classifying, and the stage-1 losses.  Per-token labels and bone tokens come from ``mdtf_lite.bones``;
metrics from ``mdtf_lite.eval.bam_metrics``.

Glossary (``mdtf_lite``): B batch, T frames, J = 17 joints, C channels, K theta classes.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mdtf_lite.bones import DEFAULT_NUM_BINS, bin_to_theta, theta_labels, theta_to_bin, token_thetas
from mdtf_lite.models.blocks import mamba_block
from mdtf_lite.models.inputs import root_relative_2d
from mdtf_lite.models.layers import SpatioTemporalLayer

__all__ = [
    "BAM_WIDTHS",
    "BAMLevel",
    "BoneAwareModule",
    "ContinuousBAM",
    "bam_loss",
    "sincos_loss",
    "sincos_to_theta",
    "stage1_targets",
]

#: the official widths of the four levels.
BAM_WIDTHS: tuple[int, ...] = (64, 32, 16, 8)


class BAMLevel(SpatioTemporalLayer):
    """One level: a ``SpatioTemporalLayer`` of two plain Mamba blocks with its own two LayerNorms (eps 1e-6).

    (B, T, J, C) -> (B, T, J, C).
    """

    def __init__(
        self,
        dim: int,
        d_state: int = 16,
        d_conv: int = 4,
        mlp_ratio: float = 2,
        drop_path: float = 0.0,
        scan_backend: str = "auto",
        dt_range: tuple[float, float] = (1e-3, 0.1),
    ):
        mamba = dict(
            d_state=d_state,
            d_conv=d_conv,
            mlp_ratio=mlp_ratio,
            drop_path=drop_path,
            scan_backend=scan_backend,
            dt_range=dt_range,
        )
        super().__init__(mamba_block(dim, **mamba), mamba_block(dim, **mamba), norm_dim=dim)


class BoneAwareModule(nn.Module):
    """Theta classifier: x (B, T, 17, 3) -> logits (B, T, 17, K), one class per joint token.

    Token j (j >= 1) predicts the polar-angle bin of the bone ENDING in joint j; token 0 (root) has
    no bone and is ignored by the loss.

    Args:
        widths: level widths; consecutive levels are joined by a Linear (official: 64, 32, 16, 8).
        num_bins: K, number of theta classes (6 bins of 30 degrees).
        in_channels: input channels per joint (3 = x, y, confidence).
        d_state, d_conv, mlp_ratio, drop_path, scan_backend: passed to every Mamba block.
        dt_min, dt_max: initial step-size range of every Mamba direction (see ``Mamba``'s ``dt_range``).
        root_relative_input: embed joints' 2D relative to the root (``models.inputs.root_relative_2d``).
    """

    out_channels_per_token: int | None = None  # None -> num_bins (classifier)

    def __init__(
        self,
        widths: Sequence[int] = BAM_WIDTHS,
        num_bins: int = DEFAULT_NUM_BINS,
        in_channels: int = 3,
        d_state: int = 16,
        d_conv: int = 4,
        mlp_ratio: float = 2,
        drop_path: float = 0.0,
        scan_backend: str = "auto",
        dt_min: float = 1e-3,
        dt_max: float = 0.1,
        root_relative_input: bool = False,
    ):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths}")
        if num_bins < 2:
            raise ValueError(f"num_bins must be >= 2, got {num_bins}")
        self.widths, self.num_bins, self.in_channels = widths, int(num_bins), in_channels
        self.root_relative_input = bool(root_relative_input)
        self.embed = nn.Linear(in_channels, widths[0])
        self.levels = nn.ModuleList(
            BAMLevel(w, d_state, d_conv, mlp_ratio, drop_path, scan_backend, (dt_min, dt_max)) for w in widths
        )
        self.downs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.head = nn.Linear(widths[-1], self.out_channels_per_token or self.num_bins)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 17, 3) -> last-level features (B, T, 17, widths[-1]); x is validated at the API
        boundaries (``models.inputs.check_model_input``), not here."""
        if x.shape[-1] != self.in_channels:
            raise ValueError(f"x has {x.shape[-1]} channels, this BAM was built for {self.in_channels}")
        h = self.embed(root_relative_2d(x) if self.root_relative_input else x)
        for i, level in enumerate(self.levels):
            h = level(h)
            if i < len(self.downs):
                h = self.downs[i](h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 17, 3) -> logits (B, T, 17, K)."""
        return self.head(self.features(x))

    @torch.no_grad()
    def predict_theta(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 17, 3) -> theta_hat (B, T, 17): the centre of the most likely bin, radians."""
        return bin_to_theta(self(x).argmax(-1), num_bins=self.num_bins, dtype=x.dtype)

    def loss(self, output: torch.Tensor, targets_3d: torch.Tensor) -> torch.Tensor:
        """Stage-1 loss from the model output and the (B, T, 17, 3) target poses."""
        return bam_loss(output, theta_labels(targets_3d, self.num_bins))

    def classes_from_output(self, output: torch.Tensor) -> torch.Tensor:
        """Model output (B, T, 17, K) -> theta classes (B, T, 17) int64 (the argmax)."""
        return output.argmax(-1)


class ContinuousBAM(BoneAwareModule):
    """The same trunk regressing (sin theta, cos theta): x (B, T, 17, 3) -> (B, T, 17, 2).

    Regressing the unit vector instead of theta itself avoids a discontinuous target and gives a
    smooth loss; theta_hat = atan2(|s|, c) lands in [0, pi].  ``num_bins`` is only used to turn
    theta_hat into a class for a like-for-like accuracy with :class:`BoneAwareModule`.
    """

    out_channels_per_token = 2

    @torch.no_grad()
    def predict_theta(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 17, 3) -> theta_hat (B, T, 17) in [0, pi], radians."""
        return sincos_to_theta(self(x))

    def loss(self, output: torch.Tensor, targets_3d: torch.Tensor) -> torch.Tensor:
        return sincos_loss(output, token_thetas(targets_3d))

    def classes_from_output(self, output: torch.Tensor) -> torch.Tensor:
        """Model output (B, T, 17, 2) -> the theta class (B, T, 17) of the regressed angle."""
        return theta_to_bin(sincos_to_theta(output), self.num_bins)


# ------------------------------------------------------------------------------------------ losses
def _check_token_shapes(pred: torch.Tensor, target: torch.Tensor, what: str) -> None:
    if pred.dim() < 2 or pred.shape[:-1] != target.shape:
        raise ValueError(
            f"{what}: prediction {tuple(pred.shape)} and target {tuple(target.shape)} must be "
            "(..., J, K) and (..., J) with the same leading shape"
        )
    if target.shape[-1] < 2:
        raise ValueError(f"{what}: need J >= 2 joint tokens (token 0, the root, is excluded), got {target.shape[-1]}")


def bam_loss(logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy over every bone token, root excluded.

    Args:
        logits: (B, T, J, K) (any leading shape ending in J, K).
        labels: (B, T, J) int64 classes from :func:`mdtf_lite.bones.theta_labels`; column 0 (root) is ignored.
    Returns:
        scalar mean over the B*T*(J-1) bone tokens.
    """
    _check_token_shapes(logits, labels, "bam_loss")
    k = logits.shape[-1]
    lab = labels[..., 1:].reshape(-1).long()
    if lab.numel() and (lab.min() < 0 or lab.max() >= k):
        raise ValueError(f"bam_loss: labels must lie in 0..{k - 1} for {k} logits, got {lab.min()}..{lab.max()}")
    return F.cross_entropy(logits[..., 1:, :].reshape(-1, k), lab, label_smoothing=label_smoothing)


def sincos_loss(pred: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Mean squared error between (B, T, J, 2) predictions and (sin theta, cos theta), root excluded."""
    _check_token_shapes(pred, theta, "sincos_loss")
    target = torch.stack([torch.sin(theta), torch.cos(theta)], dim=-1)
    return F.mse_loss(pred[..., 1:, :], target[..., 1:, :].to(pred))


def sincos_to_theta(pred: torch.Tensor) -> torch.Tensor:
    """(..., 2) = (s, c) -> (...) theta = atan2(|s|, c) in [0, pi] (s is a sine of an angle in [0, pi])."""
    s, c = pred.unbind(-1)
    return torch.atan2(s.abs(), c)


def stage1_targets(model: nn.Module, targets_3d: torch.Tensor) -> torch.Tensor:
    """What a stage-1 model is scored against: theta classes (B, T, J) for the classifier,
    the true theta (B, T, J) for the continuous variant."""
    if isinstance(model, ContinuousBAM):
        return token_thetas(targets_3d)
    return theta_labels(targets_3d, getattr(model, "num_bins", DEFAULT_NUM_BINS))
