"""The ``q1.check()`` / ``q1.hint()`` / ``q1.solution()`` machinery of the exercise notebooks.

A chapter's checks module (``ch00``, ``ch01``, ...) defines one :class:`Question` subclass
per exercise and exposes instances named ``q1``, ``q2``, ...::

    from hybridvid_lib.exercises.ch00 import q1
    q1.check(uniform_indices)   # "Correct" or "Incorrect: <what was expected, what came back>"
    q1.hint()                   # a nudge; q1.hint(2) a stronger one
    q1.solution()               # the reference code, shown as text

Writing a question: subclass :class:`Question`, set ``title``, ``hints`` and
``solution_code``, and implement ``check_answer(self, answer)`` so that it raises
:class:`IncorrectAnswer` with a message that *teaches*: the expected shape, dtype or range,
and what was received. Call a learner's function through :func:`call_learner`, which turns
an exception inside it into one such message (with the line of their code that failed)
instead of a wall of traceback. Answers left as ``...`` and functions still raising
``NotImplementedError`` (what a student copy starts with) get their own gentle message.

Feedback is shown as HTML in Jupyter (one display bundle with a plain-text copy, so
papermill and terminals record readable text) and printed elsewhere.
"""

from __future__ import annotations

import html
import inspect
import re
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from hybridvid_lib.errors import HybridVidError

# Colours of the feedback banners (green, red, blue, purple): readable on light and dark themes.
_COLOURS = {"correct": "#2e7d32", "incorrect": "#c62828", "hint": "#1565c0", "solution": "#6a1b9a"}
_LABELS = {"correct": "Correct", "incorrect": "Incorrect", "hint": "Hint", "solution": "Solution"}


class IncorrectAnswer(HybridVidError):
    """An answer does not meet the question's requirements; the message says what was expected."""


class NotAnsweredYet(IncorrectAnswer):
    """The answer is still the placeholder of the student copy (``...`` or ``NotImplementedError``)."""


@dataclass(frozen=True)
class Feedback:
    """One piece of feedback: ``kind`` is ``correct``, ``incorrect``, ``hint`` or ``solution``.

    ``text`` is the message (Markdown-style backticks for code); ``code`` an optional code
    block shown below it (solutions).
    """

    kind: str
    text: str
    code: str = ""

    def __str__(self) -> str:
        head = f"{_LABELS[self.kind]}: {self.text}" if self.text else _LABELS[self.kind]
        if self.code:
            body = "\n".join("    " + line if line else "" for line in self.code.splitlines())
            return f"{head}\n{body}"
        return head

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.kind]
        text = _inline_code(html.escape(self.text)).replace("\n", "<br>")
        parts = [f'<span style="color:{colour}"><b>{_LABELS[self.kind]}</b></span>']
        if text:
            parts.append(f": {text}")
        if self.code:
            parts.append(f"<pre><code>{html.escape(self.code)}</code></pre>")
        return "".join(parts)


def _inline_code(escaped: str) -> str:
    """Turn ``code`` spans of already HTML-escaped text into ``<code>`` elements."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def show(feedback: Feedback) -> None:
    """Display ``feedback``: rich HTML (with a plain-text copy) under IPython, ``print`` otherwise."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # IPython is a dependency, but the checks must not need it
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": str(feedback), "text/html": feedback._repr_html_()}, raw=True)
    else:
        print(feedback)


class CheckResult:
    """What :meth:`Question.check` returns: true when the answer is correct.

    The feedback was already displayed when the check ran, so showing the result again in
    a notebook displays nothing (``q1.check(f)`` as the last line of a cell would otherwise
    print its verdict twice). ``str(result)`` and ``result.message`` give the text.
    """

    def __init__(self, feedback: Feedback):
        self.feedback = feedback
        self.correct = feedback.kind == "correct"
        self.message = feedback.text

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return str(self.feedback)

    def __repr__(self) -> str:
        return f"CheckResult(correct={self.correct})"

    def _ipython_display_(self) -> None:
        pass  # shown by check() already


class Question:
    """Base class of an exercise. Subclasses set the class attributes and ``check_answer``.

    Attributes:
        title: one line naming the task ("Write a uniform sampling strategy").
        hints: one or more hints, gentlest first (``q.hint(n)`` shows the n-th).
        solution_code: reference solution, shown as code by :meth:`solution`.
        correct_note: optional sentence shown after "Correct" (what the learner just learned).
        measured_note: set by a ``check_answer`` that measures something (an experiment that retrains or
            re-evaluates the learner's models); shown after "Correct" instead of ``correct_note``, so the
            verdict says what the check measured. Reset before every check.
    """

    title: str = ""
    hints: Sequence[str] = ()
    solution_code: str = ""
    correct_note: str = ""

    def __init__(self, name: str):
        self.name = name
        self.measured_note = ""

    def __repr__(self) -> str:
        return f"<{self.name}: {self.title} - use {self.name}.check(...), {self.name}.hint(), {self.name}.solution()>"

    # -- to override ----------------------------------------------------------------------
    def check_answer(self, answer: Any) -> None:
        """Raise :class:`IncorrectAnswer` with a teaching message unless ``answer`` is right."""
        raise NotImplementedError(f"{type(self).__name__} must implement check_answer.")

    # -- public API -----------------------------------------------------------------------
    def check(self, *answers: Any) -> CheckResult:
        """Check the learner's answer(s), show "Correct" or "Incorrect: ...", and return the verdict.

        Returns:
            A :class:`CheckResult`, true when correct (``assert q1.check(f)`` works in tests).
        """
        feedback = self.evaluate(*answers)
        show(feedback)
        return CheckResult(feedback)

    def evaluate(self, *answers: Any) -> Feedback:
        """The feedback :meth:`check` would show, without showing it."""
        self.measured_note = ""
        try:
            self._bind(answers)
            for value in answers:
                if value is Ellipsis:
                    raise NotAnsweredYet(
                        "the answer is still `...`; replace the `...` with your answer and run the cell again."
                    )
            self.check_answer(*answers)
        except IncorrectAnswer as err:
            return Feedback("incorrect", str(err))
        return Feedback("correct", self.measured_note or self.correct_note)

    def hint(self, n: int = 1) -> None:
        """Show hint number ``n`` (1 = the gentlest)."""
        show(Feedback("hint", self.hint_text(n)))

    def hint_text(self, n: int = 1) -> str:
        """Text of hint ``n``; says how many hints exist when ``n`` is out of range."""
        hints = [self.hints] if isinstance(self.hints, str) else list(self.hints)
        if not hints:
            return "no hint for this question; try the solution."
        if not 1 <= int(n) <= len(hints):
            return f"{self.name} has hints 1 to {len(hints)}; ask for one of those, e.g. {self.name}.hint(1)."
        more = f" (stronger: {self.name}.hint({n + 1}))" if n < len(hints) else ""
        return hints[int(n) - 1] + more

    def solution(self) -> None:
        """Show the reference solution as code."""
        show(Feedback("solution", "", inspect.cleandoc(self.solution_code)))

    # -- helpers --------------------------------------------------------------------------
    def _bind(self, answers: tuple) -> None:
        params = [p for p in inspect.signature(self.check_answer).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = [p.name for p in params]
        required = [p.name for p in params if p.default is p.empty]
        if not len(required) <= len(answers) <= len(names):
            example = f"`{self.name}.check({', '.join(required)})`"
            raise IncorrectAnswer(
                f"{self.name}.check needs {len(required)} answer{'s' if len(required) > 1 else ''} "
                f"({', '.join(required)}), e.g. {example}; got {len(answers)}."
            )


def call_learner(function: Any, *args: Any, name: str | None = None, **kwargs: Any) -> Any:
    """Call a learner's ``function`` and turn any exception in it into an :class:`IncorrectAnswer`.

    The message names the call (``uniform_indices(5, 8)``), the error, and the line of the
    learner's own code where it happened, so a notebook shows one readable sentence.

    Raises:
        NotAnsweredYet: the function still raises ``NotImplementedError`` (the student copy's placeholder).
        IncorrectAnswer: ``function`` is not callable, or it raised any other exception.
    """
    label = name or getattr(function, "__name__", "your function")
    if function is Ellipsis:
        raise NotAnsweredYet(f"pass your function to the check, e.g. `check({label})`, not `...`.")
    if not callable(function):
        raise IncorrectAnswer(
            f"expected a function to call (pass its name without brackets, e.g. `check({label})`); "
            f"got a {type(function).__name__}."
        )
    arguments = [_short_repr(a) for a in args] + [f"{k}={_short_repr(v)}" for k, v in kwargs.items()]
    call = f"{label}({', '.join(arguments)})"
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise NotAnsweredYet(
            f"`{label}` is not written yet: replace `raise NotImplementedError` with your code and run "
            "that cell again."
        ) from None
    except Exception as err:  # any error of the learner's code becomes feedback, not a traceback
        where = _learner_line(err, function)
        raise IncorrectAnswer(
            f"calling `{call}` raised {type(err).__name__}: {err}{where}"
        ) from None


def _learner_line(err: BaseException, function: Callable) -> str:
    """`` (line N of your function: `code`)`` for the deepest frame in the learner's file, else ``""``."""
    code = getattr(function, "__code__", None)
    if code is None:
        return ""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == code.co_filename]
    if not frames:
        return ""
    frame = frames[-1]
    line = (frame.line or "").strip()
    offset = frame.lineno - code.co_firstlineno + 1
    return f" (line {offset} of `{code.co_name}`: `{line}`)" if line else f" (line {offset} of `{code.co_name}`)"


def _short_repr(value: Any) -> str:
    """A short description of an argument: arrays by shape and dtype, long values cut."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"<array shape={tuple(shape)} dtype={dtype}>"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(value: Any) -> str:
    """What a learner returned, in words: ``a float64 array of shape (8,)``, ``a list of 3 items``, ``None``."""
    if value is None:
        return "None (did you forget `return`?)"
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"a {dtype} {type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__} ({_short_repr(value)})"


def reported_accuracies(measured: Any, keys: Sequence[str]) -> dict[str, float]:
    """The accuracies a learner reports in an experiment exercise, ``{key: number in [0, 1]}``, checked.

    Raises:
        IncorrectAnswer: not a dict, a key missing, or a value that is not a number in [0, 1]
            (a bool or a string counts as not a number); the message shows the expected form.
    """
    example = "`measured = {" + ", ".join(f'"{k}": ...' for k in keys) + "}`"
    if not isinstance(measured, dict):
        count = {1: "one", 2: "two", 3: "three"}.get(len(keys), str(len(keys)))
        raise IncorrectAnswer(f"`measured` should be a dict of your {count} accuracies with the keys "
                              f"{list(keys)}, {example}; got {describe(measured)}.")
    missing = [k for k in keys if k not in measured]
    if missing:
        raise IncorrectAnswer(f"`measured` should be a dict with the keys {list(keys)}, {example}; it lacks {missing}.")
    out = {}
    for key in keys:
        value = measured[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or isinstance(value, (bool, str)) or not 0.0 <= number <= 1.0:
            raise IncorrectAnswer(f"`measured[{key!r}]` should be an accuracy, a number in [0, 1]; got "
                                  f"{describe(value)}.")
        out[key] = number
    return out


def learner_probabilities(model: Any, x: Any, *, name: str, num_classes: int, input_doc: str) -> np.ndarray:
    """``model(x, training=False)`` as ``(N, num_classes)`` float64 probabilities, for a check to measure.

    Args:
        model: the learner's trained Keras model.
        x: the check's own inputs, ``N`` samples.
        name: how the notebook calls the model (``"plain_model"``), for the messages.
        num_classes: the classes of the task.
        input_doc: what the inputs are, for the message (``"(B, 8, 18, 2) sequences"``).

    Raises:
        IncorrectAnswer: the model fails, returns several outputs, or another shape.
    """
    out = call_learner(lambda inputs: model(inputs, training=False), x, name=name)
    if isinstance(out, (dict, list, tuple)):
        raise IncorrectAnswer(f"`{name}` should return one (B, {num_classes}) tensor of probabilities; got "
                              f"{describe(out)}.")
    probs = np.asarray(out, dtype=np.float64)
    if probs.shape != (len(x), num_classes):
        raise IncorrectAnswer(f"`{name}` should map {input_doc} to (B, {num_classes}) probabilities; got {probs.shape}.")
    return probs


def compare_reported(reported: dict[str, float], scores: dict[str, float], keys: Sequence[str], *, tolerance: float,
                     where: str, data: str) -> None:
    """Refuse reported accuracies that differ from the check's own measurement by more than ``tolerance``.

    Args:
        reported: the learner's numbers (:func:`reported_accuracies`).
        scores: the same models measured by the check, ``where`` (a phrase: "on 90 sequences of other actors").
        data: what the learner should have measured on, for the message (``"`x_test`"``).

    Raises:
        IncorrectAnswer: naming the first key whose number is off, with both numbers.
    """
    for key in keys:
        if abs(scores[key] - reported[key]) > tolerance:
            raise IncorrectAnswer(
                f"you reported {reported[key]:.2f} for `{key}`, but measured {where} it scores {scores[key]:.2f}. "
                f"Compute `measured` from these very models' predictions on {data} (never type the numbers), and "
                "check which number belongs to which model."
            )
