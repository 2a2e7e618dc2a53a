"""``hybridvid course render``: store the outputs that nbval checks, produced by one known run.

Committed notebooks carry no outputs except those of cells tagged ``nbval-check-output``
(deterministic facts: shapes, parameter counts, the classes of the dataset). This module
executes a notebook with papermill in the ``smoke`` profile (seed 0, StickActions ``smoke``
in a scratch folder, the profile the test suite's nbval run uses), then writes back the
*source* notebook with:

- the outputs of tagged cells, stderr streams removed (nbval does not see the kernel's C-level
  stderr, see ``PITFALLS.md``), numbered by their position among the code cells;
- no outputs at all in every other cell, no papermill metadata, no injected-parameters cell.

A rendered output that holds an absolute path is refused: committed outputs must read the
same on every machine.
"""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Sequence

import nbformat

from hybridvid_lib.course.catalog import CourseError
from hybridvid_lib.io_utils import atomic_write_text

CHECKED_TAG = "nbval-check-output"
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.-]+/){2,}[\w.-]+")


def _kept_outputs(outputs: list) -> list:
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        output = copy.deepcopy(output)
        if "execution_count" in output:
            output["execution_count"] = None
        kept.append(output)
    return kept


def merge_rendered(source: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook with the outputs of its tagged cells taken from ``executed``.

    Cells are matched by their ids (papermill keeps them and adds an ``injected-parameters``
    cell, which is left out). Raises :class:`CourseError` when a tagged cell has no executed
    counterpart or a kept output holds an absolute path.
    """
    by_id = {cell.get("id"): cell for cell in executed.cells}
    rendered = copy.deepcopy(source)
    code_cells = [cell for cell in rendered.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if CHECKED_TAG not in cell.metadata.get("tags", []):
            cell.outputs = []
            continue
        ran = by_id.get(cell.get("id"))
        if ran is None:
            raise CourseError(f"Cell {cell.get('id')!r} was not found in the executed notebook; "
                              "cells need stable ids (nbformat 4.5).")
        cell.outputs = _kept_outputs(ran.get("outputs", []))
        # nbval treats a cell with outputs but no execution count as "unrun"; number it by
        # its position so the file does not change from one render to the next.
        cell.execution_count = number
        text = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
        match = _ABSOLUTE_PATH.search(text)
        if match:
            raise CourseError(f"Cell {cell.get('id')!r} tagged {CHECKED_TAG!r} prints an absolute path "
                              f"({match.group(0)}); print a relative one so the output is the same everywhere.")
    rendered.metadata.pop("papermill", None)
    return rendered


def render_notebooks(notebooks: Sequence[Path], *, kernel_name: str = "python3",
                     data_dir: Path | None = None, timeout: int | None = 900) -> list[Path]:
    """Execute each notebook in the smoke profile and store the outputs of its tagged cells in place."""
    import papermill as pm

    from hybridvid_lib.data.synth import generate_stickactions

    written = []
    with tempfile.TemporaryDirectory(prefix="hybridvid-render-") as scratch:
        scratch = Path(scratch)
        data = data_dir or scratch / "stickactions-smoke"
        generate_stickactions(data, preset="smoke", seed=0, progress=False)
        for path in notebooks:
            path = Path(path)
            executed_path = scratch / path.name
            pm.execute_notebook(
                str(path), str(executed_path), kernel_name=kernel_name, cwd=str(scratch),
                parameters={"PROFILE": "smoke", "SEED": 0, "DATA_DIR": str(data),
                            "OUTPUT_DIR": str(scratch / "outputs" / path.stem)},
                progress_bar=False, execution_timeout=timeout,
            )
            source = nbformat.read(path, as_version=4)
            rendered = merge_rendered(source, nbformat.read(executed_path, as_version=4))
            atomic_write_text(path, nbformat.writes(rendered) + "\n")
            written.append(path)
    return written
