"""Excel (openpyxl): workbooks as item sources, and steps that read, write and fill workbooks.

As an item source (``items: {excel: {...}}``) a worksheet is read row by row by *header names*,
streaming in read-only mode: the header row is found automatically (a merged title above it is
fine), blank rows are skipped, and hidden columns are used only when no visible column has the
same header. After the run a results copy ``<name>_結果.xlsx`` is written into the run folder with
処理結果 / メッセージ / result columns added. The input workbook is never modified.

Steps: ``excel.read_rows``, ``excel.find_row`` (cross-checks), ``excel.write_rows`` (collect a list
into a new workbook), ``excel.append_row`` and ``excel.fill_template`` (notices from a template).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict, Field

from framework import normalize
from framework.context import StepContext, Target
from framework.errors import ApplicationError, InvalidError, Problem
from framework.items import FieldProblem, ItemsSpec, RawRow
from framework.outcome import ItemOutcome
from framework.registry import ItemReader, Registry, SourceSpec, step
from framework.resultbook import result_keys, status_fill, style_header
from framework.templating import Expression, Template

HEADER_SCAN_ROWS = 30
EXCEL_ERRORS = frozenset(
    {"#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NUM!", "#NULL!"}
    # Microsoft 365 (dynamic arrays, data types, linked data): read as plain text by openpyxl
    | {"#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
    | {"#GETTING_DATA", "#PYTHON!"}
)
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DAMAGED = (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError, KeyError, ValueError)
"""What zipfile, zlib, the XML parser and openpyxl raise on a damaged part of a workbook."""
_LOCKED = (
    "ファイルを開けません。Excelで開いたままになっていないか確認し、閉じてから"
    "やり直してください (file is locked or not readable)"
)


class ExcelOptions(BaseModel):
    """How a workflow reads items from workbooks (``items: {excel: {...}}``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    sheet: str | None = None
    """The worksheet name; default: the first visible sheet."""
    header_row: int | None = Field(default=None, ge=1)
    """The row of the column headers; default: found automatically in the first 30 rows."""
    results: bool = True
    """Write a results copy of the workbook into the run folder after the run."""


def header_text(value: object) -> str:
    """A header cell as compared with field headers: width-folded, without any spaces."""
    text = normalize.to_halfwidth(normalize.clean_text(value))
    return "".join(text.split())


def _open_problem(shown: str, message: str) -> InvalidError:
    return InvalidError.one(None, "", message, file=shown)


def open_workbook(path: Path, shown: str, *, read_only: bool = True, data_only: bool = True) -> Any:
    """Open a workbook, turning every way it can fail into a message staff understand.

    ``data_only``: formulas read as their last calculated values (for reading); pass False to
    keep the formulas themselves (for a workbook that is modified and saved again).
    """
    try:
        with path.open("rb") as handle:
            signature = handle.read(8)
    except FileNotFoundError:
        raise _open_problem(shown, "ファイルが見つかりません (file not found)") from None
    except PermissionError:
        raise _open_problem(shown, _LOCKED) from None
    if signature.startswith(b"\xd0\xcf\x11\xe0"):
        raise _open_problem(
            shown,
            "パスワード付きのブック、または古い形式（.xls）のブックは読めません。パスワードを外して"
            " .xlsx 形式で保存し直してください (encrypted or legacy .xls workbook)",
        )
    try:
        return load_workbook(path, read_only=read_only, data_only=data_only, keep_links=False)
    except PermissionError:
        raise _open_problem(shown, _LOCKED) from None
    except (*_DAMAGED, InvalidFileException, OSError) as exc:
        raise _damaged(shown, exc) from None


def _damaged(shown: str, exc: BaseException) -> InvalidError:
    return _open_problem(
        shown,
        "Excelブックとして読めません。ファイルが壊れていないか確認してください"
        f" (not a readable .xlsx: {type(exc).__name__})",
    )


def pick_sheet(wb: Any, wanted: str | None, shown: str) -> Any:
    if wanted is None:
        for ws in wb.worksheets:
            if getattr(ws, "sheet_state", "visible") == "visible":
                return ws
        return wb.worksheets[0]
    if wanted in wb.sheetnames:
        return wb[wanted]
    # 「申請一覧 」 (a stray space) or full-width letters: compared as headers are, if unambiguous
    same = [name for name in wb.sheetnames if header_text(name) == header_text(wanted)]
    if len(same) == 1:
        return wb[same[0]]
    names = "、".join(wb.sheetnames)
    close = difflib.get_close_matches(wanted, wb.sheetnames, n=1, cutoff=0.4)
    hint = f"「{close[0]}」のことですか？ " if close else ""
    raise _open_problem(
        shown,
        f"シート「{wanted}」がありません (no such sheet). {hint}このブックのシート: {names}",
    )


def hidden_columns(ws: Any) -> set[int]:
    """Column numbers marked hidden, read from the sheet's ``<cols>`` before its data.

    Read-only worksheets do not expose column settings, so the part of the sheet XML that
    precedes the cell data is parsed here; on any surprise we assume nothing is hidden.
    """
    hidden: set[int] = set()
    try:
        source = ws._get_source()  # openpyxl's own accessor for the sheet XML stream
    except Exception:
        return hidden
    try:
        for _event, element in ElementTree.iterparse(source, events=("start",)):
            if element.tag == f"{_SHEET_NS}sheetData":
                break
            if element.tag == f"{_SHEET_NS}col" and element.get("hidden") in ("1", "true"):
                first, last = int(element.get("min", "0")), int(element.get("max", "0"))
                hidden.update(range(first, min(last, 16_384) + 1))
    except (ElementTree.ParseError, ValueError):
        return set()
    finally:
        source.close()
    return hidden


class HeaderMap:
    """Where each field's column is, found from the header row."""

    def __init__(self, row: int, columns: dict[str, int]) -> None:
        self.row = row
        self.columns = columns

    def letter(self, field: str) -> str:
        return f"{get_column_letter(self.columns[field])}列"


def find_headers(
    rows: Sequence[tuple[int, Sequence[object]]],
    spec: ItemsSpec,
    hidden: set[int],
    shown: str,
    sheet: str,
) -> HeaderMap:
    """Pick the header row (the one matching most fields) and map fields to columns."""
    wanted = {
        name: {header_text(h) for h in fspec.headers(name)} for name, fspec in spec.fields.items()
    }
    best: tuple[int, int, dict[str, list[int]]] | None = None
    for number, values in rows:
        found: dict[str, list[int]] = {}
        for col, value in enumerate(values, start=1):
            text = header_text(value)
            if not text:
                continue
            for name, headers in wanted.items():
                if text in headers:
                    found.setdefault(name, []).append(col)
        if found and (best is None or len(found) > best[1]):
            best = (number, len(found), found)
    required = [n for n, f in spec.fields.items() if f.required]
    if best is None:
        listed = "、".join(spec.fields[n].headers(n)[0] for n in required)
        raise _open_problem(
            shown,
            f"シート「{sheet}」に見出しの行が見つかりません。必要な見出し: {listed}"
            " (header row not found)",
        )
    number, _, found = best
    missing = [n for n in required if n not in found]
    if missing:
        header_cells = [header_text(v) for v in dict(rows)[number] if header_text(v)]
        parts = []
        for name in missing:
            expected = spec.fields[name].headers(name)[0]
            close = difflib.get_close_matches(header_text(expected), header_cells, n=1, cutoff=0.4)
            hint = f"（「{close[0]}」のことですか？）" if close else ""
            parts.append(f"「{expected}」{hint}")
        raise InvalidError(
            [
                Problem(
                    shown,
                    number,
                    1,
                    sheet,
                    f"{number}行目の見出しに {'、'.join(parts)} がありません。列の名前が変わって"
                    f"いないか確認してください (missing header column)",
                )
            ]
        )
    columns: dict[str, int] = {}
    for name, cols in found.items():
        visible = [c for c in cols if c not in hidden]
        columns[name] = (visible or cols)[0]
    return HeaderMap(number, columns)


class ExcelReader:
    """Reads items from one worksheet, streaming (see :class:`ExcelOptions`)."""

    def __init__(self, path: Path, shown: str, options: ExcelOptions, spec: ItemsSpec) -> None:
        self.path = path
        self.shown = shown
        self.options = options
        self.spec = spec
        self.headers: HeaderMap | None = None
        self.sheet_title = ""
        self._estimate: int | None = None

    def _scan(self, ws: Any) -> HeaderMap:
        if self.options.header_row is not None:
            start = self.options.header_row
            rows = list(ws.iter_rows(min_row=start, max_row=start, values_only=True))
            scanned = [(start, rows[0] if rows else ())]
        else:
            scanned = [
                (number, values)
                for number, values in enumerate(
                    ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True), start=1
                )
            ]
        return find_headers(scanned, self.spec, hidden_columns(ws), self.shown, ws.title)

    def check(self) -> None:
        wb = open_workbook(self.path, self.shown)
        try:
            ws = pick_sheet(wb, self.options.sheet, self.shown)
            self.sheet_title = ws.title
            last_row = ws.max_row  # from the sheet's <dimension>: good for an estimate only
            # Some programs write a wrong <dimension> (e.g. "A1"); read-only openpyxl would stop
            # there without a word, so every read streams to the real end of the sheet.
            ws.reset_dimensions()
            self.headers = self._scan(ws)
            if last_row is not None and last_row >= self.headers.row:
                self._estimate = last_row - self.headers.row
        except _DAMAGED as exc:
            raise _damaged(self.shown, exc) from None
        finally:
            wb.close()

    def estimate(self) -> int | None:
        return self._estimate

    def rows(self) -> Iterator[RawRow]:
        if self.headers is None:
            self.check()
        assert self.headers is not None
        columns = self.headers.columns
        letters = {name: self.headers.letter(name) for name in columns}
        try:
            wb = open_workbook(self.path, self.shown)
        except InvalidError as exc:  # locked, moved or replaced since the run started
            yield RawRow(self.shown, None, {}, {}, [p.message for p in exc.problems])
            return
        number = self.headers.row
        try:
            ws = wb[self.sheet_title]
            ws.reset_dimensions()  # see check()
            last = max(columns.values())
            for number, values in enumerate(
                ws.iter_rows(min_row=self.headers.row + 1, max_col=last, values_only=True),
                start=self.headers.row + 1,
            ):
                raw: dict[str, object] = {}
                for name, col in columns.items():
                    value = values[col - 1] if col - 1 < len(values) else None
                    raw[name] = value
                if all(_blank(v) for v in raw.values()):
                    continue
                problems: list[str | FieldProblem] = []
                for name, value in list(raw.items()):
                    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                        problems.append(
                            FieldProblem(
                                name,
                                letters[name],
                                f"セルにエラー値 {value.strip()} があります。数式を確認してください"
                                " (formula error in cell)",
                            )
                        )
                        raw[name] = None
                    elif isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                        problems.append(
                            FieldProblem(
                                name,
                                letters[name],
                                f"セルの文字数が多すぎます（{len(value):,}文字） (cell too long)",
                            )
                        )
                        raw[name] = None
                yield RawRow(self.shown, number, raw, dict(letters), problems)
        except _DAMAGED as exc:
            # The rows read so far stay good; the rest of the sheet is one bad-input item.
            yield RawRow(
                self.shown,
                number + 1,
                {},
                {},
                [
                    f"{number + 1}行目から先を読めません。ファイルが壊れていないか確認し、"
                    "残りの行は直したブックでやり直してください"
                    f" (workbook damaged from this row on: {type(exc).__name__})"
                ],
            )
        finally:
            wb.close()

    def write_results(self, outcomes: Sequence[ItemOutcome], out_dir: Path) -> Path | None:
        """Copy the workbook with 処理結果 / result columns / メッセージ added at the right."""
        if not self.options.results or self.headers is None:
            return None
        keep_vba = self.path.suffix.lower() == ".xlsm"
        wb = load_workbook(self.path, keep_vba=keep_vba, keep_links=False)
        ws: Worksheet = wb[self.sheet_title]
        keys = result_keys(outcomes)
        header_row = self.headers.row
        first = ws.max_column + 1
        names = ["処理結果", *keys, "メッセージ"]
        for offset, name in enumerate(names):
            ws.cell(row=header_row, column=first + offset, value=name)
        style_header(ws, header_row, first, first + len(names) - 1)
        for offset, width in enumerate([12, *[16] * len(keys), 50]):
            ws.column_dimensions[get_column_letter(first + offset)].width = width
        for outcome in outcomes:
            if outcome.row is None:
                continue
            status_cell: Cell = ws.cell(row=outcome.row, column=first, value=outcome.status.label)
            fill = status_fill(outcome.status)
            if fill is not None:
                status_cell.fill = fill
            for offset, key in enumerate(keys, start=1):
                ws.cell(row=outcome.row, column=first + offset, value=outcome.results.get(key))
            ws.cell(row=outcome.row, column=first + len(names) - 1, value=outcome.message or None)
        suffix = ".xlsm" if keep_vba else ".xlsx"
        target = out_dir / f"{Path(self.shown).stem}_結果{suffix}"
        wb.save(target)
        wb.close()
        return target


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip(" \t\r\n\u3000"))


def _open_reader(path: Path, shown: str, options: Any, spec: ItemsSpec) -> ItemReader:
    return ExcelReader(path, shown, options, spec)


SOURCE = SourceSpec(
    name="excel",
    suffixes=(".xlsx", ".xlsm"),
    options=ExcelOptions,
    open=_open_reader,
    doc=__doc__ or "",
)


# -- steps -------------------------------------------------------------------------------------


def _cell_value(value: object) -> object:
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_table(
    path: Path, shown: str, sheet: str | None, header_row: int | None
) -> list[dict[str, object]]:
    """Rows of a sheet as mappings from header text to cell value (blank rows skipped)."""
    wb = open_workbook(path, shown)
    try:
        ws = pick_sheet(wb, sheet, shown)
        ws.reset_dimensions()  # see ExcelReader.check()
        rows = ws.iter_rows(values_only=True)
        headers: list[str] = []
        out: list[dict[str, object]] = []
        for number, values in enumerate(rows, start=1):
            if not headers:
                texts = [normalize.clean_text(v) for v in values]
                is_header = (
                    (header_row == number) if header_row else sum(1 for t in texts if t) >= 2
                )
                if is_header:
                    headers = texts
                continue
            if all(_blank(v) for v in values):
                continue
            out.append({h: _cell_value(v) for h, v in zip(headers, values, strict=False) if h})
        return out
    finally:
        wb.close()


class ReadRowsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    """The workbook; relative paths are relative to the bot's folder."""
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    """Default: the first row with at least two filled cells."""
    into: Target


def _workbook_path(ctx: StepContext, template: Template) -> tuple[Path, str]:
    path = ctx.input_path(ctx.render(template))
    return path, path.name


def _as_application_error(exc: InvalidError) -> ApplicationError:
    return ApplicationError("; ".join(str(p) for p in exc.problems))


@step("excel.read_rows")
def read_rows(ctx: StepContext, args: ReadRowsArgs) -> None:
    """シートの行をすべて読み込む (read every row of a sheet).

    Read every row of a sheet into a variable: a list of rows, each header → value.

    ``- excel.read_rows: {file: 台帳.xlsx, sheet: 一覧, into: ledger}`` then
    ``for_each: {items: ledger, as: row, ...}``. The workbook is not modified.
    """
    path, shown = _workbook_path(ctx, args.file)
    try:
        ctx.store(args.into, read_table(path, shown, args.sheet, args.header_row))
    except InvalidError as exc:
        raise _as_application_error(exc) from None


class FindRowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    match: dict[str, Template]
    """Header → value that must be equal (compared as text, spaces and width ignored)."""
    into: Target
    """Receives the first matching row (header → value), or nothing if none matches."""
    required: bool = False
    """If true and no row matches, the item is refused with a message."""


def _comparable(value: object) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "".join(normalize.to_halfwidth(normalize.clean_text(value)).split())


def _table_header(rows: Sequence[Mapping[str, object]], header: str, shown: str) -> str:
    """The header of a table that ``header`` names, compared as item headers are (spaces, width).

    A header the table does not have is a mistake in the workflow, not an item the ledger
    refuses: it is an :class:`ApplicationError` naming the headers there are.
    """
    if not rows:
        return header
    headers = list(rows[0])
    wanted = header_text(header)
    for candidate in headers:
        if header_text(candidate) == wanted:
            return candidate
    close = difflib.get_close_matches(header, headers, n=1, cutoff=0.4)
    hint = f"「{close[0]}」のことですか？ " if close else ""
    raise ApplicationError(
        f"{shown} に見出し「{header}」がありません (no such column). {hint}"
        f"見出し: {'、'.join(headers)}"
    )


@step("excel.find_row")
def find_row(ctx: StepContext, args: FindRowArgs) -> None:
    """別のブックから一致する行を探す (find the matching row of another workbook).

    Find the row of another workbook that matches the item, to cross-check two sources.

    Example: compare the application with the ledger::

        - excel.find_row:
            file: 受給者台帳.xlsx
            match: {受給者番号: "{{ item.受給者番号 }}"}
            into: ledger_row
            required: true
        - fail: 台帳の氏名と一致しません
          when: ledger_row.氏名 != item.氏名

    The workbook is read once per run and kept in memory for the following items.
    """
    path, shown = _workbook_path(ctx, args.file)
    key = f"excel.table:{path}:{args.sheet}:{args.header_row}"

    def load() -> list[dict[str, object]]:
        try:
            return read_table(path, shown, args.sheet, args.header_row)
        except InvalidError as exc:
            raise _as_application_error(exc) from None

    rows = ctx.resource(key, load, lambda _rows: None)
    wanted = {
        _table_header(rows, header, shown): _comparable(ctx.render(value))
        for header, value in args.match.items()
    }
    for row in rows:
        if all(_comparable(row.get(h)) == v for h, v in wanted.items()):
            ctx.store(args.into, row)
            return
    if args.required:
        from framework.errors import BusinessError

        raise BusinessError(f"{shown} に一致する行がありません (no matching row)")
    ctx.store(args.into, None)


class WriteRowsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    """The new workbook, in the run folder unless the path is absolute."""
    rows: Expression
    """A list of rows (each header → value), e.g. from ``browser.read_table``."""
    sheet: str = "一覧"
    columns: list[str] | None = None
    """Headers in order; default: the keys of the first row."""


def _write_header(ws: Worksheet, headers: Sequence[str]) -> None:
    ws.append(list(headers))
    for index, _ in enumerate(headers, start=1):
        ws.cell(row=1, column=index).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(index)].width = 16
    ws.freeze_panes = "A2"


@step("excel.write_rows")
def write_rows(ctx: StepContext, args: WriteRowsArgs) -> None:
    """行の一覧を新しいブックに書く (write rows into a new workbook).

    Write a list of rows into a new workbook (e.g. a list collected from a web system).

    ``- excel.write_rows: {file: 申請一覧_{{ run.date }}.xlsx, rows: rows}``
    """
    rows = ctx.evaluate(args.rows)
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise ApplicationError(f"rows には行のリストを渡してください: {args.rows} (expected rows)")
    headers = args.columns or (list(rows[0]) if rows else [])
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = args.sheet
    _write_header(ws, headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(ctx.output_path(ctx.render(args.file)))


class AppendRowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: Template
    """The workbook to build, in the run folder unless absolute; created on first use."""
    sheet: str = "一覧"
    values: dict[str, Template]
    """Header → value for the new row."""


@step("excel.append_row")
def append_row(ctx: StepContext, args: AppendRowArgs) -> None:
    """ブックに1行追加する (add a row to a workbook the run builds).

    Add one row to a workbook the run builds up (saved when the run ends).

    ``- excel.append_row: {file: 通知一覧.xlsx, values: {受付番号: "{{ results.受付番号 }}"}}``
    """
    path = ctx.output_path(ctx.render(args.file))
    headers = list(args.values)

    def create() -> Workbook:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = args.sheet
        _write_header(ws, headers)
        return wb

    wb = ctx.resource(f"excel.append:{path}", create, lambda book: book.save(path))
    if args.sheet in wb.sheetnames:
        ws = wb[args.sheet]
    else:
        ws = wb.create_sheet(args.sheet)
        _write_header(ws, headers)
    ws.append([ctx.render(args.values[h]) for h in headers])


class FillTemplateArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    template: Template
    """The template workbook (e.g. a notice form); relative to the bot's folder. Not modified."""
    save_as: Template
    """The filled copy, in the run folder unless absolute: ``通知/{{ results.受付番号 }}.xlsx``."""
    sheet: str | None = None
    cells: dict[str, Template]
    """Cell (``B3``) → value."""


_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})")
MAX_COLUMN = 16_384  # XFD
MAX_ROW = 1_048_576


def _template_cell(ws: Worksheet, ref: str) -> Cell:
    """The cell ``ref`` (``B3``) of a template, or an ApplicationError saying what is wrong."""
    match = _CELL_REF.fullmatch(ref.strip().upper())
    column = column_index_from_string(match[1]) if match else 0
    row = int(match[2]) if match else 0
    if not (1 <= column <= MAX_COLUMN and 1 <= row <= MAX_ROW):
        raise ApplicationError(
            f"セル番地が正しくありません: {ref}（B3 のように1つのセルを書いてください） (bad cell)"
        )
    cell = ws.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        merged = next(r for r in ws.merged_cells.ranges if cell.coordinate in r)
        raise ApplicationError(
            f"{ref} は結合されたセル {merged.coord} の一部です。左上のセル"
            f" {merged.start_cell.coordinate} を指定してください (cell inside a merged range)"
        )
    return cell


@step("excel.fill_template")
def fill_template(ctx: StepContext, args: FillTemplateArgs) -> None:
    """ひな形のセルに書き込んで保存する (fill a template workbook, save a copy).

    Fill cells of a template workbook and save a copy (notices, cover letters).

    ``- excel.fill_template: {template: 決定通知書.xlsx, save_as: "通知/{{ item.受給者番号 }}.xlsx",
    cells: {B3: "{{ item.氏名 }} 様", F2: "{{ today | wareki }}"}}``. Formatting, print settings
    and images of the template are kept.
    """
    path, shown = _workbook_path(ctx, args.template)
    try:
        wb = open_workbook(path, shown, read_only=False, data_only=False)
    except InvalidError as exc:
        raise _as_application_error(exc) from None
    try:
        ws = pick_sheet(wb, args.sheet, shown) if args.sheet else wb.active
        for ref, value in args.cells.items():
            _template_cell(ws, ref).value = ctx.render(value)
        wb.save(ctx.output_path(ctx.render(args.save_as)))
    except InvalidError as exc:
        raise _as_application_error(exc) from None
    finally:
        wb.close()


def register(registry: Registry) -> None:
    """Add the Excel item source and steps to a registry."""
    registry.add_source(SOURCE)
    registry.add_all([read_rows, find_row, write_rows, append_row, fill_template], pack="excel")
