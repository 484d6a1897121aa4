"""The 总结评估 report of a campaign: its goals against what was measured.

For every campaign with ``content/results/<slug>/`` it writes, under
``reports/campaigns/<slug>/``: ``report.json`` (the numbers, from
:func:`builder.evaluation.campaign_report`), ``report.html`` (a page beside the
site, ``noindex``: an organiser's working paper, not public health content) and
``report.pdf`` (the document that goes to the 疾控中心 with the year's papers).
The charts are SVG drawn here from the same numbers, so the PDF stays vector and
the page needs nothing from another host.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from builder import pdf
from builder.brand import brand_palette
from builder.cache import fingerprint, templates_digest
from builder.diagnostics import Diagnostics
from builder.evaluation import campaign_report, parse_target
from builder.model import Campaign, Project
from builder.outputs import campaign_report_path
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.templates import make_environment
from builder.widows import keep_last_words
from builder.writer import Artifact

REPORT_KINDS = ("campaign-report-json", "campaign-report-html", "campaign-report-pdf")
REPORT_RENDERER_VERSION = 1  # bump when this module's output changes for the same inputs
FONT = "Noto Sans CJK SC, sans-serif"
GREY, RED = "#7a857f", "#b3261e"


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string that cannot end the string or the style sheet."""
    escaped = "".join(f"\\{ord(char):x} " if char in '"\\<>\n\r' else char for char in text)
    return Markup(f'"{escaped}"')


def short(text: str, length: int) -> str:
    """A chart label: ``text`` cut to ``length`` characters with an ellipsis when longer."""
    return text if len(text) <= length else text[: length - 1] + "…"


def percent(value: float | None) -> str:
    """0.6481 → 64.8%; None → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


def measured_text(goal: dict[str, Any]) -> str:
    if goal["measured"] is None:
        return "未测量" if goal["measure"] is None else "暂无数据"
    return f"{goal['measured']}场" if goal["measure"] == "count" else percent(goal["measured"])


def verdict(met: bool | None) -> str:
    return {True: "达成", False: "未达成", None: "—"}[met]


# -- charts ---------------------------------------------------------------------------


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{html.escape(label)}" font-family="{FONT}">' + "".join(body) + "</svg>"
    )


def rate_bars(rows: list[tuple[str, float | None]], colour: str, target: float | None, label: str) -> Markup:
    """Horizontal bars, one per row, from 0 to 100 %, with the target as a dashed line."""
    left, width, bar, gap = 150, 470, 16, 8
    height = 24 + len(rows) * (bar + gap)
    body = [f'<rect x="{left}" y="12" width="{width}" height="{height - 24}" fill="#f4f6f5"/>']
    for tick in (0, 0.5, 1):
        x = left + tick * width
        body.append(
            f'<text x="{x:.1f}" y="{height - 2}" font-size="10" fill="{GREY}" text-anchor="middle">{tick:.0%}</text>'
        )
    for index, (name, value) in enumerate(rows):
        y = 16 + index * (bar + gap)
        body.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end" fill="#222">{html.escape(name)}</text>'
        )
        if value is not None:
            fill = RED if target is not None and value < target else colour
            body.append(
                f'<rect x="{left}" y="{y}" width="{value * width:.1f}" height="{bar}" fill="{fill}"/>'
            )
            body.append(
                f'<text x="{left + value * width + 4:.1f}" y="{y + 12}" font-size="11" fill="#222">{percent(value)}</text>'
            )
    if target is not None:
        x = left + target * width
        body.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height - 12}" stroke="#222" stroke-dasharray="4 3"/>'
        )
        body.append(f'<text x="{x + 3:.1f}" y="10" font-size="10" fill="#222">目标 {target:.0%}</text>')
    return _svg(left + width + 60, height, body, label)


def paired_bars(
    rows: list[tuple[str, float | None, float | None]], colour: str, soft: str, label: str
) -> Markup:
    """Before and after of each question, side by side (前测 light, 后测 in the brand colour)."""
    left, width, bar = 60, 540, 10
    step = 2 * bar + 10
    height = 40 + len(rows) * step
    body = [
        f'<rect x="{left}" y="4" width="12" height="10" fill="{soft}"/><text x="{left + 16}" y="13" font-size="11">前测</text>',
        f'<rect x="{left + 60}" y="4" width="12" height="10" fill="{colour}"/><text x="{left + 76}" y="13" font-size="11">后测</text>',
    ]
    for index, (name, before, after) in enumerate(rows):
        y = 24 + index * step
        body.append(
            f'<text x="{left - 6}" y="{y + bar + 4}" font-size="11" text-anchor="end">{html.escape(name)}</text>'
        )
        for offset, value, fill in ((0, before, soft), (bar, after, colour)):
            if value is None:
                continue
            body.append(
                f'<rect x="{left}" y="{y + offset}" width="{value * width:.1f}" height="{bar}" fill="{fill}"/>'
            )
            body.append(
                f'<text x="{left + value * width + 4:.1f}" y="{y + offset + 9}" font-size="9">{percent(value)}</text>'
            )
    return _svg(left + width + 60, height, body, label)


def score_bars(counts: list[int], colour: str, label: str) -> Markup:
    """How many gave each score, 1 to 5 (columns)."""
    width, height, column = 360, 150, 44
    most = max(counts) or 1
    body = []
    for index, count in enumerate(counts):
        x = 20 + index * (column + 24)
        tall = round(100 * count / most, 1)
        fill = colour if index >= 3 else GREY
        body.append(f'<rect x="{x}" y="{120 - tall}" width="{column}" height="{tall}" fill="{fill}"/>')
        body.append(
            f'<text x="{x + column / 2}" y="{114 - tall}" font-size="11" text-anchor="middle">{count}</text>'
        )
        body.append(
            f'<text x="{x + column / 2}" y="138" font-size="11" text-anchor="middle">{index + 1}分</text>'
        )
    return _svg(width, height, body, label)


# -- rendering -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportJob:
    html: str  # the print document
    root: str
    title: str
    author: str


def charts(data: dict[str, Any], colour: str, soft: str) -> dict[str, Markup | None]:
    attendance_goal = next((g for g in data["goals"] if g["measure"] == "attendance"), None)
    target = _target_fraction(attendance_goal["target"]) if attendance_goal else None
    rows = [
        (f"{a['date'][5:].replace('-', '月', 1)}日 {short(a['title'], 8)}", a["rate"])
        for a in data["activities"]
    ]
    questions = data["knowledge"]["questions"]
    satisfaction = data["satisfaction"]
    return {
        "attendance": rate_bars(rows, colour, target, "每场活动的参与率") if rows else None,
        "knowledge": paired_bars([(f"第{q['number']}题", q["before"], q["after"]) for q in questions], colour, soft,
                                 "每道题前测和后测的答对率") if questions else None,
        "satisfaction": score_bars(satisfaction["counts"], colour, "满意度评分分布") if satisfaction["responses"] else None,
    }  # fmt: skip


def _target_fraction(target: str) -> float | None:
    (_, value), problem = parse_target(target, "attendance")
    return None if problem else value


def report_context(project: Project, campaign: Campaign, data: dict[str, Any]) -> dict[str, Any]:
    palette = brand_palette(project.config.brand_color)
    return {
        "campaign": campaign,
        "data": data,
        "note": campaign.results.note if campaign.results else "",
        "organizer_css": css_string(campaign.organizer),
        "folder": campaign.results.folder if campaign.results else "",
        "sources": [path.rsplit("/", 1)[-1] for path in campaign.results.sources] if campaign.results else [],
        "brand": palette,
        "charts": charts(data, palette.color, palette.soft),
        "percent": percent,
        "measured_text": measured_text,
        "verdict": verdict,
    }


def render_report_pdf(job: ReportJob) -> bytes:
    """The worker's part: lay out and write the PDF (fonts embedded by the engine)."""
    return pdf.write_pdf(pdf.lay_out(job.html, job.root), title=job.title, authors=[job.author], lang="zh-CN")


def report_json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def plan_report(project: Project, env: Environment, campaign: Campaign) -> tuple[dict[str, Any], str, str]:
    """The numbers of ``campaign``'s report, its page and its print document (HTML)."""
    data = campaign_report(campaign)
    context = report_context(project, campaign, data)
    # No character alone on a line: the last word of every block is kept whole (.keep).
    page = keep_last_words(env.get_template("report/page.html").render(**context))
    document = keep_last_words(env.get_template("report/print.html").render(**context))
    return data, page, document


def report_files(project: Project, campaign: Campaign) -> list[tuple[str, str, bytes]]:
    """(kind, output path, bytes) of one campaign's report, made here (``kepu report``)."""
    data, page, document = plan_report(project, make_environment(project, autoescape=True), campaign)
    job = ReportJob(document, str(project.root), f"{campaign.title}总结评估报告", campaign.organizer)
    made = {"campaign-report-json": report_json(data), "campaign-report-html": page.encode("utf-8"),
            "campaign-report-pdf": render_report_pdf(job)}  # fmt: skip
    return [(kind, campaign_report_path(campaign.slug, kind), body) for kind, body in made.items()]


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    env = make_environment(project, autoescape=True)
    templates = templates_digest(project.root, "report")
    units: list[Unit[tuple[Campaign, dict[str, Any], str, str]]] = []
    for campaign in project.campaigns:
        if campaign.results is None:
            continue
        data, page, document = plan_report(project, env, campaign)
        note = campaign.results.note
        key = fingerprint("reports", REPORT_RENDERER_VERSION, data, note, project.config, templates)
        what = campaign_report_path(campaign.slug, "campaign-report-pdf")
        units.append(Unit(key, (campaign, data, page, document), campaign.source, what))

    def job(plan: tuple[Campaign, dict[str, Any], str, str]) -> ReportJob:
        campaign, _, _, document = plan
        return ReportJob(document, str(project.root), f"{campaign.title}总结评估报告", campaign.organizer)

    def finish(
        unit: Unit[tuple[Campaign, dict[str, Any], str, str]], data: bytes, _: Diagnostics
    ) -> list[Artifact]:
        campaign, numbers, page, _ = unit.plan
        audiences = tuple(term.id for term in campaign.audiences)

        def artifact(kind: str, body: bytes) -> Artifact:
            return Artifact(
                kind, campaign_report_path(campaign.slug, kind), campaign.source, audiences, data=body
            )

        return [
            artifact("campaign-report-json", report_json(numbers)),
            artifact("campaign-report-html", page.encode("utf-8")),
            artifact("campaign-report-pdf", data),
        ]

    yield from ctx.render_units(units, job=job, work=render_report_pdf, finish=finish)


RENDERER = Renderer(
    name="reports",
    label="活动总结评估报告",
    kinds=REPORT_KINDS,
    render=render,
    preload=("weasyprint",),
)
