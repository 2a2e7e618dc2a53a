"""``hybridvid data inspect``: JSON output, one-sentence errors, and the installed console script."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hybridvid_lib.cli import main
from hybridvid_lib.data.datasets import KNOWN_FORMATS, load_dataset
from hybridvid_lib.data.mock_layouts import write_mock_hmdb51, write_mock_ucf101
from hybridvid_lib.errors import DatasetError
from tests.support.mock_data import write_mock_ntu


@pytest.fixture(scope="module")
def ucf(tmp_path_factory):
    return write_mock_ucf101(tmp_path_factory.mktemp("cli") / "ucf")


def inspect_json(capsys, *args: str) -> dict:
    assert main(["data", "inspect", *args, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)  # fails unless stdout is exactly one JSON document


def test_json_summary_of_ucf101(ucf, capsys):
    summary = inspect_json(capsys, "--format", "ucf101", "--root", str(ucf["root"]))
    assert summary["format"] == "ucf101" and summary["split"] == 1
    assert summary["classes"] == ucf["classes"] and summary["num_classes"] == 3
    assert (summary["train"], summary["test"], summary["unused"]) == (
        ucf["splits"][1]["train"], ucf["splits"][1]["test"], 0)
    assert summary["missing"] == ucf["missing"] and summary["unreadable"] == ucf["unreadable"]
    assert summary["test_groups"] == 2 and summary["notes"]


def test_text_report_lists_bad_videos_and_notes(ucf, capsys):
    assert main(["data", "inspect", "--format", "ucf101", "--root", str(ucf["root"])]) == 0
    out = capsys.readouterr().out
    assert "ucf101 split 1: 3 classes" in out
    assert f"missing: {len(ucf['missing'])}:" in out and ucf["unreadable"][0] in out
    assert "note: classInd.txt spells class" in out


def test_hmdb51_split_2(tmp_path, capsys):
    info = write_mock_hmdb51(tmp_path)
    summary = inspect_json(capsys, "--format", "hmdb51", "--root", str(tmp_path), "--split", "2")
    assert summary["split"] == 2
    assert (summary["train"], summary["test"], summary["unused"]) == tuple(
        info["splits"][2][k] for k in ("train", "test", "unused"))
    assert summary["missing"] == info["missing"] and summary["unreadable"] == info["unreadable"]


def test_videos_and_splits_overrides(tmp_path, capsys):
    info = write_mock_ucf101(tmp_path / "src", quirks=False, groups=3, clips=1)
    (tmp_path / "root").mkdir()
    shutil.move(info["list_dir"], tmp_path / "root" / "lists")
    summary = inspect_json(capsys, "--format", "ucf101", "--root", str(tmp_path / "root"),
                           "--videos", str(info["video_dir"]), "--splits", "lists", "--split", "3")
    assert (summary["train"], summary["test"]) == (6, 3) and summary["missing"] == []
    assert summary["video_root"] == str(info["video_dir"].resolve())


def test_no_check_leaves_unreadable_empty(ucf, capsys):
    summary = inspect_json(capsys, "--format", "ucf101", "--root", str(ucf["root"]), "--no-check")
    assert summary["unreadable"] == [] and summary["missing"] == ucf["missing"]


def run_failing(capsys, *args: str) -> str:
    assert main(["data", "inspect", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybridvid: error: ")
    return lines[0]


def test_missing_root_is_one_line_exit_2(tmp_path, capsys):
    line = run_failing(capsys, "--format", "ucf101", "--root", str(tmp_path / "nope"))
    assert line.endswith(f"Dataset root {tmp_path / 'nope'} does not exist.")


@pytest.mark.parametrize("fmt, expected", [
    ("ucf101", "expected UCF-101/ and ucfTrainTestlist/"),
    ("hmdb51", "expected hmdb51_org/ and testTrainMulti_7030_splits/"),
    ("stickactions", "hybridvid data synth --out"),
    ("folder", "expected <class>/<video files>"),
    ("ntu", "expected nturgb+d_skeletons/ there"),
])
def test_folder_without_dataset_says_what_was_expected(tmp_path, capsys, fmt, expected):
    assert expected in run_failing(capsys, "--format", fmt, "--root", str(tmp_path))


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(DatasetError, match="known formats: " + ", ".join(KNOWN_FORMATS)):
        load_dataset("kinetics", tmp_path)


def test_unknown_format_on_the_command_line_lists_the_readers_formats(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "inspect", "--format", "kinetics", "--root", "."])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "invalid choice: 'kinetics'" in err
    assert "(choose from " + ", ".join(map(repr, KNOWN_FORMATS)) + ")" in err
    with pytest.raises(SystemExit):
        main(["data", "inspect", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the list at the terminal width
    assert "dataset layout: " + ", ".join(KNOWN_FORMATS) in help_text


def test_the_parser_is_built_without_opencv():
    # `hybridvid doctor` must still run, and say which OpenCV wheel to remove, when cv2 cannot be
    # imported; a `None` entry in sys.modules makes `import cv2` fail as a broken install does.
    code = ("import sys; sys.modules['cv2'] = None\n"
            "from hybridvid_lib.cli import build_parser\n"
            "print(build_parser().parse_args(['doctor']).command)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "doctor"


def test_installed_console_script(ucf):
    script = Path(sys.executable).with_name("hybridvid")
    command = [str(script)] if script.is_file() else [shutil.which("hybridvid") or "hybridvid"]
    result = subprocess.run(
        [*command, "data", "inspect", "--format", "ucf101", "--root", str(ucf["root"]), "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["missing"] == ucf["missing"]
    failed = subprocess.run([*command, "data", "inspect", "--format", "ucf101", "--root", "/no/such/dir"],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "Dataset root /no/such/dir does not exist." in failed.stderr


# --------------------------------------------------------------------------- NTU RGB+D
@pytest.fixture(scope="module")
def ntu(tmp_path_factory):
    return write_mock_ntu(tmp_path_factory.mktemp("cli") / "ntu")


@pytest.mark.parametrize("protocol, train, test", [("xsub", 5, 4), ("xview", 6, 3), ("xset", 4, 5)])
def test_ntu_json_summary_per_protocol(ntu, capsys, protocol, train, test):
    summary = inspect_json(capsys, "--format", "ntu", "--root", str(ntu["root"]), "--protocol", protocol)
    assert summary["format"] == "ntu" and summary["protocol"] == protocol and summary["num_classes"] == 60
    assert (summary["train"], summary["test"], summary["unused"]) == (train, test, 0)  # broken files included
    assert summary["train"] + summary["test"] == len(ntu["names"])
    assert summary["unreadable"] == ntu["unreadable"] and summary["missing"] == []
    assert len(summary["classes"]) == 60 and any("readme.txt" in n for n in summary["notes"])


def test_ntu_default_protocol_text_report_and_skeletons_option(ntu, tmp_path, capsys):
    assert main(["data", "inspect", "--format", "ntu", "--root", str(tmp_path),
                 "--skeletons", str(ntu["skeleton_dir"]), "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "ntu protocol xsub: 60 classes, 5 train / 4 test / 0 unused samples listed" in out
    assert f"skeleton folder: {ntu['skeleton_dir'].resolve()}" in out and "unreadable: 0" in out


def test_protocol_and_skeletons_options_belong_to_ntu(ucf, ntu, capsys):
    line = run_failing(capsys, "--format", "ucf101", "--root", str(ucf["root"]), "--protocol", "xview")
    assert "The ucf101 format has no protocols" in line and "--split N" in line
    line = run_failing(capsys, "--format", "ntu", "--root", str(ntu["root"]), "--split", "2")
    assert "NTU RGB+D has no numbered splits" in line
    with pytest.raises(SystemExit):
        main(["data", "inspect", "--format", "ntu", "--root", str(ntu["root"]), "--protocol", "cross-subject"])
    assert "invalid choice: 'cross-subject'" in capsys.readouterr().err
