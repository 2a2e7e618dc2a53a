"""Download and extract the official UCF101 and HMDB51 archives (``hybridvid data download``).

::

    hybridvid data download ucf101 --to ~/data/ucf101
    hybridvid data inspect --format ucf101 --root ~/data/ucf101

==========  ==============================================  =====================================
dataset     archive (official folder: :data:`SOURCES`)      extracts to (below ``--to``)
==========  ==============================================  =====================================
ucf101      ``UCF101.rar``                                  ``UCF-101/<Class>/v_*.avi``
ucf101      ``UCF101TrainTestSplits-RecognitionTask.zip``   ``ucfTrainTestlist/``
hmdb51      ``hmdb51_org.rar`` (one ``<class>.rar`` each)   ``hmdb51_org/<class>/*.avi``
hmdb51      ``test_train_splits.rar``                       ``testTrainMulti_7030_splits/``
==========  ==============================================  =====================================

The result is the layout the ``ucf101`` and ``hmdb51`` readers expect, read as it is.

``--url BASE`` replaces the official folder: every archive of the dataset is fetched from
``BASE/<archive name>`` (a mirror, or a local test server), the names above unchanged.

How a run goes, and what a second run skips:

- A download goes to ``<name>.part`` beside the final file; an interrupted one is continued with
  an HTTP ``Range`` request (a server that ignores it answers ``200`` and the download starts over,
  with a message). A dropped connection is retried ``retries`` times; after that the ``.part`` file
  is kept and the same command continues it.
- The finished file is checked: its size against the server's ``Content-Length`` and any expected
  size, its sha256 against any expected one (``--size NAME=BYTES``, ``--sha256 NAME=HEX``; the
  official site publishes neither, so the command prints both values for you to pin). Only then is
  it renamed to its final name. A mismatch deletes nothing: the message names the file, both values
  and what to do.
- A verified archive is recorded in ``.hybridvid-download/<name>.verified.json`` (size, mtime,
  sha256) and is not downloaded or hashed again. An extracted one gets
  ``.hybridvid-download/<name>.extracted.json``, written last, and is not extracted again (nor
  downloaded, with ``--delete-archives``).
- Extraction happens in ``.hybridvid-download/<name>.extracting/`` and the finished folder is
  renamed into place. Every member is checked first: an absolute path, a ``..`` or a symlink
  that points outside the target refuses the whole archive before anything is written.
- RAR archives are read with `rarfile <https://pypi.org/project/rarfile/>`_. Stored
  (uncompressed) members need nothing else; compressed ones need an extractor on the PATH
  (``unar``, ``unrar``, ``7z`` or ``bsdtar``, whichever rarfile finds), which then unpacks the whole
  archive in one run; its absence is reported with how to install one. The zip goes through ``zipfile``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from tqdm.auto import tqdm

from hybridvid_lib.errors import DownloadError
from hybridvid_lib.io_utils import atomic_write_json

STATE_DIR = ".hybridvid-download"
PART_SUFFIX = ".part"
CHUNK = 1 << 20

NO_EXTRACTOR = (
    "{archive} holds compressed RAR members, and rarfile found no program to unpack them (it uses unar, "
    "unrar, 7z or bsdtar): install one, e.g. `apt-get install unar` on Debian/Ubuntu, `brew install unar` "
    "on macOS, or 7-Zip with 7z on the PATH on Windows, then run the same command again (the download is kept)."
)


@dataclass(frozen=True)
class Archive:
    """One official archive of a dataset.

    Attributes:
        name: file name, also the name under a ``--url`` base.
        url: official address.
        extracts_to: the folder below ``--to`` that extraction yields.
        kind: ``"rar"``, ``"zip"``, or ``"rar_of_rars"`` (HMDB51: one RAR per class inside).
        size, sha256: expected values when truly known; ``None`` when not published.
    """

    name: str
    url: str
    extracts_to: str
    kind: str
    size: int | None = None
    sha256: str | None = None


_UCF_BASE = "https://www.crcv.ucf.edu/data/UCF101/"
_HMDB_BASE = "https://serre-lab.clps.brown.edu/wp-content/uploads/2013/10/"

#: The official archives. Neither site publishes sizes or checksums, so none are pinned here:
#: the command prints what it computed, and ``--size`` / ``--sha256`` check later downloads.
SOURCES: dict[str, tuple[Archive, ...]] = {
    "ucf101": (
        Archive("UCF101.rar", _UCF_BASE + "UCF101.rar", "UCF-101", "rar"),
        Archive("UCF101TrainTestSplits-RecognitionTask.zip",
                _UCF_BASE + "UCF101TrainTestSplits-RecognitionTask.zip", "ucfTrainTestlist", "zip"),
    ),
    "hmdb51": (
        Archive("hmdb51_org.rar", _HMDB_BASE + "hmdb51_org.rar", "hmdb51_org", "rar_of_rars"),
        Archive("test_train_splits.rar", _HMDB_BASE + "test_train_splits.rar",
                "testTrainMulti_7030_splits", "rar"),
    ),
}
DOWNLOADABLE = tuple(SOURCES)

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the whole dataset
def download_dataset(
    dataset: str,
    root: str | os.PathLike,
    *,
    base_url: str | None = None,
    sizes: Mapping[str, int] | None = None,
    sha256s: Mapping[str, str] | None = None,
    delete_archives: bool = False,
    progress: bool = True,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    log: Log = _stderr,
) -> dict[str, Any]:
    """Download, verify and extract every archive of ``dataset`` into ``root``.

    Args:
        dataset: ``"ucf101"`` or ``"hmdb51"``.
        root: the folder to fill; afterwards ``load_dataset(dataset, root)`` reads it.
        base_url: fetch each archive from ``base_url/<archive name>`` instead of the official address.
        sizes, sha256s: expected size in bytes / sha256 (hex) per archive name.
        delete_archives: remove each archive once extracted.
        progress: tqdm bars for downloads, hashing and extraction.
        retries, retry_wait: retries of a dropped connection, waiting ``retry_wait * 2**k`` seconds.
        timeout: seconds without an answer before a connection counts as dropped.
        log: where one-line messages go.

    Returns:
        ``{"dataset", "root", "archives": [{"name", "url", "path", "size", "sha256", "downloaded",
        "extracted", "extracts_to"}], "inspect": the command that reads the result}``.

    Raises:
        DownloadError: an unknown dataset or archive name, an unreachable server, a size or checksum
            mismatch, a damaged or unsafe archive, or no RAR extractor where one is needed.
    """
    dataset = dataset.lower()
    if dataset not in SOURCES:
        raise DownloadError(f"No download for dataset {dataset!r}; expected one of {', '.join(DOWNLOADABLE)}.")
    archives = SOURCES[dataset]
    sizes, sha256s = dict(sizes or {}), {k: v.lower() for k, v in (sha256s or {}).items()}
    names = [a.name for a in archives]
    for option, given in (("--size", sizes), ("--sha256", sha256s)):
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise DownloadError(f"{option} names {', '.join(unknown)}, which is not an archive of {dataset}; "
                                f"its archives are {', '.join(names)}.")
    for name, digest in sha256s.items():
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise DownloadError(f"--sha256 {name}={digest} is not a sha256; expected 64 hexadecimal digits.")

    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    # Refuse a folder in the way before spending hours on a download.
    todo = [a for a in archives if not _is_extracted(a, root)]
    for archive in todo:
        _refuse_foreign_target(archive, root)

    report = []
    for archive in archives:
        url = _url_of(archive, base_url)
        entry: dict[str, Any] = {"name": archive.name, "url": url, "path": str(root / archive.name),
                                 "extracts_to": str(root / archive.extracts_to)}
        if archive not in todo:
            record = _read_json(_state(root, archive.name, "extracted"))
            entry.update(size=record.get("size"), sha256=record.get("sha256"), downloaded=False, extracted=False)
            log(f"{archive.name}: already extracted to {archive.extracts_to}/; nothing to do.")
            report.append(entry)
            continue
        got = download_file(url, root / archive.name, size=sizes.get(archive.name, archive.size),
                            sha256=sha256s.get(archive.name, archive.sha256), progress=progress,
                            retries=retries, retry_wait=retry_wait, timeout=timeout, log=log)
        extract_archive(archive, root / archive.name, root, sha256=got["sha256"], progress=progress)
        log(f"{archive.name}: extracted to {archive.extracts_to}/")
        if delete_archives:
            (root / archive.name).unlink()
            _state(root, archive.name, "verified").unlink(missing_ok=True)
        entry.update(size=got["size"], sha256=got["sha256"], downloaded=got["downloaded"], extracted=True)
        report.append(entry)
    return {"dataset": dataset, "root": str(root), "archives": report,
            "inspect": f"hybridvid data inspect --format {dataset} --root {root}"}


def _url_of(archive: Archive, base_url: str | None) -> str:
    return archive.url if base_url is None else base_url.rstrip("/") + "/" + archive.name


def _state(root: Path, name: str, what: str) -> Path:
    return root / STATE_DIR / f"{name}.{what}.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _is_extracted(archive: Archive, root: Path) -> bool:
    return _state(root, archive.name, "extracted").is_file() and (root / archive.extracts_to).exists()


def _refuse_foreign_target(archive: Archive, root: Path) -> None:
    target = root / archive.extracts_to
    if target.exists():
        raise DownloadError(
            f"{target} is already there but was not extracted by `hybridvid data download` (no record in "
            f"{STATE_DIR}/); read it as it is with `hybridvid data inspect`, or move it away and run again."
        )


# --------------------------------------------------------------------------- one file
class _Dropped(Exception):
    """A connection that failed or closed early: worth another try from where it stopped."""


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: bool = True,
    retries: int = 3,
    retry_wait: float = 2.0,
    timeout: float = 60.0,
    log: Log = _stderr,
) -> dict[str, Any]:
    """Download ``url`` to ``dest`` through ``dest.part``, resuming, then verify and rename it.

    A ``dest`` already verified (``.hybridvid-download/<name>.verified.json`` matches its size
    and mtime) is neither downloaded nor hashed again; one put there by hand is hashed and checked once.

    Returns:
        ``{"path", "size", "sha256", "downloaded": bool}``.

    Raises:
        DownloadError: see :func:`download_dataset`. The ``.part`` file is kept in every case.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    record_path = _state(dest.parent, dest.name, "verified")
    if dest.is_file():
        stat = dest.stat()
        record = _read_json(record_path)
        if record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns:
            digest = record["sha256"]
        else:
            digest = _sha256_of(dest, progress)
        _verify(dest, stat.st_size, digest, size, sha256, final=True)
        _record(record_path, dest, digest)
        log(f"{dest.name}: already downloaded and verified ({stat.st_size:,} bytes).")
        return {"path": str(dest), "size": stat.st_size, "sha256": digest, "downloaded": False}

    part = dest.with_name(dest.name + PART_SUFFIX)
    for attempt in range(retries + 1):
        try:
            _fetch_into(url, part, size, progress=progress, timeout=timeout, log=log)
            break
        except _Dropped as err:
            have = part.stat().st_size if part.exists() else 0
            if attempt == retries:
                kept = (f"{part} keeps the {have:,} bytes received; run the same command again to continue "
                        "from there." if have else "Nothing was received; check the address and the connection, "
                        "then run the same command again.")
                raise DownloadError(f"Downloading {dest.name} failed: {err}. {kept}") from None
            wait = retry_wait * 2 ** attempt
            log(f"{dest.name}: {err}; trying again in {wait:g} s from byte {have:,}.")
            time.sleep(wait)
    got = part.stat().st_size
    digest = _sha256_of(part, progress)
    _verify(part, got, digest, size, sha256, final=False)
    os.replace(part, dest)
    _record(record_path, dest, digest)
    log(f"{dest.name}: {got:,} bytes, sha256 {digest} (pin them with --size {dest.name}={got} "
        f"--sha256 {dest.name}={digest}).")
    return {"path": str(dest), "size": got, "sha256": digest, "downloaded": True}


def _fetch_into(url: str, part: Path, size: int | None, *, progress: bool, timeout: float, log: Log) -> None:
    """Append the rest of ``url`` to ``part`` (or write it from the start); return when complete."""
    offset = part.stat().st_size if part.exists() else 0
    name = part.name[: -len(PART_SUFFIX)]
    if size is not None and offset == size:
        return  # complete from an earlier run; only the checks are left
    if size is not None and offset > size:
        raise DownloadError(f"{part} holds {offset:,} bytes, more than the {size:,} expected for {name}; "
                            f"delete {part.name} and run again.")
    headers = {"User-Agent": "hybridvid (course kit dataset download)"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:
            total = _range_total(err.headers.get("Content-Range"))
            if total == offset:
                return  # the part already holds the whole file
            raise DownloadError(
                f"{part} holds {offset:,} bytes but the server's {name} has "
                f"{'an unknown size' if total is None else f'{total:,}'}; delete {part.name} and run again."
            ) from None
        raise DownloadError(f"{url} answered {err.code} {err.reason}; check the address "
                            "(with --url, the archive is fetched from URL/<archive name>).") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise _Dropped(f"could not reach {url} ({getattr(err, 'reason', err)})") from None

    with response:
        if offset and response.status == 206:
            start = _range_start(response.headers.get("Content-Range"))
            if start != offset:
                raise _Dropped(f"the server sent a range from byte {start} instead of {offset}")
            total = _range_total(response.headers.get("Content-Range"))
            mode = "ab"
        else:
            if offset:
                log(f"{name}: the server ignored the request to continue from byte {offset:,}; "
                    "downloading it again from the start.")
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        if size is not None and total is not None and total != size:
            raise DownloadError(
                f"The server announces {total:,} bytes for {name}, but {size:,} were expected (--size); "
                f"nothing more was downloaded. If the file on the server changed, pass --size {name}={total}; "
                "otherwise check the address."
            )
        with open(part, mode) as fh, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                          unit_divisor=1024, desc=name, disable=not progress,
                                          leave=False) as bar:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as err:
                    raise _Dropped(f"the connection broke ({err.__class__.__name__})") from None
                if not chunk:
                    break
                fh.write(chunk)
                bar.update(len(chunk))
        got = part.stat().st_size
        # http.client ends a body that stops short of Content-Length without an error: count.
        if total is not None and got < total:
            raise _Dropped(f"the connection closed after {got:,} of {total:,} bytes")
        if total is not None and got > total:
            raise DownloadError(f"{part} holds {got:,} bytes, more than the {total:,} the server announced "
                                f"for {name}; delete {part.name} and run again.")


def _range_start(content_range: str | None) -> int | None:
    match = re.match(r"bytes\s+(\d+)-", content_range or "")
    return int(match.group(1)) if match else None


def _range_total(content_range: str | None) -> int | None:
    match = re.search(r"/(\d+)\s*$", content_range or "")
    return int(match.group(1)) if match else None


def _sha256_of(path: Path, progress: bool) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh, tqdm(total=path.stat().st_size, unit="B", unit_scale=True, unit_divisor=1024,
                                      desc=f"sha256 {path.name}", disable=not progress, leave=False) as bar:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _verify(path: Path, got_size: int, got_sha: str, size: int | None, sha256: str | None, *,
            final: bool) -> None:
    """Raise on a size or sha256 mismatch; the file stays where it is either way."""
    name = path.name if final else path.name[: -len(PART_SUFFIX)]
    if final:
        fix = f"delete {path.name} (and run again to download it afresh)"
    else:
        fix = f"delete {path.name} and run again to download it afresh"
    if size is not None and got_size != size:
        raise DownloadError(
            f"{name} has the wrong size: expected {size:,} bytes, got {got_size:,}. It is kept as {path}. "
            f"If the expected size is out of date, run again with --size {name}={got_size}; otherwise {fix}."
        )
    if sha256 is not None and got_sha != sha256:
        raise DownloadError(
            f"{name} has the wrong sha256: expected {sha256}, got {got_sha}. It is kept as {path}. If the "
            f"expected value is out of date, run again with --sha256 {name}={got_sha} (nothing is downloaded "
            f"again); otherwise {fix}."
        )


def _record(record_path: Path, dest: Path, digest: str) -> None:
    stat = dest.stat()
    atomic_write_json(record_path, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest})


# --------------------------------------------------------------------------- extraction
def extract_archive(archive: Archive, path: str | os.PathLike, root: str | os.PathLike, *,
                    sha256: str | None = None, progress: bool = True) -> bool:
    """Extract ``path`` (an :class:`Archive`) so that ``root/archive.extracts_to`` appears whole.

    Returns False when a previous run already did it (its record is there), True otherwise.

    Raises:
        DownloadError: a damaged or unsafe archive, an archive without the expected folder, a
            folder already in the way, or no RAR extractor where one is needed.
    """
    path, root = Path(path), Path(root)
    if _is_extracted(archive, root):
        return False
    _refuse_foreign_target(archive, root)
    staging = root / STATE_DIR / f"{archive.name}.extracting"
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run left
    try:
        if archive.kind == "zip":
            _extract_zip(path, staging, progress)
        elif archive.kind == "rar":
            _extract_rar(path, staging, progress)
        elif archive.kind == "rar_of_rars":
            _extract_rar_of_rars(path, staging, archive.extracts_to, progress)
        else:  # pragma: no cover - the table above holds only these
            raise ValueError(f"Unknown archive kind {archive.kind!r}.")
        produced = staging / archive.extracts_to
        if not produced.is_dir():
            top = sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []
            raise DownloadError(
                f"{path.name} does not hold the folder {archive.extracts_to}/ (its top level: "
                f"{', '.join(top[:5]) or 'nothing'}); is it the right file? Delete it and run again."
            )
        os.replace(produced, root / archive.extracts_to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    atomic_write_json(_state(root, archive.name, "extracted"),
                      {"archive": archive.name, "sha256": sha256, "size": path.stat().st_size,
                       "extracts_to": archive.extracts_to})
    return True


def escape_reason(name: str, link_target: str | None = None) -> str | None:
    """Why extracting member ``name`` (a symlink to ``link_target`` if given) would write outside
    the target folder, as a phrase; ``None`` when it is safe."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "has an absolute path"
    if ".." in posix.split("/"):
        return "climbs out of the target folder with '..'"
    if link_target is not None:
        target = link_target.replace("\\", "/")
        if target.startswith("/") or re.match(r"^[A-Za-z]:", target):
            return f"is a symlink to the absolute path {link_target!r}"
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(posix), target))
        if resolved == ".." or resolved.startswith("../"):
            return f"is a symlink pointing outside the target folder ({link_target!r})"
    return None


def check_members(archive_name: str, members: list[tuple[str, str | None]]) -> None:
    """Refuse an archive with a member that would land outside the target (before anything is written).

    ``members``: ``(name, symlink target or None)`` pairs.
    """
    for name, link in members:
        reason = escape_reason(name, link)
        if reason:
            raise DownloadError(
                f"{archive_name}: member {name!r} {reason}, so the archive is refused and nothing was "
                "extracted; the official archive holds no such member: delete it and download it again."
            )


def _rarfile():
    try:
        import rarfile
    except ImportError:  # pragma: no cover - a dependency of the kit
        raise DownloadError("Reading RAR archives needs the rarfile package; run `pip install rarfile`.") from None
    return rarfile


def _open_rar(path: Path, label: str):
    """``(RarFile, infolist, tool)`` of a RAR whose members were checked; the caller closes it.

    ``tool`` is rarfile's choice of extractor when a member needs one, else ``None``.
    """
    rarfile = _rarfile()
    try:
        rar = rarfile.RarFile(path)
        infos = rar.infolist()
    except rarfile.Error as err:
        raise DownloadError(f"{label} is not a readable RAR archive ({err}); delete it and run again.") from None
    members = []
    for info in infos:
        link = None
        if info.is_symlink():
            link = info.file_redir[2] if info.file_redir else rar.read(info).decode("utf-8", "replace")
        members.append((info.filename, link))
    check_members(label, members)
    tool = None
    if _needs_tool(infos):
        try:
            tool = rarfile.tool_setup()
        except rarfile.RarCannotExec:
            rar.close()
            raise DownloadError(NO_EXTRACTOR.format(archive=label)) from None
    return rar, infos, tool


def _needs_tool(infos: list) -> bool:
    """rarfile reads stored members itself; anything compressed or encrypted goes through a program."""
    rarfile = _rarfile()
    return any(info.compress_type != rarfile.RAR_M0 or info.needs_password() for info in infos if info.is_file())


def _tool_command(tool, archive: Path, dest: Path) -> list[str]:
    """One command that extracts the whole of ``archive`` into ``dest`` with rarfile's chosen program.

    One run, not one per member: members of a solid archive (compressed as one stream) would each
    be decompressed from the start of the archive.
    """
    rarfile = _rarfile()
    exe = tool.get_cmdline("check_cmd", None)[0]
    if tool.setup is rarfile.UNRAR_CONFIG:
        return [exe, "x", "-o+", "-inul", "-p-", "--", str(archive), str(dest) + os.sep]
    if tool.setup is rarfile.UNAR_CONFIG:
        return [exe, "-q", "-f", "-D", "-o", str(dest), "--", str(archive)]
    if tool.setup is rarfile.BSDTAR_CONFIG:
        return [exe, "-x", "-f", str(archive), "-C", str(dest)]
    return [exe, "x", "-y", "-bb0", f"-o{dest}", "--", str(archive)]  # 7z / 7zz


def _extract_rar(path: Path, dest: Path, progress: bool, label: str | None = None) -> list[str]:
    """Extract a RAR into ``dest`` (created after the checks); return its member names."""
    label = label or path.name
    rarfile = _rarfile()
    rar, infos, tool = _open_rar(path, label)
    with rar:
        dest.mkdir(parents=True, exist_ok=True)
        if tool is not None:
            command = _tool_command(tool, path, dest)
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            absent = [i.filename for i in infos if i.is_file() and not (dest / i.filename).is_file()]
            if done.returncode != 0 or absent:
                why = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"{len(absent)} files missing"]
                raise DownloadError(f"{label}: `{' '.join(command[:2])} ...` failed ({why[0]}); the archive may be "
                                    "damaged: delete it and run again.")
            return [info.filename for info in infos]
        for info in tqdm(infos, desc=f"extracting {label}", unit="file", disable=not progress, leave=False):
            try:
                rar.extract(info, dest)
            except rarfile.Error as err:
                raise DownloadError(f"{label}: extracting {info.filename!r} failed ({err}); the archive is "
                                    "damaged: delete it and run again.") from None
    return [info.filename for info in infos]


def _extract_zip(path: Path, dest: Path, progress: bool) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DownloadError(f"{path.name} is not a readable zip archive ({err}); delete it and run again.") from None
    with zf:
        members = []
        for info in zf.infolist():
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            members.append((info.filename, zf.read(info).decode("utf-8", "replace") if is_link else None))
        check_members(path.name, members)
        dest.mkdir(parents=True, exist_ok=True)
        for info in tqdm(zf.infolist(), desc=f"extracting {path.name}", unit="file", disable=not progress,
                         leave=False):
            try:
                zf.extract(info, dest)
            except (zipfile.BadZipFile, OSError) as err:
                raise DownloadError(f"{path.name}: extracting {info.filename!r} failed ({err}); the archive is "
                                    "damaged: delete it and run again.") from None


def _extract_rar_of_rars(path: Path, staging: Path, videos: str, progress: bool) -> None:
    """HMDB51: the outer RAR holds ``<class>.rar`` files; each becomes ``staging/videos/<class>/``.

    The per-class archives hold ``<class>/<clip>.avi`` (or the clips at their top level): either way
    the clips land in ``<videos>/<class>/``.
    """
    outer = staging / "outer"
    _extract_rar(path, outer, progress)
    inner = sorted(p for p in outer.rglob("*") if p.suffix.lower() == ".rar" and p.is_file())
    if not inner:
        raise DownloadError(f"{path.name} holds no per-class .rar archives; is it the right file? "
                            "Delete it and run again.")
    # Every inner archive is checked before the first is extracted: a bad one refuses them all.
    under_class = {}
    for rar_path in inner:
        rar, infos, _ = _open_rar(rar_path, f"{path.name} > {rar_path.name}")
        rar.close()
        under_class[rar_path] = all(info.filename.split("/", 1)[0] == rar_path.stem for info in infos)
    target = staging / videos
    for rar_path in tqdm(inner, desc=f"extracting {path.name}", unit="class", disable=not progress, leave=False):
        dest = target if under_class[rar_path] else target / rar_path.stem
        _extract_rar(rar_path, dest, False, f"{path.name} > {rar_path.name}")
        rar_path.unlink()  # free the space as we go
    target.mkdir(exist_ok=True)
    shutil.rmtree(outer)
