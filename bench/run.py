"""Benchmark the build: python bench/run.py --lessons N [--no-video] [--compare-mkdocs]

Generates a synthetic project of N lessons (see corpus.py), builds it in a
subprocess exactly as users do (`kepu build`), and prints a table: full build,
no-op rebuild, rebuild after editing one lesson's body, rebuild after editing one
template, seconds per stage, rendered/reused counts and peak memory. With
--compare-mkdocs it then times the site stage against a bare `mkdocs build` of
the same pages, in turns (--compare-runs pairs), and prints the ratio of each pair.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_corpus

REPO = Path(__file__).resolve().parent.parent
ALL_OUTPUTS = ("site", "posts", "print", "video")


def seconds_list(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


def kepu_build(project: Path, only: str, jobs: int | None, extra: tuple[str, ...] = ()) -> tuple[float, str]:
    command = [sys.executable, "-m", "builder", "build", "--project", str(project), "--only", only, "--quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    started = time.perf_counter()
    result = subprocess.run([*command, *extra], capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def summary(output: str) -> str:
    counts = re.search(r"新渲染 (\d+) 个，从缓存复用 (\d+) 个", output)
    stages = re.search(r"（(load .*)）", output)
    rendered = f"rendered {counts.group(1)}, reused {counts.group(2)}" if counts else ""
    return f"{rendered}; {stages.group(1) if stages else ''}"


def bare_mkdocs_sources(project: Path) -> Path:
    """The very pages Kepu generates, with the same theme and search settings: their mkdocs.yml."""
    from builder.diagnostics import Diagnostics
    from builder.project import load_project
    from builder.renderers import RenderContext
    from builder.renderers import site as site_renderer
    from builder.site.guard import SHARE_QR_MARK
    from builder.site.pages import DASHBOARD_PAGE, dashboard_page, share_qr_codes
    from builder.site.workspace import WORKSPACE

    work = Path(tempfile.mkdtemp(prefix="kepu-bare-"))
    loaded = load_project(project, Diagnostics())
    assert loaded is not None
    ctx = RenderContext(work, Diagnostics())
    # Run Kepu's site renderer once to get the generated sources, then time MkDocs alone on them.
    for _ in site_renderer.render(loaded, ctx):
        pass
    # Kepu fills in the dashboard and the share panels' QR codes while MkDocs runs;
    # the bare build gets them in its Markdown, so both build the same pages.
    docs = work / WORKSPACE / "src" / "docs"
    (docs / DASHBOARD_PAGE).write_text(dashboard_page(loaded).complete_markdown(), encoding="utf-8")
    urls = {lesson.slug: loaded.config.url + lesson.site_path for lesson in loaded.lessons}
    for slug, svg in share_qr_codes(urls).items():
        page = docs / "lessons" / f"{slug}.md"
        page.write_text(
            page.read_text(encoding="utf-8").replace(SHARE_QR_MARK, svg), encoding="utf-8"
        )
    return work / WORKSPACE / "src" / "mkdocs.yml"


def bare_mkdocs_seconds(mkdocs_yml: Path) -> float:
    """A plain `mkdocs build`."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(mkdocs_yml)], check=True, cwd=REPO
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--only", help="outputs to build (default: all)")
    parser.add_argument("--no-video", action="store_true", help="leave video out: it dominates")
    parser.add_argument("--jobs", type=int)
    parser.add_argument(
        "--compare-mkdocs", action="store_true", help="time a bare mkdocs build of the same pages"
    )
    parser.add_argument("--compare-runs", type=int, default=3, help="pairs of site builds to compare")
    parser.add_argument("--keep", type=Path, help="generate the project here and keep it")
    args = parser.parse_args()

    outputs = args.only or ",".join(o for o in ALL_OUTPUTS if not (args.no_video and o == "video"))
    rows: list[tuple[str, float, str]] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kepu-bench-") as tmp:
        project = make_corpus(args.keep or Path(tmp) / "project", args.lessons)
        seconds, output = kepu_build(project, outputs, args.jobs, ("--no-cache",))
        rows.append(("full build (no cache)", seconds, summary(output)))
        seconds, output = kepu_build(project, outputs, args.jobs)
        rows.append(("full build, filling the cache", seconds, summary(output)))
        full = seconds
        seconds, output = kepu_build(project, outputs, args.jobs)
        rows.append(("no-op rebuild", seconds, summary(output)))
        lesson = project / "content" / "lessons" / "lesson-0000.md"
        lesson.write_text(lesson.read_text(encoding="utf-8") + "\n多喝水，少熬夜。\n", encoding="utf-8")
        seconds, output = kepu_build(project, outputs, args.jobs)
        rows.append(("one lesson body edited", seconds, summary(output)))
        template = project / "templates" / "posts" / "group.txt.j2"
        template.parent.mkdir(parents=True, exist_ok=True)
        template.write_text(
            (REPO / "templates" / "posts" / "group.txt.j2").read_text(encoding="utf-8") + "\n",
            encoding="utf-8",
        )
        seconds, output = kepu_build(project, outputs, args.jobs)
        rows.append(("one template edited (posts)", seconds, summary(output)))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if args.compare_mkdocs:
            # Taken in turns: a busy neighbour slows both of a pair alike.
            kepu, bare = [], []
            mkdocs_yml = bare_mkdocs_sources(project)
            for _ in range(args.compare_runs):
                site_seconds, output = kepu_build(project, "site", args.jobs, ("--no-cache",))
                stage = re.search(r"site ([\d.]+)s", output)
                kepu.append(float(stage.group(1)) if stage else site_seconds)
                bare.append(bare_mkdocs_seconds(mkdocs_yml))
            runs = f"median of {args.compare_runs}"
            ratios = sorted(k / b for k, b in zip(kepu, bare, strict=True))
            rows.append(
                ("kepu site stage (no cache)", statistics.median(kepu), f"{runs}: {seconds_list(kepu)}")
            )
            rows.append(
                ("bare mkdocs build, same pages", statistics.median(bare), f"{runs}: {seconds_list(bare)}")
            )

    print(f"Kepu benchmark — {args.lessons} lessons, outputs: {outputs}, jobs: {args.jobs or 'all cores'}")
    print(f"{'measure':<32}{'seconds':>9}  details")
    for name, value, details in rows:
        print(f"{name:<32}{value:>9.2f}  {details}")
    print(f"no-op rebuild / full build: {rows[2][1] / full:.1%}")
    # The incremental site (builder/site/workspace.py): its stage after the edit against the full one.
    site_full, site_edit = (re.search(r"site ([\d.]+)s", rows[i][2]) for i in (1, 3))
    if site_full and site_edit:
        print(
            f"site stage, one lesson edited / full: {site_edit.group(1)} s / {site_full.group(1)} s"
            f" = {float(site_edit.group(1)) / float(site_full.group(1)):.1%}"
        )
    if args.compare_mkdocs:
        print(
            f"kepu site stage / bare mkdocs build, run by run: {', '.join(f'{r:.2f}' for r in ratios)}"
            f" (median {statistics.median(ratios):.2f}x)"
        )
    print(f"peak memory of one build: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
