"""Seconds per PDF of each print kind: python bench/bench_print.py [--project DIR] [--per-kind N]

Renders, in this process and one at a time, up to N documents of every kind
from the project (default: the repository's own content), and prints the mean
and worst seconds per document: fitting (layouts), PDF writing and, for flyers,
the PNG. A first untimed document warms up fonts, as a build worker would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.renderers.printing import FORMATS, plan_jobs, render_job


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--per-kind", type=int, default=5, metavar="N")
    args = parser.parse_args()

    diagnostics = Diagnostics()
    project = load_project(args.project.resolve(), diagnostics)
    if project is None:
        sys.exit("\n".join(str(d) for d in diagnostics.errors))

    started = time.perf_counter()
    by_kind = defaultdict(list)
    for job in plan_jobs(project):
        if len(by_kind[job.kind]) < args.per_kind:
            by_kind[job.kind].append(job)
    planning = time.perf_counter() - started
    render_job(next(iter(by_kind.values()))[0])  # warm-up: fontconfig and font files

    print(f"planning (templates, QR codes) for all documents: {planning:.2f} s")
    print(f"{'kind':<18}{'docs':>5}{'mean s':>9}{'max s':>8}{'pages':>7}")
    for kind in FORMATS:
        seconds, pages = [], []
        for job in by_kind.get(kind, []):
            started = time.perf_counter()
            rendered = render_job(job)
            seconds.append(time.perf_counter() - started)
            pages.append(rendered.page_count)
        if seconds:
            print(
                f"{kind:<18}{len(seconds):>5}{statistics.mean(seconds):>9.2f}{max(seconds):>8.2f}"
                f"{statistics.mean(pages):>7.1f}"
            )
    print("(flyer-pdf includes rasterising its flyer-png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
