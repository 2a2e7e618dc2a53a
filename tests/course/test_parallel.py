"""``--jobs``: runs at once in their own processes, never before the runs they read (real papermill runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybridvid_lib.course import CourseError, run_course
from hybridvid_lib.course.parallel import (parse_jobs, ready_runs, run_dependencies, seeds_share_work,
                                          threads_per_job)
from tests.course.test_runner import write_notebook

# Records when it ran and with how many TensorFlow threads, then writes its metrics.
TIMED = """\
import json, os, pathlib, time
started = time.time()
time.sleep(SLEEP)
doc = {"notebook": NAME, "profile": PROFILE, "seed": SEED, "results": [],
       "started": started, "ended": time.time(), "threads": os.environ.get("TF_NUM_INTRAOP_THREADS")}
pathlib.Path(OUTPUT_DIR).mkdir(parents=True, exist_ok=True)
pathlib.Path(OUTPUT_DIR, "metrics.json").write_text(json.dumps(doc))
"""


def test_jobs_are_a_count_or_auto_and_share_the_cores():
    assert parse_jobs("3") == 3 and parse_jobs(1) == 1
    assert parse_jobs("auto", cpu_count=2) == 2 and parse_jobs(None, cpu_count=16) == 8
    assert parse_jobs("auto", cpu_count=1) == 1 and parse_jobs("auto", cpu_count=16, gpu=True) == 1
    for bad in ("0", "-1", "two", "1.5", True):
        with pytest.raises(CourseError, match="--jobs must be a whole number >= 1 or 'auto'"):
            parse_jobs(bad)
    assert threads_per_job(2, cpu_count=2) == 1 and threads_per_job(4, cpu_count=16) == 4
    assert threads_per_job(8, cpu_count=2) == 1


def test_a_run_waits_for_earlier_notebooks_of_its_seed_and_of_the_first_seed_and_for_its_own_first_seed():
    pairs = [(nb, s) for nb in ("00_a", "01_b", "02_c") for s in (0, 1, 2)]
    needs = run_dependencies(pairs, first_seed=0)
    assert needs[("00_a", 0)] == set()
    assert needs[("00_a", 2)] == {("00_a", 0)}  # the first seed may do what every seed shares
    assert needs[("01_b", 0)] == {("00_a", 0)}
    assert needs[("02_c", 1)] == {("00_a", 1), ("00_a", 0), ("01_b", 1), ("01_b", 0), ("02_c", 0)}
    # At the start only the first run can go; once it is done, the next notebook and the later seeds can.
    assert ready_runs(pairs, set(), set(), needs) == [("00_a", 0)]
    assert ready_runs(pairs[1:], {("00_a", 0)}, set(), needs) == [("00_a", 1), ("00_a", 2), ("01_b", 0)]
    assert ready_runs(pairs[1:], {("00_a", 0)}, {("00_a", 1)}, needs) == [("00_a", 2), ("01_b", 0)]
    # The first seed's runs go first: the next notebooks wait for them.
    assert ready_runs(pairs[1:], {("00_a", 0)}, set(), needs, first_seed=0) == [("01_b", 0), ("00_a", 1),
                                                                                ("00_a", 2)]


def test_the_seeds_of_a_notebook_that_shares_its_work_by_locks_may_run_together(tmp_path):
    pairs = [(nb, s) for nb in ("07_g", "08_h") for s in (0, 1, 2)]
    needs = run_dependencies(pairs, first_seed=0, together={"08_h"})
    assert needs[("08_h", 1)] == {("07_g", 1), ("07_g", 0)}  # not ("08_h", 0): its seeds split the shared work
    assert needs[("07_g", 1)] == {("07_g", 0)}  # the others still wait for their first seed
    finished = {("07_g", 0), ("07_g", 1)}
    pending = [key for key in pairs if key not in finished]
    assert ready_runs(pending, finished, {("08_h", 0)}, needs) == [("07_g", 2), ("08_h", 1)]
    shares, plain, broken = (tmp_path / f"{name}.ipynb" for name in ("shares", "plain", "broken"))
    shares.write_text(json.dumps({"cells": [], "metadata": {"hybridvid": {"seeds_share_work": True}}}))
    plain.write_text(json.dumps({"cells": [], "metadata": {"hybridvid": {"seeds_share_work": "yes"}}}))
    broken.write_text("{not json")
    assert seeds_share_work(shares) and not seeds_share_work(plain) and not seeds_share_work(broken)
    chapter08 = Path(__file__).resolve().parents[2] / "notebooks" / "08_evaluation_and_ablation.ipynb"
    assert seeds_share_work(chapter08)  # chapter 08 claims its rows by lock (hybridvid_lib.shared_work)


def test_two_jobs_run_at_once_each_on_its_share_of_the_cores_and_never_before_what_they_read(tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    parameters = "PROFILE = 'cpu'\nSEED = 0\nOUTPUT_DIR = 'outputs'\nSLEEP = 0.0"
    for stem in ("00_first", "01_second"):
        write_notebook(folder / f"{stem}.ipynb", [f"NAME = {stem!r}", TIMED], parameters=parameters)
    lines: list[str] = []
    result = run_course(folder, profile="smoke", out=tmp_path / "out", seeds=[0, 1, 2], parameters={"SLEEP": 5.0},
                        runs_dir=tmp_path / "runs", detect_gpu=False, progress=lines.append, jobs=2)
    doc = json.loads(result.results_path.read_text())
    assert doc["jobs"] == 2 and result.exit_code == 0
    assert [(r["notebook"], r["seed"], r["status"]) for r in doc["runs"]] == [
        (nb, s, "ok") for nb in ("00_first", "01_second") for s in (0, 1, 2)]  # course order, not finish order
    spans = {(r["notebook"], r["seed"]): (r["metrics"]["started"], r["metrics"]["ended"]) for r in doc["runs"]}
    needs = run_dependencies(list(spans), first_seed=0)
    for key, (started, _) in spans.items():
        for before in needs[key]:
            assert spans[before][1] <= started, f"{key} started before {before} ended"
    overlaps = sum(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans.values())
                   for b in list(spans.values())[i + 1:])
    assert overlaps >= 2  # two at a time (5 s each: a kernel that starts slowly on a busy machine still overlaps)
    assert {r["metrics"]["threads"] for r in doc["runs"]} == {"1"}  # 2 cores shared by 2 jobs
    assert "course: up to 2 runs at once, 1 TensorFlow thread(s) each" in lines
    assert sum(line.endswith(" ...") for line in lines) == 6
    assert "| jobs | 2 runs at once |" in Path(result.report_path).read_text()


def test_a_failing_run_under_jobs_is_recorded_and_the_others_still_run(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    parameters = "PROFILE = 'cpu'\nSEED = 0\nOUTPUT_DIR = 'outputs'\nSLEEP = 0.0"
    write_notebook(folder / "00_first.ipynb", ["NAME = '00_first'", "assert SEED != 1, 'seed 1 fails'", TIMED],
                   parameters=parameters)
    write_notebook(folder / "01_second.ipynb", ["NAME = '01_second'", TIMED], parameters=parameters)
    result = run_course(folder, profile="smoke", out=tmp_path / "out", seeds=[0, 1], runs_dir=tmp_path / "runs",
                        detect_gpu=False, progress=lambda line: None, jobs=2)
    status = {(r["notebook"], r["seed"]): r["status"] for r in result.results["runs"]}
    assert status == {("00_first", 0): "ok", ("00_first", 1): "failed", ("01_second", 0): "ok",
                      ("01_second", 1): "ok"}
    failed = result.failed[0]
    assert failed["error"]["ename"] == "AssertionError" and "seed 1 fails" in failed["error"]["evalue"]
    assert result.exit_code == 1
