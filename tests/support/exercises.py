"""Helpers for the tests of the exercise checks."""

from __future__ import annotations

import inspect

import numpy as np


def solution_namespace(question, **names) -> dict:
    """The names the reference solution of ``question`` defines, run with ``np`` and ``names`` in scope."""
    namespace = {"np": np, **names}
    exec(inspect.cleandoc(question.solution_code), namespace)
    return namespace
