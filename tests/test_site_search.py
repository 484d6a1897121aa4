"""Site search as a reader meets it (issue 15): Kepu's worker behind Material's search box.

Browser tests type Chinese the way an IME commits it (text inserted with no key
event) into the real search box of the bundled content's site on a 360 px phone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import needs_chromium, search, serve_folder

from builder.site.search_index import read_pages


@pytest.fixture(scope="module")
def bundled_url(bundled_site: Path) -> Iterator[str]:
    with serve_folder(bundled_site) as url:
        yield url


@pytest.fixture
def phone(browser, bundled_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.requested_hosts = set()
    page.on("request", lambda request: page.requested_hosts.add(urlparse(request.url).netloc))
    page.goto(bundled_url, wait_until="networkidle")
    yield page
    context.close()


def index_text(site: Path) -> str:
    """Everything the search pieces hold (builder/site/search_index.py): what a reader can search."""
    folder = site / "search"
    return "".join(path.read_text(encoding="utf-8") for path in sorted(folder.rglob("*.json"))).replace(
        "\u200b", ""
    )


def test_quiz_answers_and_explanations_are_not_in_the_index(bundled_site: Path):
    text = index_text(bundled_site)
    assert "正确答案" not in text
    assert "高血压" in text and "尘肺病" in text  # the lessons' text is there
    assert all(set(page) == {"l", "t", "x", "s"} for page in read_pages(bundled_site))  # no hidden tags


def test_lists_and_audience_links_are_not_indexed_as_lesson_text(bundled_site: Path):
    pages = read_pages(bundled_site)
    elderly = [page for page in pages if page["l"].startswith("audiences/elderly/")]
    assert elderly
    assert "量得准" not in json.dumps(elderly, ensure_ascii=False)  # a card's title
    lesson = next(page for page in pages if page["l"] == "lessons/heat-stroke/")
    assert "慢性病患者" not in json.dumps(lesson, ensure_ascii=False)  # the lesson's audience chip


@needs_chromium
def test_ime_typed_query_finds_the_hypertension_lesson_first(phone, bundled_url: str):
    results = search(phone, "高血压")
    assert results and "lessons/hypertension-basics/" in results[0], results
    assert not any("heat-stroke" in url for url in results[:1])
    assert phone.locator("[data-search-results] > li").count() == len(results)
    assert phone.requested_hosts == {urlparse(bundled_url).netloc}


@needs_chromium
def test_every_term_is_required_and_traditional_input_is_folded(phone):
    both = search(phone, "老年人 跌倒")
    assert "lessons/elderly-fall-prevention/" in both[0]
    assert len(both) <= 3, both
    assert "lessons/hypertension-basics/" in search(phone, "高血壓")[0]
    assert search(phone, "登革热") == []


@needs_chromium
def test_results_show_no_keyword_chips_and_mark_the_match(phone):
    search(phone, "疫苗")
    assert phone.locator(".md-search-result .md-tag").count() == 0
    marks = phone.locator(".md-search-result__article mark").evaluate_all(
        "marks => marks.map(m => m.textContent)"
    )
    assert marks and all(mark == "疫苗" for mark in marks)


def test_the_editors_dashboard_is_noindex_and_out_of_search_and_sitemap(bundled_site: Path):
    page = (bundled_site / "dashboard" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert not any(page["l"].startswith("dashboard") for page in read_pages(bundled_site))
    assert "dashboard" not in (bundled_site / "sitemap.xml").read_text(encoding="utf-8")
    assert "noindex" not in (bundled_site / "index.html").read_text(encoding="utf-8")


def matching_pages(site: Path, term: str) -> set[str]:
    """The pages whose text has ``term`` as the worker checks it: title, text and sections, lower case."""
    found = set()
    for page in read_pages(site):
        text = " \n ".join([page["t"], page["x"], *(f"{title} {body}" for _, title, body in page["s"])])
        if term in text.lower():
            found.add(page["l"])
    return found


@needs_chromium
def test_the_total_is_shown_and_more_results_load_until_every_match_is_listed(
    phone, bundled_site: Path, bundled_url: str
):
    expected = matching_pages(bundled_site, "健康")
    assert len(expected) > 30  # more than the first ten and one "更多结果"
    first = search(phone, "健康")
    meta = phone.locator(".md-search-result__meta")
    assert meta.inner_text().strip() == f"找到 {len(expected)} 篇"
    assert len(first) == 10
    more = phone.locator("button.kepu-search-more")
    assert more.is_visible() and f"还有 {len(expected) - 10} 篇" in more.inner_text()
    items = phone.locator("[data-search-results] > li")
    while more.is_visible():
        before = items.count()
        more.click()
        phone.wait_for_function(
            "(n) => document.querySelectorAll('[data-search-results] > li').length > n", arg=before
        )
        assert items.count() <= before + 20
        phone.wait_for_function("() => !document.querySelector('button.kepu-search-more').disabled")
    links = items.locator(":scope > a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")
    assert len(links) == len(set(links)) == len(expected)
    assert {urlparse(link).path.removeprefix("/") for link in links} == expected
    assert meta.inner_text().strip() == f"找到 {len(expected)} 篇"
    # An appended result is Material's markup: title, snippet with the match marked.
    assert items.nth(len(links) - 1).locator("article h1").count() == 1
    assert items.nth(len(links) - 1).locator("article mark").first.inner_text() == "健康"
    # A new query starts again from its own first ten, with its own count: 高血压 is looked up by
    # its pairs 高血 and 血压, so before every candidate is checked the count is an upper bound, "约".
    assert len(search(phone, "高血压")) == 10
    assert meta.inner_text().strip() in {
        f"找到{about} {len(matching_pages(bundled_site, '高血压'))} 篇" for about in ("", "约")
    }
    assert phone.requested_hosts == {urlparse(bundled_url).netloc}


@needs_chromium
def test_a_phrase_typed_without_its_punctuation_finds_the_lesson_and_marks_it(phone):
    # The title reads "认识高血压：量得准，管得住"; a reader types the phrase with no comma.
    results = search(phone, "量得准管得住")
    assert results and "lessons/hypertension-basics/" in results[0], results
    title = phone.locator(".md-search-result__article h1").first
    assert title.locator("mark").inner_text() == "量得准，管得住"
