"""The search worker's ranking, modelled in Python, to weigh a ranking change on every query.

bench/bench_search.py measures the engine the site ships, in a browser; trying a ranking
there means a build (or a patched worker) and minutes per variant at 10,000 lessons. This
reads a built site's search pieces and ranks every page that matches each query of
bench/search_queries.json with the worker's final score (``fullScore`` in
templates/site/assets/kepu-search-worker.js: the page's own text), then prints recall@10
and precision@1 per class, for the worker's ranking and for BM25F variants:

    .venv/bin/python bench/search_rank_model.py /tmp/search-bench/p1000/site [...p10000/site]

The model is checked against the browser: for the shipped ranking it gives the per-class
figures bench_search.py measured at 1,000 and 10,000 lessons, and for BM25F title×20 b=0 those
of a patched worker measured in the same run (bench/results/search-scale.md). It ranks every matching page, where
the worker ranks candidates on the shards' counts first (the same score; the counts are
upper bounds only for a term of three or more characters), so a variant's figures are to
be confirmed in the browser (``--also`` with a patched worker) before any is adopted.

The BM25F variants (Robertson & Zaragoza): the title's hit, weighted ``title_weight`` and
normalised by the title's length, is added to the body's count into one term frequency,
which then saturates (k1 = 1.2); ``b`` normalises the body by its length (1,500
characters, a lesson's median, as the average). The shipped ranking instead adds a title
weight (and +500 for the whole query in the title) beside a saturating count, so a title
hit ranks above any count.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from builder.site.search_index import PAUSE, read_pages, read_words  # noqa: E402

QUERIES = REPO / "bench" / "search_queries.json"
MAX_TIMES = 35  # the worker counts an occurrence at most this often (one base-36 digit in the shards)
AVERAGE_TITLE = 20
AVERAGE_BODY = 1500

# {"exact": bool, "whole": bool, "terms": [{"title", "times"} or {"parts": [...]}], "length": int}
Facts = dict
Ranker = Callable[[Facts, int, bool], float]


def load(site: Path) -> tuple[list[dict], dict[str, str], int, set[str]]:
    """The site's pages as the worker holds them once fetched, its 繁体 map, lesson count and words."""
    manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    items = []
    for page in read_pages(site):
        body = " \n ".join([page["x"], *(f"{title} {text}" for _, title, text in page["s"])]).lower()
        lower = page["t"].lower() + " \n " + body
        title = page["t"].lower()
        items.append(
            {
                "l": page["l"].rstrip("/"),
                "t": page["t"],
                "lower": lower,
                "title": title,
                "joined": PAUSE.sub(r"\1", lower),
                "title_joined": PAUSE.sub(r"\1", title),
                "length": len(body),
            }
        )
    config = manifest["config"]
    return items, config["kepu_variants"], config["kepu_index"]["lessons"], read_words(site)


def count(haystack: str, needle: str) -> int:
    times, at = 0, haystack.find(needle)
    while at >= 0 and times < MAX_TIMES:
        times += 1
        at = haystack.find(needle, at + len(needle))
    return times


def split(term: str, words: set[str]) -> list[str]:
    """Forward maximum matching over the build's words, as the worker's ``split``."""
    parts, at = [], 0
    while at < len(term):
        size = next((n for n in range(len(term) - at, 1, -1) if term[at : at + n] in words), 1)
        parts.append(term[at : at + size])
        at += size
    return parts


def steps_of(query: str, items: list[dict], variants: dict[str, str], words: set[str]) -> list[dict]:
    """Each term as the worker plans it: as typed, across punctuation, or split into words."""
    folded = "".join(variants.get(char, char) for char in query).lower().strip()
    terms = list(dict.fromkeys(t for t in re.split(r"[\s,，、;；。!?！？:：]+", folded) if t))
    steps = []
    for term in terms:
        step = {"term": term, "across": False, "parts": None}
        if (
            len(term) >= 3
            and re.fullmatch(r"[\u4e00-\u9fff]+", term)
            and not any(term in item["lower"] for item in items)
        ):
            if any(term in item["joined"] for item in items):
                step["across"] = True
            else:
                parts = [part for part in split(term, words) if len(part) >= 2]
                step["parts"] = parts if len(parts) >= 2 else None
        steps.append(step)
    return steps


def matches(item: dict, step: dict) -> bool:
    if step["term"] in (item["joined"] if step["across"] else item["lower"]):
        return True
    return bool(step["parts"]) and all(part in item["lower"] for part in step["parts"])


def facts_of(item: dict, steps: list[dict]) -> Facts:
    """What the worker's ``fullScore`` reads off a fetched page."""
    facts: Facts = {"exact": True, "whole": False, "terms": [], "length": item["length"]}
    across = any(step["across"] for step in steps)
    for step in steps:
        text = item["joined"] if step["across"] else item["lower"]
        title = item["title_joined"] if step["across"] else item["title"]
        if step["term"] in text:
            facts["terms"].append({"title": step["term"] in title, "times": count(text, step["term"])})
        else:
            facts["exact"] = False
            facts["terms"].append(
                {
                    "parts": [
                        {"title": part in item["title"], "times": count(item["lower"], part)}
                        for part in step["parts"] or []
                    ]
                }
            )
    whole = "".join(step["term"] for step in steps)
    facts["whole"] = whole in (item["title_joined"] if across else item["title"])
    return facts


def shipped(facts: Facts, title_length: int, lesson: bool, corroborated: bool = False) -> float:
    """The worker's ``rank``: title weight beside a saturating count; exact, whole-in-title, lesson.

    ``corroborated``: a title hit counts only where the text names the term too (the count
    is more than the title's one), so a title over unrelated text ranks by its text alone.
    """

    def title_weight(length: int) -> float:
        return 660 / (1 + 1.2 * (0.25 + 0.75 * max(8, length) / AVERAGE_TITLE))

    def times_weight(times: int) -> float:
        return 80 * times / (times + 5)

    score, whole = 0.0, facts["whole"]
    for term in facts["terms"]:
        for part, share in [(p, 5) for p in term["parts"]] if "parts" in term else [(term, 1)]:
            title = part["title"] and (not corroborated or part["times"] > 1)
            whole = whole and (title or len(facts["terms"]) > 1)
            score += (title_weight(title_length) if title else 0) / share
            score += times_weight(part["times"]) / share
    return score + 1000 * facts["exact"] + 500 * whole + 200 * lesson


def bm25f(title_weight: float, b: float, k1: float = 1.2) -> Ranker:
    """One saturating frequency per term, title and body combined (exact, lesson and, for
    two terms or more, whole-query-in-title bonuses as shipped)."""

    def ranker(facts: Facts, title_length: int, lesson: bool) -> float:
        title_norm = 0.25 + 0.75 * max(8, title_length) / AVERAGE_TITLE
        body_norm = 1 - b + b * facts["length"] / AVERAGE_BODY
        score = 0.0
        for term in facts["terms"]:
            for part, scale in [(p, 96) for p in term["parts"]] if "parts" in term else [(term, 480)]:
                title = 1 if part["title"] else 0
                tf = title_weight * title / title_norm + max(0, part["times"] - title) / body_norm
                score += scale * tf / (tf + k1)
        whole = facts["whole"] and len(facts["terms"]) > 1
        return score + 1000 * facts["exact"] + 500 * whole + 200 * lesson

    return ranker


def evaluate(
    data: tuple, ranker: Ranker, queries: list[dict]
) -> tuple[dict[str, tuple[float, float]], float]:
    """Recall@10 and precision@1 per class (an absent term: right when nothing matches); overall p@1."""
    items, variants, lessons, words = data
    per_class: dict[str, list[tuple[float, float]]] = {}
    for query in queries:
        steps = steps_of(query["query"], items, variants, words)
        hits = sorted(
            (
                -ranker(facts_of(item, steps), min(len(item["t"]), 60), number < lessons),
                len(item["t"]),
                number,
            )
            for number, item in enumerate(items)
            if all(matches(item, step) for step in steps)
        )
        top = [items[number]["l"] for _, _, number in hits[:10]]
        expect = [f"lessons/{slug}" for slug in query["expect"]]
        if expect:
            row = (sum(slug in top for slug in expect) / len(expect), float(bool(top) and top[0] in expect))
        else:
            row = (float(not hits),) * 2
        per_class.setdefault(query["class"], []).append(row)
    rows = [row for group in per_class.values() for row in group]
    figures = {
        name: (sum(r for r, _ in group) / len(group), sum(p for _, p in group) / len(group))
        for name, group in per_class.items()
    }
    return figures, sum(p for _, p in rows) / len(rows)


def main() -> int:
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    variants: list[tuple[str, Ranker]] = [
        ("shipped", shipped),
        ("shipped, title hit only with the text", lambda f, t, lesson: shipped(f, t, lesson, True)),
    ]
    for b in (0.0, 0.75):
        variants += [(f"BM25F title×{w} b={b}", bm25f(w, b)) for w in (3, 5, 8, 12, 20, 38)]
    for site in map(Path, sys.argv[1:]):
        data = load(site)
        print(f"\n## {site} ({data[2]} lessons)\n")
        classes = list(dict.fromkeys(query["class"] for query in queries))
        print("| ranking | " + " | ".join(classes) + " | p@1, all |")
        print("|---|" + "---|" * (len(classes) + 1))
        for name, ranker in variants:
            figures, first = evaluate(data, ranker, queries)
            cells = " | ".join(f"{figures[c][0]:.2f} / {figures[c][1]:.2f}" for c in classes)
            print(f"| {name} | {cells} | {first:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
