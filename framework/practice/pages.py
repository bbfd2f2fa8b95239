"""HTML pages of the practice system: the Jinja2 templates, compiled once, rendered to bytes."""

from __future__ import annotations

import functools

import jinja2

from framework.practice.validation import SERVICE_TYPES, SUPPORT_LEVELS

SYSTEM_NAME = "障害福祉システム（練習用）"
TEMPLATES = (
    "login.html",
    "menu.html",
    "form.html",
    "confirm.html",
    "done.html",
    "list.html",
    "message.html",
)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("framework.practice", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    environment.globals.update(
        system_name=SYSTEM_NAME,
        service_types=SERVICE_TYPES,
        support_levels=SUPPORT_LEVELS,
    )
    environment.get_template("base.html")  # the layout every page extends
    return environment


class Pages:
    """The templates, loaded and compiled when constructed (not per request)."""

    def __init__(self) -> None:
        environment = _environment()
        self._templates = {name: environment.get_template(name) for name in TEMPLATES}

    def render(self, name: str, **context: object) -> bytes:
        """The page ``name`` (one of :data:`TEMPLATES`) as UTF-8 HTML."""
        return self._templates[name].render(context).encode("utf-8")
