"""Exercise checkers of notebooks 04/05: the reference answers pass, typical wrong answers fail."""

import numpy as np
import pytest
import torch

from mdtf_lite.course.checks import graph


def test_reference_answers_pass():
    graph.check_normalized_adjacency(graph.reference_normalized_adjacency)
    graph.check_reversed_adjacency(graph.reference_reversed_adjacency)
    graph.check_fusion_gate(graph.reference_fusion_gate)


def test_independent_student_answers_pass():
    def norm(a):
        d = np.diag(1 / np.sqrt(a.sum(1)))
        return d @ a @ d

    def rev(a):
        return np.flip(a, (0, 1))

    def gate(xj, xb, w, b):
        alpha = torch.softmax(torch.cat([xj, xb], -1) @ w.T + b, -1)
        return alpha[..., :1] * xj + alpha[..., 1:] * xb

    graph.check_normalized_adjacency(norm)
    graph.check_reversed_adjacency(rev)
    graph.check_fusion_gate(gate)


def test_wrong_answers_fail():
    with pytest.raises(AssertionError, match="sqrt"):
        graph.check_normalized_adjacency(lambda a: a / a.sum(1, keepdims=True))
    with pytest.raises(AssertionError, match="BOTH"):
        graph.check_reversed_adjacency(lambda a: a[::-1])
    with pytest.raises(AssertionError, match="softmax"):
        graph.check_fusion_gate(lambda xj, xb, w, b: (xj + xb) / 2)
    with pytest.raises(AssertionError, match="softmax"):  # gate weights swapped between the streams
        graph.check_fusion_gate(
            lambda xj, xb, w, b: (lambda a: a[..., 1:] * xj + a[..., :1] * xb)(
                torch.softmax(torch.cat([xj, xb], -1) @ w.T + b, -1)
            )
        )


def test_stub_raises_not_implemented():
    def stub(a):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        graph.check_normalized_adjacency(stub)
