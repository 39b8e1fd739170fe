"""Videos of a VP3D-array dataset: one ``Video`` per subject x action x camera (world 3D -> camera, 2.5D).

Used by ``load_clips`` (``sources.py``) and the CMU reader (``cmu.py``); shapes as in ``clips.py``.
"""

from __future__ import annotations

import numpy as np

from mdtf_lite.data.cameras import h36m_camera
from mdtf_lite.data.clips import Video
from mdtf_lite.data.geometry import pose_25d, world_to_camera
from mdtf_lite.data.layout import Layout

__all__ = ["layout_videos"]


def layout_videos(lay: Layout, subjects, keypoints: str, need_25d: bool = True) -> list[Video]:
    """Videos (one per subject x action x camera) of a VP3D-array dataset; 2D truncated to the 3D length."""
    videos = []
    kp_all = lay.keypoints[keypoints]
    for s in subjects:
        if s not in lay.positions_3d or s not in kp_all:
            have = sorted({x for split in lay.info.get("splits", {}).values() for x in split} | set(lay.positions_3d))
            raise ValueError(
                f"{lay.path}: subject {s!r} is missing (the dataset has {have}); pass subjects=... from that list"
            )
        for action in sorted(lay.positions_3d[s]):
            world = lay.positions_3d[s][action].astype(np.float64)
            views = kp_all[s].get(action)
            if views is None:
                raise ValueError(f"{lay.path}: {s}/{action} has 3D but no {keypoints} 2D keypoints; convert again")
            for c, kp in enumerate(views):
                cam = h36m_camera(lay.camera_subject(s), c)
                n = len(world)
                if len(kp) < n:
                    raise ValueError(
                        f"{lay.path}: {s}/{action} camera {c} has {len(kp)} 2D frames but {n} 3D frames; "
                        "the 2D file must cover the 3D sequence (it may be longer, never shorter)"
                    )
                x_cam = world_to_camera(world, cam)
                p25 = pose_25d(x_cam, cam)[0] if need_25d else None
                factor = x_cam[:, 0, 2] * 1000.0 / cam.focal[0]  # mm per pixel at the root depth (2.5D scale)
                videos.append(
                    Video(
                        keypoints=kp[:n].astype(np.float64),
                        res_w=cam.res_w,
                        res_h=cam.res_h,
                        subject=s,
                        action=action,
                        camera=c,
                        name=f"{s}/{action}/{c}",
                        target_cam=x_cam,
                        pose_25d=p25,
                        factor_25d=factor,
                    )
                )
    return videos
