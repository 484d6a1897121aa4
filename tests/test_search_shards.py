"""The search pieces stay small when a lesson has a pasted huge paragraph (builder/site/search_index.py).

Built straight from Material-like docs with ``write_search_shards`` (no MkDocs run):
lessons cut from the bundled ones, and one with 200 KB of varied Chinese in one paragraph.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
from pathlib import Path

from builder.site.search_index import MAX_PAGE_CHARS, SHARD_BYTES, fnv1a, write_search_shards

REPO = Path(__file__).resolve().parent.parent
FIRST_QUERY_LIMIT = 300 * 1024  # gzip bytes a phone may download for its first query (issue 15)


def lesson_paragraphs() -> list[str]:
    paragraphs = []
    for src in sorted((REPO / "content" / "lessons").glob("*.md")):
        body = src.read_text(encoding="utf-8").split("---\n", 2)[2]
        paragraphs += [
            p.strip() for p in re.split(r"\n\s*\n", body) if len(p.strip()) > 40 and p[0] not in "#|!"
        ]
    return paragraphs


def docs_with_a_pasted_paragraph() -> tuple[list[dict], str]:
    """200 lessons of the bundled lessons' paragraphs, and ``lessons/pasted/``: 健康 first, then 200 KB."""
    rng = random.Random(15)
    paragraphs = lesson_paragraphs()
    characters = sorted(set("".join(re.findall(r"[\u4e00-\u9fff]", "".join(paragraphs)))))
    docs = []
    for number in range(200):
        location = f"lessons/l{number:03d}/"
        docs.append(
            {"location": location, "title": f"第{number}课 健康", "text": f"<p>{rng.choice(paragraphs)}</p>"}
        )
        for part in range(2):
            docs.append(
                {
                    "location": f"{location}#s{part}",
                    "title": f"第{part}节",
                    "text": f"<p>{rng.choice(paragraphs)}</p>",
                }
            )
    pasted = "健康" + "".join(
        rng.choice(characters) + ("，" if rng.random() < 0.08 else "") for _ in range(70_000)
    )
    assert len(pasted.encode("utf-8")) > 200_000
    docs.append({"location": "lessons/pasted/", "title": "粘贴的长段落", "text": f"<p>{pasted}</p>"})
    return docs, pasted


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def test_a_pasted_huge_paragraph_makes_no_piece_and_no_first_query_too_big(tmp_path: Path):
    docs, pasted = docs_with_a_pasted_paragraph()
    index = write_search_shards(tmp_path, docs, {})
    folder = tmp_path / index["folder"]
    pages = [json.loads((folder / f"p/{n}.json").read_text(encoding="utf-8")) for n in range(index["pages"])]
    number = next(n for n, page in enumerate(pages) if page["l"] == "lessons/pasted/")

    # The page keeps (and the index holds) its first MAX_PAGE_CHARS characters only.
    kept = pages[number]
    assert len(kept["t"]) + len(kept["x"]) <= MAX_PAGE_CHARS
    assert pasted.startswith(kept["x"])
    piece = (folder / f"p/{number}.json").read_bytes()
    assert len(piece) <= MAX_PAGE_CHARS * 3 + 1024
    shards = {path.name: path.read_bytes() for path in folder.glob("g*.json")}
    assert len(shards) == index["shards"]
    keys = {key for data in shards.values() for key in json.loads(data)}
    tail_pairs = {pasted[i : i + 2] for i in range(len(kept["x"]) + 1, len(pasted) - 1)}
    only_in_tail = {pair for pair in tail_pairs if re.fullmatch(r"[\u4e00-\u9fff]{2}", pair)} - {
        kept["x"][i : i + 2] for i in range(len(kept["x"]) - 1)
    }
    only_in_tail -= {doc["text"][i : i + 2] for doc in docs[:-1] for i in range(len(doc["text"]) - 1)}
    assert only_in_tail and not only_in_tail & keys  # the cut text is not indexed

    # No gram shard, nor any word shard, is far above the size the shards are cut for.
    assert max(len(data) for data in shards.values()) <= 3 * SHARD_BYTES
    assert max(len(path.read_bytes()) for path in folder.glob("w*.json")) <= 3 * SHARD_BYTES

    # The first query that lists the pasted lesson: the manifest, the worker, the shard of 健康
    # and ten pages, the pasted one among them.
    worker = (REPO / "templates" / "site" / "assets" / "kepu-search-worker.js").read_bytes()
    manifest = json.dumps({"config": {"kepu_index": index}, "docs": []}, ensure_ascii=False).encode()
    shard = shards[f"g{fnv1a('健康') % index['shards']}.json"]
    gaps = json.loads(shard)["健康"][1]
    assert number in {sum(gaps[: i + 1]) - 1 for i in range(len(gaps))}  # page numbers from their gaps
    others = sorted(gz((folder / f"p/{n}.json").read_bytes()) for n in range(index["pages"]) if n != number)
    first_query = gz(manifest) + gz(worker) + gz(shard) + gz(piece) + sum(others[-9:])
    assert first_query <= FIRST_QUERY_LIMIT, first_query
    assert gz(piece) <= 64 * 1024


def test_the_pieces_are_the_same_bytes_for_the_same_docs(tmp_path: Path):
    docs, _ = docs_with_a_pasted_paragraph()
    first = write_search_shards(tmp_path / "a", docs, {})
    second = write_search_shards(tmp_path / "b", docs, {})
    assert first == second
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.json"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def pieces(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*.json")}


def test_patching_the_rebuilt_pages_gives_the_pieces_of_a_full_build(tmp_path: Path):
    """The incremental site patches only the rebuilt pages' keys (update_search_pieces): same bytes."""
    from builder.site.search_index import update_search_pieces, write_search_pieces

    docs, _ = docs_with_a_pasted_paragraph()
    before, words = write_search_pieces(tmp_path / "before", docs)
    previous = tmp_path / "before" / before["folder"]

    edited = [dict(doc) for doc in docs]
    for doc in edited:
        if doc["location"] == "lessons/l007/":  # a new title and text: keys come and go
            doc["title"], doc["text"] = "第7课 量血压", "<p>血压计袖带绑在上臂，和心脏一样高。</p>"
    edited = [doc for doc in edited if doc["location"] != "lessons/l150/#s1"]  # a section removed
    edited.append({"location": "lessons/l150/#s9", "title": "新的一节", "text": "<p>流感疫苗每年秋天打。</p>"})
    rebuilt = {
        page: [doc for doc in edited if doc["location"].partition("#")[0] == page]
        for page in ("lessons/l007/", "lessons/l150/", "lessons/l042/")  # l042 built again, unchanged
    }
    full, full_words = write_search_pieces(tmp_path / "full", edited)
    patched = update_search_pieces(tmp_path / "patched", previous, before, words, rebuilt)
    assert patched is not None
    assert patched == (full, full_words)
    assert pieces(tmp_path / "patched" / patched[0]["folder"]) == pieces(tmp_path / "full" / full["folder"])

    # Taking the last folder over (as the workspace does) gives the same; the rest stays as it was.
    taken = tmp_path / "taken-from"
    shutil.copytree(previous, taken)
    moved = update_search_pieces(tmp_path / "moved", taken, before, words, rebuilt, take_previous=True)
    assert moved == patched and not taken.exists()
    assert pieces(tmp_path / "moved" / moved[0]["folder"]) == pieces(tmp_path / "full" / full["folder"])

    # A page that comes into the index (or leaves it) is not a patch: the build makes all pieces.
    rebuilt["lessons/new/"] = [{"location": "lessons/new/", "title": "新课", "text": "<p>新课</p>"}]
    assert update_search_pieces(tmp_path / "again", previous, before, words, rebuilt) is None


def test_a_patch_that_changes_the_number_of_shards_writes_them_all_the_same_as_a_full_build(tmp_path: Path):
    from builder.site.search_index import update_search_pieces, write_search_pieces

    docs, _ = docs_with_a_pasted_paragraph()
    before, words = write_search_pieces(tmp_path / "before", docs)
    previous = tmp_path / "before" / before["folder"]
    # Lessons rewritten with thousands of new character pairs each: the postings outgrow their shards.
    rng = random.Random(7)
    changed = [f"lessons/l{number:03d}/" for number in range(0, 200, 10)]
    edited = [
        {**doc, "text": "<p>" + "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(5000)) + "</p>"}
        if doc["location"] in changed
        else doc
        for doc in docs
    ]
    rebuilt = {page: [doc for doc in edited if doc["location"].partition("#")[0] == page] for page in changed}
    full, full_words = write_search_pieces(tmp_path / "full", edited)
    assert full["shards"] != before["shards"]
    patched = update_search_pieces(tmp_path / "patched", previous, before, words, rebuilt)
    assert patched == (full, full_words)
    assert pieces(tmp_path / "patched" / patched[0]["folder"]) == pieces(tmp_path / "full" / full["folder"])


def test_the_pieces_are_written_as_json_writes_them():
    """The pieces are dumped with orjson for speed; the bytes are json's, sorted and compact,
    for every kind of character a page may hold (controls, quotes, line separators, emoji)."""
    from builder.site.search_index import _dump

    rng = random.Random(11)
    alphabet = ['"', "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "é", "高", "壓", "😀", "a", "9", " "]
    for _ in range(300):
        value = {
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))): [
                [rng.randint(1, 5000) for _ in range(rng.randint(0, 5))],
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))),
            ]
            for _ in range(rng.randint(0, 6))
        }
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        assert _dump(value) == expected


def test_a_title_that_repeats_another_is_marked_once_the_shortest_is_kept():
    """"第12课 认识高血压" repeats 认识高血压: the worker gives it no title weight (manifest.repeats)."""
    from builder.site.search_index import title_repeats

    titles = {
        "lessons/a/": "第12课 认识高血压",
        "lessons/b/": "认识高血压",
        "lessons/c/": "第 3 讲　认识高血压！",
        "lessons/d/": "认识高血压的危害",  # another lesson, not a repeat
        "lessons/e/": "高血压",  # too short to tell from the word
        "lessons/f/": "第2课 高血压",
        "lessons/g/": "第1课 糖尿病饮食",
        "lessons/h/": "第2课 糖尿病饮食",  # neither is shorter: the first page is kept
        "topics/x/": "认识高血压",  # a list page of the same name is a repeat too
    }
    order = sorted(titles, key=lambda location: (not location.startswith("lessons/"), location))
    docs = [{"location": location, "title": title, "text": ""} for location, title in titles.items()]
    docs.append({"location": "lessons/d/#section", "title": "认识高血压", "text": ""})  # a section is no page
    repeats = dict(zip(order, title_repeats(order, docs), strict=True))
    assert [location for location, mark in repeats.items() if mark == "1"] == [
        "lessons/a/", "lessons/c/", "lessons/h/", "topics/x/",
    ]  # fmt: skip
