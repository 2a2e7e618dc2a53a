"""The Question machinery: verdicts, teaching messages, hints, solutions and how feedback is shown."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from hybridvid_lib.errors import HybridVidError
from hybridvid_lib.exercises import core
from hybridvid_lib.exercises.core import (
    CheckResult, Feedback, IncorrectAnswer, NotAnsweredYet, Question, call_learner, describe,
)


class Double(Question):
    """Toy question: the learner writes double(x) -> 2 * x."""

    title = "Double a number"
    hints = ("Multiply by two.", "`return 2 * x`")
    solution_code = """
        def double(x):
            return 2 * x
    """
    correct_note = "well doubled."

    def check_answer(self, double) -> None:
        for x in (0, 3, -2):
            got = call_learner(double, x, name="double")
            if got != 2 * x:
                raise IncorrectAnswer(f"`double({x})` should be {2 * x}; got {got!r}.")


class Pair(Question):
    def check_answer(self, answer, reason="b") -> None:
        if answer != 1 or reason != "b":
            raise IncorrectAnswer("expected 1 and 'b'.")


def test_correct_answer_prints_correct_and_returns_true(capsys):
    result = Double("q1").check(lambda x: 2 * x)
    assert result and result.correct is True
    assert capsys.readouterr().out.strip() == "Correct: well doubled."
    assert repr(result) == "CheckResult(correct=True)"


def test_wrong_answer_prints_the_teaching_message_and_returns_false(capsys):
    result = Double("q1").check(lambda x: x * x)
    assert not result
    assert result.message == "`double(3)` should be 6; got 9."
    assert capsys.readouterr().out.strip() == "Incorrect: `double(3)` should be 6; got 9."


def test_exception_in_the_learners_function_becomes_one_message_with_their_line(capsys):
    def double(x):
        values = [x]
        return values[3] * 2

    result = Double("q1").check(double)
    assert not result
    assert result.message.startswith("calling `double(0)` raised IndexError: list index out of range")
    assert "line 3 of `double`: `return values[3] * 2`" in result.message
    assert "Traceback" not in capsys.readouterr().out


def test_placeholders_of_the_student_copy_get_a_gentle_message():
    def double(x):
        # TODO: your code here
        raise NotImplementedError

    assert "is not written yet" in Double("q1").check(double).message
    assert "still `...`" in Double("q1").check(...).message
    assert "still `...`" in Pair("q2").check(1, ...).message


def test_wrong_number_of_answers_says_how_to_call_check():
    assert Double("q1").check().message == (
        "q1.check needs 1 answer (double), e.g. `q1.check(double)`; got 0."
    )
    assert "got 3" in Pair("q2").check(1, "b", "c").message
    assert Pair("q2").check(1)  # the optional second answer keeps its default


def test_non_callable_answer_is_explained():
    message = Double("q1").check(42).message
    assert message.startswith("expected a function to call") and "got a int" in message


def test_hints_in_order_and_out_of_range(capsys):
    q = Double("q1")
    q.hint()
    q.hint(2)
    q.hint(5)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Hint: Multiply by two. (stronger: q1.hint(2))",
        "Hint: `return 2 * x`",
        "Hint: q1 has hints 1 to 2; ask for one of those, e.g. q1.hint(1).",
    ]
    assert Pair("q2").hint_text() == "no hint for this question; try the solution."


def test_solution_is_shown_as_dedented_code(capsys):
    Double("q1").solution()
    assert capsys.readouterr().out == "Solution\n    def double(x):\n        return 2 * x\n"


def test_feedback_html_escapes_and_marks_code():
    html = Feedback("incorrect", "got `a < b` & more", code="x = '<tag>'")._repr_html_()
    assert "<code>a &lt; b</code> &amp; more" in html
    assert "<pre><code>x = &#x27;&lt;tag&gt;&#x27;</code></pre>" in html
    assert "Incorrect" in html and "#c62828" in html


def test_under_ipython_feedback_is_one_display_bundle_with_a_plain_copy(monkeypatch, capsys):
    shown = []
    fake_display = types.SimpleNamespace(display=lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.setattr("IPython.get_ipython", lambda: object())
    monkeypatch.setitem(sys.modules, "IPython.display", fake_display)
    result = Double("q1").check(lambda x: 2 * x)
    assert capsys.readouterr().out == ""
    (bundle, raw), = shown
    assert raw is True
    assert bundle["text/plain"] == "Correct: well doubled."
    assert "<b>Correct</b>" in bundle["text/html"]
    result._ipython_display_()  # already shown: displaying the result again adds nothing
    assert len(shown) == 1


def test_incorrect_answer_is_a_kit_error_and_not_answered_is_incorrect():
    assert issubclass(IncorrectAnswer, HybridVidError)
    assert issubclass(NotAnsweredYet, IncorrectAnswer)
    with pytest.raises(NotAnsweredYet):
        call_learner(..., name="f")


def test_describe_names_what_came_back():
    import numpy as np

    assert describe(None).startswith("None (did you forget `return`?)")
    assert describe(np.zeros((2, 3), np.float32)) == "a float32 ndarray of shape (2, 3)"
    assert describe([1, 2]) == "a list of 2 items"
    assert str(CheckResult(Feedback("correct", ""))) == "Correct"


def test_base_question_without_check_answer_is_a_programming_error():
    with pytest.raises(NotImplementedError):
        Question("q9").check_answer(1)
    assert core.Question("q9").name == "q9"


def test_learner_probabilities_and_compare_reported_explain_what_is_wrong():
    from hybridvid_lib.exercises.core import IncorrectAnswer, compare_reported, learner_probabilities

    x = np.zeros((4, 3), np.float32)
    probs = learner_probabilities(lambda inputs, training: np.full((4, 2), 0.5), x, name="plain_model",
                                  num_classes=2, input_doc="(B, 3) vectors")
    assert probs.shape == (4, 2) and probs.dtype == np.float64
    with pytest.raises(IncorrectAnswer, match=r"`plain_model` should map \(B, 3\) vectors to \(B, 2\) probabilities; "
                                              r"got \(4, 3\)"):
        learner_probabilities(lambda inputs, training: np.zeros((4, 3)), x, name="plain_model", num_classes=2,
                              input_doc="(B, 3) vectors")
    with pytest.raises(IncorrectAnswer, match="should return one"):
        learner_probabilities(lambda inputs, training: {"probs": 1}, x, name="m", num_classes=2, input_doc="x")
    compare_reported({"a": 0.5, "b": 0.9}, {"a": 0.55, "b": 0.85}, ["a", "b"], tolerance=0.1, where="here", data="x")
    with pytest.raises(IncorrectAnswer, match=r"you reported 0.90 for `b`, but measured here it scores 0.60.*never "
                                              r"type the numbers"):
        compare_reported({"a": 0.5, "b": 0.9}, {"a": 0.5, "b": 0.6}, ["a", "b"], tolerance=0.1, where="here",
                         data="`x_test`")
