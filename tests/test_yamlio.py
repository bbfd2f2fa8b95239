"""YAML loading: positions of keys and values, and plain messages for malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.errors import InvalidError, SourcePos
from framework.yamlio import format_path, load_yaml, parse_yaml


def test_positions_of_keys_values_and_items() -> None:
    doc = parse_yaml("steps:\n  - browser.fill:\n      label: 氏名\n", "w.yaml")
    assert doc.pos(("steps", 0)) == SourcePos("w.yaml", 2, 5)
    assert doc.pos(("steps", 0, "browser.fill", "label")) == SourcePos("w.yaml", 3, 14)
    assert doc.pos(("steps", 0, "browser.fill", "label"), prefer_key=True) == SourcePos(
        "w.yaml", 3, 7
    )
    # a path that does not exist falls back to its nearest ancestor
    assert doc.pos(("steps", 0, "browser.fill", "value")) == SourcePos("w.yaml", 3, 7)


def test_yaml_12_scalars_stay_strings() -> None:
    doc = parse_yaml("a: on\nb: no\nc: 2026-04-01\nd: 010\n", "x.yaml")
    assert doc.data == {"a": "on", "b": "no", "c": "2026-04-01", "d": 10}


def test_format_path() -> None:
    assert format_path(("steps", 2, "browser.fill", "label")) == "steps[2].browser.fill.label"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: [1\nb: 2\n", 2, "YAMLの書き方に誤りがあります"),
        ("a: 1\na: 2\n", 2, "同じキーが2回"),
        ("steps:\n\u3000- log: x\n", 2, "全角スペース"),
        ("steps:\n\t- log: x\n", 2, "タブ"),
    ],
)
def test_malformed_yaml(text: str, line: int, fragment: str) -> None:
    with pytest.raises(InvalidError) as info:
        parse_yaml(text, "bad.yaml")
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("bad.yaml", line)
    assert fragment in problem.message


def test_shift_jis_file_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sjis.yaml"
    path.write_bytes("title: ok\nname: 申請\n".encode("shift_jis"))
    with pytest.raises(InvalidError) as info:
        load_yaml(path, "sjis.yaml")
    assert info.value.problems[0].line == 2
    assert "UTF-8" in info.value.problems[0].message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidError, match="見つかりません"):
        load_yaml(tmp_path / "none.yaml")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufefftitle: 申請\n".encode())
    assert load_yaml(path).data == {"title": "申請"}
