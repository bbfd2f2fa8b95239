"""The application form of the practice system: its fields, choices and server-side validation."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

SERVICE_TYPES: tuple[str, ...] = (
    "居宅介護",
    "重度訪問介護",
    "同行援護",
    "行動援護",
    "生活介護",
    "短期入所",
    "就労移行支援",
    "就労継続支援A型",
    "就労継続支援B型",
    "共同生活援助",
)
SUPPORT_LEVELS: tuple[str, ...] = ("非該当", "区分1", "区分2", "区分3", "区分4", "区分5", "区分6")

FIELD_NAMES: dict[str, str] = {
    "name": "氏名",
    "kana": "フリガナ",
    "birth_date": "生年月日",
    "recipient_no": "受給者番号",
    "service_type": "サービス種類",
    "hours": "支給量",
    "start_date": "開始日",
    "support_level": "障害支援区分",
    "notes": "備考",
}
"""Form field → the short Japanese name used in error messages ("項目名：理由。")."""

NAME_MAX = 50
NOTES_MAX = 200
HOURS_MIN = 1
HOURS_MAX = 744

_KANA = re.compile(r"[ァ-ヺヽヾー 　]+")
_DIGITS10 = re.compile(r"[0-9]{10}")
_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_Fail = Callable[[str, str], None]


@dataclass(frozen=True)
class Application:
    """A validated application (申請), as the form submitted it."""

    name: str
    kana: str
    birth_date: date
    recipient_no: str
    service_type: str
    hours: int
    start_date: date
    support_level: str
    notes: str

    def form_values(self) -> dict[str, str]:
        """The values as form fields carry them (dates in ISO yyyy-mm-dd)."""
        return {
            "name": self.name,
            "kana": self.kana,
            "birth_date": self.birth_date.isoformat(),
            "recipient_no": self.recipient_no,
            "service_type": self.service_type,
            "hours": str(self.hours),
            "start_date": self.start_date.isoformat(),
            "support_level": self.support_level,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``message`` is shown to the user as is."""

    field: str
    message: str


class ApplicationFormError(Exception):
    """The submitted form has errors; ``errors`` lists them in form order."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        self.errors = errors
        super().__init__("入力内容に誤りがあります。" + " ".join(e.message for e in errors))

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(e.field for e in self.errors)


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The form's fields, each present (missing ones empty), to show the form again."""
    return {field: form.get(field, "") for field in FIELD_NAMES}


def validate_application(form: Mapping[str, str], *, today: date) -> Application:
    """Check a submitted application form and return it cleaned.

    Text is stripped of surrounding (half- or full-width) spaces and line breaks in 備考
    are normalised to LF before checking. Raises :class:`ApplicationFormError` with every
    problem found, in form order.
    """
    errors: list[FieldError] = []

    def fail(field: str, reason: str) -> None:
        errors.append(FieldError(field, f"{FIELD_NAMES[field]}：{reason}"))

    def text(field: str) -> str:
        return form.get(field, "").strip()

    name = text("name")
    if not name:
        fail("name", "必須項目です。")
    elif len(name) > NAME_MAX:
        fail("name", f"{NAME_MAX}文字以内で入力してください。")

    kana = text("kana")
    if not kana:
        fail("kana", "必須項目です。")
    elif not _KANA.fullmatch(kana):
        fail("kana", "全角カタカナで入力してください。")

    birth_date = _parse_date(text("birth_date"), "birth_date", fail)
    if birth_date is not None and birth_date > today:
        fail("birth_date", "未来の日付は入力できません。")
        birth_date = None

    recipient_no = text("recipient_no")
    if not recipient_no:
        fail("recipient_no", "必須項目です。")
    elif not _DIGITS10.fullmatch(recipient_no):
        fail("recipient_no", "半角数字10桁で入力してください。")

    service_type = text("service_type")
    if not service_type:
        fail("service_type", "必須項目です。")
    elif service_type not in SERVICE_TYPES:
        fail("service_type", "一覧から選択してください。")

    hours_text = text("hours")
    hours = 0
    if not hours_text:
        fail("hours", "必須項目です。")
    elif not _DIGITS.fullmatch(hours_text) or not HOURS_MIN <= int(hours_text) <= HOURS_MAX:
        fail("hours", f"{HOURS_MIN}から{HOURS_MAX}までの整数で入力してください。")
    else:
        hours = int(hours_text)

    start_date = _parse_date(text("start_date"), "start_date", fail)
    if start_date is not None and birth_date is not None and start_date < birth_date:
        fail("start_date", "生年月日より前の日付は入力できません。")

    support_level = text("support_level")
    if not support_level:
        fail("support_level", "必須項目です。")
    elif support_level not in SUPPORT_LEVELS:
        fail("support_level", "一覧から選択してください。")

    notes = form.get("notes", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(notes) > NOTES_MAX:
        fail("notes", f"{NOTES_MAX}文字以内で入力してください。")

    if errors or birth_date is None or start_date is None:
        raise ApplicationFormError(tuple(errors))
    return Application(
        name=name,
        kana=kana,
        birth_date=birth_date,
        recipient_no=recipient_no,
        service_type=service_type,
        hours=hours,
        start_date=start_date,
        support_level=support_level,
        notes=notes,
    )


def _parse_date(value: str, field: str, fail: _Fail) -> date | None:
    if not value:
        fail(field, "必須項目です。")
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        fail(field, "日付を正しく入力してください。")
        return None
