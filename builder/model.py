"""The typed content model: what renderers receive after validation.

Every reference is resolved (an audience is a :class:`Term`, a quiz's lessons are
:class:`Lesson` objects), so renderers never parse or validate again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from builder.recurrence import Recurrence
from builder.standard import LEVELS  # noqa: F401  (re-exported for validation)

if TYPE_CHECKING:
    from builder.results import CampaignResults


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary declared in site_config.yml (audience, topic, channel)."""

    id: str
    label: str


@dataclass(frozen=True)
class Vocabulary:
    kind: str  # "人群", "主题", "渠道" — used in messages
    terms: tuple[Term, ...]

    def find(self, value: str) -> Term | None:
        for term in self.terms:
            if value in (term.id, term.label):
                return term
        return None

    def labels(self) -> list[str]:
        return [term.label for term in self.terms]


@dataclass(frozen=True)
class PrintOptions:
    """``print:`` in site_config.yml — options of the printable materials."""

    bleed_mm: float = 0.0  # e.g. 3 for print shops; 0 = trim size only
    crop_marks: bool = False  # WeasyPrint draws them inside the bleed, which print shops reject
    trainer_audiences: tuple[str, ...] = ("health-assistants",)  # ids: their lessons get no public poster


@dataclass(frozen=True)
class VideoOptions:
    """``video:`` in site_config.yml — options of the short videos."""

    narration: str = "none"  # "none" | "espeak" | "recorded" | "baidu"
    voice: str | None = None  # the backend's voice: an espeak-ng voice or a 百度 per number
    music: str | None = None  # project-relative path of background music
    landscape: bool = True  # also render the 16:9 variant for screens


@dataclass(frozen=True)
class PostOptions:
    """``posts:`` in site_config.yml — options of public-account posts."""

    author: str = ""  # ≤ 16 characters (draft API); defaults to the organisation
    open_comment: bool = False
    follow: str = ""  # the 关注 line closing every article; empty: one naming the site
    archive: str = ""  # the 往期 link (an mp.weixin.qq.com album or history page); empty: none


@dataclass(frozen=True)
class PlainLimits:
    """Plain-language limits for one group of readers (``checks:`` in site_config.yml)."""

    score: float = 34.0  # readability: average sentence (Han characters) + difficult words per 100 words
    average_sentence: float = 25.0  # Han characters per sentence
    difficult_words: float = 12.0  # difficult words per 100 words
    sentence: int = 50  # longest single sentence, Han characters


@dataclass(frozen=True)
class CheckOptions:
    """``checks:`` in site_config.yml — thresholds of the health-content quality checks."""

    plain: PlainLimits = PlainLimits()
    audiences: tuple[tuple[str, PlainLimits], ...] = ()  # audience id → limits for those readers
    terms: tuple[str, ...] = ()  # terms to explain in plain words where a lesson first uses them
    brands: tuple[str, ...] = ()  # brand names whose mention needs a reviewer's look


@dataclass(frozen=True)
class SiteConfig:
    name: str
    url: str  # always ends with "/"
    organization: str
    contact: str
    description: str
    brand_color: str
    logo: str | None  # project-relative path
    audiences: Vocabulary
    topics: Vocabulary
    channels: Vocabulary
    review_max_age_days: int
    glossary: tuple[str, ...]
    print: PrintOptions = PrintOptions()
    video: VideoOptions = VideoOptions()
    posts: PostOptions = PostOptions()
    checks: CheckOptions = CheckOptions()
    # Keyword → pictogram name (templates/pictograms/<name>.svg), first match wins.
    pictograms: tuple[tuple[str, str], ...] = ()
    # Words that make a key point or body line a safety instruction (call 120, go now).
    red_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyPoint:
    """One key point with what every output needs to show it."""

    text: str
    line: int
    icon: str | None = None  # a pictogram name: the editor's ``icon:`` or the first keyword rule
    urgent: bool = False  # a safety instruction: never dropped from any output


@dataclass(frozen=True)
class MediaRef:
    """An image referenced from Markdown, as written and as resolved in the project."""

    written: str
    path: str  # project-relative, forward slashes
    line: int


@dataclass
class Lesson:
    slug: str
    source: str  # project-relative path of the Markdown file
    title: str
    summary: str
    audiences: list[Term]
    topics: list[Term]
    key_points: list[str]
    body: str
    body_line: int  # file line where the body starts
    competencies: list[str] = field(default_factory=list)
    level: str | None = None
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None
    cover: str | None = None
    short_title: str | None = None
    images: list[MediaRef] = field(default_factory=list)
    # Where things stand in the source, so later stages point warnings at the right
    # line without reading the file again: key → line, and each key point's line.
    lines: dict[str, int] = field(default_factory=dict)
    key_point_lines: list[int] = field(default_factory=list)
    points: list[KeyPoint] = field(default_factory=list)  # key_points with their icon and urgency
    checks: Any = None  # the ``checks:`` mapping as written (a YamlMap), read by builder.quality
    # Filled in once every file is loaded.
    quizzes: list[Quiz] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)

    @property
    def site_path(self) -> str:
        return f"lessons/{self.slug}/"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    line: int


@dataclass
class Question:
    number: int
    text: str
    line: int
    options: list[Option]
    kind: QuestionKind
    detail: str = ""  # Markdown between the heading and the options
    explanation: str = ""  # Markdown of the block quote after the options
    competencies: list[str] = field(default_factory=list)  # own tags; the quiz's apply when empty

    @property
    def correct_options(self) -> list[Option]:
        return [option for option in self.options if option.correct]


@dataclass
class Quiz:
    slug: str
    source: str
    title: str
    summary: str
    audiences: list[Term]
    topics: list[Term]
    lessons: list[Lesson]
    questions: list[Question]
    intro: str = ""
    competencies: list[str] = field(default_factory=list)
    level: str | None = None
    images: list[MediaRef] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # front-matter key → line
    checks: Any = None  # the ``checks:`` mapping as written, read by builder.quality
    # Every line of prose a reader sees — title excluded — as (line, Markdown text):
    # the intro, each question's stem, detail and explanation; never the options.
    prose_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def site_path(self) -> str:
        return f"quizzes/{self.slug}/"


@dataclass(frozen=True)
class Goal:
    indicator: str
    target: str
    # What measures it in content/results/<campaign>/ (attendance | quiz | survey | reach | count);
    # None: measured elsewhere (a records system), shown as not measured in the report.
    measure: str | None = None
    channel: Term | None = None  # attendance/count of one channel only (讲座)
    line: int = 0


@dataclass(frozen=True)
class Phase:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Tip:
    """One day's short tip of an activity's ``tips:`` list: a group message and a square card."""

    text: str
    date: dt.date
    day: int  # its number in the list, from 1
    line: int
    source: str | None = None  # where a figure in it comes from, named under it
    urgent: bool = False  # holds a red-flag word (120 …): never shortened, drawn in red


@dataclass
class Activity:
    title: str
    date: dt.date
    channel: Term
    line: int
    time: str | None = None  # "14:00-15:30" or "14:00"
    place: str | None = None
    description: str | None = None
    audiences: list[Term] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)
    # A recurring activity is expanded into one Activity per date; each keeps its rule
    # (the calendar writes one event with an RRULE) and its number in the series, from 1.
    repeat: Recurrence | None = None
    occurrence: int = 0
    tips: list[Tip] = field(default_factory=list)  # ``tips:``, one a day from ``date``


@dataclass(frozen=True)
class CadenceRule:
    """``cadence:`` of a campaign: at least / at most so many activities of a channel per period."""

    channel: Term
    per: str  # week | month | quarter | year
    at_least: int | None
    at_most: int | None
    line: int


@dataclass
class Campaign:
    slug: str
    source: str
    title: str
    summary: str
    audiences: list[Term]
    start: dt.date
    end: dt.date
    organizer: str
    goals: list[Goal]
    phases: list[Phase]
    activities: list[Activity]
    body: str
    body_line: int
    images: list[MediaRef] = field(default_factory=list)
    cadence: list[CadenceRule] = field(default_factory=list)
    quiz: Quiz | None = None  # the before/after knowledge quiz its results are scored against
    results: CampaignResults | None = None  # content/results/<slug>/, read at load time

    @property
    def site_path(self) -> str:
        return f"campaigns/{self.slug}/"

    @property
    def lessons(self) -> list[Lesson]:
        seen: dict[str, Lesson] = {}
        for activity in self.activities:
            for lesson in activity.lessons:
                seen.setdefault(lesson.slug, lesson)
        return list(seen.values())


@dataclass
class Handbook:
    """``content/handbooks/<slug>.md``: lessons bound into one booklet, with a foreword."""

    slug: str
    source: str
    title: str
    audiences: list[Term]
    lessons: list[Lesson]  # in the order the editor listed them: the chapters
    quizzes: list[Quiz]  # printed with their answers at the end
    foreword: str  # the body, Markdown
    foreword_line: int
    subtitle: str | None = None
    edition: str | None = None  # e.g. "2026年版", printed on the cover
    images: list[MediaRef] = field(default_factory=list)  # of the foreword
    lines: dict[str, int] = field(default_factory=dict)  # front-matter key → line


@dataclass(frozen=True)
class OpeningDay:
    weekday: int  # 0 = Monday, as date.weekday() counts
    spans: tuple[tuple[str, str], ...]  # ("08:30", "11:30"), …; empty: closed
    line: int

    @property
    def minutes(self) -> int:
        return sum(
            int(end[:2]) * 60 + int(end[3:]) - int(start[:2]) * 60 - int(start[3:])
            for start, end in self.spans
        )


@dataclass
class HealthRoom:
    """``content/rooms/<slug>.md``: a health room (健康小屋) and what its notices say."""

    slug: str
    source: str
    name: str
    address: str
    contact: str
    hours: list[OpeningDay]  # Monday first, all seven days
    services: list[str]
    rules: list[str]
    quarters: dict[int, list[Lesson]]  # quarter (1–4) → the lessons whose prescriptions it hands out
    intro: str = ""  # the body, Markdown
    lines: dict[str, int] = field(default_factory=dict)


class ProjectFiles(Protocol):
    """What code that reads only the project's files and settings needs: a :class:`Project`, or a
    worker's job that carries the two without the rest of the project."""

    @property
    def root(self) -> Path: ...

    @property
    def config(self) -> SiteConfig: ...


@dataclass
class Project:
    root: Path
    config: SiteConfig
    lessons: list[Lesson]
    quizzes: list[Quiz]
    campaigns: list[Campaign]
    handbooks: list[Handbook] = field(default_factory=list)
    rooms: list[HealthRoom] = field(default_factory=list)
    sources: Any = None  # builder.sources.Registry of content/sources.yml, read at load time
    skills: list[Any] = field(default_factory=list)  # builder.skills.SkillSet of content/skills/

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def lessons_for(self, term: Term) -> list[Lesson]:
        return [lesson for lesson in self.lessons if term in lesson.audiences or term in lesson.topics]
