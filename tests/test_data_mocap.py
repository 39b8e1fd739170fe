"""The shipped real mocap (mdtf_lite/data/mocap): the load_mocap API, its validation, the compact store, the
convert-mocap pieces (sources, glitches) and a re-conversion from ../shared/mocap/real that must reproduce the
committed arrays (skipped with a message when ../shared is absent; set MDTF_SHARED_DIR)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tomllib

from data_tools.__main__ import main as data_tools_main
from mdtf_lite.data.mocap import MOCAP_FPS, MocapClip, load_mocap, mocap_dir
from mdtf_lite.data.mocap.convert import LICENCES, TEST_PEOPLE, clean_segments, convert_mocap, find_sources
from mdtf_lite.data.mocap.store import QUANTUM_M, read_database, write_database
from mdtf_lite.data.npz_io import load_npz, save_npz
from mdtf_lite.data.readers.cmu import shared_cmu_dir
from mdtf_lite.data.synthetic.synth import ANKLE_HEIGHT

ROOT = Path(__file__).resolve().parents[1]
REAL = shared_cmu_dir().parent / "real"
needs_real = pytest.mark.skipif(
    not (REAL / "cmu_bvh").is_dir() or not (REAL / "hdm05_asf_amc").is_dir(),
    reason=f"the raw mocap of shared/mocap/real is not at {REAL} (set MDTF_SHARED_DIR "
    "to the shared folder); the shipped arrays are still tested",
)


@pytest.fixture(scope="module")
def clips():
    return load_mocap()


def test_load_mocap_gives_both_databases_split_by_person(clips):
    assert MOCAP_FPS == 50.0 and all(isinstance(c, MocapClip) for c in clips)
    assert [(c.database, c.person, c.clip) for c in clips] == sorted((c.database, c.person, c.clip) for c in clips)
    people = {(c.database, c.person) for c in clips}
    assert people == {("cmu", p) for p in ("01", "02", "03", "05", "06")} | {("hdm05", p) for p in ("bd", "bk", "dg")}
    assert {(c.database, c.person) for c in clips if c.split == "test"} == set(TEST_PEOPLE)
    assert {c.split for c in clips} == {"train", "test"}
    assert {c.database: c.licence for c in clips} == {"cmu": "CMU", "hdm05": "CC-BY-SA-3.0"}
    assert len({(c.database, c.clip) for c in clips}) == len(clips)
    test = load_mocap(split="test")
    assert [c.clip for c in test] == [c.clip for c in clips if c.split == "test"]
    assert {c.database for c in load_mocap("hdm05", split="train")} == {"hdm05"}
    with pytest.raises(ValueError, match="split='val'"):
        load_mocap(split="val")


def test_positions_are_h36m_world_metres(clips):
    heads_up = []
    for c in clips:
        p = c.positions
        assert p.dtype == np.float32 and p.ndim == 3 and p.shape[1:] == (17, 3) and len(p) >= 20
        assert not p.flags.writeable and np.isfinite(p).all()
        np.testing.assert_allclose(p[:, 0, :2].mean(axis=0), 0, atol=1e-3)  # centred on the pelvis xy
        floor = np.percentile(np.minimum(p[:, 3, 2], p[:, 6, 2]), 5)
        assert abs(floor - ANKLE_HEIGHT) < 1e-3  # lowest ankle on the floor
        heads_up.append(np.mean(p[:, 10, 2] > p[:, 0, 2]))
        np.testing.assert_allclose(p[:, 0], (p[:, 1] + p[:, 4]) / 2, atol=2e-4)  # pelvis = mid-hips
    assert np.mean(heads_up) > 0.9  # Z up (a few lie down)
    for person in ("01", "02", "bd", "dg"):
        x = np.concatenate([c.positions for c in clips if c.person == person])
        thigh = np.median(np.linalg.norm(x[:, 1] - x[:, 2], axis=-1))
        assert 0.35 < thigh < 0.46  # metres, not units


def test_licences_and_metadata_ship_beside_the_arrays():
    folder = mocap_dir()
    cmu, hdm = (folder / "LICENSE-CMU.txt").read_text(), (folder / "LICENSE-HDM05.txt").read_text()
    assert "NSF EIA-0196217" in cmu and "mocap.cs.cmu.edu" in cmu
    assert "Attribution-ShareAlike 3.0" in hdm and "CG-2007-2" in hdm and "obtained from HDM05" in hdm
    for db in ("cmu", "hdm05"):
        meta = json.loads((folder / f"{db}.json").read_text())
        header, positions = read_database(folder / f"{db}.npz")
        assert meta["clips"] == len(header["clip"]) and meta["frames"] == sum(map(len, positions))
        assert meta["licence_file"] == LICENCES[db][1] and (folder / meta["licence_file"]).is_file()
        assert all(not Path(t["source"]).is_absolute() for t in meta["takes"])
    pkg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = pkg["mdtf_lite.data.mocap"]
    shipped = {p.name for pattern in patterns for p in folder.glob(pattern)}
    assert {"cmu.npz", "hdm05.npz", "LICENSE-CMU.txt", "LICENSE-HDM05.txt"} <= shipped
    assert "*.json" in pkg["*"]  # the reports ship too
    assert (folder / "cmu.npz").stat().st_size + (folder / "hdm05.npz").stat().st_size < 6e6


# ------------------------------------------------------------------------------------- validation
@pytest.fixture
def copy(tmp_path):
    for name in ("cmu.npz", "hdm05.npz"):
        shutil.copy(mocap_dir() / name, tmp_path / name)
    return tmp_path


def test_a_truncated_file_is_named(copy):
    data = (copy / "cmu.npz").read_bytes()
    (copy / "cmu.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cmu\.npz is not a readable \.npz"):
        load_mocap(folder=copy)


def test_a_missing_key_or_inconsistent_offsets_are_named(copy):
    arrays = load_npz(copy / "hdm05.npz")
    save_npz(copy / "hdm05.npz", {k: v for k, v in arrays.items() if k != "joints_dq"}, compress=True)
    with pytest.raises(ValueError, match=r"hdm05\.npz lacks the key\(s\) \['joints_dq'\]"):
        load_mocap("hdm05", folder=copy)
    bad = dict(arrays, clip_start=arrays["clip_start"][::-1].copy())
    save_npz(copy / "hdm05.npz", bad, compress=True)
    with pytest.raises(ValueError, match=r"hdm05\.npz: clip_start .* does not cut"):
        load_mocap("hdm05", folder=copy)
    save_npz(copy / "hdm05.npz", dict(arrays, joints_dq=arrays["joints_dq"].astype(np.float32)), compress=True)
    with pytest.raises(ValueError, match=r"hdm05\.npz: pelvis_dq .* expected int32"):
        load_mocap("hdm05", folder=copy)
    save_npz(
        copy / "hdm05.npz",
        dict(arrays, split=np.where(arrays["split"] == "test", "val", arrays["split"])),
        compress=True,
    )
    with pytest.raises(ValueError, match=r"hdm05\.npz: split values \['train', 'val'\]"):
        load_mocap("hdm05", folder=copy)


def test_a_renamed_or_missing_database_is_refused(copy):
    shutil.copy(copy / "hdm05.npz", copy / "cmu.npz")
    with pytest.raises(ValueError, match=r"cmu\.npz holds database 'hdm05', not 'cmu'"):
        load_mocap("cmu", folder=copy)
    with pytest.raises(FileNotFoundError, match=r"amass\.npz does not exist.*convert-mocap"):
        load_mocap("amass", folder=copy)


def test_store_round_trip_is_within_a_quantum_and_deterministic(tmp_path):
    rng = np.random.default_rng(0)
    walk = [np.cumsum(rng.normal(0, 0.01, (n, 17, 3)), axis=0) + rng.normal(0, 0.3, (1, 17, 3)) for n in (5, 40, 1)]
    clips = [{"clip": f"c{k}", "person": "p", "split": "train", "positions": w} for k, w in enumerate(walk)]
    a = write_database(tmp_path / "a.npz", "cmu", "CMU", clips, 50.0)
    b = write_database(tmp_path / "b.npz", "cmu", "CMU", clips, 50.0)
    assert a.read_bytes() == b.read_bytes()  # same clips, same bytes
    header, back = read_database(a)
    assert header["clip"] == ["c0", "c1", "c2"] and header["fps"] == 50.0
    for w, r in zip(walk, back):
        assert r.shape == w.shape and np.abs(r - w).max() <= QUANTUM_M * 1.01
    far = [dict(clips[0], positions=walk[0] + np.array([0, 0, 0] * 16 + [6.0, 0, 0]).reshape(17, 3))]
    with pytest.raises(ValueError, match="more than 3.2 m from the pelvis"):
        write_database(tmp_path / "c.npz", "cmu", "CMU", far, 50.0)


# ----------------------------------------------------------------------------- conversion pieces
def test_glitches_split_the_take_and_short_pieces_are_dropped():
    fps = 120.0
    t = np.arange(600) / fps
    x = np.zeros((600, 17, 3))
    x[..., 0] = 1.0 * t[:, None]  # walking at 1 m/s
    x[:20, 5] += 0.5  # a knee displaced for the first 20 frames: a glitchy head
    x[300, 16, 1] += 0.3  # one frame where a wrist jumps 30 cm
    keep, glitches = clean_segments(x, fps, max_speed=15.0, min_seconds=0.4)
    assert keep == [(20, 300), (301, 600)]
    assert [(g["frame"], g["joint"]) for g in glitches] == [(20, 5), (300, 16), (301, 16)]
    assert clean_segments(x, fps, max_speed=200.0)[0] == [(0, 600)]  # below the threshold nothing is cut


def test_sources_are_grouped_by_database_and_person(tmp_path):
    for rel in (
        "hdm/bd/HDM_bd.asf",
        "hdm/bd/HDM_bd_squat1Reps_001_120.amc",
        "cmu/02/02_01.bvh",
        "cmu/02/02_02.bvh",
        "cmu/ASF/07.asf",
        "cmu/ASF/07_03.amc",
        "notes.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    srcs = find_sources([tmp_path / "hdm", tmp_path / "cmu"])
    assert [(s.database, s.person, s.clip, s.asf.name if s.asf else None) for s in srcs] == [
        ("cmu", "02", "02_01", None),
        ("cmu", "02", "02_02", None),
        ("cmu", "07", "07_03", "07.asf"),
        ("hdm05", "bd", "HDM_bd_squat1Reps_001_120", "HDM_bd.asf"),
    ]
    assert srcs[0].name == "02/02_01.bvh"
    with pytest.raises(ValueError, match="clip '02_01' .* is found twice"):
        find_sources([tmp_path / "cmu", tmp_path / "cmu" / "02" / "02_01.bvh"])
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "HDM_xx_kick_001_120.amc").write_text("")
    with pytest.raises(FileNotFoundError, match="no skeleton HDM_xx.asf beside it"):
        find_sources([tmp_path / "lone"])
    with pytest.raises(ValueError, match="not a .bvh or .amc"):
        find_sources([tmp_path / "notes.txt"])


@needs_real
def test_convert_mocap_command_on_a_few_takes(tmp_path, capsys):
    files = [
        REAL / "cmu_bvh" / "03" / "03_02.bvh",
        REAL / "cmu_bvh" / "01" / "01_02.bvh",
        *sorted((REAL / "hdm05_asf_amc" / "dg").glob("HDM_dg_hop*.amc"))[:2],
    ]
    assert data_tools_main(["convert-mocap", *map(str, files), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cmu 03_02: 2 glitch(es)" in out and "50 trimmed" in out  # its glitchy head, reported
    assert "hdm05 person dg: bone length thigh right 0.368 m outside 0.37-0.44 m" in out
    got = load_mocap(folder=tmp_path)
    assert [(c.database, c.person, c.clip, c.split) for c in got] == [
        ("cmu", "01", "01_02", "test"),
        ("cmu", "03", "03_02", "train"),
        ("hdm05", "dg", files[2].stem, "test"),
        ("hdm05", "dg", files[3].stem, "test"),
    ]
    meta = json.loads((tmp_path / "cmu.json").read_text())
    take = {t["clip"]: t for t in meta["takes"]}["03_02"]
    assert take["kept"] == [[50, 365]] and take["trimmed_frames"] == 50
    assert len(got[1].positions) == int((365 - 50 - 1) / 120 * 50) + 1  # resampled to 50 fps
    assert (tmp_path / "LICENSE-HDM05.txt").read_text() == (mocap_dir() / "LICENSE-HDM05.txt").read_text()
    assert data_tools_main(["convert-mocap", str(files[0]), "--out", str(tmp_path), "--test-people", "03"]) == 2
    # a test person who is not there (a typo) is refused, never trained on
    typo = tmp_path / "typo"
    assert data_tools_main(["convert-mocap", str(files[0]), "--out", str(typo), "--test-people", "cmu:1"]) == 2
    assert "('cmu', '1')" in capsys.readouterr().err and not typo.exists()
    spaced = ["--test-people", "cmu:01, hdm05:dg"]
    assert data_tools_main(["convert-mocap", *map(str, files), "--out", str(tmp_path / "sp"), *spaced]) == 0
    assert [c.split for c in load_mocap(folder=tmp_path / "sp")] == [c.split for c in got]


@pytest.fixture(scope="module")
def reconverted(tmp_path_factory):
    out = tmp_path_factory.mktemp("mocap")
    convert_mocap([REAL], out, log=lambda msg: None)
    return out


@needs_real
@pytest.mark.slow
@pytest.mark.parametrize("db", ["cmu", "hdm05"])
def test_reconversion_reproduces_the_committed_arrays(reconverted, db):
    """``python -m data_tools convert-mocap ../shared/mocap/real --out mdtf_lite/data/mocap`` made the shipped files."""
    want_header, want = read_database(mocap_dir() / f"{db}.npz")
    got_header, got = read_database(reconverted / f"{db}.npz")
    assert got_header == want_header
    for g, w in zip(got, want):  # integers of 0.1 mm: equal unless a float op rounds across a boundary
        assert g.shape == w.shape and np.abs(g - w).max() <= 2 * QUANTUM_M
    assert json.loads((reconverted / f"{db}.json").read_text()) == json.loads((mocap_dir() / f"{db}.json").read_text())
    name = LICENCES[db][1]
    assert (reconverted / name).read_text() == (mocap_dir() / name).read_text()
