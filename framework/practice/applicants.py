"""Fictitious applicants: who they are, from the name tables to the recipient number.

Everything here is made up: the names are built from tables of common family and given names,
the recipient numbers are random, and the city is the imaginary かかり市. An :class:`Applicant` is
the *normalised truth* (what should end up in the practice system); :mod:`framework.practice.mess`
and the writers of :mod:`framework.practice.samples` and :mod:`framework.practice.forms` render it
the way real back-office files look.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from framework.practice.validation import SERVICE_TYPES, SUPPORT_LEVELS

RECORD_KEYS: tuple[str, ...] = (
    "name",
    "kana",
    "birth_date",
    "recipient_no",
    "service_type",
    "hours",
    "start_date",
    "support_level",
    "notes",
)
"""The keys of :meth:`Applicant.to_record`, the same as the practice system's ``/api/records``."""

_BIRTH_FIRST = date(1940, 1, 1)
_BIRTH_LAST = date(2010, 12, 31)


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Parse whitespace-separated ``kanji/reading`` pairs."""
    return tuple((kanji, reading) for kanji, _, reading in (p.partition("/") for p in text.split()))


_FAMILY_NAMES = _pairs(
    """
    山田/ヤマダ 佐藤/サトウ 鈴木/スズキ 高橋/タカハシ 田中/タナカ 伊藤/イトウ
    渡辺/ワタナベ 中村/ナカムラ 小林/コバヤシ 加藤/カトウ 吉田/ヨシダ 山本/ヤマモト
    松本/マツモト 井上/イノウエ 木村/キムラ 林/ハヤシ 斎藤/サイトウ 清水/シミズ
    山口/ヤマグチ 森/モリ 池田/イケダ 橋本/ハシモト 阿部/アベ 石川/イシカワ
    前田/マエダ 藤田/フジタ 岡田/オカダ 後藤/ゴトウ 長谷川/ハセガワ 村上/ムラカミ
    近藤/コンドウ 坂本/サカモト 遠藤/エンドウ 青木/アオキ 藤井/フジイ 西村/ニシムラ
    福田/フクダ 太田/オオタ 三浦/ミウラ 岡本/オカモト
    """
)

# Given names by the generation they are typical for: (last birth year, names).
_GIVEN_NAMES: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = (
    (
        1964,
        _pairs(
            """
            和夫/カズオ 清/キヨシ 茂/シゲル 勝/マサル 修/オサム 博/ヒロシ 正雄/マサオ
            進/ススム 節子/セツコ 和子/カズコ 幸子/サチコ 洋子/ヨウコ 恵子/ケイコ
            京子/キョウコ 久美子/クミコ 美智子/ミチコ
            """
        ),
    ),
    (
        1989,
        _pairs(
            """
            誠/マコト 隆/タカシ 健一/ケンイチ 直樹/ナオキ 大輔/ダイスケ 拓也/タクヤ
            和也/カズヤ 剛/ツヨシ 裕子/ユウコ 直美/ナオミ 明美/アケミ 由美/ユミ
            真由美/マユミ 智子/トモコ 陽子/ヨウコ 愛/アイ
            """
        ),
    ),
    (
        9999,
        _pairs(
            """
            翔太/ショウタ 健太/ケンタ 大翔/ヒロト 蓮/レン 悠斗/ユウト 颯太/ソウタ
            拓海/タクミ 亮/リョウ 美咲/ミサキ 結衣/ユイ 彩/アヤ 葵/アオイ 千尋/チヒロ
            美穂/ミホ 七海/ナナミ 優花/ユウカ
            """
        ),
    ),
)

# service type -> (realistic monthly hours, support levels that fit the service)
_SERVICE_RULES: dict[str, tuple[tuple[int, int], tuple[str, ...]]] = {
    "居宅介護": ((8, 60), SUPPORT_LEVELS[1:]),
    "重度訪問介護": ((120, 180), SUPPORT_LEVELS[4:]),
    "同行援護": ((10, 50), SUPPORT_LEVELS),
    "行動援護": ((10, 40), SUPPORT_LEVELS[3:]),
    "生活介護": ((80, 160), SUPPORT_LEVELS[3:]),
    "短期入所": ((8, 30), SUPPORT_LEVELS[1:]),
    "就労移行支援": ((60, 160), SUPPORT_LEVELS[:3]),
    "就労継続支援A型": ((80, 170), SUPPORT_LEVELS[:3]),
    "就労継続支援B型": ((60, 160), SUPPORT_LEVELS[:4]),
    "共同生活援助": ((100, 180), SUPPORT_LEVELS[:5]),
}

_NOTES: tuple[str, ...] = (
    "更新申請",
    "新規申請",
    "通院等介助を含む",
    "家族の就労のため",
    "区分変更申請中",
    "転入（前住所地：みなと市）",
    "日中一時支援も併用予定",
    "体験利用から移行",
    "相談支援専門員：鈴木",
)

# The towns of the imaginary かかり市, for addresses.
_TOWNS: tuple[str, ...] = ("本町", "緑町", "栄町", "桜台", "旭ヶ丘", "中央", "東町", "川端")

_KANA_RE = re.compile(r"[ァ-ヶー]+\u3000[ァ-ヶー]+")
_NAME_RE = re.compile(r"[^\s]+\u3000[^\s]+")


@dataclass(frozen=True)
class Applicant:
    """One fictitious applicant, normalised: what the practice system should hold.

    ``name`` is kanji and ``kana`` full-width katakana, family and given name separated by one
    ideographic space (U+3000); ``recipient_no`` is the 10-digit 受給者番号 as text (it may
    start with 0); ``hours`` is the monthly 支給量 in hours.
    """

    name: str
    kana: str
    birth_date: date
    recipient_no: str
    service_type: str
    hours: int
    start_date: date
    support_level: str
    notes: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not _NAME_RE.fullmatch(self.name):
            problems.append(f"name {self.name!r} is not 'family\\u3000given'")
        if not _KANA_RE.fullmatch(self.kana):
            problems.append(f"kana {self.kana!r} is not full-width katakana 'family\\u3000given'")
        if not re.fullmatch(r"[0-9]{10}", self.recipient_no):
            problems.append(f"recipient_no {self.recipient_no!r} is not 10 ASCII digits")
        if self.service_type not in SERVICE_TYPES:
            problems.append(f"unknown service_type {self.service_type!r}")
        if not 1 <= self.hours <= 744:
            problems.append(f"hours {self.hours} not in 1..744")
        if self.support_level not in SUPPORT_LEVELS:
            problems.append(f"unknown support_level {self.support_level!r}")
        if self.notes != self.notes.strip():
            problems.append(f"notes {self.notes!r} has surrounding whitespace")
        if problems:
            raise ValueError("invalid Applicant: " + "; ".join(problems))

    def to_record(self) -> dict[str, str | int]:
        """The applicant as a record of the practice system's ``/api/records`` (ISO dates)."""
        return {
            "name": self.name,
            "kana": self.kana,
            "birth_date": self.birth_date.isoformat(),
            "recipient_no": self.recipient_no,
            "service_type": self.service_type,
            "hours": self.hours,
            "start_date": self.start_date.isoformat(),
            "support_level": self.support_level,
            "notes": self.notes,
        }


def generate_applicants(n: int, seed: int = 0) -> list[Applicant]:
    """Make ``n`` fictitious applicants, the same ones for the same ``(n, seed)``.

    Recipient numbers are unique (so is every ``(recipient_no, service_type, start_date)``);
    about a quarter start with 0. Names are unique while the name tables allow it (about 640
    names per generation); beyond that names may repeat. Birth dates lie in 1940-2010 and start
    dates in December 2026 - March 2027 (mostly the 1st of a month). The first ``k`` applicants
    of ``generate_applicants(n, seed)`` do not depend on ``n``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    people: list[Applicant] = []
    used_numbers: set[str] = set()
    used_names: set[str] = set()
    birth_span = (_BIRTH_LAST - _BIRTH_FIRST).days
    start_months = ((2026, 12), (2027, 1), (2027, 2), (2027, 3))
    for _ in range(n):
        birth = _BIRTH_FIRST + timedelta(days=rng.randrange(birth_span + 1))
        given_names = next(names for last_year, names in _GIVEN_NAMES if birth.year <= last_year)
        for _attempt in range(50):
            family, family_kana = rng.choice(_FAMILY_NAMES)
            given, given_kana = rng.choice(given_names)
            name = f"{family}\u3000{given}"
            if name not in used_names:
                break
        used_names.add(name)

        while True:
            first = "0" if rng.random() < 0.25 else str(rng.randint(1, 9))
            number = first + "".join(str(rng.randrange(10)) for _ in range(9))
            if number not in used_numbers:
                break
        used_numbers.add(number)

        service = rng.choice(SERVICE_TYPES)
        (low, high), levels = _SERVICE_RULES[service]
        year, month = rng.choice(start_months)
        day = 1 if rng.random() < 0.6 else rng.randint(2, 28)
        notes = rng.choice(_NOTES) if rng.random() < 0.3 else ""
        people.append(
            Applicant(
                name=name,
                kana=f"{family_kana}\u3000{given_kana}",
                birth_date=birth,
                recipient_no=number,
                service_type=service,
                hours=rng.randint(low, high),
                start_date=date(year, month, day),
                support_level=rng.choice(levels),
                notes=notes,
            )
        )
    return people


def fictitious_address(rng: random.Random) -> str:
    """A made-up address in かかり市 drawn from ``rng``: かかり市緑町3丁目12番5号."""
    town = rng.choice(_TOWNS)
    return f"かかり市{town}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
