"""Many plain rows written straight into a saved workbook's sheet (openpyxl is too slow for them).

openpyxl builds a cell object and an XML element for every cell: about 10 µs each, 12 s for the
detail sheet of a year of 50,000 runs. A report's detail sheet holds only plain values, so its
rows are written here as SpreadsheetML text (inline strings, numbers, dates as serial numbers) into
a sheet that openpyxl laid out (header, column widths, filter, print settings) with one template
row whose cell styles (number formats) every written row reuses.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.etree import ElementTree

from openpyxl.utils import get_column_letter

Value = str | int | float | dt.datetime | None

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_EPOCH = dt.datetime(1899, 12, 30)
_ESCAPES: dict[int, str | None] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_ESCAPES |= {c: None for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]}
"""Markup escaped, and the characters XML 1.0 cannot hold dropped, in one ``str.translate``."""


def _sheet_part(book: zipfile.ZipFile, title: str) -> str:
    """The zip member of the sheet called ``title`` (through workbook.xml and its rels)."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rel_id = next(
        s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == title
    )
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target", "") for r in rels if r.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _text(value: str) -> str:
    value = value.translate(_ESCAPES)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{value}</t></is>'
    return f"<is><t>{value}</t></is>"


def serial(value: dt.datetime) -> float:
    """A date and time as Excel stores it: days since 1899-12-30 (wall-clock, no zone)."""
    return (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400


class _Rows:
    """Turns rows of values into ``<row>`` elements for one sheet's columns and cell styles.

    Everything that is the same for every row is prepared once; texts that repeat (department,
    bot, status) are escaped once.
    """

    def __init__(self, letters: Sequence[str], styles: dict[str, str]) -> None:
        self.openings = [f'<c r="{letter}' for letter in letters]
        self.texts = [f'{styles.get(letter, "")} t="inlineStr">' for letter in letters]
        self.numbers = [f'{styles.get(letter, "")} t="n"><v>' for letter in letters]
        self.escaped: dict[str, str] = {}

    def _text(self, value: str) -> str:
        found = self.escaped.get(value)
        if found is None:
            found = _text(value)
            if len(self.escaped) < 1_000:  # run ids never repeat: keep the cache small
                self.escaped[value] = found
        return found

    def xml(self, number: int, values: Sequence[Value]) -> str:
        at = f'{number}"'
        parts = [f'<row r="{number}">']
        append = parts.append
        text = self._text
        for opening, as_text, as_number, value in zip(
            self.openings, self.texts, self.numbers, values, strict=True
        ):
            kind = value.__class__
            if isinstance(value, str):
                append(opening + at + as_text + text(value) + "</c>")
            elif kind is int or kind is float:
                append(opening + at + as_number + str(value) + "</v></c>")
            elif value is None:
                continue
            elif isinstance(value, dt.datetime):
                append(opening + at + as_number + str(serial(value)) + "</v></c>")
            else:
                raise TypeError(f"cannot write {kind.__name__} into a cell")
        append("</row>")
        return "".join(parts)


def fill_sheet(path: Path, title: str, rows: Iterable[Sequence[Value]]) -> int:
    """Replace row 2 (the template) of sheet ``title`` in the workbook at ``path`` by ``rows``.

    Each written cell takes the style of the template cell in its column. The sheet's dimension,
    its filter and the filter's defined name are widened to the rows written. Returns how many
    rows were written.
    """
    with zipfile.ZipFile(path) as book:
        part = _sheet_part(book, title)
        sheet = book.read(part).decode("utf-8")
    head, _, rest = sheet.partition("<sheetData>")
    data, _, tail = rest.partition("</sheetData>")
    header = re.search(r'<row r="1"[^>]*>.*?</row>', data)
    template = re.search(r'<row r="2"[^>]*>.*?</row>', data)
    if header is None or template is None:
        raise ValueError(f"sheet {title!r} has no header and template row")
    styles = dict(re.findall(r'<c r="([A-Z]+)2"((?: s="\d+")?)', template.group(0)))
    width = len(re.findall(r"<c ", header.group(0)))
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    writer = _Rows(letters, styles)
    with tempfile.TemporaryDirectory(prefix="kakari-xlsx-") as scratch:
        body = Path(scratch) / "rows.xml"
        count = 0
        with body.open("w", encoding="utf-8") as out:
            for count, values in enumerate(rows, start=1):
                out.write(writer.xml(count + 1, values))
        last = f"{letters[-1]}{count + 1}"
        head = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:{last}"', head)
        tail = re.sub(r'<autoFilter ref="[^"]*"', f'<autoFilter ref="A1:{last}"', tail)
        rebuilt = Path(scratch) / "book.xlsx"
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
        ):
            for info in source.infolist():
                if info.filename == part:
                    with target.open(info.filename, "w", force_zip64=True) as stream:
                        stream.write(f"{head}<sheetData>{header.group(0)}".encode())
                        with body.open("rb") as rows_file:
                            shutil.copyfileobj(rows_file, stream, 1 << 20)
                        stream.write(f"</sheetData>{tail}".encode())
                elif info.filename == "xl/workbook.xml":
                    text = source.read(info).decode("utf-8")
                    text = _widen_filter_name(text, title, last)
                    target.writestr(info.filename, text)
                else:
                    target.writestr(info, source.read(info))
        shutil.move(rebuilt, path)
    return count


def _widen_filter_name(workbook: str, title: str, last: str) -> str:
    quoted = title.replace("'", "''")
    column = last.rstrip("0123456789")
    row = last[len(column) :]
    return re.sub(
        rf"(<definedName name=\"_xlnm._FilterDatabase\"[^>]*>)'{re.escape(quoted)}'![^<]*",
        lambda m: f"{m.group(1)}'{quoted}'!$A$1:${column}${row}",
        workbook,
    )
