"""ST-GCN's partition strategies: shapes, sums, normalisation, and a chain graph worked out by hand."""

import numpy as np
import pytest

from hybridvid_lib.data.skeletons import SKELETON_GRAPHS, STICK_FIGURE, SkeletonGraph
from hybridvid_lib.models.graph_partitions import (
    PARTITION_STRATEGIES,
    graph_partitions,
    hop_distance,
    normalize_digraph,
    normalized_adjacency,
    partition_names,
)

# 0 - 1 - 2 with centre 1: joint 1 has three joints in its neighbour set, joints 0 and 2 two each.
CHAIN = SkeletonGraph(name="chain", joints=("a", "b", "c"), edges=((0, 1), (1, 2)), center=1)
J = STICK_FIGURE.num_joints


@pytest.mark.parametrize("strategy, k", [("uniform", 1), ("distance", 2), ("spatial", 3)])
def test_shapes_dtype_and_names(strategy, k):
    a = graph_partitions(STICK_FIGURE, strategy)
    assert a.shape == (k, J, J) and a.dtype == np.float32
    assert len(partition_names(strategy)) == k
    assert (a >= 0).all()


@pytest.mark.parametrize("strategy", PARTITION_STRATEGIES)
def test_the_subsets_are_disjoint_and_sum_to_the_normalised_adjacency(strategy):
    a = graph_partitions(STICK_FIGURE, strategy)
    np.testing.assert_allclose(a.sum(axis=0), normalized_adjacency(STICK_FIGURE), rtol=1e-6)
    assert ((a > 0).sum(axis=0) <= 1).all()  # every (v, w) pair is in one subset at most


def test_every_column_of_the_stick_figure_adjacency_sums_to_one():
    total = graph_partitions(STICK_FIGURE, "spatial").sum(axis=0)
    np.testing.assert_allclose(total.sum(axis=0), np.ones(J), rtol=1e-6)
    # Column w averages over w's neighbour set: the chest (pelvis, neck, itself) gets 1/3 each.
    chest = STICK_FIGURE.index("chest")
    np.testing.assert_allclose(total[[0, 1, 2], chest], [1 / 3] * 3, rtol=1e-6)
    # The hand has only its wrist: 1/2 each.
    hand = STICK_FIGURE.index("left_hand")
    assert sorted(np.flatnonzero(total[:, hand])) == [STICK_FIGURE.index("left_wrist"), hand]


@pytest.mark.parametrize("name", sorted(SKELETON_GRAPHS))
def test_every_registered_skeleton_gives_averaging_columns(name):
    graph = SKELETON_GRAPHS[name]
    a = graph_partitions(graph, "spatial")
    assert a.shape == (3, graph.num_joints, graph.num_joints)
    np.testing.assert_allclose(a.sum(axis=(0, 1)), np.ones(graph.num_joints), rtol=1e-6)
    assert (a[1].sum(axis=0)[graph.center] == 0) and (a[0].diagonal() > 0).all()  # nothing is closer than the centre


def test_chain_graph_by_hand():
    # A D^-1 with A = [[1,1,0],[1,1,1],[0,1,1]] and column sums (2, 3, 2).
    normalized = np.array([[1 / 2, 1 / 3, 0], [1 / 2, 1 / 3, 1 / 2], [0, 1 / 3, 1 / 2]])
    np.testing.assert_allclose(normalized_adjacency(CHAIN), normalized, rtol=1e-6)

    root, centripetal, centrifugal = graph_partitions(CHAIN, "spatial")
    # Root: each joint's own self-loop.
    np.testing.assert_allclose(root, np.diag([1 / 2, 1 / 3, 1 / 2]), rtol=1e-6)
    # Centripetal: for targets 0 and 2 the source 1 (the centre) is closer to the centre.
    np.testing.assert_allclose(centripetal, [[0, 0, 0], [1 / 2, 0, 1 / 2], [0, 0, 0]], rtol=1e-6)
    # Centrifugal: for the centre (target 1) both sources 0 and 2 are farther away.
    np.testing.assert_allclose(centrifugal, [[0, 1 / 3, 0], [0, 0, 0], [0, 1 / 3, 0]], rtol=1e-6)

    hop0, hop1 = graph_partitions(CHAIN, "distance")
    np.testing.assert_allclose(hop0, root, rtol=1e-6)
    np.testing.assert_allclose(hop1, centripetal + centrifugal, rtol=1e-6)
    np.testing.assert_allclose(graph_partitions(CHAIN, "uniform")[0], normalized, rtol=1e-6)


def test_joint_count_edges_and_center_give_the_same_as_the_graph():
    by_graph = graph_partitions(STICK_FIGURE, "spatial")
    by_parts = graph_partitions(J, "spatial", edges=STICK_FIGURE.edges, center=STICK_FIGURE.center)
    np.testing.assert_array_equal(by_graph, by_parts)


def test_spatial_subsets_follow_the_true_distance_to_the_centre_far_from_it():
    # Elbow -> wrist, four bones from the pelvis: for the wrist the elbow is centripetal and the
    # hand centrifugal (a distance capped at max_hop would call both "infinitely far").
    _, centripetal, centrifugal = graph_partitions(STICK_FIGURE, "spatial")
    elbow, wrist, hand = (STICK_FIGURE.index(n) for n in ("left_elbow", "left_wrist", "left_hand"))
    assert centripetal[elbow, wrist] > 0 and centrifugal[elbow, wrist] == 0
    assert centrifugal[hand, wrist] > 0 and centripetal[hand, wrist] == 0
    # Every joint but the centre has exactly one centripetal neighbour in a tree: its parent.
    counts = (centripetal > 0).sum(axis=0)
    assert counts[STICK_FIGURE.center] == 0 and (np.delete(counts, STICK_FIGURE.center) == 1).all()


def test_mirror_permutation_maps_every_subset_onto_itself():
    # Left and right are alike for the graph: swapping them is a symmetry of every subset.
    perm = STICK_FIGURE.mirror_permutation()
    a = graph_partitions(STICK_FIGURE, "spatial")
    np.testing.assert_array_equal(a[:, perm][:, :, perm], a)


def test_two_hops():
    a = graph_partitions(CHAIN, "distance", max_hop=2)
    assert a.shape == (3, 3, 3)
    np.testing.assert_allclose(a.sum(axis=0).sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(a[2], [[0, 0, 1 / 3], [0, 0, 0], [1 / 3, 0, 0]], rtol=1e-6)
    assert graph_partitions(STICK_FIGURE, "spatial", max_hop=2).shape == (5, J, J)
    assert partition_names("spatial", max_hop=2)[1:3] == ("centripetal (hop 1)", "centrifugal (hop 1)")


def test_hop_distance_and_normalize_digraph():
    d = hop_distance(CHAIN)
    np.testing.assert_array_equal(d, [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    assert np.isinf(hop_distance(CHAIN, max_hop=1)[0, 2])
    np.testing.assert_allclose(normalize_digraph(np.array([[1.0, 0.0], [3.0, 0.0]])), [[0.25, 0], [0.75, 0]])


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="uniform, distance, spatial"):
        graph_partitions(CHAIN, "nearest")
    with pytest.raises(ValueError, match="max_hop"):
        graph_partitions(CHAIN, "spatial", max_hop=0)
    with pytest.raises(ValueError, match="centre joint"):
        graph_partitions(3, "spatial", edges=[(0, 1), (1, 2)])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        graph_partitions(3, "uniform", edges=[(0, 3)])
    with pytest.raises(ValueError, match="not both"):
        graph_partitions(CHAIN, "uniform", edges=[(0, 1)])
