"""Plotly figures (pure functions returning ``go.Figure``) and ipywidgets viewers of skeletons.

    setup_notebook_plotting()          once per notebook: figures as plotly JSON (no library in the notebook)
    skeleton_figure(pose)              static 3D skeleton(s), camera frame drawn upright (x, z, -y)
    skeleton_2d_figure(keypoints)      static 2D skeleton(s), image orientation
    skeleton_animation(poses)          3D animation: play/pause + frame slider, fixed axes, capped frames
    overlay_figure(pred, gt)           prediction over ground truth, MPJPE in the title
    side_by_side_figure(kp2d, poses)   2D input beside the 3D skeleton(s), animated together
    skeleton_viewer(poses, kp2d)       clip viewer: plays in the browser (plotly frames), view and joint pickers

The viewers (``skeleton_viewer`` here, ``data_views.CameraViewer``) share ``animated.AnimatedViewer``: a
plain figure with capped plotly frames in an ``ipywidgets.Output``, so play runs client-side, in exported
HTML too; pickers and ``show_frame(t)`` re-render from Python.  Topic views live beside these
(``data_views``, ``bone_views``) and are imported from their modules.
"""

from mdtf_lite.viz.notebook import setup_notebook_plotting
from mdtf_lite.viz.skeleton import (
    overlay_figure,
    side_by_side_figure,
    skeleton_2d_figure,
    skeleton_animation,
    skeleton_figure,
)
from mdtf_lite.viz.widgets import SkeletonViewer, skeleton_viewer

__all__ = [
    "setup_notebook_plotting",
    "skeleton_figure",
    "skeleton_2d_figure",
    "skeleton_animation",
    "overlay_figure",
    "side_by_side_figure",
    "SkeletonViewer",
    "skeleton_viewer",
]
