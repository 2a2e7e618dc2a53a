"""GraphConv (ST-GCN's spatial graph convolution) and the persons layers FoldPersons / PersonMean.

What they compute (against numpy), the symmetry a graph convolution must have, edge importance,
and the shared layer test for each.
"""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.data.skeletons import STICK_FIGURE  # noqa: E402
from hybridvid_lib.layers import FoldPersons, GraphConv, PersonMean  # noqa: E402
from hybridvid_lib.models.graph_partitions import graph_partitions  # noqa: E402
from tests.support.layer_test import run_layer_test  # noqa: E402

J = STICK_FIGURE.num_joints
SPATIAL = graph_partitions(STICK_FIGURE, "spatial")  # (3, 18, 18)


def joints(shape=(4, 5, J, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def reference(x, kernel, bias, adjacency):
    """``out[w] = sum_k sum_v A[k, v, w] (x[v] @ W_k + b_k)`` in numpy, float64."""
    k = adjacency.shape[0]
    h = x.astype(np.float64) @ kernel  # (..., J, K * units)
    if bias is not None:
        h = h + bias
    h = h.reshape(h.shape[:-1] + (k, -1))  # (..., J, K, units)
    return np.einsum("...vkc,kvw->...wc", h, adjacency)


def numpy_weights(layer):
    return {w.name: np.asarray(w.numpy()) for w in layer.weights}


@pytest.mark.parametrize("use_bias", [True, False])
def test_output_matches_the_formula(use_bias):
    layer = GraphConv(6, SPATIAL, use_bias=use_bias, bias_initializer="random_normal")
    x = joints()
    out = keras.ops.convert_to_numpy(layer(x))
    w = numpy_weights(layer)
    assert out.shape == (4, 5, J, 6)
    np.testing.assert_allclose(out, reference(x, w["kernel"], w.get("bias"), SPATIAL), rtol=1e-4, atol=1e-5)


def test_a_joint_sees_only_its_neighbour_set():
    # Change the left hand only: only the hand and the wrist (its neighbour set) change.
    layer = GraphConv(4, SPATIAL)
    x = joints()
    y = x.copy()
    hand = STICK_FIGURE.index("left_hand")
    y[..., hand, :] += 1.0
    changed = np.abs(keras.ops.convert_to_numpy(layer(y) - layer(x))).max(axis=(0, 1, 3)) > 1e-6
    assert sorted(np.flatnonzero(changed)) == sorted([hand, STICK_FIGURE.index("left_wrist")])


def test_swapping_left_and_right_joints_swaps_the_outputs():
    # The mirror permutation is a symmetry of the graph, so an untrained graph convolution (edge
    # importance all ones) is equivariant to it: relabelled inputs give relabelled outputs.
    perm = STICK_FIGURE.mirror_permutation()
    layer = GraphConv(5, SPATIAL)
    x = joints()
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x[:, :, perm])), out[:, :, perm],
                               rtol=1e-5, atol=1e-6)


def test_the_partitions_get_their_own_weights():
    # Same input, K = 1 vs K = 3: with three subsets the kernel has three times the columns.
    uniform = GraphConv(4, graph_partitions(STICK_FIGURE, "uniform"))
    uniform.build((None, 5, J, 3))
    spatial = GraphConv(4, SPATIAL)
    spatial.build((None, 5, J, 3))
    assert tuple(uniform.kernel.shape) == (3, 4) and tuple(spatial.kernel.shape) == (3, 12)
    assert tuple(spatial.importance.shape) == (3, J, J)


def test_edge_importance_reweights_bones_and_never_adds_any():
    keras.utils.set_random_seed(0)
    layer = GraphConv(4, SPATIAL)
    inputs = keras.Input((5, J, 3))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(joints(), joints((4, 5, J, 4), seed=1), epochs=1, batch_size=4, verbose=0)
    importance = np.asarray(layer.importance.numpy())
    assert np.abs(importance[SPATIAL > 0] - 1.0).max() > 1e-4  # the bones were re-weighted
    np.testing.assert_array_equal(importance[SPATIAL == 0], 1.0)  # no gradient where there is no bone
    effective = layer.effective_adjacency()
    assert effective.shape == (3, J, J) and ((effective != 0) == (SPATIAL != 0)).all()


def test_without_edge_importance_the_adjacency_is_used_as_given():
    layer = GraphConv(4, SPATIAL, edge_importance=False)
    layer.build((None, 5, J, 3))
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    np.testing.assert_array_equal(layer.effective_adjacency(), SPATIAL)


def test_wrong_joint_count_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="for 18 joints, but the input has 25"):
        GraphConv(4, SPATIAL)(joints((2, 3, 25, 3)))
    with pytest.raises(ValueError, match=r"\(K, J, J\) or \(J, J\)"):
        GraphConv(4, np.ones((3, 18, 17)))
    with pytest.raises(ValueError, match="non-negative"):
        GraphConv(4, -SPATIAL)
    with pytest.raises(ValueError, match="units >= 1"):
        GraphConv(0, SPATIAL)


def test_graph_conv_passes_the_shared_layer_test(tmp_path):
    x = joints()
    out = run_layer_test(
        GraphConv, {"units": 8, "adjacency": SPATIAL, "edge_importance": True, "use_bias": True, "name": "gcn"}, x,
        expected_output_shape=(4, 5, J, 8), expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
        tmp_path=tmp_path,
    )
    assert out.shape == (4, 5, J, 8)


def test_graph_conv_without_time_axis_or_extras_passes_the_shared_layer_test(tmp_path):
    # (batch, joints, channels), one subset (a plain (J, J) matrix), no bias, no edge importance.
    adjacency = graph_partitions(STICK_FIGURE, "uniform")[0]
    run_layer_test(
        GraphConv, {"units": 3, "adjacency": adjacency, "edge_importance": False, "use_bias": False,
                    "kernel_initializer": "he_normal"},
        joints((4, J, 2)), expected_output_shape=(4, J, 3), expected_num_trainable_weights=1, tmp_path=tmp_path,
    )


# ------------------------------------------------------------------------------------------------- persons


def test_fold_persons_puts_each_clips_persons_on_consecutive_rows():
    x = joints((3, 4, J, 3, 2))
    folded = keras.ops.convert_to_numpy(FoldPersons()(x))
    assert folded.shape == (6, 4, J, 3)
    np.testing.assert_array_equal(folded[1::2], x[..., 1])
    np.testing.assert_array_equal(folded[0::2], x[..., 0])


def test_person_mean_undoes_the_fold_by_averaging():
    x = joints((3, 4, J, 3, 2))
    back = keras.ops.convert_to_numpy(PersonMean(2)(FoldPersons()(x)))
    np.testing.assert_allclose(back, x.mean(axis=-1), rtol=1e-6)
    with pytest.raises(ValueError, match="persons >= 1"):
        PersonMean(0)


def test_fold_persons_passes_the_shared_layer_test(tmp_path):
    # The batch grows from B to B * M, so the shared one-step fit (targets per input row) does not apply;
    # the model tests train it inside ST-GCN.
    run_layer_test(FoldPersons, {}, joints((4, 5, J, 3, 2)), expected_output_shape=(8, 5, J, 3),
                   expected_num_trainable_weights=0, run_training_check=False, tmp_path=tmp_path)


def test_person_mean_passes_the_shared_layer_test(tmp_path):
    run_layer_test(PersonMean, {"persons": 2}, joints((8, 5, 6)), expected_output_shape=(4, 5, 6),
                   expected_num_trainable_weights=0, run_training_check=False, tmp_path=tmp_path)
