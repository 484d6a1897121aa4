"""Benchmark the build: python bench/run.py --lessons N [--only site,print,...]

Generates a synthetic project of N lessons (see corpus.py), builds it in a
subprocess exactly as users do (`kepu build`), and prints a table of wall time,
per-stage seconds and peak memory.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_corpus


def timed_build(project: Path, only: str | None, jobs: int | None) -> tuple[float, str]:
    command = [sys.executable, "-m", "builder", "build", "--project", str(project)]
    if only:
        command += ["--only", only]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--only", help="outputs to build, e.g. site,print (default: all)")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--keep", type=Path, help="generate the project here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kepu-bench-") as tmp:
        project = make_corpus(args.keep or Path(tmp) / "project", args.lessons)
        rows = []
        seconds, output = timed_build(project, args.only, args.jobs)
        rows.append(("full build", seconds))
        stages = re.search(r"（(load .*)）", output)
        seconds, _ = timed_build(project, args.only, args.jobs)
        rows.append(("rebuild, nothing changed", seconds))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    print(f"Kepu benchmark — {args.lessons} lessons, outputs: {args.only or 'all'}")
    print(f"{'measure':<28}{'seconds':>10}")
    for name, value in rows:
        print(f"{name:<28}{value:>10.2f}")
    if stages:
        print(f"stages of the full build: {stages.group(1)}")
    print(f"peak memory of a build: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
