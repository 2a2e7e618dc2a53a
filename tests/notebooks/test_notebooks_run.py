"""A course notebook run by papermill takes the parameters the course runner injects and writes a valid metrics.json.

Every notebook is executed once in ``make test``: by nbval in the smoke profile, where
``tests/support/notebook_metrics.py`` checks the ``metrics.json`` each one wrote. Here papermill runs chapter 00
(the quickest) with ``PROFILE``, ``SEED``, ``DATA_DIR`` and ``OUTPUT_DIR`` injected, as ``hybridvid course run``
does; ``tests/hostile/test_parameters.py`` checks every notebook's parameters cell, ``tests/course/`` the runner.
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

from tests.support.notebook_metrics import check_metrics_document

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_course_has_notebooks():
    assert [p.name for p in NOTEBOOKS][:1] == ["00_video_data.ipynb"]


@pytest.mark.slow
def test_a_notebook_takes_the_injected_parameters(stickactions_smoke, tmp_path):
    notebook = NOTEBOOKS[0]
    out_dir = tmp_path / "out"
    pm.execute_notebook(
        str(notebook), str(tmp_path / notebook.name),
        parameters={"PROFILE": "smoke", "SEED": 1, "DATA_DIR": str(stickactions_smoke),
                    "OUTPUT_DIR": str(out_dir)},
        cwd=str(tmp_path), kernel_name="python3", progress_bar=False, execution_timeout=600,
    )
    doc = json.loads((out_dir / "metrics.json").read_text())
    check_metrics_document(doc, notebook=notebook.stem, profile="smoke", seed=1)
    assert not (tmp_path / "outputs").exists()  # nothing written to the notebook's default OUTPUT_DIR
