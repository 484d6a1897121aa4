"""What one lesson's video shows (its slides) and the job a worker process renders it from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from builder.fonts import FontFile
from builder.renderers.video.narration import Narrator
from builder.renderers.video.style import VideoStyle
from builder.renderers.video.wording import hook_line, phrases

SlideKind = Literal["hook", "title", "point", "closing"]


@dataclass(frozen=True)
class Slide:
    kind: SlideKind
    caption: str  # the words of this slide: spoken (all but the hook), and in the captions
    number: int = 0  # key points: 1-based
    # Where the slide's words build in, phrase by phrase (a key point); the burned-in
    # caption and the SRT show the phrase being read. Empty: the caption is one phrase.
    phrases: tuple[str, ...] = ()
    figure: str = ""  # the hook: the key figure it opens on ("140/90 mmHg"), if any

    @property
    def beats(self) -> tuple[str, ...]:
        """The phrases of the slide, in order: what the caption shows one after the other."""
        return self.phrases or (self.caption,)

    @property
    def spoken(self) -> bool:
        """The hook is music only: the narration (and an editor's recordings) starts at the title."""
        return self.kind != "hook"


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
    # One a key point: its pictogram (templates/pictograms, builder/pictograms.py) as SVG
    # markup in the brand colour, or None (the big number stands alone).
    pictograms: tuple[str | None, ...] = ()

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
        """The hook, the title card, one slide per key point and the closing card."""
        closing = self.closing_caption("portrait")  # the portrait video's words go into the SRT
        figure, hook = hook_line(self.key_points, self.summary)
        return [
            Slide("hook", hook, figure=figure),
            Slide("title", self.title),
            *(
                Slide("point", point, number, phrases=phrases(point))
                for number, point in enumerate(self.key_points, start=1)
            ),
            Slide("closing", closing),
        ]

    def closing_qr(self, orientation: str) -> bool:
        """Whether the closing card shows the QR code: a choice of the orientation's platform
        profile (抖音 treats an off-site QR code as 引流 and may show the video less)."""
        return self.style.safe_area(orientation).closing_qr

    def closing_caption(self, orientation: str) -> str:
        key = "closing_caption" if self.closing_qr(orientation) else "closing_caption_no_qr"
        return self.style.text[key].format(
            title=self.title, organization=self.organization, site=self.site_name
        )
