"""Seconds per document of each field-kit kind: python bench/bench_fieldkit.py [--project DIR] [--per-kind N]

Plans and renders, in this process and one at a time, up to N units of every
field-kit renderer (handbook, slides, pocket cards, boards, health room) from the
project (default: the repository's own content) and prints wall and CPU seconds
per unit — a unit makes the kinds listed beside it (a handbook unit writes the
booklet and its imposition; a slides unit the .pptx and the PDF). A first untimed
unit warms up fonts, as a build worker would. On a shared machine wall time also
measures the neighbours: read the CPU column.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.renderers.fieldkit import boards, cards, handbook, rooms, slides


def units(project: Any) -> Iterable[tuple[str, str, Callable[[], Any], Callable[[Any], Any]]]:
    """(name, kinds, plan, render) for every unit the field kit would render, in build order."""
    for book in project.handbooks:
        yield (
            "handbook",
            "handbook-pdf + handbook-imposed-pdf",
            lambda b=book: handbook.plan_job(project, b),
            handbook.render_handbook,
        )
    for lesson in project.lessons:
        yield (
            "slides",
            "slides-pptx + slides-pdf",
            lambda one=lesson: slides.plan_job(project, one),
            slides.render_slides,
        )
    for lesson in project.lessons:
        yield (
            "cards",
            "pocket-card-pdf + pocket-sheet-pdf",
            lambda one=lesson: cards.plan_job(project, one),
            cards.render_card,
        )
    jobs = list(boards.plan_jobs(project))
    for job in jobs:
        yield f"boards:{job.document.kind}", "office + press", lambda j=job: j, boards.render_board
    for room in project.rooms:
        for job in rooms.plan_jobs(project, room):
            yield f"rooms:{job.kind}", job.kind, lambda j=job: j, rooms.render_notice


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--per-kind", type=int, default=3, metavar="N")
    args = parser.parse_args()

    diagnostics = Diagnostics()
    project = load_project(args.project.resolve(), diagnostics)
    if project is None:
        sys.exit("\n".join(str(d) for d in diagnostics.errors))

    chosen: dict[str, list[tuple[str, Callable[[], Any], Callable[[Any], Any]]]] = {}
    for name, kinds, plan, render in units(project):
        if len(chosen.setdefault(name, [])) < args.per_kind:
            chosen[name].append((kinds, plan, render))
    first = next(iter(chosen.values()))[0]
    first[2](first[1]())  # warm-up: fontconfig and font files

    print(f"{'unit':<30}{'n':>3}{'plan s':>8}{'wall s':>8}{'max s':>7}{'cpu s':>7}  makes")
    for name, picked in chosen.items():
        planned, walls, cpus = [], [], []
        for _kinds, plan, render in picked:
            started = time.perf_counter()
            job = plan()
            planned.append(time.perf_counter() - started)
            started, cpu = time.perf_counter(), time.process_time()
            render(job)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        print(
            f"{name:<30}{len(picked):>3}{statistics.mean(planned):>8.2f}{statistics.mean(walls):>8.2f}"
            f"{max(walls):>7.2f}{statistics.mean(cpus):>7.2f}  {picked[0][0]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
