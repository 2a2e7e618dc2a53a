"""The course runner executes real notebooks with papermill (9 tiny executions in this file).

The notebooks are written here with nbformat: a ``parameters`` cell (PROFILE, SEED, OUTPUT_DIR,
ECHO defaults), then cells that write a ``metrics.json`` from SEED, raise in the 3rd cell, write
nothing, or sleep past a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from pathlib import Path

import nbformat
import pytest

from hybridvid_lib.course import (
    CourseError,
    course_run_command,
    parse_parameter_value,
    parse_seeds,
    point_latest,
    run_course,
    source_cell_index,
    user_parameters,
)
from hybridvid_lib.course import runner

PARAMETERS = "PROFILE = 'cpu'\nSEED = 0\nOUTPUT_DIR = 'outputs'\nECHO = 'default'\nFLAG = False"

# Writes two results whose accuracies depend on SEED, and echoes parameters and the kernel's Python.
WRITE_METRICS = """\
import json, os, pathlib, sys
doc = {
    "notebook": "00_good", "profile": PROFILE, "seed": SEED,
    "results": [
        {"model": "tiny_a", "dataset": "synthetic", "split": None, "test_accuracy": 0.5 + 0.1 * SEED,
         "macro_f1": 0.4 + 0.05 * SEED, "params": 1234, "train_seconds": 1.0 + SEED},
        {"model": "tiny_b", "dataset": "synthetic", "split": None, "test_accuracy": 0.9 - 0.2 * SEED,
         "macro_f1": 0.8 - 0.2 * SEED, "params": 56789, "train_seconds": 2.0},
    ],
    "echo": ECHO, "echo_type": type(ECHO).__name__, "flag": FLAG,
    "kernel_executable": sys.executable, "kernel_prefix": sys.prefix, "cwd": os.getcwd(),
}
pathlib.Path(OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
pathlib.Path(OUTPUT_DIR, "metrics.json").write_text(json.dumps(doc))
"""


def write_notebook(path: Path, cells: list[str], *, parameters: str | None = PARAMETERS) -> Path:
    """A Python 3 notebook: an optional ``parameters``-tagged cell, then ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if parameters is not None:
        params = nbformat.v4.new_code_cell(parameters)
        params.metadata["tags"] = ["parameters"]
        nb.cells.append(params)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def make_course(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_notebook(folder / "00_good.ipynb", [WRITE_METRICS])
    write_notebook(folder / "01_fail.ipynb", ["x = 1", "raise ValueError('boom in the third cell')", WRITE_METRICS])
    write_notebook(folder / "02_nometrics.ipynb", ["print('this notebook writes nothing')"])
    write_notebook(folder / "03_slow.ipynb", ["import time", "time.sleep(120)"])
    (folder / "README.md").write_text("not a notebook")
    (folder / "scratch.ipynb").write_text("{}")  # no NN_ prefix: not part of the course
    return folder


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("course") / "notebooks")


@pytest.fixture(scope="module")
def two_seed_run(course_dir, tmp_path_factory):
    """00_good and 01_fail, seeds 0 and 1 (4 executions); records results.json at every run start."""
    base = tmp_path_factory.mktemp("run")
    out = base / "out"
    lines: list[str] = []
    seen: list[tuple[int, int]] = []

    def progress(line: str) -> None:
        lines.append(line)
        match = re.match(r"\[(\d+)/4\] .* \.\.\.$", line)
        if match:  # a run starts: every earlier run must already be in a valid results.json
            doc = json.loads((out / "results.json").read_text())
            seen.append((int(match.group(1)), len(doc["runs"])))

    result = run_course(course_dir, profile="smoke", only=["00", "1"], out=out, seeds=[0, 1],
                        parameters={"ECHO": "hello"}, runs_dir=base / "runs", detect_gpu=False,
                        progress=progress)
    return result, lines, seen


def test_one_entry_per_notebook_and_seed_with_status_and_duration(two_seed_run):
    result, _, _ = two_seed_run
    doc = json.loads(result.results_path.read_text())
    assert doc["profile"] == "smoke" and doc["seeds"] == [0, 1]
    assert doc["started"] and doc["finished"]
    assert [(r["notebook"], r["seed"], r["status"]) for r in doc["runs"]] == [
        ("00_good", 0, "ok"), ("00_good", 1, "ok"), ("01_fail", 0, "failed"), ("01_fail", 1, "failed")]
    for run in doc["runs"]:
        assert run["duration_s"] > 0
        assert (result.out_dir / run["executed_notebook"]).is_file()
    good = doc["runs"][1]
    assert good["executed_notebook"] == "00_good/seed1/00_good.ipynb"
    assert good["error"] is None
    assert good["metrics"]["seed"] == 1 and good["metrics"]["profile"] == "smoke"
    assert good["metrics"]["results"][0]["test_accuracy"] == pytest.approx(0.6)


def test_failing_notebook_reports_cell_and_error_and_the_others_still_run(two_seed_run):
    result, _, _ = two_seed_run
    assert result.exit_code == 1
    failed = result.failed
    assert [(r["notebook"], r["seed"]) for r in failed] == [("01_fail", 0), ("01_fail", 1)]
    error = failed[0]["error"]
    # The 3rd cell of the course notebook; papermill's own index counts its injected cell too.
    assert error["cell"] == 2 and error["executed_cell"] == 3
    assert error["ename"] == "ValueError" and error["evalue"] == "boom in the third cell"
    assert failed[0]["metrics"] is None
    executed = nbformat.read(result.out_dir / failed[0]["executed_notebook"], as_version=4)
    assert any(o.get("ename") == "ValueError" for c in executed.cells for o in c.get("outputs", []))
    report = result.report_path.read_text()
    assert "## Failures" in report
    assert "`01_fail` seed 0, cell index 2 (cell 3 counting from 1): `ValueError: boom in the third cell`" in report


def test_report_leaderboard_has_mean_and_std_of_the_notebooks_numbers(two_seed_run):
    result, _, _ = two_seed_run
    report = result.report_path.read_text()
    written = [json.loads((result.out_dir / f"00_good/seed{s}/metrics.json").read_text()) for s in (0, 1)]
    for index, model in enumerate(("tiny_a", "tiny_b")):
        accuracies = [doc["results"][index]["test_accuracy"] for doc in written]
        f1s = [doc["results"][index]["macro_f1"] for doc in written]
        expected = (f"{statistics.mean(accuracies):.3f} ± {statistics.stdev(accuracies):.3f} | "
                    f"{statistics.mean(f1s):.3f} ± {statistics.stdev(f1s):.3f} | 2 |")
        row = next(line for line in report.splitlines() if f"| {model} |" in line)
        assert expected in row
    # tiny_b (0.9, 0.7) leads tiny_a (0.5, 0.6)
    assert "| 1 | 00_good | tiny_b | synthetic | 0.800 ± 0.141 | 0.700 ± 0.141 | 2 | 56,789 | 2.0 |" in report
    assert "| 2 | 00_good | tiny_a | synthetic | 0.550 ± 0.071 | 0.425 ± 0.035 | 2 | 1,234 | 1.5 |" in report
    assert "![Leaderboard" in report and (result.out_dir / "leaderboard.png").stat().st_size > 1000
    assert "| 01_fail | 1 | failed |" in report
    assert "2 ok, 2 failed, of 4 planned" in report


def test_parameters_reach_the_notebook_in_the_current_environment(two_seed_run, course_dir):
    result, _, _ = two_seed_run
    metrics = result.runs[0]["metrics"]
    assert metrics["echo"] == "hello" and metrics["flag"] is False
    # kernel "python3" runs this environment's interpreter, in the notebook's folder
    assert metrics["kernel_executable"] == sys.executable
    assert metrics["kernel_prefix"] == sys.prefix
    assert Path(metrics["cwd"]).resolve() == course_dir.resolve()


def test_results_json_is_valid_after_each_run_and_progress_is_reported(two_seed_run):
    result, lines, seen = two_seed_run
    assert seen == [(1, 0), (2, 1), (3, 2), (4, 3)]
    assert "[1/4] 00_good seed 0 ..." in lines
    assert any(re.fullmatch(r"\[2/4\] 00_good seed 1 ok \d+\.\d s", line) for line in lines)
    assert any(line.startswith("[3/4] 01_fail seed 0 FAILED") and "boom" in line for line in lines)
    latest = result.out_dir.parent / "runs" / "latest"
    assert latest.is_symlink() and latest.resolve() == result.out_dir.resolve()


def test_cli_only_parameters_default_profile_and_latest(course_dir, tmp_path, monkeypatch, capsys):
    runs_dir = tmp_path / "runs"
    monkeypatch.setattr(runner, "default_notebooks_dir", lambda: course_dir)
    monkeypatch.setattr(runner, "default_runs_dir", lambda: runs_dir)
    monkeypatch.setattr(runner, "gpu_names", lambda: [])  # no GPU: the profile defaults to cpu
    monkeypatch.delenv("HYBRIDVID_PROFILE", raising=False)
    args = argparse.Namespace(profile=None, only="00,02", out=None, seeds="1",
                              parameter=[["ECHO", "3"], ["FLAG", "True"]])
    code = course_run_command(args)
    captured = capsys.readouterr()
    assert code == 1  # 02_nometrics failed
    latest = runs_dir / "latest"
    assert latest.is_symlink()
    out_dir = latest.resolve()
    assert re.fullmatch(r"\d{8}-\d{6}", out_dir.name) and out_dir.parent == runs_dir.resolve()
    doc = json.loads((out_dir / "results.json").read_text())
    assert doc["profile"] == "cpu" and doc["seeds"] == [1]
    assert doc["machine"]["gpus"] == []
    assert [r["notebook"] for r in doc["runs"]] == ["00_good", "02_nometrics"]
    good, missing = doc["runs"]
    assert (good["metrics"]["echo"], good["metrics"]["echo_type"], good["metrics"]["flag"]) == (3, "int", True)
    assert missing["status"] == "failed" and missing["error"]["ename"] == "MissingMetrics"
    assert "[2/2] 02_nometrics seed 1 FAILED" in captured.err
    assert "1 of 2 run(s) ok" in captured.out and "report:" in captured.out


def test_a_cell_past_the_timeout_fails_its_run_with_the_cell(course_dir, tmp_path):
    result = run_course(course_dir, profile="smoke", only=["03"], seeds=[0], out=tmp_path / "out",
                        runs_dir=tmp_path / "runs", detect_gpu=False, timeout=2, progress=lambda line: None)
    (run,) = result.runs
    assert run["status"] == "failed" and run["error"]["cell"] == 2
    assert "timed out" in run["error"]["evalue"]
    assert (result.out_dir / run["kernel_log"]).is_file()


def test_unknown_notebook_number_lists_the_available_ones(course_dir, tmp_path):
    with pytest.raises(CourseError, match=r"No notebook numbered 07; available: 00 \(00_good\), 01 \(01_fail\)"):
        run_course(course_dir, profile="smoke", only=["07"], out=tmp_path / "out", runs_dir=tmp_path / "runs",
                   detect_gpu=False)
    assert not (tmp_path / "out").exists()


def test_unknown_kernel_and_profile_are_refused_before_running(course_dir, tmp_path):
    with pytest.raises(CourseError, match="No Jupyter kernel named 'no-such-kernel'"):
        run_course(course_dir, profile="smoke", kernel_name="no-such-kernel", out=tmp_path / "a",
                   runs_dir=tmp_path / "runs", detect_gpu=False)
    with pytest.raises(ValueError, match="Unknown profile 'laptop'"):
        run_course(course_dir, profile="laptop", out=tmp_path / "b", runs_dir=tmp_path / "runs", detect_gpu=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --------------------------------------------------------------------------- without a kernel
def _fake_execute(behaviour):
    """A stand-in for papermill.execute_notebook: ``behaviour(call_number, parameters)`` decides."""
    calls = []

    def execute(input_path, output_path, parameters, **kwargs):
        calls.append(parameters)
        Path(output_path).write_text(Path(input_path).read_text())
        behaviour(len(calls), parameters)

    return execute, calls


def _write_doc(parameters, **changes):
    doc = {"notebook": "x", "profile": parameters["PROFILE"], "seed": parameters["SEED"],
           "results": [{"model": "m", "dataset": "d", "test_accuracy": 0.5, "macro_f1": 0.5,
                        "params": 1, "train_seconds": 0.1}]}
    doc.update(changes)
    Path(parameters["OUTPUT_DIR"], "metrics.json").write_text(json.dumps(doc))


def test_interrupted_course_keeps_finished_runs(course_dir, tmp_path, monkeypatch):
    import papermill

    def behaviour(call, parameters):
        if call == 1:
            _write_doc(parameters)
        else:
            raise KeyboardInterrupt

    execute, _ = _fake_execute(behaviour)
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_course(course_dir, profile="smoke", only=["00"], seeds=[0, 1], out=out, runs_dir=tmp_path / "runs",
                   detect_gpu=False, progress=lambda line: None)
    doc = json.loads((out / "results.json").read_text())
    assert [(r["seed"], r["status"]) for r in doc["runs"]] == [(0, "ok")]
    assert doc["interrupted"] == {"notebook": "00_good", "seed": 1}
    assert "**Interrupted** during `00_good` seed 1" in (out / "report.md").read_text()


def test_metrics_that_are_stale_invalid_or_for_another_seed_fail_the_run(course_dir, tmp_path, monkeypatch):
    import papermill

    def behaviour(call, parameters):
        if call == 1:
            _write_doc(parameters, seed=99)  # ignored its SEED parameter
        elif call == 2:
            _write_doc(parameters, results=[{"model": "m"}])  # not the schema
        # call 3 writes nothing: the metrics.json of an earlier run in this folder must not count

    execute, calls = _fake_execute(behaviour)
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    out = tmp_path / "out"
    stale = out / "00_good" / "seed2"
    stale.mkdir(parents=True)
    (stale / "metrics.json").write_text(json.dumps({"notebook": "00_good", "profile": "smoke", "seed": 2,
                                                    "results": []}))
    result = run_course(course_dir, profile="smoke", only=["00"], seeds="0,1,2", out=out,
                        runs_dir=tmp_path / "runs", detect_gpu=False, progress=lambda line: None)
    assert [r["error"]["ename"] for r in result.runs] == ["MetricsMismatch", "InvalidMetrics", "MissingMetrics"]
    assert "seed 99" in result.runs[0]["error"]["evalue"]
    assert [c["SEED"] for c in calls] == [0, 1, 2]
    assert calls[0]["OUTPUT_DIR"] == str(out.absolute() / "00_good" / "seed0")
    assert "No run finished with metrics" in result.report_path.read_text()


# --------------------------------------------------------------------------- small pieces
def test_source_cell_index_undoes_papermills_injected_cell():
    def cell(*tags):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": ""}

    with_params = [cell(), cell("parameters"), cell(), cell()]
    assert [source_cell_index(with_params, i) for i in range(5)] == [0, 1, None, 2, 3]
    no_params = [cell(), cell()]
    assert [source_cell_index(no_params, i) for i in range(3)] == [None, 0, 1]
    old_injected = [cell("parameters"), cell("injected-parameters"), cell()]
    assert [source_cell_index(old_injected, i) for i in range(3)] == [0, None, 2]
    with_banner = [cell("papermill-error-cell-tag"), cell("parameters"), cell()]
    assert [source_cell_index(with_banner, i) for i in range(3)] == [1, None, 2]
    assert source_cell_index(with_params, 9) is None


def test_point_latest_replaces_the_link_or_falls_back_to_a_text_file(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    first, second = runs / "a", runs / "b"
    first.mkdir(parents=True)
    second.mkdir()
    assert point_latest(runs, first) == runs / "latest"
    assert os.readlink(runs / "latest") == "a"  # relative inside runs/
    point_latest(runs, second)
    assert (runs / "latest").resolve() == second.resolve()
    elsewhere = tmp_path / "elsewhere"
    point_latest(runs, elsewhere)
    assert os.readlink(runs / "latest") == str(elsewhere)

    def refuse(*args, **kwargs):
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(os, "symlink", refuse)
    pointer = point_latest(runs, first)
    assert pointer == runs / "LATEST" and pointer.read_text().strip() == str(first)
    assert [p.name for p in runs.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    point_latest(runs, second)
    assert not (runs / "LATEST").exists() and (runs / "latest").resolve() == second.resolve()


def test_parameter_values_are_converted_like_papermill_p():
    assert [parse_parameter_value(v) for v in ("3", "-2", "0.5", "1e-3", "True", "False", "None", "true", "a b")] \
        == [3, -2, 0.5, 0.001, True, False, None, "true", "a b"]
    assert user_parameters([["EPOCHS", "2"], ["DATA_DIR", "/data"]]) == {"EPOCHS": 2, "DATA_DIR": "/data"}
    with pytest.raises(CourseError, match="use --seeds instead of -p SEED"):
        user_parameters([["SEED", "1"]])
    with pytest.raises(CourseError, match="Python name"):
        user_parameters({"not a name": 1})


def test_seeds_parse_from_text_or_numbers():
    assert parse_seeds("0, 1,2,1") == [0, 1, 2]
    assert parse_seeds([3, 4]) == [3, 4]
    assert parse_seeds(None) is None
    with pytest.raises(CourseError, match="like 0,1,2"):
        parse_seeds("0,one")
    with pytest.raises(CourseError, match="at least one seed"):
        parse_seeds(" , ")


# --------------------------------------------------------------------------- skipped runs
# Skips itself, the way a chapter does when an optional input is absent, with the library's helper.
SKIP_WITHOUT_CHECKPOINT = """\
from pathlib import Path
from hybridvid_lib.evaluation import skipped_document, write_metrics
if CHECKPOINT is None:
    write_metrics(Path(OUTPUT_DIR) / "metrics.json", skipped_document(
        "04_skip", PROFILE, SEED, "No Kinetics checkpoint given; set CHECKPOINT to run this part."))
"""


@pytest.fixture(scope="module")
def skipping_run(tmp_path_factory):
    """00_good and 04_skip (no CHECKPOINT), seed 0: one ok run and one skipped run, executed for real."""
    base = tmp_path_factory.mktemp("skip")
    folder = base / "notebooks"
    folder.mkdir()
    write_notebook(folder / "00_good.ipynb", [WRITE_METRICS])
    write_notebook(folder / "04_skip.ipynb", [SKIP_WITHOUT_CHECKPOINT],
                   parameters=PARAMETERS + "\nCHECKPOINT = None")
    lines: list[str] = []
    result = run_course(folder, profile="smoke", seeds=[0], out=base / "out", runs_dir=base / "runs",
                        detect_gpu=False, progress=lines.append)
    return result, lines


def test_a_notebook_that_skips_itself_is_recorded_as_skipped_with_its_reason(skipping_run):
    result, lines = skipping_run
    doc = json.loads(result.results_path.read_text())
    assert [(r["notebook"], r["status"]) for r in doc["runs"]] == [("00_good", "ok"), ("04_skip", "skipped")]
    good, skipped = doc["runs"]
    assert skipped["reason"] == "No Kinetics checkpoint given; set CHECKPOINT to run this part."
    assert skipped["error"] is None and skipped["metrics"]["results"] == []
    assert good["reason"] is None
    assert result.exit_code == 0 and result.failed == [] and result.skipped == [skipped]
    assert any(line.startswith("[2/2] 04_skip seed 0 skipped") and "No Kinetics checkpoint" in line
               for line in lines)
    assert lines[-1].startswith("course: 1 of 2 run(s) ok, 1 skipped; report")


def test_the_report_lists_skipped_runs_apart_from_the_leaderboard(skipping_run):
    result, _ = skipping_run
    report = result.report_path.read_text()
    leaderboard = report.split("## Leaderboard")[1].split("## Runs")[0]
    assert "04_skip" not in leaderboard and "| 00_good | tiny_b |" in leaderboard
    skipped = report.split("## Skipped")[1].split("## Failures")[0]
    assert ("- `04_skip` seed 0: No Kinetics checkpoint given; set CHECKPOINT to run this part. "
            "(executed notebook [04_skip/seed0/04_skip.ipynb](04_skip/seed0/04_skip.ipynb))") in skipped
    assert "| runs | 1 ok, 1 skipped, 0 failed, of 2 planned |" in report
    assert "| 04_skip | 0 | skipped |" in report
    assert "None: every run finished" in report.split("## Failures")[1]


def test_a_skip_is_honoured_only_from_a_notebook_that_finished_with_a_valid_document(course_dir, tmp_path,
                                                                                     monkeypatch):
    import papermill

    def behaviour(call, parameters):
        if call == 1:
            _write_doc(parameters, results=[], status="skipped", reason="No UCF101 folder.")
        elif call == 2:
            _write_doc(parameters, results=[], status="skipped")  # no reason: not a valid document
        elif call == 3:
            _write_doc(parameters, results=[], status="skipped", reason="x", seed=99)
        else:
            _write_doc(parameters, results=[], status="skipped", reason="No UCF101 folder.")
            raise RuntimeError("a later cell still ran and broke")

    execute, calls = _fake_execute(behaviour)
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    result = run_course(course_dir, profile="smoke", only=["00"], seeds="0,1,2,3", out=tmp_path / "out",
                        runs_dir=tmp_path / "runs", detect_gpu=False, progress=lambda line: None)
    assert [r["status"] for r in result.runs] == ["skipped", "failed", "failed", "failed"]
    assert [r["error"]["ename"] for r in result.failed] == ["InvalidMetrics", "MetricsMismatch", "RuntimeError"]
    assert result.runs[0]["reason"] == "No UCF101 folder." and result.failed[0]["reason"] is None
    assert result.exit_code == 1


def test_cli_exits_0_when_runs_are_ok_or_skipped_and_names_the_skipped(course_dir, tmp_path, monkeypatch, capsys):
    import papermill

    def behaviour(call, parameters):
        if call == 1:
            _write_doc(parameters)
        else:
            _write_doc(parameters, results=[], status="skipped", reason="No checkpoint given.")

    execute, _ = _fake_execute(behaviour)
    monkeypatch.setattr(papermill, "execute_notebook", execute)
    args = argparse.Namespace(profile="smoke", only="00", out=tmp_path / "out", seeds="0,1", parameter=[])
    monkeypatch.setattr(runner, "default_notebooks_dir", lambda: course_dir)
    monkeypatch.setattr(runner, "default_runs_dir", lambda: tmp_path / "runs")
    monkeypatch.setattr(runner, "gpu_names", lambda: [])  # the CLI asks for GPUs; TensorFlow is slow to import
    assert course_run_command(args) == 0
    out = capsys.readouterr().out
    assert "1 of 2 run(s) ok, 1 skipped (profile smoke)" in out
    assert "skipped: 00_good seed 1: No checkpoint given." in out and "failed:" not in out
