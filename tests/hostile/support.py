"""Assertions the hostile-input tests share."""

from __future__ import annotations


def assert_one_sentence(code: int, err: str, *words: str) -> None:
    """The CLI's refusal: exit status 2, one line on stderr that names ``words``, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("hybridvid") and "error:" in lines[0], err
    for word in words:
        assert word in lines[0], (word, err)
