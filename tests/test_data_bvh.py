"""BVH reader and the CMU mocap path, checked against the real clips in shared/mocap/cmu (skipped if absent)."""

import numpy as np
import pytest

from mdtf_lite.data.readers.bvh import bvh_to_h36m17, read_bvh
from mdtf_lite.data.readers.cmu import (
    Y_UP_TO_Z_UP,
    cmu_clips,
    convert_bvh_files,
    load_cmu_bvh,
    resample,
    shared_cmu_dir,
)
from mdtf_lite.data.synthetic.synth import generate_take, make_subject

CMU = shared_cmu_dir()
needs_cmu = pytest.mark.skipif(
    not (CMU / "derived_h36m17").is_dir(),
    reason=f"CMU mocap clips not found at {CMU} (set MDTF_SHARED_DIR to the shared folder)",
)
PAIRS = [
    ("cmu_bvh_motionbuilder/01_01.bvh", "cmu_01_01_from_bvh", "motionbuilder"),
    ("cmu_bvh_3dsmax/131_01.bvh", "cmu_131_01_from_bvh", "3dsmax"),
    ("cmu_bvh_3dsmax/131_03.bvh", "cmu_131_03_from_bvh", "3dsmax"),
]

TINY = """HIERARCHY
ROOT Hips
{
 OFFSET 0 0 0
 CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
 JOINT Spine
 {
  OFFSET 0 1 0
  CHANNELS 3 Zrotation Xrotation Yrotation
  End Site
  {
   OFFSET 0 1 0
  }
 }
}
MOTION
Frames: 2
Frame Time: 0.0083333
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 0 90 0
"""


def test_tiny_bvh_forward_kinematics(tmp_path):
    from mdtf_lite.data.readers.bvh import bvh_positions

    p = tmp_path / "tiny.bvh"
    p.write_text(TINY)
    b = read_bvh(p)
    assert b.names == ["Hips", "Spine", "Spine/End"] and round(b.fps) == 120
    pos = bvh_positions(b)
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, 3, 3], [1, 4, 3]], atol=1e-12)
    # frame 1: root Z-rotated 90 deg maps the +y offsets to -x; the spine's own rotation (x=90) acts on the end site
    np.testing.assert_allclose(pos[1, 1], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(pos[1, 2], [-1, 0, 1], atol=1e-12)


def test_bvh_bad_inputs(tmp_path):
    p = tmp_path / "t.bvh"
    p.write_text(TINY)
    with pytest.raises(ValueError, match="lacks joints needed for H36M-17"):
        bvh_to_h36m17(p)
    p.write_text(TINY[: len(TINY) - 20])
    with pytest.raises(ValueError, match="not a valid BVH"):
        read_bvh(p)
    p.write_text("hello")
    with pytest.raises(ValueError, match="HIERARCHY"):
        read_bvh(p)


@needs_cmu
@pytest.mark.parametrize("bvh, ref, style", PAIRS)
def test_cmu_bvh_matches_reference_lower_body(bvh, ref, style):
    x, fps, got_style = bvh_to_h36m17(CMU / bvh)
    want = np.load(CMU / "derived_h36m17" / f"{ref}.npz")["positions_3d"]
    assert got_style == style and round(fps) == 120 and x.shape == want.shape
    lower = [0, 1, 2, 3, 4, 5, 6]
    assert np.abs(x[:, lower] - want[:, lower]).max() < 1e-3  # within 1 mm in every frame
    assert np.abs(x - want).max() < 1e-3


def test_resample_and_rotation():
    x = np.arange(241, dtype=float)[:, None] / 120.0  # 2 s of a ramp at 120 fps
    y = resample(x, 120.0, 50.0)
    assert len(y) == 101
    np.testing.assert_allclose(y[:, 0], np.arange(101) / 50.0, atol=1e-12)
    assert np.isclose(np.linalg.det(Y_UP_TO_Z_UP), 1.0)  # a rotation, not a mirror
    np.testing.assert_allclose(Y_UP_TO_Z_UP @ [0, 1, 0], [0, 0, 1])


def _forward_alignment(world):
    """Mean cosine between the pelvis velocity and the body's forward (left-hip direction x up)."""
    left = world[:, 4] - world[:, 1]
    fwd = np.cross(left, [0, 0, 1.0])[:, :2]
    vel = np.gradient(world[:, 0, :2], axis=0)
    speed = np.linalg.norm(vel, axis=-1)
    moving = speed > np.percentile(speed, 60)
    cos = (fwd * vel).sum(-1) / (np.linalg.norm(fwd, axis=-1) * speed + 1e-12)
    return cos[moving].mean()


@needs_cmu
def test_cmu_walk_goes_forward_not_mirrored():
    world = load_cmu_bvh(CMU / "cmu_bvh_3dsmax/131_01.bvh")
    assert len(world) == int((994 - 1) / 120 * 50) + 1
    assert world[..., 2].min() > -0.05 and np.all(world[:, 10, 2] > world[:, 0, 2])  # upright, on the floor
    assert _forward_alignment(world) > 0.5  # a mirrored body would walk backwards (negative)
    assert _forward_alignment(load_cmu_bvh(CMU / "cmu_bvh_motionbuilder/01_01.bvh")) > 0.7  # forward jumps
    # the default generator's walkers obey the same convention
    synth = generate_take(0, make_subject(0, "S1"), "Walking", 0, 400)
    assert _forward_alignment(synth) > 0.7


@needs_cmu
def test_cmu_clips_match_the_default_conventions(tmp_path):
    files = [CMU / "cmu_bvh_3dsmax/131_02.bvh"]
    ds = cmu_clips(files, frames=27)
    assert ds.inputs.shape[1:] == (27, 17, 3) and len(ds) == 4 * (len(load_cmu_bvh(files[0])) // 27)
    assert set(ds.meta["camera"]) == {0, 1, 2, 3} and ds.split == "test"
    assert float(ds.inputs[..., 0].abs().max()) < 1.0 and 0 < float(ds.inputs[..., 2].mean()) < 1
    # head above the pelvis in camera space (y points down)
    assert float((ds.targets[..., 10, 1] < 0).float().mean()) > 0.99
    out = convert_bvh_files(files, tmp_path / "cmu")
    from mdtf_lite.data import load_clips

    again = load_clips(out, split="test", frames=27)
    np.testing.assert_allclose(again.inputs.numpy(), ds.inputs.numpy(), atol=1e-5)


# ------------------------------------------------------------------------ issue 12, case 9
def _tiny(tmp_path, text, name="t.bvh"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text,pattern",
    [
        (TINY.replace("  }\n }\n}", "  }\n}"), "not closed with '}' before MOTION"),  # a '}' missing
        (TINY.replace("   OFFSET 0 1 0\n  }\n }", "   OFFSET 0 1 0\n  }\n }\n }"), "closes nothing"),  # one too many
        (TINY.replace(" JOINT Spine", " }\n JOINT Spine"), "JOINT Spine outside any ROOT"),  # the root closed early
    ],
)
def test_unbalanced_braces_are_refused(tmp_path, text, pattern):
    with pytest.raises(ValueError, match=f"t.bvh: not a valid BVH file.*{pattern}"):
        read_bvh(_tiny(tmp_path, text))


@pytest.mark.parametrize(
    "old,new,pattern",
    [
        ("Frame Time: 0.0083333", "Frame Time: 0", "Frame Time: 0.0"),
        ("Frame Time: 0.0083333", "Frame Time: -0.01", "Frame Time: -0.01"),
        ("Frame Time: 0.0083333", "Frame Time: nan", "Frame Time: nan"),
        ("0 0 0 90 0 0 0 90 0", "0 0 0 nan 0 0 0 90 0", "MOTION frame 1, channel 3 is nan"),
        ("OFFSET 0 1 0\n  CHANNELS", "OFFSET 0 nan 0\n  CHANNELS", "OFFSET of Spine is not 3 finite"),
        ("Frames: 2", "Frames: -2", "Frames: -2"),
    ],
)
def test_bad_motion_values_name_the_file(tmp_path, old, new, pattern):
    assert old in TINY
    with pytest.raises(ValueError, match=f"t.bvh: not a valid BVH file.*{pattern}"):
        read_bvh(_tiny(tmp_path, TINY.replace(old, new)))


def test_resample_refuses_bad_frame_rates():
    for fps in (0.0, -120.0, float("nan")):
        with pytest.raises(ValueError, match="fps_in"):
            resample(np.zeros((5, 17, 3)), fps)


@needs_cmu
def test_two_files_with_the_same_name_are_refused(tmp_path):
    src = CMU / "cmu_bvh_3dsmax" / "131_01.bvh"
    a, b = tmp_path / "a" / "131_01.bvh", tmp_path / "b" / "131_01.bvh"
    for p in (a, b):
        p.parent.mkdir()
        p.symlink_to(src)
    with pytest.raises(ValueError, match="2 BVH files share the name '131_01'.*Rename them apart"):
        convert_bvh_files([a, b], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------- property-based: truncated / corrupted BVH files
from fuzz_helpers import mangle  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.floats(0, 1),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(list("{}0123456789.-e ") + ["nan", "inf", "\n", "JOINT", "End", "ROOT", "MOTION"]),
        ),
        max_size=5,
    ),
)
def test_random_truncation_and_edits_give_value_error_or_finite_motion(tmp_path, cut, edits):
    text = mangle(TINY, cut, edits)
    p = _tiny(tmp_path, text, "r.bvh")
    try:
        b = read_bvh(p)
    except ValueError as exc:
        assert str(p) in str(exc)
        return
    from mdtf_lite.data.readers.bvh import bvh_positions

    try:
        pos = bvh_positions(b)
    except ValueError as exc:  # an unknown channel name
        assert str(p) in str(exc)
        return
    assert np.isfinite(pos).all() and b.frame_time > 0
