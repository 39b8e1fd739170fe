"""Official MDTF-3DHPE state dicts <-> this package's, one key to one key, no tensor changed.

The official code (public repository ZenghaoZheng/MDTF-3DHPE) names its parameters differently; the
function is the same once two details match, which ``official_config`` sets:

* LayerNorm eps 1e-6 for the block, bone-stream and shared norms, 1e-5 for the head norm and the LN
  before each GCN -- this package's defaults (``models.blocks.BLOCK_NORM_EPS`` / ``GCN_NORM_EPS``);
* the bone-token layout: the official stage 2 reads bone k's token at row k (child k + 1), so a
  converted model is built with ``bone_token_layout="official"``.

Official names (facts read from its ``model/`` code), stage 2 (``MotionMamba`` of the fusion model):

    Spatial_patch_to_embedding1 / 2      joint / bone input Linear(3, C)
    Spatial_pos_embed, Temporal_pos_embed
    STEblocks.i  (mambanorm1, gcnmamba, mambanorm2, mlp.fc1, mlp.fc2)     GEM block of layer i
    TTEblocks.i  (norm1, mamba, norm2, mlp.fc1, mlp.fc2)                  temporal block of layer i
    limbSpatialMamba, limbSpatialNorm, limbTemporalMamba, limbTemporalNorm  the bone stream
    fusion (Linear(2C, 2)), Spatial_norm, Temporal_norm (shared), head.0 (LN), head.1 (Linear(C, 3))

and inside every Mamba mixer: in_proj, out_proj; forward conv1d, x_proj, dt_proj, A_log, D; backward
conv1d_b, x_proj_b, dt_proj_b, A_b_log, D_b; GEM only: norm_gcn, gcn.{U, V, batch_norm} and
norm_gcn_b, gcn_b.  Stage 1 (the BAM): Spatial_patch_to_embedding, STEblocks.i / TTEblocks.i
(plain blocks), Spatial_norm.i / Temporal_norm.i, mlp.i (the halving Linears, the last one the head).

Checkpoints of the official training script are pickled (``torch.save``); :func:`read_official_state`
opens them only with ``trust_pickle=True`` (and then with ``torch.load(weights_only=True)``), or reads a
``.safetensors`` export without any opt-in.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import load_file

from mdtf_lite.models.bam import BoneAwareModule
from mdtf_lite.models.config import ModelConfig, get_config
from mdtf_lite.models.factory import build_model

__all__ = [
    "official_to_ours",
    "ours_to_official",
    "official_bam_to_ours",
    "ours_to_official_bam",
    "official_config",
    "read_official_state",
    "load_official_mdtf",
    "load_official_bam",
]

# mixer-internal names: official -> ours (GEM's GCNs included; a plain mixer simply has none of those keys)
_MIXER = [
    ("in_proj.", "in_proj."),
    ("out_proj.", "out_proj."),
    ("conv1d_b.", "bwd.conv1d."),
    ("x_proj_b.", "bwd.x_proj."),
    ("dt_proj_b.", "bwd.dt_proj."),
    ("A_b_log", "bwd.A_log"),
    ("D_b", "bwd.D"),
    ("conv1d.", "fwd.conv1d."),
    ("x_proj.", "fwd.x_proj."),
    ("dt_proj.", "fwd.dt_proj."),
    ("A_log", "fwd.A_log"),
    ("D", "fwd.D"),
    ("norm_gcn_b.", "gcn_norm_bwd."),
    ("gcn_b.batch_norm.", "gcn_bwd.bn."),
    ("gcn_b.", "gcn_bwd."),
    ("norm_gcn.", "gcn_norm_fwd."),
    ("gcn.batch_norm.", "gcn_fwd.bn."),
    ("gcn.", "gcn_fwd."),
]

# block-level names: official -> ours
_BLOCK = [
    ("mambanorm1.", "norm1."),
    ("mambanorm2.", "norm2."),
    ("norm1.", "norm1."),
    ("norm2.", "norm2."),
    ("mlp.", "mlp."),
    ("gcnmamba.", "mixer."),
    ("mamba.", "mixer."),
]

_TOP = [
    ("Spatial_patch_to_embedding1.", "joint_embed."),
    ("Spatial_patch_to_embedding2.", "bone_embed."),
    ("Spatial_pos_embed", "spatial_pos"),
    ("Temporal_pos_embed", "temporal_pos"),
    ("Spatial_norm.", "spatial_norm."),
    ("Temporal_norm.", "temporal_norm."),
    ("limbSpatialNorm.", "bone_layer.spatial_norm."),
    ("limbTemporalNorm.", "bone_layer.temporal_norm."),
    ("fusion.", "fusion.proj."),
    ("head.0.", "head_norm."),
    ("head.1.", "head."),
]

_BONE_BLOCKS = {"limbSpatialMamba.": "bone_layer.spatial.", "limbTemporalMamba.": "bone_layer.temporal."}


def _swap(table, reverse: bool):
    return [(b, a) for a, b in table] if reverse else table


def _first(table, key: str, reverse: bool = False) -> tuple[str, str] | None:
    """(matched prefix, its replacement) of the first row of ``table`` that ``key`` starts with, exact for
    names without a trailing dot (parameters such as ``A_log``)."""
    for a, b in _swap(table, reverse):
        if (a.endswith(".") and key.startswith(a)) or key == a:
            return a, b
    return None


def _block_key(rest: str, where: str, reverse: bool = False, gem: bool = False) -> str:
    """A key inside one residual block, official -> ours, or ours -> official (``gem``: the official GEM
    block calls its norms ``mambanorm1/2`` and its mixer ``gcnmamba``)."""
    if not reverse:
        hit = _first(_BLOCK, rest)
        if hit is None:
            raise ValueError(f"{where}: unknown block parameter {rest!r}")
        a, b = hit
    else:
        table = {
            "norm1.": "mambanorm1." if gem else "norm1.",
            "norm2.": "mambanorm2." if gem else "norm2.",
            "mlp.": "mlp.",
            "mixer.": "gcnmamba." if gem else "mamba.",
        }
        a = next((p for p in table if rest.startswith(p)), None)
        if a is None:
            raise ValueError(f"{where}: unknown block parameter {rest!r}")
        b = table[a]
    inner = rest[len(a) :]
    if a in ("mixer.", "gcnmamba.", "mamba."):
        m = _first(_MIXER, inner, reverse)
        if m is None:
            raise ValueError(f"{where}: unknown Mamba parameter {inner!r}")
        inner = m[1] + inner[len(m[0]) :]
    return b + inner


def _map_stage2(key: str, depth: int, reverse: bool) -> str:
    if not reverse:
        m = re.match(r"(STEblocks|TTEblocks)\.(\d+)\.(.*)", key)
        if m:
            i, part = int(m.group(2)), "spatial." if m.group(1) == "STEblocks" else "temporal."
            if i >= depth:
                raise ValueError(f"official key {key!r}: layer {i} but the model has depth {depth}")
            layer = "joint_layer." if i == 0 else f"strm.layers.{i - 1}."
            return layer + part + _block_key(m.group(3), key)
        for a, b in _BONE_BLOCKS.items():
            if key.startswith(a):
                return b + _block_key(key[len(a) :], key)
    else:
        m = re.match(r"(joint_layer|strm\.layers\.(\d+))\.(spatial|temporal)\.(.*)", key)
        if m:
            i = 0 if m.group(1) == "joint_layer" else int(m.group(2)) + 1
            gem = m.group(3) == "spatial"
            return f"{'STEblocks' if gem else 'TTEblocks'}.{i}.{_block_key(m.group(4), key, True, gem)}"
        for a, b in _BONE_BLOCKS.items():
            if key.startswith(b):
                return a + _block_key(key[len(b) :], key, reverse=True)
    hit = _first(_TOP, key, reverse)
    if hit is None:
        raise ValueError(
            f"no {'official' if reverse else 'package'} name for {'our' if reverse else 'official'} key {key!r}"
        )
    return hit[1] + key[len(hit[0]) :]


def _strip_module(state: dict) -> dict:
    """Drop the ``module.`` prefix that (Distributed)DataParallel adds to every key."""
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module.") :]: v for k, v in state.items()}
    return dict(state)


def official_to_ours(state: dict, depth: int | None = None) -> dict:
    """Official stage-2 state dict -> this package's MDTF keys (tensors shared, not copied).

    Args:
        state: ``{official name: tensor}`` (a leading ``module.`` is dropped).
        depth: the model's depth; default: counted from the ``STEblocks.i`` keys.
    Raises: ValueError naming a key that has no counterpart.
    """
    state = _strip_module(state)
    if depth is None:
        depth = 1 + max((int(m.group(1)) for k in state if (m := re.match(r"STEblocks\.(\d+)\.", k))), default=0)
    return {_map_stage2(k, depth, reverse=False): v for k, v in state.items()}


def ours_to_official(state: dict) -> dict:
    """This package's MDTF state dict -> official stage-2 names (the frozen ``bam.*`` is left out)."""
    return {_map_stage2(k, 0, reverse=True): v for k, v in state.items() if not k.startswith("bam.")}


def official_bam_to_ours(state: dict) -> dict:
    """Official stage-1 (BAM) state dict -> ``BoneAwareModule`` keys."""
    state = _strip_module(state)
    n = 1 + max((int(m.group(1)) for k in state if (m := re.match(r"mlp\.(\d+)\.", k))), default=0)
    out = {}
    for k, v in state.items():
        if k.startswith("Spatial_patch_to_embedding."):
            out["embed." + k.split(".", 1)[1]] = v
            continue
        m = re.match(r"(STEblocks|TTEblocks|Spatial_norm|Temporal_norm|mlp)\.(\d+)\.(.*)", k)
        if m is None:
            raise ValueError(f"official BAM key {k!r} has no counterpart in BoneAwareModule")
        kind, i, rest = m.group(1), int(m.group(2)), m.group(3)
        if kind == "mlp":
            out[(f"downs.{i}." if i < n - 1 else "head.") + rest] = v
        elif kind.endswith("_norm"):
            out[f"levels.{i}.{'spatial' if kind.startswith('Spatial') else 'temporal'}_norm.{rest}"] = v
        else:
            out[f"levels.{i}.{'spatial' if kind == 'STEblocks' else 'temporal'}.{_block_key(rest, k)}"] = v
    return out


def ours_to_official_bam(state: dict) -> dict:
    """``BoneAwareModule`` state dict -> official stage-1 names."""
    n_down = 1 + max((int(m.group(1)) for k in state if (m := re.match(r"downs\.(\d+)\.", k))), default=-1)
    out = {}
    for k, v in state.items():
        if k.startswith("embed."):
            out["Spatial_patch_to_embedding." + k[len("embed.") :]] = v
        elif k.startswith("head."):
            out[f"mlp.{n_down}." + k[len("head.") :]] = v
        elif m := re.match(r"downs\.(\d+)\.(.*)", k):
            out[f"mlp.{m.group(1)}.{m.group(2)}"] = v
        elif m := re.match(r"levels\.(\d+)\.(spatial|temporal)_norm\.(.*)", k):
            out[f"{m.group(2).capitalize()}_norm.{m.group(1)}.{m.group(3)}"] = v
        elif m := re.match(r"levels\.(\d+)\.(spatial|temporal)\.(.*)", k):
            name = "STEblocks" if m.group(2) == "spatial" else "TTEblocks"
            out[f"{name}.{m.group(1)}.{_block_key(m.group(3), k, reverse=True)}"] = v
        else:
            raise ValueError(f"BoneAwareModule key {k!r} has no official counterpart")
    return out


def official_config(preset: str = "tiny", **overrides) -> ModelConfig:
    """The ``ModelConfig`` an official checkpoint fits: the preset with the official bone-token layout."""
    return get_config(preset, bone_token_layout="official", name=f"official-{preset}", **overrides)


def read_official_state(path, trust_pickle: bool = False) -> dict:
    """``{name: tensor}`` from an official checkpoint file.

    ``.safetensors``: read directly.  ``.pth`` / ``.pth.tr`` / ``.bin`` (pickled by ``torch.save``): only with
    ``trust_pickle=True``, then ``torch.load(weights_only=True)``; the weights are taken from the
    ``model_pos`` / ``model`` / ``state_dict`` entry when the file holds a training checkpoint.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"official checkpoint {path} does not exist; download it from the official "
            "repository's README (Pretrained Weights) and put it under data/official/"
        )
    if path.suffix == ".safetensors":
        return load_file(str(path))
    if not trust_pickle:
        raise ValueError(
            f"{path} is a pickled torch checkpoint; opening it runs the unpickler. If you trust the "
            "file, pass trust_pickle=True (it is then read with torch.load(weights_only=True)), or "
            "convert it to .safetensors once"
        )
    obj = torch.load(str(path), map_location="cpu", weights_only=True)
    for key in ("model_pos", "model", "state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(
            f"{path} holds no state dict of tensors (looked at the top level and at 'model_pos', 'model', 'state_dict')"
        )
    return obj


def load_official_mdtf(path, preset: str = "tiny", bam_path=None, trust_pickle: bool = False):
    """An ``MDTF`` with official stage-2 weights (and, if given, the official BAM attached), eval mode."""
    model = build_model(official_config(preset))
    model.load_state_dict(official_to_ours(read_official_state(path, trust_pickle), model.cfg.depth), strict=True)
    if bam_path is not None:
        model.attach_bam(load_official_bam(bam_path, trust_pickle))
    return model.eval()


def load_official_bam(path, trust_pickle: bool = False):
    """A ``BoneAwareModule`` with official stage-1 weights, eval mode."""
    bam = BoneAwareModule()
    bam.load_state_dict(official_bam_to_ours(read_official_state(path, trust_pickle)), strict=True)
    return bam.eval()
