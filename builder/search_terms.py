"""Chinese search: the jieba user dictionary and the index Kepu's search worker reads.

mkdocs-material segments Chinese text with ``jieba.cut`` at build time and joins
the words with U+200B. The site does not search with Material's own worker
(its query segmentation drops the last word of a query, so 高血压 was searched
as 高*, and several words were a union); ``assets/kepu-search-worker.js`` matches
the query as a string, every term required, and uses the jieba words only to
split a phrase that appears nowhere as typed (see docs/site.md). So:

* Domain terms jieba does not know (尘肺病, 三减三健, 健康小屋) must be single
  words, or a phrase containing them is split into 尘 + 肺病. Kepu writes a user
  dictionary from the vocabularies, the glossary in ``site_config.yml`` and terms
  editors put in quotes (「三减三健」) in titles, summaries and key points.
* Sub-words need no index of their own: 疫苗 is found inside 流感疫苗 because the
  worker matches strings, not whole segments. The old hidden ``tags`` field of
  sub-words (shown by Material as a wall of keyword chips) is gone.
* Readers in Hong Kong, Taiwan or abroad may type 繁体 (高血壓). The index carries
  a traditional → simplified map of the characters the site uses, so the
  worker folds a query to the simplified text the lessons are written in.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import opencc

from builder.model import Project
from builder.prose import jieba_dictionary
from builder.writer import kept_or_made

HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,12}$")
QUOTED_TERM = re.compile(r"[「“《『]([\u4e00-\u9fff]{2,12})[」”》』]")
HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")


def user_dictionary(project: Project) -> list[str]:
    config = project.config
    words = set(config.glossary)
    for vocabulary in (config.audiences, config.topics, config.channels):
        words.update(vocabulary.labels())
    for lesson in project.lessons:
        for text in (lesson.title, lesson.summary, *lesson.key_points):
            words.update(QUOTED_TERM.findall(text))
    return sorted(word for word in words if HAN_WORD.match(word))


def fresh_jieba() -> None:
    """Put jieba's global tokenizer back to jieba's own dictionary, before MkDocs runs.

    Material's search plugin segments the index with the global ``jieba.dt`` and
    loads the project's user dictionary into it on every build. ``add_word`` raises
    a word's frequency and the dictionary's total each time it is loaded again, so
    the n-th build in one process segmented differently from the first (after a
    few dozen builds in a test run, 职业健康检查 became 职业健康|检查 instead of
    职业|健康检查), and words of other projects built earlier stayed in. Every build
    starts from the same dictionary, so the same content gives the same index.
    """
    freq, total = jieba_dictionary()
    jieba.dt.FREQ = dict(freq)  # a copy: Material adds the user dictionary's words to it
    jieba.dt.total = total
    jieba.dt.user_word_tag_tab = {}
    jieba.dt.initialized = True


# The traditional forms a simplified character may be typed as: OpenCC's
# conversions to Taiwan, Hong Kong and general traditional standards.
TRADITIONAL_CONFIGS = ("s2t", "s2tw", "s2hk")


def traditional_variants(characters: set[str], keep_in: Path | None = None) -> dict[str, str]:
    """Traditional character → the simplified one, for the characters given (only those that differ).

    Each character's variants depend on that character alone, so the table for every
    character of the range is the same for any set of them. With ``keep_in`` (a cache
    folder) that whole table is kept there: OpenCC's dictionaries take 0.15 s to load,
    a one-page site build's share.
    """
    if keep_in is None:
        return _variants_of(characters)
    table = kept_or_made(
        keep_in / "opencc" / f"variants-{importlib.metadata.version('opencc')}.json",
        lambda: _variants_of({chr(code) for code in range(0x4E00, 0xA000)}),  # HAN_CHAR's range
        lambda kept: isinstance(kept, dict) and all(isinstance(value, str) for value in kept.values()),
    )
    return {traditional: char for traditional, char in table.items() if char in characters}


def _variants_of(characters: set[str]) -> dict[str, str]:
    to_simplified = opencc.OpenCC("t2s")
    variants: dict[str, str] = {}
    for config in TRADITIONAL_CONFIGS:
        converter = opencc.OpenCC(config)
        for char in sorted(characters):
            traditional = converter.convert(char)
            # One character to one character, and back again: no phrase-level surprises.
            if len(traditional) == 1 and traditional != char and to_simplified.convert(traditional) == char:
                variants[traditional] = char
    return dict(sorted(variants.items()))


@dataclass
class SearchUpdate:
    """What an incremental site build knows of the last build's search pieces (builder/site/workspace.py)."""

    previous: Path  # the folder of the last build's pieces
    index: dict  # its manifest's kepu_index
    words: dict[str, list[str]]  # its jieba words by page
    rebuilt: dict[str, list[dict]]  # the pages MkDocs built again → their new entries
    digests: dict[str, str] = field(default_factory=dict)  # piece (name in ``previous``) → its sha256, checked


def prepare_search_index(
    index_file: Path,
    docs: list[dict] | None = None,
    update: SearchUpdate | None = None,
    keep_in: Path | None = None,
) -> dict[str, list[str]]:
    """Make Material's search index the pieces Kepu's search worker fetches (builder/site/search_index.py).

    Drops the ``tags`` field (nothing hidden is indexed; Material would show it
    as chips) and Material's field boosts (the worker ranks on its own), adds
    ``config.kepu_variants``, the 繁体 → 简体 map of the characters in the index,
    and ``config.kepu_index``, where the pieces are. ``search_index.json`` keeps
    no page text: Material hands it to the worker, which fetches what a query needs.
    ``docs`` are every page's entries when the file has only some (an incremental
    build); with ``update`` only the rebuilt pages' keys are worked out again, for
    the same bytes. ``keep_in`` is the cache folder (:func:`traditional_variants`).
    Returns the words by page, for the next build.
    """
    from builder.site.search_index import page_order, title_repeats, update_search_pieces, write_search_pieces

    index = json.loads(index_file.read_text(encoding="utf-8"))
    if docs is not None:
        index["docs"] = docs
    seen: set[str] = set()
    for doc in index["docs"]:
        doc.pop("tags", None)
        seen.update(doc.get("title", ""), doc.get("text", ""))
    characters = set(HAN_CHAR.findall("".join(seen)))
    config = index["config"]
    config.pop("fields", None)
    config["kepu_variants"] = traditional_variants(characters, keep_in)
    pieces = None
    if update is not None:
        # The last build's pieces were moved aside for this build: the unchanged ones move on.
        pieces = update_search_pieces(
            index_file.parent,
            update.previous,
            update.index,
            update.words,
            update.rebuilt,
            take_previous=True,
            known_digests=update.digests,
        )
    if pieces is None:
        pieces = write_search_pieces(index_file.parent, index["docs"])
    config["kepu_index"], words = pieces
    # From every page's title, in both ways of making the pieces: one page's new title can make
    # another's a repeat, or no longer one.
    config["kepu_index"]["repeats"] = title_repeats(page_order(words), index["docs"])
    manifest = {"config": config, "docs": []}
    index_file.write_text(json.dumps(manifest, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return words
