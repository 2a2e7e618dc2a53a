"""Chapter 02's plots: the fields of a flow stack drawn on one speed scale, and per-class accuracy side by side."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import BarContainer

from hybridvid_lib.data.flow import flow_to_hsv_image
from hybridvid_lib.viz.classification import plot_per_class_comparison
from hybridvid_lib.viz.flow import show_flow_stack, unstack_flow


def test_unstack_flow_inverts_the_pipelines_stacking():
    fields = np.random.default_rng(0).normal(size=(3, 4, 5, 2)).astype(np.float32)
    stack = np.transpose(fields, (1, 2, 0, 3)).reshape(4, 5, 6)  # dx_1, dy_1, dx_2, ...
    np.testing.assert_array_equal(unstack_flow(stack), fields)
    with pytest.raises(ValueError, match="even number of channels"):
        unstack_flow(np.zeros((4, 4, 3)))


def test_show_flow_stack_draws_every_field_on_one_scale_and_the_wheel():
    fields = np.zeros((3, 8, 8, 2), np.float32)
    fields[0, 2:4, 2:4, 0] = 0.1  # slow, to the right
    fields[2, 2:4, 2:4, 1] = 0.2  # fast, down
    stack = np.transpose(fields, (1, 2, 0, 3)).reshape(8, 8, 6)
    fig = show_flow_stack(stack, title="stack")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4 and len(plt.get_fignums()) == 1  # 3 fields and the wheel
    first = panels[0].images[0].get_array()
    np.testing.assert_array_equal(first, flow_to_hsv_image(fields[0], max_magnitude=0.2))  # the shared scale
    assert panels[0].get_xlabel() == "field 1" and "4.0 px/frame" in panels[-1].get_title()
    fig = show_flow_stack(stack, fields=[1], wheel=False)
    assert len([ax for ax in fig.axes if ax.images]) == 1
    with pytest.raises(ValueError, match="field numbers"):
        show_flow_stack(stack, fields=[3])


def test_per_class_comparison_draws_one_bar_per_model_and_class():
    per_class = {"rgb": {"A": 0.5, "B": 1.0, "C": None}, "flow": {"A": 1.0, "B": 0.25, "C": 0.75}}
    fig = plot_per_class_comparison(per_class, highlight=["A"], chance=1 / 3)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [len(b) for b in bars] == [3, 3]
    assert [round(p.get_width(), 2) for p in bars[1]] == [1.0, 0.25, 0.75]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="same classes"):
        plot_per_class_comparison({"rgb": {"A": 1.0}, "flow": {"B": 1.0}})
    with pytest.raises(ValueError, match="unknown classes"):
        plot_per_class_comparison(per_class, highlight=["Z"])
