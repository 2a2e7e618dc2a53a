"""Chapter 01 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q1 and q4 judge what a head *learns*, so their tests train small models (seconds each): an untrained LSTM, a
mean-pooling head and a head that ignores its input must fail, a trained LSTM head must pass.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.exercises.ch01 import (
    NUM_SKELETON_FEATURES, REASON_CHOICES, SIT_STAND, confusion_case, order_sequences, q1, q2, q3, q4,
    sit_stand_skeletons,
)

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch01; print('tensorflow' in sys.modules, 'cv2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


# ------------------------------------------------------------------ q1 LSTM head
def _head(keras, middle, activation="softmax", input_dim_extra=0, sequential=False, before=None,
          dense_trainable=True):
    def build(num_frames, feature_dim, num_classes):
        layers = [middle(), keras.layers.Dense(num_classes, activation=activation, trainable=dense_trainable)]
        if sequential:
            return keras.Sequential(layers)  # no Input: the model has no defined input
        inputs = keras.Input(shape=(num_frames, feature_dim + input_dim_extra))
        x = inputs if before is None else before()(inputs)
        for layer in layers:
            x = layer(x)
        return keras.Model(inputs, x)

    return build


def test_order_task_classes_differ_only_in_order():
    x, y = order_sequences(5, seed=3, pairs=True)
    assert x.shape == (10, 8, 6) and x.dtype == np.float32 and y.tolist() == [0, 1] * 5
    np.testing.assert_array_equal(x[1::2], x[0::2, ::-1])  # each pair: a sequence and its reverse
    x, y = order_sequences(6, seed=3, pairs=False)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.slow
def test_q1_reference_and_bidirectional_heads_pass_by_what_they_learn(keras):
    result = q1.check(_solution(q1, keras=keras)["build_lstm_head"])
    assert result, result.message
    assert "in the right class" in result.message and "exactly 0.50" in result.message
    assert q1.check(_head(keras, lambda: keras.layers.Bidirectional(keras.layers.LSTM(8))))


@pytest.mark.parametrize("case, expected_words", [
    ("no-softmax", ["class probabilities", "activation='softmax'"]),
    ("sequences", ["(B, num_classes) = (3, 4); got (3, 6, 4)", "return_sequences=False"]),
    ("no-input", ["needs one input of shape (B, T, D)", "keras.Input(shape=(num_frames, feature_dim))"]),
    ("wrong-dim", ["should take input (B, T, D) = (None, 6, 10); got (None, 6, 11)"]),
    ("layer", ["should return a keras.Model", "Wrap it in a model"]),
])
def test_q1_malformed_heads_fail_before_any_training(keras, case, expected_words):
    builders = {
        "no-softmax": _head(keras, lambda: keras.layers.LSTM(4), activation=None),
        "sequences": _head(keras, lambda: keras.layers.LSTM(4, return_sequences=True)),
        "no-input": _head(keras, lambda: keras.layers.LSTM(4), sequential=True),
        "wrong-dim": _head(keras, lambda: keras.layers.LSTM(4), input_dim_extra=1),
        "layer": lambda t, d, c: keras.layers.LSTM(c),
    }
    result = q1.check(builders[case])
    assert not result
    for words in expected_words:
        assert words in result.message


def test_an_untrained_lstm_changes_its_answer_when_the_frames_are_reversed(keras):
    # Why "the output changes under reversal" proves nothing: random weights do it too.
    model = _solution(q1, keras=keras)["build_lstm_head"](8, 6, 2)
    x, _ = order_sequences(4, seed=0, pairs=False)
    assert np.abs(np.asarray(model(x)) - np.asarray(model(x[:, ::-1]))).max() > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("case, expected_words", [
    ("mean-pooling", ["needed: at least 0.9 and 0.75", "same answer to a sequence and to its reverse",
                      "averaging or pooling over time"]),
    ("ignores-input", ["same answer to every sequence", "does not depend on its input"]),
    ("untrained-lstm", ["no trainable weights", "cannot change it"]),
    ("lstm-never-trained", ["needed: at least 0.9 and 0.75", "did not learn which order is which",
                            "recurrent layers trainable"]),
    ("gru", ["learned the order task", "has no LSTM layer"]),
])
def test_q1_heads_that_do_not_learn_order_fail(keras, case, expected_words):
    def frozen(t, d, c):
        model = _solution(q1, keras=keras)["build_lstm_head"](t, d, c)
        model.trainable = False
        return model

    builders = {
        "mean-pooling": _head(keras, keras.layers.GlobalAveragePooling1D),
        # An LSTM that reads zeros, whatever the input: its output cannot depend on the sequence.
        "ignores-input": _head(keras, lambda: keras.layers.LSTM(8),
                               before=lambda: keras.layers.Lambda(lambda z: keras.ops.zeros_like(z))),
        "untrained-lstm": frozen,
        # The LSTM keeps its random weights and only the Dense layer on top of it trains.
        "lstm-never-trained": _head(keras, lambda: keras.layers.LSTM(64, trainable=False)),
        "gru": _head(keras, lambda: keras.layers.GRU(16)),
    }
    result = q1.check(builders[case])
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q1_an_error_while_building_is_reported_not_raised(keras):
    def build_lstm_head(num_frames, feature_dim, num_classes):
        inputs = keras.Input(shape=(num_frames, feature_dim))
        return keras.layers.LSTM(8)(inputs, bogus=1)

    result = q1.check(build_lstm_head)
    assert not result
    assert result.message.startswith("calling `build_lstm_head(6, 10, 4)` raised TypeError")
    assert "line 3 of `build_lstm_head`" in result.message


def test_q1_first_hint_does_not_give_the_layers_away():
    first = q1.hint_text(1)
    assert "LSTM" not in first and "Dense" not in first and "softmax" not in first


# ------------------------------------------------------------------ q2 pad with a mask, or loop
def _reference_q2():
    names = _solution(q2)
    return names["pad_with_mask"], names["loop_clip"]


def test_q2_reference_passes_and_reports_what_it_measured(keras):
    result = q2.check(*_reference_q2())
    assert result, result.message
    assert "its last state differs by 0;" in result.message  # masked: exactly the real frames' answer
    assert "starts to sit down 3 times" in result.message  # 6 frames looped into 16: 0-5, 0-5, 0-3
    assert "a stand-up that never happened" in result.message


def test_q2_accepts_a_mask_of_ones_and_zeros_and_tensorflow_arrays(keras):
    import tensorflow as tf

    pad, loop = _reference_q2()
    assert q2.check(lambda s, t: (tf.constant(pad(s, t)[0]), pad(s, t)[1].astype(np.float32)),
                    lambda s, t: tf.gather(s, tf.range(t) % len(s)))


def _loop_rows(sequence, num_frames):
    return sequence[np.arange(num_frames) % len(sequence)]


def _pad_front(sequence, num_frames):
    padded = np.zeros((num_frames, sequence.shape[1]), np.float32)
    padded[num_frames - len(sequence):] = sequence
    return padded, np.arange(num_frames) >= num_frames - len(sequence)


def _pad_mask_from_values(sequence, num_frames):
    padded = np.zeros((num_frames, sequence.shape[1]), np.float32)
    padded[:len(sequence)] = sequence
    return padded, np.abs(padded).sum(axis=1) > 0


def _pad_with_last_frame(sequence, num_frames):  # the kit's short="pad": not zeros
    padded = sequence[np.minimum(np.arange(num_frames), len(sequence) - 1)]
    return padded, np.arange(num_frames) < len(sequence)


def _pad_in_place(sequence, num_frames):
    sequence *= 1.5
    return _reference_q2()[0](sequence, num_frames)


@pytest.mark.parametrize("pad, loop, expected_words", [
    (lambda s, t: (_loop_rows(s, t), np.ones(t, bool)), None, ["should be padding, zeros", "looping, not padding"]),
    (_pad_front, None, ["the first 6 rows of `padded` should be the 6 real frames"]),
    (_pad_mask_from_values, None, ["`mask` should be True for the 6 real frames", "all zeros yet real",
                                   "count the frames"]),
    (_pad_with_last_frame, None, ["should be padding, zeros"]),
    (lambda s, t: _reference_q2()[0](s, t)[0], None, ["should return two things, `(padded, mask)`"]),
    (lambda s, t: (_reference_q2()[0](s, t)[0], np.arange(t) < len(s) + 1), None, ["`mask` should be True"]),
    (_pad_in_place, None, ["changed the sequence it was given"]),
    (None, lambda s, t: s[np.minimum(np.arange(t), len(s) - 1)],
     ["should show the video's frames [0, 1, 2, 3, 4, 5, 0, 1,", "your rows show frames [0, 1, 2, 3, 4, 5, 5, 5,"]),
    (None, lambda s, t: np.concatenate([s, s[::-1]] * t)[:t],
     ["your rows show frames [0, 1, 2, 3, 4, 5, 5, 4,"]),
    (None, lambda s, t: np.full((t, s.shape[1]), 7.0, np.float32), ["'?': not a frame of the video"]),
], ids=["pads-by-looping", "pads-at-the-front", "mask-from-values", "repeats-last-frame", "no-mask",
        "mask-one-too-long", "changes-its-input", "loop-repeats-last", "loop-ping-pong", "loop-made-up-rows"])
def test_q2_wrong_answers_fail_with_a_teaching_message(keras, pad, loop, expected_words):
    ref_pad, ref_loop = _reference_q2()
    result = q2.check(pad or ref_pad, loop or ref_loop)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q2_unwritten_functions_say_so():
    def pad_with_mask(sequence, num_frames):
        raise NotImplementedError

    result = q2.check(pad_with_mask, _reference_q2()[1])
    assert not result and "is not written yet" in result.message


# ------------------------------------------------------------------ q3 confusion matrix
def test_q3_case_has_one_clearly_most_confused_pair():
    cm, names = confusion_case()
    assert cm.shape == (len(names), len(names)) and (cm.sum(axis=1) == 20).all()
    sym = cm + cm.T
    np.fill_diagonal(sym, 0)
    i, j = np.unravel_index(sym.argmax(), sym.shape)
    assert {names[i], names[j]} == {"SitDown", "StandUp"}
    assert set(REASON_CHOICES) == {"a", "b", "c", "d"}


def _reference_pair_reader():
    return _solution(q3)["most_confused_pair"]


@pytest.mark.parametrize("reason", ["b", "B "])
def test_q3_reference_passes(reason):
    assert q3.check(_reference_pair_reader(), reason)
    assert _solution(q3)["reason"] == "b"


def test_q3_either_order_and_lists_are_accepted():
    reader = _reference_pair_reader()
    assert q3.check(lambda cm, names: list(reader(cm, names))[::-1], "b")


def _one_direction(cm, names):
    off = cm.copy()
    np.fill_diagonal(off, 0)
    i, j = np.unravel_index(off.argmax(), off.shape)
    return names[i], names[j]


def _with_diagonal(cm, names):
    sym = cm + cm.T
    i, j = np.unravel_index(sym.argmax(), sym.shape)
    return names[i], names[j]


def _indices(cm, names):
    sym = cm + cm.T
    np.fill_diagonal(sym, 0)
    return tuple(int(k) for k in np.unravel_index(sym.argmax(), sym.shape))


@pytest.mark.parametrize("reader, reason, expected_words", [
    (_one_direction, "b", ["largest single error (9, A as C)", "returned ('A', 'C'), confused 9 times",
                           "('A', 'B') is confused 10 times", "Count both directions"]),
    (_with_diagonal, "b", ["returned 'JumpingJack' twice", "classified *correctly*"]),
    (_indices, "b", ["returned 3, which is not one of the class names", "not indices"]),
    (lambda cm, names: ("SitDown", "StandUp"), "b", ["for a matrix whose largest single error",
                                                     "returned 'SitDown', which is not one of the class names"]),
    (lambda cm, names: names[0], "b", ["should return two class names", "got a str"]),
    (None, "e", ["one letter of a, b, c, d; got 'e'"]),
    (None, "a", ["not reason 'a'", "balanced"]),
    (None, "c", ["not reason 'c'", "not mirror images"]),
    (None, "d", ["not reason 'd'", "specific to this pair"]),
], ids=["one-direction", "diagonal", "indices", "hard-coded", "one-name", "letter-e", "reason-a", "reason-c",
        "reason-d"])
def test_q3_wrong_answers_fail_with_a_teaching_message(reader, reason, expected_words):
    result = q3.check(reader or _reference_pair_reader(), reason)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


def test_q3_needs_both_answers():
    result = q3.check(_reference_pair_reader())
    assert not result and "needs 2 answers (most_confused_pair, reason)" in result.message


def test_q3_first_hint_does_not_give_the_code_away():
    first = q3.hint_text(1)
    assert "cm.T" not in first and "argmax" not in first and "fill_diagonal" not in first


# ------------------------------------------------------------------ q4 the measured experiment
FRAMES = 8  # the smoke profile's sequence length: the quickest to train


def test_sit_stand_skeletons_come_from_the_generator_as_documented():
    x_train, y_train = sit_stand_skeletons("train", FRAMES)
    x_test, y_test = sit_stand_skeletons("test", FRAMES)
    assert x_train.shape == (72, FRAMES, NUM_SKELETON_FEATURES) and x_train.dtype == np.float32
    assert np.bincount(y_train).tolist() == [36, 36] and SIT_STAND == ("SitDown", "StandUp")
    assert x_test.shape == (72, FRAMES, NUM_SKELETON_FEATURES) and y_test.tolist() == [0, 1] * 36
    np.testing.assert_allclose(x_test[1::2], x_test[0::2, ::-1], atol=1e-6)  # time-reversed pairs
    # Centred on the pelvis (features 0 and 1) averaged over each clip, in fractions of the frame.
    pelvis = x_train[:, :, :2]
    assert np.abs(pelvis.mean(axis=1)).max() < 0.02 and np.abs(x_train).max() < 1.0
    assert not any(np.array_equal(a, b) for a in x_test[::2] for b in x_train)  # other actors
    first, _ = sit_stand_skeletons("train", FRAMES, origin="first")
    np.testing.assert_allclose(first[:, 0, :2], 0.0, atol=1e-6)  # origin="first": the first frame's pelvis


@pytest.mark.parametrize("args, words", [
    (("val", 8), "part must be 'train' or 'test'"),
    (("train", 1), "num_frames must be a whole number >= 2"),
    (("train", 8, "last"), "origin must be one of 'clip', 'first'"),
])
def test_sit_stand_skeletons_refuses_bad_requests(args, words):
    with pytest.raises(ValueError, match=words):
        sit_stand_skeletons(*args)


@pytest.fixture(scope="module")
def experiment(keras):
    """The reference solution of q4 run once: trained heads, the learner's test data and measured accuracies."""
    from hybridvid_lib.seeding import set_seed

    x_train, y_train = sit_stand_skeletons("train", FRAMES)
    x_test, y_test = sit_stand_skeletons("test", FRAMES)
    set_seed(0)
    names = _solution(q4, keras=keras, build_lstm_head=_solution(q1, keras=keras)["build_lstm_head"],
                      T=FRAMES, D=x_train.shape[2], x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    set_seed(1)
    untrained = names["build_lstm_head"](FRAMES, NUM_SKELETON_FEATURES, 2)
    names["untrained_lstm"] = untrained
    names["untrained_accuracy"] = names["pair_accuracy"](untrained, x_test, y_test)
    return names


@pytest.mark.slow
def test_q4_reference_experiment_passes_and_the_numbers_are_the_lesson(experiment):
    measured = experiment["measured"]
    assert measured["mean_head"] == 0.5  # order-blind on time-reversed pairs: right once per pair, exactly
    assert measured["lstm_head"] >= 0.9
    result = q4.check(experiment["mean_head"], experiment["lstm_head"], measured)
    assert result, result.message
    assert "mean head 0.50, LSTM head" in result.message


@pytest.mark.slow
def test_q4_swapped_heads_fail(experiment):
    measured = {"mean_head": experiment["measured"]["lstm_head"], "lstm_head": experiment["measured"]["mean_head"]}
    result = q4.check(experiment["lstm_head"], experiment["mean_head"], measured)
    assert not result
    assert "not blind to order" in result.message and "other way round" in result.message


@pytest.mark.slow
@pytest.mark.parametrize("reported", ["honest", "faked"])
def test_q4_an_untrained_lstm_fails_whatever_numbers_come_with_it(experiment, reported):
    lstm_number = experiment["untrained_accuracy"] if reported == "honest" else 1.0
    measured = {"mean_head": 0.5, "lstm_head": lstm_number}
    result = q4.check(experiment["mean_head"], experiment["untrained_lstm"], measured)
    assert not result
    assert "a trained LSTM head reaches at least 0.9" in result.message
    assert "Did `train_head` fit the model it returns" in result.message


@pytest.mark.slow
@pytest.mark.parametrize("measured, expected_words", [
    ({"mean_head": 0.5, "lstm_head": 0.6}, ["you reported 0.60 for `lstm_head`", "never type the numbers"]),
    ({"mean_head": 1.0, "lstm_head": 0.5}, ["you reported 1.00 for `mean_head`", "which number belongs"]),
    ([0.5, 1.0], ["should be a dict of your two accuracies", "got a list of 2 items"]),
    ({"mean": 0.5, "lstm": 1.0}, ["should be a dict with the keys ['mean_head', 'lstm_head']"]),
    ({"mean_head": 0.5, "lstm_head": 97}, ["a number in [0, 1]"]),
    ({"mean_head": 0.5, "lstm_head": "high"}, ["a number in [0, 1]"]),
])
def test_q4_reported_numbers_must_match_the_models(experiment, measured, expected_words):
    result = q4.check(experiment["mean_head"], experiment["lstm_head"], measured)
    assert not result
    for words in expected_words:
        assert words in result.message, result.message


@pytest.mark.slow
def test_q4_heads_of_the_wrong_kind_or_shape_fail(experiment, keras):
    mean, lstm = experiment["mean_head"], experiment["lstm_head"]
    result = q4.check(mean, mean, {"mean_head": 0.5, "lstm_head": 0.5})
    assert not result and "`lstm_head` has no LSTM layer" in result.message

    inputs = keras.Input(shape=(FRAMES, 10))
    wrong_dim = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    result = q4.check(mean, wrong_dim, experiment["measured"])
    assert not result and "D = 36 as in `x_train`" in result.message

    result = q4.check(mean, "lstm_head", experiment["measured"])
    assert not result and "should be a trained keras.Model" in result.message


def test_q4_first_hint_does_not_give_the_code_away():
    first = q4.hint_text(1)
    assert "GlobalAveragePooling1D" not in first and "compile(" not in first and "argmax" not in first
