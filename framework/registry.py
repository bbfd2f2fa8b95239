"""The step registry: every step and item source a workflow may use, with its arguments model.

Step packs declare steps with the :func:`step` decorator, which only attaches metadata; a pack's
``register(registry)`` function adds them explicitly. Built-in packs are found the same way as
third-party ones, through the ``kakari.steps.v1`` entry-point group, so a city's own pack (for its
tax system, say) is installed like any Python package and needs no change here.

The validator reads the registry to check step names and arguments, and ``rpa steps`` prints the
docstrings it holds, so a step's docstring is its user documentation.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from framework.errors import unknown_name

if TYPE_CHECKING:
    from framework.context import StepContext
    from framework.items import ItemsSpec, RawRow
    from framework.outcome import ItemOutcome

ENTRY_POINT_GROUP = "kakari.steps.v1"
BUILTIN_PACKS = ("control", "browser", "excel", "pdf")

StepFunc = Callable[["StepContext", Any], None]
F = TypeVar("F", bound=Callable[..., Any])


class StepBlock:
    """Marker for an argument that holds nested steps: ``then: Annotated[list[Any], BLOCK]``."""


BLOCK = StepBlock()


def block_fields(model: type[BaseModel]) -> list[tuple[str, str]]:
    """The arguments of a step model that hold nested step lists: (attribute, key in YAML)."""
    return [
        (name, info.alias or name)
        for name, info in model.model_fields.items()
        if any(isinstance(m, StepBlock) for m in info.metadata)
    ]


@dataclass(frozen=True)
class StepSpec:
    """What the registry knows about one step."""

    name: str
    func: StepFunc
    args: type[BaseModel]
    shorthand: str | None = None
    """The argument a plain scalar fills: ``- browser.goto: https://...`` sets ``url``."""
    pack: str = ""

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


def step(name: str, *, shorthand: str | None = None) -> Callable[[F], F]:
    """Mark a function as the step ``name``; its second parameter's type is the arguments model.

    The decorator does not register anything: a pack's ``register`` function does that.
    """

    def mark(func: F) -> F:
        hints = typing.get_type_hints(func)
        params = list(inspect.signature(func).parameters)
        if len(params) != 2:
            raise TypeError(f"step {name}: expected (ctx, args), got {params}")
        model = hints.get(params[1])
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"step {name}: the args parameter must be a pydantic model")
        func.__kakari_step__ = StepSpec(  # type: ignore[attr-defined]
            name=name, func=func, args=model, shorthand=shorthand
        )
        return func

    return mark


class ItemReader(Protocol):
    """Reads the items of one input file (a workbook, a PDF) for a workflow's ``items`` section."""

    def check(self) -> None:
        """Raise :class:`~framework.errors.InvalidError` if the file cannot be used at all."""

    def estimate(self) -> int | None:
        """A cheap estimate of the number of items, for the progress bar."""

    def rows(self) -> Iterator[RawRow]:
        """The raw rows, in order; streaming where the format allows."""

    def write_results(self, outcomes: Sequence[ItemOutcome], out_dir: Path) -> Path | None:
        """Write a results copy of the input (never modifying it); return its path."""


@dataclass(frozen=True)
class SourceSpec:
    """An item source: which files it reads and how (e.g. ``excel`` for .xlsx)."""

    name: str
    suffixes: tuple[str, ...]
    options: type[BaseModel]
    open: Callable[[Path, str, Any, ItemsSpec], ItemReader]
    """``open(path, shown_name, options, items_spec)``."""
    doc: str = ""


class UnknownNameError(LookupError):
    """A step name that is not registered; the message suggests the closest one."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(unknown_name("ステップ", "step", name, known, listing=False))


@dataclass
class Registry:
    """Steps and item sources by name."""

    steps: dict[str, StepSpec] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)

    def add(self, func: Callable[..., Any], *, pack: str = "") -> None:
        """Register a function decorated with :func:`step`."""
        spec: StepSpec | None = getattr(func, "__kakari_step__", None)
        if spec is None:
            raise TypeError(f"{func!r} is not decorated with @step")
        if spec.name in self.steps:
            raise ValueError(f"step {spec.name!r} is registered twice")
        self.steps[spec.name] = StepSpec(
            name=spec.name,
            func=spec.func,
            args=spec.args,
            shorthand=spec.shorthand,
            pack=pack,
        )

    def add_all(self, funcs: Iterable[Callable[..., Any]], *, pack: str = "") -> None:
        for func in funcs:
            self.add(func, pack=pack)

    def add_source(self, spec: SourceSpec) -> None:
        if spec.name in self.sources:
            raise ValueError(f"item source {spec.name!r} is registered twice")
        self.sources[spec.name] = spec

    def step(self, name: str) -> StepSpec:
        try:
            return self.steps[name]
        except KeyError:
            raise UnknownNameError(name, self.steps) from None

    def source_for(self, path: Path) -> SourceSpec | None:
        suffix = path.suffix.lower()
        for spec in self.sources.values():
            if suffix in spec.suffixes:
                return spec
        return None

    @classmethod
    def default(cls) -> Registry:
        """A fresh registry with every installed pack (built-in ones included)."""
        registry = cls()
        loaded: set[str] = set()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in loaded:
                continue
            ep.load()(registry)
            loaded.add(ep.name)
        for name in BUILTIN_PACKS:
            # Running from a source tree without installed metadata: load the built-ins directly.
            if name not in loaded:
                module = __import__(f"framework.steps.{name}", fromlist=["register"])
                module.register(registry)
        return registry
