import numpy as np
import pytest

from hybridvid_lib.viz.attention import (
    AttentionScrubber, plot_attention_over_frames, plot_mean_attention_by_class, step_frames, step_of_frame,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fake_clip(name: str):
    """A 40-frame grey clip (frame t is t * 5 bright) and 5 weights, step 3 the largest."""
    frames = np.stack([np.full((16, 16, 3), t * 5, np.uint8) for t in range(40)])
    weights = {"a": [0.1, 0.1, 0.1, 0.6, 0.1], "b": [0.2, 0.2, 0.2, 0.2, 0.2]}[name]
    return frames, np.asarray(weights)


def test_frames_map_to_steps_of_eight():
    assert [step_of_frame(f, 5) for f in (0, 7, 8, 39, 45)] == [0, 0, 1, 4, 4]
    assert list(step_frames(1, 40, 5)) == list(range(8, 16))
    assert list(step_frames(1, 12, 2)) == list(range(8, 12))  # a short last step
    assert list(step_frames(4, 44, 5)) == list(range(32, 44))  # the last step takes the frames past it


def test_scrubber_renders_the_frame_with_its_steps_weight_drawn():
    scrubber = AttentionScrubber(fake_clip, ["a", "b"], scale=1)
    assert bytes(scrubber.image.value).startswith(PNG_SIGNATURE)
    assert scrubber.slider.max == scrubber.play.max == 39
    scrubber.slider.value = 27  # frame 27 lies in step 3 (frames 24-31), the heaviest
    assert "feature step 3 (frames 24-31), attention weight 0.60" in scrubber.caption.value
    image = scrubber.render(27)
    assert image.shape == (16 + AttentionScrubber.BAR_ROWS, 16, 3)
    assert (image[:16] == 27 * 5).all()  # the frame itself, untouched
    bars = image[16:]
    orange = np.all(bars == (255, 127, 14), axis=-1)
    blue = np.all(bars == (31, 119, 180), axis=-1)
    # The current step's bar is orange, in the 4th fifth of the width, and taller than the others (0.6 vs 0.1).
    columns = np.nonzero(orange.any(axis=0))[0]
    assert columns.min() >= 9 and columns.max() <= 12
    assert orange.sum(axis=0).max() > 3 * blue.sum(axis=0).max()
    # Frame 3 belongs to step 0: another bar is orange now.
    assert not np.array_equal(scrubber.render(3)[16:], bars)


def test_scrubber_picker_loads_a_new_clip():
    scrubber = AttentionScrubber(fake_clip, ["a", "b"])
    scrubber.slider.value = 30
    scrubber.picker.value = "b"
    assert scrubber.slider.value == 0 and scrubber.caption.value.startswith("b: frame 1 of 40")
    assert "attention weight 0.20 (uniform 0.20)" in scrubber.caption.value


def test_scrubber_refuses_more_weights_than_steps():
    with pytest.raises(ValueError, match="40 frames and 6 attention weights"):
        AttentionScrubber(lambda name: (fake_clip("a")[0], np.full(6, 1 / 6)), ["a"])
    with pytest.raises(ValueError, match="at least one clip"):
        AttentionScrubber(fake_clip, [])


def test_static_figure_has_one_panel_per_clip():
    clips = [fake_clip("a")[0], np.zeros((40, 16, 16, 3), np.float32)]  # uint8 and [-1, 1] float clips
    weights = np.stack([fake_clip("a")[1], fake_clip("b")[1]])
    fig = plot_attention_over_frames(clips, weights, titles=["a", "b"])
    assert len(fig.axes) == 2
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["a", "b"]
    # One bar per step in each panel, the weights written above them.
    assert len(fig.axes[0].patches) == 5
    assert "0.60" in [t.get_text() for t in fig.axes[0].texts]
    with pytest.raises(ValueError, match="N clips and"):
        plot_attention_over_frames(clips, weights[:1])


def test_mean_attention_by_class_averages_each_class():
    weights = np.array([[0.5, 0.5], [0.1, 0.9], [0.3, 0.7]])
    fig = plot_mean_attention_by_class(weights, [0, 0, 1], ["x", "y", "z"])
    image = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(image[0], [0.3, 0.7])
    np.testing.assert_allclose(image[1], [0.3, 0.7])
    assert np.ma.is_masked(image[2]) or np.isnan(np.asarray(image[2], float)).all()
