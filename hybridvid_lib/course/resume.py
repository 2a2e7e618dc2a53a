"""Continuing a course run that stopped midway (``hybridvid course run --resume [DIR]``).

A course run records every finished run in ``DIR/results.json`` as soon as it ends (atomically, so a
kill at any moment leaves the previous complete file). Resuming reads that record, keeps the runs
that finished (status ``ok`` or ``skipped``) and executes only the (notebook, seed) pairs that are
missing or ``failed``, into the same ``DIR``. The plan is the recorded one: the same profile,
notebooks, seeds and ``-p`` parameters, so that one report never mixes runs made with different
settings; asking for other values is refused with a sentence saying what was recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from hybridvid_lib.course.catalog import CourseError
from hybridvid_lib.course.report import FINISHED_STATUSES, RESULTS_NAME

LATEST_LINK = "latest"
LATEST_FILE = "LATEST"

RunKey = tuple[str, int]


def latest_run_dir(runs_dir: Path) -> Path:
    """The folder ``runs_dir/latest`` points at (the symlink, or the ``LATEST`` text file where links fail).

    Raises:
        CourseError: no course run has been started from this checkout yet.
    """
    link = Path(runs_dir) / LATEST_LINK
    text_pointer = Path(runs_dir) / LATEST_FILE
    # The text file exists only while the newest pointer could not be a link (a link removes it).
    if text_pointer.is_file():
        return Path(text_pointer.read_text(encoding="utf-8").strip())
    if link.is_symlink():
        return link.resolve()
    raise CourseError(
        f"There is no earlier course run to resume ({link} does not exist); pass its folder, "
        f"like --resume runs/20250131-140209."
    )


def load_recorded(out_dir: Path) -> dict[str, Any]:
    """The ``results.json`` document of the course run in ``out_dir``.

    Raises:
        CourseError: ``out_dir`` has no ``results.json``, or it is not a course run's record.
    """
    path = Path(out_dir) / RESULTS_NAME
    if not path.is_file():
        raise CourseError(
            f"Cannot resume {out_dir}: it has no {RESULTS_NAME}, so no course run was started there; "
            f"run without --resume to start one."
        )
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CourseError(f"Cannot resume {out_dir}: {path.name} is not valid JSON ({exc.msg} at line "
                          f"{exc.lineno}).") from None
    if not isinstance(recorded, dict) or any(key not in recorded for key in ("profile", "seeds", "notebooks", "runs")):
        raise CourseError(f"Cannot resume {out_dir}: {path.name} is not a course run's record "
                          f"(expected the keys profile, seeds, notebooks and runs).")
    return recorded


def check_same_profile(recorded: Mapping[str, Any], asked: str | None, out_dir: Path) -> str:
    """The recorded profile; refuse a different one (its numbers would sit in the same report)."""
    profile = str(recorded["profile"])
    if asked is not None and asked != profile:
        raise CourseError(
            f"Cannot resume {out_dir} with profile {asked!r}: its runs were made with profile {profile!r}; "
            f"resume with --profile {profile} or start a new run."
        )
    return profile


def check_same_plan(recorded: Mapping[str, Any], *, notebooks: Sequence[str] | None,
                    seeds: Sequence[int] | None, parameters: Mapping[str, Any], out_dir: Path) -> None:
    """Refuse notebooks, seeds or parameters other than the recorded ones (``None`` / empty: not asked)."""
    def refuse(what: str, asked: Any, kept: Any, option: str) -> None:
        raise CourseError(f"Cannot resume {out_dir} with {what} {asked}: it was started with {kept}; "
                          f"leave out {option} to continue it, or start a new run.")

    if notebooks is not None and list(notebooks) != list(recorded["notebooks"]):
        refuse("notebooks", ", ".join(notebooks), ", ".join(recorded["notebooks"]), "--only")
    if seeds is not None and list(seeds) != list(recorded["seeds"]):
        refuse("seeds", list(seeds), list(recorded["seeds"]), "--seeds")
    kept = recorded.get("parameters") or {}
    if parameters and dict(parameters) != dict(kept):
        refuse("parameters", dict(parameters), dict(kept), "-p")


def finished_runs(runs: Sequence[Mapping[str, Any]]) -> set[RunKey]:
    """The (notebook, seed) pairs whose recorded run finished (ok or skipped): a resume keeps them."""
    return {(str(run["notebook"]), int(run["seed"])) for run in runs if run.get("status") in FINISHED_STATUSES}
