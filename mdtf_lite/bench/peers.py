"""Published efficiency and accuracy of MDTF and its peers (Human3.6M, detected 2D, T = 243).

Facts copied from the papers' tables as collected in ``docs/ARCHITECTURE.md`` ("Published results on
Human3.6M"); they are literature values, not measured here.  Notebook 09 sets them
beside the parameter and MAC counts ``mdtf_lite.models`` measures for its own MDTF.

Each row: method, p1_mm (MPJPE, Protocol 1), params_m (millions, None if not reported),
macs_m (MACs per output frame, millions, None if not reported).
"""

from __future__ import annotations

PEERS: tuple[dict, ...] = (
    {"method": "MDTF-Large", "p1_mm": 40.0, "params_m": 4.4, "macs_m": 58.7},
    {"method": "MDTF-Tiny", "p1_mm": 41.7, "params_m": 0.9, "macs_m": 12.8},
    {"method": "PoseMamba-S", "p1_mm": 41.8, "params_m": 0.9, "macs_m": 14.8},
    {"method": "PoseMamba-B", "p1_mm": 40.8, "params_m": 3.4, "macs_m": 57.2},
    {"method": "PoseMamba-L", "p1_mm": 38.1, "params_m": 6.7, "macs_m": 114.8},
    {"method": "MotionAGFormer-B", "p1_mm": 38.4, "params_m": 11.7, "macs_m": 199.0},
    {"method": "MotionBERT (scratch)", "p1_mm": 39.2, "params_m": 42.3, "macs_m": 719.0},
    {"method": "MixSTE (CPN)", "p1_mm": 40.9, "params_m": 33.6, "macs_m": 572.0},
    {"method": "VideoPose3D (CPN)", "p1_mm": 46.8, "params_m": None, "macs_m": None},
)

__all__ = ["PEERS"]
