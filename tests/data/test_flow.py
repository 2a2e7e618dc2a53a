import json
import logging
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from hybridvid_lib.data import array_cache as array_cache_module
from hybridvid_lib.data import flow as flow_module
from hybridvid_lib.data import flow_cache as cache_module
from hybridvid_lib.data.flow import (
    FlowCache,
    compute_flow,
    compute_flow_cache,
    default_flow_cache_dir,
    dequantize_flow,
    flow_arrows,
    flow_colour_wheel,
    flow_to_hsv_image,
    measure_flow_fps,
    quantize_flow,
)
from hybridvid_lib.data.flow_methods import available_flow_methods
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.errors import HybridVidError, VideoDecodeError

SHIFT_PX = 2
MARGIN = 10  # pixels ignored at each border, where content enters or leaves the view


def translating_frames(num_frames=6, height=64, width=64, shift=SHIFT_PX, seed=0):
    """``(T, H, W, 3)`` uint8: a smooth random texture that moves ``shift`` px to the right per frame."""
    rng = np.random.default_rng(seed)
    wide = width + shift * num_frames
    texture = cv2.GaussianBlur(rng.integers(0, 256, (height, wide), dtype=np.uint8), (7, 7), 2.0)
    # A window sliding left over the texture shows content moving right.
    frames = [texture[:, wide - width - t * shift: wide - t * shift] for t in range(num_frames)]
    return np.repeat(np.stack(frames)[..., None], 3, axis=-1)


def record_for(path, relpath):
    return Record.of_video(relpath, path, 0, relpath.split("/")[0], "g01")


# --------------------------------------------------------------------------- compute_flow
@pytest.mark.parametrize("method", available_flow_methods())
def test_rightward_translation_gives_dx_of_shift_over_20(method):
    frames = translating_frames()
    flow = compute_flow(frames, method)
    assert flow.shape == (5, 64, 64, 2) and flow.dtype == np.float32
    assert flow.min() >= -1.0 and flow.max() <= 1.0
    inner = flow[:, MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert inner[..., 0].mean() == pytest.approx(SHIFT_PX / 20, abs=0.01)
    assert abs(inner[..., 1].mean()) < 0.01


def test_leftward_translation_gives_negative_dx():
    frames = translating_frames()[::-1].copy()  # played backwards: the texture moves left
    inner = compute_flow(frames, "dis")[:, MARGIN:-MARGIN, MARGIN:-MARGIN]
    assert inner[..., 0].mean() == pytest.approx(-SHIFT_PX / 20, abs=0.01)


def test_flow_is_clipped_at_20_px_and_scaled(monkeypatch):
    def fake_estimator(method):
        def estimate(prev, nxt):
            out = np.empty(prev.shape + (2,), np.float32)
            out[..., 0], out[..., 1] = 35.0, -10.0  # beyond the clip to the right, half of it upwards
            return out
        return estimate

    monkeypatch.setattr(flow_module, "make_flow_estimator", fake_estimator)
    flow = compute_flow(np.zeros((3, 8, 8, 3), np.uint8), "dis")
    assert flow.shape == (2, 8, 8, 2)
    assert np.all(flow[..., 0] == 1.0)
    assert np.all(flow[..., 1] == -0.5)


def test_one_frame_gives_empty_flow():
    flow = compute_flow(np.zeros((1, 16, 24, 3), np.uint8))
    assert flow.shape == (0, 16, 24, 2) and flow.dtype == np.float32


@pytest.mark.parametrize("frames", [np.zeros((4, 8, 8, 3), np.float32), np.zeros((4, 8, 8), np.uint8)])
def test_compute_flow_rejects_wrong_input(frames):
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        compute_flow(frames)


def test_unknown_method_is_a_value_error():
    with pytest.raises(ValueError, match="dis, farneback, tvl1"):
        compute_flow(translating_frames(), "lucas-kanade")


def test_tvl1_without_contrib_names_the_wheel(monkeypatch):
    monkeypatch.setattr(flow_module, "available_flow_methods", lambda: ["dis", "farneback"])
    with pytest.raises(HybridVidError, match="opencv-contrib-python-headless"):
        compute_flow(translating_frames(), "tvl1")


# --------------------------------------------------------------------------- uint8 encoding
def test_quantize_round_trip_within_one_step():
    values = np.random.default_rng(0).uniform(-1, 1, size=(5, 7, 9, 2)).astype(np.float32)
    codes = quantize_flow(values)
    assert codes.dtype == np.uint8 and codes.shape == values.shape
    back = dequantize_flow(codes)
    assert back.dtype == np.float32
    assert np.abs(back - values).max() <= 0.5 / 127 + 1e-6 < 1 / 127.5


def test_quantize_keeps_zero_and_endpoints_exact_and_clips():
    codes = quantize_flow(np.array([0.0, -1.0, 1.0, -3.0, 3.0], np.float32))
    assert codes.tolist() == [128, 1, 255, 1, 255]
    assert dequantize_flow(codes).tolist() == [0.0, -1.0, 1.0, -1.0, 1.0]
    assert dequantize_flow(np.array([0], np.uint8)).tolist() == [-1.0]


def test_quantize_and_dequantize_reject_wrong_dtypes():
    with pytest.raises(ValueError, match="float"):
        quantize_flow(np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        dequantize_flow(np.zeros(3, np.float32))


# --------------------------------------------------------------------------- pictures
def test_hsv_image_colours_direction_and_speed():
    flow = np.zeros((4, 6, 2), np.float32)
    flow[:2, :, 0] = 0.5  # top half moves right
    image = flow_to_hsv_image(flow)
    assert image.shape == (4, 6, 3) and image.dtype == np.uint8
    assert image[2:].max() == 0  # still pixels are black
    assert image[0, 0].tolist() == [255, 0, 0]  # rightward, fastest: pure red
    half = flow_to_hsv_image(flow, max_magnitude=1.0)
    assert half[0, 0, 0] in (127, 128) and half[0, 0, 1:].max() == 0


def test_colour_wheel_shows_each_offset_in_the_colour_of_that_flow():
    wheel = flow_colour_wheel(41)
    assert wheel.shape == (41, 41, 3) and wheel.dtype == np.uint8
    assert wheel[20, 20].tolist() == [0, 0, 0]  # the centre is still: black
    assert wheel[0, 0].tolist() == [255, 255, 255]  # corners lie outside the disc
    assert wheel[20, 40].tolist() == [255, 0, 0]  # right rim: rightward at full speed, pure red
    # Every rim direction has the colour flow_to_hsv_image gives that motion at full brightness.
    for (row, col), (dx, dy) in {(40, 20): (0.0, 1.0), (20, 0): (-1.0, 0.0), (0, 20): (0.0, -1.0)}.items():
        expected = flow_to_hsv_image(np.array([[[dx, dy]]], np.float32), max_magnitude=1.0)[0, 0]
        assert np.abs(wheel[row, col].astype(int) - expected).max() <= 2  # cartToPolar's angle is approximate
    # Brightness grows with the distance from the centre (speed), half way = half as bright.
    assert wheel[20, 30].max() in (127, 128) and wheel[20, 25].max() < wheel[20, 30].max()
    assert flow_colour_wheel(9, background=0)[0, 0].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="at least 3"):
        flow_colour_wheel(2)


def test_hsv_image_accepts_cache_codes_and_checks_shape():
    codes = quantize_flow(np.full((3, 3, 2), -0.25, np.float32))
    assert flow_to_hsv_image(codes).shape == (3, 3, 3)
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        flow_to_hsv_image(np.zeros((2, 3, 3, 2), np.float32))


def test_flow_arrows_sample_a_grid_in_pixels():
    flow = np.zeros((16, 24, 2), np.float32)
    flow[..., 0], flow[..., 1] = 0.1, -0.05
    x, y, dx, dy = flow_arrows(flow, step=8)
    assert sorted(set(x.tolist())) == [4, 12, 20] and sorted(set(y.tolist())) == [4, 12]
    assert len(x) == len(dx) == 6
    assert np.allclose(dx, 2.0) and np.allclose(dy, -1.0)
    _, _, dx_unit, _ = flow_arrows(flow, step=8, pixels=False)
    assert np.allclose(dx_unit, 0.1)


def test_measure_flow_fps_is_frame_pairs_over_the_best_run(monkeypatch):
    # A clock that says each run took: dis 0.5 s then 0.25 s, farneback 0.1 s then 0.4 s.
    ticks = iter([0.0, 0.5, 1.0, 1.25, 2.0, 2.1, 3.0, 3.4])
    monkeypatch.setattr(flow_module, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    frames = translating_frames(num_frames=5, height=32, width=32)  # 4 frame pairs
    fps = measure_flow_fps(frames, ["dis", "farneback"], repeats=2)
    assert fps == pytest.approx({"dis": 4 / 0.25, "farneback": 4 / 0.1})
    with pytest.raises(ValueError, match="two frames"):
        measure_flow_fps(translating_frames(num_frames=1))


# --------------------------------------------------------------------------- FlowCache
@pytest.fixture
def videos(tmp_path, make_video):
    """Two good 48x64 videos of 8 frames and one file that is not a video."""
    root = tmp_path / "videos"
    good = [record_for(make_video(root / "A" / f"v{i}.avi", num_frames=8, seed=i), f"A/v{i}.avi")
            for i in range(2)]
    bad_path = root / "B" / "broken.avi"
    bad_path.parent.mkdir(parents=True)
    bad_path.write_text("not a video")
    return good, record_for(bad_path, "B/broken.avi")


def test_cache_path_layout(tmp_path, videos):
    cache = FlowCache(tmp_path / "flow", "farneback", 32)
    assert cache.path_for(videos[0][0]) == tmp_path / "flow" / "farneback_32" / "A" / "v0.avi.flow.npy"


def test_cache_computes_stores_then_loads_without_recomputing(tmp_path, videos, monkeypatch):
    record = videos[0][0]
    cache = FlowCache(tmp_path / "flow", "dis", 32)
    assert cache.load(record) is None
    codes = cache.compute(record)
    assert codes.dtype == np.uint8 and codes.shape == (7, 32, 43, 2)  # 48x64 -> short side 32
    assert np.array_equal(np.load(cache.path_for(record)), codes)
    # The moving square goes right: its pixels carry positive dx.
    assert cache.load_float(record)[..., 0].max() > 0.1

    def must_not_run(*args, **kwargs):
        raise AssertionError("flow was recomputed although it is cached")

    monkeypatch.setattr(cache_module, "compute_flow", must_not_run)
    assert np.array_equal(cache.compute(record), codes)
    assert np.array_equal(FlowCache(tmp_path / "flow", "dis", 32).load(record), codes)


def test_truncated_file_is_deleted_with_a_warning_and_recomputed(tmp_path, videos, caplog):
    record = videos[0][0]
    cache = FlowCache(tmp_path / "flow", "dis", 32)
    codes = cache.compute(record)
    path = cache.path_for(record)
    path.write_bytes(path.read_bytes()[:-100])
    assert not cache.is_cached(record)
    with caplog.at_level(logging.WARNING, logger=cache_module.__name__):
        assert cache.load(record) is None
    assert "Damaged flow cache file" in caplog.text
    assert not path.exists()
    assert np.array_equal(cache.compute(record), codes)


def test_file_of_wrong_dtype_is_not_trusted(tmp_path, videos):
    record = videos[0][0]
    cache = FlowCache(tmp_path / "flow", "dis", 32)
    path = cache.path_for(record)
    path.parent.mkdir(parents=True)
    np.save(path, np.zeros((3, 4, 4, 2), np.float32))
    assert not cache.is_cached(record)
    assert cache.load(record) is None and not path.exists()


def test_unreadable_video_raises_and_writes_nothing(tmp_path, videos):
    cache = FlowCache(tmp_path / "flow", "dis", 32)
    with pytest.raises(VideoDecodeError):
        cache.compute(videos[1])
    assert not cache.path_for(videos[1]).exists()


def test_cache_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="short side"):
        FlowCache(tmp_path, "dis", 0)
    with pytest.raises(ValueError, match="Unknown optical-flow method"):
        FlowCache(tmp_path, "sparse", 32)


# --------------------------------------------------------------------------- compute_flow_cache
@pytest.mark.parametrize("workers", [1, 2])
def test_compute_flow_cache_is_resumable_and_reports_failures(tmp_path, videos, workers):
    good, bad = videos
    cache_dir = tmp_path / "flow"
    leftover = cache_dir / "dis_32" / "A" / ".v0.avi.flow.npy.x1y2.partial"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file from a killed run")

    first = compute_flow_cache(good + [bad], cache_dir, size=32, progress=False, workers=workers)
    assert first["computed"] == 2 and first["cached"] == 0 and first["videos"] == 3
    assert first["failed"] == [{"video": "B/broken.avi", "reason": first["failed"][0]["reason"]}]
    assert "broken.avi" in first["failed"][0]["reason"]
    assert first["flow_frames"] == 14 and first["frames_per_s"] > 0
    assert first["method"] == "dis" and first["size"] == 32 and first["cache_dir"] == str(cache_dir)
    assert not leftover.exists()
    files = sorted(p.relative_to(cache_dir).as_posix() for p in cache_dir.rglob("*.npy"))
    assert files == ["dis_32/A/v0.avi.flow.npy", "dis_32/A/v1.avi.flow.npy"]
    assert json.loads((cache_dir / "dis_32" / "cache_info.json").read_text())["size"] == 32

    # A later run after one file was lost: only that one is computed again.
    (cache_dir / "dis_32" / "A" / "v1.avi.flow.npy").unlink()
    second = compute_flow_cache(good + good[:1] + [bad], cache_dir, size=32, progress=False, workers=workers)
    assert (second["computed"], second["cached"], len(second["failed"])) == (1, 1, 1)
    assert second["videos"] == 3 and second["flow_frames"] == 7


def test_a_one_frame_video_is_kept_with_an_empty_flow_and_reads_as_one_still_field(tmp_path, make_video):
    from hybridvid_lib.data.flow import QUANT_ZERO
    from hybridvid_lib.data.flow_cache import FlowCache
    from hybridvid_lib.data.pipeline.decoding import load_flow_square

    record = record_for(make_video(tmp_path / "A" / "still.avi", num_frames=1), "A/still.avi")
    report = compute_flow_cache([record], tmp_path / "flow", size=32, progress=False)
    assert (report["computed"], report["failed"]) == (1, [])  # valid, so not dropped
    cache = FlowCache(tmp_path / "flow", "dis", 32)
    assert cache.load(record).shape[0] == 0  # no frame pair, no field
    zero = np.full((1, 32, 32, 2), QUANT_ZERO, np.uint8)
    np.testing.assert_array_equal(load_flow_square(cache, record, 32, zero), zero)


def test_cache_made_with_other_settings_is_refused(tmp_path, videos):
    info = tmp_path / "flow" / "dis_32" / "cache_info.json"
    info.parent.mkdir(parents=True)
    info.write_text(json.dumps({"version": 0, "method": "dis", "size": 32}))
    with pytest.raises(HybridVidError, match="other settings"):
        compute_flow_cache(videos[0], tmp_path / "flow", size=32, progress=False)


def test_default_cache_dir_sits_beside_the_videos(tmp_path):
    sticks = DatasetSplit(format="stickactions", split=1, classes=["A"], video_root=tmp_path / "sa" / "videos")
    assert default_flow_cache_dir(sticks, "dis", 64) == tmp_path / "sa" / "flow"
    mine = DatasetSplit(format="folder", split=1, classes=["A"], video_root=tmp_path / "clips")
    assert default_flow_cache_dir(mine, "dis", 64) == tmp_path / "clips_flow"


def test_interrupted_run_keeps_whole_files_and_the_next_run_finishes(tmp_path, make_video, monkeypatch):
    records = [record_for(make_video(tmp_path / "v" / "A" / f"v{i}.avi", num_frames=6, seed=i), f"A/v{i}.avi")
               for i in range(5)]

    class CtrlCAfterFirstVideo(array_cache_module.tqdm):
        def update(self, n=1):
            raise KeyboardInterrupt

    monkeypatch.setattr(array_cache_module, "tqdm", CtrlCAfterFirstVideo)
    with pytest.raises(KeyboardInterrupt):
        compute_flow_cache(records, tmp_path / "flow", size=32, progress=False, workers=1)
    monkeypatch.undo()

    written = list((tmp_path / "flow").rglob("*.flow.npy"))
    assert 1 <= len(written) < 5  # stopped early: videos not started were dropped
    assert not list((tmp_path / "flow").rglob("*.partial*"))
    report = compute_flow_cache(records, tmp_path / "flow", size=32, progress=False)
    assert report["cached"] == len(written) and report["computed"] == 5 - len(written)
