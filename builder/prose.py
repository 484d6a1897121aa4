"""Reading a lesson's Markdown as prose a person reads, and scoring how easy it is.

Shared by the quality checks (``kepu check``) and the editors' dashboard: the
sentences of a body with their lines (headings, lists and tables read as the
reader meets them; code, images' paths and link targets left out), the words jieba
finds in them, and the readability score of Chinese patient-education research
(average sentence length plus difficult words per 100 words; see builder.quality).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.content import FENCE
from builder.writer import kept_or_made

# -- words ---------------------------------------------------------------------

HAN = re.compile(r"[\u4e00-\u9fff]")
DIFFICULT_IDF = 10.0  # about the 40,000 most widespread words are below this
RARE_IDF = 12.0  # words pointed out by name when a lesson has too many difficult words


IDF_SOURCE = "analyse/idf.txt"  # in jieba's package
_TABLES: dict[str, Any] = {}  # jieba's tables as loaded, by name: once a process
_TABLES_LOCK = threading.Lock()


def jieba_dictionary(keep_in: Path | None = None) -> tuple[dict[str, int], int]:
    """jieba's own dictionary (word → frequency, and their total) as it loads, once a process.

    The readability scores and the site's search (builder.search_terms.fresh_jieba)
    both start from it, so a build that cuts a few sentences and then builds the site
    loads it once. Never changed: users copy it. ``keep_in``: see :func:`_jieba_table`.
    """
    freq, total = _jieba_table("dictionary", "dict.txt", _load_jieba_dictionary, _is_dictionary, keep_in)
    return freq, total


def idf_table(keep_in: Path | None = None) -> dict[str, float]:
    """jieba's shipped IDF table (word → IDF), once a process; ``keep_in``: see :func:`_jieba_table`."""
    return _jieba_table("idf", IDF_SOURCE, _load_idf, _is_idf, keep_in)


def load_word_tables(keep_in: Path | None) -> None:
    """Load both tables now, kept in the cache folder ``keep_in`` (a build's first use of them)."""
    jieba_dictionary(keep_in)
    idf_table(keep_in)


def _jieba_table(
    name: str, source: str, make: Callable[[], Any], valid: Callable[[Any], bool], keep_in: Path | None
) -> Any:
    """One of jieba's tables, made from its file in jieba's package, or read from a copy kept before.

    jieba's own cache of its dictionary (marshal) takes 0.65 s to load, and the IDF
    table's text 0.18 s: most of a one-page site build. With ``keep_in`` (a cache
    folder) a table is kept there as JSON (builder.writer.keep_json), which loads in
    a third of that; the file is named after jieba's version and the digest of the
    table's source file, and its own digest is checked before it is used.
    """
    with _TABLES_LOCK:
        if name not in _TABLES:
            _TABLES[name] = (
                make() if keep_in is None else kept_or_made(_table_file(keep_in, name, source), make, valid)
            )
        return _TABLES[name]


def _table_file(folder: Path, name: str, source: str) -> Path:
    import jieba

    digest = hashlib.sha256((Path(jieba.__file__).parent / source).read_bytes()).hexdigest()[:16]
    return folder / "jieba" / f"{name}-{importlib.metadata.version('jieba')}-{digest}.json"


def _load_jieba_dictionary() -> list:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return [tokenizer.FREQ, tokenizer.total]


def _is_dictionary(table: Any) -> bool:
    return (
        isinstance(table, list)
        and len(table) == 2
        and isinstance(table[0], dict)
        and isinstance(table[1], int)
        and not isinstance(table[1], bool)
    )


def _load_idf() -> dict[str, float]:
    import jieba

    # The table's file, not ``jieba.analyse``: importing that loads two more tables (a second).
    fields = (Path(jieba.__file__).parent / IDF_SOURCE).read_text(encoding="utf-8").split()
    values = iter(fields)
    return dict(zip(values, map(float, values), strict=False))


def _is_idf(table: Any) -> bool:
    return isinstance(table, dict) and all(type(value) is float for value in table.values())


def private_tokenizer() -> Any:
    """A jieba tokenizer on jieba's own dictionary, nobody else's words in it."""
    import jieba

    freq, total = jieba_dictionary()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = freq, total
    tokenizer.user_word_tag_tab = {}
    tokenizer.initialized = True
    return tokenizer


class Words:
    """jieba's dictionary segmentation and its shipped IDF table, loaded once.

    A private tokenizer: the site build adds user words to ``jieba.dt``, and the
    scores must not depend on what ran before in the same process.
    """

    def __init__(self) -> None:
        # Cutting only reads the dictionary: it may be the very one the site's search copies.
        self.tokenizer = private_tokenizer()
        self.idf = idf_table()

    def cut(self, text: str) -> list[str]:
        """Dictionary words only (no guessing of new words), so every word can be looked up."""
        return list(self._cut(text))

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one Words for the process (words() below)
    def _cut(self, text: str) -> tuple[str, ...]:
        # Both scores below cut the same sentences: the second one finds them here.
        return tuple(word for word in self.tokenizer.cut(text, HMM=False) if HAN.search(word))

    def rarity(self, word: str) -> float:
        """The word's IDF; a dictionary word missing from the table is rarer than any in it."""
        value = self.idf.get(word)
        if value is None:
            return 99.0 if len(word) > 1 else 0.0
        return value

    def is_difficult(self, word: str) -> bool:
        """Not among everyday words: IDF ≥ 10 in jieba's table, or not in it at all.

        IDF, not jieba's word counts: those come from news text, where 咳嗽, 洗澡
        and 钥匙 fall outside the 5,000 most frequent words; across web documents
        they are everyday words, while 收缩压, 随访 and 窨井 are not.
        """
        return self.rarity(word) >= DIFFICULT_IDF


@functools.cache
def words() -> Words:
    return Words()


# -- reading Markdown as prose -------------------------------------------------

HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)、])\s+(.*)$")
TABLE_ROW = re.compile(r"^\s*\|")
HTML_LINE = re.compile(r"^\s*<")
FOOTNOTE_DEF = re.compile(r"^\s*\[\^[^\]]+\]:")
SOURCE_TITLE = re.compile(r"^(参考资料|参考文献|资料来源|信息来源|内容来源|来源|依据|参考)")
SOURCE_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(参考资料|参考文献|资料来源|信息来源|内容来源|来源|依据)(?:\*\*)?\s*[:：]"
)
# Quantifiers are bounded and stop at a line end: an unbounded "[^\]]*" is quadratic on
# a line of many "[" (see tests/test_fuzz_parsers.py).
MD_IMAGE = re.compile(r"!\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
HTML_IMAGE = re.compile(r"<img\b[^>\n]{0,2000}>", re.IGNORECASE)
HTML_ALT = re.compile(r"\balt\s*=\s*([\"'])(.*?)\1", re.IGNORECASE)
LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
INLINE_NOISE = re.compile(r"\*\*|__|~~|==|`|\[\^[^\]\n]{1,100}\]|\{[^}\n]{0,300}\}|<[^>\n]{1,1000}>")
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=……)")


def clean(text: str) -> str:
    """Markdown inline syntax removed: what a reader reads."""
    text = MD_IMAGE.sub("", text)
    text = LINK.sub(r"\1", text)
    return INLINE_NOISE.sub("", text).strip()


def han_count(text: str) -> int:
    return len(HAN.findall(text))


@dataclass(frozen=True)
class Sentence:
    line: int
    text: str

    @property
    def length(self) -> int:
        return han_count(self.text)


@dataclass
class Prose:
    """A Markdown body read the way a reader reads it, every piece with its file line."""

    sentences: list[Sentence] = field(default_factory=list)  # paragraphs and list items
    text_lines: list[tuple[int, str]] = field(default_factory=list)  # everything readable, headings too
    headings: list[tuple[int, int, str]] = field(default_factory=list)  # (line, level, text)
    lists: list[tuple[int, int]] = field(default_factory=list)  # (line of first item, items)
    images: list[tuple[int, str]] = field(default_factory=list)  # (line, alt text)
    has_source: bool = False

    @property
    def han(self) -> int:
        return sum(sentence.length for sentence in self.sentences)


def read_prose(body: str, first_line: int) -> Prose:
    prose = Prose()
    in_fence = False
    source_level: int | None = None  # inside a 参考资料 section: not prose, not checked
    open_lists: list[list[int]] = []  # [indent, first line, items] of the lists being read

    def close_lists(deeper_than: int = -1) -> None:
        while open_lists and open_lists[-1][0] > deeper_than:
            _, line, items = open_lists.pop()
            prose.lists.append((line, items))

    for offset, raw in enumerate(body.split("\n")):
        line = first_line + offset
        if FENCE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for match in MD_IMAGE.finditer(raw):
            prose.images.append((line, match.group(1).strip()))
        for match in HTML_IMAGE.finditer(raw):
            alt = HTML_ALT.search(match.group(0))
            prose.images.append((line, alt.group(2).strip() if alt else ""))
        heading = HEADING.match(raw)
        if heading:
            close_lists()
            level, title = len(heading.group(1)), clean(heading.group(2))
            if source_level is not None and level <= source_level:
                source_level = None
            if SOURCE_TITLE.match(title):
                prose.has_source, source_level = True, level
                continue
            if source_level is None:
                prose.headings.append((line, level, title))
                prose.text_lines.append((line, title))
            continue
        if FOOTNOTE_DEF.match(raw) or SOURCE_LINE.match(raw):
            prose.has_source = True
            continue
        if source_level is not None or not raw.strip():
            continue
        if TABLE_ROW.match(raw):
            cells = clean(
                " ".join(cell for cell in raw.split("|") if not re.fullmatch(r"\s*:?-+:?\s*", cell))
            )
            if cells:
                prose.text_lines.append((line, cells))
            continue
        if HTML_LINE.match(raw):
            continue
        item = LIST_ITEM.match(raw)
        if item:
            indent = len(item.group(1).expandtabs(4))
            close_lists(indent)
            if open_lists and open_lists[-1][0] == indent:
                open_lists[-1][2] += 1
            else:
                open_lists.append([indent, line, 1])
            text = clean(item.group(2))
        else:
            indent = len(raw) - len(raw.lstrip(" "))
            close_lists(indent - 1 if indent else -1)
            text = clean(raw)
        if not text:
            continue
        prose.text_lines.append((line, text))
        for piece in SENTENCE_END.split(text):
            if HAN.search(piece):
                prose.sentences.append(Sentence(line, piece.strip()))
    close_lists()
    return prose


# -- readability ---------------------------------------------------------------


@dataclass(frozen=True)
class Readability:
    sentences: int
    han: int  # Han characters in those sentences
    words: int
    difficult: int
    rare: tuple[tuple[str, int], ...]  # (word, line of first use), rarest first

    @property
    def average_sentence(self) -> float:
        return self.han / self.sentences if self.sentences else 0.0

    @property
    def difficult_per_100(self) -> float:
        return 100 * self.difficult / self.words if self.words else 0.0

    @property
    def score(self) -> float:
        return self.average_sentence + self.difficult_per_100


def readability(sentences: Iterable[Sentence], skip: Iterable[str] = ()) -> Readability:
    """Score sentences; ``skip`` words (terms checked elsewhere) are never named as rare."""
    vocabulary = words()
    count = han = total = difficult = 0
    first_use: dict[str, int] = {}
    for sentence in sentences:
        count += 1
        han += sentence.length
        for word in vocabulary.cut(sentence.text):
            total += 1
            if vocabulary.is_difficult(word):
                difficult += 1
                if len(word) > 1 and vocabulary.rarity(word) >= RARE_IDF:
                    first_use.setdefault(word, sentence.line)
    skipped = set(skip)
    rare = sorted(
        ((word, line) for word, line in first_use.items() if word not in skipped),
        key=lambda item: (-vocabulary.rarity(item[0]), item[1], item[0]),
    )
    return Readability(count, han, total, difficult, tuple(rare))


# -- the published formula -------------------------------------------------------

# 汉语文本难度系数 (Chinese language difficulty coefficient, CLDC) of Wang et al.,
# BMJ Open 2020;10:e038091, the formula used to grade Chinese patient-education
# materials: CLDC = ASL + ANDW, the average sentence length in Han characters plus the
# difficult words per 100 words (Arabic numerals and Latin letters left out). Their
# difficult words are those outside the two lowest grades of the 1992 HSK word list
# (甲、乙, 3,051 words); that list is superseded, so the easy words here are levels 1–4 of
# its successor, GF 0025—2021 (3,211 entries, the size closest to 甲乙), shipped in
# builder/wordlists/. The paper reads 20–30 as middle difficulty and > 30 as difficult.
EASY_WORDS_FILE = Path(__file__).parent / "wordlists" / "gf0025-2021-levels-1-4.txt"
CLDC_MIDDLE, CLDC_DIFFICULT = 20.0, 30.0


@functools.cache
def easy_words() -> frozenset[str]:
    with EASY_WORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(word for line in lines if (word := line.strip()) and not word.startswith("#"))


@dataclass(frozen=True)
class Cldc:
    sentences: int
    han: int
    words: int
    difficult: int

    @property
    def average_sentence(self) -> float:  # ASL
        return self.han / self.sentences if self.sentences else 0.0

    @property
    def difficult_per_100(self) -> float:  # ANDW
        return 100 * self.difficult / self.words if self.words else 0.0

    @property
    def score(self) -> float:
        return self.average_sentence + self.difficult_per_100

    @property
    def band(self) -> str:
        """The paper's reading of the score."""
        if self.score > CLDC_DIFFICULT:
            return "较难"
        return "中等" if self.score >= CLDC_MIDDLE else "容易"


def cldc(sentences: Iterable[Sentence]) -> Cldc:
    """The published formula on jieba's words, difficult = outside GF 0025—2021 levels 1–4."""
    vocabulary, easy = words(), easy_words()
    count = han = total = difficult = 0
    for sentence in sentences:
        count += 1
        han += sentence.length
        for word in vocabulary.cut(sentence.text):
            total += 1
            difficult += not is_easy(word, easy)
    return Cldc(count, han, total, difficult)


def is_easy(word: str, easy: frozenset[str]) -> bool:
    """In the list, or jieba's join of two listed words (每天 = 每 + 天, 吃盐 = 吃 + 盐).

    jieba's dictionary has many such two-part compounds that the standard lists as two
    words; 高血压 stays difficult (高 + 血压, and 血压 is not in levels 1–4).
    """
    if word in easy:
        return True
    return len(word) <= 4 and any(word[:cut] in easy and word[cut:] in easy for cut in range(1, len(word)))


# -- scores kept between builds -------------------------------------------------

READINGS_FORMAT = 1


@functools.cache
def _readings_basis() -> str:
    """What the scores depend on besides the sentences: the word lists and jieba's dictionary."""
    digest = hashlib.sha256(f"{READINGS_FORMAT}:{importlib.metadata.version('jieba')}".encode())
    for path in sorted((Path(__file__).parent / "wordlists").glob("*")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Readings:
    """Readability and CLDC scores already worked out, by the sentences they were worked out on.

    Cutting every sentence into words is the slow part of the editors' dashboard;
    the site's workspace keeps these between builds (builder/site/workspace.py), so
    a build that changed one lesson cuts one lesson's sentences. An entry is only
    numbers and words: one that is not exactly that shape is worked out again.
    """

    def __init__(self, known: Mapping[str, object] | None = None) -> None:
        self.known = dict(known or {})
        self.used: dict[str, list] = {}

    @staticmethod
    def key(sentences: list[Sentence], skip: Iterable[str] = ()) -> str:
        """What the scores are worked out from: the sentences, their lines, the skipped words, the word lists."""
        basis = [_readings_basis(), [[s.line, s.text] for s in sentences], sorted(set(skip))]
        return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode("utf-8")).hexdigest()

    def scores(self, sentences: list[Sentence], skip: Iterable[str] = ()) -> tuple[Readability, Cldc]:
        skipped = sorted(set(skip))
        key = self.key(sentences, skipped)
        found = _parse_scores(self.known.get(key))
        if found is None:
            found = readability(sentences, skip=skipped), cldc(sentences)
        score, plain = found
        self.used[key] = [
            [score.sentences, score.han, score.words, score.difficult, [list(item) for item in score.rare]],
            [plain.sentences, plain.han, plain.words, plain.difficult],
        ]
        return found


def _parse_scores(entry: object) -> tuple[Readability, Cldc] | None:
    def counts(values: object, size: int) -> bool:
        return (
            isinstance(values, list)
            and len(values) == size
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)
        )

    if not (
        isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list) and len(entry[0]) == 5
    ):
        return None
    first, second = entry
    rare = first[4]
    if not (
        counts(first[:4], 4)
        and counts(second, 4)
        and isinstance(rare, list)
        and all(
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], int)
            and not isinstance(item[1], bool)
            for item in rare
        )
    ):
        return None
    return (
        Readability(*first[:4], tuple((word, line) for word, line in rare)),
        Cldc(*second),
    )
