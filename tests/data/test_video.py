import numpy as np
import pytest

from hybridvid_lib.data.video import (
    count_frames,
    is_readable,
    probe_video,
    read_video,
    resize_short_side,
    write_video,
)
from hybridvid_lib.errors import VideoDecodeError


@pytest.mark.parametrize("ext", [".avi", ".mp4", ".mkv"])
def test_write_then_read_roundtrip(tmp_path, make_video, ext):
    path = make_video(tmp_path / f"clip{ext}", num_frames=10, height=48, width=64)
    frames = read_video(path)
    assert frames.shape == (10, 48, 64, 3) and frames.dtype == np.uint8
    # The yellow square (RGB 230, 200, 40) stays yellow: channels are RGB, not BGR.
    y, x = np.unravel_index(np.argmax(frames[0].sum(-1)), frames.shape[1:3])
    r, g, b = frames[0, y, x].astype(int)
    assert r > b + 100 and g > b + 100


def test_read_with_resize_step_and_limit(tmp_path, make_video):
    path = make_video(tmp_path / "c.avi", num_frames=12, height=48, width=64)
    frames = read_video(path, short_side=24, step=2, max_frames=4)
    assert frames.shape == (4, 24, 32, 3)


def test_truncated_file_counts_frames_by_reading(tmp_path, make_video):
    path = make_video(tmp_path / "c.avi", num_frames=40, height=48, width=64)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    info = probe_video(path, count=True)
    decoded = count_frames(path)
    assert info.readable and info.frames_counted
    assert 0 < decoded < 40 and info.num_frames == decoded
    assert len(read_video(path)) == decoded


@pytest.mark.parametrize("content", [b"", b"this is not a video\n"])
def test_broken_files_raise_one_clear_error(tmp_path, content):
    path = tmp_path / "bad.avi"
    path.write_bytes(content)
    assert not is_readable(path)
    assert count_frames(path) == 0
    with pytest.raises(VideoDecodeError, match="Cannot open .*bad.avi"):
        read_video(path)


def test_missing_file(tmp_path):
    with pytest.raises(VideoDecodeError, match="not found"):
        read_video(tmp_path / "nope.avi")
    assert probe_video(tmp_path / "nope.avi").reason.startswith("Video file not found")


def test_write_rejects_wrong_input(tmp_path):
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        write_video(tmp_path / "a.avi", np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="codec"):
        write_video(tmp_path / "a.gif", np.zeros((2, 8, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_resize_short_side_keeps_aspect():
    out = resize_short_side(np.zeros((60, 80, 3), np.uint8), 30)
    assert out.shape == (30, 40, 3)
