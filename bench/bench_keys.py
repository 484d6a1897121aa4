"""What a cached build pays before it can reuse anything: keying every unit, per renderer.

    .venv/bin/python bench/bench_keys.py --lessons 1000

prints, side by side from one run on an N-lesson corpus (bench/corpus.py), for print,
pocket cards, slides, posts and video:

- **inputs**: the seconds to make every unit's cache key from what it is made from
  (the keys the build uses);
- **planned**: the seconds to plan every unit and digest the planned document (its HTML,
  laid-out slides) — what a cached build paid before the keys were made from inputs,
  and what the key tests (tests/test_unit_keys.py) still compare against.

Posts and video always keyed from inputs (video: the job's fields, which are the lesson's
words); their rows have no "planned" figure. Loading the corpus is timed once, apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from corpus import make_corpus  # bench/ is on the path when this file runs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.renderers import RenderContext, posts, printing, video
from builder.renderers.fieldkit import cards, slides


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kepu-keys-") as scratch:
        root = make_corpus(Path(scratch) / "corpus", args.lessons, args.seed)
        load_seconds, project = timed(lambda: load_project(root, Diagnostics()))
        assert project is not None
        print(f"{len(project.lessons)} lessons, loaded in {load_seconds:.1f} s")
        print(f"{'renderer':<10}{'units':>7}{'inputs s':>10}{'planned s':>11}{'ratio':>8}")
        total_inputs = total_planned = 0.0
        for name, renderer in (("print", printing), ("cards", cards), ("slides", slides)):
            inputs, units = timed(lambda renderer=renderer: list(renderer.plan(project)))
            planned, _ = timed(lambda units=units: [unit.plan().job_key for unit in units])
            total_inputs, total_planned = total_inputs + inputs, total_planned + planned
            print(f"{name:<10}{len(units):>7}{inputs:>10.1f}{planned:>11.1f}{planned / inputs:>7.0f}×")
        inputs, units = timed(lambda: posts.plan(project))
        total_inputs += inputs
        print(f"{'posts':<10}{len(units):>7}{inputs:>10.1f}{'—':>11}")
        context = RenderContext(work_dir=Path(scratch) / "work", diagnostics=Diagnostics(), renderer="video")
        inputs, units = timed(lambda: video.plan(project, context))
        total_inputs += inputs
        print(f"{'video':<10}{len(units):>7}{inputs:>10.1f}{'—':>11}")
        print(f"{'total':<10}{'':>7}{total_inputs:>10.1f}{total_planned:>11.1f}  (planned: print, cards, slides)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
