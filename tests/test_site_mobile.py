"""The site on a phone (issue 9): offline after one visit, 长辈版, page weight, sharing, axe-core.

Playwright drives Debian's chromium emulating a 360×640 phone. The site is served
from a copy of ``public/`` (site in ``site/``, like a host publishing the whole
folder), with a stand-in flyer, video and group message for one lesson, as the
print, video and posts renderers would write them.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import REPO, TEXT_CONTRAST, needs_chromium, search, serve_folder
from PIL import Image

from builder.site.offline import search_pieces, write_offline_files

pytest.importorskip("playwright.sync_api")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = needs_chromium

LESSON = "lessons/hypertension-basics/"
OTHER_LESSON = "lessons/flu-vaccine/"  # no flyer, video or group message
GROUP_TEXT = "【认识高血压】\n• 不同日测3次才能诊断\n详细内容：https://health.example.org/lessons/hypertension-basics/\n"
BUDGET = 150 * 1024  # HTML + CSS + JS of a lesson page, gzip, without images and the search index


def publish(built_site: Path, dest: Path) -> Path:
    """A copy of public/ with the site and the share artifacts of one lesson."""
    shutil.copytree(built_site / "site", dest / "site")
    slug = LESSON.split("/")[1]
    flyer = dest / "print" / "lessons" / slug / "flyer.png"
    flyer.parent.mkdir(parents=True)
    buffer = io.BytesIO()
    Image.new("RGB", (210, 297), "#1f7a4d").save(buffer, "PNG")
    flyer.write_bytes(buffer.getvalue())
    video = dest / "video" / "lessons" / slug / "video.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 300_000)
    text = dest / "posts" / "lessons" / slug / "group.txt"
    text.parent.mkdir(parents=True)
    text.write_text(GROUP_TEXT, encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def public(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish(built_site, tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="module")
def site_url(public: Path) -> Iterator[str]:
    with serve_folder(public) as url:
        yield url + "site/"


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A fresh 360×640 phone (no service worker, no storage) that records every request."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2)
    context.requests = []
    context.on("request", lambda request: context.requests.append(request.url))
    yield context
    context.close()


def wait_until(page, script: str, arg: object = None, timeout: float = 15) -> None:
    """Poll an (async) page function until it is truthy; wait_for_function takes a promise as truthy."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        page.wait_for_timeout(100)


def wait_for_offline_ready(page, site_url: str) -> None:
    """Until the service worker controls the page and has saved the home page and search index."""
    wait_until(
        page,
        """async (root) => !!navigator.serviceWorker.controller
                           && !!(await caches.match(root + 'search/search_index.json'))
                           && !!(await caches.match(root))""",
        site_url,
    )


# ---- Weight ------------------------------------------------------------------------------


def test_lesson_page_is_within_the_weight_budget(built_site: Path):
    site = built_site / "site"
    page = site / LESSON / "index.html"
    html = page.read_text(encoding="utf-8")
    refs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    refs += re.findall(r'<script src="([^"]+)"', html)
    files = [page] + [(page.parent / ref).resolve() for ref in refs if "//" not in ref]
    assert any(f.suffix == ".css" for f in files) and any(f.suffix == ".js" for f in files)
    total = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    assert total <= BUDGET, f"{total / 1024:.0f} KB"


def test_lesson_images_are_phone_sized_webp_with_a_png_fallback_and_their_size(built_site: Path):
    html = (built_site / "site" / LESSON / "index.html").read_text(encoding="utf-8")
    picture = re.search(r"<picture>.*?</picture>", html).group(0)
    assert '<source srcset="../../media/bp.webp" type="image/webp">' in picture
    tag = re.search(r"<img [^>]*>", picture).group(0)
    assert 'src="../../media/bp.png"' in tag and 'alt="血压计"' in tag
    assert 'width="64"' in tag and 'height="40"' in tag and 'loading="lazy"' in tag
    for name, fmt in (("bp.webp", "WEBP"), ("bp.png", "PNG")):
        with Image.open(built_site / "site" / "media" / name) as image:
            assert image.format == fmt and image.size == (64, 40)


def test_large_photos_are_resized_to_phone_width(tmp_path: Path):
    from builder.site.images import encode_image, phone_image

    photo = tmp_path / "media" / "photo.jpg"
    photo.parent.mkdir()
    Image.effect_noise((2000, 1500), 60).convert("RGB").save(photo, "JPEG", quality=95)
    plan = phone_image(tmp_path, "media/photo.jpg")
    assert (plan.path, plan.width, plan.height, plan.webp) == ("media/photo.jpg", 720, 540, None)
    data = encode_image(photo, (plan.width, plan.height), "JPEG")
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (720, 540) and image.format == "JPEG"
    assert len(data) < photo.stat().st_size / 4


def test_service_worker_manifest_is_deterministic_and_lists_the_shell(built_site: Path, tmp_path: Path):
    site = tmp_path / "site"
    shutil.copytree(built_site / "site", site)
    before = [(site / name).read_bytes() for name in ("sw.js", "offline-files.json")]
    write_offline_files(site)  # the same site gives the same bytes
    assert [(site / name).read_bytes() for name in ("sw.js", "offline-files.json")] == before
    sw = (site / "sw.js").read_text(encoding="utf-8")
    manifest = json.loads(re.search(r"^const MANIFEST = (.*);$", sw, re.MULTILINE).group(1))
    shell = manifest["shell"]
    assert {"assets/kepu.css", "assets/kepu.js", "assets/images/favicon.png"} <= set(
        shell
    )  # no logo: the default icon
    for prefix in (
        "assets/javascripts/bundle.",
        "assets/stylesheets/main.",
    ):
        assert any(path.startswith(prefix) for path in shell), prefix
    assert "assets/kepu-search-worker.js" in shell  # offline search: Kepu's worker, no lunr files
    assert not any("lunr" in path for path in shell)
    # Small: the search manifest and all its pieces are saved right after the first visit.
    pieces = search_pieces(site)
    assert manifest["data"] == pieces and len(pieces) > 20 and pieces[0] == "search/search_index.json"
    listing = json.loads((site / "offline-files.json").read_text(encoding="utf-8"))
    assert (
        listing["lessons"] == 3
        and [LESSON, (site / LESSON / "index.html").stat().st_size] in listing["pages"]
    )
    assert ["media/bp.webp", (site / "media" / "bp.webp").stat().st_size] in listing["media"]
    assert all([path, (site / path).stat().st_size] in listing["data"] for path in pieces)  # "save all"
    # A large index (1,000 lessons: about 3 MB compressed): its pieces wait until searches fetch them.
    (site / pieces[-1]).write_text(json.dumps(secrets.token_urlsafe(800_000)), encoding="utf-8")
    write_offline_files(site)
    sw = (site / "sw.js").read_text(encoding="utf-8")
    assert json.loads(re.search(r"^const MANIFEST = (.*);$", sw, re.MULTILINE).group(1))["data"] == pieces[:1]


def test_search_index_loads_only_when_the_reader_searches(phone, site_url: str):
    """The page does not load it; the service worker saves it in the background for offline search."""
    page = phone.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(site_url + LESSON, wait_until="networkidle")
    assert not [url for url in requests if "search" in urlparse(url).path]
    results = search(page, "袖带")
    assert any(LESSON in url for url in results), results
    assert any(url.endswith("search/search_index.json") for url in requests)


# ---- Offline -----------------------------------------------------------------------------


def test_visited_pages_and_search_work_offline_after_one_visit(phone, site_url: str):
    page = phone.new_page()
    page.goto(site_url, wait_until="networkidle")
    wait_for_offline_ready(page, site_url)
    page.goto(site_url + LESSON, wait_until="networkidle")
    wait_until(
        page,
        "async (url) => !!(await caches.match(url)) && !!(await caches.match(new URL('../../media/bp.webp', url).href))",
        site_url + LESSON,
    )

    phone.set_offline(True)
    page.goto(site_url + LESSON)
    assert page.locator("h1").first.inner_text().startswith("认识高血压")
    assert page.locator(".kepu-points li").count() >= 3
    assert page.evaluate("() => document.querySelector('.md-content img').naturalWidth") == 64
    page.goto(site_url)
    assert page.locator("h1").first.is_visible()
    results = search(page, "袖带")
    assert any(LESSON in url for url in results), results
    # A page never opened: the offline page, with what is saved and a way back.
    page.goto(site_url + OTHER_LESSON)
    assert "offline/" in page.url
    assert page.locator("h1").inner_text().startswith("没有网络")
    page.wait_for_selector(".kepu-saved-list a")
    saved = page.locator(".kepu-saved-list a").evaluate_all("links => links.map(a => a.href)")
    assert site_url + LESSON in saved
    assert page.locator(".kepu-retry-link a").get_attribute("href") == site_url + OTHER_LESSON
    assert {urlparse(url).netloc for url in phone.requests} == {urlparse(site_url).netloc}


def test_save_all_shows_the_size_first_then_saves_every_lesson(phone, site_url: str):
    page = phone.new_page()
    page.goto(site_url, wait_until="networkidle")
    wait_for_offline_ready(page, site_url)
    page.locator(".kepu-offline-save").click()
    status = page.locator(".kepu-offline-status")
    page.wait_for_function("() => document.querySelector('.kepu-offline-status').textContent.includes('MB')")
    assert "需下载约" in status.inner_text() and "3 课" in status.inner_text()
    assert not any(
        OTHER_LESSON in url for url in phone.requests
    )  # nothing downloaded before the reader agrees
    page.locator(".kepu-offline-confirm").click()
    page.wait_for_function(
        "() => document.querySelector('.kepu-offline-status').textContent.includes('全部课程已保存')"
    )
    phone.set_offline(True)
    page.goto(site_url + OTHER_LESSON)
    assert page.locator("h1").first.inner_text().startswith("流感")


def test_a_new_build_is_picked_up_on_the_next_visit(built_site: Path, browser, tmp_path: Path):
    public = publish(built_site, tmp_path)
    with serve_folder(public) as base:
        url = base + "site/"
        context = browser.new_context(viewport={"width": 360, "height": 640})
        try:
            page = context.new_page()
            page.goto(url, wait_until="networkidle")
            wait_for_offline_ready(page, url)
            old = page.evaluate("async () => (await caches.keys()).filter(n => n.includes('shell-'))")
            # The next build changes a shell file: sw.js gets a new version.
            css = public / "site" / "assets" / "kepu.css"
            css.write_text(
                css.read_text(encoding="utf-8") + "\n.kepu-new-build { color: red; }\n", encoding="utf-8"
            )
            write_offline_files(public / "site")
            page.goto(url + LESSON, wait_until="networkidle")  # the visit that finds the update
            wait_until(
                page,
                "async (old) => { const names = await caches.keys();"
                " return names.some(n => n.includes('shell-')) && !names.includes(old); }",
                old[0],
            )
            context.set_offline(True)
            page.goto(url + LESSON)
            cached_css = page.evaluate("async () => (await (await fetch('../../assets/kepu.css')).text())")
            assert ".kepu-new-build" in cached_css
        finally:
            context.close()


# ---- 长辈版 ------------------------------------------------------------------------------

TARGETS = """
() => [...document.querySelectorAll('a[href], button, summary, label[for], [role=button], input:not([type=hidden]), select')]
  .filter((el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true }))
  .map((el) => { const r = el.getBoundingClientRect();
                 return [r.width, r.height, el.tagName + '.' + el.className + ' ' + el.textContent.trim().slice(0, 20)]; })
"""


def test_elder_mode_text_spacing_targets_and_contrast_on_a_lesson_page(phone, site_url: str):
    page = phone.new_page()
    page.goto(site_url + LESSON, wait_until="networkidle")
    switch = page.locator("button.kepu-text-size")
    assert switch.inner_text() == "长辈版"
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    metrics = page.evaluate(
        """() => {
          const style = (sel) => getComputedStyle(document.querySelector(sel));
          const p = style('.md-content .md-typeset p');
          return { font: parseFloat(p.fontSize), line: parseFloat(p.lineHeight),
                   h1: parseFloat(style('.md-typeset h1').fontSize), h2: parseFloat(style('.md-typeset h2').fontSize),
                   li: parseFloat(style('.md-typeset li').fontSize) };
        }"""
    )
    assert metrics["font"] >= 20 and metrics["li"] >= 20
    assert metrics["line"] >= 1.5 * metrics["font"]
    assert metrics["h1"] > metrics["h2"] > metrics["font"]
    small = [(w, h, name) for w, h, name in page.evaluate(TARGETS) if w < 60 or h < 60]
    assert not small
    low = [(ratio, name) for ratio, name in page.evaluate(TEXT_CONTRAST) if ratio < 4.5]
    assert not low
    # No animations or transitions, and no tooltip pop-ups.
    moving = page.evaluate(
        """() => [...document.querySelectorAll('*')].filter((el) => {
             const s = getComputedStyle(el);
             return (s.animationName !== 'none' && s.animationDuration !== '0s')
                 || s.transitionDuration.split(',').some((d) => parseFloat(d) > 0);
           }).length"""
    )
    assert moving == 0
    # Remembered on the next page, applied before the first paint.
    page.goto(site_url + OTHER_LESSON, wait_until="domcontentloaded")
    assert page.evaluate("() => document.documentElement.classList.contains('kepu-large')")


# Records what would be spoken (headless chromium has no voices).
SPEECH_STUB = """
window.__spoken = [];
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
  getVoices: () => [{ lang: 'zh-CN', name: 'stub' }],
  speak: (u) => { window.__spoken.push(u.text); if (u.onstart) u.onstart(); },
  cancel: () => { window.__cancelled = true; }, addEventListener: () => {} } });
Object.defineProperty(window, 'SpeechSynthesisUtterance', { configurable: true,
  value: function (text) { this.text = text; } });
"""
NO_SPEECH = """
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: undefined });
Object.defineProperty(window, 'SpeechSynthesisUtterance', { configurable: true, value: undefined });
"""


def test_read_aloud_speaks_the_lesson_in_chinese(phone, site_url: str):
    phone.add_init_script(SPEECH_STUB)
    page = phone.new_page()
    page.goto(site_url + LESSON, wait_until="networkidle")
    button = page.locator("button.kepu-read")
    assert button.is_visible()
    button.click()
    spoken = page.evaluate("() => window.__spoken")
    assert spoken[0].startswith("认识高血压")
    assert any("收缩压≥140" in text for text in spoken)  # a key point
    assert not any("审核" in text for text in spoken)  # not the reviewer line or the share panel
    assert not any("分享本课" in text for text in spoken)
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator(".kepu-reading").count() == 1
    button.click()
    assert page.evaluate("() => window.__cancelled") is True
    assert button.get_attribute("aria-pressed") == "false"


def test_read_aloud_is_hidden_without_speech_synthesis(phone, site_url: str):
    phone.add_init_script(NO_SPEECH)
    page = phone.new_page()
    page.goto(site_url + LESSON, wait_until="networkidle")
    assert page.evaluate("() => window.speechSynthesis") is None
    assert page.locator("button.kepu-read").is_hidden()


# ---- Sharing -----------------------------------------------------------------------------


def test_share_panel_offers_qr_flyer_video_and_group_text(phone, site_url: str):
    phone.grant_permissions(["clipboard-read", "clipboard-write"])
    page = phone.new_page()
    page.goto(site_url + LESSON, wait_until="networkidle")
    assert not [url for url in phone.requests if "flyer.png" in url]  # nothing loaded before the reader asks
    page.locator(".kepu-share summary").click()
    assert page.locator(".kepu-share svg.qr[role=img]").is_visible()
    assert (
        "https://health.example.org/lessons/hypertension-basics/"
        in page.locator(".kepu-share-url").inner_text()
    )
    page.wait_for_selector(".kepu-share-flyer img", state="visible")
    assert page.locator(".kepu-share-flyer img").evaluate("img => img.naturalWidth") == 210
    page.wait_for_selector(".kepu-share-video a", state="visible")
    assert "MB" in page.locator(".kepu-share-video a").inner_text()
    page.wait_for_selector(".kepu-group-text", state="visible")
    assert page.locator(".kepu-group-text").inner_text() == GROUP_TEXT.strip()
    page.locator(".kepu-copy").click()
    page.wait_for_function("() => document.querySelector('.kepu-copy-status').textContent.includes('已复制')")
    assert page.evaluate("() => navigator.clipboard.readText()") == GROUP_TEXT.strip()


def test_share_panel_shows_only_what_exists(phone, site_url: str):
    page = phone.new_page()
    page.goto(site_url + OTHER_LESSON, wait_until="networkidle")
    page.locator(".kepu-share summary").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".kepu-share svg.qr").is_visible()
    for part in (".kepu-share-flyer", ".kepu-share-video", ".kepu-share-text"):
        assert page.locator(part).is_hidden()


def test_share_panel_of_a_site_deployed_alone(phone, built_site: Path, tmp_path: Path):
    """public/site uploaded on its own to a domain's root (site.url), print/, video/, posts/ beside its folders."""
    alone = tmp_path / "alone"
    shutil.copytree(built_site / "site", alone)
    with serve_folder(alone) as url:
        page = phone.new_page()
        page.goto(url + LESSON, wait_until="networkidle")
        page.locator(".kepu-share summary").click()
        page.wait_for_load_state("networkidle")
        # Without the other outputs: the QR code and the lesson's own address, nothing broken.
        assert page.locator(".kepu-share svg.qr").is_visible()
        assert page.locator(".kepu-share-url").inner_text() == "https://health.example.org/" + LESSON
        for part in (".kepu-share-flyer", ".kepu-share-video", ".kepu-share-text"):
            assert page.locator(part).is_hidden()
        assert {urlparse(request).netloc for request in phone.requests} == {urlparse(url).netloc}
    # The page links them from site.url, where builder/outputs.py puts them.
    lesson = (built_site / "site" / LESSON / "index.html").read_text(encoding="utf-8")
    slug = LESSON.split("/")[1]
    for path in (f"print/lessons/{slug}/flyer.png", f"video/lessons/{slug}/video.mp4"):
        assert f'href="https://health.example.org/{path}"' in lesson
    assert f'data-src="../../../posts/lessons/{slug}/group.txt"' in lesson  # the same place, from the page
    # With the outputs uploaded beside it, the panel shows them, loaded from where the site is.
    publish(built_site, tmp_path / "beside")
    beside = tmp_path / "beside"
    for item in (beside / "site").iterdir():
        shutil.move(str(item), beside / item.name)
    with serve_folder(beside) as url:
        page = phone.new_page()
        page.goto(url + LESSON, wait_until="networkidle")
        page.locator(".kepu-share summary").click()
        page.wait_for_selector(".kepu-share-flyer img", state="visible")
        page.wait_for_selector(".kepu-group-text", state="visible")
        page.wait_for_selector(".kepu-share-video a", state="visible")
        assert page.locator(".kepu-group-text").inner_text() == GROUP_TEXT.strip()
        links = page.locator(".kepu-share-link").evaluate_all("links => links.map(a => a.href)")
        assert links == [url + f"print/lessons/{slug}/flyer.png", url + f"video/lessons/{slug}/video.mp4"]


def test_pages_run_their_scripts_without_an_error_and_the_dashboard_counts_review_days(phone, site_url: str):
    """kepu.js once called showReviewAge from a scope that could not see it: an error on every page."""
    page = phone.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    for path in ("", LESSON, "dashboard/"):
        page.goto(site_url + path, wait_until="networkidle")
    ages = page.locator(".kepu-review-age").all_inner_texts()
    assert ages and all(re.fullmatch(r"\d+ 天", age) for age in ages), ages
    assert errors == []


def test_dashboard_is_cards_on_a_phone_and_stays_out_of_search_engines(phone, site_url: str):
    page = phone.new_page()
    page.goto(site_url + "dashboard/", wait_until="networkidle")
    assert page.locator("meta[name=robots]").get_attribute("content") == "noindex, nofollow"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    cards = page.evaluate(
        """() => [...document.querySelectorAll('.kepu-dash-lessons tbody tr')].map((tr) => {
             const r = tr.getBoundingClientRect();
             const cells = [...tr.children].filter((td) => td.checkVisibility());
             return { display: getComputedStyle(tr).display, left: r.left, right: r.right,
                      scroll: tr.scrollWidth <= tr.clientWidth,
                      labels: cells.slice(1).map((td) => getComputedStyle(td, '::before').content),
                      stacked: cells.every((td, i) => i === 0 || td.getBoundingClientRect().top
                                                       >= cells[i - 1].getBoundingClientRect().bottom - 1) };
           })"""
    )
    assert len(cards) == 3  # one per lesson
    for card in cards:
        assert card["display"] == "block" and card["left"] >= 0 and card["right"] <= 360 and card["scroll"]
        assert card["stacked"]  # one cell under another, not columns
        assert card["labels"][:2] == ['"人群"', '"可读性得分（上限）"']  # each cell named by its column
    # The table's header row is there for screen readers, out of sight.
    assert page.locator(".kepu-dash-lessons thead").count() == 1
    assert not page.locator(".kepu-dash-lessons thead").is_visible() or page.evaluate(
        "() => document.querySelector('.kepu-dash-lessons thead').getBoundingClientRect().width <= 1"
    )
    # On a wide screen it is the table again.
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('.kepu-dash-lessons tr')).display"
    ) == ("table-row")


# ---- axe-core ----------------------------------------------------------------------------

AXE_PAGES = ["", LESSON, "audiences/elderly/", "campaigns/dust-month/", "quizzes/hypertension-quiz/"]


AXE_RUN = (
    "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    ".map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3) }))"
)


@pytest.mark.skipif(not AXE.exists(), reason="node_modules missing: run `npm ci` (make does)")
@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_axe_finds_no_violation_of_any_impact(phone, site_url: str, elder: bool):
    """Minor and moderate too, on the pages a reader opens and on the search results, both modes."""
    if elder:
        phone.add_init_script("localStorage.setItem('kepu-large-text', '1')")
    page = phone.new_page()
    problems = {}
    for path in AXE_PAGES:
        response = page.goto(site_url + path, wait_until="networkidle")
        assert response.ok and page.locator("h1").count(), path
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        if violations:
            problems[path or "home"] = violations
    # The search dialog open, with results.
    page.goto(site_url, wait_until="networkidle")
    assert search(page, "血压")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN)
    if violations:
        problems["search results"] = violations
    assert not problems
