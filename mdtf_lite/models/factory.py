"""``build_model``: the stage-2 network a config names (MDTF or a baseline), optionally with a frozen BAM.

Kept apart from ``config.py`` so configs import no model code and the models import no factory:
config <- mdtf <- baselines <- factory, no cycle.
"""

from __future__ import annotations

from mdtf_lite.models.bam import BoneAwareModule, ContinuousBAM
from mdtf_lite.models.baselines import FrameMLP, MixSTELike, PoseMambaLike
from mdtf_lite.models.config import BAMConfig, as_model_config, bam_config_from_dict
from mdtf_lite.models.mdtf import MDTF

__all__ = ["build_model", "build_bam", "ARCH_CLASSES"]

#: arch name -> class; every class maps x (B, T, 17, 3) -> (B, T, 17, 3).
ARCH_CLASSES = {"mdtf": MDTF, "posemamba": PoseMambaLike, "mixste": MixSTELike, "mlp": FrameMLP}


def build_model(cfg="tiny", bam=None):
    """Build the stage-2 model from a config.

    Args:
        cfg: a ``ModelConfig``, a preset name ("tiny", "large", "cpu"), or a dict in the YAML form
            (``models.config.as_model_config``).
        bam: optional trained ``BoneAwareModule``; attached frozen so ``model(x)`` makes its own bone
            tokens (it is not counted in the stage-2 parameter count).

    Returns:
        ``MDTF`` (arch "mdtf"), ``PoseMambaLike``, ``MixSTELike`` or ``FrameMLP``; all map
        x (B, T, 17, 3) -> (B, T, 17, 3).

    >>> build_model("cpu").cfg.dim
    32
    """
    cfg = as_model_config(cfg)
    model = ARCH_CLASSES[cfg.arch](cfg)
    if bam is not None:
        model.attach_bam(bam)
    return model


def build_bam(cfg: BAMConfig | dict | None = None):
    """The stage-1 network of a ``BAMConfig`` (or its YAML dict): ``BoneAwareModule`` or ``ContinuousBAM``.

    x (B, T, 17, 3) -> logits (B, T, 17, K) (classes) or (B, T, 17, 2) (continuous).
    """
    cfg = BAMConfig() if cfg is None else cfg
    cfg = bam_config_from_dict(dict(cfg)) if isinstance(cfg, dict) else cfg
    cls = ContinuousBAM if cfg.variant == "continuous" else BoneAwareModule
    return cls(**cfg.module_kwargs())
