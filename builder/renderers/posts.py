"""Public-account posts, group messages and campaign posting calendars.

For each lesson: an article that survives the WeChat editor (``post.html``), the
fields of the draft API ``draft/add`` (``post.json``), a 900×383 cover and a 1:1
thumbnail, and a plain-text message for WeChat groups. For each campaign: an
iCalendar file and the posting schedule as CSV. ``posts/index.html`` previews every
post with a button that copies its rich HTML for pasting into the editor.

Everything here is byte-for-byte reproducible: no clock, no random ids.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from jinja2 import Environment
from markupsafe import Markup

from builder.brand import brand_rgb, text_colour_on
from builder.cache import ArtifactCache, fingerprint, templates_digest
from builder.calendar import campaign_calendar, campaign_schedule, recommended_material
from builder.content import pictogram_names
from builder.diagnostics import Diagnostic, Diagnostics
from builder.images import upload_ready_image
from builder.markup import markdown_to_html
from builder.model import Activity, Campaign, KeyPoint, Lesson, Project, ProjectFiles, SiteConfig
from builder.outputs import (
    LESSON_POSTS,
    POSTS_INDEX,
    campaign_post_path,
    campaign_tip_path,
    lesson_post_path,
    post_card_path,
    post_image_path,
    post_image_src,
)
from builder.paths import inside
from builder.pictograms import pictogram_path
from builder.post_cards import draw_cards, newspic_fields
from builder.post_pictures import (
    KEYPOINT_ICON_PX,
    URGENT_RED,
    LessonArt,
    draw_cover,
    draw_thumb,
    lesson_pictogram,
    pictogram_image,
    topic_rank,
    topic_ranks,
)
from builder.renderers.base import RenderContext, Renderer, Unit
from builder.safety import (
    GroupSelection,
    _shorten,
    choose_group_points,
    emergency_point_warnings,
    group_safety_line,
    lesson_points,
)
from builder.search_terms import user_dictionary
from builder.templates import make_environment
from builder.tips import draw_tip_card, tip_activities, tip_message, tip_source_warnings
from builder.wechat import Reference, enforce_wechat_rules, wechat_body
from builder.wechat_css import Styles, parse_styles
from builder.wechat_dark import dark_article, readable_text_colour
from builder.writer import Artifact

POSTS_RENDERER_VERSION = 4  # bump when this module's output changes for the same inputs
# Limits of the official-account draft API (draft/add), in characters.
TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX = 20_000  # "必须少于2万字符"
CONTENT_BYTES_MAX = 1_000_000  # "小于1M"
GROUP_TEXT_MAX = 500


@dataclass
class Post:
    """One lesson's post, everything the artifacts are made from."""

    lesson: Lesson
    title: str
    author: str
    digest: str
    url: str
    content: str  # the article HTML, as sent to draft/add
    references: list[Reference]
    images: dict[str, bytes] = field(default_factory=dict)  # output name → bytes
    group_text: str = ""  # the message for WeChat groups

    def draft_fields(self, open_comment: bool) -> dict[str, object]:
        """The article fields of draft/add, plus where the images to upload are."""
        return {
            "article_type": "news",
            "title": self.title,
            "author": self.author,
            "digest": self.digest,
            "content": self.content,
            "content_source_url": self.url,
            "need_open_comment": int(open_comment),
            "only_fans_can_comment": 0,
            # thumb_media_id is the uploaded cover; only `kepu publish` knows it.
            "kepu": {
                "lesson": self.lesson.slug,
                "source": self.lesson.source,
                "cover": lesson_post_path(self.lesson.slug, "post-cover"),
                "thumb": lesson_post_path(self.lesson.slug, "post-thumb"),
                # Every image the content names, to upload with media/uploadimg; the banner is the cover file.
                "images": [
                    {"src": BANNER_SRC, "path": lesson_post_path(self.lesson.slug, "post-cover")},
                    *(
                        {"src": post_image_src(name), "path": post_image_path(self.lesson.slug, name)}
                        for name in sorted(self.images)
                    ),
                ],
            },
        }


@dataclass(frozen=True)
class PostJob:
    """Everything one lesson's post is made from: a worker makes it from this alone (and the
    template, pictogram and media files under the project folder), so it is also the cache key."""

    art: LessonArt  # the lesson, the config, its rank in its topic, the project's terms
    related: tuple[str, ...]  # the titles the footer's 往期推荐 names

    @property
    def root(self) -> Path:
        return self.art.root

    def key_parts(self) -> tuple[object, ...]:
        """Every field but those the same for every lesson (:data:`SAME_FOR_EVERY_POST`, keyed once
        a build), each at the top of the key: nested in another value, a lesson would count only
        as a link (builder.cache._plain)."""
        own = (getattr(self.art, name.name) for name in fields(self.art) if name.name not in SAME_FOR_EVERY_POST)
        return (*own, self.related)

    def pictograms(self) -> dict[str, Path | None]:
        """The pictogram files its pictures draw, by name: the emblem's and the key points'."""
        points = lesson_points(self.art.lesson, self.config.red_flags)
        names = {lesson_pictogram(self.art), *(point.icon for point in points)}
        return {name: pictogram_path(self.root, name) for name in sorted(name for name in names if name)}

    @property
    def config(self) -> SiteConfig:
        return self.art.config


@dataclass
class MadePost:
    artifacts: list[Artifact]
    warnings: list[Diagnostic]


# LessonArt's fields that are the same for every lesson: the key holds them once a build. The
# folder is left out of keys anyway: a checkout anywhere has the same keys.
SAME_FOR_EVERY_POST = ("root", "config", "words")


@dataclass(frozen=True)
class Neighbours:
    """What a post needs to know of the other lessons, worked out once for all of them."""

    words: tuple[str, ...]  # the project's terms (every lesson's quoted ones among them)
    ranks: dict[str, tuple[int, int]]  # each lesson's place in its topic (post_pictures.topic_ranks)
    by_topic: dict[str, list[Lesson]]  # topic id → its lessons

    @classmethod
    def of(cls, project: Project) -> Neighbours:
        by_topic: dict[str, list[Lesson]] = {}
        for lesson in project.lessons:
            for term in lesson.topics:
                by_topic.setdefault(term.id, []).append(lesson)
        return cls(tuple(user_dictionary(project)), topic_ranks(project), by_topic)


def plan(project: Project) -> list[Unit[PostJob]]:
    """Every lesson's post as a unit, keyed by its job and the files it draws."""
    neighbours = Neighbours.of(project)
    # The pictograms a project has decide which one a lesson shows; the files it draws, how.
    shared = fingerprint(
        project.config,
        neighbours.words,
        templates_digest(project.root, "posts"),
        sorted(pictogram_names(project.root)),
    )
    units = []
    for lesson in project.lessons:
        job = post_job(project, lesson, neighbours)
        media = [project_media(project, ref.path) for ref in lesson.images]
        if lesson.cover:
            media.append(project_media(project, lesson.cover))
        key = fingerprint("posts", POSTS_RENDERER_VERSION, *job.key_parts(), shared, media, job.pictograms())
        units.append(Unit(key, job, lesson.source, lesson_post_path(lesson.slug, "post-html")))
    return units


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    units = plan(project)

    def finish(unit: Unit[PostJob], made: MadePost, diagnostics: Diagnostics) -> list[Artifact]:
        diagnostics.items.extend(made.warnings)
        return made.artifacts

    indexed: dict[str, dict[str, bytes]] = {}  # lesson source → kind → bytes, of what the index shows
    for artifact in ctx.render_units(units, lambda job: job, make_post, finish):
        if artifact.kind in INDEXED_KINDS:  # read now: once yielded, a cached file is the writer's
            indexed.setdefault(artifact.source, {})[artifact.kind] = artifact.read_bytes()
        yield artifact
    env = make_environment(project, autoescape=True)
    for campaign in project.campaigns:
        audiences = tuple(term.label for term in campaign.audiences)
        for kind, data in (
            ("calendar-ics", campaign_calendar(project, campaign)),
            ("schedule-csv", campaign_schedule(project, campaign)),
        ):
            yield Artifact(kind, campaign_post_path(campaign.slug, kind), campaign.source, audiences, data)
        for activity in tip_activities(campaign):
            yield from tip_artifacts(project, campaign, activity, tuple(user_dictionary(project)), ctx)
    index = env.get_template("posts/index.html.j2").render(
        posts=[indexed_post(lesson, indexed[lesson.source]) for lesson in project.lessons],
        campaigns=project.campaigns,
        recommended_material=recommended_material,
    )
    yield Artifact("posts-index", POSTS_INDEX, "site_config.yml", (), index.encode("utf-8"))


def post_job(project: Project, lesson: Lesson, neighbours: Neighbours) -> PostJob:
    """What a worker needs to make ``lesson``'s post."""
    related = tuple(post_title(other) for other in related_lessons(lesson, neighbours))
    return PostJob(LessonArt.of(project, lesson, neighbours.words, neighbours.ranks), related)


def make_post(job: PostJob) -> MadePost:
    """A worker's whole job: one lesson's article, draft fields, pictures and group message."""
    env = make_environment(job, autoescape=True)
    own = Diagnostics()
    post = build_post(job, env, post_styles(job.config, env), own)
    post.group_text = group_text(post, make_environment(job), own, job.config.red_flags)
    return MadePost(list(post_artifacts(job, post, env)), own.items)


def post_artifacts(job: PostJob, post: Post, env: Environment) -> Iterator[Artifact]:
    lesson = post.lesson
    audiences = tuple(term.label for term in lesson.audiences)

    def artifact(kind: str, data: bytes, path: str | None = None) -> Artifact:
        return Artifact(kind, path or lesson_post_path(lesson.slug, kind), lesson.source, audiences, data)

    page = env.get_template("posts/post.html.j2").render(post=post, content=Markup(post.content))
    yield artifact("post-html", page.encode("utf-8"))
    # Converted here, with the unit (and cached with it), not by the index for every post each build.
    dark = env.get_template("posts/post-dark.html.j2").render(post=post, dark_content=Markup(dark_article(post.content)))
    yield artifact("post-dark-html", dark.encode("utf-8"))
    fields = post.draft_fields(job.config.posts.open_comment)
    yield artifact("post-json", (json.dumps(fields, ensure_ascii=False, indent=2) + "\n").encode())
    for name, data in sorted(post.images.items()):
        yield artifact("post-image", data, post_image_path(lesson.slug, name))
    cover_source = project_media(job, lesson.cover)
    yield artifact("post-cover", draw_cover(job.art, post.title, cover_source))
    yield artifact("post-thumb", draw_thumb(job.art, post.title))
    yield artifact("group-text", post.group_text.encode("utf-8"))
    cards = draw_cards(job.art, post)
    for number, data in enumerate(cards, start=1):
        yield artifact("post-card", data, post_card_path(lesson.slug, number))
    newspic = newspic_fields(job.config, post, len(cards))
    yield artifact("post-newspic-json", (json.dumps(newspic, ensure_ascii=False, indent=2) + "\n").encode())


INDEXED_KINDS = ("post-json", "group-text")


def indexed_post(lesson: Lesson, by_kind: dict[str, bytes]) -> Post:
    """What the posts index shows of a lesson's post, read back from its post.json and group
    text, whether made now or cached (the images are not needed: the index links the files)."""
    fields = json.loads(by_kind["post-json"])
    return Post(
        lesson=lesson,
        title=fields["title"],
        author=fields["author"],
        digest=fields["digest"],
        url=fields["content_source_url"],
        content=fields["content"],
        references=[],
        group_text=by_kind["group-text"].decode("utf-8"),
    )


def tip_artifacts(
    project: Project, campaign: Campaign, activity: Activity, words: tuple[str, ...], ctx: RenderContext
) -> Iterator[Artifact]:
    """A tips activity's daily group messages and square cards, each day cached on its own inputs."""
    audiences = tuple(term.label for term in activity.audiences)
    lesson = activity.lessons[:1]
    rank = [topic_rank(project, item) for item in lesson]
    pictograms = templates_digest(project.root, "pictograms")
    for tip in activity.tips:
        inputs = (tip, activity.title, lesson, rank, campaign.organizer, project.config, words, pictograms)
        key = fingerprint("tip", POSTS_RENDERER_VERSION, *inputs)
        artifacts = ctx.reuse(key)
        if artifacts is None:
            text = tip_message(project, campaign, activity, tip, GROUP_TEXT_MAX)
            artifacts = [
                Artifact("tip-text", campaign_tip_path(campaign.slug, tip.date, "tip-text"), campaign.source, audiences, text.encode()),
                Artifact("tip-card", campaign_tip_path(campaign.slug, tip.date, "tip-card"), campaign.source, audiences,
                         draw_tip_card(project, campaign, activity, tip, words)),
            ]  # fmt: skip
            ctx.keep(key, artifacts)
        yield from artifacts


# -- titles and the check warning ------------------------------------------------------


def post_title(lesson: Lesson) -> str:
    """The post title: ``short_title`` when set, else the title, cut to the API's 32 characters."""
    title = lesson.short_title or lesson.title
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def post_title_warnings(subject: Project | Lesson, diagnostics: Diagnostics) -> None:
    """Warn, at its ``title:`` line, for each lesson whose title does not fit a post and has no ``short_title``."""
    lessons = subject.lessons if isinstance(subject, Project) else [subject]
    for lesson in lessons:
        if lesson.short_title or len(lesson.title) <= TITLE_MAX:
            continue
        diagnostics.warning(
            lesson.source,
            lesson.lines.get("title", 1),
            f"标题有 {len(lesson.title)} 个字，公众号文章标题最多 {TITLE_MAX} 个字："
            f"请加一行 short_title: 写一个短标题（否则推文标题会被截断）",
        )


# -- the article -----------------------------------------------------------------------


BRAND_TINTS = (0.0, 0.07, 0.1)  # the brand-coloured panels text sits on (styles.css.j2's rgba alphas)
WECHAT_LINK_BLUE = "#576b95"  # the blue WeChat gives links and 阅读原文


class _PartStyles(dict[str, str]):
    """Styles by part name; a part a project's styles.css leaves out is simply unstyled."""

    def __missing__(self, key: str) -> str:
        return ""


def post_styles(config: SiteConfig, env: Environment) -> Styles:
    rgb = brand_rgb(config.brand_color)
    css = env.get_template("posts/styles.css.j2").render(
        brand=config.brand_color,
        brand_rgb=",".join(str(value) for value in rgb),
        on_brand="#{:02x}{:02x}{:02x}".format(*text_colour_on(rgb)),
        # Text colours dark enough to read at 4.5:1 in light mode and after WeChat's dark mode.
        brand_text=readable_text_colour(config.brand_color, BRAND_TINTS),
        urgent_text=readable_text_colour("#{:02x}{:02x}{:02x}".format(*URGENT_RED)),
        link_text=readable_text_colour(WECHAT_LINK_BLUE),
    )
    return _PartStyles(parse_styles(css))


def build_post(job: PostJob, env: Environment, styles: Styles, diagnostics: Diagnostics) -> Post:
    config, lesson = job.config, job.art.lesson
    if len(lesson.short_title or lesson.title) > TITLE_MAX:
        diagnostics.warning(
            lesson.source, lesson.lines.get("title", 1),
            f"公众号标题最多 {TITLE_MAX} 个字，推文里已截断为“{post_title(lesson)}”：请设置 short_title",
        )  # fmt: skip
    images = body_images(job, lesson, diagnostics)
    by_written = {written: post_image_src(name) for written, (name, _) in images.items()}

    def image_src(written: str) -> str | None:
        return by_written.get(written) or by_written.get(unquote(written))

    body = wechat_body(markdown_to_html(lesson.body), styles, image_src)
    for written in body.dropped_images:
        diagnostics.warning(lesson.source, lesson.body_line, f"图片 '{written}' 不能放进公众号文章，已略去")
    url = config.url + lesson.site_path
    icons = keypoint_icons(job, lesson)
    points = [
        {
            "text": point.text,
            "urgent": point.urgent,
            "icon": post_image_src(icons[icon_name(point)][0]) if icon_name(point) in icons else None,
        }
        for point in lesson_points(lesson, config.red_flags)
    ]
    article = env.get_template("posts/article.html.j2").render(
        lesson=lesson,
        title=post_title(lesson),
        body=Markup(body.html),
        references=body.references,
        url=url,
        s=styles,
        banner=BANNER_SRC,
        points=points,
        footer=post_footer(config, job.related),
    )
    content = enforce_wechat_rules(article)
    if len(content) >= CONTENT_MAX or len(content.encode("utf-8")) >= CONTENT_BYTES_MAX:
        diagnostics.warning(
            lesson.source, lesson.body_line,
            f"公众号文章有 {len(content)} 个字符（含排版代码），草稿接口要求少于 {CONTENT_MAX}："
            "请把课程拆成两篇",
        )  # fmt: skip
    return Post(
        lesson=lesson,
        title=post_title(lesson),
        author=config.posts.author[:AUTHOR_MAX],
        digest=_shorten(lesson.summary, DIGEST_MAX),
        url=url,
        content=content,
        references=body.references,
        images={name: data for name, data in [*images.values(), *icons.values()]},
    )


# The cover, shown at the top of the article: every post opens with a picture. It is
# the post's own cover file (posts/lessons/<slug>/cover.jpg), uploaded with the body images.
BANNER_SRC = LESSON_POSTS["post-cover"]
RELATED_MAX = 3  # 往期推荐: a short list reads; a long one is skipped


def related_lessons(lesson: Lesson, neighbours: Neighbours) -> list[Lesson]:
    """Up to three other lessons on one of its topics, those for the same readers first."""
    audiences = {term.id for term in lesson.audiences}
    on_its_topics = {other.slug: other for term in lesson.topics for other in neighbours.by_topic.get(term.id, [])}
    candidates = [other for slug, other in on_its_topics.items() if slug != lesson.slug]
    candidates.sort(key=lambda other: (-len(audiences & {term.id for term in other.audiences}), other.slug))
    return candidates[:RELATED_MAX]


def post_footer(config: SiteConfig, related: tuple[str, ...]) -> dict[str, object]:
    """The article's last lines: 往期推荐 (titles: their URLs exist only once published), 往期, 关注."""
    return {
        "related": list(related),
        "archive": config.posts.archive,
        "follow": config.posts.follow or f"关注「{config.name}」，获取更多健康科普知识",
    }


def icon_name(point: KeyPoint) -> str | None:
    """The image name stem of a point's pictogram: a safety line's is drawn in red, so it is another image."""
    return f"{point.icon}-urgent" if point.icon and point.urgent else point.icon


def keypoint_icons(project: ProjectFiles, lesson: Lesson) -> dict[str, tuple[str, bytes]]:
    """Image stem → (image name, PNG) for the key points' pictograms that can be drawn.

    WeChat keeps no SVG in an article, so each pictogram goes in as a small PNG
    (uploaded like any body image); a point whose pictogram is missing keeps its number.
    """
    found: dict[str, tuple[str, bytes]] = {}
    for point in lesson_points(lesson, project.config.red_flags):
        stem = icon_name(point)
        if stem is None or stem in found:
            continue
        colour = URGENT_RED if point.urgent else brand_rgb(project.config.brand_color)
        image = pictogram_image(project.root, point.icon, KEYPOINT_ICON_PX, colour)
        if image is None:
            continue
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        found[stem] = (f"icon-{stem}.png", buffer.getvalue())
    return found


def body_images(
    project: ProjectFiles, lesson: Lesson, diagnostics: Diagnostics
) -> dict[str, tuple[str, bytes]]:
    """Body images ready for ``media/uploadimg``: written path → (output name, bytes)."""
    prepared: dict[str, tuple[str, bytes]] = {}
    names_used: set[str] = set()
    for ref in lesson.images:
        if ref.written in prepared:
            continue
        source = project_media(project, ref.path)
        data = upload_ready_image(source) if source else None
        if data is None:
            diagnostics.warning(
                lesson.source, ref.line, f"图片 '{ref.written}' 无法转成 JPG/PNG，公众号文章里略去了它"
            )
            continue
        suffix = ".png" if data.startswith(b"\x89PNG") else ".jpg"
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", PurePosixPath(ref.path).stem).strip("-") or "image"
        name = f"{stem}{suffix}"
        counter = 2
        while name in names_used:
            name, counter = f"{stem}-{counter}{suffix}", counter + 1
        names_used.add(name)
        prepared[ref.written] = (name, data)
    return prepared


def project_media(project: ProjectFiles, rel_path: str | None) -> Path | None:
    """A project file a lesson names, or None: never a file outside the project.

    The loader refuses such paths already; a post must not carry another file's
    pixels whatever reached the model (an absolute path, a symlink out).
    """
    if not rel_path or Path(rel_path).is_absolute() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", rel_path):
        return None
    path = project.root / rel_path
    return path.resolve() if inside(project.root, path) and path.resolve().is_file() else None


def group_text(
    post: Post, env: Environment, diagnostics: Diagnostics, red_flags: tuple[str, ...] = ()
) -> str:
    """Plain text for WeChat groups, within 500 characters; a safety line is never the one dropped."""
    template = env.get_template("posts/group.txt.j2")
    lesson = post.lesson

    def render_text(selection: GroupSelection) -> str:
        return (
            template.render(
                lesson=lesson,
                title=post.title,
                points=[point.text for point in selection.points],  # plain strings, as before
                key_points=selection.points,
                more=selection.more,
                url=post.url,
            ).strip()
            + "\n"
        )

    selection = choose_group_points(
        lesson_points(lesson, red_flags),
        group_safety_line(lesson, red_flags),
        lambda candidate: len(render_text(candidate)) <= GROUP_TEXT_MAX,
    )
    text = render_text(selection)
    if len(text) > GROUP_TEXT_MAX:
        diagnostics.warning(
            lesson.source,
            lesson.lines.get("key_points", 0),
            f"群消息有 {len(text)} 个字，超过 {GROUP_TEXT_MAX} 字，已截断：请把急救要点写短",
        )
        text = text[: GROUP_TEXT_MAX - 2] + "…\n"
    return text


POST_KINDS = (
    "post-html", "post-dark-html", "post-json", "post-image", "post-cover", "post-thumb", "group-text",
    "post-card", "post-newspic-json",
    "calendar-ics", "schedule-csv", "tip-text", "tip-card", "posts-index",
)  # fmt: skip


def check(project: Project, diagnostics: Diagnostics, cache: ArtifactCache | None, jobs: int) -> None:
    """For ``kepu check``: titles that would not fit a post, emergencies without a safety point, tips' figures."""
    post_title_warnings(project, diagnostics)
    emergency_point_warnings(project, project.config.red_flags, diagnostics)
    tip_source_warnings(project, diagnostics)


RENDERER = Renderer(
    name="posts",
    label="公众号文章和群消息",
    kinds=POST_KINDS,
    render=render,
    check=check,
)
