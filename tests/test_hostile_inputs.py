"""Hostile input files: units, plausibility and sizes are checked before anything is allocated (issue 25)."""

import io
import json
import time
import zipfile

import numpy as np
import pytest

from mdtf_lite.data.npz_io import load_npz, save_npz
from mdtf_lite.eval.metrics import p_mpjpe
from mdtf_lite.lift import main as lift_main
from mdtf_lite.lift import parse_coco_keypoints, read_coco_keypoints


def _frames(n=4, seed=0, scale=1.0, offset=100.0, **extra):
    rng = np.random.default_rng(seed)
    return [
        {
            "frame": t,
            "keypoints": [[float(x), float(y), 0.9] for x, y in rng.uniform(0, 500, (17, 2)) * scale + offset],
            **{k: (v[t] if isinstance(v, list) else v) for k, v in extra.items()},
        }
        for t in range(n)
    ]


def _doc(frames, **top):
    return {"image_width": 640, "image_height": 640, **top, "frames": frames}


# ------------------------------------------------------------------------------------- npz sizes
def _npy_header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_zip_bomb_npz_is_refused_from_the_zip_directory(tmp_path):
    path = tmp_path / "bomb.npz"  # ~130 kB on disk, 128 MiB declared: the old loader decompressed all of it
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("x.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((2**24,)))
            zeros = bytes(2**24)
            for _ in range(8):
                fh.write(zeros)
    assert path.stat().st_size < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"bomb\.npz: member 'x\.npy' expands \d+ times.*zip bomb"):
        load_npz(path)
    assert time.perf_counter() - start < 2


def test_npz_header_declaring_more_than_its_member_holds_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", _npy_header((10**11,)) + bytes(80))  # 800 GB declared, 80 bytes held
    with pytest.raises(ValueError, match=r"declares a \(100000000000,\) float64 array .* holds"):
        load_npz(path)


def test_npz_over_the_byte_cap_is_refused_and_normal_files_load(tmp_path):
    path = save_npz(tmp_path / "ok.npz", {"a": np.zeros((100, 17, 3)), "names": np.array(["x", "y"])}, compress=True)
    assert load_npz(path)["a"].shape == (100, 17, 3)
    with pytest.raises(ValueError, match="would expand to .* more than .* allowed"):
        load_npz(path, max_bytes=1000)


# --------------------------------------------------------------------------------- lift inputs
def test_normalised_keypoints_are_refused_not_read_as_pixels():
    with pytest.raises(ValueError, match="look normalised; write them in pixels"):
        parse_coco_keypoints(_doc(_frames(scale=1 / 600, offset=0.0)))


def test_keypoints_far_outside_the_image_are_refused():
    with pytest.raises(ValueError, match="far outside the 640 x 640 image"):
        parse_coco_keypoints(_doc(_frames(offset=3000.0)))
    assert len(parse_coco_keypoints(_doc(_frames(offset=-20.0)))) == 4  # just off the edge: a real detection


@pytest.mark.parametrize("key", ["person_id", "track_id"])
def test_frames_alternating_people_are_refused(key):
    with pytest.raises(ValueError, match=f"2 different {key} values"):
        parse_coco_keypoints(_doc(_frames(**{key: [0, 1, 0, 1]})))
    assert len(parse_coco_keypoints(_doc(_frames(**{key: 7})))) == 4  # one person, named: fine


@pytest.mark.parametrize("fps", [float("nan"), float("inf"), -25, 0, "30", True])
def test_bad_fps_is_refused(fps):
    with pytest.raises(ValueError, match='"fps" = .* must be a positive number'):
        parse_coco_keypoints(_doc(_frames(), fps=fps))


def test_nan_fps_in_a_json_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "video.json"
    path.write_text(json.dumps(_doc(_frames(), fps=float("nan"))))  # json writes the literal NaN
    assert "NaN" in path.read_text()
    with pytest.raises(ValueError, match=rf"{path.name}: \"fps\" = nan"):
        read_coco_keypoints(path)
    assert parse_coco_keypoints(_doc(_frames(), fps=30)).fps == 30.0


def test_lift_cli_user_errors_are_error_lines_with_exit_2(tmp_path, capsys):
    bad = tmp_path / "video.json"
    bad.write_text(json.dumps(_doc(_frames(), fps=float("nan"))))
    assert lift_main([str(bad), "--checkpoint", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: ") and "Traceback" not in err
    assert lift_main([str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("error: no keypoint file at")
    folder = tmp_path / "out"
    folder.mkdir()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_doc(_frames())))
    assert lift_main([str(good), "--out", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert not (tmp_path / "out.partial").exists() and list(folder.iterdir()) == []
    assert lift_main([str(good), "--checkpoint", str(tmp_path / "none")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err


def test_lift_never_writes_over_its_input_or_an_existing_output(tmp_path, capsys):
    good = tmp_path / "video.json"
    good.write_text(json.dumps(_doc(_frames())))
    before = good.read_bytes()
    none = ["--checkpoint", str(tmp_path / "none")]
    assert lift_main([str(good), "--out", str(good), "--overwrite", *none]) == 2  # not even when asked
    assert "is the input keypoint file" in capsys.readouterr().err and good.read_bytes() == before
    existing = tmp_path / "video_3d.json"
    existing.write_text("mine")
    assert lift_main([str(good), *none]) == 2
    assert "exists already; pass --overwrite" in capsys.readouterr().err and existing.read_text() == "mine"
    assert lift_main([str(good), "--overwrite", *none]) == 2  # allowed past the check: fails on the checkpoint
    assert "no checkpoint at" in capsys.readouterr().err and existing.read_text() == "mine"


def test_unknown_subject_names_the_subjects_the_dataset_has():
    from mdtf_lite.data import load_clips

    with pytest.raises(ValueError, match=r"subject 'S99' is missing \(the dataset has \[.*'S1', .*'S9'.*\]\)"):
        load_clips("default", split="train", frames=27, subjects=["S99"])  # said "the dataset has []"


# ------------------------------------------------------------------------- checkpoint folders
def test_symlinked_out_dir_is_refused_before_training(tmp_path):
    from mdtf_lite.train import TrainConfig
    from mdtf_lite.train.checkpoint import CheckpointError
    from mdtf_lite.train.run_folder import checkpoint_dir, preflight

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    cfg = TrainConfig(out_dir=str(tmp_path / "link"))
    with pytest.raises(
        CheckpointError, match=r"link is a symbolic link; nothing was changed\. Set out_dir to the real"
    ):
        preflight(cfg, False, checkpoint_dir(cfg))  # passed, trained, then failed with a wrong message


def test_full_disk_during_save_is_a_checkpoint_error_not_a_raw_safetensor_error(tmp_path, monkeypatch):
    import torch
    from safetensors import SafetensorError

    from mdtf_lite.train import checkpoint

    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull })")

    monkeypatch.setattr(checkpoint, "save_file", full_disk)
    with pytest.raises(checkpoint.CheckpointError, match="could not write the checkpoint .*Free disk space"):
        checkpoint.save_checkpoint(tmp_path / "ck", {"w": torch.zeros(2)}, {}, {}, {})
    assert not (tmp_path / "ck").exists() and not list(tmp_path.glob(".ck.tmp-*"))


# ----------------------------------------------------------------------------------- metrics
def test_p_mpjpe_against_an_all_zero_target_is_refused_not_zero():
    pred = np.random.default_rng(0).normal(size=(2, 17, 3))
    with pytest.raises(ValueError, match="2 of 2 target poses have all joints at one point"):
        p_mpjpe(pred, np.zeros_like(pred))
    assert p_mpjpe(pred, 3 * pred) < 1e-9


# ------------------------------------------------------------------- nothing a command did not write
def test_series_run_names_are_plain_folder_names(tmp_path):
    from mdtf_lite.course import series

    for name in ("../escape", "/abs/path", "..", "a/b", "", "x" * 101):
        with pytest.raises(series.SeriesError, match="plain folder name"):
            series.run_series("ci", run_name=name or ".", runs_root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "escape").exists()


def test_make_student_never_replaces_a_students_notebook(tmp_path):
    from mdtf_lite.course.exercises import ExerciseError, exercise_notebooks, make_student

    first = make_student(out=tmp_path)
    assert len(first) == len(exercise_notebooks())
    solved = first[0]
    solved.write_text(solved.read_text().replace("NotImplementedError", "SolvedByTheStudent"))
    mine = solved.read_text()
    with pytest.raises(ExerciseError, match="exists already.*--overwrite"):
        make_student(out=tmp_path)
    assert solved.read_text() == mine
    make_student(out=tmp_path, overwrite=True)
    assert solved.read_text() != mine
