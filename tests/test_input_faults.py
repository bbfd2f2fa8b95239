"""Bad input files as staff meet them: `rpa run welfare_entry` on the real project.

Every fault gives a message naming the file and where (row and column, or the PDF label), and
then either the row becomes a bad-input item and the run goes on, or the run refuses to start:
exit code 2, nothing run, nothing written under RPA_HOME. Never a traceback.

A dry run reads and normalises every item without a browser, so the bad-input cases use
``--dry-run --json``. The refusals are run for real (no ``--dry-run``): ``prepare`` refuses before
a browser starts. Reader-level details are in ``tests/steps/test_excel.py`` and ``test_pdf.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SAMPLE_DIR
from openpyxl import Workbook, load_workbook
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from framework.cli import main
from framework.outcome import ExitCode
from framework.practice.applicants import generate_applicants
from framework.practice.forms import write_pdf_application, write_scanned_pdf
from framework.practice.samples import (
    COLUMNS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    SHEET_NAME,
    write_workbook,
)

WELFARE = ["--project", str(REPO), "run", "welfare_entry"]
# If a refusal ever stopped refusing, the run would log in here: nothing listens on port 9.
NOWHERE = ["--set", "target_url=http://127.0.0.1:9"]

REQUIRED = [  # the welfare workflow's required fields, in order; 備考 is optional
    "氏名",
    "フリガナ",
    "生年月日",
    "受給者番号",
    "サービス種類",
    "支給量",
    "開始日",
    "障害支援区分",
]
BOOK = "申請一覧.xlsx"
NOTHING_RUN = "エラー 1 件 (error) 何も実行していません (nothing was run)"
NO_TEXT = (
    "文字情報のないPDFです（スキャン画像の可能性があります）。OCRしたPDFか、元の電子ファイルを"
    "用意してください。 (the PDF has no text layer, probably a scanned image; use an OCR'd PDF"
    " or the original electronic file)"
)


@pytest.fixture(autouse=True)
def welfare_env(rpa_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RPA_HOME in tmp, the bot's credentials set, and a very wide terminal.

    Rich wraps the progress lines at 80 columns when stderr is not a terminal (a log file, a
    pipe, capsys); at 10,000 one message stays one line, so the lines can be compared whole.
    """
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_USERNAME", "demo")
    monkeypatch.setenv("RPA_CREDENTIAL_WELFARE_SYSTEM_PASSWORD", "demo-pass")
    monkeypatch.setenv("RPA_BROWSER_TIMEOUT_MS", "2000")
    monkeypatch.setenv("COLUMNS", "10000")
    return rpa_home


@dataclass
class Seen:
    """What the staff member sees: the exit code, stdout and stderr."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()

    def items(self) -> list[tuple[str, int | None, str, str]]:
        """(file, row, status, message) of every item in the --json output."""
        return [
            (i["source"], i["row"], i["status"], i["message"])
            for i in json.loads(self.out)["items"]
        ]

    def bad(self) -> list[tuple[str, int | None, str]]:
        return [(src, row, msg) for src, row, status, msg in self.items() if status != "pending"]


def written_under(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*")) if home.exists() else []


def no_crash(err: str) -> None:
    """Neither a traceback nor the CLI's "internal error" line (its traceback goes to a file)."""
    assert "Traceback" not in err
    assert "予期しないエラー" not in err


def dry_run(capsys: pytest.CaptureFixture[str], home: Path, path: Path) -> Seen:
    code = main([*WELFARE, "--input", str(path), "--dry-run", "--json"])
    captured = capsys.readouterr()
    seen = Seen(code, captured.out, captured.err)
    no_crash(seen.err)
    assert written_under(home) == []  # a dry run writes nothing either
    return seen


def refused(capsys: pytest.CaptureFixture[str], home: Path, path: Path) -> list[str]:
    """Run for real; check that it refused to start; return the stderr lines."""
    code = main([*WELFARE, "--input", str(path), *NOWHERE])
    captured = capsys.readouterr()
    assert code == ExitCode.INVALID, captured.err
    no_crash(captured.err)
    assert captured.out == ""
    assert written_under(home) == []  # no run folder, no run log, no crash report
    lines = captured.err.splitlines()
    assert lines[-1] == NOTHING_RUN
    return lines[:-1]


# -- input files -------------------------------------------------------------------------------


def ledger(path: Path, count: int = 6, seed: int = 11) -> list[int]:
    """A messy 申請一覧 (title, author line, header in row 3, blank rows); its data rows."""
    write_workbook(path, generate_applicants(count, seed), messy=True)
    wb = load_workbook(path, read_only=True)
    try:
        names = wb[SHEET_NAME].iter_rows(min_row=FIRST_DATA_ROW, min_col=2, max_col=2)
        return [row[0].row for row in names if row[0].value is not None]
    finally:
        wb.close()


def edit(path: Path, change: Callable[[Any], None]) -> None:
    """Change the 申請一覧 sheet of a workbook with openpyxl (as a person would in Excel)."""
    wb = load_workbook(path)
    change(wb[SHEET_NAME])
    wb.save(path)
    wb.close()


def patch_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one part of the .xlsx zip (for files openpyxl itself would not write)."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info.filename, archive.read(info)) for info in archive.infolist()]
    assert part in dict(parts)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            archive.writestr(name, change(data) if name == part else data)


SHEET_XML = "xl/worksheets/sheet1.xml"
COLUMN = {name: chr(ord("A") + i) for i, name in enumerate(COLUMNS)}  # 備考 -> K


def other_form_pdf(path: Path) -> Path:
    """A real text PDF, but another department's form: none of the welfare labels."""
    font = "HeiseiKakuGo-W5"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(font, 11)
    lines = [
        "介護保険 住所変更届",
        "届出者　山田　太郎",
        "被保険者番号：0123456789",
        "新住所　かかり市本町1丁目2番3号",
        "電話番号　000-0000-0000",
    ]
    for i, line in enumerate(lines):
        c.drawString(60, 780 - 22 * i, line)
    c.showPage()
    c.save()
    return path


# -- refused before anything runs (exit 2) -----------------------------------------------------


def empty_sheet(tmp: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAME  # the right sheet, with nothing on it
    wb.save(tmp / BOOK)
    return tmp / BOOK


def header_deleted(tmp: Path) -> Path:
    ledger(tmp / BOOK)
    edit(tmp / BOOK, lambda ws: ws.delete_rows(HEADER_ROW))  # title, author, then data
    return tmp / BOOK


def only_sheet1(tmp: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Sheet1"
    ws.append([*REQUIRED, "備考"])
    ws.append(["山田\u3000太郎", "ヤマダ\u3000タロウ", "S58.4.12", "0123456789", "居宅介護"])
    wb.save(tmp / BOOK)
    return tmp / BOOK


def header_renamed(tmp: Path) -> Path:
    ledger(tmp / BOOK)
    column = COLUMN["受給者番号"]
    edit(tmp / BOOK, lambda ws: setattr(ws[f"{column}{HEADER_ROW}"], "value", "受給者証番号"))
    return tmp / BOOK


def password_protected(tmp: Path) -> Path:
    # Excel stores a password-protected .xlsx as an OLE compound file, not a zip.
    (tmp / BOOK).write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(4088))
    return tmp / BOOK


def truncated(tmp: Path) -> Path:
    ledger(tmp / "whole.xlsx")
    data = (tmp / "whole.xlsx").read_bytes()
    (tmp / BOOK).write_bytes(data[: len(data) // 2])  # a copy that stopped half way
    (tmp / "whole.xlsx").unlink()
    return tmp / BOOK


def damaged_header_area(tmp: Path) -> Path:
    ledger(tmp / BOOK)
    patch_part(tmp / BOOK, SHEET_XML, lambda xml: xml.replace(b'<row r="2"', b'<row r="2"<', 1))
    return tmp / BOOK


def missing(tmp: Path) -> Path:
    return tmp / "受付" / BOOK


def csv_file(tmp: Path) -> Path:
    path = tmp / "申請一覧.csv"
    path.write_text("氏名,受給者番号\n山田 太郎,0123456789\n", encoding="utf-8")
    return path


REFUSED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty workbook": (
        empty_sheet,
        f"{BOOK}: シート「申請一覧」に見出しの行が見つかりません。必要な見出し: "
        f"{'、'.join(REQUIRED)} (header row not found)",
    ),
    "header row missing": (
        header_deleted,
        f"{BOOK}: シート「申請一覧」に見出しの行が見つかりません。必要な見出し: "
        f"{'、'.join(REQUIRED)} (header row not found)",
    ),
    "wrong sheet": (
        only_sheet1,
        f"{BOOK}: シート「申請一覧」がありません (no such sheet). このブックのシート: Sheet1",
    ),
    "column renamed": (
        header_renamed,
        f"{BOOK}:3:1: 申請一覧: 3行目の見出しに 「受給者番号」（「受給者証番号」のことですか？）"
        " がありません。列の名前が変わっていないか確認してください (missing header column)",
    ),
    "password-protected": (
        password_protected,
        f"{BOOK}: パスワード付きのブック、または古い形式（.xls）のブックは読めません。"
        "パスワードを外して .xlsx 形式で保存し直してください (encrypted or legacy .xls workbook)",
    ),
    "truncated zip": (
        truncated,
        f"{BOOK}: Excelブックとして読めません。ファイルが壊れていないか確認してください"
        " (not a readable .xlsx: BadZipFile)",
    ),
    "damaged sheet above the data": (
        damaged_header_area,
        f"{BOOK}: Excelブックとして読めません。ファイルが壊れていないか確認してください"
        " (not a readable .xlsx: ParseError)",
    ),
    "input not found": (
        missing,
        "{path}: 入力ファイルまたはフォルダが見つかりません。パスを確認してください"
        " (input not found)",
    ),
    "csv": (
        csv_file,
        "{path}: このワークフローはこの種類のファイルを読みません（読める形式: .xlsx, .xlsm, .pdf）"
        " (this workflow does not read this file type)",
    ),
}


@pytest.mark.parametrize(("make", "expected"), REFUSED.values(), ids=list(REFUSED))
def test_refused_before_anything_runs(
    tmp_path: Path,
    welfare_env: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    expected: str,
) -> None:
    path = make(tmp_path)
    assert refused(capsys, welfare_env, path) == [expected.format(path=path)]


LOCKED = (
    f"{BOOK}: ファイルを開けません。Excelで開いたままになっていないか確認し、閉じてから"
    "やり直してください (file is locked or not readable)"
)


@pytest.mark.parametrize("seam", ["Path.open", "load_workbook"])
def test_a_workbook_locked_by_excel_is_refused(
    tmp_path: Path,
    welfare_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    seam: str,
) -> None:
    """On Windows a workbook Excel holds open can raise PermissionError when read.

    The lock is a Windows share mode with no Linux equivalent, and these tests run as root, for
    whom ``chmod 000`` locks nothing: so the two calls that open the file are faked, for that
    one path only.
    """
    path = tmp_path / BOOK
    ledger(path)
    locked = path.resolve()

    def deny(opened: object) -> None:
        if Path(str(opened)).resolve() == locked:
            raise PermissionError(13, "Permission denied", str(opened))

    if seam == "Path.open":
        real_open = Path.open

        def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
            deny(self)
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", path_open)
    else:

        def load(filename: Any, *args: Any, **kwargs: Any) -> Any:
            deny(filename)
            return load_workbook(filename, *args, **kwargs)

        monkeypatch.setattr("framework.steps.excel.load_workbook", load)

    assert refused(capsys, welfare_env, path) == [LOCKED]


def test_a_workbook_locked_after_the_check_is_one_bad_input_item(
    tmp_path: Path,
    welfare_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Opened in Excel between the check and the reading (faked as above): no crash, no rows."""
    path = tmp_path / BOOK
    ledger(path)
    locked = path.resolve()
    real_open = Path.open
    opened: list[Path] = []

    def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.resolve() == locked:
            opened.append(self)
            if len(opened) > 1:  # the check opened it; reading the items does not
                raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", path_open)
    seen = dry_run(capsys, welfare_env, path)

    message = LOCKED.removeprefix(f"{BOOK}: ")
    assert seen.code == ExitCode.ITEMS_FAILED
    assert seen.items() == [(BOOK, None, "bad_input", message)]
    assert f"入力不備 {BOOK}: {message}" in seen.lines


# -- bad cells: that row is a bad-input item, the others go on ---------------------------------


def test_a_2mb_cell_makes_its_row_bad_input(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / BOOK
    rows = ledger(path)
    row = rows[2]
    edit(path, lambda ws: setattr(ws[f"{COLUMN['備考']}{row}"], "value", "HUGE-CELL"))
    # openpyxl refuses to write more than Excel's 32,767 characters; other programs do not
    huge = "あ" * 700_000  # 2.1 MB in UTF-8
    patch_part(path, SHEET_XML, lambda xml: xml.replace(b"HUGE-CELL", huge.encode()))

    seen = dry_run(capsys, welfare_env, path)

    message = "備考（K列）: セルの文字数が多すぎます（700,000文字） (cell too long)"
    assert seen.code == ExitCode.ITEMS_FAILED
    assert [(src, r) for src, r, _status, _msg in seen.items()] == [(BOOK, r) for r in rows]
    assert seen.bad() == [(BOOK, row, message)]
    assert f"入力不備 {BOOK} {row}行目: {message}" in seen.lines
    assert huge[:1000] not in seen.out + seen.err  # the cell itself is never echoed


@pytest.mark.parametrize("error", ["#REF!", "#SPILL!"])
def test_a_formula_error_makes_its_row_bad_input(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str], error: str
) -> None:
    """The cell holds the error as Excel saves it: ``<c t="e"><v>#REF!</v></c>``.

    #SPILL! (Microsoft 365) is not one of openpyxl's error codes: it reads as plain text, and
    used to be entered into the system as the 受給者番号... or as someone's name.
    """
    path = tmp_path / BOOK
    rows = ledger(path)
    row = rows[1]

    def break_cell(ws: Any) -> None:
        cell = ws[f"{COLUMN['受給者番号']}{row}"]
        cell.value = error
        cell.data_type = "e"

    edit(path, break_cell)
    with zipfile.ZipFile(path) as archive:  # what the reader will see
        assert f't="e"><v>{error}</v>'.encode() in archive.read(SHEET_XML)

    seen = dry_run(capsys, welfare_env, path)

    message = (
        f"受給者番号（F列）: セルにエラー値 {error} があります。数式を確認してください"
        " (formula error in cell)"
    )
    assert seen.code == ExitCode.ITEMS_FAILED
    assert len(seen.items()) == len(rows)
    assert seen.bad() == [(BOOK, row, message)]
    assert f"入力不備 {BOOK} {row}行目: {message}" in seen.lines


def test_a_sheet_damaged_below_the_header_keeps_the_rows_read_so_far(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad block in the middle of the sheet (a disk or copy error) is found while reading.

    Damage within the first 30 rows is found when the header row is looked for: the run is
    refused (see "damaged sheet above the data"). Below them it shows only while the items are
    read, and the run may already have entered the rows before it.
    """
    path = tmp_path / BOOK
    rows = ledger(path, count=40)
    broken = rows[30]
    tag = f'<row r="{broken}"'.encode()
    patch_part(path, SHEET_XML, lambda xml: xml.replace(tag, tag + b"<", 1))

    seen = dry_run(capsys, welfare_env, path)

    message = (
        f"{broken}行目から先を読めません。ファイルが壊れていないか確認し、残りの行は直したブックで"
        "やり直してください (workbook damaged from this row on: ParseError)"
    )
    assert seen.code == ExitCode.ITEMS_FAILED
    assert seen.items() == [
        *[(BOOK, r, "pending", "") for r in rows[:30]],
        (BOOK, broken, "bad_input", message),
    ]
    assert f"入力不備 {BOOK} {broken}行目: {message}" in seen.lines


# -- workbooks that look wrong but are read in full --------------------------------------------


@pytest.mark.parametrize("dimension", ["A1", "A1:K10"])
def test_a_wrong_used_range_from_another_program_loses_no_rows(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str], dimension: str
) -> None:
    """Some exporters write a wrong ``<dimension>``; read-only openpyxl stopped there silently."""
    path = tmp_path / BOOK
    rows = ledger(path, count=20)
    assert rows[-1] > 10
    patch_part(
        path,
        SHEET_XML,
        lambda xml: re.sub(
            rb'<dimension ref="[^"]+"', f'<dimension ref="{dimension}"'.encode(), xml
        ),
    )
    seen = dry_run(capsys, welfare_env, path)
    assert seen.code == ExitCode.OK, seen.err
    assert seen.items() == [(BOOK, r, "pending", "") for r in rows]


def test_a_sheet_name_with_a_stray_space_is_found(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """「申請一覧 」 would be refused with 「申請一覧 」のことですか？, which looks the same."""
    path = tmp_path / BOOK
    rows = ledger(path)
    edit(path, lambda ws: setattr(ws, "title", f"{SHEET_NAME} "))
    seen = dry_run(capsys, welfare_env, path)
    assert seen.code == ExitCode.OK, seen.err
    assert seen.items() == [(BOOK, r, "pending", "") for r in rows]


# -- PDF forms: one PDF is one item ------------------------------------------------------------


def test_a_pdf_of_another_form_names_every_missing_label(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = other_form_pdf(tmp_path / "住所変更届.pdf")
    seen = dry_run(capsys, welfare_env, path)
    message = " / ".join(
        f"{name}（ラベル「{name}」）: PDFにこのラベルが見つかりません。様式が違わないか確認して"
        "ください (label not found in the PDF)"
        for name in REQUIRED
    )
    assert seen.code == ExitCode.ITEMS_FAILED
    assert seen.bad() == [("住所変更届.pdf", None, message)]
    assert f"入力不備 住所変更届.pdf: {message}" in seen.lines


def test_a_scanned_pdf_says_so_and_nothing_else(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the real reason: not also "氏名: 必須項目が空です" and so on for every field."""
    path = tmp_path / "申請書_スキャン.pdf"
    write_scanned_pdf(path)
    seen = dry_run(capsys, welfare_env, path)
    assert seen.code == ExitCode.ITEMS_FAILED
    assert seen.bad() == [("申請書_スキャン.pdf", None, NO_TEXT)]
    assert f"入力不備 申請書_スキャン.pdf: {NO_TEXT}" in seen.lines


def test_a_folder_with_a_workbook_a_good_and_a_scanned_pdf(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "受付"
    folder.mkdir()
    workbook = shutil.copy(SAMPLE_DIR / "applications.xlsx", folder)
    expected = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))
    alone = dry_run(capsys, welfare_env, Path(workbook)).items()
    # the sample workbook's own bad row(s) (令和6年13月1日), and only those
    assert [(src, row) for src, row, status, _ in alone if status != "pending"] == [
        (bad["file"], bad["row"]) for bad in expected["bad_rows"]
    ]
    write_pdf_application(folder / "申請書_001.pdf", generate_applicants(1, seed=5)[0])
    write_scanned_pdf(folder / "申請書_002.pdf")

    seen = dry_run(capsys, welfare_env, folder)

    assert seen.code == ExitCode.ITEMS_FAILED
    assert seen.items() == [
        *alone,
        ("申請書_001.pdf", None, "pending", ""),
        ("申請書_002.pdf", None, "bad_input", NO_TEXT),
    ]


# -- folders -----------------------------------------------------------------------------------


def test_excel_lock_file_next_to_the_workbook_is_ignored(
    tmp_path: Path, welfare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel writes ``~$name.xlsx`` (its owner's name, 165 bytes) while the workbook is open."""
    folder = tmp_path / "受付"
    folder.mkdir()
    rows = ledger(folder / "applications.xlsx")
    owner = b"\x06kakari".ljust(54, b" ") + "kakari".encode("utf-16-le")
    (folder / "~$applications.xlsx").write_bytes(owner.ljust(165, b"\x00"))

    seen = dry_run(capsys, welfare_env, folder)

    assert seen.code == ExitCode.OK, seen.err
    assert seen.items() == [("applications.xlsx", r, "pending", "") for r in rows]
    assert "~$" not in seen.out + seen.err
