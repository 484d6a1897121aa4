"""The built site in a real headless browser (Playwright driving Debian's chromium)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import TEXT_CONTRAST, needs_chromium, search, serve_folder

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    with serve_folder(built_site / "site") as url:
        yield url


@pytest.fixture
def page(browser, site_url: str) -> Iterator[object]:
    """A phone-sized page that records every request it makes."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    page = context.new_page()
    page.requested_hosts = set()
    page.on("request", lambda request: page.requested_hosts.add(urlparse(request.url).netloc))
    yield page
    context.close()


def test_pages_load_with_no_request_to_another_host(page, site_url: str):
    host = urlparse(site_url).netloc
    for path in ("", "lessons/hypertension-basics/", "audiences/elderly/"):
        page.goto(site_url + path, wait_until="networkidle")
        assert page.locator("h1").first.is_visible()
    assert page.requested_hosts == {host}


def test_search_finds_a_word_from_inside_one_lesson_body(page, site_url: str):
    page.goto(site_url + "audiences/elderly/", wait_until="networkidle")
    # 袖带定位法 appears only in the body of the hypertension lesson, mid-sentence.
    results = search(page, "袖带")
    assert any("lessons/hypertension-basics/" in url for url in results), results
    assert not any("flu-vaccine" in url for url in results)


def test_search_finds_short_words_inside_glossary_terms(page, site_url: str):
    page.goto(site_url, wait_until="networkidle")
    results = search(page, "疫苗")  # in the text only as part of the single word 流感疫苗
    assert any("lessons/flu-vaccine/" in url for url in results), results
    results = search(page, "尘肺病")
    assert any("lessons/dust-pneumoconiosis/" in url for url in results), results


def test_body_text_is_at_least_16px_and_large_text_switch_is_remembered(page, site_url: str):
    page.goto(site_url + "lessons/hypertension-basics/", wait_until="networkidle")
    size = "() => parseFloat(getComputedStyle(document.querySelector('.md-content .md-typeset p')).fontSize)"
    assert page.evaluate(size) >= 16
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    switch = page.locator("button.kepu-text-size")
    assert switch.get_attribute("aria-pressed") == "false"
    switch.click()
    assert page.evaluate(size) >= 20
    assert switch.inner_text() == "长辈版" and switch.get_attribute("aria-pressed") == "true"  # one name
    page.goto(site_url + "lessons/flu-vaccine/", wait_until="networkidle")
    assert page.evaluate(size) >= 20
    assert page.locator("button.kepu-text-size").get_attribute("aria-pressed") == "true"


def test_text_contrast_is_at_least_4_5(page, site_url: str):
    page.goto(site_url + "lessons/hypertension-basics/", wait_until="networkidle")
    ratios = page.evaluate(TEXT_CONTRAST)
    assert len(ratios) > 20
    low = [(ratio, element) for ratio, element in ratios if ratio < 4.5]
    assert not low


def test_quiz_checks_answers_explains_and_scores(page, site_url: str):
    page.goto(site_url + "quizzes/hypertension-quiz/", wait_until="networkidle")
    # Question 1 right (single choice), by keyboard: focus the option and press space.
    page.locator("#q1 input[value='1']").focus()
    page.keyboard.press("Space")
    page.locator("#q1 .kepu-check").click()
    assert page.locator("#q1 .kepu-feedback").inner_text() == "✔ 回答正确！"
    assert page.locator("#q1 .kepu-explanation").is_visible()
    assert "收缩压≥140" in page.locator("#q1 .kepu-explanation").inner_text()
    # Question 2 wrong: a multiple-choice question needs every correct option.
    page.locator("#q2 .kepu-option").nth(0).click()
    page.locator("#q2 .kepu-check").click()
    assert page.locator("#q2 .kepu-feedback").inner_text() == "✘ 回答错误。"
    assert "不能自行停药" in page.locator("#q2 .kepu-explanation").inner_text()
    assert page.locator("#q2 .kepu-option--correct").count() == 2
    # Question 3: a true/false question answered with the 错 button.
    page.locator("#q3 .kepu-option", has_text="错").click()
    page.locator(".kepu-check-all").click()
    assert page.locator(".kepu-score").inner_text().startswith("得分：67 分（答对 2 / 3 题）")
    # Try again clears everything.
    page.locator(".kepu-retry").click()
    assert page.locator(".kepu-score").inner_text() == ""
    assert not page.locator("#q1 .kepu-explanation").is_visible()
    assert page.locator("input:checked").count() == 0
    # Large touch targets on a phone.
    box = page.locator("#q1 .kepu-option").first.bounding_box()
    assert box["height"] >= 44


def test_quiz_interface_words_are_not_in_the_search_index(built_site: Path):
    from builder.site.search_index import read_pages

    index = json.dumps(read_pages(built_site / "site"), ensure_ascii=False)
    assert "流感疫苗" in index
    for ui_text in ("检查这道题", "再做一次", "算分"):
        assert ui_text not in index
