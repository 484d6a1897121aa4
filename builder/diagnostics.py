"""Problems found in content, reported as ``path:line: message``.

Every stage appends to one :class:`Diagnostics` list instead of raising, so a run
reports all mistakes at once — editors fix ten typos in one pass, not ten builds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str  # relative to the project, with forward slashes
    line: int  # 1-based; 0 when the problem concerns the whole file
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        label = "" if self.severity is Severity.ERROR else "警告："
        return f"{self.path}:{self.line}: {label}{self.message}"


@dataclass
class Diagnostics:
    items: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, Severity.ERROR))

    def warning(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, message, Severity.WARNING))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.items), key=lambda d: (d.path, d.line, d.message))

    def to_json(self) -> str:
        return json.dumps(
            {
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "diagnostics": [asdict(d) for d in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )


class ContentError(Exception):
    """Raised by the pipeline when content has errors; carries all of them."""

    def __init__(self, diagnostics: Diagnostics):
        super().__init__(f"{len(diagnostics.errors)} content error(s)")
        self.diagnostics = diagnostics
