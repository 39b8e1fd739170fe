"""The skeleton constants are the contract between data, model and metrics: check their invariants."""

import numpy as np
import pytest

from mdtf_lite import skeleton as sk


def test_sizes_and_names():
    assert sk.NUM_JOINTS == len(sk.JOINT_NAMES) == len(sk.PARENTS) == 17
    assert sk.NUM_BONES == len(sk.BONES) == 16
    assert len(set(sk.JOINT_NAMES)) == 17


def test_every_parent_precedes_its_child():
    assert sk.PARENTS[0] == -1
    assert all(0 <= sk.PARENTS[c] < c for c in range(1, 17))
    assert sk.validate_parents(sk.PARENTS) == sk.PARENTS


def test_flip_permutation_is_an_involution_mapping_left_to_right():
    perm = np.array(sk.FLIP_PERMUTATION)
    assert (perm[perm] == np.arange(17)).all()
    for left, right in zip(sk.LEFT_JOINTS, sk.RIGHT_JOINTS):
        assert perm[left] == right and perm[right] == left
        # partners carry mirrored names
        assert sk.JOINT_NAMES[left].replace("l_", "") == sk.JOINT_NAMES[right].replace("r_", "")
    centre = [j for j in range(17) if sk.JOINT_SIDES[j] == "center"]
    assert centre == [0, 7, 8, 9, 10] and all(perm[j] == j for j in centre)


def test_flip_maps_the_parent_tree_onto_itself():
    perm = sk.FLIP_PERMUTATION
    flipped_bones = {(perm[p], perm[c]) for p, c in sk.BONES}
    assert flipped_bones == set(sk.BONES)


def test_adjacency_symmetric_tree_without_self_loops():
    a = sk.adjacency()
    assert (a == a.T).all() and np.trace(a) == 0 and a.sum() == 32
    assert sk.adjacency(self_loops=True).trace() == 17
    # a tree: connected with 16 edges -> the Laplacian has exactly one zero eigenvalue
    lap = np.diag(a.sum(1)) - a
    assert np.sum(np.abs(np.linalg.eigvalsh(lap)) < 1e-9) == 1


def test_reversed_order_adjacency_is_a_permutation_similarity():
    order = tuple(range(16, -1, -1))
    p = np.eye(17)[list(order)]
    assert np.array_equal(sk.adjacency(order=order), p @ sk.adjacency() @ p.T)
    with pytest.raises(ValueError, match="permutation"):
        sk.adjacency(order=(0, 0) + tuple(range(2, 17)))


@pytest.mark.parametrize("bad, msg", [([0, 0, 1], "root"), ([-1, 0, 2], "joint 2"), ([-1, 5, 0], "joint 1")])
def test_validate_parents_rejects_non_trees(bad, msg):
    with pytest.raises(ValueError, match=msg):
        sk.validate_parents(bad)


def test_check_pose_shape():
    sk.check_pose_shape(np.zeros((5, 17, 3)))
    with pytest.raises(ValueError, match=r"\(4, 16, 3\).*17"):
        sk.check_pose_shape(np.zeros((4, 16, 3)))


def test_rest_pose_bone_lengths_and_uprightness():
    pose = sk.rest_pose()
    lengths = [np.linalg.norm(pose[c] - pose[p]) * 1000 for p, c in sk.BONES]
    assert np.allclose(lengths, sk.TYPICAL_BONE_LENGTH_MM[1:])
    assert pose[10, 1] < pose[0, 1] < pose[3, 1]  # head above pelvis above ankles (y points down)
    assert pose[1, 0] < 0 < pose[4, 0]  # facing the camera: right side at negative x


def test_h36m32_mapping_is_increasing_and_in_range():
    idx = sk.H36M32_TO_17
    assert len(idx) == 17 and list(idx) == sorted(idx) and idx[-1] < 32
