"""``hybridvid bench models``: the FLOPs it counts match hand counts; its JSON reports what it measured."""

import contextlib
import io
import json

import pytest

from hybridvid_lib.bench_models import bench_models, feature_sequence_shape, format_bench_models, forward_flops
from hybridvid_lib.cli import main
from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.synth.actions import CLASSES
from hybridvid_lib.models import build_model
from hybridvid_lib.models.extractors import FEATURE_FRAMES, feature_settings
from hybridvid_lib.seeding import set_seed
from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

MODELS = ("c3d", "hybrid")  # a 3D CNN; a head on feature sequences with a label input (center loss), dict output


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def bench():
    code, out, _ = run_cli(["bench", "models", "--models", ",".join(MODELS), "--profile", "smoke",
                            "--batch-size", "2", "--steps", "1", "--json"])
    assert code == 0
    return json.loads(out)  # fails unless stdout is exactly one JSON document


# --------------------------------------------------------------------------- FLOPs against hand counts
def test_conv3d_flops_are_twice_the_multiply_adds():
    inputs = keras.Input((4, 8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv3D(5, 3, padding="same", use_bias=False)(inputs))
    # every one of the 4*8*8*5 outputs sums a 3x3x3 window of 3 channels: 81 multiply-adds
    assert forward_flops(model, {model.inputs[0].name: (4, 8, 8, 3)}) == 2 * (4 * 8 * 8 * 5) * (3 * 3 * 3 * 3)


def test_dense_flops_are_twice_the_multiply_adds_plus_the_bias():
    inputs = keras.Input((10,))
    model = keras.Model(inputs, keras.layers.Dense(7)(inputs))
    assert forward_flops(model, {model.inputs[0].name: (10,)}) == 2 * 10 * 7 + 7


class _GraphContraction(keras.layers.Layer):
    """``(B, V, K, C) -> (B, W, C)``: the einsum of stgcn's graph convolution, with a weight ``(K, V, W)``."""

    def build(self, input_shape):
        self.adjacency = self.add_weight(shape=(input_shape[2], input_shape[1], 5), name="adjacency")

    def call(self, x):
        return keras.ops.einsum("nvkc,kvw->nwc", x, self.adjacency)


def test_einsum_flops_are_counted_as_its_multiply_adds():
    # TensorFlow's profiler has no count for Einsum; the kit registers one
    inputs = keras.Input((4, 2, 3))
    model = keras.Model(inputs, _GraphContraction()(inputs))
    # every (w, c) output sums over the V=4 nodes and K=2 subsets: n*v*k*c*w multiply-adds
    assert forward_flops(model, {model.inputs[0].name: (4, 2, 3)}) == 2 * 1 * 4 * 2 * 3 * 5


def test_every_time_step_of_a_recurrent_layer_is_counted():
    def lstm_flops(steps):
        inputs = keras.Input((None, 16), name="features")
        model = keras.Model(inputs, keras.layers.LSTM(8)(inputs))
        return forward_flops(model, {"features": (steps, 16)})

    one = lstm_flops(1)
    assert one >= 2 * (16 + 8) * 4 * 8  # the step's two products, at least
    assert lstm_flops(5) == 5 * one  # not one step only, as a loop in the graph would be counted


def test_recurrent_layers_are_left_as_they_were():
    inputs = keras.Input((3, 4), name="features")
    lstm = keras.layers.LSTM(2)
    model = keras.Model(inputs, keras.layers.Bidirectional(lstm)(inputs))
    forward_flops(model, {"features": (3, 4)})
    assert not model.layers[1].forward_layer.unroll and not model.layers[1].backward_layer.unroll


# --------------------------------------------------------------------------- the JSON of the command
def test_json_has_one_entry_per_model_with_positive_figures(bench):
    assert set(bench) >= {"matmul_gflops", "models", "profile", "batch_size", "device", "threads"}
    assert (bench["profile"], bench["batch_size"], bench["steps"]) == ("smoke", 2, 1)
    assert isinstance(bench["matmul_gflops"], float) and bench["matmul_gflops"] > 0
    assert list(bench["models"]) == list(MODELS)
    for name, row in bench["models"].items():
        assert isinstance(row["params"], int) and row["params"] > 0, name
        for key in ("gflops_per_clip", "train_clips_per_s", "infer_clips_per_s", "train_fraction_of_matmul",
                    "infer_fraction_of_matmul"):
            assert isinstance(row[key], float) and row[key] > 0, (name, key)
        assert row["train_clips_per_s"] == pytest.approx(2 / row["train_step_s"], rel=2e-3)
        fraction = 3 * row["gflops_per_clip"] * row["train_clips_per_s"] / bench["matmul_gflops"]
        assert row["train_fraction_of_matmul"] == pytest.approx(fraction, rel=2e-3), name


def test_params_and_flops_are_those_of_the_built_model(bench):
    settings = resolve_settings("smoke")
    for name in MODELS:
        row = bench["models"][name]
        set_seed(0)
        model = build_model(name, settings, len(CLASSES), **row["options"])
        assert row["params"] == model.count_params()
        shapes = {key: tuple(shape) for key, shape in row["inputs"].items()}
        assert row["gflops_per_clip"] == pytest.approx(forward_flops(model, shapes) / 1e9, rel=1e-3)
    assert bench["models"]["c3d"]["inputs"] == {"rgb": [8, 32, 32, 3]}  # the smoke profile's clips
    # a profile's clip size is what is counted: c3d at 8 frames of 32 px does 1.6e7 to 2e7 FLOPs per clip
    assert 0.016 < bench["models"]["c3d"]["gflops_per_clip"] < 0.02


def test_text_table_shows_one_row_per_model(bench):
    lines = format_bench_models(bench).splitlines()
    assert f"{bench['matmul_gflops']:.1f} GFLOP/s" in lines[1]
    for name, row in bench["models"].items():
        cells = next(line.split() for line in lines if line.strip().startswith(name + " "))
        assert cells == [name, f"{row['params']:,}", f"{row['gflops_per_clip']:.3f}",
                         f"{row['train_clips_per_s']:.1f}", f"{row['infer_clips_per_s']:.1f}",
                         f"{100 * row['train_fraction_of_matmul']:.1f}%"]


def test_a_feature_head_gets_the_sequences_of_the_profiles_i3d_streams(bench):
    settings = resolve_settings("smoke")
    (length, width), dims = feature_sequence_shape(settings)
    rgb = build_model("i3d_rgb", feature_settings(settings), 2).output["features"]
    assert FEATURE_FRAMES["smoke"] == 16 and (length, dims[0]) == tuple(rgb.shape[1:])
    assert len(dims) == 2 and width == sum(dims)
    row = bench["models"]["hybrid"]  # trained with its labels on the label input, as the kit trains it
    assert row["inputs"] == {"features": [length, width], "label": []}
    assert row["options"] == {"feature_dims": list(dims)}


# --------------------------------------------------------------------------- mistakes
def test_unknown_model_is_one_sentence_listing_the_known_ones():
    code, out, err = run_cli(["bench", "models", "--models", "c3d,c3dd", "--profile", "smoke", "--json"])
    assert code == 2 and out == ""
    assert "Unknown model 'c3dd'" in err and "i3d_rgb" in err and "Traceback" not in err


def test_steps_below_one_are_refused():
    with pytest.raises(SystemExit) as exc, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["bench", "models", "--steps", "0"])
    assert exc.value.code == 2 and "at least 1" in err.getvalue()
    with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
        bench_models(["c3d"], profile="smoke", steps=0, progress=False)


# --------------------------------------------------------------------------- what a setting buys
def test_precision_and_frame_size_are_applied_to_what_is_timed():
    code, out, _ = run_cli(["bench", "models", "--models", "c3d,hybrid", "--profile", "smoke", "--batch-size", "2",
                            "--steps", "1", "--precision", "mixed_bfloat16", "--frame-size", "40", "--json"])
    assert code == 0
    result = json.loads(out)
    assert (result["precision"], result["frame_size"]) == ("mixed_bfloat16", 40)
    c3d = result["models"]["c3d"]
    assert c3d["inputs"] == {"rgb": [8, 40, 40, 3]}
    assert {row["compute_dtype"] for row in result["models"].values()} == {"bfloat16"}
    # the convolutions' work grows with the pixels: (40 / 32)^2 = 1.56 times the 32 px clip's 0.016-0.02 GFLOP
    assert 0.016 * 1.5 < c3d["gflops_per_clip"] < 0.02 * 1.6
    assert keras.mixed_precision.global_policy().name == "float32"  # the bench left the policy as it was


def test_the_default_bench_times_float32_models():
    code, out, _ = run_cli(["bench", "models", "--models", "single_frame_cnn", "--profile", "smoke", "--batch-size",
                            "2", "--steps", "1", "--json"])
    result = json.loads(out)
    assert code == 0 and result["precision"] == "float32" and result["jit_compile"] == "auto"
    assert result["models"]["single_frame_cnn"]["compute_dtype"] == "float32"


def test_float16_on_a_machine_without_a_gpu_is_one_sentence():
    from hybridvid_lib.tf_setup import gpu_devices

    if gpu_devices():
        pytest.skip("this machine has a GPU, where mixed_float16 is allowed")
    code, out, err = run_cli(["bench", "models", "--models", "c3d", "--profile", "smoke", "--precision",
                              "mixed_float16", "--json"])
    assert code == 2 and out == ""
    assert "needs a GPU" in err and "mixed_bfloat16" in err and "Traceback" not in err
