"""Checks for the exercises of chapter 03 (C3D): ``from hybridvid_lib.exercises.ch03 import q1, q2, q3``.

- ``q1``: ``temporal_receptive_field(kernels, strides) -> list[int]``, the frames one unit sees after each layer
  of a chain of convolutions and poolings. The check does not compare with a formula: it *builds* each chain as
  Keras layers (``Conv1D`` and ``AveragePooling1D`` along time, positive weights) and measures which input frames
  change one output unit (a gradient), so an answer is judged by what the layers do.
- ``q2``: ``inflate(kernel_2d, time) -> kernel_3d``, I3D's inflation of a 2D kernel ``(kH, kW, C_in, C_out)`` into
  a 3D one ``(time, kH, kW, C_in, C_out)``: the 2D weights repeated along time and divided by ``time``. The check
  runs a ``Conv3D`` with the learner's kernel on a still clip (one frame repeated) and a ``Conv2D`` with the 2D
  kernel on the frame: the responses must be equal.
- ``q3``: the measured experiment. The learner trains a tiny 3D CNN and a 2D CNN run on every frame whose frame
  features are averaged, on clips of a dot moving right (:func:`moving_dot_clips`) and the same clips played
  backwards (moving left), and measures both. The check re-measures the trained models on its own time-reversed
  pairs (another seed) and compares.

TensorFlow is imported only when a check runs, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe, reported_accuracies

__all__ = ["q1", "q2", "q3", "moving_dot_clips", "measured_receptive_field", "C3D_TIME_CHAIN",
           "DOT_FRAMES", "DOT_SIZE"]

#: (kernels, strides) along time of the library's ``c3d``: conv1, pool1 (1x2x2), conv2, pool2, conv3a, conv3b, ...
C3D_TIME_CHAIN: tuple[tuple[int, ...], tuple[int, ...]] = (
    (3, 1, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 2),
    (1, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2),
)
#: Frames and pixels per side of :func:`moving_dot_clips`.
DOT_FRAMES = 8
DOT_SIZE = 12
_CHECK_SEED = 7  # the check's own pairs: a seed neither the learner's training (0) nor test (1) set uses


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ q1 receptive field
def measured_receptive_field(kernels: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Frames one unit sees after each layer, *measured* on built layers (not computed from a formula).

    Each layer ``(k, s)`` becomes a ``Conv1D`` of kernel ``k`` and stride ``s`` with all weights 1 (a
    convolution) or, where ``k == s`` or ``k == 1``, an ``AveragePooling1D`` (a pooling); on a long enough input
    the gradient of one output unit in the middle is non-zero exactly at the input frames it depends on.
    """
    keras = _keras()
    import tensorflow as tf  # noqa: PLC0415

    out = []
    for depth in range(1, len(kernels) + 1):
        span = 1
        for k, s in zip(kernels[:depth], strides[:depth]):
            span = span * s + k  # generous: longer than any field of the chain
        length = 4 * span + 8
        x = keras.Input((length, 1))
        y = x
        for k, s in zip(kernels[:depth], strides[:depth]):
            if k == s or k == 1:
                y = keras.layers.AveragePooling1D(pool_size=k, strides=s)(y)
            else:
                y = keras.layers.Conv1D(1, k, strides=s, use_bias=False, kernel_initializer="ones")(y)
        model = keras.Model(x, y)
        probe = tf.Variable(np.ones((1, length, 1), dtype=np.float32))
        with tf.GradientTape() as tape:
            response = model(probe)
            unit = response[0, response.shape[1] // 2, 0]
        grad = tape.gradient(unit, probe).numpy()[0, :, 0]
        out.append(int(np.count_nonzero(grad)))
    return out


_Q1_CHAINS = (
    ("three 3-frame convolutions", (3, 3, 3), (1, 1, 1)),
    ("a convolution, a pooling of 2, a convolution", (3, 2, 3), (1, 2, 1)),
    ("convolutions of stride 2", (3, 3, 3), (2, 2, 1)),
    ("5-frame kernels around a pooling of 3", (5, 3, 5, 2, 3), (1, 3, 1, 2, 1)),
    ("the time axis of C3D", C3D_TIME_CHAIN[0], C3D_TIME_CHAIN[1]),
)


class ReceptiveField(Question):
    """``temporal_receptive_field(kernels, strides)``: a list, per layer, of the input frames one unit sees."""

    title = "Compute the temporal receptive field of a chain of layers"
    hints = (
        "Go layer by layer and keep two numbers: how many input frames one unit sees so far, and how many input "
        "frames apart two neighbouring units of the current layer are. A new kernel of k steps covers k "
        "neighbouring units; how many *input* frames apart are the first and the last of them?",
        "Start with field = 1 and jump = 1. For each layer: field += (k - 1) * jump, then jump *= s; append the "
        "field after each layer.",
    )
    solution_code = """
        def temporal_receptive_field(kernels, strides):
            field, jump, fields = 1, 1, []
            for k, s in zip(kernels, strides):
                field += (k - 1) * jump      # k neighbouring units, `jump` input frames apart
                jump *= s                    # a stride spreads the next layer's units further apart
                fields.append(field)
            return fields
    """
    correct_note = (
        "each 3-frame convolution adds 2 x the jump, and each pooling of time doubles the jump: C3D's units see "
        "3, 3, 5, 6, 10, 14, 16, 24, 32, 36, 52, 68, 76 frames, layer by layer (more than a 16-frame clip from "
        "conv4b on)."
    )

    def check_answer(self, temporal_receptive_field) -> None:
        for what, kernels, strides in _Q1_CHAINS:
            call = f"temporal_receptive_field({list(kernels)}, {list(strides)})"
            answer = call_learner(temporal_receptive_field, list(kernels), list(strides),
                                  name="temporal_receptive_field")
            if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
                raise IncorrectAnswer(f"`{call}` returned one number, {answer}; it should return a list with one "
                                      f"receptive field per layer ({len(kernels)} numbers), e.g. for {what}.")
            try:
                if isinstance(answer, (str, bytes, dict)):
                    raise TypeError
                values = [int(v) for v in answer]
            except (TypeError, ValueError):
                raise IncorrectAnswer(f"`{call}` should return a list of {len(kernels)} whole numbers (frames); got "
                                      f"{describe(answer)}.") from None
            if len(values) != len(kernels):
                raise IncorrectAnswer(f"`{call}` should return {len(kernels)} numbers, one per layer ({what}); got "
                                      f"{len(values)}: {values}.")
            measured = measured_receptive_field(kernels, strides)
            if values != measured:
                bad = next(i for i, (a, b) in enumerate(zip(values, measured)) if a != b)
                tip = ""
                if values[:bad] == measured[:bad] and any(s > 1 for s in strides[:bad]):
                    tip = (" Your numbers agree until a layer after a stride: after a stride, neighbouring units of "
                           "the next layer are further apart in input frames.")
                elif bad == 0:
                    tip = " The first layer's unit sees exactly its kernel's frames."
                raise IncorrectAnswer(
                    f"`{call}` ({what}) returned {values}; built as layers and measured (which input frames change "
                    f"one output unit), the fields are {measured}. The first difference is after layer {bad + 1} "
                    f"(kernel {kernels[bad]}, stride {strides[bad]}).{tip}"
                )


# ------------------------------------------------------------------------------ q2 inflation
class Inflation(Question):
    """``inflate(kernel_2d, time)``: ``(kH, kW, C_in, C_out)`` -> ``(time, kH, kW, C_in, C_out)``, I3D's rule."""

    title = "Inflate a 2D kernel along time"
    hints = (
        "The 3D kernel gets a new first axis of length `time`. On a still clip every frame is the same image, so "
        "the 3D convolution adds up `time` copies of one 2D response: what must each copy's weights be for the "
        "sum to be the 2D response itself?",
        "`np.repeat(kernel_2d[None], time, axis=0) / time` (or `np.stack([kernel_2d] * time) / time`).",
    )
    solution_code = """
        def inflate(kernel_2d, time):
            return np.repeat(kernel_2d[None], time, axis=0) / time   # (time, kH, kW, C_in, C_out)
    """
    correct_note = (
        "on a still clip the inflated Conv3D gives exactly the Conv2D's response, so a 2D network's ImageNet "
        "weights start a 3D network that, on a boring video, behaves like the image network (I3D, chapter 06); "
        "training then lets the time slices differ."
    )

    CASES = ((3, (3, 3, 2, 4)), (5, (3, 3, 3, 2)), (1, (1, 1, 3, 5)))

    def check_answer(self, inflate) -> None:
        keras = _keras()
        rng = np.random.default_rng(3)
        for time, shape in self.CASES:
            kernel_2d = rng.normal(size=shape).astype(np.float32)
            call = f"inflate(kernel_2d of shape {shape}, time={time})"
            answer = call_learner(inflate, kernel_2d.copy(), time, name="inflate")
            got = np.asarray(answer, dtype=np.float64) if answer is not None else None
            expected_shape = (time,) + shape
            if got is None or got.shape != expected_shape:
                raise IncorrectAnswer(
                    f"`{call}` should return a kernel of shape (time, kH, kW, C_in, C_out) = {expected_shape}, the "
                    f"new time axis first; got {describe(answer)}."
                )
            frame = rng.normal(size=(1, 7, 7, shape[2])).astype(np.float32)
            clip = np.repeat(frame[:, None], time, axis=1)  # a still clip: the same frame `time` times
            conv2d = keras.layers.Conv2D(shape[3], shape[:2], padding="same", use_bias=False)
            conv2d.build(frame.shape)
            conv2d.kernel.assign(kernel_2d)
            conv3d = keras.layers.Conv3D(shape[3], (time,) + shape[:2], padding="valid", use_bias=False)
            conv3d.build(clip.shape)
            # padding="valid" in time and "same" in space: pad the pixels by hand
            pad = [(0, 0), (0, 0), (shape[0] // 2, (shape[0] - 1) // 2), (shape[1] // 2, (shape[1] - 1) // 2), (0, 0)]
            conv3d.kernel.assign(got.astype(np.float32))
            response_3d = np.asarray(conv3d(np.pad(clip, pad)))[:, 0]
            response_2d = np.asarray(conv2d(frame))
            if not np.allclose(response_3d, response_2d, atol=1e-4, rtol=1e-4):
                ratio = float(np.sum(response_3d * response_2d) / max(np.sum(response_2d ** 2), 1e-12))
                tip = (f" The 3D response is {ratio:.2f} times the 2D one: the {time} copies add up." if
                       abs(ratio - time) < 0.05 * time and time > 1 else
                       " Each time slice should hold the 2D weights (scaled), in the same (kH, kW, C_in, C_out) "
                       "order.")
                raise IncorrectAnswer(
                    f"with `{call}`, a Conv3D on a still clip of {time} identical frames should give the Conv2D's "
                    f"response to the frame; the largest difference is "
                    f"{float(np.abs(response_3d - response_2d).max()):.3g}.{tip}"
                )
            slices = got.reshape(time, -1)
            if not np.allclose(slices, slices[:1], atol=1e-6):
                raise IncorrectAnswer(
                    f"`{call}` gives the 2D response on a still clip, but its time slices differ (e.g. all the "
                    "weight on the middle frame). That is a valid start too, yet not I3D's inflation, which spreads "
                    "the 2D weights evenly: every slice should be the same."
                )


# ------------------------------------------------------------------------------ q3 measured experiment
def moving_dot_clips(num: int, seed: int, *, pairs: bool, num_frames: int = DOT_FRAMES, size: int = DOT_SIZE
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Clips of a bright dot moving one pixel per frame to the right (class 0) or to the left (class 1).

    Every clip is noise (standard deviation 0.2) plus a dot of brightness 2 on one row, starting at a random
    column; class 1 is class 0 played backwards, so every frame has the same distribution in both classes and only
    the order of the frames tells them apart.

    Args:
        num: clips to draw. ``pairs=True``: each followed by its own reverse (``2 * num`` rows, labels
            ``0 1 0 1 ...``); ``pairs=False``: ``num`` rows, the second half reversed.
        seed: the random draw.
        num_frames, size: frames and pixels per side.

    Returns:
        ``x`` ``(N, num_frames, size, size, 1)`` float32 and ``y`` ``(N,)`` int64.
    """
    if num < 1 or num_frames < 2 or size < num_frames:
        raise ValueError(f"need num >= 1, num_frames >= 2 and size >= num_frames; got {num}, {num_frames}, {size}.")
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.2, size=(num, num_frames, size, size, 1)).astype(np.float32)
    for i in range(num):
        row, start = rng.integers(1, size - 1), rng.integers(0, size - num_frames + 1)
        x[i, np.arange(num_frames), row, start + np.arange(num_frames), 0] += 2.0
    if pairs:
        out = np.empty((2 * num,) + x.shape[1:], dtype=np.float32)
        out[0::2], out[1::2] = x, x[:, ::-1]
        return out, np.tile(np.array([0, 1], dtype=np.int64), num)
    half = num // 2
    x[half:] = x[half:, ::-1]
    return x, (np.arange(num) >= half).astype(np.int64)


def _flat(layer: Any) -> list[Any]:
    out = [layer]
    for child in list(getattr(layer, "layers", []) or []) + [getattr(layer, "layer", None)]:
        if child is not None and child is not layer:
            out += _flat(child)
    return out


class Conv3DvsFrames(Question):
    """``q3.check(frame_model, c3d_model, measured)``: two trained models and the learner's accuracies."""

    title = "Measure it: a tiny 3D CNN against a 2D CNN per frame, on a moving dot"
    hints = (
        "Two models on (B, T, S, S, 1) clips. One must be blind to order by construction: a 2D network applied to "
        "each frame on its own, then a summary over time that does not care about the order. The other slides its "
        "kernels over time too. Train both the same way, then measure the share of test clips whose most "
        "probable class is the true one.",
        "Frame model: `TimeDistributed(Conv2D(8, 3, activation='relu'))`, `TimeDistributed(GlobalMaxPooling2D())`, "
        "`GlobalAveragePooling1D()`, `Dense(num_classes, activation='softmax')`. 3D model: `Conv3D(8, 3, "
        "activation='relu')`, `GlobalMaxPooling3D()`, the same Dense. Train with Adam(1e-2), "
        "'sparse_categorical_crossentropy', 20 epochs, batch 32.",
    )
    solution_code = """
        def build_frame_model(num_frames, size, num_classes):
            inputs = keras.Input(shape=(num_frames, size, size, 1))
            x = keras.layers.TimeDistributed(keras.layers.Conv2D(8, 3, activation="relu"))(inputs)
            x = keras.layers.TimeDistributed(keras.layers.GlobalMaxPooling2D())(x)   # (B, T, 8)
            x = keras.layers.GlobalAveragePooling1D()(x)                             # (B, 8): order gone
            return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))

        def build_tiny_c3d(num_frames, size, num_classes):
            inputs = keras.Input(shape=(num_frames, size, size, 1))
            x = keras.layers.Conv3D(8, 3, activation="relu")(inputs)                # 3 frames at a time
            x = keras.layers.GlobalMaxPooling3D()(x)                                 # (B, 8)
            return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))

        def train(model, x, y):
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=20, batch_size=32, verbose=0)
            return model

        def accuracy(model, x, y):
            return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))

        frame_model = train(build_frame_model(T, S, 2), x_train, y_train)
        c3d_model = train(build_tiny_c3d(T, S, 2), x_train, y_train)
        measured = {"frame_model": accuracy(frame_model, x_test, y_test),
                    "c3d_model": accuracy(c3d_model, x_test, y_test)}
    """

    KEYS = ("frame_model", "c3d_model")
    MIN_C3D_ACCURACY = 0.9
    MIN_CONFIDENCE = 0.75
    TOLERANCE = 0.1
    CHECK_PAIRS = 48

    def check_answer(self, frame_model, c3d_model, measured) -> None:
        keras = _keras()
        expected = (None, DOT_FRAMES, DOT_SIZE, DOT_SIZE, 1)
        for key, model in zip(self.KEYS, (frame_model, c3d_model)):
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{key}` should be a trained keras.Model; got {describe(model)}.")
            shape = getattr(model, "input_shape", None)
            if not isinstance(shape, tuple) or len(shape) != 5 or tuple(shape[1:]) != expected[1:]:
                raise IncorrectAnswer(f"`{key}` should take the clips, (B, T, S, S, 1) = {expected}; its input is "
                                      f"{shape}.")
        reported = self._reported(measured)
        x, y = moving_dot_clips(self.CHECK_PAIRS, _CHECK_SEED, pairs=True)
        where = f"on {self.CHECK_PAIRS} time-reversed pairs ({len(x)} clips) of a draw you did not see"
        probs, scores = {}, {}
        for key, model in zip(self.KEYS, (frame_model, c3d_model)):
            out = call_learner(lambda inputs, m=model: m(inputs, training=False), x, name=key)
            p = np.asarray(out, dtype=np.float64)
            if p.shape != (len(x), 2) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
                raise IncorrectAnswer(f"`{key}` should output (B, 2) class probabilities (softmax) for clips "
                                      f"{x.shape}; got shape {p.shape}.")
            probs[key] = p
            scores[key] = (float(np.mean(p.argmax(axis=1) == y)), float(np.mean(p[np.arange(len(y)), y])))
        gap = float(np.abs(probs["frame_model"][0::2] - probs["frame_model"][1::2]).max())
        if gap > 1e-3:
            raise IncorrectAnswer(
                f"`frame_model` answers a clip and the same clip played backwards differently (by up to {gap:.2g}), "
                "so it is not blind to order: run a 2D network on each frame and average over time before the "
                "classifier. (Passed the two models the other way round? The order is "
                "`q3.check(frame_model, c3d_model, measured)`.)"
            )
        if not any(isinstance(layer, keras.layers.Conv3D) for layer in _flat(c3d_model)):
            raise IncorrectAnswer("`c3d_model` has no Conv3D layer; its kernels must slide over time as well.")
        accuracy, confidence = scores["c3d_model"]
        if accuracy < self.MIN_C3D_ACCURACY or confidence < self.MIN_CONFIDENCE:
            raise IncorrectAnswer(
                f"measured {where}, `c3d_model` put {accuracy:.2f} of them in the right class, giving the right "
                f"class {confidence:.2f} on average; a trained tiny 3D CNN reaches at least {self.MIN_C3D_ACCURACY} "
                f"and {self.MIN_CONFIDENCE}. An untrained one is near 0.5. Did you fit the model you pass, for "
                "enough epochs?"
            )
        for key in self.KEYS:
            if abs(scores[key][0] - reported[key]) > self.TOLERANCE:
                raise IncorrectAnswer(
                    f"you reported {reported[key]:.2f} for `{key}`, but measured {where} it scores "
                    f"{scores[key][0]:.2f}. Compute `measured` from these very models' predictions on `x_test` "
                    "(never type the numbers), and check which number belongs to which model."
                )
        self.measured_note = (
            f"measured again {where}: frame model {scores['frame_model'][0]:.2f}, tiny 3D CNN {accuracy:.2f} "
            f"(you measured {reported['frame_model']:.2f} and {reported['c3d_model']:.2f}). The frame model sees "
            "the same set of frames in a clip and its reverse, so it is right exactly once per pair; one 3 x 3 x 3 "
            "layer already sees where the dot goes next."
        )

    def _reported(self, measured: Any) -> dict[str, float]:
        return reported_accuracies(measured, self.KEYS)


q1 = ReceptiveField("q1")
q2 = Inflation("q2")
q3 = Conv3DvsFrames("q3")
