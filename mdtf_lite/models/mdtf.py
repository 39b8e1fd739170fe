"""MDTF stage 2: joint stream + bone stream -> fusion -> spatiotemporal refinement -> 3D pose.

    x (B, T, 17, 3) normalised 2D + confidence          bone tokens (B, T, 17, 3) (phi/pi, theta_hat/pi, l_hat)
      joint stream: Linear(3, C) + spatial pos (1, J, C)  bone stream: Linear(3, C)
        GEM block over joints    (B*T, J, C)                spatial Mamba block (no GCN)     (B*T, J, C)
        LN_s, + temporal pos (1, T, C)                      LN
        temporal block over frames (B*J, T, C)              temporal block                   (B*J, T, C)
        LN_t                                                LN
      fusion: alpha = softmax(Linear(2C, 2)([h_joint, h_bone])),  h = alpha_0 h_joint + alpha_1 h_bone
      refinement (STRM), depth - 1 layers: GEM -> LN_s -> temporal -> LN_t  (LN_s, LN_t shared)
      head: LN -> Linear(C, 3)                             -> (B, T, 17, 3) root-relative 3D

Each stream and each refinement step is a ``SpatioTemporalLayer`` (``models/layers.py``): the joint
layer and the STRM layers share the model's ``spatial_norm`` / ``temporal_norm`` (passed to them in
``forward``), the bone layer owns its two.  LayerNorm eps as in the official code: 1e-6 for block,
layer and bone-stream norms, 1e-5 for the head norm (and the LN before each GCN).

Bone-token layout (``cfg.bone_token_layout``): tokens are always *given* in this package's layout (row j
describes the bone ending in joint j, root row zero: ``mdtf_lite.bones.bone_tokens``).  "child" feeds
them as they are; "official" moves bone k's token to row k (child k + 1) and zeroes row 16, what the
official code feeds, so a converted official checkpoint (``models/official.py``) sees its own input.

Sequence to sequence: every frame of the clip gets a 3D pose.  Drop-path rises linearly 0 -> cfg.drop_path
over the layers.  Built with the official configuration the stage-2 parameter count equals the official
model's: 823,269 (tiny) and 4,313,781 (large); the BAM (110,526) is separate.

Where bone tokens come from: ``model(x, bone_tokens=tokens)`` with tokens precomputed by
``mdtf_lite.bones.bone_tokens``; or attach a trained Bone Aware Module once (``model.attach_bam(bam)``,
frozen, kept in eval mode, excluded from ``count_parameters``) and call ``model(x)``.

Input checks live at the API boundaries (``models.inputs.check_model_input``, called by
``eval.predict``, ``lift`` and the training loop), not in ``forward``: a training step makes no host sync.

Older checkpoints of this package (layer names before ``SpatioTemporalLayer``, GEM's GCNs inside the
scan directions) load after :meth:`MDTF.upgrade_state_dict`, the one conversion.

Glossary (``mdtf_lite``): B batch, T frames, J joints (17), C channels.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from mdtf_lite.bones import bin_to_theta, bone_tokens
from mdtf_lite.models.blocks import BLOCK_NORM_EPS, mamba_block, spatial_block
from mdtf_lite.models.config import ModelConfig
from mdtf_lite.models.gem import GCN_NORM_EPS
from mdtf_lite.models.inputs import check_bone_tokens, root_relative_2d
from mdtf_lite.models.layers import STRM, SpatioTemporalLayer
from mdtf_lite.skeleton import NUM_JOINTS

__all__ = ["MDTF", "FusionGate", "to_official_token_layout"]

#: state-dict key prefixes of this package's older checkpoints -> the current ones (``upgrade_state_dict``):
#: the bone stream's names before ``SpatioTemporalLayer``, and GEM's GCNs when they sat inside the scan
#: directions as ``pre_conv`` hooks.  (``spatial_blocks.i`` / ``temporal_blocks.i`` are mapped by index.)
_OLD_PREFIXES = {
    "bone_spatial_norm.": "bone_layer.spatial_norm.",
    "bone_temporal_norm.": "bone_layer.temporal_norm.",
    "bone_spatial.": "bone_layer.spatial.",
    "bone_temporal.": "bone_layer.temporal.",
}
_OLD_GEM_PARTS = {
    "mixer.fwd.pre_conv.0.": "mixer.gcn_norm_fwd.",
    "mixer.fwd.pre_conv.1.": "mixer.gcn_fwd.",
    "mixer.bwd.pre_conv.0.": "mixer.gcn_norm_bwd.",
    "mixer.bwd.pre_conv.1.": "mixer.gcn_bwd.",
}


def to_official_token_layout(tokens: torch.Tensor) -> torch.Tensor:
    """(..., J, 3) tokens at the child joint (row 0 zero) -> the official layout: bone k at row k, row J-1 zero."""
    return torch.cat([tokens[..., 1:, :], torch.zeros_like(tokens[..., :1, :])], dim=-2)


def _current_key(key: str) -> str:
    """The current name of a state-dict key written by an older version of this package (or ``key``)."""
    for old, new in _OLD_PREFIXES.items():
        if key.startswith(old):
            key = new + key[len(old) :]
            break
    for old, part in (("spatial_blocks.", "spatial."), ("temporal_blocks.", "temporal.")):
        index, dot, rest = key[len(old) :].partition(".")
        if key.startswith(old) and dot and index.isdigit():
            key = ("joint_layer." if int(index) == 0 else f"strm.layers.{int(index) - 1}.") + part + rest
    for old, new in _OLD_GEM_PARTS.items():
        if old in key:
            return key.replace(old, new, 1)
    return key


class FusionGate(nn.Module):
    """Per-token softmax gate between two streams, (..., C) x 2 -> (..., C).

    alpha = softmax(Linear(2C, 2)([a, b])); out = alpha_0 a + alpha_1 b.  Weight 0 and bias 0.5 at
    init, so training starts from an exact 50/50 mix.  ``weights(a, b)`` returns alpha (..., 2) for
    inspection; ``forward`` keeps nothing.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(2 * dim, 2)
        nn.init.zeros_(self.proj.weight)
        nn.init.constant_(self.proj.bias, 0.5)

    def weights(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a, b (..., C) -> alpha (..., 2), summing to 1 over the last axis."""
        return torch.softmax(self.proj(torch.cat([a, b], dim=-1)), dim=-1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a, b (..., C) -> alpha_0 a + alpha_1 b (..., C)."""
        alpha = self.weights(a, b)
        return alpha[..., :1] * a + alpha[..., 1:] * b


class MDTF(nn.Module):
    """The stage-2 lifter.  ``forward(x, bone_tokens=None) -> (B, T, 17, 3)``.

    Args:
        cfg: ``ModelConfig`` (see ``mdtf_lite.models.config``; build with ``build_model``).
        make_spatial, make_temporal: optional factories ``(drop_path) -> module (B', L, C) -> (B', L, C)``
            replacing the GEM / temporal blocks (the MixSTE-like baseline passes attention blocks).

    Forward:
        x: (B, T, 17, 3) float, normalised (x, y) + confidence (``mdtf_lite.data`` inputs), T <= n_frames.
        bone_tokens: (B, T, 17, 3) or None; needed when ``cfg.bone_stream`` and no BAM is attached.
        returns: (B, T, 17, 3) root-relative 3D joints (the units of the training targets).
    """

    def __init__(self, cfg: ModelConfig, make_spatial: Callable | None = None, make_temporal: Callable | None = None):
        super().__init__()
        self.cfg = cfg
        c = cfg.dim
        mamba = dict(
            d_state=cfg.d_state,
            d_conv=cfg.d_conv,
            mlp_ratio=cfg.mlp_ratio,
            bidirectional=cfg.bidirectional,
            scan_backend=cfg.scan_backend,
            dt_range=(cfg.dt_min, cfg.dt_max),
        )
        make_spatial = make_spatial or (
            lambda dp: spatial_block(
                c, drop_path=dp, spatial_mixer=cfg.spatial_mixer, gcn_directions=cfg.gcn_directions, **mamba
            )
        )
        make_temporal = make_temporal or (lambda dp: mamba_block(c, drop_path=dp, **mamba))
        rates = torch.linspace(0, cfg.drop_path, cfg.depth).tolist()

        self.joint_embed = nn.Linear(3, c)
        self.spatial_pos = nn.Parameter(torch.zeros(1, NUM_JOINTS, c))
        self.temporal_pos = nn.Parameter(torch.zeros(1, cfg.n_frames, c))
        nn.init.trunc_normal_(self.spatial_pos, std=0.02)
        nn.init.trunc_normal_(self.temporal_pos, std=0.02)
        # one pair of norms shared by the joint layer and every STRM layer, as in the official code
        self.spatial_norm = nn.LayerNorm(c, eps=BLOCK_NORM_EPS)
        self.temporal_norm = nn.LayerNorm(c, eps=BLOCK_NORM_EPS)
        # layer 0 is the joint stream; layers 1..depth-1 are the refinement module (STRM)
        self.joint_layer = SpatioTemporalLayer(make_spatial(rates[0]), make_temporal(rates[0]))
        self.strm = STRM(SpatioTemporalLayer(make_spatial(r), make_temporal(r)) for r in rates[1:])

        self.bam: nn.Module | None = None
        if cfg.bone_stream:
            self.bone_embed = nn.Linear(3, c)
            self.bone_layer = SpatioTemporalLayer(mamba_block(c, **mamba), mamba_block(c, **mamba), norm_dim=c)
            self.fusion = FusionGate(c)

        self.head_norm = nn.LayerNorm(c, eps=GCN_NORM_EPS)
        self.head = nn.Linear(c, 3)

    @staticmethod
    def upgrade_state_dict(state: dict) -> dict:
        """A copy of ``state`` (an MDTF state dict written by an older version of this package) with every
        key renamed to the current one; current keys pass unchanged.  The one conversion of old checkpoints."""
        return {_current_key(k): v for k, v in state.items()}

    # ------------------------------------------------------------------------------- bone tokens
    def attach_bam(self, bam: nn.Module) -> "MDTF":
        """Attach a trained Bone Aware Module, frozen: its parameters stop requiring grad and it stays in eval."""
        if not self.cfg.bone_stream:
            raise ValueError("this model has no bone stream (cfg.bone_stream=False): a BAM would be unused")
        for p in bam.parameters():
            p.requires_grad_(False)
        self.bam = bam.eval()
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        if self.bam is not None:
            self.bam.eval()  # frozen in stage 2: BatchNorm/dropout statistics must not move
        return self

    @torch.no_grad()
    def bone_tokens_from_bam(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, 17, 3) -> bone tokens (B, T, 17, 3) from the attached BAM's theta_hat.

        Uses ``bam.predict_theta(x)`` when the BAM has it (the classifier's bin centre, or the continuous
        variant's angle); otherwise the centre of the argmax bin of ``bam(x)`` logits (B, T, 17, K).
        """
        if self.bam is None:
            raise ValueError("no BAM attached: call model.attach_bam(bam) or pass bone_tokens=...")
        if hasattr(self.bam, "predict_theta"):
            theta_hat = self.bam.predict_theta(x)
        else:
            logits = self.bam(x)  # (B, T, 17, K)
            theta_hat = bin_to_theta(logits.argmax(-1), num_bins=logits.shape[-1], dtype=x.dtype)
        return bone_tokens(x, theta_hat)

    def _resolve_bone_tokens(self, x: torch.Tensor, tokens: torch.Tensor | None) -> torch.Tensor | None:
        if not self.cfg.bone_stream:
            if tokens is not None:
                raise ValueError("bone_tokens given but this model has no bone stream (cfg.bone_stream=False)")
            return None
        if tokens is None:
            if self.bam is None:
                raise ValueError(
                    "the bone stream needs bone tokens: pass bone_tokens=(B, T, 17, 3) from "
                    "mdtf_lite.bones.bone_tokens(x, theta_hat), or attach a trained BAM once with "
                    "model.attach_bam(bam), or build the model with ablation 'no_bone'"
                )
            return self.bone_tokens_from_bam(x)
        check_bone_tokens(tokens, x)
        return tokens

    # ----------------------------------------------------------------------------------- forward
    def _bone_stream(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, J, 3) tokens in the child layout -> (B, T, J, C)."""
        if self.cfg.bone_token_layout == "official":
            tokens = to_official_token_layout(tokens)
        return self.bone_layer(self.bone_embed(tokens))

    def forward(self, x: torch.Tensor, bone_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, 17, 3) [, bone_tokens (B, T, 17, 3)] -> 3D joints (B, T, 17, 3).

        x is not validated here (see ``models.inputs.check_model_input``, run at the API boundaries).
        """
        tokens = self._resolve_bone_tokens(x, bone_tokens)
        if self.cfg.root_relative_input:
            x = root_relative_2d(x)
        norms = (self.spatial_norm, self.temporal_norm)
        h = self.joint_embed(x) + self.spatial_pos  # (B, T, J, C)
        h = self.joint_layer(h, norms, temporal_pos=self.temporal_pos[:, : x.shape[1]])
        if tokens is not None:
            h = self.fusion(h, self._bone_stream(tokens))
        h = self.strm(h, norms)
        return self.head(self.head_norm(h))  # (B, T, J, 3)
