"""Chapter 05 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q3 judges what two trained graph networks do, so its tests train small models (seconds each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch05 import (
    HIDE_RATE, POSE_CLASSES, POSE_FRAMES, hide_joints_reference, pose_skeletons, q1, q2, q3, check_graphs,
)
from hybridvid_lib.models.graph_partitions import graph_partitions

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch05; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hints_do_not_give_the_answer_away():
    for question, code_words in ((q1, ["np.eye", "dist[v] < dist[w]", "queue"]),
                                 (q2, ["sum(axis=0)", "np.where"]),
                                 (q3, ["np.concatenate", "np.tile", "Adam(3e-3)"])):
        first = question.hint_text(1)
        assert not any(word in first for word in code_words), (question.name, first)


def test_the_check_graphs_are_trees_with_a_centre():
    for what, num, edges, center, names in check_graphs():
        assert len(edges) == num - 1, what  # connected with J - 1 edges: a tree
        assert 0 <= center < num
        assert names is None or len(names) == num


# ------------------------------------------------------------------ q1 spatial partition
def _reference_q1():
    return _solution(q1)["spatial_partition"]


def test_q1_reference_passes_and_matches_the_library():
    result = q1.check(_reference_q1())
    assert result, result.message
    for _, num, edges, center, _ in check_graphs():
        np.testing.assert_array_equal(_reference_q1()(num, edges, center),
                                      graph_partitions(num, "spatial", edges=edges, center=center) > 0)


def _by_joint_number(num, edges, center):
    masks = np.zeros((3, num, num))
    masks[0] = np.eye(num)
    for i, j in edges:
        for v, w in ((i, j), (j, i)):
            masks[1 if v < w else 2, v, w] = 1
    return masks


@pytest.mark.parametrize("wrong, words", [
    (lambda n, e, c: _reference_q1()(n, e, c)[[0, 2, 1]], ["swapped", "closer"]),
    (lambda n, e, c: _reference_q1()(n, e, c).transpose(0, 2, 1), ["swapped", "transposed"]),
    (lambda n, e, c: np.concatenate([np.zeros((1, n, n)), _reference_q1()(n, e, c)[1:]]), ["diagonal", "itself"]),
    (_by_joint_number, ["Joint numbers are not distances", "belongs in subset 1"]),
    (lambda n, e, c: _reference_q1()(n, e, c)[:2], ["(3, J, J)"]),
    (lambda n, e, c: 2 * _reference_q1()(n, e, c), ["should be 1"]),
    (lambda n, e, c: None, ["should be an array", "None"]),
])
def test_q1_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    result = q1.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


def test_q1_placeholder_says_not_written_yet():
    def spatial_partition(num_joints, edges, center):
        raise NotImplementedError

    result = q1.check(spatial_partition)
    assert not result and "not written yet" in result.message


# ------------------------------------------------------------------ q2 normalisation
def test_q2_reference_passes():
    result = q2.check(_solution(q2)["normalize_subsets"])
    assert result, result.message


def _per_subset(masks):
    sums = masks.sum(axis=1, keepdims=True)
    return np.where(sums > 0, masks / np.where(sums > 0, sums, 1), 0.0)


def _rows(masks):
    return masks / masks.sum(axis=0).sum(axis=1)[None, :, None]


def _symmetric(masks):
    d = masks.sum(axis=0).sum(axis=0)
    return masks / np.sqrt(d)[None, :, None] / np.sqrt(d)[None, None, :]


@pytest.mark.parametrize("wrong, words", [
    (lambda m: m, ["unchanged", "neighbour set"]),
    (_per_subset, ["each subset is normalised on its own", "sum* of the subsets"]),
    (_rows, ["rows are normalised", "A D^-1"]),
    (_symmetric, ["symmetric normalisation", "Kipf"]),
    (lambda m: m / m.sum(axis=1, keepdims=True), ["NaN or infinite", "stay zero"]),
    (lambda m: m.sum(axis=0), ["shape"]),
    (lambda m: 0.5 * m, ["sum to 1"]),
])
def test_q2_known_wrong_answers_fail_with_a_teaching_message(wrong, words):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = q2.check(wrong)
    assert not result
    for word in words:
        assert word in result.message, result.message


# ------------------------------------------------------------------ q3 the measured experiment
def test_pose_skeletons_and_hidden_joints():
    x, y = pose_skeletons("test")
    assert x.shape == (len(POSE_CLASSES) * 18, POSE_FRAMES, 18, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [18] * len(POSE_CLASSES)
    hidden = hide_joints_reference(x, HIDE_RATE, 0)
    gone = np.all(hidden == 0, axis=(1, 3)) & ~np.all(x == 0, axis=(1, 3))  # (N, J): hidden in every frame
    assert 0.2 < gone.mean() < 0.4
    np.testing.assert_array_equal(hidden[~np.all(hidden == 0, axis=(1, 3))[:, None, :, None]
                                         .repeat(POSE_FRAMES, 1).repeat(2, 3)],
                                  x[~np.all(hidden == 0, axis=(1, 3))[:, None, :, None]
                                    .repeat(POSE_FRAMES, 1).repeat(2, 3)])


@pytest.fixture(scope="module")
def experiment(keras):
    """The reference solution of q3, run as the notebook runs it: two trained networks and the measured numbers."""
    from hybridvid_lib.data.skeletons import STICK_FIGURE
    from hybridvid_lib.layers import GraphConv
    from hybridvid_lib.seeding import set_seed

    x_train, y_train = pose_skeletons("train")
    x_test, y_test = pose_skeletons("test")
    set_seed(0)
    return _solution(q3, keras=keras, GraphConv=GraphConv, graph_partitions=graph_partitions,
                     STICK_FIGURE=STICK_FIGURE, T=POSE_FRAMES, POSE_CLASSES=POSE_CLASSES, HIDE_RATE=HIDE_RATE,
                     x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


@pytest.mark.slow
def test_q3_reference_passes_with_a_robust_model_ahead(experiment):
    measured = experiment["measured"]
    assert measured["robust"] >= measured["plain"] + 0.1
    result = q3.check(experiment["plain_model"], experiment["robust_model"], measured)
    assert result, result.message
    assert "measured again" in result.message


@pytest.mark.slow
def test_q3_wrong_answers_fail(experiment, keras):
    plain, robust, measured = (experiment[k] for k in ("plain_model", "robust_model", "measured"))
    # Swapped models.
    result = q3.check(robust, plain, {"plain": measured["robust"], "robust": measured["plain"]})
    assert not result and "should help" in result.message and "order is" in result.message
    # The same model twice.
    result = q3.check(plain, plain, {"plain": measured["plain"], "robust": measured["plain"]})
    assert not result and "same model twice" in result.message
    # Numbers typed in, not measured.
    result = q3.check(plain, robust, {"plain": 0.99, "robust": measured["robust"]})
    assert not result and "you reported 0.99" in result.message
    result = q3.check(plain, robust, {"plain": 0.5})
    assert not result and "lacks ['robust']" in result.message
    # An untrained network has not learned the classes.
    keras.utils.set_random_seed(3)
    untrained = experiment["build_graph_net"](POSE_FRAMES, len(POSE_CLASSES), experiment["adjacency"])
    result = q3.check(untrained, robust, measured)
    assert not result and "has not learned the five classes" in result.message
    # A network without a graph convolution.
    inputs = keras.Input(shape=(POSE_FRAMES, 18, 2))
    flat = keras.layers.Flatten()(inputs)
    mlp = keras.Model(inputs, keras.layers.Dense(len(POSE_CLASSES), activation="softmax")(flat))
    result = q3.check(plain, mlp, measured)
    assert not result and "GraphConv" in result.message
