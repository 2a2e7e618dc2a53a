import shutil
from pathlib import Path

from hybridvid_lib.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_exercises_check_and_sync_commands(tmp_path, capsys):
    shutil.copytree(REPO / "exercises", tmp_path / "exercises")
    assert main(["exercises", "check", "--root", str(tmp_path)]) == 0
    student = next((tmp_path / "exercises").glob("00_*.ipynb"))
    student.write_text(student.read_text().replace("TODO", "DONE", 1))
    assert main(["exercises", "check", "--root", str(tmp_path)]) == 1
    assert f"out of date: {student.name}" in capsys.readouterr().out
    assert main(["exercises", "sync", "--root", str(tmp_path)]) == 0
    assert main(["exercises", "check", "--root", str(tmp_path)]) == 0
