"""Past one machine, measured: the Dask executor against the local pool, and a shared cache.

    .venv/bin/python bench/bench_scale.py --lessons 40 --only print

prints, side by side from one run:

- the ``--only`` stage of an N-lesson corpus on 1 local worker, 2 local workers and a Dask
  LocalCluster of 2 workers (cache off), with the speed-up over one worker;
- Dask's own cost per job: N no-op jobs through each executor, (Dask − local) / N;
- a second checkout at another path with ``--cache-url`` shared: its seconds and how many
  units it rendered (it should render none);
- CPU seconds per unit from the one-worker build, the figure the cost estimate in
  docs/scale.md multiplies out.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import make_corpus  # bench/ is on the path when this file runs

from builder.executors import open_executor

KEPU = Path(sys.executable).parent / "kepu"


def noop(value: int) -> int:
    return value


def kepu_build(project: Path, out: Path, only: str, *extra: str) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds of the build and its workers, and the --report-json report."""
    report = out.parent / f"{out.name}.report.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [str(KEPU), "build", "--project", str(project), "--out", str(out), "--only", only, "--quiet",
         "--report-json", str(report), *extra],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(report.read_text(encoding="utf-8"))


def overhead_per_job(jobs: int) -> tuple[float, float]:
    items = list(range(jobs))
    timings = []
    for name in ("local", "dask"):
        with open_executor(name, 2) as executor:
            list(executor.map(noop, items[:4]))  # warm: workers started, function shipped
            started = time.perf_counter()
            list(executor.map(noop, items))
            timings.append(time.perf_counter() - started)
    local, dask = timings
    return local / jobs, dask / jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--only", default="print")
    parser.add_argument("--noop-jobs", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kepu-bench-scale-") as folder:
        root = Path(folder)
        project = make_corpus(root / "a" / "project", args.lessons)
        rows = []
        for label, extra in (
            ("local, 1 worker", ("--jobs", "1", "--no-cache")),
            ("local, 2 workers", ("--jobs", "2", "--no-cache")),
            ("dask LocalCluster, 2 workers", ("--jobs", "2", "--no-cache", "--executor", "dask")),
        ):
            wall, cpu, report = kepu_build(project, root / f"out-{len(rows)}", args.only, *extra)
            rows.append((label, wall, cpu, report))
        units = max(1, rows[0][3]["rendered"])
        print(f"{args.lessons} lessons, --only {args.only}: {rows[0][3]['rendered']} artifacts rendered")
        print(f"{'':32} {'wall s':>8} {'speed-up':>9}")
        for label, wall, _, _ in rows:
            print(f"{label:32} {wall:8.1f} {rows[0][1] / wall:8.2f}×")
        # Only the one-worker build renders in the process this accounting sees (pool and
        # cluster workers are not its direct children), so it alone gives CPU per artifact.
        print(f"CPU seconds per artifact (1 worker): {rows[0][2] / units:.3f}")

        local, dask = overhead_per_job(args.noop_jobs)
        print(f"per no-op job: local pool {local * 1000:.2f} ms, dask {dask * 1000:.2f} ms "
              f"(Dask's overhead ≈ {(dask - local) * 1000:.2f} ms a job)")  # fmt: skip

        url = (root / "shared-cache").as_uri()
        first = kepu_build(project, root / "out-first", args.only, "--jobs", "2", "--cache-url", url)
        second_project = root / "b" / "elsewhere" / "project"
        shutil.copytree(project, second_project, ignore=shutil.ignore_patterns(".kepu-cache"))
        second = kepu_build(second_project, root / "out-second", args.only, "--jobs", "2", "--cache-url", url)
        print(f"shared cache: first checkout {first[0]:.1f} s ({first[2]['rendered']} rendered); "
              f"second checkout {second[0]:.1f} s ({second[2]['rendered']} rendered, "
              f"{second[2]['reused']} reused)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
