"""single_frame_cnn and cnn_lstm on smoke-sized clips (8 frames of 32 px): shapes, order, masks, saving, fitting."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.models import build_frame_encoder, build_model  # noqa: E402

SMOKE = resolve_settings("smoke")  # clips (B, 8, 32, 32, 3)
T, S, C = SMOKE.num_frames, SMOKE.frame_size, 5
NAMES = ("single_frame_cnn", "cnn_lstm")
SMALL = {"filters": (4, 8), "feature_dim": 16}


def clips(batch: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (batch, T, S, S, 3)).astype("float32")


def predict(model, x, mask=None):
    inputs = {"rgb": x} if mask is None else {"rgb": x, "frame_mask": mask}
    return np.asarray(model.predict_on_batch(inputs))


@pytest.mark.parametrize("name", NAMES)
def test_output_is_one_probability_row_per_clip(name):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C)
    assert model.name == name
    assert [i.name for i in model.inputs] == ["rgb"] and tuple(model.inputs[0].shape) == (None, T, S, S, 3)
    probs = predict(model, clips())
    assert probs.shape == (3, C) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_is_positive_and_deterministic(name):
    counts = {build_model(name, SMOKE, C).count_params() for _ in range(2)}
    assert len(counts) == 1 and counts.pop() > 0
    assert build_model(name, SMOKE, C, **SMALL).count_params() < build_model(name, SMOKE, C).count_params()


def test_both_models_have_the_same_backbone_layout_with_their_own_weights():
    keras.utils.set_random_seed(0)
    encoder = build_frame_encoder(S, filters=(4, 8), feature_dim=16)
    assert encoder.output_shape == (None, 16)
    backbones = []
    for name in NAMES:
        backbone = build_model(name, SMOKE, C, **SMALL).get_layer("backbone")
        inner = backbone.get_layer("per_frame").layer
        assert [type(layer) for layer in inner.layers] == [type(layer) for layer in encoder.layers]
        assert inner.count_params() == encoder.count_params()
        # The backbone alone is a feature extractor: (B, T, S, S, 3) -> (B, T, F).
        assert predict(backbone, clips()).shape == (3, T, 16)
        backbones.append(backbone)
    assert backbones[0].weights[0] is not backbones[1].weights[0]


def test_backbone_from_a_trained_run_starts_with_its_weights(tmp_path):
    from hybridvid_lib.models.trained import MODEL_FILE
    from hybridvid_lib.errors import ModelError

    keras.utils.set_random_seed(0)
    trained = build_model("single_frame_cnn", SMOKE, C, **SMALL)
    trained.save(tmp_path / MODEL_FILE)
    keras.utils.set_random_seed(1)
    lstm = build_model("cnn_lstm", SMOKE, C, backbone_from=str(tmp_path), **SMALL)
    x = clips()
    np.testing.assert_allclose(predict(lstm.get_layer("backbone"), x), predict(trained.get_layer("backbone"), x),
                               rtol=1e-5, atol=1e-6)
    fresh = build_model("cnn_lstm", SMOKE, C, **SMALL)
    assert np.abs(predict(fresh.get_layer("backbone"), x) - predict(trained.get_layer("backbone"), x)).max() > 1e-3
    with pytest.raises(ModelError, match="does not fit"):
        build_model("cnn_lstm", SMOKE, C, backbone_from=str(tmp_path), filters=(4, 8), feature_dim=32)
    with pytest.raises(ModelError, match="no trained model"):
        build_model("cnn_lstm", SMOKE, C, backbone_from=str(tmp_path / "nothing"))


@pytest.mark.parametrize("name", NAMES)
def test_classifier_stays_float32_under_a_mixed_precision_policy(name):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model(name, SMOKE, C, **SMALL)
        assert model.get_layer("backbone").output.dtype == "bfloat16"
        probs = predict(model, clips())
    finally:
        keras.config.set_dtype_policy("float32")
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_single_frame_cnn_ignores_frame_order_and_cnn_lstm_does_not():
    keras.utils.set_random_seed(0)
    x = clips()
    reversed_x = x[:, ::-1]
    single = build_model("single_frame_cnn", SMOKE, C, **SMALL)
    np.testing.assert_allclose(predict(single, reversed_x), predict(single, x), rtol=1e-4, atol=1e-6)
    lstm = build_model("cnn_lstm", SMOKE, C, **SMALL)
    assert np.abs(predict(lstm, reversed_x) - predict(lstm, x)).max() > 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_masked_frames_do_not_change_the_prediction(name):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C, with_mask=True, **SMALL)
    assert sorted((i.name, tuple(i.shape)) for i in model.inputs) == [("frame_mask", (None, T)),
                                                                      ("rgb", (None, T, S, S, 3))]
    x = clips()
    mask = np.ones((3, T), bool)
    mask[:, 5:] = False  # the last three frames are padding
    other_padding = x.copy()
    other_padding[:, 5:] = clips(seed=1)[:, 5:]
    first = predict(model, x, mask)
    np.testing.assert_allclose(predict(model, other_padding, mask), first, rtol=1e-4, atol=1e-6)
    assert np.abs(predict(model, other_padding, np.ones_like(mask)) - first).max() > 1e-4


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("with_mask", [False, True])
def test_keras_file_round_trip_gives_equal_outputs(tmp_path, name, with_mask):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C, with_mask=with_mask, **SMALL)
    x = clips()
    mask = np.ones((3, T), bool) if with_mask else None
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.name == name and reloaded.count_params() == model.count_params()
    np.testing.assert_allclose(predict(reloaded, x, mask), predict(model, x, mask), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_fitting_a_repeated_tiny_batch_lowers_the_loss(name):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C, **SMALL)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = {"rgb": clips(batch=4)}, np.array([0, 1, 2, 3])
    first = float(model.evaluate(x, y, verbose=0))
    for _ in range(15):
        model.train_on_batch(x, y)
    assert float(model.evaluate(x, y, verbose=0)) < 0.7 * first


def test_bad_options_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="dropout must be in"):
        build_model("cnn_lstm", SMOKE, C, dropout=1.5)
    with pytest.raises(ValueError, match="filters must be"):
        build_model("single_frame_cnn", SMOKE, C, filters=())
    with pytest.raises(ValueError, match="lstm_units"):
        build_model("cnn_lstm", SMOKE, C, lstm_units=0)
    with pytest.raises(ValueError, match="too small"):
        build_frame_encoder(8, filters=(4, 8, 16))
