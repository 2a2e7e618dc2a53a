"""Paired comparisons of two models on the same test videos, over seeds (chapter 08's ablation).

Two models tested on the same videos are *paired*: the question is not whether their two accuracy intervals
overlap (they are not independent), but on how many videos one is right and the other wrong. This module gives

- :func:`mcnemar_exact`: the exact McNemar test (a two-sided sign test on the discordant videos, with
  :func:`scipy.stats.binomtest`) for one pair of per-video correctness vectors;
- :func:`paired_seed_differences`: the accuracy difference seed by seed (the same seed, the same test videos),
  its mean, spread and how many seeds agree in sign;
- :func:`compare_over_seeds`: both, and a verdict: a direction (``"higher"`` / ``"lower"``) only when every seed
  agrees in sign *and* every seed's paired test rejects at ``alpha``; otherwise ``"inside the noise"``;
- :func:`implied_errors`: how many test errors a reported accuracy implies on ``n`` videos, and whether any
  whole number of errors gives that accuracy at the reported precision.

Example::

    from hybridvid_lib.evaluation_stats import compare_over_seeds
    right = {s: runs[s].y_prob.argmax(1) == runs[s].y_true for s in seeds}       # per model, per seed
    compare_over_seeds(right_hybrid, right_baseline)["verdict"]                  # "inside the noise"
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

INSIDE_THE_NOISE = "inside the noise"
HIGHER = "higher"
LOWER = "lower"


def _correct_vector(values: Any, who: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{who} must be a 1-D array of per-video correctness (True where the model was right); "
                         f"got shape {arr.shape}.")
    if arr.dtype != bool:
        if not np.all(np.isin(arr, (0, 1))):
            raise ValueError(f"{who} must hold True/False (or 1/0) per test video; got other values.")
        arr = arr.astype(bool)
    return arr


def mcnemar_exact(correct_a: Any, correct_b: Any) -> dict[str, Any]:
    """Exact McNemar test of two models on the same ``n`` test videos.

    Args:
        correct_a, correct_b: ``(n,)`` booleans, video ``i`` right by model A / B (the same videos, same order).

    Returns:
        ``n``, ``both_right``, ``a_only`` (A right, B wrong), ``b_only``, ``both_wrong``, ``discordant``
        (``a_only + b_only``), ``accuracy_a``, ``accuracy_b``, ``difference`` (A minus B) and ``p_value``: the
        two-sided binomial test of ``a_only`` out of ``discordant`` against 1/2 (1.0 when no video is discordant:
        the two models cannot be told apart on these videos).
    """
    from scipy.stats import binomtest

    a = _correct_vector(correct_a, "correct_a")
    b = _correct_vector(correct_b, "correct_b")
    if a.shape != b.shape:
        raise ValueError(f"A paired test needs both models on the same videos; got {a.size} and {b.size} results.")
    a_only = int(np.sum(a & ~b))
    b_only = int(np.sum(~a & b))
    discordant = a_only + b_only
    p_value = float(binomtest(a_only, discordant, 0.5).pvalue) if discordant else 1.0
    return {"n": int(a.size), "both_right": int(np.sum(a & b)), "a_only": a_only, "b_only": b_only,
            "both_wrong": int(np.sum(~a & ~b)), "discordant": discordant, "accuracy_a": float(a.mean()),
            "accuracy_b": float(b.mean()), "difference": float(a.mean() - b.mean()), "p_value": p_value}


def paired_seed_differences(accuracy_a: Mapping[Any, float], accuracy_b: Mapping[Any, float]) -> dict[str, Any]:
    """Accuracy of A minus B seed by seed, over the seeds both have.

    Returns:
        ``seeds`` (sorted, shared), ``per_seed`` ``{seed: difference}``, ``mean``, ``std`` (sample, ddof=1; 0.0 for
        one seed), ``n``, ``positive`` / ``negative`` / ``zero`` (seed counts) and ``agree`` (True when every seed
        has the same nonzero sign).

    Raises:
        ValueError: the two share no seed.
    """
    seeds = sorted(set(accuracy_a) & set(accuracy_b))
    if not seeds:
        raise ValueError(f"No seed in common: A has {sorted(accuracy_a)}, B has {sorted(accuracy_b)}. Paired "
                         "differences compare the two models seed by seed.")
    diffs = np.array([float(accuracy_a[s]) - float(accuracy_b[s]) for s in seeds])
    positive, negative = int(np.sum(diffs > 0)), int(np.sum(diffs < 0))
    return {"seeds": seeds, "per_seed": {s: float(d) for s, d in zip(seeds, diffs)}, "mean": float(diffs.mean()),
            "std": float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0, "n": len(seeds), "positive": positive,
            "negative": negative, "zero": len(seeds) - positive - negative,
            "agree": positive == len(seeds) or negative == len(seeds)}


def compare_over_seeds(correct_a: Mapping[Any, Any], correct_b: Mapping[Any, Any], *,
                       alpha: float = 0.05) -> dict[str, Any]:
    """Model A against model B, seed by seed on the same test videos, with a verdict.

    Args:
        correct_a, correct_b: ``{seed: (n,) booleans}``, per-video correctness of each model's run of that seed.
        alpha: the level of each seed's exact McNemar test.

    Returns:
        :func:`paired_seed_differences`' fields, ``tests`` ``{seed: mcnemar_exact(...)}``, ``rejected`` (seeds
        whose test has ``p < alpha``), ``alpha`` and ``verdict``: ``"higher"`` (A above B) or ``"lower"`` only
        when every seed agrees in sign and every seed's test rejects; ``"inside the noise"`` otherwise.
    """
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    seeds = sorted(set(correct_a) & set(correct_b))
    tests = {s: mcnemar_exact(correct_a[s], correct_b[s]) for s in seeds}
    diffs = paired_seed_differences({s: t["accuracy_a"] for s, t in tests.items()},
                                    {s: t["accuracy_b"] for s, t in tests.items()})
    rejected = [s for s in seeds if tests[s]["p_value"] < alpha]
    verdict = INSIDE_THE_NOISE
    if diffs["agree"] and len(rejected) == len(seeds):
        verdict = HIGHER if diffs["positive"] else LOWER
    return {**diffs, "tests": tests, "rejected": rejected, "alpha": float(alpha), "verdict": verdict}


def implied_errors(accuracy: float, n: int, *, decimals: int = 2) -> dict[str, Any]:
    """What a reported accuracy means on ``n`` test videos.

    Args:
        accuracy: the reported accuracy as a fraction (0.9925 for 99.25%).
        n: test videos.
        decimals: decimals of the reported *percentage* (99.25: 2).

    Returns:
        ``errors`` (``n * (1 - accuracy)``, not rounded), ``step`` (``1 / n``: the smallest accuracy change the
        set can show), ``nearest`` (the whole error counts on either side with the percentage each gives, rounded
        to ``decimals``) and ``attainable``: whether some whole number of errors gives the reported percentage at
        that precision.
    """
    if not 0.0 <= float(accuracy) <= 1.0:
        raise ValueError(f"accuracy is a fraction in [0, 1] (0.9925 for 99.25%); got {accuracy!r}.")
    if int(n) < 1:
        raise ValueError(f"n is the number of test videos, at least 1; got {n!r}.")
    n = int(n)
    errors = n * (1.0 - float(accuracy))
    reported = round(100.0 * float(accuracy), decimals)
    nearest = {}
    for k in sorted({max(0, math.floor(errors)), min(n, math.ceil(errors))}):
        nearest[k] = round(100.0 * (n - k) / n, decimals)
    return {"n": n, "errors": errors, "step": 1.0 / n, "nearest": nearest,
            "attainable": any(abs(p - reported) < 0.5 * 10.0 ** -decimals for p in nearest.values())}
