"""The site search as a reader meets it: the query set in bench/search_queries.json.

Builds the bundled content's site (or takes a built one with --site), serves it,
and types every query into the real search box of a 360 px phone in headless
chromium, so the figures are those of the engine the site ships, whatever it is.
Prints, per query class: recall (share of the right lessons in the first 10
results), precision@1 (the first result is a right lesson; for an absent term:
no result at all), and the mean number of results.

    .venv/bin/python bench/bench_search.py [--site public/site] [--verbose]

At scale (issue 15), side by side in one run, Kepu's search against Pagefind's
(npm ``pagefind``, its extended build, indexing the same pages' article text):

    .venv/bin/python bench/bench_search.py --scale 1000 10000 --work /tmp/search-bench \
        [--also "NAME=/path/to/site{N}"]

For each size, a corpus of the bundled lessons plus synthetic ones (bench/corpus.py)
is made and built once into --work (kept for the next run). Both engines are
served with gzip on 127.0.0.1 and driven in the same chromium (service workers
off, so every byte is fetched); then bytes downloaded for search (gzip) for the
first query and for ten, time to the first result from opening search, and the
engine's heap (JS heap + array buffers, WASM memory among them: the search
worker's for Kepu; for Pagefind, which searches in a worker of its own since 1.6,
that worker's plus the page's growth). Pagefind is node_modules/.bin/pagefind or
--pagefind PATH (from a git worktree, which has no node_modules: the main checkout's);
without it the run says so and measures Kepu only, as with --no-pagefind.

What the per-class figures measure, as a reader meets the results at scale (the
lessons that match may be thousands; the first screen shows ten, the count says
how many, "更多结果" brings twenty more):

* recall@10 — the expected lessons among the first ten results, the screen a
  query opens on. This is the figure the targets are read on: a lesson a reader
  would have to page for is counted as missed here.
* reach — the expected lessons listed after at most 10 presses of "更多结果"
  (the first 210 results), and the presses it took; a second pass after the
  bytes and heap are measured.
* p@1 — the first result is an expected lesson (strict); "(copy)" also counts a
  synthetic lesson that carries the expected lesson's title (bench/corpus.py
  gives each synthetic lesson a bundled lesson's title after "第N课 ").
* count — the count shown against the pages that really match (every page's
  text searched as the site defines a match, ``matching``): the share of
  queries shown the right number, and the share shown it as "约" (an upper
  bound, before every candidate is checked).
* stray — results in the first ten with none of the query's words.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from conftest import CHROMIUM, serve_folder  # noqa: E402

QUERIES = REPO / "bench" / "search_queries.json"


def run_query(page, query: str) -> tuple[list[str], int, bool]:
    """Type ``query`` as a keyboard would (Material's own engine reads keyup); the first results' slugs and
    the count the reader is shown ("找到 N 篇", or "找到约 N 篇" while it is an upper bound), and whether "约"."""
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")
    # Cleared first, so the list read below is this query's, not the one before.
    page.wait_for_function(
        "() => document.querySelector('.md-search-result__meta').textContent.includes('键入')"
    )
    box.fill(query)
    box.press("End")
    page.wait_for_function(
        "() => { const m = document.querySelector('.md-search-result__meta').textContent;"
        " return !m.includes('正在') && !m.includes('键入'); }"
    )
    page.wait_for_timeout(250)  # the list renders after the count
    meta = page.locator(".md-search-result__meta").inner_text()
    numbers = re.findall(r"\d+", meta)
    total = int(numbers[0]) if numbers else (1 if "1" in meta or "一" in meta else 0)
    links = page.locator(".md-search-result__item > a").evaluate_all("links => links.map(a => a.href)")
    slugs = []
    for link in links:
        match = re.search(r"/(lessons|quizzes|campaigns|audiences|topics)/([^/#?]+)", link)
        slugs.append(f"{match.group(1)}/{match.group(2)}" if match else link)
    if "没有" in meta:
        total = 0
    return slugs, total, "约" in meta


def load_more(page, wanted: set[str], clicks: int) -> tuple[list[str], int]:
    """Press "更多结果" as a reader would, until every slug in ``wanted`` is listed, the list ends or
    ``clicks`` presses were made; every result's slug, and the presses made."""
    items = page.locator("[data-search-results] > li > a.md-search-result__link")
    more = page.locator("button.kepu-search-more")
    made = 0

    def listed() -> list[str]:
        return [slug_of(link) for link in items.evaluate_all("links => links.map(a => a.href)")]

    slugs = listed()
    while made < clicks and not wanted <= set(slugs) and more.count() and more.is_visible():
        more.click()
        page.wait_for_function(
            "(n) => document.querySelectorAll('[data-search-results] > li').length > n"
            " || document.querySelector('button.kepu-search-more').hidden",
            arg=len(slugs),
        )
        page.wait_for_function("() => !document.querySelector('button.kepu-search-more').disabled")
        made += 1
        slugs = listed()
    return slugs, made


def measure(site: Path, verbose: bool = False) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    per_class: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    with serve_folder(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.goto(url, wait_until="networkidle")
        page.locator("label.md-header__button[for=__search]").click()
        for item in queries:
            slugs, total, _ = run_query(page, item["query"])
            expect = [f"lessons/{slug}" for slug in item["expect"]]
            top10 = slugs[:10]
            if expect:
                recall = sum(slug in top10 for slug in expect) / len(expect)
                first = 1.0 if slugs and slugs[0] in expect else 0.0
            else:
                recall = first = 1.0 if total == 0 else 0.0
            per_class[item["class"]].append((recall, first, total))
            if verbose:
                print(
                    f"{item['class']:12} {item['query']:10} recall={recall:.2f} p@1={first:.0f} n={total} {top10[:3]}"
                )
        browser.close()
    return {
        name: {
            "queries": len(rows),
            "recall": sum(r[0] for r in rows) / len(rows),
            "precision_at_1": sum(r[1] for r in rows) / len(rows),
            "mean_results": sum(r[2] for r in rows) / len(rows),
        }
        for name, rows in per_class.items()
    }


def print_table(figures: dict[str, dict[str, float]]) -> None:
    print(f"{'class':12} {'queries':>7} {'recall':>7} {'p@1':>6} {'results':>8}")
    for name, row in figures.items():
        print(
            f"{name:12} {row['queries']:7d} {row['recall']:7.2f} {row['precision_at_1']:6.2f} {row['mean_results']:8.1f}"
        )


# ---- at scale, Kepu beside Pagefind ----------------------------------------------------

PAGEFIND = REPO / "node_modules" / ".bin" / "pagefind"
PAGEFIND_PAGE = "kepu-bench-pagefind.html"
PAGEFIND_BUILD = "kepu-bench-pagefind-build.json"  # the build's time and peak memory, kept with it
# Pagefind in the page, as its own UI uses it: search, then the data of the first ten results.
PAGEFIND_HTML = """<!doctype html><meta charset="utf-8"><title>bench</title><script type="module">
window.start = () => import("./pagefind/pagefind.js").then((pf) => { window.pf = pf; return pf.init(); });
window.query = async (q) => {
  const found = await window.pf.search(q);
  const top = await Promise.all(found.results.slice(0, 10).map((result) => result.data()));
  return { count: found.results.length, urls: top.map((data) => data.url) };
};
</script>"""
TEN = 10
MORE_CLICKS = 10  # "更多结果" presses a reader is assumed to make at most: the first 210 results


def build_scale_site(work: Path, lessons: int) -> tuple[Path, dict[str, float]]:
    """The corpus of ``lessons`` (+ the bundled ones) built with Kepu into ``work``; kept when there."""
    from corpus import add_bundled_lessons, make_corpus

    site = work / f"p{lessons}" / "site"
    figures: dict[str, float] = {}
    if not (site / "index.html").is_file():
        project = make_corpus(work / f"c{lessons}", lessons)
        add_bundled_lessons(project)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "builder",
                "build",
                "--project",
                str(project),
                "--only",
                "site",
                "--out",
                str(work / f"p{lessons}"),
                "--cache-dir",
                str(work / f"cache{lessons}"),
                "--quiet",
            ],
            check=True,
            cwd=REPO,
        )
        figures["kepu_build_s"] = time.perf_counter() - started
    return site, figures


def build_pagefind(site: Path, dest: Path, binary: Path = PAGEFIND) -> dict[str, float]:
    """A copy of ``site`` with Pagefind's index of the same article text Kepu indexes; kept when there,
    with the time and peak memory its build took (a 10,000-lesson index is minutes and gigabytes:
    a later run reuses it and still reports them)."""
    figures: dict[str, float] = {}
    record = dest / PAGEFIND_BUILD
    if (dest / "pagefind" / "pagefind.js").is_file() and record.is_file():
        figures = json.loads(record.read_text(encoding="utf-8"))
    else:
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(site, dest, symlinks=False)
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(
            [
                str(binary),
                "--site",
                str(dest),
                "--root-selector",
                "article.md-content__inner",
                "--exclude-selectors",
                "[data-search-exclude]",
                "--force-language",
                "zh",
                "--quiet",
                "--glob",
                "{lessons,quizzes,campaigns,audiences,topics}/**/index.html",
            ],
            check=True,
        )
        figures["pagefind_build_s"] = time.perf_counter() - started
        figures["pagefind_peak_mb"] = (
            max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        )
        record.write_text(json.dumps(figures), encoding="utf-8")
    (dest / PAGEFIND_PAGE).write_text(PAGEFIND_HTML, encoding="utf-8")
    return figures


class Transfer:
    """The bytes a search fetched, gzip level 6 as the bench's server sends them (files read from disk)."""

    def __init__(self, root: Path, base: str, searching: tuple[str, ...]) -> None:
        self.root, self.base, self.searching = root, base, searching
        self.seen: list[str] = []
        self.sizes: dict[str, int] = {}

    def record(self, request) -> None:
        path = request.url.removeprefix(self.base).split("?")[0]
        if path.startswith(self.searching) and path not in self.sizes:
            file = self.root / path
            self.sizes[path] = len(gzip.compress(file.read_bytes(), 6)) if file.is_file() else 0
            self.seen.append(path)

    def total(self) -> int:
        return sum(self.sizes.values())


def worker_heap(browser, url_part: str) -> float | None:
    """The used JS heap plus array buffers (WASM memory among them) of the worker whose script URL
    has ``url_part``, after a GC (MB); None when there is no such worker."""
    cdp = browser.new_browser_cdp_session()
    target = next(
        (
            t
            for t in cdp.send("Target.getTargets")["targetInfos"]
            if t["type"] == "worker" and url_part in t["url"]
        ),
        None,
    )
    if target is None:
        cdp.detach()
        return None
    replies: dict[int, dict] = {}
    cdp.on(
        "Target.receivedMessageFromTarget",
        lambda event: replies.update(
            {json.loads(event["message"]).get("id", 0): json.loads(event["message"])}
        ),
    )
    session = cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})[
        "sessionId"
    ]
    for number, method in ((1, "HeapProfiler.collectGarbage"), (2, "Runtime.getHeapUsage")):
        cdp.send(
            "Target.sendMessageToTarget",
            {"sessionId": session, "message": json.dumps({"id": number, "method": method})},
        )
    deadline = time.monotonic() + 10
    while 2 not in replies and time.monotonic() < deadline:
        cdp.send("Target.getTargets")  # lets the session deliver its events
        time.sleep(0.05)
    cdp.detach()
    usage = replies[2]["result"]
    return (usage["usedSize"] + usage.get("backingStorageSize", 0)) / 2**20


def page_heap(cdp) -> float:
    cdp.send("HeapProfiler.collectGarbage")
    usage = cdp.send("Runtime.getHeapUsage")
    return (usage["usedSize"] + usage.get("backingStorageSize", 0)) / 2**20


def texts_by_location(site: Path) -> dict[str, str]:
    """Each page's searchable text (Kepu's pieces), by its site path, its title on the first line."""
    from builder.site.search_index import read_pages

    return {
        page["l"]: page["t"].lower()
        + "\n"
        + " ".join([page["x"], *(f"{title} {text}" for _, title, text in page["s"])]).lower()
        for page in read_pages(site)
    }


def query_words(query: str, variants: dict[str, str], vocabulary: set[str]) -> list[str]:
    """The query's words: each term folded to 简体 and cut into the site's own jieba words
    (longest first, as the build segmented the lessons); a term with no such word is its own."""
    words = []
    for term in re.split(r"[\s,，、]+", query.lower()):
        term = "".join(variants.get(char, char) for char in term)
        at, found = 0, []
        while at < len(term):
            size = next((n for n in range(len(term) - at, 1, -1) if term[at : at + n] in vocabulary), 1)
            if size > 1:
                found.append(term[at : at + size])
            at += size
        words += found or ([term] if term else [])
    return words


def matching(query: str, texts: dict[str, str], variants: dict[str, str], vocabulary: set[str]) -> set[str]:
    """The pages that match ``query`` as the site defines a match, found in every page's text: each
    term (folded to 简体) as a string; for a phrase that is nowhere as typed, as a string with the
    punctuation between its characters left out, or else all of the site's jieba words it splits
    into (two or more); every term required. What the count should say."""
    from builder.site.search_index import PAUSE

    pages: set[str] | None = None
    for term in dict.fromkeys(t for t in re.split(r"[\s,，、;；。!?！？:：]+", query.lower()) if t):
        term = "".join(variants.get(char, char) for char in term)
        found = {location for location, text in texts.items() if term in text}
        if not found and re.fullmatch(r"[\u4e00-\u9fff]{3,}", term):  # a phrase typed without its punctuation
            found = {location for location, text in texts.items() if term in PAUSE.sub(r"\1", text)}
        if not found and len(term) >= 3 and re.search(r"[\u4e00-\u9fff]", term):
            parts = [w for w in query_words(term, {}, vocabulary) if len(w) >= 2]
            if len(parts) >= 2:
                found = {location for location, text in texts.items() if all(w in text for w in parts)}
        pages = found if pages is None else pages & found
    return pages or set()


def slug_of(link: str) -> str:
    match = re.search(r"/(lessons|quizzes|campaigns|audiences|topics)/([^/#?]+)", link)
    return f"{match.group(1)}/{match.group(2)}" if match else link


def copy_of(title: str, original: str) -> bool:
    """A synthetic lesson that carries a bundled lesson's title: "第12课 认识高血压：…" (bench/corpus.py)."""
    number, _, rest = title.partition(" ")
    return number.startswith("第") and number.endswith("课") and bool(rest) and original.startswith(rest)


def score(
    queries, answers, texts: dict, variants: dict, vocabulary: set[str], titles: dict, reached=None
) -> dict:
    """Per class, what a reader meets:

    * recall — the expected lessons among the first 10 results, the screen a query opens on;
    * reach — the expected lessons a reader gets to by pressing "更多结果" at most
      ``MORE_CLICKS`` times (``reached``: every slug listed then), and the presses it took;
    * precision@1 — strict, and counting a synthetic copy of the expected lesson as right;
    * count — the total shown ("找到 N 篇") against the pages that really match (``matching``):
      the share of queries shown the right number, and the mean number that match;
    * stray — results in the first 10 whose page has none of the query's words.
    """
    per_class: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    for number, (item, (slugs, total, about)) in enumerate(zip(queries, answers, strict=True)):
        expect = [f"lessons/{slug}" for slug in item["expect"]]
        listed, presses = reached[number] if reached else (slugs, 0)
        if expect:
            recall = sum(slug in slugs[:10] for slug in expect) / len(expect)
            reach = sum(slug in listed for slug in expect) / len(expect)
            first = 1.0 if slugs and slugs[0] in expect else 0.0
            top = titles.get(slugs[0] + "/", "") if slugs else ""
            copy = max(first, float(any(copy_of(top, titles.get(slug + "/", "")) for slug in expect)))
        else:
            recall = reach = first = copy = 1.0 if total == 0 else 0.0
        words = query_words(item["query"], variants, vocabulary)
        stray = sum(1 for slug in slugs[:10] if not any(word in texts.get(slug + "/", "") for word in words))
        truth = len(matching(item["query"], texts, variants, vocabulary))
        per_class[item["class"]].append(
            (recall, first, total, stray, copy, reach, presses, float(total == truth), truth, float(about))
        )
    return {
        name: {
            "queries": len(rows),
            "recall": sum(r[0] for r in rows) / len(rows),
            "precision_at_1": sum(r[1] for r in rows) / len(rows),
            "mean_results": sum(r[2] for r in rows) / len(rows),
            "stray": sum(r[3] for r in rows),
            "precision_at_1_or_copy": sum(r[4] for r in rows) / len(rows),
            "reach": sum(r[5] for r in rows) / len(rows),
            "mean_presses": sum(r[6] for r in rows) / len(rows),
            "count_right": sum(r[7] for r in rows) / len(rows),
            "mean_matching": sum(r[8] for r in rows) / len(rows),
            "count_about": sum(r[9] for r in rows) / len(rows),
        }
        for name, rows in per_class.items()
    }


def measure_kepu_site(browser, site: Path, queries) -> dict:
    """Kepu's search box on ``site``: the answers and the transfer, time and heap figures."""
    from lighthouse import serve

    url, server = serve(site)
    context = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
    transfer = Transfer(site, url, ("search/", "assets/kepu-search-worker.js"))
    context.on("request", transfer.record)
    page = context.new_page()
    try:
        page.goto(url, wait_until="networkidle")
        started = time.perf_counter()
        page.locator("label.md-header__button[for=__search]").click()
        answers = []
        for number, item in enumerate(queries):
            answers.append(run_query(page, item["query"]))
            if number == 0:
                first_ms = (time.perf_counter() - started) * 1000
                first_bytes = transfer.total()
            if number == TEN - 1:
                ten_bytes = transfer.total()
        heap = worker_heap(browser, "kepu-search-worker")
        all_bytes = transfer.total()
        # Then as a reader who does not find the lesson on the first screen: "更多结果".
        reached = []
        for item in queries:
            slugs, _, _ = run_query(page, item["query"])
            wanted = {f"lessons/{slug}" for slug in item["expect"]}
            reached.append(load_more(page, wanted, MORE_CLICKS) if wanted else (slugs, 0))
        heap_after_more = worker_heap(browser, "kepu-search-worker")
    finally:
        context.close()
        server.shutdown()
    return {
        "answers": answers,
        "reached": reached,
        "first_ms": first_ms,
        "first_kb": first_bytes / 1024,
        "ten_kb": ten_bytes / 1024,
        "all_kb": all_bytes / 1024,
        "more_kb": (transfer.total() - all_bytes) / 1024,
        "heap_mb": heap,
        "heap_more_mb": heap_after_more,
    }


def measure_pagefind(browser, site: Path, truth: tuple, queries) -> dict:
    from lighthouse import serve

    url, server = serve(site)
    context = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
    transfer = Transfer(site, url, ("pagefind/",))
    context.on("request", transfer.record)
    page = context.new_page()
    try:
        page.goto(url + PAGEFIND_PAGE, wait_until="networkidle")
        cdp = context.new_cdp_session(page)
        heap_before = page_heap(cdp)
        started = time.perf_counter()
        page.evaluate("() => window.start()")
        answers = []
        for number, item in enumerate(queries):
            found = page.evaluate("(q) => window.query(q)", item["query"])
            answers.append(([slug_of(link) for link in found["urls"]], found["count"], False))
            if number == 0:
                first_ms = (time.perf_counter() - started) * 1000
                first_bytes = transfer.total()
            if number == TEN - 1:
                ten_bytes = transfer.total()
        page_growth = page_heap(cdp) - heap_before
        # Pagefind 1.6 searches in a web worker of its own (pagefind-worker.js: the WASM and the
        # index chunks it loaded); the page holds only the results' data. Both are its memory.
        searcher = worker_heap(browser, "pagefind-worker")
    finally:
        context.close()
        server.shutdown()
    return {
        "answers": answers,
        "classes": score(queries, answers, *truth),
        "first_ms": first_ms,
        "first_kb": first_bytes / 1024,
        "ten_kb": ten_bytes / 1024,
        "all_kb": transfer.total() / 1024,
        "heap_mb": page_growth + (searcher or 0.0),
        "heap_worker_mb": searcher,
        "heap_page_mb": page_growth,
    }


def print_scale(lessons: int, results: dict[str, dict], builds: dict[str, float]) -> None:
    """One table per engine: the figures per class, then bytes, time and heap."""
    print(
        f"\n## {lessons} lessons (+ the bundled ones)  "
        + "  ".join(f"{k}={v:.1f}" for k, v in builds.items())
    )
    for engine, figures in results.items():
        print(f"\n### {engine}\n")
        print(
            "| class | queries | recall@10 | reach (≤10 更多) | presses | p@1 | p@1 (copy) "
            "| count shown | matching | count right | 约 | stray |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        # Pagefind is asked for its first ten only: it has no "更多结果" pass, so no reach.
        paged = "reached" in figures
        for name, c in figures["classes"].items():
            reach = f"{c['reach']:.2f} | {c['mean_presses']:.1f}" if paged else "— | —"
            print(
                f"| {name} | {c['queries']} | {c['recall']:.2f} | {reach}"
                f" | {c['precision_at_1']:.2f} | {c['precision_at_1_or_copy']:.2f} | {c['mean_results']:.1f}"
                f" | {c['mean_matching']:.1f} | {c['count_right']:.2f} | {c['count_about']:.2f} | {c['stray']} |"
            )
        print()
        for label, key, unit in (
            ("first query", "first_kb", "KB gzip"),
            ("ten queries", "ten_kb", "KB gzip"),
            ("all queries", "all_kb", "KB gzip"),
            ("更多结果 pass", "more_kb", "KB gzip"),
            ("first result", "first_ms", "ms"),
            ("heap", "heap_mb", "MB"),
            ("heap of its worker", "heap_worker_mb", "MB"),
            ("heap, the page's growth", "heap_page_mb", "MB"),
            ("heap after 更多结果", "heap_more_mb", "MB"),
        ):
            if figures.get(key) is not None:
                print(f"- {label}: {figures[key]:.1f} {unit}")


def run_scale(
    sizes: list[int], work: Path, also: list[str], pagefind: bool = True, binary: Path = PAGEFIND
) -> None:
    from playwright.sync_api import sync_playwright

    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    work.mkdir(parents=True, exist_ok=True)
    if pagefind and not binary.is_file():
        # Said out loud: a run without it is not the side-by-side the figures are read on
        # (a git worktree has no node_modules of its own).
        print(
            f"Pagefind skipped: {binary} is not there (npm ci, or --pagefind PATH to node_modules/.bin/pagefind)",
            file=sys.stderr,
        )
        pagefind = False
    for lessons in sizes:
        site, builds = build_scale_site(work, lessons)
        if pagefind:
            builds.update(build_pagefind(site, work / f"pf{lessons}", binary))
        manifest = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
        from builder.site.search_index import read_words

        # What the results are scored against: each page's text, the 繁体 map, the site's words.
        texts = texts_by_location(site)
        titles = {location: text.split("\n", 1)[0] for location, text in texts.items()}
        truth = (texts, manifest["config"]["kepu_variants"], read_words(site), titles)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-background-networking"],
            )
            results = {"kepu": measure_kepu_like(browser, site, truth, queries)}
            for spec in also:
                name, _, pattern = spec.partition("=")
                other = Path(pattern.replace("{N}", str(lessons)))
                results[name] = measure_kepu_like(browser, other, truth, queries)
            if pagefind:
                results["pagefind"] = measure_pagefind(browser, work / f"pf{lessons}", truth, queries)
            browser.close()
        print_scale(lessons, results, builds)
        (work / f"search-figures-{lessons}.json").write_text(
            json.dumps({"builds": builds, "queries": queries, **results}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )


def measure_kepu_like(browser, site: Path, truth: tuple, queries) -> dict:
    """Another build of the site with Kepu's search box (e.g. an older engine), scored on the same texts."""
    figures = measure_kepu_site(browser, site, queries)
    figures["classes"] = score(queries, figures["answers"], *truth, reached=figures["reached"])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site folder (default: build the bundled content)")
    parser.add_argument(
        "--verbose", action="store_true", help="print every query's figures and first results"
    )
    parser.add_argument(
        "--scale", type=int, nargs="+", metavar="N", help="lessons: Kepu beside Pagefind at each size"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "kepu-search-bench",
        help="where the scale corpora, sites and Pagefind copies are made and kept",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another built site with Kepu's search box to measure too ({N}: the size)",
    )
    parser.add_argument(
        "--pagefind",
        type=Path,
        default=PAGEFIND,
        metavar="PATH",
        help="Pagefind's extended binary (npm pagefind 1.6; default: this checkout's node_modules/.bin/pagefind)",
    )
    parser.add_argument(
        "--no-pagefind",
        action="store_true",
        help="Kepu only (Pagefind is also skipped, with a notice, when its binary is not there)",
    )
    args = parser.parse_args()
    if args.scale:
        run_scale(args.scale, args.work, args.also, pagefind=not args.no_pagefind, binary=args.pagefind)
        return 0
    if args.site:
        print_table(measure(args.site, args.verbose))
        return 0
    from builder.pipeline import build

    with tempfile.TemporaryDirectory() as tmp:
        build(REPO, out_dir=Path(tmp) / "public", only=["site"], cache_dir=Path(tmp) / "cache")
        print_table(measure(Path(tmp) / "public" / "site", args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
