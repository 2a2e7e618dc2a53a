"""Work that several processes share, each piece done once: claimed by holding a lock file.

``hybridvid course run --jobs N`` may run one notebook for several seeds at once. Chapter 08 trains
the rows of every seed into one shared folder, so its runs for seeds 0, 1 and 2 split that work
between them: each process takes a training run by holding the run folder's lock (``RUN.lock``
beside ``RUN/``), trains it and lets go; a run another process holds is left for later and read
back once that process lets go (the run folder is then complete, and training it again only
loads it).

The locks are ``filelock``'s: the operating system releases them when a process ends, however it
ends, so a killed run never leaves a claim behind; whoever takes the lock next finds the
interrupted run folder and resumes it from its last checkpoint.

Example (a notebook's rows, its own seed first)::

    order = [(s, name) for s in (SEED, *others) for name in ROWS]
    runs = share_work(order, lambda task: train_and_evaluate(task[1], ..., run_dir=folder_of(task)),
                      folder_of)
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Hashable, Iterator, Sequence, TypeVar

from filelock import FileLock, Timeout

Task = TypeVar("Task", bound=Hashable)
Result = TypeVar("Result")


def lock_file(folder: str | Path) -> Path:
    """The lock of ``folder``: ``FOLDER.lock`` beside it (the folder need not exist yet)."""
    folder = Path(folder)
    return folder.with_name(folder.name + ".lock")


@contextlib.contextmanager
def exclusive(folder: str | Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold ``folder``'s lock while the block runs; other processes asking for it wait (or skip).

    Args:
        folder: the shared folder (a run, a cache); its parent is created if missing.
        wait: ``True`` blocks until the lock is free; ``False`` does not wait.

    Yields:
        ``True`` while this process holds the lock; ``False`` (only with ``wait=False``) when another
        process holds it: the block then runs without it and must not touch the folder.
    """
    path = lock_file(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def share_work(tasks: Sequence[Task], work: Callable[[Task], Result],
               folder_of: Callable[[Task], str | Path]) -> dict[Task, Result]:
    """``work(task)`` for every task, each task's folder held while it runs, the free ones first.

    First pass, in the order given: a task whose folder no other process holds is done now; one
    that another process holds is left. Second pass: each left task waits for that process to let
    go, then ``work(task)`` runs (and finds the other process's finished work). So processes that
    share ``tasks`` in different orders (each its own seed first) split them instead of doing each
    twice; alone, a process does them all in order.

    ``work`` must make a finished task cheap to repeat (``train_and_evaluate`` loads a complete run
    folder instead of training it again).

    Returns:
        ``{task: work(task)}`` in the order of ``tasks``.
    """
    results: dict[Task, Result] = {}
    left: list[Task] = []
    for task in tasks:
        with exclusive(folder_of(task), wait=False) as held:
            if held:
                results[task] = work(task)
            else:
                left.append(task)
    for task in left:
        with exclusive(folder_of(task)):
            results[task] = work(task)
    return {task: results[task] for task in tasks}
