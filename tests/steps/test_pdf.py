"""Tests for reading PDF application forms (fields, tables, and the errors for bad files)."""

from __future__ import annotations

import gc
import json
import pickle
import random
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from framework.practice.forms import PDF_LABELS, write_scanned_pdf
from framework.steps.pdf import PdfProblem, PdfReadError, read_form_fields, read_tables

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "bots" / "welfare_entry" / "sample"
FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def _squash(text: str) -> str:
    """NFKC, hiragana as katakana, no whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)
    return "".join(text.split())


def _sample_pdfs() -> list[tuple[Path, dict[str, object]]]:
    """The committed PDFs with their expected records (the last three records, in order)."""
    records = json.loads((SAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))["records"]
    paths = sorted(SAMPLE_DIR.glob("申請書_2026-*.pdf"))
    assert len(paths) == 3
    return list(zip(paths, records[-3:], strict=True))


def _text_pdf(path: Path, lines: Sequence[str]) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, 11)
    for i, line in enumerate(lines):
        c.drawString(60, 780 - 22 * i, line)
    c.showPage()
    c.save()
    return path


def _table_pdf(path: Path, tables: Sequence[Sequence[Sequence[str]]]) -> Path:
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, 10),
            ("GRID", (0, 0), (-1, -1), 0.5, "black"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    story: list[object] = []
    for data in tables:
        table = Table([list(row) for row in data])
        table.setStyle(style)
        story += [table, Spacer(1, 30)]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


# --- the committed sample PDFs ---------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2])
def test_sample_pdf_fields_hold_the_expected_information(index: int) -> None:
    path, record = _sample_pdfs()[index]
    fields = read_form_fields(path, PDF_LABELS)
    assert set(fields) == set(PDF_LABELS)
    assert _squash(fields["氏名"]) == _squash(str(record["name"]))
    assert _squash(fields["フリガナ"]) == _squash(str(record["kana"]))
    assert _digits(fields["受給者番号"]) == record["recipient_no"]
    assert _digits(fields["支給量"]) == str(record["hours"])
    assert fields["サービス種類"] == record["service_type"]
    assert fields["障害支援区分"] == record["support_level"]
    assert fields["備考"] == record["notes"]
    # dates are raw (wareki or abbreviated), but month and day are there
    for label, key in (("生年月日", "birth_date"), ("開始日", "start_date")):
        _year, month, day = (int(part) for part in str(record[key]).split("-"))
        assert re.search(rf"\D{month}\D+{day}\D*$", unicodedata.normalize("NFKC", fields[label]))
    assert all(value == value.strip() for value in fields.values())


def test_sample_pdf_values_are_messy_but_raw() -> None:
    fields = [read_form_fields(path, PDF_LABELS) for path, _ in _sample_pdfs()]
    assert all(not f["受給者番号"].isascii() for f in fields)  # full-width digits
    assert all(f["支給量"].endswith("時間") for f in fields)
    assert all(re.match(r"(昭和|平成)", f["生年月日"]) for f in fields)


def test_read_tables_gives_the_form_table() -> None:
    path, record = _sample_pdfs()[0]
    tables = read_tables(path)
    assert len(tables) == 1
    (table,) = tables
    assert len(table) == 10 and all(len(row) == 2 for row in table)
    assert all(isinstance(cell, str) for row in table for cell in row)
    labels = ["".join(row[0].split()) for row in table]
    assert labels == ["氏名", "フリガナ", "生年月日", "住所", *PDF_LABELS[3:]]
    assert _digits(table[4][1]) == record["recipient_no"]


def test_missing_label_is_absent_and_labels_keep_their_spelling() -> None:
    path, record = _sample_pdfs()[1]
    fields = read_form_fields(path, ["氏　名：", "電話番号", "受給者番号", "  "])
    assert set(fields) == {"氏　名：", "受給者番号"}
    assert _squash(fields["氏　名："]) == _squash(str(record["name"]))


# --- forms written in a test -----------------------------------------------------------------


def test_labels_in_text_lines(tmp_path: Path) -> None:
    path = _text_pdf(
        tmp_path / "text.pdf",
        [
            "障害福祉サービス支給申請書",
            "氏名変更の届出は別紙によること",
            "氏名：山田　太郎",
            "フリガナ ヤマダ タロウ",
            "生 年 月 日　昭和58年4月12日",
            "受給者番号:0123456789",
            "支給量",
            "備　　考：　通院等介助を含む　",
            "氏名：二番目の人",
        ],
    )
    labels = ["氏名", "フリガナ", "生年月日", "受給者番号", "支給量", "備考", "住所"]
    fields = read_form_fields(path, labels)
    assert fields == {
        "氏名": "山田　太郎",
        "フリガナ": "ヤマダ タロウ",
        "生年月日": "昭和58年4月12日",
        "受給者番号": "0123456789",
        "支給量": "",
        "備考": "通院等介助を含む",
    }
    assert read_tables(path) == []


def test_tables_win_over_text_and_rows_can_hold_two_pairs(tmp_path: Path) -> None:
    path = _table_pdf(
        tmp_path / "tables.pdf",
        [
            [
                ["氏　　名", "山田　太郎", "生年月日", "S58.4.12"],
                ["備　　考", "通院等介助を含む\n月2回まで", "", ""],
                ["住所", "", "", ""],
            ],
            [["受給者番号", "支給量", "開始日"], ["0123456789", "20時間", "R8.12.1"]],
            [["", "申請者", ""], ["", "フリガナ：", "ヤマダ タロウ"]],
        ],
    )
    labels = ["氏名", "生年月日", "備考", "住所", "受給者番号", "支給量", "開始日", "フリガナ"]
    fields = read_form_fields(path, labels)
    assert fields == {
        "氏名": "山田　太郎",
        "生年月日": "S58.4.12",
        "備考": "通院等介助を含む 月2回まで",
        "住所": "",
        "受給者番号": "0123456789",
        "支給量": "20時間",
        "開始日": "R8.12.1",
        "フリガナ": "ヤマダ タロウ",
    }
    tables = read_tables(path)
    assert len(tables) == 3
    assert tables[0][1][:2] == ["備　　考", "通院等介助を含む\n月2回まで"]
    assert tables[0][2] == ["住所", "", "", ""]


def test_text_is_read_from_every_page(tmp_path: Path) -> None:
    path = tmp_path / "two_pages.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, 11)
    c.drawString(60, 780, "氏名：山田　太郎")
    c.showPage()
    c.setFont(FONT, 11)
    c.drawString(60, 780, "氏名：佐藤　花子")
    c.drawString(60, 750, "備考：2ページ目")
    c.showPage()
    c.save()
    assert read_form_fields(path, ["氏名", "備考"]) == {"氏名": "山田　太郎", "備考": "2ページ目"}


# --- files that cannot be read ---------------------------------------------------------------


def _raises(problem: PdfProblem, path: Path, *texts: str) -> PdfReadError:
    for read in (lambda p: read_form_fields(p, ["氏名"]), read_tables):
        with pytest.raises(PdfReadError) as info:
            read(path)
        assert info.value.problem is problem
        assert info.value.path == path
        message = str(info.value)
        assert message.startswith(f"{path}: ")
        assert re.search(r" \([a-z][^()]*(\([^()]*\))?[^()]*\)$", message), message  # English
        for text in texts:
            assert text in message
    return info.value


def test_scanned_pdf_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    write_scanned_pdf(path)
    _raises(
        PdfProblem.NO_TEXT,
        path,
        "文字情報のないPDFです（スキャン画像の可能性があります）。"
        "OCRしたPDFか、元の電子ファイルを用意してください。",
        "no text layer",
    )


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(random.Random(0).randbytes(4096))
    error = _raises(PdfProblem.NOT_PDF, path, "PDFとして読み込めません", "corrupt")
    assert error.__cause__ is not None


def test_truncated_pdf(tmp_path: Path) -> None:
    path = tmp_path / "truncated.pdf"
    path.write_bytes(_sample_pdfs()[0][0].read_bytes()[:1500])
    _raises(PdfProblem.NOT_PDF, path, "ファイルが壊れています")


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    c = canvas.Canvas(str(path), encrypt="secret")
    c.drawString(100, 700, "secret")
    c.showPage()
    c.save()
    _raises(PdfProblem.ENCRYPTED, path, "パスワードで保護されたPDF", "password-protected")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    _raises(PdfProblem.NOT_FOUND, tmp_path / "nai.pdf", "ファイルが見つかりません", "not found")
    _raises(PdfProblem.NOT_FOUND, tmp_path, "ファイルが見つかりません")


def test_pdf_without_pages(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    _raises(PdfProblem.NO_PAGE, path, "ページが1枚もないPDF")


def test_page_is_named_when_known(tmp_path: Path) -> None:
    error = PdfReadError(tmp_path / "a.pdf", PdfProblem.NOT_PDF, page=2)
    assert str(error).startswith(f"{tmp_path / 'a.pdf'}（2ページ目）: PDFとして読み込めません")
    assert "(page 2: not a PDF" in str(error)


def test_error_survives_pickling(tmp_path: Path) -> None:
    error = PdfReadError(tmp_path / "a.pdf", PdfProblem.ENCRYPTED, 3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.problem, copy.page, str(copy)) == (
        error.path,
        error.problem,
        error.page,
        str(error),
    )


def test_no_file_handle_leaks(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(2000))
    secret = tmp_path / "secret.pdf"
    c = canvas.Canvas(str(secret), encrypt="secret")
    c.showPage()
    c.save()
    good = _sample_pdfs()[0][0]
    calls: list[Callable[[], object]] = [
        lambda: read_form_fields(good, PDF_LABELS),
        lambda: read_tables(good),
        lambda: read_tables(broken),
        lambda: read_form_fields(secret, ["氏名"]),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in calls:
            try:
                call()
            except PdfReadError:
                pass
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
