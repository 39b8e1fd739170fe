"""Evaluation: pose-error metrics, the Human3.6M protocols and MPI-INF-3DHP PCK/AUC.

from mdtf_lite.eval import mpjpe, p_mpjpe, n_mpjpe, mpjve, acceleration_error   # metrics.py
from mdtf_lite.eval import flip_tta, predict, per_action_mean, pose_errors_mm    # protocols.py
from mdtf_lite.eval import evaluate_3dhp, pck, auc                              # mpi3dhp.py
from mdtf_lite.eval import evaluate_model                                       # evaluate.py
from mdtf_lite.eval import load_groups, evaluate_groups, by_group, groups_table  # groups.py
from mdtf_lite.eval import MeanPose, FlatPose, TemporallySmoothed, baseline_scores   # baselines.py

"""

from ..data.geometry import flip_poses
from .baselines import FlatPose, MeanPose, TemporallySmoothed, baseline_scores, gaussian_smooth
from .evaluate import evaluate_model, mm_per_unit
from .groups import by_group, evaluate_groups, groups_table, load_groups
from .metrics import acceleration_error, mpjpe, mpjve, n_mpjpe, p_mpjpe, procrustes_align
from .mpi3dhp import AUC_THRESHOLDS_MM, MPI_TO_H36M, PCK_JOINTS, auc, evaluate_3dhp, joint_errors_mm, pck
from .protocols import (
    MOTIONBERT_EXCLUDED_TAKES,
    action_group,
    flip_tta,
    is_excluded_take,
    per_action_mean,
    pose_errors_mm,
    predict,
    summarise_errors,
)

__all__ = [
    "evaluate_model",
    "mm_per_unit",
    "load_groups",
    "evaluate_groups",
    "by_group",
    "groups_table",
    "MeanPose",
    "FlatPose",
    "TemporallySmoothed",
    "gaussian_smooth",
    "baseline_scores",
    "mpjpe",
    "p_mpjpe",
    "n_mpjpe",
    "mpjve",
    "acceleration_error",
    "procrustes_align",
    "evaluate_3dhp",
    "pck",
    "auc",
    "joint_errors_mm",
    "PCK_JOINTS",
    "MPI_TO_H36M",
    "AUC_THRESHOLDS_MM",
    "flip_poses",
    "flip_tta",
    "predict",
    "action_group",
    "per_action_mean",
    "pose_errors_mm",
    "summarise_errors",
    "is_excluded_take",
    "MOTIONBERT_EXCLUDED_TAKES",
]
