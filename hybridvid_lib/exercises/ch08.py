"""Checks for the exercises of chapter 08 (evaluation and ablation): ``from hybridvid_lib.exercises.ch08 import q1, ...``.

- ``q1``: ``leaked_groups(listing) -> set``: the actor groups that sit on more than one side of a split
  (``{"train": [(video, group), ...], "val": [...], "test": [...]}``). Checked on listings of its own: a leak
  between train and test, one between validation and test (validation chooses the model, so it leaks too), one
  between train and validation, and a clean split with several videos per group. Returning videos instead of
  groups, comparing only train with test, or flagging a group that has many videos on one side each get their
  own message.
- ``q2``: ``paired_test(correct_a, correct_b) -> {"a_only", "b_only", "p_value"}``: the exact McNemar test of two
  models on the same test videos (a two-sided sign test on the discordant videos). Compared with
  :func:`scipy.stats.binomtest` on the check's own vectors, one of them a case where the two accuracy intervals
  overlap but the paired test rejects: an unpaired comparison, a one-sided p or a test over all videos are named.
- ``q3``: ``errors_and_step(accuracy, n) -> (errors, step)``: the test errors a reported accuracy implies and the
  smallest accuracy step ``n`` test videos can show, and ``attainable``: whether 99.25% (two decimals) can come
  from a whole number of errors on HMDB51 split 1's 1,530 test videos.
- ``q4``: the measured experiment. A small LSTM head is trained on in-memory feature sequences
  (:func:`feature_sequences`, standing in for the cached I3D features) with three seeds; the learner reports each
  seed's test accuracy, their mean and their sample standard deviation. The check measures the three models again
  on sequences of its own draw.

TensorFlow is imported only when q4 checks models, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hybridvid_lib.exercises.core import IncorrectAnswer, Question, call_learner, describe, learner_probabilities

__all__ = ["q1", "q2", "q3", "q4", "feature_sequences", "SEQ_CLASSES", "SEQ_STEPS", "SEQ_DIM", "HMDB51_SPLIT1_TEST",
           "UCF101_SPLIT1_TEST", "EXAMPLE_LISTING"]

#: Test videos of split 1 of the official lists (the notebook counts them from the lists where it has them).
HMDB51_SPLIT1_TEST = 1530
UCF101_SPLIT1_TEST = 3783

#: A listing to look at in the notebook: a group on two sides is hidden in it (videos named as UCF101's).
EXAMPLE_LISTING: dict[str, list[tuple[str, str]]] = {
    "train": [(f"v_{c}_g{g:02d}_c{k:02d}.avi", f"g{g:02d}") for g in (8, 9, 10, 11, 12) for c in ("Walk", "Run")
              for k in (1, 2)],
    "val": [(f"v_{c}_g{g:02d}_c{k:02d}.avi", f"g{g:02d}") for g in (13, 14) for c in ("Walk", "Run") for k in (1, 2)],
    "test": [(f"v_{c}_g{g:02d}_c{k:02d}.avi", f"g{g:02d}") for g in (1, 2, 3) for c in ("Walk", "Run")
             for k in (1, 2)] + [("v_Run_g14_c03.avi", "g14")],
}


def _keras() -> Any:
    from hybridvid_lib.tf_setup import import_tensorflow

    import_tensorflow()
    import keras  # noqa: PLC0415 - after TensorFlow's quiet import

    return keras


# ------------------------------------------------------------------------------ q1 a leaky split
def _listing(sides: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    """``{side: [group, ...]}`` -> ``{side: [(video, group), ...]}`` with two videos per group entry."""
    return {side: [(f"{side}_{group}_c{k}.avi", group) for group in groups for k in (1, 2)]
            for side, groups in sides.items()}


_LEAK_CASES = (
    ("train and test share g03", {"train": ["g01", "g02", "g03"], "val": ["g04"], "test": ["g03", "g05"]}, {"g03"}),
    ("validation and test share g07", {"train": ["g01", "g02"], "val": ["g07"], "test": ["g07", "g08"]}, {"g07"}),
    ("train and validation share g02", {"train": ["g01", "g02"], "val": ["g02", "g03"], "test": ["g04"]}, {"g02"}),
    ("a clean split", {"train": ["g01", "g02", "g03"], "val": ["g04"], "test": ["g05", "g06"]}, set()),
)


def _reference_leaks(listing: dict[str, list[tuple[str, str]]]) -> set[str]:
    sides: dict[str, set[str]] = {}
    for side, items in listing.items():
        for _, group in items:
            sides.setdefault(group, set()).add(side)
    return {g for g, where in sides.items() if len(where) > 1}


class LeakedGroups(Question):
    """``q1.check(leaked_groups)``: the groups on more than one side of a split listing."""

    title = "Spot a leaky evaluation: which actor groups sit on two sides of the split?"
    hints = (
        "For every group, collect the set of sides (`train`, `val`, `test`) it appears on; a leak is a group with "
        "more than one side. Videos are not the unit: two clips of one actor are the same person.",
        "`where = {}`, then `for side, items in listing.items(): for video, group in items: "
        "where.setdefault(group, set()).add(side)`; return the groups whose set has two or more sides.",
    )
    solution_code = """
        def leaked_groups(listing):
            where = {}
            for side, items in listing.items():
                for video, group in items:
                    where.setdefault(group, set()).add(side)
            return {group for group, sides in where.items() if len(sides) > 1}
    """
    correct_note = ("every listing judged right. A group on two sides lets a model recognise the actor, the "
                    "background or the camera instead of the action: the number it earns is not about new people. "
                    "A validation group in the test set leaks too, through the choices made on validation.")

    def check_answer(self, leaked_groups) -> None:
        for label, sides, expected in _LEAK_CASES:
            listing = _listing(sides)
            got = call_learner(leaked_groups, listing, name="leaked_groups")
            if not isinstance(got, (set, frozenset, list, tuple)):
                raise IncorrectAnswer(f"`leaked_groups` should return a set of group names (e.g. {{'g03'}}); got "
                                      f"{describe(got)}.")
            got = set(got)
            videos = {video for items in listing.values() for video, _ in items}
            if got & videos:
                raise IncorrectAnswer(
                    f"on a listing where {label}, `leaked_groups` returned video names ({sorted(got)[:2]} ...). The unit "
                    "of a leak is the actor group: return the groups, each once.")
            if got == expected:
                continue
            if expected and not got and "validation" in label and "test" in label:
                raise IncorrectAnswer(
                    f"on a listing where {label}, `leaked_groups` found nothing. Compare every pair of sides, not only "
                    "train with test: the validation groups choose epochs and settings, so a validation group in the "
                    "test set leaks into the test number.")
            if expected and not got:
                raise IncorrectAnswer(f"on a listing where {label}, `leaked_groups` found nothing; expected "
                                      f"{sorted(expected)}. Compare the sides of every pair (train, val, test).")
            if got - expected:
                raise IncorrectAnswer(
                    f"on {label} (two videos per group) `leaked_groups` returned {sorted(got)}, among them "
                    f"{sorted(got - expected)}, each on one side only. Several videos of one group on the *same* side "
                    "are fine: a leak is one group on two sides.")
            raise IncorrectAnswer(f"on a listing where {label}, `leaked_groups` returned {sorted(got)}; expected "
                                  f"{sorted(expected)}.")


# ------------------------------------------------------------------------------ q2 paired test
def _paired_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(8)
    cases = []
    # The two accuracies' 95% intervals overlap (0.75 against 0.675 of 200), but B is never right where A is wrong.
    a = np.zeros(200, bool)
    a[:150] = True
    b = a.copy()
    b[135:150] = False
    cases.append(("A right on 150, B on 135 of 200 videos, B never right where A is wrong", a, b))
    # Many discordant videos both ways: a gap of 6 videos that is noise.
    a = rng.random(300) < 0.7
    b = a.copy()
    flip = rng.choice(300, 60, replace=False)
    b[flip] = ~b[flip]
    cases.append(("300 videos, 60 of them discordant", a, b))
    # B better than A: the test is two-sided.
    cases.append(("B above A", cases[0][2], cases[0][1]))
    return cases


class PairedTest(Question):
    """``q2.check(paired_test)``: exact McNemar on the discordant videos of two models."""

    title = "Two models on the same test videos: a paired (McNemar) test"
    hints = (
        "Only the videos where the two models disagree carry information: count `a_only` (A right, B wrong) and "
        "`b_only`. If the models were equally good, each discordant video would fall either way with probability "
        "1/2.",
        "`scipy.stats.binomtest(a_only, a_only + b_only, 0.5).pvalue` is the two-sided exact test (1.0 when no video "
        "is discordant).",
    )
    solution_code = """
        from scipy.stats import binomtest

        def paired_test(correct_a, correct_b):
            a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
            a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
            p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
            return {"a_only": a_only, "b_only": b_only, "p_value": float(p)}
    """
    correct_note = ("your test agrees with scipy on every case, including the one where the two accuracies' "
                    "intervals overlap and the paired test still rejects: paired data carry more information than two "
                    "separate intervals, because the videos both models get right (or wrong) say nothing about which "
                    "is better.")

    def check_answer(self, paired_test) -> None:
        from scipy.stats import binomtest

        for label, a, b in _paired_cases():
            got = call_learner(paired_test, a, b, name="paired_test")
            if not isinstance(got, dict) or not {"a_only", "b_only", "p_value"} <= set(got):
                raise IncorrectAnswer('`paired_test` should return a dict with "a_only", "b_only" and "p_value"; got '
                                      f"{describe(got)}.")
            a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
            if (got["a_only"], got["b_only"]) != (a_only, b_only):
                raise IncorrectAnswer(
                    f"on {label}: a_only / b_only should be {a_only} / {b_only} (videos where exactly one model is "
                    f"right); got {got['a_only']} / {got['b_only']}.")
            try:
                p = float(got["p_value"])
            except (TypeError, ValueError):
                raise IncorrectAnswer(f"p_value should be a number; got {describe(got['p_value'])}.") from None
            expected = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
            if abs(p - expected) <= 1e-9 + 1e-6 * expected:
                continue
            n = len(a)
            if abs(p - binomtest(a_only, a_only + b_only, 0.5, alternative="greater").pvalue) < 1e-9 or \
                    abs(p - binomtest(a_only, a_only + b_only, 0.5, alternative="less").pvalue) < 1e-9:
                raise IncorrectAnswer(f"on {label} your p-value {p:.3g} is one-sided; expected the two-sided "
                                      f"{expected:.3g}. Before looking, either model could have been the better one.")
            if abs(p - binomtest(int(a.sum()), n, 0.5).pvalue) < 1e-9 or \
                    abs(p - binomtest(a_only, n, 0.5).pvalue) < 1e-9:
                raise IncorrectAnswer(f"on {label} your p-value {p:.3g} counts all {n} videos; the test is over the "
                                      f"{a_only + b_only} discordant ones only (expected {expected:.3g}).")
            if label.startswith("A right on 150") and p > 0.05:
                raise IncorrectAnswer(
                    f"on {label} your p-value is {p:.3g}: that is what an unpaired comparison gives (two proportions, "
                    "or two overlapping intervals). The models ran on the *same* videos: B is never right where A is "
                    f"wrong, so the 15 discordant videos all favour A and the exact paired p-value is {expected:.2g}.")
            raise IncorrectAnswer(f"on {label} your p-value is {p:.3g}; the exact McNemar test gives {expected:.3g} "
                                  f"({a_only} against {b_only} discordant videos).")


# ------------------------------------------------------------------------------ q3 implied errors
class ImpliedErrors(Question):
    """``q3.check(errors_and_step, attainable)``."""

    title = "What does 99.25% mean on 1,530 test videos?"
    hints = (
        "An accuracy `a` on `n` videos means `n * (1 - a)` errors; one video more or less moves the accuracy by "
        "`1 / n`. With 1,530 videos, list the accuracies that 11 and 12 errors give, in percent with two decimals.",
        "`errors_and_step = lambda accuracy, n: (n * (1 - accuracy), 1 / n)`; `100 * (1530 - 11) / 1530` and "
        "`100 * (1530 - 12) / 1530`, rounded to two decimals: is either 99.25?",
    )
    solution_code = """
        def errors_and_step(accuracy, n):
            return n * (1 - accuracy), 1 / n

        errors, step = errors_and_step(0.9925, 1530)          # 11.475 errors, a step of 0.00065
        attainable = any(round(100 * (1530 - k) / 1530, 2) == 99.25 for k in (11, 12))   # False
    """
    correct_note = ("99.25% on 1,530 videos is 11.475 errors: 11 errors give 99.28%, 12 give 99.22%. On HMDB51 "
                    "split 1 alone no whole number of errors rounds to 99.25%; an average over the three splits can. "
                    "So the number is either a three-split mean (the paper does not say), or was not measured on the "
                    "official test list. A reader asks which, before comparing.")

    def check_answer(self, errors_and_step, attainable) -> None:
        for accuracy, n in ((0.9925, HMDB51_SPLIT1_TEST), (0.9925, UCF101_SPLIT1_TEST), (0.75, 200)):
            got = call_learner(errors_and_step, accuracy, n, name="errors_and_step")
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise IncorrectAnswer(f"`errors_and_step` should return two numbers, (errors, step); got {describe(got)}.")
            try:
                errors, step = float(got[0]), float(got[1])
            except (TypeError, ValueError):
                raise IncorrectAnswer(f"`errors_and_step` should return two numbers; got {describe(got)}.") from None
            want = n * (1 - accuracy)
            if abs(errors - want) > 1e-6:
                if abs(errors - round(want)) < 1e-9:
                    raise IncorrectAnswer(f"errors_and_step({accuracy}, {n}) gave {errors:g} errors: keep the exact "
                                          f"{want:g}. Rounding it hides the question whether a whole number of errors "
                                          "gives the reported accuracy at all.")
                if abs(errors - n * (100 - accuracy)) < 1e-6 or abs(errors - n * accuracy) < 1e-6:
                    raise IncorrectAnswer(f"errors_and_step({accuracy}, {n}) gave {errors:g} errors; the accuracy is a "
                                          f"fraction (0.9925 for 99.25%), and errors are the videos it got wrong: "
                                          f"n * (1 - accuracy) = {want:g}.")
                raise IncorrectAnswer(f"errors_and_step({accuracy}, {n}) gave {errors:g} errors; expected {want:g}.")
            if abs(step - 1 / n) > 1e-12:
                hint = " (that is in percent; keep fractions, as the accuracy)" if abs(step - 100 / n) < 1e-9 else ""
                raise IncorrectAnswer(f"errors_and_step({accuracy}, {n}) gave a step of {step:g}{hint}; one video more "
                                      f"right moves the accuracy by 1 / n = {1 / n:.6g}.")
        if not isinstance(attainable, (bool, np.bool_)):
            raise IncorrectAnswer(f"`attainable` should be True or False; got {describe(attainable)}.")
        if attainable:
            options = ", ".join(f"{k} errors give {100 * (HMDB51_SPLIT1_TEST - k) / HMDB51_SPLIT1_TEST:.2f}%"
                                for k in (11, 12))
            raise IncorrectAnswer(f"`attainable` is True, but on {HMDB51_SPLIT1_TEST} test videos {options}: "
                                  "no whole number of errors rounds to 99.25%.")


# ------------------------------------------------------------------------------ q4 measured: seeds
SEQ_CLASSES = 4
SEQ_STEPS = 5
SEQ_DIM = 8
_SEQ_SIZES = {"train": 16, "test": 100, "check": 100}  # per class
_SEQ_SEEDS = {"train": 0, "test": 1, "check": 2}


def feature_sequences(part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: ``x`` ``(N, 5, 8)`` float32 feature sequences, ``y`` ``(N,)`` classes 0-3, for q4.

    Each class is a bump that travels through the 8 features along the 5 steps, in its own direction and from its
    own start (classes 0 and 1 are each other's time-reverse), under noise: a stand-in for I3D feature sequences.
    ``part`` is ``"train"`` (16 per class), ``"test"`` or ``"check"`` (100 per class, other draws).
    """
    if part not in _SEQ_SIZES:
        raise ValueError(f"part is one of {sorted(_SEQ_SIZES)}; got {part!r}.")
    rng = np.random.default_rng(_SEQ_SEEDS[part])
    starts, moves = (1, 5, 0, 7), (1, -1, 2, -2)
    xs, ys = [], []
    for c in range(SEQ_CLASSES):
        for _ in range(_SEQ_SIZES[part]):
            x = rng.normal(0.0, 0.9, (SEQ_STEPS, SEQ_DIM))
            for t in range(SEQ_STEPS):
                x[t, (starts[c] + moves[c] * t) % SEQ_DIM] += 1.5
            xs.append(x)
            ys.append(c)
    order = rng.permutation(len(ys))
    return np.asarray(xs, np.float32)[order], np.asarray(ys)[order]


class SeedSpread(Question):
    """``q4.check(models, measured)``: one model per seed, their test accuracies, mean and sample std."""

    title = "Measure it: one head, three seeds, mean and spread"
    hints = (
        "Write a function that seeds everything (`set_seed(seed)`), builds the head, trains it and returns it; call it "
        "for seeds 0, 1 and 2. Measure each on `feature_sequences('test')`; the spread is the *sample* standard "
        "deviation of the three accuracies.",
        "`accs = [accuracy(m, x_test, y_test) for m in models]`; `measured = {'accuracies': accs, 'mean': "
        "float(np.mean(accs)), 'std': float(np.std(accs, ddof=1))}`.",
    )
    solution_code = """
        def train_head(seed, epochs=15):
            set_seed(seed)
            inputs = keras.Input((SEQ_STEPS, SEQ_DIM))
            x = keras.layers.LSTM(16)(inputs)
            model = keras.Model(inputs, keras.layers.Dense(SEQ_CLASSES, activation="softmax")(x))
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
            model.fit(x_train, y_train, epochs=epochs, batch_size=16, verbose=0)
            return model

        models = [train_head(seed) for seed in (0, 1, 2)]
        accs = [float(np.mean(m.predict(x_test, verbose=0).argmax(1) == y_test)) for m in models]
        measured = {"accuracies": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs, ddof=1))}
    """

    TOLERANCE = 0.1
    MIN_ACCURACY = 0.4

    def check_answer(self, models, measured) -> None:
        keras = _keras()
        if not isinstance(models, (list, tuple)) or len(models) < 3:
            raise IncorrectAnswer(f"`models` should be a list of at least three trained models, one per seed; got "
                                  f"{describe(models)}.")
        for i, model in enumerate(models):
            if not isinstance(model, keras.Model):
                raise IncorrectAnswer(f"`models[{i}]` should be a trained keras.Model; got {describe(model)}.")
        firsts = [np.concatenate([w.ravel() for w in m.get_weights()]) for m in models]
        if any(np.allclose(firsts[i], firsts[j]) for i in range(len(firsts)) for j in range(i)):
            raise IncorrectAnswer("two of your models have the same weights: each seed must train its own model "
                                  "(seed, build and train inside the loop), or the spread you report is zero by "
                                  "construction.")
        if not isinstance(measured, dict) or not {"accuracies", "mean", "std"} <= set(measured):
            raise IncorrectAnswer('`measured` should be {"accuracies": [one per model], "mean": ..., "std": ...}; got '
                                  f"{describe(measured)}.")
        try:
            accs = [float(a) for a in measured["accuracies"]]
            mean, std = float(measured["mean"]), float(measured["std"])
        except (TypeError, ValueError):
            raise IncorrectAnswer("`measured` should hold numbers: a list of accuracies, a mean and a std.") from None
        if len(accs) != len(models):
            raise IncorrectAnswer(f"`measured['accuracies']` has {len(accs)} numbers for {len(models)} models: one "
                                  "per model, in the same order.")
        if abs(mean - float(np.mean(accs))) > 1e-6:
            raise IncorrectAnswer(f"`measured['mean']` is {mean:.4f}, but your accuracies average "
                                  f"{np.mean(accs):.4f}.")
        if abs(std - float(np.std(accs, ddof=1))) > 1e-6:
            if abs(std - float(np.std(accs))) < 1e-6:
                raise IncorrectAnswer(
                    f"`measured['std']` is {std:.4f}: the population standard deviation (np.std's default, ddof=0). "
                    f"Three seeds are a sample of all the seeds one could draw: use ddof=1, which gives "
                    f"{np.std(accs, ddof=1):.4f}.")
            raise IncorrectAnswer(f"`measured['std']` is {std:.4f}; the sample standard deviation of your accuracies "
                                  f"is {np.std(accs, ddof=1):.4f}.")
        x, y = feature_sequences("check")
        scores = []
        for i, model in enumerate(models):
            p = learner_probabilities(model, x, name=f"models[{i}]", num_classes=SEQ_CLASSES,
                                      input_doc=f"(B, {SEQ_STEPS}, {SEQ_DIM}) sequences")
            scores.append(float(np.mean(p.argmax(axis=1) == y)))
        where = f"on {len(y)} sequences of the check's own draw (chance {1 / SEQ_CLASSES:.2f})"
        for i, (score, acc) in enumerate(zip(scores, accs)):
            if score < self.MIN_ACCURACY:
                raise IncorrectAnswer(f"measured {where}, `models[{i}]` scores {score:.2f}: it has not learnt the "
                                      "task. Train each model (a few epochs of Adam) before measuring it.")
            if abs(score - acc) > self.TOLERANCE:
                raise IncorrectAnswer(
                    f"you reported {acc:.2f} for `models[{i}]`, but measured {where} it scores {score:.2f}. Compute "
                    "each accuracy from that model's predictions on `feature_sequences('test')`, in the order of "
                    "`models`.")
        self.measured_note = (
            f"measured again {where}: {', '.join(f'{s:.2f}' for s in scores)} (you measured "
            f"{', '.join(f'{a:.2f}' for a in accs)}: mean {mean:.2f}, std {std:.2f} over {len(accs)} seeds). The "
            "same data, the same code, only the seed changed: a difference between two models smaller than this "
            "spread is not evidence, unless a paired test on the same videos says otherwise.")


q1 = LeakedGroups("q1")
q2 = PairedTest("q2")
q3 = ImpliedErrors("q3")
q4 = SeedSpread("q4")
