"""Exercises: ``q1.check()`` / ``q1.hint()`` / ``q1.solution()`` feedback and generated student notebooks.

One checks module per chapter exposes the questions of its exercise notebook::

    from hybridvid_lib.exercises.ch00 import q1, q2, q3   # video data
    from hybridvid_lib.exercises.ch01 import q1, q2, q3   # CNN + LSTM
    from hybridvid_lib.exercises.ch02 import q1, q2, q3   # two streams
    from hybridvid_lib.exercises.ch03 import q1, q2, q3   # C3D
    from hybridvid_lib.exercises.ch04 import q1, q2, q3   # CNN + Transformer
    from hybridvid_lib.exercises.ch05 import q1, q2, q3   # ST-GCN
    from hybridvid_lib.exercises.ch07 import q1, q2, q3   # the hybrid: attention pooling, center loss
    from hybridvid_lib.exercises.ch08 import q1, q2, q3, q4   # evaluation: leaks, paired tests, seeds

- :mod:`.core`: :class:`Question` (subclass it to write a check), :class:`IncorrectAnswer`,
  :func:`call_learner` (runs a learner's function and turns its errors into feedback).
- :mod:`.student_copy`: :func:`sync_exercises` writes ``exercises/NN_topic.ipynb`` from
  ``exercises/solutions/NN_topic.ipynb``; :func:`check_exercises` lists copies that drifted.

Importing this package does not import TensorFlow.
"""

from hybridvid_lib.exercises.core import (
    CheckResult,
    Feedback,
    IncorrectAnswer,
    NotAnsweredYet,
    Question,
    call_learner,
)

def __getattr__(name: str):
    # Imported on first use: the checks of a notebook do not need nbformat, and
    # `python -m hybridvid_lib.exercises.student_copy` must not find the module imported already.
    if name in ("check_exercises", "sync_exercises"):
        from hybridvid_lib.exercises import student_copy

        return getattr(student_copy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "Feedback",
    "IncorrectAnswer",
    "NotAnsweredYet",
    "Question",
    "call_learner",
    "check_exercises",
    "sync_exercises",
]
