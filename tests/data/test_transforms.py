import numpy as np
import pytest

from hybridvid_lib.data.flow import dequantize_flow, quantize_flow
from hybridvid_lib.data.skeletons import mirror_joints
from hybridvid_lib.data.transforms import (
    center_crop,
    center_crop_offsets,
    flip_clip,
    flip_flow,
    from_unit_range,
    hflip,
    random_crop,
    resize_short_side,
    to_unit_range,
)

# Classes 0 / 1 are a mirror pair (PointLeft / PointRight); class 2 (Wave) is symmetric.
MIRROR_MAP = [1, 0, 2]


def position_clip(num_frames=3, height=10, width=14):
    """``(T, H, W, 2)`` int32 whose pixel (y, x) holds (y, x): crops can be located exactly."""
    ys, xs = np.mgrid[:height, :width]
    return np.broadcast_to(np.stack([ys, xs], -1), (num_frames, height, width, 2)).astype(np.int32)


# --------------------------------------------------------------------------- resize and crop
def test_resize_short_side_clip_and_frame():
    clip = np.zeros((4, 48, 64, 3), np.uint8)
    assert resize_short_side(clip, 24).shape == (4, 24, 32, 3)
    assert resize_short_side(clip[0], 24).shape == (24, 32, 3)
    tall = np.zeros((2, 90, 30, 1), np.uint8)  # one channel survives (cv2.resize would drop it)
    assert resize_short_side(tall, 60).shape == (2, 180, 60, 1)
    assert resize_short_side(clip[:0], 24).shape == (0, 24, 32, 3)
    with pytest.raises(ValueError, match="positive"):
        resize_short_side(clip, 0)


def test_center_crop_takes_the_middle_with_extra_pixel_bottom_right():
    clip = position_clip(height=10, width=15)
    crop = center_crop(clip, 6)
    assert crop.shape == (3, 6, 6, 2)
    assert center_crop_offsets(10, 15, 6) == (2, 4)
    assert crop[0, 0, 0].tolist() == [2, 4] and crop[0, -1, -1].tolist() == [7, 9]
    assert center_crop(clip[0], 6).shape == (6, 6, 2)


def test_random_crop_is_the_same_for_all_frames_and_covers_every_position():
    clip = position_clip(height=6, width=7)
    corners = set()
    rng = np.random.default_rng(0)
    for _ in range(300):
        crop = random_crop(clip, 4, rng)
        assert crop.shape == (3, 4, 4, 2)
        assert (crop == crop[:1]).all()  # one crop for the whole clip
        top, left = crop[0, 0, 0].tolist()
        assert np.array_equal(crop[0], clip[0, top:top + 4, left:left + 4])
        corners.add((top, left))
    assert corners == {(t, x) for t in range(3) for x in range(4)}
    assert np.array_equal(random_crop(clip, 4, 7), random_crop(clip, 4, 7))  # a seed repeats


@pytest.mark.parametrize("crop", [center_crop, lambda f, s: random_crop(f, s, 0)])
def test_crop_larger_than_frame_is_a_clear_error(crop):
    with pytest.raises(ValueError, match=r"at least 16x16 pixels; got 10x14"):
        crop(position_clip(), 16)


# --------------------------------------------------------------------------- value range
def test_unit_range_endpoints_and_round_trip():
    pixels = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    unit = to_unit_range(pixels)
    assert unit.dtype == np.float32
    assert unit[0] == -1.0 and unit[-1] == 1.0
    assert abs(unit[3] - 0.0039) < 1e-3
    assert np.array_equal(from_unit_range(unit), pixels)
    assert from_unit_range(np.array([-2.0, 2.0])).tolist() == [0, 255]
    with pytest.raises(ValueError, match="uint8"):
        to_unit_range(unit)


# --------------------------------------------------------------------------- flips
def test_hflip_reverses_width_only():
    clip = position_clip(width=5)
    flipped = hflip(clip)
    assert flipped[0, 3, 0].tolist() == [3, 4] and flipped[0, 3, 4].tolist() == [3, 0]
    assert flipped.flags["C_CONTIGUOUS"]


def test_swap_policy_flips_and_swaps_mirror_classes():
    clip = position_clip()
    frames, label, flipped = flip_clip(clip, 0, MIRROR_MAP, "swap")
    assert flipped and label == 1
    assert np.array_equal(frames, clip[:, :, ::-1])
    _, label, flipped = flip_clip(clip, 2, MIRROR_MAP, "swap")
    assert flipped and label == 2


def test_skip_policy_never_flips_mirror_classes_but_flips_others():
    clip = position_clip()
    for label in (0, 1):
        frames, new_label, flipped = flip_clip(clip, label, MIRROR_MAP, "skip")
        assert not flipped and new_label == label and frames is clip
    frames, label, flipped = flip_clip(clip, 2, MIRROR_MAP, "skip")
    assert flipped and label == 2 and np.array_equal(frames, clip[:, :, ::-1])


def test_off_policy_never_flips():
    clip = position_clip()
    rng = np.random.default_rng(0)
    for label in range(3):
        frames, new_label, flipped = flip_clip(clip, label, MIRROR_MAP, "off", rng=rng, probability=1.0)
        assert not flipped and new_label == label and frames is clip


def test_random_flip_happens_about_as_often_as_asked():
    rng = np.random.default_rng(0)
    flips = [flip_clip(position_clip(1), 2, MIRROR_MAP, "swap", rng=rng, probability=0.3)[2]
             for _ in range(1000)]
    assert 0.25 < np.mean(flips) < 0.35


def test_flip_clip_rejects_bad_policy_and_label():
    with pytest.raises(ValueError, match="swap, skip, off"):
        flip_clip(position_clip(), 0, MIRROR_MAP, "random")
    with pytest.raises(ValueError, match="0..2"):
        flip_clip(position_clip(), 3, MIRROR_MAP)


def test_skeleton_flip_follows_the_pixels_of_hflip():
    # The kit's skeleton flip (skeletons.mirror_joints) must move a joint to the column where
    # hflip moves the pixel it sits on, or flipped clips and their joints would disagree.
    frame = np.zeros((1, 5, 9, 1), np.uint8)
    frame[0, 2, 6] = 255
    joint = np.array([[[6.0, 2.0, 1.0]]])
    x = mirror_joints(joint, [0], width=9)[0, 0, 0]
    assert hflip(frame)[0, 2, int(x)] == 255


def test_flip_flow_mirrors_and_negates_dx():
    flow = np.zeros((2, 3, 4, 2), np.float32)
    flow[:, :, 0] = (0.25, -0.5)  # leftmost column moves right and up
    flipped = flip_flow(flow)
    assert flipped.shape == flow.shape
    assert flipped[:, :, -1].tolist() == np.broadcast_to([-0.25, -0.5], (2, 3, 2)).tolist()
    assert np.all(flipped[:, :, :-1] == 0)


def test_flip_flow_of_uint8_codes_matches_flipping_floats():
    values = np.random.default_rng(1).uniform(-1, 1, (2, 5, 6, 2)).astype(np.float32)
    codes = quantize_flow(values)
    assert np.array_equal(flip_flow(codes), quantize_flow(flip_flow(dequantize_flow(codes))))
    with pytest.raises(ValueError, match="float flow or uint8"):
        flip_flow(codes.astype(np.int32))
