"""The site search as a reader meets it: the query set in bench/search_queries.json.

Builds the bundled content's site (or takes a built one with --site), serves it,
and types every query into the real search box of a 360 px phone in headless
chromium, so the figures are those of the engine the site ships, whatever it is.
Prints, per query class: recall (share of the right lessons in the first 10
results), precision@1 (the first result is a right lesson; for an absent term:
no result at all), and the mean number of results.

    .venv/bin/python bench/bench_search.py [--site public/site] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from conftest import CHROMIUM, serve_folder  # noqa: E402

QUERIES = REPO / "bench" / "search_queries.json"


def run_query(page, query: str) -> tuple[list[str], int]:
    """Type ``query`` as a keyboard would (Material's own engine reads keyup); the result slugs and count."""
    box = page.locator("input.md-search__input")
    box.fill("")
    box.press("End")
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
    return slugs, total


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
            slugs, total = run_query(page, item["query"])
            expect = [f"lessons/{slug}" for slug in item["expect"]]
            top10 = slugs[:10]
            if expect:
                recall = sum(slug in top10 for slug in expect) / len(expect)
                first = 1.0 if slugs and slugs[0] in expect else 0.0
            else:
                recall = first = 1.0 if total == 0 else 0.0
            per_class[item["class"]].append((recall, first, total))
            if verbose:
                print(f"{item['class']:12} {item['query']:10} recall={recall:.2f} p@1={first:.0f} n={total} {top10[:3]}")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site folder (default: build the bundled content)")
    parser.add_argument("--verbose", action="store_true", help="print every query's figures and first results")
    args = parser.parse_args()
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
