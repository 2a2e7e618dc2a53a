"""environment.yml (conda users) and pyproject.toml (pip, make) must list the same pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(req: str) -> tuple[str, str]:
    req = req.split("#", 1)[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    assert m, f"cannot parse requirement {req!r}"
    name = re.sub(r"[-_.]+", "-", m.group(1).lower())
    return name, m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"]) + list(data["project"]["optional-dependencies"]["test"])
    return dict(_normalise(r) for r in reqs)


def _environment() -> tuple[dict[str, str], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    reqs = [r for r in pip if not r.startswith("-e")]
    return dict(_normalise(r) for r in reqs), deps


def test_same_packages_and_pins():
    assert _environment()[0] == _pyproject()


def test_python_and_pins_the_course_needs():
    pins, deps = _environment()
    assert "python=3.11" in deps
    assert pins["tensorflow"] == "==2.21.*"
    assert pins["keras"] == "==3.*"


def test_exactly_one_opencv_wheel():
    opencv = [n for n in _pyproject() if n.startswith("opencv")]
    assert opencv == ["opencv-contrib-python-headless"]


def test_python_requirement_is_311():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["requires-python"] == ">=3.11,<3.12"
