"""What the home page puts first, and the pictures on lesson cards.

The home page features the campaign running on the build's date — the newest
review date, the same fixed date the sitemap carries — or, when none runs, the
next one to start; with no campaign ahead it features the newest lesson. The
date comes from the content, never the clock, so the same input gives the same
page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePosixPath

from builder.model import Activity, Campaign, Lesson, Project
from builder.site.images import PhoneImage

PICTURES = {".png", ".jpg", ".jpeg", ".webp", ".svg", ".gif"}


@dataclass(frozen=True)
class Featured:
    """The home page's first block: a campaign (running now, or next) or a lesson."""

    campaign: Campaign | None = None
    running: bool = False  # the campaign runs on the build's date (else it starts later)
    next_activity: Activity | None = None  # the campaign's first activity on or after that date
    lesson: Lesson | None = None


def build_date(project: Project) -> dt.date:
    """The build's fixed date: the newest review of any lesson (2020-01-01 with none)."""
    newest = max((lesson.reviewed_on for lesson in project.lessons if lesson.reviewed_on), default=None)
    return newest or dt.date(2020, 1, 1)


def featured(project: Project, day: dt.date, recent: list[Lesson]) -> Featured:
    """The campaign running on ``day`` (the latest started, then by slug), else the next to start, else a lesson."""
    running = [c for c in project.campaigns if c.start <= day <= c.end]
    if running:
        campaign = max(running, key=lambda c: (c.start, c.slug))
    else:
        ahead = [c for c in project.campaigns if c.start > day]
        campaign = min(ahead, key=lambda c: (c.start, c.slug)) if ahead else None
    if campaign is None:
        return Featured(lesson=recent[0] if recent else None)
    upcoming = sorted((a for a in campaign.activities if a.date >= day), key=lambda a: (a.date, a.time or ""))
    return Featured(campaign=campaign, running=bool(running), next_activity=upcoming[0] if upcoming else None)


@dataclass(frozen=True)
class CardImage:
    """A lesson card's picture: site-relative paths, and its size when known (raster copies)."""

    src: str
    webp: str | None = None
    width: int | None = None
    height: int | None = None


def card_images(project: Project, images: dict[str, PhoneImage]) -> dict[str, CardImage]:
    """Lesson slug → its first picture in the body (or its cover), as the site copies it."""
    found = {}
    for lesson in project.lessons:
        paths = [ref.path for ref in lesson.images] + ([lesson.cover] if lesson.cover else [])
        for path in paths:
            if PurePosixPath(path).suffix.lower() not in PICTURES:
                continue
            image = images.get(path)
            if image is None:
                found[lesson.slug] = CardImage(path)
            else:
                found[lesson.slug] = CardImage(image.path, image.webp, image.width, image.height)
            break
    return found
