"""kakari: declarative RPA for the back offices of Japanese city halls.

The public API below is what a step pack (a city's own steps for its own systems) may use;
everything else is internal and may change.
"""

from framework.context import StepContext, Target
from framework.errors import ApplicationError, BusinessError, InvalidError, Problem, SourcePos
from framework.items import RawRow
from framework.outcome import ExitCode, ItemOutcome, ItemStatus
from framework.registry import ItemReader, Registry, SourceSpec, StepSpec, step
from framework.templating import Expression, Template

__all__ = [
    "ApplicationError",
    "BusinessError",
    "ExitCode",
    "Expression",
    "InvalidError",
    "ItemOutcome",
    "ItemReader",
    "ItemStatus",
    "Problem",
    "RawRow",
    "Registry",
    "SourcePos",
    "SourceSpec",
    "StepContext",
    "StepSpec",
    "Target",
    "Template",
    "step",
]
