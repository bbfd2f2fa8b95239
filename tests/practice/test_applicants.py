"""Tests for the fictitious applicants: deterministic, valid, and checked on construction."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framework.practice.applicants import RECORD_KEYS, Applicant, generate_applicants
from framework.practice.validation import SERVICE_TYPES, SUPPORT_LEVELS


def test_same_seed_gives_same_applicants() -> None:
    assert generate_applicants(40, seed=3) == generate_applicants(40, seed=3)
    assert generate_applicants(40, seed=3) != generate_applicants(40, seed=4)
    assert generate_applicants(10, seed=3) == generate_applicants(40, seed=3)[:10]
    assert generate_applicants(0) == []
    with pytest.raises(ValueError):
        generate_applicants(-1)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_normalised_truths_are_valid(seed: int) -> None:
    people = generate_applicants(60, seed)
    for p in people:
        assert re.fullmatch(r"[0-9]{10}", p.recipient_no)
        assert re.fullmatch(r"[ァ-ヶー]+\u3000[ァ-ヶー]+", p.kana)
        family, given_name = p.name.split("\u3000")
        assert family and given_name and not re.search(r"\s", family + given_name)
        assert date(1940, 1, 1) <= p.birth_date <= date(2010, 12, 31)
        assert date(2026, 12, 1) <= p.start_date <= date(2027, 3, 31)
        assert 8 <= p.hours <= 180
        assert p.service_type in SERVICE_TYPES
        assert p.support_level in SUPPORT_LEVELS
        assert p.notes == p.notes.strip()
        record = p.to_record()
        assert list(record) == list(RECORD_KEYS)
        assert record["birth_date"] == p.birth_date.isoformat()
    assert len({p.recipient_no for p in people}) == len(people)
    assert len({p.name for p in people}) == len(people)
    keys = {(p.recipient_no, p.service_type, p.start_date) for p in people}
    assert len(keys) == len(people)


def test_some_recipient_numbers_start_with_zero() -> None:
    people = generate_applicants(200, seed=1)
    assert 20 <= sum(p.recipient_no.startswith("0") for p in people) <= 80


@pytest.mark.parametrize(
    "change",
    [
        {"name": "山田太郎"},
        {"kana": "やまだ\u3000たろう"},
        {"recipient_no": "０１２３４５６７８９"},
        {"recipient_no": "123456789"},
        {"service_type": "訪問介護"},
        {"hours": 0},
        {"support_level": "区分7"},
        {"notes": " 更新 "},
    ],
)
def test_applicant_rejects_values_that_are_not_normalised(change: dict[str, object]) -> None:
    values: dict[str, object] = {
        "name": "山田\u3000太郎",
        "kana": "ヤマダ\u3000タロウ",
        "birth_date": date(1983, 4, 12),
        "recipient_no": "0123456789",
        "service_type": "居宅介護",
        "hours": 20,
        "start_date": date(2026, 12, 1),
        "support_level": "区分3",
    }
    Applicant(**values)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid Applicant"):
        Applicant(**(values | change))  # type: ignore[arg-type]
