"""Metrics of the Bone Aware Module's theta classification: confusion matrix, accuracy, per-class
precision / recall / F1, macro F1, the majority-class baseline, and the angle error.

Every function scores bone tokens only: token 0 (the root, no bone) is dropped from (..., J) inputs.
Confusion matrices are plain (K, K) count tensors, rows = true class, columns = predicted class, so
a test set is scored batch by batch by summing them:

    cm = sum(confusion_matrix(model(x).argmax(-1), theta_labels(y), K) for x, y, _ in loader)
    stats = metrics_from_confusion(cm)

Glossary (``mdtf_lite``): B batch, T frames, J = 17 joints, K theta classes.
"""

from __future__ import annotations

import math

import torch

__all__ = ["confusion_matrix", "metrics_from_confusion", "bam_metrics", "angle_error_deg", "format_metrics"]


def _classes(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Logits (..., J, K) or classes (..., J) -> classes (..., J), checked against the labels' shape."""
    if pred.is_floating_point():
        if pred.shape[:-1] != labels.shape:
            raise ValueError(
                f"logits {tuple(pred.shape)} must be (..., J, K) with (..., J) = labels {tuple(labels.shape)}"
            )
        return pred.argmax(-1)
    if pred.shape != labels.shape:
        raise ValueError(f"predicted classes {tuple(pred.shape)} and labels {tuple(labels.shape)} differ in shape")
    return pred


def confusion_matrix(
    pred: torch.Tensor, labels: torch.Tensor, num_bins: int | None = None, exclude_root: bool = True
) -> torch.Tensor:
    """Counts of (true, predicted) class pairs over the bone tokens.

    Args:
        pred: logits (..., J, K) or predicted classes (..., J) int.
        labels: (..., J) true classes (``mdtf_lite.bones.theta_labels``).
        num_bins: K; default the logits' last dim (required when ``pred`` holds classes).
        exclude_root: drop token 0 along J (the root carries no bone).
    Returns:
        (K, K) int64, rows = true class, columns = predicted class.
    """
    if num_bins is None:
        if not pred.is_floating_point():
            raise ValueError("num_bins is required when pred holds class indices rather than logits")
        num_bins = pred.shape[-1]
    pred = _classes(pred, labels)
    if exclude_root:
        pred, labels = pred[..., 1:], labels[..., 1:]
    pred, labels = pred.reshape(-1).long(), labels.reshape(-1).long()
    for name, t in (("labels", labels), ("predictions", pred)):
        if t.numel() and (t.min() < 0 or t.max() >= num_bins):
            raise ValueError(f"{name} must lie in 0..{num_bins - 1}, got {int(t.min())}..{int(t.max())}")
    idx = labels * num_bins + pred
    return torch.bincount(idx.cpu(), minlength=num_bins * num_bins).reshape(num_bins, num_bins)


def metrics_from_confusion(cm: torch.Tensor) -> dict:
    """Accuracy, per-class precision/recall/F1, macro F1, support and majority-class rate from a (K, K) matrix.

    Precision of a class never predicted is 0 (and recall of an absent class is 0); the macro F1
    averages the F1 of the classes that occur in the labels or in the predictions.
    """
    cm = torch.as_tensor(cm).double()
    if cm.dim() != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is (K, K), got {tuple(cm.shape)}")
    total = cm.sum()
    if total == 0:
        raise ValueError("empty confusion matrix: no bone tokens were scored")
    tp = cm.diag()
    support, predicted = cm.sum(1), cm.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp_min(1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp_min(1), torch.zeros_like(tp))
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp_min(1e-12), torch.zeros_like(tp))
    present = (support > 0) | (predicted > 0)
    return {
        "accuracy": float(tp.sum() / total),
        "macro_f1": float(f1[present].mean()),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": support.long().tolist(),
        "majority_class": int(support.argmax()),
        "majority_rate": float(support.max() / total),  # accuracy of always guessing the commonest class
        "tokens": int(total),
    }


def bam_metrics(pred: torch.Tensor, labels: torch.Tensor, num_bins: int | None = None) -> dict:
    """All classification metrics for one batch: see :func:`confusion_matrix`, :func:`metrics_from_confusion`.

    Args:
        pred: logits (..., J, K) or classes (..., J); labels: (..., J).  Root token excluded.
    Returns:
        the dict of :func:`metrics_from_confusion` plus ``"confusion"`` ((K, K) nested list).
    """
    cm = confusion_matrix(pred, labels, num_bins)
    out = metrics_from_confusion(cm)
    out["confusion"] = cm.tolist()
    return out


def angle_error_deg(theta_hat: torch.Tensor, theta: torch.Tensor) -> float:
    """Mean |theta_hat - theta| in degrees over bone tokens (root excluded).  (..., J), (..., J) -> float."""
    if theta_hat.shape != theta.shape:
        raise ValueError(f"theta_hat {tuple(theta_hat.shape)} and theta {tuple(theta.shape)} differ in shape")
    return float((theta_hat[..., 1:] - theta[..., 1:].to(theta_hat)).abs().mean() * (180.0 / math.pi))


def format_metrics(stats: dict) -> str:
    """A short human-readable table of :func:`metrics_from_confusion` output."""
    lines = [
        f"accuracy {stats['accuracy']:.3f}   macro F1 {stats['macro_f1']:.3f}   "
        f"majority-class rate {stats['majority_rate']:.3f} (class {stats['majority_class']})   "
        f"tokens {stats['tokens']}",
        "class  support  precision  recall    F1",
    ]
    for k, (s, p, r, f) in enumerate(zip(stats["support"], stats["precision"], stats["recall"], stats["f1"])):
        lines.append(f"{k:5d}  {s:7d}  {p:9.3f}  {r:6.3f}  {f:5.3f}")
    return "\n".join(lines)
