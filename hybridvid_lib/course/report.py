"""The course run's records: ``results.json`` (machine-readable) and ``report.md`` with its leaderboard plot.

Every number in the report comes from a ``metrics.json`` a notebook wrote (through ``results.json``)
or from the runner's own clock (durations); nothing is typed in. The leaderboard has one row per
(notebook, model, dataset[, split]) over the runs that finished ``ok``: test accuracy and macro F1
as mean ± sample standard deviation over seeds (:func:`hybridvid_lib.evaluation.summarize_runs`).

A run's ``status`` is ``ok``, ``skipped`` (the notebook wrote a skipped ``metrics.json``: it cannot
run in this setting, and says why in ``reason``) or ``failed``. Skipped runs are listed with their
reason in a section of their own and give no number to the leaderboard.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Mapping, Sequence

from hybridvid_lib.io_utils import atomic_write_json, atomic_write_text

RESULTS_NAME = "results.json"
REPORT_NAME = "report.md"
PLOT_NAME = "leaderboard.png"

# A run's status in results.json. ok and skipped runs are finished: a resumed course keeps them.
STATUS_OK = "ok"
STATUS_SKIPPED = "skipped"
STATUS_FAILED = "failed"
FINISHED_STATUSES = (STATUS_OK, STATUS_SKIPPED)


def write_results(results: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``results`` to ``out_dir/results.json`` atomically; return the path."""
    return atomic_write_json(Path(out_dir) / RESULTS_NAME, dict(results))


def leaderboard_rows(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Group the ``ok`` runs' results by (notebook, model, dataset, split); best mean test accuracy first.

    Each row: ``notebook``, ``model``, ``dataset``, ``split``, ``seeds`` (sorted), ``n``,
    ``test_accuracy`` and ``macro_f1`` (``summarize_runs`` dicts: mean, std, min, max, n),
    ``params`` (sorted distinct values), ``train_seconds_mean``, and ``label`` / ``mean`` / ``std``
    (test accuracy) as :func:`hybridvid_lib.viz.plot_leaderboard` reads them.

    A result marked ``"seed_independent": true`` (trained once and reported by every seed's notebook, such as
    chapter 08's I3D streams) counts once: its row has ``n = 1`` and ``seed_independent`` true, instead of the
    same number repeated with a spread of zero.
    """
    from hybridvid_lib.evaluation import summarize_runs

    groups: dict[tuple, list[tuple[int, Mapping[str, Any]]]] = {}
    for run in runs:
        if run.get("status") != STATUS_OK or not run.get("metrics"):
            continue
        for result in run["metrics"]["results"]:
            key = (run["notebook"], result["model"], result["dataset"], result.get("split"))
            if result.get("seed_independent") and groups.get(key):
                continue  # the same run again, reported by another seed's notebook
            groups.setdefault(key, []).append((run["seed"], result))
    rows = []
    for (notebook, model, dataset, split), items in groups.items():
        accuracy = summarize_runs([r["test_accuracy"] for _, r in items])
        f1 = summarize_runs([r["macro_f1"] for _, r in items])
        train = [float(r["train_seconds"]) for _, r in items]
        label = f"{model} on {dataset}" + (f" split {split}" if split is not None else "") + f" ({notebook})"
        rows.append({
            "notebook": notebook,
            "model": model,
            "dataset": dataset,
            "split": split,
            "seeds": sorted({seed for seed, _ in items}),
            "n": len(items),
            "test_accuracy": accuracy,
            "macro_f1": f1,
            "params": sorted({int(r["params"]) for _, r in items}),
            "train_seconds_mean": sum(train) / len(train),
            "label": label,
            "mean": accuracy["mean"],
            "std": accuracy["std"],
            "seed_independent": any(bool(r.get("seed_independent")) for _, r in items),
        })
    rows.sort(key=lambda row: (-row["mean"], row["notebook"], row["model"], row["dataset"]))
    return rows


# --------------------------------------------------------------------------- formatting
def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _mean_std(summary: Mapping[str, float]) -> str:
    return f"{summary['mean']:.3f} ± {summary['std']:.3f}"


def _params(values: Sequence[int]) -> str:
    if not values:
        return "-"
    return f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,}–{values[-1]:,}"


def format_duration(seconds: float) -> str:
    """``73.2 s``, ``4 min 05 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _machine_line(machine: Mapping[str, Any] | None) -> str:
    if not machine:
        return "not recorded"
    cores = f"{machine.get('cpu_cores')} CPU cores"
    if machine.get("usable_cores") not in (None, machine.get("cpu_cores")):
        cores += f" ({machine['usable_cores']} usable)"
    gpus = machine.get("gpus")
    if gpus is None:
        gpu = "GPU not checked"
    elif gpus:
        gpu = f"{len(gpus)} GPU(s) visible to TensorFlow"
    else:
        gpu = "no GPU visible to TensorFlow"
    extras = [machine.get("platform"), f"Python {machine['python']}" if machine.get("python") else None]
    return ", ".join([cores, gpu] + [e for e in extras if e])


def _elapsed(started: str | None, finished: str | None) -> float | None:
    import datetime as dt

    if not started or not finished:
        return None
    try:
        return (dt.datetime.fromisoformat(finished) - dt.datetime.fromisoformat(started)).total_seconds()
    except ValueError:
        return None


# Failures found after the notebook ran to its end: no cell is to blame.
_AFTER_EXECUTION = ("MissingMetrics", "InvalidMetrics", "MetricsMismatch")


def _failure_line(run: Mapping[str, Any]) -> str:
    error = run.get("error") or {}
    cell = error.get("cell")
    if cell is not None:
        where = f"cell index {cell} (cell {cell + 1} counting from 1)"
    elif error.get("ename") in _AFTER_EXECUTION:
        where = "after the last cell"
    else:
        where = "cell unknown"
    message = f"{error.get('ename', '?')}: {error.get('evalue', '')}".replace("`", "'")
    links = f"executed notebook [{run['executed_notebook']}]({run['executed_notebook']})"
    if run.get("kernel_log"):
        links += f", kernel output [{run['kernel_log']}]({run['kernel_log']})"
    return f"- `{run['notebook']}` seed {run['seed']}, {where}: `{message}`; {links}"


def _skipped_line(run: Mapping[str, Any]) -> str:
    reason = str(run.get("reason") or "no reason given").replace("`", "'")
    path = run["executed_notebook"]
    return f"- `{run['notebook']}` seed {run['seed']}: {reason} (executed notebook [{path}]({path}))"


def _runs_count(ok: int, skipped: int, failed: int, planned: int) -> str:
    """``6 ok, 2 failed, of 8 planned`` (the skipped count only when there are some)."""
    parts = [f"{ok} ok"] + ([f"{skipped} skipped"] if skipped else []) + [f"{failed} failed"]
    return ", ".join(parts) + f", of {planned} planned"


def _write_plot(rows: Sequence[Mapping[str, Any]], path: Path, profile: str) -> None:
    from hybridvid_lib.viz import plot_leaderboard, save_figure

    fig = plot_leaderboard(rows, title=f"test accuracy over seeds (profile {profile})")
    save_figure(fig, path, close=True)  # the runner may write many reports in one process


# --------------------------------------------------------------------------- report.md
def write_report(results: Mapping[str, Any], out_dir: Path) -> Path:
    """Write ``out_dir/report.md`` (and ``out_dir/leaderboard.png`` when a run finished ok); return the report path.

    ``results`` is the ``results.json`` document of :func:`hybridvid_lib.course.run_course`.
    """
    out_dir = Path(out_dir)
    runs = list(results.get("runs", []))
    profile = results.get("profile", "?")
    rows = leaderboard_rows(runs)
    ok = [r for r in runs if r.get("status") == STATUS_OK]
    skipped = [r for r in runs if r.get("status") == STATUS_SKIPPED]
    failed = [r for r in runs if r.get("status") not in FINISHED_STATUSES]
    date = str(results.get("started") or "")[:10] or "unknown date"

    lines = [f"# Course run report: profile {profile}, {date}", ""]
    lines += ["| | |", "|---|---|",
              f"| profile | {_cell(profile)} |",
              f"| seeds | {', '.join(str(s) for s in results.get('seeds', []))} |",
              f"| machine | {_cell(_machine_line(results.get('machine')))} |"]
    kernel = (results.get("machine") or {}).get("kernel")
    if kernel:
        # The interpreter's file name only: the report holds no absolute path of the machine.
        interpreter = Path(str(kernel.get("python") or "?")).name
        where = "" if kernel.get("same_environment") is None else (
            ", this environment" if kernel["same_environment"] else ", NOT this environment")
        lines.append(f"| kernel | {_cell(kernel.get('name'))} ({_cell(interpreter)}{where}) |")
    lines += [f"| started | {results.get('started') or '-'} |",
              f"| finished | {results.get('finished') or 'not finished'} |"]
    if results.get("resumed"):
        lines.append(f"| resumed | {', '.join(str(t) for t in results['resumed'])} |")
    planned = results.get("planned_runs", len(runs))
    lines.append(f"| runs | {_runs_count(len(ok), len(skipped), len(failed), planned)} |")
    if results.get("parameters"):
        shown = ", ".join(f"{k}={v!r}" for k, v in results["parameters"].items())
        lines.append(f"| parameters | {_cell(shown)} |")
    if results.get("jobs", 1) > 1:
        lines.append(f"| jobs | {results['jobs']} runs at once |")
    interrupted = results.get("interrupted")
    if interrupted:  # one run, or a list of the runs going on at once (--jobs)
        during = ", ".join(f"`{run['notebook']}` seed {run['seed']}"
                           for run in (interrupted if isinstance(interrupted, list) else [interrupted]))
        lines += ["", f"**Interrupted** during {during or 'the course'}; only the runs listed below finished."]

    lines += ["", "## Leaderboard", ""]
    plot_path = out_dir / PLOT_NAME
    if rows:
        lines += ["Test accuracy and macro F1 as each notebook computed them (its `metrics.json`): mean ± "
                  "sample standard deviation over seeds, best mean test accuracy first.", "",
                  "| # | notebook | model | dataset | test accuracy | macro F1 | seeds | params | train s (mean) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for rank, row in enumerate(rows, start=1):
            dataset = row["dataset"] + (f" (split {row['split']})" if row["split"] is not None else "")
            lines.append(
                f"| {rank} | {_cell(row['notebook'])} | {_cell(row['model'])} | {_cell(dataset)} | "
                f"{_mean_std(row['test_accuracy'])} | {_mean_std(row['macro_f1'])} | "
                f"{'1 (shared by every seed)' if row['seed_independent'] else row['n']} | "
                f"{_params(row['params'])} | {row['train_seconds_mean']:.1f} |")
        _write_plot(rows, plot_path, str(profile))
        lines += ["", f"![Leaderboard: test accuracy, mean ± std over seeds]({PLOT_NAME})"]
    else:
        with contextlib.suppress(FileNotFoundError):
            plot_path.unlink()  # a plot from an earlier run in this folder would not be this run's
        if ok:
            lines.append("The runs finished, but no notebook reported a model result (their metrics.json "
                         "`results` lists are empty), so there is no leaderboard yet.")
        else:
            lines.append("No run finished with metrics, so there is no leaderboard yet.")

    lines += ["", "## Runs", "", "| notebook | seed | status | duration | executed notebook |", "|---|---|---|---|---|"]
    for run in runs:
        path = run.get("executed_notebook", "")
        lines.append(f"| {_cell(run['notebook'])} | {run['seed']} | {run['status']} | "
                     f"{format_duration(float(run['duration_s']))} | [{_cell(path)}]({path}) |")

    if skipped:
        lines += ["", "## Skipped", "",
                  "These notebooks decided they cannot run in this setting and said why; they are not failures "
                  "and give no number to the leaderboard.", ""]
        lines += [_skipped_line(run) for run in skipped]

    lines += ["", "## Failures", ""]
    lines += [_failure_line(run) for run in failed] if failed else ["None: every run finished and wrote its metrics."]

    total = sum(float(run["duration_s"]) for run in runs)
    lines += ["", "## Timing", "", f"Notebook execution: {format_duration(total)} over {len(runs)} run(s)."]
    elapsed = _elapsed(results.get("started"), results.get("finished"))
    if elapsed is not None and results.get("resumed"):
        # The pause before each resume is inside this span, so it is no measure of the work.
        lines.append(f"Wall time from the first start to the last finish: {format_duration(elapsed)} "
                     f"(resumed {len(results['resumed'])} time(s), pauses included).")
    elif elapsed is not None:
        lines.append(f"Wall time from start to finish: {format_duration(elapsed)}.")
    per_notebook: dict[str, list[float]] = {}
    for run in runs:
        per_notebook.setdefault(run["notebook"], []).append(float(run["duration_s"]))
    if per_notebook:
        lines += ["", "| notebook | runs | mean duration | total |", "|---|---|---|---|"]
        for name, durations in per_notebook.items():
            lines.append(f"| {_cell(name)} | {len(durations)} | {format_duration(sum(durations) / len(durations))} | "
                         f"{format_duration(sum(durations))} |")
    return atomic_write_text(out_dir / REPORT_NAME, "\n".join(lines) + "\n")
