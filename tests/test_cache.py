"""Fast rebuilds: the content-addressed cache reuses what did not change, and only that."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import TODAY

from builder.pipeline import build

OUTPUTS = ["site", "posts"]


def manifest(project: Path) -> dict[str, dict]:
    data = json.loads((project / "public" / "manifest.json").read_text(encoding="utf-8"))
    return {entry["path"]: entry for entry in data["artifacts"]}


def test_unchanged_project_renders_nothing_the_second_time(project: Path):
    first = build(project, only=OUTPUTS, today=TODAY)
    assert (
        first.reused == 0 and first.rendered == sum(first.artifacts.values()) - 3
    )  # index, ics, csv are remade
    before = manifest(project)
    second = build(project, only=OUTPUTS, today=TODAY)
    assert second.rendered == 0 and second.reused == first.rendered
    assert manifest(project) == before


def test_editing_one_lesson_renders_exactly_its_artifacts(project: Path):
    build(project, only=OUTPUTS, today=TODAY)
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("带上身份证", "带上身份证和医保卡"), encoding="utf-8"
    )
    result = build(project, only=OUTPUTS, today=TODAY)
    rendered = set(result.cache.rendered_paths)
    posts = {path for path in rendered if path.startswith("posts/")}
    assert posts and all(path.startswith("posts/lessons/flu-vaccine/") for path in posts)
    assert {path.split("/")[0] for path in rendered} == {"site", "posts"}
    assert "医保卡" in (project / "public" / "posts" / "lessons" / "flu-vaccine" / "post.html").read_text(
        encoding="utf-8"
    )


def test_corrupt_cache_entry_is_rendered_again_not_published(project: Path):
    build(project, only=OUTPUTS, today=TODAY)
    clean = manifest(project)
    blobs = sorted((project / ".kepu-cache" / "posts").glob("*/*/0000"))
    entry = json.loads((blobs[0].parent / "entry.json").read_text(encoding="utf-8"))
    blobs[0].unlink()  # the output holds a hard link to the same bytes: never write through it
    blobs[0].write_bytes(b"not what was rendered")
    # While the output holds the bytes, the blob is not read; into a new output folder it is.
    shutil.rmtree(project / "public")
    result = build(project, only=OUTPUTS, today=TODAY)
    assert entry["artifacts"][0]["path"] in result.cache.rendered_paths
    assert manifest(project) == clean
    assert_files_match_manifest(project / "public")


def assert_files_match_manifest(out: Path) -> None:
    for path, item in manifest(out.parent).items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == item["sha256"], path


def test_a_build_that_changes_nothing_reads_none_of_the_files_it_reuses(project: Path, monkeypatch):
    """The writer's ledger vouches for every file of the last output by its stat: no blob is
    copied and no published file hashed again (at 1,000 lessons that was 4.5 GB read twice)."""
    import builder.cache
    import builder.writer

    build(project, only=OUTPUTS, today=TODAY)
    before = manifest(project)
    read: list[Path] = []
    hashed, copied = builder.writer._holds, builder.cache._private_copy
    monkeypatch.setattr(builder.writer, "_holds", lambda path, digest: read.append(path) or hashed(path, digest))
    monkeypatch.setattr(builder.cache, "_private_copy", lambda blob, work: read.append(blob) or copied(blob, work))
    second = build(project, only=OUTPUTS, today=TODAY)
    assert second.rendered == 0 and second.reused > 50
    assert read == []
    assert manifest(project) == before
    assert_files_match_manifest(project / "public")


@pytest.mark.parametrize("how", ["same-size-same-mtime", "replaced-by-a-copy", "ledger-of-another-output"])
def test_a_published_file_someone_changed_is_not_trusted_by_its_ledger(project: Path, how: str):
    build(project, only=["posts"], today=TODAY)
    before = manifest(project)
    target = project / "public" / "posts" / "lessons" / "flu-vaccine" / "post.html"
    status = target.stat()
    if how == "same-size-same-mtime":
        # Written in place, the time set back: only the change time tells, and it cannot be set back.
        data = bytearray(target.read_bytes())
        data[-2:] = b"!!"
        with target.open("r+b") as stream:
            stream.write(bytes(data))
        os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
    elif how == "replaced-by-a-copy":
        other = target.with_name("x")
        other.write_bytes(target.read_bytes().replace(b"<", b"[", 1))
        os.replace(other, target)
    else:
        ledgers = list((project / ".kepu-cache" / ".outputs").glob("*.json"))
        record = json.loads(ledgers[0].read_bytes())
        record["manifest"] = "0" * 64
        ledgers[0].write_text(json.dumps(record), encoding="utf-8")
        target.write_bytes(b"changed")
    assert manifest(project)[target.relative_to(project / "public").as_posix()]["sha256"] != hashlib.sha256(
        target.read_bytes()
    ).hexdigest()
    build(project, only=["posts"], today=TODAY)
    assert manifest(project) == before
    assert_files_match_manifest(project / "public")


def test_deleted_lesson_disappears_from_output_manifest_and_cache(project: Path):
    build(project, only=OUTPUTS, today=TODAY)
    entries_before = len(list((project / ".kepu-cache" / "posts").glob("*/*")))
    (project / "content" / "lessons" / "flu-vaccine.md").unlink()
    build(project, only=OUTPUTS, today=TODAY)
    paths = manifest(project)
    assert not [path for path in paths if "flu-vaccine" in path]
    assert not (project / "public" / "posts" / "lessons" / "flu-vaccine").exists()
    assert len(list((project / ".kepu-cache" / "posts").glob("*/*"))) == entries_before - 1


def test_no_cache_renders_everything_and_gives_the_same_bytes(project: Path):
    cached = build(project, only=OUTPUTS, today=TODAY)
    before = manifest(project)
    fresh = build(project, only=OUTPUTS, today=TODAY, use_cache=False)
    assert fresh.reused == 0 and fresh.rendered == cached.rendered
    assert manifest(project) == before


def test_cache_location_is_configurable(project: Path, tmp_path: Path):
    build(project, only=["site"], today=TODAY, cache_dir=tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "site").is_dir() and not (project / ".kepu-cache").exists()


def test_print_reuses_unchanged_pdfs_and_jobs_do_not_change_bytes(project: Path):
    outputs = ["print"]
    build(project, only=outputs, today=TODAY, jobs=2)
    parallel = manifest(project)
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("每年接种一次流感疫苗", "每年秋季接种一次流感疫苗"), encoding="utf-8"
    )
    edited = build(project, only=outputs, today=TODAY, jobs=2)  # key points are on the flyers, the body is not
    assert sorted(edited.cache.rendered_paths) == [
        "print/lessons/flu-vaccine/flyer.pdf",
        "print/lessons/flu-vaccine/flyer.png",
        "print/lessons/flu-vaccine/poster.pdf",
        "print/lessons/flu-vaccine/prescription.pdf",
        "print/lessons/flu-vaccine/press/flyer.pdf",  # the print shop's versions of flyer and poster
        "print/lessons/flu-vaccine/press/poster.pdf",
    ]
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("每年秋季接种一次流感疫苗", "每年接种一次流感疫苗"), encoding="utf-8"
    )
    serial = build(project, only=outputs, today=TODAY, jobs=1, use_cache=False)
    assert serial.rendered == len(parallel) and manifest(project) == parallel


def test_a_failing_document_names_its_source_and_keeps_the_old_output(project: Path, monkeypatch):
    from builder.renderers import RenderError, printing

    build(project, only=["site"], today=TODAY)
    before = manifest(project)
    real = printing.render_job

    def fail_for_flu(job):
        if "flu-vaccine" in job.source:
            raise ValueError("排版失败")
        return real(job)

    monkeypatch.setattr(printing, "render_job", fail_for_flu)
    try:
        build(project, only=["site", "print"], today=TODAY, jobs=1)
    except RenderError as error:
        assert str(error).startswith("content/lessons/flu-vaccine.md: 生成 print/lessons/flu-vaccine/")
    else:
        raise AssertionError("the build should have failed")
    assert manifest(project) == before


def test_an_entry_links_the_blobs_it_shares_with_a_like_one_and_a_changed_blob_is_never_published(tmp_path: Path):
    import hashlib
    import os

    from builder.cache import ArtifactCache, CachedUnit
    from builder.writer import Artifact

    cache = ArtifactCache(tmp_path / "cache")
    files = tmp_path / "files"
    files.mkdir()

    def artifact(name: str, data: bytes) -> Artifact:
        (files / name).write_bytes(data)
        return Artifact("site", f"site/{name}", "x", file=files / name, sha256=hashlib.sha256(data).hexdigest())

    cache.store("site", "a" * 64, CachedUnit([artifact("same.html", b"same"), artifact("old.html", b"old")], []))
    cache.store(
        "site", "b" * 64, CachedUnit([artifact("same.html", b"same"), artifact("new.html", b"new")], []), like="a" * 64
    )
    old, new = tmp_path / "cache/site/aa" / ("a" * 64), tmp_path / "cache/site/bb" / ("b" * 64)
    assert os.stat(new / "0000").st_ino == os.stat(old / "0000").st_ino  # shared: linked, not copied
    assert os.stat(new / "0001").st_ino != os.stat(old / "0001").st_ino
    found = cache.lookup("site", "b" * 64, tmp_path / "work1")
    assert found is not None and [a.file.read_bytes() for a in found.artifacts] == [b"same", b"new"]

    # Someone changes the shared blob: the entry that linked it is found out and dropped, not published.
    (old / "0000").write_bytes(b"evil")
    assert cache.lookup("site", "b" * 64, tmp_path / "work2") is None


def test_a_cached_post_repeats_its_warnings_and_index_without_painting_a_picture(project: Path, monkeypatch):
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    text = lesson.read_text(encoding="utf-8")
    long_title = "流感季节到来之前请老年人和慢性病患者尽早到社区卫生服务中心接种流感疫苗"
    text = text.replace(text.split("title: ", 1)[1].split("\n", 1)[0], long_title, 1)
    lesson.write_text(text, encoding="utf-8")

    def posts_warnings(result) -> list[str]:
        return sorted(str(item) for item in result.diagnostics.items if "公众号" in item.message)

    first = build(project, only=["posts"], today=TODAY)
    index = (project / "public" / "posts" / "index.html").read_bytes()
    warned = posts_warnings(first)
    assert any("标题最多" in line for line in warned)
    assert all(line.startswith("content/lessons/flu-vaccine.md:") for line in warned)

    def painted(*_args, **_kwargs):
        raise AssertionError("a cached post painted a picture again")

    monkeypatch.setattr("builder.renderers.posts.build_post", painted)
    monkeypatch.setattr("builder.renderers.posts.upload_ready_image", painted)
    second = build(project, only=["posts"], today=TODAY)
    assert second.cache.rendered.get("posts", 0) == 0
    assert posts_warnings(second) == warned
    assert (project / "public" / "posts" / "index.html").read_bytes() == index


def test_a_post_is_drawn_again_when_its_pictogram_changes(project: Path):
    """A project's own templates/pictograms/ file replaces Kepu's: the pictures that draw it are
    drawn again, and only they (a post's key holds the files of the pictograms it draws)."""
    from builder.templates import default_templates_dir

    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("  - 每年接种一次流感疫苗", "  - {text: 每年接种一次流感疫苗, icon: vaccine}"), encoding="utf-8")
    build(project, only=["posts"], today=TODAY)
    cover = project / "public" / "posts" / "lessons" / "flu-vaccine" / "cover.jpg"
    before = cover.read_bytes()
    own = project / "templates" / "pictograms" / "vaccine.svg"
    own.parent.mkdir(parents=True)
    svg = (default_templates_dir() / "pictograms" / "vaccine.svg").read_text(encoding="utf-8")
    own.write_text(svg.replace("</svg>", '<rect x="0" y="0" width="24" height="24"/></svg>'), encoding="utf-8")
    again = build(project, only=["posts"], today=TODAY)
    assert "posts/lessons/flu-vaccine/cover.jpg" in again.cache.rendered_paths
    # The other lessons draw no vaccine: their posts are reused.
    assert not any(path.startswith("posts/lessons/hypertension-basics/") for path in again.cache.rendered_paths)
    assert cover.read_bytes() != before
