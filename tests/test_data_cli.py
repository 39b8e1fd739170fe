"""The data_tools CLI: make-default, convert-* refusal without --trust-pickle, convert-bvh, exit codes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from data_tools.__main__ import main
from mdtf_lite.data.readers.cmu import shared_cmu_dir


def test_make_default_if_missing_leaves_a_current_dataset_alone(capsys):
    from mdtf_lite.data import ensure_default_dataset

    folder = ensure_default_dataset()
    stamp = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert main(["make-default", "--if-missing"]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamp
    assert "make-default: wrote" in capsys.readouterr().out


def test_convert_refuses_pickles_without_flag(tmp_path, capsys):
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d={"S1": {"Walking": np.zeros((3, 17, 3))}})
    code = main(["convert-vp3d", "--src", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "--trust-pickle" in err and not (tmp_path / "out").exists()
    code = main(["convert-vp3d", "--src", str(tmp_path / "missing")])
    assert code == 2 and "is not a folder" in capsys.readouterr().err


@pytest.mark.skipif(not (shared_cmu_dir() / "cmu_bvh_3dsmax").is_dir(), reason="CMU mocap clips not found")
@pytest.mark.slow
def test_convert_bvh(tmp_path):
    bvh = shared_cmu_dir() / "cmu_bvh_3dsmax" / "131_03.bvh"
    r = subprocess.run(
        [sys.executable, "-m", "data_tools", "convert-bvh", str(bvh), "--out", str(tmp_path / "cmu")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    info = json.loads((tmp_path / "cmu" / "dataset.json").read_text())
    assert info["splits"] == {"train": [], "test": ["CMU_131_03"]} and info["camera_subjects"]["CMU_131_03"] == "S9"
    assert "mocap.cs.cmu.edu" in info["acknowledgement"]
