"""``run_layer_test``: the one check every Keras layer of the kit passes.

Use it from a layer's test file, next to the tests of what the layer computes::

    from tests.support.layer_test import run_layer_test

    def test_temporal_mean_is_a_well_behaved_keras_layer(tmp_path):
        run_layer_test(
            TemporalMean, {"epsilon": 1e-5}, np.zeros((4, 6, 3), "float32"),
            expected_output_shape=(4, 3), expected_num_trainable_weights=0, tmp_path=tmp_path,
        )

The checks, in order (cheap ones first, so a broken layer fails fast):

1. **registration and config**: the class is registered for ``.keras`` files (package ``hybridvid``
   for the kit's own layers); every init argument appears in ``get_config()``;
   ``from_config(get_config())`` gives the same config; the layer survives
   ``serialize_keras_object`` -> JSON -> ``deserialize_keras_object``.
2. **build and call**: ``build()`` creates every weight (none appear on the first call); the eager output
   has ``expected_output_shape`` (nested: a dict or list of shapes for dict or list outputs) and float32
   floating outputs (or ``expected_output_dtype``); ``compute_output_shape`` (when the layer defines it) and a
   symbolic call (``keras.Input``) agree with the eager output; the weight counts match when given.
3. **mixed precision**: for each policy of ``mixed_precision_policies``, once set globally with
   ``keras.config.set_dtype_policy`` and once passed as ``dtype=`` to the layer, the layer builds and calls,
   its floating variables are float32, its floating outputs have the policy's compute dtype (or
   ``expected_output_dtype``) eagerly and symbolically, and are finite where the float32 output is. The global
   policy is restored afterwards, even when a check fails.
4. **one training step**: the layer inside a functional model, with a trainable scalar in front of each
   floating input, is compiled with mean squared error against random targets shaped like its floating
   outputs and fitted for one step: the loss is finite, every trainable weight of the layer changed (except
   those named in ``weights_without_gradient``), and a gradient reached the layer's inputs. Non-trainable
   state (e.g. center-loss centers) may change or not.
5. **``.keras`` round trip**: the (trained) functional model is saved to ``tmp_path``, loaded with
   ``keras.saving.load_model(..., safe_mode=True)``; the reloaded layer has the same class, config and number
   of weights, and the outputs are equal to ``rtol`` / ``atol``.

Inputs: ``input_data`` is one numpy array ``(batch, ...)``, or a dict or list of them for a multi-input
layer; the whole structure is passed as the layer's first argument (``layer(input_data, **call_kwargs)``,
``build(input_shape)`` with the same structure of shapes). With ``unpack_inputs=True`` a list is passed as
positional arguments and a dict as keyword arguments instead (``layer(query=..., value=...)``, with
``build(query_shape=..., value_shape=...)``), as for ``keras.layers.MultiHeadAttention``. A numpy array in
``call_kwargs`` (a ``mask``, say) is per-sample data: in the functional model it becomes a ``keras.Input`` of
its own. Other ``call_kwargs`` values are passed as they are.

Every failure is an ``AssertionError`` whose message starts with ``run_layer_test(<Layer>) [<check>]`` and says
what was expected. Wrong arguments to ``run_layer_test`` itself raise ``ValueError``. There is no skipping
inside: a layer that cannot run a policy on some hardware (``mixed_float16`` has no CPU kernel for 3D pooling)
is tested with the policies it supports, chosen by the caller.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from hybridvid_lib.tf_setup import import_tensorflow

import_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

__all__ = ["run_layer_test"]

_KIT_PACKAGE = "hybridvid"


class _UsageError(ValueError):
    """A wrong argument to ``run_layer_test`` (not a defect of the layer): passes through unchanged."""


def run_layer_test(
    layer_cls: type,
    init_kwargs: Mapping[str, Any],
    input_data: Any,
    *,
    expected_output_shape: Any = None,
    expected_output_dtype: Any = None,
    expected_num_trainable_weights: int | None = None,
    expected_num_non_trainable_weights: int | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
    unpack_inputs: bool = False,
    run_training_check: bool = True,
    weights_without_gradient: Sequence[str] = (),
    expect_input_gradient: bool = True,
    run_mixed_precision_check: bool = True,
    mixed_precision_policies: Sequence[str] = ("mixed_bfloat16", "mixed_float16"),
    run_save_check: bool = True,
    tmp_path: str | Path | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> Any:
    """Check that ``layer_cls(**init_kwargs)`` is a well-behaved, saveable, trainable Keras layer.

    Args:
        layer_cls: the layer class.
        init_kwargs: the arguments the layer is made with (every key must come back in ``get_config()``).
        input_data: a numpy array ``(batch, ...)``, or a dict or list of such arrays with the same batch size.
        expected_output_shape: the eager output's shape, e.g. ``(4, 3)``; a dict or list of shapes for a
            layer with several outputs (``{"context": (4, 8), "weights": (4, 6)}``). ``None``: not checked.
        expected_output_dtype: the dtype of the floating outputs when it is not the policy's compute dtype
            (a layer documented to output float32 under mixed precision): one dtype name for every floating
            output, or a structure like the output's with a name (or ``None``: the compute dtype) per output.
        expected_num_trainable_weights, expected_num_non_trainable_weights: checked when given.
        call_kwargs: extra call arguments; numpy arrays among them are per-sample (see the module docstring).
        unpack_inputs: pass a list of inputs as positional arguments, a dict as keyword arguments.
        run_training_check: fit one step (needs a floating output).
        weights_without_gradient: substrings of ``weight.path`` of trainable weights that one step may leave
            unchanged (e.g. the key bias of dot-product attention, whose gradient is zero in exact arithmetic).
        expect_input_gradient: in the training step, require that a gradient reaches a floating input.
        run_mixed_precision_check: run the mixed precision checks for ``mixed_precision_policies``.
        mixed_precision_policies: policy names; leave out those the layer cannot run here.
        run_save_check: save and reload a ``.keras`` file (in ``tmp_path``, or a temporary folder if ``None``).
        rtol, atol: tolerance for outputs after reloading.
        seed: passed to ``keras.utils.set_random_seed`` and used for the random targets.

    Returns:
        The eager float32 output of a fresh layer on ``input_data`` (numpy arrays, same structure as the output),
        for further checks of its values.

    Raises:
        AssertionError: a check failed; the message names the check and what was expected.
        ValueError: the arguments of ``run_layer_test`` itself are wrong.
    """
    init_kwargs = dict(init_kwargs)
    calls = _Calls(_as_input_structure(input_data), dict(call_kwargs or {}), unpack_inputs)
    expected_shapes = None if expected_output_shape is None else _normalize_shapes(expected_output_shape)
    name = f"run_layer_test({getattr(layer_cls, '__name__', layer_cls)})"
    if isinstance(mixed_precision_policies, str):
        raise ValueError(f"mixed_precision_policies is a sequence of names: ({mixed_precision_policies!r},)")
    for policy_name in mixed_precision_policies:
        keras.dtype_policies.DTypePolicy(policy_name)  # ValueError for an unknown name

    previous_policy = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("float32")
        keras.utils.set_random_seed(seed)

        with _check(name, "registration"):
            _check_registration(layer_cls)
        with _check(name, "config"):
            _check_config(layer_cls, layer_cls(**init_kwargs), init_kwargs)

        with _check(name, "build and call"):
            output = _check_build_and_call(
                layer_cls, init_kwargs, calls, expected_shapes, expected_output_dtype,
                expected_num_trainable_weights, expected_num_non_trainable_weights,
            )
        eager_shapes = _map(lambda t: tuple(t.shape), output)

        with _check(name, "symbolic call"):
            layer = layer_cls(**init_kwargs)
            model_inputs = calls.model_inputs()
            symbolic = calls.symbolic(layer, model_inputs)
            _check_symbolic(symbolic, output)
            model = keras.Model(model_inputs, symbolic, name="layer_test_model")

        if run_mixed_precision_check:
            for policy_name in mixed_precision_policies:
                for how in ("global", "dtype="):
                    if how == "global" and "dtype" in init_kwargs:
                        continue  # a dtype in init_kwargs overrides the global policy
                    with _check(name, f"mixed precision {policy_name} ({how})"):
                        _check_policy(layer_cls, init_kwargs, calls, policy_name, how,
                                      output, expected_output_dtype)
                    keras.config.set_dtype_policy("float32")

        if run_training_check:
            with _check(name, "training step"):
                _check_training(layer, calls, model_inputs, eager_shapes, weights_without_gradient,
                                expect_input_gradient, seed)

        if run_save_check:
            with _check(name, "save and reload"):
                with _folder(tmp_path) as folder:
                    _check_save(layer_cls, layer, model, calls.data, Path(folder), rtol, atol)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return _map(lambda t: np.asarray(ops.convert_to_numpy(t)), output)


# ----------------------------------------------------------------------------------------------- the checks


def _check_registration(layer_cls: type) -> None:
    registered = keras.saving.get_registered_name(layer_cls)
    if keras.saving.get_registered_object(registered) is not layer_cls:
        if layer_cls.__module__.split(".")[0] == "keras":
            return  # built-in layers load without registration
        raise AssertionError(
            f"{layer_cls.__name__} is not registered, so a .keras file that uses it will not load: decorate it "
            f"with @keras.saving.register_keras_serializable(package={_KIT_PACKAGE!r}).")
    if layer_cls.__module__.split(".")[0] == "hybridvid_lib" and not registered.startswith(f"{_KIT_PACKAGE}>"):
        raise AssertionError(
            f"{layer_cls.__name__} is registered as {registered!r}; the kit's layers use "
            f"register_keras_serializable(package={_KIT_PACKAGE!r}).")


def _check_config(layer_cls: type, layer: Any, init_kwargs: Mapping[str, Any]) -> None:
    config = layer.get_config()
    missing = sorted(k for k in init_kwargs if k not in config)
    if missing:
        raise AssertionError(
            f"get_config() lacks the init argument(s) {missing}: a reloaded layer would silently use their "
            f"defaults. Add them in get_config() (config keys: {sorted(config)}).")
    revived = layer_cls.from_config(config).get_config()
    if not _same(revived, config):
        raise AssertionError(
            f"from_config(get_config()).get_config() differs from get_config():\n  before: {config}\n"
            f"  after:  {revived}")
    try:
        text = json.dumps(keras.saving.serialize_keras_object(layer))
    except TypeError as exc:
        raise AssertionError(f"the serialized config is not JSON ({exc}); keep plain Python values or "
                             f"numpy arrays in get_config().") from exc
    again = keras.saving.deserialize_keras_object(json.loads(text)).get_config()
    if not _same(again, config):
        raise AssertionError(
            f"serialize -> JSON -> deserialize changes the config:\n  before: {config}\n  after:  {again}")


def _check_build_and_call(layer_cls, init_kwargs, calls, expected_shapes, expected_output_dtype,
                          expected_trainable, expected_non_trainable):
    layer = layer_cls(**init_kwargs)
    calls.with_shapes(layer.build)
    counts_after_build = _weight_counts(layer)
    output = calls.eager(layer)
    counts_after_call = _weight_counts(layer)
    if counts_after_call != counts_after_build:
        raise AssertionError(
            f"build() must create every weight: after build() the layer has {counts_after_build} "
            f"(trainable, non-trainable) weights, after its first call {counts_after_call}.")
    if expected_trainable is not None and counts_after_call[0] != expected_trainable:
        raise AssertionError(f"expected {expected_trainable} trainable weights, got {counts_after_call[0]}: "
                             f"{[w.path for w in layer.trainable_weights]}")
    if expected_non_trainable is not None and counts_after_call[1] != expected_non_trainable:
        raise AssertionError(f"expected {expected_non_trainable} non-trainable weights, got "
                             f"{counts_after_call[1]}: {[w.path for w in layer.non_trainable_weights]}")

    actual_shapes = _normalize_shapes(_map(lambda t: tuple(t.shape), output))
    if expected_shapes is not None and actual_shapes != expected_shapes:
        raise AssertionError(f"output shape {actual_shapes} != expected_output_shape {expected_shapes}")
    _check_dtypes(output, "float32", expected_output_dtype, "under the float32 policy")

    if type(layer).compute_output_shape is not keras.layers.Layer.compute_output_shape:
        computed = _normalize_shapes(calls.with_shapes(layer.compute_output_shape))
        if not _compatible(computed, actual_shapes):
            raise AssertionError(f"compute_output_shape() gives {computed}, but the call returns {actual_shapes}")
    return output


def _check_symbolic(symbolic: Any, output: Any) -> None:
    sym = _normalize_shapes(_map(lambda t: tuple(t.shape), symbolic))
    eager = _normalize_shapes(_map(lambda t: tuple(t.shape), output))
    if not _compatible(sym, eager):
        raise AssertionError(f"a symbolic call (keras.Input) gives shapes {sym}, an eager call {eager}: "
                             f"fix compute_output_shape / compute_output_spec")
    sym_dtypes = _map(lambda t: keras.backend.standardize_dtype(t.dtype), symbolic)
    eager_dtypes = _map(lambda t: keras.backend.standardize_dtype(t.dtype), output)
    if sym_dtypes != eager_dtypes:
        raise AssertionError(f"a symbolic call gives dtypes {sym_dtypes}, an eager call {eager_dtypes}")


def _check_policy(layer_cls, init_kwargs, calls, policy_name, how, float32_output,
                  expected_output_dtype) -> None:
    policy = keras.dtype_policies.DTypePolicy(policy_name)
    if how == "global":
        keras.config.set_dtype_policy(policy_name)
        layer = layer_cls(**init_kwargs)
    else:
        layer = layer_cls(**{**init_kwargs, "dtype": policy_name})
    where = (f"under {policy_name} set with keras.config.set_dtype_policy" if how == "global"
             else f"with dtype={policy_name!r} passed to the layer")
    output = calls.eager(layer)
    for weight in layer.weights:
        dtype = keras.backend.standardize_dtype(weight.dtype)
        if keras.backend.is_float_dtype(dtype) and dtype != policy.variable_dtype:
            raise AssertionError(f"weight {weight.path} is {dtype} {where}; variables must be "
                                 f"{policy.variable_dtype} (create them with add_weight and no dtype)")
    hint = ("compute in self.compute_dtype (no cast to float32/float64), pass dtype=self.dtype_policy to "
            "sublayers; a layer documented to output float32 is tested with expected_output_dtype='float32'")
    _check_dtypes(output, policy.compute_dtype, expected_output_dtype, where, hint)
    symbolic = calls.symbolic(layer, calls.model_inputs())
    _check_dtypes(symbolic, policy.compute_dtype, expected_output_dtype, f"in a symbolic call {where}", hint)
    for (path, low), (_, full) in zip(_flatten(output), _flatten(float32_output)):
        if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(low.dtype)):
            continue
        low = np.asarray(ops.convert_to_numpy(ops.cast(low, "float32")))
        full = np.asarray(ops.convert_to_numpy(full))
        if np.all(np.isfinite(full)) and not np.all(np.isfinite(low)):
            raise AssertionError(f"output{path} has {np.size(low) - np.isfinite(low).sum()} non-finite values "
                                 f"{where} (finite in float32): a constant such as -1e9 overflows float16")


def _check_training(layer, calls, model_inputs, eager_shapes, weights_without_gradient, expect_input_gradient,
                    seed) -> None:
    # A trainable scalar (initially 1) in front of each floating input: its change proves that a gradient
    # flows back through the layer, and gives a weightless layer something to train.
    probes = []

    def probed(name, tensor):
        if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(tensor.dtype)):
            return tensor
        probe = _InputGradientProbe(name=f"gradient_probe_{name}")
        probes.append(probe)
        return probe(tensor)

    probed_inputs = {k: probed(k, t) for k, t in model_inputs.items()}
    outputs = calls.symbolic(layer, probed_inputs)
    flat = [(path, t) for path, t in _flatten(outputs)
            if keras.backend.is_float_dtype(keras.backend.standardize_dtype(t.dtype))]
    if not flat:
        raise _UsageError("the layer has no floating output to train against: pass run_training_check=False")
    shapes = dict(_flatten(eager_shapes, shapes_are_leaves=True))
    if any(len(shapes[path]) == 0 or shapes[path][0] != calls.batch_size for path, _ in flat):
        raise _UsageError(f"the training step needs outputs with the batch axis first; got {shapes}: "
                          f"pass run_training_check=False")
    rng = np.random.default_rng(seed)
    targets = [rng.normal(size=shapes[path]).astype("float32") for path, _ in flat]
    single = len(flat) == 1
    train_model = keras.Model(model_inputs, flat[0][1] if single else [t for _, t in flat])
    train_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01),
                        loss="mse" if single else ["mse"] * len(flat))

    before = [(w.path, np.array(w.numpy())) for w in layer.trainable_weights]
    history = train_model.fit(calls.data, targets[0] if single else targets, batch_size=calls.batch_size,
                              epochs=1, shuffle=False, verbose=0)
    loss = history.history["loss"][0]
    if not np.isfinite(loss):
        raise AssertionError(f"the loss of one training step is {loss}")
    after = {w.path: np.array(w.numpy()) for w in layer.trainable_weights}
    unchanged = [path for path, value in before if np.array_equal(value, after[path])
                 and not any(s in path for s in weights_without_gradient)]
    if unchanged:
        raise AssertionError(
            f"trainable weight(s) {unchanged} did not change in one training step: they get no gradient "
            f"(not used in call, or cut off by a cast to int / stop_gradient). A weight whose gradient is zero "
            f"by design is listed in weights_without_gradient.")
    broken = [path for path, value in after.items() if not np.all(np.isfinite(value))]
    if broken:
        raise AssertionError(f"trainable weight(s) {broken} are not finite after one training step")
    if expect_input_gradient and probes and all(float(p.scale.numpy()) == 1.0 for p in probes):
        raise AssertionError("no gradient reached the layer's floating inputs in one training step (pass "
                             "expect_input_gradient=False if the layer stops gradients by design)")


def _check_save(layer_cls, layer, model, data, folder: Path, rtol: float, atol: float) -> None:
    expected = model(data, training=False)
    path = folder / f"{layer_cls.__name__}.keras"
    model.save(path)
    try:
        reloaded = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise AssertionError(f"{path.name} does not load with safe_mode=True: {type(exc).__name__}: {exc}") from exc
    twin = reloaded.get_layer(layer.name)
    if type(twin) is not layer_cls:
        raise AssertionError(f"the reloaded layer is a {type(twin).__name__}, not a {layer_cls.__name__}")
    if not _same(twin.get_config(), layer.get_config()):
        raise AssertionError(f"the reloaded layer's config differs:\n  saved:    {layer.get_config()}\n"
                             f"  reloaded: {twin.get_config()}")
    if _weight_counts(twin) != _weight_counts(layer):
        raise AssertionError(f"the reloaded layer has {_weight_counts(twin)} (trainable, non-trainable) weights, "
                             f"the saved one {_weight_counts(layer)}")
    got = reloaded(data, training=False)
    got_flat, expected_flat = _flatten(got), _flatten(expected)
    if [p for p, _ in got_flat] != [p for p, _ in expected_flat]:
        raise AssertionError(f"the reloaded model's outputs are {[p for p, _ in got_flat]}, "
                             f"not {[p for p, _ in expected_flat]}")
    for (p, a), (_, b) in zip(got_flat, expected_flat):
        np.testing.assert_allclose(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=rtol, atol=atol,
            err_msg=f"output{p} differs after the .keras round trip: state not saved as a weight "
                    f"(a random constant drawn in build or call?) or not restored")


# ---------------------------------------------------------------------------------------------------- helpers


class _InputGradientProbe(keras.layers.Layer):
    """``x * scale``, one trainable scalar starting at 1 (used only inside the training check, never saved)."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        return x * ops.cast(self.scale, x.dtype)


@contextlib.contextmanager
def _check(name: str, stage: str) -> Iterator[None]:
    """Turn a failure inside one check into ``AssertionError('<name> [<stage>] ...')``."""
    try:
        yield
    except _UsageError:
        raise
    except AssertionError as exc:
        raise AssertionError(f"{name} [{stage}] {_plain(exc)}") from exc
    except Exception as exc:
        raise AssertionError(f"{name} [{stage}] the layer raised {type(exc).__name__}: {_plain(exc)}") from exc


def _plain(exc: BaseException) -> str:
    """The exception's message without the terminal colour codes Keras puts in its own."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(exc))


@contextlib.contextmanager
def _folder(tmp_path: str | Path | None) -> Iterator[str]:
    if tmp_path is not None:
        Path(tmp_path).mkdir(parents=True, exist_ok=True)
        yield str(tmp_path)
    else:
        with tempfile.TemporaryDirectory(prefix="layer_test_") as folder:
            yield folder


def _as_input_structure(input_data: Any) -> Any:
    def array(x, where):
        if isinstance(x, (dict, list, tuple)):
            raise ValueError(f"input_data{where}: one level of dict or list only, got a nested {type(x).__name__}")
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError(f"input_data{where} needs a batch axis; got a scalar")
        return x

    if isinstance(input_data, Mapping):
        if not input_data:
            raise ValueError("input_data is an empty dict")
        return {str(k): array(v, f"[{k!r}]") for k, v in input_data.items()}
    if isinstance(input_data, (list, tuple)):
        if not input_data:
            raise ValueError("input_data is an empty list")
        return [array(v, f"[{i}]") for i, v in enumerate(input_data)]
    return array(input_data, "")


class _Calls:
    """How the test data reaches the layer: eagerly, symbolically (``keras.Input``), and as shapes for ``build``."""

    def __init__(self, inputs: Any, call_kwargs: dict[str, Any], unpack: bool):
        self.inputs, self.call_kwargs, self.unpack = inputs, call_kwargs, unpack
        # One flat name -> array dict: the functional model's inputs and the data fed to it.
        if isinstance(inputs, dict):
            self.data = dict(inputs)
        elif isinstance(inputs, list):
            self.data = {f"inputs_{i}": a for i, a in enumerate(inputs)}
        else:
            self.data = {"inputs": inputs}
        self.names = list(self.data)
        self.data.update({f"call_{k}": v for k, v in call_kwargs.items() if isinstance(v, np.ndarray)})
        sizes = {n: a.shape[0] if a.ndim else None for n, a in self.data.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"every array of input_data and call_kwargs needs the same batch size on axis 0; "
                             f"got {sizes}")
        self.batch_size = next(iter(sizes.values()))

    def model_inputs(self) -> dict[str, Any]:
        return {n: keras.Input(shape=a.shape[1:], dtype=keras.backend.standardize_dtype(a.dtype), name=n)
                for n, a in self.data.items()}

    def eager(self, layer):
        return self._call(layer, self.data)

    def symbolic(self, layer, tensors: Mapping[str, Any]):
        return self._call(layer, tensors)

    def with_shapes(self, method):
        """``method(input_shape)`` (``build``, ``compute_output_shape``), or unpacked like the call."""
        shapes = {n: tuple(a.shape) for n, a in self.data.items()}
        if self.unpack and isinstance(self.inputs, dict):
            return method(**{f"{n}_shape": shapes[n] for n in self.names})
        if self.unpack and isinstance(self.inputs, list):
            return method(*(shapes[n] for n in self.names))
        return method(self._arrange(shapes))

    def _arrange(self, flat: Mapping[str, Any]):
        if isinstance(self.inputs, dict):
            return {n: flat[n] for n in self.names}
        if isinstance(self.inputs, list):
            return [flat[n] for n in self.names]
        return flat[self.names[0]]

    def _call(self, layer, flat: Mapping[str, Any]):
        kwargs = {k: flat[f"call_{k}"] if isinstance(v, np.ndarray) else v for k, v in self.call_kwargs.items()}
        arranged = self._arrange(flat)
        if self.unpack and isinstance(arranged, dict):
            return layer(**arranged, **kwargs)
        if self.unpack and isinstance(arranged, list):
            return layer(*arranged, **kwargs)
        return layer(arranged, **kwargs)


def _check_dtypes(output, default: str, expected_output_dtype, where: str, hint: str = "") -> None:
    expected = _expected_dtypes(output, default, expected_output_dtype)
    for path, tensor in _flatten(output):
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        if keras.backend.is_float_dtype(dtype) and dtype != expected[path]:
            raise AssertionError(f"output{path} is {dtype} {where}, expected {expected[path]}"
                                 + (f": {hint}" if hint else ""))


def _expected_dtypes(output, default: str, expected_output_dtype) -> dict[str, str]:
    paths = [p for p, _ in _flatten(output)]
    if expected_output_dtype is None or isinstance(expected_output_dtype, str):
        return {p: expected_output_dtype or default for p in paths}
    given = dict(_flatten(expected_output_dtype))
    if sorted(given) != sorted(paths):
        raise _UsageError(f"expected_output_dtype has entries {sorted(given)}, the output {sorted(paths)}")
    return {p: given[p] or default for p in paths}


def _weight_counts(layer) -> tuple[int, int]:
    return len(layer.trainable_weights), len(layer.non_trainable_weights)


def _map(fn, structure):
    if isinstance(structure, dict):
        return {k: _map(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map(fn, v) for v in structure]
    return fn(structure)


def _flatten(structure, path: str = "", shapes_are_leaves: bool = False) -> list[tuple[str, Any]]:
    """``[(path, leaf)]`` with paths such as ``['weights']`` or ``[0]``; dict keys in sorted order."""
    if shapes_are_leaves and _is_shape(structure):
        return [(path, structure)]
    if isinstance(structure, dict):
        return [item for k in sorted(structure)
                for item in _flatten(structure[k], f"{path}[{k!r}]", shapes_are_leaves)]
    if isinstance(structure, (list, tuple)):
        return [item for i, v in enumerate(structure)
                for item in _flatten(v, f"{path}[{i}]", shapes_are_leaves)]
    return [(path, structure)]


def _is_shape(x) -> bool:
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _normalize_shapes(shapes):
    """Shapes as tuples (``None`` allowed), in dicts and lists; tuples of shapes become lists."""
    if _is_shape(shapes):
        return tuple(None if d is None else int(d) for d in shapes)
    if isinstance(shapes, dict):
        return {k: _normalize_shapes(v) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return [_normalize_shapes(v) for v in shapes]
    raise ValueError(f"not a shape or a structure of shapes: {shapes!r}")


def _compatible(a, b) -> bool:
    """Same structure and shapes, ``None`` in either matching any size."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_compatible(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_compatible(x, y) for x, y in zip(a, b))
    return False


def _same(a, b) -> bool:
    """Deep equality of configs that may hold numpy arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)
