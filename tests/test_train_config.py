"""Training configs: strict validation, YAML loading, key=value overrides, the shipped configs parse."""

from pathlib import Path

import pytest

from mdtf_lite.models.config import BAMConfig, get_config
from mdtf_lite.train import ConfigError, TrainConfig, apply_overrides, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_are_the_official_stage2_recipe():
    cfg = TrainConfig()
    assert (cfg.lr, cfg.weight_decay, cfg.lr_decay, cfg.batch_size) == (5e-4, 0.01, 0.99, 16)
    assert cfg.loss_weights == {"mpjpe": 1.0, "n_mpjpe": 0.5, "velocity": 20.0}


def test_unknown_key_names_it_and_suggests(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("epoch: 3\n")
    with pytest.raises(ConfigError, match=r"'epoch' \(did you mean 'epochs'\?\)"):
        load_config(path)


def test_wrong_types_are_named():
    with pytest.raises(ConfigError, match="lr='fast' should be float"):
        TrainConfig(lr="fast")
    with pytest.raises(ConfigError, match="epochs=2.5 should be int"):
        TrainConfig(epochs=2.5)
    with pytest.raises(ConfigError, match="flip_augment"):
        TrainConfig(flip_augment="yes")
    assert TrainConfig(lr=1).lr == 1.0 and isinstance(TrainConfig(lr=1).lr, float)


def test_bad_values():
    with pytest.raises(ConfigError, match="stage"):
        TrainConfig(stage="bones")
    with pytest.raises(ConfigError, match="loss_weights"):
        TrainConfig(loss_weights={"mpjpe": 1.0, "bone": 1.0})
    with pytest.raises(ConfigError, match="split"):
        TrainConfig(data={"split": "train"})


def test_overrides_parse_yaml_and_reach_into_sections(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("epochs: 1\nmodel: {preset: cpu}\n")
    cfg = load_config(path, ["epochs=3", "model.dim=16", "lr=1e-3", "data.max_clips=null", "flip_test=false"])
    assert cfg.name == "x" and cfg.epochs == 3 and cfg.model == get_config("cpu", dim=16)
    assert cfg.lr == 1e-3 and cfg.data == {"max_clips": None} and cfg.flip_test is False
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["epochs"])
    with pytest.raises(FileNotFoundError, match="not found"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    cfg = load_config(path)
    assert cfg.name == path.stem
    if cfg.stage == "mdtf" and cfg.bam_checkpoint:
        assert (ROOT / "configs" / f"{cfg.bam_checkpoint}.yaml").is_file(), "stage 2 names a BAM config that exists"


def test_the_model_section_is_parsed_once_into_a_frozen_config():
    import dataclasses

    cfg = TrainConfig(model={"preset": "cpu", "ablation": "no_bone", "dim": 16})
    assert cfg.model == get_config("cpu", ablation="no_bone", dim=16)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0
    # what a checkpoint stores: the resolved config, read back unchanged (no switch applied twice)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.to_dict()["model"]["bone_stream"] is False and "preset" not in cfg.to_dict()["model"]
    mlp = TrainConfig(model={"preset": "cpu", "arch": "mlp", "dim": 64})  # an override after the baseline's
    assert TrainConfig.from_dict(mlp.to_dict()).model.dim == 64
    assert cfg.replace(epochs=3).model is cfg.model  # a copy does not parse again
    bam = TrainConfig(stage="bam", model={"widths": [8, 4]})
    assert bam.model == BAMConfig(widths=(8, 4)) and TrainConfig.from_dict(bam.to_dict()) == bam


def test_model_section_errors_name_the_stage():
    with pytest.raises(ConfigError, match="model section for stage 'mdtf'.*unknown model preset"):
        TrainConfig(model={"preset": "huge"})
    with pytest.raises(ConfigError, match="stage 'bam' trains a BAMConfig"):
        TrainConfig(stage="bam", model=get_config("cpu"))
    with pytest.raises(ConfigError, match="'ablations' records"):
        TrainConfig(model={"preset": "cpu", "ablations": ["no_gcn"]})


def test_ablation_variants_of_a_resolved_config_are_the_yaml_variants():
    """The ablation table varies the parsed base model; it trains the models the YAML form names."""
    from mdtf_lite.models.config import config_from_dict, vary
    from mdtf_lite.train.ablation import VARIANTS

    base = load_config(ROOT / "configs" / "ablation.yaml").model
    for name, switches in VARIANTS.items():
        assert vary(base, **switches) == config_from_dict({"preset": "cpu", **switches}), name


def test_explicit_model_fields_win_over_switches_with_or_without_a_preset():
    """One rule for ``arch`` / ``ablation`` and written-out fields: the fields come last, as in get_config."""
    from mdtf_lite.models.config import config_from_dict, get_config

    assert config_from_dict({"arch": "mlp", "dim": 64}).dim == get_config("cpu", arch="mlp", dim=64).dim == 64
    assert config_from_dict({"ablation": "no_gcn", "spatial_mixer": "dwconv"}).spatial_mixer == "dwconv"
    assert config_from_dict({"ablation": "no_gcn", "name": "mine"}).name == "mine"
