"""PDF (pdfplumber): application forms as items (one PDF = one item), fields and tables as steps.

As an item source (``items: {pdf: {}}``) each PDF form becomes one item: every field is looked up
by its label (``label:`` in the field, default the field name). A form without a text layer, or
one missing a label, becomes a bad-input item naming the file and the label; the run goes on.

The functions here return the *raw* text of a form (全角数字, 和暦, 20時間 and all); turning it
into clean values is the normaliser's job. Every call opens the PDF once, inside ``with``
blocks, so no file handle outlives the call.

Limits worth knowing: only the page content is read, so values typed into fillable form fields
(AcroForm) that were never flattened are not seen; scanned PDFs without an OCR text layer are
refused with :class:`PdfReadError` (:attr:`PdfProblem.NO_TEXT`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError
from pdfplumber.utils.exceptions import PdfminerException
from pydantic import BaseModel, ConfigDict

from framework.context import StepContext, Target
from framework.errors import ApplicationError
from framework.items import FieldProblem, ItemsSpec, RawRow
from framework.outcome import ItemOutcome
from framework.registry import ItemReader, Registry, SourceSpec, step
from framework.templating import Template


class PdfProblem(Enum):
    """Why a PDF could not be read."""

    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"
    NOT_PDF = "not_pdf"
    ENCRYPTED = "encrypted"
    NO_TEXT = "no_text"
    NO_PAGE = "no_page"


# problem -> (Japanese message with what to do, English message)
_MESSAGES: dict[PdfProblem, tuple[str, str]] = {
    PdfProblem.NOT_FOUND: (
        "ファイルが見つかりません。ファイル名と保存場所を確認してください。",
        "file not found; check the file name and folder",
    ),
    PdfProblem.UNREADABLE: (
        "ファイルを開けません。ほかのアプリで開いていないか、読み取りの権限があるかを"
        "確認してください。",
        "cannot open the file; close other programs using it and check the permissions",
    ),
    PdfProblem.NOT_PDF: (
        "PDFとして読み込めません（PDFではないか、ファイルが壊れています）。"
        "元のファイルをもう一度用意してください。",
        "not a PDF, or the file is corrupt; obtain the file again",
    ),
    PdfProblem.ENCRYPTED: (
        "パスワードで保護されたPDFは読み込めません。保護を解除したPDFを用意してください。",
        "the PDF is password-protected; provide a copy without the password",
    ),
    PdfProblem.NO_TEXT: (
        "文字情報のないPDFです（スキャン画像の可能性があります）。"
        "OCRしたPDFか、元の電子ファイルを用意してください。",
        "the PDF has no text layer, probably a scanned image; use an OCR'd PDF or the"
        " original electronic file",
    ),
    PdfProblem.NO_PAGE: (
        "ページが1枚もないPDFです。中身のあるPDFを用意してください。",
        "the PDF has no pages; provide the complete file",
    ),
}


class PdfReadError(Exception):
    """A PDF could not be read; the message says which file (and page) and what to do.

    The message is Japanese first, English in parentheses, for example::

        申請書.pdf: 文字情報のないPDFです（スキャン画像の可能性があります）。OCRしたPDFか、
        元の電子ファイルを用意してください。 (the PDF has no text layer ...)
    """

    def __init__(self, path: Path, problem: PdfProblem, page: int | None = None) -> None:
        self.path = path
        self.problem = problem
        self.page = page
        japanese, english = _MESSAGES[problem]
        if page is None:
            where, english_where = f"{path}", ""
        else:
            where, english_where = f"{path}（{page}ページ目）", f"page {page}: "
        self.reason = f"{japanese} ({english_where}{english})"
        if page is not None:
            self.reason = f"{page}ページ目: {self.reason}"
        super().__init__(f"{where}: {japanese} ({english_where}{english})")

    def __reduce__(self) -> tuple[type[PdfReadError], tuple[Path, PdfProblem, int | None]]:
        return (type(self), (self.path, self.problem, self.page))


# Keep blank characters as drawn, so a value reads "山田　太郎" (U+3000) as typed, not "山田 太郎".
_TABLE_SETTINGS: dict[str, object] = {"text_keep_blank_chars": True}


@dataclass
class _Content:
    """What one pass over a PDF collected."""

    tables: list[list[list[str | None]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _collect(path: Path, *, want_lines: bool) -> _Content:
    """Open ``path`` once and collect every table (and text line) of every page.

    Raises :class:`PdfReadError` for a missing or unreadable file, a file that is not a PDF or
    is corrupt, a password-protected PDF, a PDF without pages or one without any text.
    """
    path = Path(path)
    if not path.is_file():
        raise PdfReadError(path, PdfProblem.NOT_FOUND)
    content = _Content()
    has_text = False
    page_count = 0
    page_no: int | None = None
    try:
        # The stream is ours, so it is closed even if pdfplumber fails while closing.
        with path.open("rb") as stream, pdfplumber.open(stream) as pdf:
            page_count = len(pdf.pages)
            for page in pdf.pages:
                page_no = page.page_number
                if not has_text:
                    has_text = any(not char["text"].isspace() for char in page.chars)
                content.tables.extend(page.extract_tables(_TABLE_SETTINGS))
                if want_lines:
                    text = page.extract_text(keep_blank_chars=True) or ""
                    content.lines.extend(text.splitlines())
                page.close()
            page_no = None
    except FileNotFoundError as exc:  # deleted while we were reading
        raise PdfReadError(path, PdfProblem.NOT_FOUND) from exc
    except PermissionError as exc:
        raise PdfReadError(path, PdfProblem.UNREADABLE) from exc
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else None
        problem = PdfProblem.ENCRYPTED if isinstance(cause, PDFEncryptionError) else None
        raise PdfReadError(path, problem or PdfProblem.NOT_PDF, page_no) from exc
    except PDFEncryptionError as exc:
        raise PdfReadError(path, PdfProblem.ENCRYPTED, page_no) from exc
    except Exception as exc:
        # pdfminer raises many kinds of errors on damaged files (syntax, EOF, zlib, key, ...);
        # only pdfplumber calls run inside this block, so any of them means a damaged PDF.
        raise PdfReadError(path, PdfProblem.NOT_PDF, page_no) from exc
    if page_count == 0:
        raise PdfReadError(path, PdfProblem.NO_PAGE)
    if not has_text:
        raise PdfReadError(path, PdfProblem.NO_TEXT)
    return content


def _label_key(text: str) -> str:
    """The comparable form of a label: NFKC, all whitespace removed, no trailing colon."""
    return "".join(unicodedata.normalize("NFKC", text).split()).rstrip(":")


def _cell_text(cell: str | None) -> str:
    """A table cell as one line: None → "", lines joined with a space, stripped."""
    if cell is None:
        return ""
    return " ".join(part.strip() for part in cell.splitlines() if part.strip())


def _from_tables(
    tables: Sequence[Sequence[Sequence[str | None]]], keys: set[str]
) -> dict[str, str]:
    """First value of each label key found in the tables (see :func:`read_form_fields`)."""
    found: dict[str, str] = {}
    for table in tables:
        rows = [[_cell_text(cell) for cell in row] for row in table]
        for r, cells in enumerate(rows):
            cell_keys = [_label_key(cell) for cell in cells]
            for i, key in enumerate(cell_keys):
                if not cells[i] or key not in keys or key in found:
                    continue
                values: list[str] = []
                j = i + 1
                while j < len(cells) and not (cells[j] and cell_keys[j] in keys):
                    if cells[j]:
                        values.append(cells[j])
                    j += 1
                if j == i + 1 and r + 1 < len(rows):
                    # a heading row: the label stands right before another label (or is the
                    # last cell of the row), so its value is the cell below it
                    below = rows[r + 1][i] if i < len(rows[r + 1]) else ""
                    if below and _label_key(below) not in keys:
                        values.append(below)
                found[key] = " ".join(values)
    return found


def _split_label(line: str, key: str) -> str | None:
    """The value after ``key`` at the start of ``line``, or None if the line is not that label.

    The label may be spaced out (氏　　名) and must be followed by whitespace, a colon or the
    end of the line.
    """
    position = 0
    matched = 0
    while matched < len(key):
        if position >= len(line):
            return None
        char = line[position]
        position += 1
        if char.isspace():
            continue
        for normal in unicodedata.normalize("NFKC", char):
            if normal.isspace():
                continue
            if matched >= len(key) or key[matched] != normal:
                return None
            matched += 1
    rest = line[position:]
    if rest and not rest[0].isspace() and rest[0] not in ":：":
        return None
    return rest.strip().lstrip(":：").strip()


def _from_lines(lines: Sequence[str], keys: set[str]) -> dict[str, str]:
    """First value of each label key found at the start of a text line."""
    found: dict[str, str] = {}
    for line in lines:
        for key in sorted(keys - found.keys(), key=len, reverse=True):
            value = _split_label(line, key)
            if value is not None:
                found[key] = value
                break
    return found


def read_form_fields(path: Path, labels: Sequence[str]) -> dict[str, str]:
    """Read the value written next to each label of a PDF form, as raw text.

    Returns ``{label: value}`` for every label found; a label that is not found is absent, so
    the caller can report it. Values are stripped but otherwise raw (全角数字, 和暦, 20時間 ...).

    Labels are compared after Unicode NFKC, removing all whitespace and a trailing ``:`` or
    ``：``, so the label ``氏名`` matches ``氏　　名`` and ``氏名：`` on the form.

    Where a label is looked for, in this order:

    1. tables (every page, in order): a cell holding the label; its value is the following
       non-empty cells of the row, joined with a space, up to the next cell that is itself one
       of the requested labels (so a row ``氏名 | 山田 | 生年月日 | 昭和58年...`` gives both).
       Multi-line cell text is joined with a space. If the label has no value to its right
       because the next cell is another label (a heading row), the cell below is the value.
       A label whose value cell is empty is found with the value ``""``;
    2. text lines (every page, in order): a line that starts with the label, followed by
       whitespace or a colon: ``氏名：山田 太郎`` and ``氏　名  山田 太郎`` give
       ``山田 太郎``; a line holding only the label gives ``""``.

    Only the first match of a label counts: a later occurrence (say 氏名 of a second person,
    or a page-2 copy) is ignored. The PDF is opened once.

    Raises :class:`PdfReadError` if the file is missing, not a PDF or corrupt, encrypted,
    has no pages or has no text layer (a scan).
    """
    wanted: dict[str, list[str]] = {}
    for label in labels:
        key = _label_key(label)
        if key:
            wanted.setdefault(key, []).append(label)
    content = _collect(path, want_lines=True)
    keys = set(wanted)
    found = _from_tables(content.tables, keys)
    found.update(_from_lines(content.lines, keys - found.keys()))
    return {
        label: found[key]
        for key, originals in wanted.items()
        if key in found
        for label in originals
    }


def read_tables(path: Path) -> list[list[list[str]]]:
    """Every table of every page, in page order: tables → rows → cells (``""`` for no text).

    Cell text is as pdfplumber gives it (a multi-line cell keeps its newlines). Tables are
    found from the ruling lines of the page. Raises :class:`PdfReadError` like
    :func:`read_form_fields`.
    """
    content = _collect(path, want_lines=False)
    return [
        [["" if cell is None else cell for cell in row] for row in table]
        for table in content.tables
    ]


# -- item source -------------------------------------------------------------------------------


class PdfOptions(BaseModel):
    """How a workflow reads items from PDF forms (``items: {pdf: {}}``); no options yet."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class PdfReader:
    """One PDF form → one item."""

    def __init__(self, path: Path, shown: str, options: PdfOptions, spec: ItemsSpec) -> None:
        self.path = path
        self.shown = shown
        self.spec = spec

    def check(self) -> None:
        """Nothing to refuse up front: an unreadable form becomes a bad-input item."""

    def estimate(self) -> int | None:
        return 1

    def rows(self) -> Iterator[RawRow]:
        labels = {name: fspec.labels(name) for name, fspec in self.spec.fields.items()}
        wanted = [label for names in labels.values() for label in names]
        try:
            found = read_form_fields(self.path, wanted)
        except PdfReadError as exc:
            yield RawRow(self.shown, None, {}, {}, [exc.reason])
            return
        values: dict[str, object] = {}
        columns: dict[str, str] = {}
        problems: list[str | FieldProblem] = []
        for name, names in labels.items():
            columns[name] = f"ラベル「{names[0]}」"
            hit = next((found[label] for label in names if label in found), None)
            if hit is None:
                if self.spec.fields[name].required:
                    problems.append(
                        FieldProblem(
                            name,
                            columns[name],
                            "PDFにこのラベルが見つかりません。様式が違わないか確認してください"
                            " (label not found in the PDF)",
                        )
                    )
                continue
            values[name] = hit
        yield RawRow(self.shown, None, values, columns, problems)

    def write_results(self, outcomes: Sequence[ItemOutcome], out_dir: Path) -> Path | None:
        """PDFs get no copy; their results are in the run's 結果一覧.xlsx."""
        return None


def _open_reader(path: Path, shown: str, options: Any, spec: ItemsSpec) -> ItemReader:
    return PdfReader(path, shown, options, spec)


SOURCE = SourceSpec(
    name="pdf", suffixes=(".pdf",), options=PdfOptions, open=_open_reader, doc=__doc__ or ""
)


# -- steps -------------------------------------------------------------------------------------


class ReadFieldsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    """The PDF; relative paths are relative to the bot's folder."""
    labels: list[str]
    into: Target
    """Receives label → raw text for every label found."""


def _pdf_path(ctx: StepContext, template: Template) -> Path:
    return ctx.input_path(ctx.render(template))


@step("pdf.read_fields")
def read_fields(ctx: StepContext, args: ReadFieldsArgs) -> None:
    """PDF の項目を読み取る (read label/value fields of a PDF form).

    Read label/value fields of a PDF form into a variable (raw text, not normalised).

    ``- pdf.read_fields: {file: "{{ entry }}", labels: [氏名, 受給者番号], into: form}``
    """
    try:
        ctx.store(args.into, read_form_fields(_pdf_path(ctx, args.file), args.labels))
    except PdfReadError as exc:
        raise ApplicationError(exc.reason) from None


class ReadTablesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    into: Target
    """Receives every table: a list of tables, each a list of rows of cell texts."""


@step("pdf.read_tables")
def read_pdf_tables(ctx: StepContext, args: ReadTablesArgs) -> None:
    """PDF の表を読み取る (read the ruled tables of a PDF).

    Read every ruled table of a PDF into a variable (e.g. a list attached to a form).
    """
    try:
        ctx.store(args.into, read_tables(_pdf_path(ctx, args.file)))
    except PdfReadError as exc:
        raise ApplicationError(exc.reason) from None


def register(registry: Registry) -> None:
    """Add the PDF item source and steps to a registry."""
    registry.add_source(SOURCE)
    registry.add_all([read_fields, read_pdf_tables], pack="pdf")
