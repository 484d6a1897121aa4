"""``kepu report --campaign SLUG [--out DIR]``: one campaign's 总结评估 report, now.

The same files ``kepu build`` makes for every campaign with results
(``reports/campaigns/<slug>/report.{json,html,pdf}``), for the one campaign an
organiser is closing, without building the rest. Files are written in place, each
atomically, into ``DIR`` (default: the project's ``public/``); the next full build
lists them in its manifest like any other output.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.pipeline import CACHE_FOLDER
from builder.project import load_project
from builder.renderers.report import report_files
from builder.results import RESULTS_DIR
from builder.writer import check_output_folder, write_atomically


class ReportProblem(Exception):
    """Why no report could be made, in one sentence for the organiser (exit 1)."""


def write_report(project_dir: Path, slug: str, out_dir: Path | None, diagnostics: Diagnostics) -> list[Path]:
    """Load the project, make ``slug``'s report and write it; the paths written.

    Raises :class:`ReportProblem` (content: no such campaign, no results, errors in the
    content — then in ``diagnostics``) or ``UnsafeOutputError`` (an output folder that
    overlaps the sources).
    """
    out_dir = (out_dir or project_dir / "public").resolve()
    cache_dir = project_dir.resolve() / CACHE_FOLDER
    check_output_folder(
        out_dir, project_dir, cache_dir, own_files=frozenset({"reports"}), what="报告输出目录"
    )
    project = load_project(project_dir, diagnostics)
    if project is None:
        raise ReportProblem(f"内容有 {len(diagnostics.errors)} 个错误，没有生成报告")
    campaign = next((c for c in project.campaigns if c.slug == slug), None)
    if campaign is None:
        slugs = [c.slug for c in project.campaigns]
        close = difflib.get_close_matches(slug, slugs, n=1, cutoff=0.6)
        hint = f"，是不是 {close[0]}？" if close else f"（可选：{'、'.join(slugs) or '还没有宣传活动'}）"
        raise ReportProblem(f"找不到宣传活动 {slug}{hint}")
    if campaign.results is None:
        raise ReportProblem(
            f"{RESULTS_DIR}/{slug}/ 还没有结果文件：放入 attendance.csv（date,activity,expected,attended）等后再生成报告"
        )
    written = []
    for _, path, data in report_files(project, campaign):
        dest = out_dir / path
        write_atomically(dest, data)
        written.append(dest)
    return written
