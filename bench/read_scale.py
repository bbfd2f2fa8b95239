"""Reading at scale: a 100,000-row workbook is read and normalised streaming, under 300 MB peak.

Writes a messy welfare list (title and author rows above the header, a hidden memo column, blank
rows, wareki dates, full-width digits, hiragana and half-width kana, 20時間; one row in 1,000 with
an impossible date) stored as Excel stores it (a shared-strings table, a ``<dimension>``), then
measures two readers:

* baseline: openpyxl read-only, ``iter_rows(values_only=True)``, no normalisation;
* kakari: ``open_inputs`` + ``iter_items`` with the welfare workflow's ``items`` (header search,
  hidden columns, normalisation of every field, bad-input items).

Each step runs in its own child process and reports its ``ru_maxrss`` (the whole process:
interpreter, imports, openpyxl's shared-strings table). On Linux a child's ``ru_maxrss`` starts
from its parent's RSS at fork/exec, so this parent imports nothing heavy and generates nothing
itself.

    .venv/bin/python bench/read_scale.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEAK_LIMIT_MB = 300
BAD_EVERY = 1_000
MEMOS = ("電話確認済", "要再確認", "ｺﾋﾟｰ済", "#N/A", "FAX受付", "済", None, None, None)


def write_messy_workbook(path: Path, rows: int, seed: int = 1) -> int:
    """Write ``rows`` applications in write-only mode; return how many have a bad 生年月日."""
    import random

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    # _mess_plan and _row_cells are the samples' own renderings of a row (wareki, full-width
    # digits, kana forms, blank rows): the benchmark reads the mess of the sample workbook.
    from framework.practice.applicants import generate_applicants
    from framework.practice.samples import (
        AUTHOR_LINE,
        BAD_BIRTH_TEXT,
        COLUMNS,
        SHEET_NAME,
        TITLE,
        _mess_plan,
        _row_cells,
    )

    people = generate_applicants(rows, seed)
    plan = _mess_plan(rows, seed)
    memo_rng = random.Random(f"memo-{seed}")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_NAME)
    ws.column_dimensions[get_column_letter(COLUMNS.index("内部メモ") + 1)].hidden = True
    ws.append([TITLE])
    ws.append([AUTHOR_LINE])
    ws.append(list(COLUMNS))
    last_row = 3
    birth = COLUMNS.index("生年月日") - 1  # the cells start at 氏名 (no No.)
    bad = 0
    for number, (person, style) in enumerate(zip(people, plan, strict=True), start=1):
        for _ in range(style.blank_before):
            ws.append([])
        values = [cell.value for cell in _row_cells(person, style, memo_rng.choice(MEMOS) or "")]
        if number % BAD_EVERY == 0:
            values[birth] = BAD_BIRTH_TEXT
            bad += 1
        ws.append([number, *values])
        last_row += 1 + style.blank_before
    wb.save(path)
    as_excel_saves_it(path, f"A1:{get_column_letter(len(COLUMNS))}{last_row}")
    return bad


_INLINE = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>'
)
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def as_excel_saves_it(path: Path, used_range: str) -> None:
    """Text in one shared-strings table and the used range in ``<dimension>``, as Excel does.

    openpyxl's write-only mode writes text inline and no ``<dimension>``. The table is what a
    real workbook makes a reader hold in memory; without the dimension openpyxl parses the whole
    sheet once more on every open. Either would make both figures wrong.
    """
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    index: dict[bytes, int] = {}

    def shared(match: re.Match[bytes]) -> bytes:
        number = index.setdefault(match[3], len(index))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (match[1], match[2], number)

    sheet = "xl/worksheets/sheet1.xml"
    xml = _INLINE.sub(shared, parts[sheet])
    parts[sheet] = xml.replace(b"</sheetPr>", f'</sheetPr><dimension ref="{used_range}"/>'.encode())
    strings = b"".join(b'<si><t xml:space="preserve">%s</t></si>' % text for text in index)
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="%d" uniqueCount="%d">%s</sst>' % (len(index), len(index), strings)
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/></Types>'.encode(),
    )
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdSharedStrings" Type="{_SST_REL}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode(),
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


# -- the steps, each in a child process ---------------------------------------------------------


def generate(path: Path, rows: int) -> dict[str, float]:
    started = time.perf_counter()
    bad = write_messy_workbook(path, rows)
    return {"seconds": time.perf_counter() - started, "bad": bad}


def measure_baseline(path: Path) -> dict[str, float]:
    from openpyxl import load_workbook

    started = time.perf_counter()
    wb = load_workbook(path, read_only=True, data_only=True)
    rows = 0
    for _values in wb["申請一覧"].iter_rows(values_only=True):
        rows += 1
    wb.close()
    return {"seconds": time.perf_counter() - started, "sheet_rows": rows}


def measure_kakari(path: Path) -> dict[str, float]:
    from framework.items import iter_items, open_inputs
    from framework.loader import Project, load_bot
    from framework.registry import Registry

    registry = Registry.default()
    spec = load_bot("welfare_entry", registry, Project(REPO)).workflow.items
    assert spec is not None
    started = time.perf_counter()
    items = bad = 0
    for item in iter_items(open_inputs(path, spec, registry), spec):
        items += 1
        bad += item.is_bad
    return {"seconds": time.perf_counter() - started, "items": items, "bad": bad}


def child(step: str, path: Path, rows: int) -> int:
    if step == "generate":
        result = generate(path, rows)
    elif step == "baseline":
        result = measure_baseline(path)
    else:
        result = measure_kakari(path)
    result["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps(result))
    return 0


def run_child(step: str, path: Path, rows: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", step, str(path), str(rows)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--child", nargs=3, metavar=("STEP", "PATH", "ROWS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], Path(args.child[1]), int(args.child[2]))
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    rows = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "申請一覧_大量.xlsx"
        made = run_child("generate", path, rows)
        size_mb = path.stat().st_size / 1e6
        print(f"workbook:  {rows:,} rows, {size_mb:.1f} MB, generated in {made['seconds']:.1f} s")
        baseline = run_child("baseline", path, rows)
        kakari = run_child("kakari", path, rows)

    for name, result in (
        ("baseline (openpyxl only)", baseline),
        ("kakari (read+normalise)", kakari),
    ):
        seconds = result["seconds"]
        print(
            f"{name:25} {rows:>9,} rows  {seconds:7.2f} s  {rows / seconds:>9,.0f} rows/s"
            f"  peak {result['peak_kib'] / 1024:6.1f} MB"
        )
    print(f"ratio kakari / baseline: {kakari['seconds'] / baseline['seconds']:.2f}x time")
    items, bad, expected_bad = int(kakari["items"]), int(kakari["bad"]), int(made["bad"])
    print(f"items: {items:,} (bad input: {bad:,}, expected {expected_bad:,})")
    peak_mb = kakari["peak_kib"] / 1024
    counted = items == rows and bad == expected_bad
    verdict = "PASS" if peak_mb < PEAK_LIMIT_MB and counted else "FAIL"
    print(
        f"{verdict}: kakari peak {peak_mb:.1f} MB (limit {PEAK_LIMIT_MB} MB),"
        f" every row read: {'yes' if counted else 'NO'}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
