"""WeChat's dark mode: the conversion the preview shows, and text contrast in both modes.

The contrast is measured in headless chromium from the rendered styles: for every
text node, its computed colour over the backgrounds of its ancestors composited in
order, the WCAG ratio of the two.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE, TODAY
from lxml import html as lxml_html

from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.renderers import posts
from builder.templates import make_environment
from builder.wechat_dark import (
    PAGE,
    WHITE,
    contrast,
    dark_article,
    dark_text,
    parse_colour,
    readable_text_colour,
)

CONTRAST_MIN = 4.5

# Every text node under each element the selector matches: its text, colour, background, ratio.
CONTRASTS_JS = r"""
(roots) => {
  function parse(c) {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(',').map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, bottom) {
    return [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  }
  function luminance(c) {
    const ch = c.slice(0, 3).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  }
  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const b = parse(getComputedStyle(e).backgroundColor);
      if (b[3] > 0) layers.push(b);
      if (b[3] >= 1) break;
    }
    let c = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) c = over(layers[i], c);
    return c;
  }
  const out = [];
  for (const root of roots) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      const bg = background(el);
      const fg = over(parse(getComputedStyle(el).color), bg);
      const l1 = luminance(fg), l2 = luminance(bg);
      out.push({
        root: root.id, text: n.textContent.trim().slice(0, 40), color: getComputedStyle(el).color,
        background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')',
        ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05),
      });
    }
  }
  return out;
}
"""


def text_contrasts(page, selector: str) -> list[dict]:
    """Every text node under ``selector`` on the open page, with its measured contrast."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    return page.locator(selector).evaluate_all(CONTRASTS_JS)


def too_faint(measured: list[dict]) -> list[dict]:
    """One example of each colour pair under 4.5:1."""
    found: dict[tuple[str, str], dict] = {}
    for item in measured:
        if item["ratio"] < CONTRAST_MIN:
            found.setdefault((item["color"], item["background"]), item)
    return list(found.values())


def preview_page(articles: dict[str, str]) -> str:
    """Articles side by side as the posts index shows them: light on white, dark on WeChat's dark page."""
    parts = []
    for name, content in articles.items():
        parts.append(
            f'<div id="light-{name}" style="width:645px;padding:16px;background:#ffffff">{content}</div>'
        )
        parts.append(
            f'<div id="dark-{name}" style="width:645px;padding:16px;background:#191919;color:#a3a3a3">'
            f"{dark_article(content)}</div>"
        )
    return '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>' + "".join(parts)


# -- the conversion -----------------------------------------------------------------


def colour_of(style: str, name: str) -> str:
    declarations = dict(part.split(":", 1) for part in style.split(";") if ":" in part)
    return declarations[name].strip()


def test_white_panels_go_dark_and_grey_text_goes_light():
    html = dark_article(
        '<section style="color:#3f3f3f;background-color:#ffffff">'
        '<p style="color:#ffffff;background-color:#1f7a4d">白字</p>'
        '<p style="background-color:rgba(31,122,77,0.07)">无色字</p>'
        '<p style="border:1px solid rgba(31,122,77,0.35);margin:0">边框</p></section>'
    )
    section = lxml_html.fragment_fromstring(html)
    assert colour_of(section.get("style"), "background-color") == "rgb(25, 25, 25)"  # white → the dark page
    assert colour_of(section.get("style"), "color") == "rgb(163, 163, 163)"  # #3f3f3f → WeChat's dark text
    white, tinted, bordered = section
    assert colour_of(white.get("style"), "color") == "rgb(255, 255, 255)"  # white text is kept
    assert colour_of(white.get("style"), "background-color") == "rgb(31, 122, 77)"  # a mid colour is kept
    # A tint stays a tint, over the dark page now.
    assert colour_of(tinted.get("style"), "background-color") == "rgba(31, 122, 77, 0.07)"
    assert "color" in dict(p.split(":", 1) for p in tinted.get("style").split(";"))  # text colour added
    assert "margin:0" in bordered.get("style") and "rgba(" in colour_of(bordered.get("style"), "border")


def test_named_colours_are_converted_like_any_other():
    # A project's own styles may say "red" or "White": WeChat reads them as the colours they name.
    html = dark_article('<p style="color:red;border-bottom:1px solid Gray;background-color:WHITE">x</p>')
    style = lxml_html.fragment_fromstring(html).get("style")
    assert colour_of(style, "background-color") == "rgb(25, 25, 25)"
    assert colour_of(style, "color") != "red" and colour_of(style, "color").startswith("rgb(255, ")
    # Grey is 103 brighter than the dark page, more than the 65 asked: kept.
    assert colour_of(style, "border-bottom") == "1px solid rgb(128, 128, 128)"


def test_text_too_close_to_its_background_is_moved_away():
    # Dark green on the dark page: its lightness is mirrored, so it becomes a light green.
    green = parse_colour("#1f7a4d")
    assert green is not None
    converted = dark_text(green, PAGE)
    assert converted.green > converted.red and converted.green > converted.blue
    assert converted.brightness - PAGE.brightness >= 65


@pytest.mark.parametrize(
    "brand", ["#1f7a4d", "#ffd400", "#ff9900", "#e91e63", "#2b6cb0", "#00bcd4", "#999999"]
)
def test_readable_text_colour_reads_in_both_modes(brand: str):
    shade = parse_colour(readable_text_colour(brand))
    assert shade is not None
    assert contrast(shade, WHITE) >= CONTRAST_MIN
    assert contrast(dark_text(shade, PAGE), PAGE) >= CONTRAST_MIN
    if brand == "#1f7a4d":
        assert readable_text_colour(brand) == brand  # a colour that reads is not touched


# -- measured in a browser ----------------------------------------------------------


@pytest.mark.parametrize("brand", ["#1f7a4d", "#ffd400"])
def test_fixture_articles_read_in_light_and_dark_mode(browser, tmp_path: Path, brand: str):
    """The fixture lessons' articles with the default green and with a light yellow brand colour."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    config = root / "site_config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('color: "#1f7a4d"', f'color: "{brand}"'), encoding="utf-8")
    project = load_project(root, Diagnostics(), TODAY)
    assert project is not None and project.config.brand_color == brand
    env = make_environment(project, autoescape=True)
    styles = posts.post_styles(project.config, env)
    neighbours = posts.Neighbours.of(project)
    articles = {
        lesson.slug: posts.build_post(posts.post_job(project, lesson, neighbours), env, styles, Diagnostics()).content
        for lesson in project.lessons
    }
    page = browser.new_page()
    try:
        page.set_content(preview_page(articles))
        for mode in ("light", "dark"):
            measured = text_contrasts(page, f"[id^={mode}-]")
            assert len(measured) >= 15 * len(articles), mode  # every paragraph, not an empty page
            assert not too_faint(measured), (mode, too_faint(measured))
    finally:
        page.close()
