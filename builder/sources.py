"""The source registry (``content/sources.yml``): guidelines, standards and the figures they set.

Lessons name their sources in a ``## 参考资料`` list (or in the text, 《…》). The registry
says which edition is current, so ``kepu check`` can point at the line that cites an
edition a newer one has replaced, a seasonal guide whose season is over, or a reference
nobody has registered. Its ``claims:`` table holds the figures a source sets for one
quantity (the salt limit, the blood-pressure threshold): a lesson that writes another
figure beside the same words is flagged for a reviewer's look.

The file is read once, while the project loads; the checks below work on the model.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.paths import read_text
from builder.schema import FieldReader
from builder.yamlpos import YamlMap, load_yaml

SOURCES_FILE = "content/sources.yml"
ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_CITE = 80  # characters of one citation string: a title, a code with its year
MAX_WINDOW = 24  # characters after a claim's word that may hold its figure


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    year: int | None  # None: the editor could not find when it was issued
    line: int
    url: str = ""
    superseded_by: str = ""  # id of the edition that replaced this one
    season: str = ""  # e.g. 2023—2024: guidance for one flu season
    valid_until: dt.date | None = None  # last day the (seasonal) guidance applies
    cites: tuple[str, ...] = ()  # normalised strings that identify a citation of it
    expired: bool = False  # valid_until is before the day the project was loaded


@dataclass(frozen=True)
class Claim:
    """One quantity a source fixes: the words that name it, its unit, the figures allowed."""

    id: str
    what: str
    source: str  # id of the source that sets the figures
    words: tuple[str, ...]
    unit: str
    values: tuple[str, ...]
    line: int
    unless: tuple[str, ...] = ()  # longer words that hold a word but name another quantity


@dataclass
class Registry:
    sources: dict[str, Source] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    present: bool = False  # the project has a content/sources.yml

    def cited_in(self, text: str) -> list[Source]:
        """The sources a line cites: the longest match of each citation, overlaps dropped."""
        plain = normalise(text)
        hits: list[tuple[int, int, Source]] = []
        for source in self.sources.values():
            for cite in source.cites:
                start = plain.find(cite)
                while start >= 0:
                    hits.append((start, start + len(cite), source))
                    start = plain.find(cite, start + 1)
        hits.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
        found: list[Source] = []
        covered_until = -1
        for start, end, source in hits:
            if start >= covered_until:  # a shorter title inside a longer one is the same citation
                found.append(source)
                covered_until = end
            elif end > covered_until:
                covered_until = end
        return found

    def current(self, source: Source) -> Source:
        """Follow superseded_by to the edition in force (cycles are refused when loading)."""
        seen = {source.id}
        while source.superseded_by and source.superseded_by in self.sources:
            source = self.sources[source.superseded_by]
            if source.id in seen:
                break
            seen.add(source.id)
        return source


_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "―": "-", "（": "(", "）": ")", "～": "~"})


def normalise(text: str) -> str:
    """Citations compare without spaces, with one kind of dash and of bracket."""
    return re.sub(r"\s+", "", text.translate(_DASHES))


def load_sources(root: Path, diagnostics: Diagnostics, today: dt.date) -> Registry:
    """Read content/sources.yml if the project has one; every mistake is reported with its line."""
    registry = Registry()
    src = root / SOURCES_FILE
    if not (src.exists() or src.is_symlink()):  # a folder or a link of that name is refused below
        return registry
    registry.present = True
    text = read_text(root, src, diagnostics)
    data = load_yaml(text, SOURCES_FILE, diagnostics) if text is not None else None
    if data is None:
        return registry
    if not isinstance(data, YamlMap):
        diagnostics.error(SOURCES_FILE, 1, "sources.yml 的顶层应是键值对：sources: 和 claims:")
        return registry
    top = FieldReader(data, SOURCES_FILE, diagnostics)
    top.check_keys(("sources", "claims"))
    for index, item in enumerate(top.mapping_items("sources"), start=1):
        source = _read_source(item, index, today)
        if source is None:
            continue
        if source.id in registry.sources:
            item.error("id", f"来源编号 '{source.id}' 重复了：每个来源只登记一次")
            continue
        registry.sources[source.id] = source
    _check_links(registry, diagnostics)
    for index, item in enumerate(top.mapping_items("claims", required=False), start=1):
        claim = _read_claim(item, index, registry)
        if claim is not None:
            registry.claims.append(claim)
    return registry


def _read_source(item: FieldReader, index: int, today: dt.date) -> Source | None:
    item.where = f"来源 {index}"
    item.check_keys(
        ("id", "title", "publisher", "year", "url", "superseded_by", "season", "valid_until", "cite")
    )
    ident, title = item.text("id"), item.text("title", max_len=MAX_CITE)
    publisher, year = item.text("publisher"), item.integer("year", required=False, minimum=1949)
    url = item.text("url", required=False) or ""
    if url and not re.fullmatch(r"https://[^\s'\"<>]{1,300}", url):
        item.error("url", f"'url' 应是 https:// 开头的网址，这里是 '{url}'")
    if ident and not ID.fullmatch(ident):
        item.error("id", f"来源编号 '{ident}' 只能用小写英文字母、数字和连字符")
        return None
    cites = [title] if title else []
    cites += [text for text, _ in item.text_items("cite", required=False)]
    for text in cites:
        if len(text) > MAX_CITE:
            item.error("cite", f"引用写法「{text[:20]}…」太长：最多 {MAX_CITE} 个字")
    valid_until = item.date("valid_until", required=False)
    if not (ident and title and publisher):
        return None
    return Source(
        id=ident, title=title, publisher=publisher, year=year, line=item.line(),
        url=url, superseded_by=item.text("superseded_by", required=False) or "",
        season=item.text("season", required=False) or "", valid_until=valid_until,
        cites=tuple(normalise(text) for text in cites if text and len(text) <= MAX_CITE),
        expired=bool(valid_until and valid_until < today),
    )  # fmt: skip


def _check_links(registry: Registry, diagnostics: Diagnostics) -> None:
    for source in registry.sources.values():
        target = source.superseded_by
        if not target:
            continue
        if target not in registry.sources:
            diagnostics.error(
                SOURCES_FILE, source.line, f"'{source.id}' 的 superseded_by 写的 '{target}' 没有登记"
            )
        elif registry.current(source).superseded_by:
            diagnostics.error(
                SOURCES_FILE, source.line, f"'{source.id}' 的 superseded_by 绕成了圈：找不到现行版本"
            )


def _read_claim(item: FieldReader, index: int, registry: Registry) -> Claim | None:
    item.where = f"数值 {index}"
    item.check_keys(("id", "what", "source", "words", "unless", "unit", "values"))
    ident, what, source = item.text("id"), item.text("what"), item.text("source")
    unit = item.text("unit", required=False, max_len=12) or ""
    words = [text for text, _ in item.text_items("words", min_items=1)]
    values = [text for text, _ in item.text_items("values", min_items=1)]
    unless = [text for text, _ in item.text_items("unless", required=False)]
    for value in values:
        if not NUMBER.fullmatch(value):
            item.error("values", f"'{value}' 不是一个数（如 5、18.5、140/90）")
            return None
    for word in words + unless:
        if not 1 <= len(word) <= 12:
            item.error("words", f"关键词「{word[:12]}」应是 1 到 12 个字")
            return None
    if source and source not in registry.sources:
        item.error("source", f"数值依据的来源 '{source}' 没有在 sources: 里登记")
        return None
    if not (ident and what and source and words and values):
        return None
    return Claim(ident, what, source, tuple(words), unit, tuple(values), item.line(), tuple(unless))


# -- checks on the model -----------------------------------------------------------

NUMBER = re.compile(r"\d{1,5}(?:\.\d{1,2})?(?:/\d{1,5})?")
REFERENCES = re.compile(r"^#{2,3}\s*(参考资料|参考文献|信息来源|资料来源)\s*$")
LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+(.+)$")
STOP = re.compile(r"[。！？；;，,\n]")
RANGE = re.compile(r"\s{0,2}(?:[~～\-—–至到]|以上|以下)?\s{0,2}")


@dataclass(frozen=True)
class Finding:
    rule: str  # "source-superseded", "source-season-over", "source-unregistered", "claim-figure"
    line: int
    message: str


def reference_lines(body: str, body_line: int) -> list[tuple[int, str]]:
    """The list items under a ``## 参考资料`` heading, with their file lines."""
    found, inside = [], False
    for offset, text in enumerate(body.split("\n")):
        if text.startswith("#"):
            inside = bool(REFERENCES.match(text.strip()))
            continue
        match = LIST_ITEM.match(text) if inside else None
        if match:
            found.append((body_line + offset, match.group(1).strip()))
    return found


def citation_findings(registry: Registry, body: str, body_line: int) -> list[Finding]:
    """Superseded, out-of-season and unregistered citations, each at its line."""
    if not registry.present:
        return []
    findings: list[Finding] = []
    references = dict(reference_lines(body, body_line))
    for offset, text in enumerate(body.split("\n")):
        line = body_line + offset
        cited = registry.cited_in(text)
        for source in cited:
            current = registry.current(source)
            if current is not source:
                findings.append(Finding(
                    "source-superseded", line,
                    f"《{source.title}》已被《{current.title}》{f'（{current.year}年）' if current.year else ''}取代："
                    "请按新版核对内容，再改引用",
                ))  # fmt: skip
            elif source.expired and source.season:
                findings.append(Finding(
                    "source-season-over", line,
                    f"《{source.title}》是 {source.season} 流行季的版本，适用期到 {source.valid_until} "
                    "已结束：请换成当季的版本",
                ))  # fmt: skip
            elif source.expired:
                findings.append(Finding(
                    "source-season-over", line,
                    f"《{source.title}》的实施期到 {source.valid_until} 已结束：请引用现行的文件",
                ))  # fmt: skip
        if line in references and not cited:
            findings.append(Finding(
                "source-unregistered", line,
                f"参考资料「{_short(references[line])}」没有在 {SOURCES_FILE} 里登记，"
                "kepu check 就无法提醒它过期",
            ))  # fmt: skip
    return findings


def claim_findings(registry: Registry, texts: list[tuple[int, str]]) -> list[Finding]:
    """Figures written right after a claim's words that its source does not give.

    Only the first figure of the clause counts, and only in the claim's unit when it has
    one: "收缩压≥140和/或舒张压≥90 mmHg" gives 140 to the systolic claim, never 90.
    """
    findings: list[Finding] = []
    for claim in registry.claims:
        unit = rf"\s{{0,2}}{re.escape(claim.unit)}" if claim.unit else ""
        figure = re.compile(rf"^\D{{0,8}}?({NUMBER.pattern})(?:{RANGE.pattern}({NUMBER.pattern}))?{unit}")
        allowed = {_plain_number(value) for value in claim.values}
        for line, text in texts:
            for window in _windows(text, claim.words, claim.unless):
                match = figure.match(window)
                for written in filter(None, match.groups() if match else ()):
                    if _plain_number(written) in allowed:
                        continue
                    source = registry.sources[claim.source]
                    findings.append(Finding(
                        "claim-figure", line,
                        f"{claim.what}写的是 {written}{(' ' + claim.unit) if claim.unit else ''}，"
                        f"《{source.title}》给的是 {'、'.join(claim.values)}：请审核人核对",
                    ))  # fmt: skip
    return findings


def _windows(text: str, words: tuple[str, ...], unless: tuple[str, ...] = ()) -> list[str]:
    """The text after each occurrence of a claim's word, up to the end of its clause.

    An occurrence inside one of ``unless`` (非空腹血糖 holds 空腹血糖) is another quantity.
    """
    inside = [(m.start(), m.end()) for other in unless for m in re.finditer(re.escape(other), text)]
    windows = []
    for word in words:
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(a <= start and end <= b for a, b in inside):
                rest = text[end : end + MAX_WINDOW]
                stop = STOP.search(rest)
                windows.append(rest[: stop.start()] if stop else rest)
            start = text.find(word, start + 1)
    return windows


def _plain_number(text: str) -> str:
    """140.0 and 140 are the same figure; so are 7 and 7.0."""
    parts = []
    for part in text.split("/"):
        whole, _, fraction = part.partition(".")
        fraction = fraction.rstrip("0")
        parts.append(f"{int(whole)}.{fraction}" if fraction else str(int(whole)))
    return "/".join(parts)


def _short(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[:length] + "…"
