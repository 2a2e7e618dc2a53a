"""Finding the course notebooks (``notebooks/NN_*.ipynb``) and choosing some of them by number.

A chapter's number is the two digits in front of its name: ``01_cnn_lstm.ipynb`` is chapter ``01``.
``--only 00,01`` (or ``only=["0", "1"]``: numbers are zero-padded) keeps those chapters; a
full stem such as ``01_cnn_lstm`` is accepted too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

from hybridvid_lib.config import project_root
from hybridvid_lib.errors import HybridVidError

NOTEBOOK_PATTERN = re.compile(r"^(\d{2})_.+\.ipynb$")


class CourseError(HybridVidError, ValueError):
    """A course run was asked for something that does not exist (notebook, kernel, seed, parameter)."""


def default_notebooks_dir() -> Path:
    """``<checkout>/notebooks``; a :class:`CourseError` when the kit is not installed from a checkout."""
    root = project_root()
    if root is None:
        raise CourseError(
            "No course checkout found, so there is no notebooks/ folder; pass the folder that holds "
            "the NN_*.ipynb notebooks (run_course(notebooks_dir=...))."
        )
    return root / "notebooks"


def notebook_number(path: Path) -> str:
    """The two-digit chapter number of ``NN_name.ipynb``."""
    match = NOTEBOOK_PATTERN.match(Path(path).name)
    if match is None:
        raise ValueError(f"A course notebook is named NN_name.ipynb (two digits first); got {Path(path).name!r}.")
    return match.group(1)


def find_notebooks(notebooks_dir: str | Path) -> list[Path]:
    """The ``NN_*.ipynb`` files directly in ``notebooks_dir``, sorted by name.

    Raises:
        CourseError: the folder does not exist or holds no such notebook.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise CourseError(f"The notebooks folder {folder} does not exist; expected a folder of NN_*.ipynb files.")
    notebooks = sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))
    if not notebooks:
        raise CourseError(f"No course notebook (NN_name.ipynb) in {folder}.")
    return notebooks


def _normalise_choice(choice: str | int) -> str:
    text = str(choice).strip()
    # "1" and "01" name the same chapter, as a teacher would expect.
    return text.zfill(2) if text.isdigit() else text


def parse_only(text: str | None) -> list[str] | None:
    """``"00, 01"`` -> ``["00", "01"]``; ``None`` or blank -> ``None`` (every notebook)."""
    if text is None or not text.strip():
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def select_notebooks(notebooks: Sequence[Path], only: Iterable[str | int] | None) -> list[Path]:
    """Keep the notebooks whose number (or stem) is in ``only``, in course order; all when ``only`` is None.

    Raises:
        CourseError: a requested number matches no notebook (the message lists the available ones).
    """
    if only is None:
        return list(notebooks)
    wanted = [_normalise_choice(c) for c in only]
    if not wanted:
        return list(notebooks)
    known = {p: (notebook_number(p), p.stem) for p in notebooks}
    unknown = [w for w in wanted if not any(w in keys for keys in known.values())]
    if unknown:
        available = ", ".join(f"{num} ({stem})" for num, stem in known.values())
        raise CourseError(
            f"No notebook numbered {', '.join(unknown)}; available: {available}."
        )
    return [p for p, keys in known.items() if any(w in keys for w in wanted)]
