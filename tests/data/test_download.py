"""``hybridvid data download`` against a server on 127.0.0.1 serving archives the tests build.

The archives are made from the mock UCF101 / HMDB51 layouts (``hybridvid_lib.data.mock_layouts``) in
the official formats: RAR 4 (written by ``tests/support/rar4.py``, stored members), HMDB51's RAR of
per-class RARs, and UCF101's splits zip.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
import rarfile

from hybridvid_lib.cli import main
from hybridvid_lib.data import download as dl
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.download import SOURCES, download_dataset, download_file, extract_archive
from hybridvid_lib.data.mock_layouts import write_mock_hmdb51, write_mock_ucf101
from hybridvid_lib.errors import DownloadError
from tests.support.archive_server import ArchiveServer
from tests.support.rar4 import METHOD_NORMAL, Rar4Writer, hmdb51_archives, ucf101_archives

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


def summary_without_root(root, fmt):
    summary = load_dataset(fmt, root).summary()
    summary.pop("video_root")
    return summary


@pytest.fixture(scope="module")
def mocks(tmp_path_factory):
    """The mock layouts (quirks included: odd names, empty and broken videos) and their archives."""
    base = tmp_path_factory.mktemp("download-mocks")
    ucf, hmdb = write_mock_ucf101(base / "ucf"), write_mock_hmdb51(base / "hmdb")
    return {"ucf101": (ucf, ucf101_archives(ucf["root"])), "hmdb51": (hmdb, hmdb51_archives(hmdb["root"]))}


@pytest.fixture
def server():
    with ArchiveServer({"file.bin": PAYLOAD}) as srv:
        yield srv


def quiet(**kwargs):
    return dict(progress=False, retries=0, retry_wait=0, timeout=10, log=lambda message: None, **kwargs)


# --------------------------------------------------------------------------- the RAR writer
def test_rar4_writer_output_is_listed_and_extracted_by_rarfile_without_any_tool(tmp_path, monkeypatch):
    def no_tool(*args, **kwargs):
        raise rarfile.RarCannotExec("no tool in this test")

    monkeypatch.setattr(rarfile, "tool_setup", no_tool)  # stored members must not need one
    rar = Rar4Writer()
    rar.add_dir("top")
    rar.add_file("top/v_#1&(x)!.avi", PAYLOAD)
    rar.add_file("top/empty.avi", b"")
    rar.add_file("top/ünïcode.txt", b"hi")
    rar.add_symlink("top/link", "empty.avi")
    path = rar.write(tmp_path / "t.rar")
    with rarfile.RarFile(path) as rf:
        infos = {i.filename: i for i in rf.infolist()}
        assert list(infos) == ["top/", "top/v_#1&(x)!.avi", "top/empty.avi", "top/ünïcode.txt", "top/link"]
        assert infos["top/"].is_dir() and infos["top/link"].is_symlink()
        assert infos["top/v_#1&(x)!.avi"].file_size == len(PAYLOAD)
        rf.testrar()  # CRC32 of every member
        rf.extractall(tmp_path / "out")
    assert (tmp_path / "out/top/v_#1&(x)!.avi").read_bytes() == PAYLOAD
    assert (tmp_path / "out/top/empty.avi").read_bytes() == b""
    assert (tmp_path / "out/top/link").readlink().as_posix() == "empty.avi"


# --------------------------------------------------------------------------- end to end
def test_ucf101_downloads_extracts_and_reads_as_is_then_a_rerun_does_nothing(mocks, tmp_path, capsys):
    info, archives = mocks["ucf101"]
    root = tmp_path / "ucf101"
    with ArchiveServer(archives) as srv:
        assert main(["data", "download", "ucf101", "--to", str(root), "--url", srv.base_url + "/", "--quiet"]) == 0
        out = capsys.readouterr().out
        assert f"hybridvid data inspect --format ucf101 --root {root}" in out
        for name, data in archives.items():  # sizes and sha256 printed for pinning
            assert f"--size {name}={len(data)}" in out
            assert f"--sha256 {name}={hashlib.sha256(data).hexdigest()}" in out
        assert sorted(p for p, _, _ in srv.requests) == sorted(f"/{n}" for n in archives)

        # The readers take the result as it is: same summary as the layout the archives were built from.
        assert summary_without_root(root, "ucf101") == summary_without_root(info["root"], "ucf101")
        assert main(["data", "inspect", "--format", "ucf101", "--root", str(root), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["num_classes"] == 3 and summary["classes"] == info["classes"]
        assert (summary["train"], summary["test"]) == (info["splits"][1]["train"], info["splits"][1]["test"])
        assert summary["missing"] == info["missing"] and summary["unreadable"] == info["unreadable"]

        marker = root / ".hybridvid-download" / "UCF101.rar.extracted.json"
        stamp = marker.stat().st_mtime_ns
        assert main(["data", "download", "ucf101", "--to", str(root), "--url", srv.base_url, "--quiet"]) == 0
        assert len(srv.requests) == 2  # nothing fetched again
        assert marker.stat().st_mtime_ns == stamp  # nor extracted again
        assert "already extracted" in capsys.readouterr().out
        assert not list(root.glob("*.part")) and not list((root / ".hybridvid-download").glob("*.extracting"))


def test_hmdb51_rar_of_rars_becomes_one_folder_per_class(mocks, tmp_path):
    info, archives = mocks["hmdb51"]
    root = tmp_path / "hmdb51"
    with ArchiveServer(archives) as srv:
        result = download_dataset("hmdb51", root, base_url=srv.base_url, **quiet(), delete_archives=True)
    assert [a["downloaded"] and a["extracted"] for a in result["archives"]] == [True, True]
    assert sorted(p.name for p in (root / "hmdb51_org").iterdir()) == info["classes"]  # no .rar left inside
    assert not (root / "hmdb51_org.rar").exists()  # --delete-archives
    assert summary_without_root(root, "hmdb51") == summary_without_root(info["root"], "hmdb51")
    ds = load_dataset("hmdb51", root)
    assert ds.num_classes == 3 and len(ds.train) == info["splits"][1]["train"]
    # Extracted and archives deleted: a rerun needs neither the server nor the archives.
    again = download_dataset("hmdb51", root, base_url="http://127.0.0.1:9/unused", **quiet())
    assert [a["downloaded"] or a["extracted"] for a in again["archives"]] == [False, False]


# --------------------------------------------------------------------------- download: resume, range, checks
def test_dropped_connection_keeps_the_part_and_the_next_call_asks_only_for_the_rest(server, tmp_path):
    dest = tmp_path / "file.bin"
    server.drop_after = 30_000
    with pytest.raises(DownloadError, match=r"file\.bin\.part keeps the 30,000 bytes.*run the same command again"):
        download_file(server.url("file.bin"), dest, **quiet())
    assert (tmp_path / "file.bin.part").read_bytes() == PAYLOAD[:30_000] and not dest.exists()

    result = download_file(server.url("file.bin"), dest, **quiet())
    assert server.requests[-1] == ("/file.bin", "bytes=30000-", 206)
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "file.bin.part").exists()
    assert result == {"path": str(dest), "size": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
                      "downloaded": True}


def test_a_dropped_connection_is_retried_from_where_it_stopped(server, tmp_path):
    server.drop_after = 10_000
    download_file(server.url("file.bin"), tmp_path / "file.bin", **{**quiet(), "retries": 1})
    assert [r[1:] for r in server.requests] == [(None, 200), ("bytes=10000-", 206)]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_a_server_that_ignores_range_restarts_the_download_cleanly(server, tmp_path):
    (tmp_path / "file.bin.part").write_bytes(b"x" * 5000)  # not even the right bytes: must be overwritten
    server.ignore_range = True
    messages = []
    download_file(server.url("file.bin"), tmp_path / "file.bin", **{**quiet(), "log": messages.append})
    assert server.requests == [("/file.bin", "bytes=5000-", 200)]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD
    assert any("ignored the request to continue from byte 5,000" in m for m in messages)


def test_checksum_mismatch_names_file_and_both_values_and_keeps_the_download(server, tmp_path):
    good = hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(DownloadError) as err:
        download_file(server.url("file.bin"), tmp_path / "file.bin", sha256="0" * 64, **quiet())
    message = str(err.value)
    assert "file.bin has the wrong sha256" in message and "0" * 64 in message and good in message
    assert f"--sha256 file.bin={good}" in message
    assert (tmp_path / "file.bin.part").read_bytes() == PAYLOAD and not (tmp_path / "file.bin").exists()

    # Accepting the computed value needs no second download: the server only confirms the part is whole.
    download_file(server.url("file.bin"), tmp_path / "file.bin", sha256=good, **quiet())
    assert server.requests[-1] == ("/file.bin", f"bytes={len(PAYLOAD)}-", 416)
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_size_announced_by_the_server_must_match_the_expected_size(server, tmp_path):
    with pytest.raises(DownloadError, match=r"announces 102,400 bytes for file\.bin, but 102,401 were expected.*"
                                            r"--size file\.bin=102400"):
        download_file(server.url("file.bin"), tmp_path / "file.bin", size=len(PAYLOAD) + 1, **quiet())
    assert not (tmp_path / "file.bin").exists() and not (tmp_path / "file.bin.part").exists()


def test_a_finished_file_with_the_wrong_size_is_kept_and_named(server, tmp_path):
    (tmp_path / "file.bin").write_bytes(b"short")
    with pytest.raises(DownloadError, match=r"file\.bin has the wrong size: expected 102,400 bytes, got 5"):
        download_file(server.url("file.bin"), tmp_path / "file.bin", size=len(PAYLOAD), **quiet())
    assert (tmp_path / "file.bin").read_bytes() == b"short" and server.requests == []


def test_a_verified_file_is_neither_downloaded_nor_hashed_again(server, tmp_path, monkeypatch):
    download_file(server.url("file.bin"), tmp_path / "file.bin", **quiet())
    monkeypatch.setattr(dl, "_sha256_of", lambda *a: pytest.fail("hashed again"))
    again = download_file(server.url("file.bin"), tmp_path / "file.bin", **quiet())
    assert again["downloaded"] is False and len(server.requests) == 1


def test_http_errors_and_bad_options_are_one_sentence(server, tmp_path, capsys):
    with pytest.raises(DownloadError, match=r"answered 404.*URL/<archive name>"):
        download_file(server.url("nope.rar"), tmp_path / "nope.rar", **quiet())
    assert main(["data", "download", "ucf101", "--to", str(tmp_path), "--sha256", "UCF101.zip=ab"]) == 2
    assert "--sha256 names UCF101.zip, which is not an archive of ucf101" in capsys.readouterr().err
    assert main(["data", "download", "ucf101", "--to", str(tmp_path), "--size", "UCF101.rar"]) == 2
    assert "is not NAME=VALUE" in capsys.readouterr().err


def test_a_folder_already_in_the_way_is_refused_before_downloading(server, tmp_path):
    (tmp_path / "UCF-101").mkdir()
    with pytest.raises(DownloadError, match=r"UCF-101 is already there but was not extracted by"):
        download_dataset("ucf101", tmp_path, base_url=server.base_url, **quiet())
    assert server.requests == []


# --------------------------------------------------------------------------- extraction safety
def _rar_with(member: str, *, symlink: str | None = None) -> bytes:
    rar = Rar4Writer()
    rar.add_file("UCF-101/A/v_A_g01_c01.avi", b"video")
    if symlink is None:
        rar.add_file(member, b"escaped")
    else:
        rar.add_symlink(member, symlink)
    return rar.to_bytes()


def _zip_with(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ucfTrainTestlist/classInd.txt", "1 A\n")
        zf.writestr(member, "escaped")
    return buf.getvalue()


@pytest.mark.parametrize("which, data, member, reason", [
    (0, _rar_with("UCF-101/../../evil.txt"), "UCF-101/../../evil.txt", "climbs out of the target folder"),
    (0, _rar_with("/tmp/evil.txt"), "/tmp/evil.txt", "has an absolute path"),
    (0, _rar_with("UCF-101/A/link", symlink="../../../evil.txt"), "UCF-101/A/link", "is a symlink pointing outside"),
    (0, _rar_with("UCF-101/A/link", symlink="/etc/passwd"), "UCF-101/A/link", "is a symlink to the absolute path"),
    (1, _zip_with("../evil.txt"), "../evil.txt", "climbs out of the target folder"),
], ids=["rar-dotdot", "rar-absolute", "rar-symlink-out", "rar-symlink-absolute", "zip-dotdot"])
def test_members_escaping_the_target_are_refused_before_anything_is_written(tmp_path, which, data, member, reason):
    archive = SOURCES["ucf101"][which]
    root = tmp_path / "deep" / "root"
    root.mkdir(parents=True)
    path = root / archive.name
    path.write_bytes(data)
    with pytest.raises(DownloadError) as err:
        extract_archive(archive, path, root, progress=False)
    assert f"member {member!r} {reason}" in str(err.value) and "nothing was extracted" in str(err.value)
    assert [p.name for p in root.iterdir()] == [archive.name]  # no staging folder, no record, no member
    assert not any(p.name.startswith("evil") for p in tmp_path.rglob("*"))


def test_an_escaping_member_of_an_inner_hmdb51_rar_refuses_every_class(tmp_path):
    good, bad = Rar4Writer(), Rar4Writer()
    good.add_file("brush_hair/a_brush_hair_f_nm_np1_fr_goo_0.avi", b"video")
    bad.add_file("../../evil.avi", b"escaped")
    outer = Rar4Writer()
    outer.add_file("brush_hair.rar", good.to_bytes())
    outer.add_file("sword.rar", bad.to_bytes())
    archive = SOURCES["hmdb51"][0]
    outer.write(tmp_path / archive.name)
    with pytest.raises(DownloadError, match=r"hmdb51_org\.rar > sword\.rar: member '\.\./\.\./evil\.avi'"):
        extract_archive(archive, tmp_path / archive.name, tmp_path, progress=False)
    # The outer archive was unpacked into the hidden staging folder to read the inner ones; it is gone.
    assert [p.name for p in tmp_path.rglob("*") if not p.is_dir()] == [archive.name]
    assert not (tmp_path / "hmdb51_org").exists()


def test_compressed_members_without_an_extractor_say_how_to_install_one(tmp_path, monkeypatch):
    def no_tool(*args, **kwargs):
        raise rarfile.RarCannotExec("Cannot find working tool")

    monkeypatch.setattr(rarfile, "tool_setup", no_tool)
    rar = Rar4Writer()
    rar.add_file("UCF-101/A/v_A_g01_c01.avi", b"not really compressed", method=METHOD_NORMAL)
    archive = SOURCES["ucf101"][0]
    rar.write(tmp_path / archive.name)
    with pytest.raises(DownloadError) as err:
        extract_archive(archive, tmp_path / archive.name, tmp_path, progress=False)
    message = str(err.value)
    assert message.startswith("UCF101.rar holds compressed RAR members")
    assert "`apt-get install unar` on Debian/Ubuntu" in message and "`brew install unar`" in message
    assert not (tmp_path / "UCF-101").exists()


def test_compressed_archives_go_through_the_extractor_in_one_run(mocks, tmp_path, monkeypatch):
    """The path real (compressed) archives take: rarfile's extractor unpacks the whole archive at once.

    Stored members are declared as needing the tool; skipped where no extractor is installed
    (``.ci/run`` installs ``unar``).
    """
    try:
        rarfile.tool_setup()
    except rarfile.RarCannotExec:
        pytest.skip("no RAR extractor (unar, unrar, 7z or bsdtar) on this machine")
    info, archives = mocks["ucf101"]
    archive = SOURCES["ucf101"][0]
    (tmp_path / archive.name).write_bytes(archives[archive.name])
    monkeypatch.setattr(dl, "_needs_tool", lambda infos: True)
    calls = []
    real_run = dl.subprocess.run
    monkeypatch.setattr(dl.subprocess, "run", lambda cmd, **kw: calls.append(cmd) or real_run(cmd, **kw))
    extract_archive(archive, tmp_path / archive.name, tmp_path, progress=False)
    assert len(calls) == 1
    source, result = info["root"] / "UCF-101", tmp_path / "UCF-101"
    expected = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    assert sorted(p.relative_to(result).as_posix() for p in result.rglob("*") if p.is_file()) == expected
    assert all((result / rel).read_bytes() == (source / rel).read_bytes() for rel in expected)


def test_per_class_rars_without_a_class_folder_still_land_in_hmdb51_org_class(tmp_path):
    bare, foldered = Rar4Writer(), Rar4Writer()
    bare.add_file("x_brush_hair_f_nm_np1_fr_goo_0.avi", b"a")  # clips at the top of brush_hair.rar
    foldered.add_dir("sword")
    foldered.add_file("sword/y_sword_f_nm_np1_fr_goo_0.avi", b"b")  # clips under sword/ in sword.rar
    outer = Rar4Writer()
    outer.add_file("brush_hair.rar", bare.to_bytes())
    outer.add_file("sword.rar", foldered.to_bytes())
    archive = SOURCES["hmdb51"][0]
    outer.write(tmp_path / archive.name)
    assert extract_archive(archive, tmp_path / archive.name, tmp_path, progress=False) is True
    videos = tmp_path / "hmdb51_org"
    assert sorted(p.relative_to(videos).as_posix() for p in videos.rglob("*.avi")) == [
        "brush_hair/x_brush_hair_f_nm_np1_fr_goo_0.avi", "sword/y_sword_f_nm_np1_fr_goo_0.avi"]
    assert extract_archive(archive, tmp_path / archive.name, tmp_path, progress=False) is False  # done before
