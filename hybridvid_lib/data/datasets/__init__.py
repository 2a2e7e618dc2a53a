"""Dataset readers: every format becomes one :class:`~hybridvid_lib.data.records.DatasetSplit`.

==================  ==========================================================================
``stickactions``    the kit's generated set (:mod:`.stickactions`), UCF101-style lists
``ucf101``          UCF101 as extracted from the official archives (:mod:`.ucf101`)
``hmdb51``          HMDB51 as extracted from the official archives (:mod:`.hmdb51`)
``folder``          ``<class>/<videos>`` of your own, split group-aware by the reader (:mod:`.folder`)
==================  ==========================================================================

::

    from hybridvid_lib.data.datasets import load_dataset
    ds = load_dataset("ucf101", "~/data/ucf101", split=1)
    ds.summary()          # counts, missing and unreadable videos, notes
    ds.usable("train")    # records that exist and decode

Readers never drop a listed video silently: missing files go to ``missing``, files that
do not decode to ``unreadable``, and anything odd in the lists to ``notes``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from hybridvid_lib.data.datasets.folder import read_folder
from hybridvid_lib.data.datasets.hmdb51 import read_hmdb51
from hybridvid_lib.data.datasets.stickactions import read_stickactions
from hybridvid_lib.data.datasets.ucf101 import read_ucf101
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.errors import DatasetError

KNOWN_FORMATS = ("stickactions", "ucf101", "hmdb51", "folder")

_READERS: dict[str, Callable[..., DatasetSplit]] = {
    "stickactions": read_stickactions,
    "ucf101": read_ucf101,
    "hmdb51": read_hmdb51,
    "folder": read_folder,
}


def load_dataset(
    format: str,
    root: str | os.PathLike,
    *,
    videos: Path | None = None,
    splits: Path | None = None,
    split: int = 1,
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read split ``split`` of a dataset in one of :data:`KNOWN_FORMATS`.

    Args:
        format: ``stickactions``, ``ucf101``, ``hmdb51`` or ``folder`` (any capitals).
        root: the folder the dataset was extracted into or generated in.
        videos, splits: other locations of the video folder and the split-list folder
            (absolute, or relative to ``root``); the default is the format's standard layout.
        split: split number, 1-based as in the official list file names.
        check_videos: open every listed video that exists (first frame) and put the ones
            that do not decode in ``unreadable``; ``False`` is faster and leaves it empty.
        progress: show a tqdm bar while checking videos.

    Raises:
        DatasetError: unknown format, bad split number, or a root the reader cannot use
            (the message says what was expected).
    """
    name = str(format).strip().lower()
    if name not in _READERS:
        raise DatasetError(f"Unknown dataset format {format!r}; known formats: {', '.join(KNOWN_FORMATS)}.")
    if isinstance(split, bool) or not isinstance(split, int) or split < 1:
        raise DatasetError(f"Split numbers start at 1 (official splits are 1-3); got {split!r}.")
    return _READERS[name](root, videos=videos, splits=splits, split=split,
                          check_videos=check_videos, progress=progress)


__all__ = [
    "KNOWN_FORMATS",
    "load_dataset",
    "read_folder",
    "read_hmdb51",
    "read_stickactions",
    "read_ucf101",
]
