"""``hybridvid bench models``: how fast each model trains and predicts, next to what the machine can do.

For every registered model (or those named), at the sizes of a profile:

- ``params``: ``model.count_params()``;
- ``gflops_per_clip``: floating-point operations of one forward pass on one clip, in GFLOP,
  counted from the model's TensorFlow graph (:func:`forward_flops`);
- ``train_clips_per_s``: clips per second of ``train_on_batch`` on random inputs of the model's
  input shapes, the model compiled as the kit compiles it
  (:func:`~hybridvid_lib.training.compile_for_training` on :func:`~hybridvid_lib.training.training_view`);
- ``infer_clips_per_s``: clips per second of ``predict_on_batch`` on the same inputs;
- ``train_fraction_of_matmul``: ``3 * gflops_per_clip * train_clips_per_s / matmul_gflops``, a training
  step counted as three forward passes (the forward pass, and the backward pass's two products per layer:
  one for the gradient of the input, one for the gradient of the weights);

and once for the machine, ``matmul_gflops``: the float32 rate of a large ``tf.linalg.matmul``
(:func:`matmul_gflops`), the best a dense kernel reaches here. A model whose fraction is far below 1 spends
its time outside big matrix products (memory-bound layers such as pooling, batch normalisation and
element-wise activations, small matrices, framework overhead).

Every rate is the best of its repetitions (the matmul's, measured before each model and after the last;
each model's fastest step): on a machine shared with other work the slower repetitions measure that work, and
the best ones are the machine's own speed. These are figures, not tests: they still depend on the machine
and on what else runs on it. The inputs are
random and the labels too; only the time matters. Models that read cached feature sequences
(``features``) are given sequences of the length and width that the profile's I3D streams produce
(:func:`~hybridvid_lib.models.extractors.feature_settings`), the sizes the course trains them on.

What a setting buys on this machine: ``--precision`` builds and trains every model under that policy
(``mixed_bfloat16`` on a CPU with bfloat16 instructions; :mod:`hybridvid_lib.scale.precision`), ``--xla on``
compiles the training step with XLA, ``--frame-size`` changes the clips' side. The matmul stays float32: a mixed
model's fraction is then its speed against the float32 limit, the figure that says whether the policy pays. Measured
on a 2-core AVX-512 EPYC with bfloat16 instructions (cpu profile, one TensorFlow thread, 12 ``train_on_batch`` steps
after 3): ``i3d_rgb`` 98 ms a step in float32, 79 ms in ``mixed_bfloat16``; ``i3d_flow`` 94 ms in both; ``i3d_rgb``
under XLA (``fit`` on the cpu clips) 2.3 s a step against 0.11 s without. README.md has the two-thread figures. A
bfloat16 3D model on a CPU is timed with wrong kernel gradients (:mod:`hybridvid_lib.scale.precision`): its figure
is a speed, not a way to train it.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Any, Iterator, Sequence

import numpy as np

MATMUL_SIZE = 2048  # 2 * 2048**3 = 17.2 GFLOP a product: long enough to time, small enough for any machine
MATMUL_REPEATS = 5
DEFAULT_STEPS = 5
WARMUP_STEPS = 2  # the first call traces and compiles the step; the second settles the allocator


def _tf():
    from hybridvid_lib.tf_setup import import_tensorflow

    return import_tensorflow()


# --------------------------------------------------------------------------- FLOPs
def _einsum_flops(graph, node):
    """Profiler statistics for ``Einsum`` (TensorFlow registers none): ``2 *`` the multiply-adds.

    For two operands every index (summed or kept) is one loop of the contraction, so the
    multiply-adds are the product of all index sizes (and of the broadcast ``...`` dimensions). A one-operand
    einsum (a transpose or a sum) is counted as one operation per input element, like ``Sum``.
    """
    from tensorflow.python.framework import graph_util, ops

    equation = node.attr["equation"].s.decode()
    operands = equation.split("->")[0].split(",")
    shapes = [graph_util.tensor_shape_from_node_def_name(graph, name) for name in node.input[:len(operands)]]
    for shape in shapes:
        shape.assert_is_fully_defined()
    if len(operands) != 2:
        return ops.OpStats("flops", int(np.prod(shapes[0].as_list(), dtype=np.int64)))
    sizes: dict[str, int] = {}
    ellipses = []
    for letters, shape in zip(operands, shapes):
        dims = shape.as_list()
        if "..." in letters:
            head, tail = letters.split("...")
            ellipses.append(dims[len(head):len(dims) - len(tail)])
            dims = dims[:len(head)] + dims[len(dims) - len(tail):]
            letters = head + tail
        sizes.update(zip(letters, dims))
    broadcast = np.broadcast_shapes(*[tuple(e) for e in ellipses]) if ellipses else ()
    macs = int(np.prod(list(sizes.values()), dtype=np.int64)) * int(np.prod(broadcast, dtype=np.int64))
    return ops.OpStats("flops", 2 * macs)


def _register_einsum_flops() -> None:
    from tensorflow.python.framework import ops

    try:
        ops.RegisterStatistics("Einsum", "flops")(_einsum_flops)
    except KeyError:  # registered already: by an earlier call, or by a TensorFlow that counts it itself
        pass


@contextlib.contextmanager
def _unrolled(model) -> Iterator[None]:
    """Inside the block every recurrent layer of ``model`` (nested ones too) runs unrolled.

    ``unroll=True`` computes exactly what the loop computes, one copy of the step per time step. The
    profiler counts each graph node once, so a loop's body would be counted for one step only; unrolled,
    every step is a node of its own and is counted.
    """
    import keras

    rnns = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.RNN)]
    saved = [layer.unroll for layer in rnns]
    try:
        for layer in rnns:
            layer.unroll = True
        yield
    finally:
        for layer, unroll in zip(rnns, saved):
            layer.unroll = unroll


def forward_flops(model, input_shapes: dict[str, Sequence[int]]) -> int:
    """Floating-point operations of one inference forward pass of ``model`` on ONE clip.

    Counted by TensorFlow's graph profiler (``tensorflow.python.profiler.model_analyzer`` with
    ``ProfileOptionBuilder.float_operation()``) on the concrete function of ``model(x, training=False)``
    traced with batch 1. Convention: **2 FLOPs per multiply-add** (a ``Conv3D`` producing ``N`` output
    values from ``k_t x k_h x k_w x C_in`` windows counts ``2 * N * k_t * k_h * k_w * C_in``; a ``Dense``
    layer ``2 * in * out`` plus ``out`` for its bias), plus one FLOP per element for the element-wise ops the
    profiler knows (bias adds, additions, multiplications, softmax, means). Ops it has no count for (max and
    average 3D pooling, activation functions such as ReLU and sigmoid) add nothing: the total is the
    arithmetic of the products and sums, which is what a matmul rate can be compared with. ``Einsum`` (the
    graph convolution of ``stgcn``) is counted as its multiply-adds (:func:`_einsum_flops`); recurrent layers
    are traced unrolled so that every time step is counted.

    Args:
        model: a built Keras model.
        input_shapes: input name -> the shape of one sample, without the batch axis (fully defined), e.g.
            ``{"rgb": (16, 64, 64, 3)}``; an input with integer dtype (``label``) gets zeros.

    Returns:
        The FLOPs, an int.
    """
    tf = _tf()
    from tensorflow.python.profiler import model_analyzer, option_builder

    _register_einsum_flops()
    specs = {tensor.name: tf.TensorSpec((1, *input_shapes[tensor.name]), tensor.dtype) for tensor in model.inputs}
    if not isinstance(model.input, dict):
        specs = specs[model.inputs[0].name] if len(specs) == 1 else [specs[t.name] for t in model.inputs]
    with _unrolled(model):
        concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(specs)
    options = (option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
               .with_empty_output().build())
    # The profiler writes "N ops no flops stats due to incomplete shapes" for shape-less helper ops (none of
    # them arithmetic); quiet it like TensorFlow's other notices.
    with contextlib.redirect_stderr(open(os.devnull, "w")) as sink:
        try:
            profile = model_analyzer.profile(concrete.graph, options=options)
        finally:
            sink.close()
    return int(profile.total_float_ops)


# --------------------------------------------------------------------------- the machine's rate
def matmul_gflops(size: int = MATMUL_SIZE, repeats: int = MATMUL_REPEATS) -> float:
    """The machine's float32 matrix-product rate in GFLOP/s: ``(size x size) @ (size x size)``, best of ``repeats``.

    One product is ``2 * size**3`` FLOPs. Two warm-up products run first (thread pools, first-touch
    allocation). The best repetition, not the mean, is reported: it is the rate the hardware reaches when
    nothing else runs, which is the ceiling the models are compared with.
    """
    if not isinstance(size, int) or size < 64 or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"size must be a whole number >= 64 and repeats >= 1; got {size!r}, {repeats!r}.")
    tf = _tf()
    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    b = tf.constant(rng.standard_normal((size, size), dtype=np.float32))
    best = math.inf
    for i in range(2 + repeats):
        start = time.perf_counter()
        product = tf.linalg.matmul(a, b)
        product[0, 0].numpy()  # waits for the product (an accelerator runs it asynchronously)
        if i >= 2:
            best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


# --------------------------------------------------------------------------- inputs
def feature_sequence_shape(settings) -> tuple[tuple[int, int], tuple[int, ...]]:
    """``((T', D), (D_rgb, D_flow))``: the feature sequences the profile's I3D streams give a feature-head model.

    ``T'`` and each stream's width come from ``i3d_rgb`` and ``i3d_flow`` built at the profile's feature
    extraction settings (:func:`~hybridvid_lib.models.extractors.feature_settings`); the two are side by side.
    """
    from hybridvid_lib.models import build_model
    from hybridvid_lib.models.extractors import TWO_STREAMS, feature_settings

    clip = feature_settings(settings)
    shapes = [tuple(build_model(name, clip, 2).output["features"].shape[1:]) for name in TWO_STREAMS]
    dims = tuple(int(shape[-1]) for shape in shapes)
    return (int(shapes[0][0]), sum(dims)), dims


def sample_shapes(model, sequence: tuple[int, int] | None = None) -> dict[str, tuple[int, ...]]:
    """Input name -> shape of one sample (no batch axis); ``None`` axes of a ``features`` input from ``sequence``.

    Raises:
        ValueError: an input with an unknown axis that is not a feature sequence.
    """
    shapes = {}
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if None in shape:
            if tensor.name != "features" or sequence is None or len(shape) != 2:
                raise ValueError(f"Input {tensor.name!r} of {model.name} has an unknown size {shape}; "
                                 "give its shape explicitly.")
            shape = tuple(sequence)
        shapes[tensor.name] = tuple(int(d) for d in shape)
    return shapes


def random_batch(shapes: dict[str, tuple[int, ...]], batch_size: int, num_classes: int,
                 rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``(features, y)``: random float32 inputs of ``shapes`` for ``batch_size`` clips, and int32 labels.

    RGB clips are uniform in [-1, 1] (the kit's range), other inputs standard normal, labels uniform in
    ``[0, num_classes)``. A ``label`` input is left out: :func:`~hybridvid_lib.training.model_inputs` fills
    it with the labels in training (the center loss reads them) and ``None`` at inference, as the kit does.
    """
    from hybridvid_lib.training import LABEL_INPUT

    y = rng.integers(0, num_classes, size=batch_size).astype("int32")
    features = {}
    for name, shape in shapes.items():
        if name == LABEL_INPUT:
            continue
        size = (batch_size, *shape)
        values = rng.uniform(-1, 1, size) if name == "rgb" else rng.standard_normal(size)
        features[name] = values.astype("float32")
    return features, y


# --------------------------------------------------------------------------- timing
def _best_step(step, steps: int, warmup: int) -> float:
    """The fastest of ``steps`` timed calls of ``step()``, in seconds, after ``warmup`` untimed ones.

    The fastest, like the matmul's best repetition: on a machine shared with other work, the slower
    steps measure the other work.
    """
    for _ in range(warmup):
        step()
    best = math.inf
    for _ in range(steps):
        start = time.perf_counter()
        step()  # train_on_batch / predict_on_batch return NumPy values: the step has finished
        best = min(best, time.perf_counter() - start)
    return best


def bench_model(name: str, settings, *, num_classes: int, steps: int = DEFAULT_STEPS, warmup: int = WARMUP_STEPS,
                sequence: tuple[tuple[int, int], tuple[int, ...]] | None = None) -> dict[str, Any]:
    """Params, forward FLOPs per clip and timed training / inference of registered model ``name``.

    Args:
        name: a registered model.
        settings: resolved settings: clip size and ``batch_size``, ``learning_rate`` for the compile.
        num_classes: classes of the softmax.
        steps: timed steps of training, and of inference; the fastest step gives the rate.
        warmup: untimed steps before each.
        sequence: for a model with a ``features`` input, :func:`feature_sequence_shape` of ``settings``.

    Returns:
        ``{"params", "gflops_per_clip", "train_clips_per_s", "infer_clips_per_s", "train_step_s",
        "infer_step_s", "inputs", "options"}``: ``*_step_s`` the seconds of the fastest step (one batch), ``inputs`` the
        shape of one sample per input, ``options`` the builder options used (feature widths of a head).
    """
    from hybridvid_lib.models import build_model, model_info
    from hybridvid_lib.scale.precision import jit_compile_option, precision_policy
    from hybridvid_lib.seeding import set_seed
    from hybridvid_lib.training import compile_for_training, model_inputs, training_view

    options: dict[str, Any] = {}
    if "features" in model_info(name)["inputs"] and sequence is not None:
        options["feature_dims"] = list(sequence[1])
    set_seed(0)
    with precision_policy(settings):  # as runs.train_and_evaluate builds it: the layers keep the policy
        model = build_model(name, settings, num_classes, **options)
    shapes = sample_shapes(model, sequence[0] if sequence else None)
    flops = forward_flops(model, shapes)
    features, y = random_batch(shapes, settings.batch_size, num_classes, np.random.default_rng(0))

    trainable = training_view(model)
    compile_for_training(trainable, settings.learning_rate, jit_compile=jit_compile_option(settings))
    train_x = model_inputs(features, trainable, y)
    train_s = _best_step(lambda: trainable.train_on_batch(train_x, y), steps, warmup)
    infer_x = model_inputs(features, model)
    infer_s = _best_step(lambda: model.predict_on_batch(infer_x), steps, warmup)
    batch = settings.batch_size
    return {
        "params": int(model.count_params()),
        "gflops_per_clip": flops / 1e9,
        "train_clips_per_s": batch / train_s,
        "infer_clips_per_s": batch / infer_s,
        "train_step_s": train_s,
        "infer_step_s": infer_s,
        "inputs": {key: list(shape) for key, shape in shapes.items()},
        "options": options,
        "compute_dtype": compute_dtype(model),
    }


def compute_dtype(model) -> str:
    """The dtype ``model`` computes in (``"float32"``, ``"bfloat16"`` ...): its policy, the one it was built under."""
    return str(model.dtype_policy.compute_dtype)


def _threads() -> dict[str, int]:
    tf = _tf()
    return {"cpu_count": os.cpu_count() or 0,
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}


def bench_models(names: Sequence[str] | None = None, *, profile: str | None = None, batch_size: int | None = None,
                 steps: int = DEFAULT_STEPS, warmup: int = WARMUP_STEPS, progress: bool = True,
                 precision: str | None = None, jit_compile: str | None = None,
                 frame_size: int | None = None) -> dict[str, Any]:
    """Time every model of ``names`` (default: all registered) at the sizes of ``profile``; see the module doc.

    Args:
        names: registered model names; ``None`` or empty: every registered model.
        profile: a profile name (``None``: ``$HYBRIDVID_PROFILE``, else ``cpu``).
        batch_size: clips per step (``None``: the profile's).
        steps: timed steps per model and mode (at least 1); warmup: untimed steps first (at least 1: the
            first step traces the function).
        progress: a tqdm bar over the models (on stderr).
        precision: the ``precision`` setting to build and train under (``None``: the profile's); the result's
            ``precision`` is the policy it resolved to on this machine.
        jit_compile: the ``jit_compile`` setting (``auto``, ``on``, ``off``; ``None``: the profile's).
        frame_size: the clips' side in pixels (``None``: the profile's); the sizes that follow it scale with it
            (:meth:`~hybridvid_lib.config.Settings.with_frame_size`), as a notebook at that size would run.

    Returns:
        A JSON-ready dict: ``profile``, ``batch_size``, ``num_frames``, ``frame_size``, ``precision``,
        ``cpu_bfloat16`` (the CPU has bfloat16 instructions), ``jit_compile``, ``steps``, ``device``,
        ``threads`` (``cpu_count``, ``intra_op``, ``inter_op``; 0 means TensorFlow's default),
        ``matmul_gflops`` and ``models``: name -> ``{"params", "gflops_per_clip", "train_clips_per_s",
        "infer_clips_per_s", "train_fraction_of_matmul", "infer_fraction_of_matmul", "train_step_s",
        "infer_step_s", "inputs", "options"}`` (see :func:`bench_model`).

    Raises:
        ModelError: an unknown model name (the message lists the known ones).
        SettingsError: an unknown profile or setting value, a batch size below 1, or ``mixed_float16``
            without a GPU (one sentence each).
        ValueError: ``steps`` or ``warmup`` below 1.
    """
    from tqdm.auto import tqdm

    from hybridvid_lib.bench import _device_name
    from hybridvid_lib.config import resolve_settings
    from hybridvid_lib.data.synth.actions import CLASSES
    from hybridvid_lib.models import list_models, model_info
    from hybridvid_lib.scale.precision import cpu_has_bfloat16, resolve_precision

    for key, value in (("steps", steps), ("warmup", warmup)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a whole number >= 1; got {value!r}.")
    names = list(names or list_models())
    for name in names:
        model_info(name)  # an unknown name fails here, before anything is timed
    settings = resolve_settings(profile, batch_size=batch_size, precision=precision, jit_compile=jit_compile)
    if frame_size is not None:
        settings = settings.with_frame_size(int(frame_size))
    policy = resolve_precision(settings.precision)  # mixed_float16 without a GPU stops here, before any timing
    sequence = (feature_sequence_shape(settings)
                if any("features" in model_info(n)["inputs"] for n in names) else None)
    # The matmul is measured before every model and after the last, and the best rate kept: one measurement
    # disturbed by other work on the machine would make every model look closer to the limit than it is.
    rates = []
    models = {}
    for name in tqdm(names, desc="models", unit="model", disable=not progress, leave=False):
        rates.append(matmul_gflops())
        models[name] = bench_model(name, settings, num_classes=len(CLASSES), steps=steps, warmup=warmup,
                                   sequence=sequence)
    rate = max(*rates, matmul_gflops())
    for entry in models.values():
        gflops = entry["gflops_per_clip"]
        entry["train_fraction_of_matmul"] = 3 * gflops * entry["train_clips_per_s"] / rate
        entry["infer_fraction_of_matmul"] = gflops * entry["infer_clips_per_s"] / rate
    return {
        "profile": settings.profile,
        "batch_size": settings.batch_size,
        "num_frames": settings.num_frames,
        "frame_size": settings.frame_size,
        "precision": policy,
        "cpu_bfloat16": cpu_has_bfloat16(),
        "jit_compile": settings.jit_compile,
        "steps": steps,
        "device": _device_name(),
        "threads": _threads(),
        "matmul_gflops": round(rate, 2),
        "models": {name: {key: _rounded(value) for key, value in entry.items()} for name, entry in models.items()},
    }


def _rounded(value: Any) -> Any:
    """Floats to 4 significant digits for the JSON (the timings do not repeat to more)."""
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def format_bench_models(result: dict[str, Any]) -> str:
    """The result of :func:`bench_models` as a text table, one row per model."""
    threads = result["threads"]
    lines = [
        f"Models at profile {result['profile']} ({result['num_frames']} frames of {result['frame_size']} px), "
        f"batch {result['batch_size']}, precision {result['precision']}, XLA {result['jit_compile']}, "
        f"device {result['device']}, {threads['cpu_count']} CPUs",
        f"float32 matmul ({MATMUL_SIZE}x{MATMUL_SIZE}): {result['matmul_gflops']:.1f} GFLOP/s",
        f"  {'model':<22}{'params':>11}{'GFLOP/clip':>12}{'train clips/s':>15}{'infer clips/s':>15}"
        f"{'train % of matmul':>19}",
    ]
    for name, row in result["models"].items():
        lines.append(f"  {name:<22}{row['params']:>11,}{row['gflops_per_clip']:>12.3f}"
                     f"{row['train_clips_per_s']:>15.1f}{row['infer_clips_per_s']:>15.1f}"
                     f"{100 * row['train_fraction_of_matmul']:>18.1f}%")
    lines.append("(training counted as 3 forward passes; FLOPs: 2 per multiply-add, forward pass of one clip)")
    return "\n".join(lines)
