"""Skeleton GCN: normalised adjacency, reversed joint order, one-hop message passing."""

import numpy as np
import pytest
import torch

from mdtf_lite.models.gcn import (
    JointDepthwiseConv,
    SkeletonGCN,
    normalized_adjacency,
    reversed_order,
    skeleton_adjacency,
)
from mdtf_lite.skeleton import BONES, NUM_JOINTS, adjacency


def test_normalized_adjacency_entries():
    a = skeleton_adjacency()
    deg = adjacency().sum(1)
    for p, c in BONES:
        assert a[p, c] == pytest.approx(1 / np.sqrt(deg[p] * deg[c]))
    assert np.allclose(a, a.T) and np.all(np.diag(a) == 0)
    assert np.count_nonzero(a) == 2 * len(BONES)
    eig = np.linalg.eigvalsh(a)
    assert eig.max() == pytest.approx(1.0)  # the Perron eigenvalue of D^-1/2 A D^-1/2 is exactly 1
    assert eig.min() >= -1 - 1e-12


def test_reversed_adjacency_is_the_reindexed_skeleton():
    rev = skeleton_adjacency(reverse=True)
    fwd = skeleton_adjacency()
    j = NUM_JOINTS - 1
    for p, c in BONES:
        assert rev[j - p, j - c] == fwd[p, c] > 0
    assert not np.allclose(rev, fwd)  # the skeleton is not symmetric under j -> 16 - j
    assert reversed_order()[0] == 16


def test_normalized_adjacency_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        normalized_adjacency(np.ones((3, 4)))
    with pytest.raises(ValueError, match="symmetric"):
        normalized_adjacency(np.triu(np.ones((3, 3))))
    isolated = normalized_adjacency(np.zeros((2, 2)))
    assert np.all(isolated == 0)


def test_gcn_passes_messages_one_hop_along_bones():
    torch.manual_seed(0)
    gcn = SkeletonGCN(8, skeleton_adjacency()).eval()  # eval: BN is per joint, so joints do not mix via BN
    x = torch.randn(1, NUM_JOINTS, 8)
    base = gcn(x)
    x2 = x.clone()
    x2[0, 8] += 1.0  # perturb the thorax
    changed = ((gcn(x2) - base).abs().sum(-1)[0] > 1e-6).nonzero().flatten().tolist()
    assert changed == [7, 8, 9, 11, 14]  # the thorax itself and its skeletal neighbours only


def test_gcn_reversed_equals_forward_on_reversed_sequence():
    torch.manual_seed(0)
    fwd = SkeletonGCN(8, skeleton_adjacency()).eval()
    bwd = SkeletonGCN(8, skeleton_adjacency(reverse=True)).eval()
    bwd.load_state_dict(fwd.state_dict())
    with torch.no_grad():  # BN's per-joint statistics must be reversed too
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bwd.bn, name).copy_(getattr(fwd.bn, name).flip(0))
    x = torch.randn(3, NUM_JOINTS, 8)
    assert torch.allclose(bwd(x.flip(1)).flip(1), fwd(x), atol=1e-6)


def test_gcn_shape_errors():
    gcn = SkeletonGCN(8, skeleton_adjacency())
    with pytest.raises(ValueError, match="J=17"):
        gcn(torch.randn(2, 16, 8))


def test_depthwise_conv_sees_index_neighbours():
    torch.manual_seed(0)
    conv = JointDepthwiseConv(4).eval()
    x = torch.randn(1, NUM_JOINTS, 4)
    x2 = x.clone()
    x2[0, 8] += 1.0
    changed = ((conv(x2) - conv(x)).abs().sum(-1)[0] > 1e-6).nonzero().flatten().tolist()
    assert changed == [7, 8, 9]
