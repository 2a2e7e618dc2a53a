"""Metrics on hand-computed cases, pair confusion, and the metrics.json schema."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from hybridvid_lib.evaluation import (
    collect_predictions,
    evaluate_predictions,
    load_metrics,
    metrics_document,
    pair_confusion,
    result_entry,
    softmax,
    summarize_runs,
    validate_metrics,
    write_evaluation,
    write_metrics,
)

ABC = ["a", "b", "c"]


def one_hot(indices, num_classes=3):
    return np.eye(num_classes)[np.asarray(indices)]


# --------------------------------------------------------------------------- evaluate_predictions
def test_perfect_predictions():
    y = np.array([0, 1, 2, 2])
    m = evaluate_predictions(y, one_hot(y), ABC)
    assert m["accuracy"] == 1.0
    assert m["macro_precision"] == m["macro_recall"] == m["macro_f1"] == 1.0
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    assert m["per_class_accuracy"] == {"a": 1.0, "b": 1.0, "c": 1.0}
    assert m["roc_auc_ovr_macro"] == 1.0 and m["roc_auc_note"] is None
    assert m["top_k_accuracy"] == {"top1": 1.0, "top5": 1.0}
    assert (m["num_samples"], m["num_classes"], m["class_names"]) == (4, 3, ABC)
    assert m["scores"] == "probabilities"
    json.dumps(m, allow_nan=False)  # JSON-ready as returned


def test_all_wrong_predictions():
    y = np.array([0, 1, 2])
    m = evaluate_predictions(y, one_hot([1, 2, 0]), ABC)
    assert m["accuracy"] == 0.0
    assert m["macro_f1"] == 0.0 and m["macro_precision"] == 0.0 and m["macro_recall"] == 0.0
    assert m["confusion_matrix"] == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert m["per_class_accuracy"] == {"a": 0.0, "b": 0.0, "c": 0.0}
    # each class: its positive scores 0, one negative scores 1 (loss) and one 0 (tie, counts 1/2)
    assert m["roc_auc_ovr_macro"] == pytest.approx(0.25)


def test_hand_computed_precision_recall_f1():
    # true a b c c, predicted a b c b: precision (1, 1/2, 1), recall (1, 1, 1/2), F1 (1, 2/3, 2/3)
    m = evaluate_predictions([0, 1, 2, 2], one_hot([0, 1, 2, 1]), ABC)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["macro_precision"] == pytest.approx(2.5 / 3)
    assert m["macro_recall"] == pytest.approx(2.5 / 3)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert m["per_class_accuracy"]["c"] == pytest.approx(0.5)


def test_class_absent_from_y_true_keeps_zero_row_and_none():
    y = np.array([0, 0, 1, 1])
    prob = np.array([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6]])
    m = evaluate_predictions(y, prob, ABC)
    assert m["per_class_accuracy"] == {"a": 0.5, "b": 0.5, "c": None}
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]
    # OvR AUC over the two present classes only.
    # a: positives score (0.7, 0.4), negatives (0.3, 0.2): 4 of 4 pairs ordered -> 1.0
    # b: positives (0.6, 0.2), negatives (0.2, 0.5): 0.6 beats both, 0.2 ties one (0.5) and loses one -> 2.5/4
    assert m["roc_auc_per_class"] == pytest.approx({"a": 1.0, "b": 0.625, "c": None})
    assert m["roc_auc_ovr_macro"] == pytest.approx((1.0 + 0.625) / 2)
    assert "2 of 3" in m["roc_auc_note"] and "c" in m["roc_auc_note"]


def test_auc_undefined_for_a_single_class():
    m = evaluate_predictions([1, 1, 1], one_hot([1, 0, 1]), ABC)
    assert m["roc_auc_ovr_macro"] is None
    assert all(v is None for v in m["roc_auc_per_class"].values())
    assert "single class" in m["roc_auc_note"]
    assert m["accuracy"] == pytest.approx(2 / 3)


def test_top_k_accuracy_and_cap_at_num_classes():
    # true class ranked 1st, 2nd, 3rd and 4th in the four rows
    prob = np.array([
        [0.4, 0.3, 0.2, 0.1],
        [0.4, 0.3, 0.2, 0.1],
        [0.4, 0.3, 0.2, 0.1],
        [0.4, 0.3, 0.2, 0.1],
    ])
    m = evaluate_predictions([0, 1, 2, 3], prob, list("abcd"), top_k=(1, 2, 3, 5))
    assert m["top_k_accuracy"] == {"top1": 0.25, "top2": 0.5, "top3": 0.75, "top5": 1.0}
    assert m["top_k_accuracy"]["top1"] == m["accuracy"]


def test_logits_go_through_softmax():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 3.0, -2.0], [-1.0, 0.0, 4.0], [1.0, 1.2, 0.0]])
    y = [0, 1, 2, 0]
    from_logits = evaluate_predictions(y, logits, ABC)
    from_probs = evaluate_predictions(y, softmax(logits), ABC)
    assert from_logits["scores"] == "logits" and from_probs["scores"] == "probabilities"
    assert softmax(logits).sum(axis=1) == pytest.approx(np.ones(4))
    for key in ("accuracy", "macro_f1", "roc_auc_ovr_macro", "confusion_matrix", "top_k_accuracy"):
        assert from_logits[key] == from_probs[key]
    assert from_logits["accuracy"] == 0.75


@pytest.mark.parametrize("y_true, y_prob, names, fragment", [
    ([0, 1], np.ones((3, 3)) / 3, ABC, "shape (N, C) = (2, 3)"),
    ([0, 3], np.ones((2, 3)) / 3, ABC, "[0, 3)"),
    ([0, -1], np.ones((2, 3)) / 3, ABC, "[0, 3)"),
    ([0.5, 1], np.ones((2, 3)) / 3, ABC, "whole-number"),
    ([], np.ones((0, 3)), ABC, "non-empty"),
    ([0, 1], np.array([[np.nan, 0, 0], [0, 1, 0]]), ABC, "finite"),
    ([0, 1], np.ones((2, 3)) / 3, ["a", "a", "b"], "distinct"),
    ([0, 0], np.ones((2, 1)), ["a"], "at least two"),
])
def test_bad_inputs_are_refused_with_a_sentence(y_true, y_prob, names, fragment):
    with pytest.raises(ValueError, match="expected|must|needs") as info:
        evaluate_predictions(np.asarray(y_true), y_prob, names)
    assert fragment in str(info.value)


def test_integral_float_labels_are_accepted():
    m = evaluate_predictions(np.array([0.0, 1.0, 2.0]), one_hot([0, 1, 2]), ABC)
    assert m["accuracy"] == 1.0


# --------------------------------------------------------------------------- pair_confusion
def test_pair_confusion_on_a_designed_case():
    names = ["SitDown", "StandUp", "Wave"]
    # SitDown x4: SitDown, SitDown, StandUp, StandUp; StandUp x4: StandUp, StandUp, SitDown, Wave; Wave x2 right
    y_true = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    y_pred = [0, 0, 1, 1, 1, 1, 0, 2, 2, 2]
    (row,) = pair_confusion(y_true, y_pred, names, [("SitDown", "StandUp")])
    assert row == {
        "a": "SitDown", "b": "StandUp", "num_samples": 8, "num_predicted_in_pair": 7, "within_pair_correct": 4,
        "within_pair_accuracy": pytest.approx(4 / 7), "accuracy": 0.5, "a_as_b": 2, "b_as_a": 1,
    }
    # Scores work as predictions too (arg-max).
    (from_scores,) = pair_confusion(y_true, one_hot(y_pred), names, [("StandUp", "SitDown")])
    assert (from_scores["a_as_b"], from_scores["b_as_a"]) == (1, 2)


def test_pair_confusion_without_samples_gives_none():
    (row,) = pair_confusion([2, 2], [2, 2], ["x", "y", "z"], [("x", "y")])
    assert row["num_samples"] == 0 and row["accuracy"] is None and row["within_pair_accuracy"] is None


@pytest.mark.parametrize("pairs, fragment", [
    ([("SitDown", "Jump")], "Unknown class 'Jump'"),
    ([("SitDown", "SitDown")], "two different classes"),
])
def test_pair_confusion_refuses_bad_pairs(pairs, fragment):
    with pytest.raises(ValueError, match=fragment):
        pair_confusion([0, 1], [0, 1], ["SitDown", "StandUp"], pairs)


# --------------------------------------------------------------------------- metrics.json
def good_metrics() -> dict:
    m = evaluate_predictions([0, 1, 2, 2], one_hot([0, 1, 2, 1]), ABC)
    entry = result_entry("cnn_lstm", "stickactions", m, params=1234, train_seconds=12.5, split=1,
                         final_train_loss=np.float32(0.25), skipped=[])
    return metrics_document("01_frames", "smoke", 0, [entry], num_epochs=1)


def test_result_entry_keys_and_numpy_conversion():
    doc = good_metrics()
    entry = doc["results"][0]
    assert list(entry)[:10] == ["model", "dataset", "split", "test_accuracy", "macro_f1", "macro_precision",
                                "macro_recall", "roc_auc_ovr_macro", "params", "train_seconds"]
    assert entry["test_accuracy"] == 0.75
    assert type(entry["final_train_loss"]) is float and entry["final_train_loss"] == 0.25
    assert entry["skipped"] == []
    assert doc["num_epochs"] == 1


def test_result_entry_refuses_to_overwrite_standard_keys():
    m = evaluate_predictions([0, 1], one_hot([0, 1]), ABC)
    with pytest.raises(ValueError, match="test_accuracy"):
        result_entry("m", "d", m, params=1, train_seconds=1.0, split=None, test_accuracy=0.1)


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _delete(doc, path):
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


@pytest.mark.parametrize("change, fragment", [
    (lambda d: _delete(d, ["results"]), "missing the key 'results'"),
    (lambda d: _delete(d, ["results", 0, "test_accuracy"]), "missing the key 'test_accuracy'"),
    (lambda d: _delete(d, ["results", 0, "params"]), "missing the key 'params'"),
    (lambda d: _set(d, ["results", 0, "test_accuracy"], 1.2), r"test_accuracy must be a number in \[0, 1\]"),
    (lambda d: _set(d, ["results", 0, "macro_f1"], -0.1), r"macro_f1 must be a number in \[0, 1\]"),
    (lambda d: _set(d, ["results", 0, "roc_auc_ovr_macro"], 1.5), "roc_auc_ovr_macro"),
    (lambda d: _set(d, ["results", 0, "test_accuracy"], "0.9"), "test_accuracy"),
    (lambda d: _set(d, ["results", 0, "final_train_loss"], math.nan), "final_train_loss must be a finite number"),
    (lambda d: _set(d, ["results", 0, "train_seconds"], math.inf), "train_seconds must be a finite number"),
    (lambda d: _set(d, ["results", 0, "train_seconds"], -1.0), "train_seconds must be a number >= 0"),
    (lambda d: _set(d, ["results", 0, "params"], 12.5), "params must be a whole number"),
    (lambda d: _set(d, ["results", 0, "model"], ""), "model must be a non-empty string"),
    (lambda d: _set(d, ["results", 0, "split"], "1"), "split must be a whole number or null"),
    (lambda d: _set(d, ["seed"], "0"), "seed must be a whole number"),
    (lambda d: _set(d, ["seed"], True), "seed must be a whole number"),
    (lambda d: _set(d, ["profile"], None), "profile must be a non-empty string"),
    (lambda d: _set(d, ["results"], {"model": "x"}), "results must be a list"),
    (lambda d: _set(d, ["results", 0], "cnn"), r"results\[0\] must be a dict"),
    (lambda d: _set(d, ["history"], {"loss": [1.0, math.nan]}), r"history.loss\[1\] must be a finite number"),
    (lambda d: _set(d, ["extra"], np.int64(3)), "must be a JSON value"),
])
def test_validate_metrics_rejects_each_kind_of_bad_document(change, fragment):
    doc = good_metrics()
    validate_metrics(doc)  # the unchanged document is fine
    bad = copy.deepcopy(doc)
    change(bad)
    with pytest.raises(ValueError, match=fragment):
        validate_metrics(bad)


def test_validate_metrics_refuses_non_dicts_and_allows_no_results():
    with pytest.raises(ValueError, match="must be a dict"):
        validate_metrics([])
    validate_metrics({"notebook": "00_data", "profile": "cpu", "seed": 1, "results": []})


def test_write_and_load_round_trip(tmp_path):
    doc = good_metrics()
    path = write_metrics(tmp_path / "out" / "metrics.json", doc)
    assert load_metrics(path) == doc
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]


def test_write_refuses_invalid_documents_and_writes_nothing(tmp_path):
    doc = good_metrics()
    doc["results"][0]["test_accuracy"] = 2.0
    with pytest.raises(ValueError, match="test_accuracy"):
        write_metrics(tmp_path / "metrics.json", doc)
    assert list(tmp_path.iterdir()) == []


def test_load_refuses_broken_or_invalid_files(tmp_path):
    (tmp_path / "broken.json").write_text('{"notebook": ')
    with pytest.raises(ValueError, match="not valid JSON"):
        load_metrics(tmp_path / "broken.json")
    (tmp_path / "bad.json").write_text(json.dumps({"notebook": "x", "profile": "cpu", "seed": 0}))
    with pytest.raises(ValueError, match="missing the key 'results'"):
        load_metrics(tmp_path / "bad.json")


def test_write_evaluation_keeps_full_metrics_and_provenance(tmp_path):
    m = evaluate_predictions([0, 1, 2], one_hot([0, 1, 1]), ABC)
    path = write_evaluation(tmp_path / "eval.json", m, model="c3d", dataset="stickactions", split=None,
                            profile="smoke", seed=3)
    saved = json.loads(path.read_text())
    assert saved["model"] == "c3d" and saved["seed"] == 3 and saved["split"] is None
    assert saved["metrics"]["confusion_matrix"] == m["confusion_matrix"]


# --------------------------------------------------------------------------- summarize_runs
def test_summarize_runs_numbers():
    s = summarize_runs([0.8, 0.9, 1.0])
    assert s["mean"] == pytest.approx(0.9)
    assert s["std"] == pytest.approx(0.1)  # sample std: sqrt((0.01 + 0 + 0.01) / 2)
    assert (s["min"], s["max"], s["n"]) == (0.8, 1.0, 3)
    assert summarize_runs([0.7]) == {"mean": 0.7, "std": 0.0, "min": 0.7, "max": 0.7, "n": 1}


@pytest.mark.parametrize("values", [[], [0.5, math.nan]])
def test_summarize_runs_refuses_empty_or_nan(values):
    with pytest.raises(ValueError):
        summarize_runs(values)


# --------------------------------------------------------------------------- predictions from a model
class _FixedModel:
    """Stands in for a Keras model: returns one-hot scores of the first pixel's value."""

    def predict_on_batch(self, inputs):
        return np.eye(3)[np.asarray(inputs)[:, 0].astype(int)]


def test_collect_predictions_stacks_batches():
    batches = [(np.array([[0], [1]]), np.array([0, 1])), (np.array([[2]]), np.array([1]))]
    y_true, y_prob = collect_predictions(_FixedModel(), batches)
    assert y_true.tolist() == [0, 1, 1]
    assert y_prob.shape == (3, 3)
    assert evaluate_predictions(y_true, y_prob, ABC)["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no batch"):
        collect_predictions(_FixedModel(), [])


def test_module_does_not_import_tensorflow():
    code = "import sys, hybridvid_lib.evaluation; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- skipped documents
def test_skipped_document_says_why_and_carries_no_results(tmp_path):
    from hybridvid_lib.evaluation import is_skipped, skipped_document

    reason = "No Kinetics checkpoint given; set CHECKPOINT to a .keras file to run this part."
    doc = skipped_document("06_kinetics", "cpu", 2, reason, checkpoint=None)
    assert doc == {"notebook": "06_kinetics", "profile": "cpu", "seed": 2, "results": [],
                   "status": "skipped", "reason": reason, "checkpoint": None}
    assert is_skipped(doc) and not is_skipped(good_metrics())
    path = write_metrics(tmp_path / "metrics.json", doc)
    assert load_metrics(path) == doc
    with pytest.raises(ValueError, match="a skipped document needs a reason"):
        skipped_document("06_kinetics", "cpu", 2, "  ")


@pytest.mark.parametrize("change, fragment", [
    (lambda d: _delete(d, ["reason"]), "a skipped document needs a reason"),
    (lambda d: _set(d, ["reason"], ""), "a skipped document needs a reason"),
    (lambda d: _set(d, ["reason"], ["no data"]), "a skipped document needs a reason"),
    (lambda d: _set(d, ["results"], good_metrics()["results"]), "a skipped document has an empty results list"),
    (lambda d: _set(d, ["status"], "done"), "status must be 'ok' or 'skipped'"),
    (lambda d: _set(d, ["status"], None), "status must be 'ok' or 'skipped'"),
])
def test_validate_metrics_rejects_bad_skipped_documents(change, fragment):
    doc = {"notebook": "06_kinetics", "profile": "cpu", "seed": 0, "results": [],
           "status": "skipped", "reason": "No checkpoint given."}
    validate_metrics(doc)  # the unchanged document is fine
    change(doc)
    with pytest.raises(ValueError, match=fragment):
        validate_metrics(doc)


def test_status_ok_is_the_default_and_may_be_written():
    doc = good_metrics()
    assert "status" not in doc
    validate_metrics({**doc, "status": "ok"})


# --------------------------------------------------------------------------- intervals, pairs, reversed clips
def test_wilson_interval_matches_the_published_formula_and_stays_inside_0_1():
    from hybridvid_lib.evaluation import rate_with_interval, wilson_interval

    # The roots of the quadratic |p - pi| = z sqrt(pi (1 - pi) / n) for 81 of 263, solved independently.
    low, high = wilson_interval(81, 263)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(10, 10)[0] < 1.0  # not zero-width at n of n
    wide, narrow = wilson_interval(9, 10), wilson_interval(900, 1000)
    assert wide[1] - wide[0] > 5 * (narrow[1] - narrow[0])  # more clips, a tighter claim
    assert rate_with_interval(92, 100) == "0.92 [0.85, 0.96], 92 of 100"
    assert rate_with_interval(0, 0) == "n/a, 0 of 0"
    with pytest.raises(ValueError, match="0 <= successes <= n"):
        wilson_interval(11, 10)


def test_pair_order_puts_each_pair_side_by_side_then_the_rest():
    from hybridvid_lib.evaluation import pair_order

    names = ["Wave", "StandUp", "GetUp", "SitDown", "LieDown", "Jump"]
    assert pair_order(names, [("SitDown", "StandUp"), ("LieDown", "GetUp")]) == [
        "SitDown", "StandUp", "LieDown", "GetUp", "Wave", "Jump"]
    with pytest.raises(ValueError, match="two pairs"):
        pair_order(names, [("SitDown", "StandUp"), ("StandUp", "GetUp")])


def test_reversal_swaps_counts_swaps_and_unchanged_predictions_per_pair():
    from hybridvid_lib.evaluation import reversal_swaps

    names = ["sit", "stand", "wave"]
    y_true = np.array([0, 0, 1, 1, 2])
    forward = np.array([0, 0, 1, 0, 2])
    backward = np.array([1, 0, 0, 0, 2])   # clips 0 and 2 swap, clips 1 and 3 do not change
    (row,) = reversal_swaps(y_true, forward, backward, names, [("sit", "stand")])
    assert row == {"a": "sit", "b": "stand", "num_samples": 4, "unchanged": 2, "swapped": 2}
    scores = np.eye(3)[backward]  # scores work as well as indices
    assert reversal_swaps(y_true, np.eye(3)[forward], scores, names, [("sit", "stand")]) == [row]


def test_pair_confusion_counts_the_right_answers_within_a_pair():
    rows = pair_confusion(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 2, 2]), ABC, [("a", "b")])
    assert rows[0]["num_predicted_in_pair"] == 3 and rows[0]["within_pair_correct"] == 2
    assert rows[0]["within_pair_accuracy"] == pytest.approx(2 / 3)


def test_average_per_index_averages_clips_of_one_video_in_order_of_appearance():
    from hybridvid_lib.evaluation import average_per_index

    index = np.array([5, 5, 2, 2, 9])
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.8], [0.4, 0.6], [1.0, 0.0]])
    labels, mean = average_per_index(index, np.array([1, 1, 0, 0, 1]), scores)
    assert labels.tolist() == [1, 0, 1]
    np.testing.assert_allclose(mean, [[0.5, 0.5], [0.3, 0.7], [1.0, 0.0]])
    with pytest.raises(ValueError, match="different labels"):
        average_per_index(index, np.array([1, 0, 0, 0, 1]), scores)
