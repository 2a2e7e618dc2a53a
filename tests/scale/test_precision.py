"""Mixed precision, XLA and batch size by device (hybridvid_lib.scale.precision)."""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402

from hybridvid_lib.config import resolve_settings  # noqa: E402
from hybridvid_lib.errors import SettingsError  # noqa: E402
from hybridvid_lib.models import build_model  # noqa: E402
from hybridvid_lib.models.registry import output_probs  # noqa: E402
from hybridvid_lib.scale.precision import (  # noqa: E402
    check_policy_for_model,
    cpu_has_bfloat16,
    device_batch_size,
    jit_compile_option,
    precision_policy,
    resolve_precision,
)


def test_auto_picks_float16_on_a_gpu_and_float32_on_any_cpu():
    assert resolve_precision("auto", has_gpu=True) == "mixed_float16"
    assert resolve_precision("auto", has_gpu=False) == "float32"  # bfloat16 instructions or not (module docstring)
    assert resolve_precision("mixed_bfloat16", has_gpu=False) == "mixed_bfloat16"
    with pytest.raises(SettingsError, match="needs a GPU.*3D pooling"):
        resolve_precision("mixed_float16", has_gpu=False)
    with pytest.raises(SettingsError, match="must be one of"):
        resolve_precision("half", has_gpu=True)


def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path):
    (tmp_path / "with").write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n")
    (tmp_path / "without").write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu_has_bfloat16(tmp_path / "with") and not cpu_has_bfloat16(tmp_path / "without")
    assert not cpu_has_bfloat16(tmp_path / "missing")


def test_the_gpu_profile_scales_its_batch_with_the_gpus_memory_and_other_profiles_do_not():
    gpu = resolve_settings("gpu")
    assert gpu.precision == "auto" and gpu.auto_batch and gpu.batch_size == 32
    assert [device_batch_size(gpu, memory_gib=m) for m in (8, 16, 40, 80, 141)] == [16, 32, 64, 128, 256]
    assert device_batch_size(resolve_settings("cpu"), memory_gib=80) == 8  # auto_batch off
    assert device_batch_size(gpu.replace(auto_batch=False), memory_gib=80) == 32
    assert device_batch_size(gpu, memory_gib=0) == 32  # no GPU found: the profile's batch


def test_scale_settings_take_names_only_from_their_lists():
    settings = resolve_settings("cpu", precision="mixed_bfloat16", jit_compile="off", strategy="mirrored")
    assert (settings.precision, jit_compile_option(settings), settings.strategy) == ("mixed_bfloat16", False, "mirrored")
    assert jit_compile_option(resolve_settings("cpu")) == "auto"
    for key, bad in (("precision", "fp8"), ("jit_compile", "yes"), ("strategy", "horovod")):
        with pytest.raises(SettingsError, match=f"'{key}' must be one of"):
            resolve_settings("cpu", **{key: bad})


@pytest.mark.parametrize("name", ["c3d", "cnn_lstm"])
def test_a_model_built_under_mixed_bfloat16_computes_in_bfloat16_keeps_float32_weights_and_trains(name):
    # The policy's mechanics (3D pooling included); whether its gradients are right is the test further down.
    smoke = resolve_settings("smoke")
    before = keras.mixed_precision.global_policy().name
    with precision_policy("mixed_bfloat16") as policy:
        assert policy == "mixed_bfloat16"
        keras.utils.set_random_seed(0)
        model = build_model(name, smoke, 3)
    assert keras.mixed_precision.global_policy().name == before  # the block left the global policy as it was
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    assert any(layer.compute_dtype == "bfloat16" for layer in model.layers)
    view = keras.Model(model.input, output_probs(model.output))
    view.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(-1, 1, (4, smoke.num_frames, smoke.frame_size, smoke.frame_size, 3))
    losses = [float(view.train_on_batch({"rgb": x.astype("float32")}, np.array([0, 1, 2, 0]))) for _ in range(3)]
    assert all(np.isfinite(losses))


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_the_hybrid_trains_under_a_mixed_policy_with_its_centers_kept_in_float32(policy, tmp_path):
    # Under a mixed policy Keras hands a layer its float32 variables cast to the compute dtype; the center loss
    # then mixed a 16-bit center with its float32 embedding and the first training step failed (mixed_float16 is
    # what the gpu profile's `auto` picks on a GPU). The head has no 3D pooling, so float16 runs on a CPU too.
    from hybridvid_lib.training import compile_for_training, model_inputs, training_view

    smoke = resolve_settings("smoke")
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = build_model("hybrid", smoke, 3, feature_dims=(8, 8))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    centers = model.get_layer("center_loss")
    assert model.get_layer("bilstm_1").compute_dtype == policy.split("_")[1]
    assert centers.centers.dtype == "float32" and model.get_layer("embedding").compute_dtype == "float32"
    trainable = training_view(model)
    compile_for_training(trainable, 1e-3)
    y = np.array([0, 1, 2, 0])
    x = model_inputs({"features": np.random.default_rng(0).normal(size=(4, 2, 16)).astype("float32")}, trainable, y)
    losses = [trainable.train_on_batch(x, y, return_dict=True)["loss"] for _ in range(3)]
    assert all(np.isfinite(losses))
    moved = centers.centers.numpy()
    assert moved.dtype == np.float32 and np.all(np.abs(moved).sum(axis=1) > 0)  # every class's center moved
    model.save(tmp_path / "hybrid.keras")
    again = keras.models.load_model(tmp_path / "hybrid.keras", safe_mode=True)
    np.testing.assert_array_equal(again.get_layer("center_loss").centers.numpy(), moved)


def test_a_3d_model_is_refused_under_bfloat16_without_a_gpu_and_other_models_are_not():
    # TensorFlow 2.21's bfloat16 kernel gradient of a 3D convolution on a CPU is wrong for 2-step inputs (I3D's
    # training turned to NaN in its second step); 2D and sequence models train (the tests above).
    smoke = resolve_settings("smoke")
    with precision_policy("mixed_bfloat16"):
        i3d, cnn_lstm = build_model("i3d_rgb", smoke, 3), build_model("cnn_lstm", smoke, 3)
    with pytest.raises(SettingsError, match=r"cannot train i3d_rgb.*3D convolution \(Conv3d_1a_7x7.*'float32'"):
        check_policy_for_model(i3d, "mixed_bfloat16", has_gpu=False)
    check_policy_for_model(cnn_lstm, "mixed_bfloat16", has_gpu=False)
    check_policy_for_model(i3d, "mixed_bfloat16", has_gpu=True)
    check_policy_for_model(i3d, "float32", has_gpu=False)


def test_training_a_3d_model_under_bfloat16_on_a_cpu_stops_with_one_sentence_before_any_epoch(tmp_path, capsys,
                                                                                             stickactions_smoke):
    from hybridvid_lib.cli import main
    from hybridvid_lib.tf_setup import gpu_devices

    if gpu_devices():
        pytest.skip("this machine has a GPU, where mixed_bfloat16 trains 3D convolutions")
    code = main(["train", "--model", "c3d", "--format", "stickactions", "--root", str(stickactions_smoke),
                 "--profile", "smoke", "--precision", "mixed_bfloat16", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot train c3d" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "checkpoints").exists()
