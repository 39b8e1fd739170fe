"""Teaching helpers of notebooks 04/05: receptive fields, joint influence, figures build headlessly."""

import numpy as np
import torch

from mdtf_lite.models.mamba import Mamba
from mdtf_lite.viz.model_plots import (
    adjacency_figure,
    conv_window,
    edges_missed_by_conv,
    influence_figure,
    joint_influence,
    receptive_field_figure,
    skeletal_neighbours,
)


def test_conv_windows_and_missed_edges():
    assert conv_window(14) == [11, 12, 13, 14]
    assert conv_window(14, reverse=True) == [14, 15, 16]
    assert conv_window(1) == [0, 1]
    assert skeletal_neighbours(8) == [7, 9, 11, 14]
    assert edges_missed_by_conv(4) == [(0, 4), (0, 7), (8, 14)]
    assert edges_missed_by_conv(8) == []  # the longest bone in index order spans 7 positions


def test_joint_influence_zero_pattern_of_a_causal_mixer():
    torch.manual_seed(0)
    uni = Mamba(8, bidirectional=False, scan_backend="reference")
    m = joint_influence(uni, torch.randn(1, 17, 8))
    assert m.shape == (17, 17)
    assert np.all(np.triu(m, 1) == 0) and np.all(m[np.tril_indices(17)] > 0)


def test_figures_build():
    fig = adjacency_figure({"a": np.eye(17), "b": np.ones((17, 17))})
    assert len(fig.data) == 2
    fig = receptive_field_figure(14)
    assert all(np.isfinite(np.asarray(t.x, dtype=float)).all() for t in fig.data if t.x is not None)
    assert len(influence_figure({"m": np.ones((17, 17))}).data) == 1
