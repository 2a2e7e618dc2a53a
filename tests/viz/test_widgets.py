import numpy as np
import pytest

from hybridvid_lib.data.skeletons import STICK_FIGURE
from hybridvid_lib.drawing import draw_skeleton, enlarge
from hybridvid_lib.widgets import FramePlayer, encode_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fake_clip(class_name: str, num_frames: int = 5):
    """Frame t is uniformly t * 10 bright; joints on a vertical line, all visible."""
    frames = np.stack([np.full((16, 16, 3), t * 10, np.uint8) for t in range(num_frames)])
    joints = np.zeros((num_frames, STICK_FIGURE.num_joints, 3), np.float32)
    joints[:, :, 0] = 8
    joints[:, :, 1] = np.linspace(2, 14, STICK_FIGURE.num_joints)
    joints[:, :, 2] = 1
    length = {"A": num_frames, "B": num_frames + 3}[class_name]
    if length != num_frames:
        return fake_clip("A", length)
    return frames, joints


def test_slider_shows_the_chosen_frame():
    player = FramePlayer(fake_clip, ["A", "B"], graph=STICK_FIGURE, scale=2)
    assert bytes(player.image.value).startswith(PNG_SIGNATURE)
    assert player.slider.max == player.play.max == 4
    player.slider.value = 3
    assert player.caption.value == "A: frame 4 of 5"
    assert player.render(3).shape == (32, 32, 3) and player.render(3).max() == 30


def test_class_picker_loads_a_new_clip_and_resets_the_slider():
    player = FramePlayer(fake_clip, ["A", "B"], graph=STICK_FIGURE)
    player.slider.value = 2
    player.picker.value = "B"
    assert player.slider.value == 0 and player.slider.max == 7
    assert player.caption.value.startswith("B: frame 1 of 8")


def test_skeleton_box_draws_bones_over_the_frame():
    player = FramePlayer(fake_clip, ["A"], graph=STICK_FIGURE, scale=2)
    plain = player.render(1)
    player.show_skeleton.value = True
    drawn = player.render(1)
    assert (drawn != plain).any()
    # Bones (white) and joints (red) lie on the vertical line x = 8 (16 after enlarging): red channel high.
    assert drawn[10:25, 16, 0].min() > 200


def test_skeleton_box_is_disabled_without_joints():
    player = FramePlayer(lambda name: (fake_clip("A")[0], None), ["A"], graph=STICK_FIGURE)
    assert player.show_skeleton.disabled


def test_bad_clips_get_one_clear_sentence():
    with pytest.raises(ValueError, match=r"load_clip result expects a non-empty uint8 RGB array of shape \(T, H, W, 3\)"):
        FramePlayer(lambda name: (np.zeros((3, 8, 8), np.float32), None), ["A"])
    with pytest.raises(ValueError, match="at least one class"):
        FramePlayer(fake_clip, [])


def test_draw_skeleton_hides_low_confidence_joints():
    frame = np.zeros((20, 20, 3), np.uint8)
    joints = np.zeros((STICK_FIGURE.num_joints, 3), np.float32)
    joints[:, :2] = 10
    assert (draw_skeleton(frame, joints, STICK_FIGURE) == 0).all()
    joints[:, 2] = 1
    assert draw_skeleton(frame, joints, STICK_FIGURE).any()
    assert (frame == 0).all()  # the input is left untouched
    with pytest.raises(ValueError, match=r"\(18, 3\)"):
        draw_skeleton(frame, joints[:5], STICK_FIGURE)


def test_enlarge_and_png():
    frame = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = enlarge(frame, 3)
    assert big.shape == (6, 6, 3) and (big[:3, :3] == frame[0, 0]).all()
    assert encode_png(big).startswith(PNG_SIGNATURE)


def test_draw_skeleton_draws_every_person_of_a_two_person_pose():
    frame = np.zeros((20, 20, 3), np.uint8)
    pose = np.zeros((STICK_FIGURE.num_joints, 3, 2), np.float32)
    pose[:, 0, 0], pose[:, 1, 0], pose[:, 2, 0] = 4, np.linspace(2, 17, STICK_FIGURE.num_joints), 1
    drawn_one = draw_skeleton(frame, pose, STICK_FIGURE)  # the second slot is empty (confidence 0)
    assert drawn_one[:, 4].any() and not drawn_one[:, 15].any()
    pose[..., 1] = pose[..., 0]
    pose[:, 0, 1] = 15
    drawn_two = draw_skeleton(frame, pose, STICK_FIGURE)
    assert drawn_two[:, 4].any() and drawn_two[:, 15].any() and (frame == 0).all()
