"""Renderers: one module per output. Each turns a validated Project into artifacts.

A renderer is a function ``render(project, ctx) -> Iterable[Artifact]``; it knows
nothing about the other renderers. Renderers split their work into units (a
lesson's PDFs, the whole site …) and ask ``ctx`` whether a unit with the same
inputs was rendered before (:mod:`builder.cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from builder.cache import ArtifactCache, CachedUnit
from builder.diagnostics import Diagnostic, Diagnostics
from builder.model import Project
from builder.progress import StageProgress
from builder.writer import Artifact


@dataclass
class RenderContext:
    work_dir: Path  # scratch space, removed after the build
    diagnostics: Diagnostics
    jobs: int = 1
    renderer: str = ""
    cache: ArtifactCache = field(default_factory=lambda: ArtifactCache(None))
    progress: StageProgress = field(default_factory=StageProgress)

    def reuse(self, key: str) -> list[Artifact] | None:
        """The artifacts of a unit rendered before with the same inputs, with its warnings re-reported."""
        unit = self.cache.lookup(self.renderer, key, self.work_dir / "cached")
        if unit is None:
            return None
        self.diagnostics.items.extend(unit.warnings)
        return unit.artifacts

    def keep(self, key: str, artifacts: list[Artifact], warnings: Iterable[Diagnostic] = ()) -> None:
        """Record a freshly rendered unit (its warnings must already be in ``diagnostics``)."""
        self.cache.store(self.renderer, key, CachedUnit(list(artifacts), list(warnings)))


Renderer = Callable[[Project, RenderContext], Iterable[Artifact]]


class RenderError(Exception):
    """One unit failed to render; names the content file it came from, for the editor."""

    def __init__(self, source: str, what: str, cause: BaseException):
        super().__init__(f"{source}: 生成 {what} 失败：{type(cause).__name__}: {cause}")
        self.source = source


def all_renderers() -> dict[str, Renderer]:
    from builder.renderers import posts, printing, site, video

    return {"site": site.render, "posts": posts.render, "print": printing.render, "video": video.render}
