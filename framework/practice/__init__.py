"""The bundled practice system: a local imitation of a disability-welfare case system."""

from __future__ import annotations

from framework.practice.config import PracticeConfig
from framework.practice.server import PracticeServer

__all__ = ["PracticeConfig", "PracticeServer"]
