"""results.json and report.md from a results document built here (no notebook is executed)."""

from __future__ import annotations

import json
import statistics

import pytest

from hybridvid_lib.course import leaderboard_rows, write_report, write_results
from hybridvid_lib.course.report import format_duration


def metrics(seed: int, *results: tuple) -> dict:
    """A metrics.json document; each result is ``(model, dataset, split, accuracy, f1, params, train_s)``."""
    return {
        "notebook": "nb", "profile": "cpu", "seed": seed,
        "results": [
            {"model": m, "dataset": d, "split": s, "test_accuracy": a, "macro_f1": f, "params": p, "train_seconds": t}
            for m, d, s, a, f, p, t in results
        ],
    }


def run(notebook: str, seed: int, status: str = "ok", duration: float = 10.0, doc: dict | None = None,
        error: dict | None = None) -> dict:
    return {"notebook": notebook, "seed": seed, "status": status, "duration_s": duration, "metrics": doc,
            "error": error, "executed_notebook": f"{notebook}/seed{seed}/{notebook}.ipynb",
            "kernel_log": f"{notebook}/seed{seed}/kernel.log"}


ACCURACIES = {"cnn_lstm": [0.61, 0.65, 0.70], "conv3d": [0.82, 0.78, 0.80]}


@pytest.fixture
def results() -> dict:
    runs = []
    for seed in range(3):
        accuracy = ACCURACIES["cnn_lstm"][seed]
        cnn_lstm = ("cnn_lstm", "stickactions", 1, accuracy, 0.5 + 0.01 * seed, 120_000, 30.0 + seed)
        runs.append(run("01_cnn_lstm", seed, duration=60.0 + seed, doc=metrics(seed, cnn_lstm)))
        runs.append(run("02_conv3d", seed, duration=100.0, doc=metrics(
            seed, ("conv3d", "stickactions", 1, ACCURACIES["conv3d"][seed], 0.7, 450_000, 80.0))))
    runs.append(run("03_broken", 0, status="failed", duration=3.5,
                    error={"cell": 4, "ename": "KeyError", "evalue": "'x' | not found", "executed_cell": 5}))
    runs.append(run("04_silent", 0, status="failed", duration=2.0,
                    error={"cell": None, "ename": "MissingMetrics", "evalue": "the notebook finished without writing"}))
    return {"profile": "cpu", "seeds": [0, 1, 2], "started": "2025-03-01T10:00:00+00:00",
            "finished": "2025-03-01T10:12:30+00:00", "planned_runs": 8,
            "parameters": {"EPOCHS": 2},
            "machine": {"cpu_cores": 2, "usable_cores": 2, "gpus": [], "platform": "Linux", "python": "3.11.9",
                        "kernel": {"name": "python3", "python": "/env/bin/python"}},
            "runs": runs}


def test_leaderboard_rows_summarise_each_model_over_seeds(results):
    rows = leaderboard_rows(results["runs"])
    assert [row["model"] for row in rows] == ["conv3d", "cnn_lstm"]  # best mean first
    conv3d, cnn_lstm = rows
    assert conv3d["test_accuracy"]["mean"] == pytest.approx(statistics.mean(ACCURACIES["conv3d"]))
    assert cnn_lstm["test_accuracy"]["std"] == pytest.approx(statistics.stdev(ACCURACIES["cnn_lstm"]))
    assert cnn_lstm["seeds"] == [0, 1, 2] and cnn_lstm["n"] == 3
    assert cnn_lstm["train_seconds_mean"] == pytest.approx(31.0)
    assert cnn_lstm["params"] == [120_000] and cnn_lstm["split"] == 1
    assert cnn_lstm["mean"] == cnn_lstm["test_accuracy"]["mean"] and "cnn_lstm" in cnn_lstm["label"]


def test_failed_runs_and_other_splits_stay_out_of_a_row(results):
    results["runs"].append(run("01_cnn_lstm", 3, doc=metrics(3, ("cnn_lstm", "stickactions", 2, 0.1, 0.1, 1, 1.0))))
    results["runs"].append(run("01_cnn_lstm", 4, status="failed",
                               doc=metrics(4, ("cnn_lstm", "stickactions", 1, 0.0, 0.0, 1, 1.0))))
    rows = leaderboard_rows(results["runs"])
    split1 = next(r for r in rows if r["model"] == "cnn_lstm" and r["split"] == 1)
    assert split1["n"] == 3  # the failed seed 4 is not counted
    assert [r["split"] for r in rows if r["model"] == "cnn_lstm"] == [1, 2]


def test_report_has_the_leaderboard_runs_failures_and_timing(results, tmp_path):
    path = write_report(results, tmp_path)
    assert path == tmp_path / "report.md"
    text = path.read_text()
    mean = statistics.mean(ACCURACIES["conv3d"])
    std = statistics.stdev(ACCURACIES["conv3d"])
    assert (f"| 1 | 02_conv3d | conv3d | stickactions (split 1) | {mean:.3f} ± {std:.3f} | 0.700 ± 0.000 | 3 | "
            "450,000 | 80.0 |") in text
    assert "| 2 | 01_cnn_lstm | cnn_lstm |" in text
    assert "![Leaderboard: test accuracy, mean ± std over seeds](leaderboard.png)" in text
    assert (tmp_path / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2 CPU cores, no GPU visible to TensorFlow" in text
    assert "| runs | 6 ok, 2 failed, of 8 planned |" in text
    assert "EPOCHS=2" in text
    executed = "03_broken/seed0/03_broken.ipynb"
    assert f"| 03_broken | 0 | failed | 3.5 s | [{executed}]({executed}) |" in text
    assert "`03_broken` seed 0, cell index 4 (cell 5 counting from 1): `KeyError: 'x' | not found`" in text
    assert "`04_silent` seed 0, after the last cell: `MissingMetrics:" in text
    total = sum(r["duration_s"] for r in results["runs"])
    assert f"Notebook execution: {format_duration(total)} over 8 run(s)." in text
    assert "Wall time from start to finish: 12 min 30 s." in text
    assert "| 01_cnn_lstm | 3 | 1 min 01 s | 3 min 03 s |" in text


def test_report_without_a_finished_run_drops_an_old_plot(results, tmp_path):
    (tmp_path / "leaderboard.png").write_bytes(b"old")
    results["runs"] = results["runs"][-2:]
    results["finished"] = None
    text = write_report(results, tmp_path).read_text()
    assert "no leaderboard yet" in text and "leaderboard.png" not in text
    assert not (tmp_path / "leaderboard.png").exists()
    assert "| finished | not finished |" in text


def test_report_of_runs_without_model_results_says_so(results, tmp_path):
    results["runs"] = [run("00_video_data", 0, doc=metrics(0))]
    text = write_report(results, tmp_path).read_text()
    assert "no notebook reported a model result" in text and not (tmp_path / "leaderboard.png").exists()


def test_results_json_round_trips_and_refuses_nan(results, tmp_path):
    path = write_results(results, tmp_path)
    assert json.loads(path.read_text()) == results
    results["runs"][0]["duration_s"] = float("nan")
    with pytest.raises(ValueError):
        write_results(results, tmp_path)
    assert json.loads(path.read_text())["runs"][0]["duration_s"] == 60.0  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_durations_read_like_a_clock():
    seconds = (0.04, 42.25, 73.4, 245, 3720)
    assert [format_duration(s) for s in seconds] == ["0.0 s", "42.2 s", "1 min 13 s", "4 min 05 s", "1 h 02 min"]


def test_skipped_runs_get_their_own_section_and_no_leaderboard_row(results, tmp_path):
    skipped_doc = {"notebook": "06_kinetics", "profile": "cpu", "seed": 0, "results": [],
                   "status": "skipped", "reason": "No checkpoint given."}
    skipped = run("06_kinetics", 0, status="skipped", duration=1.5, doc=skipped_doc)
    skipped["reason"] = "No checkpoint given; set `CHECKPOINT`."
    results["runs"].append(skipped)
    results["planned_runs"] = 9
    rows_before = leaderboard_rows(results["runs"][:-1])
    assert leaderboard_rows(results["runs"]) == rows_before
    text = write_report(results, tmp_path).read_text()
    assert "| runs | 6 ok, 1 skipped, 2 failed, of 9 planned |" in text
    section = text.split("## Skipped")[1].split("## Failures")[0]
    assert ("- `06_kinetics` seed 0: No checkpoint given; set 'CHECKPOINT'. (executed notebook "
            "[06_kinetics/seed0/06_kinetics.ipynb](06_kinetics/seed0/06_kinetics.ipynb))") in section
    assert "06_kinetics" not in text.split("## Failures")[1].split("## Timing")[0]
    assert "| 06_kinetics | 0 | skipped | 1.5 s |" in text


def test_report_without_skipped_runs_has_no_skipped_section(results, tmp_path):
    text = write_report(results, tmp_path).read_text()
    assert "## Skipped" not in text and "| runs | 6 ok, 2 failed, of 8 planned |" in text


def test_a_resumed_run_says_when_and_that_its_wall_time_holds_the_pause(results, tmp_path):
    results["resumed"] = ["2025-03-02T09:00:00+00:00"]
    results["finished"] = "2025-03-02T09:10:00+00:00"
    text = write_report(results, tmp_path).read_text()
    assert "| resumed | 2025-03-02T09:00:00+00:00 |" in text
    assert "Wall time from the first start to the last finish: 23 h 10 min (resumed 1 time(s), pauses included)." \
        in text
    assert "Wall time from start to finish" not in text


def test_the_report_names_the_kernel_without_an_absolute_path(results, tmp_path):
    import re

    results["machine"]["kernel"]["same_environment"] = True
    text = write_report(results, tmp_path).read_text()
    assert "| kernel | python3 (python, this environment) |" in text
    assert not re.search(r"(?<![\w.:/])/(?:[\w.-]+/){1,}[\w.-]+", text.replace("](", "]( "))


def test_a_result_trained_once_for_every_seed_counts_once(results, tmp_path):
    for seed in range(3):  # every seed's notebook reports the same stream run
        doc = metrics(seed, ("i3d_rgb", "stickactions-hard", 1, 0.62, 0.6, 800_000, 200.0))
        doc["results"][0]["seed_independent"] = True
        results["runs"].append(run("08_ablation", seed, doc=doc))
    row = next(r for r in leaderboard_rows(results["runs"]) if r["model"] == "i3d_rgb")
    assert row["n"] == 1 and row["seeds"] == [0] and row["seed_independent"] is True
    cnn_lstm = next(r for r in leaderboard_rows(results["runs"]) if r["model"] == "cnn_lstm")
    assert cnn_lstm["n"] == 3 and cnn_lstm["seed_independent"] is False
    write_report(results, tmp_path)
    line = next(line for line in (tmp_path / "report.md").read_text().splitlines() if "| i3d_rgb |" in line)
    assert "1 (shared by every seed)" in line
