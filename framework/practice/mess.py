"""How people write values in back-office files: wareki dates, kana forms, digit widths, ...

Each function renders a clean value the way staff type it into a ledger or a form. They are the
inverse of :mod:`framework.normalize`: whatever they produce, the bots must read back as the clean
value.
"""

from __future__ import annotations

import unicodedata
from datetime import date

# Eras newest first: (first day, kanji name, letter used in abbreviations such as H6.11.3).
_ERAS: tuple[tuple[date, str, str], ...] = (
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
)


def _era(day: date) -> tuple[str, str, int]:
    """(era kanji, era letter, year of the era) of ``day``."""
    for first, kanji, letter in _ERAS:
        if day >= first:
            return kanji, letter, day.year - first.year + 1
    raise ValueError(f"no Japanese era for {day}")


def wareki(day: date) -> str:
    """The date in Japanese-era kanji form: 昭和58年4月12日, 平成元年1月8日."""
    kanji, _letter, year = _era(day)
    year_text = "元" if year == 1 else str(year)
    return f"{kanji}{year_text}年{day.month}月{day.day}日"


def wareki_abbrev(day: date) -> str:
    """The date in the abbreviated era form of forms and ledgers: S58.4.12, H6.11.3, R8.12.1."""
    _kanji, letter, year = _era(day)
    return f"{letter}{year}.{day.month}.{day.day}"


def slash_date(day: date) -> str:
    """The date as typed with slashes and no leading zeros: 1983/4/12."""
    return f"{day.year}/{day.month}/{day.day}"


def to_hiragana(text: str) -> str:
    """Katakana to hiragana (ヤマダ → やまだ); other characters unchanged."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


# Full-width katakana in the order of the half-width block U+FF66..U+FF9D.
_HALF_KANA_ORDER = (
    "ヲァィゥェォャュョッー"
    "アイウエオカキクケコサシスセソタチツテト"
    "ナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
_TO_HALF_KANA: dict[str, str] = {
    full: chr(0xFF66 + i) for i, full in enumerate(_HALF_KANA_ORDER)
} | {"\u3099": "\uff9e", "\u309a": "\uff9f", "\u3000": " ", "・": "･"}


def to_halfwidth_kana(text: str) -> str:
    """Full-width katakana to half-width (ヤマダ　タロウ → ﾔﾏﾀﾞ ﾀﾛｳ), voiced marks split off."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(_TO_HALF_KANA.get(c, c) for c in decomposed)


def to_fullwidth_digits(text: str) -> str:
    """ASCII digits to full-width digits (0123 → ０１２３); other characters unchanged."""
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in text)


def hyphenated(number: str) -> str:
    """A 10-digit number grouped 4-3-3 with hyphens, as on cards: 0123456789 → 0123-456-789."""
    return f"{number[:4]}-{number[4:7]}-{number[7:]}"


def with_hours_unit(hours: int | str) -> str:
    """An amount of hours with its unit written after it: 20 → 20時間 (２０ → ２０時間)."""
    return f"{hours}時間"


def padded(text: str) -> str:
    """The text with stray spaces around it: an ideographic space before, an ASCII one after."""
    return f"\u3000{text} "
