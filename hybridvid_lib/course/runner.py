"""Executing the course: every chosen notebook once per seed with papermill, recorded as it goes.

Layout of one course run (``DIR`` is ``--out`` or ``runs/<YYYYmmdd-HHMMSS>``)::

    DIR/results.json                        rewritten after every run (an interrupted course keeps what finished)
    DIR/report.md, DIR/leaderboard.png      written at the end (and on interruption)
    DIR/<notebook stem>/seed<S>/<notebook>  the executed notebook, kept for inspection even when it failed
    DIR/<notebook stem>/seed<S>/metrics.json  written by the notebook itself (its OUTPUT_DIR)
    DIR/<notebook stem>/seed<S>/kernel.log  what the kernel process printed outside the notebook
    runs/latest -> DIR                      a symlink (or a runs/LATEST text file where links are refused)

A run is ``ok`` when papermill finished the notebook and it wrote a valid ``metrics.json`` for the
run's profile and seed; ``skipped`` when that ``metrics.json`` says the notebook cannot run in this
setting (``"status": "skipped"``, see :func:`hybridvid_lib.evaluation.skipped_document`), with its
``reason``; otherwise ``failed`` with ``error = {"cell", "ename", "evalue", ...}``. ``cell`` is the
0-based index of the failing cell in the course notebook itself (papermill's own index, which counts
its injected parameters cell, is kept as ``executed_cell``).

``run_course(resume=True)`` continues the course run in ``out`` (default: the one ``runs/latest``
points at): it keeps the finished runs (ok or skipped) recorded in its ``results.json`` and executes
only the missing or failed ones (:mod:`hybridvid_lib.course.resume`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from hybridvid_lib.config import PROFILE_ENV, project_root, resolve_settings
from hybridvid_lib.course.catalog import CourseError, default_notebooks_dir, find_notebooks, select_notebooks
from hybridvid_lib.course.options import parse_seeds, user_parameters
from hybridvid_lib.course.report import (
    FINISHED_STATUSES,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    write_report,
    write_results,
)
from hybridvid_lib.course.resume import (
    LATEST_FILE,
    LATEST_LINK,
    RunKey,
    check_same_plan,
    check_same_profile,
    finished_runs,
    latest_run_dir,
    load_recorded,
)
from hybridvid_lib.io_utils import atomic_write_text

METRICS_NAME = "metrics.json"
KERNEL_LOG = "kernel.log"  # what the kernel process printed outside the notebook
# Cell tags papermill uses: its injected cell, and the error banners it adds to a failed notebook.
INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"
ERROR_MARKER_TAG = "papermill-error-cell-tag"
# Interpreter names a kernelspec may give that jupyter_client replaces by the running Python.
_RUNNING_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2]}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class CourseResult:
    """What :func:`run_course` did: the output folder, the ``results.json`` document and the report."""

    out_dir: Path
    results: dict[str, Any]
    results_path: Path
    report_path: Path
    latest: Path
    executed: tuple[RunKey, ...] = ()  # the (notebook, seed) pairs this call ran; a resume keeps the others

    @property
    def runs(self) -> list[dict[str, Any]]:
        return self.results["runs"]

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The runs that did not finish (status neither ``ok`` nor ``skipped``)."""
        return [run for run in self.runs if run["status"] not in FINISHED_STATUSES]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """The runs whose notebook said it cannot run in this setting (each has a ``reason``)."""
        return [run for run in self.runs if run["status"] == STATUS_SKIPPED]

    @property
    def exit_code(self) -> int:
        """0 when every run is ok or skipped, 1 otherwise (what ``hybridvid course run`` exits with)."""
        return 1 if self.failed else 0


# --------------------------------------------------------------------------- set-up
def now_iso() -> str:
    """Local time with its UTC offset, to the second (``2025-01-31T14:02:09+01:00``)."""
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def default_runs_dir() -> Path:
    """``<checkout>/runs``, or ``./runs`` when the kit is not installed from a checkout."""
    root = project_root()
    return (root if root is not None else Path.cwd()) / "runs"


def new_run_dir(runs_dir: Path) -> Path:
    """A fresh ``runs_dir/<YYYYmmdd-HHMMSS>`` path (``-2``, ``-3`` ... when that second is taken)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = runs_dir / stamp
    counter = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = runs_dir / f"{stamp}-{counter}"
        counter += 1
    return candidate


def point_latest(runs_dir: Path, target: Path) -> Path:
    """Make ``runs_dir/latest`` a symlink to ``target``, replaced atomically; return the pointer written.

    The link is relative when ``target`` lies inside ``runs_dir`` (the checkout can move). Where a
    symlink cannot be made (some Windows set-ups, a real folder named ``latest``), the absolute path
    goes into the text file ``runs_dir/LATEST`` instead.
    """
    runs_dir = Path(runs_dir).absolute()
    target = Path(target).absolute()
    runs_dir.mkdir(parents=True, exist_ok=True)
    link = runs_dir / LATEST_LINK
    try:
        pointer = os.path.relpath(target, runs_dir) if target.is_relative_to(runs_dir) else str(target)
    except ValueError:  # another drive on Windows
        pointer = str(target)
    tmp = runs_dir / f".{LATEST_LINK}.{uuid.uuid4().hex}.tmp"
    try:
        os.symlink(pointer, tmp, target_is_directory=True)
        os.replace(tmp, link)  # atomic: readers see the old link or the new one, never none
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return atomic_write_text(runs_dir / LATEST_FILE, f"{target}\n")
    with contextlib.suppress(FileNotFoundError):
        (runs_dir / LATEST_FILE).unlink()  # a stale text pointer would contradict the link
    return link


def kernel_python(kernel_name: str) -> str:
    """The interpreter the Jupyter kernel ``kernel_name`` starts (as jupyter_client will launch it).

    Raises:
        CourseError: no kernel of that name is installed.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise CourseError(
            f"No Jupyter kernel named {kernel_name!r}; install this environment's kernel with "
            f"`python -m ipykernel install --sys-prefix --name {kernel_name}` (make does this)."
        ) from None
    first = spec.argv[0] if spec.argv else ""
    # jupyter_client starts a bare "python"/"python3" kernelspec with the running interpreter.
    return sys.executable if first in _RUNNING_PYTHON_NAMES else first


def gpu_names() -> list[str] | None:
    """Names of the GPUs TensorFlow sees (``[]`` for none); ``None`` when TensorFlow cannot be imported."""
    try:
        from hybridvid_lib.tf_setup import gpu_devices

        return [device.name for device in gpu_devices()]
    except ImportError:
        return None


def resolve_profile(profile: str | None, *, detect_gpu: bool) -> tuple[str, list[str] | None]:
    """``(profile name, GPU names or None when not checked)``.

    The profile is ``profile``, else ``$HYBRIDVID_PROFILE``, else ``gpu`` when TensorFlow sees a GPU,
    else ``cpu``. TensorFlow (a few seconds to import) is only asked when the choice needs it or
    ``detect_gpu`` is true (for the report's machine line).
    """
    name = profile or os.environ.get(PROFILE_ENV) or None
    if name is not None:
        resolve_settings(name)  # an unknown name fails here, before anything runs
    gpus = gpu_names() if (detect_gpu or name is None) else None
    if name is None:
        name = "gpu" if gpus else "cpu"
    return name, gpus


def machine_info(gpus: list[str] | None, kernel_name: str, kernel_executable: str) -> dict[str, Any]:
    """What the report says about the machine: cores, GPUs, platform, Python, the kernel used."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_cores": os.cpu_count(),
        "usable_cores": usable,
        "gpus": gpus,
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "kernel": {"name": kernel_name, "python": kernel_executable,
                   "same_environment": os.path.abspath(kernel_executable) == os.path.abspath(sys.executable)},
    }


# --------------------------------------------------------------------------- one run
def one_line(text: Any) -> str:
    """Collapse an error message to one line without colour codes, at most 300 characters."""
    flat = " ".join(_ANSI.sub("", str(text)).split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 1] + "…"


def source_cell_index(source_cells: Sequence[Mapping[str, Any]], executed_index: int) -> int | None:
    """Index in the course notebook of the cell papermill reports as ``executed_index``.

    Papermill runs the notebook with an ``injected-parameters`` cell (after the ``parameters`` cell,
    replacing an old injected cell, or at the top) and without old error banners, so its indices
    differ from the notebook a teacher edits. Returns ``None`` for the injected cell itself.
    """
    def tags(cell: Mapping[str, Any]) -> list[str]:
        return list(cell.get("metadata", {}).get("tags", []))

    indices: list[int | None] = list(range(len(source_cells)))
    injected = next((i for i, c in enumerate(source_cells) if INJECTED_TAG in tags(c)), None)
    params = next((i for i, c in enumerate(source_cells) if PARAMETERS_TAG in tags(c)), None)
    if injected is not None:
        indices[injected] = None
    elif params is not None:
        indices.insert(params + 1, None)
    else:
        indices.insert(0, None)
    executed = [i for i in indices if i is None or ERROR_MARKER_TAG not in tags(source_cells[i])]
    if not 0 <= executed_index < len(executed):
        return None
    return executed[executed_index]


def _error(cell: int | None, ename: str, evalue: Any, **extra: Any) -> dict[str, Any]:
    return {"cell": cell, "ename": ename, "evalue": one_line(evalue), **extra}


def _last_started_cell(executed_path: Path) -> int | None:
    """Index (in the executed notebook) of the last cell papermill started, if any.

    When execution stops without a cell error (a cell timed out, the kernel died), papermill does
    not mark the culprit; it is the last cell that has a start time, the later ones never ran.
    """
    import nbformat

    try:
        nb = nbformat.read(executed_path, as_version=4)
    except Exception:  # noqa: BLE001 - a missing or half-written notebook just means "unknown cell"
        return None
    cells = [c for c in nb.cells if ERROR_MARKER_TAG not in c.get("metadata", {}).get("tags", [])]
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


@contextlib.contextmanager
def kernel_output_to(log_path: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``log_path`` inside the block (the kernel inherits them).

    The kernel process writes start-up notices and C++ library logs (TensorFlow) straight to the
    descriptors it inherits; in a teacher's terminal they would bury the progress lines, so they
    go to the run's ``kernel.log`` instead. Restored on exit, also on an exception.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log_fd):
            os.close(fd)


def execute_run(
    notebook: Path,
    seed: int,
    run_dir: Path,
    out_dir: Path,
    *,
    profile: str,
    parameters: Mapping[str, Any],
    kernel_name: str,
    timeout: int | None,
) -> dict[str, Any]:
    """Execute ``notebook`` once into ``run_dir`` and return its ``results.json`` entry.

    The entry: ``notebook`` (stem), ``seed``, ``status`` (``ok`` | ``skipped`` | ``failed``),
    ``reason`` (why a skipped notebook did not run; ``None`` otherwise), ``duration_s``,
    ``metrics`` (the validated ``metrics.json`` document or ``None``), ``error`` (``None`` or
    ``{"cell", "ename", "evalue", ...}``), ``executed_notebook`` and ``kernel_log`` (paths relative
    to ``out_dir``).
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from hybridvid_lib.evaluation import is_skipped, load_metrics

    run_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / METRICS_NAME
    # A metrics.json left by an earlier run in this folder must not pass for this run's.
    metrics_path.unlink(missing_ok=True)
    executed = run_dir / notebook.name
    run_parameters = {"PROFILE": profile, "SEED": int(seed), "OUTPUT_DIR": str(run_dir), **parameters}
    engine_kwargs = {"execution_timeout": int(timeout)} if timeout else {}
    error: dict[str, Any] | None = None
    started = time.perf_counter()
    kernel_log = run_dir / KERNEL_LOG
    try:
        with kernel_output_to(kernel_log):
            pm.execute_notebook(
                str(notebook), str(executed), parameters=run_parameters, kernel_name=kernel_name,
                cwd=str(notebook.parent), progress_bar=False, log_output=False, **engine_kwargs,
            )
    except PapermillExecutionError as exc:
        source = nbformat.read(notebook, as_version=4).cells
        error = _error(source_cell_index(source, exc.cell_index), exc.ename, exc.evalue,
                       executed_cell=exc.cell_index, execution_count=exc.exec_count)
    except Exception as exc:  # noqa: BLE001 - a dead kernel or a timeout fails this run, not the course
        executed_cell = _last_started_cell(executed)
        cell = None
        if executed_cell is not None:
            cell = source_cell_index(nbformat.read(notebook, as_version=4).cells, executed_cell)
        error = _error(cell, type(exc).__name__, exc, executed_cell=executed_cell)
    duration = time.perf_counter() - started

    metrics = None
    if error is None:
        try:
            metrics = load_metrics(metrics_path)
        except FileNotFoundError:
            error = _error(None, "MissingMetrics",
                           f"the notebook finished without writing OUTPUT_DIR/{METRICS_NAME}")
        except ValueError as exc:
            error = _error(None, "InvalidMetrics", exc)
        else:
            if metrics["seed"] != int(seed) or metrics["profile"] != profile:
                # The notebook ignored its SEED or PROFILE parameter: its numbers are not this run's.
                error = _error(None, "MetricsMismatch",
                               f"{METRICS_NAME} says profile {metrics['profile']!r} seed {metrics['seed']}, "
                               f"but the run used profile {profile!r} seed {seed}")
    status, reason = STATUS_FAILED, None
    if error is None:
        # A skipped document passed the same checks (schema, seed, profile) as a finished one.
        skipped = is_skipped(metrics)
        status = STATUS_SKIPPED if skipped else STATUS_OK
        reason = one_line(metrics["reason"]) if skipped else None
    return {
        "notebook": notebook.stem,
        "seed": int(seed),
        "status": status,
        "reason": reason,
        "duration_s": round(duration, 3),
        "metrics": metrics,
        "error": error,
        "executed_notebook": executed.relative_to(out_dir).as_posix(),
        "kernel_log": kernel_log.relative_to(out_dir).as_posix(),
    }


def failed_entry(notebook: Path, seed: int, run_kwargs: Mapping[str, Any], message: str) -> dict[str, Any]:
    """The ``results.json`` entry of a run whose process ended without one (killed, out of memory)."""
    run_dir, out_dir = Path(run_kwargs["run_dir"]), Path(run_kwargs["out_dir"])
    return {
        "notebook": notebook.stem, "seed": int(seed), "status": STATUS_FAILED, "reason": None, "duration_s": 0.0,
        "metrics": None, "error": _error(None, "RunProcessDied", message),
        "executed_notebook": (run_dir / notebook.name).relative_to(out_dir).as_posix(),
        "kernel_log": (run_dir / KERNEL_LOG).relative_to(out_dir).as_posix(),
    }


def describe_error(error: Mapping[str, Any] | None) -> str:
    """``"cell 2: ValueError: boom"`` (or without the cell when it is not known)."""
    if not error:
        return ""
    where = f"cell {error['cell']}: " if error.get("cell") is not None else ""
    return f"{where}{error['ename']}: {error['evalue']}"


# --------------------------------------------------------------------------- the course
def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class CoursePlan:
    """What a course run executes and where: made fresh, or read back from a recorded ``results.json``."""

    out_dir: Path
    results: dict[str, Any]  # the results.json document, updated as runs finish
    pairs: list[tuple[Path, int]]  # every (notebook, seed) of the course, in course order
    done: set[RunKey]  # (notebook stem, seed) pairs already finished: a resume keeps them

    @property
    def pending(self) -> list[tuple[Path, int]]:
        """The pairs still to execute, in course order."""
        return [(nb, seed) for nb, seed in self.pairs if (nb.stem, seed) not in self.done]


def _checked_kernel(kernel_name: str, say: Callable[[str], None]) -> str:
    """The kernel's interpreter, with a warning when it is not this environment's (CourseError if absent)."""
    kernel_executable = kernel_python(kernel_name)
    if os.path.abspath(kernel_executable) != os.path.abspath(sys.executable):
        say(f"warning: kernel {kernel_name!r} runs {kernel_executable}, not this environment's "
            f"{sys.executable}; the notebooks may not find hybridvid_lib.")
    return kernel_executable


def new_plan(
    notebooks_dir: Path | None,
    *,
    profile: str | None,
    only: Sequence[str] | None,
    out: Path | None,
    parameters: dict | None,
    seeds: Sequence[int] | None,
    kernel_name: str,
    runs_root: Path,
    detect_gpu: bool,
    say: Callable[[str], None],
) -> CoursePlan:
    """A fresh course run: every chosen notebook x seed, into ``out`` or a new ``runs/<timestamp>``.

    Everything the caller may have mistyped is checked before the output folder is made.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    notebooks = select_notebooks(find_notebooks(folder), only)
    user = user_parameters(parameters)
    kernel_executable = _checked_kernel(kernel_name, say)
    profile_name, gpus = resolve_profile(profile, detect_gpu=detect_gpu)
    seed_list = parse_seeds(seeds) or list(resolve_settings(profile_name).seeds)

    out_dir = (Path(out) if out is not None else new_run_dir(runs_root)).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = [(nb, seed) for nb in notebooks for seed in seed_list]
    results: dict[str, Any] = {
        "profile": profile_name,
        "seeds": seed_list,
        "started": now_iso(),
        "finished": None,
        "notebooks_dir": str(folder.absolute()),
        "notebooks": [nb.stem for nb in notebooks],
        "parameters": user,
        "planned_runs": len(pairs),
        "machine": machine_info(gpus, kernel_name, kernel_executable),
        "runs": [],
    }
    say(f"course: {len(notebooks)} notebook(s) x {len(seed_list)} seed(s) = {len(pairs)} run(s), "
        f"profile {profile_name}, output {out_dir}")
    return CoursePlan(out_dir=out_dir, results=results, pairs=pairs, done=set())


def _recorded_notebooks_dir(recorded: Mapping[str, Any]) -> Path:
    """The notebooks folder the record names, or the checkout's when that folder has gone (a moved checkout)."""
    named = recorded.get("notebooks_dir")
    if named and Path(named).is_dir():
        return Path(named)
    return default_notebooks_dir()


def resume_plan(
    notebooks_dir: Path | None,
    *,
    profile: str | None,
    only: Sequence[str] | None,
    out: Path | None,
    parameters: dict | None,
    seeds: Sequence[int] | None,
    kernel_name: str,
    runs_root: Path,
    say: Callable[[str], None],
) -> CoursePlan:
    """The recorded course run in ``out`` (default: ``runs/latest``), to finish its missing or failed runs.

    Raises:
        CourseError: no ``results.json`` there, or a profile, notebook list, seeds or parameters other
            than the recorded ones were asked for (see :mod:`hybridvid_lib.course.resume`).
    """
    out_dir = (Path(out) if out is not None else latest_run_dir(runs_root)).absolute()
    recorded = load_recorded(out_dir)
    profile_name = check_same_profile(recorded, profile or os.environ.get(PROFILE_ENV) or None, out_dir)
    resolve_settings(profile_name)  # a record naming a profile this kit no longer has fails here
    folder = Path(notebooks_dir) if notebooks_dir is not None else _recorded_notebooks_dir(recorded)
    available = find_notebooks(folder)
    notebooks = select_notebooks(available, recorded["notebooks"])  # a recorded notebook that is gone fails here
    asked = [nb.stem for nb in select_notebooks(available, only)] if only else None
    check_same_plan(recorded, notebooks=asked, seeds=parse_seeds(seeds),
                    parameters=user_parameters(parameters), out_dir=out_dir)
    _checked_kernel(kernel_name, say)

    pairs = [(nb, int(seed)) for nb in notebooks for seed in recorded["seeds"]]
    results = dict(recorded)
    results.pop("interrupted", None)  # this call picks up from there
    results.setdefault("parameters", {})
    results.update(finished=None, planned_runs=len(pairs), resumed=[*recorded.get("resumed", []), now_iso()])
    plan = CoursePlan(out_dir=out_dir, results=results, pairs=pairs, done=finished_runs(recorded["runs"]))
    say(f"course: resuming {out_dir} (profile {profile_name}): {len(pairs) - len(plan.pending)} of "
        f"{len(pairs)} run(s) finished earlier are kept, {len(plan.pending)} to run")
    return plan


def count_line(runs: Sequence[Mapping[str, Any]], planned: int) -> str:
    """``3 of 4 run(s) ok`` (``, 1 skipped`` when some were), the course's one-line outcome."""
    ok = sum(run["status"] == STATUS_OK for run in runs)
    skipped = sum(run["status"] == STATUS_SKIPPED for run in runs)
    return f"{ok} of {planned} run(s) ok" + (f", {skipped} skipped" if skipped else "")


def _finished_line(tag: str, entry: Mapping[str, Any]) -> str:
    took = f"{entry['duration_s']:.1f} s"
    if entry["status"] == STATUS_OK:
        return f"{tag} ok {took}"
    if entry["status"] == STATUS_SKIPPED:
        return f"{tag} skipped {took}: {entry['reason']}"
    return f"{tag} FAILED {took}: {describe_error(entry['error'])}"


def execute_plan(
    plan: CoursePlan,
    *,
    parameters: Mapping[str, Any],
    kernel_name: str,
    timeout: int | None,
    say: Callable[[str], None],
    jobs: int = 1,
) -> list[RunKey]:
    """Execute ``plan.pending``, rewriting ``results.json`` after every run; return the pairs executed.

    ``results.json`` is replaced atomically after each run, so a kill at any moment leaves every run
    finished so far on disk for ``--resume``. A run executed again replaces its earlier (failed) entry;
    the runs stay in course order. On Ctrl-C the report is written and ``KeyboardInterrupt`` re-raised.
    ``jobs`` > 1 runs that many at once, each in its own process (:mod:`hybridvid_lib.course.parallel`).
    """
    results, out_dir = plan.results, plan.out_dir
    order = [(nb.stem, seed) for nb, seed in plan.pairs]
    entries = {(str(run["notebook"]), int(run["seed"])): run for run in results["runs"]}
    results["runs"] = [entries[key] for key in order if key in entries]
    write_results(results, out_dir)
    pending = plan.pending
    executed: list[RunKey] = []
    results["jobs"] = jobs
    if jobs > 1 and len(pending) > 1:
        return _execute_parallel(plan, pending, entries, order, parameters=parameters, kernel_name=kernel_name,
                                 timeout=timeout, say=say, jobs=jobs)
    for number, (notebook, seed) in enumerate(pending, start=1):
        tag = f"[{number}/{len(pending)}] {notebook.stem} seed {seed}"
        say(f"{tag} ...")
        try:
            entry = execute_run(notebook, seed, out_dir / notebook.stem / f"seed{seed}", out_dir,
                                profile=results["profile"], parameters=parameters, kernel_name=kernel_name,
                                timeout=timeout)
        except KeyboardInterrupt:
            results["finished"] = now_iso()
            results["interrupted"] = {"notebook": notebook.stem, "seed": int(seed)}
            write_results(results, out_dir)
            write_report(results, out_dir)
            say(f"{tag} interrupted; results.json and report.md keep the runs finished so far; "
                f"`hybridvid course run --resume {out_dir}` continues")
            raise
        entries[(notebook.stem, int(seed))] = entry
        results["runs"] = [entries[key] for key in order if key in entries]
        write_results(results, out_dir)
        executed.append((notebook.stem, int(seed)))
        say(_finished_line(tag, entry))
    return executed


def _execute_parallel(plan: CoursePlan, pending: list[tuple[Path, int]], entries: dict[RunKey, dict[str, Any]],
                      order: list[RunKey], *, parameters: Mapping[str, Any], kernel_name: str,
                      timeout: int | None, say: Callable[[str], None], jobs: int) -> list[RunKey]:
    """:func:`execute_plan` with ``jobs`` runs at once; the same records, lines and interruption."""
    from hybridvid_lib.course.parallel import execute_parallel, threads_per_job

    results, out_dir = plan.results, plan.out_dir
    executed: list[RunKey] = []
    numbers = {(nb.stem, int(seed)): n for n, (nb, seed) in enumerate(pending, start=1)}
    running: set[RunKey] = set()

    def tag(key: RunKey) -> str:
        return f"[{numbers[key]}/{len(pending)}] {key[0]} seed {key[1]}"

    def run_kwargs(notebook: Path, seed: int) -> dict[str, Any]:
        return dict(notebook=notebook, seed=seed, run_dir=out_dir / notebook.stem / f"seed{seed}", out_dir=out_dir,
                    profile=results["profile"], parameters=dict(parameters), kernel_name=kernel_name,
                    timeout=timeout)

    def on_start(key: RunKey) -> None:
        running.add(key)
        say(f"{tag(key)} ...")

    def on_finish(key: RunKey, entry: dict[str, Any]) -> None:
        running.discard(key)
        entries[key] = entry
        results["runs"] = [entries[k] for k in order if k in entries]
        write_results(results, out_dir)
        executed.append(key)
        say(_finished_line(tag(key), entry))

    say(f"course: up to {jobs} runs at once, {threads_per_job(jobs)} TensorFlow thread(s) each")
    try:
        execute_parallel(pending, all_pairs=order, done=set(plan.done), first_seed=int(results["seeds"][0]),
                         jobs=jobs, run_kwargs=run_kwargs, on_start=on_start, on_finish=on_finish)
    except KeyboardInterrupt:
        results["finished"] = now_iso()
        results["interrupted"] = [{"notebook": nb, "seed": int(seed)} for nb, seed in sorted(running)]
        write_results(results, out_dir)
        write_report(results, out_dir)
        say(f"interrupted; results.json and report.md keep the runs finished so far; "
            f"`hybridvid course run --resume {out_dir}` continues")
        raise
    return executed


def run_course(
    notebooks_dir: Path | None = None,
    *,
    profile: str | None = None,
    only: Sequence[str] | None = None,
    out: Path | None = None,
    parameters: dict | None = None,
    seeds: Sequence[int] | None = None,
    kernel_name: str = "python3",
    timeout: int | None = None,
    runs_dir: Path | None = None,
    detect_gpu: bool = True,
    progress: Callable[[str], None] | None = None,
    resume: bool = False,
    jobs: int | str | None = 1,
) -> CourseResult:
    """Run every chosen notebook once per seed with papermill; write ``results.json`` and ``report.md``.

    Args:
        notebooks_dir: folder of ``NN_*.ipynb`` notebooks (default: the checkout's ``notebooks/``;
            on resume, the folder the record names).
        profile: ``smoke`` | ``cpu`` | ``gpu``; default ``$HYBRIDVID_PROFILE``, else ``gpu`` when
            TensorFlow sees a GPU, else ``cpu`` (on resume: the recorded one).
        only: chapter numbers (``["00", "01"]``) or stems to run; ``None`` runs them all.
        out: output folder; default ``runs_dir/<YYYYmmdd-HHMMSS>`` (on resume: ``runs_dir/latest``).
        parameters: extra notebook parameters for every run (``PROFILE``, ``SEED`` and
            ``OUTPUT_DIR`` are set by the runner and refused here).
        seeds: seeds to run each notebook with; default the profile's ``settings.seeds``.
        kernel_name: Jupyter kernel to execute with (``make`` installs ``python3`` into the venv).
        timeout: seconds a single cell may run (``None``: no limit).
        runs_dir: where ``latest`` (and default output folders) live; default ``<checkout>/runs``.
        detect_gpu: ask TensorFlow for GPUs for the report even when the profile is given.
        progress: called with one line per run start and finish; default prints to stderr.
        resume: continue the course run recorded in ``out``: keep its ok and skipped runs, execute
            the missing and failed ones. ``profile``, ``only``, ``seeds`` and ``parameters`` may be
            left out (the recorded ones are used); given, they must equal the recorded ones.
        jobs: runs executed at once, each in its own process with ``cpu_count // jobs`` TensorFlow
            threads; a run starts once the runs it reads have finished
            (:mod:`hybridvid_lib.course.parallel`). 1: one after the other, in this process.
            ``"auto"`` (or ``None``): 1 in the ``gpu`` profile, else half the cores (2 on 2 cores).

    Returns:
        A :class:`CourseResult`; ``exit_code`` is 1 when any run failed (skipped runs do not count).

    Raises:
        CourseError / SettingsError: unknown notebook number, profile, kernel, seed or parameter, or
            nothing to resume (before anything runs). ``KeyboardInterrupt`` is re-raised after
            ``results.json`` and ``report.md`` record what finished.
    """
    from hybridvid_lib.course.parallel import parse_jobs

    say = progress or _stderr_line
    if jobs not in (None, "auto"):
        jobs = parse_jobs(jobs)  # a mistyped count fails here, before anything runs
    runs_root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    common = dict(profile=profile, only=only, out=out, parameters=parameters, seeds=seeds,
                  kernel_name=kernel_name, runs_root=runs_root, say=say)
    if resume:
        plan = resume_plan(notebooks_dir, **common)
    else:
        plan = new_plan(notebooks_dir, detect_gpu=detect_gpu, **common)
    latest = point_latest(runs_root, plan.out_dir)
    if jobs in (None, "auto"):
        jobs = parse_jobs(None, gpu=plan.results["profile"] == "gpu")
    executed = execute_plan(plan, parameters=plan.results["parameters"], kernel_name=kernel_name,
                            timeout=timeout, say=say, jobs=jobs)

    results = plan.results
    results["finished"] = now_iso()
    results_path = write_results(results, plan.out_dir)
    report_path = write_report(results, plan.out_dir)
    say(f"course: {count_line(results['runs'], len(plan.pairs))}; report {report_path}")
    return CourseResult(out_dir=plan.out_dir, results=results, results_path=results_path,
                        report_path=report_path, latest=latest, executed=tuple(executed))
