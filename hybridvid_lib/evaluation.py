"""Evaluation: metrics from predictions, and the ``metrics.json`` every notebook and run writes.

Predictions come in as plain arrays, so this module never imports TensorFlow::

    from hybridvid_lib.evaluation import evaluate_predictions, result_entry, metrics_document, write_metrics

    y_true, y_prob = collect_predictions(model, pipeline.dataset)      # (N,) int, (N, C) float
    metrics = evaluate_predictions(y_true, y_prob, pipeline.class_names)
    entry = result_entry("cnn_lstm", "stickactions", metrics, params=model.count_params(),
                         train_seconds=120.5, split=1)
    write_metrics(OUTPUT_DIR / "metrics.json", metrics_document("01_frames", PROFILE, SEED, [entry]))

scikit-learn computes the confusion matrix, precision / recall / F1 and ROC-AUC; numpy does the rest.
The ``metrics.json`` schema (checked by :func:`validate_metrics`)::

    {"notebook": str, "profile": str, "seed": int,
     "results": [{"model": str, "dataset": str, "split": int | null,
                  "test_accuracy": float in [0, 1], "macro_f1": float in [0, 1],
                  "macro_precision": ..., "macro_recall": ..., "roc_auc_ovr_macro": float | null,
                  "params": int, "train_seconds": float, ...extras}, ...],
     "status": "ok" | "skipped" (optional, "ok" when absent), "reason": str (required when skipped),
     ...extras}

Every number anywhere in the document must be finite (a NaN loss is refused, not written).
A notebook that cannot run in this setting (no checkpoint given, an optional dataset absent) writes
:func:`skipped_document` instead: ``"status": "skipped"``, a one-sentence ``reason`` and no results;
the course runner records such a run as skipped, not failed.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

from hybridvid_lib.io_utils import atomic_write_json

# Rows of y_prob summing to 1 within this tolerance (and inside [0, 1]) are taken as probabilities.
PROBABILITY_TOLERANCE = 1e-3

RESULT_KEYS = ("model", "dataset", "split", "test_accuracy", "macro_f1", "macro_precision",
               "macro_recall", "roc_auc_ovr_macro", "params", "train_seconds")
DOCUMENT_KEYS = ("notebook", "profile", "seed", "results")
# A document's optional "status": absent means "ok"; "skipped" needs a "reason" and no results.
STATUS_OK = "ok"
STATUS_SKIPPED = "skipped"
DOCUMENT_STATUSES = (STATUS_OK, STATUS_SKIPPED)


# --------------------------------------------------------------------------- inputs
def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, C)`` scores, computed stably in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def is_probability_matrix(scores: np.ndarray, tol: float = PROBABILITY_TOLERANCE) -> bool:
    """True when every entry of ``(N, C)`` ``scores`` is in [0, 1] and every row sums to 1 within ``tol``."""
    s = np.asarray(scores, dtype=np.float64)
    return bool(
        np.all(s >= -tol) and np.all(s <= 1 + tol) and np.all(np.abs(s.sum(axis=1) - 1.0) <= tol)
    )


def prepare_predictions(
    y_true: Any, y_prob: Any, class_names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Check and convert predictions; shared by the metrics here and the plots in :mod:`hybridvid_lib.viz`.

    Args:
        y_true: ``(N,)`` whole-number class indices in ``[0, C)`` (any integer dtype, or integral floats).
        y_prob: ``(N, C)`` class probabilities; rows that are not probabilities (an entry outside
            [0, 1] or a row sum off 1 by more than 1e-3) are taken as logits and go through softmax.
        class_names: ``C`` distinct names, index ``i`` naming column ``i``.

    Returns:
        ``(y_true (N,) int64, probabilities (N, C) float64, softmax_applied)``.

    Raises:
        ValueError: on any shape, range or type mismatch, with one sentence saying what was expected.
    """
    names = list(class_names)
    if len(names) < 2:
        raise ValueError(f"Evaluation needs at least two class names; got {names!r}.")
    if len(set(names)) != len(names):
        raise ValueError(f"Class names must be distinct; got {names!r}.")
    labels = np.asarray(y_true)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"y_true must be a non-empty 1-D array of class indices, shape (N,); got shape {labels.shape}."
        )
    if labels.dtype.kind not in "iub":
        if labels.dtype.kind != "f" or not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError(f"y_true must hold whole-number class indices; got dtype {labels.dtype}.")
    labels = labels.astype(np.int64)
    num_classes = len(names)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"y_true must hold class indices in [0, {num_classes}) for {num_classes} class names; "
            f"got values from {labels.min()} to {labels.max()}."
        )
    scores = np.asarray(y_prob)
    if scores.dtype.kind not in "fiu":
        raise ValueError(f"y_prob must be a numeric (N, C) array; got dtype {scores.dtype}.")
    if scores.shape != (labels.shape[0], num_classes):
        raise ValueError(
            f"y_prob must have shape (N, C) = ({labels.shape[0]}, {num_classes}) to match y_true and "
            f"class_names; got {scores.shape}."
        )
    scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError("y_prob must hold finite numbers; it contains NaN or infinity.")
    if is_probability_matrix(scores):
        return labels, scores, False
    return labels, softmax(scores), True


def predicted_labels(y_prob: np.ndarray) -> np.ndarray:
    """``(N, C)`` scores -> ``(N,)`` int64 arg-max (the first class on a tie)."""
    return np.asarray(y_prob).argmax(axis=1).astype(np.int64)


def collect_predictions(model: Any, dataset: Iterable, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Run ``model`` over a dataset of ``(features, labels)`` batches; return ``(y_true (N,), y_prob (N, C))``.

    ``features`` may be one tensor or a pipeline's dict (the model gets the inputs it names).
    The model's probabilities are its output, or the ``probs`` entry of a dict output. When
    the features carry ``index`` (every kit pipeline), the scores of elements with the same
    index (several test-time clips of one video) are averaged, and ``N`` counts videos, in
    the order they first appear.
    """
    from tqdm.auto import tqdm

    from hybridvid_lib.models.registry import output_probs
    from hybridvid_lib.training import model_inputs

    labels: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    for features, batch_labels in tqdm(dataset, desc="predict", unit="batch", disable=not progress):
        outputs = model.predict_on_batch(model_inputs(features, model))
        scores.append(np.asarray(output_probs(outputs)))
        labels.append(np.asarray(batch_labels).reshape(-1))
        if isinstance(features, dict) and "index" in features:
            indices.append(np.asarray(features["index"]).reshape(-1))
    if not labels:
        raise ValueError("The dataset yielded no batch, so there is nothing to evaluate.")
    y_true, y_prob = np.concatenate(labels), np.concatenate(scores, axis=0)
    if not indices:
        return y_true, y_prob
    return average_per_index(np.concatenate(indices), y_true, y_prob)


def average_per_index(index: np.ndarray, y_true: np.ndarray, y_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the ``(N, C)`` scores of elements sharing an ``index`` (clips of one video).

    Returns:
        ``(labels (V,), scores (V, C))`` for the ``V`` distinct indices in order of first appearance.

    Raises:
        ValueError: elements of one index carry different labels.
    """
    order, first, inverse = np.unique(index, return_index=True, return_inverse=True)
    sums = np.zeros((len(order), y_prob.shape[1]), np.float64)
    np.add.at(sums, inverse, y_prob)
    counts = np.bincount(inverse, minlength=len(order))[:, None]
    labels = y_true[first]
    if np.any(labels[inverse] != y_true):
        raise ValueError("Clips of one video carry different labels; expected one label per index.")
    appearance = np.argsort(first, kind="stable")
    return labels[appearance], (sums / counts)[appearance]


# --------------------------------------------------------------------------- metrics
def top_k_accuracy(y_true: np.ndarray, y_prob: np.ndarray, k: int) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores (``k`` capped at ``C``).

    Ties are broken towards the lower class index, as :func:`numpy.argmax` does, so top-1 equals
    the accuracy of :func:`predicted_labels`.
    """
    if int(k) < 1:
        raise ValueError(f"k must be a whole number >= 1; got {k}.")
    k = min(int(k), y_prob.shape[1])
    ranked = np.argsort(-np.asarray(y_prob), axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(ranked == np.asarray(y_true)[:, None], axis=1)))


def roc_auc_one_vs_rest(
    y_true: np.ndarray, y_prob: np.ndarray, class_names: Sequence[str]
) -> tuple[float | None, dict[str, float | None], str | None]:
    """One-vs-rest ROC-AUC per class and their macro mean over the classes present in ``y_true``.

    Returns:
        ``(macro or None, {class: auc or None}, note)``. A class absent from ``y_true`` has no
        positives, so its AUC is ``None``; with fewer than two classes present no AUC exists and the
        macro is ``None``. ``note`` says why something is ``None`` (``None`` when every class has an AUC).
    """
    present = np.unique(y_true)
    per_class: dict[str, float | None] = {name: None for name in class_names}
    if len(present) < 2:
        only = class_names[int(present[0])]
        return None, per_class, (
            f"ROC-AUC is undefined: y_true holds a single class ({only!r}), so there are no negatives."
        )
    for c in present:
        per_class[class_names[int(c)]] = float(roc_auc_score(y_true == c, y_prob[:, c]))
    macro = float(np.mean([per_class[class_names[int(c)]] for c in present]))
    missing = [name for name, auc in per_class.items() if auc is None]
    note = None
    if missing:
        note = (f"ROC-AUC averaged over the {len(present)} of {len(class_names)} classes present in y_true; "
                f"no test sample for: {', '.join(missing)}.")
    return macro, per_class, note


def evaluate_predictions(
    y_true: Any, y_prob: Any, class_names: Sequence[str], *, top_k: Sequence[int] = (1, 5)
) -> dict[str, Any]:
    """All the classification metrics of the course, as a JSON-ready dict.

    Args:
        y_true: ``(N,)`` int class indices in ``[0, C)``.
        y_prob: ``(N, C)`` float probabilities. Rows that are not probabilities (an entry outside
            [0, 1], or a row not summing to 1 within 1e-3) are treated as logits: softmax is applied
            and ``"scores"`` says ``"logits"``.
        class_names: ``C`` names, in column order.
        top_k: the ``k`` of the top-k accuracies; each key keeps the requested ``k`` (``"top5"``) but
            ``k`` is capped at ``C`` (with 3 classes, top-5 is top-3, that is 1.0).

    Returns:
        ``accuracy``; ``macro_precision`` / ``macro_recall`` / ``macro_f1`` (scikit-learn, averaged
        over the classes present in ``y_true`` or predicted, ``zero_division=0``); ``top_k_accuracy``
        ``{"top1": ..., "top5": ...}``; ``per_class_accuracy`` ``{class: recall, or None when the
        class has no test sample}``; ``confusion_matrix`` ``C x C`` list of lists of ints (rows = true,
        columns = predicted; an absent class keeps its zero row); ``roc_auc_ovr_macro`` (float or
        ``None``), ``roc_auc_per_class``, ``roc_auc_note`` (why an AUC is ``None``, else ``None``);
        ``num_samples``, ``num_classes``, ``class_names``, ``scores`` (``"probabilities"`` or ``"logits"``).
    """
    names = [str(n) for n in class_names]
    labels, probs, used_softmax = prepare_predictions(y_true, y_prob, names)
    num_classes = len(names)
    pred = predicted_labels(probs)
    cm = confusion_matrix(labels, pred, labels=np.arange(num_classes))
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, pred, average="macro", zero_division=0
    )
    row_totals = cm.sum(axis=1)
    per_class = {
        name: (float(cm[i, i] / row_totals[i]) if row_totals[i] > 0 else None)
        for i, name in enumerate(names)
    }
    macro_auc, auc_per_class, auc_note = roc_auc_one_vs_rest(labels, probs, names)
    return {
        "accuracy": float(np.mean(pred == labels)),
        "macro_precision": float(precision),
        "macro_recall": float(recall),
        "macro_f1": float(f1),
        "top_k_accuracy": {f"top{int(k)}": top_k_accuracy(labels, probs, k) for k in top_k},
        "per_class_accuracy": per_class,
        "confusion_matrix": cm.astype(int).tolist(),
        "roc_auc_ovr_macro": macro_auc,
        "roc_auc_per_class": auc_per_class,
        "roc_auc_note": auc_note,
        "num_samples": int(labels.shape[0]),
        "num_classes": num_classes,
        "class_names": names,
        "scores": "logits" if used_softmax else "probabilities",
    }


def pair_confusion(
    y_true: Any, y_pred: Any, class_names: Sequence[str], pairs: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """How well a model tells apart the two classes of each pair (e.g. time-reverses SitDown / StandUp).

    Args:
        y_true: ``(N,)`` int class indices.
        y_pred: ``(N,)`` int predicted indices, or ``(N, C)`` scores (their arg-max is used).
        class_names: ``C`` names.
        pairs: ``[(a, b), ...]`` class names.

    Returns:
        One dict per pair: ``a``, ``b``; ``num_samples`` (test samples of ``a`` or ``b``);
        ``num_predicted_in_pair`` (of those, predicted as ``a`` or ``b``); ``within_pair_correct`` (of
        those, given the right class); ``within_pair_accuracy``
        (of those, the fraction given the right one of the two: about 0.5 for a model blind to the
        difference, 1.0 for one that sees it; ``None`` when no sample was predicted in the pair);
        ``accuracy`` (right class among all the pair's samples, ``None`` without samples);
        ``a_as_b`` and ``b_as_a`` (counts of the two confusions).
    """
    names = [str(n) for n in class_names]
    truth = np.asarray(y_true).astype(np.int64).reshape(-1)
    pred = np.asarray(y_pred)
    pred = predicted_labels(pred) if pred.ndim == 2 else pred.astype(np.int64).reshape(-1)
    if pred.shape != truth.shape:
        raise ValueError(
            f"y_pred must give one prediction per sample of y_true ({truth.shape[0]}); got {pred.shape[0]}."
        )
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(
                f"Each pair must name two different classes, like ('SitDown', 'StandUp'); got {pair!r}."
            )
        for name in pair:
            if name not in index:
                raise ValueError(
                    f"Unknown class {name!r} in pair {tuple(pair)!r}; known classes: {', '.join(names)}."
                )
        a, b = index[pair[0]], index[pair[1]]
        in_pair = (truth == a) | (truth == b)
        predicted_in_pair = in_pair & ((pred == a) | (pred == b))
        correct = in_pair & (pred == truth)
        n, m = int(in_pair.sum()), int(predicted_in_pair.sum())
        rows.append({
            "a": pair[0],
            "b": pair[1],
            "num_samples": n,
            "num_predicted_in_pair": m,
            "within_pair_correct": int(correct.sum()),
            "within_pair_accuracy": float(correct.sum() / m) if m else None,
            "accuracy": float(correct.sum() / n) if n else None,
            "a_as_b": int(np.sum((truth == a) & (pred == b))),
            "b_as_a": int(np.sum((truth == b) & (pred == a))),
        })
    return rows


def pair_order(class_names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Class names with the two classes of each pair side by side (pairs first, in order), then the rest.

    For :func:`~hybridvid_lib.viz.plot_confusion_matrix` (``order=``): an order-blind model's
    confusions then form visible 2 x 2 blocks on the diagonal.
    """
    names = [str(n) for n in class_names]
    ordered = [n for pair in pairs for n in pair if n in names]
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"A class appears in two pairs: {list(pairs)!r}.")
    return ordered + [n for n in names if n not in ordered]


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (95% for ``z = 1.96``).

    Better than ``p +- z * sqrt(p (1 - p) / n)`` for the small counts of a test set: it stays
    inside [0, 1] and is not zero-width at 0 or n successes (Wilson 1927; Brown, Cai & DasGupta 2001).

    Raises:
        ValueError: ``n`` below 1, or ``successes`` outside ``0..n``.
    """
    successes, n = int(successes), int(n)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"wilson_interval needs 0 <= successes <= n and n >= 1; got {successes} of {n}.")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def rate_with_interval(successes: int, n: int) -> str:
    """``"0.92 [0.85, 0.96], 92 of 100"``: a proportion with its 95% Wilson interval and its denominator.

    ``n = 0`` gives ``"n/a, 0 of 0"``: no sample, no rate.
    """
    if int(n) == 0 and int(successes) == 0:
        return "n/a, 0 of 0"
    low, high = wilson_interval(successes, n)
    return f"{successes / n:.2f} [{low:.2f}, {high:.2f}], {successes} of {n}"


def reversal_swaps(y_true: Any, pred_forward: Any, pred_reversed: Any, class_names: Sequence[str],
                   pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """What reversing the clips in time does to the predictions, per time-reverse pair ``(a, b)``.

    Args:
        y_true: ``(N,)`` true class indices.
        pred_forward, pred_reversed: ``(N,)`` predicted indices (or ``(N, C)`` scores) for the clips
            as recorded and played backwards.
        class_names, pairs: names, and the pairs whose classes are each other's reverse.

    Returns:
        Per pair: ``a``, ``b``, ``num_samples`` (test clips of a or b), ``unchanged`` (clips whose
        prediction did not change) and ``swapped`` (clips predicted as the one of the pair when
        played forward and as the other when reversed: what a model of time does).
    """
    names = [str(n) for n in class_names]
    truth = np.asarray(y_true).astype(np.int64).reshape(-1)
    forward, backward = (predicted_labels(np.asarray(p)) if np.asarray(p).ndim == 2
                         else np.asarray(p).astype(np.int64).reshape(-1) for p in (pred_forward, pred_reversed))
    rows = []
    for a, b in pairs:
        ia, ib = names.index(a), names.index(b)
        mine = (truth == ia) | (truth == ib)
        swapped = ((forward == ia) & (backward == ib)) | ((forward == ib) & (backward == ia))
        rows.append({"a": a, "b": b, "num_samples": int(mine.sum()),
                     "unchanged": int(np.sum(mine & (forward == backward))),
                     "swapped": int(np.sum(mine & swapped))})
    return rows


def embedding_spread_ratio(embeddings: Any, labels: Any) -> dict[str, float]:
    """How tight the classes of an embedding are against how far apart: what center loss (chapter 07) changes.

    ``intra`` is the mean distance of each sample to its class's mean embedding; ``inter`` the mean distance
    between the class means (every pair of classes present); ``ratio = intra / inter`` (lower: tighter,
    better separated classes).

    Args:
        embeddings: ``(N, D)`` float, e.g. the test clips' attention-pooled vectors.
        labels: ``(N,)`` integer classes; at least two classes must be present.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"embedding_spread_ratio expects (N, D) embeddings and N labels; got {x.shape} and {y.shape}.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError("embedding_spread_ratio needs samples of at least two classes.")
    means = np.stack([x[y == c].mean(axis=0) for c in classes])
    own = means[np.searchsorted(classes, y)]
    intra = float(np.linalg.norm(x - own, axis=1).mean())
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
    inter = float(gaps[np.triu_indices(len(classes), k=1)].mean())
    return {"intra": intra, "inter": inter, "ratio": intra / inter if inter > 0 else float("inf")}


def summarize_runs(values: Sequence[float]) -> dict[str, float | int]:
    """Mean and spread of one number over runs (seeds): ``mean``, ``std`` (sample, ddof=1; 0.0 for
    a single run), ``min``, ``max``, ``n``."""
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("summarize_runs needs at least one value, e.g. one test accuracy per seed.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"summarize_runs needs finite numbers; got {arr.tolist()}.")
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": int(arr.size),
    }


# --------------------------------------------------------------------------- metrics.json
def to_jsonable(value: Any) -> Any:
    """Plain Python copy of ``value``: numpy scalars and arrays, tuples and paths become JSON types."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def result_entry(
    model: str,
    dataset: str,
    metrics: Mapping[str, Any],
    *,
    params: int,
    train_seconds: float,
    split: int | None,
    **extra: Any,
) -> dict[str, Any]:
    """One element of ``metrics.json``'s ``results``, from the output of :func:`evaluate_predictions`.

    Keys: ``model``, ``dataset``, ``split``, ``test_accuracy`` (= ``metrics["accuracy"]``), ``macro_f1``,
    ``macro_precision``, ``macro_recall``, ``roc_auc_ovr_macro``, ``params``, ``train_seconds``, then
    ``extra`` (e.g. ``final_train_loss``, ``skipped``), which may not reuse those names.
    """
    clash = sorted(set(extra) & set(RESULT_KEYS))
    if clash:
        raise ValueError(f"Extra result fields may not replace the standard ones; got {', '.join(clash)}.")
    if "accuracy" not in metrics or "macro_f1" not in metrics:
        raise ValueError(
            "result_entry expects the dict returned by evaluate_predictions (with 'accuracy' and 'macro_f1')."
        )
    entry = {
        "model": model,
        "dataset": dataset,
        "split": split,
        "test_accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "macro_precision": metrics.get("macro_precision"),
        "macro_recall": metrics.get("macro_recall"),
        "roc_auc_ovr_macro": metrics.get("roc_auc_ovr_macro"),
        "params": params,
        "train_seconds": train_seconds,
        **extra,
    }
    entry = to_jsonable(entry)
    _validate_result(entry, "result")
    return entry


def metrics_document(notebook: str, profile: str, seed: int, results: list[dict], **extra: Any) -> dict[str, Any]:
    """The whole ``metrics.json`` of a notebook or a training run (validated)."""
    clash = sorted(set(extra) & set(DOCUMENT_KEYS))
    if clash:
        raise ValueError(f"Extra document fields may not replace the standard ones; got {', '.join(clash)}.")
    document = to_jsonable({"notebook": notebook, "profile": profile, "seed": seed,
                            "results": list(results), **extra})
    validate_metrics(document)
    return document


def skipped_document(notebook: str, profile: str, seed: int, reason: str, **extra: Any) -> dict[str, Any]:
    """A ``metrics.json`` saying the notebook did not run in this setting, and why (validated).

    ``reason`` is one sentence a learner can act on, e.g. ``"No Kinetics checkpoint given; set
    CHECKPOINT to a .keras file to run this part."``. The document has ``"status": "skipped"`` and an
    empty ``results`` list, so a course report lists the run with its reason and takes no number from it.
    """
    return metrics_document(notebook, profile, seed, [], status=STATUS_SKIPPED, reason=reason, **extra)


def is_skipped(document: Mapping[str, Any]) -> bool:
    """True for a (validated) ``metrics.json`` document whose status is ``skipped``."""
    return document.get("status") == STATUS_SKIPPED


def _validate_status(document: Mapping[str, Any]) -> None:
    """The optional ``status``; a skipped document must say why and carry no results."""
    status = document.get("status", STATUS_OK)
    if status not in DOCUMENT_STATUSES:
        raise ValueError(f"metrics: status must be 'ok' or 'skipped' (or absent, meaning 'ok'); got {status!r}.")
    if status != STATUS_SKIPPED:
        return
    reason = document.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"metrics: a skipped document needs a reason, one sentence saying why the notebook "
                         f"did not run; got {reason!r}.")
    if document["results"]:
        # Numbers from a run that says it did not run would slip into the leaderboard.
        raise ValueError(f"metrics: a skipped document has an empty results list; got "
                         f"{len(document['results'])} result(s).")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_finite(value: Any, where: str) -> None:
    """Every number below ``value`` is finite and every value a JSON type."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"metrics: {where} has a non-text key {key!r}; JSON keys are strings.")
            _check_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metrics: {where} must be a finite number; got {value}.")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise ValueError(
            f"metrics: {where} must be a JSON value (text, number, list, dict); got {type(value).__name__}."
        )


def _validate_result(result: Any, where: str) -> None:
    if not isinstance(result, dict):
        raise ValueError(f"metrics: {where} must be a dict; got {type(result).__name__}.")
    for key in ("model", "dataset", "test_accuracy", "macro_f1", "params", "train_seconds"):
        if key not in result:
            raise ValueError(f"metrics: {where} is missing the key {key!r}.")
    for key in ("model", "dataset"):
        if not isinstance(result[key], str) or not result[key]:
            raise ValueError(f"metrics: {where}.{key} must be a non-empty string; got {result[key]!r}.")
    _check_finite(result, where)
    for key in ("test_accuracy", "macro_f1", "macro_precision", "macro_recall", "roc_auc_ovr_macro"):
        value = result.get(key)
        optional = key not in ("test_accuracy", "macro_f1")
        if value is None and optional:
            continue
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"metrics: {where}.{key} must be a number in [0, 1]; got {value!r}.")
    if not _is_int(result["params"]) or result["params"] < 0:
        raise ValueError(f"metrics: {where}.params must be a whole number >= 0; got {result['params']!r}.")
    if not _is_number(result["train_seconds"]) or result["train_seconds"] < 0:
        raise ValueError(f"metrics: {where}.train_seconds must be a number >= 0; got {result['train_seconds']!r}.")
    split = result.get("split")
    if split is not None and not _is_int(split):
        raise ValueError(f"metrics: {where}.split must be a whole number or null; got {split!r}.")


def validate_metrics(document: Any) -> None:
    """Raise ``ValueError`` naming the first problem of a ``metrics.json`` document (schema in the module doc)."""
    if not isinstance(document, dict):
        raise ValueError(f"metrics: the document must be a dict; got {type(document).__name__}.")
    for key in DOCUMENT_KEYS:
        if key not in document:
            raise ValueError(f"metrics: the document is missing the key {key!r}.")
    for key in ("notebook", "profile"):
        if not isinstance(document[key], str) or not document[key]:
            raise ValueError(f"metrics: {key} must be a non-empty string; got {document[key]!r}.")
    if not _is_int(document["seed"]):
        raise ValueError(f"metrics: seed must be a whole number; got {document['seed']!r}.")
    if not isinstance(document["results"], list):
        raise ValueError(f"metrics: results must be a list; got {type(document['results']).__name__}.")
    for i, result in enumerate(document["results"]):
        _validate_result(result, f"results[{i}]")
    _validate_status(document)
    _check_finite(document, "document")


def write_metrics(path: str | os.PathLike, document: Mapping[str, Any]) -> Path:
    """Validate ``document`` and write it as JSON atomically; return the path."""
    document = to_jsonable(document)
    validate_metrics(document)
    return atomic_write_json(path, document)


def load_metrics(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a ``metrics.json`` (``FileNotFoundError`` when it does not exist)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"metrics: {path} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    validate_metrics(document)
    return document


def write_evaluation(
    path: str | os.PathLike,
    metrics: Mapping[str, Any],
    *,
    model: str,
    dataset: str,
    split: int | None,
    profile: str,
    seed: int,
) -> Path:
    """Save the full output of :func:`evaluate_predictions` with what produced it, atomically.

    The file is ``{"model", "dataset", "split", "profile", "seed", "metrics": {...}}``; it keeps the
    confusion matrix and per-class numbers that ``metrics.json`` leaves out.
    """
    document = to_jsonable({"model": model, "dataset": dataset, "split": split, "profile": profile,
                            "seed": seed, "metrics": dict(metrics)})
    _check_finite(document, "evaluation")
    return atomic_write_json(path, document)
