"""Checks for the exercises of chapter 07 (the hybrid): ``from hybridvid_lib.exercises.ch07 import q1, q2, q3``.

- ``q1``: ``attention_pool(h, W, b, v) -> (context, weights)``: additive attention pooling in numpy,
  ``e_t = v . tanh(W h_t + b)``, ``a = softmax(e)`` over time, ``c = sum_t a_t h_t``. The check compares it with
  the library's :class:`~hybridvid_lib.layers.TemporalAttention` given the same weights, on sequences of its own
  draw, and names the usual slips: the softmax over the batch or the features instead of time, the ``tanh``
  left out, the scores returned instead of the weights, a mean over time instead of the weighted sum.
- ``q2``: ``center_step(centers, x, y, alpha) -> new centers``: Wen et al.'s update,
  ``c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)``. Compared with what the library's
  :class:`~hybridvid_lib.layers.CenterLoss` does to its centers in one training call; dividing by ``n_j``
  instead of ``1 + n_j``, the sign turned, ``alpha`` forgotten, a class absent from the batch moved, each get
  their own message.
- ``q3``: the measured experiment. Starting from :func:`toy_embeddings` (three classes, spread out) and centers
  at zero (as ``CenterLoss`` starts), the learner runs ``STEPS`` steps of center loss by hand: move the
  centers with ``center_step``, then every embedding down the center loss's gradient,
  ``x_i <- x_i - lr * lambda * (x_i - c_{y_i})``, and records the intra/inter ratio
  (:func:`hybridvid_lib.evaluation.embedding_spread_ratio`) before the first step and after each. The check
  runs the same experiment with the reference and compares the learner's numbers with its own.

TensorFlow is imported only by q1's and q2's checks, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe

__all__ = ["q1", "q2", "q3", "toy_embeddings", "attention_pool_reference", "center_step_reference",
           "center_loss_experiment", "STEPS", "LEARNING_RATE", "CENTER_WEIGHT", "ALPHA"]

#: q3's experiment: steps, the embeddings' learning rate, lambda and alpha.
STEPS = 20
LEARNING_RATE = 0.2
CENTER_WEIGHT = 1.0
ALPHA = 0.5


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ references
def attention_pool_reference(h: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray,
                             tanh: bool = True, axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The reference of q1 (``tanh`` and ``axis`` let the tests build known slips)."""
    hidden = h @ W + b
    scores = (np.tanh(hidden) if tanh else hidden) @ v  # (B, T)
    scores = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=axis, keepdims=True)
    return (weights[..., None] * h).sum(axis=1), weights


def center_step_reference(centers: np.ndarray, x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """The reference of q2: ``c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)`` for every class ``j``."""
    centers = np.asarray(centers, dtype=np.float64)
    onehot = np.eye(len(centers))[np.asarray(y)]  # (B, C)
    counts = onehot.sum(axis=0)
    pull = onehot.T @ (centers[y] - x)  # (C, D)
    return centers - alpha * pull / (1.0 + counts)[:, None]


def toy_embeddings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """q3's embeddings: 3 classes x 20 points in 2D, class means 3 apart, spread 1.2: ``(60, 2)`` and ``(60,)``."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 3.0], [2.6, -1.5], [-2.6, -1.5]])
    y = np.repeat(np.arange(3), 20)
    x = means[y] + rng.normal(0, 1.2, (60, 2))
    return x, y


def center_loss_experiment(center_step, x: np.ndarray, y: np.ndarray, *, steps: int = STEPS,
                           lr: float = LEARNING_RATE, weight: float = CENTER_WEIGHT, alpha: float = ALPHA,
                           return_points: bool = False):
    """q3 with a given ``center_step``: the intra/inter ratio before the first step and after each (``steps + 1``).

    With ``return_points`` also the embeddings after the last step: ``(ratios, x)``.
    """
    from hybridvid_lib.evaluation import embedding_spread_ratio

    x = np.array(x, dtype=np.float64)
    centers = np.zeros((int(np.max(y)) + 1, x.shape[1]))
    ratios = [embedding_spread_ratio(x, y)["ratio"]]
    for _ in range(steps):
        centers = np.asarray(center_step(centers, x, y, alpha), dtype=np.float64)
        x = x - lr * weight * (x - centers[y])
        ratios.append(embedding_spread_ratio(x, y)["ratio"])
    return (ratios, x) if return_points else ratios


# ------------------------------------------------------------------------------ q1 attention pooling
class AttentionPool(Question):
    """``attention_pool(h, W, b, v) -> (context (B, D), weights (B, T))``, as ``TemporalAttention`` computes it."""

    title = "Write additive attention pooling, and match the library's TemporalAttention"
    hints = (
        "Three lines: a hidden layer over every step (`h @ W + b`, then tanh) gives `(B, T, units)`; its dot product "
        "with `v` gives one score per step `(B, T)`; a softmax over the *steps* turns the scores into weights, and the "
        "context is the weighted sum of the steps.",
        "`scores = np.tanh(h @ W + b) @ v`; `weights = np.exp(scores - scores.max(axis=1, keepdims=True))`, divided "
        "by its sum over `axis=1`; `context = (weights[..., None] * h).sum(axis=1)`.",
    )
    solution_code = """
        def attention_pool(h, W, b, v):
            scores = np.tanh(h @ W + b) @ v                            # (B, T): one score per step
            scores = scores - scores.max(axis=1, keepdims=True)        # stable softmax
            weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)   # over time
            context = (weights[..., None] * h).sum(axis=1)             # (B, D)
            return context, weights
    """
    correct_note = (
        "your pooling gives the library layer's weights and context. The weights sum to 1 over the steps of each "
        "clip: they say how the clip's vector was mixed from its steps, which is what chapter 07 plots over the frames."
    )

    SHAPES = ((4, 5, 6, 3), (2, 9, 4, 5))  # (B, T, D, units)

    def check_answer(self, attention_pool) -> None:
        keras = _keras()
        from hybridvid_lib.layers import TemporalAttention

        rng = np.random.default_rng(7)
        for batch, steps, dim, units in self.SHAPES:
            h = rng.normal(0, 1, (batch, steps, dim)).astype(np.float32)
            W = rng.normal(0, 0.8, (dim, units)).astype(np.float32)
            b = rng.normal(0, 0.5, units).astype(np.float32)
            v = rng.normal(0, 1.5, units).astype(np.float32)
            layer = TemporalAttention(units)
            layer.build((None, steps, dim))
            layer.set_weights([W, b, v])
            want = layer(keras.ops.convert_to_tensor(h))
            want_c, want_a = np.asarray(want["context"], np.float64), np.asarray(want["weights"], np.float64)
            call = f"attention_pool(h, W, b, v) with h of shape {h.shape}, W {W.shape}"
            out = call_learner(attention_pool, h, W, b, v, name="attention_pool")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise IncorrectAnswer(f"`{call}` should return two arrays, `(context, weights)`; got {describe(out)}.")
            context, weights = (np.asarray(o, dtype=np.float64) for o in out)
            if weights.shape != (batch, steps):
                tip = " Did you return `(weights, context)`? The order is `(context, weights)`." \
                    if weights.shape == (batch, dim) else ""
                raise IncorrectAnswer(f"`{call}` should give weights of shape (B, T) = {(batch, steps)}, one per "
                                      f"step; got {weights.shape}.{tip}")
            if context.shape != (batch, dim):
                raise IncorrectAnswer(f"`{call}` should give a context of shape (B, D) = {(batch, dim)}, one vector "
                                      f"per clip; got {context.shape}.")
            if not np.allclose(weights.sum(axis=1), 1.0, atol=1e-4):
                if np.allclose(weights.sum(axis=0), 1.0, atol=1e-4):
                    raise IncorrectAnswer(
                        "your weights sum to 1 over the batch (axis 0), not over the steps: the softmax must run over "
                        "time (axis 1), so that each clip's weights say how its own steps are mixed. With a softmax "
                        "over the batch one clip's weights depend on the other clips in the batch.")
                if np.allclose(weights, np.tanh(h @ W + b) @ v, atol=1e-3):
                    raise IncorrectAnswer("your 'weights' are the raw scores `v . tanh(W h_t + b)`: turn them into "
                                          "weights with a softmax over the steps (positive, summing to 1 per clip).")
                raise IncorrectAnswer(f"the weights of each clip should sum to 1 over its {steps} steps (a softmax "
                                      f"over time); yours sum to {np.round(weights.sum(axis=1), 3).tolist()}.")
            if not np.allclose(weights, want_a, atol=1e-4):
                if np.allclose(weights, attention_pool_reference(h, W, b, v, tanh=False)[1], atol=1e-4):
                    raise IncorrectAnswer(
                        "your weights match a score without the tanh, `v . (W h_t + b)`: that is a linear function of "
                        "h_t, so the layer would collapse into one dot product. The additive score is "
                        "`v . tanh(W h_t + b)` (Bahdanau et al.).")
                raise IncorrectAnswer(
                    f"your weights differ from TemporalAttention's with the same W, b, v by up to "
                    f"{np.abs(weights - want_a).max():.3g}: score = `v . tanh(W h_t + b)` per step, then a softmax "
                    "over time.")
            if not np.allclose(context, want_c, atol=1e-4):
                if np.allclose(context, h.mean(axis=1), atol=1e-4):
                    raise IncorrectAnswer("your context is the plain mean over time: weight each step by its "
                                          "attention weight, `sum_t a_t h_t`.")
                raise IncorrectAnswer(
                    f"your weights are right, but the context differs from the layer's by up to "
                    f"{np.abs(context - want_c).max():.3g}: it is `sum_t a_t h_t`, the steps weighted and summed, "
                    "shape (B, D).")


# ------------------------------------------------------------------------------ q2 center update
class CenterStep(Question):
    """``center_step(centers, x, y, alpha) -> new centers``, as ``CenterLoss`` moves its centers in training."""

    title = "Update the class centers, as Wen et al.'s center loss does after each batch"
    hints = (
        "For each class j: gather the batch's samples of class j, sum `c_j - x_i` over them, divide by `1 + n_j` "
        "(n_j: how many there are) and move the center by `-alpha` times that. A class with no sample in the batch "
        "does not move.",
        "With a one-hot matrix `onehot = np.eye(C)[y]` (B, C): `pull = onehot.T @ (centers[y] - x)` is the sum per "
        "class, `counts = onehot.sum(axis=0)`; the new centers are `centers - alpha * pull / (1 + counts)[:, None]`.",
    )
    solution_code = """
        def center_step(centers, x, y, alpha):
            onehot = np.eye(len(centers))[y]                       # (B, C)
            counts = onehot.sum(axis=0)                            # n_j
            pull = onehot.T @ (centers[y] - x)                     # sum over class j's samples of (c_j - x_i)
            return centers - alpha * pull / (1.0 + counts)[:, None]
    """
    correct_note = (
        "your update moves the centers exactly as the library's CenterLoss does in a training step. The `1 + n_j` "
        "keeps a class seen once in a batch from jumping all the way to that one sample; a class absent from the "
        "batch stays where it is."
    )

    CASES = ((5, 4, 12, 0.5), (3, 2, 7, 1.0))  # (classes, D, batch, alpha)

    def check_answer(self, center_step) -> None:
        keras = _keras()
        from hybridvid_lib.layers import CenterLoss

        rng = np.random.default_rng(11)
        for classes, dim, batch, alpha in self.CASES:
            centers = rng.normal(0, 1, (classes, dim)).astype(np.float32)
            x = rng.normal(0, 2, (batch, dim)).astype(np.float32)
            y = rng.integers(0, classes - 1, batch)  # the last class is absent from the batch
            y[:3] = 0  # class 0 three times
            layer = CenterLoss(classes, weight=0.1, alpha=alpha)
            layer.build((None, dim))
            layer.set_weights([centers])
            layer(keras.ops.convert_to_tensor(x), labels=keras.ops.convert_to_tensor(y.astype(np.int32)),
                  training=True)
            want = np.asarray(layer.centers.numpy(), np.float64)
            call = f"center_step(centers {centers.shape}, x {x.shape}, y {y.shape}, alpha={alpha})"
            out = call_learner(center_step, centers.copy(), x.copy(), y.copy(), alpha, name="center_step")
            got = np.asarray(out, dtype=np.float64) if out is not None else None
            if got is None or got.shape != centers.shape:
                raise IncorrectAnswer(f"`{call}` should return the new centers, shape {centers.shape}; got "
                                      f"{describe(out)}.")
            if np.allclose(got, want, atol=1e-4):
                continue
            if np.allclose(got, centers, atol=1e-7):
                raise IncorrectAnswer(f"`{call}` returned the centers unchanged: compute and return the moved centers "
                                      "(if you changed an array in place, return it).")
            absent = classes - 1
            if not np.allclose(got[absent], centers[absent], atol=1e-5):
                raise IncorrectAnswer(f"class {absent} has no sample in this batch, yet its center moved: a center "
                                      "moves only by its own class's samples (the sum over `i: y_i = j` is empty).")
            onehot = np.eye(classes)[y]
            counts = onehot.sum(axis=0)
            pull = onehot.T @ (centers[y] - x)
            slips = {
                "sign": (centers + alpha * pull / (1 + counts)[:, None],
                         "your centers move away from their samples: the update subtracts `alpha * (c_j - x_i)`, so "
                         "a center moves toward its class's embeddings."),
                "n_j": (centers - alpha * pull / np.maximum(counts, 1)[:, None],
                        "you divide by `n_j`; Wen et al. divide by `1 + n_j`, so that a class seen once in a batch "
                        "moves only half-way (alpha times) toward that sample, and a rare class does not jump."),
                "alpha": (centers - pull / (1 + counts)[:, None],
                          f"your step is missing `alpha` ({alpha} here): it sets how fast the centers follow the "
                          "embeddings."),
                "mean": (centers - alpha * (centers - x.mean(axis=0)),
                         "every center moved toward the mean of the whole batch: each center follows only the "
                         "samples of its own class."),
            }
            for candidate, message in slips.values():
                if np.allclose(got, candidate, atol=1e-4):
                    raise IncorrectAnswer(message)
            raise IncorrectAnswer(
                f"after `{call}` your centers differ from CenterLoss's by up to {np.abs(got - want).max():.3g}: for "
                "each class j, `c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)`.")


# ------------------------------------------------------------------------------ q3 measured experiment
class CenterLossExperiment(Question):
    """``q3.check(ratios)``: the intra/inter ratios of q3's experiment, ``STEPS + 1`` numbers."""

    title = "Measure it: the intra/inter ratio under center loss, step by step"
    hints = (
        "Start with `x, y = toy_embeddings()` and `centers = np.zeros((3, 2))`. Record the ratio first. Then, "
        "`STEPS` times: move the centers with your `center_step` (alpha `ALPHA`), move every embedding toward its "
        "class's center by `LEARNING_RATE * CENTER_WEIGHT * (x - centers[y])`, record the ratio again.",
        "`ratios.append(embedding_spread_ratio(x, y)['ratio'])` after `centers = center_step(centers, x, y, ALPHA)` "
        "and `x = x - LEARNING_RATE * CENTER_WEIGHT * (x - centers[y])`.",
    )
    solution_code = """
        x, y = toy_embeddings()
        centers = np.zeros((3, 2))                                 # CenterLoss starts its centers at zero
        ratios = [embedding_spread_ratio(x, y)["ratio"]]
        for step in range(STEPS):
            centers = center_step(centers, x, y, ALPHA)
            x = x - LEARNING_RATE * CENTER_WEIGHT * (x - centers[y])   # the center loss's gradient on x
            ratios.append(embedding_spread_ratio(x, y)["ratio"])
    """

    TOLERANCE = 1e-3

    def check_answer(self, ratios) -> None:
        try:
            got = np.asarray(ratios, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise IncorrectAnswer(f"`ratios` should be a list of {STEPS + 1} numbers; got "
                                  f"{describe(ratios)}.") from None
        if len(got) != STEPS + 1:
            tip = " Record the ratio once before the first step too." if len(got) == STEPS else ""
            raise IncorrectAnswer(f"`ratios` should hold {STEPS + 1} numbers (before the first step and after each of "
                                  f"the {STEPS}); got {len(got)}.{tip}")
        x, y = toy_embeddings()
        want, moved = center_loss_experiment(center_step_reference, x, y, return_points=True)
        want = np.asarray(want)
        if abs(got[0] - want[0]) > self.TOLERANCE:
            raise IncorrectAnswer(f"your first ratio is {got[0]:.3f}; the embeddings as given have "
                                  f"{want[0]:.3f} (`embedding_spread_ratio(x, y)['ratio']` before any step).")
        off = np.nonzero(np.abs(got - want) > self.TOLERANCE)[0]
        if len(off):
            k = int(off[0])
            raise IncorrectAnswer(
                f"after step {k} your ratio is {got[k]:.3f}; the check, running the same experiment, measures "
                f"{want[k]:.3f}. Each step: centers first (`center_step`, alpha {ALPHA}), then every embedding moves "
                f"by `-{LEARNING_RATE} * {CENTER_WEIGHT} * (x - centers[y])`, then the ratio.")
        from hybridvid_lib.evaluation import embedding_spread_ratio

        before, after = embedding_spread_ratio(x, y), embedding_spread_ratio(moved, y)
        half = int(np.argmax(want <= (want[0] + want[-1]) / 2))
        self.measured_note = (
            f"measured again by the check: the ratio goes from {want[0]:.3f} to {want[-1]:.3f} in {STEPS} steps, "
            f"half of that fall within the first {half} (yours: {got[0]:.3f} to {got[-1]:.3f}). The distance within "
            f"a class went from {before['intra']:.2f} to {after['intra']:.3f}, the distance between class means from "
            f"{before['inter']:.2f} to {after['inter']:.2f} (the centers start at zero, so the first pulls draw "
            "every class a little inward). With nothing else in the loss the embeddings collapse onto their "
            "centers; in the hybrid the cross-entropy keeps the classes apart, and lambda sets the balance."
        )


q1 = AttentionPool("q1")
q2 = CenterStep("q2")
q3 = CenterLossExperiment("q3")
