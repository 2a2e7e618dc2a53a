"""``build_pipeline`` on tiny hand-made videos (32x32, T <= 12) and flow / feature caches that say what was sampled.

Skeleton inputs (StickActions ``.npy`` joints, NTU RGB+D ``.skeleton`` text) are tested in
``test_pipeline_joints.py``; the array caches themselves in ``test_array_caches.py``.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.flow import dequantize_flow, quantize_flow
from hybridvid_lib.data.pipeline import SkippedVideosWarning, build_pipeline, skipped_videos
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.data.video import write_video
from hybridvid_lib.errors import DatasetError

SIZE, T = 32, 12

# frame_size < short_side < cache_short_side: the resize and the random crop both run.
SETTINGS = resolve_settings("smoke", frame_size=24, short_side=28, cache_short_side=SIZE,
                            num_frames=4, batch_size=4, sampling="uniform", flip_policy="swap")
# No resize (short_side = cache size): flow values come out exactly as cached, crop only.
FLOW_SETTINGS = SETTINGS.replace(short_side=SIZE)
CENTRE = (SIZE - 24) // 2  # the evaluation crop's corner


def make_split(root: Path, videos: list[tuple[str, np.ndarray | None]], classes: list[str], *,
               mirror_pairs=(), missing=(), test=()) -> DatasetSplit:
    """Write ``(class_name, frames)`` videos as ``<Class>/v_<Class>_gNN_c01.avi`` (video ``n`` in group ``n + 1``).

    The first ``len(videos) - len(test)`` are listed in ``train``, the others in ``test``.
    ``frames=None`` lists a video without writing it.
    """
    records = []
    for n, (name, frames) in enumerate(videos):
        relpath = f"{name}/v_{name}_g{n + 1:02d}_c01.avi"
        if frames is not None:
            write_video(root / relpath, frames)
        records.append(Record.of_video(relpath, root / relpath, classes.index(name), name, f"g{n + 1:02d}"))
    cut = len(records) - len(test)
    return DatasetSplit("folder", 1, list(classes), root, train=records[:cut], test=records[cut:],
                        missing=list(missing), mirror_pairs=list(mirror_pairs))


def video_id(record: Record) -> int:
    """``n`` of the ``n``-th video given to :func:`make_split` (its group is ``g{n + 1:02d}``)."""
    return int(record.group[1:]) - 1


def coded_frames(vid: int, num_frames: int = T) -> np.ndarray:
    """Flat frames whose red level tells the frame index and green level the video: (T, 32, 32, 3) uint8."""
    frames = np.zeros((num_frames, SIZE, SIZE, 3), np.uint8)
    frames[..., 0] = (20 * np.arange(num_frames) + 10)[:, None, None]
    frames[..., 1] = 20 * vid + 10
    return frames


def read_codes(clip: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """(video id, frame indices) of a (T, H, W, 3) clip in [-1, 1] made from ``coded_frames``."""
    pixels = (clip + 1.0) * 127.5
    red = pixels[..., 0].mean(axis=(1, 2))
    green = pixels[..., 1].mean()
    return int(round((green - 10) / 20)), tuple(int(round((r - 10) / 20)) for r in red)


def elements(pipe, epochs: int = 1):
    """Every element of ``epochs`` epochs as ``(features of one element as numpy, label)``."""
    for _ in range(epochs):
        for features, labels in pipe.dataset:
            batch = {k: v.numpy() for k, v in features.items()}
            for i, label in enumerate(labels.numpy()):
                yield {k: v[i] for k, v in batch.items()}, int(label)


def epoch_codes(pipe) -> list[tuple[int, tuple[int, ...], int]]:
    """(video id, frame indices, label) of each element of one epoch; checks ``index`` names the record."""
    out = []
    for element, label in elements(pipe):
        vid, idx = read_codes(element["rgb"])
        assert vid == video_id(pipe.records[element["index"]])
        out.append((vid, idx, label))
    return out


@pytest.fixture(scope="module")
def coded_split(tmp_path_factory) -> DatasetSplit:
    root = tmp_path_factory.mktemp("coded")
    classes = ["Alpha", "Beta"]
    return make_split(root, [(classes[i % 2], coded_frames(i)) for i in range(6)], classes)


# --------------------------------------------------------------------------- RGB clips
def test_rgb_batches_have_the_documented_shape_dtype_range_and_index(coded_split):
    pipe = build_pipeline(coded_split, "train", SETTINGS, training=True, seed=0)
    features, labels = next(iter(pipe.dataset))
    assert set(features) == {"rgb", "index"} and pipe.inputs == ("rgb",)
    clips = features["rgb"].numpy()
    assert clips.shape == (4, 4, 24, 24, 3) and clips.dtype.name == "float32"
    assert labels.shape == (4,) and labels.dtype.name == "int32"
    assert features["index"].shape == (4,) and features["index"].dtype.name == "int32"
    assert -1.0 <= float(clips.min()) and float(clips.max()) <= 1.0
    assert [pipe.records[i].label for i in features["index"].numpy()] == labels.numpy().tolist()
    assert pipe.num_videos == 6 and pipe.skipped == [] and pipe.class_names == ["Alpha", "Beta"]
    assert pipe.element_spec_doc.startswith('{"rgb": (B, 4, 24, 24, 3) float32 in [-1, 1]')
    assert '"index": (B,) int32' in pipe.element_spec_doc
    assert sum(len(b[1]) for b in pipe.dataset) == 6  # the last, smaller batch is kept


def test_time_reversed_plays_every_clip_backwards_and_keeps_labels_and_index(coded_split):
    from hybridvid_lib.data.pipeline import time_reversed

    pipe = build_pipeline(coded_split, "train", SETTINGS, training=False)
    forward = list(pipe.dataset)
    backward = list(time_reversed(pipe.dataset, inputs=("rgb",)))
    for (f, y), (b, y_back) in zip(forward, backward):
        np.testing.assert_array_equal(b["rgb"].numpy(), f["rgb"].numpy()[:, ::-1])
        assert y_back.numpy().tolist() == y.numpy().tolist()
        assert b["index"].numpy().tolist() == f["index"].numpy().tolist()
    with pytest.raises(ValueError, match="inputs must be"):
        time_reversed(pipe.dataset, inputs=("video",))


@pytest.mark.parametrize("strategy", ["uniform", "stride", "segments"])
def test_eval_clips_follow_the_sampling_rules_and_repeat_every_epoch(coded_split, strategy):
    pipe = build_pipeline(coded_split, "train", SETTINGS, training=False, sampling=strategy)
    first, second = epoch_codes(pipe), epoch_codes(pipe)
    assert first == second
    expected = tuple(sample_indices(T, 4, strategy, stride=SETTINGS.frame_stride).tolist())
    assert [(vid, idx) for vid, idx, _ in first] == [(i, expected) for i in range(6)]  # list order
    assert [label for *_, label in first] == [r.label for r in coded_split.train]


def test_training_epochs_sample_new_clips_after_the_cache(coded_split):
    # Sampling before .cache() would repeat the first epoch's frame indices for ever.
    pipe = build_pipeline(coded_split, "train", SETTINGS, training=True, seed=1, batch_size=6)
    epochs = [sorted(epoch_codes(pipe)) for _ in range(3)]
    for codes in epochs:
        assert [vid for vid, *_ in codes] == list(range(6))
        for _, idx, _ in codes:  # uniform training: 4 bins of 3 frames, one common shift
            assert np.all(np.array(idx) // 3 == np.arange(4)) and len(set(np.diff(idx))) == 1
    assert epochs[0] != epochs[1] or epochs[0] != epochs[2]


def test_same_seed_gives_the_same_first_batch(coded_split):
    def first_batch(seed):
        features, labels = next(iter(build_pipeline(coded_split, "train", SETTINGS, training=True,
                                                    seed=seed).dataset))
        return features["rgb"].numpy(), labels.numpy(), features["index"].numpy()

    a, b, c = first_batch(7), first_batch(7), first_batch(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_an_epoch_is_drawn_from_seed_and_epoch_alone_so_a_resumed_run_sees_the_same_batches(coded_split):
    def epoch_order(pipe):  # (video, frame indices, label) in the order the epoch yields them
        return epoch_codes(pipe)

    straight = build_pipeline(coded_split, "train", SETTINGS, training=True, seed=2, batch_size=2)
    epochs = [epoch_order(straight) for _ in range(4)]
    assert straight.epoch_clock.last_started == 3
    assert len({tuple(e) for e in epochs}) > 1  # a new order and new clips every epoch
    resumed = build_pipeline(coded_split, "train", SETTINGS, training=True, seed=2, batch_size=2)
    resumed.epoch_clock.start_at(2)  # what train_model does when it resumes at the third epoch
    assert [epoch_order(resumed), epoch_order(resumed)] == epochs[2:]
    resumed.epoch_clock.start_at(0)
    assert epoch_order(resumed) == epochs[0]
    with pytest.raises(ValueError, match="whole number"):
        resumed.epoch_clock.start_at(-1)
    assert build_pipeline(coded_split, "train", SETTINGS, training=False).epoch_clock is None


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
    for element, label in elements(pipe, epochs):
        clip = element["rgb"]
        half = clip.shape[2] // 2
        colour = "red" if clip[..., 0].mean() > clip[..., 1].mean() else "green"
        channel = 0 if colour == "red" else 1
        mirrored = clip[:, :, half:, channel].mean() > clip[:, :, :half, channel].mean()
        out.append((colour, bool(mirrored), label))
    return out


def test_flip_swap_turns_mirror_classes_into_their_partner_only(mirror_split):
    pipe = build_pipeline(mirror_split, "train", SETTINGS, training=True, seed=0)
    outcomes = flip_outcomes(pipe)
    red = [(m, label) for colour, m, label in outcomes if colour == "red"]
    green = [(m, label) for colour, m, label in outcomes if colour == "green"]
    assert {m for m, _ in red} == {True, False} and {m for m, _ in green} == {True, False}
    assert all(label == (1 if mirrored else 0) for mirrored, label in red)  # PointLeft <-> PointRight
    assert all(label == 2 for _, label in green)  # Wave stays Wave


def test_flip_skip_never_flips_mirror_classes(mirror_split):
    pipe = build_pipeline(mirror_split, "train", SETTINGS.replace(flip_policy="skip"), training=True, seed=0)
    outcomes = flip_outcomes(pipe)
    assert {(m, label) for colour, m, label in outcomes if colour == "red"} == {(False, 0)}
    assert {(m, label) for colour, m, label in outcomes if colour == "green"} == {(False, 2), (True, 2)}


@pytest.mark.parametrize("policy, training", [("off", True), ("swap", False)])
def test_no_flip_with_policy_off_or_at_evaluation(mirror_split, policy, training):
    pipe = build_pipeline(mirror_split, "train", SETTINGS.replace(flip_policy=policy), training=training)
    assert {m for _, m, _ in flip_outcomes(pipe, epochs=2)} == {False}


def test_missing_videos_are_recorded_with_one_warning_and_strict_raises(tmp_path):
    split = make_split(tmp_path, [("Alpha", coded_frames(0)), ("Alpha", None), ("Beta", coded_frames(2))],
                       ["Alpha", "Beta"], missing=["Alpha/v_Alpha_g02_c01.avi"])
    with pytest.warns(SkippedVideosWarning, match=r"Skipping 1 of 3 listed train videos.*v_Alpha_g02"):
        pipe = build_pipeline(split, "train", SETTINGS, training=False)
    assert pipe.skipped == [{"video": "Alpha/v_Alpha_g02_c01.avi", "reason": "missing"}]
    assert pipe.skipped == skipped_videos(split, "train")
    assert pipe.num_videos == 2 and [vid for vid, *_ in epoch_codes(pipe)] == [0, 2]
    with pytest.raises(DatasetError, match="v_Alpha_g02_c01.avi"):
        build_pipeline(split, "train", SETTINGS, training=False, strict=True)


def test_video_that_fails_at_decode_time_is_recorded_and_left_out(tmp_path):
    split = make_split(tmp_path, [("Alpha", coded_frames(0)), ("Beta", coded_frames(1))], ["Alpha", "Beta"])
    broken = tmp_path / "Beta/v_Beta_g02_c01.avi"
    broken.write_bytes(b"RIFF" + b"\0" * 200)  # passes the listing, decodes to nothing
    pipe = build_pipeline(split, "train", SETTINGS, training=False)
    with pytest.warns(SkippedVideosWarning, match="v_Beta_g02_c01.avi"):
        codes = epoch_codes(pipe)
    assert [vid for vid, *_ in codes] == [0]
    assert pipe.skipped == [{"video": "Beta/v_Beta_g02_c01.avi", "reason": "decode failed"}]
    assert len(epoch_codes(pipe)) == 1 and len(pipe.skipped) == 1  # cached: not tried again


def test_records_without_the_file_an_input_needs_are_skipped_with_the_reason(tmp_path):
    from hybridvid_lib.data.flow_cache import FlowCache

    split = make_split(tmp_path, [("Alpha", coded_frames(0)), ("Beta", coded_frames(1))], ["Alpha", "Beta"])
    split.train.append(Record("Beta/S001C001P001R001A001.skeleton", 1, "Beta", "g03",
                              files={"skeleton": tmp_path / "S001C001P001R001A001.skeleton"}))
    with pytest.warns(SkippedVideosWarning, match="no video"):
        pipe = build_pipeline(split, "train", SETTINGS, training=False)
    assert pipe.skipped == [{"video": "Beta/S001C001P001R001A001.skeleton", "reason": "no video"}]
    assert [vid for vid, *_ in epoch_codes(pipe)] == [0, 1]
    with pytest.warns(SkippedVideosWarning, match="no video and no cached flow"):
        pipe = build_pipeline(split, "train", SETTINGS, inputs=("flow",), training=False,
                              flow_cache=FlowCache(tmp_path / "flow", "dis", SIZE))
    assert pipe.num_videos == 2
    with pytest.raises(DatasetError, match="S001C001P001R001A001"):
        build_pipeline(split, "train", SETTINGS, training=False, strict=True)


def test_no_usable_video_raises_dataset_error(tmp_path):
    split = make_split(tmp_path, [("Alpha", None)], ["Alpha"], missing=["Alpha/v_Alpha_g01_c01.avi"])
    with pytest.raises(DatasetError, match="No usable train video"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedVideosWarning)
            build_pipeline(split, "train", SETTINGS, training=True)
    with pytest.raises(DatasetError, match="No usable test video"):
        build_pipeline(split, "test", SETTINGS, training=False)


def test_bad_options_are_refused(coded_split):
    with pytest.raises(ValueError, match="deterministic"):
        build_pipeline(coded_split, "train", SETTINGS, training=False, sampling="random")
    with pytest.raises(ValueError, match="expected one of"):
        build_pipeline(coded_split, "train", SETTINGS, training=True, sampling="dense")
    for inputs in (("depth",), (), ("rgb", "rgb")):
        with pytest.raises(ValueError, match="inputs must be"):
            build_pipeline(coded_split, "train", SETTINGS, inputs=inputs, training=False)
    with pytest.raises(ValueError, match="flow_stack"):
        build_pipeline(coded_split, "train", SETTINGS, inputs=("rgb",), flow_stack=4, training=False)
    with pytest.raises(DatasetError, match="flow cache"):
        build_pipeline(coded_split, "train", SETTINGS, inputs=("flow",), training=False)
    with pytest.raises(DatasetError, match="feature cache"):
        build_pipeline(coded_split, "train", SETTINGS, inputs=("features",), training=False)
    with pytest.raises(DatasetError, match="no skeleton graph"):
        build_pipeline(coded_split, "train", SETTINGS, inputs=("joints",), training=False)


def test_file_cache_is_named_by_inputs_and_subset_and_read_back(coded_split, tmp_path):
    folder = tmp_path / "cache"
    first = epoch_codes(build_pipeline(coded_split, "train", SETTINGS, training=False, cache=folder))
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith("rgb-train-") for n in names)
    assert epoch_codes(build_pipeline(coded_split, "train", SETTINGS, training=False, cache=folder)) == first
    assert sorted(p.name for p in folder.iterdir()) == names


def test_file_cache_is_not_served_for_a_rebuilt_video(tmp_path):
    split = make_split(tmp_path / "videos", [("Alpha", coded_frames(0)), ("Beta", coded_frames(1))],
                       ["Alpha", "Beta"])
    folder = tmp_path / "cache"
    assert [vid for vid, *_ in epoch_codes(build_pipeline(split, "train", SETTINGS, training=False,
                                                          cache=folder))] == [0, 1]
    names = {p.name for p in folder.iterdir()}
    write_video(split.train[1].path, coded_frames(4, num_frames=10))  # the video is made again, differently
    codes = [(vid, idx) for vid, idx, _ in epoch_codes_unchecked(
        build_pipeline(split, "train", SETTINGS, training=False, cache=folder))]
    assert codes == [(0, tuple(sample_indices(T, 4, "uniform"))), (4, tuple(sample_indices(10, 4, "uniform")))]
    assert {p.name for p in folder.iterdir()} > names  # a new fingerprint, a new cache file


def epoch_codes_unchecked(pipe) -> list[tuple[int, tuple[int, ...], int]]:
    """Like :func:`epoch_codes`, without checking the video id against the record."""
    return [(*read_codes(element["rgb"]), label) for element, label in elements(pipe)]


# --------------------------------------------------------------------------- flow
class CodedFlowCache:
    """A stand-in for :class:`~hybridvid_lib.data.flow_cache.FlowCache` whose uint8 codes the test knows.

    Video ``v`` has ``T - 1`` fields at 32x32 (the pipeline cache size: no resize); in field
    ``i``, column ``x``: dx code ``129 + 8 i + x // 4`` (rightwards, growing to the right) and
    dy code ``40 + 10 v + x // 4`` (upwards). Every pixel tells its field, video and column.
    """

    cache_dir, method, size = "coded", "coded", SIZE

    def is_cached(self, record) -> bool:
        return True

    def load(self, record) -> np.ndarray:
        return coded_flow(video_id(record))

    def compute(self, record):
        raise AssertionError("cached flow must never be recomputed")


def coded_flow(vid: int) -> np.ndarray:
    column = np.arange(SIZE) // 4
    codes = np.zeros((T - 1, SIZE, SIZE, 2), np.uint8)
    codes[..., 0] = 129 + 8 * np.arange(T - 1)[:, None, None] + column
    codes[..., 1] = 40 + 10 * vid + column
    return codes


def centre_field(vid: int, i: int) -> np.ndarray:
    """Field ``i`` of video ``vid`` as the evaluation crop sees it: (24, 24, 2) float32 in [-1, 1]."""
    return dequantize_flow(coded_flow(vid)[i])[CENTRE:CENTRE + 24, CENTRE:CENTRE + 24]


def test_flow_frame_i_gets_field_min_i_t_minus_2_exactly(coded_split):
    settings = FLOW_SETTINGS.replace(num_frames=T)  # every frame 0..11: the last one reuses field 10
    pipe = build_pipeline(coded_split, "train", settings, inputs=("flow",), flow_cache=CodedFlowCache(),
                          training=False)
    assert pipe.element_spec_doc.startswith('{"flow": (B, 12, 24, 24, 2) float32 in [-1, 1]')
    seen = []
    for element, label in elements(pipe):
        assert set(element) == {"flow", "index"}
        vid = video_id(pipe.records[element["index"]])
        expected = np.stack([centre_field(vid, min(t, T - 2)) for t in range(T)])
        np.testing.assert_allclose(element["flow"], expected, atol=1e-6)
        seen.append(vid)
    assert seen == list(range(6))


def test_stacked_flow_holds_L_consecutive_fields_as_dx_dy_channels(coded_split):
    length = 3
    pipe = build_pipeline(coded_split, "train", FLOW_SETTINGS, inputs=("flow",), flow_cache=CodedFlowCache(),
                          flow_stack=length, training=False)
    features, _ = next(iter(pipe.dataset))
    assert features["flow"].shape == (4, 24, 24, 2 * length)
    assert pipe.element_spec_doc.startswith('{"flow": (B, 24, 24, 6) float32 in [-1, 1]')
    start = (T - 1 - length) // 2  # the window of L fields, centred at test time
    for element, _ in elements(pipe):
        vid = video_id(pipe.records[element["index"]])
        stacked = element["flow"]
        for k in range(length):  # channels dx_1, dy_1, dx_2, dy_2, ...
            np.testing.assert_allclose(stacked[..., 2 * k], centre_field(vid, start + k)[..., 0], atol=1e-6)
            np.testing.assert_allclose(stacked[..., 2 * k + 1], centre_field(vid, start + k)[..., 1], atol=1e-6)

    # Training: a random window of consecutive fields, decoded from dx (129 + 8 i + column).
    pipe = build_pipeline(coded_split, "train", FLOW_SETTINGS.replace(flip_policy="off"), inputs=("flow",),
                          flow_cache=CodedFlowCache(), flow_stack=length, training=True, seed=2)
    starts = set()
    for element, _ in elements(pipe, epochs=3):
        dx_codes = np.rint(element["flow"][..., 0::2] * 127).astype(int)  # code - 128
        fields = [(int(dx_codes[..., k].min()) - 1) // 8 for k in range(length)]
        assert fields == list(range(fields[0], fields[0] + length)) and 0 <= fields[0] <= T - 1 - length
        starts.add(fields[0])
    assert len(starts) > 1



@pytest.mark.parametrize("stack", [None, 3])
def test_mean_flow_subtraction_removes_each_fields_mean_vector_and_keeps_the_rest(coded_split, stack):
    settings = FLOW_SETTINGS.replace(num_frames=T)
    kept, removed = (build_pipeline(coded_split, "train", settings, inputs=("flow",), flow_cache=CodedFlowCache(),
                                    flow_stack=stack, training=False, flow_mean_subtraction=on)
                     for on in (False, True))
    for (plain, _), (centred, _) in zip(elements(kept), elements(removed)):
        flow, out = plain["flow"], centred["flow"]
        fields = flow.reshape(flow.shape[:-1] + (-1, 2)) if stack else flow  # (..., S, S, 2) per field
        got = out.reshape(out.shape[:-1] + (-1, 2)) if stack else out
        axes = (0, 1) if stack else (1, 2)
        expected = fields - fields.mean(axis=axes, keepdims=True)  # the column pattern stays, the offset goes
        np.testing.assert_allclose(got, expected, atol=1e-5)
        np.testing.assert_allclose(got.mean(axis=axes), 0, atol=1e-5)
        assert np.abs(expected).max() > 0.01  # something is left: only the shared vector was removed

def moving_frames(vid: int) -> np.ndarray:
    """A bright 8x8 square at a video-dependent height moving right over dim noise: (T, 32, 32, 3) uint8."""
    frames = np.random.default_rng(vid).integers(0, 40, (T, SIZE, SIZE, 3), dtype=np.uint8)
    for t in range(T):
        frames[t, 4 + 3 * vid:12 + 3 * vid, 2 * t:2 * t + 8] = 230
    return frames


@pytest.fixture(scope="module")
def flip_split(tmp_path_factory) -> DatasetSplit:
    """4 PointLeft videos (a flip makes them PointRight) and 2 Wave videos, none left-right symmetric."""
    videos = [("PointLeft", moving_frames(i)) for i in range(4)] + [("Wave", moving_frames(i)) for i in (4, 5)]
    return make_split(tmp_path_factory.mktemp("flip"), videos, ["PointLeft", "PointRight", "Wave"],
                      mirror_pairs=[("PointLeft", "PointRight")])


@pytest.mark.parametrize("inputs, stack", [(("flow",), None), (("flow",), 3), (("rgb", "flow"), None)],
                         ids=["flow", "stacked-flow", "rgb+flow"])
def test_a_flip_mirrors_the_width_axis_and_negates_flow_dx(flip_split, inputs, stack):
    """Same seed, policy ``off`` vs ``swap``: same frames and crop; ``swap`` elements are flipped or not.

    A flipped PointLeft element is labelled PointRight, which tells which elements were flipped.
    """
    def pipe(policy):
        return build_pipeline(flip_split, "train", SETTINGS.replace(flip_policy=policy), inputs=inputs,
                              flow_cache=CodedFlowCache(), flow_stack=stack, training=True, seed=5, batch_size=6)

    # Flow: width is the axis before the channels; dx (every even channel of a stack) changes sign.
    dx_sign = np.tile([-1.0, 1.0], 1 if stack is None else stack).astype(np.float32)
    flips = []
    for (plain, plain_label), (swapped, label) in zip(elements(pipe("off"), 3), elements(pipe("swap"), 3)):
        assert plain["index"] == swapped["index"]
        record = flip_split.train[plain["index"]]
        assert plain_label == record.label
        mirrored_flow = plain["flow"][..., ::-1, :] * dx_sign
        assert not np.allclose(mirrored_flow, plain["flow"])  # the test data can tell a flip
        if record.class_name == "PointLeft":
            flipped = label == 1
            flips.append(flipped)
        else:
            flipped = not np.array_equal(swapped["flow"], plain["flow"])
            assert label == plain_label
        np.testing.assert_array_equal(swapped["flow"], mirrored_flow if flipped else plain["flow"])
        if "rgb" in inputs:  # one decision for both streams
            np.testing.assert_array_equal(swapped["rgb"], plain["rgb"][:, :, ::-1] if flipped else plain["rgb"])
    assert set(flips) == {True, False}


def test_flow_only_pipeline_decodes_no_rgb(tmp_path, monkeypatch):
    from hybridvid_lib.data.flow_cache import FlowCache

    split = make_split(tmp_path / "videos", [("Wave", moving_frames(i)) for i in range(3)], ["Wave"])
    flow_cache = FlowCache(tmp_path / "flow", "dis", SIZE)
    flow_cache.fill(split.train, progress=False)

    def no_decoding(*args, **kwargs):
        raise RuntimeError("RGB frames were decoded")

    monkeypatch.setattr("hybridvid_lib.data.pipeline.sources.decode_square_frames", no_decoding)
    monkeypatch.setattr("hybridvid_lib.data.flow_cache.read_video", no_decoding)  # cached flow is read, not made
    pipe = build_pipeline(split, "train", SETTINGS, inputs=("flow",), flow_cache=flow_cache, training=True)
    found = [(element["flow"].shape, int(element["index"])) for element, _ in elements(pipe)]
    assert sorted(found) == [((4, 24, 24, 2), i) for i in range(3)] and pipe.skipped == []
    with pytest.raises(Exception, match="RGB frames were decoded"):  # the patched decoder is the one RGB uses
        list(elements(build_pipeline(split, "train", SETTINGS, inputs=("rgb",), training=False)))


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

    def is_cached(self, record):
        return False

    def load(self, record):
        return None

    def compute(self, record):
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
    pipe = build_pipeline(square_split, "train", settings, inputs=("rgb", "flow"), flow_cache=DesignedFlowCache(),
                          training=False)
    features, labels = next(iter(pipe.dataset))
    assert features["rgb"].shape == (4, T, 24, 24, 3) and features["flow"].shape == (4, T, 24, 24, 2)
    dy = features["flow"].numpy()[..., 1].mean(axis=(2, 3))
    expected = 0.05 * (np.minimum(np.arange(T), T - 2) + 1)
    np.testing.assert_allclose(dy, np.broadcast_to(expected, dy.shape), atol=0.01)


def test_pair_streams_share_frames_crop_and_flip(square_split):
    pipe = build_pipeline(square_split, "train", SETTINGS, inputs=("flow", "rgb"), flow_cache=DesignedFlowCache(),
                          training=True, seed=0)
    assert pipe.inputs == ("rgb", "flow")  # always in MODALITIES order
    assert pipe.element_spec_doc.startswith('{"rgb": (B, 4, 24, 24, 3) float32 in [-1, 1], '
                                            '"flow": (B, 4, 24, 24, 2)')
    directions = []
    for element, _ in elements(pipe, epochs=3):
        square = element["rgb"][..., 0] > 0.5  # (T, 24, 24): where the square is in each frame
        moving = element["flow"][..., 0]
        for in_frame, in_flow in zip(square, np.abs(moving) > 0.25):  # the same frames and crop for both
            np.testing.assert_allclose(np.argwhere(in_flow).mean(0), np.argwhere(in_frame).mean(0), atol=0.5)
        centre_x = [np.nonzero(m)[1].mean() for m in square]
        moving_right = bool(centre_x[-1] > centre_x[0])
        assert (moving[square].mean() > 0) == moving_right  # a flip negates dx with the frames
        directions.append(moving_right)
    assert set(directions) == {True, False}


def test_pair_pipeline_with_real_dis_flow_agrees_with_the_motion(tmp_path):
    from hybridvid_lib.data.flow_cache import FlowCache

    split = make_split(tmp_path / "videos", [("Wave", square_moving_right())] * 2, ["Wave"])
    flow_cache = FlowCache(tmp_path / "flow", "dis", SIZE)
    pipe = build_pipeline(split, "train", SETTINGS, inputs=("rgb", "flow"), flow_cache=flow_cache,
                          training=True, seed=3, batch_size=2)
    directions = set()
    for element, _ in elements(pipe, epochs=3):
        square = element["rgb"][..., 0] > 0.5
        centre_x = [np.nonzero(m)[1].mean() for m in square]
        directions.add(bool(centre_x[-1] > centre_x[0]))
        assert (element["flow"][:-1, ..., 0][square[:-1]].mean() > 0) == (centre_x[-1] > centre_x[0])
    assert directions == {True, False}
    assert all(flow_cache.is_cached(r) for r in split.train)  # computed while the pipeline cache filled


# --------------------------------------------------------------------------- cached features
def feature_sequence(vid: int, steps: int = 10) -> np.ndarray:
    """(steps, 5) float32 whose value tells the video (hundreds), the step (units) and the column (tenths)."""
    return (100.0 * vid + np.arange(steps)[:, None] + np.arange(5)[None, :] / 10).astype(np.float32)


@pytest.fixture
def feature_split(tmp_path):
    """4 records without any file (their features are cached) and one whose features are not."""
    from hybridvid_lib.data.feature_cache import FeatureCache

    records = [Record(f"Alpha/v_Alpha_g{n + 1:02d}_c01.avi", 0, "Alpha", f"g{n + 1:02d}") for n in range(5)]
    cache = FeatureCache(tmp_path / "features", "toy", dim=5)
    for n, record in enumerate(records[:4]):
        cache.save(record, feature_sequence(n))
    return DatasetSplit("folder", 1, ["Alpha"], tmp_path, train=records), cache


def test_features_come_from_the_feature_cache_sampled_by_the_rules(feature_split):
    split, cache = feature_split
    with pytest.warns(SkippedVideosWarning, match="features not cached"):
        pipe = build_pipeline(split, "train", SETTINGS, inputs=("features",), feature_cache=cache, training=False)
    assert pipe.skipped == [{"video": split.train[4].relpath, "reason": "features not cached"}]
    assert pipe.element_spec_doc.startswith('{"features": (B, 10, 5) float32')
    found = [(int(e["index"]), e["features"]) for e, _ in elements(pipe)]
    assert [i for i, _ in found] == [0, 1, 2, 3]
    for i, features in found:  # no feature_steps: the whole cached sequence
        np.testing.assert_array_equal(features, feature_sequence(i))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedVideosWarning)
        pipe = build_pipeline(split, "train", SETTINGS, inputs=("features",), feature_cache=cache,
                              feature_steps=4, training=False)
        steps = sample_indices(10, 4, "uniform")
        for element, _ in elements(pipe):
            np.testing.assert_array_equal(element["features"], feature_sequence(int(element["index"]))[steps])
        pipe = build_pipeline(split, "train", SETTINGS, inputs=("features",), feature_cache=cache,
                              feature_steps=4, training=True, seed=0)
        draws = set()
        for element, _ in elements(pipe, epochs=3):
            features = element["features"]
            rows = np.rint(features[:, 0] % 100).astype(int)  # which steps of the cached sequence
            np.testing.assert_array_equal(features, feature_sequence(int(element["index"]))[rows])
            bins = np.arange(5) * 10 / 4  # uniform training: one step in each quarter of the sequence
            assert np.all((np.floor(bins[:-1]) <= rows) & (rows < bins[1:]))
            draws.add(tuple(rows))
        assert len(draws) > 1  # new steps each epoch


def test_a_features_pipeline_never_flips_so_mirror_pair_labels_stay_their_own(tmp_path):
    """A cached sequence cannot be mirrored: under "swap" its mirror-pair label must not be swapped either."""
    from hybridvid_lib.data.feature_cache import FeatureCache

    classes = ["PointLeft", "PointRight", "Wave"]
    names = ["PointLeft", "PointRight", "Wave"] * 4
    records = [Record(f"{c}/v_{c}_g{n + 1:02d}_c01.avi", classes.index(c), c, f"g{n + 1:02d}")
               for n, c in enumerate(names)]
    cache = FeatureCache(tmp_path / "features", "toy", dim=5)
    for n, record in enumerate(records):
        cache.save(record, feature_sequence(n))
    split = DatasetSplit("folder", 1, classes, tmp_path, train=records, mirror_pairs=[("PointLeft", "PointRight")])
    assert split.mirror_label_map() == [1, 0, 2]
    pipe = build_pipeline(split, "train", SETTINGS.replace(flip_policy="swap"), inputs=("features",),
                          feature_cache=cache, training=True, seed=0)
    seen = [(int(element["index"]), label) for element, label in elements(pipe, epochs=4)]
    assert len(seen) == 4 * len(records)
    assert all(label == records[i].label for i, label in seen)
    assert {label for i, label in seen if records[i].class_name == "PointLeft"} == {0}  # never swapped to PointRight


# --------------------------------------------------------------------------- several test-time clips
def test_several_clips_per_video_at_evaluation_are_averaged_per_video(coded_split):
    import keras

    from hybridvid_lib.evaluation import collect_predictions

    with pytest.raises(ValueError, match="clips_per_video"):
        build_pipeline(coded_split, "train", SETTINGS, training=True, clips_per_video=2)
    pipe = build_pipeline(coded_split, "train", SETTINGS, training=False, clips_per_video=3, batch_size=4)
    assert pipe.clips_per_video == 3 and pipe.num_videos == 6
    found = [(int(e["index"]), read_codes(e["rgb"]), label) for e, label in elements(pipe)]
    assert [i for i, *_ in found] == [i for i in range(6) for _ in range(3)]  # K elements per video, in order
    for k, (i, (vid, idx), label) in enumerate(found):
        assert vid == i and label == coded_split.train[i].label
        assert idx == tuple(sample_indices(T, 4, "uniform", clip=k % 3, num_clips=3))
    assert len({idx for _, (_, idx), _ in found}) == 3  # the clips of a video differ

    rgb = keras.Input((4, 24, 24, 3), name="rgb")
    probs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling3D()(rgb))
    model = keras.Model(rgb, probs)
    y_true, y_prob = collect_predictions(model, pipe.dataset)
    assert y_true.tolist() == [r.label for r in coded_split.train] and y_prob.shape == (6, 2)
    per_clip = np.concatenate([model.predict_on_batch(f["rgb"]) for f, _ in pipe.dataset]).reshape(6, 3, 2)
    assert np.ptp(per_clip, axis=1).max() > 1e-4  # clips score differently, so the mean matters
    np.testing.assert_allclose(y_prob, per_clip.mean(axis=1), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- validation subset
def test_val_pipeline_reads_exactly_the_validation_records(tmp_path):
    videos = [("Alpha" if n % 2 else "Beta", coded_frames(n, num_frames=6)) for n in range(8)]
    ds = make_split(tmp_path, videos, ["Alpha", "Beta"], test=videos[6:]).with_validation(0.34, seed=0)
    assert ds.val and ds.train and ds.test
    read = {}
    for subset in ("train", "val", "test"):
        pipe = build_pipeline(ds, subset, SETTINGS, training=False)
        codes = epoch_codes(pipe)
        assert [vid for vid, *_ in codes] == [video_id(r) for r in ds.subset(subset)]
        read[subset] = {pipe.records[int(e["index"])].group for e, _ in elements(pipe)}
    assert read["val"] == {r.group for r in ds.val}
    assert not read["val"] & read["train"] and not read["val"] & read["test"] and not read["train"] & read["test"]


# --------------------------------------------------------------------------- end to end
def test_one_builder_feeds_every_video_input_of_stickactions(stickactions_smoke, tmp_path):
    from hybridvid_lib.data.datasets import load_dataset
    from hybridvid_lib.data.flow_cache import FlowCache

    ds = load_dataset("stickactions", stickactions_smoke)
    settings = resolve_settings("smoke")
    s, t, j = settings.frame_size, settings.num_frames, len(ds.metadata["skeleton"]["joints"])
    flow_cache = FlowCache(tmp_path / "flow", settings.flow_method, settings.flow_size)
    pipe = build_pipeline(ds, "test", settings, inputs=("rgb", "flow", "joints"), flow_cache=flow_cache,
                          training=False, batch_size=2)
    features, labels = next(iter(pipe.dataset))
    assert features["rgb"].shape == (2, t, s, s, 3) and features["flow"].shape == (2, t, s, s, 2)
    assert features["joints"].shape == (2, t, j, 3) and int(labels.numpy().max()) < ds.num_classes
    joints = features["joints"].numpy()
    assert np.isfinite(joints).all() and np.abs(joints[..., :2]).max() <= 1.5
