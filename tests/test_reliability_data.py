"""Issue 12, data side: dataset writes never delete a user's files; layout files that would be read
wrongly are refused with the file, the problem and the fix (cases 4, 8, 10, 11, 14)."""

import io
import json
import zipfile

import numpy as np
import pytest

from data_tools.__main__ import main as data_main
from mdtf_lite.data.layout import read_info, read_layout, write_layout
from mdtf_lite.data.npz_io import load_npz, save_npz
from mdtf_lite.data.synthetic.default import build_default_dataset
from mdtf_lite.skeleton import rest_pose

T = 6


def _pose(scale=1.0):
    return np.repeat(rest_pose()[None] * scale, T, 0).astype(np.float32)


def _views(n=4):
    return [np.full((T, 17, 3), c + 0.5, np.float32) for c in range(n)]


def _write(folder, scale=1.0):
    return write_layout(
        folder,
        {"S9": {"Walk": _pose(scale)}},
        {"gt": {"S9": {"Walk": _views()}}},
        {"source": "test", "splits": {"train": [], "test": ["S9"]}},
    )


# ------------------------------------------------------------------- case 4: make-default --out DIR
def test_make_default_if_missing_refuses_a_folder_with_user_files(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    assert data_main(["make-default", "--if-missing", "--out", str(out)]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert {p.name for p in tmp_path.iterdir()} <= {"mine", ".mine.lock"}


def test_rebuilding_a_dataset_replaces_only_dataset_files(tmp_path):
    out = tmp_path / "d"
    build_default_dataset(out, subjects=("S9",), actions=("Walking",), takes_per_action=1, verbose=False)
    first = (out / "positions_3d.npz").read_bytes()
    build_default_dataset(out, subjects=("S9",), actions=("Walking",), takes_per_action=1, verbose=False)
    assert (out / "positions_3d.npz").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no temporary or .old leftovers
    (out / "mine.txt").write_text("x")
    with pytest.raises(ValueError, match="mine.txt"):
        build_default_dataset(out, subjects=("S9",), actions=("Walking",), takes_per_action=1, verbose=False)
    assert (out / "mine.txt").is_file() and (out / "positions_3d.npz").is_file()
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        _write(target)
    assert target.read_text() == "x"


# ------------------------------------------------------------- case 8: a missing camera is refused
def _rewrite_npz(path, change):
    arrays = load_npz(path)
    change(arrays)
    save_npz(path, arrays)


def test_missing_camera_key_is_refused_not_renumbered(tmp_path):
    folder = _write(tmp_path / "d")
    _rewrite_npz(folder / "keypoints_2d_gt.npz", lambda a: a.pop("S9/Walk/2"))
    with pytest.raises(ValueError, match=r"keypoints_2d_gt.npz: S9/Walk has cameras \[0, 1, 3\].*missing \[2\]"):
        read_layout(folder, kinds=("gt",))


# ------------------------------------------------------------------ case 10: 3D in the wrong unit
def test_layout_positions_in_millimetres_are_refused(tmp_path):
    folder = _write(tmp_path / "d", scale=1000.0)
    with pytest.raises(ValueError, match="positions_3d.npz: key 'S9/Walk'.*millimetres"):
        read_layout(folder, kinds=("gt",))
    assert read_layout(_write(tmp_path / "ok"), kinds=("gt",)).positions_3d["S9"]["Walk"].shape == (T, 17, 3)


# ------------------------------------------------------------------------ case 11: damaged .npy header
@pytest.mark.parametrize("keep", [0, 1, 30])
def test_zeroed_npy_header_is_a_clear_error(tmp_path, keep):
    """An npz whose member's header dict is zeroed after ``keep`` bytes (valid zip CRC): numpy's header
    parser raised tokenize.TokenError for keep=1 ('{' then NULs), a traceback instead of an error message."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.arange(12.0), allow_pickle=False)
    raw = bytearray(buf.getvalue())
    length = int.from_bytes(raw[8:10], "little")
    raw[10 + keep : 10 + length] = bytes(length - keep)
    with zipfile.ZipFile(tmp_path / "a.npz", "w") as zf:
        zf.writestr("x.npy", bytes(raw))
    with pytest.raises(ValueError, match="a.npz is not a readable .npz.*corrupted"):
        load_npz(tmp_path / "a.npz")


# ---------------------------------------------------------------------------- case 14: layout edge cases
@pytest.mark.parametrize(
    "file,bad_key,pattern",
    [
        ("positions_3d.npz", "S9", "key 'S9' is not '<subject>/<action>'"),
        ("keypoints_2d_gt.npz", "S9/Walk/cam0", "key 'S9/Walk/cam0' is not '<subject>/<action>/<camera 0..3>'"),
        ("keypoints_2d_gt.npz", "S9", "key 'S9' is not"),
    ],
)
def test_malformed_keys_name_the_file_and_the_fix(tmp_path, file, bad_key, pattern):
    folder = _write(tmp_path / "d")
    shape_of = {"positions_3d.npz": _pose(), "keypoints_2d_gt.npz": _views()[0]}
    _rewrite_npz(folder / file, lambda a: a.update({bad_key: shape_of[file]}))
    with pytest.raises(ValueError, match=f"{file}: {pattern}.*convert"):
        read_layout(folder, kinds=("gt",))


@pytest.mark.parametrize(
    "doc,pattern",
    [
        ([1, 2], "holds a JSON list"),
        ({"format": "mdtf-lite/vp3d-arrays/1"}, 'lacks "splits"'),
        ({"format": "mdtf-lite/vp3d-arrays/1", "splits": ["S1"]}, 'lacks "splits"'),
    ],
)
def test_bad_dataset_json_names_the_file(tmp_path, doc, pattern):
    folder = _write(tmp_path / "d")
    (folder / "dataset.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=f"dataset.json.*{pattern}"):
        read_info(folder)


def test_npy_saved_under_an_npz_name(tmp_path):
    path = tmp_path / "positions_3d.npz"
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="positions_3d.npz is a single .npy array saved under an .npz name"):
        load_npz(path)
    with zipfile.ZipFile(tmp_path / "b.npz", "w") as zf:  # a zip that is not an npz at all
        zf.writestr("x.npy", b"garbage")
    with pytest.raises(ValueError, match="b.npz is not a readable .npz"):
        load_npz(tmp_path / "b.npz")


# ----------------------------------------------------------- property-based: npz and layout readers
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _fresh(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("lay") / "d")


@PROPS
@given(
    cut=st.floats(0, 1),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
    name=st.sampled_from(["positions_3d.npz", "keypoints_2d_gt.npz", "dataset.json"]),
)
def test_truncated_or_corrupted_layout_files_give_only_documented_errors(tmp_path_factory, cut, edits, name):
    folder = _fresh(tmp_path_factory)
    raw = bytearray((folder / name).read_bytes())
    for where, value in edits:
        raw[int(where * (len(raw) - 1))] = value
    if cut < 1:
        raw = raw[: int(cut * len(raw))]
    (folder / name).write_bytes(bytes(raw))
    try:
        lay = read_layout(folder, kinds=("gt",))
    except (ValueError, FileNotFoundError):
        return
    for arr in [*lay.positions_3d["S9"].values(), *lay.keypoints["gt"]["S9"]["Walk"]]:
        assert np.isfinite(arr).all() and arr.shape == (T, 17, 3)
    assert len(lay.keypoints["gt"]["S9"]["Walk"]) == 4


key_part = st.text(alphabet="S9Walk/ 0123", min_size=0, max_size=10)


@PROPS
@given(
    pos_keys=st.lists(key_part, max_size=4, unique=True),
    kp_keys=st.lists(key_part, max_size=6, unique=True),
    scale=st.sampled_from([1.0, 1000.0, 0.001, float("nan")]),
)
def test_random_key_sets_give_only_documented_errors(tmp_path_factory, pos_keys, kp_keys, scale):
    folder = tmp_path_factory.mktemp("keys")
    (folder / "dataset.json").write_text(
        json.dumps({"format": "mdtf-lite/vp3d-arrays/1", "splits": {"test": ["S9"]}, "keypoint_kinds": ["gt"]})
    )
    save_npz(folder / "positions_3d.npz", {k: _pose(scale) for k in pos_keys})
    save_npz(folder / "keypoints_2d_gt.npz", {k: _views()[0] for k in kp_keys})
    try:
        lay = read_layout(folder, kinds=("gt",))
    except (ValueError, FileNotFoundError):
        return
    for acts in lay.positions_3d.values():
        for arr in acts.values():
            assert np.isfinite(arr).all()
    for acts in lay.keypoints["gt"].values():
        assert all(len(views) == 4 for views in acts.values())


@PROPS
@given(data=st.binary(max_size=400))
def test_random_bytes_as_npz(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("npz") / "x.npz"
    path.write_bytes(data)
    try:
        arrays = load_npz(path)
    except ValueError:
        return
    assert all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in arrays.items())
