"""``hybridvid bench pipeline``: the figures it prints are the ones it measured, on the same clips."""

import json
from collections import Counter

import pytest

from hybridvid_lib.bench import bench_pipeline, format_bench
from hybridvid_lib.cli import main
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.flow_methods import available_flow_methods

NUM_VIDEOS = 12  # the first 12 training videos of the smoke set: three classes, four each


@pytest.fixture(scope="module")
def bench(stickactions_smoke):
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "pipeline", "--root", str(stickactions_smoke), "--videos", str(NUM_VIDEOS),
                     "--epochs", "3", "--frames", "4", "--size", "32", "--json"])
    assert code == 0
    return json.loads(out.getvalue())  # fails unless stdout is exactly one JSON document


def test_every_timed_pass_reads_the_same_clips(bench, stickactions_smoke):
    ds = load_dataset("stickactions", stickactions_smoke, check_videos=False)
    records = ds.usable("train")[:NUM_VIDEOS]
    # A flip may swap a mirror class's label (policy "swap"), so labels are compared up to mirroring.
    mirror = ds.mirror_label_map()

    def up_to_mirroring(counts):
        merged = Counter()
        for label, n in counts.items():
            merged[min(int(label), mirror[int(label)])] += n
        return merged

    expected = up_to_mirroring(Counter(str(r.label) for r in records))
    assert len(expected) > 1  # several classes, or the check below could not tell clips apart
    passes = bench["passes"]
    assert [p["pass"] for p in passes] == ["tutorial generator", "tf.data, first epoch",
                                           "tf.data, cached epoch 2", "tf.data, cached epoch 3"]
    for p in passes:
        assert p["clips"] == NUM_VIDEOS == sum(p["labels"].values()), p["pass"]
        assert up_to_mirroring(p["labels"]) == expected, p["pass"]
    assert passes[0]["labels"] == {str(k): n for k, n in sorted(Counter(r.label for r in records).items())}


def test_reported_rates_are_the_measured_clips_over_seconds(bench):
    rate = [p["clips"] / p["seconds"] for p in bench["passes"]]
    assert bench["naive_clips_per_s"] == pytest.approx(rate[0], abs=0.006)
    assert bench["first_epoch_clips_per_s"] == pytest.approx(rate[1], abs=0.006)
    cached = (rate[2] + rate[3]) / 2  # the mean over the cached epochs, not the first one
    assert bench["cached_clips_per_s"] == pytest.approx(cached, abs=0.006)
    assert bench["speedup_cached_vs_naive"] == pytest.approx(cached / rate[0], abs=0.006)
    assert (bench["num_videos"], bench["num_frames"], bench["frame_size"], bench["epochs"]) == (NUM_VIDEOS, 4, 32, 3)
    assert set(bench["flow_fps"]) == set(available_flow_methods())  # every method this OpenCV offers


def test_text_table_shows_the_numbers_of_the_result(bench):
    lines = format_bench(bench).splitlines()

    def row(start):
        return next(line.strip() for line in lines if line.strip().startswith(start))

    assert row("naive OpenCV generator").endswith(f" {bench['naive_clips_per_s']:.1f}")
    assert row("tf.data, first epoch").endswith(f" {bench['first_epoch_clips_per_s']:.1f}")
    assert row(f"tf.data, cached epochs (mean of {bench['epochs'] - 1})").endswith(
        f" {bench['cached_clips_per_s']:.1f}  {bench['speedup_cached_vs_naive']:.1f}x the naive generator")
    for method, fps in bench["flow_fps"].items():
        assert row(method).split() == [method, f"{fps:.1f}"]


@pytest.mark.parametrize("kwargs", [dict(epochs=1), dict(num_videos=0), dict(frame_size=4)])
def test_bench_pipeline_rejects_settings_it_cannot_time(kwargs):
    with pytest.raises(ValueError, match="must be a whole number"):
        bench_pipeline(**kwargs, progress=False)
