"""Finding a browser on this PC and running one Playwright browser session per run.

City PCs differ: a closed-network (LGWAN) Windows PC has Edge and cannot download Playwright's
browsers; a Linux build machine may have Debian's Chromium. :func:`find_browser` picks, in order,
what configuration names (``RPA_BROWSER_PATH`` / ``RPA_BROWSER_CHANNEL``), Playwright's own
Chromium if it is installed, Edge on Windows, then a system Chromium, Chrome or Edge.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.errors import AbortedError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Response

# Flags for a quiet browser in a closed network: no background traffic, no update checks.
QUIET_FLAGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

_SYSTEM_EXECUTABLES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
)
_WINDOWS_EDGE = (
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    r"C:\Program Files\Microsoft\Edge\Application\msedge.exe",
)
_MAC_APPS = (
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)


@dataclass(frozen=True)
class BrowserChoice:
    """How to launch the browser: an executable path or a Playwright channel."""

    description: str
    executable_path: str | None = None
    channel: str | None = None

    def launch_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.executable_path:
            kwargs["executable_path"] = self.executable_path
        if self.channel:
            kwargs["channel"] = self.channel
        return kwargs


class NoBrowserError(AbortedError):
    """No usable browser was found."""

    def __init__(self) -> None:
        super().__init__(
            "使えるブラウザが見つかりません。Edge・Chrome・Chromium のいずれかを入れるか、"
            "RPA_BROWSER_PATH にブラウザの実行ファイルを指定してください"
            " (no browser found: install Edge, Chrome or Chromium, or set RPA_BROWSER_PATH)"
        )


def _playwright_chromium() -> str | None:
    """The path of Playwright's own Chromium if it has been downloaded, without starting it."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if root == "0":
        return None
    if root:
        base = Path(root)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", "")) / "ms-playwright"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "ms-playwright"
    else:
        base = Path.home() / ".cache" / "ms-playwright"
    if not base.is_dir():
        return None
    names = ("chrome.exe",) if sys.platform == "win32" else ("chrome", "Chromium")
    for folder in sorted(base.glob("chromium-*"), reverse=True):
        for name in names:
            for candidate in folder.rglob(name):
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
    return None


def find_browser(executable_path: str | None = None, channel: str | None = None) -> BrowserChoice:
    """Pick the browser to use; explicit configuration wins, then what this PC has."""
    executable_path = executable_path or os.environ.get("RPA_BROWSER_PATH") or None
    channel = channel or os.environ.get("RPA_BROWSER_CHANNEL") or None
    if executable_path:
        if not Path(executable_path).exists():
            raise AbortedError(
                f"RPA_BROWSER_PATH のブラウザが見つかりません: {executable_path}"
                " (configured browser not found)"
            )
        return BrowserChoice(f"configured: {executable_path}", executable_path=executable_path)
    if channel:
        return BrowserChoice(f"configured channel: {channel}", channel=channel)
    bundled = _playwright_chromium()
    if bundled:
        return BrowserChoice(f"Playwright Chromium: {bundled}", executable_path=bundled)
    if sys.platform == "win32":
        for path in _WINDOWS_EDGE:
            if Path(path).exists():
                return BrowserChoice("Microsoft Edge", channel="msedge")
    if sys.platform == "darwin":
        for path in _MAC_APPS:
            if Path(path).exists():
                return BrowserChoice(path, executable_path=path)
    for name in _SYSTEM_EXECUTABLES:
        found = shutil.which(name)
        if found:
            return BrowserChoice(f"system: {found}", executable_path=found)
    raise NoBrowserError()


def launch_args() -> list[str]:
    args = list(QUIET_FLAGS)
    if sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox on
    return args


@dataclass(frozen=True)
class BrowserOptions:
    """How a run's browser behaves."""

    headless: bool = True
    timeout_ms: int = 15_000
    """Default wait for elements and navigation before a step fails."""
    executable_path: str | None = None
    channel: str | None = None


class BrowserSession:
    """One browser, context and page for a run, started on first use and closed at the end."""

    def __init__(
        self, options: BrowserOptions, downloads_dir: Path, *, browser: Browser | None = None
    ) -> None:
        """``browser``: an already running browser to use (and not close), e.g. in tests."""
        self.options = options
        self.downloads_dir = downloads_dir
        self.choice: BrowserChoice | None = None
        self._playwright: Playwright | None = None
        self._shared = browser
        self._browser: Browser | None = browser
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._crashed = False
        self.document_status: int | None = None
        """HTTP status of the page shown (its last main-frame document response), if known."""

    @property
    def started(self) -> bool:
        return self._page is not None

    def page(self) -> Page:
        if self._page is None or self._page.is_closed():
            self._start()
        assert self._page is not None
        return self._page

    def _start(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        if self._playwright is None and self._shared is None:
            self._playwright = sync_playwright().start()
        if self._browser is None or not self._browser.is_connected():
            if self._playwright is None:
                raise AbortedError("共有ブラウザが終了しています (shared browser is gone)")
            self.choice = find_browser(self.options.executable_path, self.options.channel)
            try:
                self._browser = self._playwright.chromium.launch(
                    headless=self.options.headless,
                    args=launch_args(),
                    # Ctrl+C in a terminal reaches the whole process group: the run decides
                    # when to stop (after the item being registered), not the browser
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                    **self.choice.launch_kwargs(),
                )
            except PlaywrightError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise AbortedError(
                    f"ブラウザを起動できません ({self.choice.description}): {first}"
                    " (browser failed to start)"
                ) from None
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        self._context = self._browser.new_context(
            accept_downloads=True,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            viewport={"width": 1280, "height": 900},
        )
        self._context.set_default_timeout(self.options.timeout_ms)
        self._context.set_default_navigation_timeout(max(self.options.timeout_ms, 30_000))
        page = self._context.new_page()
        page.on("response", self._note_response)
        page.on("crash", self._note_crash)
        self._crashed = False
        self._page = page
        self.document_status = None

    def _note_response(self, response: Response) -> None:
        """Remember the status of each page the tab shows, so a timeout can say "HTTP 503"."""
        try:
            request = response.request
            if request.is_navigation_request() and request.frame.parent_frame is None:
                self.document_status = response.status
        except Exception:  # e.g. a service worker's response has no frame: not a page
            pass

    def healthy(self) -> bool:
        """False when the page crashed or was closed, or the browser is gone: reset() then."""
        if self._page is None:
            return True
        try:
            return (
                not self._page.is_closed()
                and self._browser is not None
                and self._browser.is_connected()
                and not self._crashed
            )
        except Exception:
            return False

    def _note_crash(self, page: Page) -> None:
        self._crashed = True

    def reset(self) -> None:
        """Throw away the page and cookies (a broken or logged-out session); keep the browser."""
        if self._context is not None:
            try:
                self._context.close()
            except Exception:  # the context may already be gone with a crashed browser
                pass
        self._context = None
        self._page = None
        self.document_status = None

    def close(self) -> None:
        self.reset()
        if self._browser is not None and self._browser is not self._shared:
            try:
                self._browser.close()
            except Exception:
                pass
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
