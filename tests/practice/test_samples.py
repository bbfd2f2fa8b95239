"""Tests for the sample workbook, the committed welfare sample set and its command."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from framework.practice import samples
from framework.practice.applicants import Applicant, generate_applicants
from framework.practice.samples import COLUMNS, build_welfare_samples, main, write_workbook

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "bots" / "welfare_entry" / "sample"
COL = {name: i for i, name in enumerate(COLUMNS)}  # 0-based index into a row tuple


# --- a small reference normaliser: the mess written must be valid mess ------------------------

_ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_ERA_LETTER = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _date(value: object) -> tuple[date, str]:
    """(the date, which form it was written in)."""
    if isinstance(value, datetime):
        return value.date(), "excel"
    assert isinstance(value, str), value
    text = _nfkc(value).strip()
    if m := re.fullmatch(r"(明治|大正|昭和|平成|令和)(元|\d+)年(\d+)月(\d+)日", text):
        year = 1 if m[2] == "元" else int(m[2])
        return date(_ERA_START[m[1]] + year - 1, int(m[3]), int(m[4])), "wareki"
    if m := re.fullmatch(r"([MTSHR])(\d+)\.(\d+)\.(\d+)", text):
        year = _ERA_START[_ERA_LETTER[m[1]]] + int(m[2]) - 1
        return date(year, int(m[3]), int(m[4])), "wareki_abbrev"
    if m := re.fullmatch(r"(\d{4})/(\d+)/(\d+)", text):
        return date(int(m[1]), int(m[2]), int(m[3])), "slash"
    if m := re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", text):
        return date.fromisoformat(text), "iso"
    raise AssertionError(f"unexpected date form {value!r}")


def _recipient(value: object) -> tuple[str, str]:
    if isinstance(value, int):
        return f"{value:010d}", "number"
    assert isinstance(value, str)
    if "-" in value:
        return value.replace("-", ""), "hyphen"
    if value.isascii():
        return value, "text"
    return _nfkc(value), "fullwidth"


def _hours(value: object) -> tuple[int, str]:
    if isinstance(value, int):
        return value, "int"
    assert isinstance(value, str)
    if value.endswith("時間"):
        return int(value.removesuffix("時間")), "suffix"
    assert not value.isascii()
    return int(_nfkc(value)), "fullwidth"


def _kana(value: str) -> tuple[str, str]:
    if re.search(r"[ｦ-ﾟ]", value):
        form = "halfwidth"
    elif re.search(r"[ぁ-ゖ]", value):
        form = "hiragana"
    else:
        form = "katakana"
    text = _nfkc(value)
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)
    return "\u3000".join(text.split()), form


def _name(value: str) -> tuple[str, str]:
    form = "padded" if value != value.strip() else "plain"
    return "\u3000".join(value.split()), form


def _parse_row(row: tuple[object, ...]) -> tuple[Applicant, dict[str, str]]:
    """A sheet row back to the applicant, and the form of each messy cell."""
    name, name_form = _name(str(row[COL["氏名"]]))
    kana, kana_form = _kana(str(row[COL["フリガナ"]]))
    birth, birth_form = _date(row[COL["生年月日"]])
    number, number_form = _recipient(row[COL["受給者番号"]])
    hours, hours_form = _hours(row[COL["支給量"]])
    start, start_form = _date(row[COL["開始日"]])
    person = Applicant(
        name=name,
        kana=kana,
        birth_date=birth,
        recipient_no=number,
        service_type=str(row[COL["サービス種類"]]),
        hours=hours,
        start_date=start,
        support_level=str(row[COL["障害支援区分"]]),
        notes=str(row[COL["備考"]] or ""),
    )
    forms = {
        "name": name_form,
        "kana": kana_form,
        "birth": birth_form,
        "recipient": number_form,
        "hours": hours_form,
        "start": start_form,
    }
    return person, forms


def _rows(path: Path, sheet: str = samples.SHEET_NAME) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(path)
    try:
        return list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()


def _data_rows(rows: list[tuple[object, ...]]) -> dict[int, tuple[object, ...]]:
    """Excel row number -> values, for every non-empty row below the header."""
    first = samples.FIRST_DATA_ROW
    return {
        number: row
        for number, row in enumerate(rows[first - 1 :], start=first)
        if any(v is not None for v in row)
    }


# --- the committed sample set ----------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Applicant]]:
    out = tmp_path_factory.mktemp("welfare")
    return out, build_welfare_samples(out)


def test_committed_expected_json_matches_a_rebuild(rebuilt: tuple[Path, list[Applicant]]) -> None:
    out, expected = rebuilt
    committed = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
    fresh = json.loads((out / "expected.json").read_text(encoding="utf-8"))
    assert committed == fresh
    assert committed["records"] == [p.to_record() for p in expected]
    assert len(expected) == 35
    assert len({p.recipient_no for p in expected}) == 35


def test_committed_workbook_matches_a_rebuild(rebuilt: tuple[Path, list[Applicant]]) -> None:
    out, _ = rebuilt
    assert _rows(SAMPLE_DIR / "applications.xlsx") == _rows(out / "applications.xlsx")
    names = sorted(p.name for p in SAMPLE_DIR.glob("*.pdf"))
    assert names == ["申請書_2026-001.pdf", "申請書_2026-002.pdf", "申請書_2026-003.pdf"]
    assert names == sorted(p.name for p in out.glob("*.pdf"))


def test_workbook_layout() -> None:
    wb = openpyxl.load_workbook(SAMPLE_DIR / "applications.xlsx")
    try:
        assert wb.sheetnames == ["申請一覧", "記入例"]
        ws = wb["申請一覧"]
        assert [str(r) for r in ws.merged_cells.ranges] == ["A1:K1"]
        assert ws["A1"].value == "障害福祉サービス支給申請 受付一覧（令和8年12月開始分）"
        assert ws["A2"].value == "作成：障がい福祉課 受付担当"
        headers = [cell.value for cell in ws[3]]
        assert headers == [
            "No.",
            "氏名",
            "フリガナ",
            "内部メモ",
            "生年月日",
            "受給者番号",
            "サービス種類",
            "支給量",
            "開始日",
            "障害支援区分",
            "備考",
        ]
        assert all(cell.font.bold and cell.fill.fill_type == "solid" for cell in ws[3])
        assert ws.column_dimensions["D"].hidden
        assert not any(ws.column_dimensions[c].hidden for c in "ABCEFGHIJK")
        memos = [ws.cell(row=r, column=4).value for r in range(4, ws.max_row + 1)]
        assert sum(m is not None for m in memos) >= 5

        example = [row for row in wb["記入例"].iter_rows(min_row=4, values_only=True)]
        assert len(example) == 1 and example[0][1] == "見本\u3000太郎"
    finally:
        wb.close()


def test_workbook_has_blank_row_groups_and_numbered_rows() -> None:
    rows = _rows(SAMPLE_DIR / "applications.xlsx")
    data = _data_rows(rows)
    numbers = sorted(data)
    assert [data[n][COL["No."]] for n in numbers] == list(range(1, 36))
    gaps = [b - a - 1 for a, b in zip(numbers, numbers[1:], strict=False) if b - a > 1]
    assert len(gaps) >= 2 and set(gaps) <= {2, 3} and {2, 3} <= set(gaps)
    assert numbers[0] == 4 and numbers[-1] == len(rows)  # no trailing blank rows


def test_messy_cells_are_valid_mess_of_the_truth() -> None:
    document = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
    rows = _data_rows(_rows(SAMPLE_DIR / "applications.xlsx"))
    skip = {
        document["bad_rows"][0]["row"],
        document["duplicate_rows"][0]["row"],
        document["refused_rows"][0]["row"],
    }
    parsed = [_parse_row(row) for number, row in sorted(rows.items()) if number not in skip]
    assert [p.to_record() for p, _ in parsed] == document["records"][:32]

    for field, kinds in {
        "name": {"plain", "padded"},
        "kana": {"katakana", "hiragana", "halfwidth"},
        "birth": {"excel", "wareki", "wareki_abbrev", "slash"},
        "recipient": {"text", "fullwidth", "number", "hyphen"},
        "hours": {"int", "fullwidth", "suffix"},
        "start": {"excel", "wareki", "wareki_abbrev", "iso"},
    }.items():
        counts = Counter(forms[field] for _, forms in parsed)
        assert set(counts) == kinds, field
        assert min(counts.values()) >= 2, (field, counts)

    raw = [row for number, row in sorted(rows.items()) if number not in skip]
    lost_zero = [
        p
        for (p, forms), row in zip(parsed, raw, strict=True)
        if forms["recipient"] == "number" and p.recipient_no.startswith("0")
    ]
    assert lost_zero, "a number cell should lose a leading zero"
    births = [str(row[COL["生年月日"]]) for row in raw]
    assert "平成元年1月8日" in births and "S64.1.7" in births
    wb = openpyxl.load_workbook(SAMPLE_DIR / "applications.xlsx")
    try:
        cells = [c for c in wb["申請一覧"]["E"] if isinstance(c.value, datetime)]
        assert cells and all(c.number_format == "yyyy/m/d" for c in cells)
    finally:
        wb.close()


def test_bad_and_duplicate_rows() -> None:
    document = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
    rows = _data_rows(_rows(SAMPLE_DIR / "applications.xlsx"))
    expected_numbers = {r["recipient_no"] for r in document["records"]}

    (bad,) = document["bad_rows"]
    assert bad == {"file": "applications.xlsx", "row": bad["row"], "column": "生年月日"}
    bad_row = rows[bad["row"]]
    assert bad_row[COL["生年月日"]] == "令和6年13月1日"
    assert str(bad_row[COL["受給者番号"]]) not in expected_numbers  # a new person
    assert _nfkc(str(bad_row[COL["氏名"]])).strip() not in {r["name"] for r in document["records"]}

    (dup,) = document["duplicate_rows"]
    assert dup["file"] == "applications.xlsx" and dup["same_as_row"] < dup["row"]
    assert dup["row"] == bad["row"] + 1
    original, copy = rows[dup["same_as_row"]], rows[dup["row"]]
    assert _parse_row(copy)[0] == _parse_row(original)[0]
    differing = [c for c in COLUMNS[1:] if c != "内部メモ" and copy[COL[c]] != original[COL[c]]]
    assert "受給者番号" in differing and len(differing) >= 3

    (refused,) = document["refused_rows"]
    assert refused["row"] == dup["row"] + 1 == max(rows)
    refused_row = rows[refused["row"]]
    assert refused_row[COL["開始日"]] == "平成8年12月1日"  # the wrong era: before the birth date
    assert str(refused_row[COL["受給者番号"]]) not in expected_numbers


# --- writing workbooks -----------------------------------------------------------------------


def test_clean_workbook(tmp_path: Path) -> None:
    people = generate_applicants(30, seed=5)
    path = tmp_path / "clean.xlsx"
    write_workbook(path, people, messy=False)
    data = _data_rows(_rows(path))
    assert sorted(data) == list(range(4, 34))
    for person, row in zip(people, [data[n] for n in sorted(data)], strict=True):
        assert row[COL["氏名"]] == person.name
        assert row[COL["フリガナ"]] == person.kana
        assert row[COL["生年月日"]] == datetime.combine(person.birth_date, datetime.min.time())
        assert row[COL["受給者番号"]] == person.recipient_no  # text, leading zero kept
        assert row[COL["支給量"]] == person.hours
        assert row[COL["開始日"]] == datetime.combine(person.start_date, datetime.min.time())


def test_workbook_is_deterministic(tmp_path: Path) -> None:
    people = generate_applicants(12, seed=9)
    write_workbook(tmp_path / "a.xlsx", people, messy=True, seed=4)
    write_workbook(tmp_path / "b.xlsx", people, messy=True, seed=4)
    write_workbook(tmp_path / "c.xlsx", people, messy=True, seed=5)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert _rows(tmp_path / "a.xlsx") != _rows(tmp_path / "c.xlsx")


def test_extra_rows_are_appended_raw(tmp_path: Path) -> None:
    people = generate_applicants(3, seed=2)
    extra = ["佐藤\u3000花子", "サトウ", "昭和", "x", "居宅介護", "多め", None, "区分9", ""]
    write_workbook(tmp_path / "x.xlsx", people, messy=False, extra_rows=[extra])
    last = _rows(tmp_path / "x.xlsx")[-1]
    assert last[COL["No."]] == 4
    assert last[COL["内部メモ"]] is None
    assert [v for i, v in enumerate(last) if i not in (COL["No."], COL["内部メモ"])] == [
        v if v != "" else None for v in extra
    ]
    with pytest.raises(ValueError, match="needs 9 values"):
        write_workbook(tmp_path / "y.xlsx", people, messy=False, extra_rows=[extra[:3]])


def test_main_bench_writes_a_clean_workbook(tmp_path: Path) -> None:
    out = tmp_path / "bench" / "bench.xlsx"
    assert main(["bench", str(out), "--count", "7", "--seed", "1"]) == 0
    data = _data_rows(_rows(out))
    assert len(data) == 7
    assert [row[COL["受給者番号"]] for row in data.values()] == [
        p.recipient_no for p in generate_applicants(7, seed=1)
    ]


def test_main_welfare_writes_the_sample_set(tmp_path: Path) -> None:
    assert main(["welfare", str(tmp_path)]) == 0
    assert (tmp_path / "expected.json").is_file()
    with pytest.raises(SystemExit):
        main(["bench", str(tmp_path / "z.xlsx"), "--count", "0"])
