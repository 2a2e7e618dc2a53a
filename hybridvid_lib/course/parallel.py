"""Several course runs at once (``hybridvid course run --jobs N``): which runs may overlap, and the processes.

On a CPU the course's models are small (64 x 64 clips, batches of 8): much of a training step is
per-operation overhead that a second thread does not shorten, so two notebooks on one thread each
get through more work than one notebook on two threads (``hybridvid bench models`` measures a
model's rate; the README gives the course's times with one and with two jobs). Each job runs in
its own process, its kernel limited to ``cpu_count // jobs`` TensorFlow threads
(``TF_NUM_INTRAOP_THREADS``). A thread count changes the order of some float sums, so a run's
figures can differ from a one-job run's in the last digits, and over many epochs by a video or two:
as between two machines.

Which runs may overlap (:func:`run_dependencies`): notebooks read what earlier ones wrote (chapter
03 evaluates chapter 01's models, 07 and 08 read chapter 06's streams, all of the first seed or of
their own), and a notebook's first seed may do work every seed shares (its flow cache, computed on
first use). So a run starts only when

- every earlier notebook has finished for its seed and for the first seed, and
- for a later seed, the same notebook has finished for the first seed, unless the notebook says
  its seeds share their work by locks (metadata ``"hybridvid": {"seeds_share_work": true}``;
  :func:`seeds_share_work`): chapter 08, whose runs train the rows of every seed into one folder,
  each run claiming a row by its lock (:mod:`hybridvid_lib.shared_work`), so its seeds split the
  work instead of the first seed doing it all while the others wait.

A dataset build is safe either way: a second process building the same folder waits for the first.

With one job the course runs in course order, as before, in this process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Sequence

from hybridvid_lib.course.catalog import CourseError

RunKey = tuple[str, int]
THREADS_ENV = "TF_NUM_INTRAOP_THREADS"


def parse_jobs(value: str | int | None, *, cpu_count: int | None = None, gpu: bool = False) -> int:
    """``--jobs``: a whole number >= 1, or ``auto`` (``None``): one with a GPU, else half the cores (at least 1).

    Half the cores: each job then keeps two threads on a large machine; on 2 cores, two jobs of one thread.

    Raises:
        CourseError: not a whole number >= 1 or ``auto``.
    """
    if value is None or value == "auto":
        if gpu:
            return 1  # one GPU: runs at once would compete for its memory
        cores = cpu_count or os.cpu_count() or 1
        return max(1, cores // 2) if cores > 2 else cores
    try:
        jobs = int(value)
    except (TypeError, ValueError):
        jobs = 0
    if isinstance(value, bool) or jobs < 1 or str(value).strip() != str(jobs):
        raise CourseError(f"--jobs must be a whole number >= 1 or 'auto'; got {value!r}.")
    return jobs


def threads_per_job(jobs: int, cpu_count: int | None = None) -> int:
    """TensorFlow threads for each of ``jobs`` runs at once: the cores shared out, at least one."""
    return max(1, (cpu_count or os.cpu_count() or 1) // max(1, jobs))


def seeds_share_work(notebook: str | Path) -> bool:
    """Whether ``notebook``'s runs for several seeds may run at once: its metadata says it shares work by locks."""
    try:
        metadata = json.loads(Path(notebook).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return False
    return (metadata.get("hybridvid") or {}).get("seeds_share_work") is True


def run_dependencies(pairs: Sequence[RunKey], first_seed: int,
                     together: Collection[str] = ()) -> dict[RunKey, set[RunKey]]:
    """For each ``(notebook, seed)`` of ``pairs`` (course order), the runs that must finish before it starts.

    See the module docstring for the rule; ``together`` names the notebooks whose seeds share their
    work by locks (:func:`seeds_share_work`). Only runs in ``pairs`` are named.
    """
    notebooks: list[str] = []
    for notebook, _ in pairs:
        if notebook not in notebooks:
            notebooks.append(notebook)
    position = {notebook: i for i, notebook in enumerate(notebooks)}
    keys = set(pairs)
    needs: dict[RunKey, set[RunKey]] = {}
    for notebook, seed in pairs:
        before = {(other, s) for other in notebooks[:position[notebook]] for s in {seed, first_seed}}
        if seed != first_seed and notebook not in together:
            before.add((notebook, first_seed))
        needs[(notebook, seed)] = before & keys
    return needs


def ready_runs(pending: Sequence[RunKey], finished: set[RunKey], running: set[RunKey],
               needs: Mapping[RunKey, set[RunKey]], first_seed: int | None = None) -> list[RunKey]:
    """The pending runs whose every dependency has finished and that are not running, the first seed's first.

    The first seed's runs come first (then course order): every later notebook waits for them, so
    they are the course's critical path (chapter 08's first seed trains the streams every seed reads).
    """
    ready = [key for key in pending if key not in running and needs.get(key, set()) <= finished]
    return sorted(ready, key=lambda key: key[1] != first_seed)  # stable: course order within each group


def _child(queue: Any, key: RunKey, threads: int, kwargs: dict[str, Any]) -> None:
    """A job's process: limit TensorFlow's threads (the kernel inherits the variable), execute, report."""
    os.environ[THREADS_ENV] = str(threads)
    from hybridvid_lib.course.runner import execute_run

    queue.put((key, execute_run(**kwargs)))


def execute_parallel(
    pending: Sequence[tuple[Path, int]],
    *,
    all_pairs: Sequence[RunKey],
    done: set[RunKey],
    first_seed: int,
    jobs: int,
    run_kwargs: Callable[[Path, int], dict[str, Any]],
    on_start: Callable[[RunKey], None],
    on_finish: Callable[[RunKey, dict[str, Any]], None],
) -> None:
    """Execute ``pending`` runs, up to ``jobs`` at once in child processes, respecting :func:`run_dependencies`.

    Args:
        pending: ``(notebook path, seed)`` still to run, in course order.
        all_pairs: every ``(stem, seed)`` of the course (the dependencies are computed over them).
        done: runs finished earlier (a resumed course): they count as finished.
        first_seed: the course's first seed.
        run_kwargs: the keyword arguments of :func:`~hybridvid_lib.course.runner.execute_run` for a run.
        on_start, on_finish: called in this process when a run starts, and with its entry when it ends
            (a process that died without an entry gives a ``failed`` entry naming its exit code).

    On ``KeyboardInterrupt`` the running processes are stopped (their runs are not recorded) and the
    exception is re-raised.
    """
    from hybridvid_lib.course.runner import failed_entry

    context = multiprocessing.get_context("spawn")  # no TensorFlow or kernel state copied from this process
    queue = context.Queue()
    paths = {(nb.stem, int(seed)): nb for nb, seed in pending}
    together = {stem for (stem, _), path in paths.items() if seeds_share_work(path)}
    needs = run_dependencies(all_pairs, first_seed, together)
    waiting = [(nb.stem, int(seed)) for nb, seed in pending]
    finished = set(done)
    running: dict[RunKey, Any] = {}
    threads = threads_per_job(jobs)
    try:
        while waiting or running:
            for key in ready_runs(waiting, finished, set(running), needs, first_seed):
                if len(running) >= jobs:
                    break
                process = context.Process(target=_child, args=(queue, key, threads, run_kwargs(paths[key], key[1])),
                                          name=f"course-{key[0]}-seed{key[1]}")
                process.start()
                running[key] = process
                waiting.remove(key)
                on_start(key)
            if not running:  # nothing can start and nothing runs: a dependency outside the plan
                raise CourseError(f"course runs {waiting} wait for runs that are not planned.")
            try:
                key, entry = queue.get(timeout=5)
            except Exception:  # noqa: BLE001 - queue.Empty: look for a process that died without a word
                for key, process in list(running.items()):
                    if not process.is_alive() and queue.empty():
                        process.join()
                        del running[key]
                        finished.add(key)
                        on_finish(key, failed_entry(paths[key], key[1], run_kwargs(paths[key], key[1]),
                                                    f"the run's process ended with exit code {process.exitcode} "
                                                    "before reporting"))
                continue
            running.pop(key).join()
            finished.add(key)
            on_finish(key, entry)
    except BaseException:
        for process in running.values():
            process.terminate()
        for process in running.values():
            process.join(timeout=30)
        raise
