"""pytest plugin for the nbval run of ``make test``: after a course notebook's last cell, its ``metrics.json``.

nbval runs every cell of a notebook in one kernel and compares the tagged cells' outputs. This plugin adds one
item per course notebook (``notebooks/NN_*.ipynb::metrics.json``), run after the notebook's last cell, that reads
the ``metrics.json`` the notebook wrote in this pytest session to its default ``OUTPUT_DIR`` and checks it as the
course runner reads it: a valid document (``hybridvid_lib.evaluation.validate_metrics``) naming the notebook, the
run's profile and the notebook's ``SEED``, every test accuracy in [0, 1], and a finite final training loss for every trained model.
So the one smoke execution of each notebook in ``make test`` checks both the cells and the notebook's results.

Loaded by the Makefile: ``python -m pytest --nbval-lax -p tests.support.notebook_metrics notebooks``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

import pytest

from tests.support.notebook_cells import notebook_defaults

COURSE_NOTEBOOK = re.compile(r"^\d\d_.+\.ipynb$")
SESSION_START = time.time()
_FAILED_NOTEBOOKS: set[str] = set()  # node ids of the notebooks with a failed cell


def check_metrics_document(doc: dict, *, notebook: str, profile: str | None, seed: int) -> None:
    """Raise ``AssertionError`` with one sentence when ``doc`` is not what the run of ``notebook`` should write."""
    from hybridvid_lib.evaluation import is_skipped, validate_metrics

    validate_metrics(doc)
    assert doc["notebook"] == notebook, f"metrics.json names notebook {doc['notebook']!r}, not {notebook!r}"
    if profile is not None:
        assert doc["profile"] == profile, f"metrics.json says profile {doc['profile']!r}; the run used {profile!r}"
    assert doc["seed"] == seed, f"metrics.json says seed {doc['seed']!r}; the run used {seed}"
    if is_skipped(doc):
        return
    if notebook == "08_evaluation_and_ablation" and profile is not None:
        # The heads must read the streams at the clip length the streams trained on (the notebook's section 3).
        from hybridvid_lib.config import resolve_settings
        from hybridvid_lib.models.i3d import output_steps

        frames = resolve_settings(profile).num_frames
        assert doc.get("feature_frames") == frames, (
            f"chapter 08's heads read features of {doc.get('feature_frames')}-frame clips; the {profile} streams "
            f"train on {frames}")
        assert doc.get("feature_steps") == output_steps(frames), "chapter 08's feature_steps do not match its clips"
        size, least = doc.get("frame_size"), resolve_settings(profile).frame_size
        assert isinstance(size, int) and size >= least, (
            f"chapter 08's video rows read frames of {size!r} px; the {profile} profile's are {least}, and the rows "
            "are never given smaller ones")
    for result in doc["results"]:
        accuracy = result["test_accuracy"]
        assert 0.0 <= accuracy <= 1.0, f"{result['model']}: test accuracy {accuracy} is outside [0, 1]"
        loss = result.get("final_train_loss")
        # No loss only for a model that was not trained (an average of trained streams: 0 epochs).
        if loss is None:
            assert result.get("epochs") == 0, f"{result['model']} trained but recorded no final training loss"
        else:
            assert math.isfinite(loss), f"{result['model']}: final training loss {loss} is not finite"


class NotebookMetrics(pytest.Item):
    """The ``metrics.json`` a course notebook wrote in this session, checked after its cells."""

    def runtest(self) -> None:
        notebook = Path(str(self.parent.fspath))
        if self.nodeid.split("::", 1)[0] in _FAILED_NOTEBOOKS:
            pytest.skip("a cell of this notebook failed; its metrics.json was not checked")
        defaults = notebook_defaults(notebook)
        path = notebook.parent / defaults["OUTPUT_DIR"] / "metrics.json"  # nbval's kernel runs in the folder
        if not path.exists() or path.stat().st_mtime < SESSION_START:
            raise AssertionError(f"{notebook.name} ran without writing {path} in this session")
        doc = json.loads(path.read_text(encoding="utf-8"))
        check_metrics_document(doc, notebook=notebook.stem, profile=os.environ.get("HYBRIDVID_PROFILE"),
                               seed=defaults["SEED"])

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value).splitlines()[0]  # the sentence, without assertion rewriting's details

    def reportinfo(self):
        return self.path, None, f"{self.parent.fspath.basename}::metrics.json"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # One metrics item after the last cell of each course notebook; everything else stays in its place.
    last_cell: dict = {}
    for index, item in enumerate(items):
        if type(item).__name__ == "IPyNbCell" and COURSE_NOTEBOOK.match(Path(str(item.parent.fspath)).name):
            last_cell[item.parent] = index
    for parent, index in sorted(last_cell.items(), key=lambda pair: pair[1], reverse=True):
        items.insert(index + 1, NotebookMetrics.from_parent(parent, name="metrics.json"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and "::Cell " in report.nodeid:
        _FAILED_NOTEBOOKS.add(report.nodeid.split("::", 1)[0])
