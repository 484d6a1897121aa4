"""The whole build, read top to bottom: load → validate → render → write."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from builder.cache import ArtifactCache, relocatable_keys
from builder.diagnostics import ContentError, Diagnostics
from builder.executors import Executor, open_executor
from builder.parallel import warm_up
from builder.progress import stage_progress
from builder.project import load_project
from builder.remote_cache import RemoteCache
from builder.renderers import RenderContext, Renderer, registry
from builder.writer import OutputWriter, check_cache_folder, check_output_folder, recover_output

CACHE_FOLDER = ".kepu-cache"  # inside the project, unless --cache-dir says otherwise


@dataclass
class BuildResult:
    out_dir: Path
    diagnostics: Diagnostics
    artifacts: Counter[str] = field(default_factory=Counter)  # kind → count
    seconds: dict[str, float] = field(default_factory=dict)  # stage → seconds
    cache: ArtifactCache = field(default_factory=lambda: ArtifactCache(None))
    executor: dict[str, object] = field(default_factory=dict)  # where the jobs ran, for --report-json

    @property
    def rendered(self) -> int:
        return sum(self.cache.rendered.values())

    @property
    def reused(self) -> int:
        return sum(self.cache.reused.values())


class UnknownRendererError(ValueError):
    pass


def build(
    project_dir: Path,
    out_dir: Path | None = None,
    only: list[str] | None = None,
    jobs: int = 1,
    strict: bool = False,
    today: dt.date | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: bool = False,
    executor: str = "local",
    dask_scheduler: str | None = None,
    cache_url: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build ``project_dir`` into ``out_dir`` (default ``project_dir/public``).

    Units whose inputs are unchanged are copied from the cache (default
    ``project_dir/.kepu-cache``), or from the shared cache at ``cache_url`` (any fsspec
    URL, :mod:`builder.remote_cache`); ``use_cache=False`` renders everything. Unit jobs
    run on ``executor`` ("local" or "dask", :mod:`builder.executors`).

    Raises :class:`ContentError` with every problem when the content has errors
    (or warnings, with ``strict``); the previous output is then left untouched.
    Raises :class:`~builder.writer.UnsafeOutputError`, before anything is written,
    when ``out_dir`` or ``cache_dir`` overlaps the sources, each other, or (for
    ``out_dir``) a non-empty folder that is not a previous Kepu output.
    """
    project_dir = project_dir.resolve()
    out_dir = (out_dir or project_dir / "public").resolve()
    renderers = registry()
    selected = only or list(renderers)
    unknown = [name for name in selected if name not in renderers]
    if unknown:
        raise UnknownRendererError(f"未知的输出 {', '.join(unknown)}（可选：{', '.join(renderers)}）")
    cache_folder = (cache_dir or project_dir / CACHE_FOLDER).resolve()
    check_output_folder(out_dir, project_dir)
    check_cache_folder(cache_folder, project_dir, out_dir)
    # A build killed mid-commit may have left the last good output aside: put it back first,
    # so even a build that fails on content leaves the output as it was before that crash.
    recover_output(out_dir)
    remote = RemoteCache(cache_url) if cache_url and use_cache else None
    cache = ArtifactCache(cache_folder if use_cache else None, remote=remote)
    with relocatable_keys(project_dir), open_executor(executor, jobs, dask_scheduler, announce) as runner:
        return _build(project_dir, out_dir, renderers, selected, jobs, strict, today, cache, progress, runner)


def _build(
    project_dir: Path,
    out_dir: Path,
    renderers: dict[str, Renderer],
    selected: list[str],
    jobs: int,
    strict: bool,
    today: dt.date | None,
    cache: ArtifactCache,
    progress: bool,
    executor: Executor,
) -> BuildResult:
    result = BuildResult(out_dir, Diagnostics(), cache=cache)

    started = time.perf_counter()
    warm_up(jobs)
    project = load_project(project_dir, result.diagnostics, today)
    result.seconds["load"] = time.perf_counter() - started
    if project is None or (strict and result.diagnostics.warnings):
        raise ContentError(result.diagnostics)

    writer = OutputWriter(out_dir, ledger=cache.ledger(out_dir))
    cache.published = writer.published_file
    try:
        for name in selected:
            started = time.perf_counter()
            ctx = RenderContext(
                writer.scratch_dir(name),
                result.diagnostics,
                jobs,
                renderer=name,
                cache=cache,
                progress=stage_progress(name, progress),
                executor=executor,
            )
            try:
                for artifact in renderers[name].render(project, ctx):
                    writer.add(artifact)
                    result.artifacts[artifact.kind] += 1
            finally:
                ctx.progress.close()
            result.seconds[name] = time.perf_counter() - started
        if strict and result.diagnostics.warnings:
            raise ContentError(result.diagnostics)
        started = time.perf_counter()
        writer.commit()
        for name in selected:
            cache.prune(name)
        result.seconds["write"] = time.perf_counter() - started
        result.executor = executor.describe()
    except BaseException:
        writer.abort()
        raise
    return result


def check(
    project_dir: Path,
    today: dt.date | None = None,
    jobs: int = 1,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> Diagnostics:
    """Validate only; nothing is written.

    Beyond the content rules, this reports what would not fit the outputs — a
    post title too long, a flyer that cannot hold its key points — before any
    rendering, so editors see it while writing. Print documents the last build
    rendered from the same inputs are not laid out again (the cache is only read).
    """
    diagnostics = Diagnostics()
    with relocatable_keys(project_dir):  # the keys the build used, to find its print verdicts
        _check(project_dir, diagnostics, today, jobs, cache_dir, use_cache)
    return diagnostics


def _check(
    project_dir: Path,
    diagnostics: Diagnostics,
    today: dt.date | None,
    jobs: int,
    cache_dir: Path | None,
    use_cache: bool,
) -> None:
    from builder.quality import check_quality

    project = load_project(project_dir.resolve(), diagnostics, today)
    if project is not None:
        folder = (cache_dir or project.root / CACHE_FOLDER).resolve()
        cache = ArtifactCache(folder) if use_cache and folder.is_dir() else None
        for renderer in registry().values():  # what would not fit each output
            if renderer.check is not None:
                renderer.check(project, diagnostics, cache, jobs)
        check_quality(project, diagnostics)  # plain language, clarity, trust, compliance
