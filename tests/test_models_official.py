"""Official MDTF-3DHPE state dicts <-> ours: a state dict written with the official names and shapes
(listed here from the official code's module definitions, independently of the converter) converts,
loads strictly, round-trips, and the bone-token layouts differ exactly by the documented shift."""

import math

import pytest
import torch

from mdtf_lite.models import build_model
from mdtf_lite.models.bam import BoneAwareModule
from mdtf_lite.models.config import get_config
from mdtf_lite.models.mdtf import to_official_token_layout
from mdtf_lite.models.official import (
    official_bam_to_ours,
    official_config,
    official_to_ours,
    ours_to_official,
    ours_to_official_bam,
    read_official_state,
)

J = 17


def _mamba(prefix, c, n=16, k=4, gem=False):
    r = math.ceil(c / 16)
    spec = {"in_proj.weight": (2 * c, c), "out_proj.weight": (c, c)}
    for s in ("", "_b"):
        spec.update(
            {
                f"conv1d{s}.weight": (c, 1, k),
                f"conv1d{s}.bias": (c,),
                f"x_proj{s}.weight": (r + 2 * n, c),
                f"dt_proj{s}.weight": (c, r),
                f"dt_proj{s}.bias": (c,),
                f"D{s}": (c,),
            }
        )
    spec.update({"A_log": (c, n), "A_b_log": (c, n)})
    if gem:
        for s in ("", "_b"):
            spec.update(
                {
                    f"norm_gcn{s}.weight": (c,),
                    f"norm_gcn{s}.bias": (c,),
                    f"gcn{s}.U.weight": (c, c),
                    f"gcn{s}.U.bias": (c,),
                    f"gcn{s}.V.weight": (c, c),
                    f"gcn{s}.V.bias": (c,),
                    f"gcn{s}.batch_norm.weight": (J,),
                    f"gcn{s}.batch_norm.bias": (J,),
                    f"gcn{s}.batch_norm.running_mean": (J,),
                    f"gcn{s}.batch_norm.running_var": (J,),
                    f"gcn{s}.batch_norm.num_batches_tracked": (),
                }
            )
    return {prefix + key: shape for key, shape in spec.items()}


def _block(prefix, c, gem=False):
    n1, n2, mixer = ("mambanorm1", "mambanorm2", "gcnmamba") if gem else ("norm1", "norm2", "mamba")
    spec = {
        f"{n1}.weight": (c,),
        f"{n1}.bias": (c,),
        f"{n2}.weight": (c,),
        f"{n2}.bias": (c,),
        "mlp.fc1.weight": (2 * c, c),
        "mlp.fc1.bias": (2 * c,),
        "mlp.fc2.weight": (c, 2 * c),
        "mlp.fc2.bias": (c,),
    }
    out = {prefix + k: v for k, v in spec.items()}
    out.update(_mamba(f"{prefix}{mixer}.", c, gem=gem))
    return out


def _ln(prefix, c):
    return {prefix + "weight": (c,), prefix + "bias": (c,)}


def official_stage2_spec(c, depth, frames):
    spec = {
        "Spatial_patch_to_embedding1.weight": (c, 3),
        "Spatial_patch_to_embedding1.bias": (c,),
        "Spatial_patch_to_embedding2.weight": (c, 3),
        "Spatial_patch_to_embedding2.bias": (c,),
        "Spatial_pos_embed": (1, J, c),
        "Temporal_pos_embed": (1, frames, c),
        "fusion.weight": (2, 2 * c),
        "fusion.bias": (2,),
        "head.1.weight": (3, c),
        "head.1.bias": (3,),
    }
    for i in range(depth):
        spec.update(_block(f"STEblocks.{i}.", c, gem=True))
        spec.update(_block(f"TTEblocks.{i}.", c))
    spec.update(_block("limbSpatialMamba.", c))
    spec.update(_block("limbTemporalMamba.", c))
    for name in ("limbSpatialNorm.", "limbTemporalNorm.", "Spatial_norm.", "Temporal_norm.", "head.0."):
        spec.update(_ln(name, c))
    return spec


def official_bam_spec(widths=(64, 32, 16, 8), bins=6):
    spec = {"Spatial_patch_to_embedding.weight": (widths[0], 3), "Spatial_patch_to_embedding.bias": (widths[0],)}
    outs = list(widths[1:]) + [bins]
    for i, (w, o) in enumerate(zip(widths, outs)):
        spec.update(_block(f"STEblocks.{i}.", w))
        spec.update(_block(f"TTEblocks.{i}.", w))
        spec.update(_ln(f"Spatial_norm.{i}.", w))
        spec.update(_ln(f"Temporal_norm.{i}.", w))
        spec.update({f"mlp.{i}.weight": (o, w), f"mlp.{i}.bias": (o,)})
    return spec


def _random(spec, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in spec.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            out[key] = torch.rand(shape, generator=g) + 0.5
        else:
            out[key] = 0.1 * torch.randn(shape, generator=g)
    return out


SMALL = dict(dim=16, depth=3, n_frames=9)


def test_official_stage2_names_convert_load_and_round_trip():
    official = _random(official_stage2_spec(SMALL["dim"], SMALL["depth"], SMALL["n_frames"]))
    model = build_model(official_config("tiny", **SMALL)).eval()
    ours = official_to_ours({"module." + k: v for k, v in official.items()})  # DataParallel prefix dropped
    assert set(ours) == set(model.state_dict()), "every official key must land on exactly one of ours"
    model.load_state_dict(ours, strict=True)
    back = ours_to_official(model.state_dict())
    assert set(back) == set(official)
    assert all(torch.equal(back[k], official[k]) for k in official)


def test_converted_weights_give_the_same_outputs_and_layouts_differ_by_the_shift():
    torch.manual_seed(0)
    official = _random(official_stage2_spec(SMALL["dim"], SMALL["depth"], SMALL["n_frames"]), seed=1)
    a = build_model(official_config("tiny", **SMALL)).eval()
    a.load_state_dict(official_to_ours(official), strict=True)
    b = build_model(official_config("tiny", **SMALL)).eval()
    b.load_state_dict(official_to_ours(ours_to_official(a.state_dict())), strict=True)
    child = build_model(get_config("tiny", **SMALL)).eval()
    child.load_state_dict(a.state_dict(), strict=True)
    x = torch.randn(2, 9, J, 3)
    x[..., 2] = torch.rand(2, 9, J)
    tokens = torch.randn(2, 9, J, 3)
    tokens[..., 0, :] = 0
    with torch.no_grad():
        ya, yb = a(x, bone_tokens=tokens), b(x, bone_tokens=tokens)
        y_child = child(x, bone_tokens=to_official_token_layout(tokens))
        y_child_unshifted = child(x, bone_tokens=tokens)
    assert torch.equal(ya, yb)
    assert torch.allclose(ya, y_child, atol=1e-6), "official layout = child layout fed the shifted tokens"
    assert not torch.allclose(ya, y_child_unshifted, atol=1e-4), "the layout option must change what is fed"


def test_official_bam_names_convert_load_and_round_trip():
    official = _random(official_bam_spec(), seed=2)
    bam = BoneAwareModule().eval()
    ours = official_bam_to_ours(official)
    assert set(ours) == set(bam.state_dict())
    bam.load_state_dict(ours, strict=True)
    back = ours_to_official_bam(bam.state_dict())
    assert set(back) == set(official) and all(torch.equal(back[k], official[k]) for k in official)


def test_layer_norm_eps_matches_the_official_code():
    m = build_model(get_config("tiny", **SMALL))
    assert m.spatial_norm.eps == m.temporal_norm.eps == m.bone_layer.spatial_norm.eps == 1e-6
    assert m.joint_layer.spatial.norm1.eps == m.strm.layers[0].temporal.norm2.eps == 1e-6
    assert m.head_norm.eps == 1e-5
    assert m.joint_layer.spatial.mixer.gcn_norm_fwd.eps == m.joint_layer.spatial.mixer.gcn_norm_bwd.eps == 1e-5


def test_unknown_official_key_and_pickles_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Spatial_whatever"):
        official_to_ours({"Spatial_whatever.weight": torch.zeros(1)}, depth=1)
    path = tmp_path / "best_epoch.pth.tr"
    torch.save({"model": {"a": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match="trust_pickle"):
        read_official_state(path)
    assert set(read_official_state(path, trust_pickle=True)) == {"a"}


def _as_written_before(key: str) -> str:
    """A current MDTF key as the package's older versions wrote it: per-index block lists, bone_* names,
    and GEM's LayerNorm + GCN as ``pre_conv`` hooks inside the scan directions."""
    for new, old in (
        ("joint_layer.spatial.", "spatial_blocks.0."),
        ("joint_layer.temporal.", "temporal_blocks.0."),
        ("strm.layers.0.spatial.", "spatial_blocks.1."),
        ("strm.layers.0.temporal.", "temporal_blocks.1."),
        ("bone_layer.spatial_norm.", "bone_spatial_norm."),
        ("bone_layer.temporal_norm.", "bone_temporal_norm."),
        ("bone_layer.spatial.", "bone_spatial."),
        ("bone_layer.temporal.", "bone_temporal."),
        ("mixer.gcn_norm_fwd.", "mixer.fwd.pre_conv.0."),
        ("mixer.gcn_fwd.", "mixer.fwd.pre_conv.1."),
        ("mixer.gcn_norm_bwd.", "mixer.bwd.pre_conv.0."),
        ("mixer.gcn_bwd.", "mixer.bwd.pre_conv.1."),
    ):
        key = key.replace(new, old)
    return key


def test_older_checkpoints_load_after_the_one_conversion():
    m = build_model(get_config("cpu", depth=2))
    legacy = {_as_written_before(k): v for k, v in m.state_dict().items()}
    assert any(k.startswith("spatial_blocks.1.mixer.bwd.pre_conv.1.") for k in legacy)
    fresh = build_model(get_config("cpu", depth=2))
    with pytest.raises(RuntimeError, match="Missing key"):
        fresh.load_state_dict(legacy, strict=True)  # no hidden renaming on load: one explicit path
    fresh.load_state_dict(fresh.upgrade_state_dict(legacy), strict=True)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in m.state_dict().items())
    # the intermediate generation (named layers, GCNs still as pre_conv hooks) converts too
    middle = {k.replace("mixer.gcn_fwd.", "mixer.fwd.pre_conv.1."): v for k, v in m.state_dict().items()}
    assert "strm.layers.0.spatial.mixer.fwd.pre_conv.1.U.weight" in middle
    upgraded, want = fresh.upgrade_state_dict(middle), m.state_dict()
    assert upgraded.keys() == want.keys() and all(
        upgraded[k] is middle_v for k, middle_v in zip(upgraded, middle.values())
    )
