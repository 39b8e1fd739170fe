"""Scores per subject group: the default dataset's procedural test subjects and real test people apart.

    groups = load_groups("test", frames=27, max_clips=512)           # {"procedural": ds, "real": ds}
    scores = evaluate_groups(model, groups)                            # {"procedural": result, "real": result}
    print(groups_table({"MDTF": scores, "MLP": evaluate_groups(mlp, groups)}))
    by_group(evaluate_model(model, mixed_clips), mixed_clips)         # one mixed set, re-summarised per group

Each group is scored on its own (per action, then over its actions, as ``evaluate_model``): a mean over
both would weigh the groups by their clip counts and hide the gap between procedural and real motion.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.data.sources import load_clips, subject_groups

from .evaluate import evaluate_model
from .protocols import summarise_errors

__all__ = ["load_groups", "evaluate_groups", "by_group", "groups_table"]


def load_groups(split: str = "test", subjects=None, **load_kwargs) -> dict:
    """One ``ClipDataset`` per subject group of ``split`` (``data.subject_groups``), loaded with ``load_kwargs``.

    Args:
        subjects: None (every subject of each group) or a list: each group keeps only these, groups left
            empty are dropped (``["S9", "CMU01", "HDMdg"]``: one procedural subject, both real test people).
        load_kwargs: ``load_clips`` arguments (source, frames, keypoints, target, max_clips per group, ...).
    Returns: ``{group: ClipDataset}`` in the dataset's group order.
    """
    groups = subject_groups(load_kwargs.get("source", "default"), split)
    if subjects is not None:
        groups = {g: [s for s in (subs or subjects) if s in set(subjects)] for g, subs in groups.items()}
        groups = {g: subs for g, subs in groups.items() if subs}
        if not groups:
            raise ValueError(f"none of the subjects {list(subjects)} is in the {split!r} split")
    return {g: load_clips(split=split, subjects=subs, **load_kwargs) for g, subs in groups.items()}


def evaluate_groups(model, groups: dict, **kwargs) -> dict:
    """``evaluate_model(model, ds, **kwargs)`` for each group's dataset: ``{group: result}``."""
    return {g: evaluate_model(model, ds, **kwargs) for g, ds in groups.items()}


def by_group(result: dict, ds, split: str = "test") -> dict:
    """An ``evaluate_model`` result on a dataset that mixes groups, summarised per subject group (no new
    predictions): ``{group: summarise_errors output ("p1_mm", "p2_mm", "per_action_p1", ...)}``; groups
    without a clip in ``ds`` are left out.  ``ds.source`` names the dataset (``data.subject_groups``)."""
    subjects = np.asarray(ds.meta["subject"])
    actions = np.asarray(ds.meta["action"])
    out = {}
    for g, members in subject_groups(ds.source or "default", split).items():
        sel = np.ones(len(subjects), bool) if members is None else np.isin(subjects, members)
        if sel.any():
            errors = {k: v[sel] for k, v in result["errors"].items()}
            out[g] = summarise_errors(errors, actions[sel], result["valid"][sel])
    return out


def groups_table(scores: dict) -> str:
    """Markdown table of P1 / P2 (mm): a row per model, two columns per group.

    ``scores``: model name -> ``evaluate_groups`` output (or any dict group -> {"p1_mm", "p2_mm"}).
    """
    groups = list(dict.fromkeys(g for per in scores.values() for g in per))
    lines = ["| model | " + " | ".join(f"{g} P1 | {g} P2" for g in groups) + " |", "|---|" + "---|---|" * len(groups)]
    for name, per in scores.items():
        cells = [f"{per[g]['p1_mm']:.1f} | {per[g]['p2_mm']:.1f}" if g in per else "- | -" for g in groups]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
