"""ASF/AMC (Acclaim) reader: forward kinematics on a tiny skeleton, the CMU take that exists in both ASF/AMC and
BVH, HDM05's Latin-1 headers, every malformed-input error, and property tests (hypothesis) as for BVH.
Tests that read ../shared/mocap skip with a message when it is absent (set MDTF_SHARED_DIR)."""

import numpy as np
import pytest
from fuzz_helpers import mangle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdtf_lite.data.readers.asf_amc import ASF_TO_H36M, asf_amc_positions, asf_amc_to_h36m17, read_amc, read_asf
from mdtf_lite.data.readers.bvh import CMU_UNIT_TO_M, bvh_to_h36m17
from mdtf_lite.data.readers.cmu import shared_cmu_dir

CMU = shared_cmu_dir()
REAL = CMU.parent / "real"
needs_cmu = pytest.mark.skipif(
    not (CMU / "cmu_asf_amc").is_dir(),
    reason=f"CMU ASF/AMC files not found at {CMU} (set MDTF_SHARED_DIR to the shared folder)",
)
needs_hdm05 = pytest.mark.skipif(
    not (REAL / "hdm05_asf_amc").is_dir(),
    reason=f"HDM05 files not found at {REAL} (set MDTF_SHARED_DIR to the shared folder)",
)

# one unit = 1 m (length 0.0254: a unit is 1/0.0254 inch); bone b's axis turns its local x onto global y
ASF = """# tiny Acclaim skeleton
:version 1.10
:units
  mass 1.0
  length 0.0254
  angle deg
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name a
     direction 0 1 0
     length 1
     axis 0 0 0 XYZ
    dof rx ry rz
    limits (-180 180)
           (-180 180)
           (-180 180)
  end
  begin
     id 2
     name b
     direction 1 0 0
     length 2
     axis 0 0 90 XYZ
    dof rx
  end
  begin
     id 3
     name c
     direction 0 0 1
     length 0.5
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root a
    a b c
  end
"""
AMC = """# tiny motion
:FULLY-SPECIFIED
:DEGREES
1
root 1 2 3 0 0 0
a 0 0 0
b 0
2
root 0 0 0 0 0 90
a 0 0 0
b 90
"""


def _write(tmp_path, asf=ASF, amc=AMC, name="t"):
    (tmp_path / f"{name}.asf").write_bytes(asf.encode("latin-1") if isinstance(asf, str) else asf)
    (tmp_path / f"{name}.amc").write_bytes(amc.encode("latin-1") if isinstance(amc, str) else amc)
    return tmp_path / f"{name}.asf", tmp_path / f"{name}.amc"


def test_tiny_forward_kinematics(tmp_path):
    a, m = _write(tmp_path)
    asf = read_asf(a)
    assert asf.names == ["a", "b", "c"] and asf.length_unit_m == pytest.approx(1.0)
    pos = asf_amc_positions(asf, read_amc(m, asf))  # root, a, b, c ends
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, 3, 3], [3, 3, 3], [1, 3, 3.5]], atol=1e-12)
    # frame 2: the root turns 90 deg about z ((0,1,0) -> (-1,0,0)); b's rx = 90 turns about C x = global y
    # (C = Rz(90)), so R_b = Rz(90) Ry(90): (2,0,0) -> (0,0,-2); c has no dof and follows a
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [-1, 0, 0], [-1, 0, -2], [-1, 0, 0.5]], atol=1e-12)


def test_radians_and_units(tmp_path):
    a, m = _write(
        tmp_path,
        ASF.replace("length 0.0254", "length 0.45").replace("angle deg", "angle rad"),
        AMC.replace(":DEGREES", ":RADIANS")
        .replace("b 90", f"b {np.pi / 2}")
        .replace("0 0 0 0 0 90", f"0 0 0 0 0 {np.pi / 2}"),
    )
    asf = read_asf(a)
    assert asf.length_unit_m == pytest.approx(CMU_UNIT_TO_M)
    # axis angles are read in the ASF's unit: 90 rad is not 90 deg, so compare with the degree file scaled
    ref_a, ref_m = _write(tmp_path, name="ref")
    deg = asf_amc_positions(read_asf(ref_a), read_amc(ref_m, read_asf(ref_a)))
    asf.bones[1].axis = read_asf(ref_a).bones[1].axis
    np.testing.assert_allclose(asf_amc_positions(asf, read_amc(m, asf)), deg * CMU_UNIT_TO_M, atol=1e-12)


def test_latin1_header_is_read(tmp_path):
    amc = b"#!OML:ASF X:\\f\xfcr Bonn\\!DataBase\\Bastian.ASF\r\n" + AMC.replace("\n", "\r\n").encode()
    with pytest.raises(UnicodeDecodeError):
        amc.decode("utf-8")
    a, m = _write(tmp_path, amc=amc)
    assert read_amc(m, read_asf(a)).frames == 2


@needs_hdm05
def test_hdm05_files_with_latin1_headers_are_read():
    folder = REAL / "hdm05_asf_amc" / "bd"
    amc = sorted(folder.glob("*.amc"))[0]
    with pytest.raises(UnicodeDecodeError):
        amc.read_bytes().decode("utf-8")
    x, fps = asf_amc_to_h36m17(folder / "HDM_bd.asf", amc)
    assert fps == 120 and x.shape[1:] == (17, 3) and np.isfinite(x).all()
    thigh = np.median(np.linalg.norm(x[:, 1] - x[:, 2], axis=-1))
    assert 0.37 <= thigh <= 0.44  # metres, from ':units length 0.45'
    upright = np.percentile(np.linalg.norm(x[:, 8] - x[:, 0], axis=-1), 95)  # she bends down: take the upright end
    assert 0.44 <= upright <= 0.56  # pelvis-thorax (H36M about 0.49 m)


@needs_cmu
def test_cmu_01_01_asf_amc_matches_its_bvh_conversion():
    """The same capture in both formats: lower body and spine agree to micrometres in all 2751 frames; the BVH
    drops the 'thorax' bone, so its neck, head and arms sit exactly one thorax bone lower (a rigid shift)."""
    asf = read_asf(CMU / "cmu_asf_amc" / "01.asf")
    x, _ = asf_amc_to_h36m17(None, CMU / "cmu_asf_amc" / "01_01.amc", asf=asf)
    b, _, style = bvh_to_h36m17(CMU / "cmu_bvh_motionbuilder" / "01_01.bvh")  # T-pose frame 0 dropped
    assert style == "motionbuilder" and x.shape == b.shape == (2751, 17, 3)
    lower = [0, 1, 2, 3, 4, 5, 6, 7]  # pelvis, hips, knees, ankles, spine
    assert np.abs(x[:, lower] - b[:, lower]).max() < 10e-6  # metres: within 10 micrometres (measured 5)
    upper = [9, 10, 11, 12, 13, 14, 15, 16]  # neck, head, shoulders, elbows, wrists
    shift = x[:, upper] - b[:, upper]  # (T, 8, 3)
    assert np.abs(shift - shift[:, :1]).max() < 10e-6  # the same vector for every upper joint
    thorax_m = next(bone.length for bone in asf.bones if bone.name == "thorax") * asf.length_unit_m
    np.testing.assert_allclose(np.linalg.norm(shift[:, 0], axis=-1), thorax_m, atol=10e-6)
    assert 0.11 < thorax_m < 0.12  # 2.065 units for subject 01
    # Thorax: ASF = end of 'thorax'; the BVH's Thorax (Neck1) is the end of 'lowerneck' shifted the same way
    pos = asf_amc_positions(asf, read_amc(CMU / "cmu_asf_amc" / "01_01.amc", asf))
    lowerneck = pos[:, 1 + asf.names.index("lowerneck")]
    assert np.abs(lowerneck - shift[:, 0] - b[:, 8]).max() < 10e-6
    assert ASF_TO_H36M[8] == "thorax"


@needs_cmu
def test_cmu_11_01_is_a_plausible_body():
    x, _ = asf_amc_to_h36m17(CMU / "cmu_asf_amc" / "11.asf", CMU / "cmu_asf_amc" / "11_01.amc")
    assert x.shape == (597, 17, 3)
    assert np.all(x[:, 10, 1] > x[:, 0, 1])  # head above the pelvis (Y up)
    lengths = np.linalg.norm(np.diff(x[:, [1, 2, 3]], axis=1), axis=-1)
    assert np.ptp(lengths, axis=0).max() < 1e-9  # rigid bones


# ------------------------------------------------------------------------------------------ bad input
def _bad(tmp_path, asf=ASF, amc=AMC):
    a, m = _write(tmp_path, asf, amc)
    return a, m


@pytest.mark.parametrize(
    "old,new,pattern",
    [
        (":units\n  mass 1.0\n  length 0.0254\n  angle deg\n", "", r"t\.asf: no ':units' section"),
        ("  length 0.0254\n", "", r"t\.asf, line 3: ':units' has no 'length'"),
        ("  length 0.0254\n", "  length -1\n", r"t\.asf, line 5: units length '-1'"),
        ("    root a\n", "    ghost a\n", r"t\.asf, line 41: hierarchy names an unknown parent 'ghost'"),
        ("    a b c\n", "    a b c\n    b a\n", r"t\.asf, line 43: bone 'a' gets a second parent"),
        ("    root a\n    a b c\n", "    root c\n    a b\n    b a\n", r"t\.asf, line 4[23]: the hierarchy has a cycle"),
        ("    a b c\n", "    a b c zz\n", r"t\.asf, line 42: hierarchy names an unknown bone 'zz'"),
        ("    dof rx\n", "    dof rx tx\n", r"t\.asf, line 30: dof \['tx'\]"),
        ("     direction 1 0 0\n", "     direction 1 nan 0\n", r"t\.asf, line 27: direction must be 3 finite"),
        ("  end\n  begin\n     id 3", "  begin\n     id 3", r"t\.asf, line 31: 'begin' inside bone 'b'"),
    ],
)
def test_bad_asf_names_file_and_line(tmp_path, old, new, pattern):
    assert old in ASF
    a, _ = _bad(tmp_path, asf=ASF.replace(old, new, 1))
    with pytest.raises(ValueError, match=pattern):
        read_asf(a)


@pytest.mark.parametrize(
    "amc,pattern",
    [
        (
            AMC[: AMC.rindex("b 90")],
            r"t\.amc, line 8: frame 2 has 2 bone lines, expected 3.*missing \['b'\].*truncated",
        ),
        (
            AMC.replace("a 0 0 0\nb 0\n", "b 0\n"),
            r"t\.amc, line 4: frame 1 has 2 bone lines, expected 3 \(missing \['a'\]",
        ),
        (AMC.replace("b 90", "b nan"), r"t\.amc, line 11: bone 'b' in frame 2 has a non-finite value \(nan\)"),
        (AMC.replace("b 90", "b 90 4"), r"t\.amc, line 11: bone 'b' has 2 values, expected 1 \(its dof"),
        (AMC.replace("a 0 0 0\nb 0", "a 0 0\nb 0"), r"t\.amc, line 6: bone 'a' has 2 values, expected 3"),
        (AMC.replace("b 90", "b x9"), r"t\.amc, line 11: bone 'b': 'x9' is not a number"),
        (AMC.replace("\n2\n", "\n3\n"), r"t\.amc, line 8: frame 3 follows frame 1"),
        (
            AMC.replace("a 0 0 0\nb 0", "a 0 0 0\nc 0"),
            r"t\.amc, line 4: frame 1 lists bones \['root', 'a', 'c'\].*without dof in the ASF: \['c'\]",
        ),
        (":DEGREES\n", r"t\.amc: no motion frames"),
    ],
)
def test_bad_amc_names_file_and_line(tmp_path, amc, pattern):
    a, m = _bad(tmp_path, amc=amc)
    with pytest.raises(ValueError, match=pattern):
        read_amc(m, read_asf(a))


def test_a_skeleton_without_the_h36m_bones_is_refused(tmp_path):
    a, m = _write(tmp_path)
    with pytest.raises(ValueError, match=r"t\.asf: the skeleton lacks bones needed for H36M-17"):
        asf_amc_to_h36m17(a, m)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.asf does not exist"):
        read_asf(tmp_path / "nope.asf")


# --------------------------------------------------------------------------------- property-based
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.floats(0, 1),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(
                list("0123456789.- ") + ["nan", "inf", "\n", "a", "b", "root", ":RADIANS", "1e400", "\xe9"]
            ),
        ),
        max_size=5,
    ),
)
def test_random_truncation_and_edits_of_the_amc(tmp_path, cut, edits):
    text = mangle(AMC, cut, edits)
    a, m = _write(tmp_path, amc=text)
    asf = read_asf(a)
    try:
        amc = read_amc(m, asf)
    except ValueError as exc:
        assert str(m) in str(exc)
        return
    pos = asf_amc_positions(asf, amc)
    assert np.isfinite(pos).all() and pos.shape == (amc.frames, 4, 3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.floats(0, 1),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(
                list("0123456789.- ") + ["nan", "\n", "a", "b", "root", "begin", "end", ":units", "dof", "\xfc"]
            ),
        ),
        max_size=5,
    ),
)
def test_random_truncation_and_edits_of_the_asf(tmp_path, cut, edits):
    text = mangle(ASF, cut, edits)
    a, _ = _write(tmp_path, asf=text)
    try:
        asf = read_asf(a)
    except ValueError as exc:
        assert str(a) in str(exc)
        return
    assert asf.bones and all(b.parent < k for k, b in enumerate(asf.bones))  # parents first
    assert np.isfinite(asf.length_unit_m) and asf.length_unit_m > 0


angles = st.floats(-360, 360, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    root=st.lists(angles, min_size=6, max_size=6),
    a=st.lists(angles, min_size=3, max_size=3),
    b=angles,
    axis=st.lists(angles, min_size=3, max_size=3),
)
def test_forward_kinematics_keeps_bone_lengths_and_ignores_axis_at_rest(tmp_path, root, a, b, axis):
    text = AMC + "3\nroot {}\na {}\nb {}\n4\nroot 0 0 0 0 0 0\na 0 0 0\nb 0\n".format(
        " ".join(map(str, root)), " ".join(map(str, a)), b
    )
    p, m = _write(tmp_path, asf=ASF.replace("axis 0 0 90 XYZ", "axis {} {} {} ZXY".format(*axis)), amc=text)
    asf = read_asf(p)
    pos = asf_amc_positions(asf, read_amc(m, asf))
    lengths = np.linalg.norm(pos[:, 1:] - pos[:, [0, 1, 1]], axis=-1)  # a from root, b and c from a
    np.testing.assert_allclose(lengths, np.broadcast_to([1, 2, 0.5], lengths.shape), atol=1e-9)
    # with every motion value zero, C M C^-1 = I whatever the axis: the rest pose
    np.testing.assert_allclose(pos[3], [[0, 0, 0], [0, 1, 0], [2, 1, 0], [0, 1, 0.5]], atol=1e-9)
