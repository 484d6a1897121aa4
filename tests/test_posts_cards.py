"""Pictures of the posts: covers that differ per lesson, legible thumbnails, image-post cards."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from conftest import REPO, TODAY
from PIL import Image, ImageChops, ImageStat
from test_posts import TRICKY_LESSON, _photo

from builder import post_cards, post_pictures
from builder.brand import contrast_ratio
from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project
from builder.renderers import posts
from builder.search_terms import user_dictionary

# Mean absolute difference (0–255, over the channels) of two covers shrunk to 90×38.
# The 30 bundled covers measured 12.0 at the least (two lessons of one topic), 42.4 at the
# median; one lesson's cover with another title measures 4.6 (the old covers differed by that).
COVER_DIFFERENCE_MIN = 10.0


@pytest.fixture
def bundled(bundled_posts: Path) -> Path:
    """The bundled content built with only the posts renderer, once per session (conftest);
    today=None there too: the review dates of the content in work stay valid."""
    return bundled_posts


def entries(out: Path, kind: str) -> list[dict]:
    artifacts = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["artifacts"]
    return [entry for entry in artifacts if entry["kind"] == kind]


def downscaled(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB").resize((90, 38), Image.Resampling.BOX)


def difference(first: Image.Image, second: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def test_covers_of_any_two_bundled_lessons_differ(bundled: Path):
    covers = {entry["path"]: downscaled(bundled / entry["path"]) for entry in entries(bundled, "post-cover")}
    assert len(covers) >= 12
    closest = min(
        (difference(covers[a], covers[b]), a, b) for a, b in itertools.combinations(sorted(covers), 2)
    )
    assert closest[0] >= COVER_DIFFERENCE_MIN, closest


def test_every_bundled_article_has_a_picture(bundled: Path):
    for entry in entries(bundled, "post-json"):
        fields = json.loads((bundled / entry["path"]).read_text(encoding="utf-8"))
        assert "<img " in fields["content"], entry["path"]
        for image in fields["kepu"]["images"]:  # every picture the article names is there to upload
            assert (bundled / image["path"]).is_file(), image
            assert f'src="{image["src"]}"' in fields["content"], image


def test_thumbnail_titles_are_at_least_48_px():
    project = load_project(REPO, Diagnostics())
    assert project is not None
    words = tuple(user_dictionary(project))
    for lesson in project.lessons:
        chosen = post_pictures.thumb_layout(words, posts.post_title(lesson))
        assert chosen is not None, lesson.slug  # never the pictogram alone for a bundled title
        _, layout = chosen
        assert layout.font.size >= 48 and len(layout.lines) <= 5, lesson.slug
    long = post_pictures.thumb_layout(words, "一" * 32)
    assert long is not None and long[1].font.size >= 48  # the longest title the API allows


def test_cards_for_every_lesson_within_the_api_limits(bundled: Path):
    project = load_project(REPO, Diagnostics())
    assert project is not None
    cards = {entry["path"] for entry in entries(bundled, "post-card")}
    built = {entry["path"].split("/")[2] for entry in entries(bundled, "post-newspic-json")}
    assert len(built) >= 12
    for lesson in project.lessons:
        if lesson.slug not in built:  # a lesson added to the checkout since the build
            continue
        fields = json.loads(
            (bundled / f"posts/lessons/{lesson.slug}/post-newspic.json").read_text(encoding="utf-8")
        )
        assert fields["article_type"] == "newspic"
        assert 0 < len(fields["title"]) <= 32
        assert "<" not in fields["content"] and 0 < len(fields["content"]) <= post_cards.NEWSPIC_TEXT_MAX
        for point in lesson.points:
            if point.urgent:
                assert point.text in fields["content"], lesson.slug
        images = fields["kepu"]["images"]
        assert 1 <= len(images) <= 20 and len(images) == len(lesson.points) + 2
        assert images == [f"posts/lessons/{lesson.slug}/cards/{n:02d}.jpg" for n in range(1, len(images) + 1)]
        for path in images:
            assert path in cards
            with Image.open(bundled / path) as card:
                assert (card.format, card.size) == ("JPEG", (1080, 1440))
                assert not card.getexif()
            assert (bundled / path).stat().st_size < 1_000_000  # well under add_material's 10 MB


def test_an_urgent_point_card_is_marked_red(project: Path, tmp_path: Path):
    (project / "content/lessons/tricky.md").write_text(
        TRICKY_LESSON.replace("  - 第三个要点：表格要能横向滚动\n", "  - 胸痛不缓解，马上打120\n"),
        encoding="utf-8",
    )
    _photo(project / "media/photo.jpg")
    out = tmp_path / "out"
    build(project, out, only=["posts"], today=TODAY)
    folder = out / "posts/lessons/tricky/cards"
    assert sorted(path.name for path in folder.iterdir()) == [
        "01.jpg",
        "02.jpg",
        "03.jpg",
        "04.jpg",
        "05.jpg",
    ]
    with Image.open(folder / "04.jpg") as urgent, Image.open(folder / "03.jpg") as plain:
        red, green, blue = urgent.convert("RGB").getpixel((20, 20))  # the band across the top
        assert red > 150 and green < 80 and blue < 80
        assert plain.convert("RGB").getpixel((20, 20)) != urgent.convert("RGB").getpixel((20, 20))
    newspic = json.loads((out / "posts/lessons/tricky/post-newspic.json").read_text(encoding="utf-8"))
    assert "3. ⚠️ 胸痛不缓解，马上打120" in newspic["content"]


def test_cards_are_reused_when_nothing_changed(project: Path, tmp_path: Path):
    build(project, tmp_path / "a", only=["posts"], today=TODAY)
    again = build(project, tmp_path / "b", only=["posts"], today=TODAY)
    before = {entry["path"]: entry["sha256"] for entry in entries(tmp_path / "a", "post-card")}
    assert (
        before
        and {entry["path"]: entry["sha256"] for entry in entries(tmp_path / "b", "post-card")} == before
    )
    assert again.reused >= len(before), again.reused


def test_topic_palette_is_deterministic_and_readable():
    project = load_project(REPO, Diagnostics())
    assert project is not None
    for lesson in project.lessons:
        art = post_pictures.LessonArt.of(project, lesson, ())
        palette = post_pictures.topic_palette(art)
        assert palette == post_pictures.topic_palette(post_pictures.LessonArt.of(project, lesson, ()))
        assert contrast_ratio(palette.base, (255, 255, 255)) >= 4.5, lesson.slug
