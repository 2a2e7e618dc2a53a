"""Dataset readers: every format becomes one :class:`~hybridvid_lib.data.records.DatasetSplit`.

==================  ==========================================================================
``stickactions``    the kit's generated set (:mod:`.stickactions`), UCF101-style lists
``ucf101``          UCF101 as extracted from the official archives (:mod:`.ucf101`)
``hmdb51``          HMDB51 as extracted from the official archives (:mod:`.hmdb51`)
``folder``          ``<class>/<videos>`` of your own, split group-aware by the reader (:mod:`.folder`)
``ntu``             NTU RGB+D / NTU RGB+D 120 ``.skeleton`` files, split by a published protocol
                    (``xsub``, ``xview``, ``xset``) instead of a split number (:mod:`.ntu`)
==================  ==========================================================================

::

    from hybridvid_lib.data.datasets import load_dataset
    ds = load_dataset("ucf101", "~/data/ucf101", split=1)
    ds.summary()          # counts, missing and unreadable videos, notes
    ds.usable("train")    # records that exist and decode

Readers never drop a listed video silently: missing files go to ``missing``, files that
do not decode to ``unreadable``, entries that would lead out of the video folder (``..``, an
absolute path, a symbolic link to elsewhere) to ``refused`` without being opened, and anything
odd in the lists to ``notes``. A video listed on two sides of a split is refused (a leak).

``protocol`` and ``skeletons`` belong to ``ntu`` alone, ``videos`` and ``splits`` to the other
formats, and NTU has only split 1: an option a format does not have is refused with a
:class:`~hybridvid_lib.errors.DatasetError` that names the right one, never ignored (a learner who
typed ``--protocol xview`` for UCF101 would otherwise read numbers of the wrong experiment).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from hybridvid_lib.data.datasets.folder import read_folder
from hybridvid_lib.data.datasets.hmdb51 import read_hmdb51
from hybridvid_lib.data.datasets.ntu import PROTOCOLS, read_ntu
from hybridvid_lib.data.datasets.stickactions import read_stickactions
from hybridvid_lib.data.datasets.ucf101 import read_ucf101
from hybridvid_lib.data.records import DatasetSplit
from hybridvid_lib.errors import DatasetError

KNOWN_FORMATS = ("stickactions", "ucf101", "hmdb51", "folder", "ntu")

_READERS: dict[str, Callable[..., DatasetSplit]] = {
    "stickactions": read_stickactions,
    "ucf101": read_ucf101,
    "hmdb51": read_hmdb51,
    "folder": read_folder,
    "ntu": read_ntu,
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
    protocol: str | None = None,
    skeletons: Path | None = None,
) -> DatasetSplit:
    """Read split ``split`` (or, for ``ntu``, protocol ``protocol``) of a dataset in one of :data:`KNOWN_FORMATS`.

    Args:
        format: ``stickactions``, ``ucf101``, ``hmdb51``, ``folder`` or ``ntu`` (any capitals).
        root: the folder the dataset was extracted into or generated in.
        videos, splits: other locations of the video folder and the split-list folder
            (absolute, or relative to ``root``); the default is the format's standard layout.
            Not for ``ntu``.
        split: split number, 1-based as in the official list file names; ``ntu`` has only 1.
        check_videos: open every listed video that exists (first frame) and put the ones
            that do not decode in ``unreadable`` (``ntu``: parse every skeleton file);
            ``False`` is faster and leaves it empty.
        progress: show a tqdm bar while checking videos.
        protocol: ``ntu`` only: ``xsub`` (the default when ``None``), ``xview`` or ``xset``.
        skeletons: ``ntu`` only: another location of ``nturgb+d_skeletons/``.

    Raises:
        DatasetError: unknown format, bad split number, an option the format does not have, or
            a root the reader cannot use (the message says what was expected).
    """
    name = str(format).strip().lower()
    if name not in _READERS:
        raise DatasetError(f"Unknown dataset format {format!r}; known formats: {', '.join(KNOWN_FORMATS)}.")
    if isinstance(split, bool) or not isinstance(split, int) or split < 1:
        raise DatasetError(f"Split numbers start at 1 (official splits are 1-3); got {split!r}.")
    if name == "ntu":
        if videos is not None or splits is not None:
            raise DatasetError("The ntu format has no video or split-list folder (--videos, --splits); "
                               "pass the folder of .skeleton files with --skeletons DIR.")
        if split != 1:
            raise DatasetError(f"NTU RGB+D has no numbered splits (got split {split}); choose a protocol "
                               f"instead: --protocol {' | '.join(PROTOCOLS)}.")
        return read_ntu(root, skeletons=skeletons, protocol="xsub" if protocol is None else protocol,
                        check_videos=check_videos, progress=progress)
    if protocol is not None:
        raise DatasetError(f"The {name} format has no protocols (got {protocol!r}); protocols belong to the ntu "
                           f"format, and {name} chooses its split with --split N.")
    if skeletons is not None:
        raise DatasetError(f"The {name} format takes no skeleton folder (--skeletons belongs to the ntu format); "
                           "use --videos and --splits for its folders.")
    return _READERS[name](root, videos=videos, splits=splits, split=split,
                          check_videos=check_videos, progress=progress)


__all__ = [
    "KNOWN_FORMATS",
    "load_dataset",
    "read_folder",
    "read_hmdb51",
    "read_ntu",
    "read_stickactions",
    "read_ucf101",
]
