"""Checks for the exercises of chapter 04 (CNN + Transformer): ``from hybridvid_lib.exercises.ch04 import q1, q2, q3``.

- ``q1``: ``sinusoidal_encoding(length, dim) -> (length, dim)``, the position encoding of Vaswani et al. 2017
  (section 3.5). Checked against the formula on several sizes; the usual slips (sine and cosine swapped, no
  ``10000`` base, one frequency per column instead of per pair of columns, sines in the first half and cosines in
  the second) get a message that names them.
- ``q2``: ``attention_pool(features (B, T, D), scores (B, T)) -> (pooled (B, D), weights (B, T))``: a softmax
  over time, then the weighted sum of the frames. Checked on cases that catch a softmax over the wrong axis, no
  softmax, a plain mean, and an overflow with large scores.
- ``q3``: the measured experiment. The learner trains a self-attention head with mean pooling twice on sequences
  whose two classes differ only in order (:func:`hybridvid_lib.exercises.ch01.order_sequences`): once without a
  position encoding, once with their ``sinusoidal_encoding`` added to the tokens. The check measures both trained
  models again on time-reversed pairs it draws itself, and compares with the numbers the learner reports.

TensorFlow is imported only when a check of a model runs, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.exercises.ch01 import order_sequences
from hybridvid_lib.exercises.core import (
    IncorrectAnswer, Question, call_learner, compare_reported, describe, reported_accuracies,
)

__all__ = ["q1", "q2", "q3", "order_sequences", "reference_encoding", "ORDER_FRAMES", "ORDER_DIM"]

#: Frames and features per sequence of the order task of q3 (event A before event B, or the reverse).
ORDER_FRAMES, ORDER_DIM = 8, 6
_CHECK_SEED = 7  # the check's own pairs: a seed the notebook's data do not use (1: training, 2: test)


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


def _as_array(value: Any, call: str, what: str) -> np.ndarray:
    if value is None or isinstance(value, (str, bytes, dict, tuple, list)) and not _numeric(value):
        raise IncorrectAnswer(f"`{call}`: {what} should be an array; got {describe(value)}.")
    try:
        return np.asarray(value, dtype=np.float64)
    except Exception:
        raise IncorrectAnswer(f"`{call}`: {what} should be an array of numbers; got {describe(value)}.") from None


def _numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except Exception:
        return False
    return True


# ------------------------------------------------------------------------------ q1 sinusoidal encoding
def _table(length: int, dim: int, *, rates: np.ndarray | None = None, swap: bool = False,
           halves: bool = False, base: float = 10000.0, per_dim: bool = False) -> np.ndarray:
    """The sinusoidal table and the wrong variants the check recognises (float64)."""
    t = np.arange(length, dtype=np.float64)[:, None]
    j = np.arange(dim)
    if halves:  # sines of all frequencies, then cosines (another common layout, not this course's)
        half = dim // 2
        freq = 1.0 / np.power(base, 2 * np.arange(half) / dim)
        return np.concatenate([np.sin(t * freq), np.cos(t * freq)], axis=1)
    exponent = (j if per_dim else 2 * (j // 2)) / dim
    rates = 1.0 / np.power(base, exponent) if rates is None else rates
    angles = t * rates[None, :]
    even = j % 2 == 0
    first, second = (np.cos, np.sin) if swap else (np.sin, np.cos)
    return np.where(even, first(angles), second(angles))


def reference_encoding(length: int, dim: int) -> np.ndarray:
    """``(length, dim)`` float64: ``PE[t, 2i] = sin(t / 10000^(2i/dim))``, ``PE[t, 2i+1] = cos(same)``."""
    return _table(length, dim)


_WRONG_TABLES = (
    ("swap", dict(swap=True),
     "even columns (0, 2, 4, ...) should hold the sine and odd columns the cosine; yours has them the other way "
     "round (row 0, position 0, should read 0, 1, 0, 1, ...: sin 0 = 0, cos 0 = 1)."),
    ("base1", dict(base=1.0),
     "every column turns at the same speed: the frequency of column pair i should be 1 / 10000^(2i/dim), so "
     "that the first pairs change from frame to frame and the last ones hardly at all. Is the 10000 missing?"),
    ("per_dim", dict(per_dim=True),
     "columns 2i and 2i+1 (a sine and a cosine) should share one frequency, 1 / 10000^(2i/dim); yours gives "
     "every column its own (exponent j/dim for column j). Use the index of the *pair*, j // 2."),
    ("halves", dict(halves=True),
     "yours puts the sines in the first half of the columns and the cosines in the second; this course (like "
     "the paper and the kit's `PositionEncoding`) interleaves them: column 2i sine, column 2i+1 cosine."),
)


class SinusoidalEncoding(Question):
    """``q1.check(sinusoidal_encoding)``: ``(length, dim)`` -> the ``(length, dim)`` table of Vaswani et al."""

    title = "Write the sinusoidal position encoding"
    hints = (
        "Row t is the vector added to the token of frame t. Columns come in pairs that share one frequency: "
        "one column of the pair is a sine, the other a cosine of (position x frequency). The frequencies fall "
        "geometrically from 1 (the first pair) to nearly 0 (the last pair).",
        "`t = np.arange(length)[:, None]`; the pair index of column j is `j // 2`; frequency "
        "`1 / 10000 ** (2 * (j // 2) / dim)`; `np.where(j % 2 == 0, np.sin(t * freq), np.cos(t * freq))`.",
    )
    solution_code = """
        def sinusoidal_encoding(length, dim):
            t = np.arange(length)[:, None]                    # (length, 1) positions
            j = np.arange(dim)                                # column index
            freq = 1.0 / 10000 ** (2 * (j // 2) / dim)        # one frequency per pair of columns
            angles = t * freq                                 # (length, dim)
            return np.where(j % 2 == 0, np.sin(angles), np.cos(angles)).astype(np.float32)
    """
    correct_note = (
        "every row is different, neighbouring rows are alike, and sin/cos pairs let a linear map shift a position "
        "by a fixed offset. Chapter 04's `PositionEncoding('sinusoidal')` adds exactly this table to the tokens."
    )

    SIZES = ((4, 8), (16, 64), (50, 10), (3, 2), (17, 64))
    TOLERANCE = 1e-4

    def check_answer(self, sinusoidal_encoding) -> None:
        for length, dim in self.SIZES:
            call = f"sinusoidal_encoding({length}, {dim})"
            out = _as_array(call_learner(sinusoidal_encoding, length, dim, name="sinusoidal_encoding"), call,
                            "the table")
            expected = reference_encoding(length, dim)
            if out.shape != expected.shape:
                tip = " (rows are positions, columns dimensions: transposed?)" if out.shape == (dim, length) else ""
                raise IncorrectAnswer(f"`{call}` should return shape (length, dim) = {(length, dim)}; got "
                                      f"{out.shape}{tip}.")
            if not np.all(np.isfinite(out)):
                raise IncorrectAnswer(f"`{call}` holds NaN or infinite values; every entry is a sine or a cosine, "
                                      "so between -1 and 1.")
            if np.allclose(out, expected, atol=self.TOLERANCE):
                continue
            for _, variant, message in _WRONG_TABLES:
                if np.allclose(out, _table(length, dim, **variant), atol=self.TOLERANCE):
                    raise IncorrectAnswer(f"`{call}`: {message}")
            t, j = np.unravel_index(np.abs(out - expected).argmax(), out.shape)
            raise IncorrectAnswer(
                f"`{call}` differs from the formula: at position {t}, column {j} it gives {out[t, j]:.4f}, the "
                f"formula {expected[t, j]:.4f} ({'sin' if j % 2 == 0 else 'cos'}({t} / 10000^({2 * (j // 2)}/{dim}))."
                " Column 2i is sin(t / 10000^(2i/dim)), column 2i+1 cos(t / 10000^(2i/dim))."
            )


# ------------------------------------------------------------------------------ q2 attention pooling
def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def _pool_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(4)
    cases = [("random scores, batch 3, 5 frames, 4 features", rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5)))]
    one_hot = np.full((2, 6), -3.0)
    one_hot[0, 4], one_hot[1, 1] = 6.0, 6.0
    cases.append(("scores that pick one frame per clip", rng.normal(size=(2, 6, 3)), one_hot))
    cases.append(("equal scores (the weights should be uniform, the result the mean)", rng.normal(size=(2, 4, 2)),
                  np.zeros((2, 4))))
    big = rng.normal(size=(2, 5)) * 3 + 1000.0
    cases.append(("large scores, around 1000 (as attention logits can be)", rng.normal(size=(2, 5, 3)), big))
    cases.append(("one clip, 7 frames", rng.normal(size=(1, 7, 5)), rng.normal(size=(1, 7)) * 2))
    return cases


class AttentionPool(Question):
    """``q2.check(attention_pool)``: ``(features (B, T, D), scores (B, T))`` -> ``(pooled (B, D), weights (B, T))``."""

    title = "Pool a clip with attention: softmax over time, then a weighted sum"
    hints = (
        "Two steps. Turn each clip's T scores into T weights that are positive and add up to 1 over that clip's "
        "frames (not over the batch). Then each clip's summary is the sum of its frame features, each multiplied "
        "by its weight. Watch out for very large scores.",
        "Softmax along axis 1, stably: `e = np.exp(scores - scores.max(axis=1, keepdims=True))`, "
        "`weights = e / e.sum(axis=1, keepdims=True)`; then `pooled = (weights[..., None] * features).sum(axis=1)` "
        "(or `np.einsum('bt,btd->bd', weights, features)`).",
    )
    solution_code = """
        def attention_pool(features, scores):
            shifted = scores - scores.max(axis=1, keepdims=True)   # same softmax, no overflow
            e = np.exp(shifted)
            weights = e / e.sum(axis=1, keepdims=True)             # (B, T), each row sums to 1
            pooled = np.einsum("bt,btd->bd", weights, features)    # (B, D) weighted sum over time
            return pooled, weights
    """
    correct_note = (
        "with equal scores attention pooling is the mean of chapter 01, and with one large score it picks one "
        "frame. Like the mean, it is blind to order: reorder frames and scores together and nothing changes."
    )

    def check_answer(self, attention_pool) -> None:
        for what, features, scores in _pool_cases():
            b, t, d = features.shape
            call = f"attention_pool(features {features.shape}, scores {scores.shape}) for {what}"
            out = call_learner(attention_pool, features.copy(), scores.copy(), name="attention_pool")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise IncorrectAnswer(f"`{call}` should return two arrays, `(pooled, weights)`; got {describe(out)}.")
            pooled, weights = (_as_array(v, call, name) for v, name in zip(out, ("pooled", "weights")))
            if weights.shape != (b, t):
                raise IncorrectAnswer(f"`{call}`: `weights` should have shape (B, T) = {(b, t)}; got {weights.shape}.")
            if pooled.shape != (b, d):
                raise IncorrectAnswer(f"`{call}`: `pooled` should have shape (B, D) = {(b, d)}: the time axis is "
                                      f"summed away; got {pooled.shape}.")
            if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(pooled))):
                raise IncorrectAnswer(
                    f"`{call}` returned NaN or infinite values. `np.exp(1000)` overflows; subtracting each clip's "
                    "largest score first gives the same softmax (the constant cancels) without the overflow."
                )
            expected_w = _softmax(scores, axis=1)
            if not np.allclose(weights, expected_w, atol=1e-5):
                sums = weights.sum(axis=1)
                if np.allclose(weights, _softmax(scores, axis=0), atol=1e-5) and b > 1:
                    why = "they are a softmax over the batch (axis 0): each frame competes with the other clips."
                elif np.any(weights < -1e-9) or not np.allclose(sums, 1.0, atol=1e-5):
                    why = (f"they should be positive and sum to 1 over each clip's frames; row sums were "
                           f"{np.round(sums, 3).tolist()}. Apply a softmax over time (axis 1) to the scores.")
                elif np.allclose(weights, 1.0 / t):
                    why = "they are uniform whatever the scores (that is the mean, not attention)."
                else:
                    why = "they should be the softmax of the scores over time (axis 1)."
                raise IncorrectAnswer(f"`{call}`: the weights are wrong: {why}")
            expected_p = np.einsum("bt,btd->bd", expected_w, features)
            if not np.allclose(pooled, expected_p, atol=1e-5):
                if np.allclose(pooled, features.mean(axis=1), atol=1e-5):
                    why = "it is the plain mean over time; weight each frame by its attention weight."
                else:
                    why = "it should be the sum over time of weight x frame feature, for each clip."
                raise IncorrectAnswer(f"`{call}`: `pooled` is wrong: {why}")


# ------------------------------------------------------------------------------ q3 the measured experiment
def _has_layer(model: Any, kind: Any) -> bool:
    stack = [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, kind):
            return True
        stack.extend(l for l in (getattr(layer, "layers", None) or []) if l is not layer)
        stack.extend(getattr(layer, attr) for attr in ("layer", "forward_layer", "backward_layer")
                     if getattr(layer, attr, None) is not None and getattr(layer, attr) is not layer)
    return False


class PositionExperiment(Question):
    """``q3.check(plain_model, positional_model, measured)``: two trained attention heads and their measured accuracies.

    ``measured`` is ``{"plain": float, "positional": float}``: each model's accuracy on the test pairs of the
    notebook. The check measures both models again on its own time-reversed pairs (another draw), requires the
    plain model to be order-blind (the same answer for a sequence and its reverse), the positional one to be right
    on at least 90% of the pairs' sequences, both to be self-attention heads (no recurrent layer), and the reported
    numbers to be within 0.1 of its own.
    """

    title = "Measure it: self-attention with mean pooling, with and without your position encoding"
    hints = (
        "Build one function with an option: tokens from a Dense layer, your encoding added to them when it is "
        "given, one self-attention layer (queries, keys and values all from the same tokens) with a residual "
        "connection, a mean over time, a softmax classifier. Train both versions the same way, then measure the "
        "share of test sequences whose most probable class is the true one.",
        "`x = keras.layers.Dense(d_model)(inputs)`; `x = x + table[None]` with `table = sinusoidal_encoding(T, "
        "d_model)` (a constant); `x = x + keras.layers.MultiHeadAttention(2, d_model // 2)(x, x)`; "
        "`keras.layers.GlobalAveragePooling1D()`; compile with Adam(3e-3) and sparse categorical cross-entropy, "
        "fit for about 40 epochs.",
    )
    solution_code = """
        def build_attention_head(num_frames, feature_dim, num_classes, position_table=None, d_model=32):
            inputs = keras.Input(shape=(num_frames, feature_dim))
            x = keras.layers.Dense(d_model)(inputs)                            # one token per frame
            if position_table is not None:
                x = x + np.asarray(position_table, np.float32)[None]           # where each frame is
            x = x + keras.layers.MultiHeadAttention(2, d_model // 2)(x, x)     # every frame attends to every frame
            x = x + keras.layers.Dense(d_model, activation="relu")(x)
            x = keras.layers.GlobalAveragePooling1D()(x)                       # mean over time
            outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
            return keras.Model(inputs, outputs)

        def train_head(model, x, y):
            model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=40, batch_size=32, verbose=0)
            return model

        def pair_accuracy(model, x, y):
            return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))

        plain_model = train_head(build_attention_head(T, D, 2), x_train, y_train)
        positional_model = train_head(build_attention_head(T, D, 2, position_table=sinusoidal_encoding(T, 32)),
                                      x_train, y_train)
        measured = {"plain": pair_accuracy(plain_model, x_test, y_test),
                    "positional": pair_accuracy(positional_model, x_test, y_test)}
    """

    KEYS = ("plain", "positional")
    CHECK_PAIRS = 128
    MIN_POSITIONAL = 0.9
    PLAIN_GAP = 1e-3  # largest change of a probability between a sequence and its reverse, order-blind
    TOLERANCE = 0.1

    def check_answer(self, plain_model, positional_model, measured) -> None:
        keras = _keras()
        reported = self._reported(measured)
        models = dict(zip(self.KEYS, (plain_model, positional_model)))
        for key, model in models.items():
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{key}_model` should be a trained keras.Model; got {describe(model)}.")
            if not _has_layer(model, keras.layers.MultiHeadAttention):
                raise IncorrectAnswer(f"`{key}_model` has no `keras.layers.MultiHeadAttention`: this experiment is "
                                      "about self-attention, build both models with your `build_attention_head`.")
            if _has_layer(model, keras.layers.RNN) or _has_layer(model, keras.layers.Conv1D):
                raise IncorrectAnswer(f"`{key}_model` has a recurrent or convolutional layer, which sees order by "
                                      "itself; the experiment asks what self-attention and a mean see, nothing else.")
        x, y = order_sequences(self.CHECK_PAIRS, _CHECK_SEED, pairs=True, num_frames=ORDER_FRAMES,
                               feature_dim=ORDER_DIM)
        where = (f"on {self.CHECK_PAIRS} time-reversed pairs ({len(x)} sequences) that the check drew itself "
                 "(event A before event B, and the same sequence played backwards)")
        probs, scores = {}, {}
        for key, model in models.items():
            out = call_learner(lambda inputs, m=model: m(inputs, training=False), x, name=f"{key}_model")
            if isinstance(out, (dict, list, tuple)):
                raise IncorrectAnswer(f"`{key}_model` should return one (B, 2) tensor of probabilities; got "
                                      f"{describe(out)}.")
            p = np.asarray(out, dtype=np.float64)
            if p.shape != (len(x), 2) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
                raise IncorrectAnswer(f"`{key}_model` should map (B, {ORDER_FRAMES}, {ORDER_DIM}) sequences to (B, 2) "
                                      f"softmax probabilities; got {p.shape} with row sums "
                                      f"{np.round(p.sum(axis=1)[:4], 3).tolist()}...")
            probs[key], scores[key] = p, float(np.mean(p.argmax(axis=1) == y))
        gap = {key: float(np.abs(p[0::2] - p[1::2]).max()) for key, p in probs.items()}
        if gap["plain"] > self.PLAIN_GAP:
            swapped = gap["positional"] <= self.PLAIN_GAP
            raise IncorrectAnswer(
                f"`plain_model` answers a sequence and its reverse differently (by up to {gap['plain']:.2g}), so "
                "something in it sees the order: without a position encoding, self-attention and the mean treat "
                "the frames as a set." + (" (The other model *is* order-blind: passed them the wrong way round? "
                                          "The order is `q3.check(plain_model, positional_model, measured)`.)"
                                          if swapped else "")
            )
        if gap["positional"] <= self.PLAIN_GAP:
            raise IncorrectAnswer(
                f"`positional_model` gives a sequence and its reverse the same answer (differences at most "
                f"{gap['positional']:.1e}), exactly like the plain one: the position encoding never reached the "
                "tokens. Add `sinusoidal_encoding(T, d_model)` to the tokens *before* the attention layer."
            )
        if scores["positional"] < self.MIN_POSITIONAL:
            raise IncorrectAnswer(
                f"measured {where}, `positional_model` put {scores['positional']:.2f} of the sequences in the right "
                f"class; a trained one reaches at least {self.MIN_POSITIONAL}. It does see the order (its answers "
                "change when a sequence is reversed) but did not learn which is which: train it longer (40 epochs or "
                "more), with Adam around 3e-3, and check that your encoding passed q1."
            )
        compare_reported(reported, scores, self.KEYS, tolerance=self.TOLERANCE, where=where, data="`x_test`")
        self.measured_note = (
            f"measured again {where}: plain {scores['plain']:.2f}, positional {scores['positional']:.2f} (you "
            f"measured {reported['plain']:.2f} and {reported['positional']:.2f}). The plain model gives a sequence "
            f"and its reverse the same probabilities (largest difference {gap['plain']:.1e}), so on pairs it is right "
            "exactly once per pair; the only thing that changed is the table you wrote."
        )

    def _reported(self, measured: Any) -> dict[str, float]:
        return reported_accuracies(measured, self.KEYS)


q1 = SinusoidalEncoding("q1")
q2 = AttentionPool("q2")
q3 = PositionExperiment("q3")
