"""Paired comparisons over seeds: exact McNemar against scipy, seed differences, verdicts, implied errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from hybridvid_lib.evaluation_stats import (INSIDE_THE_NOISE, compare_over_seeds, implied_errors, mcnemar_exact,
                                            paired_seed_differences)


def test_mcnemar_counts_the_discordant_videos_and_matches_scipy():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 0, 1, 1], bool)
    b = np.array([1, 0, 0, 0, 0, 1, 1, 0, 0, 0], bool)
    out = mcnemar_exact(a, b)
    assert (out["both_right"], out["a_only"], out["b_only"], out["both_wrong"]) == (2, 5, 1, 2)
    assert out["discordant"] == 6 and out["n"] == 10
    assert out["difference"] == pytest.approx(0.4)
    assert out["p_value"] == pytest.approx(binomtest(5, 6, 0.5).pvalue)


def test_mcnemar_without_discordant_videos_cannot_tell_the_models_apart():
    a = np.array([1, 0, 1], bool)
    assert mcnemar_exact(a, a)["p_value"] == 1.0


def test_mcnemar_accepts_zero_one_and_refuses_other_shapes():
    assert mcnemar_exact([1, 0, 1], [0, 0, 1])["a_only"] == 1
    with pytest.raises(ValueError, match="same videos"):
        mcnemar_exact([1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="True/False"):
        mcnemar_exact([0.3, 1], [1, 0])
    with pytest.raises(ValueError, match="1-D"):
        mcnemar_exact(np.ones((2, 2), bool), np.ones((2, 2), bool))


def test_seed_differences_count_signs_and_spread():
    out = paired_seed_differences({0: 0.8, 1: 0.7, 2: 0.9}, {0: 0.75, 1: 0.72, 2: 0.8, 5: 0.1})
    assert out["seeds"] == [0, 1, 2]
    assert out["per_seed"][1] == pytest.approx(-0.02)
    assert (out["positive"], out["negative"], out["zero"], out["agree"]) == (2, 1, 0, False)
    assert out["mean"] == pytest.approx(np.mean([0.05, -0.02, 0.1]))
    assert out["std"] == pytest.approx(np.std([0.05, -0.02, 0.1], ddof=1))
    with pytest.raises(ValueError, match="No seed in common"):
        paired_seed_differences({0: 0.5}, {1: 0.5})


def test_a_single_seed_has_no_spread_and_zero_differences_do_not_agree():
    assert paired_seed_differences({0: 0.5}, {0: 0.4})["std"] == 0.0
    assert paired_seed_differences({0: 0.5, 1: 0.4}, {0: 0.5, 1: 0.3})["agree"] is False


def _correct(n_right, n=100):
    return np.arange(n) < n_right


def test_verdict_names_a_direction_only_when_every_seed_agrees_and_rejects():
    strong_a = {s: _correct(90) for s in range(3)}
    weak_b = {s: _correct(60) for s in range(3)}
    assert compare_over_seeds(strong_a, weak_b)["verdict"] == "higher"
    assert compare_over_seeds(weak_b, strong_a)["verdict"] == "lower"
    # A small gap agrees in sign on every seed, but no paired test rejects: inside the noise.
    close = {s: _correct(88) for s in range(3)}
    out = compare_over_seeds(strong_a, close)
    assert out["agree"] and out["rejected"] == [] and out["verdict"] == INSIDE_THE_NOISE
    # Seeds that disagree in sign: inside the noise, whatever one seed's test says.
    mixed = {0: _correct(30), 1: _correct(95), 2: _correct(30)}
    assert compare_over_seeds(strong_a, mixed)["verdict"] == INSIDE_THE_NOISE
    with pytest.raises(ValueError, match="alpha"):
        compare_over_seeds(strong_a, close, alpha=1.5)


def test_implied_errors_on_hmdb51_and_ucf101_split_1():
    hmdb = implied_errors(0.9925, 1530)
    assert hmdb["errors"] == pytest.approx(11.475)
    assert hmdb["nearest"] == {11: 99.28, 12: 99.22}
    assert hmdb["attainable"] is False
    ucf = implied_errors(0.9925, 3783)
    assert set(ucf["nearest"]) == {28, 29} and ucf["attainable"] is False
    assert implied_errors(0.9925, 400)["attainable"] is True  # 3 errors of 400
    assert implied_errors(0.5, 10)["step"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="fraction"):
        implied_errors(99.25, 1530)
    with pytest.raises(ValueError, match="test videos"):
        implied_errors(0.9, 0)
