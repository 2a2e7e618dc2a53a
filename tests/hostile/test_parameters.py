"""Wrong-typed notebook parameters and unknown names stop at the first cell that uses them, in one sentence.

papermill replaces a notebook's ``parameters`` cell values with anything (``-p EPOCHS ten`` keeps the text,
``-p SEED 1.5`` a float, ``-r`` keeps every value as text). Every course notebook's setup cell calls
:func:`hybridvid_lib.config.check_parameters` before it uses one.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest

from hybridvid_lib.config import NOTEBOOK_PARAMETERS, check_parameters, resolve_settings
from hybridvid_lib.errors import HybridVidError, SettingsError
from tests.support.notebook_cells import cells, notebook_defaults, parameters_cell

PROJECT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((PROJECT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Chapters, exercise solutions and the student copies made from them: every notebook with parameters.
WITH_PARAMETERS = NOTEBOOKS + sorted((PROJECT / "exercises").rglob("[0-9][0-9]_*.ipynb"))
IDS = [str(p.relative_to(PROJECT).with_suffix("")) for p in WITH_PARAMETERS]


def defaults(notebook: Path, monkeypatch) -> dict:
    monkeypatch.delenv("HYBRIDVID_PROFILE", raising=False)
    return notebook_defaults(notebook)


@pytest.mark.parametrize("notebook", WITH_PARAMETERS, ids=IDS)
def test_every_parameter_has_a_check_and_the_defaults_pass(notebook, monkeypatch):
    params = defaults(notebook, monkeypatch)
    assert sorted(set(params) - set(NOTEBOOK_PARAMETERS)) == []  # a new parameter needs a line in the table
    check_parameters(params)


@pytest.mark.parametrize("notebook", WITH_PARAMETERS, ids=IDS)
def test_the_setup_cell_checks_the_parameters_before_using_them(notebook, monkeypatch):
    index, _ = parameters_cell(notebook)
    names = set(defaults(notebook, monkeypatch))
    setup = next("".join(c["source"]) for c in cells(notebook)[index + 1:] if c["cell_type"] == "code")
    lines = setup.splitlines()
    check = lines.index("check_parameters(globals())  # a parameter of the wrong type stops here, with one sentence")
    first_use = next(i for i, line in enumerate(lines)
                     if i != check and any(re.search(rf"\b{name}\b", line) for name in names))
    assert check < first_use, lines[first_use]


@pytest.mark.parametrize("name, value, words", [
    ("EPOCHS", "ten", "EPOCHS expects None or a whole number >= 0, like 3; got 'ten'"),
    ("SEED", 1.5, "SEED expects a whole number >= 0, like 0; got 1.5"),
    ("SEED", "3", "give numbers with papermill -p, not -r"),
    ("SEED", -1, "SEED expects a whole number >= 0"),
    ("PROFILE", "fast", "PROFILE expects one of the profiles smoke, cpu, gpu; got 'fast'"),
    ("EPOCHS", True, "got True"),
    ("SPLIT", 0, "SPLIT expects a split number >= 1"),
    ("VAL_FRACTION", 1.5, "VAL_FRACTION expects 0 (no validation groups) or a fraction between 0 and 1"),
    ("VAL_FRACTION", math.nan, "VAL_FRACTION expects 0 (no validation groups) or a fraction"),
    ("VAL_FRACTION", -0.2, "VAL_FRACTION expects 0 (no validation groups) or a fraction"),
    ("VAL_FRACTION", False, "got False"),
    ("DATASET", "kinetics", "one of the datasets stickactions, ucf101, hmdb51"),
    ("PRESET", "huge", "None or a StickActions preset name"),
    ("FLOW_MEAN_SUBTRACTION", "yes", "FLOW_MEAN_SUBTRACTION expects True or False"),
    ("ABLATION_SEEDS", "0,x", "ABLATION_SEEDS expects"),
    ("OUTPUT_DIR", "", "OUTPUT_DIR expects a folder path as text"),
    ("DATA_DIR", 3, "DATA_DIR expects a folder path as text"),
    ("CENTER_WEIGHT", -0.5, "CENTER_WEIGHT expects None or a number >= 0"),
])
def test_a_wrong_parameter_is_one_sentence_naming_it(name, value, words):
    with pytest.raises(SettingsError) as caught:
        check_parameters({"PROFILE": "smoke", "SEED": 0, name: value})
    message = str(caught.value)
    assert words in message and "\n" not in message and message.endswith(".")


def test_no_validation_groups_is_a_valid_fraction():
    for value in (0, 0.0, 0.2):
        check_parameters({"PROFILE": "smoke", "SEED": 0, "VAL_FRACTION": value})


@pytest.mark.parametrize("overrides, words", [
    ({"profile": "fast"}, "Unknown profile 'fast'; expected one of: smoke, cpu, gpu."),
    ({"num_epochs": True}, "Setting 'num_epochs' expects a value like"),
    ({"num_epochs": "ten"}, "Setting 'num_epochs' expects a value like"),
    ({"learning_rate": math.nan}, "Setting 'learning_rate' must be a number above 0"),
    ({"learning_rate": -1e-3}, "Setting 'learning_rate' must be a number above 0"),
    ({"epochs": 3}, "Unknown setting 'epochs'; known settings: "),
])
def test_resolve_settings_refuses_bad_values_and_unknown_names(overrides, words):
    profile = overrides.pop("profile", "smoke")
    with pytest.raises(SettingsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        resolve_settings(profile, **overrides)
    assert issubclass(SettingsError, HybridVidError)


def test_unknown_model_names_list_the_known_ones():
    from hybridvid_lib.errors import ModelError
    from hybridvid_lib.models import build_model, model_info

    with pytest.raises(ModelError, match="Unknown model 'cnn-lstm'; known models: .*cnn_lstm"):
        model_info("cnn-lstm")
    with pytest.raises(ModelError, match="known models"):
        build_model("resnet", resolve_settings("smoke"), 3)


@pytest.mark.slow
def test_a_notebook_run_with_a_wrong_parameter_stops_in_its_first_cell_with_one_line(tmp_path):
    # A real papermill run of chapter 00 (no TensorFlow in its setup): the failing cell is the setup cell,
    # its error output is the one sentence, with no traceback frames.
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    notebook = NOTEBOOKS[0]
    with pytest.raises(PapermillExecutionError) as caught:
        pm.execute_notebook(str(notebook), str(tmp_path / notebook.name),
                            parameters={"PROFILE": "smoke", "SEED": 1.5, "OUTPUT_DIR": str(tmp_path / "out")},
                            cwd=str(tmp_path), kernel_name="python3", progress_bar=False, execution_timeout=120)
    error = caught.value
    assert error.ename == "SettingsError" and "SEED expects a whole number >= 0, like 0; got 1.5" in error.evalue
    executed = json.loads((tmp_path / notebook.name).read_text())["cells"]
    failed = next(c for c in executed if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    output = next(o for o in failed["outputs"] if o.get("output_type") == "error")
    assert len(output["traceback"]) == 1 and "Traceback" not in output["traceback"][0]
    assert "check_parameters(globals())" in "".join(failed["source"])
    assert not (tmp_path / "out" / "metrics.json").exists()
    assert os.environ.get("HYBRIDVID_PROFILE") is None


@pytest.mark.parametrize("value, seeds", [("0,1,2", (0, 1, 2)), ([0, 1], (0, 1)), ((2,), (2,)), (3, (3,)),
                                          (None, (0,))])
def test_every_accepted_ablation_seeds_form_reaches_chapter_08_as_seeds(value, seeds):
    # `hybridvid course run -p ABLATION_SEEDS 0,1,2` sends the text '0,1,2', `-p ABLATION_SEEDS 3` the int 3.
    from hybridvid_lib.course.options import parse_seeds

    check_parameters({"ABLATION_SEEDS": value})
    notebook = next(p for p in NOTEBOOKS if p.name.startswith("08_"))
    index, _ = parameters_cell(notebook)
    setup = "".join(cells(notebook)[index + 1]["source"])
    line = next(line for line in setup.splitlines() if line.startswith("seeds = "))
    namespace = {"ABLATION_SEEDS": value, "settings": resolve_settings("smoke"), "parse_seeds": parse_seeds}
    exec(line, namespace)
    assert namespace["seeds"] == seeds
