"""Tests for item fields (types, normalisation, validation), raw rows → items, and open_inputs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook
from pydantic import BaseModel, ValidationError

from framework.errors import InvalidError
from framework.items import (
    FieldProblem,
    FieldSpec,
    Item,
    ItemsSpec,
    RawRow,
    estimate_total,
    iter_items,
    normalize_row,
    open_inputs,
)
from framework.normalize import NormalizeError
from framework.registry import Registry
from framework.steps.excel import ExcelOptions, ExcelReader
from framework.steps.pdf import PdfOptions, PdfReader

SAMPLE_PDF = (
    Path(__file__).resolve().parents[1]
    / "bots"
    / "welfare_entry"
    / "sample"
    / "申請書_2026-001.pdf"
)


def spec_of(key: list[str] | None = None, *, pdf: bool = False, **fields: FieldSpec) -> ItemsSpec:
    sources: dict[str, BaseModel] = {"excel": ExcelOptions()}
    if pdf:
        sources["pdf"] = PdfOptions()
    return ItemsSpec(fields=fields, key=key or [], sources=sources)


def reason(spec: FieldSpec, raw: object) -> str:
    with pytest.raises(NormalizeError) as info:
        spec.normalize(raw)
    return info.value.reason


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "申請一覧"
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    wb.close()
    return path


# -- FieldSpec.normalize, type by type ---------------------------------------------------------


def test_text_is_trimmed_but_otherwise_kept_as_typed() -> None:
    spec = FieldSpec(type="text")
    assert spec.normalize("\u3000山田　太郎 \n") == "山田　太郎"
    assert spec.normalize("ＡＢＣ") == "ＡＢＣ"  # widths of names stay as typed
    assert spec.normalize(12.0) == "12"


def test_text_max_length_counts_characters_after_trimming() -> None:
    spec = FieldSpec(type="text", max_length=5)
    assert spec.normalize("  あいうえお  ") == "あいうえお"
    message = reason(spec, "あいうえおか")
    assert "5文字以内" in message
    assert "6文字です" in message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("やまだ　たろう", "ヤマダ\u3000タロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ\u3000タロウ"),
        ("ヤマダ タロウ", "ヤマダ\u3000タロウ"),
        (" こーひー ", "コーヒー"),
    ],
)
def test_kana_becomes_full_width_katakana(raw: str, clean: str) -> None:
    assert FieldSpec(type="kana").normalize(raw) == clean


def test_kana_max_length_counts_the_converted_katakana() -> None:
    spec = FieldSpec(type="kana", max_length=4)
    assert spec.normalize("ﾀﾞｲｽｹ") == "ダイスケ"  # 5 characters as typed, 4 as katakana
    assert "4文字以内" in reason(spec, "やまだ たろう")


def test_kana_refuses_kanji_and_quotes_the_value() -> None:
    message = reason(FieldSpec(type="kana"), "山田")
    assert "カタカナ" in message
    assert "山田" in message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("0123456789", "0123456789"),
        ("０１２３４５６７８９", "0123456789"),
        ("0123-456-789", "0123456789"),
        (" 0123 456 789 ", "0123456789"),
        (123456789, "0123456789"),  # a number cell lost the leading zero
        (123456789.0, "0123456789"),
    ],
)
def test_digits_keep_leading_zeros(raw: object, clean: str) -> None:
    assert FieldSpec(type="digits", length=10).normalize(raw) == clean


def test_digits_check_the_length_and_never_pad_text() -> None:
    spec = FieldSpec(type="digits", length=10)
    message = reason(spec, "123456789")
    assert "10桁の数字が必要です" in message
    assert "9桁です" in message
    assert "数字以外" in reason(spec, "01234a6789")
    assert FieldSpec(type="digits").normalize(42) == "42"  # no length: nothing to pad to


@pytest.mark.parametrize(
    ("spec", "raw", "clean"),
    [
        (FieldSpec(type="number"), "１，２００", 1200.0),
        (FieldSpec(type="number"), 12.5, 12.5),
        (FieldSpec(type="number", unit="時間"), "7.5 時間", 7.5),
        (FieldSpec(type="integer", unit="時間"), "２０時間", 20),
        (FieldSpec(type="integer"), 20.0, 20),
        (FieldSpec(type="integer", min=1, max=744), "744", 744),
    ],
)
def test_numbers(spec: FieldSpec, raw: object, clean: float) -> None:
    value = spec.normalize(raw)
    assert value == clean
    assert type(value) is type(clean)


def test_number_range_and_integer_errors_quote_the_raw_value() -> None:
    hours = FieldSpec(type="integer", unit="時間", min=1, max=744)
    low = reason(hours, "0時間")
    assert "1以上にしてください" in low and "0時間" in low
    high = reason(hours, "７４５")
    assert "744以下にしてください" in high and "７４５" in high
    assert "整数ではありません" in reason(hours, "1.5")
    assert "単位は「時間」です" in reason(hours, "20分")
    assert "0.5以上" in reason(FieldSpec(type="number", min=0.5), 0.25)


@pytest.mark.parametrize(
    "raw",
    [
        "2026/4/1",
        "2026-04-01",
        "令和8年4月1日",
        "令和８年４月１日(水)",
        "R8.4.1",
        "Ｒ８．４．１",
        dt.datetime(2026, 4, 1),  # an Excel date cell, read as a datetime
        dt.date(2026, 4, 1),
        46113,  # the same day as an Excel serial number
    ],
)
def test_dates_in_western_wareki_and_excel_forms(raw: object) -> None:
    assert FieldSpec(type="date").normalize(raw) == dt.date(2026, 4, 1)


def test_date_errors_name_what_is_wrong() -> None:
    message = reason(FieldSpec(type="date"), "令和8年13月1日")
    assert "13月はありません" in message
    assert "日付として読めません" in reason(FieldSpec(type="date"), "来週")


def test_choice_accepts_full_width_letters_and_aliases() -> None:
    spec = FieldSpec(
        type="choice",
        choices=["就労継続支援A型", "就労継続支援B型", "区分1"],
        aliases={"B型": "就労継続支援B型", "グループ": "区分1"},
    )
    assert spec.normalize("就労継続支援Ａ型") == "就労継続支援A型"
    assert spec.normalize(" 区分１ ") == "区分1"
    assert spec.normalize("B型") == "就労継続支援B型"
    assert spec.normalize("Ｂ型") == "就労継続支援B型"
    assert spec.normalize("グループ") == "区分1"
    message = reason(spec, "C型")
    assert "選択肢にない値です" in message
    assert "'C型'" in message
    assert "就労継続支援A型、就労継続支援B型、区分1" in message


ALL_TYPES: list[FieldSpec] = [
    FieldSpec(type="text"),
    FieldSpec(type="kana"),
    FieldSpec(type="digits", length=4),
    FieldSpec(type="number"),
    FieldSpec(type="integer", min=1),
    FieldSpec(type="date"),
    FieldSpec(type="choice", choices=["はい", "いいえ"]),
]


@pytest.mark.parametrize("spec", ALL_TYPES, ids=lambda s: s.type)
@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000\t\n"], ids=repr)
def test_empty_values_required_or_optional(spec: FieldSpec, raw: object) -> None:
    assert "必須項目が空です" in reason(spec, raw)
    optional = spec.model_copy(update={"required": False})
    assert optional.normalize(raw) is None


# -- FieldSpec validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"type": "choice"}, "choices required"),
        ({"type": "choice", "choices": []}, "choices required"),
        ({"type": "text", "length": 4}, "length needs digits"),
        ({"type": "integer", "length": 4}, "length needs digits"),
        ({"type": "choice", "choices": ["A"], "aliases": {"a": "B"}}, "alias target"),
        ({"type": "text", "aliases": {"a": "A"}}, "aliases need choices"),
        # an option the type would silently ignore is refused
        ({"type": "text", "choices": ["A"]}, "choices needs choice"),
        ({"type": "text", "unit": "時間"}, "unit needs number or integer"),
        ({"type": "date", "min": 1}, "min needs number or integer"),
        ({"type": "digits", "max": 9}, "max needs number or integer"),
        ({"type": "date", "max_length": 10}, "max_length needs text or kana"),
        ({"type": "integer", "min": 10, "max": 1}, "min is above max"),
        ({"type": "digits", "length": 0}, "greater_than_equal"),
        ({"type": "txt"}, "literal_error"),
        ({"typ": "text"}, "extra_forbidden"),
    ],
)
def test_field_spec_validation(options: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        FieldSpec.model_validate(options)
    errors = info.value.errors()
    assert len(errors) == 1
    assert expected in errors[0]["msg"] or expected == errors[0]["type"]


def test_options_that_fit_their_type_are_accepted() -> None:
    FieldSpec(type="integer", unit="時間", min=1, max=1)
    FieldSpec(type="number", min=0.5)
    FieldSpec(type="kana", max_length=20)
    FieldSpec(type="choice", choices=["A"], aliases={"a": "A"})


def test_choice_validation_messages_are_japanese_first() -> None:
    with pytest.raises(ValidationError, match="type: choice には choices を書いてください"):
        FieldSpec(type="choice")
    with pytest.raises(ValidationError, match=r"aliases の行き先が choices にありません: \['B'\]"):
        FieldSpec(type="choice", choices=["A"], aliases={"a": "B"})
    with pytest.raises(ValidationError, match="unit は type: number / integer でだけ使えます"):
        FieldSpec(type="text", unit="時間")


def test_headers_and_labels_default_to_the_field_name_and_accept_one_string() -> None:
    spec = FieldSpec.model_validate({"header": "申請者氏名", "label": ["氏名", "お名前"]})
    assert spec.headers("氏名") == ["申請者氏名"]
    assert spec.labels("氏名") == ["氏名", "お名前"]
    assert FieldSpec().headers("氏名") == ["氏名"]
    assert FieldSpec().labels("氏名") == ["氏名"]


# -- normalize_row, FieldProblem, personal values, Item ---------------------------------------


def welfare_spec() -> ItemsSpec:
    return spec_of(
        ["受給者番号", "開始日"],
        氏名=FieldSpec(type="text", pii=True),
        フリガナ=FieldSpec(type="kana", pii=True),
        受給者番号=FieldSpec(type="digits", length=10, pii=True),
        開始日=FieldSpec(type="date"),
        支給量=FieldSpec(type="integer", unit="時間", min=1),
        備考=FieldSpec(required=False),
    )


def test_normalize_row_makes_clean_values() -> None:
    raw = RawRow(
        "申請一覧.xlsx",
        5,
        {
            "氏名": " 山田 太郎 ",
            "フリガナ": "やまだ たろう",
            "受給者番号": 123456789,
            "開始日": "R8.4.1",
            "支給量": "２０時間",
        },
        {"氏名": "B列", "受給者番号": "E列"},
    )
    item = normalize_row(raw, welfare_spec(), 7)
    assert item.problems == []
    assert not item.is_bad
    assert item.seq == 7
    assert item.values == {
        "氏名": "山田 太郎",
        "フリガナ": "ヤマダ\u3000タロウ",
        "受給者番号": "0123456789",
        "開始日": dt.date(2026, 4, 1),
        "支給量": 20,
        "備考": None,
    }
    assert item.where == "申請一覧.xlsx 5行目"


def test_normalize_row_reports_field_column_and_raw_value() -> None:
    raw = RawRow(
        "申請一覧.xlsx",
        9,
        {
            "氏名": "山田",
            "フリガナ": "ヤマダ",
            "受給者番号": "01234a6789",
            "開始日": "令和8年2月30日",
        },
        {"氏名": "B列", "フリガナ": "C列", "受給者番号": "E列", "開始日": "H列", "支給量": "G列"},
    )
    item = normalize_row(raw, welfare_spec(), 1)
    assert item.is_bad
    by_field = {p.field: p for p in item.problems if isinstance(p, FieldProblem)}
    assert set(by_field) == {"受給者番号", "開始日", "支給量"}
    number = by_field["受給者番号"]
    assert number.column == "E列"
    assert "'01234a6789'" in number.reason
    assert str(number).startswith("受給者番号（E列）: 数字以外の文字があります")
    assert "2月は28日までです" in by_field["開始日"].reason
    assert "必須項目が空です" in by_field["支給量"].reason
    assert item.values["受給者番号"] is None
    assert item.values["氏名"] == "山田"  # the good fields are still clean
    assert item.problem_text().count(" / ") == 2


def test_a_field_missing_from_the_file_is_reported_without_a_column() -> None:
    item = normalize_row(RawRow("申請書.pdf", None, {}), spec_of(氏名=FieldSpec()), 1)
    assert item.problems == [FieldProblem("氏名", "", "必須項目が空です (required value is empty)")]
    assert str(item.problems[0]) == "氏名: 必須項目が空です (required value is empty)"
    assert item.where == "申請書.pdf"


def test_reader_problems_are_kept_and_not_doubled_by_normalisation() -> None:
    """A #REF! cell is reported once, as what it is, not also as "required value is empty"."""
    ref = FieldProblem("氏名", "B列", "セルにエラー値 #REF! があります (formula error in cell)")
    raw = RawRow(
        "申請一覧.xlsx",
        4,
        {"氏名": None, "受給者番号": "0123456789"},
        {"氏名": "B列", "受給者番号": "E列"},
        ["PDFに文字がありません", ref],
    )
    spec = spec_of(氏名=FieldSpec(), 受給者番号=FieldSpec(type="digits", length=10))
    item = normalize_row(raw, spec, 1)
    assert item.problems == ["PDFに文字がありません", ref]
    assert item.values == {"氏名": None, "受給者番号": "0123456789"}


def test_personal_holds_raw_and_clean_texts_of_pii_fields_only() -> None:
    raw = RawRow(
        "申請一覧.xlsx",
        4,
        {
            "氏名": "\u3000山田 太郎 ",
            "フリガナ": "やまだ",
            "受給者番号": 123456789,
            "開始日": dt.datetime(2026, 4, 1),
            "支給量": 20,
            "備考": "秘密ではない",
        },
    )
    spec = welfare_spec()
    spec.fields["開始日"] = FieldSpec(type="date", pii=True)
    item = normalize_row(raw, spec, 1)
    assert item.personal == {
        "山田 太郎": "氏名",
        # as a system may show a name: without spaces, full-width space, each part alone
        "山田太郎": "氏名",
        "山田\u3000太郎": "氏名",
        "山田": "氏名",
        "太郎": "氏名",
        "やまだ": "フリガナ",
        "ヤマダ": "フリガナ",
        "123456789": "受給者番号",
        "0123456789": "受給者番号",
        "2026-04-01": "開始日",
        "2026/04/01": "開始日",
        "20260401": "開始日",
        "2026.04.01": "開始日",
        "2026年04月01日": "開始日",
        "2026/4/1": "開始日",
        "2026-4-1": "開始日",
        "2026.4.1": "開始日",
        "2026年4月1日": "開始日",
        "令和8年4月1日": "開始日",
        "R8.4.1": "開始日",
        "R8/4/1": "開始日",
        "R08.04.01": "開始日",
    }


def test_personal_keeps_the_raw_text_of_a_value_that_failed() -> None:
    raw = RawRow("a.xlsx", 2, {"受給者番号": "01234-5678x"})
    spec = spec_of(受給者番号=FieldSpec(type="digits", pii=True))
    item = normalize_row(raw, spec, 1)
    assert item.is_bad
    assert item.personal == {"01234-5678x": "受給者番号"}


def test_item_key_is_text_of_the_key_fields() -> None:
    spec = welfare_spec()
    item = Item(
        1,
        "a.xlsx",
        2,
        {"受給者番号": "0123456789", "開始日": dt.date(2026, 4, 1), "氏名": "山田"},
    )
    assert item.key(spec) == ("0123456789", "2026-04-01")
    empty = Item(2, "a.xlsx", 3, {"受給者番号": None, "開始日": None})
    assert empty.key(spec) == ("", "")
    assert Item(3, "a.xlsx", 4, {"支給量": 20}).key(spec_of(["支給量"])) == ("20",)


# -- open_inputs -------------------------------------------------------------------------------


def test_missing_input_path(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(InvalidError) as info:
        open_inputs(tmp_path / "ない.xlsx", spec_of(氏名=FieldSpec()), registry, shown="ない.xlsx")
    [problem] = info.value.problems
    assert problem.file == "ない.xlsx"
    assert "入力ファイルまたはフォルダが見つかりません" in problem.message


def mixed_folder(folder: Path) -> Path:
    write_xlsx(folder / "b_申請一覧.xlsx", [["氏名"], ["山田"], ["佐藤"]])
    shutil.copyfile(SAMPLE_PDF, folder / "a_申請書.pdf")
    (folder / "~$b_申請一覧.xlsx").write_bytes(b"\x0bkakari lock file\x00" * 8)
    (folder / "メモ.txt").write_text("読まないファイル", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "古い").mkdir()
    write_xlsx(folder / "古い" / "old.xlsx", [["氏名"], ["鈴木"]])  # subfolders are not read
    return folder


def test_folder_reads_every_file_of_a_readable_type(tmp_path: Path, registry: Registry) -> None:
    folder = mixed_folder(tmp_path / "受付")
    spec = spec_of(pdf=True, 氏名=FieldSpec())
    opened = open_inputs(folder, spec, registry)
    assert [(entry.shown, type(entry.reader)) for entry in opened] == [
        ("a_申請書.pdf", PdfReader),
        ("b_申請一覧.xlsx", ExcelReader),
    ]
    assert estimate_total(opened) == 1 + 2
    items = list(iter_items(opened, spec))
    assert [(item.seq, item.where) for item in items] == [
        (1, "a_申請書.pdf"),
        (2, "b_申請一覧.xlsx 2行目"),
        (3, "b_申請一覧.xlsx 3行目"),
    ]
    assert [item.values["氏名"] for item in items[1:]] == ["山田", "佐藤"]


def test_folder_skips_types_the_workflow_does_not_read(tmp_path: Path, registry: Registry) -> None:
    folder = mixed_folder(tmp_path / "受付")
    opened = open_inputs(folder, spec_of(氏名=FieldSpec()), registry)
    assert [entry.shown for entry in opened] == ["b_申請一覧.xlsx"]


@pytest.mark.parametrize("name", ["申請一覧.csv", "申請書.pdf", "申請一覧.xls.txt"])
def test_single_file_of_a_type_the_workflow_does_not_read(
    tmp_path: Path, registry: Registry, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf\xe6\xb0\x8f\xe5\x90\x8d\n")
    with pytest.raises(InvalidError) as info:
        open_inputs(path, spec_of(氏名=FieldSpec()), registry, shown=name)
    [problem] = info.value.problems
    assert problem.file == name
    assert "このワークフローはこの種類のファイルを読みません" in problem.message
    assert "読める形式: .xlsx, .xlsm" in problem.message


def test_folder_with_nothing_readable(tmp_path: Path, registry: Registry) -> None:
    folder = tmp_path / "受付"
    folder.mkdir()
    (folder / "~$申請一覧.xlsx").write_bytes(b"lock")
    (folder / "メモ.txt").write_text("なし", encoding="utf-8")
    with pytest.raises(InvalidError) as info:
        open_inputs(folder, spec_of(pdf=True, 氏名=FieldSpec()), registry, shown="受付")
    [problem] = info.value.problems
    assert problem.file == "受付"
    assert "読み込めるファイルがありません" in problem.message
    assert ".xlsx, .xlsm, .pdf" in problem.message


def test_empty_folder(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "空").mkdir()
    with pytest.raises(InvalidError, match="読み込めるファイルがありません"):
        open_inputs(tmp_path / "空", spec_of(氏名=FieldSpec()), registry)


def test_folder_with_one_unusable_workbook_names_that_file(
    tmp_path: Path, registry: Registry
) -> None:
    folder = tmp_path / "受付"
    write_xlsx(folder / "a.xlsx", [["氏名"], ["山田"]])
    write_xlsx(folder / "b.xlsx", [["名前"], ["佐藤"]])
    (folder / "c.xlsx").write_bytes(b"not a workbook at all")
    with pytest.raises(InvalidError) as info:
        open_inputs(folder, spec_of(氏名=FieldSpec()), registry)
    assert [p.file for p in info.value.problems] == ["b.xlsx", "c.xlsx"]
    assert "見出しの行が見つかりません" in info.value.problems[0].message
    assert "Excelブックとして読めません" in info.value.problems[1].message
