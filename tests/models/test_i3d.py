"""I3D: the released layer structure, the course widths, the registry models, and the Kinetics checkpoint import.

The import is checked against an independent forward pass written here with ``tf.nn`` ops from the released
``i3d.py`` (Unit3D = conv SAME + batch norm with moving statistics + ReLU, SAME max pools, a VALID 2x7x7
average pool, the 1x1x1 logits, squeezed and averaged over time), on a checkpoint the test writes with the
released variable names and shapes (Sonnet's ``(1, 1, 1, 1, C)`` batch-norm tensors included).
"""

from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.cli import main  # noqa: E402
from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.models import build_model, model_info  # noqa: E402
from hybridvid_lib.models.i3d import (  # noqa: E402
    ENDPOINTS, MIXED_CHANNELS, POOLS, STEM_UNITS, build_i3d_stream, layer_name, mixed_unit_names, output_steps,
    unit_scopes,
)
from hybridvid_lib.models.i3d_checkpoint import CheckpointError, find_root, import_i3d_checkpoint  # noqa: E402

SMOKE = resolve_settings("smoke")


# ------------------------------------------------------------------------------ structure
def test_the_units_are_the_released_ones_with_the_irregular_mixed_5b_name():
    scopes = unit_scopes()
    assert len(scopes) == 3 + 6 * 9 and scopes[:3] == ["Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"]
    assert "Mixed_5b/Branch_2/Conv3d_0a_3x3" in scopes and "Mixed_5b/Branch_2/Conv3d_0b_3x3" not in scopes
    assert "Mixed_5c/Branch_2/Conv3d_0b_3x3" in scopes
    assert mixed_unit_names("Mixed_4b")[4] == "Branch_2/Conv3d_0b_3x3"
    assert list(ENDPOINTS) == ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3",
                               "MaxPool3d_3a_3x3", "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b",
                               "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b",
                               "Mixed_5c"]
    # Output widths of the blocks: 256, 480, 512, 512, 512, 528, 832, 832, 1024 (Inception-v1).
    widths = [c[0] + c[2] + c[4] + c[5] for c in MIXED_CHANNELS.values()]
    assert widths == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


def test_full_width_shapes_follow_the_released_network():
    model = build_i3d_stream(400, channels=3, frames=None, size=None)
    x = np.zeros((1, 16, 224, 224, 3), np.float32)
    probe = keras.Model(model.input, [model.get_layer(f"{name}.relu").output if "Conv" in name
                                      else model.get_layer(name).output for name in
                                      ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Mixed_3c.concat", "Mixed_4f.concat",
                                       "Mixed_5c.concat")])
    shapes = [tuple(o.shape) for o in probe({"rgb": x})]
    assert shapes == [(1, 8, 112, 112, 64), (1, 8, 56, 56, 64), (1, 8, 28, 28, 480), (1, 4, 14, 14, 832),
                      (1, 2, 7, 7, 1024)]
    conv1 = model.get_layer("Conv3d_1a_7x7.conv_3d")
    bn = model.get_layer("Mixed_5b.Branch_2.Conv3d_0a_3x3.batch_norm")
    assert conv1.kernel.shape == (7, 7, 7, 3, 64) and not conv1.use_bias
    assert not bn.scale and bn.center and bn.epsilon == pytest.approx(1e-3)
    assert model.get_layer("Logits.Conv3d_0c_1x1.conv_3d").use_bias
    out = model({"rgb": x})
    assert out["logits"].shape == (1, 400) and out["features"].shape == (1, 2, 1024)


@pytest.mark.parametrize("name, inputs", [("i3d_rgb", ("rgb",)), ("i3d_flow", ("flow",)),
                                          ("i3d_two_stream", ("rgb", "flow"))])
def test_registered_i3d_models_give_probabilities_and_reload_equal(name, inputs, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_model(name, SMOKE, 5)
    assert sorted(t.name for t in model.inputs) == sorted(inputs) == sorted(model_info(name)["inputs"])
    rng = np.random.default_rng(0)
    x = {t.name: rng.uniform(-1, 1, (2, *t.shape[1:])).astype("float32") for t in model.inputs}
    out = model.predict_on_batch(x)
    assert out["probs"].shape == (2, 5) and np.allclose(out["probs"].sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(out["probs"], tf.nn.softmax(out["logits"]).numpy(), rtol=1e-5, atol=1e-6)
    if "features" in out:
        assert out["features"].shape == (2, output_steps(SMOKE.num_frames), model.get_layer("features").output.shape[-1])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras").predict_on_batch(x)
    np.testing.assert_allclose(again["logits"], out["logits"], rtol=1e-5, atol=1e-5)


def test_the_width_follows_the_profile_and_a_tiny_batch_is_learned():
    small = build_model("i3d_rgb", SMOKE, 4)
    cpu = build_model("i3d_rgb", resolve_settings("cpu"), 4)
    assert small.get_layer("Conv3d_1a_7x7.conv_3d").filters == 8  # 64 x 0.125
    assert cpu.get_layer("Conv3d_1a_7x7.conv_3d").filters == 16 and cpu.count_params() > small.count_params()
    with pytest.raises(ValueError, match=r"width must be in \(0, 1\]"):
        build_model("i3d_rgb", SMOKE, 4, width=1.5)
    keras.utils.set_random_seed(0)
    model = build_model("i3d_rgb", SMOKE, 4, dropout=0.0)
    view = keras.Model(model.input, model.output["probs"])
    view.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (4, SMOKE.num_frames, SMOKE.frame_size, SMOKE.frame_size, 3)).astype("float32"), np.arange(4)
    x = {"rgb": x}
    first = float(view.evaluate(x, y, verbose=0))
    for _ in range(30):
        last = float(view.train_on_batch(x, y))
    assert last < 0.3 * first


# ------------------------------------------------------------------------------ checkpoints
def released_variables(stream: str = "rgb", num_classes: int = 7, seed: int = 0, prefix: str | None = None):
    """Random values under the released names and shapes (beta and moving statistics as Sonnet keeps them)."""
    rng = np.random.default_rng(seed)
    root = {"rgb": "RGB/inception_i3d/", "flow": "Flow/inception_i3d/"}[stream] if prefix is None else prefix
    channels = {"rgb": 3, "flow": 2}[stream]
    variables, c_in = {}, channels

    def unit(scope, c_in, c_out, k):
        fan_in = c_in * int(np.prod(k))
        variables[f"{root}{scope}/conv_3d/w"] = rng.normal(0, np.sqrt(2 / fan_in), (*k, c_in, c_out))
        variables[f"{root}{scope}/batch_norm/beta"] = rng.normal(0, 0.1, (1, 1, 1, 1, c_out))
        variables[f"{root}{scope}/batch_norm/moving_mean"] = rng.normal(0, 0.1, (1, 1, 1, 1, c_out))
        variables[f"{root}{scope}/batch_norm/moving_variance"] = rng.uniform(0.5, 1.5, (1, 1, 1, 1, c_out))

    for scope, c_out, k, _ in STEM_UNITS:
        unit(scope, c_in, c_out, k)
        c_in = c_out
    for block, c in MIXED_CHANNELS.items():
        names = mixed_unit_names(block)
        unit(f"{block}/{names[0]}", c_in, c[0], (1, 1, 1))
        unit(f"{block}/{names[1]}", c_in, c[1], (1, 1, 1))
        unit(f"{block}/{names[2]}", c[1], c[2], (3, 3, 3))
        unit(f"{block}/{names[3]}", c_in, c[3], (1, 1, 1))
        unit(f"{block}/{names[4]}", c[3], c[4], (3, 3, 3))
        unit(f"{block}/{names[5]}", c_in, c[5], (1, 1, 1))
        c_in = c[0] + c[2] + c[4] + c[5]
    variables[f"{root}Logits/Conv3d_0c_1x1/conv_3d/w"] = rng.normal(0, 0.05, (1, 1, 1, c_in, num_classes))
    variables[f"{root}Logits/Conv3d_0c_1x1/conv_3d/b"] = rng.normal(0, 0.1, (num_classes,))
    variables["global_step"] = np.array(1000, np.int64)  # released checkpoints hold more than the network
    return {k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in variables.items()}


def write_checkpoint(prefix: Path, variables: dict) -> Path:
    """A TensorFlow (V2) checkpoint holding exactly these names, as ``tf.train.Saver`` writes them."""
    names = sorted(variables)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(variables[n]) for n in names])
    return prefix


def released_logits(variables: dict, root: str, x: np.ndarray) -> np.ndarray:
    """The released I3D's time-averaged logits, written with tf.nn ops after ``i3d.py`` (is_training False)."""
    def unit(net, scope, stride=(1, 1, 1)):
        w = variables[f"{root}{scope}/conv_3d/w"]
        net = tf.nn.conv3d(net, w, strides=(1, *stride, 1), padding="SAME")
        bn = {v: variables[f"{root}{scope}/batch_norm/{v}"].reshape(-1) for v in ("beta", "moving_mean",
                                                                                   "moving_variance")}
        net = (net - bn["moving_mean"]) / np.sqrt(bn["moving_variance"] + 1e-3) + bn["beta"]
        return tf.nn.relu(net)

    def pool(net, k, s):
        return tf.nn.max_pool3d(net, ksize=(1, *k, 1), strides=(1, *s, 1), padding="SAME")

    net = tf.constant(x)
    net = unit(net, "Conv3d_1a_7x7", (2, 2, 2))
    net = pool(net, (1, 3, 3), (1, 2, 2))
    net = unit(unit(net, "Conv3d_2b_1x1"), "Conv3d_2c_3x3")
    net = pool(net, (1, 3, 3), (1, 2, 2))
    for block in MIXED_CHANNELS:
        if block == "Mixed_4b":
            net = pool(net, (3, 3, 3), (2, 2, 2))
        if block == "Mixed_5b":
            net = pool(net, (2, 2, 2), (2, 2, 2))
        b2 = "Conv3d_0a_3x3" if block == "Mixed_5b" else "Conv3d_0b_3x3"
        branches = [unit(net, f"{block}/Branch_0/Conv3d_0a_1x1"),
                    unit(unit(net, f"{block}/Branch_1/Conv3d_0a_1x1"), f"{block}/Branch_1/Conv3d_0b_3x3"),
                    unit(unit(net, f"{block}/Branch_2/Conv3d_0a_1x1"), f"{block}/Branch_2/{b2}"),
                    unit(pool(net, (3, 3, 3), (1, 1, 1)), f"{block}/Branch_3/Conv3d_0b_1x1")]
        net = tf.concat(branches, 4)
    net = tf.nn.avg_pool3d(net, ksize=(1, 2, 7, 7, 1), strides=(1, 1, 1, 1, 1), padding="VALID")
    logits = tf.nn.conv3d(net, variables[f"{root}Logits/Conv3d_0c_1x1/conv_3d/w"], strides=(1,) * 5,
                          padding="SAME") + variables[f"{root}Logits/Conv3d_0c_1x1/conv_3d/b"]
    return tf.reduce_mean(tf.squeeze(logits, [2, 3]), axis=1).numpy()


@pytest.fixture(scope="module")
def rgb_checkpoint(tmp_path_factory):
    variables = released_variables("rgb", num_classes=7)
    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", variables), variables


def test_an_imported_checkpoint_gives_the_released_logits(rgb_checkpoint, tmp_path):
    prefix, variables = rgb_checkpoint
    model = import_i3d_checkpoint(prefix, "rgb")
    x = np.random.default_rng(3).uniform(-1, 1, (1, 24, 224, 224, 3)).astype(np.float32)  # 3 steps after Mixed_5c
    ours = model.predict_on_batch({"rgb": x})
    expected = released_logits(variables, "RGB/inception_i3d/", x)
    assert ours["logits"].shape == (1, 7) and ours["features"].shape == (1, 3, 1024)
    np.testing.assert_allclose(ours["logits"], expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())

    # The command writes a .keras model with the same outputs.
    out = tmp_path / "i3d_rgb_kinetics.keras"
    assert main(["models", "import-i3d", "--checkpoint", str(prefix), "--stream", "rgb", "--out", str(out)]) == 0
    reloaded = keras.saving.load_model(out)
    np.testing.assert_allclose(reloaded.predict_on_batch({"rgb": x})["logits"], ours["logits"], rtol=1e-5,
                               atol=1e-5)


def test_the_flow_stream_and_the_kinetics_600_names_without_a_prefix_are_read(tmp_path):
    flow = released_variables("flow", num_classes=3, seed=1)
    model = import_i3d_checkpoint(write_checkpoint(tmp_path / "flow.ckpt", flow), "flow")
    assert model.input["flow"].shape[-1] == 2
    x = np.random.default_rng(4).uniform(-1, 1, (1, 16, 224, 224, 2)).astype(np.float32)
    expected = released_logits(flow, "Flow/inception_i3d/", x)
    np.testing.assert_allclose(model.predict_on_batch({"flow": x})["logits"], expected, rtol=1e-3,
                               atol=1e-3 * np.abs(expected).max())
    bare = {k: v for k, v in released_variables("rgb", num_classes=3, prefix="").items()}
    assert find_root(bare, "rgb") == ""


def test_a_wrong_checkpoint_is_refused_with_the_variable_and_both_shapes(rgb_checkpoint, tmp_path, capsys):
    prefix, variables = rgb_checkpoint
    with pytest.raises(CheckpointError, match=r"not an I3D flow stream \(it holds the rgb stream: use --stream rgb\)"):
        import_i3d_checkpoint(prefix, "flow")
    missing = dict(variables)
    del missing["RGB/inception_i3d/Mixed_4d/Branch_1/Conv3d_0b_3x3/batch_norm/moving_variance"]
    with pytest.raises(CheckpointError,
                       match=r"no variable RGB/inception_i3d/Mixed_4d/Branch_1/Conv3d_0b_3x3/batch_norm/moving_variance"):
        import_i3d_checkpoint(write_checkpoint(tmp_path / "missing.ckpt", missing), "rgb")
    wrong = dict(variables)
    wrong["RGB/inception_i3d/Mixed_3c/Branch_2/Conv3d_0b_3x3/conv_3d/w"] = np.zeros((3, 3, 3, 32, 95), np.float32)
    with pytest.raises(CheckpointError, match=r"Mixed_3c/Branch_2/Conv3d_0b_3x3/conv_3d/w has shape "
                                              r"\(3, 3, 3, 32, 95\) in the checkpoint, but the I3D layer needs "
                                              r"\(3, 3, 3, 32, 96\)"):
        import_i3d_checkpoint(write_checkpoint(tmp_path / "wrong.ckpt", wrong), "rgb")
    assert main(["models", "import-i3d", "--checkpoint", str(tmp_path / "nothing"), "--stream", "rgb",
                 "--out", str(tmp_path / "x.keras")]) == 2
    assert "No TensorFlow checkpoint at" in capsys.readouterr().err and not (tmp_path / "x.keras").exists()


def test_layer_names_are_the_scopes():
    assert layer_name("Mixed_4b/Branch_1/Conv3d_0b_3x3") == "Mixed_4b.Branch_1.Conv3d_0b_3x3"
    assert set(POOLS) == {e for e in ENDPOINTS if e.startswith("MaxPool")}


# ------------------------------------------------------------------------------ fine-tuning from saved weights
def test_init_from_copies_every_layer_but_the_classifier_and_refuses_another_width(tmp_path):
    from hybridvid_lib.errors import ModelError
    from hybridvid_lib.models.trained import init_from

    keras.utils.set_random_seed(0)
    kinetics_like = build_model("i3d_rgb", SMOKE, 7)  # stands in for an imported checkpoint (7 "Kinetics" classes)
    kinetics_like.save(tmp_path / "pretrained.keras")
    model = build_model("i3d_rgb", SMOKE, 4)
    started = init_from(model, tmp_path / "pretrained.keras")
    assert started["new"] == ["Logits.Conv3d_0c_1x1.conv_3d"] and "Conv3d_1a_7x7.conv_3d" in started["copied"]
    assert len(started["copied"]) == 2 * 57  # every conv and batch norm
    for name in ("Conv3d_1a_7x7.conv_3d", "Mixed_5c.Branch_3.Conv3d_0b_1x1.batch_norm"):
        for mine, theirs in zip(model.get_layer(name).get_weights(), kinetics_like.get_layer(name).get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    assert model.get_layer("Logits.Conv3d_0c_1x1.conv_3d").kernel.shape[-1] == 4
    with pytest.raises(ModelError, match=r"Layer 'Conv3d_1a_7x7.conv_3d' .* shapes .*another width"):
        init_from(build_model("i3d_rgb", SMOKE, 4, width=0.25), tmp_path / "pretrained.keras")
    with pytest.raises(ModelError, match="No model file"):
        init_from(model, tmp_path / "missing.keras")


def test_train_init_from_fine_tunes_with_a_new_classifier(stickactions_smoke, tmp_path, capsys):
    from hybridvid_lib.evaluation import load_metrics

    build_model("i3d_rgb", SMOKE, 7).save(tmp_path / "pretrained.keras")
    run = tmp_path / "run"
    assert main(["train", "--model", "i3d_rgb", "--format", "stickactions", "--root", str(stickactions_smoke),
                 "--profile", "smoke", "--init-from", str(tmp_path / "pretrained.keras"), "--out", str(run)]) == 0
    assert "114 layers from" in capsys.readouterr().out
    (result,) = load_metrics(run / "metrics.json")["results"]
    assert result["model"] == "i3d_rgb" and result["init_from"].startswith("pretrained.keras:")
    assert keras.saving.load_model(run / "model.keras").output["probs"].shape[-1] == 12
