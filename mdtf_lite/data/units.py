"""Unit checks where 3D files are read: bone lengths must look like a human body in metres.

A 3D file in millimetres read as metres (or the reverse) trains a model on targets 1000x off without
any error; the bone lengths give the unit away.  ``check_metres`` compares the summed median bone
lengths of a sequence (T, 17, 3) with the typical H36M skeleton (``TYPICAL_BONE_LENGTH_MM``, about
3.9 m of bones): a ratio within ``RATIO_RANGE`` (children to very tall adults, other mocap
skeletons) passes; anything else is refused with the likely unit named.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.skeleton import BONES, TYPICAL_BONE_LENGTH_MM

__all__ = ["check_metres", "skeleton_scale", "RATIO_RANGE"]

RATIO_RANGE = (0.4, 2.5)
_TYPICAL_M = float(np.sum([TYPICAL_BONE_LENGTH_MM[c] for _, c in BONES])) / 1000.0


def skeleton_scale(joints) -> float:
    """Summed median bone length of ``joints`` (T, 17, 3) divided by the typical skeleton's (in metres).

    At most 256 evenly spaced frames are used (the check is for units, not for precision).
    """
    x = np.asarray(joints, dtype=np.float64)
    if len(x) > 256:
        x = x[np.linspace(0, len(x) - 1, 256).astype(int)]
    lengths = [np.median(np.linalg.norm(x[:, c] - x[:, p], axis=-1)) for p, c in BONES]
    return float(np.sum(lengths)) / _TYPICAL_M


def check_metres(joints, path, key: str) -> None:
    """Raise ``ValueError`` naming ``path``/``key`` unless the 3D joints (T, 17, 3) look like metres."""
    ratio = skeleton_scale(joints)
    if RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1] or not np.isfinite(ratio):
        return
    if 400 <= ratio <= 2500:
        unit = "millimetres (divide by 1000)"
    elif 40 <= ratio <= 250:
        unit = "centimetres (divide by 100)"
    elif 15 <= ratio <= 100:
        unit = "inches or mocap units (CMU BVH: multiply by mdtf_lite.data.readers.bvh.CMU_UNIT_TO_M)"
    elif 4e-4 <= ratio <= 2.5e-3:
        unit = "1000x too small: metres where this reader expects millimetres (do not divide by 1000), or kilometres"
    else:
        unit = "an unknown unit, or joints in the wrong order"
    raise ValueError(
        f"{path}: {key} has bones {ratio:.3g}x the length of a typical human skeleton in metres "
        f"(expected {RATIO_RANGE[0]}x..{RATIO_RANGE[1]}x): the 3D values look like {unit}. "
        "mdtf-lite stores 3D joints in metres: convert the file to metres first"
    )
