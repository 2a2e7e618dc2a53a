"""two_stream_rgb / two_stream_flow / two_stream, c3d and cnn_transformer on smoke-sized inputs.

Each model builds from the registry, gives probabilities, saves and reloads a ``.keras`` file with equal
outputs, and learns (a tiny batch overfits); plus what each family is about.
"""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.models import build_model, model_info  # noqa: E402
from hybridvid_lib.models.registry import output_probs  # noqa: E402
from hybridvid_lib.models.trained import MODEL_FILE  # noqa: E402

SMOKE = resolve_settings("smoke")  # 8 frames of 32 px
T, S, C = SMOKE.num_frames, SMOKE.frame_size, 4
SMALL = {"filters": (4, 8), "feature_dim": 16}
CASES = {
    "two_stream_rgb": SMALL,
    "two_stream_flow": {**SMALL, "flow_stack": 3},
    "two_stream": {**SMALL, "flow_stack": 3, "fusion": "learned"},
    "c3d": {"width": 0.125, "dropout": 0.0},
    "cnn_transformer": {**SMALL, "d_model": 16, "num_heads": 2, "mlp_dim": 32, "num_layers": 1, "dropout": 0.0},
}


def inputs_for(model, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return {t.name: rng.uniform(-1, 1, (batch, *t.shape[1:])).astype("float32") for t in model.inputs}


def probs(model, x):
    return np.asarray(output_probs(model.predict_on_batch(x)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_model_gives_probabilities_and_reloads_with_equal_outputs(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C, **CASES[name])
    assert sorted(t.name for t in model.inputs) == sorted(model_info(name)["inputs"])
    x = inputs_for(model)
    p = probs(model, x)
    assert p.shape == (4, C) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(probs(reloaded, x), p, rtol=1e-5, atol=1e-6)
    assert model.get_layer("backbone" if name != "two_stream" else "rgb_backbone") is not None


@pytest.mark.parametrize("name", ["two_stream_flow", "c3d", "cnn_transformer"])
def test_a_tiny_batch_is_learned(name):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, C, **CASES[name])
    view = keras.Model(model.input, output_probs(model.output))
    view.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    x, y = inputs_for(model), np.arange(4)
    first = float(view.evaluate(x, y, verbose=0))
    for _ in range(40):
        last = float(view.train_on_batch(x, y))
    # The training-mode loss: batch-norm statistics of 4 clips need more steps to settle for inference.
    assert last < 0.3 * first


def test_the_flow_stream_takes_a_stack_of_L_fields():
    model = build_model("two_stream_flow", SMOKE, C, **CASES["two_stream_flow"])
    assert tuple(model.inputs[0].shape) == (None, S, S, 6)
    default = build_model("two_stream_flow", SMOKE, C, **SMALL)
    assert default.inputs[0].shape[-1] == 2 * (T - 1)  # L = 10 capped at the clip's T - 1 fields


@pytest.mark.parametrize("fusion", ["average", "learned", "conv"])
def test_every_fusion_builds_and_average_fusion_of_trained_streams_averages_them(fusion, tmp_path):
    keras.utils.set_random_seed(0)
    rgb = build_model("two_stream_rgb", SMOKE, C, **SMALL)
    flow = build_model("two_stream_flow", SMOKE, C, **CASES["two_stream_flow"])
    rgb.save(tmp_path / "rgb.keras")
    (tmp_path / "rgb").mkdir()
    (tmp_path / "flow").mkdir()
    rgb.save(tmp_path / "rgb" / MODEL_FILE)
    flow.save(tmp_path / "flow" / MODEL_FILE)
    fused = build_model("two_stream", SMOKE, C, fusion=fusion, rgb_run=str(tmp_path / "rgb"),
                        flow_run=str(tmp_path / "flow"), **CASES["two_stream_flow"])
    x = inputs_for(fused)
    p = probs(fused, x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    if fusion == "average":  # no new weights: exactly the mean of the two trained streams
        expected = (probs(rgb, {"rgb": x["rgb"]}) + probs(flow, {"flow": x["flow"]})) / 2
        np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-6)


def test_c3d_keeps_every_frame_through_the_first_pooling():
    model = build_model("c3d", resolve_settings("cpu"), 12)
    backbone = model.get_layer("backbone")
    assert backbone.get_layer("pool1").output.shape[1] == 16      # 1x2x2: time untouched
    assert backbone.get_layer("pool2").output.shape[1] == 8       # 2x2x2 from then on
    kernels = [layer.kernel_size for layer in backbone.layers if isinstance(layer, keras.layers.Conv3D)]
    assert len(kernels) == 8 and set(kernels) == {(3, 3, 3)}
    assert model.count_params() < 1_000_000  # trains in minutes on 2 cores at the cpu profile's width


@pytest.mark.parametrize("position, pooling, blind", [("none", "mean", True), ("none", "cls", True),
                                                       ("sinusoidal", "cls", False), ("learned", "mean", False)])
def test_the_transformer_is_blind_to_frame_order_exactly_without_a_position_encoding(position, pooling, blind):
    keras.utils.set_random_seed(1)
    options = {**CASES["cnn_transformer"], "position": position, "pooling": pooling}
    model = build_model("cnn_transformer", SMOKE, C, **options)
    if position == "learned":  # learned positions start near zero: make them matter
        layer = model.get_layer("position")
        layer.set_weights([np.random.default_rng(0).normal(size=layer.get_weights()[0].shape)])
    x = inputs_for(model)
    reversed_x = {"rgb": x["rgb"][:, ::-1]}
    change = np.abs(probs(model, reversed_x) - probs(model, x)).max()
    assert (change < 1e-4) if blind else (change > 1e-4)
    attention = model.predict_on_batch(x)["attention"]
    steps = T + (1 if pooling == "cls" else 0)
    assert attention.shape == (4, 2, steps, steps)
