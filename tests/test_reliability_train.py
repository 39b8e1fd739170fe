"""Issue 12, training side: no run ever deletes or renames a file it did not write; bad checkpoints and
bad command lines give clear errors (cases 1, 2, 3, 5, 13, 16)."""

import json

import pytest
import torch
import yaml
from train_helpers import clip_set, tiny_config

from mdtf_lite.train import TrainConfig, fit
from mdtf_lite.train.__main__ import main as train_main
from mdtf_lite.train.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from mdtf_lite.train.config import ConfigError
from mdtf_lite.train.run_folder import checkpoint_dir


def _fit(cfg, **kw):
    data = clip_set(8)
    return fit(cfg, train_set=data, val_set=data, **kw)


def _one_epoch(tmp_path, **changes):
    return tiny_config(tmp_path, epochs=1, steps_per_epoch=1, val_every=0, **changes)


# ---------------------------------------------------------------- case 1: out_dir = a user's folder / a file
def test_out_dir_with_user_files_is_refused_and_kept(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("precious")
    with pytest.raises(CheckpointError, match="other files .*thesis.tex.*--overwrite"):
        _fit(_one_epoch(tmp_path, out_dir=str(user)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert (user / "thesis.tex").read_text() == "precious"


def test_out_dir_with_user_files_and_overwrite_keeps_them(tmp_path):
    user = tmp_path / "mine"
    (user / "sub").mkdir(parents=True)
    (user / "thesis.tex").write_text("precious")
    cfg = _one_epoch(tmp_path, out_dir=str(user), overwrite=True)
    _fit(cfg)
    _fit(cfg)  # a second save into the same mixed folder
    assert (user / "thesis.tex").read_text() == "precious" and (user / "sub").is_dir()
    assert read_checkpoint(user)["config"]["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no .old / temporary leftovers


def test_out_dir_that_is_a_file_is_refused_and_not_renamed(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    for overwrite in (False, True):
        with pytest.raises(CheckpointError, match="is an existing file"):
            _fit(_one_epoch(tmp_path, out_dir=str(target), overwrite=overwrite))
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_save_checkpoint_never_deletes_a_foreign_old_folder(tmp_path):
    folder = tmp_path / "ck"
    state = {"w": torch.ones(2)}
    save_checkpoint(folder, state, {}, {}, {})
    (tmp_path / "ck.old").mkdir()
    (tmp_path / "ck.old" / "photo.jpg").write_text("x")
    with pytest.raises(CheckpointError, match="ck.old"):
        save_checkpoint(folder, state, {}, {}, {})
    assert (tmp_path / "ck.old" / "photo.jpg").is_file() and (folder / "manifest.json").is_file()


# ------------------------------------------------------------------------- case 2: name "." or ".."
@pytest.mark.parametrize("name", [".", "..", "...", " x", "a\\b", ""])
def test_names_that_are_not_a_plain_folder_are_refused(name):
    with pytest.raises(ConfigError, match="plain folder name"):
        TrainConfig(name=name)


def test_checkpoints_of_other_runs_survive(tmp_path, monkeypatch):
    monkeypatch.setenv("MDTF_RUN_DIR", str(tmp_path))
    other = tmp_path / "checkpoints" / "other"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text("{}")
    cfg = tiny_config(tmp_path, name="mine", out_dir=None, epochs=1, steps_per_epoch=1, val_every=0)
    assert checkpoint_dir(cfg) == tmp_path / "checkpoints" / "mine"
    _fit(cfg)
    assert (other / "manifest.json").read_text() == "{}"


# ------------------------------------------------------------ case 3: a fresh run onto a checkpoint
def test_fresh_run_onto_a_checkpoint_is_refused_unless_resume_or_overwrite(tmp_path):
    cfg = _one_epoch(tmp_path)
    first = _fit(cfg).checkpoint
    before = (first / "model.safetensors").read_bytes()
    with pytest.raises(CheckpointError, match="already exists.*--resume.*--overwrite"):
        _fit(cfg.replace(seed=99))
    assert (first / "model.safetensors").read_bytes() == before
    _fit(cfg, resume=True)  # resuming a finished run: allowed, nothing to do
    _fit(cfg.replace(seed=99, overwrite=True))  # explicit: replaced
    assert (first / "model.safetensors").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]


# ------------------------------------------------------------------ case 5: unwritable checkpoint path
def test_unwritable_checkpoint_path_fails_before_the_first_epoch(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    epochs = []
    with pytest.raises(CheckpointError, match="cannot write the checkpoint.*before training"):
        _fit(_one_epoch(tmp_path, out_dir=str(blocker / "ckpt")), callbacks=[epochs.append])
    assert epochs == []


def test_cli_unwritable_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"out_dir": str(blocker / "x"), "epochs": 1}))
    assert train_main(["--config", str(path)]) == 2
    assert "cannot write the checkpoint" in capsys.readouterr().err


# ----------------------------------------------------------------- case 13: malformed checkpoint JSON, NaN
@pytest.mark.parametrize("name", ["manifest.json", "config.json", "state.json"])
def test_checkpoint_json_that_is_a_list_is_a_checkpoint_error(tmp_path, name):
    folder = save_checkpoint(tmp_path / "ck", {"w": torch.ones(2)}, {}, {}, {})
    (folder / name).write_text("[1, 2]")
    if name != "manifest.json":  # keep the hashes valid so the JSON shape itself is what is checked
        from mdtf_lite.train.checkpoint import FILES, _sha256

        (folder / "manifest.json").write_text(json.dumps({n: _sha256(folder / n) for n in FILES}))
    with pytest.raises(CheckpointError, match=f"{name}.*JSON list"):
        read_checkpoint(folder)


def test_nan_weights_are_refused_on_load(tmp_path):
    folder = save_checkpoint(tmp_path / "ck", {"w": torch.tensor([1.0, float("nan")])}, {}, {}, {})
    with pytest.raises(CheckpointError, match="'w' holds NaN"):
        read_checkpoint(folder)


# --------------------------------------------------------------- case 16: overrides around the flags
def test_cli_overrides_on_both_sides_of_resume(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"out_dir": str(tmp_path / "o")}))
    assert train_main(["--config", str(path), "epochs=0", "--resume", "progress=false"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments" not in err and "epochs=0 must be an integer from 1" in err
    assert train_main(["--config", str(path), "epochs=0", "--overwrite", "progress=false"]) == 2
