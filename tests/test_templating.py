"""Templates and expressions: strict names, the sandbox, filters, static references."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework.templating import Expression, Reference, Template, TemplateProblem


def test_render_item_and_settings() -> None:
    template = Template("{{ settings.url }}/x/{{ item.氏名 }}")
    assert template.render({"settings": {"url": "http://h"}, "item": {"氏名": "山田"}}) == (
        "http://h/x/山田"
    )


def test_constant_text_is_not_compiled() -> None:
    template = Template("登録する")
    assert template.is_constant
    assert template.render({}) == "登録する"


def test_undefined_name_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TemplateProblem, match="定義されていません"):
        Template("{{ item.氏明 }}").render({"item": {"氏名": "山田"}})


def test_none_renders_as_empty_text() -> None:
    assert Template("[{{ item.備考 }}]").render({"item": {"備考": None}}) == "[]"


def test_syntax_error_is_reported_when_compiled() -> None:
    with pytest.raises(TemplateProblem, match="テンプレートの書き方に誤りがあります"):
        Template("{{ item.氏名 ")


def test_unknown_filter_suggests_the_closest() -> None:
    with pytest.raises(TemplateProblem, match="「wareki」のことですか"):
        Template("{{ d | warek }}")


def test_sandbox_refuses_unsafe_attributes() -> None:
    with pytest.raises(TemplateProblem):
        Template("{{ ''.__class__.__mro__[1].__subclasses__() }}").render({})


def test_filters() -> None:
    day = dt.date(2024, 4, 1)
    assert Template("{{ d | wareki }}").render({"d": day}) == "令和6年4月1日"
    assert Template("{{ d | wareki(true) }}").render({"d": day}) == "R6.4.1"
    assert Template("{{ d | date('%Y年%m月%d日') }}").render({"d": day}) == "2024年04月01日"
    assert Template("{{ '0123-45' | digits }}").render({}) == "012345"


def test_expression_returns_values() -> None:
    assert Expression("item.支給量 > 100").evaluate({"item": {"支給量": 120}}) is True
    assert Expression("rows").evaluate({"rows": [1, 2]}) == [1, 2]
    assert Expression("{{ rows }}").evaluate({"rows": [3]}) == [3]


def test_expression_undefined_name() -> None:
    with pytest.raises(TemplateProblem):
        Expression("missing + 1").evaluate({})


def test_references_for_static_checks() -> None:
    template = Template(
        "{{ item.氏名 }} {{ credentials.sys.password }} {% for x in rows %}{{ x }}{% endfor %}"
    )
    refs = set(template.references())
    assert Reference("item", ("氏名",)) in refs
    assert Reference("credentials", ("sys", "password")) in refs
    assert Reference("rows", ()) in refs
    assert all(r.root != "x" for r in refs)


@given(st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=40))
def test_text_without_markup_renders_as_is(text: str) -> None:
    assert Template(text).render({}) == text
