"""Model configurations: presets, ablation switches, the one dict -> ``ModelConfig`` path.

(The factory ``build_model`` lives in ``models/factory.py``.)

Presets (``PRESETS``):

    tiny   C 64,  depth 8,  T 243   -- MDTF-Tiny,  823,269 stage-2 parameters (official count)
    large  C 128, depth 12, T 243   -- MDTF-Large, 4,313,781 stage-2 parameters (official count)
    cpu    C 32,  depth 4,  T 27    -- the teaching model: trains in minutes on 2 CPU cores (initial Mamba
                                       steps in [0.01, 1] for short sequences, root-relative 2D input)

Ablations (``ABLATIONS``, config overrides on the same code path):

    no_bone         joint stream only (no BAM tokens, no fusion)
    no_gcn          GEM without its GCNs: a plain spatial BiMamba
    forward_gcn     GCN in the forward direction only (the official code as released)
    unidirectional  forward scans only, spatial and temporal
    dwconv          depthwise conv over joint order in place of the GCN

Architectures (``arch``): ``mdtf``; ``posemamba`` (PoseMamba-like: plain spatial/temporal BiMamba, no
bone stream); ``mixste`` (MixSTE-like: spatial and temporal self-attention, no bone stream); ``mlp``
(per-frame MLP lifter, hidden width 512, 2 residual blocks: the simple learned baseline).

Two dict forms, each read by one function:

    YAML form       what ``configs/*.yaml`` hold under ``model:``: ``{"preset": "tiny", "ablation": "no_gcn",
                    "drop_path": 0.0, ...}`` -- a preset, optional ablation / arch switches, then field
                    overrides -> :func:`config_from_dict` (through :func:`as_model_config`).
    resolved form   ``cfg.to_dict()``: every field, nothing left to apply (what checkpoints store)
                    -> :meth:`ModelConfig.from_dict`.  ``BAMConfig`` has no presets, so its YAML form is
                    its resolved form: :func:`bam_config_from_dict` reads both.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from mdtf_lite.models.blocks import SPATIAL_MIXERS

__all__ = [
    "BAMConfig",
    "BAM_VARIANTS",
    "bam_config_from_dict",
    "ModelConfig",
    "PRESETS",
    "ABLATIONS",
    "ARCHS",
    "BONE_TOKEN_LAYOUTS",
    "get_config",
    "config_from_dict",
    "as_model_config",
    "vary",
]

ARCHS = ("mdtf", "posemamba", "mixste", "mlp")
BAM_VARIANTS = ("classes", "continuous")
BONE_TOKEN_LAYOUTS = ("child", "official")


#: the largest value each integer knob may take: far above every published model, low enough that a typo
#: (``depth: 100000``) is refused at parse time instead of building for minutes or exhausting memory.
INT_LIMITS = {
    "dim": 1024,
    "depth": 64,
    "n_frames": 1024,
    "num_heads": 64,
    "d_state": 256,
    "d_conv": 16,
    "num_bins": 360,
    "in_channels": 16,
}
MAX_WIDTH_SQ_DEPTH = 2**23  # dim ** 2 * depth (MDTF-Large: 128 ** 2 * 12 = 196,608): ~100 M parameters at most
MAX_MLP_RATIO = 16.0
MAX_DT = 10.0


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _field_type_problems(cfg) -> list[str]:
    """Fields annotated ``bool`` / ``str`` / ``float`` holding another type (or a non-finite float)."""
    problems = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.type == "bool" and not isinstance(value, bool):
            problems.append(f"{f.name}={value!r} must be true or false")
        elif f.type == "str" and not isinstance(value, str):
            problems.append(f"{f.name}={value!r} must be a string")
        elif f.type == "str" and len(value) > 200:
            problems.append(f"{f.name} is {len(value)} characters long; at most 200")
        elif f.type == "float" and (not _is_number(value) or not math.isfinite(value)):
            problems.append(f"{f.name}={value!r} must be a finite number")
    return problems


def _mamba_knob_problems(cfg, ints: tuple[str, ...]) -> list[str]:
    """What is wrong with the Mamba knobs that ``ModelConfig`` and ``BAMConfig`` share (and ``ints``)."""
    problems = _field_type_problems(cfg)
    for key in (*ints, "d_state", "d_conv"):
        value = getattr(cfg, key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT_LIMITS[key]:
            problems.append(f"{key}={value!r} must be an integer from 1 to {INT_LIMITS[key]}")
    if problems:
        return problems  # the comparisons below need numbers
    if not 0.0 <= cfg.drop_path < 1.0:
        problems.append(f"drop_path={cfg.drop_path!r} must be in [0, 1)")
    if not 0 < cfg.dt_min <= cfg.dt_max <= MAX_DT:
        problems.append(f"dt_min={cfg.dt_min!r}, dt_max={cfg.dt_max!r} must satisfy 0 < dt_min <= dt_max <= {MAX_DT:g}")
    if not 0 < cfg.mlp_ratio <= MAX_MLP_RATIO:
        problems.append(f"mlp_ratio={cfg.mlp_ratio!r} must be in (0, {MAX_MLP_RATIO:g}]")
    return problems


@dataclass(frozen=True)
class ModelConfig:
    """Every knob of the stage-2 model.  Build with :func:`build_model`.

    Attributes:
        name: a label (preset name, plus ablations), used in tables and run folders.
        arch: "mdtf", "posemamba", "mixste" or "mlp".
        dim: C, the token width.       depth: number of spatial+temporal layers (layer 0 + refinement).
        n_frames: T of the temporal position embedding = the longest clip the model accepts.
        d_state, d_conv: Mamba state size N and causal-conv kernel.   mlp_ratio: MLP width / C.
        drop_path: the largest stochastic-depth rate (it rises linearly 0 -> drop_path over depth).
        scan_backend: passed to ``mdtf_lite.ssm.selective_scan`` ("auto", "cpp", "cpu", "reference", ...).
        dt_min, dt_max: range of the Mamba step sizes at initialisation (an init choice, no parameter).
        root_relative_input: feed joints' 2D relative to the root (``models.inputs.root_relative_2d``);
            the official models take absolute screen positions (False).
        bone_stream: use the BAM bone tokens and the fusion gate.
        spatial_mixer: "gcn" (GEM), "none" (plain spatial BiMamba) or "dwconv".
        gcn_directions: "both" or "forward" (GCN before the forward scan only).
        bone_token_layout: "child" (bone k's token at its child joint k + 1, this package) or "official"
            (at row k, as the official code feeds it; for converted official checkpoints).
        bidirectional: False makes every mixer forward-only.
        num_heads: attention heads (``mixste`` only).
    """

    name: str = "custom"
    arch: str = "mdtf"
    dim: int = 64
    depth: int = 8
    n_frames: int = 243
    d_state: int = 16
    d_conv: int = 4
    mlp_ratio: float = 2.0
    drop_path: float = 0.1
    scan_backend: str = "auto"
    dt_min: float = 0.001
    dt_max: float = 0.1
    root_relative_input: bool = False
    bone_stream: bool = True
    spatial_mixer: str = "gcn"
    gcn_directions: str = "both"
    bone_token_layout: str = "child"
    bidirectional: bool = True
    num_heads: int = 8
    ablations: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if isinstance(self.ablations, (list, tuple)):  # a JSON list reads back as the tuple
            object.__setattr__(self, "ablations", tuple(self.ablations))
        problems = []
        if self.arch not in ARCHS:
            problems.append(f"arch={self.arch!r} is not one of {ARCHS}")
        problems += _mamba_knob_problems(self, ("dim", "depth", "n_frames", "num_heads"))
        if not problems and self.dim**2 * self.depth > MAX_WIDTH_SQ_DEPTH:
            problems.append(
                f"dim={self.dim} with depth={self.depth} is too large (dim ** 2 * depth = "
                f"{self.dim**2 * self.depth:,} > {MAX_WIDTH_SQ_DEPTH:,}, over 100 M parameters); "
                "use a smaller dim or depth"
            )
        if not isinstance(self.ablations, tuple) or not all(isinstance(a, str) for a in self.ablations):
            problems.append(f"ablations={self.ablations!r} must be a list of names")
        if self.spatial_mixer not in SPATIAL_MIXERS:
            problems.append(f"spatial_mixer={self.spatial_mixer!r} is not one of {SPATIAL_MIXERS}")
        if self.gcn_directions not in ("both", "forward"):
            problems.append(f"gcn_directions={self.gcn_directions!r} must be 'both' or 'forward'")
        if (
            self.arch == "mixste"
            and isinstance(self.dim, int)
            and isinstance(self.num_heads, int)
            and self.num_heads > 0
            and self.dim % self.num_heads
        ):
            problems.append(f"dim={self.dim} must be divisible by num_heads={self.num_heads} for attention")
        if self.bone_token_layout not in BONE_TOKEN_LAYOUTS:
            problems.append(f"bone_token_layout={self.bone_token_layout!r} is not one of {BONE_TOKEN_LAYOUTS}")
        if problems:
            raise ValueError("invalid model config: " + "; ".join(problems))

    def replace(self, **overrides) -> "ModelConfig":
        """A copy with some fields changed (unknown names raise ``ValueError``)."""
        _check_keys(overrides)
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        """The resolved form: every field (JSON-ready); :meth:`from_dict` reads it back unchanged."""
        d = dataclasses.asdict(self)
        d["ablations"] = list(self.ablations)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """The resolved form (``to_dict()``, a checkpoint's) -> ModelConfig; nothing is applied on top.

        Unknown keys raise ``ValueError``; the YAML form (``preset``, ``ablation``) belongs to
        :func:`config_from_dict`.
        """
        _check_keys(d)
        return cls(**d)


@dataclass(frozen=True)
class BAMConfig:
    """Every knob of the stage-1 Bone Aware Module (``models.bam``); build with ``models.factory.build_bam``.

    Attributes:
        widths: level widths (official 64, 32, 16, 8).   num_bins: K theta classes (6).
        in_channels: 3 (x, y, confidence).   d_state, d_conv, mlp_ratio, drop_path, scan_backend, dt_min,
        dt_max, root_relative_input: as in :class:`ModelConfig`.
        variant: "classes" (the official classifier) or "continuous" (regress sin/cos theta).
    """

    widths: tuple[int, ...] = (64, 32, 16, 8)
    num_bins: int = 6
    in_channels: int = 3
    d_state: int = 16
    d_conv: int = 4
    mlp_ratio: float = 2.0
    drop_path: float = 0.0
    scan_backend: str = "auto"
    dt_min: float = 0.001
    dt_max: float = 0.1
    root_relative_input: bool = False
    variant: str = "classes"

    def __post_init__(self):
        problems = _mamba_knob_problems(self, ("num_bins", "in_channels"))
        widths = self.widths
        if (
            not isinstance(widths, (list, tuple))
            or not 1 <= len(widths) <= 8
            or not all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= INT_LIMITS["dim"] for w in widths)
        ):
            problems.append(f"widths={widths!r} must be a list of 1 to 8 integers from 1 to {INT_LIMITS['dim']}")
        if self.variant not in BAM_VARIANTS:
            problems.append(f"variant={self.variant!r} must be one of {BAM_VARIANTS}")
        if problems:
            raise ValueError("invalid BAM model config: " + "; ".join(problems))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    def replace(self, **overrides) -> "BAMConfig":
        """A copy with some fields changed (unknown names raise ``ValueError``)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(BAMConfig)})
        if unknown:
            raise ValueError(f"unknown BAM config keys {unknown}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        """Every field, JSON-ready; :func:`bam_config_from_dict` reads it back unchanged."""
        d = dataclasses.asdict(self)
        d["widths"] = list(self.widths)
        return d

    def module_kwargs(self) -> dict:
        """The ``BoneAwareModule`` / ``ContinuousBAM`` keyword arguments (everything but ``variant``)."""
        d = dataclasses.asdict(self)
        d.pop("variant")
        return d


def bam_config_from_dict(d: dict) -> BAMConfig:
    """The YAML ``model:`` section of a stage-1 config -> ``BAMConfig`` (unknown keys named)."""
    known = [f.name for f in dataclasses.fields(BAMConfig)]
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ValueError(f"BAM model config has unknown keys {unknown}; valid keys: {', '.join(known)}")
    return BAMConfig(**d)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(name="tiny", dim=64, depth=8, n_frames=243),
    "large": ModelConfig(name="large", dim=128, depth=12, n_frames=243),
    # the teaching model: official blocks, two init/input choices for short CPU runs (see ModelConfig)
    "cpu": ModelConfig(
        name="cpu", dim=32, depth=4, n_frames=27, drop_path=0.0, dt_min=0.01, dt_max=1.0, root_relative_input=True
    ),
}

ABLATIONS: dict[str, dict] = {
    "no_bone": {"bone_stream": False},
    "no_gcn": {"spatial_mixer": "none"},
    "forward_gcn": {"gcn_directions": "forward"},
    "unidirectional": {"bidirectional": False},
    "dwconv": {"spatial_mixer": "dwconv"},
}

_BASELINE_ARCH = {
    "posemamba": {"bone_stream": False, "spatial_mixer": "none"},
    "mixste": {"bone_stream": False, "spatial_mixer": "none"},
    # the per-frame MLP: dim is its hidden width, depth its residual blocks
    "mlp": {"bone_stream": False, "spatial_mixer": "none", "dim": 512, "depth": 2},
}


def _check_keys(overrides: dict) -> None:
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown model config keys {unknown}; known keys: {sorted(known)}")


def get_config(preset: str = "tiny", ablation=None, arch: str | None = None, **overrides) -> ModelConfig:
    """A preset with ablations and overrides applied.

    Args:
        preset: "tiny", "large" or "cpu".
        ablation: None, a name in ``ABLATIONS``, or a list of names (applied in order).
        arch: "mdtf" (default), "posemamba" or "mixste"; a baseline switches the bone stream off.
        **overrides: any ``ModelConfig`` field.

    >>> cfg = get_config("cpu", ablation="no_bone")
    >>> cfg.name, cfg.dim, cfg.bone_stream
    ('cpu+no_bone', 32, False)
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown model preset {preset!r}; choose one of {sorted(PRESETS)}")
    names = [ablation] if isinstance(ablation, str) else list(ablation or ())
    changes: dict = {}
    for a in names:
        if a not in ABLATIONS:
            raise ValueError(f"unknown ablation {a!r}; choose from {sorted(ABLATIONS)}")
        changes.update(ABLATIONS[a])
    label = preset
    if arch is not None and arch != "mdtf":
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r} is not one of {ARCHS}")
        changes.update(_BASELINE_ARCH[arch], arch=arch)
        label = f"{arch}-{preset}"
    _check_keys(overrides)
    changes.update(overrides)
    name = changes.pop("name", "+".join([label, *names]))
    return PRESETS[preset].replace(name=name, ablations=tuple(names), **changes)


def config_from_dict(d: dict) -> ModelConfig:
    """The YAML form ``{"preset": ..., "ablation": ..., "arch": ..., **fields}`` -> ModelConfig.

    With a preset: :func:`get_config`.  Without one the fields start from ``ModelConfig``'s defaults and
    the ``ablation`` / ``arch`` switches are applied on top (:func:`vary`).
    """
    d = dict(d)
    preset = d.pop("preset", None)
    ablation = d.pop("ablation", None)
    if "ablations" in d:
        raise ValueError(
            "'ablations' records the switches a resolved config was built with; to switch "
            "ablations on, write ablation: <name> or ablation: [<name>, ...]"
        )
    if preset is not None:
        return get_config(preset, ablation=ablation, **d)
    arch = d.pop("arch", None)
    _check_keys(d)
    return vary(ModelConfig(), ablation=ablation, arch=arch).replace(**d)  # explicit fields win, as in get_config


def vary(cfg: ModelConfig, ablation=None, arch: str | None = None) -> ModelConfig:
    """``cfg`` with ablation switches (a name in ``ABLATIONS`` or a list) and a baseline ``arch`` applied.

    What the ablation table trains: ``vary(base, ablation="no_gcn")``, ``vary(base, arch="mlp")``.
    """
    names = [ablation] if isinstance(ablation, str) else list(ablation or ())
    for a in names:
        if a not in ABLATIONS:
            raise ValueError(f"unknown ablation {a!r}; choose from {sorted(ABLATIONS)}")
        cfg = cfg.replace(name=f"{cfg.name}+{a}", ablations=(*cfg.ablations, a), **ABLATIONS[a])
    if arch is not None and arch != cfg.arch:
        if arch not in ARCHS:
            raise ValueError(f"arch={arch!r} is not one of {ARCHS}")
        cfg = cfg.replace(name=f"{arch}-{cfg.name}", arch=arch, **_BASELINE_ARCH.get(arch, {}))
    return cfg


def as_model_config(cfg) -> ModelConfig:
    """The one way to a ``ModelConfig``: a ``ModelConfig`` (returned as is), a preset name, or the YAML dict form.

    Raises ``ValueError`` naming the problem for anything else or for unknown keys / presets / ablations.
    """
    if isinstance(cfg, ModelConfig):
        return cfg
    if isinstance(cfg, str):
        return get_config(cfg)
    if isinstance(cfg, dict):
        return config_from_dict(cfg)
    raise ValueError(
        f"a model config must be a ModelConfig, a preset name ({sorted(PRESETS)}) or a dict, got {type(cfg).__name__}"
    )
