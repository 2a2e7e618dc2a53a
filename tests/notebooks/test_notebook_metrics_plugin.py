"""The nbval run's metrics check (``tests/support/notebook_metrics.py``) passes a notebook that wrote a good
``metrics.json`` in the run, and fails one that wrote none, an old one, or one with a trained model's loss missing.

One nbval session in a subprocess over five tiny notebooks written here (one kernel start each, seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

from tests.support.notebook_metrics import check_metrics_document

PROJECT = Path(__file__).resolve().parents[2]

PARAMETERS = ("import os\nPROFILE = os.environ.get('HYBRIDVID_PROFILE', 'cpu')\nSEED = 0\n"
              "OUTPUT_DIR = 'outputs/{stem}'")
WRITE = """\
import json, pathlib
result = {{"model": "tiny", "dataset": "synthetic", "split": None, "test_accuracy": 0.75, "macro_f1": 0.7,
          "params": 10, "train_seconds": 1.0, "epochs": 2, "final_train_loss": {loss}}}
doc = {{"notebook": "{stem}", "profile": PROFILE, "seed": SEED, "results": [result]}}
pathlib.Path(OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
pathlib.Path(OUTPUT_DIR, "metrics.json").write_text(json.dumps(doc))
"""


def write_notebook(folder: Path, stem: str, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS.format(stem=stem))
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, folder / f"{stem}.ipynb")


def good_document(**changes) -> dict:
    result = {"model": "tiny", "dataset": "synthetic", "split": None, "test_accuracy": 0.75, "macro_f1": 0.7,
              "params": 10, "train_seconds": 1.0, "epochs": 2, "final_train_loss": 0.5}
    return {"notebook": "00_x", "profile": "smoke", "seed": 0, "results": [result], **changes}


def test_the_document_check_names_what_is_wrong():
    check_metrics_document(good_document(), notebook="00_x", profile="smoke", seed=0)
    with pytest.raises(AssertionError, match="names notebook '01_y', not '00_x'"):
        check_metrics_document(good_document(notebook="01_y"), notebook="00_x", profile="smoke", seed=0)
    with pytest.raises(AssertionError, match="says profile 'cpu'; the run used 'smoke'"):
        check_metrics_document(good_document(profile="cpu"), notebook="00_x", profile="smoke", seed=0)
    untrained = good_document()
    untrained["results"][0].update(final_train_loss=None, epochs=0)  # an average of trained streams
    check_metrics_document(untrained, notebook="00_x", profile="smoke", seed=0)
    with pytest.raises(ValueError, match="test_accuracy must be a number in"):
        doc = good_document()
        doc["results"][0]["test_accuracy"] = 1.5
        check_metrics_document(doc, notebook="00_x", profile="smoke", seed=0)


def test_chapter_08_must_read_its_features_at_the_streams_clip_length():
    """The heads' features come from clips as long as the streams' training clips (16 frames on cpu, 8 in smoke)."""
    ok = good_document(notebook="08_evaluation_and_ablation", profile="cpu", feature_frames=16, feature_steps=2,
                       frame_size=80)
    check_metrics_document(ok, notebook="08_evaluation_and_ablation", profile="cpu", seed=0)
    smoke = good_document(notebook="08_evaluation_and_ablation", feature_frames=8, feature_steps=1, frame_size=32)
    check_metrics_document(smoke, notebook="08_evaluation_and_ablation", profile="smoke", seed=0)
    longer = good_document(notebook="08_evaluation_and_ablation", profile="cpu", feature_frames=40, feature_steps=5,
                           frame_size=80)
    with pytest.raises(AssertionError, match="40-frame clips; the cpu streams train on 16"):
        check_metrics_document(longer, notebook="08_evaluation_and_ablation", profile="cpu", seed=0)
    unsaid = good_document(notebook="08_evaluation_and_ablation", profile="cpu")
    with pytest.raises(AssertionError, match="None-frame clips"):
        check_metrics_document(unsaid, notebook="08_evaluation_and_ablation", profile="cpu", seed=0)


def test_chapter_08_must_say_its_frame_size_and_never_shrink_the_profiles():
    """The video rows read frames at least as large as the profile's (80 px on cpu); the document says which."""
    doc = dict(notebook="08_evaluation_and_ablation", profile="cpu", feature_frames=16, feature_steps=2)
    for size, error in ((None, "None px"), (48, "48 px; the cpu profile's are 64")):
        with pytest.raises(AssertionError, match=error):
            check_metrics_document(good_document(**doc, frame_size=size), notebook="08_evaluation_and_ablation",
                                   profile="cpu", seed=0)
    check_metrics_document(good_document(**doc, frame_size=64), notebook="08_evaluation_and_ablation",
                           profile="cpu", seed=0)


@pytest.mark.slow
def test_the_nbval_run_checks_each_course_notebooks_metrics(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder, "00_good", [WRITE.format(stem="00_good", loss=0.5)])
    write_notebook(folder, "01_silent", ["x = 1"])
    write_notebook(folder, "02_no_loss", [WRITE.format(stem="02_no_loss", loss=None)])
    write_notebook(folder, "03_broken", ["raise ValueError('boom')", WRITE.format(stem="03_broken", loss=0.5)])
    write_notebook(folder, "04_stale", ["x = 1"])
    stale = folder / "outputs" / "04_stale" / "metrics.json"  # a complete document from an earlier run
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps(good_document(notebook="04_stale")))
    old = time.time() - 3600
    os.utime(stale, (old, old))
    write_notebook(folder, "scratch", ["x = 1"])  # not a course notebook: cells only
    (tmp_path / "pytest.ini").write_text("[pytest]\n")

    env = {**os.environ, "PYTHONPATH": str(PROJECT), "HYBRIDVID_PROFILE": "smoke"}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:xdist", "-p", "no:cacheprovider",
         "-p", "tests.support.notebook_metrics", "--junitxml", "report.xml", "notebooks"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    ).stdout
    outcomes = {}  # (notebook, test name) -> (outcome, message)
    for case in ElementTree.parse(tmp_path / "report.xml").iter("testcase"):
        child = next(iter(case), None)
        outcomes[case.get("classname").split(".")[-2], case.get("name")] = (
            "passed" if child is None or child.tag in ("system-out", "system-err") else child.tag,
            "" if child is None else child.get("message", ""))

    assert outcomes["00_good", "metrics.json"] == ("passed", ""), out
    assert outcomes["01_silent", "metrics.json"][0] == "failure", out
    assert "01_silent.ipynb ran without writing" in outcomes["01_silent", "metrics.json"][1]
    assert outcomes["02_no_loss", "metrics.json"] == ("failure", "tiny trained but recorded no final training loss")
    assert outcomes["03_broken", "Cell 1"][0] == "failure"
    assert outcomes["03_broken", "metrics.json"] == (
        "skipped", "a cell of this notebook failed; its metrics.json was not checked")
    assert outcomes["04_stale", "metrics.json"][0] == "failure"
    assert "04_stale.ipynb ran without writing" in outcomes["04_stale", "metrics.json"][1]
    assert [name for notebook, name in outcomes if notebook == "scratch"] == ["Cell 0", "Cell 1"]
