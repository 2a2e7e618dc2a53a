"""Checks for the exercises of chapter 02 (two streams): ``from hybridvid_lib.exercises.ch02 import q1, q2, q3``.

- ``q1``: ``stack_flow(fields) -> stack``, Simonyan & Zisserman's temporal-stream input: ``L`` flow fields
  ``(L, H, W, 2)`` become one image of ``2L`` channels ``(H, W, 2L)`` in the order ``dx_1, dy_1, ..., dx_L,
  dy_L`` (the kit's pipeline with ``flow_stack=L``). The check finds, for every channel of the answer, which
  field and component of the input it holds, so a wrong order is named channel by channel.
- ``q2``: ``reverse_flow(fields) -> fields``, the flow of the same clip played backwards. The check computes
  optical flow on real StickActions clips, forwards and backwards, and measures how far the learner's answer
  is from the flow of the reversed clip (in pixels): reversing the order of the fields *and* negating them is
  close; reversing only, negating only, or keeping them are far, and the message gives the measured errors.
- ``q3``: the measured experiment. The learner trains an appearance stream, a motion stream and a learned
  fusion of the two on :func:`fusion_task` (a coloured square in the "frame", a moving square in the "flow";
  the class is *which colour moves which way*), and measures each stream, the average of the two streams'
  probabilities and the learned fusion. The check re-measures the trained models on its own draw and compares.

TensorFlow is imported only when a check of ``q3`` runs, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.exercises.core import (
    IncorrectAnswer, Question, call_learner, compare_reported, describe, reported_accuracies,
)

__all__ = ["q1", "q2", "q3", "fusion_task", "reference_stack", "real_flow_pair", "flow_error_px",
           "FUSION_SIZE", "REVERSAL_CLIPS"]

#: Pixels per side of the images of :func:`fusion_task`.
FUSION_SIZE = 12
#: The StickActions clips (class, group, clip) whose flow q2 computes forwards and backwards.
REVERSAL_CLIPS = (("SitDown", 1, 1), ("RaiseArms", 2, 1))
_FLOW_PX = 20.0  # the kit's flow unit: 1.0 is 20 pixels (hybridvid_lib.data.flow.FLOW_CLIP_PX)
_CHECK_SEED = 7  # the check's own draw: a seed neither the learner's training (0) nor test (1) set uses


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ q1 stacking
def reference_stack(fields: np.ndarray) -> np.ndarray:
    """``(L, H, W, 2)`` -> ``(H, W, 2L)``, channels ``dx_1, dy_1, ..., dx_L, dy_L`` (the pipeline's rule)."""
    fields = np.asarray(fields)
    length, height, width, _ = fields.shape
    return np.transpose(fields, (1, 2, 0, 3)).reshape(height, width, 2 * length)


def _channel_names(length: int) -> list[str]:
    return [f"{c}_{t + 1}" for t in range(length) for c in ("dx", "dy")]


class StackFlow(Question):
    """``stack_flow(fields)``: ``(L, H, W, 2)`` -> ``(H, W, 2L)`` in the order dx_1, dy_1, ..., dx_L, dy_L."""

    title = "Stack L flow fields into the 2L channels of the temporal stream"
    hints = (
        "The result is one image with 2L channels, the channel axis last. Channel 0 is the dx of the first field, "
        "channel 1 its dy, channel 2 the dx of the second field, and so on: first bring the time axis next to the "
        "(dx, dy) axis, then merge the two.",
        "`np.transpose(fields, (1, 2, 0, 3))` gives (H, W, L, 2); a reshape to (H, W, 2 * L) then reads each "
        "pixel's L pairs one after the other.",
    )
    solution_code = """
        def stack_flow(fields):
            length, height, width, _ = fields.shape
            per_pixel = np.transpose(fields, (1, 2, 0, 3))          # (H, W, L, 2): L pairs (dx, dy) per pixel
            return per_pixel.reshape(height, width, 2 * length)     # dx_1, dy_1, dx_2, dy_2, ...
    """
    correct_note = (
        "channel 2k holds dx of field k + 1 and channel 2k + 1 its dy, as the pipeline's `flow_stack=L` does; a 2D "
        "convolution's first layer sees all 2L channels at once, so it can compare the motion of neighbouring "
        "fields at every pixel."
    )

    SHAPES = ((3, 5, 7), (1, 4, 4), (10, 6, 6))

    def check_answer(self, stack_flow) -> None:
        rng = np.random.default_rng(2)
        for length, height, width in self.SHAPES:
            fields = rng.normal(size=(length, height, width, 2)).astype(np.float32)
            call = f"stack_flow(fields of shape {fields.shape})"
            answer = call_learner(stack_flow, fields.copy(), name="stack_flow")
            expected = reference_stack(fields)
            got = None if answer is None else np.asarray(answer)
            if got is None or got.shape != expected.shape:
                tip = ""
                if got is not None and got.shape == (2 * length, height, width):
                    tip = " The channels should come last, as Keras' Conv2D expects (channels_last)."
                raise IncorrectAnswer(f"`{call}` should return an array of shape (H, W, 2L) = {expected.shape}; "
                                      f"got {describe(answer)}.{tip}")
            if np.allclose(got, expected, atol=1e-6):
                continue
            names = _channel_names(length)
            slices = {name: fields[t, :, :, c] for t in range(length) for c, name in
                      ((0, f"dx_{t + 1}"), (1, f"dy_{t + 1}"))}
            wrong = []
            for k in range(2 * length):
                if np.allclose(got[..., k], expected[..., k], atol=1e-6):
                    continue
                held = next((name for name, image in slices.items() if np.allclose(got[..., k], image, atol=1e-6)),
                            None)
                wrong.append((k, held))
            k, held = wrong[0]
            if held is None:
                raise IncorrectAnswer(
                    f"`{call}`: channel {k} should be {names[k]}, the whole {height} x {width} image of that "
                    "component, but it is no single field's dx or dy: the pixels are mixed up. A reshape alone "
                    "moves numbers between pixels; bring the time axis next to the (dx, dy) axis first "
                    "(a transpose), then reshape."
                )
            listing = ", ".join(f"channel {kk} holds {h or 'mixed pixels'} (expected {names[kk]})"
                                for kk, h in wrong[:4])
            tip = ""
            if held.startswith("dx") and names[k].startswith("dy") or held.startswith("dy") and names[k].startswith("dx"):
                tip = (" The components alternate: dx and dy of one field side by side, then the next field "
                       "(not all dx first, and not dy before dx).")
            elif held.split("_")[1] != names[k].split("_")[1]:
                tip = " The fields must keep their order in time: the first field's pair comes first."
            raise IncorrectAnswer(f"`{call}`: {listing}{' ...' if len(wrong) > 4 else ''}.{tip}")


# ------------------------------------------------------------------------------ q2 reversed flow
def real_flow_pair(class_name: str = "SitDown", group: int = 1, clip: int = 1, size: int = 64
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Optical flow of a real StickActions clip forwards and of the same clip played backwards.

    The clip is drawn by :func:`~hybridvid_lib.data.synth.synthesize_clip` (preset ``default``, seed 0), resized to
    ``size`` pixels and given to :func:`~hybridvid_lib.data.flow.compute_flow` (DIS) twice: on its frames and on its
    frames reversed.

    Returns:
        ``(forward, backward)``: two ``(T - 1, size, size, 2)`` float32 arrays in the kit's unit (1.0 = 20 px).
    """
    import cv2  # noqa: PLC0415 - OpenCV only when flow is computed

    from hybridvid_lib.data.flow import compute_flow  # noqa: PLC0415
    from hybridvid_lib.data.synth import synthesize_clip  # noqa: PLC0415

    frames, _ = synthesize_clip(class_name, preset="default", seed=0, group=group, clip=clip)
    small = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
    return compute_flow(small, "dis"), compute_flow(np.ascontiguousarray(small[::-1]), "dis")


def flow_error_px(a: np.ndarray, b: np.ndarray) -> float:
    """Mean end-point error between two flows in the kit's unit, in pixels (the length of the difference)."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.mean(np.hypot(diff[..., 0], diff[..., 1]))) * _FLOW_PX


class ReverseFlow(Question):
    """``reverse_flow(fields)``: ``(L, H, W, 2)`` flow of a clip -> the flow of the clip played backwards."""

    title = "The flow of a clip played backwards"
    hints = (
        "Play the clip backwards: which pair of frames does the *first* field of the reversed clip connect, and in "
        "which direction does a pixel travel between them? Then do the same for every field.",
        "The reversed clip's field k goes from frame T-1-k to frame T-2-k: that is the forward field L-1-k "
        "(`fields[::-1]`), travelled the other way (`-`).",
    )
    solution_code = """
        def reverse_flow(fields):
            return -fields[::-1]      # the last field first, and every motion the other way round
    """

    TOLERANCE_PX = 0.05  # besides 1.5 x the reference rule's own error

    def check_answer(self, reverse_flow) -> None:
        notes = []
        for class_name, group, clip in REVERSAL_CLIPS:
            forward, backward = real_flow_pair(class_name, group, clip)
            call = f"reverse_flow(flow of a {class_name} clip, shape {forward.shape})"
            answer = call_learner(reverse_flow, forward.copy(), name="reverse_flow")
            got = None if answer is None else np.asarray(answer)
            if got is None or got.shape != forward.shape:
                raise IncorrectAnswer(f"`{call}` should return the reversed clip's flow, one field per pair of "
                                      f"frames, the same shape {forward.shape}; got {describe(answer)}.")
            errors = {
                "reversed and negated": flow_error_px(-forward[::-1], backward),
                "kept as they are": flow_error_px(forward, backward),
                "reversed in order only": flow_error_px(forward[::-1], backward),
                "negated only": flow_error_px(-forward, backward),
            }
            yours = flow_error_px(got, backward)
            limit = max(1.5 * errors["reversed and negated"], errors["reversed and negated"] + self.TOLERANCE_PX)
            if yours > limit:
                same = next((what for what, rule in (("kept as they are", forward),
                                                     ("reversed in order only", forward[::-1]),
                                                     ("negated only", -forward)) if np.allclose(got, rule, atol=1e-6)),
                            None)
                measured = "; ".join(f"{what} {err:.2f} px" for what, err in errors.items()
                                     if what != "reversed and negated")
                what = f" Your fields are the forward ones {same}." if same else ""
                raise IncorrectAnswer(
                    f"computed on the {class_name} clip played backwards, the real flow differs from your answer by "
                    f"{yours:.2f} px per pixel on average (mean end-point error); a right answer is within "
                    f"{limit:.2f} px.{what} Measured on this clip, the forward fields {measured}. Think of both "
                    "changes: which pair of frames each field of the reversed clip joins, and which way a pixel "
                    "moves between them."
                )
            notes.append(f"{class_name}: yours {yours:.3f} px, kept {errors['kept as they are']:.2f}, reversed only "
                         f"{errors['reversed in order only']:.2f}, negated only {errors['negated only']:.2f}")
        self.measured_note = (
            "measured against the flow computed on each clip played backwards (mean end-point error per pixel): "
            + "; ".join(notes) + ". Not exactly 0: the backward flow at a pixel is the forward motion of the pixel "
            "that *arrives* there, so the fields are also shifted by the motion itself, and DIS is an estimate. A "
            "temporal stream that learned SitDown sees a StandUp in these fields: the order and the sign of the "
            "stacked channels carry the direction of time, which single RGB frames do not."
        )


# ------------------------------------------------------------------------------ q3 measured experiment
def fusion_task(num: int, seed: int, *, size: int = FUSION_SIZE) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A two-stream task whose class is told by neither stream alone.

    Each sample has an appearance image ``rgb`` (noise and a 4 x 4 square, red or blue, somewhere) and a motion
    image ``flow`` (noise and a 4 x 4 patch moving up or down, somewhere else). The class is 0 for a red square with
    upward motion or a blue square with downward motion, 1 otherwise (an exclusive or): the colour alone and the
    direction alone each say nothing about the class, together they say everything.

    Returns:
        ``({"rgb": (N, size, size, 3), "flow": (N, size, size, 2)}, y (N,) int64)``, float32 inputs.
    """
    if num < 1 or size < 4:
        raise ValueError(f"need num >= 1 and size >= 4; got {num}, {size}.")
    rng = np.random.default_rng(seed)
    blue = rng.integers(0, 2, num)
    down = rng.integers(0, 2, num)
    rgb = rng.normal(0.0, 0.2, size=(num, size, size, 3)).astype(np.float32)
    flow = rng.normal(0.0, 0.2, size=(num, size, size, 2)).astype(np.float32)
    for i in range(num):
        y, x = rng.integers(0, size - 3, 2)
        rgb[i, y:y + 4, x:x + 4, 2 if blue[i] else 0] += 1.0
        y, x = rng.integers(0, size - 3, 2)
        flow[i, y:y + 4, x:x + 4, 1] += 1.0 if down[i] else -1.0  # dy > 0: moving down
    return {"rgb": rgb, "flow": flow}, (blue ^ down).astype(np.int64)


class FusionExperiment(Question):
    """``q3.check(rgb_model, flow_model, fusion_model, measured)``: three trained models and the accuracies."""

    title = "Measure it: average fusion against a learned fusion of two streams"
    hints = (
        "Each stream model takes one input and outputs two class probabilities. Averaging their probabilities "
        "adds up the evidence of each stream on its own. The learned fusion takes both inputs, concatenates the "
        "two streams' features, and needs a hidden layer of its own before the classifier: with a single Dense "
        "layer on the concatenated features, the score is still a sum of one term per stream.",
        "Stream: `Conv2D(8, 3, activation='relu')`, `GlobalMaxPooling2D()`, `Dense(2, activation='softmax')`. "
        "Fusion: the same two convolution + pooling branches, `Concatenate()`, `Dense(16, activation='relu')`, "
        "`Dense(2, activation='softmax')`, inputs `{'rgb': ..., 'flow': ...}`. Train each with Adam(1e-2), "
        "'sparse_categorical_crossentropy', 30 epochs, batch 32; the average is `(p_rgb + p_flow) / 2`.",
    )
    solution_code = """
        def stream(channels, name):
            inputs = keras.Input(shape=(S, S, channels), name=name)
            x = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
            return inputs, keras.layers.GlobalMaxPooling2D()(x)                      # (B, 8) features

        def build_stream_model(channels, name):
            inputs, features = stream(channels, name)
            return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(features))

        def build_learned_fusion():
            rgb, rgb_features = stream(3, "rgb")
            flow, flow_features = stream(2, "flow")
            x = keras.layers.Concatenate()([rgb_features, flow_features])
            x = keras.layers.Dense(16, activation="relu")(x)                         # mixes the two streams
            return keras.Model({"rgb": rgb, "flow": flow}, keras.layers.Dense(2, activation="softmax")(x))

        def average_fusion(p_rgb, p_flow):
            return (p_rgb + p_flow) / 2

        def train(model, x, y):
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=30, batch_size=32, verbose=0)
            return model

        def accuracy(probs, y):
            return float(np.mean(np.asarray(probs).argmax(axis=1) == y))

        rgb_model = train(build_stream_model(3, "rgb"), x_train["rgb"], y_train)
        flow_model = train(build_stream_model(2, "flow"), x_train["flow"], y_train)
        fusion_model = train(build_learned_fusion(), x_train, y_train)
        p_rgb = rgb_model.predict(x_test["rgb"], verbose=0)
        p_flow = flow_model.predict(x_test["flow"], verbose=0)
        measured = {"rgb": accuracy(p_rgb, y_test), "flow": accuracy(p_flow, y_test),
                    "average": accuracy(average_fusion(p_rgb, p_flow), y_test),
                    "learned": accuracy(fusion_model.predict(x_test, verbose=0), y_test)}
    """

    KEYS = ("rgb", "flow", "average", "learned")
    MIN_LEARNED = 0.9
    MAX_BLIND = 0.65  # a stream (or their average) on its own: chance is 0.5
    TOLERANCE = 0.1
    CHECK_SAMPLES = 512

    def check_answer(self, rgb_model, flow_model, fusion_model, measured) -> None:
        keras = _keras()
        s = FUSION_SIZE
        for key, model, shape in (("rgb_model", rgb_model, (s, s, 3)), ("flow_model", flow_model, (s, s, 2))):
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{key}` should be a trained keras.Model; got {describe(model)}.")
            got = getattr(model, "input_shape", None)
            if not isinstance(got, tuple) or tuple(got[1:]) != shape:
                raise IncorrectAnswer(f"`{key}` should take one input of shape (B, {s}, {s}, {shape[-1]}); its input "
                                      f"is {got}. (The order is `q3.check(rgb_model, flow_model, fusion_model, "
                                      "measured)`.)")
        if not isinstance(fusion_model, keras.Model):
            raise IncorrectAnswer(f"`fusion_model` should be a trained keras.Model; got {describe(fusion_model)}.")
        names = sorted(getattr(t, "name", "").split(":")[0] for t in fusion_model.inputs)
        if len(fusion_model.inputs) != 2 or not all(any(n.startswith(k) for n in names) for k in ("flow", "rgb")):
            raise IncorrectAnswer(
                "`fusion_model` should take both streams' inputs, named `rgb` (B, 12, 12, 3) and `flow` "
                f"(B, 12, 12, 2) (`keras.Input(..., name='rgb')`), as a dict; its inputs are {names}."
            )
        reported = reported_accuracies(measured, self.KEYS)
        x, y = fusion_task(self.CHECK_SAMPLES, _CHECK_SEED)
        where = f"on {self.CHECK_SAMPLES} samples of a draw you did not see"

        def probabilities(key, model, inputs):
            out = call_learner(lambda data: model(data, training=False), inputs, name=key)
            p = np.asarray(out, dtype=np.float64)
            if p.shape != (len(y), 2) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
                raise IncorrectAnswer(f"`{key}` should output (B, 2) class probabilities (softmax); got shape "
                                      f"{p.shape}.")
            return p

        p_rgb = probabilities("rgb_model", rgb_model, x["rgb"])
        p_flow = probabilities("flow_model", flow_model, x["flow"])
        p_fused = probabilities("fusion_model", fusion_model, {"rgb": x["rgb"], "flow": x["flow"]})
        scores = {"rgb": p_rgb, "flow": p_flow, "average": (p_rgb + p_flow) / 2, "learned": p_fused}
        scores = {k: float(np.mean(p.argmax(axis=1) == y)) for k, p in scores.items()}
        if scores["learned"] < self.MIN_LEARNED:
            raise IncorrectAnswer(
                f"measured {where}, `fusion_model` is right for {scores['learned']:.2f} of them; a trained fusion "
                f"with a hidden layer after the concatenation reaches at least {self.MIN_LEARNED}. Near 0.5? A "
                "single Dense layer on the concatenated features adds one term per stream, like the average, and "
                "cannot say 'red *and* up'; or the model was not trained (long) enough."
            )
        for key in ("rgb", "flow"):
            if scores[key] > self.MAX_BLIND:
                raise IncorrectAnswer(
                    f"measured {where}, the `{key}` stream alone is right for {scores[key]:.2f}, but on this task a "
                    "single stream cannot beat chance (0.5): is it really given only its own input?"
                )
        compare_reported(reported, scores, self.KEYS, tolerance=self.TOLERANCE, where=where, data="`x_test`")
        self.measured_note = (
            f"measured again {where}: appearance stream {scores['rgb']:.2f}, motion stream {scores['flow']:.2f}, "
            f"their average {scores['average']:.2f}, learned fusion {scores['learned']:.2f} (you measured "
            + ", ".join(f"{reported[k]:.2f}" for k in self.KEYS) + "). Averaging adds the evidence of two streams "
            "that each know nothing here; a fusion trained on both can learn which colour goes with which motion."
        )


q1 = StackFlow("q1")
q2 = ReverseFlow("q2")
q3 = FusionExperiment("q3")
