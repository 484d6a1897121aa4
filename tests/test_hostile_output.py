"""Hostile runs against the output folder and the cache.

The promise: environment problems are one sentence and exit 2; content mistakes
exit 1; the previous output stays byte-identical on any failure; nothing under
content/, media/, templates/ or site_config.yml is ever changed; the same input
gives the same bytes wherever the checkout lives.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, TODAY

from builder import cache as cache_module
from builder.cache import fingerprint, read_kept, relocatable_keys, write_kept
from builder.cli import main
from builder.pipeline import build
from builder.writer import Artifact, OutputWriter, UnsafeArtifactPathError

ONLY = ["--only", "posts"]  # the fastest renderer that uses the artifact cache


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under ``folder``, by relative path."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): (None if path.is_dir() else path.read_bytes())
        for path in sorted(folder.rglob("*"))
    }


def sources(project: Path) -> dict[str, bytes | None]:
    found = {}
    for name in ("content", "media", "templates", "site_config.yml", ".git"):
        path = project / name
        if path.is_file():
            found[name] = path.read_bytes()
        else:
            found.update({f"{name}/{rel}": data for rel, data in snapshot(path).items()})
    return found


def kepu_build(project: Path, *extra: str) -> int:
    return main(["build", "--project", str(project), "--quiet", *ONLY, *extra])


def stderr_sentence(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line an environment problem prints (and that there is no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def hostile(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The fixture project with a templates/ folder, a .git folder and one good build in public/."""
    (project / "templates" / "posts").mkdir(parents=True)
    (project / "templates" / "README.txt").write_text("keep me\n", encoding="utf-8")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    assert kepu_build(project) == 0
    capsys.readouterr()  # each test reads only what it printed itself
    return project


def break_lesson(project: Path) -> None:
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("title: 流感与疫苗接种", "titel: 流感与疫苗接种"),
        encoding="utf-8",
    )


def edit_lesson(project: Path) -> None:
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("带上身份证", "带上身份证和医保卡"), encoding="utf-8"
    )


# -- 1. --out and --cache-dir that would delete sources or someone's files -------------------------


@pytest.mark.parametrize(
    "out", [".", "..", "content", "content/lessons", "media", "templates", ".git", ".kepu-cache", "site_config.yml"]
)
def test_out_over_or_inside_the_sources_is_refused(hostile: Path, capsys, out: str):
    before, public = sources(hostile), snapshot(hostile / "public")
    target = (hostile / out).resolve()
    assert kepu_build(hostile, "--out", str(hostile / out)) == 2
    line = stderr_sentence(capsys)
    assert str(target) in line and line.startswith("构建失败：")
    assert sources(hostile) == before
    assert snapshot(hostile / "public") == public


def test_relative_out_dot_from_inside_the_project_is_refused(hostile: Path, capsys, monkeypatch):
    before = sources(hostile)
    monkeypatch.chdir(hostile)
    assert main(["build", "--quiet", *ONLY, "--out", "."]) == 2
    assert str(hostile.resolve()) in stderr_sentence(capsys)
    assert sources(hostile) == before


@pytest.mark.parametrize("cache_dir", [".", "content", "media/cache", "templates", "public", "public/cache", ".."])
def test_cache_dir_overlapping_sources_or_output_is_refused(hostile: Path, capsys, cache_dir: str):
    before, public = sources(hostile), snapshot(hostile / "public")
    assert kepu_build(hostile, "--cache-dir", str(hostile / cache_dir)) == 2
    line = stderr_sentence(capsys)
    assert str((hostile / cache_dir).resolve()) in line
    assert sources(hostile) == before
    assert snapshot(hostile / "public") == public


def test_out_inside_the_cache_is_refused(hostile: Path, tmp_path: Path, capsys):
    cache = tmp_path / "cache"
    assert kepu_build(hostile, "--cache-dir", str(cache), "--out", str(cache / "public")) == 2
    assert str(cache / "public") in stderr_sentence(capsys)


def test_a_folder_that_is_not_a_kepu_output_is_not_replaced(hostile: Path, tmp_path: Path, capsys):
    documents = tmp_path / "Documents"
    (documents / "taxes").mkdir(parents=True)
    (documents / "taxes" / "2025.pdf").write_bytes(b"%PDF my taxes")
    (documents / "manifest.json").write_text('{"not": "kepu"}', encoding="utf-8")
    before = snapshot(documents)
    assert kepu_build(hostile, "--out", str(documents)) == 2
    line = stderr_sentence(capsys)
    assert str(documents) in line and "manifest.json" in line
    assert snapshot(documents) == before


def test_an_empty_folder_or_a_previous_output_is_fine(hostile: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert kepu_build(hostile, "--out", str(empty)) == 0
    assert kepu_build(hostile, "--out", str(empty)) == 0  # now a previous Kepu output
    assert (empty / "manifest.json").is_file()


def test_out_that_is_a_file_is_refused(hostile: Path, tmp_path: Path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine\n", encoding="utf-8")
    assert kepu_build(hostile, "--out", str(target)) == 2
    assert str(target) in stderr_sentence(capsys)
    assert target.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("out", ["content", ".", "media"])
def test_exam_out_over_the_sources_is_refused(hostile: Path, capsys, out: str):
    before = sources(hostile)
    code = main(["exam", "--project", str(hostile), "--level", "四级", "--out", str(hostile / out)])
    assert code == 2
    line = stderr_sentence(capsys)
    assert str((hostile / out).resolve()) in line and line.startswith("组卷失败：")
    assert sources(hostile) == before


def test_exam_refuses_a_foreign_folder(hostile: Path, tmp_path: Path, capsys):
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "letter.docx").write_bytes(b"mine")
    assert main(["exam", "--project", str(hostile), "--level", "四级", "--out", str(documents)]) == 2
    assert str(documents) in stderr_sentence(capsys)
    assert snapshot(documents) == {"letter.docx": b"mine"}


# -- 2. a build killed at any point of the commit ------------------------------------------------

CHILD = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from pathlib import Path
    import builder.writer as writer

    point, project = sys.argv[1], Path(sys.argv[2])
    out = (project / "public").resolve()
    real_replace = os.replace

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def replace(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if point == "before-backup" and src == out:
            die()
        if point == "between-renames" and dst == out:
            die()  # the old output is moved aside, the new one not yet in place
        real_replace(src, dst, *args, **kwargs)
        if point == "after-publish" and dst == out:
            die()  # the new output is in place, the old one not yet removed

    writer.os.replace = replace
    if point == "while-writing":
        real_add = writer.OutputWriter.add
        def add(self, artifact):
            real_add(self, artifact)
            if len(self.entries) == 3:
                die()
        writer.OutputWriter.add = add

    from builder.pipeline import build
    build(project, only=["posts"], today=dt.date(2026, 12, 1))
    print("not killed")
    """
)


def build_killed_at(point: str, project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, point, str(project)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == -9, result.stdout + result.stderr


def leftovers(project: Path) -> list[str]:
    return sorted(path.name for path in project.iterdir() if path.name.startswith(".public-"))


def manifest_is_whole(out: Path) -> bool:
    """Every file the manifest lists is there with its bytes, and nothing else."""
    listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["artifacts"]
    files = {rel for rel, data in snapshot(out).items() if data is not None} - {"manifest.json"}
    return files == {entry["path"] for entry in listed} and all(
        cache_module.file_digest(out / entry["path"]) == entry["sha256"] for entry in listed
    )


@pytest.mark.parametrize("point", ["while-writing", "before-backup", "between-renames"])
def test_a_build_killed_before_publishing_leaves_or_restores_the_old_output(hostile: Path, capsys, point: str):
    old = snapshot(hostile / "public")
    edit_lesson(hostile)
    build_killed_at(point, hostile)
    if point == "between-renames":
        assert not (hostile / "public").exists()  # the crash window this test is about
    # The next build fails on a content mistake: the last good output must be back, whole.
    break_lesson(hostile)
    assert kepu_build(hostile) == 1
    assert "content/lessons/flu-vaccine.md:2:" in capsys.readouterr().err
    assert snapshot(hostile / "public") == old
    assert leftovers(hostile) == []


def test_a_build_killed_after_publishing_has_published_the_new_output_whole(hostile: Path):
    edit_lesson(hostile)
    build_killed_at("after-publish", hostile)
    OutputWriter(hostile / "public").abort()  # any later writer tidies up
    assert leftovers(hostile) == []
    assert manifest_is_whole(hostile / "public")
    post = hostile / "public" / "posts" / "lessons" / "flu-vaccine" / "post.html"
    assert "医保卡" in post.read_text(encoding="utf-8")


def test_staging_folders_of_dead_builds_are_removed_but_not_those_of_live_ones(hostile: Path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    dead = hostile / f".public-build-{dead_pid}-abcd1234"
    live = hostile / f".public-build-{os.getppid()}-efgh5678"
    for folder in (dead, live):
        (folder / "site").mkdir(parents=True)
    writer = OutputWriter(hostile / "public")
    writer.abort()
    assert not dead.exists() and live.is_dir()


# -- 3. outputs are copies, not links to cache blobs --------------------------------------------


def test_output_files_are_not_linked_to_cache_blobs(hostile: Path):
    public = hostile / "public"
    assert all(path.stat().st_nlink == 1 for path in public.rglob("*") if path.is_file())
    before = snapshot(public)
    for blob in (hostile / ".kepu-cache" / "posts").glob("*/*/0000"):
        with blob.open("r+b") as stream:  # damage the blob in place
            stream.write(b"XXXX")
    assert snapshot(public) == before
    assert kepu_build(hostile) == 0  # and the damage is not published: rendered again
    assert snapshot(public) == before
    assert all(path.stat().st_nlink == 1 for path in public.rglob("*") if path.is_file())


# -- 4. malformed cache entries ----------------------------------------------------------------


def first_entry(project: Path) -> Path:
    return sorted((project / ".kepu-cache" / "posts").glob("*/*/entry.json"))[0]


def mangle(record: dict, how: str) -> object:
    item = record["artifacts"][0]
    if how == "missing-sha256":
        del item["sha256"]
    elif how == "wrong-types":
        item["audiences"] = 7
    elif how == "artifacts-not-a-list":
        record["artifacts"] = {"0": item}
    elif how == "warnings-wrong":
        record["warnings"] = [{"path": 1}]
    elif how == "path-escapes":
        item["path"] = "../../escaped.html"
    elif how == "path-absolute":
        item["path"] = str(Path("/tmp") / "kepu-escaped.html")
    elif how == "path-backslash":
        item["path"] = "posts\\..\\..\\escaped.html"
    elif how == "blob-escapes":
        item["blob"] = "../../../../../site_config.yml"
    elif how == "not-an-object":
        return ["artifacts"]
    return record


@pytest.mark.parametrize(
    "how",
    [
        "not-json", "missing-sha256", "wrong-types", "artifacts-not-a-list", "warnings-wrong", "blob-missing",
        "path-escapes", "path-absolute", "path-backslash", "blob-escapes", "not-an-object",
    ],
)  # fmt: skip
def test_a_malformed_cache_entry_is_rendered_again_never_fatal(hostile: Path, capsys, how: str):
    clean = snapshot(hostile / "public")
    entry = first_entry(hostile)
    good = json.loads(entry.read_text(encoding="utf-8"))
    if how == "not-json":
        entry.write_text("{not json", encoding="utf-8")
    elif how == "blob-missing":
        (entry.parent / "0000").unlink()
    else:
        record = json.loads(entry.read_text(encoding="utf-8"))
        entry.write_text(json.dumps(mangle(record, how)), encoding="utf-8")
    before = sources(hostile)
    assert kepu_build(hostile) == 0, capsys.readouterr().err
    assert snapshot(hostile / "public") == clean
    assert sources(hostile) == before
    assert not (hostile.parent / "escaped.html").exists() and not Path("/tmp/kepu-escaped.html").exists()
    assert json.loads(entry.read_text(encoding="utf-8")) == good  # looked up, discarded, stored again
    assert (entry.parent / "0000").is_file()


@pytest.mark.parametrize(
    "path", ["../x.html", "/tmp/x.html", "a\\b.html", "a//b.html", "./a.html", "a/../../b", "", "a/\x00b", ".work/x"]
)
def test_the_writer_refuses_paths_outside_the_staging_folder(tmp_path: Path, path: str):
    writer = OutputWriter(tmp_path / "public")
    try:
        with pytest.raises(UnsafeArtifactPathError):
            writer.add(Artifact("x", path, "content/x.md", data=b"x"))
    finally:
        writer.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- 5. cached site images are verified ---------------------------------------------------------


def test_kept_files_are_verified_before_use(tmp_path: Path):
    kept = tmp_path / "site-images" / "abc.webp"
    write_kept(kept, b"encoded image")
    assert read_kept(kept) == b"encoded image"
    data = bytearray(kept.read_bytes())
    data[-1] ^= 0xFF
    kept.write_bytes(bytes(data))
    assert read_kept(kept) is None and not kept.exists()  # corrupt: discarded, encoded again
    assert read_kept(tmp_path / "missing.webp") is None


def test_a_corrupted_cached_site_image_is_not_published(project: Path):
    build(project, only=["site"], today=TODAY)
    clean = snapshot(project / "public")
    for image in (project / ".kepu-cache" / "site-images").iterdir():
        image.write_bytes(b"corrupted")
    shutil.rmtree(project / ".kepu-cache" / "site")  # the site itself is rendered again
    build(project, only=["site"], today=TODAY)
    assert snapshot(project / "public") == clean


# -- 6. environment problems: one sentence, exit 2, old output intact ---------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "磁盘空间不足"),
        (errno.EFBIG, "文件太大"),
        (errno.EROFS, "只读"),
        (errno.EACCES, "没有权限"),
        (errno.EPERM, "没有权限"),
    ],
)
def test_a_write_failure_is_one_sentence_and_the_old_output_stays(hostile: Path, capsys, monkeypatch, code, words):
    import builder.writer as writer

    old = snapshot(hostile / "public")
    edit_lesson(hostile)
    real_write = writer._write_new_file
    calls = []

    def failing_write(dest: Path, data: bytes) -> None:
        calls.append(dest)
        if len(calls) == 1:
            raise OSError(code, os.strerror(code), str(dest))
        real_write(dest, data)

    monkeypatch.setattr(writer, "_write_new_file", failing_write)
    assert kepu_build(hostile) == 2
    line = stderr_sentence(capsys)
    assert words in line and str(calls[-1]) in line and line.endswith("原有输出没有改动。")
    assert snapshot(hostile / "public") == old
    assert leftovers(hostile) == []


def test_a_failing_final_rename_puts_the_old_output_back(hostile: Path, capsys, monkeypatch):
    import builder.writer as writer

    old = snapshot(hostile / "public")
    edit_lesson(hostile)
    real_replace = os.replace
    out = (hostile / "public").resolve()

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == out and Path(src).name.startswith(".public-build-"):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(src), None, str(dst))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(writer.os, "replace", replace)
    assert kepu_build(hostile) == 2
    assert "没有权限" in stderr_sentence(capsys)
    monkeypatch.undo()
    assert snapshot(hostile / "public") == old
    assert leftovers(hostile) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes through chmod")
def test_a_read_only_parent_folder_is_one_sentence(tmp_path: Path, capsys):
    parent = tmp_path / "locked"
    parent.mkdir()
    project = tmp_path / "project"
    shutil.copytree(REPO / "tests" / "fixtures" / "project", project)
    assert kepu_build(project, "--out", str(parent / "public")) == 0
    old = snapshot(parent / "public")
    parent.chmod(0o555)
    try:
        assert kepu_build(project, "--out", str(parent / "public")) == 2
        line = stderr_sentence(capsys)
        assert "没有权限" in line and str(parent) in line
    finally:
        parent.chmod(0o755)
    assert snapshot(parent / "public") == old


def test_a_read_only_file_system_at_the_staging_folder_is_one_sentence(hostile: Path, capsys, monkeypatch):
    import builder.writer as writer

    old = snapshot(hostile / "public")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(hostile / ".public-build-x"))

    monkeypatch.setattr(writer.tempfile, "mkdtemp", read_only)
    assert kepu_build(hostile) == 2
    assert "只读" in stderr_sentence(capsys)
    assert snapshot(hostile / "public") == old


def test_a_missing_tool_is_one_sentence_exit_2(hostile: Path, capsys, monkeypatch):
    import builder.renderers.video as video

    def no_ffmpeg() -> str:
        raise video.VideoToolMissing("找不到 ffmpeg：请安装（sudo apt-get install ffmpeg）")

    monkeypatch.setattr(video, "ffmpeg_binary", no_ffmpeg)
    old = snapshot(hostile / "public")
    assert main(["build", "--project", str(hostile), "--quiet", "--only", "video"]) == 2
    assert "找不到 ffmpeg" in stderr_sentence(capsys)
    assert snapshot(hostile / "public") == old


def test_check_maps_an_unreadable_cache_to_one_sentence(hostile: Path, capsys, monkeypatch):
    import builder.pipeline as pipeline

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(hostile / "content"))

    monkeypatch.setattr(pipeline, "load_project", broken)
    assert main(["check", "--project", str(hostile)]) == 2
    line = stderr_sentence(capsys)
    assert line.startswith("检查失败：") and str(hostile / "content") in line


# -- 7. the same bytes wherever the checkout lives -----------------------------------------------


def test_cache_keys_and_entries_do_not_depend_on_where_the_project_lives(tmp_path: Path):
    fixture = REPO / "tests" / "fixtures" / "project"
    near, far = tmp_path / "a" / "project", tmp_path / "b" / "deeper" / "路径" / "project"
    for root in (near, far):
        shutil.copytree(fixture, root)
        build(root, only=["posts"], today=TODAY)
    # .outputs/ is the writer's ledger of this machine's output folder (inodes, times): local state,
    # never a key nor shared; every entry must be the same.
    entries = [{k: v for k, v in snapshot(root / ".kepu-cache").items() if k.split("/")[0] != ".outputs"} for root in (near, far)]
    assert entries[0] and entries[0] == entries[1]
    assert snapshot(near / "public") == snapshot(far / "public")


def test_print_keys_do_not_depend_on_where_the_project_lives(tmp_path: Path):
    from builder.diagnostics import Diagnostics
    from builder.project import load_project
    from builder.renderers.printing import plan

    fixture = REPO / "tests" / "fixtures" / "project"
    keys = []
    for root in (tmp_path / "a" / "project", tmp_path / "b" / "深" / "project"):
        shutil.copytree(fixture, root)
        project = load_project(root, Diagnostics(), TODAY)
        assert project is not None
        with relocatable_keys(root):
            keys.append([planned.key for planned in plan(project)])
    assert keys[0] and keys[0] == keys[1]


def test_relocatable_keys_replace_only_whole_path_prefixes(tmp_path: Path):
    root = tmp_path / "p"
    with relocatable_keys(root):
        inside = fingerprint(f"{root}/media/a.png", (root / "m").as_uri())
        sibling = fingerprint(f"{root}x/media/a.png", (root / "m").as_uri())
    with relocatable_keys(tmp_path / "q"):
        moved = fingerprint(f"{tmp_path / 'q'}/media/a.png", (tmp_path / "q" / "m").as_uri())
    assert inside == moved and inside != sibling


def _publish(out: Path, artifacts: list[Artifact]) -> None:
    writer = OutputWriter(out)
    for artifact in artifacts:
        writer.add(artifact)
    writer.commit()


def test_a_kept_file_is_linked_from_the_last_output_only_when_its_bytes_are_there(tmp_path: Path):
    """The site's workspace files are copied, or linked from public/ when public/ has those very bytes."""
    import hashlib

    out = tmp_path / "public"
    kept = tmp_path / "workspace" / "page.html"
    kept.parent.mkdir()
    kept.write_bytes(b"<p>same</p>")
    digest = hashlib.sha256(b"<p>same</p>").hexdigest()
    _publish(out, [Artifact("site", "site/a.html", "x", data=b"<p>same</p>")])

    # Unchanged in public/: linked, even under another path (a moved search piece), and the workspace keeps its file.
    writer = OutputWriter(out)
    writer.add(Artifact("site", "site/moved/b.html", "x", file=kept, sha256=digest))
    assert os.stat(writer.staging / "site/moved/b.html").st_ino == os.stat(out / "site/a.html").st_ino
    writer.commit()
    assert (out / "site/moved/b.html").read_bytes() == b"<p>same</p>" and kept.exists()
    assert os.stat(out / "site/moved/b.html").st_nlink == 1  # the old output, its other name, is gone

    # Changed in public/ by someone (the manifest still names the old bytes): copied from the workspace.
    (out / "site/moved/b.html").write_bytes(b"<script>x</script>")
    _publish(out, [Artifact("site", "site/c.html", "x", file=kept, sha256=digest)])
    assert (out / "site/c.html").read_bytes() == b"<p>same</p>"

    # public/site planted as a link to a folder outside: never read through, the workspace's copy is used.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.html").write_bytes(b"<p>same</p>")
    shutil.rmtree(out / "site")
    (out / "site").symlink_to(outside, target_is_directory=True)
    _publish(out, [Artifact("site", "site/d.html", "x", file=kept, sha256=digest)])
    assert os.stat(out / "site/d.html").st_ino != os.stat(outside / "c.html").st_ino
    assert (outside / "c.html").read_bytes() == b"<p>same</p>"
    assert kept.read_bytes() == b"<p>same</p>"
