"""Issue 12, lifting side (cases 7 and 15) and property-based tests of the COCO path: any document gives
either a finite result or a ``ValueError``/``FileNotFoundError`` -- never another exception, never NaN."""

import json
import time
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdtf_lite.lift import lift_sequence, parse_coco_keypoints, read_coco_keypoints, to_model_inputs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _kp(seed=0, score=0.9):
    rng = np.random.default_rng(seed)
    return [[float(x), float(y), score] for x, y in rng.uniform(100, 900, size=(17, 2))]


# ------------------------------------------------------------------- case 7: COCO results lists
def test_coco_results_list_with_two_people_per_image_is_refused():
    results = [
        {"image_id": i, "category_id": 1, "keypoints": sum(_kp(i * 2 + p), []), "score": 0.8}
        for i in range(4)
        for p in range(2)
    ]
    with pytest.raises(ValueError, match="image_id 0 has 2 detections.*COCO results list"):
        parse_coco_keypoints(results, image_size=(1000, 1000))
    one = [r for k, r in enumerate(results) if k % 2 == 0]  # one person per image: image_id is the frame
    kp = parse_coco_keypoints(one, image_size=(1000, 1000))
    assert len(kp) == 4 and list(kp.frame_ids) == [0, 1, 2, 3]


def test_per_frame_image_sizes_are_used_and_checked():
    frames = [{"frame": t, "keypoints": _kp(t), "image_width": 640, "image_height": 480} for t in range(3)]
    kp = parse_coco_keypoints({"frames": frames})
    assert (kp.width, kp.height) == (640.0, 480.0)
    frames[2]["image_width"] = 1280
    with pytest.raises(ValueError, match="different image sizes.*frame 2: 1280 x 480"):
        parse_coco_keypoints({"frames": frames})
    with pytest.raises(ValueError, match="frame 0 says its image is 640 x 480.*file says 1920 x 1080"):
        parse_coco_keypoints({"image_width": 1920, "image_height": 1080, "frames": frames})
    assert parse_coco_keypoints({"frames": frames}, image_size=(1280, 480)).width == 1280.0  # explicit override


# ----------------------------------------------------------- case 15: lift_sequence and huge frame gaps
class _Echo(torch.nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"stride": -1}, "stride must be an integer >= 1"),
        ({"stride": 0}, "stride must be"),
        ({"batch_size": 0}, "batch_size"),
        ({"window": 0}, "window"),
        ({"stride": 1.5}, "stride"),
    ],
)
def test_lift_sequence_refuses_bad_stride_batch_window(kwargs, pattern):
    args = {"window": 5, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        lift_sequence(_Echo(), np.zeros((12, 17, 3), np.float32), **args)


def test_far_apart_frame_ids_are_refused_without_allocating_the_gap():
    doc = {
        "image_width": 100,
        "image_height": 100,
        "frames": [{"frame": 0, "keypoints": _kp(0)}, {"frame": 10**9, "keypoints": _kp(1)}],
    }
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"frames 1\.\.999999999 \(999999999 frames\) have no keypoints"):
        parse_coco_keypoints(doc)
    assert time.perf_counter() - start < 1.0


# ------------------------------------------------------------------------- property-based: COCO path
number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.sampled_from([0, 1, 0.5, -1, 1e308, 2.0]),
)
joint = st.one_of(st.lists(number, min_size=2, max_size=3), number, st.none(), st.text(max_size=3))
keypoints = st.one_of(
    st.lists(joint, min_size=15, max_size=18),
    st.lists(number, min_size=49, max_size=53),
    st.none(),
    st.just([]),
    st.integers(),
)
frame = st.fixed_dictionaries(
    {"keypoints": keypoints},
    optional={
        "frame": st.one_of(st.integers(-2, 40), st.just(10**9), st.text(max_size=2)),
        "image_id": st.integers(0, 5),
        "score": number,
        "image_width": st.one_of(number, st.none()),
        "image_height": st.one_of(number, st.none()),
    },
)
document = st.one_of(
    st.lists(frame, max_size=8),
    st.fixed_dictionaries(
        {"frames": st.one_of(st.lists(frame, max_size=8), st.integers(), st.none())},
        optional={
            "image_width": number,
            "image_height": number,
            "fps": number,
            "image_size": st.lists(number, max_size=3),
        },
    ),
)


def _check(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            kp = call()
        except (ValueError, FileNotFoundError):
            return None
    x = to_model_inputs(kp)
    assert np.isfinite(x).all() and np.isfinite(kp.xy).all() and np.isfinite(kp.score).all()
    assert x.shape == (len(kp), 17, 3) and ((x[..., 2] >= 0) & (x[..., 2] <= 1)).all()
    return kp


@SETTINGS
@given(doc=document, size=st.one_of(st.none(), st.tuples(number, number)))
def test_random_documents_give_finite_inputs_or_value_error(doc, size):
    _check(lambda: parse_coco_keypoints(doc, image_size=size))


def _valid_document(t=5):
    return {"image_width": 1000, "image_height": 800, "frames": [{"frame": i, "keypoints": _kp(i)} for i in range(t)]}


@SETTINGS
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6))
def test_truncated_or_corrupted_files_give_value_error_or_finite_result(tmp_path_factory, cut, flips):
    raw = bytearray(json.dumps(_valid_document()).encode())
    for where, value in flips:
        raw[int(where * (len(raw) - 1))] = value
    raw = raw[: max(1, int(cut * len(raw)))] if cut < 1 else raw
    path = tmp_path_factory.mktemp("kp") / "video.json"
    path.write_bytes(bytes(raw))
    _check(lambda: read_coco_keypoints(path))


@SETTINGS
@given(
    drop=st.sets(st.sampled_from(["image_width", "image_height", "frames"])),
    extra=st.dictionaries(st.text(max_size=6), number, max_size=3),
    frame_keys=st.sets(st.sampled_from(["frame", "keypoints"])),
)
def test_random_key_sets(drop, extra, frame_keys):
    doc = _valid_document()
    for key in drop:
        doc.pop(key)
    doc.update({k: v for k, v in extra.items() if k not in doc})
    for f in doc.get("frames", []):
        for key in {"frame", "keypoints"} - frame_keys:
            f.pop(key)
    _check(lambda: parse_coco_keypoints(doc))
