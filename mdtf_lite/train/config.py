"""The training configuration: one dataclass for both stages, loaded from YAML, validated strictly.

    cfg = load_config("configs/ci.yaml", overrides=["epochs=3", "model.dim=16"])
    cfg = TrainConfig(stage="bam", name="bam-demo", epochs=2)          # or directly in Python
    cfg.model                                                         # a ModelConfig (stage 2) / BAMConfig (stage 1)
    TrainConfig.from_dict(cfg.to_dict()) == cfg                       # what a checkpoint stores and reads back

A ``TrainConfig`` is frozen and validated when it is made: a typo (``epoch: 3``) or a wrong type
(``lr: fast``) raises ``ConfigError`` naming the key and what is expected, before any data is loaded or
any weight is built.  The ``model`` section is parsed there, once, into the stage's typed config (its
YAML form: ``{preset: cpu, ablation: no_gcn, dim: 32}``); everything downstream -- the stage, the
checkpoint, ``load_checkpoint`` -- uses that one resolved object.  ``data`` is a dict passed to
``mdtf_lite.data.load_clips``, which validates its keys.

Stage 1 (``stage: bam``) trains the Bone Aware Module with cross-entropy on theta classes.
Stage 2 (``stage: mdtf``) trains MDTF (or a baseline) with L = MPJPE + 0.5 N-MPJPE + 20 velocity error,
the BAM of ``bam_checkpoint`` attached and frozen when the model has a bone stream.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

from ..models.config import BAMConfig, ModelConfig, as_model_config, bam_config_from_dict
from ..safe_yaml import YamlRefused, load_yaml_text

__all__ = ["TrainConfig", "ConfigError", "load_config", "apply_overrides", "STAGES", "SCHEDULES", "RESUME_MAY_CHANGE"]

STAGES = ("bam", "mdtf")
SCHEDULES = ("exponential", "cosine")

#: fields that may differ between a checkpoint and the config resuming it (they do not change the maths).
RESUME_MAY_CHANGE = ("epochs", "progress", "out_dir", "num_threads", "checkpoint_every", "device", "overwrite")


#: bounds of every number in a config: (low, high, low_open); values outside are refused at parse time.
#: The upper bounds are far above any sensible run and stop a typo from training for days or allocating
#: terabytes.  ``None`` is allowed where the field's type is Optional.
LIMITS = {
    "epochs": (1, 100_000, False),
    "batch_size": (1, 65_536, False),
    "warmup_steps": (0, 10**9, False),
    "steps_per_epoch": (1, 10**9, False),
    "val_every": (0, 100_000, False),
    "checkpoint_every": (1, 100_000, False),
    "seed": (0, 2**63 - 1, False),
    "num_threads": (1, 1024, False),
    "lr": (0.0, 10.0, True),
    "weight_decay": (0.0, 10.0, False),
    "lr_decay": (0.0, 1.0, True),
    "lr_final": (0.0, 1.0, False),
    "time_budget": (0.0, 1e7, True),
    "grad_clip": (0.0, 1e6, True),
}
_LIMIT_HINTS = {
    "grad_clip": " (the largest gradient norm; null = no clipping; a negative one flips the gradient)",
    "time_budget": " seconds (null = no limit)",
    "num_threads": " (null = torch's default)",
    "lr_decay": " (the per-epoch lr factor)",
}
#: data section numbers: frames per clip (the official model: 243), window stride, clip subset.
DATA_LIMITS = {"frames": (1, 1024), "stride": (1, 10**6), "max_clips": (1, 10**8), "seed": (0, 2**63 - 1)}
MAX_LOSS_WEIGHT = 1e6
MAX_NAME_CHARS = 100
MAX_CONFIG_BYTES = 100_000
_DEVICE = re.compile(r"cpu|cuda(:\d{1,3})?|mps")


class ConfigError(ValueError):
    """A training config with an unknown key, a wrong type or an impossible value."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved, resolved, inside every checkpoint).

    Attributes:
        name: run name; checkpoints go to ``<run_dir>/checkpoints/<name>`` unless ``out_dir`` is set.
        stage: "bam" (stage 1) or "mdtf" (stage 2).
        model: the network, parsed once when the config is made: a ``BAMConfig`` (stage 1) or a
            ``ModelConfig`` (stage 2).  Given as a dict, it is the YAML form: stage 1 the BoneAwareModule
            fields (``widths``, ``num_bins``, ``d_state``, ..., ``variant: classes|continuous``); stage 2
            ``{preset: cpu, ablation: no_gcn, dim: 32, ...}`` (``models.config.config_from_dict``).
        data: keyword arguments of ``mdtf_lite.data.load_clips`` (``source``, ``frames``, ``keypoints``,
            ``target``, ``max_clips``, ...); ``split`` is set by the loop.
        val_data: overrides of ``data`` for the validation split (e.g. ``{max_clips: 64}``).
        epochs, batch_size: the schedule (batch_size is the GLOBAL batch; DDP splits it across ranks).
        lr, weight_decay, lr_decay: AdamW and the per-epoch exponential decay (lr *= lr_decay each epoch).
        schedule: "exponential" (lr * lr_decay ** epoch, the official recipe) or "cosine" (lr falls to
            ``lr * lr_final`` over all steps of the run: what short CPU runs use).
        warmup_steps: linear warm-up of the lr over the first steps (0 = none).
        lr_final: the cosine schedule's last lr as a fraction of ``lr``.
        time_budget: stop training after this many seconds of optimiser steps (None = no limit); the
            schedule then ends where the budget does.  Baselines get MDTF's measured seconds.
        loss_weights: stage 2 weights of ``mpjpe``, ``n_mpjpe``, ``velocity``.
        flip_augment: random horizontal flip (p = 0.5) of training clips.
        flip_test: flip test-time augmentation during validation.
        steps_per_epoch: cap on optimiser steps per epoch (None = one pass over the training clips).
        val_every: validate every this many epochs (0 = never; the last epoch always validates).
        checkpoint_every: save every this many epochs (the last epoch is always saved).
        grad_clip: max gradient norm (None = no clipping).
        seed: seeds the weights, the shuffling, the flips and drop-path.
        bam_checkpoint: stage 2: the stage-1 checkpoint (a folder, or a name under <run_dir>/checkpoints).
        out_dir: checkpoint folder override.
        num_threads: torch CPU threads (None = torch's default).
        device: "cpu", "cuda", "cuda:1", ... (None = CUDA when available, else CPU; under torchrun with CUDA
            each process takes the GPU of its LOCAL_RANK).  Bit-identical resume is guaranteed on CPU.
        progress: show a tqdm bar.
        overwrite: allow a fresh run (no ``resume``) to replace an existing checkpoint at the checkpoint folder,
            or to write into an existing folder that holds other files (those files are kept, only the
            checkpoint's own files are written).  Without it both are refused before training starts.
    """

    name: str = "run"
    stage: str = "mdtf"
    model: typing.Union[ModelConfig, BAMConfig, dict, None] = None
    data: dict = field(default_factory=dict)
    val_data: dict = field(default_factory=dict)
    epochs: int = 1
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 0.01
    lr_decay: float = 0.99
    schedule: str = "exponential"
    warmup_steps: int = 0
    lr_final: float = 0.05
    time_budget: typing.Optional[float] = None
    loss_weights: dict = field(default_factory=lambda: {"mpjpe": 1.0, "n_mpjpe": 0.5, "velocity": 20.0})
    flip_augment: bool = True
    flip_test: bool = True
    steps_per_epoch: typing.Optional[int] = None
    val_every: int = 1
    checkpoint_every: int = 1
    grad_clip: typing.Optional[float] = None
    seed: int = 0
    bam_checkpoint: typing.Optional[str] = None
    out_dir: typing.Optional[str] = None
    num_threads: typing.Optional[int] = None
    device: typing.Optional[str] = None
    progress: bool = True
    overwrite: bool = False

    def __post_init__(self):
        for key in ("data", "val_data", "loss_weights"):  # own copies: the caller's dicts stay theirs
            if isinstance(getattr(self, key), dict):
                object.__setattr__(self, key, dict(getattr(self, key)))
        _check_types(self)
        problems = _value_problems(self)
        if self.stage not in STAGES:
            problems.append(f"stage={self.stage!r} must be one of {STAGES}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule={self.schedule!r} must be one of {SCHEDULES}")
        if self.device is not None and not _DEVICE.fullmatch(self.device):
            problems.append(
                f"device={self.device!r} must be cpu, cuda, cuda:<index>, mps or null (= CUDA when available, else CPU)"
            )
        unknown_w = sorted(set(self.loss_weights) - {"mpjpe", "n_mpjpe", "velocity"})
        if unknown_w:
            problems.append(f"loss_weights has unknown terms {unknown_w}; known: mpjpe, n_mpjpe, velocity")
        bad_w = {k: w for k, w in self.loss_weights.items() if not _finite_number(w) or not 0 <= w <= MAX_LOSS_WEIGHT}
        if bad_w:
            problems.append(
                f"loss_weights {bad_w} must be finite numbers from 0 to {MAX_LOSS_WEIGHT:g} (a negative "
                "weight trains the model away from the target)"
            )
        elif self.loss_weights and not any(self.loss_weights.values()):
            problems.append("loss_weights are all 0: nothing would be trained; give at least one a positive weight")
        for key in ("data", "val_data"):
            problems += _data_problems(key, getattr(self, key))
        if "split" in self.data or "split" in self.val_data:
            problems.append("data.split is set by the training loop (train/test); remove it")
        if len(self.name) > MAX_NAME_CHARS or not self.name.isprintable():
            problems.append(
                f"name={self.name[:40]!r}... must be at most {MAX_NAME_CHARS} printable characters "
                "(it becomes a folder name)"
            )
        elif (
            not self.name
            or "/" in self.name
            or "\\" in self.name
            or self.name.strip(".") == ""
            or self.name != self.name.strip()
            or "\0" in self.name
        ):
            problems.append(
                f"name={self.name!r} must be a plain folder name (not '.', '..', empty, or with '/', '\\' "
                "or surrounding spaces): it becomes <run_dir>/checkpoints/<name>"
            )
        if problems:
            raise ConfigError("invalid training config: " + "; ".join(problems))
        object.__setattr__(self, "model", _parse_model(self.stage, self.model))

    def to_dict(self) -> dict:
        """The resolved config as plain JSON-ready data (the model section resolved: every field)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d.update(
            model=self.model.to_dict(),
            data=dict(self.data),
            val_data=dict(self.val_data),
            loss_weights=dict(self.loss_weights),
        )
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """The inverse of :meth:`to_dict` (a checkpoint's config): the model section is read as resolved,
        nothing applied on top (the YAML form goes through ``TrainConfig(**d)`` / :func:`load_config`)."""
        _check_known(d)
        d = dict(d)
        try:
            model = d.get("model") or {}
            d["model"] = bam_config_from_dict(model) if d.get("stage") == "bam" else ModelConfig.from_dict(model)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid resolved model section for stage {d.get('stage')!r}: {exc}") from None
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        """A validated copy with some fields changed (``model`` may be a typed config or its YAML form)."""
        _check_known(changes)
        return dataclasses.replace(self, **changes)

    def math_fields(self) -> dict:
        """The fields that determine the trained weights (compared when resuming)."""
        return {k: v for k, v in self.to_dict().items() if k not in RESUME_MAY_CHANGE}


def _parse_model(stage: str, model) -> BAMConfig | ModelConfig:
    """The ``model`` field -> the stage's typed config: the one place a model section is parsed."""
    want = BAMConfig if stage == "bam" else ModelConfig
    if isinstance(model, (BAMConfig, ModelConfig)):
        if not isinstance(model, want):
            raise ConfigError(f"stage {stage!r} trains a {want.__name__}, got a {type(model).__name__} as model")
        return model
    if model is not None and not isinstance(model, dict):
        raise ConfigError(
            f"model must be a mapping (the YAML model: section) or a {want.__name__}, got {type(model).__name__}"
        )
    try:
        return bam_config_from_dict(model or {}) if stage == "bam" else as_model_config(dict(model or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid model section for stage {stage!r}: {exc}") from None


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _value_problems(cfg: TrainConfig) -> list[str]:
    """Every number of ``cfg`` outside its ``LIMITS`` (types are already checked)."""
    problems = []
    for key, (low, high, low_open) in LIMITS.items():
        value = getattr(cfg, key)
        if value is None:
            continue
        inside = _finite_number(value) and (low < value if low_open else low <= value) and value <= high
        if not inside and isinstance(low, int):
            problems.append(f"{key}={value!r} must be an integer from {low} to {high}{_LIMIT_HINTS.get(key, '')}")
        elif not inside:
            span = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            problems.append(f"{key}={value!r} must be a finite number in {span}{_LIMIT_HINTS.get(key, '')}")
    return problems


def _data_problems(section: str, data: dict) -> list[str]:
    """The numbers of a ``data`` / ``val_data`` section outside ``DATA_LIMITS`` (None = the default)."""
    problems = []
    for key, (low, high) in DATA_LIMITS.items():
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{section}.{key}={value!r} must be an integer from {low} to {high}")
    for key, kind in (("subjects", str), ("cameras", int)):
        value = data.get(key)
        if value is not None and (
            not isinstance(value, list)
            or not value
            or len(value) > 1000
            or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value)
        ):
            problems.append(
                f"{section}.{key}={value!r} must be a non-empty list of {kind.__name__}s "
                f"(e.g. {'[S1, S5]' if kind is str else '[0, 1]'}) or null"
            )
    return problems


def _check_known(d: dict) -> None:
    known = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(d) - set(known))
    if unknown:
        import difflib

        hints = [
            f"{u!r} (did you mean {difflib.get_close_matches(u, known, 1)[0]!r}?)"
            if difflib.get_close_matches(u, known, 1)
            else repr(u)
            for u in unknown
        ]
        raise ConfigError(f"unknown training config key(s): {', '.join(hints)}; known keys: {known}")


def _type_ok(value, hint) -> bool:
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _check_types(cfg: TrainConfig) -> None:
    hints = typing.get_type_hints(TrainConfig)
    wrong = []
    for f in dataclasses.fields(cfg):
        if f.name == "model":  # checked by _parse_model
            continue
        value, hint = getattr(cfg, f.name), hints[f.name]
        wants_float = hint is float or (typing.get_origin(hint) is typing.Union and float in typing.get_args(hint))
        if wants_float and isinstance(value, str):
            try:  # YAML 1.1 reads "5e-4" (no dot) as a string: accept it as the number it spells
                value = float(value)
                object.__setattr__(cfg, f.name, value)
            except ValueError:
                pass
        if not _type_ok(value, hint):
            wrong.append(
                f"{f.name}={value!r} should be {getattr(hint, '__name__', str(hint))} (got {type(value).__name__})"
            )
        elif wants_float and isinstance(value, int):
            object.__setattr__(cfg, f.name, float(value))
    for key in ("data", "val_data", "loss_weights"):
        if isinstance(getattr(cfg, key), dict) and any(not isinstance(k, str) for k in getattr(cfg, key)):
            wrong.append(f"{key} keys must be strings")
    if wrong:
        raise ConfigError("wrong type in training config: " + "; ".join(wrong))


def apply_overrides(d: dict, overrides) -> dict:
    """Apply ``key=value`` strings (values parsed as YAML; dotted keys reach into dicts) to a config dict.

    ``["epochs=3", "model.dim=16", "data.max_clips=null"]`` -> a new dict.
    """
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in d.items()}
    for item in overrides or ():
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value (e.g. epochs=3 or model.dim=16)")
        key, text = item.split("=", 1)
        try:
            value = load_yaml_text(text, source=f"override {item!r}") if text.strip() else None
        except YamlRefused as exc:
            raise ConfigError(str(exc)) from None
        parts = key.strip().split(".")
        target = d
        for p in parts[:-1]:
            if p not in target:
                target[p] = {}
            if not isinstance(target[p], dict):
                raise ConfigError(f"override {item!r}: {p!r} is not a section")
            target[p] = dict(target[p])
            target = target[p]
        target[parts[-1]] = value
    return d


def load_config(path, overrides=None) -> TrainConfig:
    """Read a YAML training config, apply ``key=value`` overrides, validate.

    Raises: FileNotFoundError (names the path and the available configs), ConfigError.
    """
    path = Path(path)
    if not path.is_file():
        folder = path.parent if path.parent.is_dir() else None
        have = sorted(p.name for p in folder.glob("*.yaml")) if folder else []
        raise FileNotFoundError(
            f"training config {path} not found" + (f"; available in {folder}: {have}" if have else "")
        )
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: {path.stat().st_size} bytes, larger than any training config "
            f"({MAX_CONFIG_BYTES} at most); is it the right file?"
        )
    try:
        d = load_yaml_text(path.read_text(encoding="utf-8"), source=str(path)) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc}); a config is a YAML text file") from None
    except YamlRefused as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(d).__name__}")
    try:
        d = apply_overrides(d, overrides)
        d.setdefault("name", path.stem)
        _check_known(d)
        return TrainConfig(**d)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}; fix it in {path} or in the key=value overrides") from None
