"""``hybridvid course run --resume``: a course run stopped midway finishes only its missing and failed runs.

One test executes real notebooks with papermill (3 tiny executions: a notebook fails, is fixed, the
course is resumed); the others count executions through a stand-in for ``papermill.execute_notebook``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from hybridvid_lib.course import CourseError, course_run_command, run_course
from hybridvid_lib.course import runner
from hybridvid_lib.course.command import resume_folder

PARAMETERS = "PROFILE = 'cpu'\nSEED = 0\nOUTPUT_DIR = 'outputs'"

WRITE_METRICS = """\
import json, pathlib
doc = {"notebook": "nb", "profile": PROFILE, "seed": SEED,
       "results": [{"model": "m", "dataset": "d", "test_accuracy": 0.5, "macro_f1": 0.5,
                    "params": 1, "train_seconds": 0.1}]}
pathlib.Path(OUTPUT_DIR, "metrics.json").write_text(json.dumps(doc))
"""


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A Python 3 notebook: a ``parameters``-tagged cell, then ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course_dir(tmp_path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder / "00_first.ipynb", [WRITE_METRICS])
    write_notebook(folder / "01_second.ipynb", [WRITE_METRICS])
    return folder


class Kill(BaseException):
    """Stands for the process being killed: nothing in the runner catches it (unlike Ctrl-C)."""


def fake_papermill(monkeypatch, behaviour=None) -> list[tuple[str, int]]:
    """Replace papermill.execute_notebook; return the list of (notebook stem, SEED) it is called with.

    ``behaviour(call_number, parameters)`` acts for the notebook; by default it writes a valid metrics.json.
    """
    import papermill

    calls: list[tuple[str, int]] = []

    def execute(input_path, output_path, parameters, **kwargs):
        calls.append((Path(input_path).stem, parameters["SEED"]))
        Path(output_path).write_text(Path(input_path).read_text())
        (behaviour or ok)(len(calls), parameters)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def write_doc(parameters, **changes) -> None:
    doc = {"notebook": "x", "profile": parameters["PROFILE"], "seed": parameters["SEED"],
           "results": [{"model": "m", "dataset": "d", "test_accuracy": 0.5, "macro_f1": 0.5,
                        "params": 1, "train_seconds": 0.1}]}
    doc.update(changes)
    Path(parameters["OUTPUT_DIR"], "metrics.json").write_text(json.dumps(doc))


def ok(call, parameters) -> None:
    write_doc(parameters)


def course(course_dir, tmp_path, **kwargs):
    options = dict(profile="smoke", seeds=[0, 1], out=tmp_path / "out", runs_dir=tmp_path / "runs",
                   detect_gpu=False, progress=lambda line: None)
    return run_course(course_dir, **{**options, **kwargs})


def statuses(out: Path) -> list[tuple[str, int, str]]:
    doc = json.loads((out / "results.json").read_text())
    return [(r["notebook"], r["seed"], r["status"]) for r in doc["runs"]]


# --------------------------------------------------------------------------- real notebooks
def test_a_fixed_notebook_is_run_again_and_the_finished_one_is_left_alone(course_dir, tmp_path):
    write_notebook(course_dir / "01_second.ipynb", ["raise ValueError('not written yet')"])
    first = course(course_dir, tmp_path, seeds=[0])
    assert first.exit_code == 1 and statuses(first.out_dir) == [("00_first", 0, "ok"), ("01_second", 0, "failed")]
    kept_notebook = first.out_dir / "00_first/seed0/00_first.ipynb"
    kept_stamp = kept_notebook.stat().st_mtime_ns
    kept_entry = first.runs[0]

    write_notebook(course_dir / "01_second.ipynb", [WRITE_METRICS])  # the teacher fixes the notebook
    resumed = course(course_dir, tmp_path, seeds=None, profile=None, resume=True)
    assert resumed.executed == (("01_second", 0),)
    assert resumed.exit_code == 0 and resumed.out_dir == first.out_dir
    assert statuses(resumed.out_dir) == [("00_first", 0, "ok"), ("01_second", 0, "ok")]
    assert kept_notebook.stat().st_mtime_ns == kept_stamp  # not executed again
    doc = json.loads(resumed.results_path.read_text())
    assert doc["runs"][0] == kept_entry and doc["started"] == first.results["started"]
    assert len(doc["resumed"]) == 1 and doc["finished"] >= doc["resumed"][0]
    report = resumed.report_path.read_text()
    assert "| runs | 2 ok, 0 failed, of 2 planned |" in report and "| resumed |" in report


# --------------------------------------------------------------------------- counted executions
def test_after_a_kill_only_the_missing_failed_runs_execute_and_skipped_ones_are_kept(course_dir, tmp_path,
                                                                                       monkeypatch):
    def first_attempt(call, parameters):
        if call == 1:
            write_doc(parameters)
        elif call == 2:
            raise RuntimeError("out of memory")
        elif call == 3:
            write_doc(parameters, results=[], status="skipped", reason="No UCF101 folder given.")
        else:
            # results.json on disk already holds the three finished runs when the process dies.
            assert statuses(tmp_path / "out") == [("00_first", 0, "ok"), ("00_first", 1, "failed"),
                                                  ("01_second", 0, "skipped")]
            raise Kill

    first_calls = fake_papermill(monkeypatch, first_attempt)
    with pytest.raises(Kill):
        course(course_dir, tmp_path)
    assert len(first_calls) == 4
    before = json.loads((tmp_path / "out" / "results.json").read_text())
    assert before["finished"] is None and len(before["runs"]) == 3

    calls = fake_papermill(monkeypatch)
    result = course(course_dir, tmp_path, resume=True)
    assert calls == [("00_first", 1), ("01_second", 1)]
    assert result.executed == (("00_first", 1), ("01_second", 1))
    assert statuses(result.out_dir) == [("00_first", 0, "ok"), ("00_first", 1, "ok"),
                                        ("01_second", 0, "skipped"), ("01_second", 1, "ok")]
    assert result.runs[0] == before["runs"][0] and result.runs[2] == before["runs"][2]
    assert result.exit_code == 0

    again = fake_papermill(monkeypatch)
    assert course(course_dir, tmp_path, resume=True).executed == () and again == []


def test_cli_resume_continues_the_run_latest_points_at_after_ctrl_c(course_dir, tmp_path, monkeypatch, capsys):
    def interrupted(call, parameters):
        if call == 1:
            write_doc(parameters)
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "default_notebooks_dir", lambda: course_dir)
    monkeypatch.setattr(runner, "default_runs_dir", lambda: tmp_path / "runs")
    monkeypatch.setattr(runner, "gpu_names", lambda: [])  # the CLI asks for GPUs; TensorFlow is slow to import
    monkeypatch.delenv("HYBRIDVID_PROFILE", raising=False)
    fake_papermill(monkeypatch, interrupted)
    args = argparse.Namespace(profile="smoke", only=None, out=None, seeds="0,1,2", parameter=[["EPOCHS", "2"]],
                              resume=None)
    with pytest.raises(KeyboardInterrupt):
        course_run_command(args)
    out_dir = (tmp_path / "runs" / "latest").resolve()
    assert json.loads((out_dir / "results.json").read_text())["interrupted"] == {"notebook": "00_first", "seed": 1}
    capsys.readouterr()

    calls = fake_papermill(monkeypatch)
    resume = argparse.Namespace(profile=None, only=None, out=None, seeds=None, parameter=[], resume=True)
    assert course_run_command(resume) == 0
    expected = [("00_first", 1), ("00_first", 2), ("01_second", 0), ("01_second", 1), ("01_second", 2)]
    assert calls == expected
    doc = json.loads((out_dir / "results.json").read_text())
    assert "interrupted" not in doc and doc["parameters"] == {"EPOCHS": 2}
    assert [(r["notebook"], r["seed"]) for r in doc["runs"]] == [("00_first", 0)] + expected
    printed = capsys.readouterr().out
    assert "6 of 6 run(s) ok (profile smoke)" in printed
    assert "resumed: 5 run(s) executed now, 1 kept" in printed


def test_resume_sends_the_recorded_parameters_to_the_notebooks(course_dir, tmp_path, monkeypatch):
    fake_papermill(monkeypatch, lambda call, parameters: None)  # every run fails: no metrics.json
    course(course_dir, tmp_path, seeds=[0], parameters={"EPOCHS": 3})
    seen = []
    fake_papermill(monkeypatch, lambda call, parameters: (seen.append(parameters["EPOCHS"]), ok(call, parameters)))
    assert course(course_dir, tmp_path, seeds=None, resume=True).exit_code == 0
    assert seen == [3, 3]


# --------------------------------------------------------------------------- refusals
@pytest.fixture
def recorded(course_dir, tmp_path, monkeypatch):
    """A finished course run in tmp_path/out (profile smoke, seeds 0 and 1, EPOCHS=2); nothing may execute after."""
    fake_papermill(monkeypatch)
    course(course_dir, tmp_path, parameters={"EPOCHS": 2})
    calls = fake_papermill(monkeypatch)
    yield tmp_path / "out"
    assert calls == []


@pytest.mark.parametrize("asked, message", [
    (dict(profile="cpu"), r"with profile 'cpu': its runs were made with profile 'smoke'; resume with --profile smoke"),
    (dict(seeds=[0, 1, 2]), r"with seeds \[0, 1, 2\]: it was started with \[0, 1\]; leave out --seeds"),
    (dict(only=["01"]), r"with notebooks 01_second: it was started with 00_first, 01_second; leave out --only"),
    (dict(parameters={"EPOCHS": 5}), r"with parameters \{'EPOCHS': 5\}: it was started with \{'EPOCHS': 2\}"),
])
def test_resume_refuses_other_settings_than_the_recorded_ones(recorded, course_dir, tmp_path, asked, message):
    before = (recorded / "results.json").read_text()
    with pytest.raises(CourseError, match=f"^Cannot resume {re.escape(str(recorded))} " + message):
        course(course_dir, tmp_path, **{"seeds": None, **asked, "resume": True})
    assert (recorded / "results.json").read_text() == before


def test_resume_refuses_a_profile_from_the_environment_that_differs(recorded, course_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDVID_PROFILE", "gpu")
    with pytest.raises(CourseError, match="with profile 'gpu': its runs were made with profile 'smoke'"):
        course(course_dir, tmp_path, profile=None, seeds=None, resume=True)


def test_resume_accepts_the_recorded_settings_given_again(recorded, course_dir, tmp_path):
    result = course(course_dir, tmp_path, only=["00", "01"], parameters={"EPOCHS": 2}, resume=True)
    assert result.executed == () and result.exit_code == 0


def test_resume_refuses_a_folder_without_results_json_or_without_latest(course_dir, tmp_path, monkeypatch):
    calls = fake_papermill(monkeypatch)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CourseError, match=r"^Cannot resume .*empty: it has no results.json, so no course run was "
                                          r"started there; run without --resume to start one\.$"):
        course(course_dir, tmp_path, out=tmp_path / "empty", resume=True)
    with pytest.raises(CourseError, match=r"no earlier course run to resume .*latest does not exist"):
        course(course_dir, tmp_path, out=None, resume=True)
    (tmp_path / "empty" / "results.json").write_text('{"profile": ')
    with pytest.raises(CourseError, match="results.json is not valid JSON"):
        course(course_dir, tmp_path, out=tmp_path / "empty", resume=True)
    assert calls == [] and not (tmp_path / "runs").exists()


def test_resume_follows_the_latest_text_pointer_where_links_are_refused(recorded, course_dir, tmp_path,
                                                                         monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("symbolic links are not allowed here")

    (tmp_path / "runs" / "latest").unlink()
    (tmp_path / "runs" / "LATEST").write_text(f"{recorded}\n")
    monkeypatch.setattr(os, "symlink", refuse)
    result = course(course_dir, tmp_path, out=None, seeds=None, resume=True)
    assert result.out_dir == recorded and result.executed == ()


def test_resume_dir_and_out_must_name_one_folder(tmp_path):
    assert resume_folder(None, None) is None
    assert resume_folder(True, tmp_path / "a") == tmp_path / "a"
    assert resume_folder(tmp_path / "a", None) == tmp_path / "a"
    assert resume_folder(tmp_path / "a", tmp_path / "a") == tmp_path / "a"
    with pytest.raises(CourseError, match="name two different folders"):
        resume_folder(tmp_path / "a", tmp_path / "b")


def test_the_cli_parses_resume_with_and_without_a_folder():
    from hybridvid_lib.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["course", "run"]).resume is None
    assert parser.parse_args(["course", "run", "--resume", "--profile", "cpu"]).resume is True
    assert parser.parse_args(["course", "run", "--resume", "runs/x"]).resume == Path("runs/x")
