"""Student copies of the exercise notebooks, generated from the solution notebooks, and a drift check.

Solution notebooks live in ``exercises/solutions/NN_<topic>.ipynb``; the student copy
``exercises/NN_<topic>.ipynb`` is *generated* from it and never edited by hand:

- In code cells, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (markers on
  their own lines, any indentation) are replaced, at the indentation of the ``BEGIN`` marker, by
  a placeholder:

  * a block made only of simple assignments to names (``answer = ("SitDown", "StandUp")``)
    becomes ``# TODO: your code here`` and one ``name = ...`` line per assigned name, so the
    notebook still runs and the check answers "the answer is still `...`";
  * any other block (a function body, a loop, a call) becomes ``# TODO: your code here`` and
    ``raise NotImplementedError``, which the checks report as "not written yet". Put such
    blocks inside functions, so that a student copy still runs from top to bottom.

- Cells tagged ``solution-only`` (any cell type) are dropped.
- Outputs and execution counts are cleared, with the ``execution`` / ``papermill`` metadata
  that running a notebook adds; the notebook metadata records which solution the copy
  comes from (``metadata.hybridvid.student_copy_of``).
- Everything else (markdown, other code, tags, cell ids) is kept as it is.

:func:`sync_exercises` (re)writes every student copy atomically; :func:`check_exercises`
lists those that are missing, differ from what the generator would write, or have no
solution notebook. The test suite asserts that the check is clean for the repository::

    python -m hybridvid_lib.exercises.student_copy sync     # after editing a solution notebook
    python -m hybridvid_lib.exercises.student_copy check    # exit status 1 on drift
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
import textwrap
from pathlib import Path
from typing import Sequence

import nbformat

from hybridvid_lib.io_utils import atomic_write_text

BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"
TODO_LINE = "# TODO: your code here"
SOLUTION_ONLY_TAG = "solution-only"
EXERCISES_DIR = "exercises"
SOLUTIONS_DIR = "solutions"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
# Metadata that executing a notebook adds; a student copy starts clean.
_TRANSIENT_CELL_METADATA = ("execution", "papermill")
_TRANSIENT_NOTEBOOK_METADATA = ("papermill",)


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of ``source`` by its placeholder.

    Args:
        source: the code of one cell.
        where: names the cell in error messages (``"00_video_data_exercises.ipynb cell 5"``).

    Returns:
        The code with each block replaced (see the module docstring for the two placeholders).

    Raises:
        ValueError: a marker without its partner, or nested markers.
    """
    lines = source.split("\n")
    out: list[str] = []
    begin: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN_MARKER:
            if begin is not None:
                raise ValueError(
                    f"{where}: {BEGIN_MARKER!r} on line {number} opens a block inside the one opened on line "
                    f"{begin + 1}; expected {END_MARKER!r} first."
                )
            begin = number - 1
        elif marker == END_MARKER:
            if begin is None:
                raise ValueError(f"{where}: {END_MARKER!r} on line {number} has no {BEGIN_MARKER!r} before it.")
            indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            out.extend(indent + p for p in _placeholder(lines[begin + 1: number - 1]))
            begin = None
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise ValueError(f"{where}: {BEGIN_MARKER!r} on line {begin + 1} has no {END_MARKER!r} after it.")
    return "\n".join(out)


def _placeholder(block: list[str]) -> list[str]:
    """Placeholder lines (without indentation) for the solution lines ``block``."""
    names = _assigned_names(textwrap.dedent("\n".join(block)))
    if names:
        return [TODO_LINE] + [f"{name} = ..." for name in names]
    return [TODO_LINE, "raise NotImplementedError"]


def _assigned_names(code: str) -> list[str]:
    """The names assigned by ``code`` if it is only ``name = value`` statements, else ``[]``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
            targets = [t.id for t in statement.targets]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        else:
            return []
        names.extend(t for t in targets if t not in names)
    return names


def make_student_notebook(solution: nbformat.NotebookNode, source_name: str = "") -> nbformat.NotebookNode:
    """The student copy of a solution notebook (a new notebook; ``solution`` is not changed).

    Args:
        solution: the solution notebook (nbformat 4).
        source_name: the solution's file name, recorded in the metadata and used in error messages.
    """
    nb = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(nb.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for key in _TRANSIENT_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where=f"{source_name or 'notebook'} cell {index}")
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    for key in _TRANSIENT_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    if source_name:
        nb.metadata["hybridvid"] = {"student_copy_of": f"{SOLUTIONS_DIR}/{source_name}"}
    return nb


def render_student_copy(solution_path: str | Path) -> str:
    """The text of the student copy of the notebook at ``solution_path`` (what :func:`sync_exercises` writes)."""
    solution_path = Path(solution_path)
    solution = nbformat.read(solution_path, as_version=4)
    student = make_student_notebook(solution, source_name=solution_path.name)
    nbformat.validate(student)
    return nbformat.writes(student) + "\n"


def _solution_notebooks(root: Path) -> list[Path]:
    return sorted((Path(root) / EXERCISES_DIR / SOLUTIONS_DIR).glob(NOTEBOOK_GLOB))


def student_copy_path(solution_path: str | Path) -> Path:
    """``exercises/NN_topic.ipynb`` for ``exercises/solutions/NN_topic.ipynb``."""
    solution_path = Path(solution_path)
    return solution_path.parent.parent / solution_path.name


def sync_exercises(root: str | Path) -> list[Path]:
    """(Re)write the student copy of every solution notebook under ``root/exercises/solutions``.

    Args:
        root: the project folder (the one that holds ``exercises/``).

    Returns:
        The paths of the student copies, in name order (each written atomically).
    """
    written = []
    for solution_path in _solution_notebooks(Path(root)):
        target = student_copy_path(solution_path)
        written.append(atomic_write_text(target, render_student_copy(solution_path)))
    return written


def check_exercises(root: str | Path) -> list[str]:
    """File names of student copies under ``root/exercises`` that are out of step with their solutions.

    A name is listed when its student copy is missing, differs from what :func:`sync_exercises`
    would write (compared as notebook JSON, so whitespace does not count), or has no solution
    notebook at all. An empty list means the copies are in sync.
    """
    root = Path(root)
    drift = []
    expected_names = set()
    for solution_path in _solution_notebooks(root):
        target = student_copy_path(solution_path)
        expected_names.add(target.name)
        if not target.is_file():
            drift.append(target.name)
            continue
        try:
            current = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            drift.append(target.name)  # unreadable or not JSON: not what the generator writes
            continue
        if current != json.loads(render_student_copy(solution_path)):
            drift.append(target.name)
    for orphan in (root / EXERCISES_DIR).glob(NOTEBOOK_GLOB):
        if orphan.name not in expected_names:
            drift.append(orphan.name)
    return sorted(drift)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hybridvid_lib.exercises.student_copy {sync,check} [--root DIR]``; 1 when ``check`` finds drift."""
    parser = argparse.ArgumentParser(
        prog="python -m hybridvid_lib.exercises.student_copy",
        description="Generate the student exercise notebooks from the solutions, or check they are in sync.",
    )
    parser.add_argument("action", choices=("sync", "check"))
    parser.add_argument("--root", type=Path, default=None,
                        help="project folder that holds exercises/ (default: the kit's checkout, else .)")
    args = parser.parse_args(argv)
    root = args.root or _default_root()
    if args.action == "sync":
        for path in sync_exercises(root):
            print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
        return 0
    drift = check_exercises(root)
    if drift:
        print("student copies out of step with exercises/solutions/: " + ", ".join(drift)
              + ". Run `python -m hybridvid_lib.exercises.student_copy sync` (and delete copies without a solution).")
        return 1
    print("student copies are in sync with their solutions.")
    return 0


def _default_root() -> Path:
    from hybridvid_lib.config import project_root

    return project_root() or Path.cwd()


if __name__ == "__main__":
    sys.exit(main())
