"""Browser steps (Playwright): open pages, fill forms, click, wait, read values, files.

Elements are found the way a person describes them: by the label next to a field
(``label: 氏名``), by role and accessible name (``role: button, name: 登録する``), by visible
text or placeholder. ``css:`` and ``xpath:`` exist as a last resort for pages without labels.
Every locator value may use templates, e.g. ``label: "{{ item.障害支援区分 }}"``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from framework.context import StepContext, Target
from framework.errors import ApplicationError, BusinessError, SessionExpiredError
from framework.locator import Locator, resolve
from framework.registry import Registry, step
from framework.templating import Template

if TYPE_CHECKING:
    from playwright.sync_api import Locator as PwLocator


class Timed(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    timeout: float | None = Field(default=None, gt=0)
    """Seconds to wait for the element (default: the bot's browser timeout)."""


class ElementArgs(Timed, Locator):
    """Arguments of steps that act on one element."""


def _ms(ctx: StepContext, args: Timed) -> float | None:
    return None if args.timeout is None else args.timeout * 1000


def _fail(exc: Exception, what: str, status: int | None = None) -> ApplicationError:
    """A Playwright error as a message staff and IT can act on.

    ``status``: the HTTP status of the page shown; an error page (503 混雑, 500...) explains a
    timeout better than the element that never appeared.
    """
    from playwright.sync_api import TimeoutError as PwTimeout

    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if "strict mode violation" in text:  # a workflow mistake: trying again cannot help
        count = re.search(r"resolved to (\d+) elements", text)
        many = count.group(1) if count else "複数"
        return ApplicationError(
            f"{what} に当てはまる要素が{many}個あります。exact: true や nth、within で1つに絞って"
            "ください (locator matched several elements)"
        )
    if isinstance(exc, PwTimeout):
        if status is not None and status >= 400:
            return ApplicationError(
                f"{what} が時間内に見つからないか操作できませんでした。表示中のページは"
                f" HTTP {status} のエラー画面です (timeout: {first}; the page shown answered"
                f" HTTP {status})",
                transient=True,
            )
        return ApplicationError(
            f"{what} が時間内に見つからないか操作できませんでした (timeout: {first})",
            transient=True,
        )
    # navigation errors, a crashed or closed page: the next try may well succeed
    return ApplicationError(f"{what} を操作できませんでした ({first})", transient=True)


_LAYOUT_SPACE = re.compile(r"[^\S\u3000]+")
"""Runs of whitespace except the ideographic space U+3000, which is part of names (山田　太郎)."""


def _one_line(text: str) -> str:
    """Page text on one line: line breaks and runs of spaces become one space.

    A full-width space stays as it is, so a name reads back exactly as the system shows it and
    personal data in a message is still recognised (and masked) in logs.
    """
    return _LAYOUT_SPACE.sub(" ", text).strip()


def _run(what: str, action: Any, ctx: StepContext | None = None) -> Any:
    """Run a Playwright action; with ``ctx``, a timeout names an HTTP error page if one is shown."""
    from playwright.sync_api import Error as PwError

    try:
        return action()
    except PwError as exc:
        status = ctx.browser_session.document_status if ctx is not None else None
        raise _fail(exc, what, status) from None


class GotoArgs(Timed):
    url: Template
    wait_until: Literal["load", "domcontentloaded", "networkidle", "commit"] = "load"


@step("browser.goto", shorthand="url")
def goto(ctx: StepContext, args: GotoArgs) -> None:
    """ページを開く (open a page).

    Open a page: ``- browser.goto: "{{ settings.target_url }}/login"``.

    The browser starts on the first browser step of a run. A page answering with an HTTP error
    (404 ページが見つかりません, 500, 503 混雑...) fails the step.
    """
    url = ctx.render(args.url)
    response = _run(
        f"ページ {url}",
        lambda: ctx.page.goto(url, wait_until=args.wait_until, timeout=_ms(ctx, args)),
    )
    if response is not None and response.status >= 400:
        raise ApplicationError(
            f"ページ {url} がエラーを返しました (HTTP {response.status})",
            transient=response.status >= 500,
        )
    _check_markers(ctx)


def _check_markers(ctx: StepContext) -> None:
    """Fail fast when the page is the login page (session ended) or a busy page."""
    markers = ctx.markers
    if markers.expired is not None and ctx.page_shows(markers.expired):
        raise SessionExpiredError(
            f"ログイン画面が表示されています（{markers.expired.describe()}）"
            " (the session has ended)"
        )
    if markers.busy is not None and ctx.page_shows(markers.busy):
        raise ApplicationError(
            f"システムが混雑しています（{markers.busy.describe()}） (the system is busy)",
            transient=True,
        )


class FillArgs(ElementArgs):
    value: Template
    """The text to type, usually from the item: ``"{{ item.氏名 }}"``."""


@step("browser.fill")
def fill(ctx: StepContext, args: FillArgs) -> None:
    """入力欄に値を入力する (type a value into a field).

    Type a value into a field, replacing what is there.

    ``- browser.fill: {label: 氏名, value: "{{ item.氏名 }}"}``. Date fields take the item's date
    as it is (2026-04-01).
    """
    value = ctx.render(args.value)
    target = resolve(ctx, args)
    _run(args.describe(), lambda: target.fill(value, timeout=_ms(ctx, args)), ctx)


class SelectArgs(ElementArgs):
    option: Template
    """The option to choose, by its visible text (or by value with ``by: value``)."""
    by: Literal["label", "value"] = "label"


@step("browser.select")
def select(ctx: StepContext, args: SelectArgs) -> None:
    """一覧（プルダウン）から選ぶ (choose an option of a drop-down list).

    Choose an option of a drop-down list.

    ``- browser.select: {label: サービス種類, option: "{{ item.サービス種類 }}"}``
    """
    option = ctx.render(args.option)
    target = resolve(ctx, args)
    what = f"{args.describe()} の選択肢「{option}」"
    if args.by == "label":
        _run(what, lambda: target.select_option(label=option, timeout=_ms(ctx, args)), ctx)
    else:
        _run(what, lambda: target.select_option(value=option, timeout=_ms(ctx, args)), ctx)


class CheckArgs(ElementArgs):
    checked: bool = True
    """``false`` clears a checkbox."""


@step("browser.check")
def check(ctx: StepContext, args: CheckArgs) -> None:
    """チェックボックス・ラジオボタンを選ぶ (tick a checkbox or choose a radio button).

    Tick a checkbox or choose a radio button, found by its label.

    ``- browser.check: {label: "{{ item.障害支援区分 }}", exact: true}`` chooses the radio
    button labelled with the item's value. ``checked: false`` clears a checkbox.
    """
    target = resolve(ctx, args)
    _run(args.describe(), lambda: target.set_checked(args.checked, timeout=_ms(ctx, args)), ctx)


@step("browser.click")
def click(ctx: StepContext, args: ElementArgs) -> None:
    """ボタンやリンクを押す (click a button or link).

    Click a button or link: ``- browser.click: {role: button, name: 確認画面へ}``.
    """
    target = resolve(ctx, args)
    _run(args.describe(), lambda: target.click(timeout=_ms(ctx, args)), ctx)


class PressArgs(ElementArgs):
    key: str
    """A key name such as ``Enter``, ``Tab`` or ``Control+A``."""


@step("browser.press")
def press(ctx: StepContext, args: PressArgs) -> None:
    """キーを押す (press a key in a field).

    Press a key in a field: ``- browser.press: {label: 受給者番号, key: Enter}``.
    """
    target = resolve(ctx, args)
    _run(args.describe(), lambda: target.press(args.key, timeout=_ms(ctx, args)), ctx)


class WaitArgs(Timed):
    text: Template | None = None
    """Wait until this text is visible on the page."""
    url: Template | None = None
    """Wait until the address matches (``*`` matches anything: ``**/done``)."""
    element: Locator | None = None
    """Wait until this element is visible (or hidden with ``state: hidden``)."""
    state: Literal["visible", "hidden"] = "visible"
    refused_if: Locator | None = None
    """If this element shows up instead (an error message), the system refused the item: the
    item becomes 登録不可 with the element's text as the reason."""

    @model_validator(mode="after")
    def _one(self) -> WaitArgs:
        given = [k for k in ("text", "url", "element") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "text・url・element のどれか1つを書いてください (give one of text, url, element)"
            )
        if self.refused_if is not None and (self.url is not None or self.state == "hidden"):
            raise ValueError(
                "refused_if は text か element（state: visible）と一緒に使います"
                " (refused_if needs text or a visible element)"
            )
        return self


def _refusal_text(locator: PwLocator) -> str:
    text: str = locator.inner_text(timeout=2_000)
    return _one_line(text)


@step("browser.wait_for")
def wait_for(ctx: StepContext, args: WaitArgs) -> None:
    """画面の表示を待ち、システムの拒否を見分ける (wait for the page; recognise a refusal).

    Wait for a page to show something, and recognise when the system refused the item.

    Example: after clicking 登録する, either the completion page or an error message appears::

        - browser.wait_for:
            text: 受付が完了しました
            refused_if: {role: alert}

    When the ``refused_if`` element appears, the item is refused with that element's text
    (e.g. 既に登録されています) and is not retried.
    """
    page = ctx.page
    timeout = _ms(ctx, args)
    if args.url is not None:
        url = ctx.render(args.url)
        _run(f"アドレス {url}", lambda: page.wait_for_url(url, timeout=timeout), ctx)
        return
    if args.text is not None:
        text = ctx.render(args.text)
        expected = page.get_by_text(text).first
        what = f"文字「{text}」"
    else:
        assert args.element is not None
        expected = resolve(ctx, args.element).first
        what = args.element.describe()
    if args.state == "hidden":
        _run(what, lambda: expected.wait_for(state="hidden", timeout=timeout), ctx)
        return
    refusal = resolve(ctx, args.refused_if).first if args.refused_if is not None else None
    _race(ctx, what, expected, refusal, timeout)
    _check_markers(ctx)
    if refusal is not None and refusal.is_visible():
        assert args.refused_if is not None
        raise BusinessError(_run(args.refused_if.describe(), lambda: _refusal_text(refusal)))


RACE_SLICE_MS = 500


def _race(
    ctx: StepContext,
    what: str,
    expected: PwLocator,
    refusal: PwLocator | None,
    timeout: float | None,
) -> None:
    """Wait until the expected element, a refusal, a busy page or the login page shows.

    The wait is cut into short slices so that a page answering 5xx (混雑, server error) is
    noticed at once instead of after the whole timeout.
    """
    from playwright.sync_api import TimeoutError as PwTimeout

    either = expected
    for extra in (refusal, *_marker_locators(ctx)):
        if extra is not None:
            either = either.or_(extra)
    either = either.first
    total = timeout if timeout is not None else float(ctx.browser_session.options.timeout_ms)
    deadline = time.monotonic() + total / 1000
    while True:
        remaining_ms = (deadline - time.monotonic()) * 1000
        try:
            either.wait_for(state="visible", timeout=max(1.0, min(RACE_SLICE_MS, remaining_ms)))
            return
        except PwTimeout as exc:
            status = ctx.browser_session.document_status
            if status is not None and status >= 500:
                raise ApplicationError(
                    f"{what} を待っている間に、ページが HTTP {status} のエラー画面になりました"
                    f" (the page answered HTTP {status})",
                    transient=True,
                ) from None
            if remaining_ms <= RACE_SLICE_MS:
                raise _fail(exc, what, status) from None
        except Exception as exc:
            from playwright.sync_api import Error as PwError

            if isinstance(exc, PwError):
                raise _fail(exc, what, ctx.browser_session.document_status) from None
            raise


def _marker_locators(ctx: StepContext) -> list[PwLocator]:
    markers = ctx.markers
    return [resolve(ctx, m).first for m in (markers.expired, markers.busy) if m is not None]


class ReadArgs(ElementArgs):
    into: Target
    """Where to keep the value: ``results.受付番号`` (written to the results workbook) or a
    variable name for later steps."""
    attribute: str | None = None
    """Read this HTML attribute instead of the text (e.g. ``href``)."""
    pattern: str | None = None
    """A regular expression; the first group (or the whole match) is kept: ``R\\d{2}-\\d{6}``."""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"正規表現の書き方に誤りがあります: {exc} (invalid regular expression)"
                ) from None
        return value


_READ_JS = (
    "e => (e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement"
    " || e instanceof HTMLSelectElement) ? e.value : e.innerText"
)


@step("browser.read")
def read(ctx: StepContext, args: ReadArgs) -> None:
    """画面の値を読み取る (read a value from the page).

    Read a value from the page, e.g. the receipt number on the completion page.

    ``- browser.read: {test_id: receipt-no, into: results.受付番号}``
    """
    target = resolve(ctx, args)
    if args.attribute:
        attribute = args.attribute
        value = _run(
            args.describe(),
            lambda: target.get_attribute(attribute, timeout=_ms(ctx, args)),
            ctx,
        )
    else:
        value = _run(
            args.describe(), lambda: target.evaluate(_READ_JS, timeout=_ms(ctx, args)), ctx
        )
    text = _one_line(str(value or ""))
    if args.pattern:
        match = re.search(args.pattern, text)
        if match is None:
            raise ApplicationError(
                f"{args.describe()} の文字「{text}」に {args.pattern} が見つかりません"
                " (pattern not found)"
            )
        text = match.group(1) if match.groups() else match.group(0)
    ctx.store(args.into, text)


class ReadTableArgs(ElementArgs):
    into: Target
    """A variable that receives the rows, each a mapping from column header to cell text."""


_TABLE_JS = """t => {
  const clean = s => (s || '').replace(/[^\\S\\u3000]+/g, ' ').trim();
  const rows = Array.from(t.querySelectorAll('tr'));
  let headers = null; const out = [];
  for (const r of rows) {
    const cells = Array.from(r.children).filter(c => c.tagName === 'TD' || c.tagName === 'TH');
    if (headers === null && cells.length && cells.every(c => c.tagName === 'TH')) {
      headers = cells.map(c => clean(c.innerText)); continue;
    }
    if (!cells.length || cells.every(c => c.tagName === 'TH')) continue;
    const values = cells.map(c => clean(c.innerText));
    const keys = headers || values.map((_, i) => 'col' + (i + 1));
    const row = {}; keys.forEach((k, i) => { row[k] = i < values.length ? values[i] : ''; });
    out.push(row);
  }
  return out;
}"""


@step("browser.read_table")
def read_table(ctx: StepContext, args: ReadTableArgs) -> None:
    """画面の表を読み取る (read an HTML table into rows).

    Read an HTML table into a list of rows (header → text), to collect data from a system.

    ``- browser.read_table: {css: table, into: rows}`` then ``for_each`` over ``rows`` or
    ``excel.write_rows`` to save them into a workbook.
    """
    target = resolve(ctx, args)
    rows = _run(args.describe(), lambda: target.evaluate(_TABLE_JS, timeout=_ms(ctx, args)), ctx)
    ctx.store(args.into, rows)


class ScreenshotArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    path: Template
    """File name in the run folder, e.g. ``"screens/{{ item.受付番号 }}.png"``."""
    full_page: bool = True


@step("browser.screenshot", shorthand="path")
def screenshot(ctx: StepContext, args: ScreenshotArgs) -> None:
    """画面を画像で保存する (save a screenshot into the run folder).

    Save a picture of the page into the run folder (e.g. as evidence of a registration).
    """
    path = ctx.output_path(ctx.render(args.path))
    _run(
        "スクリーンショット", lambda: ctx.page.screenshot(path=str(path), full_page=args.full_page)
    )


class UploadArgs(ElementArgs):
    file: Template
    """The file to attach; relative paths are relative to the bot's folder."""


@step("browser.upload")
def upload(ctx: StepContext, args: UploadArgs) -> None:
    """ファイルを添付する (attach a file to a file field).

    Attach a file to a file field: ``- browser.upload: {label: 添付書類, file: ...}``.
    """
    path = ctx.input_path(ctx.render(args.file))
    if not path.is_file():
        raise ApplicationError(f"添付するファイルがありません: {path.name} (file not found)")
    target = resolve(ctx, args)
    _run(args.describe(), lambda: target.set_input_files(str(path), timeout=_ms(ctx, args)), ctx)


class DownloadArgs(ElementArgs):
    save_as: Template | None = None
    """File name in the run folder (default: the name the site suggests)."""
    into: Target | None = None
    """Keep the saved file's path, e.g. to read it with an Excel step."""


@step("browser.download")
def download(ctx: StepContext, args: DownloadArgs) -> None:
    """ファイルをダウンロードして保存する (download a file into the run folder).

    Click a link or button that downloads a file, and save it in the run folder.

    ``- browser.download: {role: link, name: CSV出力, save_as: 一覧.csv, into: csv_path}``
    """
    target = resolve(ctx, args)
    page = ctx.page

    def go() -> Any:
        with page.expect_download(timeout=_ms(ctx, args)) as info:
            target.click(timeout=_ms(ctx, args))
        return info.value

    result = _run(args.describe(), go, ctx)
    name = ctx.render(args.save_as) if args.save_as else result.suggested_filename
    path = ctx.output_path(str(ctx.run.dir / "downloads" / name))
    result.save_as(str(path))
    if args.into is not None:
        ctx.store(args.into, str(path))


def register(registry: Registry) -> None:
    """Add the browser steps to a registry."""
    registry.add_all(
        [
            goto,
            fill,
            select,
            check,
            click,
            press,
            wait_for,
            read,
            read_table,
            screenshot,
            upload,
            download,
        ],
        pack="browser",
    )
