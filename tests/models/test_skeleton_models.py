"""stgcn (ST-GCN) on 16-frame stick-figure clips: shapes, partitions, persons, saving, fitting, symmetry, order."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.data import skeletons  # noqa: E402
from hybridvid_lib.data.skeletons import STICK_FIGURE, SkeletonGraph, mirror_joints  # noqa: E402
from hybridvid_lib.layers import GraphConv  # noqa: E402
from hybridvid_lib.models import build_model, model_info  # noqa: E402
from hybridvid_lib.models.skeleton_models import PUBLISHED_BLOCKS, SMALL_BLOCKS, resolve_blocks  # noqa: E402

SETTINGS = resolve_settings("cpu")  # 16 frames
T, J, C, CLASSES = SETTINGS.num_frames, STICK_FIGURE.num_joints, 3, 4
TINY = {"blocks": [[8, 1], [16, 2]]}  # fast variants for the tests that do not need the default size


def clips(batch: int = 3, seed: int = 0, persons: int | None = None) -> np.ndarray:
    shape = (batch, T, J, C) if persons is None else (batch, T, J, C, persons)
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def predict(model, x) -> np.ndarray:
    return np.asarray(model.predict_on_batch({"joints": x}))


def graph_convs(model) -> list:
    return [layer for layer in model.get_layer("backbone").layers if isinstance(layer, GraphConv)]


@pytest.mark.parametrize("partition, k", [("uniform", 1), ("distance", 2), ("spatial", 3)])
def test_each_partition_builds_and_outputs_probability_rows(partition, k):
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES, partition=partition)
    assert model.name == "stgcn"
    assert [i.name for i in model.inputs] == ["joints"] and tuple(model.inputs[0].shape) == (None, T, J, C)
    assert [g.num_subsets for g in graph_convs(model)] == [k] * len(SMALL_BLOCKS)
    probs = predict(model, clips())
    assert probs.shape == (3, CLASSES) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_registration_and_options():
    info = model_info("stgcn")
    assert info["family"] == "skeleton" and info["inputs"] == ("joints",) and info["outputs"] == ("probs",)
    assert info["options"]["partition"] == "spatial" and info["options"]["graph"] == "stick_figure"
    assert {"edge_importance", "blocks", "width", "dropout", "channels", "persons"} <= set(info["options"])


def test_default_size_and_the_published_network():
    default = build_model("stgcn", SETTINGS, CLASSES)
    assert 30_000 < default.count_params() < 100_000  # about 64k: trains in ~20 ms a step on 2 cores
    assert [g.units for g in graph_convs(default)] == [16, 32, 64]
    # ST-GCN's ten blocks of 64-256 channels: about 3.1 M parameters.
    published = build_model("stgcn", SETTINGS, CLASSES, blocks="published")
    assert 2_900_000 < published.count_params() < 3_300_000
    assert published.get_layer("backbone").output.shape == (None, T // 4, 256)
    half = build_model("stgcn", SETTINGS, CLASSES, width=0.5)
    assert [g.units for g in graph_convs(half)] == [8, 16, 32]
    assert resolve_blocks("published") == PUBLISHED_BLOCKS and resolve_blocks([[10, 1]], 1.5) == ((15, 1),)


def test_backbone_is_a_named_feature_extractor():
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES)
    backbone = model.get_layer("backbone")
    assert isinstance(backbone, keras.Model) and backbone.name == "backbone"
    features = predict(backbone, clips())
    assert features.shape == (3, T // 4, 64)  # two strides of 2: (B, T / 4, F)
    # Per joint: the last block's output before the joint average.
    per_joint = backbone.get_layer("block3_relu").output
    assert tuple(per_joint.shape) == (None, T // 4, J, 64)


def test_one_training_step_changes_the_weights_and_the_edge_importance():
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    importance = [g.importance for g in graph_convs(model)]
    assert all(w.trainable and tuple(w.shape) == (3, J, J) for w in importance)
    assert all(any(w is t for t in model.trainable_weights) for w in importance)
    before = [np.array(w.numpy()) for w in importance]
    loss = model.train_on_batch({"joints": clips(8)}, np.arange(8) % CLASSES)
    assert np.isfinite(loss)
    for old, w in zip(before, importance):
        assert np.abs(np.asarray(w.numpy()) - old).max() > 1e-5
    without = build_model("stgcn", SETTINGS, CLASSES, edge_importance=False)
    assert all(g.importance is None for g in graph_convs(without))
    assert without.count_params() == model.count_params() - sum(3 * J * J for _ in importance)


@pytest.mark.parametrize("persons", [None, 2])
def test_keras_file_round_trip_in_safe_mode_gives_equal_outputs(tmp_path, persons):
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES, persons=persons, **TINY)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = clips(4, persons=persons)
    model.train_on_batch({"joints": x}, np.arange(4) % CLASSES)  # moves edge importance and BN statistics
    path = tmp_path / "stgcn.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.name == "stgcn" and reloaded.count_params() == model.count_params()
    np.testing.assert_allclose(predict(reloaded, x), predict(model, x), rtol=1e-5, atol=1e-6)


def test_it_overfits_a_tiny_batch():
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = {"joints": clips(8)}, np.arange(8) % CLASSES
    first = float(model.evaluate(x, y, verbose=0))
    losses = [float(model.train_on_batch(x, y)) for _ in range(30)]
    assert max(losses[-5:]) < 0.3 * losses[0], losses
    # In inference mode too: the moving batch-norm statistics keep up (PyTorch's momentum, as ST-GCN).
    assert float(model.evaluate(x, y, verbose=0)) < 0.3 * first


def test_a_mirrored_skeleton_changes_the_output_and_relabelling_alone_does_not():
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES)
    x = clips()
    first = predict(model, x)
    # A horizontal flip (x -> -x, left and right joints swapped): PointLeft is not PointRight.
    assert np.abs(predict(model, mirror_joints(x, STICK_FIGURE)) - first).max() > 1e-4
    # Swapping the left/right labels alone is a symmetry of the graph: an untrained ST-GCN cannot see it
    # (training breaks the tie through data_bn and the edge importance); the coordinates tell the sides apart.
    relabelled = x[:, :, STICK_FIGURE.mirror_permutation()]
    np.testing.assert_allclose(predict(model, relabelled), first, rtol=1e-4, atol=1e-6)


def test_frame_order_matters():
    keras.utils.set_random_seed(0)
    model = build_model("stgcn", SETTINGS, CLASSES)
    x = clips()
    first = predict(model, x)
    assert np.abs(predict(model, x[:, ::-1]) - first).max() > 1e-4  # reversed in time
    shuffled = x[:, np.random.default_rng(1).permutation(T)]
    assert np.abs(predict(model, shuffled) - first).max() > 1e-4


def test_persons_are_folded_into_the_batch_and_averaged():
    keras.utils.set_random_seed(0)
    single = build_model("stgcn", SETTINGS, CLASSES, **TINY)
    pair = build_model("stgcn", SETTINGS, CLASSES, persons=2, **TINY)
    assert tuple(pair.inputs[0].shape) == (None, T, J, C, 2)
    pair.set_weights(single.get_weights())  # the persons layers add no weights
    x = clips(3)
    # Two copies of the same person: their mean is that person.
    np.testing.assert_allclose(predict(pair, np.stack([x, x], axis=-1)), predict(single, x), rtol=1e-4, atol=1e-6)
    two = clips(3, persons=2)
    probs = predict(pair, two)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # The order of the persons does not matter; the second person does.
    np.testing.assert_allclose(predict(pair, two[..., ::-1]), probs, rtol=1e-4, atol=1e-6)
    assert np.abs(predict(pair, np.stack([two[..., 0], np.zeros_like(two[..., 0])], -1)) - probs).max() > 1e-4
    assert pair.get_layer("backbone").output.shape == (None, T // 2, 16)
    pair.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert np.isfinite(pair.train_on_batch({"joints": two}, np.arange(3) % CLASSES))


def test_the_graph_is_looked_up_by_name_when_the_model_is_built(monkeypatch):
    # A graph registered after import (as the NTU RGB+D graph is) sets the joints axis.
    tiny = SkeletonGraph(name="test_tiny", joints=("hip", "left_foot", "right_foot", "head", "tail"),
                         edges=((0, 1), (0, 2), (0, 3), (3, 4)), center=0)
    monkeypatch.setitem(skeletons.SKELETON_GRAPHS, "test_tiny", tiny)
    model = build_model("stgcn", SETTINGS, CLASSES, graph="test_tiny", channels=2, **TINY)
    assert tuple(model.inputs[0].shape) == (None, T, 5, 2)
    assert graph_convs(model)[0].num_joints == 5
    assert predict(model, np.zeros((2, T, 5, 2), "float32")).shape == (2, CLASSES)
    with pytest.raises(ValueError, match="Unknown skeleton .kinect.; known skeletons: .*stick_figure"):
        build_model("stgcn", SETTINGS, CLASSES, graph="kinect")


@pytest.mark.parametrize("graph", sorted(skeletons.SKELETON_GRAPHS))
def test_every_registered_skeleton_graph_builds_with_two_persons(graph):
    num_joints = skeletons.get_skeleton_graph(graph).num_joints
    model = build_model("stgcn", SETTINGS, CLASSES, graph=graph, persons=2, **TINY)
    assert tuple(model.inputs[0].shape) == (None, T, num_joints, C, 2)
    probs = predict(model, np.zeros((2, T, num_joints, C, 2), "float32"))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_classifier_stays_float32_under_mixed_bfloat16():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model("stgcn", SETTINGS, CLASSES, **TINY)
        assert model.get_layer("backbone").output.dtype == "bfloat16"
        probs = predict(model, clips())
    finally:
        keras.config.set_dtype_policy("float32")
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_backbone_from_a_trained_run_starts_with_its_weights(tmp_path):
    from hybridvid_lib.models.trained import MODEL_FILE

    keras.utils.set_random_seed(0)
    trained = build_model("stgcn", SETTINGS, CLASSES, **TINY)
    trained.save(tmp_path / MODEL_FILE)
    keras.utils.set_random_seed(1)
    again = build_model("stgcn", SETTINGS, 7, backbone_from=str(tmp_path), **TINY)
    x = clips()
    np.testing.assert_allclose(predict(again.get_layer("backbone"), x), predict(trained.get_layer("backbone"), x),
                               rtol=1e-5, atol=1e-6)


def test_bad_options_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="partition must be one of uniform, distance, spatial"):
        build_model("stgcn", SETTINGS, CLASSES, partition="nearest")
    with pytest.raises(ValueError, match="Unknown blocks preset 'huge'"):
        build_model("stgcn", SETTINGS, CLASSES, blocks="huge")
    with pytest.raises(ValueError, match="channels, temporal stride"):
        build_model("stgcn", SETTINGS, CLASSES, blocks=[[16, 0]])
    with pytest.raises(ValueError, match="persons must be None"):
        build_model("stgcn", SETTINGS, CLASSES, persons=0)
    with pytest.raises(ValueError, match="odd"):
        build_model("stgcn", SETTINGS, CLASSES, temporal_kernel=4)
    with pytest.raises(ValueError, match="width"):
        build_model("stgcn", SETTINGS, CLASSES, width=0)
    with pytest.raises(ValueError, match="dropout"):
        build_model("stgcn", SETTINGS, CLASSES, dropout=1.0)
