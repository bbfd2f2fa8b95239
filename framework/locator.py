"""Locators: which element of a page a step acts on, described the way a person would.

Used by the browser steps and by a workflow's recovery settings (what a busy page or the login
page looks like). Labels, roles with accessible names, visible text and placeholders come first;
``css`` and ``xpath`` are the last resort for pages without labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from framework.templating import Template

if TYPE_CHECKING:
    from playwright.sync_api import Locator as PwLocator

    from framework.context import StepContext

LOCATOR_KEYS = ("label", "role", "text", "placeholder", "title", "test_id", "css", "xpath")
_DESCRIBE = {
    "label": "ラベル",
    "role": "役割",
    "text": "文字",
    "placeholder": "入力例",
    "title": "タイトル",
    "test_id": "test-id",
    "css": "CSS",
    "xpath": "XPath",
}
Role = Literal[
    "alert", "article", "button", "cell", "checkbox", "columnheader", "combobox", "dialog",
    "form", "grid", "group", "heading", "img", "link", "list", "listbox", "listitem", "main",
    "menu", "menuitem", "navigation", "option", "radio", "radiogroup", "region", "row",
    "rowheader", "search", "searchbox", "spinbutton", "status", "switch", "tab", "table",
    "tablist", "tabpanel", "textbox",
]  # fmt: skip


class Locator(BaseModel):
    """Which element a step acts on. Give exactly one of the ``LOCATOR_KEYS``.

    * ``label: 氏名`` - the form field labelled 氏名 (preferred for inputs);
    * ``role: button`` with ``name: 登録する`` - by accessibility role and name;
    * ``text: 受付が完了しました`` - by visible text;
    * ``placeholder``, ``title``, ``test_id``;
    * ``css`` / ``xpath`` - only when the page offers nothing better.

    ``exact: true`` makes label/name/text match whole; ``nth: 2`` picks the second match;
    ``within:`` (another locator) searches only inside that element.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    label: Template | None = None
    role: Role | None = None
    name: Template | None = None
    text: Template | None = None
    placeholder: Template | None = None
    title: Template | None = None
    test_id: Template | None = None
    css: Template | None = None
    xpath: Template | None = None
    exact: bool = False
    nth: int | None = Field(default=None, ge=1)
    within: Locator | None = None

    @model_validator(mode="after")
    def _one_locator(self) -> Locator:
        given = [k for k in LOCATOR_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            listed = ", ".join(LOCATOR_KEYS)
            found = ", ".join(given) if given else "なし"
            raise ValueError(
                f"要素の指定（{listed}）をちょうど1つ書いてください（今は: {found}）"
                " (give exactly one locator)"
            )
        if self.name is not None and self.role is None:
            raise ValueError("name は role と一緒に使います (name needs role)")
        return self

    def describe(self) -> str:
        key = next(k for k in LOCATOR_KEYS if getattr(self, k) is not None)
        value = getattr(self, key)
        text = f"{_DESCRIBE[key]}「{value}」"
        if key == "role" and self.name is not None:
            text = f"{value}「{self.name}」"
        if self.nth:
            text += f" の{self.nth}番目"
        if self.within is not None:
            text = f"{self.within.describe()} の中の{text}"
        return text


def resolve(ctx: StepContext, loc: Locator) -> PwLocator:
    """Turn a :class:`Locator` into a Playwright locator on the current page."""
    base: Any = resolve(ctx, loc.within) if loc.within is not None else ctx.page
    exact = loc.exact
    if loc.label is not None:
        found = base.get_by_label(ctx.render(loc.label), exact=exact)
    elif loc.role is not None:
        name = ctx.render_opt(loc.name)
        found = base.get_by_role(loc.role, name=name, exact=exact)
    elif loc.text is not None:
        found = base.get_by_text(ctx.render(loc.text), exact=exact)
    elif loc.placeholder is not None:
        found = base.get_by_placeholder(ctx.render(loc.placeholder), exact=exact)
    elif loc.title is not None:
        found = base.get_by_title(ctx.render(loc.title), exact=exact)
    elif loc.test_id is not None:
        found = base.get_by_test_id(ctx.render(loc.test_id))
    elif loc.css is not None:
        found = base.locator(ctx.render(loc.css))
    else:
        assert loc.xpath is not None
        found = base.locator("xpath=" + ctx.render(loc.xpath))
    if loc.nth is not None:
        found = found.nth(loc.nth - 1)
    result: PwLocator = found
    return result
