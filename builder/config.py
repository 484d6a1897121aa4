"""Loading and validating ``site_config.yml``."""

from __future__ import annotations

import re
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.model import (
    CheckOptions,
    PlainLimits,
    PostOptions,
    PrintOptions,
    SiteConfig,
    Term,
    VideoOptions,
    Vocabulary,
)
from builder.paths import FileKind, project_file, read_text
from builder.schema import FieldReader
from builder.yamlpos import YamlMap, load_yaml

CONFIG_FILE = "site_config.yml"
TERM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")  # fullmatch: "$" lets a trailing newline through
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# A site address goes into every page, QR code and post: scheme, host, path — no quotes,
# spaces or angle brackets that could leave an HTML attribute.
SITE_URL = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,500})?")
SECTIONS = (
    "site", "brand", "audiences", "topics", "channels", "review", "search", "print", "video", "posts", "checks",
    "pictograms", "red_flags",
)  # fmt: skip
# A key point or line with one of these is a safety instruction unless the project says otherwise.
DEFAULT_RED_FLAGS = ("120", "急诊", "立即就医", "马上就医", "立即送医", "心肺复苏", "急救")
PICTOGRAM_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
BLEED = re.compile(r"^(\d+(?:\.\d+)?)\s*mm$")
# Narration backends of the videos (builder/renderers/video/narration.py).
NARRATIONS = ("none", "espeak", "recorded", "baidu")


def load_config(root: Path, diagnostics: Diagnostics) -> SiteConfig | None:
    src = root / CONFIG_FILE
    if not src.is_file():
        diagnostics.error(CONFIG_FILE, 0, f"找不到 {CONFIG_FILE}：每个内容项目的根目录都需要它")
        return None
    text = read_text(root, src, diagnostics)
    if text is None:
        return None
    errors_before = len(diagnostics.errors)
    data = load_yaml(text, CONFIG_FILE, diagnostics)
    if data is None:
        if len(diagnostics.errors) == errors_before:
            diagnostics.error(CONFIG_FILE, 1, f"{CONFIG_FILE} 是空的：至少要写 site:、audiences:、topics:、channels:")
        return None
    if not isinstance(data, YamlMap):
        diagnostics.error(CONFIG_FILE, 1, f"{CONFIG_FILE} 的顶层应是键值对（site:、brand: …）")
        return None
    top = FieldReader(data, CONFIG_FILE, diagnostics)
    top.check_keys(SECTIONS)
    errors_before = len(diagnostics.errors)

    site = _section(top, "site", required=True)
    site.check_keys(("name", "url", "organization", "contact", "description"))
    name = site.text("name")
    url = site.text("url")
    if url and not (SITE_URL.fullmatch(url) and "'" not in url):
        site.error("url", f"'url' 应是完整网址，如 https://health.example.org/，这里是 '{url}'")
    organization = site.text("organization")
    contact = site.text("contact", required=False) or ""
    description = site.text("description", required=False) or ""

    brand = _section(top, "brand", required=False)
    brand.check_keys(("color", "logo"))
    color = brand.text("color", required=False) or "#1f7a4d"
    if not HEX_COLOUR.fullmatch(color):
        brand.error("color", f"'color' 应是 #RRGGBB 形式的颜色，如 \"#1f7a4d\"，这里是 '{color}'")
    elif contrast_with_white(color) < 4.5:
        brand.warning(
            "color",
            f"品牌色 {color} 上的白字对比度只有 {contrast_with_white(color):.1f}:1（至少 4.5:1），老年人看不清：请选深一些的颜色",
        )
    logo = brand.text("logo", required=False)
    if logo:
        ref = project_file(root, CONFIG_FILE, logo, brand.line("logo"), diagnostics, FileKind.IMAGE)
        logo = ref.path if ref else None

    audiences = _vocabulary(top, "audiences", "人群")
    topics = _vocabulary(top, "topics", "主题")
    channels = _vocabulary(top, "channels", "渠道")

    review = _section(top, "review", required=False)
    review.check_keys(("max_age_days",))
    max_age = review.integer("max_age_days", required=False, minimum=1) or 365

    search = _section(top, "search", required=False)
    search.check_keys(("glossary",))
    glossary = tuple(term for term, _ in search.text_items("glossary", required=False))

    print_options = _print_options(_section(top, "print", required=False), audiences)
    video_options = _video_options(_section(top, "video", required=False), root)
    post_options = _post_options(_section(top, "posts", required=False), organization or "")
    check_options = _check_options(_section(top, "checks", required=False), audiences)
    pictograms = _pictogram_rules(_section(top, "pictograms", required=False))
    red_flags = tuple(word for word, _ in top.text_items("red_flags", required=False)) or DEFAULT_RED_FLAGS

    if len(diagnostics.errors) > errors_before or not (name and url and organization):
        return None
    return SiteConfig(
        name=name,
        url=url if url.endswith("/") else url + "/",
        organization=organization,
        contact=contact,
        description=description,
        brand_color=color,
        logo=logo,
        audiences=audiences,
        topics=topics,
        channels=channels,
        review_max_age_days=max_age,
        glossary=glossary,
        print=print_options,
        video=video_options,
        posts=post_options,
        checks=check_options,
        pictograms=pictograms,
        red_flags=red_flags,
    )


def _flag(section: FieldReader, key: str, default: bool) -> bool:
    value = section.raw(key, required=False)
    if value is None:
        return default
    if not isinstance(value, bool):
        section.error(key, f"'{key}' 应写 true 或 false，这里是 '{value}'")
        return default
    return value


def _print_options(section: FieldReader, audiences: Vocabulary) -> PrintOptions:
    section.check_keys(("bleed", "crop_marks", "trainer_audiences"))
    bleed_mm = 0.0
    bleed = section.raw("bleed", required=False)
    if bleed is not None:
        match = BLEED.match(str(bleed).strip())
        if isinstance(bleed, int | float) and not isinstance(bleed, bool):
            bleed_mm = float(bleed)
        elif match:
            bleed_mm = float(match.group(1))
        else:
            section.error("bleed", f"出血 'bleed' 应写成 3mm 这样的长度，这里是 '{bleed}'")
        if bleed_mm > 10:
            section.error("bleed", f"出血 {bleed_mm}mm 太大了，印刷厂通常要 3mm")
    # Lessons only for these audiences are training material: no public poster.
    trainers = PrintOptions.trainer_audiences
    if section.raw("trainer_audiences", required=False) is not None:
        trainers = ()
        for name, line in section.text_items("trainer_audiences"):
            term = audiences.find(name)
            if term is None:
                known = "、".join(audiences.labels())
                section.diagnostics.error(section.path, line, f"print: trainer_audiences 里有未知的人群 '{name}'（可选：{known}）")
            else:
                trainers += (term.id,)
    return PrintOptions(bleed_mm, _flag(section, "crop_marks", False), trainers)


def _video_options(section: FieldReader, root: Path) -> VideoOptions:
    section.check_keys(("narration", "voice", "music", "landscape"))
    narration = section.text("narration", required=False) or "none"
    if narration not in NARRATIONS:
        section.error("narration", f"配音 narration 可选：{'、'.join(NARRATIONS)}，这里是 '{narration}'")
        narration = "none"
    music = section.text("music", required=False)
    if music:
        ref = project_file(root, CONFIG_FILE, music, section.line("music"), section.diagnostics, FileKind.AUDIO)
        music = ref.path if ref else None
    # The voice of the backend: an espeak-ng voice, or a 百度 per number (quoted or not).
    raw_voice = section.raw("voice", required=False)
    voice = None if raw_voice is None or isinstance(raw_voice, bool) else str(raw_voice).strip() or None
    if narration == "recorded" and voice:
        section.warning("voice", "video.voice 对 recorded（编辑自己的录音）不起作用")
    return VideoOptions(
        narration=narration, voice=voice, music=music, landscape=_flag(section, "landscape", True)
    )


def _post_options(section: FieldReader, organization: str) -> PostOptions:
    section.check_keys(("author", "open_comment", "follow", "archive"))
    author = section.text("author", required=False, max_len=16) or organization[:16]
    follow = section.text("follow", required=False, max_len=60) or ""
    archive = section.text("archive", required=False, max_len=500) or ""
    if archive and not re.fullmatch(r"https://mp\.weixin\.qq\.com/[^\s\"'<>]*", archive):
        # Any other address is not a link a reader can tap inside a WeChat article.
        section.error(
            "archive",
            f"'archive' 应是 https://mp.weixin.qq.com/ 开头的链接（公众号合集或历史消息页），这里是 '{archive}'",
        )
        archive = ""
    return PostOptions(
        author=author, open_comment=_flag(section, "open_comment", False), follow=follow, archive=archive
    )


PLAIN_LIMITS = ("score", "average_sentence", "difficult_words", "sentence")


def _plain_limits(section: FieldReader, base: PlainLimits) -> PlainLimits:
    section.check_keys(PLAIN_LIMITS)
    values: dict[str, float] = {}
    for key in PLAIN_LIMITS:
        value = section.raw(key, required=False)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            section.error(key, f"'{key}' 应是一个正数，这里是 '{value}'")
            continue
        values[key] = int(value) if key == "sentence" else float(value)
    return PlainLimits(**{key: values.get(key, getattr(base, key)) for key in PLAIN_LIMITS})


def _check_options(section: FieldReader, audiences: Vocabulary) -> CheckOptions:
    """``checks:`` — plain-language limits (stricter per audience), terms to explain, brand names."""
    section.check_keys(("plain", "audiences", "terms", "brands"))
    plain = _plain_limits(_section(section, "plain", required=False), PlainLimits())
    per_audience = []
    stricter = _section(section, "audiences", required=False)
    for name in stricter.data:
        term = audiences.find(name)
        if term is None:
            stricter.error(name, f"未知的人群 '{name}'（可选：{'、'.join(audiences.labels())}）")
            continue
        per_audience.append((term.id, _plain_limits(_section(stricter, name, required=True), plain)))
    terms = tuple(term for term, _ in section.text_items("terms", required=False))
    brands = tuple(brand for brand, _ in section.text_items("brands", required=False))
    return CheckOptions(plain=plain, audiences=tuple(per_audience), terms=terms, brands=brands)


def _pictogram_rules(section: FieldReader) -> tuple[tuple[str, str], ...]:
    """``pictograms:`` — keyword: pictogram name, in the order written (the first match wins)."""
    rules = []
    for keyword in section.data:
        name = section.text(keyword)
        if name is None:
            continue
        if not PICTOGRAM_NAME.fullmatch(name):
            section.error(keyword, f"图标名 '{name}' 只能用小写英文字母、数字和连字符（templates/pictograms/ 里的文件名）")
            continue
        rules.append((keyword, name))
    return tuple(rules)


def contrast_with_white(color: str) -> float:
    """WCAG contrast ratio of white text on ``color`` (#RRGGBB)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(color[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def _section(top: FieldReader, key: str, required: bool) -> FieldReader:
    value = top.raw(key, required)
    if value is not None and not isinstance(value, YamlMap):
        top.error(key, f"'{key}' 应是键值对")
        value = None
    if value is None:
        value = YamlMap()
        value.key_lines = {}
        value.line = top.line(key)
    return FieldReader(value, top.path, top.diagnostics, where=key)


def _vocabulary(top: FieldReader, key: str, kind: str) -> Vocabulary:
    terms: list[Term] = []
    for entry in top.mapping_items(key, required=True):
        entry.where = key
        entry.check_keys(("id", "label"))
        term_id, label = entry.text("id"), entry.text("label")
        if term_id and not TERM_ID.fullmatch(term_id):
            entry.error("id", f"id '{term_id}' 只能用小写英文字母、数字和连字符（它会出现在网址里）")
        if not (term_id and label):
            continue
        for other in terms:
            if term_id == other.id or label == other.label:
                entry.error(None, f"{kind} '{label}'（{term_id}）重复了")
        terms.append(Term(term_id, label))
    return Vocabulary(kind, tuple(terms))
