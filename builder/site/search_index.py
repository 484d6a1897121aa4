"""The site's search index in pieces a phone fetches on demand (issue 15: search at 10,000 lessons).

Material writes one ``search/search_index.json`` holding every page's text: 2.3 MB
gzip at 1,000 lessons, about 22 MB at 10,000, all downloaded before the first
result. Kepu's worker (``assets/kepu-search-worker.js``) instead reads:

* ``search/search_index.json`` — a small manifest: the 繁体 → 简体 map, the
  number of shards, each page's title length (for ranking) and the folder the
  pieces are in (named by a hash of their bytes, so a new build never mixes
  with pieces a phone saved from an old one);
* ``g<k>.json`` — which pages contain a character pair (高血, 血压) or, for a
  one-character query, a character, or a pair across punctuation (准，管 →
  ``~准管``, for a phrase typed without it); for each, the pages with it in the
  title and the pages with it anywhere, as gaps between page numbers, and how
  often it occurs in each of those (one base-36 digit, 0–9 then a–z: at most 35).
  A pair lands in shard ``fnv1a(pair) % shards`` (``~准管`` with 准管), so a query
  fetches one shard per pair it has;
* ``w<k>.json`` — jieba's words (the build's segmentation), by their first
  character, used only to split a phrase that appears nowhere as typed;
* ``p/<n>.json`` — one page: its address, title, text and sections, fetched for
  the results shown (to check the match as a string and make the snippet).
  A page keeps at most ``MAX_PAGE_CHARS`` characters of text (titles whole, then
  text in page order), and only what it keeps is indexed: a lesson with a pasted
  200 KB paragraph must not make one result cost a phone 100 KB, nor its words
  swell the word shards. Lessons are 1,000–5,000 characters; the cap is 4× that.

Lessons are numbered first, so "a lesson before a list" is a comparison.
Everything is sorted and hashed from the content only: same input, same bytes.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import itertools
import json
import math
import operator
import os
import re
import shutil
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from builder.writer import sha256_file

FOLDER = "kepu"  # under search/
TAG = re.compile(r"<[^<>]*>")  # not [^>]*: a page of "<" would be rescanned from every one
SPACE = re.compile(r"\s+")
# What a query is matched on: runs of Chinese characters, runs of Latin letters and digits.
RUNS = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
# Punctuation between Chinese characters that a reader leaves out when typing a phrase:
# 量得准管得住 for "量得准，管得住". The worker finds such a phrase by these pairs (same pattern there).
PAUSE = re.compile(r"([\u4e00-\u9fff])[，、。；：！？,;:!?“”‘’「」『』]+ ?(?=[\u4e00-\u9fff])")
ACROSS = "~"  # the key of a pair across punctuation: ~准管
SHARD_BYTES = 24_000  # aim for about this much JSON per gram shard (before gzip)
MAX_SHARDS = 4096
WORD_SHARDS = 64
DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_TITLE = 60  # title lengths are capped here (one character each in the manifest)
MAX_PAGE_CHARS = 20_000  # text kept (and indexed) for one page


def cap_page(page: dict) -> bool:
    """Cut ``page``'s text to ``MAX_PAGE_CHARS`` characters in all, titles kept whole; whether it was cut."""
    budget = MAX_PAGE_CHARS - len(page["t"]) - sum(len(title) for _, title, _ in page["s"])
    cut = False
    for holder, key in [(page, "x"), *((section, 2) for section in page["s"])]:
        text = holder[key]
        if len(text) > max(0, budget):
            holder[key], cut = text[: max(0, budget)], True
        budget -= len(holder[key])
    return cut


def fnv1a(text: str) -> int:
    """32-bit FNV-1a over UTF-16 code units, as the worker computes it."""
    value = 0x811C9DC5
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        value ^= data[i] | data[i + 1] << 8
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def plain(markup: str) -> str:
    """Material's indexed HTML as the reader's text: no tags, entities read, no U+200B."""
    text = html.unescape(TAG.sub(" ", markup or "")).replace("\u200b", "")
    return SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """What the worker matches against: NFKC, lower case (the worker folds queries the same way)."""
    return unicodedata.normalize("NFKC", text).lower()


def grams(text: str) -> Counter[str]:
    """Character pairs of every run, every Chinese character on its own, and the pairs across
    punctuation between two Chinese characters (keyed ``~``), with how often each occurs."""
    found: Counter[str] = Counter()
    folded = fold(text)
    for run in RUNS.findall(folded):
        if run[0] >= "\u4e00":
            found.update(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    found.update(ACROSS + match.group(1) + folded[match.end()] for match in PAUSE.finditer(folded))
    return found


def shard_of(gram: str, shards: int) -> int:
    """A key's shard: a pair across punctuation lives with the pair, so a phrase fetches no more shards."""
    return fnv1a(gram.removeprefix(ACROSS)) % shards


def _gaps(numbers: list[int]) -> list[int]:
    return list(map(operator.sub, numbers, [-1, *numbers[:-1]]))


def _dump(value: object) -> bytes:
    """Compact JSON with sorted keys: ``json.dumps(…, ensure_ascii=False, separators=(",", ":"),
    sort_keys=True)`` to the byte (tests/test_search_shards.py), several times faster."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def write_search_shards(search_dir: Path, docs: list[dict], config: dict) -> dict:
    """Write the pieces from Material's ``docs`` into ``search_dir``; the manifest's ``kepu_index``."""
    return write_search_pieces(search_dir, docs)[0]


def write_search_pieces(search_dir: Path, docs: list[dict]) -> tuple[dict, dict[str, list[str]]]:
    """Write the pieces from Material's ``docs``; the manifest's ``kepu_index`` and each page's words.

    The words by page let a later build that changed a few pages make the same pieces
    without reading every page again (:func:`update_search_pieces`).
    """
    by_page: dict[str, list[dict]] = defaultdict(list)
    for doc in docs:
        by_page[doc["location"].partition("#")[0]].append(doc)
    pages, page_words = {}, {}
    for location, page_docs in by_page.items():
        pages[location], page_words[location] = page_of(location, page_docs)
    # Lessons first, then every other page, each in address order.
    ordered = sorted(pages.values(), key=lambda page: (not page["l"].startswith("lessons/"), page["l"]))
    title_postings: dict[str, list[int]] = defaultdict(list)
    all_postings: dict[str, list[int]] = defaultdict(list)
    counts: dict[str, list[str]] = defaultdict(list)
    for number, page in enumerate(ordered):
        title_grams, all_grams = page_grams(page)
        for gram in title_grams:
            title_postings[gram].append(number)
        for gram, digit in all_grams.items():
            all_postings[gram].append(number)
            counts[gram].append(digit)
    entries = {
        gram: [_gaps(title_postings.get(gram, [])), _gaps(numbers), "".join(counts[gram])]
        for gram, numbers in all_postings.items()
    }
    return _write_pieces(search_dir, ordered, page_words, entries), page_words


def page_of(location: str, docs: list[dict]) -> tuple[dict, list[str]]:
    """One page as the worker fetches it (address, title, text, sections; capped) and its jieba words."""
    page: dict = {"l": location, "t": "", "x": "", "s": []}
    words: set[str] = set()
    for doc in docs:
        for field in ("title", "text"):
            for segment in re.split(r"[\u200b\s]+", TAG.sub(" ", doc.get(field, ""))):
                words.update(WORD.findall(segment))
        if doc["location"].partition("#")[2]:
            page["s"].append([doc["location"], plain(doc.get("title", "")), plain(doc.get("text", ""))])
        else:
            page["t"], page["x"] = plain(doc.get("title", "")), plain(doc.get("text", ""))
    if cap_page(page):  # the words of the text cut away would only split phrases it no longer has
        kept = " ".join([page["t"], page["x"], *(f"{title} {text}" for _, title, text in page["s"])])
        words = {word for word in words if word in kept}
    return page, sorted(words)


def page_grams(page: dict) -> tuple[set[str], dict[str, str]]:
    """The keys a page is found by in its title, and in all of it with how often (one base-36 digit)."""
    everything = " \n ".join([page["t"], page["x"], *(f"{title} {text}" for _, title, text in page["s"])])
    # How often, for ranking before a page is fetched: one character a page, so
    # base 36, not 0–9 — at 9 a lesson about 疫苗 tied with any page that names it nine times.
    return set(grams(page["t"])), {
        gram: DIGITS36[min(times, 35)] for gram, times in grams(everything).items()
    }


def update_search_pieces(
    search_dir: Path,
    previous: Path,
    previous_index: dict,
    previous_words: dict[str, list[str]],
    rebuilt: dict[str, list[dict]],
    take_previous: bool = False,
    known_digests: dict[str, str] | None = None,
) -> tuple[dict, dict[str, list[str]]] | None:
    """The pieces :func:`write_search_pieces` would write, made from the last build's and the rebuilt pages.

    ``previous`` is the last build's folder of pieces, ``previous_index`` its manifest's
    ``kepu_index`` and ``previous_words`` its words by page; ``rebuilt`` has the new entries
    of the pages built again. Only the keys of those pages are patched, and only the
    pieces they are in are read and written again; every other piece is taken as it
    was (moved, with ``take_previous``: the folder is the caller's to give up), and not read:
    ``known_digests`` (name in the folder → sha256) are their digests as the last build made
    them, checked by the caller; a piece without one is hashed. None when
    that cannot give the same pieces — the last ones do not fit, or a page came into or
    left the index — so build them in full.
    """
    pages_count, shards = previous_index["pages"], previous_index["shards"]
    size = previous_index.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or len(previous_words) != pages_count:
        return None
    numbers = {location: number for number, location in enumerate(page_order(previous_words))}
    if any(bool(docs) != (location in numbers) for location, docs in rebuilt.items()):
        return None
    words = dict(previous_words)
    changed_pages: dict[int, dict] = {}
    patches: list[tuple[str, int, bool, str | None]] = []
    for location, docs in sorted(rebuilt.items()):
        if not docs:
            continue
        number = numbers[location]
        old_page = _load(previous / f"p/{number}.json")
        if old_page.get("l") != location:
            return None
        _, old_all = page_grams(old_page)
        changed_pages[number], words[location] = page_of(location, docs)
        new_title, new_all = page_grams(changed_pages[number])
        patches += [
            (gram, number, gram in new_title, new_all.get(gram)) for gram in old_all.keys() | new_all.keys()
        ]
    # Only the shards holding a patched key are read; the size of all of them says how many there are.
    by_shard: dict[int, dict[str, list]] = {}
    entries_of: dict[str, dict[str, list]] = {}  # a patched key → the postings of its shard
    for gram, *_ in patches:
        if gram not in entries_of:
            shard = shard_of(gram, shards)
            if shard not in by_shard:
                by_shard[shard] = _load(previous / f"g{shard}.json")
            entries_of[gram] = by_shard[shard]
    size -= sum(_entry_size(gram, entries[gram]) for gram, entries in entries_of.items() if gram in entries)
    for gram, number, in_title, digit in patches:
        _patch(entries_of[gram], gram, number, in_title, digit)
    size += sum(_entry_size(gram, entries[gram]) for gram, entries in entries_of.items() if gram in entries)
    if _shard_count(size) != shards:  # the keys spread over another number of shards: all are written anew
        entries: dict[str, list] = {}
        for shard in range(shards):
            entries.update(
                by_shard[shard]
                if shard in by_shard
                else _load(previous / f"g{shard}.json")
            )
        pages = [
            changed_pages.get(number)
            or _load(previous / f"p/{number}.json")
            for number in range(pages_count)
        ]
        return _write_pieces(search_dir, pages, words, entries), words
    files = {f"p/{number}.json": _dump(page) for number, page in changed_pages.items()}
    files.update({f"g{shard}.json": _dump(grams) for shard, grams in by_shard.items()})
    files.update(_word_files(words))
    names = [f"p/{number}.json" for number in range(pages_count)] + [
        f"g{shard}.json" for shard in range(shards)
    ]
    known = known_digests or {}
    kept = {
        name: known.get(name) or sha256_file(previous / name) for name in names if name not in files
    }
    version = _version({**kept, **{name: _sha256(data) for name, data in files.items()}})
    folder = search_dir / FOLDER / version
    if take_previous:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(previous, folder)
    else:
        for name in kept:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(previous / name, folder / name)
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    titles = list(previous_index["titles"])
    for number, page in changed_pages.items():
        titles[number] = _title_length(page)
    return {
        **previous_index,
        "folder": f"{FOLDER}/{version}/",
        "size": size,
        "titles": "".join(titles),
    }, words


def page_order(page_words: dict[str, list[str]]) -> list[str]:
    """Page addresses as the pieces number them: lessons first, then every other page, by address."""
    return sorted(page_words, key=lambda location: (not location.startswith("lessons/"), location))


def _patch(entries: dict[str, list], gram: str, number: int, in_title: bool, digit: str | None) -> None:
    """Put page ``number`` into ``gram``'s postings as it is now (absent when ``digit`` is None)."""
    title_gaps, all_gaps, counts = entries.get(gram, [[], [], ""])
    titles, pages = _numbers(title_gaps), _numbers(all_gaps)
    if len(pages) != len(counts):
        raise ValueError(f"search key {gram!r}: {len(pages)} pages but {len(counts)} counts")
    at = bisect.bisect_left(pages, number)
    if at < len(pages) and pages[at] == number:  # the page was there: take it out
        del pages[at]
        counts = counts[:at] + counts[at + 1 :]
    if digit is not None:
        pages.insert(at, number)
        counts = counts[:at] + digit + counts[at:]
    if not pages:
        entries.pop(gram, None)
        return
    at = bisect.bisect_left(titles, number)
    in_titles = at < len(titles) and titles[at] == number
    if in_titles and not (digit is not None and in_title):
        del titles[at]
    elif not in_titles and digit is not None and in_title:
        titles.insert(at, number)
    entries[gram] = [_gaps(titles), _gaps(pages), counts]


def _numbers(gaps: list[int]) -> list[int]:
    """Page numbers from their gaps (the first gap counts from -1)."""
    return [total - 1 for total in itertools.accumulate(gaps)]


def _write_pieces(
    search_dir: Path, ordered: list[dict], page_words: dict[str, list[str]], entries: dict
) -> dict:
    """Shard the postings, write every piece into a folder named by their hash; the manifest's ``kepu_index``."""
    files: dict[str, bytes] = {f"p/{number}.json": _dump(page) for number, page in enumerate(ordered)}
    size = sum(_entry_size(gram, entry) for gram, entry in entries.items())
    shards = _shard_count(size)
    by_shard: dict[int, dict] = defaultdict(dict)
    for gram, entry in entries.items():
        by_shard[shard_of(gram, shards)][gram] = entry
    for shard in range(shards):
        files[f"g{shard}.json"] = _dump(by_shard.get(shard, {}))
    files.update(_word_files(page_words))
    version = _version({name: _sha256(data) for name, data in files.items()})
    folder = search_dir / FOLDER / version
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {
        "folder": f"{FOLDER}/{version}/",
        "shards": shards,
        "word_shards": WORD_SHARDS,
        "pages": len(ordered),
        "lessons": sum(1 for page in ordered if page["l"].startswith("lessons/")),
        "titles": "".join(_title_length(page) for page in ordered),
        "size": size,  # of the postings: a patch that keeps it in range keeps the shards (update_search_pieces)
    }


def _entry_size(gram: str, entry: list) -> int:
    """About how much JSON a key's postings take (what the number of shards is chosen by)."""
    title_gaps, all_gaps, counts = entry
    return len(gram) * 3 + 12 + 2 * (len(title_gaps) + len(all_gaps)) + len(counts)


def _shard_count(size: int) -> int:
    return min(MAX_SHARDS, 2 ** max(0, math.ceil(math.log2(max(1, size / SHARD_BYTES)))))


# A lesson number in front of a title ("第12课 "), and what is not a letter or digit: a title
# that differs from another only in these repeats it.
SERIES_PREFIX = re.compile(r"^\s*第\s*[0-9０-９一二三四五六七八九十百千]+\s*[课讲期章节篇]\s*")
NOT_WORD = re.compile(r"[\W_]+")
REPEAT_MIN = 4  # characters: shorter titles ("高血压") are not told apart from words


def title_key(title: str) -> str:
    """What makes two titles the same one: no lesson number in front, no spaces or punctuation, folded."""
    return NOT_WORD.sub("", fold(SERIES_PREFIX.sub("", title)))


def title_repeats(order: list[str], docs: list[dict]) -> str:
    """One character a page, in page order: "1" where its title repeats another page's, else "0".

    Of the pages one title key groups, the shortest title (then the first page) is the one
    kept; the worker counts no title weight for the others. At 1,000 lessons 33 titles
    "第N课 流感不是普通感冒…" all had 疫苗 in the title and kept 儿童预防接种, which has it
    twenty times in its text, out of the first ten; a reader wants each lesson once.
    """
    titles = {doc["location"]: plain(doc.get("title", "")) for doc in docs if "#" not in doc["location"]}
    kept: dict[str, tuple[int, int]] = {}  # key → (title length, page number) of the one kept
    keys = []
    for number, location in enumerate(order):
        title = titles.get(location, "")
        key = title_key(title)
        keys.append(key)
        if len(key) >= REPEAT_MIN:
            kept[key] = min(kept.get(key, (len(title), number)), (len(title), number))
    return "".join(
        "1" if len(key) >= REPEAT_MIN and kept[key][1] != number else "0" for number, key in enumerate(keys)
    )


def _title_length(page: dict) -> str:
    return chr(48 + min(len(page["t"]), MAX_TITLE))


def _word_files(page_words: dict[str, list[str]]) -> dict[str, bytes]:
    words = set().union(*page_words.values()) if page_words else set()
    by_first: dict[int, list[str]] = defaultdict(list)
    for word in sorted(words):
        by_first[fnv1a(word[0]) % WORD_SHARDS].append(word)
    return {f"w{shard}.json": _dump(by_first.get(shard, [])) for shard in range(WORD_SHARDS)}


def _version(digests: dict[str, str]) -> str:
    """The pieces' folder name: a hash of every piece's name and sha256 (of its bytes).

    Over the pieces' digests, not their bytes, so a patched build reads none of the
    pieces it keeps: their digests are known from the last build (``known_digests``).
    """
    digest = hashlib.sha256()
    for name in sorted(digests):
        digest.update(f"{name}\0{digests[name]}\n".encode())
    return digest.hexdigest()[:12]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_pages(site: Path) -> list[dict]:
    """Every page of a built site's search pieces (for tests and benches): address, title, text, sections."""
    manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    index = manifest["config"]["kepu_index"]
    folder = site / "search" / index["folder"]
    return [json.loads((folder / f"p/{n}.json").read_text(encoding="utf-8")) for n in range(index["pages"])]


def read_words(site: Path) -> set[str]:
    """The jieba words the build's segmentation made, as the worker's word shards hold them."""
    manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    index = manifest["config"]["kepu_index"]
    folder = site / "search" / index["folder"]
    words: set[str] = set()
    for shard in range(index["word_shards"]):
        words.update(json.loads((folder / f"w{shard}.json").read_text(encoding="utf-8")))
    return words
