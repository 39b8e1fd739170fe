"""In-the-wild lifting: the COCO-17 reader, its bad-input handling, the COCO -> H36M map, sliding
windows, export, and an end-to-end lift of a JSON written by projecting a known motion."""

import json

import numpy as np
import pytest
import torch

from mdtf_lite import lift
from mdtf_lite.lift import (
    COCO_JOINT_NAMES,
    Keypoints2D,
    coco_to_h36m,
    export_json,
    export_npz,
    lift_sequence,
    parse_coco_keypoints,
    read_coco_keypoints,
    to_model_inputs,
    window_starts,
)
from mdtf_lite.skeleton import JOINT_NAMES

C = {n: i for i, n in enumerate(COCO_JOINT_NAMES)}
H = {n: i for i, n in enumerate(JOINT_NAMES)}


def h36m_to_coco(uv):
    return lift.coco_from_h36m(uv)


def coco_doc(coco_xy, score=None, width=1000, height=1002, drop=(), flat=False):
    frames = []
    for t, pts in enumerate(coco_xy):
        s = np.ones(17) if score is None else score[t]
        rows = [[float(x), float(y), float(c)] for (x, y), c in zip(pts, s)]
        kp = None if t in drop else ([v for r in rows for v in r] if flat else rows)
        frames.append({"frame": t, "keypoints": kp})
    return {"image_width": width, "image_height": height, "fps": 50, "frames": frames}


def random_coco(T=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(100, 900, size=(T, 17, 2))


# ------------------------------------------------------------------------------------ reading
def test_read_roundtrip_and_flat_format(tmp_path):
    xy = random_coco()
    for flat in (False, True):
        path = tmp_path / f"kp{flat}.json"
        path.write_text(json.dumps(coco_doc(xy, flat=flat)))
        kp = read_coco_keypoints(path)
        assert kp.layout == "coco" and kp.width == 1000 and kp.height == 1002 and kp.fps == 50
        assert np.allclose(kp.xy, xy) and np.all(kp.score == 1) and not kp.interpolated.any()
        assert list(kp.frame_ids) == list(range(6))


def test_short_gaps_are_interpolated_and_flagged():
    xy = random_coco(8)
    kp = parse_coco_keypoints(coco_doc(xy, drop=(3, 4)), max_gap=2)
    assert list(np.flatnonzero(kp.interpolated)) == [3, 4]
    assert np.allclose(kp.xy[3], xy[2] + (xy[5] - xy[2]) / 3)
    with pytest.raises(ValueError, match=r"frames 3\.\.4 \(2 frames\).*max_gap=1"):
        parse_coco_keypoints(coco_doc(xy, drop=(3, 4)), max_gap=1)


def test_missing_frame_indices_count_as_gaps_and_ends_are_trimmed():
    xy = random_coco(8)
    doc = coco_doc(xy, drop=(0, 7))
    del doc["frames"][4]  # frame 4 absent from the file
    with pytest.warns(UserWarning, match="dropped"):
        kp = parse_coco_keypoints(doc)
    assert list(kp.frame_ids) == [1, 2, 3, 4, 5, 6] and kp.interpolated.tolist() == [0, 0, 0, 1, 0, 0]


def test_zero_score_joint_is_interpolated_but_keeps_score_zero():
    xy = random_coco(5)
    score = np.ones((5, 17))
    score[2, C["l_wrist"]] = 0.0
    kp = parse_coco_keypoints(coco_doc(xy, score))
    assert kp.score[2, C["l_wrist"]] == 0
    assert np.allclose(kp.xy[2, C["l_wrist"]], (xy[1, C["l_wrist"]] + xy[3, C["l_wrist"]]) / 2)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d["frames"][1]["keypoints"].pop(), "16 keypoints, expected 17"),
        (
            lambda d: d["frames"][2]["keypoints"][3].__setitem__(0, "12.5"),
            r"frame 2, joint 3 \(l_ear\): x = '12.5' is not a number",
        ),
        (lambda d: d["frames"][0]["keypoints"][0].__setitem__(1, float("nan")), "not finite"),
        (lambda d: d.pop("image_width"), "no image size"),
        (lambda d: d.__setitem__("image_height", -5), "positive"),
        (
            lambda d: [f.__setitem__("keypoints", [[1.0, 2.0, 0.0]] * 17) for f in d["frames"]],
            "no frame has a detection",
        ),
        (lambda d: d["frames"][0]["keypoints"][0].__setitem__(2, 3.0), r"outside \[0, 1\]"),
        (lambda d: d["frames"].append(dict(d["frames"][0])), "appears twice"),
        (lambda d: d.__setitem__("frames", []), "non-empty"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(mutate, match):
    doc = coco_doc(random_coco(4))
    mutate(doc)
    with pytest.raises(ValueError, match=match):
        parse_coco_keypoints(doc)


def test_all_zero_scores_in_one_frame_means_missing_frame():
    doc = coco_doc(random_coco(4))
    doc["frames"][2]["keypoints"] = [[0.0, 0.0, 0.0]] * 17
    kp = parse_coco_keypoints(doc)
    assert kp.interpolated.tolist() == [False, False, True, False]


def test_image_size_argument_and_bad_files(tmp_path):
    doc = coco_doc(random_coco(3))
    del doc["image_width"], doc["image_height"]
    kp = parse_coco_keypoints(doc["frames"], image_size=(640, 480))  # a bare list of frames
    assert (kp.width, kp.height) == (640, 480)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_coco_keypoints(bad)
    with pytest.raises(FileNotFoundError):
        read_coco_keypoints(tmp_path / "missing.json")


# ------------------------------------------------------------------------------------ mapping
def test_coco_to_h36m_rules():
    uv = np.random.default_rng(1).uniform(0, 1000, size=(3, 17, 2))
    coco = h36m_to_coco(uv)
    score = np.full((3, 17), 0.9)
    score[:, C["l_eye"]] = 0.4
    xy, conf = coco_to_h36m(coco, score)
    for h in lift.COCO_TO_H36M_COPY:
        assert np.allclose(xy[:, h], uv[:, h])
    assert np.allclose(xy[:, H["neck"]], uv[:, H["neck"]]) and np.allclose(xy[:, H["head"]], uv[:, H["head"]])
    pelvis = (coco[:, C["l_hip"]] + coco[:, C["r_hip"]]) / 2
    thorax = (coco[:, C["l_shoulder"]] + coco[:, C["r_shoulder"]]) / 2
    assert np.allclose(xy[:, H["pelvis"]], pelvis) and np.allclose(xy[:, H["thorax"]], thorax)
    assert np.allclose(xy[:, H["spine"]], (pelvis + thorax) / 2)
    assert np.allclose(conf[:, H["head"]], 0.4) and np.allclose(conf[:, H["pelvis"]], 0.9)


def test_model_inputs_are_normalised_like_the_dataset():
    from mdtf_lite.data import normalise_screen

    xy = random_coco(2)
    kp = Keypoints2D(xy, np.ones((2, 17)), 1000.0, 1002.0, np.arange(2), np.zeros(2, bool))
    inputs = to_model_inputs(kp)
    assert inputs.shape == (2, 17, 3) and inputs.dtype == np.float32
    h36m_xy, _ = coco_to_h36m(xy, np.ones((2, 17)))
    assert np.allclose(inputs[..., :2], normalise_screen(h36m_xy, 1000, 1002), atol=1e-6)


# ------------------------------------------------------------------------------------ windows
class FrameWiseModel(torch.nn.Module):
    """A stand-in lifter whose answer for a frame depends only on that frame (so stitching is checkable)."""

    def __init__(self, window):
        super().__init__()
        self.window, self.calls = window, []

    def forward(self, x):
        assert x.shape[1] == self.window, "the lifter must always see full windows"
        self.calls.append(x.shape[0])
        return torch.stack([x[..., 0] * 2, x[..., 1] - 1, x[..., 2] * x[..., 0]], dim=-1)


@pytest.mark.parametrize(
    "length, window, stride", [(100, 27, None), (27, 27, None), (5, 27, None), (1, 9, 3), (64, 16, 16)]
)
def test_sliding_windows_cover_every_frame_exactly(length, window, stride):
    rng = np.random.default_rng(length)
    x = rng.normal(size=(length, 17, 3)).astype(np.float32)
    x[..., 2] = rng.uniform(size=(length, 17))  # a confidence in [0, 1]: predict validates its inputs
    model = FrameWiseModel(window)
    out = lift_sequence(model, x, window, stride=stride, batch_size=4)
    expected = FrameWiseModel(length)(torch.from_numpy(x)[None])[0].numpy()
    assert out.shape == (length, 17, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_window_starts_end_flush():
    assert window_starts(100, 27, 13) == [0, 13, 26, 39, 52, 65, 73]
    assert window_starts(10, 27, 13) == [0]


def test_lift_rejects_bad_arrays():
    model = FrameWiseModel(9)
    with pytest.raises(ValueError, match=r"\(T, 17, 3\)"):
        lift_sequence(model, np.zeros((5, 16, 3)), 9)
    x = np.zeros((5, 17, 3))
    x[2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lift_sequence(model, x, 9)


def test_export_json_and_npz(tmp_path):
    from mdtf_lite.data.npz_io import load_npz

    kp = Keypoints2D(
        random_coco(4), np.ones((4, 17)), 640.0, 480.0, np.arange(10, 14), np.array([0, 1, 0, 0], bool), layout="h36m"
    )
    res = lift.LiftResult(poses=np.random.default_rng(0).normal(size=(4, 17, 3)).astype(np.float32), keypoints=kp)
    doc = json.loads(export_json(res, tmp_path / "o.json").read_text())
    assert doc["joint_names"] == list(JOINT_NAMES) and doc["unit"] == "m"
    assert [f["frame"] for f in doc["frames"]] == [10, 11, 12, 13] and doc["frames"][1]["interpolated"]
    assert np.allclose(doc["frames"][2]["joints"], res.poses[2], atol=1e-5)
    arrays = load_npz(export_npz(res, tmp_path / "o.npz"))
    assert np.array_equal(arrays["poses"], res.poses) and list(arrays["frame_ids"]) == [10, 11, 12, 13]
    assert np.asarray(arrays["unit"]).reshape(-1)[0] == "m" and list(arrays["joint_names"]) == list(JOINT_NAMES)


# ------------------------------------------------------------------------------ end to end
def known_motion(frames=160):
    """A walking take of a test subject seen by camera 0: (pixels (T, 17, 2), truth (T, 17, 3) m, camera)."""
    from mdtf_lite.data import h36m_cameras, project, root_relative, world_to_camera
    from mdtf_lite.data.synthetic.synth import TEST_SUBJECTS, generate_take, make_subject

    subject = TEST_SUBJECTS[0]
    world = generate_take(7, make_subject(7, subject), "Walking", 0, frames)
    cam = h36m_cameras(subject)[0]
    x_cam = world_to_camera(world, cam)
    return project(x_cam, cam), root_relative(x_cam), cam


def write_known_motion(tmp_path, missing=(40, 41)):
    uv, truth, cam = known_motion()
    doc = lift.coco_document(h36m_to_coco(uv), width=cam.res_w, height=cam.res_h, fps=50, missing=missing)
    path = tmp_path / "walk.json"
    path.write_text(json.dumps(doc))
    ideal = np.concatenate([lift.normalise_keypoints(uv, cam.res_w, cam.res_h), np.ones(uv.shape[:-1] + (1,))], -1)
    return path, uv, truth, ideal.astype(np.float32)


def test_known_motion_survives_the_coco_path(tmp_path):
    """What the model sees after JSON -> COCO -> H36M -> normalisation, against the exact projection of
    the known motion: shared joints and head exact (to the file's rounding), synthesised torso joints
    close, the two missing frames interpolated close to the truth."""
    path, uv, truth, ideal = write_known_motion(tmp_path)
    kp = read_coco_keypoints(path)
    got = to_model_inputs(kp)
    assert got.shape == ideal.shape and kp.interpolated.tolist().count(True) == 2
    seen = ~kp.interpolated
    exact = [j for j in range(17) if j not in (H["pelvis"], H["spine"], H["thorax"])]
    diff = np.abs(got[seen][:, exact, :2] - ideal[seen][:, exact, :2])
    assert diff.max() < 1e-5, f"copied joints moved by {diff.max():.2e} (normalised units)"
    px = kp.width / 2  # normalised screen units -> pixels
    torso = np.linalg.norm(got[..., :2] - ideal[..., :2], axis=-1)[:, [H["pelvis"], H["spine"], H["thorax"]]] * px
    print(f"synthesised torso joints vs Human3.6M's: mean {torso.mean():.1f} px, max {torso.max():.1f} px")
    assert torso.max() < 25.0, "pelvis/spine/thorax from hips and shoulders should land within ~25 px"
    gap = np.linalg.norm(got[~seen, :, :2] - ideal[~seen, :, :2], axis=-1) * px
    assert gap.max() < 10.0, f"interpolated frames are {gap.max():.1f} px off the true motion"
    assert np.all(got[..., 2] == 1.0)


@pytest.mark.slow
def test_lift_projected_known_motion_end_to_end(tmp_path):
    """Project a known motion, write it as a detector would (COCO-17 JSON, two frames missing), lift it
    with the cheap trained checkpoint; compare with the same model on the exact H36M-17 projection
    (what it was trained on) and with the motion itself."""
    from mdtf_lite.eval.metrics import mpjpe
    from mdtf_lite.train import ensure_checkpoint, load_checkpoint

    try:
        model, cfg = load_checkpoint(ensure_checkpoint("ci"))
    except FileNotFoundError as exc:
        pytest.skip(f"no training config yet: {exc}")
    path, uv, truth, ideal_inputs = write_known_motion(tmp_path)
    result = lift.lift_keypoints_file(path, model, cfg)
    window = lift.model_window(model, cfg)
    assert result.poses.shape == truth.shape and np.isfinite(result.poses).all()
    assert result.meta["window"] == window and list(result.keypoints.frame_ids) == list(range(len(truth)))
    same = lift_sequence(model, to_model_inputs(read_coco_keypoints(path)), window, flip=cfg.flip_test)
    np.testing.assert_allclose(result.poses, same, atol=1e-6)

    ideal = lift_sequence(model, ideal_inputs, window, flip=cfg.flip_test)
    gap_mm = 1000 * float(mpjpe(result.poses, ideal))
    err_json, err_ideal = 1000 * float(mpjpe(result.poses, truth)), 1000 * float(mpjpe(ideal, truth))
    err_mean = 1000 * float(mpjpe(np.repeat(truth.mean(0, keepdims=True), len(truth), 0), truth))
    print(
        f"MPJPE vs the known motion: from JSON {err_json:.1f} mm, from exact H36M input {err_ideal:.1f} mm "
        f"(clip mean pose {err_mean:.1f} mm); JSON vs exact-input lifts differ by {gap_mm:.1f} mm"
    )
    assert gap_mm < max(15.0, 0.1 * err_ideal), "the COCO path changed the lift more than its approximation explains"
    if err_ideal < err_mean:  # a checkpoint that lifts at all must keep doing so through the JSON path
        assert err_json < err_ideal + 25.0
    # a short clip (shorter than the window) is padded and still lifted
    short = lift_sequence(model, to_model_inputs(read_coco_keypoints(path))[:7], window)
    assert short.shape == (7, 17, 3) and np.isfinite(short).all()
