"""Public-account posts, group messages and campaign posting calendars.

For each lesson: an article that survives the WeChat editor (``post.html``), the
fields of the draft API ``draft/add`` (``post.json``), a 900×383 cover and a 1:1
thumbnail, and a plain-text message for WeChat groups. For each campaign: an
iCalendar file and the posting schedule as CSV. ``posts/index.html`` previews every
post with a button that copies its rich HTML for pasting into the editor.

Everything here is byte-for-byte reproducible: no clock, no random ids.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import markdown
import segno
from jinja2 import Environment
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont, ImageOps

from builder import pdf
from builder.brand import brand_rgb, text_colour_on
from builder.cache import ArtifactCache, fingerprint, templates_digest
from builder.calendar import campaign_calendar, campaign_schedule, recommended_material
from builder.content import pictogram_names
from builder.diagnostics import Diagnostics
from builder.model import KeyPoint, Lesson, Project
from builder.outputs import (
    LESSON_POSTS,
    POSTS_INDEX,
    campaign_post_path,
    lesson_post_path,
    post_card_path,
    post_image_path,
    post_image_src,
)
from builder.paths import inside
from builder.renderers.base import RenderContext, Renderer
from builder.search_terms import user_dictionary
from builder.templates import make_environment
from builder.titles import TitleLayout, fit_title, load_font, title_tokens
from builder.wechat import Reference, enforce_wechat_rules, wechat_body
from builder.wechat_css import Styles, parse_styles
from builder.writer import Artifact

try:  # the shared pictogram set (templates/pictograms/) and its loader
    from builder.pictograms import focal_pictogram as _focal_pictogram
    from builder.pictograms import pictogram_svg as _shared_pictogram_svg
except ImportError:  # without it, key points keep their numbers and covers their topic's shape
    _focal_pictogram = None  # type: ignore[assignment]
    _shared_pictogram_svg = None  # type: ignore[assignment]

POSTS_RENDERER_VERSION = 3  # bump when this module's output changes for the same inputs
# Limits of the official-account draft API (draft/add), in characters.
TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX = 20_000  # "必须少于2万字符"
CONTENT_BYTES_MAX = 1_000_000  # "小于1M"
GROUP_TEXT_MAX = 500
GROUP_POINTS_MAX = 5  # key points in a group message, unless it has more safety lines
# media/uploadimg takes JPG or PNG under 1 MB; larger or other images are re-encoded.
BODY_IMAGE_BYTES_MAX = 1_000_000
BODY_IMAGE_WIDTH_MAX = 1080
COVER_SIZE = (900, 383)  # 2.35:1, the cover of a post in chats and timelines
THUMB_SIZE = (500, 500)  # 1:1, the cover when a post is shared or listed second
MARKDOWN_EXTENSIONS = [
    "abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables",
    "fenced_code", "pymdownx.mark", "pymdownx.tilde", "pymdownx.tasklist",
]  # fmt: skip


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


def render(project: Project, ctx: RenderContext) -> Iterator[Artifact]:
    env = make_environment(project, autoescape=True)
    text_env = make_environment(project, autoescape=False)
    styles = post_styles(project, env)
    posts = []
    templates = templates_digest(project.root, "posts")
    ctx.progress.start(len(project.lessons))
    for lesson in project.lessons:
        post = build_post(project, lesson, env, styles, ctx.diagnostics)
        post.group_text = group_text(post, text_env, ctx.diagnostics, project.config.red_flags)
        posts.append(post)
        # The article text is cheap to make and feeds the index; the covers are
        # not, so a lesson's files are reused whenever its inputs are unchanged.
        media = [project_media(project, ref.path) for ref in lesson.images]
        if lesson.cover:
            media.append(project_media(project, lesson.cover))
        # A cover's shade depends on the lesson's place among its topic's lessons.
        rank = topic_rank(project, lesson)
        key = fingerprint("posts", POSTS_RENDERER_VERSION, lesson, project.config, templates, media, rank)
        artifacts = ctx.reuse(key)
        if artifacts is None:
            artifacts = list(post_artifacts(project, post, env))
            ctx.keep(key, artifacts)
        ctx.progress.advance()
        yield from artifacts
    for campaign in project.campaigns:
        audiences = tuple(term.label for term in campaign.audiences)
        for kind, data in (
            ("calendar-ics", campaign_calendar(project, campaign)),
            ("schedule-csv", campaign_schedule(project, campaign)),
        ):
            yield Artifact(kind, campaign_post_path(campaign.slug, kind), campaign.source, audiences, data)
    index = env.get_template("posts/index.html.j2").render(
        posts=posts,
        campaigns=project.campaigns,
        recommended_material=recommended_material,
    )
    yield Artifact("posts-index", POSTS_INDEX, "site_config.yml", (), index.encode("utf-8"))


def post_artifacts(project: Project, post: Post, env: Environment) -> Iterator[Artifact]:
    lesson = post.lesson
    audiences = tuple(term.label for term in lesson.audiences)

    def artifact(kind: str, data: bytes, path: str | None = None) -> Artifact:
        return Artifact(kind, path or lesson_post_path(lesson.slug, kind), lesson.source, audiences, data)

    page = env.get_template("posts/post.html.j2").render(post=post, content=Markup(post.content))
    yield artifact("post-html", page.encode("utf-8"))
    fields = post.draft_fields(project.config.posts.open_comment)
    yield artifact("post-json", (json.dumps(fields, ensure_ascii=False, indent=2) + "\n").encode())
    for name, data in sorted(post.images.items()):
        yield artifact("post-image", data, post_image_path(lesson.slug, name))
    cover_source = project_media(project, lesson.cover)
    yield artifact("post-cover", draw_cover(project, lesson, post.title, cover_source))
    yield artifact("post-thumb", draw_thumb(project, lesson, post.title))
    yield artifact("group-text", post.group_text.encode("utf-8"))
    cards = draw_cards(project, post)
    for number, data in enumerate(cards, start=1):
        yield artifact("post-card", data, post_card_path(lesson.slug, number))
    newspic = newspic_fields(project, post, len(cards))
    yield artifact("post-newspic-json", (json.dumps(newspic, ensure_ascii=False, indent=2) + "\n").encode())


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


class _PartStyles(dict[str, str]):
    """Styles by part name; a part a project's styles.css leaves out is simply unstyled."""

    def __missing__(self, key: str) -> str:
        return ""


def post_styles(project: Project, env: Environment) -> Styles:
    rgb = brand_rgb(project.config.brand_color)
    css = env.get_template("posts/styles.css.j2").render(
        brand=project.config.brand_color,
        brand_rgb=",".join(str(value) for value in rgb),
        on_brand="#{:02x}{:02x}{:02x}".format(*text_colour_on(rgb)),
    )
    return _PartStyles(parse_styles(css))


# Column alignment as align="…", not style="…": raw-HTML styles are dropped by the
# sanitiser, and the WeChat transform writes the alignment back as a checked style.
MARKDOWN_CONFIGS = {"tables": {"use_align_attribute": True}}


def markdown_to_html(text: str) -> str:
    converter = markdown.Markdown(
        extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIGS, output_format="html"
    )
    return converter.convert(text)


def build_post(
    project: Project, lesson: Lesson, env: Environment, styles: Styles, diagnostics: Diagnostics
) -> Post:
    config = project.config
    if len(lesson.short_title or lesson.title) > TITLE_MAX:
        diagnostics.warning(
            lesson.source, lesson.lines.get("title", 1),
            f"公众号标题最多 {TITLE_MAX} 个字，推文里已截断为“{post_title(lesson)}”：请设置 short_title",
        )  # fmt: skip
    images = body_images(project, lesson, diagnostics)
    by_written = {written: post_image_src(name) for written, (name, _) in images.items()}

    def image_src(written: str) -> str | None:
        return by_written.get(written) or by_written.get(unquote(written))

    body = wechat_body(markdown_to_html(lesson.body), styles, image_src)
    for written in body.dropped_images:
        diagnostics.warning(lesson.source, lesson.body_line, f"图片 '{written}' 不能放进公众号文章，已略去")
    url = config.url + lesson.site_path
    icons = keypoint_icons(project, lesson)
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


def icon_name(point: KeyPoint) -> str | None:
    """The image name stem of a point's pictogram: a safety line's is drawn in red, so it is another image."""
    return f"{point.icon}-urgent" if point.icon and point.urgent else point.icon


def keypoint_icons(project: Project, lesson: Lesson) -> dict[str, tuple[str, bytes]]:
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
        image = pictogram_image(project, point.icon, KEYPOINT_ICON_PX, colour)
        if image is None:
            continue
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        found[stem] = (f"icon-{stem}.png", buffer.getvalue())
    return found


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def body_images(project: Project, lesson: Lesson, diagnostics: Diagnostics) -> dict[str, tuple[str, bytes]]:
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


def project_media(project: Project, rel_path: str | None) -> Path | None:
    """A project file a lesson names, or None: never a file outside the project.

    The loader refuses such paths already; a post must not carry another file's
    pixels whatever reached the model (an absolute path, a symlink out).
    """
    if not rel_path or Path(rel_path).is_absolute() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", rel_path):
        return None
    path = project.root / rel_path
    return path.resolve() if inside(project.root, path) and path.resolve().is_file() else None


def upload_ready_image(src: Path) -> bytes | None:
    """JPG or PNG under 1 MB: the original when it already is, else a re-encoded copy."""
    data = src.read_bytes()
    is_jpeg_or_png = data.startswith(b"\xff\xd8") or data.startswith(b"\x89PNG")
    if is_jpeg_or_png and len(data) <= BODY_IMAGE_BYTES_MAX:
        return data
    try:
        with Image.open(src) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    if image.width > BODY_IMAGE_WIDTH_MAX:
        height = round(image.height * BODY_IMAGE_WIDTH_MAX / image.width)
        image = image.resize((BODY_IMAGE_WIDTH_MAX, height), Image.Resampling.LANCZOS)
    has_transparency = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    if has_transparency:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        if buffer.tell() <= BODY_IMAGE_BYTES_MAX:
            return buffer.getvalue()
    image = image.convert("RGB")
    for quality in (88, 80, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= BODY_IMAGE_BYTES_MAX:
            return buffer.getvalue()
    return None


# -- safety lines and the group message -------------------------------------------------

# A number among the red flags ("120") is a phone number only on its own: not inside
# a reading ("120/80", "100～120次") nor next to a unit.
NUMBER_FLAG_AROUND = (
    r"(?<![0-9０-９.／/～~\-]){word}(?![0-9０-９.／/～~\-]|\s*(?:mmHg|毫米|次|克|毫升|厘米|分钟|岁|%|％))"
)
SENTENCE_END = re.compile(r"(?<=[。！？；])")
SAFETY_LINE_MAX = 60  # a body sentence longer than this is not quoted in a group message
# Bounded and line-local, like every content regex (tests/test_fuzz_parsers.py).
MARKDOWN_INLINE = re.compile(r"\*\*|__|\*|`|~~|==|\[\^[^\]\n]{0,100}\]|!\[[^\]\n]{0,300}\]\([^)\n]{0,1000}\)")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)、])\s+")


def red_flag_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the project's red-flag words (``red_flags:``), numbers matched on their own."""
    parts = [
        NUMBER_FLAG_AROUND.format(word=re.escape(word)) if word.isdigit() else re.escape(word)
        for word in sorted(words, key=len, reverse=True)
        if word
    ]
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True)
class SafetyLine:
    """A body sentence that is a safety instruction, with its source line."""

    line: int
    text: str


def body_safety_lines(lesson: Lesson, words: tuple[str, ...]) -> list[SafetyLine]:
    """Every body sentence with a red-flag word, in order.

    Read from the Markdown source, line by line: headings (“现场急救五步”), table rows,
    code and quoted sources (a title in 《》) are not instructions and are skipped;
    a paragraph's lines are joined so a sentence broken across lines counts once.
    """
    pattern = red_flag_pattern(words)
    if pattern is None:
        return []
    found: list[SafetyLine] = []
    paragraph: list[tuple[int, str]] = []
    fenced = False

    def flush() -> None:
        if not paragraph:
            return
        text = "".join(part for _, part in paragraph)
        first_line = paragraph[0][0]
        for sentence in SENTENCE_END.split(text):
            sentence = sentence.strip()
            if sentence and "《" not in sentence and pattern.search(sentence):
                found.append(SafetyLine(first_line, sentence))
        paragraph.clear()

    for offset, raw in enumerate(lesson.body.split("\n")):
        line = lesson.body_line + offset
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            flush()
            continue
        if fenced or not stripped or stripped.startswith(("#", "|", "<", "[^", "!!!", ">")):
            flush()
            continue
        if LIST_MARKER.match(raw):
            flush()
            stripped = LIST_MARKER.sub("", raw).strip()
        stripped = MARKDOWN_INLINE.sub("", MARKDOWN_LINK.sub(r"\1", stripped))
        paragraph.append((line, stripped))
    flush()
    return found


def lesson_points(lesson: Lesson, words: tuple[str, ...]) -> list[KeyPoint]:
    """The lesson's key points with their pictogram and urgency.

    ``key_points`` is the list of texts every output shows; ``points`` adds what the
    loader found out about each. A model whose two lists disagree (built by hand, or
    edited after loading) gets its points again from the texts and the words.
    """
    if [point.text for point in lesson.points] == lesson.key_points:
        return list(lesson.points)
    known = {point.text: point for point in lesson.points}
    pattern = red_flag_pattern(words)
    lines = lesson.key_point_lines if len(lesson.key_point_lines) == len(lesson.key_points) else None
    return [
        known.get(text)
        or KeyPoint(text, lines[index] if lines else 0, None, bool(pattern and pattern.search(text)))
        for index, text in enumerate(lesson.key_points)
    ]


def group_safety_line(lesson: Lesson, words: tuple[str, ...]) -> KeyPoint | None:
    """The safety line a group message adds when no key point is one.

    The rule, kept simple so an editor can predict it: the first body sentence with a
    red-flag word that is at most 60 characters long, shown as the last point. An
    urgent key point always wins over the body: the editor wrote that one on purpose.
    """
    if any(point.urgent for point in lesson_points(lesson, words)):
        return None
    for safety in body_safety_lines(lesson, words):
        if len(safety.text) <= SAFETY_LINE_MAX:
            return KeyPoint(safety.text, safety.line, None, True)
    return None


@dataclass(frozen=True)
class GroupSelection:
    points: list[KeyPoint]  # in the lesson's order, the body's safety line last
    more: int  # key points left out, which the message points to in the article


def choose_group_points(
    points: list[KeyPoint],
    safety: KeyPoint | None,
    fits: Callable[[GroupSelection], bool],
    most: int = GROUP_POINTS_MAX,
) -> GroupSelection:
    """The points of a group message: every safety line, then the others in order while they fit.

    At most ``most`` points unless there are more safety lines than that; the other points
    are dropped from the end — down to none — before a safety line would be cut.
    """
    urgent = [point for point in points if point.urgent]
    others = [point for point in points if not point.urgent]
    keep = max(0, min(len(others), most - len(urgent) - (safety is not None)))
    while True:
        kept = set(map(id, urgent + others[:keep]))
        chosen = [point for point in points if id(point) in kept] + ([safety] if safety else [])
        selection = GroupSelection(chosen, len(points) - len(kept))
        if keep == 0 or fits(selection):
            return selection
        keep -= 1


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


def emergency_point_warnings(
    subject: Project | Lesson, red_flags: tuple[str, ...], diagnostics: Diagnostics
) -> None:
    """Warn, at its ``key_points:`` line, for each lesson whose body tells readers what to do in
    an emergency while no key point does: that line is what outputs must never drop."""
    lessons = subject.lessons if isinstance(subject, Project) else [subject]
    for lesson in lessons:
        if any(point.urgent for point in lesson_points(lesson, red_flags)):
            continue
        lines = body_safety_lines(lesson, red_flags)
        if not lines:
            continue
        quoted = _shorten(lines[0].text, 30)
        diagnostics.warning(
            lesson.source,
            lesson.lines.get("key_points", 1),
            f"正文第 {lines[0].line} 行讲了急救（“{quoted}”），要点里却没有急救提示："
            "请把它写成一条要点，或给一条要点加上 urgent: true（群消息、卡片等会始终保留这一条）",
        )


# -- pictures: topic colours, pictograms, cover and thumbnail --------------------------

KEYPOINT_ICON_PX = 48  # drawn at 24 CSS px in the article, twice that for sharp phones


def _contrast_with_white(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    return 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)


def _hls(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue % 1, lightness, saturation))  # type: ignore[return-value]


@dataclass(frozen=True)
class TopicPalette:
    """A lesson's colours: its topic's hue (the brand colour turned round the wheel), its own shade."""

    base: tuple[int, int, int]  # backgrounds under white text (contrast ≥ 4.5:1)
    deep: tuple[int, int, int]  # the far end of the background's gradient
    tint: tuple[int, int, int]  # the disc behind the pictogram, light panels
    soft: tuple[int, int, int]  # rings on the background
    ink: tuple[int, int, int]  # text on the base colour


URGENT_RED = (192, 38, 38)  # the safety marker on cards: red reads as "emergency" whatever the topic
URGENT_TINT = (253, 236, 236)


def lesson_motif(project: Project, lesson: Lesson) -> int:
    """Which topic the lesson shows: its first topic's place among the project's topics."""
    terms = project.config.topics.terms
    topic = lesson.topics[0] if lesson.topics else None
    return terms.index(topic) if topic in terms else 0


def topic_rank(project: Project, lesson: Lesson) -> tuple[int, int]:
    """The lesson's place among the lessons of its first topic (by slug), and how many there are."""
    motif = lesson_motif(project, lesson)
    siblings = sorted(item.slug for item in project.lessons if lesson_motif(project, item) == motif)
    return (siblings.index(lesson.slug) if lesson.slug in siblings else 0), max(len(siblings), 1)


def backdrop_pattern(project: Project, lesson: Lesson) -> int:
    """Rings, bands or dots: by the lesson's rank in its topic, offset by the topic so the first
    lessons of neighbouring topics differ too."""
    return topic_rank(project, lesson)[0] + lesson_motif(project, lesson)


def topic_palette(project: Project, lesson: Lesson) -> TopicPalette:
    """Deterministic colours: each topic a hue step from the brand colour, each lesson its own shade.

    Topics sit evenly round the colour wheel starting at the brand colour, so the
    first topic keeps the brand's own hue. The lessons of one topic spread over a
    band of that hue, in three shades, so in a feed they look
    related but never alike; the pattern behind follows the same cycle.
    """
    red, green, blue = (channel / 255 for channel in brand_rgb(project.config.brand_color))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    steps = max(len(project.config.topics.terms), 1)
    rank, count = topic_rank(project, lesson)
    band = 0.5 / steps  # half the way to the next topic's hue: neighbours stay a half step apart
    shift = (rank / (count - 1) - 0.5) * band if count > 1 else 0.0
    hue = hue + lesson_motif(project, lesson) / steps + shift
    saturation = min(max(saturation, 0.45), 0.75)
    lightness = min(lightness, 0.45) - (0.0, 0.1, 0.05)[rank % 3]
    base = _hls(hue, lightness, saturation)
    while _contrast_with_white(base) < 4.5 and lightness > 0.1:  # yellow and cyan need to go darker
        lightness -= 0.02
        base = _hls(hue, lightness, saturation)
    return TopicPalette(
        base=base,
        deep=_hls(hue + 0.02, max(lightness - 0.1, 0.08), saturation),
        tint=_hls(hue, 0.93, min(saturation, 0.6)),
        soft=_hls(hue, min(lightness + 0.08, 0.6), saturation),
        ink=(255, 255, 255),
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def pictogram_image(
    project: Project, name: str | None, px: int, colour: tuple[int, int, int]
) -> Image.Image | None:
    """The shared pictogram ``name`` drawn in ``colour``, ``px`` square, or None (the caller's fallback)."""
    if _shared_pictogram_svg is None or not name:
        return None
    svg = _shared_pictogram_svg(project.root, name, _hex(colour))
    image = pdf.rasterise_svg(svg.encode("utf-8"), px) if svg else None
    return image.copy() if image is not None else None


def lesson_pictogram(project: Project, lesson: Lesson) -> str | None:
    """The one pictogram for the whole lesson (the poster's choice), else its first point's."""
    if _focal_pictogram is not None:
        return _focal_pictogram(lesson, project.config.pictograms, pictogram_names(project.root))
    return next((point.icon for point in lesson.points if point.icon), None)


def draw_motif(
    draw: ImageDraw.ImageDraw, motif: int, box: tuple[float, float, float, float], fill: tuple[int, int, int]
) -> None:
    """A simple shape per topic (by its place in the config) when there is no pictogram."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0

    def p(u: float, v: float) -> tuple[float, float]:
        return (x0 + u * w, y0 + v * h)

    kind = motif % 9
    if kind == 0:  # heart: chronic disease, the heart and vessels
        draw.ellipse((*p(0.05, 0.12), *p(0.53, 0.6)), fill=fill)
        draw.ellipse((*p(0.47, 0.12), *p(0.95, 0.6)), fill=fill)
        draw.polygon([p(0.08, 0.45), p(0.92, 0.45), p(0.5, 0.92)], fill=fill)
    elif kind == 1:  # safety helmet: work
        draw.pieslice((*p(0.12, 0.2), *p(0.88, 0.96)), 180, 360, fill=fill)
        draw.rounded_rectangle((*p(0.02, 0.56), *p(0.98, 0.7)), radius=w * 0.05, fill=fill)
    elif kind == 2:  # shield: infections kept out
        draw.polygon(
            [p(0.5, 0.05), p(0.9, 0.2), p(0.85, 0.6), p(0.5, 0.95), p(0.15, 0.6), p(0.1, 0.2)], fill=fill
        )
    elif kind == 3:  # cross: first aid, injuries
        draw.rectangle((*p(0.36, 0.08), *p(0.64, 0.92)), fill=fill)
        draw.rectangle((*p(0.08, 0.36), *p(0.92, 0.64)), fill=fill)
    elif kind == 4:  # drop: mothers and children
        draw.ellipse((*p(0.18, 0.36), *p(0.82, 0.96)), fill=fill)
        draw.polygon([p(0.5, 0.03), p(0.8, 0.55), p(0.2, 0.55)], fill=fill)
    elif kind == 5:  # sun: mood and rest
        draw.ellipse((*p(0.28, 0.28), *p(0.72, 0.72)), fill=fill)
        for step in range(8):
            angle = math.pi * step / 4
            cx, cy = 0.5 + 0.38 * math.cos(angle), 0.5 + 0.38 * math.sin(angle)
            draw.ellipse((*p(cx - 0.07, cy - 0.07), *p(cx + 0.07, cy + 0.07)), fill=fill)
    elif kind == 6:  # apple: food and exercise
        draw.ellipse((*p(0.1, 0.28), *p(0.56, 0.95)), fill=fill)
        draw.ellipse((*p(0.44, 0.28), *p(0.9, 0.95)), fill=fill)
        draw.polygon([p(0.5, 0.3), p(0.72, 0.05), p(0.8, 0.12), p(0.56, 0.32)], fill=fill)
    elif kind == 7:  # open book: health literacy
        draw.polygon([p(0.04, 0.2), p(0.47, 0.3), p(0.47, 0.9), p(0.04, 0.8)], fill=fill)
        draw.polygon([p(0.53, 0.3), p(0.96, 0.2), p(0.96, 0.8), p(0.53, 0.9)], fill=fill)
    else:  # speech bubble: talking with residents, training
        draw.rounded_rectangle((*p(0.04, 0.12), *p(0.96, 0.72)), radius=w * 0.16, fill=fill)
        draw.polygon([p(0.22, 0.66), p(0.46, 0.66), p(0.18, 0.92)], fill=fill)


def draw_emblem(
    canvas: Image.Image,
    project: Project,
    lesson: Lesson,
    centre: tuple[float, float],
    radius: float,
    palette: TopicPalette,
) -> None:
    """A light disc with the lesson's pictogram, or its topic's shape when it has none."""
    draw = ImageDraw.Draw(canvas)
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=palette.tint)
    inner = round(radius * 1.2)
    picture = pictogram_image(project, lesson_pictogram(project, lesson), inner, palette.base)
    if picture is not None:
        canvas.paste(picture, (round(cx - inner / 2), round(cy - inner / 2)), picture)
    else:
        half = radius * 0.55
        draw_motif(
            draw, lesson_motif(project, lesson), (cx - half, cy - half, cx + half, cy + half), palette.base
        )


def _backdrop(canvas: Image.Image, palette: TopicPalette, seed: str, pattern: int = 0) -> None:
    """The base colour fading to the deep one, under rings, stripes or dots (by the lesson's rank
    in its topic), placed by its slug."""
    width, height = canvas.size
    gradient = Image.linear_gradient("L").resize((width, height))
    canvas.paste(Image.new("RGB", canvas.size, palette.deep), (0, 0), gradient)
    draw = ImageDraw.Draw(canvas)
    digest = hashlib.sha256(seed.encode()).digest()
    short = min(width, height)
    stroke = max(6, short // 30)
    if pattern % 3 == 0:  # two rings
        for index in range(2):
            radius = round(short * (0.35 + digest[3 + index] / 255 * 0.4))
            cx = round(width * (0.15 + digest[5 + index] / 255 * 0.7))
            cy = round(height * (digest[7 + index] / 255))
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius), outline=palette.soft, width=stroke
            )
    elif pattern % 3 == 1:  # diagonal bands
        gap = round(short * (0.22 + digest[3] / 255 * 0.1))
        for x in range(-height, width + height, gap):
            draw.line((x, height, x + height, 0), fill=palette.soft, width=stroke * 2)
    else:  # a field of dots
        gap = round(short * (0.12 + digest[3] / 255 * 0.04))
        dot = max(4, gap // 6)
        for row, y in enumerate(range(gap // 2, height, gap)):
            for x in range(gap // 2 + (gap // 2 if row % 2 else 0), width, gap):
                draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=palette.soft)


def _save_jpeg(canvas: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    # No EXIF, no timestamps: the same inputs give the same bytes.
    canvas.save(buffer, "JPEG", quality=quality, optimize=True, subsampling=0)
    return buffer.getvalue()


def _cover_crop(src: Path, size: tuple[int, int]) -> Image.Image | None:
    try:
        with Image.open(src) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _fits(layout: TitleLayout, width: float, height: float) -> bool:
    return (
        all(layout.font.getlength(line) <= width + 0.5 for line in layout.lines)
        and len(layout.lines) * layout.line_height <= height
    )


def draw_cover(project: Project, lesson: Lesson, title: str, cover_image: Path | None) -> bytes:
    """900×383: the title on the lesson's topic colour, with its pictogram or its own photo."""
    width, height = COVER_SIZE
    palette = topic_palette(project, lesson)
    canvas = Image.new("RGB", COVER_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug, backdrop_pattern(project, lesson))
    draw = ImageDraw.Draw(canvas)
    photo = _cover_crop(cover_image, (round(width * 0.42), height)) if cover_image else None
    if photo is not None:
        x0 = width - photo.width
        canvas.paste(photo, (x0, 0))
        # Fade the photo into the background so its edge does not cut the picture.
        fade = 90
        mask = Image.linear_gradient("L").rotate(90, expand=True).resize((fade, height))
        canvas.paste(Image.new("RGB", (fade, height), palette.base), (x0, 0), ImageOps.invert(mask))
        right = x0
    else:
        radius = height * 0.34
        draw_emblem(canvas, project, lesson, (width - height * 0.52, height / 2), radius, palette)
        right = round(width - height * 0.95)

    margin = round(height * 0.12)
    label_font = load_font("regular", round(height * 0.058))
    label_height = round(label_font.size * 1.6)
    usable_width = right - 2 * margin
    usable_height = height - 2 * margin - 2 * label_height
    sizes = range(round(height * 0.15), round(height * 0.055) - 1, -2)
    layout = fit_title(
        title_tokens(title, tuple(user_dictionary(project))), usable_width, usable_height, sizes, 3
    )
    block_height = label_height + len(layout.lines) * layout.line_height
    y = (height - block_height) // 2
    soft_ink = _blend(palette.ink, palette.base, 0.25)
    draw.text((margin, y), project.config.name, font=label_font, fill=soft_ink)
    y += label_height
    for line in layout.lines:
        draw.text(
            (margin, y + (layout.line_height - layout.font.size) / 2 - layout.font.size * 0.12),
            line,
            font=layout.font,
            fill=palette.ink,
        )
        y += layout.line_height
    bar_y = y + round(layout.line_height * 0.25)
    draw.rectangle((margin, bar_y, margin + 48, bar_y + 5), fill=soft_ink)
    return _save_jpeg(canvas)


THUMB_TITLE_MIN = 48  # px on 500×500: readable when WeChat shows the square at a quarter size


THUMB_MARGIN = 40


def thumb_layout(project: Project, title: str) -> tuple[int, TitleLayout] | None:
    """The emblem's radius and the title's layout on the thumbnail; None: the emblem alone.

    The emblem shrinks (then goes) before the title drops below 48 px.
    """
    width, height = THUMB_SIZE
    tokens = title_tokens(title, tuple(user_dictionary(project)))
    sizes = range(76, THUMB_TITLE_MIN - 1, -2)
    for radius in (90, 64, 0):
        room = height - _thumb_title_top(radius) - THUMB_MARGIN
        layout = fit_title(tokens, width - 2 * THUMB_MARGIN, room, sizes, 5)
        if _fits(layout, width - 2 * THUMB_MARGIN, room) and layout.font.size >= THUMB_TITLE_MIN:
            return radius, layout
    return None


def _thumb_title_top(radius: int) -> int:
    return THUMB_MARGIN + 2 * radius + (24 if radius else 0)


def draw_thumb(project: Project, lesson: Lesson, title: str) -> bytes:
    """500×500: the pictogram above the title at 48 px or more; the pictogram alone if the title cannot be."""
    width, height = THUMB_SIZE
    palette = topic_palette(project, lesson)
    canvas = Image.new("RGB", THUMB_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug, backdrop_pattern(project, lesson))
    draw = ImageDraw.Draw(canvas)
    chosen = thumb_layout(project, title)
    if chosen is None:
        draw_emblem(canvas, project, lesson, (width / 2, height / 2), width * 0.3, palette)
        return _save_jpeg(canvas)
    radius, layout = chosen
    if radius:
        draw_emblem(canvas, project, lesson, (width / 2, THUMB_MARGIN + radius), radius, palette)
    top = _thumb_title_top(radius)
    _draw_lines(draw, layout, (THUMB_MARGIN, top, width - THUMB_MARGIN, height - THUMB_MARGIN), palette.ink)
    return _save_jpeg(canvas)


def _blend(colour: tuple[int, int, int], other: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * amount) for a, b in zip(colour, other, strict=True))  # type: ignore[return-value]


# -- image posts (图片消息 / 小绿书): cards and newspic fields ---------------------------

CARD_SIZE = (1080, 1440)  # 3:4, what image feeds (小绿书, 小红书) show uncropped
NEWSPIC_IMAGES_MAX = 20  # draft/add: "图片数量最多为20张，首张图片即为封面图"
# The API documents no length for an image post's plain text: 1,000 characters is a
# conservative limit of Kepu's own (a phone screen or two), not a documented one.
NEWSPIC_TEXT_MAX = 1000
CARD_INK = (26, 26, 26)
CARD_GREY = (102, 102, 102)
URGENT_INK = (166, 27, 27)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    layout: TitleLayout,
    box: tuple[float, float, float, float],
    fill: tuple[int, int, int],
    centred: bool = True,
) -> None:
    left, top, right, bottom = box
    y = top + (bottom - top - len(layout.lines) * layout.line_height) / 2
    for line in layout.lines:
        visible = layout.font.getlength(line.rstrip("：，、；。"))
        x = left + (right - left - visible) / 2 if centred else left
        draw.text(
            (x, y + (layout.line_height - layout.font.size) / 2 - layout.font.size * 0.12),
            line,
            font=layout.font,
            fill=fill,
        )
        y += layout.line_height


def _centred_text(
    draw: ImageDraw.ImageDraw, y: float, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int]
) -> None:
    width = CARD_SIZE[0]
    while font.getlength(text) > width - 120 and len(text) > 2:
        text = text[:-2] + "…"
    draw.text(((width - font.getlength(text)) / 2, y), text, font=font, fill=fill)


def _number_badge(
    draw: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    radius: float,
    number: int,
    fill: tuple[int, int, int],
) -> None:
    cx, cy = centre
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    font = load_font("bold", round(radius * 1.1))
    text = str(number)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((cx - (left + right) / 2, cy - (top + bottom) / 2), text, font=font, fill=(255, 255, 255))


def _qr(draw: ImageDraw.ImageDraw, url: str, box: tuple[int, int, int]) -> None:
    """The lesson's address as a QR code, black on white, ``box`` = (left, top, size)."""
    left, top, size = box
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix) + 8  # the standard's 4-module quiet zone on each side
    step = size / modules
    draw.rounded_rectangle((left, top, left + size, top + size), radius=round(step * 2), fill=(255, 255, 255))
    for row, cells in enumerate(matrix):
        for column, cell in enumerate(cells):
            if cell:
                x, y = left + (column + 4) * step, top + (row + 4) * step
                draw.rectangle((round(x), round(y), round(x + step) - 1, round(y + step) - 1), fill=(0, 0, 0))


def draw_title_card(project: Project, post: Post, count: int) -> bytes:
    lesson = post.lesson
    width = CARD_SIZE[0]
    palette = topic_palette(project, lesson)
    canvas = Image.new("RGB", CARD_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug, backdrop_pattern(project, lesson))
    draw = ImageDraw.Draw(canvas)
    soft_ink = _blend(palette.ink, palette.base, 0.25)
    _centred_text(draw, 110, project.config.name, load_font("regular", 40), soft_ink)
    draw_emblem(canvas, project, lesson, (width / 2, 480), 230, palette)
    tokens = title_tokens(post.title, tuple(user_dictionary(project)))
    layout = fit_title(tokens, width - 160, 420, range(112, 63, -4), 4)
    _draw_lines(draw, layout, (80, 760, width - 80, 1180), palette.ink)
    _centred_text(draw, 1300, f"{count} 条要点 · 向左滑动查看", load_font("regular", 38), soft_ink)
    return _save_jpeg(canvas, 88)


def draw_point_card(project: Project, post: Post, point: KeyPoint, number: int, count: int) -> bytes:
    """One key point: its pictogram (or number), the words large; a safety line in red with a label."""
    lesson = post.lesson
    width = CARD_SIZE[0]
    palette = topic_palette(project, lesson)
    accent = URGENT_RED if point.urgent else palette.base
    canvas = Image.new("RGB", CARD_SIZE, URGENT_TINT if point.urgent else palette.tint)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, 170), fill=accent)
    band_font = load_font("bold", 52)
    draw.text((80, 85 - 52 * 0.62), f"要点 {number}/{count}", font=band_font, fill=(255, 255, 255))
    if point.urgent:
        label = "⚠ 紧急情况" if band_font.getbbox("⚠")[2] > 0 else "紧急情况"
        draw.text(
            (width - 80 - band_font.getlength(label), 85 - 52 * 0.62),
            label,
            font=band_font,
            fill=(255, 255, 255),
        )
    picture = pictogram_image(project, point.icon, 300, accent)
    centre = (width / 2, 480)
    if picture is not None:
        draw.ellipse(
            (centre[0] - 210, centre[1] - 210, centre[0] + 210, centre[1] + 210), fill=(255, 255, 255)
        )
        canvas.paste(picture, (round(centre[0] - 150), round(centre[1] - 150)), picture)
    else:
        _number_badge(draw, centre, 170, number, accent)
    tokens = title_tokens(point.text, tuple(user_dictionary(project)))
    layout = fit_title(tokens, width - 160, 560, range(88, 51, -4), 6)
    _draw_lines(draw, layout, (80, 730, width - 80, 1290), URGENT_INK if point.urgent else CARD_INK)
    small = load_font("regular", 34)
    _centred_text(draw, 1350, f"{post.title} · {project.config.organization}", small, CARD_GREY)
    return _save_jpeg(canvas, 88)


def draw_closing_card(project: Project, post: Post) -> bytes:
    """Who tells you this, who checked it, and where the whole lesson is (a QR code to the page)."""
    lesson = post.lesson
    width = CARD_SIZE[0]
    palette = topic_palette(project, lesson)
    canvas = Image.new("RGB", CARD_SIZE, palette.base)
    _backdrop(canvas, palette, lesson.slug + "/closing", backdrop_pattern(project, lesson) + 1)
    draw = ImageDraw.Draw(canvas)
    soft_ink = _blend(palette.ink, palette.base, 0.2)
    _centred_text(draw, 150, "扫码看完整课程", load_font("bold", 72), palette.ink)
    _qr(draw, post.url, (width // 2 - 230, 290, 460))
    y = 820
    _centred_text(draw, y, project.config.organization, load_font("bold", 56), palette.ink)
    lines = [project.config.contact] if project.config.contact else []
    if lesson.reviewed_by:
        lines.append(f"审核：{lesson.reviewed_by}")
    lines.append("本内容仅供健康科普，不能代替医生面诊")
    regular = load_font("regular", 38)
    for offset, line in enumerate(lines):
        _centred_text(draw, y + 110 + offset * 64, line, regular, soft_ink)
    _centred_text(draw, 1330, project.config.name, load_font("regular", 36), soft_ink)
    return _save_jpeg(canvas, 88)


def card_points(post: Post, red_flags: tuple[str, ...]) -> list[KeyPoint]:
    """The key points that get a card: all of them (at most 8), so 1 + 8 + 1 ≤ 20 images."""
    return lesson_points(post.lesson, red_flags)[: NEWSPIC_IMAGES_MAX - 2]


def draw_cards(project: Project, post: Post) -> list[bytes]:
    points = card_points(post, project.config.red_flags)
    cards = [draw_title_card(project, post, len(points))]
    cards += [
        draw_point_card(project, post, point, number, len(points)) for number, point in enumerate(points, 1)
    ]
    cards.append(draw_closing_card(project, post))
    return cards


def newspic_text(project: Project, post: Post) -> str:
    """The image post's plain text: summary, the points (safety lines marked, always kept), the link."""
    lesson = post.lesson

    def render_text(selection: GroupSelection, summary: str = lesson.summary) -> str:
        lines = [summary, ""]
        lines += [
            f"{number}. {'⚠️ ' if point.urgent else ''}{point.text}"
            for number, point in enumerate(selection.points, 1)
        ]
        if selection.more:
            lines.append(f"另有 {selection.more} 条要点，见完整课程。")
        lines += ["", f"完整课程：{post.url}", f"—— {project.config.organization}"]
        return "\n".join(lines)

    points = lesson_points(lesson, project.config.red_flags)
    selection = choose_group_points(
        points, None, lambda candidate: len(render_text(candidate)) <= NEWSPIC_TEXT_MAX, most=len(points)
    )
    text = render_text(selection)
    if len(text) > NEWSPIC_TEXT_MAX:  # a summary far too long: it is cut, never a safety line
        room = max(len(lesson.summary) - (len(text) - NEWSPIC_TEXT_MAX), 1)
        text = render_text(selection, _shorten(lesson.summary, room))
    return text


def newspic_fields(project: Project, post: Post, card_count: int) -> dict[str, object]:
    """draft/add's image-post article, less the permanent media ids only ``kepu publish`` has."""
    slug = post.lesson.slug
    return {
        "article_type": "newspic",
        "title": post.title,
        "content": newspic_text(project, post),
        "need_open_comment": int(project.config.posts.open_comment),
        "only_fans_can_comment": 0,
        # Filled on upload, in this order: the first card is the post's cover.
        "image_info": {"image_list": []},
        "kepu": {
            "lesson": slug,
            "source": post.lesson.source,
            "images": [post_card_path(slug, number) for number in range(1, card_count + 1)],
        },
    }


POST_KINDS = (
    "post-html", "post-json", "post-image", "post-cover", "post-thumb", "group-text",
    "post-card", "post-newspic-json",
    "calendar-ics", "schedule-csv", "posts-index",
)  # fmt: skip


def check(project: Project, diagnostics: Diagnostics, cache: ArtifactCache | None, jobs: int) -> None:
    """For ``kepu check``: titles that would not fit a post, emergencies without a safety point."""
    post_title_warnings(project, diagnostics)
    emergency_point_warnings(project, project.config.red_flags, diagnostics)


RENDERER = Renderer(
    name="posts",
    label="公众号文章和群消息",
    kinds=POST_KINDS,
    render=render,
    check=check,
)
