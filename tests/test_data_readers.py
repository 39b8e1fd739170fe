"""Readers of the real files, tested on small files written here in exactly the real layouts."""

import json
import pickle

import numpy as np
import pytest
import torch

from mdtf_lite.data import PickleRefused, load_clips
from mdtf_lite.data.cameras import h36m_camera
from mdtf_lite.data.geometry import pose_25d, world_to_camera
from mdtf_lite.data.npz_io import load_npz, load_pickled
from mdtf_lite.data.readers.h36m_cdf import convert_h36m_cdf, read_h36m_cdf
from mdtf_lite.data.readers.motionbert import convert_motionbert, motionbert_videos
from mdtf_lite.data.readers.mpi3dhp import MPI_TO_H36M, convert_3dhp
from mdtf_lite.data.readers.vp3d import convert_vp3d, read_vp3d_2d, read_vp3d_3d
from mdtf_lite.data.synthetic.default import views_of
from mdtf_lite.data.synthetic.synth import generate_take, make_subject
from mdtf_lite.skeleton import H36M32_TO_17, LEFT_JOINTS, RIGHT_JOINTS


def _motion(subject, action, n=120):
    return generate_take(5, make_subject(5, subject), action, 0, n)  # (n, 17, 3) metres, world


def _to32(x17):
    x = np.zeros((len(x17), 32, 3), np.float32)
    x[:, list(H36M32_TO_17)] = x17
    return x


@pytest.fixture()
def vp3d_folder(tmp_path):
    """VideoPose3D files: 32-joint 3D, CPN-like 2D (longer than 3D), GT 2D, with pickled dicts in npz."""
    pos, cpn, gt = {}, {}, {}
    for s, acts in {"S1": ["Walking", "Walking 1"], "S9": ["Jumping"], "S11": ["Waving 1"]}.items():
        pos[s], cpn[s], gt[s] = {}, {}, {}
        for a in acts:
            x = _motion(s, a.split(" ")[0])
            pos[s][a] = _to32(x)
            views = views_of(x, s)[0]
            gt[s][a] = [v[:, :, :2].astype(np.float32) for v in views]
            cpn[s][a] = [np.concatenate([v[:, :, :2], v[-3:, :, :2]]).astype(np.float32) + 2.0 for v in views]
    meta = {"num_joints": 17, "keypoints_symmetry": [list(LEFT_JOINTS), list(RIGHT_JOINTS)]}
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos)
    np.savez_compressed(
        tmp_path / "data_2d_h36m_cpn_ft_h36m_dbb.npz", positions_2d=cpn, metadata={**meta, "layout_name": "h36m"}
    )
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=gt, metadata=meta)
    return tmp_path, pos, cpn, gt


def test_vp3d_refuses_pickles_without_opt_in(vp3d_folder):
    folder = vp3d_folder[0]
    with pytest.raises(PickleRefused, match="trust_pickle=True"):
        read_vp3d_3d(folder / "data_3d_h36m.npz")
    with pytest.raises(PickleRefused, match="--trust-pickle"):
        convert_vp3d(folder, folder / "out")
    # and the pickle-free reader refuses the original too, naming the converter
    with pytest.raises(PickleRefused, match="convert"):
        load_npz(folder / "data_3d_h36m.npz")


def test_vp3d_round_trip_and_load_clips(vp3d_folder):
    folder, pos, cpn, gt = vp3d_folder
    got = read_vp3d_3d(folder / "data_3d_h36m.npz", trust_pickle=True)
    np.testing.assert_array_equal(got["S1"]["Walking 1"], pos["S1"]["Walking 1"][:, list(H36M32_TO_17)])
    kp, meta = read_vp3d_2d(folder / "data_2d_h36m_cpn_ft_h36m_dbb.npz", trust_pickle=True)
    assert meta["layout_name"] == "h36m" and len(kp["S9"]["Jumping"]) == 4
    out = convert_vp3d(folder, folder / "conv", trust_pickle=True)
    ds = load_clips(out, split="test", frames=27, keypoints="detected")
    assert set(ds.meta["subject"]) == {"S9", "S11"} and len(ds) == 2 * 4 * (120 // 27)
    # 2D truncated to the 3D length; detections = CPN file (here GT + 2 px), confidence 1
    i = int(np.flatnonzero((ds.meta["video"] == "S9/Jumping/2") & (ds.meta["start"] == 27))[0])
    want = (cpn["S9"]["Jumping"][2][27:54] / 1000 * 2 - [1, 1]).astype(np.float32)
    np.testing.assert_allclose(ds.inputs[i, ..., :2].numpy(), want, atol=1e-5)
    assert torch.all(ds.inputs[..., 2] == 1)
    cam = h36m_camera("S9", 2)
    x_cam = world_to_camera(pos["S9"]["Jumping"][:, list(H36M32_TO_17)].astype(np.float64), cam)
    np.testing.assert_allclose(ds.targets[i].numpy(), (x_cam - x_cam[:, :1])[27:54], atol=1e-5)
    tr = load_clips(out, split="train", frames=27, keypoints="gt")
    assert set(tr.meta["action"]) == {"Walking", "Walking 1"}


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("nan", "NaN/Inf"),
        ("joints", "unknown joint layout"),
        ("camera", "camera views, expected 4"),
        ("short2d", "fewer 2D frames"),
        ("subject", "subject 'S9' is missing"),
        ("truncated", "truncated or corrupted"),
    ],
)
def test_vp3d_bad_inputs(vp3d_folder, breakage, message):
    folder, pos, cpn, gt = vp3d_folder
    meta = {"num_joints": 17, "keypoints_symmetry": [list(LEFT_JOINTS), list(RIGHT_JOINTS)]}
    if breakage == "nan":
        pos["S1"]["Walking"][3, 0, 0] = np.nan
        np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=pos)
    elif breakage == "joints":
        pos["S1"]["Walking"] = pos["S1"]["Walking"][:, :25]
        np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=pos)
    elif breakage == "camera":
        gt["S9"]["Jumping"] = gt["S9"]["Jumping"][:3]
        np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=gt, metadata=meta)
    elif breakage == "short2d":
        gt["S1"]["Walking"][1] = gt["S1"]["Walking"][1][:50]
        np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=gt, metadata=meta)
    elif breakage == "subject":
        del gt["S9"]
        np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=gt, metadata=meta)
    else:
        data = (folder / "data_3d_h36m.npz").read_bytes()
        (folder / "data_3d_h36m.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=message):
        convert_vp3d(folder, folder / "conv", trust_pickle=True)


def test_truncated_converted_file_gets_a_clear_error(vp3d_folder):
    folder = vp3d_folder[0]
    out = convert_vp3d(folder, folder / "conv", trust_pickle=True)
    data = (out / "keypoints_2d_gt.npz").read_bytes()
    (out / "keypoints_2d_gt.npz").write_bytes(data[:1000])
    with pytest.raises(ValueError, match="keypoints_2d_gt.npz is not a readable .npz"):
        load_clips(out, split="test", keypoints="gt")
    with pytest.raises(FileNotFoundError, match="make-default"):
        load_clips(folder / "nowhere", split="test")


def test_official_cdf_release(tmp_path):
    cdfwrite = pytest.importorskip("cdflib.cdfwrite")
    x = _motion("S5", "Squatting", 90)
    for stem, data in (("TakingPhoto 1", x), ("Directions_ALL", x)):
        d = tmp_path / "S5" / "MyPoseFeatures" / "D3_Positions"
        d.mkdir(parents=True, exist_ok=True)
        f = cdfwrite.CDF(str(d / f"{stem}.cdf"))
        pose = (_to32(data) * 1000).reshape(1, len(data), 96).astype(np.float32)
        f.write_var(
            {"Variable": "Pose", "Data_Type": 21, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": [len(data), 96]},
            var_data=pose,
        )
        f.close()
    got = read_h36m_cdf(tmp_path / "S5/MyPoseFeatures/D3_Positions/TakingPhoto 1.cdf")
    np.testing.assert_allclose(got, x, atol=1e-5)
    out = convert_h36m_cdf(tmp_path, tmp_path / "conv")
    info = json.loads((out / "dataset.json").read_text())
    assert info["splits"]["train"] == ["S5"] and info["keypoint_kinds"] == ["gt"]
    ds = load_clips(out, split="train", frames=30, keypoints="gt")
    assert set(ds.meta["action"]) == {"Photo 1"} and len(ds) == 4 * (90 - 30) // 10 + 4
    with pytest.raises(FileNotFoundError, match="keypoints_2d_detected"):
        load_clips(out, split="train", frames=30, keypoints="detected")
    (tmp_path / "S5/MyPoseFeatures/D3_Positions/Bad.cdf").write_bytes(b"not a cdf")
    with pytest.raises(ValueError, match="Bad.cdf is not a readable CDF"):
        convert_h36m_cdf(tmp_path, tmp_path / "conv2")


def _motionbert_split(test: bool):
    rows = {
        k: []
        for k in (
            "joint_2d",
            "confidence",
            "joint3d_image",
            "camera_name",
            "source",
            "action",
            "2.5d_factor",
            "joints_2.5d_image",
        )
    }
    takes = (
        [("S9", 5, 1, "Greeting"), ("S9", 5, 2, "Greeting"), ("S11", 14, 1, "Walking")]
        if test
        else [("S1", 2, 1, "Directions"), ("S5", 9, 2, "Sitting")]
    )
    for s, act, sub, name in takes:
        x = _motion(s, "Walking", 100)
        for c in range(4):
            cam = h36m_camera(s, c)
            x_cam = world_to_camera(x, cam)
            p25, factor = pose_25d(x_cam, cam)
            rows["joint_2d"].append(p25[..., :2] + 1.5)
            rows["confidence"].append(np.full((100, 17, 1), 0.8))
            rows["joint3d_image"].append(p25)
            rows["camera_name"] += [cam.id] * 100
            rows["source"] += [f"s_{int(s[1:]):02d}_act_{act:02d}_subact_{sub:02d}_ca_{c + 1:02d}"] * 100
            rows["action"] += [name] * 100
            rows["2.5d_factor"].append(factor)
            rows["joints_2.5d_image"].append(p25 * factor[:, None, None])
    out = {k: (np.concatenate(v) if isinstance(v[0], np.ndarray) else v) for k, v in rows.items()}
    if not test:
        for k in ("action", "2.5d_factor", "joints_2.5d_image"):
            del out[k]
    return out


def test_motionbert_pickle(tmp_path):
    path = tmp_path / "h36m_sh_conf_cam_source_final.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"train": _motionbert_split(False), "test": _motionbert_split(True)}, fh)
    with pytest.raises(PickleRefused):
        convert_motionbert(path, tmp_path / "mb")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "train.txt").write_text("keep")  # issue 12: never write into a user's folder
    with pytest.raises(ValueError, match="train.txt"):
        convert_motionbert(tmp_path, tmp_path / "mine", trust_pickle=True)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["train.txt"]
    out = convert_motionbert(tmp_path, tmp_path / "mb", trust_pickle=True)
    assert convert_motionbert(tmp_path, tmp_path / "mb", trust_pickle=True) == out  # a dataset is replaced
    test_videos = motionbert_videos(out, "test")
    # s_09_act_05_subact_02 is one of the three excluded S9 takes
    assert len(test_videos) == 8 and not any("subact_02" in v.name and v.subject == "S9" for v in test_videos)
    from mdtf_lite.data.clips import make_clips

    inputs, targets, meta = make_clips(test_videos, 50, 50, target="2.5d")
    assert inputs.shape == (16, 50, 17, 3) and np.allclose(inputs[..., 2], 0.8)
    ds = load_clips(out, split="test", frames=50, target="2.5d")
    assert torch.equal(ds.inputs, torch.from_numpy(inputs)) and ds.meta["video"][0] == test_videos[0].name
    # 2.5D target back to mm equals the camera-space root-relative z in mm
    mm = targets[..., 2] * 500 * meta["factor_2.5d"][..., None]
    assert set(meta["action"]) == {"Greeting", "Walking"}
    x = _motion("S9", "Walking", 100)
    cam = h36m_camera("S9", 0)
    z = world_to_camera(x, cam)[..., 2]
    np.testing.assert_allclose(mm[0], (z - z[:, :1])[:50] * 1000, atol=0.05)
    with pytest.raises(ValueError, match="no 'camera' target"):
        make_clips(test_videos, 50, 50, target="camera")
    train = motionbert_videos(out, "train", keypoints="gt")
    assert {v.action for v in train} == {"Directions", "Sitting"} and train[0].factor_25d is None


def test_motionbert_missing_key(tmp_path):
    split = _motionbert_split(True)
    del split["2.5d_factor"]
    with open(tmp_path / "h36m_sh_conf_cam_source_final.pkl", "wb") as fh:
        pickle.dump({"train": _motionbert_split(False), "test": split}, fh)
    with pytest.raises(ValueError, match=r"lacks \['2.5d_factor'\]"):
        convert_motionbert(tmp_path, tmp_path / "mb", trust_pickle=True)


def test_3dhp_files(tmp_path):
    x = _motion("S1", "Walking", 60)
    cam = h36m_camera("S1", 0)
    x_cam = world_to_camera(x, cam) * 1000
    uv = views_of(x, "S1")[0][0][..., :2]
    inv = np.argsort(MPI_TO_H36M)  # H36M -> MPI order
    test = {
        "TS1": {"data_2d": uv[:, inv], "data_3d": x_cam[:, inv], "valid": np.r_[np.zeros(10), np.ones(50)]},
        "TS5": {"data_2d": uv[:, inv], "data_3d": x_cam[:, inv], "valid": np.ones(60)},
    }
    train = {
        "S1 Seq1": [
            {
                0: {"data_2d": uv[:, inv], "data_3d": x_cam[:, inv]},
                4: {"data_2d": uv[:, inv], "data_3d": x_cam[:, inv]},
            },
            25,
        ]
    }
    np.savez_compressed(tmp_path / "data_test_3dhp.npz", data=test)
    np.savez_compressed(tmp_path / "data_train_3dhp.npz", data=train)
    with pytest.raises(PickleRefused):
        convert_3dhp(tmp_path, tmp_path / "conv")
    out = convert_3dhp(tmp_path, tmp_path / "conv", trust_pickle=True)
    from mdtf_lite.data.clips import make_clips
    from mdtf_lite.data.readers.mpi3dhp import mpi3dhp_videos

    vids = mpi3dhp_videos(out, "test")
    inputs, targets, meta = make_clips(vids, 20, 20)
    assert inputs.shape == (6, 20, 17, 3)
    assert torch.equal(load_clips(out, split="test", frames=20).targets, torch.from_numpy(targets))
    np.testing.assert_allclose(targets[0], (x_cam - x_cam[:, :1])[:20] / 1000, atol=1e-5)
    assert meta["valid"][0].sum() == 10 and meta["valid"][1].all()
    assert tuple(meta["res_w"]) == (2048,) * 3 + (1920,) * 3 and meta["res_h"][-1] == 1080
    train_v = mpi3dhp_videos(out, "train")
    assert sorted(v.camera for v in train_v) == [0, 4]
    bad = dict(test)
    bad["TS2"] = {"data_2d": uv[:, :15], "data_3d": x_cam[:, :15], "valid": np.ones(60)}
    np.savez_compressed(tmp_path / "data_test_3dhp.npz", data=bad)
    with pytest.raises(ValueError, match="unknown joint layout"):
        convert_3dhp(tmp_path, tmp_path / "conv2", trust_pickle=True)


def test_pickle_loader_refuses_and_explains(tmp_path):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(PickleRefused, match="can execute arbitrary code"):
        load_pickled(p)
    assert load_pickled(p, trust_pickle=True) == {"a": 1}
    p.write_bytes(pickle.dumps({"a": 1})[:5])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load_pickled(p, trust_pickle=True)


# ------------------------------------------------------------ issue 12, case 10: shapes and units
def _write_cdf(path, pose):
    cdfwrite = pytest.importorskip("cdflib.cdfwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    f = cdfwrite.CDF(str(path))
    f.write_var(
        {"Variable": "Pose", "Data_Type": 21, "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": list(pose.shape[1:])},
        var_data=pose,
    )
    f.close()


def test_cdf_with_25_joints_is_refused_not_reshaped(tmp_path):
    pose = np.random.default_rng(0).normal(size=(1, 32, 75)).astype(np.float32) * 100  # 32 * 75 = 25 * 96
    _write_cdf(tmp_path / "a.cdf", pose)
    with pytest.raises(ValueError, match=r"a.cdf: Pose has shape \(1, 32, 75\) \(25 joints x 3\?\)"):
        read_h36m_cdf(tmp_path / "a.cdf")


def test_cdf_in_metres_is_refused(tmp_path):
    x = _motion("S5", "Squatting", 30)
    _write_cdf(tmp_path / "m.cdf", _to32(x).reshape(1, 30, 96))  # metres where millimetres are expected
    with pytest.raises(
        ValueError, match="m.cdf: Pose .*0.001[0-9]*x the length.*metres where this reader expects millimetres"
    ):
        read_h36m_cdf(tmp_path / "m.cdf")


def test_vp3d_3d_in_millimetres_is_refused(tmp_path):
    pos = {"S9": {"Jumping": _to32(_motion("S9", "Jumping", 20)) * 1000}}
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos)
    with pytest.raises(ValueError, match=r"positions_3d\['S9'\]\['Jumping'\] has bones 1[.0-9]*e\+03x.*millimetres"):
        read_vp3d_3d(tmp_path / "data_3d_h36m.npz", trust_pickle=True)
