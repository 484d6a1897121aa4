"""What one lesson's video shows (its slides) and the job a worker process renders it from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from builder.fonts import FontFile
from builder.renderers.video.narration import Narrator
from builder.renderers.video.style import VideoStyle

SlideKind = Literal["title", "point", "closing"]


@dataclass(frozen=True)
class Slide:
    kind: SlideKind
    caption: str  # the words read on this slide: burned in, in the SRT, and spoken
    number: int = 0  # key points: 1-based


@dataclass(frozen=True)
class LessonVideoJob:
    """Everything a worker process needs to render one lesson's video (picklable)."""

    slug: str
    title: str
    summary: str
    header_title: str
    audiences: tuple[str, ...]
    key_points: tuple[str, ...]
    page_url: str
    site_name: str
    organization: str
    contact: str
    brand_color: str
    logo: Path | None
    music: Path | None
    narrator: Narrator | None  # None: no narration
    landscape: bool
    style: VideoStyle
    fonts: dict[str, FontFile]
    work_dir: Path
    title_words: tuple[str, ...] = ()  # the project's own terms, kept whole when a title is broken
    narration_cache: Path | None = None  # synthesised speech kept between builds (narration.py)

    @property
    def narration(self) -> bool:
        return self.narrator is not None

    def inputs(self) -> dict[str, Any]:
        """What the video is made from, for the cache key: not the scratch or speech folders,
        and of the narrator only what decides its sound (never an API key)."""
        inputs = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("work_dir", "narration_cache", "narrator")
        }
        inputs["narrator"] = self.narrator.identity() if self.narrator else None
        return inputs

    def slides(self) -> list[Slide]:
        closing = self.style.text["closing_caption"].format(title=self.title, organization=self.organization)
        return [
            Slide("title", self.title),
            *(Slide("point", point, number) for number, point in enumerate(self.key_points, start=1)),
            Slide("closing", closing),
        ]
