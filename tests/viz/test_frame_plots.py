"""Frame strips and sample predictions: which frames, which titles, which colours."""

import numpy as np
import pytest

from hybridvid_lib import viz

NAMES = ["SitDown", "StandUp", "Wave", "Jump"]


def test_sample_predictions_titles_and_colours():
    rng = np.random.default_rng(1)
    clips = rng.uniform(-1, 1, size=(5, 8, 12, 10, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 3, 0])
    prob = np.eye(4)[[0, 2, 2, 3, 1]] * 0.6 + 0.1  # rows sum to 1; p(predicted) = 0.7
    fig = viz.plot_sample_predictions(clips, y, prob, NAMES, frames_per_clip=4, max_clips=4)
    assert len(fig.axes) == 4
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == [
        "SitDown / SitDown (0.70)", "StandUp / Wave (0.70)", "Wave / Wave (0.70)", "Jump / Jump (0.70)"]
    assert [t.get_color() for t in titles] == [viz.RIGHT_COLOR, viz.WRONG_COLOR, viz.RIGHT_COLOR, viz.RIGHT_COLOR]
    strip = fig.axes[0].images[0].get_array()
    assert strip.shape == (12, 4 * 10 + 3 * 1, 3)  # four frames, three one-pixel gaps

    errors = viz.plot_sample_predictions(clips, y, prob, NAMES, errors_only=True)
    assert [ax.title.get_text() for ax in errors.axes] == ["StandUp / Wave (0.70)", "SitDown / StandUp (0.70)"]


def test_sample_predictions_accepts_uint8_and_checks_shapes():
    clips = np.zeros((2, 3, 8, 8, 3), np.uint8)
    fig = viz.plot_sample_predictions(clips, [0, 1], np.eye(4)[[0, 1]], NAMES)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="N = 2"):
        viz.plot_sample_predictions(clips[:1], [0, 1], np.eye(4)[[0, 1]], NAMES)


def test_float_frames_map_to_uint8():
    out = viz.to_uint8_frames(np.array([[[[-1.0, 0.0, 1.0]]]]))
    assert out.dtype == np.uint8 and out.ravel().tolist() == [0, 128, 255]


def test_show_frames_labels_frame_indices():
    frames = np.zeros((16, 8, 8, 3), np.uint8)
    ax = viz.show_frames(frames, num=4, title="uniform").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "5", "10", "15"]
    assert ax.get_title() == "uniform"
    ax = viz.show_frames(frames, indices=[1, 3, 5]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "5"]
    with pytest.raises(ValueError, match=r"\[0, 16\)"):
        viz.show_frames(frames, indices=[16])
