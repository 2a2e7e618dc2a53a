"""Skeleton plots: the graph drawn upright, partition subsets of a root, adjacency images, values per bone."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from hybridvid_lib.data.skeletons import STICK_FIGURE
from hybridvid_lib.models.graph_partitions import graph_partitions, partition_names
from hybridvid_lib.viz.skeleton import (
    draw_skeleton_graph, edge_values_from_matrix, partition_subsets_of, plot_adjacency_subsets,
    plot_partition_subsets,
)

J = STICK_FIGURE.num_joints
POSE = np.stack([np.linspace(10, 50, J), np.linspace(5, 90, J), np.ones(J)], axis=1)  # (J, 3) x, y, confidence


def test_graph_is_drawn_with_one_line_per_bone_and_y_pointing_down():
    fig = draw_skeleton_graph(STICK_FIGURE, POSE, title="stick")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == len(STICK_FIGURE.edges)
    bottom, top = ax.get_ylim()
    assert bottom > top  # image coordinates: larger y lower on the page
    assert ax.get_title() == "stick"


def test_edge_values_set_width_and_a_colour_bar():
    values = np.linspace(0.5, 1.5, len(STICK_FIGURE.edges))
    fig = draw_skeleton_graph(STICK_FIGURE, POSE, edge_values=values, joint_values=np.ones(J))
    widths = [line.get_linewidth() for line in fig.axes[0].lines]
    assert widths[-1] > widths[0]
    assert len(fig.axes) == 2  # the panel and its colour bar
    with pytest.raises(ValueError, match="one number per bone"):
        draw_skeleton_graph(STICK_FIGURE, POSE, edge_values=[1.0])
    with pytest.raises(ValueError, match=r"\(18, 2\)"):
        draw_skeleton_graph(STICK_FIGURE, POSE[:5])


def test_partition_subsets_of_the_left_elbow():
    a = graph_partitions(STICK_FIGURE, "spatial")
    elbow = STICK_FIGURE.index("left_elbow")
    members = partition_subsets_of(a, elbow)
    assert members == {elbow: 0, STICK_FIGURE.index("left_shoulder"): 1, STICK_FIGURE.index("left_wrist"): 2}


def test_partition_panels_one_per_strategy_with_a_legend_per_subset():
    strategies = ("uniform", "distance", "spatial")
    fig = plot_partition_subsets(STICK_FIGURE, POSE, "neck", {s: graph_partitions(STICK_FIGURE, s) for s in strategies},
                                 {s: partition_names(s) for s in strategies})
    assert [ax.get_title() for ax in fig.axes] == ["uniform: K = 1", "distance: K = 2", "spatial: K = 3"]
    assert [len(ax.get_legend().get_texts()) for ax in fig.axes] == [1, 2, 3]


def test_adjacency_images_share_one_scale():
    a = graph_partitions(STICK_FIGURE, "spatial")
    fig = plot_adjacency_subsets(a, partition_names("spatial"), joint_names=STICK_FIGURE.joints, title="A")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert {im.get_clim() for im in images} == {(0.0, float(a.max()))}
    with pytest.raises(ValueError, match="K names"):
        plot_adjacency_subsets(a, ["root"])


def test_edge_values_from_matrix_average_both_directions_where_the_graph_has_the_bone():
    a = graph_partitions(STICK_FIGURE, "spatial")
    m = np.ones_like(a)
    i, j = STICK_FIGURE.edges[0]
    m[:, i, j], m[:, j, i] = 3.0, 1.0
    values = edge_values_from_matrix(STICK_FIGURE, m, a)
    assert values.shape == (len(STICK_FIGURE.edges),)
    assert values[0] == pytest.approx(2.0) and np.allclose(values[1:], 1.0)
