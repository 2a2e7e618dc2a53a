"""run_layer_test can fail: each deliberately broken layer below is caught by the check it breaks.

The layers are registered under the package ``hybridvid_tests`` (not the kit's ``hybridvid``) so that the
``.keras`` round trip can find them.
"""

import numpy as np
import pytest

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from tests.support.layer_test import run_layer_test  # noqa: E402

X = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")  # (batch, frames, features)
FAST = {"run_training_check": False, "run_mixed_precision_check": False, "run_save_check": False}


def register(cls):
    return keras.saving.register_keras_serializable(package="hybridvid_tests")(cls)


@register
class ScaledDense(keras.layers.Layer):
    """Well behaved: ``x @ kernel + bias``, weights made in ``build``, a complete ``get_config``."""

    def __init__(self, units, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias") if self.use_bias else None

    def call(self, x):
        y = ops.matmul(x, self.kernel)
        return y + self.bias if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias}


@register
class AttentionPool(keras.layers.Layer):
    """Well behaved, dict output: softmax-weighted mean over time -> ``{"context": (B, D), "weights": (B, T)}``."""

    def build(self, input_shape):
        self.query = self.add_weight(shape=(input_shape[-1],), initializer="glorot_uniform", name="query")

    def call(self, x):
        weights = ops.softmax(ops.einsum("btd,d->bt", x, self.query), axis=-1)
        return {"context": ops.einsum("btd,bt->bd", x, weights), "weights": weights}


@register
class ForgetfulScale(keras.layers.Layer):
    """Broken: ``get_config`` omits ``factor``, so a reloaded layer would silently use 2.0.

    (A layer that defines no ``get_config`` at all gets one from Keras, built from its init arguments.)
    """

    def __init__(self, factor=2.0, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.offset = offset

    def call(self, x):
        return x * self.factor + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@register
class WeightInCall(keras.layers.Layer):
    """Broken: creates its weight in ``call`` instead of ``build``."""

    def call(self, x):
        if not hasattr(self, "kernel"):
            self.kernel = self.add_weight(shape=(x.shape[-1],), initializer="ones", name="kernel")
        return x * self.kernel


@register
class UnsavedProjection(keras.layers.Layer):
    """Broken: a random projection drawn in ``build`` as a plain array, not a weight, so never saved."""

    def build(self, input_shape):
        self.projection = np.random.normal(size=(input_shape[-1], 2)).astype("float32")

    def call(self, x):
        return ops.matmul(x, ops.convert_to_tensor(self.projection, dtype=x.dtype))


@register
class LyingShape(ScaledDense):
    """Broken: ``compute_output_shape`` forgets the time axis."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)


@register
class Float64Output(ScaledDense):
    """Broken: casts its output to float64."""

    def call(self, x):
        return ops.cast(super().call(x), "float64")


@register
class Float32Output(ScaledDense):
    """Casts its output to float32: wrong under mixed precision unless documented (expected_output_dtype).

    Its ``compute_output_spec`` says float32 too, so that symbolic (functional) calls agree.
    """

    def call(self, x):
        return ops.cast(super().call(x), "float32")

    def compute_output_spec(self, x):
        return keras.KerasTensor(self.compute_output_shape(x.shape), dtype="float32")


@register
class ForgetsSublayerDtype(keras.layers.Layer):
    """Broken under ``dtype=``: its inner Dense ignores the layer's dtype policy."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)  # should pass dtype=self.dtype_policy

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register
class PassesSublayerDtype(ForgetsSublayerDtype):
    """The fix of ``ForgetsSublayerDtype``: the inner Dense gets ``dtype=self.dtype_policy``."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.dense = keras.layers.Dense(units, dtype=self.dtype_policy)


@register
class UnusedWeight(ScaledDense):
    """Broken: a trainable ``gate`` is made in ``build`` but never used in ``call``."""

    def build(self, input_shape):
        super().build(input_shape)
        self.gate = self.add_weight(shape=(self.units,), initializer="ones", name="gate")


class Unregistered(ScaledDense):
    """Broken: not registered, so a ``.keras`` file that uses it does not load."""


def test_a_well_behaved_dense_like_layer_passes_every_check(tmp_path):
    out = run_layer_test(ScaledDense, {"units": 5, "use_bias": True}, X, expected_output_shape=(4, 6, 5),
                         expected_num_trainable_weights=2, expected_num_non_trainable_weights=0,
                         tmp_path=tmp_path)
    assert out.shape == (4, 6, 5) and out.dtype == np.float32


def test_a_dict_output_layer_passes_with_nested_expected_shapes(tmp_path):
    out = run_layer_test(AttentionPool, {}, X, expected_output_shape={"context": (4, 3), "weights": (4, 6)},
                         expected_num_trainable_weights=1, tmp_path=tmp_path)
    np.testing.assert_allclose(out["weights"].sum(axis=1), np.ones(4), rtol=1e-5)


def test_a_wrong_nested_shape_fails():
    with pytest.raises(AssertionError, match=r"\[build and call\] output shape"):
        run_layer_test(AttentionPool, {}, X, expected_output_shape={"context": (4, 3), "weights": (4, 3)}, **FAST)


def test_an_init_argument_missing_from_get_config_fails():
    with pytest.raises(AssertionError, match=r"\[config\] get_config\(\) lacks the init argument\(s\) \['factor'\]"):
        run_layer_test(ForgetfulScale, {"factor": 3.0, "offset": 1.0}, X, **FAST)


def test_a_weight_created_in_call_fails():
    with pytest.raises(AssertionError, match=r"(?s)\[build and call\].*add new elements of state"):
        run_layer_test(WeightInCall, {}, X, **FAST)


def test_state_that_is_not_saved_changes_the_output_after_reload_and_fails(tmp_path):
    with pytest.raises(AssertionError, match=r"(?s)\[save and reload\] .*differs after the \.keras round trip"):
        run_layer_test(UnsavedProjection, {}, X, expected_output_shape=(4, 6, 2), run_training_check=False,
                       run_mixed_precision_check=False, tmp_path=tmp_path)


def test_an_output_shape_other_than_expected_fails():
    with pytest.raises(AssertionError, match=r"output shape \(4, 6, 5\) != expected_output_shape \(4, 6, 4\)"):
        run_layer_test(ScaledDense, {"units": 5}, X, expected_output_shape=(4, 6, 4), **FAST)


def test_a_compute_output_shape_that_disagrees_with_the_call_fails():
    with pytest.raises(AssertionError, match=r"compute_output_shape\(\) gives \(4, 5\)"):
        run_layer_test(LyingShape, {"units": 5}, X, expected_output_shape=(4, 6, 5), **FAST)


def test_weight_counts_other_than_expected_fail():
    with pytest.raises(AssertionError, match="expected 1 trainable weights, got 2"):
        run_layer_test(ScaledDense, {"units": 5}, X, expected_num_trainable_weights=1, **FAST)


def test_a_float64_output_fails_under_the_float32_policy():
    with pytest.raises(AssertionError, match=r"output is float64 under the float32 policy, expected float32"):
        run_layer_test(Float64Output, {"units": 2}, X, **FAST)


def test_a_float32_output_fails_under_mixed_precision_unless_documented():
    with pytest.raises(AssertionError, match=r"\[mixed precision mixed_bfloat16 \(global\)\] output is float32"):
        run_layer_test(Float32Output, {"units": 2}, X, mixed_precision_policies=("mixed_bfloat16",),
                       run_training_check=False, run_save_check=False)
    # A layer documented to output float32 says so, and then passes.
    run_layer_test(Float32Output, {"units": 2}, X, expected_output_dtype="float32",
                   mixed_precision_policies=("mixed_bfloat16",), run_training_check=False, run_save_check=False)


def test_a_sublayer_that_ignores_the_layer_dtype_fails():
    with pytest.raises(AssertionError, match=r"\(dtype=\)\] output is float32 with dtype='mixed_float16'"):
        run_layer_test(ForgetsSublayerDtype, {"units": 2}, X, mixed_precision_policies=("mixed_float16",),
                       run_training_check=False, run_save_check=False)
    # The fix: hand the layer's policy to the sublayer.
    run_layer_test(PassesSublayerDtype, {"units": 2}, X, mixed_precision_policies=("mixed_float16",),
                   run_training_check=False, run_save_check=False)


def test_the_global_dtype_policy_is_restored_after_a_failure():
    keras.config.set_dtype_policy("float32")
    with pytest.raises(AssertionError):
        run_layer_test(Float32Output, {"units": 2}, X, mixed_precision_policies=("mixed_bfloat16",),
                       run_training_check=False, run_save_check=False)
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")
def test_a_trainable_weight_unused_in_call_fails_the_training_step():
    with pytest.raises(AssertionError, match=r"\[training step\] trainable weight\(s\) \['unused_weight.*gate'\]"):
        run_layer_test(UnusedWeight, {"units": 2, "name": "unused_weight"}, X, run_mixed_precision_check=False,
                       run_save_check=False)


def test_an_unregistered_layer_fails():
    with pytest.raises(AssertionError, match=r"\[registration\] Unregistered is not registered"):
        run_layer_test(Unregistered, {"units": 2}, X, **FAST)


def test_wrong_arguments_to_run_layer_test_raise_value_error():
    with pytest.raises(ValueError, match="same batch size"):
        run_layer_test(ScaledDense, {"units": 2}, [X, X[:2]], **FAST)
    with pytest.raises(ValueError, match="needs a batch axis"):
        run_layer_test(ScaledDense, {"units": 2}, np.float32(1.0), **FAST)
