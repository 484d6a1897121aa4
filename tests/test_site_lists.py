"""Lesson lists as a reader sees them: one card per lesson on every listing page (issue 15).

A missing blank line in the card macro once folded every lesson of a page into a
single card ("老年人、残疾人 - 认识高血压…"); these tests read the built HTML the way
the browser lays it out, not the Markdown Kepu writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, TODAY, needs_chromium, serve_folder
from lxml import html

from builder.diagnostics import Diagnostics
from builder.project import load_project


def listing_pages(site: Path) -> list[Path]:
    """Home, the audience and topic index pages and every audience/topic page, the quiz and campaign lists."""
    pages = [site / "index.html"]
    for folder in ("audiences", "topics"):
        pages += sorted((site / folder).glob("**/index.html"))
    pages += [site / folder / "index.html" for folder in ("quizzes", "campaigns") if (site / folder).is_dir()]
    return pages


@pytest.fixture(scope="module")
def lessons_by_slug() -> dict[str, object]:
    project = load_project(REPO, Diagnostics(), today=TODAY)
    return {lesson.slug: lesson for lesson in project.lessons}


def test_every_card_holds_exactly_one_lesson_with_title_summary_and_audiences(bundled_site: Path, lessons_by_slug):
    cards_seen = 0
    for page in listing_pages(bundled_site):
        tree = html.parse(str(page))
        for card in tree.xpath("//div[contains(@class, 'kepu-cards')]/ul/li"):
            where = f"{page.relative_to(bundled_site)}: {card.text_content().strip()[:60]}"
            links = [a.get("href") for a in card.xpath(".//a[contains(@href, 'lessons/')]")]
            assert len(links) == 1, where
            slug = links[0].rstrip("/").rsplit("/", 1)[-1]
            lesson = lessons_by_slug[slug]
            paragraphs = [p.text_content().strip() for p in card.xpath("./p")]
            assert paragraphs[0] == lesson.title, where
            assert paragraphs[1] == lesson.summary, where
            assert card.xpath("string(.//span[@class='kepu-card-meta'])") == "、".join(
                term.label for term in lesson.audiences
            ), where
            assert len(paragraphs) == 3, where  # nothing of the next lesson glued on
            cards_seen += 1
    assert cards_seen > 30


def test_an_audience_page_lists_each_of_its_lessons_once(bundled_site: Path, lessons_by_slug):
    project = load_project(REPO, Diagnostics(), today=TODAY)
    for term in project.config.audiences.terms:
        page = bundled_site / "audiences" / term.id / "index.html"
        tree = html.parse(str(page))
        cards = tree.xpath("//div[contains(@class, 'kepu-cards')]/ul/li")
        assert len(cards) == len(project.lessons_for(term)), term.id


def test_quiz_and_campaign_lists_have_one_link_per_item(bundled_site: Path):
    for folder in ("quizzes", "campaigns"):
        tree = html.parse(str(bundled_site / folder / "index.html"))
        items = tree.xpath("//article//ul/li")
        assert items, folder
        for item in items:
            assert len(item.xpath(".//a[not(contains(@class, 'headerlink'))]")) == 1, item.text_content()


@pytest.fixture(scope="module")
def bundled_url(bundled_site: Path) -> Iterator[str]:
    with serve_folder(bundled_site) as url:
        yield url


@needs_chromium
def test_cards_do_not_merge_on_a_360px_phone(browser, bundled_url: str, bundled_site: Path):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for path in ("", "audiences/elderly/", "topics/chronic-disease/"):
            page.goto(bundled_url + path, wait_until="networkidle")
            cards = page.evaluate(
                """() => [...document.querySelectorAll('.kepu-cards > ul > li')].map((li) => ({
                    links: li.querySelectorAll('a[href*="lessons/"]').length,
                    height: li.getBoundingClientRect().height,
                    text: li.innerText,
                }))"""
            )
            assert len(cards) >= 2, path
            for card in cards:
                assert card["links"] == 1, card["text"]
                assert " - " not in card["text"] and "\n-" not in card["text"], card["text"]
            # Separate boxes, one under the other, none hiding the others.
            boxes = page.evaluate(
                "() => [...document.querySelectorAll('.kepu-cards > ul > li')].map((li) => li.getBoundingClientRect().top)"
            )
            assert len(set(boxes)) == len(boxes), path
    finally:
        context.close()
