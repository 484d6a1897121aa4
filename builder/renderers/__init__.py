"""Renderers: one module per output. Each turns a validated Project into artifacts.

A renderer is a function ``render(project, ctx) -> Iterable[Artifact]``; it knows
nothing about the other renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.model import Project
from builder.writer import Artifact


@dataclass
class RenderContext:
    work_dir: Path  # scratch space, removed after the build
    diagnostics: Diagnostics
    jobs: int = 1


Renderer = Callable[[Project, RenderContext], Iterable[Artifact]]


def all_renderers() -> dict[str, Renderer]:
    from builder.renderers import posts, printing, site

    return {"site": site.render, "posts": posts.render, "print": printing.render}
