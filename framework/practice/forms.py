"""The PDF application forms (障害福祉サービス支給申請書) that the practice bots read.

:func:`write_pdf_application` writes a form with a text layer, filled in for one
:class:`~framework.practice.applicants.Applicant`; :func:`write_scanned_pdf` writes one that looks
scanned (no text at all). reportlab is a development dependency and is imported only when a form is
written.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from framework.practice.applicants import Applicant, fictitious_address
from framework.practice.mess import (
    to_fullwidth_digits,
    to_hiragana,
    wareki,
    wareki_abbrev,
    with_hours_unit,
)

PDF_LABELS: tuple[str, ...] = (
    "氏名",
    "フリガナ",
    "生年月日",
    "受給者番号",
    "サービス種類",
    "支給量",
    "開始日",
    "障害支援区分",
    "備考",
)
"""The form labels that carry an :class:`Applicant` field (as matched, without spaces)."""

_GOTHIC = "HeiseiKakuGo-W5"
_MINCHO = "HeiseiMin-W3"


def _canvas(path: Path) -> tuple[Any, float, float]:
    """A reportlab A4 canvas, its width and height; the Japanese CID fonts are registered.

    The CID fonts are the standard Japanese fonts of PDF readers, so no font file is embedded
    or needed. ``invariant`` pins the creation date and document id, so rebuilds are identical.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    for font in (_GOTHIC, _MINCHO):
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A4
    return canvas.Canvas(str(path), pagesize=A4, invariant=True), width, height


def _form_values(applicant: Applicant, messy: bool) -> list[tuple[str, str]]:
    """(label as printed, value as typed) rows of the application form."""
    rng = random.Random(applicant.recipient_no)
    address = fictitious_address(rng)
    if messy:
        kana = applicant.kana if rng.random() < 0.7 else to_hiragana(applicant.kana)
        birth = wareki(applicant.birth_date)
        number = to_fullwidth_digits(applicant.recipient_no)
        hours = str(applicant.hours)
        hours = with_hours_unit(to_fullwidth_digits(hours) if rng.random() < 0.5 else hours)
        start = (
            wareki(applicant.start_date)
            if rng.random() < 0.6
            else wareki_abbrev(applicant.start_date)
        )
        address = to_fullwidth_digits(address)
    else:
        kana = applicant.kana
        birth = applicant.birth_date.isoformat()
        number = applicant.recipient_no
        hours = str(applicant.hours)
        start = applicant.start_date.isoformat()
    return [
        ("氏\u3000\u3000名", applicant.name),
        ("フリガナ", kana),
        ("生年月日", birth),
        ("住\u3000\u3000所", address),
        ("受給者番号", number),
        ("サービス種類", applicant.service_type),
        ("支\u3000給\u3000量", hours),
        ("開\u3000始\u3000日", start),
        ("障害支援区分", applicant.support_level),
        ("備\u3000\u3000考", applicant.notes),
    ]


def write_pdf_application(path: Path, applicant: Applicant, *, messy: bool = True) -> None:
    """Write a one-page A4 障害福祉サービス支給申請書 for ``applicant`` (text is extractable).

    The form has a title, the addressee かかり市長 様, an application date, a bordered
    two-column table (label | value) with the :data:`PDF_LABELS` plus 住所, some labels spaced
    out as on printed forms (氏　　名, 備　　考), and a signature line. With ``messy=True`` the
    values look typed by hand: wareki dates, full-width digits, 20時間 (the exact forms depend
    only on the applicant); with ``messy=False`` they are the :meth:`Applicant.to_record` values.
    """
    c, width, height = _canvas(path)
    left, right = 56.0, width - 56.0
    c.setTitle("障害福祉サービス支給申請書")
    c.setAuthor("kakari (fictitious sample)")

    c.setFont(_MINCHO, 9)
    c.drawString(left, height - 48, "様式第1号（第4条関係）")
    c.setFont(_GOTHIC, 18)
    c.drawCentredString(width / 2, height - 90, "障害福祉サービス支給申請書")
    applied = applicant.start_date - timedelta(days=10 + int(applicant.recipient_no[-2:]) % 16)
    c.setFont(_MINCHO, 11)
    c.drawRightString(right, height - 125, wareki(applied) if messy else applied.isoformat())
    c.setFont(_MINCHO, 13)
    c.drawString(left, height - 150, "かかり市長\u3000様")
    c.setFont(_MINCHO, 10.5)
    c.drawString(left, height - 180, "次のとおり障害福祉サービスの支給を申請します。")

    rows = _form_values(applicant, messy)
    label_width, row_height, note_height = 120.0, 30.0, 54.0
    top = height - 200
    heights = [note_height if i == len(rows) - 1 else row_height for i in range(len(rows))]
    bottom = top - sum(heights)
    c.setFillGray(0.92)
    c.rect(left, bottom, label_width, top - bottom, stroke=0, fill=1)
    c.setFillGray(0)
    c.setLineWidth(0.6)
    y = top
    for (label, value), row_h in zip(rows, heights, strict=True):
        c.line(left, y, right, y)
        baseline = y - row_h / 2 - 4 if row_h == row_height else y - 20
        c.setFont(_GOTHIC, 11)
        c.drawString(left + 10, baseline, label)
        c.setFont(_MINCHO, 12)
        c.drawString(left + label_width + 10, baseline, value)
        y -= row_h
    c.line(left + label_width, top, left + label_width, bottom)
    c.setLineWidth(1.5)
    c.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)

    c.setLineWidth(0.6)
    c.setFont(_MINCHO, 9)
    c.drawString(left, bottom - 20, "※ 太枠内をもれなく記入してください。")
    c.setFont(_MINCHO, 11)
    sign_y = bottom - 70
    c.drawString(left + 200, sign_y, "申請者（署名）")
    c.line(left + 280, sign_y - 3, right, sign_y - 3)
    c.rect(right - 80, 60, 80, 80, stroke=1, fill=0)
    c.setFont(_MINCHO, 8)
    c.drawCentredString(right - 40, 128, "受付印")
    c.drawString(left, 64, "かかり市 健康福祉部 障がい福祉課（架空の自治体です）")
    c.showPage()
    c.save()


def write_scanned_pdf(path: Path) -> None:
    """Write a PDF that looks like a scanned form: only drawn shapes, no text layer at all."""
    c, width, height = _canvas(path)
    rng = random.Random(7)
    c.setFillGray(0.96)
    c.rect(0, 0, width, height, stroke=0, fill=1)
    c.setStrokeGray(0.25)
    c.setLineWidth(0.8)
    c.rect(56, 300, width - 112, 330, stroke=1, fill=0)
    for i in range(1, 10):
        c.line(56, 300 + 33 * i, width - 56, 300 + 33 * i)
    c.line(176, 300, 176, 630)
    # "handwriting": short wobbly strokes where the values would be
    for row in range(10):
        x = 190.0
        y = 312.0 + 33 * row
        for _ in range(rng.randint(3, 9)):
            dx = rng.uniform(6, 14)
            c.bezier(x, y, x + dx / 3, y + rng.uniform(4, 12), x + 2 * dx / 3, y - 3, x + dx, y + 5)
            x += dx + rng.uniform(2, 6)
    c.setFillGray(0.2)
    c.rect(width / 2 - 120, 720, 240, 14, stroke=0, fill=1)  # the smudged title bar
    c.showPage()
    c.save()
