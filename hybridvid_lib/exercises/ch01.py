"""Checks for the exercises of chapter 01 (CNN + LSTM): ``from hybridvid_lib.exercises.ch01 import q1, q2, q3``.

- ``q1``: build the LSTM head, ``build_lstm_head(num_frames, feature_dim, num_classes) -> keras.Model``
  mapping ``(B, T, D)`` features to ``(B, C)`` softmax probabilities, sensitive to frame order.
- ``q2``: average features over the real frames only, ``masked_mean(features (B, T, D), mask (B, T)) -> (B, D)``.
- ``q3``: read a confusion matrix (:func:`confusion_case`): which pair of classes is confused most, and why.

TensorFlow is imported only by ``q1``'s check (through :func:`hybridvid_lib.tf_setup.import_tensorflow`),
so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe

__all__ = ["q1", "q2", "q3", "confusion_case", "REASON_CHOICES"]


# ------------------------------------------------------------------------------ q1 LSTM head
class LstmHead(Question):
    """``build_lstm_head(num_frames, feature_dim, num_classes)``: ``(B, T, D)`` -> ``(B, C)`` softmax, with an LSTM."""

    title = "Build the LSTM head"
    hints = (
        "Functional Keras: `inputs = keras.Input(shape=(num_frames, feature_dim))`, then an LSTM layer that "
        "reads the frames in order, then a `Dense(num_classes, activation='softmax')`, and "
        "`keras.Model(inputs, outputs)`.",
        "`keras.layers.LSTM(64)` returns only its last state, shape (B, 64): exactly what the Dense layer needs.",
    )
    solution_code = """
        def build_lstm_head(num_frames, feature_dim, num_classes):
            inputs = keras.Input(shape=(num_frames, feature_dim))           # (B, T, D) per-frame features
            x = keras.layers.LSTM(64)(inputs)                               # (B, 64): reads frames in order
            outputs = keras.layers.Dense(num_classes, activation="softmax")(x)  # (B, C) probabilities
            return keras.Model(inputs, outputs, name="lstm_head")
    """
    correct_note = (
        "the head reads the frames in order, so a StandUp clip (SitDown played backwards) can get a "
        "different answer from a SitDown clip."
    )

    NUM_FRAMES, FEATURE_DIM, NUM_CLASSES, BATCH = 6, 10, 4, 3

    def check_answer(self, build_lstm_head) -> None:
        from hybridvid_lib.tf_setup import import_tensorflow

        import_tensorflow()
        import keras  # after TensorFlow, quietly imported above

        t, d, c = self.NUM_FRAMES, self.FEATURE_DIM, self.NUM_CLASSES
        call = f"build_lstm_head({t}, {d}, {c})"
        model = call_learner(build_lstm_head, t, d, c, name="build_lstm_head")
        if not isinstance(model, keras.Model):
            extra = (" Wrap it in a model: `keras.Model(inputs, outputs)`."
                     if isinstance(model, keras.layers.Layer) else "")
            raise IncorrectAnswer(f"`{call}` should return a keras.Model; got {describe(model)}.{extra}")
        _check_input_shape(model, call, t, d)

        x = np.random.default_rng(0).normal(size=(self.BATCH, t, d)).astype(np.float32)
        probs = _predict(model, x)
        if probs.shape != (self.BATCH, c):
            raise IncorrectAnswer(
                f"for input (B, T, D) = {x.shape} the model should output (B, num_classes) = "
                f"{(self.BATCH, c)}; got {probs.shape}. The LSTM should return its last state "
                "(`return_sequences=False`) and the last layer needs `num_classes` units."
            )
        sums = probs.sum(axis=1)
        if np.any(probs < -1e-6) or not np.allclose(sums, 1.0, atol=1e-4):
            raise IncorrectAnswer(
                "the outputs should be class probabilities: non-negative, each row summing to 1; row sums were "
                f"{np.round(sums, 3).tolist()}. Use `activation='softmax'` on the last Dense layer."
            )
        reversed_probs = _predict(model, x[:, ::-1])
        if np.allclose(probs, reversed_probs, atol=1e-6):
            raise IncorrectAnswer(
                "reversing the order of the frames gave the same prediction: the head ignores frame order "
                "(averaging or pooling over time?), so it cannot tell SitDown from StandUp. Read the frames "
                "with `keras.layers.LSTM`."
            )
        if not _has_lstm(model, keras):
            raise IncorrectAnswer(
                "the model is order-sensitive but has no LSTM layer; this exercise asks for "
                "`keras.layers.LSTM` (alone or inside `keras.layers.Bidirectional`)."
            )


def _check_input_shape(model: Any, call: str, num_frames: int, feature_dim: int) -> None:
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        shape = None
    if shape is None or not isinstance(shape, tuple) or (shape and isinstance(shape[0], tuple)):
        raise IncorrectAnswer(
            f"the model of `{call}` needs one input of shape (B, T, D): start it with "
            f"`keras.Input(shape=(num_frames, feature_dim))`; "
            + ("it has no defined input yet." if shape is None else f"its input is {shape!r}.")
        )
    if len(shape) != 3 or shape[1] not in (num_frames, None) or shape[2] != feature_dim:
        raise IncorrectAnswer(
            f"`{call}` should take input (B, T, D) = (None, {num_frames}, {feature_dim}); got {shape}."
        )


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    out = call_learner(lambda inputs: model(inputs, training=False), x, name="model")
    return np.asarray(out, dtype=np.float64)


def _has_lstm(layer: Any, keras: Any) -> bool:
    """True if ``layer`` or any layer inside it (wrappers, nested models) runs an LSTM cell."""
    if isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, keras.layers.LSTMCell):
        return True
    children = list(getattr(layer, "layers", []) or [])
    for attr in ("forward_layer", "backward_layer", "layer"):
        child = getattr(layer, attr, None)
        if child is not None and child is not layer:
            children.append(child)
    return any(_has_lstm(child, keras) for child in children if child is not layer)


# ------------------------------------------------------------------------------ q2 masked mean
class MaskedMean(Question):
    """``masked_mean(features (B, T, D) float32, mask (B, T) float32 of 0/1) -> (B, D)``: mean over real frames."""

    title = "Ignore the padding of short videos"
    hints = (
        "Multiply the features by the mask so padded frames add nothing, sum over time, and divide by the "
        "number of *real* frames of each video (the mask's row sums), not by T.",
        "`mask[:, :, None]` has shape (B, T, 1) and broadcasts against (B, T, D); "
        "`mask.sum(axis=1, keepdims=True)` has shape (B, 1).",
    )
    solution_code = """
        def masked_mean(features, mask):
            weights = mask[:, :, None]                               # (B, T, 1): 1 = real frame
            total = (features * weights).sum(axis=1)                 # (B, D): padding adds nothing
            count = np.maximum(mask.sum(axis=1, keepdims=True), 1)   # (B, 1) real frames per video
            return total / count
    """
    correct_note = (
        "padded frames no longer drag the average towards the features of a black frame. "
        "Keras does the same for an LSTM with `keras.layers.Masking` or a `mask=` argument."
    )

    def check_answer(self, masked_mean) -> None:
        rng = np.random.default_rng(0)
        mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=np.float32)
        real = rng.normal(size=(3, 5, 4)).astype(np.float32)
        zero_padded = real * mask[:, :, None]
        # After a CNN a black (padded) frame does not give zero features (biases): padding must be
        # found from the mask, not from the values.
        bias_padded = np.where(mask[:, :, None] > 0, real, np.float32(0.7)).astype(np.float32)
        for features, note in ((zero_padded, ""), (bias_padded, " Here the padded frames' features are not zero "
                               "(after a CNN a black frame still has features, from the biases): use the mask, "
                               "not the feature values, to find them.")):
            call = "masked_mean(features (3, 5, 4), mask (3, 5))"
            got = call_learner(masked_mean, features.copy(), mask.copy(), name="masked_mean")
            got = _as_array(got, call)
            expected = (features * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            if got.shape != expected.shape:
                raise IncorrectAnswer(
                    f"`{call}` should return shape (B, D) = {expected.shape}, one average feature vector per "
                    f"video; got shape {got.shape}. Average over the time axis (axis 1)."
                )
            if not np.issubdtype(got.dtype, np.floating) or not np.all(np.isfinite(got)):
                raise IncorrectAnswer(
                    f"`{call}` should return finite floats (a mean, even over 1 frame); got {describe(got)} "
                    f"with values {_rounded(got)}."
                )
            if np.allclose(got, expected, atol=1e-5):
                continue
            if np.allclose(got, features.mean(axis=1), atol=1e-5):
                raise IncorrectAnswer(
                    f"`{call}` averaged over all T = 5 frames, padding included; average over the frames whose "
                    f"mask is 1 only (video 2 has 3 real frames, video 3 has 1).{note}"
                )
            video = int(np.flatnonzero(~np.isclose(got, expected, atol=1e-5).all(axis=1))[0])
            raise IncorrectAnswer(
                f"`{call}` gave {_rounded(got[video])} for video {video + 1} ({int(mask[video].sum())} real "
                f"frames of 5); the mean over its real frames is {_rounded(expected[video])}: sum the masked "
                f"features over time and divide by the number of real frames of each video.{note}"
            )


def _rounded(values: np.ndarray) -> list:
    """Values rounded to 3 decimals as plain Python floats, for messages."""
    return np.round(np.asarray(values, dtype=np.float64), 3).tolist()


def _as_array(value: Any, call: str) -> np.ndarray:
    if value is None or isinstance(value, (str, bytes, dict)):
        raise IncorrectAnswer(f"`{call}` should return an array of shape (B, D); got {describe(value)}.")
    try:
        return np.asarray(value, dtype=None)  # NumPy arrays and eager TensorFlow tensors alike
    except Exception:
        raise IncorrectAnswer(f"`{call}` should return an array of shape (B, D); got {describe(value)}.") from None


# ------------------------------------------------------------------------------ q3 confusion matrix
_CONFUSION_CLASSES = ("JumpingJack", "PointLeft", "PointRight", "SitDown", "StandUp", "Wave")
# Rows: true class, columns: predicted class; 20 test videos per class (a single-frame CNN's kind of errors).
_CONFUSION_MATRIX = (
    (19, 0, 0, 0, 0, 1),
    (0, 17, 3, 0, 0, 0),
    (0, 2, 18, 0, 0, 0),
    (0, 0, 0, 11, 9, 0),
    (1, 0, 0, 8, 11, 0),
    (1, 0, 0, 0, 0, 19),
)
_CONFUSED_PAIR = frozenset({"SitDown", "StandUp"})

#: The multiple-choice reasons of q3, letter -> statement.
REASON_CHOICES: dict[str, str] = {
    "a": "The class that is predicted wrongly has fewer test videos than the others.",
    "b": "The two classes are time-reverses of each other: the same poses in the opposite order, so a "
         "model that does not use frame order cannot tell them apart.",
    "c": "The two classes are mirror images of each other, so horizontal flips mixed up their labels.",
    "d": "The learning rate was too high, so the model never learned those two classes.",
}
_CORRECT_REASON = "b"
_WRONG_REASON_FEEDBACK = {
    "a": "every class has 20 test videos here (the row sums); the set is balanced. Think about what the two "
         "classes look like frame by frame.",
    "c": "the mirror pair is PointLeft / PointRight, and it is confused only a little (a label-aware flip "
         "keeps it apart); SitDown and StandUp are not mirror images.",
    "d": "a bad learning rate would hurt every class, yet the other classes are nearly perfect: the cause is "
         "specific to this pair. What do its two classes share?",
}


def confusion_case() -> tuple[np.ndarray, list[str]]:
    """The confusion matrix of q3: ``(cm (C, C) int64, class_names)``; rows are true, columns predicted classes."""
    return np.array(_CONFUSION_MATRIX, dtype=np.int64), list(_CONFUSION_CLASSES)


class ConfusionReading(Question):
    """``q3.check(answer, reason)``: ``answer`` a pair of class names (either order), ``reason`` a letter."""

    title = "Explain a confusion matrix"
    hints = (
        "Errors are off the diagonal: `cm[i, j]` with `i != j` counts videos of class i predicted as j. "
        "Count both directions of a pair: `cm + cm.T`.",
        "`sym = cm + cm.T; np.fill_diagonal(sym, 0); i, j = np.unravel_index(sym.argmax(), sym.shape)` finds "
        "the pair. For the reason: compare a SitDown clip with a StandUp clip frame by frame.",
    )
    solution_code = """
        cm, class_names = confusion_case()
        sym = cm + cm.T                        # errors in both directions of each pair
        np.fill_diagonal(sym, 0)               # correct predictions are not confusions
        i, j = np.unravel_index(sym.argmax(), sym.shape)
        answer = (class_names[i], class_names[j])   # ('SitDown', 'StandUp')
        reason = "b"    # time-reverses: the same frames in the opposite order
    """
    correct_note = (
        "SitDown and StandUp are the same poses in opposite order; only a model that reads frame order "
        "(the LSTM of this chapter) can separate them."
    )

    def check_answer(self, answer, reason) -> None:
        cm, names = confusion_case()
        if isinstance(answer, str) or not isinstance(answer, (tuple, list, set, frozenset)) or len(answer) != 2:
            raise IncorrectAnswer(
                f"`answer` should be a pair of two class names, e.g. `answer = ({names[0]!r}, {names[1]!r})`; "
                f"got {describe(answer)}."
            )
        pair = []
        for item in answer:
            if not isinstance(item, str) or item not in names:
                close = [n for n in names if isinstance(item, str) and n.lower() == item.strip().lower()]
                tip = f" (did you mean {close[0]!r}?)" if close else ""
                raise IncorrectAnswer(
                    f"{item!r} is not one of the class names {names}{tip}; answer with two of those names."
                )
            pair.append(item)
        if len(set(pair)) != 2:
            raise IncorrectAnswer(
                f"`answer` names {pair[0]!r} twice; name the two different classes that are confused."
            )
        if frozenset(pair) != _CONFUSED_PAIR:
            i, j = names.index(pair[0]), names.index(pair[1])
            raise IncorrectAnswer(
                f"{pair[0]} and {pair[1]} are confused {cm[i, j] + cm[j, i]} times (cm[{i}, {j}] + cm[{j}, {i}]); "
                "another pair is confused more often. Compare `cm[i, j] + cm[j, i]` over all pairs i != j."
            )
        if not isinstance(reason, str) or reason.strip().lower() not in REASON_CHOICES:
            raise IncorrectAnswer(
                f"the pair is right. `reason` should be one letter of {', '.join(REASON_CHOICES)}; got {reason!r}."
            )
        letter = reason.strip().lower()
        if letter != _CORRECT_REASON:
            raise IncorrectAnswer(f"the pair is right, but not reason {letter!r}: {_WRONG_REASON_FEEDBACK[letter]}")


q1 = LstmHead("q1")
q2 = MaskedMean("q2")
q3 = ConfusionReading("q3")
