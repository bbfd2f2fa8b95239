"""Work items: the fields a workflow declares, and turning raw input rows into clean items.

A workflow's ``items`` section says which fields each item has (with a type that decides how the
value is normalised), which fields form the item's key, and how each kind of input file is read
(``excel:``, ``pdf:`` and any source a pack registers). Reading is streaming: items are produced one
by one, so a 100,000-row workbook never sits in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from framework import normalize
from framework.errors import InvalidError, Problem
from framework.registry import ItemReader, Registry, SourceSpec


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_as_list)]

FieldType = Literal["text", "kana", "digits", "number", "integer", "date", "choice"]


_OPTION_TYPES: dict[str, tuple[FieldType, ...]] = {
    "length": ("digits",),
    "min": ("number", "integer"),
    "max": ("number", "integer"),
    "unit": ("number", "integer"),
    "max_length": ("text", "kana"),
    "choices": ("choice",),
}
"""The field options that only some types use."""


class FieldSpec(BaseModel):
    """One field of an item, e.g. ``受給者番号: {type: digits, length: 10, pii: true}``.

    Types and what they accept:

    * ``text``: any text, trimmed (names stay exactly as typed otherwise);
    * ``kana``: フリガナ; hiragana and half-width kana become full-width katakana;
    * ``digits``: a number that keeps leading zeros (受給者番号); full-width digits, spaces and
      hyphens are accepted; ``length`` checks the number of digits;
    * ``number`` / ``integer``: 支給量 etc.; full-width digits and a ``unit`` suffix are accepted;
    * ``date``: Excel dates, 2026/4/1, 令和8年4月1日, R8.4.1 and other wareki forms;
    * ``choice``: one of ``choices`` (full-width letters are accepted; ``aliases`` map other
      spellings to a choice).
    """

    model_config = ConfigDict(extra="forbid")

    type: FieldType = "text"
    header: Names | None = None
    """Column header(s) in a workbook; default: the field name. A list accepts any of them."""
    label: Names | None = None
    """Label(s) on a PDF form; default: the field name."""
    required: bool = True
    pii: bool = False
    """Personal information: masked in logs and the run log."""
    length: int | None = Field(default=None, ge=1)
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    choices: list[str] | None = None
    aliases: dict[str, str] = Field(default_factory=dict)
    max_length: int | None = Field(default=None, ge=1)
    """The most characters a text or kana value may have (after trimming and conversion)."""

    @model_validator(mode="after")
    def _check_type_options(self) -> FieldSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError("type: choice には choices を書いてください (choices required)")
        if self.choices is None and self.aliases:
            raise ValueError("aliases は type: choice でだけ使えます (aliases need choices)")
        bad = [v for v in self.aliases.values() if self.choices and v not in self.choices]
        if bad:
            raise ValueError(f"aliases の行き先が choices にありません: {bad} (alias target)")
        # An option the type does not use would be ignored without a word: refuse it.
        for option, types in _OPTION_TYPES.items():
            if getattr(self, option) is not None and self.type not in types:
                raise ValueError(
                    f"{option} は type: {' / '.join(types)} でだけ使えます"
                    f" ({option} needs {' or '.join(types)})"
                )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min（{_num(self.min)}）が max（{_num(self.max)}）より大きくなっています"
                " (min is above max)"
            )
        return self

    def headers(self, name: str) -> list[str]:
        return self.header or [name]

    def labels(self, name: str) -> list[str]:
        return self.label or [name]

    def normalize(self, raw: object) -> object:
        """Return the clean value, or raise NormalizeError with a Japanese reason."""
        if _is_empty(raw):
            if self.required:
                raise normalize.NormalizeError("必須項目が空です (required value is empty)")
            return None
        if self.type in ("text", "kana"):
            text = normalize.clean_text(raw)
            if self.type == "kana":
                text = normalize.to_katakana(text)
            if self.max_length is not None and len(text) > self.max_length:
                raise normalize.NormalizeError(
                    f"{self.max_length}文字以内にしてください（{len(text)}文字です） (too long)"
                )
            return text
        if self.type == "digits":
            return normalize.parse_digits(raw, self.length)
        if self.type in ("number", "integer"):
            number = normalize.parse_number(raw, integer=self.type == "integer", unit=self.unit)
            self._check_range(number, raw)
            return number
        if self.type == "date":
            return normalize.parse_date(raw)
        return self._choice(raw)

    def _check_range(self, number: float, raw: object) -> None:
        if self.min is not None and number < self.min:
            raise normalize.NormalizeError(
                f"{_num(self.min)}以上にしてください: '{raw}' (below minimum)"
            )
        if self.max is not None and number > self.max:
            raise normalize.NormalizeError(
                f"{_num(self.max)}以下にしてください: '{raw}' (above maximum)"
            )

    def _choice(self, raw: object) -> str:
        text = normalize.to_halfwidth(normalize.clean_text(raw))
        assert self.choices is not None
        for choice in self.choices:
            if text == normalize.to_halfwidth(choice):
                return choice
        for alias, target in self.aliases.items():
            if text == normalize.to_halfwidth(alias):
                return target
        shown = "、".join(self.choices)
        raise normalize.NormalizeError(
            f"選択肢にない値です: '{normalize.clean_text(raw)}'（{shown} のどれか） (not a choice)"
        )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_empty(raw: object) -> bool:
    if raw is None:
        return True
    return isinstance(raw, str) and not raw.strip(" \t\r\n\u3000\xa0")


@dataclass
class ItemsSpec:
    """The ``items`` section of a workflow."""

    fields: dict[str, FieldSpec]
    key: list[str]
    sources: dict[str, BaseModel]
    """Options per source name, e.g. ``{"excel": ExcelOptions(sheet="申請一覧")}``."""

    @property
    def pii_fields(self) -> set[str]:
        return {name for name, spec in self.fields.items() if spec.pii}


@dataclass
class RawRow:
    """One row as an input file holds it, before normalisation."""

    source: str
    """The file name shown to staff."""
    row: int | None
    """The worksheet row number (None for one-item files such as a PDF form)."""
    values: dict[str, object]
    """Raw value per field; a field missing from the file is absent."""
    columns: dict[str, str] = field(default_factory=dict)
    """Where each field was found, for messages: ``"E列"``, ``"ラベル「受給者番号」"``."""
    problems: list[str | FieldProblem] = field(default_factory=list)
    """Problems the reader found (a PDF with no text layer, a #REF! cell...)."""


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of one item could not be used."""

    field: str
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.field}（{self.column}）" if self.column else self.field
        return f"{where}: {self.reason}"


@dataclass
class Item:
    """One unit of work: a row of a workbook or one PDF form, normalised."""

    seq: int
    source: str
    row: int | None
    values: dict[str, object]
    problems: list[str | FieldProblem] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)
    personal: dict[str, str] = field(default_factory=dict)
    """Text forms of this item's personal values (raw and clean) → field name, for masking."""

    @property
    def where(self) -> str:
        """Where staff find the item: ``applications.xlsx 12行目`` or ``申請書_001.pdf``."""
        return f"{self.source} {self.row}行目" if self.row is not None else self.source

    @property
    def is_bad(self) -> bool:
        return bool(self.problems)

    def problem_text(self) -> str:
        return " / ".join(str(p) for p in self.problems)

    def key(self, spec: ItemsSpec) -> tuple[str, ...]:
        return tuple(_key_text(self.values.get(name)) for name in spec.key)


def _key_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_FIRST_WAREKI = dt.date(1868, 1, 25)


def _personal_texts(value: object) -> set[str]:
    """The ways a personal value may be written in a message, so that all of them are masked."""
    texts = set()
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        # 2026/4/1 built by hand: "%-m" is glibc only and raises ValueError on Windows
        y, m, d = value.year, value.month, value.day
        texts.update(
            {
                value.isoformat(),
                value.strftime("%Y/%m/%d"),
                value.strftime("%Y%m%d"),
                value.strftime("%Y.%m.%d"),
                value.strftime("%Y年%m月%d日"),
                f"{y}/{m}/{d}",
                f"{y}-{m}-{d}",
                f"{y}.{m}.{d}",
                f"{y}年{m}月{d}日",
            }
        )
        if value >= _FIRST_WAREKI:
            long, short = normalize.format_wareki(value), normalize.format_wareki(value, short=True)
            era, rest = short[0], short[1:].split(".")[0]
            texts.update({long, short, long.replace("元年", "1年"), f"{era}{rest}/{m}/{d}"})
            texts.add(f"{era}{int(rest):02d}.{m:02d}.{d:02d}")
    elif value is not None:
        for text in (str(value).strip(), normalize.clean_text(value)):
            if text:
                texts.add(text)
                # a name as a system may show it: without spaces, or each part alone
                parts = text.replace("\u3000", " ").split()
                if len(parts) > 1:
                    texts.update({"".join(parts), " ".join(parts), "\u3000".join(parts)})
                    texts.update(parts)
    return texts


def normalize_row(raw: RawRow, spec: ItemsSpec, seq: int) -> Item:
    """Normalise every field of a raw row; problems make the item a bad-input item.

    A field the reader already found a problem with (a #REF! cell, a label missing from a PDF)
    is not normalised again, so it is reported once, for what is really wrong with it. Nor is a
    field the reader has no value for because it could not read the item at all (a scanned PDF):
    "required value is empty" for every field would hide the one real reason.
    """
    item = Item(seq=seq, source=raw.source, row=raw.row, values={})
    item.problems.extend(raw.problems)
    flagged = {p.field for p in raw.problems if isinstance(p, FieldProblem)}
    unread = any(not isinstance(p, FieldProblem) for p in raw.problems)
    for name, fspec in spec.fields.items():
        value = raw.values.get(name)
        if fspec.pii:
            item.personal.update(dict.fromkeys(_personal_texts(value), name))
        if name in flagged or (unread and name not in raw.values):
            item.values[name] = None
            continue
        try:
            clean = fspec.normalize(value)
        except normalize.NormalizeError as exc:
            item.problems.append(FieldProblem(name, raw.columns.get(name, ""), exc.reason))
            clean = None
        item.values[name] = clean
        if fspec.pii:
            item.personal.update(dict.fromkeys(_personal_texts(clean), name))
    return item


@dataclass
class OpenInput:
    """One input file with the reader that reads it."""

    path: Path
    shown: str
    reader: ItemReader


def _candidates(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.is_file() and not p.name.startswith(("~$", ".")) and p.suffix
        )
    return [path]


def open_inputs(
    path: Path, spec: ItemsSpec, registry: Registry, *, shown: str | None = None
) -> list[OpenInput]:
    """Resolve an input (a file, or a folder of files) into readers, checking each one.

    Raises :class:`InvalidError` (nothing runs) for a missing path, a file type the workflow does
    not read, or a file that cannot be used at all (no such sheet, header row missing...).
    """
    label = shown or str(path)
    if not path.exists():
        raise InvalidError.one(
            None,
            "",
            "入力ファイルまたはフォルダが見つかりません。パスを確認してください (input not found)",
            file=label,
        )
    files = _candidates(path)
    opened: list[OpenInput] = []
    problems: list[Problem] = []
    for file in files:
        source: SourceSpec | None = registry.source_for(file)
        if source is None or source.name not in spec.sources:
            if not path.is_dir():
                readable = ", ".join(_suffixes(spec, registry)) or "(なし)"
                problems.append(
                    Problem(
                        str(file) if path.is_dir() else label,
                        0,
                        0,
                        "",
                        "このワークフローはこの種類のファイルを読みません"
                        f"（読める形式: {readable}） (this workflow does not read this file type)",
                    )
                )
            continue
        name = file.name
        reader = source.open(file, name, spec.sources[source.name], spec)
        try:
            reader.check()
        except InvalidError as exc:
            problems.extend(exc.problems)
            continue
        opened.append(OpenInput(file, name, reader))
    if problems:
        raise InvalidError(problems)
    if not opened:
        readable = ", ".join(_suffixes(spec, registry)) or "(なし)"
        raise InvalidError.one(
            None,
            "",
            f"読み込めるファイルがありません（読める形式: {readable}） (no input files found)",
            file=label,
        )
    return opened


def _suffixes(spec: ItemsSpec, registry: Registry) -> list[str]:
    return [s for name in spec.sources for s in registry.sources[name].suffixes]


def iter_items(inputs: Sequence[OpenInput], spec: ItemsSpec) -> Iterator[Item]:
    """Normalised items from every input, numbered from 1 in reading order."""
    seq = 0
    for entry in inputs:
        for raw in entry.reader.rows():
            seq += 1
            yield normalize_row(raw, spec, seq)


def estimate_total(inputs: Sequence[OpenInput]) -> int | None:
    total = 0
    for entry in inputs:
        count = entry.reader.estimate()
        if count is None:
            return None
        total += count
    return total
