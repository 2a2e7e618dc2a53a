"""Reading a notebook's ``parameters`` cell, for the tests and the nbval plugin."""

from __future__ import annotations

import json
from pathlib import Path


def cells(notebook: Path) -> list[dict]:
    """The notebook's cells, as stored (``source`` a list of lines)."""
    return json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]


def parameters_cell(notebook: Path) -> tuple[int, str]:
    """Index and source of the cell tagged ``parameters``."""
    for i, cell in enumerate(cells(notebook)):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i, "".join(cell["source"])
    raise AssertionError(f"{Path(notebook).name} has no parameters cell")


def notebook_defaults(notebook: Path) -> dict:
    """The upper-case names the ``parameters`` cell assigns, evaluated as a kernel would (same environment)."""
    namespace: dict = {}
    exec(parameters_cell(notebook)[1], namespace)  # the cell only assigns constants (and imports os)
    return {k: v for k, v in namespace.items() if k.isupper()}
