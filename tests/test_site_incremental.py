"""The incremental site (issue 22): a one-lesson edit rebuilds that page, and gives a full build's bytes.

The workspace kept in the cache folder (builder/site/workspace.py) lets MkDocs skip
the pages whose Markdown did not change. Each test edits a copy of the fixture
project, builds it twice through the workspace, and holds the result to a build of
the same content with no cache at all, file by file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from builder.pipeline import build
from builder.site.workspace import STATE, WORKSPACE
from tests.conftest import FIXTURE, TODAY

pytestmark = pytest.mark.slow

LESSON = "content/lessons/flu-vaccine.md"


def site_files(out: Path) -> dict[str, bytes]:
    site = out / "site"
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in site.rglob("*") if path.is_file()}


def built_pages(cache: Path) -> dict[str, int]:
    """Each page MkDocs built into the workspace, with its modification time."""
    out = cache / WORKSPACE / "out"
    return {path.relative_to(out).as_posix(): path.stat().st_mtime_ns for path in out.rglob("index.html")}


def site_build(project: Path, out: Path, cache: Path | None) -> list[str]:
    result = build(
        project, out, only=["site"], today=TODAY, cache_dir=cache, use_cache=cache is not None
    )
    assert not result.diagnostics.errors
    return [str(item) for item in result.diagnostics.sorted()]


def assert_same_as_full_build(project: Path, tmp_path: Path, incremental: Path, warnings: list[str]) -> None:
    full = tmp_path / "full-out"
    full_warnings = site_build(project, full, None)
    assert warnings == full_warnings
    got, expected = site_files(incremental), site_files(full)
    assert sorted(got) == sorted(expected)
    different = [rel for rel in expected if got[rel] != expected[rel]]
    assert different == []
    assert (incremental / "manifest.json").read_bytes() == (full / "manifest.json").read_bytes()
    shutil.rmtree(full)


def rebuilt_after(project: Path, tmp_path: Path, edit) -> tuple[Path, list[str], list[str]]:
    """Build, apply ``edit(lesson_text) -> lesson_text`` to the lesson, build again through the
    same workspace: the output, the second build's warnings and the pages MkDocs built again."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    before = built_pages(cache)
    lesson = project / LESSON
    lesson.write_text(edit(lesson.read_text(encoding="utf-8")), encoding="utf-8")
    warnings = site_build(project, out, cache)
    after = built_pages(cache)
    return out, warnings, sorted(page for page in after if after[page] != before.get(page))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    # A link to a page that does not exist: MkDocs warns about it on a page the edits leave alone.
    hypertension = dest / "content/lessons/hypertension-basics.md"
    hypertension.write_text(
        hypertension.read_text(encoding="utf-8") + "\n另见[旧的一课](../lessons/no-such-lesson.md)。\n",
        encoding="utf-8",
    )
    return dest


def test_a_body_edit_rebuilds_that_page_and_gives_the_full_builds_bytes(project: Path, tmp_path: Path):
    out, warnings, rebuilt = rebuilt_after(
        project, tmp_path, lambda text: text + "\n打完疫苗在接种点留观30分钟，没有不舒服再离开。\n"
    )
    # The lesson, and the dashboard (it analyses every lesson); the listings show only the
    # title and summary, which did not change, so they are not built again.
    assert rebuilt == ["dashboard/index.html", "lessons/flu-vaccine/index.html"]
    assert any("no-such-lesson" in warning for warning in warnings)  # the skipped page still says it
    # The new sentence is found by search: the index has the edited page's new entries.
    assert "留观30分钟" in json.dumps(
        [json.loads(p.read_text(encoding="utf-8")) for p in (out / "site/search").rglob("p/*.json")],
        ensure_ascii=False,
    )
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_title_edit_rebuilds_the_listings_that_show_it(project: Path, tmp_path: Path):
    out, warnings, rebuilt = rebuilt_after(
        project, tmp_path, lambda text: text.replace("title: ", "title: 秋冬必读：", 1)
    )
    assert "lessons/flu-vaccine/index.html" in rebuilt and "index.html" in rebuilt
    assert "lessons/hypertension-basics/index.html" not in rebuilt
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_new_lesson_or_a_new_template_is_a_full_build(project: Path, tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    before = built_pages(cache)
    shutil.copy(project / LESSON, project / "content/lessons/flu-vaccine-2.md")
    warnings = site_build(project, out, cache)
    after = built_pages(cache)
    assert all(after[page] != before[page] for page in before)  # the set of pages changed: all of them
    assert "lessons/flu-vaccine-2/index.html" in after
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_tampered_workspace_is_not_trusted(project: Path, tmp_path: Path):
    """A built page changed in the cache folder (a planted script) means a full build, never a publish."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    planted = cache / WORKSPACE / "out/lessons/hypertension-basics/index.html"
    planted.write_text(
        planted.read_text(encoding="utf-8").replace("</body>", "<script>alert(1)</script></body>"),
        encoding="utf-8",
    )
    lesson = project / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n接种后当天别剧烈运动。\n", encoding="utf-8")
    warnings = site_build(project, out, cache)
    assert "<script>alert(1)" not in (out / "site/lessons/hypertension-basics/index.html").read_text(encoding="utf-8")
    assert_same_as_full_build(project, tmp_path, out, warnings)

    # A state record that is not what Kepu writes is ignored the same way.
    (cache / WORKSPACE / STATE).write_text('{"format": 1, "structure": []}', encoding="utf-8")
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n发烧了先告诉医生。\n", encoding="utf-8")
    warnings = site_build(project, out, cache)
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_build_that_finds_the_workspace_in_use_builds_in_full_on_its_own(project: Path, tmp_path: Path):
    """Two builds with one cache folder: the second does not build into the first one's workspace."""
    import fcntl
    import os

    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    state = (cache / WORKSPACE / STATE).read_bytes()
    lesson = project / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n接种前吃饱饭。\n", encoding="utf-8")
    lock = os.open(cache / f"{WORKSPACE}.lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another build holds it
        warnings = site_build(project, out, cache)
    finally:
        os.close(lock)
    assert (cache / WORKSPACE / STATE).read_bytes() == state  # left as the other build has it
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_link_planted_in_the_workspace_never_leads_a_page_into_content(project: Path, tmp_path: Path):
    """A workspace whose docs/lessons is a link to content/lessons (its state forged to match) is not used."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    content_before = {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()}
    lessons = cache / WORKSPACE / "src/docs/lessons"
    shutil.rmtree(lessons)
    lessons.symlink_to(project / "content/lessons", target_is_directory=True)
    lesson = project / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n接种后多喝水。\n", encoding="utf-8")
    content_before[lesson] = lesson.read_bytes()
    warnings = site_build(project, out, cache)
    assert {p: p.read_bytes() for p in (project / "content").rglob("*") if p.is_file()} == content_before
    assert not lessons.is_symlink()
    assert_same_as_full_build(project, tmp_path, out, warnings)


def test_a_page_changed_with_its_modification_time_put_back_is_still_found(project: Path, tmp_path: Path):
    """The workspace trusts a file's identity (size, times, inode); writing it moves the change time."""
    import os

    cache, out = tmp_path / "cache", tmp_path / "out"
    site_build(project, out, cache)
    planted = cache / WORKSPACE / "out/lessons/hypertension-basics/index.html"
    before = planted.stat()
    text = planted.read_text(encoding="utf-8")
    planted.write_text(text.replace("<title>", "<title>X", 1)[: len(text)], encoding="utf-8")  # same size
    os.utime(planted, ns=(before.st_atime_ns, before.st_mtime_ns))
    lesson = project / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n接种后多喝水。\n", encoding="utf-8")
    warnings = site_build(project, out, cache)
    assert "<title>X" not in (out / "site/lessons/hypertension-basics/index.html").read_text(encoding="utf-8")
    assert_same_as_full_build(project, tmp_path, out, warnings)
