"""The tf.data pipelines on tiny hand-made videos (32x32, T <= 12) whose pixels say what was sampled."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.pipeline import (
    SkippedVideosWarning,
    clip_pipeline,
    pair_pipeline,
    skeleton_pipeline,
    skipped_videos,
)
from hybridvid_lib.data.records import DatasetSplit, VideoRecord
from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.data.video import write_video
from hybridvid_lib.errors import DatasetError

SIZE, T = 32, 12

# frame_size < short_side < cache_short_side: the resize and the random crop both run.
SETTINGS = resolve_settings("smoke", frame_size=24, short_side=28, cache_short_side=SIZE,
                            num_frames=4, batch_size=4, sampling="uniform", flip_policy="swap")


def make_split(root: Path, videos: list[tuple[str, np.ndarray]], classes: list[str], *,
               mirror_pairs=(), missing=(), metadata=None) -> DatasetSplit:
    """Write ``(class_name, frames)`` videos as ``<Class>/v_<Class>_gNN_c01.avi``; list them all in train."""
    records = []
    for n, (name, frames) in enumerate(videos):
        relpath = f"{name}/v_{name}_g{n + 1:02d}_c01.avi"
        if frames is not None:
            write_video(root / relpath, frames)
        records.append(VideoRecord(relpath, root / relpath, classes.index(name), name, f"g{n + 1:02d}"))
    return DatasetSplit("folder", 1, list(classes), root, train=records, missing=list(missing),
                        mirror_pairs=list(mirror_pairs), metadata=metadata or {})


def coded_frames(video_id: int, num_frames: int = T) -> np.ndarray:
    """Flat frames whose red level tells the frame index and green level the video: (T, 32, 32, 3) uint8."""
    frames = np.zeros((num_frames, SIZE, SIZE, 3), np.uint8)
    frames[..., 0] = (20 * np.arange(num_frames) + 10)[:, None, None]
    frames[..., 1] = 20 * video_id + 10
    return frames


def read_codes(clip: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """(video id, frame indices) of a (T, H, W, 3) clip in [-1, 1] made from ``coded_frames``."""
    pixels = (clip + 1.0) * 127.5
    red = pixels[..., 0].mean(axis=(1, 2))
    green = pixels[..., 1].mean()
    return int(round((green - 10) / 20)), tuple(int(round((r - 10) / 20)) for r in red)


def epoch_codes(pipeline) -> list[tuple[int, tuple[int, ...], int]]:
    out = []
    for clips, labels in pipeline.dataset:
        for clip, label in zip(clips.numpy(), labels.numpy()):
            vid, idx = read_codes(clip)
            out.append((vid, idx, int(label)))
    return out


@pytest.fixture(scope="module")
def coded_split(tmp_path_factory) -> DatasetSplit:
    root = tmp_path_factory.mktemp("coded")
    classes = ["Alpha", "Beta"]
    return make_split(root, [(classes[i % 2], coded_frames(i)) for i in range(6)], classes)


def test_clip_batches_have_the_documented_shape_dtype_and_range(coded_split):
    pipe = clip_pipeline(coded_split, "train", SETTINGS, training=True, seed=0)
    clips, labels = next(iter(pipe.dataset))
    assert clips.shape == (4, 4, 24, 24, 3) and clips.dtype.name == "float32"
    assert labels.shape == (4,) and labels.dtype.name == "int32"
    assert -1.0 <= float(clips.numpy().min()) and float(clips.numpy().max()) <= 1.0
    assert pipe.num_videos == 6 and pipe.skipped == [] and pipe.class_names == ["Alpha", "Beta"]
    assert pipe.element_spec_doc.startswith("(B, 4, 24, 24, 3) float32 in [-1, 1]")
    assert sum(len(b[1]) for b in pipe.dataset) == 6  # the last, smaller batch is kept


@pytest.mark.parametrize("strategy", ["uniform", "stride", "segments"])
def test_eval_clips_follow_the_sampling_rules_and_repeat_every_epoch(coded_split, strategy):
    pipe = clip_pipeline(coded_split, "train", SETTINGS, training=False, sampling=strategy)
    first, second = epoch_codes(pipe), epoch_codes(pipe)
    assert first == second
    expected = tuple(sample_indices(T, 4, strategy, stride=SETTINGS.frame_stride).tolist())
    assert [(vid, idx) for vid, idx, _ in first] == [(i, expected) for i in range(6)]  # list order
    assert [label for *_, label in first] == [r.label for r in coded_split.train]


def test_training_epochs_sample_new_clips_after_the_cache(coded_split):
    # Sampling before .cache() would repeat the first epoch's frame indices for ever.
    pipe = clip_pipeline(coded_split, "train", SETTINGS, training=True, seed=1, batch_size=6)
    epochs = [sorted(epoch_codes(pipe)) for _ in range(3)]
    for codes in epochs:
        assert [vid for vid, *_ in codes] == list(range(6))
        for _, idx, _ in codes:  # uniform training: 4 bins of 3 frames, one common shift
            assert np.all(np.array(idx) // 3 == np.arange(4)) and len(set(np.diff(idx))) == 1
    assert epochs[0] != epochs[1] or epochs[0] != epochs[2]


def test_same_seed_gives_the_same_first_batch(coded_split):
    def first_batch(seed):
        clips, labels = next(iter(clip_pipeline(coded_split, "train", SETTINGS, training=True,
                                                seed=seed).dataset))
        return clips.numpy(), labels.numpy()

    a, b, c = first_batch(7), first_batch(7), first_batch(8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def side_frames(channel: int) -> np.ndarray:
    """Dark frames with a bright strip in the left third of one colour channel: (T, 32, 32, 3) uint8."""
    frames = np.full((8, SIZE, SIZE, 3), 20, np.uint8)
    frames[:, :, :10, channel] = 230
    return frames


@pytest.fixture(scope="module")
def mirror_split(tmp_path_factory) -> DatasetSplit:
    """PointLeft videos (red strip on the left) and Wave videos (green strip on the left)."""
    root = tmp_path_factory.mktemp("mirror")
    videos = [("PointLeft", side_frames(0))] * 4 + [("Wave", side_frames(1))] * 4
    return make_split(root, videos, ["PointLeft", "PointRight", "Wave"],
                      mirror_pairs=[("PointLeft", "PointRight")])


def flip_outcomes(pipe, epochs: int = 4) -> list[tuple[str, bool, int]]:
    """(colour of the strip, whether the clip is mirrored, label) of every clip of a few epochs."""
    out = []
    for _ in range(epochs):
        for clips, labels in pipe.dataset:
            for clip, label in zip(clips.numpy(), labels.numpy()):
                half = clip.shape[2] // 2
                colour = "red" if clip[..., 0].mean() > clip[..., 1].mean() else "green"
                channel = 0 if colour == "red" else 1
                mirrored = clip[:, :, half:, channel].mean() > clip[:, :, :half, channel].mean()
                out.append((colour, bool(mirrored), int(label)))
    return out


def test_flip_swap_turns_mirror_classes_into_their_partner_only(mirror_split):
    pipe = clip_pipeline(mirror_split, "train", SETTINGS, training=True, seed=0)
    outcomes = flip_outcomes(pipe)
    red = [(m, label) for colour, m, label in outcomes if colour == "red"]
    green = [(m, label) for colour, m, label in outcomes if colour == "green"]
    assert {m for m, _ in red} == {True, False} and {m for m, _ in green} == {True, False}
    assert all(label == (1 if mirrored else 0) for mirrored, label in red)  # PointLeft <-> PointRight
    assert all(label == 2 for _, label in green)  # Wave stays Wave


def test_flip_skip_never_flips_mirror_classes(mirror_split):
    pipe = clip_pipeline(mirror_split, "train", SETTINGS.replace(flip_policy="skip"), training=True, seed=0)
    outcomes = flip_outcomes(pipe)
    assert {(m, label) for colour, m, label in outcomes if colour == "red"} == {(False, 0)}
    assert {(m, label) for colour, m, label in outcomes if colour == "green"} == {(False, 2), (True, 2)}


@pytest.mark.parametrize("policy, training", [("off", True), ("swap", False)])
def test_no_flip_with_policy_off_or_at_evaluation(mirror_split, policy, training):
    pipe = clip_pipeline(mirror_split, "train", SETTINGS.replace(flip_policy=policy), training=training)
    assert {m for _, m, _ in flip_outcomes(pipe, epochs=2)} == {False}


def test_missing_videos_are_recorded_with_one_warning_and_strict_raises(tmp_path):
    split = make_split(tmp_path, [("Alpha", coded_frames(0)), ("Alpha", None), ("Beta", coded_frames(1))],
                       ["Alpha", "Beta"], missing=["Alpha/v_Alpha_g02_c01.avi"])
    with pytest.warns(SkippedVideosWarning, match=r"Skipping 1 of 3 listed train videos.*v_Alpha_g02"):
        pipe = clip_pipeline(split, "train", SETTINGS, training=False)
    assert pipe.skipped == [{"video": "Alpha/v_Alpha_g02_c01.avi", "reason": "missing"}]
    assert pipe.skipped == skipped_videos(split, "train")
    assert pipe.num_videos == 2 and sum(len(b[1]) for b in pipe.dataset) == 2
    with pytest.raises(DatasetError, match="v_Alpha_g02_c01.avi"):
        clip_pipeline(split, "train", SETTINGS, training=False, strict=True)


def test_video_that_fails_at_decode_time_is_recorded_and_left_out(tmp_path):
    split = make_split(tmp_path, [("Alpha", coded_frames(0)), ("Beta", coded_frames(1))], ["Alpha", "Beta"])
    broken = tmp_path / "Beta/v_Beta_g02_c01.avi"
    broken.write_bytes(b"RIFF" + b"\0" * 200)  # passes the listing, decodes to nothing
    pipe = clip_pipeline(split, "train", SETTINGS, training=False)
    with pytest.warns(SkippedVideosWarning, match="v_Beta_g02_c01.avi"):
        codes = epoch_codes(pipe)
    assert [vid for vid, *_ in codes] == [0]
    assert pipe.skipped == [{"video": "Beta/v_Beta_g02_c01.avi", "reason": "decode failed"}]
    assert len(epoch_codes(pipe)) == 1 and len(pipe.skipped) == 1  # cached: not tried again


def test_no_usable_video_raises_dataset_error(tmp_path):
    split = make_split(tmp_path, [("Alpha", None)], ["Alpha"], missing=["Alpha/v_Alpha_g01_c01.avi"])
    with pytest.raises(DatasetError, match="No usable train video"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedVideosWarning)
            clip_pipeline(split, "train", SETTINGS, training=True)
    with pytest.raises(DatasetError, match="No usable test video"):
        clip_pipeline(split, "test", SETTINGS, training=False)


def test_random_sampling_is_refused_for_evaluation(coded_split):
    with pytest.raises(ValueError, match="deterministic"):
        clip_pipeline(coded_split, "train", SETTINGS, training=False, sampling="random")
    with pytest.raises(ValueError, match="expected one of"):
        clip_pipeline(coded_split, "train", SETTINGS, training=True, sampling="dense")


def test_file_cache_is_written_after_one_epoch_and_read_back(coded_split, tmp_path):
    folder = tmp_path / "cache"
    first = epoch_codes(clip_pipeline(coded_split, "train", SETTINGS, training=False, cache=folder))
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith("clips-train-") for n in names)
    assert epoch_codes(clip_pipeline(coded_split, "train", SETTINGS, training=False, cache=folder)) == first
    assert sorted(p.name for p in folder.iterdir()) == names


# --------------------------------------------------------------------------- (RGB, flow) pairs
def square_positions(num_frames: int = T) -> list[int]:
    """Left column of the square in each frame: 2 px right per frame, still over the last two frames."""
    return [2 + 2 * min(t, num_frames - 2) for t in range(num_frames)]


def square_moving_right(num_frames: int = T) -> np.ndarray:
    """A bright 8x8 square moving right over dim noise: (T, 32, 32, 3) uint8."""
    frames = np.random.default_rng(0).integers(0, 40, (num_frames, SIZE, SIZE, 3), dtype=np.uint8)
    for t, x in enumerate(square_positions(num_frames)):
        frames[t, 12:20, x:x + 8] = 230
    return frames


class DesignedFlowCache:
    """A stand-in with FlowCache's ``load`` / ``compute`` contract whose flow the test knows exactly.

    Field ``i`` (at 64x64, twice the frame resolution): dx = 0.5 where the square of frame ``i``
    is, 0 elsewhere; dy = 0.05 * (i + 1) everywhere, which tells which field a clip frame got.
    """

    cache_dir, method, size = "designed", "designed", 2 * SIZE

    def load(self, record):
        return None

    def compute(self, record):
        from hybridvid_lib.data.flow import quantize_flow

        field = np.zeros((T - 1, 2 * SIZE, 2 * SIZE, 2), np.float32)
        for i, x in enumerate(square_positions()[:-1]):
            field[i, 24:40, 2 * x:2 * x + 16, 0] = 0.5
            field[i, ..., 1] = 0.05 * (i + 1)
        return quantize_flow(field)


@pytest.fixture(scope="module")
def square_split(tmp_path_factory) -> DatasetSplit:
    return make_split(tmp_path_factory.mktemp("square"), [("Wave", square_moving_right())] * 4, ["Wave"])


def test_pair_frame_i_gets_flow_field_min_i_t_minus_2(square_split):
    settings = SETTINGS.replace(num_frames=T)  # every frame 0..11: the last one reuses field 10
    pipe = pair_pipeline(square_split, "train", settings, DesignedFlowCache(), training=False)
    inputs, labels = next(iter(pipe.dataset))
    assert inputs["rgb"].shape == (4, T, 24, 24, 3) and inputs["flow"].shape == (4, T, 24, 24, 2)
    dy = inputs["flow"].numpy()[..., 1].mean(axis=(2, 3))
    expected = 0.05 * (np.minimum(np.arange(T), T - 2) + 1)
    np.testing.assert_allclose(dy, np.broadcast_to(expected, dy.shape), atol=0.01)


def test_pair_streams_share_crop_and_flip(square_split):
    pipe = pair_pipeline(square_split, "train", SETTINGS, DesignedFlowCache(), training=True, seed=0)
    assert pipe.element_spec_doc.startswith('{"rgb": (B, 4, 24, 24, 3) float32 in [-1, 1], "flow": (B, 4, 24, 24, 2)')
    directions = []
    for _ in range(3):
        for inputs, _ in pipe.dataset:
            for clip, motion in zip(inputs["rgb"].numpy(), inputs["flow"].numpy()):
                square = clip[..., 0] > 0.5  # (T, 24, 24): where the square is in each frame
                moving = motion[..., 0]
                for in_frame, in_flow in zip(square, np.abs(moving) > 0.25):  # the same crop for both
                    np.testing.assert_allclose(np.argwhere(in_flow).mean(0), np.argwhere(in_frame).mean(0),
                                               atol=0.5)
                centre_x = [np.nonzero(m)[1].mean() for m in square]
                moving_right = bool(centre_x[-1] > centre_x[0])
                assert (moving[square].mean() > 0) == moving_right  # a flip negates dx with the frames
                directions.append(moving_right)
    assert set(directions) == {True, False}


def test_pair_pipeline_with_real_dis_flow_agrees_with_the_motion(tmp_path):
    from hybridvid_lib.data.flow import FlowCache

    split = make_split(tmp_path / "videos", [("Wave", square_moving_right())] * 2, ["Wave"])
    flow_cache = FlowCache(tmp_path / "flow", "dis", SIZE)
    pipe = pair_pipeline(split, "train", SETTINGS, flow_cache, training=True, seed=3, batch_size=2)
    directions = set()
    for _ in range(3):
        for inputs, _ in pipe.dataset:
            for clip, motion in zip(inputs["rgb"].numpy(), inputs["flow"].numpy()):
                square = clip[..., 0] > 0.5
                centre_x = [np.nonzero(m)[1].mean() for m in square]
                directions.add(bool(centre_x[-1] > centre_x[0]))
                assert (motion[:-1, ..., 0][square[:-1]].mean() > 0) == (centre_x[-1] > centre_x[0])
    assert directions == {True, False}
    assert all(flow_cache.is_cached(r) for r in split.train)


# --------------------------------------------------------------------------- skeletons
def stick_joints(num_frames: int = T) -> np.ndarray:
    """Stick-figure joints (T, 18, 3): pelvis walks 1 px right per frame from x = 10; left hand up, right hand down."""
    joints = np.zeros((num_frames, 18, 3), np.float32)
    pelvis = np.stack([10.0 + np.arange(num_frames), np.full(num_frames, 20.0)], axis=1)
    joints[:, :, :2] = pelvis[:, None, :]
    joints[:, :, 2] = 1.0
    joints[:, 7, :2] = pelvis + [5.0, -8.0]  # left_hand: the person's left is the image's right
    joints[:, 11, :2] = pelvis + [-5.0, 4.0]  # right_hand
    joints[:, 17] = [100.0, 100.0, 0.0]  # right_ankle not seen: its x, y mean nothing
    return joints


def make_skeleton_split(root: Path, count: int, *, with_joints=True) -> DatasetSplit:
    """``count`` PointLeft records whose joints files hold ``stick_joints``; no video files are needed."""
    from hybridvid_lib.data.skeletons import STICK_FIGURE

    records = []
    for n in range(count):
        relpath = f"PointLeft/v_PointLeft_g{n + 1:02d}_c01.avi"
        joints_path = root / relpath.replace(".avi", ".skeleton.npy")
        if with_joints or n > 0:
            joints_path.parent.mkdir(parents=True, exist_ok=True)
            np.save(joints_path, stick_joints())
        records.append(VideoRecord(relpath, root / relpath, 0, "PointLeft", f"g{n + 1:02d}", joints_path))
    metadata = {"skeleton": STICK_FIGURE.to_dict(), "frame_size": [SIZE, SIZE]}
    return DatasetSplit("stickactions", 1, ["PointLeft", "PointRight"], root, train=records,
                        mirror_pairs=[("PointLeft", "PointRight")], metadata=metadata)


def test_skeleton_clips_are_centred_scaled_and_sampled_like_video(tmp_path):
    pipe = skeleton_pipeline(make_skeleton_split(tmp_path, 3), "train", SETTINGS, training=False)
    joints, labels = next(iter(pipe.dataset))
    assert joints.shape == (3, 4, 18, 3) and joints.dtype.name == "float32" and labels.dtype.name == "int32"
    idx = sample_indices(T, 4, "uniform")
    step = (idx - idx[0]) / SIZE  # pelvis moves 1 px per frame, one frame size is 32 px
    for clip in joints.numpy():
        np.testing.assert_allclose(clip[:, 0, :2], np.stack([step, 0 * step], axis=1), atol=1e-6)
        np.testing.assert_allclose(clip[:, 7, :2], np.stack([step + 5 / SIZE, step * 0 - 8 / SIZE], axis=1),
                                   atol=1e-6)
        assert np.all(clip[:, 17] == 0.0)  # unseen joint: no position, confidence 0
        assert np.all(clip[:, :17, 2] == 1.0)
    assert "float32" in pipe.element_spec_doc and "(B, 4, 18, 3)" in pipe.element_spec_doc


def test_skeleton_flip_mirrors_x_swaps_sides_and_labels(tmp_path):
    pipe = skeleton_pipeline(make_skeleton_split(tmp_path, 4), "train", SETTINGS, training=True, seed=0)
    seen = set()
    for _ in range(4):
        for joints, labels in pipe.dataset:
            for clip, label in zip(joints.numpy(), labels.numpy()):
                walks_left = clip[-1, 0, 0] < clip[0, 0, 0]
                hand_7_is_low = clip[0, 7, 1] > 0  # after a flip joint 7 (left_hand) is the old right hand
                assert walks_left == hand_7_is_low == (label == 1)
                np.testing.assert_allclose(abs(clip[0, 7, 0] - clip[0, 0, 0]), 5 / SIZE, atol=1e-6)
                seen.add(bool(walks_left))
    assert seen == {True, False}


def test_skeleton_pipeline_skips_records_without_joints_and_needs_a_graph(tmp_path):
    split = make_skeleton_split(tmp_path, 3, with_joints=False)
    with pytest.warns(SkippedVideosWarning, match="missing skeleton"):
        pipe = skeleton_pipeline(split, "train", SETTINGS, training=False)
    assert pipe.skipped == [{"video": "PointLeft/v_PointLeft_g01_c01.avi", "reason": "missing skeleton"}]
    assert pipe.num_videos == 2
    split.metadata = {}
    with pytest.raises(DatasetError, match="no skeleton graph"):
        skeleton_pipeline(split, "train", SETTINGS, training=False)


# --------------------------------------------------------------------------- end to end
def test_all_three_pipelines_read_stickactions(stickactions_smoke, tmp_path):
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.data.flow import FlowCache

    ds = load_dataset("stickactions", stickactions_smoke)
    settings = resolve_settings("smoke")
    s, t = settings.frame_size, settings.num_frames
    clips, labels = next(iter(clip_pipeline(ds, "train", settings, training=True).dataset))
    assert clips.shape[1:] == (t, s, s, 3) and int(labels.numpy().max()) < ds.num_classes
    flow_cache = FlowCache(tmp_path / "flow", settings.flow_method, settings.flow_size)
    inputs, _ = next(iter(pair_pipeline(ds, "test", settings, flow_cache, training=False).dataset))
    assert inputs["rgb"].shape[1:] == (t, s, s, 3) and inputs["flow"].shape[1:] == (t, s, s, 2)
    joints, _ = next(iter(skeleton_pipeline(ds, "train", settings, training=True).dataset))
    assert joints.shape[1:] == (t, len(ds.metadata["skeleton"]["joints"]), 3)
    assert np.isfinite(joints.numpy()).all() and np.abs(joints.numpy()[..., :2]).max() <= 1.5
