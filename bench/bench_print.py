"""Seconds per PDF of each print kind: python bench/bench_print.py [--project DIR] [--per-kind N]

Renders, in this process and one at a time, up to N documents of every kind
from the project (default: the repository's own content), and prints the mean
and worst seconds per document: fitting (layouts) and PDF writing; flyer-png is
the rasterising of a flyer on its own. A first untimed document warms up fonts,
as a build worker would.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.diagnostics import Diagnostics
from builder.pdf import rasterise
from builder.project import load_project
from builder.renderers.printing import (
    FLYER_PNG_KIND,
    FLYER_PNG_WIDTH,
    FORMATS,
    PRESS_OF,
    plan_jobs,
    render_job,
    render_press,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--per-kind", type=int, default=5, metavar="N")
    args = parser.parse_args()

    diagnostics = Diagnostics()
    project = load_project(args.project.resolve(), diagnostics)
    if project is None:
        sys.exit("\n".join(str(d) for d in diagnostics.errors))

    started, started_cpu = time.perf_counter(), time.process_time()
    by_kind: dict[str, list] = defaultdict(list)
    for job in plan_jobs(project):
        if len(by_kind[job.kind]) < args.per_kind:
            by_kind[job.kind].append(job)
    planning, planning_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    render_job(next(iter(by_kind.values()))[0])  # warm-up: fontconfig and font files

    print(
        f"planning (templates, QR codes) for all documents: {planning:.2f} s wall, {planning_cpu:.2f} s cpu"
    )
    print(f"{'kind':<18}{'docs':>5}{'mean s':>9}{'max s':>8}{'cpu s':>8}{'pages':>7}")
    seconds: dict[str, list[float]] = defaultdict(list)
    # CPU seconds too: on a shared machine wall time also measures the neighbours.
    cpu_seconds: dict[str, list[float]] = defaultdict(list)
    pages: dict[str, list[int]] = defaultdict(list)
    for kind in FORMATS:
        for job in by_kind.get(kind, []):
            started, started_cpu = time.perf_counter(), time.process_time()
            rendered = render_job(dataclasses.replace(job, png_path=None, press_path=None))
            seconds[kind].append(time.perf_counter() - started)
            cpu_seconds[kind].append(time.process_time() - started_cpu)
            pages[kind].append(rendered.page_count)
            if job.press_path:  # the press version, timed on its own
                step = job.format.type_scales.index(rendered.scale)
                started, started_cpu = time.perf_counter(), time.process_time()
                render_press(job.html_by_scale[step], job)
                seconds[PRESS_OF[kind]].append(time.perf_counter() - started)
                cpu_seconds[PRESS_OF[kind]].append(time.process_time() - started_cpu)
                pages[PRESS_OF[kind]].append(rendered.page_count)
            if job.png_path:  # the flyer PNG, timed on its own
                started, started_cpu = time.perf_counter(), time.process_time()
                rasterise(rendered.pdf, FLYER_PNG_WIDTH)
                seconds[FLYER_PNG_KIND].append(time.perf_counter() - started)
                cpu_seconds[FLYER_PNG_KIND].append(time.process_time() - started_cpu)
                pages[FLYER_PNG_KIND].append(rendered.page_count)
    for kind, times in seconds.items():
        print(
            f"{kind:<18}{len(times):>5}{statistics.mean(times):>9.2f}{max(times):>8.2f}"
            f"{statistics.mean(cpu_seconds[kind]):>8.2f}{statistics.mean(pages[kind]):>7.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
