"""长辈版 as an older reader sees it on a 360 px phone (issue 15): every text at least 20 px on
every kind of page, the header title wrapped rather than cut, quiz answers said in words.

Playwright drives Debian's chromium; the fixture project's site is served on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import needs_chromium, search, serve_folder

pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

ELDER = "localStorage.setItem('kepu-large-text', '1')"

# Every visible element with text of its own (not only whitespace), with its computed font
# size: [size, description]. The drawer counts too (it is in the page, slid aside).
TEXT_SIZES = """
() => [...document.querySelectorAll('body *')]
  .filter((el) => !['SCRIPT', 'STYLE', 'TEMPLATE', 'svg'].includes(el.tagName))
  .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .filter((el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true }))
  .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
  .map((el) => [parseFloat(getComputedStyle(el).fontSize),
                (el.closest('.md-footer') ? 'footer ' : '') + el.tagName + '.' + el.className + ' ' + el.textContent.trim().slice(0, 20)])
"""

# The site name in the header: its text box and whether anything of it is cut or ellipsised.
HEADER_TITLE = """
() => {
  const name = document.querySelector('.md-header__topic:first-child .md-ellipsis');
  const style = getComputedStyle(name);
  const box = name.getBoundingClientRect();
  const header = [...document.querySelectorAll('.md-header__inner > *')]
    .filter((el) => el.checkVisibility()).map((el) => el.getBoundingClientRect().right);
  return { text: name.textContent.trim(), scroll: name.scrollWidth, client: name.clientWidth,
           scrollHeight: name.scrollHeight, clientHeight: name.clientHeight,
           overflow: style.textOverflow, clip: style.overflowX + ' ' + style.overflowY, whiteSpace: style.whiteSpace, lines: Math.round(box.height / parseFloat(style.lineHeight)),
           right: Math.max(...header), visible: name.checkVisibility({ opacityProperty: true }) };
}
"""

PAGES = {
    "home": "",
    "audience": "audiences/elderly/",
    "topics": "topics/",
    "lesson": "lessons/hypertension-basics/",
    "quiz": "quizzes/hypertension-quiz/",
    "campaign": "campaigns/dust-month/",
    "campaigns": "campaigns/",
    "search": "?高血压",
}


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    with serve_folder(built_site / "site") as url:
        yield url


@pytest.fixture
def elder(browser) -> Iterator[object]:
    """A 360 px phone with 长辈版 switched on before the first page."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2)
    context.add_init_script(ELDER)
    page = context.new_page()
    yield page
    context.close()


def open_page(page, site_url: str, path: str) -> None:
    if path.startswith("?"):
        page.goto(site_url, wait_until="networkidle")
        assert search(page, path[1:])
        return
    page.goto(site_url + path, wait_until="networkidle")
    if path.startswith("quizzes/") and path != "quizzes/":
        # Answer every question wrongly where possible, then check: feedback, marks and explanations show.
        for question in page.locator(".kepu-question").all():
            question.locator(".kepu-option").first.click()
        page.locator(".kepu-check-all").click()


@pytest.mark.parametrize("kind", list(PAGES))
def test_every_visible_text_is_at_least_20px_in_elder_mode(elder, site_url: str, kind: str):
    open_page(elder, site_url, PAGES[kind])
    assert elder.evaluate("() => document.documentElement.classList.contains('kepu-large')")
    sizes = elder.evaluate(TEXT_SIZES)
    assert len(sizes) > 10
    if kind != "search":  # the search overlay covers the footer
        assert any(name.startswith("footer ") for _, name in sizes)  # the footer is measured too
    if kind == "campaign":
        assert elder.locator(".md-typeset table td").count() > 4  # tables are measured too
    if kind == "quiz":
        assert elder.locator(".kepu-mark").count() >= 3
    small = [(size, name) for size, name in sizes if size < 20]
    assert not small


def test_standard_mode_is_unchanged_small_print_exists(browser, site_url: str):
    """The check above can fail: without 长辈版 the footer and tables are smaller than 20 px."""
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    page.goto(site_url + PAGES["campaign"], wait_until="networkidle")
    assert any(size < 20 for size, _ in page.evaluate(TEXT_SIZES))
    context.close()


@pytest.mark.parametrize("name", [None, "社区卫生服务中心健康科普课堂"], ids=["site-name", "long-name"])
def test_header_title_wraps_instead_of_being_cut(elder, site_url: str, name: str | None):
    open_page(elder, site_url, PAGES["lesson"])
    if name:  # a longer site name than the fixture's, as a real centre's would be
        elder.evaluate(
            "(name) => { document.querySelector('.md-header__topic:first-child .md-ellipsis').textContent = name; }",
            name,
        )
    elder.mouse.wheel(0, 600)  # scrolled: Material would swap in the page title; 长辈版 keeps the name
    elder.wait_for_timeout(200)
    title = elder.evaluate(HEADER_TITLE)
    assert title["visible"]
    assert title["scroll"] <= title["client"] and title["scrollHeight"] <= title["clientHeight"] + 1
    assert title["clip"] == "visible visible"
    assert title["overflow"] != "ellipsis" and title["whiteSpace"] == "normal"
    assert title["right"] <= 360  # nothing in the header runs off the screen (the 长辈版 switch included)
    if name:
        assert title["text"] == name and title["lines"] >= 2


@pytest.mark.parametrize("large", [False, True], ids=["standard", "elder"])
def test_a_wrong_answer_is_red_with_words_and_the_right_one_is_named(browser, site_url: str, large: bool):
    context = browser.new_context(viewport={"width": 360, "height": 640})
    if large:
        context.add_init_script(ELDER)
    page = context.new_page()
    page.goto(site_url + PAGES["quiz"], wait_until="networkidle")
    options = page.locator("#q1 .kepu-option")
    options.nth(0).click()  # wrong: the answer is B
    page.locator("#q1 .kepu-check").click()
    wrong, right = options.nth(0), options.nth(1)
    assert wrong.locator(".kepu-mark").inner_text() == "✗ 你的选择，错误"
    assert right.locator(".kepu-mark").inner_text() == "✓ 正确答案"
    assert options.nth(2).locator(".kepu-mark").count() == 0

    def border(option) -> list[int]:
        color = option.evaluate("el => getComputedStyle(el).borderTopColor")
        return [int(v) for v in color.strip("rgba()").split(",")[:3]]

    # The wrong choice red, not the green of a chosen option; the right one green.
    red, green = border(wrong), border(right)
    assert red[0] > 2 * red[1] and green[1] > 2 * green[0]
    for option in (wrong, right):  # each mark inside its option's box, on a 360 px screen
        box, mark = option.bounding_box(), option.locator(".kepu-mark").bounding_box()
        assert box["x"] <= mark["x"] and mark["x"] + mark["width"] <= box["x"] + box["width"] + 0.5
    # A right answer names itself as the reader's choice; trying again clears every mark.
    options.nth(1).click()
    page.locator("#q1 .kepu-check").click()
    assert right.locator(".kepu-mark").inner_text() == "✓ 你的选择，正确"
    assert wrong.locator(".kepu-mark").count() == 0
    page.locator(".kepu-retry").click()
    assert page.locator(".kepu-mark").count() == 0
    context.close()
