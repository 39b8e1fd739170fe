"""Realism of the default generator: the statistics of bench data, the gait norms it is built from, the bars."""

import numpy as np
import pytest

from mdtf_lite.bench.data import FOOT_SLIDE_BAR, realism_rows, realism_stats, realism_table
from mdtf_lite.data.synthetic.actions import HIP_WALK, KNEE_RUN, KNEE_WALK, periodic_curve
from mdtf_lite.data.synthetic.body import forward_kinematics, subject_bone_lengths
from mdtf_lite.data.synthetic.motion_stats import foot_skate, joint_angles, median_frequency, speed_spectrum
from mdtf_lite.data.synthetic.synth import generate_take, make_subject, with_transitions

D = np.pi / 180


def test_joint_angles_measure_the_angles_the_body_was_posed_with():
    n = 4
    dofs = {
        "l_knee": np.full(n, 30 * D),
        "r_knee": np.full(n, 70 * D),
        "l_elbow": np.full(n, 45 * D),
        "r_elbow": np.full(n, 100 * D),
        "l_sh_abd": np.full(n, 90 * D),
    }
    bones = subject_bone_lengths(np.random.default_rng(0))
    a = joint_angles(forward_kinematics(dofs, bones, n))
    np.testing.assert_allclose(np.sort(np.unique(a["knee"].round(6))), [30, 70], atol=1e-6)
    np.testing.assert_allclose(np.sort(np.unique(a["elbow"].round(6))), [45, 100], atol=1e-6)
    # shoulders are (left, right): the left arm is abducted 90 deg from the trunk axis, the right one hangs
    assert np.all(np.abs(a["shoulder"][:n] - 90) < 12) and np.all(a["shoulder"][n:] < 15)
    assert a["spine"].shape == (n,) and np.all(a["spine"] < 15)


def test_normative_gait_curves_keep_their_published_landmarks():
    u = np.linspace(0, 1, 1000, endpoint=False)
    knee, hip, run = periodic_curve(KNEE_WALK)(u), periodic_curve(HIP_WALK)(u), periodic_curve(KNEE_RUN)(u)
    np.testing.assert_allclose(periodic_curve(KNEE_WALK)(np.array([0.0, 1.0])), periodic_curve(KNEE_WALK)(0.0))
    assert 55 <= knee.max() <= 68 and 0.65 <= u[knee.argmax()] <= 0.78  # swing peak 60-65 deg at ~72 %
    assert 10 <= knee[(u > 0.08) & (u < 0.22)].max() <= 22  # loading response 15-20 deg
    assert knee[(u > 0.3) & (u < 0.5)].min() <= 9  # near straight in terminal stance
    assert 25 <= hip.max() <= 40 and -14 <= hip.min() <= -5  # +30 / -10 deg
    assert 80 <= run.max() <= 100 and run.min() >= 12  # jogging swing ~90 deg


def test_walking_follows_the_norms_with_bent_elbows():
    w = generate_take(0, make_subject(0, "S9"), "Walking", 1, 600)
    a = joint_angles(w)
    assert 50 <= np.percentile(a["knee"], 99) <= 80 and np.percentile(a["knee"], 5) < 12
    assert 15 <= np.median(a["elbow"]) <= 70
    assert np.median(foot_skate(w)) <= FOOT_SLIDE_BAR


def test_foot_sliding_at_contact_is_within_the_bar():
    takes = [
        generate_take(0, make_subject(0, s), a, 0, 400)
        for s in ("S9", "S11")
        for a in ("Walking", "Turning", "Jumping", "Boxing", "Phoning")
    ]
    slide = np.concatenate([foot_skate(w) for w in takes])
    assert np.median(slide) <= FOOT_SLIDE_BAR, f"median foot sliding at contact {np.median(slide):.3f} m/s"


def test_transitions_blend_standing_into_the_action_and_are_deterministic():
    from mdtf_lite.data.synthetic.actions import Motion

    style = make_subject(0, "S1").style
    n = 600
    base = Motion({"l_knee": np.full(n, 1.5)})  # an action holding the knee at 86 deg
    runs = [with_transitions(np.random.default_rng(s), n, 50.0, base, style, False) for s in range(12)]
    again = with_transitions(np.random.default_rng(3), n, 50.0, base, style, False)
    np.testing.assert_array_equal(again.dofs["l_knee"], runs[3].dofs["l_knee"])
    knees = [r.dofs["l_knee"] for r in runs]
    assert all(k.max() <= 1.5 + 1e-12 for k in knees)  # a convex blend of standing and the action
    lead_in = [k for k in knees if k[0] < 0.5]  # starts from standing (soft knee) ...
    assert lead_in and all(np.any(k == 1.5) for k in lead_in)  # ... and reaches the action itself
    assert any(r.locomotion for r in runs)  # some takes walk to another spot


def test_speed_spectrum_finds_the_frequency_of_a_motion():
    t = np.arange(1000) / 50.0
    w = np.zeros((1000, 17, 3))
    w[:, :, 0] = 0.1 * np.sin(2 * np.pi * 1.5 * t)[:, None]
    f, p = speed_spectrum([w], [0])
    assert abs(f[p.argmax()] - 1.5) < 0.4 and abs(median_frequency(f, p) - 1.5) < 0.4
    with pytest.raises(ValueError, match="shorter than window"):
        speed_spectrum([w[:50]], [0])


def test_realism_table_lists_every_quantity_and_marks_the_bars():
    a = realism_stats([generate_take(0, make_subject(0, "S9"), "Walking", 0, 300)])
    b = realism_stats([generate_take(0, make_subject(0, "S11"), "Squatting", 0, 300)])
    rows = realism_rows(a, b)
    names = [r["quantity"] for r in rows]
    for joint in ("knee", "elbow", "hip", "shoulder", "spine"):
        assert f"{joint} angle" in names
    assert "foot sliding at contact" in names and sum("median frequency" in q for q in names) == 4
    knee = rows[names.index("knee angle")]
    assert knee["met"] == (abs(knee["a"] - knee["b"]) <= 8) and knee["gap"] == pytest.approx(knee["a"] - knee["b"])
    text = realism_table(rows)
    assert text.count("\n") == len(rows) + 1


def test_realism_figure_has_a_panel_per_joint_and_spectrum():
    from mdtf_lite.viz.data_views import realism_figure

    a = realism_stats([generate_take(0, make_subject(0, "S9"), "Walking", 0, 300)])
    fig = realism_figure(a, a)
    assert sum(t.type == "histogram" for t in fig.data) == 2 * 5
    assert sum(t.type == "scatter" for t in fig.data) == 2 * 4


def test_cmu_clips_bend_their_knees_and_elbows():
    """The held-out check reads: CMU's medians are measured (skips without the shared clips)."""
    from mdtf_lite.data.readers.cmu import cmu_bvh_files, load_cmu_bvh

    try:
        files = cmu_bvh_files()
    except FileNotFoundError as exc:
        pytest.skip(f"CMU clips absent ({exc})")
    stats = realism_stats([load_cmu_bvh(f) for f in files])
    assert 0 < np.median(stats["angles"]["knee"]) < 90 and 0 < np.median(stats["angles"]["elbow"]) < 120


def test_turning_the_root_equals_rotating_the_body():
    """generate_take rotates the in-place body by the heading instead of a second kinematics pass."""
    rng = np.random.default_rng(0)
    n = 5
    dofs = {k: rng.uniform(-0.5, 0.5, n) for k in ("root_yaw", "root_pitch", "l_knee", "r_sh_flex", "thorax_twist")}
    bones = subject_bone_lengths(rng)
    heading = rng.uniform(-3, 3, n)
    body = forward_kinematics(dofs, bones, n)
    turned = forward_kinematics({**dofs, "root_yaw": dofs["root_yaw"] + heading}, bones, n)
    c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
    rotated = np.stack([c * body[..., 0] - s * body[..., 1], s * body[..., 0] + c * body[..., 1], body[..., 2]], -1)
    np.testing.assert_allclose(rotated, turned, atol=1e-12)
