"""Fixtures of the hostile-input tests: the corpora (built once), a recorder of opened files, a CLI runner."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path
from typing import Callable

import cv2
import pytest

from tests.hostile.corpus import BUILDERS, Corpus


@pytest.fixture(scope="session")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Corpus]:
    """Every layout's hostile corpus, written once; tests that change a corpus build their own."""
    base = tmp_path_factory.mktemp("hostile")
    return {name: build(base / name) for name, build in BUILDERS.items()}


class OpenRecorder:
    """Every path handed to ``cv2.VideoCapture``, ``open`` and ``io.open`` while installed, resolved."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def record(self, target) -> None:
        if isinstance(target, (str, os.PathLike)):
            self.paths.append(os.path.realpath(os.fspath(target)))

    def touched(self, paths) -> list[str]:
        """Which of ``paths`` (or files below them) were opened."""
        wanted = [os.path.realpath(p) for p in paths]
        return [p for p in self.paths if any(p == w or p.startswith(w + os.sep) for w in wanted)]


@pytest.fixture
def opened(monkeypatch) -> OpenRecorder:
    """Record every file opened by OpenCV or Python from here on (worker threads included)."""
    recorder = OpenRecorder()
    real_capture, real_open = cv2.VideoCapture, builtins.open

    def capture(*args, **kwargs):
        if args:
            recorder.record(args[0])
        return real_capture(*args, **kwargs)

    def python_open(file, *args, **kwargs):
        recorder.record(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(cv2, "VideoCapture", capture)
    monkeypatch.setattr(builtins, "open", python_open)
    monkeypatch.setattr(io, "open", python_open)
    return recorder


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """``cli("data", "inspect", ...) -> (exit status, stdout, stderr)``, run in-process like ``hybridvid``."""
    from hybridvid_lib.cli import main

    def run(*argv: str | Path) -> tuple[int, str, str]:
        try:
            code = main([str(a) for a in argv])
        except SystemExit as stop:  # argparse's own errors
            code = stop.code
        out, err = capsys.readouterr()
        return code, out, err

    return run
