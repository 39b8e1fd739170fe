"""Real people in the default dataset: split by person, cameras per person, whole body in view, deterministic,
and the evaluation that scores procedural and real test people apart."""

import hashlib

import numpy as np
import pytest
import torch

from mdtf_lite.data import ensure_default_dataset, h36m_camera, subject_groups
from mdtf_lite.data.layout import read_layout
from mdtf_lite.data.mocap import load_mocap
from mdtf_lite.data.people import action_name, assign_cameras, fit_in_view, in_image, motion_class, subject_name
from mdtf_lite.data.synthetic.default import build_default_dataset
from mdtf_lite.data.synthetic.synth import TEST_SUBJECTS, TRAIN_SUBJECTS, generate_take, make_subject
from mdtf_lite.eval import action_group, evaluate_groups, evaluate_model, groups_table, load_groups


def _people() -> dict:
    """subject -> split of every shipped mocap person."""
    return {subject_name(c.database, c.person): c.split for c in load_mocap()}


def test_names_classes_and_actions():
    assert subject_name("cmu", "02") == "CMU02" and subject_name("hdm05", "bd") == "HDMbd"
    assert action_name("cmu", "02", "02_01") == "Walk 02_01" and action_group("Walk 02_01") == "Walk"
    assert motion_class("cmu", "05", "05_07") == "Dance" and motion_class("cmu", "01", "01_09") == "Playground"
    assert motion_class("cmu", "02", "02_01_part2") == "Walk"  # a take split at a glitch keeps its class
    assert motion_class("hdm05", "dg", "HDM_dg_hopBothLegs1hops_003_120") == "Hop"
    assert action_group(action_name("hdm05", "bd", "HDM_bd_lieDownFloor_001_120")) == "LieDown"
    with pytest.raises(ValueError, match="unknown mocap database"):
        subject_name("h36m", "S1")
    with pytest.raises(ValueError, match="letters, digits"):
        subject_name("cmu", "0/2")


def test_cameras_round_robin_by_split():
    cams = assign_cameras({"CMU01": "test", "HDMdg": "test", **{f"P{k}": "train" for k in range(7)}})
    assert cams["CMU01"] == "S9" and cams["HDMdg"] == "S11"
    assert [cams[f"P{k}"] for k in range(7)] == [*TRAIN_SUBJECTS, "S1", "S5"]
    with pytest.raises(ValueError, match="split other than"):
        assign_cameras({"X": "val"})


def test_fit_in_view_shifts_and_drops_frames_out_of_the_images():
    walk = generate_take(0, make_subject(0, "S1"), "Walking", 0, 200)
    world, shift, runs = fit_in_view(walk, "S9")
    assert runs == [(0, 200)] and not shift.any() and np.array_equal(world, walk)  # already in view: untouched
    off = walk + [1.0, 0.0, 0.0]  # one metre aside: a floor shift brings it back
    world, shift, runs = fit_in_view(off, "S9")
    assert runs == [(0, 200)] and shift[0] < 0 and in_image(world, "S9").all()
    assert np.allclose(world[..., 2], walk[..., 2])  # feet stay on the floor
    away = walk.copy()
    away[80:120, :, 0] += 20.0  # 40 frames 20 m away: cut out, the rest kept in two runs
    world, shift, runs = fit_in_view(away, "S9")
    assert runs == [(0, 80), (120, 200)] and not shift.any()


def test_default_dataset_holds_real_people_split_by_person():
    info = read_layout(ensure_default_dataset(), kinds=()).info
    people = _people()
    assert info["groups"]["procedural"] == [*TRAIN_SUBJECTS, *TEST_SUBJECTS]
    assert set(info["groups"]["real"]) == set(people) and people
    train, test = set(info["splits"]["train"]), set(info["splits"]["test"])
    assert not train & test, "a person in both splits"
    assert {s for s, sp in people.items() if sp == "test"} <= test and "CMU01" in test
    assert {s for s, sp in people.items() if sp == "train"} <= train
    for s in info["groups"]["real"]:
        pool = TEST_SUBJECTS if s in test else TRAIN_SUBJECTS
        assert info["camera_subjects"][s] in pool
        assert info["real_people"][s]["camera_subject"] == info["camera_subjects"][s]
        assert info["real_people"][s]["licence"]
    clips = info["real_clips"]
    assert len(clips) == len(load_mocap())
    assert all(c["licence"] and c["database"] in ("cmu", "hdm05") for c in clips.values())
    assert sum(c["kept_frames"] for c in clips.values()) > 0.9 * sum(c["frames"] for c in clips.values())
    assert subject_groups("default", "test") == {
        "procedural": list(TEST_SUBJECTS),
        "real": sorted(s for s in info["groups"]["real"] if s in test),
    }


def test_real_people_are_whole_in_every_image():
    lay = read_layout(ensure_default_dataset(), kinds=("gt",), subjects=set(_people()))
    assert lay.positions_3d
    for s, acts in lay.keypoints["gt"].items():
        for a, views in acts.items():
            assert len(lay.positions_3d[s][a]) >= 2
            for c, kp in enumerate(views):
                cam = h36m_camera(lay.camera_subject(s), c)
                uv = kp[..., :2]
                assert np.all((uv >= 0) & (uv < [cam.res_w, cam.res_h])), f"{s}/{a} camera {c} leaves the image"


def test_real_people_build_is_deterministic(tmp_path):
    frames = {}
    for c in load_mocap(split="train"):
        name = subject_name(c.database, c.person)
        frames[name] = frames.get(name, 0) + len(c.positions)
    smallest = min(frames, key=frames.get)
    digest = [
        {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build_default_dataset(tmp_path / k, seed=1, subjects=(smallest,), verbose=False).iterdir())
        }
        for k in "ab"
    ]
    assert digest[0] == digest[1]
    lay = read_layout(tmp_path / "a", kinds=("detected",))
    assert lay.info["splits"] == {"train": [smallest], "test": []} and lay.info["groups"]["real"] == [smallest]
    with pytest.raises(ValueError, match="unknown subjects"):
        build_default_dataset(tmp_path / "c", subjects=("CMU99",), verbose=False)


class _Zero(torch.nn.Module):
    def forward(self, x):
        return torch.zeros_like(x)


def test_evaluation_scores_procedural_and_real_test_people_apart():
    groups = load_groups("test", subjects=["S9", "CMU01"], frames=27, max_clips=16)
    assert list(groups) == ["procedural", "real"]
    assert set(groups["procedural"].meta["subject"]) == {"S9"} and set(groups["real"].meta["subject"]) == {"CMU01"}
    scores = evaluate_groups(_Zero(), groups, flip=False)
    for g, ds in groups.items():
        assert scores[g]["p1_mm"] == pytest.approx(evaluate_model(_Zero(), ds, flip=False)["p1_mm"])
    text = groups_table({"zero": scores})
    assert "procedural P1" in text and "real P1" in text and f"{scores['real']['p1_mm']:.1f}" in text
    assert list(load_groups("test", subjects=["S11"], frames=27, max_clips=4)) == ["procedural"]
    with pytest.raises(ValueError, match="none of the subjects"):
        load_groups("test", subjects=["S1"], frames=27)


def test_other_mocap_arrays_make_the_dataset_stale(monkeypatch):
    import mdtf_lite.data.synthetic.default as default

    folder = ensure_default_dataset()
    assert default._is_current(folder, 0)
    assert read_layout(folder, kinds=()).info["mocap_digest"] == default.mocap_digest()
    monkeypatch.setattr(default, "mocap_digest", lambda: "other arrays")
    assert not default._is_current(folder, 0)


def test_by_group_resummarises_a_mixed_evaluation():
    from mdtf_lite.data import load_clips
    from mdtf_lite.eval import by_group

    mixed = load_clips("default", split="test", subjects=["S9", "CMU01"], frames=27, max_clips=64)
    per = by_group(evaluate_model(_Zero(), mixed, flip=False), mixed)
    assert list(per) == ["procedural", "real"]
    for group, subject in (("procedural", "S9"), ("real", "CMU01")):
        alone = mixed.subset(np.flatnonzero(mixed.meta["subject"] == subject))
        assert per[group]["p1_mm"] == pytest.approx(evaluate_model(_Zero(), alone, flip=False)["p1_mm"])
