"""Shared fixtures: a small content project, copied per test, and one built site per session."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import shutil
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "project"
REPO = Path(__file__).resolve().parent.parent
# Fixed "today" so review-age warnings do not depend on when the suite runs.
TODAY = dt.date(2026, 12, 1)


# -- spreading the files over the test workers (make test: -n auto --dist loadfile) ---------

# Files that read one session-wide build go to one worker, so the build is made once.
SHARED_BUILDS = {
    "tests/test_posts.py": "bundled-posts",  # bundled_posts
    "tests/test_group_text.py": "bundled-posts",
    "tests/test_posts_cards.py": "bundled-posts",
    "tests/test_video.py": "video-build",  # test_video.built
    "tests/test_video_sound.py": "video-build",
    "tests/test_site_lists.py": "bundled-site",  # bundled_site
    "tests/test_site_search.py": "bundled-site",
    "tests/test_browser.py": "fixture-site",  # built_site
    "tests/test_build.py": "fixture-site",
    "tests/test_site_elder.py": "fixture-site",
    "tests/test_site_home.py": "fixture-site",
    "tests/test_site_mobile.py": "fixture-site",
}
# The longest groups start first (longest processing time first, from --durations): the last
# ones to start are short, so the two workers finish together instead of one waiting while
# the other runs a four-minute file it was handed last. The rest keep the collection order.
LONGEST_FIRST = (
    "tests/test_print_bundled.py",
    "tests/test_cli.py",
    "tests/test_hostile_output.py",
    "video-build",
    "bundled-posts",
    "fixture-site",
    "tests/test_print.py",
    "tests/test_cache.py",
    "tests/test_fuzz_parsers.py",
    "tests/test_hostile_posts_print.py",
    "tests/test_wechat_publish.py",
    "tests/test_scale.py",
)


def worker_group(nodeid: str) -> str:
    """What one worker runs together: the files of a shared build, else the test's file."""
    path = nodeid.split("::")[0]
    return SHARED_BUILDS.get(path, path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {group: index for index, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(worker_group(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """--dist loadfile with the shared-build groups, in the collection order above.

    (Not --dist loadgroup: with pytest 9 its group names never reach the scheduler, and it
    spreads the tests of one file, and so the file's module fixtures, over both workers.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedBuildScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    # xdist would reorder the groups by their number of tests, which puts the few-test,
    # four-minute files last.
    config.option.loadscopereorder = False
    return SharedBuildScheduling(config, log)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private, writable copy of the fixture project."""
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    return dest


@pytest.fixture
def write(project: Path) -> Callable[[str, str], Path]:
    """Write a file into the project copy; text is dedented so tests read naturally."""

    def _write(rel: str, text: str) -> Path:
        dest = project / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return dest

    return _write


@pytest.fixture
def diagnose(project: Path) -> Callable[[], list[str]]:
    """Validate the project copy; return every diagnostic as its printed line."""

    def _diagnose() -> list[str]:
        diagnostics = Diagnostics()
        load_project(project, diagnostics, today=TODAY)
        return [str(d) for d in diagnostics.sorted()]

    return _diagnose


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project built once for the whole session; returns the output folder."""
    root = tmp_path_factory.mktemp("built") / "project"
    shutil.copytree(FIXTURE, root)
    build(root, only=["site"], today=TODAY)
    return root / "public"


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled content (content/ of this repository) built once, outside the checkout; the site folder."""
    out = tmp_path_factory.mktemp("bundled")
    build(REPO, out_dir=out / "public", only=["site"], today=TODAY, cache_dir=out / "cache")
    return out / "public" / "site"


@pytest.fixture(scope="session")
def bundled_posts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled content built once with only the posts renderer; the output folder.

    today=None: the content's review dates move on with the calendar. Its own cache folder
    keeps the checkout's .kepu-cache out of it, so parallel test workers never share one.
    """
    if not (REPO / "content" / "lessons").is_dir():
        pytest.skip("no bundled content in this checkout")
    out = tmp_path_factory.mktemp("bundled-posts")
    build(REPO, out / "public", only=["posts"], today=None, cache_dir=out / "cache")
    return out / "public"


# -- browser tests ------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # A browser that drops a request it no longer needs (a page closed mid-load) is not a
        # failure; anything else still prints its traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian chromium for every browser test (Playwright cannot download browsers here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def search(page, query: str) -> list[str]:
    """Type ``query`` into the site's search box (opening it on a phone); the result links."""
    box = page.locator("input.md-search__input")
    if not box.is_visible():
        page.locator("label.md-header__button[for=__search]").click()
    box.fill("")
    box.focus()
    if page.locator(".md-search-result__meta").is_visible():
        # The last query's answer must be gone first, or a slow machine reads it as this one's.
        page.wait_for_function("() => /键入/.test(document.querySelector('.md-search-result__meta').textContent)")
    # As an IME commits Chinese: text inserted with no key event (kepu-search.js searches on input).
    page.keyboard.insert_text(query)
    page.wait_for_selector(".md-search-result__meta", state="visible")
    # Not "正在初始化" nor "键入以开始搜索": this query's answer, which may wait for index pieces.
    page.wait_for_function(
        "() => !/正在|键入/.test(document.querySelector('.md-search-result__meta').textContent)"
    )
    page.wait_for_timeout(300)
    return page.locator(".md-search-result__item > a").evaluate_all("links => links.map(a => a.href)")


# Contrast ratio (WCAG) of every visible text element of the header, content and footer,
# as [ratio, description] pairs; alpha colours are blended over their real background.
TEXT_CONTRAST = """
() => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (color) => color.match(/[\\d.]+/g).map(Number);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const texts = [...document.querySelectorAll('.md-header, .md-main, .md-footer')]
    .flatMap((part) => [...part.querySelectorAll('*')])
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true }));
  return texts.map((el) => {
    let [r, g, b, a] = parse(getComputedStyle(el).color);
    const bg = background(el);
    if (a !== undefined) { r = r * a + bg[0] * (1 - a); g = g * a + bg[1] * (1 - a); b = b * a + bg[2] * (1 - a); }
    const [l1, l2] = [luminance([r, g, b]), luminance(bg)].sort((x, y) => y - x);
    return [(l1 + 0.05) / (l2 + 0.05), el.tagName + '.' + el.className + ' ' + el.textContent.trim().slice(0, 20)];
  });
}
"""
