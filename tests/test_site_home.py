"""The home page as a reader opens it on a 360 px phone (issue 15): what runs now first,
audience chips folded after six, recent lessons as cards with their pictures.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURE, TODAY, needs_chromium, serve_folder

from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers.site import write_pages
from builder.site.home import build_date, featured

MORE_AUDIENCES = [
    ("residents", "社区居民"),
    ("women", "妇女/孕产妇"),
    ("teachers", "教师"),
    ("sanitation-workers", "环卫工人"),
    ("gig-workers", "新就业形态劳动者"),
    ("employees", "企业职工"),
]


def campaign_month_project(root: Path) -> Path:
    """The fixture with ten audiences and its newest review inside the dust campaign's month."""
    shutil.copytree(FIXTURE, root)
    config = root / "site_config.yml"
    text = config.read_text(encoding="utf-8")
    extra = "".join(f"  - {{id: {term}, label: {label}}}\n" for term, label in MORE_AUDIENCES)
    config.write_text(text.replace("topics:\n", extra + "topics:\n", 1), encoding="utf-8")
    lesson = root / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("reviewed_on: 2026-09-15", "reviewed_on: 2026-05-10"),
        encoding="utf-8",
    )
    return root


def loaded(root: Path):
    diagnostics = Diagnostics()
    project = load_project(root, diagnostics, today=TODAY)
    assert not diagnostics.errors
    return project


def test_featured_is_the_campaign_running_then_the_next_then_the_newest_lesson():
    project = loaded(FIXTURE)
    recent = sorted(project.lessons, key=lambda lesson: lesson.reviewed_on, reverse=True)
    assert build_date(project) == dt.date(2026, 9, 15)  # the newest review, not the clock
    running = featured(project, dt.date(2026, 5, 10), recent)
    assert running.campaign.slug == "dust-month" and running.running
    assert running.next_activity is None or running.next_activity.date >= dt.date(2026, 5, 10)
    ahead = featured(project, dt.date(2026, 4, 1), recent)
    assert ahead.campaign.slug == "dust-month" and not ahead.running
    assert ahead.next_activity == min(ahead.campaign.activities, key=lambda a: a.date)
    after = featured(project, dt.date(2026, 9, 15), recent)
    assert after.campaign is None and after.lesson.slug == "flu-vaccine"


def test_the_same_content_gives_the_same_home_page(tmp_path: Path):
    project = loaded(FIXTURE)
    pages = []
    for name in ("a", "b"):
        write_pages(project, tmp_path / name, nonce="0" * 32)
        pages.append((tmp_path / name / "index.md").read_bytes())
    assert pages[0] == pages[1]
    assert "推荐课程" in pages[0].decode()


@pytest.fixture(scope="module")
def campaign_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = campaign_month_project(tmp_path_factory.mktemp("home") / "project")
    build(root, only=["site"], today=TODAY)
    return root / "public" / "site"


@pytest.fixture
def phone(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


@needs_chromium
def test_the_campaign_of_the_month_is_first_and_above_the_fold(phone, campaign_site: Path):
    with serve_folder(campaign_site) as url:
        phone.goto(url, wait_until="networkidle")
        block = phone.locator(".kepu-featured")
        assert block.locator(".kepu-featured-label").inner_text() == "正在进行的宣传活动"
        link = block.locator(".kepu-featured-title a")
        assert link.inner_text() == "2026年工地职业健康宣传月"
        assert link.get_attribute("href").rstrip("/").endswith("campaigns/dust-month")
        box = block.bounding_box()
        assert box["y"] < 640 and box["y"] + box["height"] <= 640 + 100  # starts on the first screen
        # Before the chips: the first thing under the site's description.
        chips = phone.locator(".kepu-chips").first.bounding_box()
        assert box["y"] < chips["y"]
        block.locator("a.md-button").click()
        phone.wait_for_load_state()
        assert phone.url.endswith("campaigns/dust-month/")


@needs_chromium
def test_audience_chips_fold_after_six_behind_more(phone, campaign_site: Path):
    with serve_folder(campaign_site) as url:
        phone.goto(url, wait_until="networkidle")
        section = phone.locator("h2", has_text="按人群找课程").locator("xpath=following-sibling::*[1]")
        assert section.locator("a.kepu-chip").count() == 6
        more = phone.locator("details.kepu-more").first
        summary = more.locator("summary")
        assert summary.inner_text().startswith("更多人群") and "4" in summary.inner_text()
        folded = more.locator("a.kepu-chip")
        assert folded.count() == 4 and not folded.first.is_visible()
        summary.click()
        assert folded.first.is_visible()
        labels = phone.locator("a.kepu-chip").all_inner_texts()
        assert any(label.startswith("企业职工") for label in labels)


@needs_chromium
def test_recent_lessons_are_cards_with_their_first_picture(phone, built_site: Path):
    with serve_folder(built_site / "site") as url:
        phone.goto(url, wait_until="networkidle")
        # The fixture's newest lesson (no campaign ahead of its date) is featured.
        assert phone.locator(".kepu-featured .kepu-featured-label").inner_text() == "推荐课程"
        assert "流感与疫苗接种" in phone.locator(".kepu-featured").inner_text()
        cards = phone.locator(".kepu-cards li")
        assert cards.count() == 3
        pictured = phone.locator(".kepu-cards li", has=phone.locator("img.kepu-card-image"))
        assert pictured.count() == 1  # only the hypertension lesson has a picture
        card = pictured.first
        assert "认识高血压" in card.inner_text()
        image = card.locator("img.kepu-card-image")
        image.scroll_into_view_if_needed()
        phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.get_attribute("alt") == ""  # decorative: the title follows
        assert re.search(r"media/bp\.(png|webp)$", image.evaluate("img => img.currentSrc"))
        box, card_box = image.bounding_box(), card.bounding_box()
        assert card_box["x"] <= box["x"] and box["x"] + box["width"] <= card_box["x"] + card_box["width"]
        assert box["height"] > 50
        # The picture is above the title, inside the one card.
        title = card.locator("a", has_text="认识高血压").bounding_box()
        assert box["y"] < title["y"]
        # The audience pages' cards carry it too (raw HTML, so its path is relative to the built page).
        phone.goto(url + "audiences/elderly/", wait_until="networkidle")
        image = phone.locator("img.kepu-card-image").first
        image.scroll_into_view_if_needed()
        phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
