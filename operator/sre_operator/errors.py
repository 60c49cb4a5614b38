"""Errors raised by sre-operator.

    SreOperatorError
    ├── InvalidSpec        a document the user can fix; carries one Problem per field
    └── ToolMissing        an external program (promtool) is not installed

Callers that print errors print ``Problem`` lines, never tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, anchored at a field path such as ``spec.slos[1].objective``."""

    path: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.path}: {self.message}"


class SreOperatorError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidSpec(SreOperatorError):
    """A document failed validation; ``problems`` names each field at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ToolMissing(SreOperatorError):
    """An external program the command needs is not on PATH."""
