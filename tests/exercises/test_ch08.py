"""Chapter 08 checks: the reference answers pass, and known-wrong answers fail with a message that teaches.

q4 judges Keras models, so its tests train three small LSTMs on in-memory sequences (seconds each).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import binomtest

from hybridvid_lib.exercises.ch08 import (
    EXAMPLE_LISTING, SEQ_CLASSES, SEQ_DIM, SEQ_STEPS, feature_sequences, q1, q2, q3, q4,
)
from hybridvid_lib.seeding import set_seed

from tests.support.exercises import solution_namespace as _solution


def test_importing_the_checks_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.exercises.ch08; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hints_do_not_give_the_answer_away():
    for question, code_words in ((q1, ["setdefault"]), (q2, ["binomtest("]), (q3, ["lambda"]),
                                 (q4, ["ddof=1"])):
        first = question.hint_text(1)
        assert not any(word in first for word in code_words), (question.name, first)


# ------------------------------------------------------------------ q1 leaky split
def test_q1_reference_passes_and_finds_the_leak_of_the_example():
    leaked_groups = _solution(q1)["leaked_groups"]
    result = q1.check(leaked_groups)
    assert result, result.message
    assert leaked_groups(EXAMPLE_LISTING) == {"g14"}


def _pairs_only(*pairs):
    def leaked_groups(listing):
        out = set()
        for a, b in pairs:
            out |= {g for _, g in listing[a]} & {g for _, g in listing[b]}
        return out
    return leaked_groups


@pytest.mark.parametrize("answer, fragment", [
    (_pairs_only(("train", "test")), "validation groups choose"),
    (_pairs_only(("train", "test"), ("val", "test")), "found nothing"),
    (lambda listing: {v for side in ("train", "test") for v, g in listing[side]
                      if g in {h for _, h in listing["test" if side == "train" else "train"]}}, "video names"),
    (lambda listing: {g for side, items in listing.items() for g in {h for _, h in items}
                      if sum(h == g for _, h in items) > 1}, "same* side are fine"),
    (lambda listing: "g03", "set of group names"),
])
def test_q1_known_wrong_answers_fail_with_a_reason(answer, fragment):
    result = q1.check(answer)
    assert not result and fragment in result.message, result.message


# ------------------------------------------------------------------ q2 paired test
def test_q2_reference_passes():
    result = q2.check(_solution(q2)["paired_test"])
    assert result, result.message


def _counts(a, b):
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    return int(np.sum(a & ~b)), int(np.sum(~a & b))


def _one_sided(a, b):
    x, y = _counts(a, b)
    return {"a_only": x, "b_only": y, "p_value": binomtest(x, x + y, 0.5, alternative="greater").pvalue}


def _all_videos(a, b):
    x, y = _counts(a, b)
    return {"a_only": x, "b_only": y, "p_value": binomtest(int(np.sum(a)), len(a), 0.5).pvalue}


def _unpaired(a, b):
    from scipy.stats import chi2_contingency

    x, y = _counts(a, b)
    table = [[int(np.sum(a)), len(a) - int(np.sum(a))], [int(np.sum(b)), len(b) - int(np.sum(b))]]
    return {"a_only": x, "b_only": y, "p_value": chi2_contingency(table)[1]}


def _swapped_counts(a, b):
    x, y = _counts(a, b)
    return {"a_only": y, "b_only": x, "p_value": 1.0}


@pytest.mark.parametrize("answer, fragment", [
    (_one_sided, "one-sided"),
    (_all_videos, "discordant ones only"),
    (_unpaired, "unpaired comparison"),
    (_swapped_counts, "exactly one model is right"),
    (lambda a, b: 0.05, "should return a dict"),
])
def test_q2_known_wrong_answers_fail_with_a_reason(answer, fragment):
    result = q2.check(answer)
    assert not result and fragment in result.message, result.message


# ------------------------------------------------------------------ q3 implied errors
def test_q3_reference_passes():
    ns = _solution(q3)
    result = q3.check(ns["errors_and_step"], ns["attainable"])
    assert result, result.message
    assert ns["attainable"] is False


@pytest.mark.parametrize("function, attainable, fragment", [
    (lambda a, n: (round(n * (1 - a)), 1 / n), False, "keep the exact"),
    (lambda a, n: (n * (100 - a), 1 / n), False, "accuracy is a fraction"),
    (lambda a, n: (n * (1 - a), 100 / n), False, "in percent"),
    (lambda a, n: (n * (1 - a), 1 / n), True, "no whole number of errors"),
    (lambda a, n: n * (1 - a), False, "two numbers"),
    (lambda a, n: (n * (1 - a), 1 / n), "no", "True or False"),
])
def test_q3_known_wrong_answers_fail_with_a_reason(function, attainable, fragment):
    result = q3.check(function, attainable)
    assert not result and fragment in result.message, result.message


# ------------------------------------------------------------------ q4 measured: seeds
def test_feature_sequences_are_fixed_draws():
    x, y = feature_sequences("train")
    assert x.shape == (16 * SEQ_CLASSES, SEQ_STEPS, SEQ_DIM) and x.dtype == np.float32
    assert np.array_equal(np.bincount(y), [16] * SEQ_CLASSES)
    assert np.array_equal(feature_sequences("check")[0], feature_sequences("check")[0])
    assert not np.allclose(feature_sequences("test")[0], feature_sequences("check")[0])
    with pytest.raises(ValueError, match="part is one of"):
        feature_sequences("val")


@pytest.fixture(scope="module")
def seed_models(keras):
    ns = _solution(q4, keras=keras, set_seed=set_seed, SEQ_STEPS=SEQ_STEPS, SEQ_DIM=SEQ_DIM,
                   SEQ_CLASSES=SEQ_CLASSES, x_train=feature_sequences("train")[0],
                   y_train=feature_sequences("train")[1], x_test=feature_sequences("test")[0],
                   y_test=feature_sequences("test")[1])
    return ns["models"], ns["measured"]


def test_q4_reference_passes(seed_models):
    models, measured = seed_models
    result = q4.check(models, measured)
    assert result, result.message
    assert "3 seeds" in result.message


def test_q4_population_std_is_named(seed_models):
    models, measured = seed_models
    wrong = dict(measured, std=float(np.std(measured["accuracies"])))
    result = q4.check(models, wrong)
    assert not result and "ddof=1" in result.message, result.message


def test_q4_one_model_three_times_is_refused(seed_models):
    models, measured = seed_models
    result = q4.check([models[0]] * 3, measured)
    assert not result and "same weights" in result.message, result.message


def test_q4_typed_numbers_are_refused(seed_models):
    models, measured = seed_models
    accs = [0.99, 0.98, 0.97]
    result = q4.check(models, {"accuracies": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs, ddof=1))})
    assert not result and "you reported 0.99" in result.message, result.message


def test_q4_untrained_models_are_refused(keras):
    models = []
    for seed in range(3):
        set_seed(seed)
        inputs = keras.Input((SEQ_STEPS, SEQ_DIM))
        models.append(keras.Model(inputs, keras.layers.Dense(SEQ_CLASSES, activation="softmax")(
            keras.layers.LSTM(4)(inputs))))
    accs = [0.25, 0.25, 0.25]
    result = q4.check(models, {"accuracies": accs, "mean": 0.25, "std": 0.0})
    assert not result and "has not learnt" in result.message, result.message
