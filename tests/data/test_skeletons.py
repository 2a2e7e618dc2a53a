"""Skeleton graphs: adjacency, connectivity, mirror relabelling, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridvid_lib.data.skeletons import (
    SKELETON_GRAPHS, STICK_FIGURE, SkeletonGraph, get_skeleton_graph, mirror_joints,
)


def test_stick_figure_has_the_named_joints_and_a_tree_of_bones():
    names = set(STICK_FIGURE.joints)
    assert STICK_FIGURE.num_joints >= 15
    for side in ("left", "right"):
        for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            assert f"{side}_{part}" in names
    assert {"head", "neck", "pelvis"} <= names
    assert STICK_FIGURE.joints[STICK_FIGURE.center] == "pelvis"
    # A tree: J - 1 bones and every joint reachable.
    assert len(STICK_FIGURE.edges) == STICK_FIGURE.num_joints - 1
    assert STICK_FIGURE.is_connected()


def test_adjacency_is_symmetric_binary_and_connected():
    a = STICK_FIGURE.adjacency()
    j = STICK_FIGURE.num_joints
    assert a.shape == (j, j) and a.dtype == np.float32
    np.testing.assert_array_equal(a, a.T)
    assert set(np.unique(a)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.diag(a), np.ones(j))
    no_loops = STICK_FIGURE.adjacency(self_loops=False)
    np.testing.assert_array_equal(np.diag(no_loops), np.zeros(j))
    assert no_loops.sum() == 2 * len(STICK_FIGURE.edges)
    # Independent connectivity check: (A + I)^(J-1) reaches every pair of joints.
    reach = np.linalg.matrix_power(a.astype(np.int64), j - 1)
    assert (reach > 0).all()


def test_normalized_adjacency_is_d_half_a_d_half():
    a = STICK_FIGURE.adjacency()
    d = a.sum(axis=1)
    expected = a / np.sqrt(np.outer(d, d))
    got = STICK_FIGURE.normalized_adjacency()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    eigenvalues = np.linalg.eigvalsh(got.astype(np.float64))
    assert eigenvalues.max() == pytest.approx(1.0, abs=1e-5)  # largest eigenvalue of a normalised graph


def test_neighbors_of_the_neck():
    idx = STICK_FIGURE.index
    assert STICK_FIGURE.neighbors(idx("neck")) == tuple(
        sorted(idx(n) for n in ("chest", "head", "left_shoulder", "right_shoulder")))
    assert STICK_FIGURE.neighbors(idx("left_hand")) == (idx("left_wrist"),)
    with pytest.raises(ValueError, match="Joint index"):
        STICK_FIGURE.neighbors(STICK_FIGURE.num_joints)
    with pytest.raises(ValueError, match="no joint 'tail'"):
        STICK_FIGURE.index("tail")


def test_mirror_permutation_is_an_involution_that_swaps_sides():
    perm = STICK_FIGURE.mirror_permutation()
    names = STICK_FIGURE.joints
    np.testing.assert_array_equal(perm[perm], np.arange(len(names)))
    for j, k in enumerate(perm):
        if names[j].startswith("left_"):
            assert names[k] == "right_" + names[j][5:]
        elif names[j].startswith("right_"):
            assert names[k] == "left_" + names[j][6:]
        else:
            assert k == j


def test_mirror_joints_flips_x_and_relabels():
    rng = np.random.default_rng(0)
    joints = rng.uniform(0, 100, (5, STICK_FIGURE.num_joints, 3)).astype(np.float32)
    flipped = mirror_joints(joints, STICK_FIGURE, width=101)
    lw, rw = STICK_FIGURE.index("left_wrist"), STICK_FIGURE.index("right_wrist")
    np.testing.assert_allclose(flipped[:, lw, 0], 100 - joints[:, rw, 0])
    np.testing.assert_array_equal(flipped[:, lw, 1:], joints[:, rw, 1:])
    np.testing.assert_allclose(mirror_joints(flipped, STICK_FIGURE, width=101), joints, rtol=1e-5)
    with pytest.raises(ValueError, match="18 joints on axis -2"):
        mirror_joints(joints[:, :4], STICK_FIGURE, width=101)


def test_mirror_joints_of_centred_coordinates_and_of_two_persons():
    rng = np.random.default_rng(1)
    perm = STICK_FIGURE.mirror_permutation()
    lw, rw = STICK_FIGURE.index("left_wrist"), STICK_FIGURE.index("right_wrist")
    one = rng.normal(size=(4, 18, 3)).astype(np.float32)
    centred = mirror_joints(one, perm)  # no width: x -> -x
    np.testing.assert_array_equal(centred[:, lw, 0], -one[:, rw, 0])
    two = np.stack([one, one * 2], axis=-1)  # (T, J, C, persons)
    flipped = mirror_joints(two, perm, joint_axis=1)
    np.testing.assert_array_equal(flipped[..., 0], centred)
    np.testing.assert_array_equal(flipped[:, lw, 0, 1], -2 * one[:, rw, 0])
    np.testing.assert_array_equal(flipped[:, lw, 1:, 1], 2 * one[:, rw, 1:])


def test_dict_round_trip_through_json():
    data = json.loads(json.dumps(STICK_FIGURE.to_dict()))
    assert SkeletonGraph.from_dict(data) == STICK_FIGURE
    assert get_skeleton_graph("stick_figure") is SKELETON_GRAPHS["stick_figure"]
    with pytest.raises(ValueError, match="missing: edges"):
        SkeletonGraph.from_dict({"joints": ["a"], "center": 0})
    with pytest.raises(ValueError, match="Unknown skeleton"):
        get_skeleton_graph("ntu_rgbd_99")


@pytest.mark.parametrize("edges, center, match", [
    (((0, 1), (1, 0)), 0, "listed twice"),
    (((0, 3),), 0, "two different joint indices"),
    (((1, 1),), 0, "two different joint indices"),
    (((0, 1),), 5, "center must be"),
])
def test_invalid_graphs_are_refused(edges, center, match):
    with pytest.raises(ValueError, match=match):
        SkeletonGraph("bad", ("a", "b", "c"), edges, center)


def test_mirror_needs_a_twin_for_every_side_joint():
    lopsided = SkeletonGraph("lopsided", ("pelvis", "left_hand"), ((0, 1),), 0)
    with pytest.raises(ValueError, match="no mirror twin 'right_hand'"):
        lopsided.mirror_permutation()


# --------------------------------------------------------------------------- NTU RGB+D
# ST-GCN's `ntu-rgb+d` layout (Yan et al. 2018, net/utils/graph.py), 1-based as NTU numbers its joints.
STGCN_NTU_NEIGHBOR_1BASE = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                            (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                            (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)]


def test_ntu_graph_has_the_25_kinect_joints_and_st_gcn_bones():
    from hybridvid_lib.data.skeletons import NTU_RGBD

    assert get_skeleton_graph("ntu_rgbd") is NTU_RGBD and NTU_RGBD.num_joints == 25
    assert NTU_RGBD.edges == tuple((i - 1, j - 1) for i, j in STGCN_NTU_NEIGHBOR_1BASE)
    assert len(NTU_RGBD.edges) == 24 and NTU_RGBD.is_connected()  # a tree
    names = NTU_RGBD.joints
    # NTU's 1-based numbering: 1 base of spine, 2 middle of spine, 3 neck, 4 head, 5 left shoulder,
    # 8 left hand, 12 right hand, 13 left hip, 20 right foot, 21 spine, 22-25 hand tips and thumbs.
    assert (names[0], names[1], names[2], names[3]) == ("spine_base", "spine_middle", "neck", "head")
    assert (names[4], names[7], names[11], names[12], names[19]) == (
        "left_shoulder", "left_hand", "right_hand", "left_hip", "right_foot")
    assert names[20:] == ("spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb")
    assert NTU_RGBD.center == 1 and NTU_RGBD.neighbors(NTU_RGBD.index("spine_shoulder")) == (1, 2, 4, 8)


def test_ntu_mirror_swaps_the_sides_of_every_limb():
    from hybridvid_lib.data.skeletons import NTU_RGBD

    perm = NTU_RGBD.mirror_permutation()
    expected = list(range(25))
    for left, right in [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23),
                        (22, 24)]:
        expected[left], expected[right] = right, left
    assert perm.tolist() == expected
    np.testing.assert_array_equal(perm[perm], np.arange(25))
    # A mirrored skeleton keeps its bones: the permutation maps every edge onto an edge.
    edges = {frozenset(e) for e in NTU_RGBD.edges}
    assert {frozenset((int(perm[i]), int(perm[j]))) for i, j in NTU_RGBD.edges} == edges
    assert SkeletonGraph.from_dict(json.loads(json.dumps(NTU_RGBD.to_dict()))) == NTU_RGBD
