"""Checks for the exercises of chapter 01 (CNN + LSTM): ``from hybridvid_lib.exercises.ch01 import q1, q2, q3, q4``.

- ``q1``: ``build_lstm_head(num_frames, feature_dim, num_classes) -> keras.Model``, ``(B, T, D)`` features to
  ``(B, C)`` probabilities through an LSTM. Besides shapes and probabilities, the check *trains* a fresh head for
  a few seconds on sequences whose two classes differ only in order (event A before event B, or the same
  sequences reversed) and measures it on held-out time-reversed pairs. An order-blind head (mean pooling), a
  head that ignores its input and an LSTM that is never trained all stay near 0.5 there; an LSTM head that
  learns passes.
- ``q2``: short videos. ``pad_with_mask(sequence (n, D), num_frames) -> (padded (T, D), mask (T,))`` and
  ``loop_clip(sequence, num_frames) -> (T, D)``, the kit's rule for short videos
  (:func:`hybridvid_lib.data.sampling.sample_indices`, ``short="loop"``). The check tests both on varied inputs,
  then measures them on a short SitDown skeleton: a masked LSTM gives the same answer on the padded clip as on the
  real frames, while the looped clip shows the sit-down again, with a jump back up between the repeats.
- ``q3``: read a confusion matrix (:func:`confusion_case`): ``most_confused_pair(cm, class_names)``, checked on
  the chapter's matrix and on others built to catch one-direction and diagonal mistakes, and the reason
  (a letter of :data:`REASON_CHOICES`).
- ``q4``: the measured experiment. The learner trains a mean-pooling head and an LSTM head on SitDown / StandUp
  skeleton sequences (:func:`sit_stand_skeletons`) and measures both; the check re-measures the learner's trained
  models on time-reversed pairs of actors that neither the training nor the test set has, and compares.

Skeleton sequences come from the StickActions generator in memory (:func:`~hybridvid_lib.data.synth.synthesize_clip`,
preset ``default``), so nothing needs a built dataset. TensorFlow and OpenCV are imported only when a check or
:func:`sit_stand_skeletons` runs, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np

from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe, reported_accuracies

__all__ = ["q1", "q2", "q3", "q4", "sit_stand_skeletons", "order_sequences", "confusion_case", "REASON_CHOICES",
           "SIT_STAND", "NUM_SKELETON_FEATURES"]

#: The two classes of the chapter's experiment, in label order (0, 1): StandUp is SitDown played backwards.
SIT_STAND: tuple[str, str] = ("SitDown", "StandUp")
#: Features per frame of :func:`sit_stand_skeletons`: x and y of the stick figure's 18 joints.
NUM_SKELETON_FEATURES = 36

_PRESET = "default"
# StickActions builds (generator seeds) the sequences come from. Another seed is another set of actors and
# scenes, so the three parts never share an actor: training, the learner's test pairs, the check's own pairs.
_BUILDS = {"train": 0, "test": 1, "check": 2}
_CHECK_GROUPS = 8  # the check's pairs: SitDown clips of actor groups 1-8 of build 2 (24 pairs)
_ORIGINS = ("clip", "first")


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ skeleton sequences
@functools.lru_cache(maxsize=512)
def _skeleton(class_name: str, build: int, group: int, clip: int) -> np.ndarray:
    """Joints ``(T, 18, 3)`` (x px, y px, confidence) of one StickActions clip, rendered once per process."""
    from hybridvid_lib.data.synth import synthesize_clip

    _, skeleton = synthesize_clip(class_name, preset=_PRESET, seed=build, group=group, clip=clip)
    skeleton.setflags(write=False)  # shared by every caller through the cache
    return skeleton


def _clips(class_name: str, build: int, groups: int | None = None) -> list[np.ndarray]:
    from hybridvid_lib.data.synth import get_preset

    preset = get_preset(_PRESET)
    last = preset.groups if groups is None else groups
    return [_skeleton(class_name, build, g, c)
            for g in range(1, last + 1) for c in range(1, preset.clips_per_group + 1)]


def _features(skeleton: np.ndarray, num_frames: int, origin: str, reverse: bool = False) -> np.ndarray:
    """``(num_frames, 36)`` float32 features of one clip: uniform frames, normalised as in the kit's pipeline.

    ``origin="clip"`` is exactly the pipeline's :func:`~hybridvid_lib.data.pipeline.joints.normalise` (centre on
    the pelvis averaged over the frames where it is seen, divide by the frame size, unseen joints 0), which treats
    every frame alike; ``origin="first"`` then moves the origin to the pelvis of the first frame where it is seen
    (as ST-GCN's NTU preprocessing does), which makes the first frame special.
    ``reverse`` plays the sampled frames backwards before normalising: the same frames, in the opposite order.
    """
    from hybridvid_lib.data.pipeline.joints import JointLayout, normalise
    from hybridvid_lib.data.sampling import sample_indices
    from hybridvid_lib.data.skeletons import STICK_FIGURE
    from hybridvid_lib.data.synth import get_preset

    height, width = get_preset(_PRESET).frame_size
    layout = JointLayout(num_joints=STICK_FIGURE.num_joints, coords=2, confidence=2, center=STICK_FIGURE.center,
                         scale=float(max(height, width)), default_origin=((width - 1) / 2, (height - 1) / 2),
                         mirror=tuple(int(i) for i in STICK_FIGURE.mirror_permutation()))
    clip = np.asarray(skeleton)[sample_indices(len(skeleton), num_frames, "uniform")]
    if reverse:
        clip = clip[::-1]
    joints = normalise(clip[..., None], layout)[..., 0]  # (T, J, 3)
    seen = joints[..., 2] > 0
    xy = joints[..., :2]
    if origin == "first":
        with_pelvis = np.flatnonzero(seen[:, layout.center])
        if len(with_pelvis):
            xy = (xy - xy[with_pelvis[0], layout.center]) * seen[..., None]
    return xy.reshape(num_frames, -1).astype(np.float32)


def _check_request(num_frames: Any, origin: Any) -> int:
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 2:
        raise ValueError(f"num_frames must be a whole number >= 2; got {num_frames!r}.")
    if origin not in _ORIGINS:
        raise ValueError(f"origin must be one of {', '.join(map(repr, _ORIGINS))}; got {origin!r}.")
    return int(num_frames)


def _reversed_pairs(build: int, num_frames: int, origin: str, groups: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every SitDown clip of ``build`` (label 0), each followed by the same clip reversed (label 1)."""
    xs = []
    for skeleton in _clips(SIT_STAND[0], build, groups):
        xs.append(_features(skeleton, num_frames, origin))
        xs.append(_features(skeleton, num_frames, origin, reverse=True))
    y = np.tile(np.array([0, 1], dtype=np.int64), len(xs) // 2)
    return np.stack(xs), y


def sit_stand_skeletons(part: str, num_frames: int, origin: str = "clip") -> tuple[np.ndarray, np.ndarray]:
    """SitDown / StandUp skeleton sequences, made in memory by the StickActions generator (preset ``default``).

    Args:
        part: ``"train"``: every SitDown and every StandUp clip of one StickActions build (generator seed 0,
            12 actor groups x 3 clips per class: 72 sequences). ``"test"``: time-reversed pairs of other actors
            (seed 1): each of its 36 SitDown clips followed by the same clip played backwards, labelled StandUp
            (72 sequences; rows ``2i`` and ``2i + 1`` are a pair). A StandUp clip *is* a SitDown clip played
            backwards (that is how StickActions makes the class), so a reversed SitDown is a fair StandUp.
        num_frames: frames per sequence, taken uniformly over each clip (``sample_indices(..., "uniform")``).
        origin: where the coordinates are centred. ``"clip"`` (default): the pelvis averaged over the clip.
            ``"clip"`` is what the kit's skeleton pipeline does (:func:`hybridvid_lib.data.pipeline.joints.normalise`).
            ``"first"``: the pelvis of the first frame (as ST-GCN's NTU preprocessing does); the first frame is
            then special, and even an order-blind model can read the direction of the movement from where the
            pelvis ends up.

    Returns:
        ``x``: ``(N, num_frames, 36)`` float32, per frame the x and y of the 18 joints divided by the frame size
        (128 px); joints the camera does not see (out of frame, behind an occluder) are 0.
        ``y``: ``(N,)`` int64, 0 for SitDown and 1 for StandUp (:data:`SIT_STAND`).

    Raises:
        ValueError: an unknown ``part`` or ``origin``, or ``num_frames`` below 2.

    Example::

        x_train, y_train = sit_stand_skeletons("train", num_frames=16)   # (72, 16, 36), (72,)
    """
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test'; got {part!r}.")
    num_frames = _check_request(num_frames, origin)
    if part == "test":
        return _reversed_pairs(_BUILDS["test"], num_frames, origin)
    xs, ys = [], []
    for label, name in enumerate(SIT_STAND):
        for skeleton in _clips(name, _BUILDS["train"]):
            xs.append(_features(skeleton, num_frames, origin))
            ys.append(label)
    return np.stack(xs), np.array(ys, dtype=np.int64)


def _short_sit_down(num_frames: int = 6) -> np.ndarray:
    """A short video's skeleton sequence: ``num_frames`` frames spread over one SitDown clip, ``(n, 36)``."""
    return _features(_skeleton(SIT_STAND[0], _BUILDS["test"], 1, 1), num_frames, "clip")


# ------------------------------------------------------------------------------ shared model checks
def _build(builder: Any, args: tuple[int, int, int], keras: Any) -> Any:
    call = f"build_lstm_head{args}"
    model = call_learner(builder, *args, name="build_lstm_head")
    if not isinstance(model, keras.Model):
        extra = (" Wrap it in a model: `keras.Model(inputs, outputs)`."
                 if isinstance(model, keras.layers.Layer) else "")
        raise IncorrectAnswer(f"`{call}` should return a keras.Model; got {describe(model)}.{extra}")
    return model


def _input_shape(model: Any, what: str) -> tuple:
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        shape = None
    if shape is None or not isinstance(shape, tuple) or (shape and isinstance(shape[0], tuple)):
        raise IncorrectAnswer(
            f"{what} needs one input of shape (B, T, D): start it with `keras.Input(shape=(num_frames, "
            "feature_dim))`; " + ("it has no defined input yet." if shape is None else f"its input is {shape!r}.")
        )
    return shape


def _check_input_shape(model: Any, what: str, num_frames: int, feature_dim: int) -> None:
    shape = _input_shape(model, what)
    if len(shape) != 3 or shape[1] not in (num_frames, None) or shape[2] != feature_dim:
        raise IncorrectAnswer(f"{what} should take input (B, T, D) = (None, {num_frames}, {feature_dim}); got {shape}.")


def _predict(model: Any, x: np.ndarray, name: str = "model") -> np.ndarray:
    out = call_learner(lambda inputs: model(inputs, training=False), x, name=name)
    if isinstance(out, (dict, list, tuple)):
        raise IncorrectAnswer(f"`{name}` should return one (B, C) tensor of probabilities; got {describe(out)}.")
    return np.asarray(out, dtype=np.float64)


def _check_probabilities(probs: np.ndarray, what: str, batch: int, num_classes: int, x_shape: tuple) -> None:
    if probs.shape != (batch, num_classes):
        raise IncorrectAnswer(
            f"for input (B, T, D) = {x_shape} {what} should output (B, num_classes) = {(batch, num_classes)}; "
            f"got {probs.shape}. The LSTM should return its last state (`return_sequences=False`) and the last "
            "layer needs `num_classes` units."
        )
    sums = probs.sum(axis=1)
    if np.any(probs < -1e-6) or not np.allclose(sums, 1.0, atol=1e-4):
        raise IncorrectAnswer(
            f"the outputs of {what} should be class probabilities: non-negative, each row summing to 1; row sums "
            f"were {np.round(sums, 3).tolist()}. Use `activation='softmax'` on the last Dense layer."
        )


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


def _pair_scores(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean probability given to the true class) of ``(N, 2)`` probabilities."""
    accuracy = float(np.mean(probs.argmax(axis=1) == y))
    confidence = float(np.mean(probs[np.arange(len(y)), y]))
    return accuracy, confidence


# ------------------------------------------------------------------------------ q1 LSTM head
def order_sequences(num: int, seed: int, *, pairs: bool, num_frames: int = 8, feature_dim: int = 6
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The order-only task of q1: noise plus event A at one frame and event B at a later one (class 0).

    Class 1 is class 0 played backwards (B before A). Every frame has the same distribution in both classes, so
    only the order tells them apart. ``pairs=True`` returns ``num`` sequences each followed by its own reverse
    (``2 * num`` rows); ``pairs=False`` ``num`` sequences, the second half reversed copies of fresh draws.

    Returns:
        ``x`` ``(N, num_frames, feature_dim)`` float32 and ``y`` ``(N,)`` int64.
    """
    codes = np.random.default_rng(2024).normal(size=(2, feature_dim))
    codes *= 2.5 / np.linalg.norm(codes, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.3, size=(num, num_frames, feature_dim)).astype(np.float32)
    for row in range(num):
        first, second = np.sort(rng.choice(num_frames, size=2, replace=False))
        x[row, first] += codes[0]
        x[row, second] += codes[1]
    if pairs:
        out = np.empty((2 * num, num_frames, feature_dim), dtype=np.float32)
        out[0::2], out[1::2] = x, x[:, ::-1]
        return out, np.tile(np.array([0, 1], dtype=np.int64), num)
    half = num // 2
    x[half:] = x[half:, ::-1]
    return x, (np.arange(num) >= half).astype(np.int64)


class LstmHead(Question):
    """``build_lstm_head(num_frames, feature_dim, num_classes)``: ``(B, T, D)`` -> ``(B, C)`` softmax, with an LSTM.

    The check seeds Keras (``keras.utils.set_random_seed(0)``) before it builds and trains the head, so the same
    code always gets the same verdict.
    """

    title = "Build an LSTM head that learns frame order"
    hints = (
        "A functional Keras model in three steps: an input for one clip's sequence of `num_frames` feature "
        "vectors, a layer that reads those vectors one after the other and keeps a summary of what it has seen, "
        "and a layer that turns that summary into `num_classes` probabilities.",
        "`keras.Input(shape=(num_frames, feature_dim))`; `keras.layers.LSTM(units)` returns its last state, shape "
        "(B, units); `keras.layers.Dense(num_classes, activation='softmax')`; `keras.Model(inputs, outputs)`.",
    )
    solution_code = """
        def build_lstm_head(num_frames, feature_dim, num_classes):
            inputs = keras.Input(shape=(num_frames, feature_dim))           # (B, T, D) per-frame features
            x = keras.layers.LSTM(64)(inputs)                               # (B, 64): reads frames in order
            outputs = keras.layers.Dense(num_classes, activation="softmax")(x)  # (B, C) probabilities
            return keras.Model(inputs, outputs, name="lstm_head")
    """

    SHAPES = ((6, 10, 4), (12, 3, 2))  # (T, D, C) the head is built with for the shape checks
    BATCH = 3
    ORDER_FRAMES, ORDER_DIM = 8, 6
    TRAIN_SEQUENCES, TEST_PAIRS = 256, 64
    EPOCHS, LEARNING_RATE, BATCH_SIZE = 15, 1e-2, 32
    MIN_ACCURACY = 0.9  # of the held-out sequences put in the right class
    MIN_CONFIDENCE = 0.75  # mean probability given to the right class: a trained head is right *and* sure

    def check_answer(self, build_lstm_head) -> None:
        keras = _keras()
        rng = np.random.default_rng(0)
        for t, d, c in self.SHAPES:
            call = f"build_lstm_head({t}, {d}, {c})"
            model = _build(build_lstm_head, (t, d, c), keras)
            _check_input_shape(model, f"the model of `{call}`", t, d)
            x = rng.normal(size=(self.BATCH, t, d)).astype(np.float32)
            _check_probabilities(_predict(model, x), f"the model of `{call}`", self.BATCH, c, x.shape)

        accuracy, confidence, seconds, model = self._train_on_order_task(build_lstm_head, keras)
        if not _has_lstm(model, keras):
            raise IncorrectAnswer(
                f"your head learned the order task ({accuracy:.2f} of the held-out sequences right) but has no "
                "LSTM layer; this exercise asks for `keras.layers.LSTM` (alone or inside "
                "`keras.layers.Bidirectional`)."
            )
        self.measured_note = (
            f"trained for {self.EPOCHS} epochs ({seconds:.0f} s) on sequences whose two classes differ only in "
            f"order, your head put {accuracy:.2f} of {2 * self.TEST_PAIRS} held-out sequences (a sequence and its "
            f"reverse, {self.TEST_PAIRS} pairs) in the right class, giving the right class {confidence:.2f} on "
            "average. A head that averages over time scores exactly 0.50 there, whatever it learns."
        )

    def _train_on_order_task(self, build_lstm_head: Any, keras: Any) -> tuple[float, float, float, Any]:
        t, d = self.ORDER_FRAMES, self.ORDER_DIM
        x_train, y_train = order_sequences(self.TRAIN_SEQUENCES, 1, pairs=False, num_frames=t, feature_dim=d)
        x_test, y_test = order_sequences(self.TEST_PAIRS, 2, pairs=True, num_frames=t, feature_dim=d)
        keras.utils.set_random_seed(0)
        model = _build(build_lstm_head, (t, d, 2), keras)
        task = (f"The check trained `build_lstm_head({t}, {d}, 2)` on sequences with event A before event B "
                "(class 0) or the same kind of sequence played backwards (class 1)")
        if not model.trainable_weights:
            raise IncorrectAnswer(
                f"{task}, but the model has no trainable weights (`trainable=False`?), so training cannot change "
                "it: an untrained head can only guess. Leave its layers trainable."
            )
        start = time.perf_counter()
        try:
            model.compile(optimizer=keras.optimizers.Adam(self.LEARNING_RATE), loss="sparse_categorical_crossentropy")
            model.fit(x_train, y_train, epochs=self.EPOCHS, batch_size=self.BATCH_SIZE, verbose=0)
        except Exception as err:  # the learner's model, so any error is feedback
            raise IncorrectAnswer(f"{task}; training it raised {type(err).__name__}: {err}") from None
        seconds = time.perf_counter() - start
        probs = _predict(model, x_test)
        accuracy, confidence = _pair_scores(probs, y_test)
        if accuracy >= self.MIN_ACCURACY and confidence >= self.MIN_CONFIDENCE:
            return accuracy, confidence, seconds, model
        result = (f"{task} for {self.EPOCHS} epochs; on {self.TEST_PAIRS} held-out pairs (a sequence and its "
                  f"reverse) it put {accuracy:.2f} in the right class, giving the right class {confidence:.2f} on "
                  f"average (needed: at least {self.MIN_ACCURACY} and {self.MIN_CONFIDENCE}).")
        if np.ptp(probs, axis=0).max() < 1e-3:
            why = (" It gives the same answer to every sequence: its output does not depend on its input. Connect "
                   "the layers to the `keras.Input` tensor, one after the other.")
        elif np.abs(probs[0::2] - probs[1::2]).max() < 1e-3:
            why = (" It gives the same answer to a sequence and to its reverse: something in it ignores the order "
                   "of the frames (averaging or pooling over time?), so it cannot learn the task. Let a "
                   "`keras.layers.LSTM` read the frames in order.")
        else:
            why = (" It answers differently when the order changes, yet it did not learn which order is which: "
                   "are all its recurrent layers trainable, and does the LSTM have enough units (8 or more)?")
        raise IncorrectAnswer(result + why)


# ------------------------------------------------------------------------------ q2 pad or loop
class ShortClips(Question):
    """``q2.check(pad_with_mask, loop_clip)``: two ways to make a short sequence ``num_frames`` long."""

    title = "Short videos: pad with a mask, or loop"
    hints = (
        "Both functions return `num_frames` rows. The padded clip starts out as nothing but padding, and the "
        "real frames are then written into its first rows; the mask records which rows got a real frame (it "
        "comes from the number of frames, not from their values). In the looped clip, row t shows some frame of "
        "the video: once t has run past the last frame, which one?",
        "`padded = np.zeros((num_frames, D), np.float32)`, `padded[:n] = sequence`, `mask = np.arange(num_frames) "
        "< n`. Looping: `sequence[np.arange(num_frames) % n]`.",
    )
    solution_code = """
        def pad_with_mask(sequence, num_frames):
            n = len(sequence)
            padded = np.zeros((num_frames,) + sequence.shape[1:], dtype=np.float32)
            padded[:n] = sequence                    # the real frames first, then zeros
            mask = np.arange(num_frames) < n         # True for a real frame
            return padded, mask

        def loop_clip(sequence, num_frames):
            return sequence[np.arange(num_frames) % len(sequence)]   # play it again from the start
    """

    # (n real frames, num_frames, D): a short skeleton, a one-frame video, a video exactly long enough, ...
    CASES = ((6, 16, 36), (1, 8, 4), (5, 5, 3), (3, 10, 2), (4, 9, 1))
    MEASURE_FRAMES, MEASURE_LENGTH = 6, 16

    def check_answer(self, pad_with_mask, loop_clip) -> None:
        from hybridvid_lib.data.sampling import sample_indices

        rng = np.random.default_rng(0)
        for n, t, d in self.CASES:
            sequence = (rng.normal(size=(n, d)) + 0.5).astype(np.float32)
            if n >= 3:
                sequence[1] = 0.0  # a real frame can be all zeros (a skeleton with every joint hidden)
            self._check_padding(pad_with_mask, sequence, t)
            expected = sequence[sample_indices(n, t, "uniform", short="loop")]
            self._check_loop(loop_clip, sequence, t, expected)
        self.measured_note = self._measure(pad_with_mask, loop_clip)

    @staticmethod
    def _check_padding(pad_with_mask: Any, sequence: np.ndarray, num_frames: int) -> None:
        n, d = sequence.shape
        call = f"pad_with_mask(sequence ({n}, {d}), {num_frames})"
        given = sequence.copy()
        out = call_learner(pad_with_mask, given, num_frames, name="pad_with_mask")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise IncorrectAnswer(f"`{call}` should return two things, `(padded, mask)`; got {describe(out)}.")
        padded, mask = (_as_array(v, call, what) for v, what in zip(out, ("padded", "mask")))
        if not np.array_equal(given, sequence):
            raise IncorrectAnswer(f"`{call}` changed the sequence it was given; build a new array instead.")
        if padded.shape != (num_frames, d):
            raise IncorrectAnswer(f"`{call}` should return `padded` of shape (num_frames, D) = {(num_frames, d)}; "
                                  f"got shape {padded.shape}.")
        if not np.issubdtype(padded.dtype, np.floating):
            raise IncorrectAnswer(f"`{call}`: `padded` should hold floats, like the features; got {padded.dtype}.")
        if not np.array_equal(padded[:n], sequence):
            raise IncorrectAnswer(f"`{call}`: the first {n} rows of `padded` should be the {n} real frames, in "
                                  "their order.")
        if np.any(padded[n:] != 0):
            raise IncorrectAnswer(
                f"`{call}`: rows {n} to {num_frames - 1} of `padded` should be padding, zeros (what "
                "`keras.layers.Masking` recognises); some are not. Copies of real frames are looping, not padding."
            )
        if mask.shape != (num_frames,):
            raise IncorrectAnswer(f"`{call}` should return `mask` of shape (num_frames,) = ({num_frames},); got "
                                  f"shape {mask.shape}.")
        if mask.dtype != bool and not np.isin(mask, (0, 1)).all():
            raise IncorrectAnswer(f"`{call}`: `mask` should hold True/False (or 1/0); got values "
                                  f"{np.unique(mask)[:5].tolist()}.")
        expected = np.arange(num_frames) < n
        if not np.array_equal(mask.astype(bool), expected):
            zeros = (f" Frame 2 of this sequence is all zeros yet real (a skeleton whose joints are all hidden): "
                     f"count the frames rather than test their values." if n >= 3 and not mask.astype(bool)[1]
                     else "")
            raise IncorrectAnswer(
                f"`{call}`: `mask` should be True for the {n} real frames and False for the {num_frames - n} padded "
                f"ones, {expected.astype(int).tolist()} as 1/0; got {mask.astype(int).tolist()}.{zeros}"
            )

    @staticmethod
    def _check_loop(loop_clip: Any, sequence: np.ndarray, num_frames: int, expected: np.ndarray) -> None:
        n, d = sequence.shape
        call = f"loop_clip(sequence ({n}, {d}), {num_frames})"
        given = sequence.copy()
        looped = _as_array(call_learner(loop_clip, given, num_frames, name="loop_clip"), call, "the clip")
        if not np.array_equal(given, sequence):
            raise IncorrectAnswer(f"`{call}` changed the sequence it was given; build a new array instead.")
        if looped.shape != (num_frames, d):
            raise IncorrectAnswer(f"`{call}` should return shape (num_frames, D) = {(num_frames, d)}; got "
                                  f"{looped.shape}.")
        if not np.array_equal(looped, expected):
            rows = [int(np.flatnonzero((sequence == row).all(axis=1))[0]) if (sequence == row).all(axis=1).any()
                    else None for row in looped]
            wanted = [int(i) for i in np.arange(num_frames) % n]
            shown = ", ".join("?" if r is None else str(r) for r in rows)
            raise IncorrectAnswer(
                f"`{call}` should show the video's frames {wanted} (the video plays again from its first frame, "
                f"as the kit's `sample_indices(..., short='loop')` does); your rows show frames [{shown}] "
                "('?': not a frame of the video)."
            )

    def _measure(self, pad_with_mask: Any, loop_clip: Any) -> str:
        """What the two clips of a short SitDown mean to a model: the sentence of the "Correct" banner."""
        from hybridvid_lib.tf_setup import silenced_stderr_fd

        keras = _keras()
        n, t = self.MEASURE_FRAMES, self.MEASURE_LENGTH
        short = _short_sit_down(n)
        padded, mask = (np.asarray(v) for v in call_learner(pad_with_mask, short.copy(), t, name="pad_with_mask"))
        looped = np.asarray(call_learner(loop_clip, short.copy(), t, name="loop_clip"), dtype=np.float32)
        # An LSTM with fixed random weights: what it keeps of a clip (its last state) is what a head classifies.
        lstm = keras.layers.LSTM(8, kernel_initializer=keras.initializers.GlorotUniform(seed=1),
                                 recurrent_initializer=keras.initializers.Orthogonal(seed=2))

        def summary(x: np.ndarray, m: np.ndarray | None = None) -> np.ndarray:
            kwargs = {} if m is None else {"mask": np.asarray(m, dtype=bool)[None]}
            with silenced_stderr_fd():  # oneDNN logs a line about boolean masks on CPUs without AVX-512
                return np.asarray(lstm(x[None].astype(np.float32), **kwargs), dtype=np.float64)[0]

        real = summary(short)
        masked_gap = float(np.abs(summary(padded, mask) - real).max())
        unmasked_gap = float(np.abs(summary(padded) - real).max())
        looped_gap = float(np.abs(summary(looped) - real).max())
        pelvis_y = looped[:, 1]  # feature 1: y of the pelvis (image y grows downwards)
        descent = float(np.ptp(short[:, 1]))
        steps = np.diff(pelvis_y)
        jumps = np.flatnonzero(-steps > descent / 2)  # the pelvis going up by more than half the descent at once
        biggest = float(-steps[jumps].min()) if len(jumps) else 0.0
        return (
            f"a {n}-frame SitDown made {t} frames long. Padded, with the mask, an LSTM keeps exactly what it keeps of "
            f"the {n} real frames alone (its last state differs by {masked_gap:.2g}; without the mask by "
            f"{unmasked_gap:.2f}, looped by {looped_gap:.2f}). Looped, the "
            f"figure starts to sit down {len(jumps) + 1} times, and between repeats its pelvis jumps back up by "
            f"{biggest:.2f} of the frame in a single frame ({descent:.2f}: the whole descent), a stand-up that "
            "never happened."
        )


def _as_array(value: Any, call: str, what: str) -> np.ndarray:
    if value is None or isinstance(value, (str, bytes, dict)):
        raise IncorrectAnswer(f"`{call}`: {what} should be an array; got {describe(value)}.")
    try:
        return np.asarray(value)  # NumPy arrays and eager TensorFlow tensors alike
    except Exception:
        raise IncorrectAnswer(f"`{call}`: {what} should be an array; got {describe(value)}.") from None


# ------------------------------------------------------------------------------ q3 confusion matrix
_CONFUSION_CLASSES = ("JumpingJack", "PointLeft", "PointRight", "SitDown", "StandUp", "Wave")
# Rows: true class, columns: predicted class; 20 test videos per class. Made up for the exercise, with the kind of
# errors a single-frame CNN makes on StickActions.
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


def _confusion_cases() -> list[tuple[str, np.ndarray, list[str], frozenset]]:
    """(what the case tests, cm, names, the most confused pair) for q3's check, the chapter's case first."""
    cm, names = confusion_case()
    cases = [("the matrix above", cm, names, _CONFUSED_PAIR)]
    # One direction alone is largest for (A, C), both directions together for (A, B).
    cases.append(("a matrix whose largest single error (9, A as C) is not in the most confused pair",
                  np.array([[30, 5, 9], [5, 40, 0], [0, 0, 50]]), ["A", "B", "C"], frozenset({"A", "B"})))
    # The largest cells are on the diagonal: correct predictions are not confusions.
    cases.append(("a matrix whose largest cells are correct predictions",
                  np.array([[90, 1], [3, 70]]), ["left", "right"], frozenset({"left", "right"})))
    rng = np.random.default_rng(7)
    big = rng.integers(0, 4, size=(12, 12))
    np.fill_diagonal(big, 60)
    big[9, 2], big[2, 9] = 6, 7  # the pair (2, 9): 13 errors; every other pair has at most 6
    big_names = [f"class{i:02d}" for i in range(12)]
    cases.append(("a 12-class matrix", big, big_names, frozenset({"class02", "class09"})))
    return cases


class ConfusionReading(Question):
    """``q3.check(most_confused_pair, reason)``: a function that reads any confusion matrix, and a reason letter."""

    title = "Read a confusion matrix"
    hints = (
        "A confusion is a video of one class predicted as another: only cells off the diagonal count. Two classes "
        "are confused in two directions, and both count towards the pair.",
        "`sym = cm + cm.T` adds the two directions; set its diagonal to 0 (`np.fill_diagonal`), then "
        "`np.unravel_index(sym.argmax(), sym.shape)` gives the row and column of the pair. For the reason: compare "
        "a SitDown clip with a StandUp clip frame by frame.",
    )
    solution_code = """
        def most_confused_pair(cm, class_names):
            sym = cm + cm.T                        # errors in both directions of each pair
            np.fill_diagonal(sym, 0)               # correct predictions are not confusions
            i, j = np.unravel_index(sym.argmax(), sym.shape)
            return class_names[i], class_names[j]

        reason = "b"    # time-reverses: the same frames in the opposite order
    """
    correct_note = (
        "SitDown and StandUp are the same poses in opposite order; only a model that reads frame order "
        "(the LSTM of this chapter) can separate them."
    )

    def check_answer(self, most_confused_pair, reason) -> None:
        for what, cm, names, pair in _confusion_cases():
            call = f"most_confused_pair(cm, class_names) for {what}"
            answer = call_learner(most_confused_pair, cm.copy(), list(names), name="most_confused_pair")
            self._check_pair(answer, call, cm, names, pair)
        if not isinstance(reason, str) or reason.strip().lower() not in REASON_CHOICES:
            raise IncorrectAnswer(
                f"your function finds the pair. `reason` should be one letter of {', '.join(REASON_CHOICES)}; got "
                f"{reason!r}."
            )
        letter = reason.strip().lower()
        if letter != _CORRECT_REASON:
            raise IncorrectAnswer(f"your function finds the pair, but not reason {letter!r}: "
                                  f"{_WRONG_REASON_FEEDBACK[letter]}")

    @staticmethod
    def _check_pair(answer: Any, call: str, cm: np.ndarray, names: list[str], pair: frozenset) -> None:
        if isinstance(answer, str) or not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise IncorrectAnswer(f"`{call}` should return two class names, e.g. `({names[0]!r}, {names[1]!r})`; "
                                  f"got {describe(answer)}.")
        for item in answer:
            if not isinstance(item, str) or item not in names:
                tip = (" Return names, `class_names[i]`, not indices." if isinstance(item, (int, np.integer))
                       else "")
                raise IncorrectAnswer(f"`{call}` returned {item!r}, which is not one of the class names "
                                      f"{names}.{tip}")
        a, b = answer
        if a == b:
            raise IncorrectAnswer(
                f"`{call}` returned {a!r} twice: the diagonal counts videos that were classified *correctly*; a "
                "confusion is a cell off the diagonal."
            )
        if frozenset(answer) != pair:
            i, j = names.index(a), names.index(b)
            k, m = (names.index(n) for n in sorted(pair, key=names.index))
            raise IncorrectAnswer(
                f"`{call}` returned ({a!r}, {b!r}), confused {cm[i, j] + cm[j, i]} times (cm[{i}, {j}] + "
                f"cm[{j}, {i}]); ({names[k]!r}, {names[m]!r}) is confused {cm[k, m] + cm[m, k]} times. Count "
                "both directions of each pair."
            )


# ------------------------------------------------------------------------------ q4 the measured experiment
class MeanVsLstm(Question):
    """``q4.check(mean_head, lstm_head, measured)``: two trained heads and the learner's measured accuracies.

    ``measured`` is ``{"mean_head": float, "lstm_head": float}``: each head's accuracy on the test pairs of
    :func:`sit_stand_skeletons`. The check never trusts these numbers: it measures both models again on its own
    pairs (other actors) and requires an order-blind mean head, an LSTM head that is right (>= 0.9) and sure
    about it, and reported numbers within 0.1 of its own.
    """

    title = "Measure it: a mean head against an LSTM head on skeletons"
    hints = (
        "Three pieces. A head that is blind to order by construction: it summarises the sequence over time with "
        "an operation that does not care about the order, then classifies. Training: tell the model which "
        "optimizer and which loss for integer labels to use, then fit it on the training sequences. Measuring: "
        "the share of test sequences whose most probable class is the true one.",
        "`keras.layers.GlobalAveragePooling1D()` averages over time. `model.compile(optimizer=keras.optimizers."
        "Adam(1e-2), loss='sparse_categorical_crossentropy')`, then `model.fit(x, y, epochs=20, batch_size=16, "
        "verbose=0)`. Accuracy: `float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))`.",
    )
    solution_code = """
        def build_mean_head(num_frames, feature_dim, num_classes):
            inputs = keras.Input(shape=(num_frames, feature_dim))
            x = keras.layers.GlobalAveragePooling1D()(inputs)          # (B, D): the order is gone
            outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
            return keras.Model(inputs, outputs, name="mean_head")

        def train_head(model, x, y):
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=20, batch_size=16, verbose=0)
            return model

        def pair_accuracy(model, x, y):
            return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))

        mean_head = train_head(build_mean_head(T, D, 2), x_train, y_train)
        lstm_head = train_head(build_lstm_head(T, D, 2), x_train, y_train)
        measured = {"mean_head": pair_accuracy(mean_head, x_test, y_test),
                    "lstm_head": pair_accuracy(lstm_head, x_test, y_test)}
    """

    KEYS = ("mean_head", "lstm_head")
    MIN_LSTM_ACCURACY = 0.9
    MAX_MEAN_ACCURACY = 0.7
    MIN_CONFIDENCE = 0.75  # mean probability of the right class: a trained LSTM is right and sure
    TOLERANCE = 0.1  # reported vs re-measured accuracy (two different sets of actors)
    DEFAULT_FRAMES = 16  # for a model whose input leaves T open

    def check_answer(self, mean_head, lstm_head, measured) -> None:
        keras = _keras()
        frames = {}
        for key, model in zip(self.KEYS, (mean_head, lstm_head)):
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`{key}` should be a trained keras.Model; got {describe(model)}.")
            shape = _input_shape(model, f"`{key}`")
            if len(shape) != 3 or shape[2] != NUM_SKELETON_FEATURES:
                raise IncorrectAnswer(
                    f"`{key}` should take the skeleton sequences, (B, T, D) with D = {NUM_SKELETON_FEATURES} "
                    f"as in `x_train`; its input is {shape}."
                )
            frames[key] = shape[1] or self.DEFAULT_FRAMES
        reported = self._reported(measured)

        scores, probs = {}, {}
        for key, model in zip(self.KEYS, (mean_head, lstm_head)):
            x, y = _reversed_pairs(_BUILDS["check"], frames[key], "clip", groups=_CHECK_GROUPS)
            probs[key] = _predict(model, x, name=key)
            _check_probabilities(probs[key], f"`{key}`", len(x), 2, x.shape)
            scores[key] = _pair_scores(probs[key], y)
        num_pairs = len(y) // 2
        where = (f"on {num_pairs} time-reversed pairs ({2 * num_pairs} sequences) of actors that are in neither "
                 "your training nor your test set")

        order_gap = float(np.abs(probs["mean_head"][0::2] - probs["mean_head"][1::2]).max())
        if order_gap > 1e-3:
            raise IncorrectAnswer(
                f"`mean_head` gives different answers to a sequence and to the same sequence reversed (by up to "
                f"{order_gap:.2g}), so it is not blind to order: it should summarise the frames by their average "
                "before classifying. (Passed the two heads the other way round? The order is "
                "`q4.check(mean_head, lstm_head, measured)`.)"
            )
        if not _has_lstm(lstm_head, keras):
            raise IncorrectAnswer("`lstm_head` has no LSTM layer; build it with your `build_lstm_head`.")
        accuracy, confidence = scores["lstm_head"]
        if accuracy < self.MIN_LSTM_ACCURACY or confidence < self.MIN_CONFIDENCE:
            raise IncorrectAnswer(
                f"measured {where}, `lstm_head` put {accuracy:.2f} of them in the right class, giving the right "
                f"class {confidence:.2f} on average; a trained LSTM head reaches at least {self.MIN_LSTM_ACCURACY} "
                f"and {self.MIN_CONFIDENCE}. An untrained one is near 0.5 on both (when it is right, it is right "
                "by luck, and by a hair). Did `train_head` fit the model it returns, and for enough epochs?"
            )
        if scores["mean_head"][0] > self.MAX_MEAN_ACCURACY:  # impossible for an order-blind head; kept as a guard
            raise IncorrectAnswer(f"`mean_head` scored {scores['mean_head'][0]:.2f} {where}; an order-blind head "
                                  "cannot beat 0.5 on time-reversed pairs.")
        for key in self.KEYS:
            ours, theirs = scores[key][0], reported[key]
            if abs(ours - theirs) > self.TOLERANCE:
                raise IncorrectAnswer(
                    f"you reported {theirs:.2f} for `{key}`, but measured {where} it scores {ours:.2f}. Compute "
                    "`measured` from the predictions of these very models on `x_test` (never type the numbers), "
                    "and check which number belongs to which head."
                )
        self.measured_note = (
            f"measured again {where}: mean head {scores['mean_head'][0]:.2f}, LSTM head {accuracy:.2f} "
            f"(you measured {reported['mean_head']:.2f} and {reported['lstm_head']:.2f}). The mean head gives a "
            "clip and its reverse the same answer, so on pairs it is right exactly once per pair: 0.50, however "
            "long it trains."
        )

    def _reported(self, measured: Any) -> dict[str, float]:
        return reported_accuracies(measured, self.KEYS)


q1 = LstmHead("q1")
q2 = ShortClips("q2")
q3 = ConfusionReading("q3")
q4 = MeanVsLstm("q4")
