"""The contract every output follows, and the registry the pipeline, ``kepu check``, the
worker processes and the command line all read.

A renderer is one module with a module-level ``RENDERER = Renderer(...)``: its name,
the artifact kinds it makes, ``render(project, ctx)``, an optional
``check(project, diagnostics, cache)`` for what would not fit its output (run by
``kepu check`` before anything is rendered), and the modules its worker processes
should import once. Adding an output is one module, its templates and one line in
:data:`RENDERER_MODULES`.

Renderers that split their work into units — a lesson's PDFs, a lesson's videos —
hand them to :meth:`RenderContext.render_units`, which does cache reuse, the parallel
map, error wrapping and keeping for all of them the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from builder.cache import ArtifactCache, CachedUnit
from builder.diagnostics import Diagnostic, Diagnostics
from builder.executors import Executor
from builder.model import Project
from builder.parallel import parallel_map
from builder.progress import StageProgress
from builder.writer import Artifact

# The outputs, in build order. A project builds all of them unless --only says otherwise.
RENDERER_MODULES = [
    "builder.renderers.site",
    "builder.renderers.posts",
    "builder.renderers.printing",
    "builder.renderers.video",
    "builder.renderers.fieldkit.handbook",
    "builder.renderers.fieldkit.slides",
    "builder.renderers.fieldkit.cards",
    "builder.renderers.fieldkit.boards",
    "builder.renderers.fieldkit.rooms",
    "builder.renderers.report",
]

Plan = TypeVar("Plan")
Job = TypeVar("Job")
Result = TypeVar("Result")


class RenderError(Exception):
    """One unit failed to render; names the content file it came from, for the editor."""

    def __init__(self, source: str, what: str, cause: BaseException):
        super().__init__(f"{source}: 生成 {what} 失败：{type(cause).__name__}: {cause}")
        self.source = source


@dataclass
class Unit(Generic[Plan]):
    """One cacheable piece of a renderer's work, planned before anything is rendered."""

    key: str  # the cache key: a fingerprint of everything the unit is made from
    plan: Plan  # what the renderer needs to finish it; made into a worker's job only if not cached
    source: str  # the content file it comes from, named when it fails
    what: str  # what it makes, for the error message ("print/lessons/x/flyer.pdf")


@dataclass
class RenderContext:
    work_dir: Path  # scratch space, removed after the build
    diagnostics: Diagnostics
    jobs: int = 1
    renderer: str = ""
    cache: ArtifactCache = field(default_factory=lambda: ArtifactCache(None))
    progress: StageProgress = field(default_factory=StageProgress)
    # Where unit jobs run (builder.executors); None: this machine's pool of ``jobs`` workers.
    executor: Executor | None = None

    def reuse(self, key: str) -> list[Artifact] | None:
        """The artifacts of a unit rendered before with the same inputs, with its warnings re-reported."""
        unit = self.cache.lookup(self.renderer, key, self.work_dir / "cached")
        if unit is None:
            return None
        self.diagnostics.items.extend(unit.warnings)
        return unit.artifacts

    def keep(
        self,
        key: str,
        artifacts: list[Artifact],
        warnings: Iterable[Diagnostic] = (),
        like: str | None = None,
    ) -> None:
        """Record a freshly rendered unit (its warnings must already be in ``diagnostics``).

        ``like``: the key of an earlier unit sharing most files (see ``ArtifactCache.store``).
        """
        self.cache.store(self.renderer, key, CachedUnit(list(artifacts), list(warnings)), like)

    def render_units(
        self,
        units: Sequence[Unit[Plan]],
        job: Callable[[Plan], Job],
        work: Callable[[Job], Result],
        finish: Callable[[Unit[Plan], Result, Diagnostics], list[Artifact]],
    ) -> Iterator[Artifact]:
        """Reuse what is cached, render the rest on ``self.jobs`` workers, keep it, in unit order.

        ``job(plan)`` makes the picklable job a worker runs with ``work`` (a module-level
        function); ``finish`` turns its result into artifacts and reports the unit's own
        warnings into the Diagnostics it is given, which are merged in unit order and
        kept with the unit, so a cached unit reports exactly what a fresh one did.
        """
        reused = [self.reuse(unit.key) for unit in units]
        self.progress.start(len(units))
        pending = [job(unit.plan) for unit, cached in zip(units, reused, strict=True) if cached is None]
        mapped = self.executor.map(work, pending) if self.executor else parallel_map(work, pending, self.jobs)
        results = iter(mapped)
        for unit, cached in zip(units, reused, strict=True):
            self.progress.advance()
            if cached is not None:
                yield from cached
                continue
            try:
                result = next(results)
            except Exception as error:  # the pool has finished or cancelled the rest; the build stops cleanly
                raise RenderError(unit.source, unit.what, error) from error
            own = Diagnostics()
            artifacts = finish(unit, result, own)
            self.diagnostics.extend(own)
            self.keep(unit.key, artifacts, own.items)
            yield from artifacts


RenderFunction = Callable[[Project, RenderContext], Iterable[Artifact]]
CheckFunction = Callable[[Project, Diagnostics, ArtifactCache | None, int], None]


@dataclass(frozen=True)
class Renderer:
    name: str  # what --only and the manifest's path prefix call it
    label: str  # what the command line's help calls it, in Chinese
    kinds: tuple[str, ...]  # the artifact kinds it makes
    render: RenderFunction
    # What would not fit this output, reported by ``kepu check`` before any rendering:
    # check(project, diagnostics, build cache or None, jobs).
    check: CheckFunction | None = None
    preload: tuple[str, ...] = ()  # modules its worker processes import once


def registry(modules: Sequence[str] | None = None) -> dict[str, Renderer]:
    """Every renderer, by name, in build order."""
    found: dict[str, Renderer] = {}
    for name in modules or RENDERER_MODULES:
        renderer: Any = getattr(importlib.import_module(name), "RENDERER", None)
        if not isinstance(renderer, Renderer):
            raise TypeError(f"{name} has no RENDERER = Renderer(...)")
        found[renderer.name] = renderer
    return found
