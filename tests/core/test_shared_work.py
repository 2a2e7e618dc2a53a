"""Shared work between processes: a held folder is skipped or waited for, a dead holder frees it, and two
processes sharing a list of tasks do each task once between them."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hybridvid_lib.shared_work import exclusive, lock_file, share_work

HOLD = """\
import pathlib, sys, time
from hybridvid_lib.shared_work import exclusive
with exclusive(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    pathlib.Path(sys.argv[1] + ".finished").write_text("yes")  # the last thing done holding the lock
"""


def _hold(folder: Path, seconds: float) -> subprocess.Popen:
    """A process that holds ``folder``'s lock for ``seconds`` (returns once it holds it)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_folder_another_process_holds_is_skipped_or_waited_for_and_a_killed_holder_frees_it(tmp_path):
    folder = tmp_path / "runs" / "cnn_lstm-cpu-seed0"
    assert lock_file(folder) == tmp_path / "runs" / "cnn_lstm-cpu-seed0.lock"
    holder = _hold(folder, 60)
    try:
        with exclusive(folder, wait=False) as held:
            assert held is False
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # dies holding it: the system lets go, no claim is left
        holder.wait()
    with exclusive(folder, wait=False) as held:
        assert held is True
        with exclusive(folder, wait=False) as again:  # a second claim, even from this process, is refused
            assert again is False
    holder = _hold(folder, 1.5)
    with exclusive(folder) as held:  # waits for the holder to finish
        assert held is True and Path(f"{folder}.finished").is_file()
    holder.wait()


def _worker(root: str, order: list[int], barrier) -> None:
    """Does tasks ``order`` with share_work; a task sleeps, then logs who did it; a done task is only read."""
    log = Path(root) / "log.jsonl"

    def work(task: int) -> str:
        done = Path(root) / f"task{task}" / "done"
        if done.is_file():
            return "read"
        time.sleep(0.4)
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text(str(os.getpid()))
        with log.open("a") as f:
            f.write(json.dumps({"task": task, "pid": os.getpid()}) + "\n")
        return "done"

    barrier.wait()
    results = share_work(order, work, lambda task: Path(root) / f"task{task}")
    assert list(results) == order  # every task answered, in the order asked
    (Path(root) / f"results-{order[0]}.json").write_text(json.dumps(results))


def test_two_processes_sharing_tasks_in_their_own_orders_do_each_task_once_between_them(tmp_path):
    tasks = list(range(8))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [context.Process(target=_worker, args=(str(tmp_path), order, barrier))
                 for order in (tasks, tasks[::-1])]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert sorted(entry["task"] for entry in log) == tasks  # each task done exactly once
    assert len({entry["pid"] for entry in log}) == 2  # and both processes did some of them
    for first in (0, 7):
        results = json.loads((tmp_path / f"results-{first}.json").read_text())
        assert set(results.values()) <= {"done", "read"} and len(results) == len(tasks)
        assert "read" in results.values()  # the other process's tasks were waited for, then read back


def test_alone_a_process_does_every_task_in_order(tmp_path):
    seen: list[int] = []
    results = share_work([3, 1, 2], lambda task: seen.append(task) or task * 10, lambda task: tmp_path / str(task))
    assert seen == [3, 1, 2] and results == {3: 30, 1: 10, 2: 20}
