"""Turning the command line's text (``--seeds 0,1,2``, ``-p EPOCHS 3``) into a course run's values."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from hybridvid_lib.course.catalog import CourseError

# The runner sets these for every run; a ``-p`` for them would contradict --profile, --seeds or the
# output layout (and mislabel the results), so it is refused with a pointer to the right option.
RESERVED_PARAMETERS = {"PROFILE": "--profile", "SEED": "--seeds", "OUTPUT_DIR": "--out"}


def parse_parameter_value(text: str) -> Any:
    """Convert a ``-p KEY VALUE`` string the way ``papermill -p`` does.

    ``"True"`` / ``"False"`` -> bool, ``"None"`` -> None, then int, then float, else the string
    unchanged (so ``"3"`` -> 3, ``"1e-3"`` -> 0.001, ``"true"`` stays the text ``"true"``).
    """
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def user_parameters(pairs: Iterable[Sequence[str]] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Notebook parameters from ``[[KEY, VALUE], ...]`` (strings, converted) or a dict (kept as given).

    Raises:
        CourseError: a key is not a Python name, or is one the runner sets itself (PROFILE, SEED, OUTPUT_DIR).
    """
    if pairs is None:
        return {}
    if isinstance(pairs, Mapping):
        items = list(pairs.items())
    else:
        items = []
        for pair in pairs:
            if len(pair) != 2:
                raise CourseError(f"A notebook parameter is a KEY VALUE pair, like -p EPOCHS 3; got {list(pair)!r}.")
            items.append((pair[0], parse_parameter_value(str(pair[1]))))
    params: dict[str, Any] = {}
    for key, value in items:
        if not isinstance(key, str) or not key.isidentifier():
            raise CourseError(f"A notebook parameter name must be a Python name such as EPOCHS; got {key!r}.")
        if key in RESERVED_PARAMETERS:
            raise CourseError(
                f"The course runner sets {key} for every run; use {RESERVED_PARAMETERS[key]} instead of -p {key}."
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise CourseError(f"Notebook parameter {key} must be a finite number; got {value}.")
        params[key] = value
    return params


def parse_seeds(seeds: str | int | Iterable[int | str] | None) -> list[int] | None:
    """``"0,1,2"`` or ``[0, 1, 2]`` -> ``[0, 1, 2]`` (duplicates dropped, order kept); ``3`` -> ``[3]``;
    ``None`` -> ``None``.

    A single whole number is one seed: ``-p ABLATION_SEEDS 3`` reaches a notebook as the int 3.

    Raises:
        CourseError: an entry is not a whole number >= 0, or no seed is left.
    """
    if seeds is None:
        return None
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    parts = seeds.split(",") if isinstance(seeds, str) else list(seeds)
    result: list[int] = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        if isinstance(part, bool) or not text.isdigit():
            raise CourseError(f"Seeds are whole numbers >= 0 separated by commas, like 0,1,2; got {part!r}.")
        if int(text) not in result:
            result.append(int(text))
    if not result:
        raise CourseError("Give at least one seed, like --seeds 0 or --seeds 0,1,2.")
    return result
