"""Heads on cached feature sequences: i3d_lstm, i3d_bilstm, i3d_bilstm_attention (the hybrid without center loss)."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.models import build_model, model_info  # noqa: E402
from hybridvid_lib.models.registry import output_probs  # noqa: E402

SMOKE = resolve_settings("smoke")
SMALL = {"feature_dims": (6, 6), "units": 8, "dense": 8, "dropout": 0.0, "feature_dropout": 0.0}
HEADS = {"i3d_lstm": {k: v for k, v in SMALL.items()}, "i3d_bilstm": {**SMALL, "num_layers": 2},
         "i3d_bilstm_attention": {**SMALL, "num_layers": 2, "attention_units": 4}}


def sequences(batch=4, steps=5, dim=12, seed=0):
    return {"features": np.random.default_rng(seed).normal(size=(batch, steps, dim)).astype("float32")}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_each_head_gives_probabilities_reloads_equal_and_learns_a_tiny_batch(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, 3, **HEADS[name])
    assert [t.name for t in model.inputs] == ["features"] == list(model_info(name)["inputs"])
    x = sequences()
    p = np.asarray(output_probs(model.predict_on_batch(x)))
    assert p.shape == (4, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert np.asarray(output_probs(model.predict_on_batch(sequences(steps=9)))).shape == (4, 3)  # any T'
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(output_probs(again.predict_on_batch(x))), p, rtol=1e-5, atol=1e-6)
    view = keras.Model(model.input, output_probs(model.output))
    view.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    y = np.array([0, 1, 2, 0])
    first = float(view.evaluate(x, y, verbose=0))
    for _ in range(40):
        last = float(view.train_on_batch(x, y))
    assert last < 0.3 * first


def test_the_attention_head_returns_weights_over_the_steps_and_its_pooled_embedding():
    model = build_model("i3d_bilstm_attention", SMOKE, 3, **HEADS["i3d_bilstm_attention"])
    out = model.predict_on_batch(sequences(steps=7))
    assert out["attention"].shape == (4, 7) and np.allclose(out["attention"].sum(1), 1, atol=1e-5)
    assert out["embedding"].shape == (4, 16)  # 2 x units: both directions


@pytest.mark.parametrize("name", sorted(HEADS) + ["hybrid"])
def test_fused_features_are_dropped_in_training_only_at_the_released_i3d_classifiers_rate(name):
    from hybridvid_lib.models.sequence_heads import DEFAULT_FEATURE_DROPOUT

    options = {k: v for k, v in HEADS["i3d_bilstm_attention" if name == "hybrid" else name].items()
               if k != "feature_dropout"}
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, 3, **options)  # the default rate
    layer = model.get_layer("feature_dropout")
    assert layer.rate == DEFAULT_FEATURE_DROPOUT == 0.5
    assert layer.input.shape[-1] == 12  # after the fusion, before any LSTM
    plain = build_model(name, SMOKE, 3, **options, feature_dropout=0.0)
    assert "feature_dropout" not in [layer.name for layer in plain.layers]
    plain.set_weights(model.get_weights())  # the same weights: dropout adds none
    x = sequences()
    if name == "hybrid":
        x = {**x, "label": np.array([0, 1, 2, 0], "int32")}
    probs = lambda m, training: np.asarray(output_probs(m(x, training=training)))  # noqa: E731
    np.testing.assert_allclose(probs(model, False), probs(plain, False), rtol=1e-5, atol=1e-6)  # inference: none
    assert not np.allclose(probs(model, True), probs(plain, True), atol=1e-4)  # training: features dropped
    np.testing.assert_allclose(probs(plain, True), probs(plain, False), rtol=1e-5, atol=1e-6)  # nothing else random
    with pytest.raises(ValueError, match="feature_dropout is a rate in"):
        build_model(name, SMOKE, 3, **options, feature_dropout=1.0)


def test_sum_fusion_halves_the_lstm_input_and_needs_equal_streams():
    concat = build_model("i3d_bilstm", SMOKE, 3, **HEADS["i3d_bilstm"])
    summed = build_model("i3d_bilstm", SMOKE, 3, **{**HEADS["i3d_bilstm"], "fusion": "sum"})
    assert concat.get_layer("fusion").output.shape[-1] == 12 and summed.get_layer("fusion").output.shape[-1] == 6
    with pytest.raises(ValueError, match="need one size"):
        build_model("i3d_bilstm", SMOKE, 3, **{**HEADS["i3d_bilstm"], "feature_dims": (6, 4), "fusion": "sum"})


def toy_sequences(n=24, steps=5, dim=12, seed=0):
    """Two classes whose feature sequences differ in their mean: a task a head learns in a few epochs."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, steps, dim)).astype("float32") + y[:, None, None].astype("float32")
    return x, y


def test_the_hybrid_trains_with_center_loss_through_the_kits_training_and_keeps_its_centers(tmp_path):
    import tensorflow as tf

    from hybridvid_lib.evaluation import collect_predictions
    from hybridvid_lib.training import checkpoint_path, train_model

    keras.utils.set_random_seed(0)
    options = {**HEADS["i3d_bilstm_attention"], "center_weight": 0.1}
    model = build_model("hybrid", SMOKE, 2, **options)
    assert sorted(t.name for t in model.inputs) == ["features", "label"]
    x, y = toy_sequences()
    ds = tf.data.Dataset.from_tensor_slices(({"features": x, "index": np.arange(len(y))}, y)).batch(8)
    history = train_model(model, ds, epochs=3, run_dir=tmp_path / "run", learning_rate=1e-2, verbose=0, seed=0,
                          settings=SMOKE, options=options)
    assert len(history["loss"]) == 3
    centers = keras.ops.convert_to_numpy(model.get_layer("center_loss").centers)
    assert np.abs(centers).sum() > 0  # the labels reached the layer in training
    embeddings = model.predict_on_batch({"features": x, "label": None})["embedding"]
    for c in (0, 1):  # each center moved toward its class's embeddings (from zeros)
        mean = embeddings[y == c].mean(axis=0)
        assert np.linalg.norm(centers[c] - mean) < np.linalg.norm(mean)
    # Inference needs no label; the checkpoint a resumed run starts from holds the same centers.
    y_true, y_prob = collect_predictions(model, ds)
    assert y_prob.shape == (24, 2) and np.array_equal(y_true, y)
    saved = keras.saving.load_model(checkpoint_path(tmp_path / "run"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(saved.get_layer("center_loss").centers), centers)


def test_a_resumed_hybrid_ends_with_the_weights_centers_and_dropout_state_of_an_uninterrupted_one(tmp_path):
    import tensorflow as tf

    from hybridvid_lib.training import train_model

    options = {**HEADS["i3d_bilstm_attention"], "center_weight": 0.1, "dropout": 0.5}
    x, y = toy_sequences()
    ds = tf.data.Dataset.from_tensor_slices(({"features": x, "index": np.arange(len(y))}, y)).batch(8)

    def run(folder, epochs, model_seed=0):
        keras.utils.set_random_seed(model_seed)
        model = build_model("hybrid", SMOKE, 2, **options)
        train_model(model, ds, epochs=epochs, run_dir=folder, learning_rate=1e-2, verbose=0, seed=0, settings=SMOKE,
                    options=options)
        return model

    straight = run(tmp_path / "straight", 4)
    run(tmp_path / "resumed", 2)
    resumed = run(tmp_path / "resumed", 4, model_seed=5)  # a fresh process would build other initial weights
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(resumed.get_layer("center_loss").centers),
                               keras.ops.convert_to_numpy(straight.get_layer("center_loss").centers), rtol=1e-4,
                               atol=1e-6)


def test_the_spread_ratio_is_intra_class_over_inter_class_distance():
    from hybridvid_lib.evaluation import embedding_spread_ratio

    x = np.array([[0, 1], [0, -1], [4, 1], [4, -1]], np.float64)
    spread = embedding_spread_ratio(x, [0, 0, 1, 1])
    assert spread == {"intra": 1.0, "inter": 4.0, "ratio": 0.25}
    assert embedding_spread_ratio(x * [1, 0.5], [0, 0, 1, 1])["ratio"] == pytest.approx(0.125)
    with pytest.raises(ValueError, match="at least two classes"):
        embedding_spread_ratio(x, [0, 0, 0, 0])


def test_the_end_to_end_hybrid_starts_from_trained_streams_trains_and_reloads_equal(tmp_path):
    import tensorflow as tf

    from hybridvid_lib.training import checkpoint_path, train_model

    keras.utils.set_random_seed(0)
    rgb = build_model("i3d_rgb", SMOKE, 5)  # stands in for a trained stream (another class count)
    rgb.save(tmp_path / "rgb.keras")
    options = {"units": 8, "dense": 8, "attention_units": 4, "rgb_weights": str(tmp_path / "rgb.keras")}
    model = build_model("hybrid_end_to_end", SMOKE, 3, **options)
    assert sorted(t.name for t in model.inputs) == ["flow", "label", "rgb"]
    first = model.get_layer("i3d_rgb_features").get_layer("Conv3d_1a_7x7.conv_3d").kernel
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(first),
                                  keras.ops.convert_to_numpy(rgb.get_layer("Conv3d_1a_7x7.conv_3d").kernel))
    rng = np.random.default_rng(0)
    shape = (SMOKE.num_frames, SMOKE.frame_size, SMOKE.frame_size)
    x = {"rgb": rng.uniform(-1, 1, (6, *shape, 3)).astype("float32"),
         "flow": rng.uniform(-1, 1, (6, *shape, 2)).astype("float32")}
    y = np.arange(6) % 3
    out = model.predict_on_batch({**x, "label": None})
    steps = model.get_layer("i3d_rgb_features").output.shape[1]
    assert out["probs"].shape == (6, 3) and out["attention"].shape == (6, steps)
    ds = tf.data.Dataset.from_tensor_slices(({**x, "index": np.arange(6)}, y)).batch(3)
    history = train_model(model, ds, epochs=2, run_dir=tmp_path / "run", learning_rate=1e-3, verbose=0, seed=0,
                          settings=SMOKE, options=options)
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
    assert np.abs(keras.ops.convert_to_numpy(model.get_layer("center_loss").centers)).sum() > 0
    again = keras.saving.load_model(tmp_path / "run" / "model.keras")
    np.testing.assert_allclose(again.predict_on_batch({**x, "label": None})["probs"],
                               model.predict_on_batch({**x, "label": None})["probs"], rtol=1e-4, atol=1e-5)
