"""Hostile configs: every number is checked against its meaning when the config is parsed (issue 25).

Each case here was accepted by the old parser and then trained the wrong way, blew up, or failed late.
"""

import math
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdtf_lite.cli_types import check_timeout, timeout_seconds
from mdtf_lite.models.config import BAMConfig, ModelConfig, config_from_dict
from mdtf_lite.safe_yaml import YamlRefused, load_yaml_text
from mdtf_lite.train import ConfigError, TrainConfig, load_config
from mdtf_lite.train.config import DATA_LIMITS, LIMITS

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "configs" / "ci.yaml"


@pytest.mark.parametrize(
    "override,pattern",
    [
        ("grad_clip=-1", r"grad_clip=-1\.0 must be .*flips the gradient"),  # flipped the gradient, exit 0
        ("grad_clip=0", "grad_clip=0.0 must be"),
        ("loss_weights.mpjpe=-1", r"loss_weights \{'mpjpe': -1\}"),  # trained away from the target
        ("loss_weights.velocity=.nan", "loss_weights"),
        ("loss_weights={mpjpe: 0, n_mpjpe: 0, velocity: 0}", "all 0"),
        ("data.frames=100000", "data.frames=100000 must be an integer from 1 to 1024"),  # resampled to 100 k frames
        ("val_data.max_clips=0", "val_data.max_clips=0"),
        ("data.subjects=S1", r"data.subjects='S1' must be a non-empty list of strs"),  # iterated as 'S', '1'
        ("data.cameras=[a]", r"data.cameras=\['a'\] must be a non-empty list of ints"),
        ("model.depth=100000", "depth=100000 must be an integer from 1 to 64"),  # built for minutes
        ("model.dim=99999999", "dim=99999999 must be an integer"),  # crashed
        ("model={preset: cpu, dim: 1024, depth: 16}", r"dim=1024 with depth=16 is too large"),  # > 100 M parameters
        ("model.mlp_ratio=.nan", "mlp_ratio=nan must be a finite number"),
        ("model.bone_stream=1", "bone_stream=1 must be true or false"),
        ("time_budget=.nan", r"time_budget=nan must be a finite number"),  # trained, then died at save
        ("time_budget=-5", "time_budget=-5.0"),
        ("lr=.inf", "lr=inf must be a finite number"),
        ("num_threads=-1", "num_threads=-1 must be an integer from 1 to 1024"),  # crashed in torch
        ("device=tpu", "device='tpu' must be cpu, cuda"),  # crashed late
        ("device='cuda:x'", "device='cuda:x'"),
        ("name=" + "x" * 300, "at most 100 printable characters"),  # crashed at mkdir
        ("epochs=10000000", "epochs=10000000 must be an integer from 1 to 100000"),
        ("seed=-1", "seed=-1 must be an integer from 0"),
        ("model=&a [*a, *a]", "aliases .* are not allowed"),
    ],
)
def test_hostile_override_is_refused_at_parse_time_naming_the_file(override, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        load_config(CI, [override])
    assert str(info.value).startswith(f"{CI}: ")


def test_bam_widths_must_be_small_positive_ints():
    with pytest.raises(ConfigError, match="widths=.* must be a list of 1 to 8 integers"):
        load_config(ROOT / "configs" / "bam-ci.yaml", ["model.widths=[1.5, 8]"])
    with pytest.raises(ConfigError, match="widths"):
        TrainConfig(stage="bam", model={"widths": [100000]})


def test_yaml_alias_bomb_in_a_config_file_is_refused_at_once(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]  # 10 ** 10 nodes
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"bomb\.yaml: YAML alias \*a0 at line 2"):
        load_config(bomb)
    assert time.perf_counter() - start < 5


def test_oversized_config_file_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("epochs: 1\n" + "# padding\n" * 20_000)
    with pytest.raises(ConfigError, match="larger than any training config"):
        load_config(big)


def test_safe_yaml_still_refuses_python_tags_and_reads_plain_data():
    assert load_yaml_text("a: [1, {b: 2.5}]") == {"a": [1, {"b": 2.5}]}
    with pytest.raises(YamlRefused, match="not valid YAML"):
        load_yaml_text("!!python/object/apply:os.system [echo hi]")
    with pytest.raises(YamlRefused, match="nested too deeply"):
        load_yaml_text("[" * 50_000)


def test_train_cli_prints_error_file_problem_and_exits_2(capsys):
    from mdtf_lite.train.__main__ import main

    assert main(["--config", str(CI), "grad_clip=-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {CI}: ") and "grad_clip" in err and "Traceback" not in err


@pytest.mark.parametrize("text", ["0", "-1", "604801", "1.5", "x"])
def test_timeouts_that_would_disable_or_overflow_are_refused(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="whole seconds from 1"):
        timeout_seconds(text)


def test_grade_and_series_command_lines_refuse_a_zero_or_negative_timeout(capsys):
    from mdtf_lite.course.exercises import main as exercises_main
    from mdtf_lite.course.series import SeriesError, run_series
    from mdtf_lite.course.series import main as series_main

    with pytest.raises(SystemExit) as info:
        exercises_main(["grade", "nb.ipynb", "--timeout", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        series_main(["run", "--cell-timeout", "-1"])
    assert info.value.code == 2
    assert "whole seconds" in capsys.readouterr().err
    with pytest.raises(ValueError, match="cell_timeout=-1"):
        check_timeout(-1, "cell_timeout")
    assert SeriesError and run_series  # the API path calls check_timeout (see series.run_series)


# ------------------------------------------------------------------------------ hypothesis: any value
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_top_keys = st.sampled_from([*LIMITS, "name", "device", "schedule", "stage", "flip_augment", "loss_weights"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_top_keys, _values, max_size=4))
def test_any_top_level_values_parse_or_raise_config_error(d):
    try:
        cfg = TrainConfig(**d)
    except ConfigError:
        return
    for key, (low, high, low_open) in LIMITS.items():  # what parses is in range and finite
        value = getattr(cfg, key)
        if value is not None:
            assert math.isfinite(value) and value <= high and (value > low if low_open else value >= low)
    assert all(math.isfinite(w) and w >= 0 for w in cfg.loss_weights.values())
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


_model_keys = st.sampled_from(
    [
        "dim",
        "depth",
        "n_frames",
        "d_state",
        "d_conv",
        "mlp_ratio",
        "drop_path",
        "dt_min",
        "dt_max",
        "num_heads",
        "bone_stream",
        "arch",
        "root_relative_input",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_model_keys, _values, max_size=3), st.sampled_from([None, "cpu", "tiny"]))
def test_any_model_section_parses_or_raises_config_error(model, preset):
    section = dict(model, **({"preset": preset} if preset else {}))
    try:
        cfg = TrainConfig(model=section)
    except ConfigError:
        return
    m = cfg.model
    assert isinstance(m, ModelConfig) and m.dim**2 * m.depth <= 2**23 and 1 <= m.n_frames <= 1024
    assert math.isfinite(m.mlp_ratio) and 0 < m.dt_min <= m.dt_max


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(list(DATA_LIMITS)), _values, max_size=3))
def test_any_data_numbers_parse_or_raise_config_error(data):
    try:
        cfg = TrainConfig(data=data)
    except ConfigError:
        return
    for key, (low, high) in DATA_LIMITS.items():
        assert cfg.data.get(key) is None or low <= cfg.data[key] <= high


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_any_override_text_parses_or_raises_config_error(text):
    try:
        load_config(CI, [f"grad_clip={text}"])
    except ConfigError:
        pass


def test_shipped_presets_and_bam_defaults_still_parse():
    assert config_from_dict({"preset": "tiny"}).dim == 64 and config_from_dict({"arch": "mlp"}).dim == 512
    assert BAMConfig().widths == (64, 32, 16, 8)
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        load_config(path)


def test_series_parameter_set_with_aliases_is_refused(tmp_path):
    from mdtf_lite.course.series import SeriesError, load_param_set

    (tmp_path / "bomb.yaml").write_text("all: &a {x: 1}\nrunner: *a\n")
    with pytest.raises(SeriesError, match=r"bomb\.yaml: YAML alias \*a at line 2"):
        load_param_set("bomb", tmp_path)
