"""The model registry: names, info, and errors that list what is known."""

import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.errors import HybridVidError, ModelError
from hybridvid_lib.models import build_model, list_models, model_info, register_model
from hybridvid_lib.models import registry

SMOKE = resolve_settings("smoke")


@pytest.fixture
def scratch_name():
    """A registry name that is removed again after the test."""
    name = "test_only_model"
    yield name
    registry._REGISTRY.pop(name, None)


def test_frame_models_are_registered_with_family_and_options():
    assert {"single_frame_cnn", "cnn_lstm"} <= set(list_models())
    assert list_models() == sorted(list_models())
    info = model_info("cnn_lstm")
    assert info["name"] == "cnn_lstm" and info["family"] == "frame" and info["description"]
    assert {"filters", "feature_dim", "lstm_units", "dropout", "with_mask"} <= set(info["options"])
    assert "lstm_units" not in model_info("single_frame_cnn")["options"]
    assert info["inputs"] == ("rgb",) and info["outputs"] == ("probs",)


def test_registration_declares_modalities_and_a_probs_output(scratch_name):
    with pytest.raises(ValueError, match="inputs must be names from rgb, flow, joints, features"):
        register_model(scratch_name, family="test", description="x", inputs=("video",))(lambda s, n: None)
    with pytest.raises(ValueError, match="must name 'probs'"):
        register_model(scratch_name, family="test", description="x", outputs=("logits",))(lambda s, n: None)


def test_a_built_model_must_match_its_registration(scratch_name):
    import keras

    def builder(settings, num_classes, *, outputs: str = "dict"):
        rgb = keras.Input((4,), name="rgb")
        probs = keras.layers.Dense(num_classes, activation="softmax")(rgb)
        if outputs == "dict":
            return keras.Model({"rgb": rgb}, {"probs": probs, "embedding": rgb})
        if outputs == "missing_embedding":
            return keras.Model({"rgb": rgb}, {"probs": probs})
        other = keras.Input((4,), name="flow")
        return keras.Model({"flow": other}, keras.layers.Dense(num_classes)(other))

    register_model(scratch_name, family="test", description="x", outputs=("probs", "embedding"))(builder)
    model = build_model(scratch_name, SMOKE, 3)
    assert set(model.output) == {"probs", "embedding"}
    with pytest.raises(ModelError, match=r"outputs \('probs',\); it is registered with \('probs', 'embedding'\)"):
        build_model(scratch_name, SMOKE, 3, outputs="missing_embedding")
    with pytest.raises(ModelError, match=r"without the input\(s\) rgb"):
        build_model(scratch_name, SMOKE, 3, outputs="wrong_input")


def test_unknown_name_is_a_kit_error_listing_known_models():
    with pytest.raises(ModelError) as err:
        build_model("cnn_lsmt", SMOKE, 12)
    message = str(err.value)
    assert "cnn_lsmt" in message and "cnn_lstm" in message and "single_frame_cnn" in message
    assert isinstance(err.value, HybridVidError) and isinstance(err.value, ValueError)
    with pytest.raises(ModelError, match="known models"):
        model_info("nope")


def test_unknown_option_and_bad_class_count_are_refused():
    with pytest.raises(ModelError, match="no option lstm_units"):
        build_model("single_frame_cnn", SMOKE, 12, lstm_units=32)
    with pytest.raises(ValueError, match="at least 2"):
        build_model("cnn_lstm", SMOKE, 1)


def test_register_model_adds_a_name_and_refuses_a_second_builder(scratch_name):
    import keras

    @register_model(scratch_name, family="test", description="a stand-in")
    def build_stand_in(settings, num_classes, *, width: int = 3):
        rgb = keras.Input((width,), name="rgb")
        return keras.Model({"rgb": rgb}, keras.layers.Dense(num_classes, activation="softmax")(rgb),
                           name=f"stand_in_{settings.profile}")

    assert scratch_name in list_models()
    assert model_info(scratch_name)["options"] == {"width": 3}
    model = build_model(scratch_name, SMOKE, 5, width=7)
    assert model.name == "stand_in_smoke" and model.output.shape == (None, 5) and model.inputs[0].shape == (None, 7)

    def another_builder(settings, num_classes):
        return None

    with pytest.raises(ValueError, match="already registered"):
        register_model(scratch_name, family="test", description="clash")(another_builder)
