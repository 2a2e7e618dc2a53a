import numpy as np
import pytest

from hybridvid_lib.data.sampling import (
    STRATEGIES,
    TEST_TIME_STRATEGIES,
    describe_strategy,
    sample_indices,
    window_length,
)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("num_available", [1, 5, 16, 17, 100])
@pytest.mark.parametrize("training", [False, True])
def test_indices_are_int64_and_inside_the_video(strategy, num_available, training):
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = sample_indices(num_available, 8, strategy, stride=3, training=training, rng=rng)
        assert idx.dtype == np.int64 and idx.shape == (8,)
        assert idx.min() >= 0 and idx.max() < num_available


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("training", [False, True])
def test_long_videos_give_increasing_indices(strategy, training):
    rng = np.random.default_rng(1)
    for n in (16, 17, 40, 101):
        idx = sample_indices(n, 8, strategy, stride=2, training=training, rng=rng)
        assert np.all(np.diff(idx) > 0), (n, idx)


def test_uniform_and_segments_take_bin_centres_at_test_time():
    expected = [2, 7, 12, 17]  # centres of the bins [0,5), [5,10), [10,15), [15,20)
    assert sample_indices(20, 4, "uniform").tolist() == expected
    assert sample_indices(20, 4, "segments").tolist() == expected


def test_stride_window_is_centred_at_test_time():
    # 4 frames 3 apart span 10 frames; a 20-frame video leaves 10 spare, 5 on each side.
    assert sample_indices(20, 4, "stride", stride=3).tolist() == [5, 8, 11, 14]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_test_time_strategies_are_exactly_those_with_fixed_test_clips(strategy):
    # TEST_TIME_STRATEGIES is what the `sampling` setting accepts: it must hold every strategy
    # whose test-time draw ignores the generator, and none whose draw does not.
    draws = {tuple(sample_indices(50, 8, strategy, rng=np.random.default_rng(s))) for s in range(10)}
    assert (len(draws) == 1) == (strategy in TEST_TIME_STRATEGIES), draws


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_training_draws_vary_with_the_generator_and_repeat_with_its_seed(strategy):
    draws = {tuple(sample_indices(60, 8, strategy, training=True, rng=np.random.default_rng(s)))
             for s in range(10)}
    assert len(draws) > 1
    again = sample_indices(60, 8, strategy, training=True, rng=np.random.default_rng(3))
    assert np.array_equal(again, sample_indices(60, 8, strategy, training=True, rng=np.random.default_rng(3)))


def test_uniform_training_keeps_even_spacing_and_segments_does_not():
    rng = np.random.default_rng(0)
    uniform = [np.diff(sample_indices(80, 8, "uniform", training=True, rng=rng)) for _ in range(30)]
    assert all(set(d.tolist()) == {10} for d in uniform)
    segments = [np.diff(sample_indices(80, 8, "segments", training=True, rng=rng)) for _ in range(30)]
    assert any(len(set(d.tolist())) > 1 for d in segments)


def test_training_stays_inside_each_bin():
    rng = np.random.default_rng(0)
    for strategy in ("uniform", "segments"):
        for _ in range(50):
            idx = sample_indices(40, 4, strategy, training=True, rng=rng)
            assert np.array_equal(idx // 10, np.arange(4)), (strategy, idx)


def test_random_strategy_is_random_even_at_test_time():
    draws = {tuple(sample_indices(60, 4, "random", rng=np.random.default_rng(s))) for s in range(10)}
    assert len(draws) > 1
    assert all(np.all(np.diff(d) == 2) for d in draws)


@pytest.mark.parametrize("strategy", ["uniform", "segments"])
def test_short_video_loops_or_pads_whole_video_strategies(strategy):
    assert sample_indices(3, 7, strategy).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert sample_indices(3, 7, strategy, short="pad").tolist() == [0, 1, 2, 2, 2, 2, 2]


@pytest.mark.parametrize("strategy", ["stride", "random"])
def test_short_video_loops_or_pads_strided_windows(strategy):
    # 4 frames 2 apart need 7 frames; a 5-frame video is short: 0 2 4 then 6 wraps to 1 or pads to 4.
    rng = np.random.default_rng(0)
    assert window_length(4, strategy, stride=2) == 7
    assert sample_indices(5, 4, strategy, stride=2, training=True, rng=rng).tolist() == [0, 2, 4, 1]
    assert sample_indices(5, 4, strategy, stride=2, short="pad").tolist() == [0, 2, 4, 4]


def test_one_frame_video_repeats_that_frame():
    for strategy in STRATEGIES:
        assert sample_indices(1, 4, strategy, training=True).tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_available=0, num_frames=4), "num_available"),
        (dict(num_available=10, num_frames=0), "num_frames"),
        (dict(num_available=10, num_frames=4, stride=0), "stride"),
        (dict(num_available=10, num_frames=4, strategy="dense"), "uniform, stride, segments, random"),
        (dict(num_available=10, num_frames=4, short="mirror"), "loop, pad"),
    ],
)
def test_bad_arguments_raise_one_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_indices(**kwargs)


def test_every_strategy_has_a_one_sentence_description():
    for name in STRATEGIES:
        text = describe_strategy(name)
        assert text.startswith(name) and text.endswith(".")
    with pytest.raises(ValueError, match="expected one of"):
        describe_strategy("dense")
