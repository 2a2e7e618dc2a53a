"""StickActions: a procedural action-recognition dataset of 2D stick figures, in the UCF101 layout.

Twelve classes, four of them pairs that are each other played backwards (only models that use
frame order can separate them) and one pair that a horizontal flip swaps. Every video comes
with the figure's joints per frame. The dataset card is ``datasets/stickactions.md``.

- :mod:`.figure`: proportions, poses as joint angles, forward kinematics, drawing;
- :mod:`.actions`: one motion per class, and the class lists;
- :mod:`.scene`: actor groups, backgrounds, camera, light, noise, occluders, a second actor;
- :mod:`.presets`: ``smoke``, ``default``, ``hard``;
- :mod:`.generate`: the resumable, parallel writer behind ``hybridvid data synth``.

Example::

    from hybridvid_lib.data.synth import generate_stickactions, synthesize_clip
    summary = generate_stickactions("datasets/stickactions", preset="default", seed=0)
    frames, skeleton = synthesize_clip("StandUp", preset="default", seed=0)  # one clip, nothing written
"""

# The video module sets OpenCV's log level, which only works before cv2 is first imported.
import hybridvid_lib.data.video  # noqa: F401,I001
from hybridvid_lib.data.synth.actions import CLASSES, MIRROR_PAIRS, REVERSE_PAIRS
from hybridvid_lib.data.synth.generate import (
    METADATA_NAME, VERSION, generate_stickactions, group_folds, skeleton_path, synthesize_clip, video_relpath,
)
from hybridvid_lib.data.synth.presets import PRESETS, StickPreset, get_preset

__all__ = [
    "CLASSES", "MIRROR_PAIRS", "REVERSE_PAIRS", "PRESETS", "StickPreset", "get_preset",
    "METADATA_NAME", "VERSION", "generate_stickactions", "group_folds", "skeleton_path",
    "synthesize_clip", "video_relpath",
]
