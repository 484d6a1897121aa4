"""The site draws in the one brand palette of builder/brand.py (issue 14): the shades a
reader sees on screen are the ones print and posts use, for any brand colour.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE, TODAY, needs_chromium, serve_folder

from builder.brand import brand_palette, brand_rgb
from builder.pipeline import build

PURPLE = "#6a2c91"  # not the default green: a site that computed its own shades would differ


@pytest.fixture(scope="module")
def purple_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("brand") / "project"
    shutil.copytree(FIXTURE, root)
    config = root / "site_config.yml"
    text = config.read_text(encoding="utf-8")
    assert 'color: "#1f7a4d"' in text
    config.write_text(text.replace('color: "#1f7a4d"', f'color: "{PURPLE}"', 1), encoding="utf-8")
    build(root, only=["site"], today=TODAY)
    return root / "public" / "site"


def rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*brand_rgb(colour))


@needs_chromium
def test_the_site_shows_the_shared_palette_of_the_brand_colour(browser, purple_site: Path):
    palette = brand_palette(PURPLE)
    assert len({palette.color, palette.dark, palette.tint}) == 3
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        with serve_folder(purple_site) as url:
            page.goto(url + "lessons/hypertension-basics/", wait_until="networkidle")
            seen = page.evaluate(
                """() => {
                    const style = (selector, property) => {
                        const node = document.querySelector(selector);
                        return node ? getComputedStyle(node)[property] : null;
                    };
                    return {
                        header: style('.md-header', 'backgroundColor'),
                        tag: style('.kepu-tag--audience', 'backgroundColor'),
                        tagText: style('.kepu-tag--audience', 'color'),
                        points: style('.kepu-points > .admonition-title', 'backgroundColor'),
                    };
                }"""
            )
            assert seen == {
                "header": rgb(palette.color),
                "tag": rgb(palette.tint),
                "tagText": rgb(palette.dark),
                "points": rgb(palette.tint),
            }
            # 长辈版 links are the palette's dark shade, the one printed headings use.
            page.evaluate("document.documentElement.classList.add('kepu-large')")
            link = page.evaluate(
                "getComputedStyle(document.querySelector('.md-content .md-typeset p a[href]')).color"
            )
            assert link == rgb(palette.dark)
    finally:
        context.close()


def test_a_hostile_palette_never_reaches_the_style_element():
    from builder.site.guard import DEFAULT_PALETTE, PageGuard

    class Config(dict):
        """The two attributes and four keys PageGuard.on_config reads of MkDocs' config."""

        site_url = None

    config = Config({key: "" for key in ("site_name", "site_description", "site_author", "copyright")})
    config.extra = {"kepu_brand": {"color": "red;}</style><script>alert(1)</script>", "dark": "#000000"}}
    guarded = PageGuard(nonce="0" * 32).on_config(config)
    assert guarded.extra["kepu_brand"] == {
        "color": DEFAULT_PALETTE.color,
        "dark": DEFAULT_PALETTE.dark,
        "tint": DEFAULT_PALETTE.tint,
        "soft": DEFAULT_PALETTE.soft,
    }
