"""Drawing on video frames with OpenCV: skeletons over frames, frames enlarged for display.

Frames are ``uint8`` RGB arrays; functions return new arrays and never change their input.
"""

from __future__ import annotations

import cv2
import numpy as np

from hybridvid_lib.data.skeletons import SkeletonGraph


def enlarge(frame: np.ndarray, scale: int) -> np.ndarray:
    """``(H, W, 3)`` -> ``(H*scale, W*scale, 3)`` with nearest-neighbour pixels (small frames stay crisp)."""
    if scale < 1:
        raise ValueError(f"scale must be a whole number >= 1; got {scale}.")
    if scale == 1:
        return frame.copy()
    h, w = frame.shape[:2]
    return cv2.resize(frame, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)


def draw_skeleton(
    frame: np.ndarray,
    joints: np.ndarray,
    graph: SkeletonGraph,
    *,
    scale: float = 1.0,
    min_confidence: float = 0.5,
    bone_color: tuple[int, int, int] = (255, 255, 255),
    joint_color: tuple[int, int, int] = (255, 64, 64),
) -> np.ndarray:
    """Draw one pose over one frame.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB (already enlarged by ``scale`` if the joints are not).
        joints: ``(J, 3)`` float: x pixel, y pixel, confidence (the StickActions skeleton format), or
            ``(J, 3, M)`` for ``M`` persons (all are drawn; an empty slot has confidence 0).
        graph: the skeleton graph whose ``edges`` are drawn as bones.
        scale: factor from joint coordinates to ``frame`` pixels (the ``enlarge`` factor).
        min_confidence: joints below it (hidden or outside the frame) and their bones are not drawn.

    Returns:
        A new ``(H, W, 3)`` uint8 frame.
    """
    joints = np.asarray(joints, dtype=np.float32)
    if joints.ndim == 3 and joints.shape[0] == graph.num_joints:  # (J, 3, M): every person in turn
        out = frame
        for person in range(joints.shape[2]):
            out = draw_skeleton(out, joints[:, :, person], graph, scale=scale, min_confidence=min_confidence,
                                bone_color=bone_color, joint_color=joint_color)
        return np.ascontiguousarray(out).copy() if out is frame else out
    if joints.ndim != 2 or joints.shape[0] != graph.num_joints or joints.shape[1] < 2:
        raise ValueError(
            f"draw_skeleton expects joints of shape ({graph.num_joints}, 3) or ({graph.num_joints}, 3, persons) "
            f"for graph {graph.name!r}; "
            f"got {joints.shape}."
        )
    out = np.ascontiguousarray(frame).copy()
    visible = joints[:, 2] >= min_confidence if joints.shape[1] > 2 else np.ones(len(joints), bool)
    points = np.round(joints[:, :2] * scale).astype(int)
    thickness = max(1, round(scale))
    for i, j in graph.edges:
        if visible[i] and visible[j]:
            cv2.line(out, tuple(points[i]), tuple(points[j]), bone_color, thickness, cv2.LINE_AA)
    for k in np.flatnonzero(visible):
        cv2.circle(out, tuple(points[k]), thickness, joint_color, -1, cv2.LINE_AA)
    return out
