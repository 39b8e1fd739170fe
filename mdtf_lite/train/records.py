"""Epoch records in display units: pose errors in millimetres everywhere (the log line ``fit`` prints, the figures).

    format_epoch({"epoch": 3, "train_loss": 0.1, "train_mpjpe": 0.2236, "val_p1_mm": 194.7})
    -> "train_loss 0.1, train_mpjpe_mm 223.6, val_p1_mm 194.7"

No plotting library here: the training loop imports it.
"""

from __future__ import annotations

__all__ = ["METRICS", "METRE_TERMS", "in_display_units", "format_epoch"]

#: epoch-record key -> (panel title, y-axis title, factor from the record's unit to the shown one)
METRICS = {
    "train_loss": ("training loss", "loss (training objective)", 1.0),
    "val_p1_mm": ("validation MPJPE (P1)", "MPJPE (mm)", 1.0),
    "val_p2_mm": ("validation P-MPJPE (P2)", "P-MPJPE (mm)", 1.0),
    "val_accuracy": ("validation theta-class accuracy", "accuracy (%)", 100.0),
}
#: training-loss terms recorded in metres (``train_<term>``), shown in mm
METRE_TERMS = ("mpjpe", "n_mpjpe", "velocity")


def in_display_units(record: dict) -> dict:
    """An epoch record with metre-valued training terms converted to mm (``train_mpjpe`` -> ``train_mpjpe_mm``)."""
    out = {}
    for k, v in record.items():
        term = k[len("train_") :] if k.startswith("train_") else None
        if term in METRE_TERMS and isinstance(v, (int, float)):
            out[f"{k}_mm"] = 1000.0 * v
        else:
            out[k] = v
    return out


def format_epoch(record: dict) -> str:
    """``train_loss 0.1, train_mpjpe_mm 223.6, val_p1_mm 194.7, ...``: one epoch's record, errors in mm."""
    return ", ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in in_display_units(record).items()
        if k != "epoch"
    )
