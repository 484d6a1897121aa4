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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import markdown
from jinja2 import Environment
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageOps

from builder.brand import brand_rgb, text_colour_on
from builder.cache import ArtifactCache, fingerprint, templates_digest
from builder.calendar import campaign_calendar, campaign_schedule, recommended_material
from builder.diagnostics import Diagnostics
from builder.model import KeyPoint, Lesson, Project
from builder.outputs import (
    POSTS_INDEX,
    campaign_post_path,
    lesson_post_path,
    post_image_path,
    post_image_src,
)
from builder.paths import inside
from builder.renderers.base import RenderContext, Renderer
from builder.search_terms import user_dictionary
from builder.templates import make_environment
from builder.titles import fit_title, load_font, title_tokens
from builder.wechat import Reference, enforce_wechat_rules, wechat_body
from builder.wechat_css import Styles, parse_styles
from builder.writer import Artifact

POSTS_RENDERER_VERSION = 2  # bump when this module's output changes for the same inputs
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
                "images": [
                    {"src": post_image_src(name), "path": post_image_path(self.lesson.slug, name)}
                    for name in sorted(self.images)
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
        key = fingerprint("posts", POSTS_RENDERER_VERSION, lesson, project.config, templates, media)
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
    yield artifact("post-cover", draw_cover(project, post.title, cover_source, COVER_SIZE))
    yield artifact("post-thumb", draw_cover(project, post.title, cover_source, THUMB_SIZE))
    yield artifact("group-text", post.group_text.encode("utf-8"))


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
    article = env.get_template("posts/article.html.j2").render(
        lesson=lesson,
        title=post_title(lesson),
        body=Markup(body.html),
        references=body.references,
        url=url,
        s=styles,
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
        images={name: data for name, data in images.values()},
    )


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
NUMBER_FLAG_AROUND = r"(?<![0-9０-９.／/～~\-]){word}(?![0-9０-９.／/～~\-]|\s*(?:mmHg|毫米|次|克|毫升|厘米|分钟|岁|%|％))"
SENTENCE_END = re.compile(r"(?<=[。！？；])")
SAFETY_LINE_MAX = 60  # a body sentence longer than this is not quoted in a group message
MARKDOWN_INLINE = re.compile(r"\*\*|__|\*|`|~~|==|\[\^[^\]]*\]|!\[[^\]]*\]\([^)]*\)")
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
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
    """The lesson's key points with their urgency (a model built without ``points`` gets them from the words)."""
    if lesson.points:
        return list(lesson.points)
    pattern = red_flag_pattern(words)
    lines = lesson.key_point_lines or [0] * len(lesson.key_points)
    return [
        KeyPoint(text, line, None, bool(pattern and pattern.search(text)))
        for text, line in zip(lesson.key_points, lines, strict=False)
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
    points: list[KeyPoint], safety: KeyPoint | None, fits: Callable[[GroupSelection], bool]
) -> GroupSelection:
    """The points of a group message: every safety line, then the others in order while they fit.

    At most five points unless there are more safety lines than that; the other points
    are dropped from the end — down to none — before a safety line would be cut.
    """
    most = GROUP_POINTS_MAX
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


def group_text(post: Post, env: Environment, diagnostics: Diagnostics, red_flags: tuple[str, ...] = ()) -> str:
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


def emergency_point_warnings(subject: Project | Lesson, red_flags: tuple[str, ...], diagnostics: Diagnostics) -> None:
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


# -- cover and thumbnail ---------------------------------------------------------------


def _cover_crop(src: Path, size: tuple[int, int]) -> Image.Image | None:
    try:
        with Image.open(src) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _blend(colour: tuple[int, int, int], other: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * amount) for a, b in zip(colour, other, strict=True))  # type: ignore[return-value]


def draw_cover(project: Project, title: str, cover_image: Path | None, size: tuple[int, int]) -> bytes:
    """The title on the brand colour; with the lesson's cover image beside or above it."""
    width, height = size
    brand = brand_rgb(project.config.brand_color)
    ink = text_colour_on(brand)
    soft_ink = _blend(ink, brand, 0.3)
    canvas = Image.new("RGB", size, brand)
    draw = ImageDraw.Draw(canvas)
    landscape = width > height
    photo_size = (round(width * 0.42), height) if landscape else (width, round(height * 0.5))
    photo = _cover_crop(cover_image, photo_size) if cover_image else None

    # Soft rings in a lighter brand tint: a calm, recognisable backdrop without a photo.
    ring = _blend(brand, (255, 255, 255), 0.08)
    for scale, offset in ((1.15, 0.62), (0.7, 0.9)) if cover_image is None else ():
        radius = round(height * scale / 2)
        centre_x, centre_y = round(width * offset) + radius // 3, round(height * 0.2)
        draw.ellipse(
            (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius),
            outline=ring,
            width=18,
        )

    text_box = (0, 0, width, height)
    if photo is not None and landscape:
        x0 = width - photo.width
        canvas.paste(photo, (x0, 0))
        # Fade the photo into the brand colour so the edge does not cut the picture.
        fade = 90
        mask = Image.linear_gradient("L").rotate(90, expand=True).resize((fade, height))
        canvas.paste(Image.new("RGB", (fade, height), brand), (x0, 0), ImageOps.invert(mask))
        text_box = (0, 0, x0, height)
    elif photo is not None:
        canvas.paste(photo, (0, 0))
        text_box = (0, photo.height, width, height)

    margin = round(min(width, height) * (0.12 if landscape else 0.09))
    left, top, right, bottom = text_box
    label_font = load_font("regular", round(height * (0.058 if landscape else 0.044)))
    label_height = round(label_font.size * 1.6)
    usable_width = right - left - 2 * margin
    usable_height = bottom - top - 2 * margin - 2 * label_height
    max_lines = 3 if landscape else 4
    top_size = round(height * 0.15) if landscape else round(height * (0.13 if photo is None else 0.1))
    sizes = range(top_size, round(height * 0.055) - 1, -2)
    tokens = title_tokens(title, tuple(user_dictionary(project)))
    layout = fit_title(tokens, usable_width, usable_height, sizes, max_lines)
    font, lines, line_height = layout.font, layout.lines, layout.line_height

    block_height = label_height + len(lines) * line_height
    y = top + (bottom - top - block_height) // 2
    centred = not landscape
    label = project.config.name
    label_x = left + margin if not centred else left + (right - left - label_font.getlength(label)) / 2
    draw.text((label_x, y), label, font=label_font, fill=soft_ink)
    y += label_height
    for line in lines:
        # Centre on the characters, letting trailing punctuation hang (a line ending in "：" looks off-centre otherwise).
        visible = font.getlength(line.rstrip("：，、；。"))
        x = left + margin if not centred else left + (right - left - visible) / 2
        draw.text((x, y + (line_height - font.size) / 2 - font.size * 0.12), line, font=font, fill=ink)
        y += line_height
    if landscape:
        bar_y = y + round(line_height * 0.25)
        draw.rectangle((left + margin, bar_y, left + margin + 48, bar_y + 5), fill=soft_ink)

    buffer = io.BytesIO()
    # No EXIF, no timestamps: the same title gives the same bytes.
    canvas.save(buffer, "JPEG", quality=90, optimize=True, subsampling=0)
    return buffer.getvalue()


POST_KINDS = (
    "post-html", "post-json", "post-image", "post-cover", "post-thumb", "group-text",
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
