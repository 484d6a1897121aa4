"""Hostile and broken content: each case is a `path:line` error (or a warning), exit 1, no
traceback, the earlier output byte-identical and the sources untouched.

Content arrives through merge requests from many people, so these are written as an
attacker or a careless editor would: impossible dates, wrong encodings, YAML bombs,
files that point outside the project, pictures that are not pictures.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest

from builder.cli import main
from builder.pipeline import build
from tests.conftest import FIXTURE, TODAY
from tests.test_validation import GOOD_LESSON

LESSON = "content/lessons/hypertension-basics.md"
NEW = "content/lessons/new-lesson.md"


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (symlinks as their target text) → sha256."""
    result = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            result[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


@pytest.fixture(scope="module")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "project"
    shutil.copytree(FIXTURE, root)
    build(root, only=["site"], today=TODAY, use_cache=False)
    return root


@pytest.fixture
def hostile(tmp_path: Path, built_fixture: Path):
    """A project copy with an earlier build in public/; ``run()`` builds and checks every promise."""
    root = tmp_path / "project"
    shutil.copytree(built_fixture, root, symlinks=True)

    class Hostile:
        project = root

        def write(self, rel: str, text: str | bytes) -> Path:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                dest.write_bytes(text)
            else:
                dest.write_text(text, encoding="utf-8")
            return dest

        def run(self, capsys: pytest.CaptureFixture[str], *extra: str) -> list[str]:
            """Build; assert exit 1, no traceback, public/ and the sources untouched; return stderr lines."""
            public = tree_digest(root / "public")
            sources = {name: tree_digest(root / name) for name in ("content", "media")}
            config = (root / "site_config.yml").read_bytes()
            code = main(["build", "--project", str(root), "--only", "site", "--quiet", *extra])
            out, err = capsys.readouterr()
            assert code == 1, (out, err)
            assert "Traceback" not in err
            assert tree_digest(root / "public") == public
            assert {name: tree_digest(root / name) for name in ("content", "media")} == sources
            assert (root / "site_config.yml").read_bytes() == config
            return err.splitlines()

    return Hostile()


# -- dates -------------------------------------------------------------------------


def test_thirtieth_of_february_in_a_lesson_is_an_error_at_its_line(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("2026-10-01", "2026-02-30"))
    assert f"{NEW}:11: 日期 '2026-02-30' 不存在（检查月份和日子）" in hostile.run(capsys)


def test_month_thirteen_in_a_campaign_activity_is_an_error_at_its_line(hostile, capsys):
    path = "content/campaigns/dust-month.md"
    text = (hostile.project / path).read_text(encoding="utf-8")
    first_date = next(line for line in text.splitlines() if line.strip().startswith("date:"))
    line = text.splitlines().index(first_date) + 1
    hostile.write(path, text.replace(first_date, first_date.split("date:")[0] + "date: 2026-13-01", 1))
    assert f"{path}:{line}: 日期 '2026-13-01' 不存在（检查月份和日子）" in hostile.run(capsys)


# -- encodings, sizes, binary -------------------------------------------------------


def test_a_gbk_file_is_named_as_gbk_at_the_line_of_the_first_bad_byte(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("正文。", "正文：高血压。").encode("gbk"))
    errors = hostile.run(capsys)
    assert f"{NEW}:2: 这一行有无法识别的字节，文件看起来是 GBK/GB18030 编码：请用编辑器另存为 UTF-8 编码" in errors


def test_a_utf16_file_is_named_as_utf16(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.encode("utf-16"))
    assert f"{NEW}:1: 文件是 UTF-16 编码：请用编辑器另存为 UTF-8 编码" in hostile.run(capsys)


def test_nul_bytes_are_not_text(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("正文。", "正文\x00。"))
    assert f"{NEW}:13: 文件里有空字符（\\0），不像文本文件：请检查是否放错了文件" in hostile.run(capsys)


def test_a_huge_lesson_is_refused_with_its_size(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON + "很长的正文。" * 200_000)
    errors = hostile.run(capsys)
    assert any(e.startswith(f"{NEW}:0: 文件有 ") and "超过 1024 KB 的上限" in e for e in errors)


def test_a_utf8_config_with_an_invalid_byte_is_an_error_not_a_traceback(hostile, capsys):
    config = (hostile.project / "site_config.yml").read_bytes()
    hostile.write("site_config.yml", config.replace("测试健康课堂".encode(), b"\xff\xfe\xfa"))
    errors = hostile.run(capsys)
    assert any(e.startswith("site_config.yml:2: 这一行有无法识别的字节") for e in errors)


# -- YAML limits ---------------------------------------------------------------------


def test_deeply_nested_front_matter_is_an_error(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("title: 新课程", "title: " + "[" * 20_000 + "]" * 20_000))
    assert any(e.startswith(f"{NEW}:2: 嵌套超过 30 层") for e in hostile.run(capsys))


def test_an_alias_bomb_in_site_config_is_refused_quickly(hostile, capsys):
    bomb = "\n".join(
        [
            "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
            *(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, 9)),
        ]
    )
    config = (hostile.project / "site_config.yml").read_text(encoding="utf-8")
    hostile.write("site_config.yml", config.replace("review:", "bomb:\n" + _indent(bomb) + "\nreview:"))
    started = time.perf_counter()
    errors = hostile.run(capsys)
    assert time.perf_counter() - started < 10
    assert any(e.startswith("site_config.yml:") and "别名" in e for e in errors)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def test_a_binary_title_is_refused_not_shown_as_bytes(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("title: 新课程", "title: !!binary 5paw6K++56iL"))
    assert f"{NEW}:2: 不支持 !!binary 这种写法：这里只写文字、数字、日期和列表" in hostile.run(capsys)


def test_a_python_object_tag_is_refused(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("title: 新课程", 'title: !!python/object/apply:os.system ["id"]'))
    errors = hostile.run(capsys)
    assert any(e.startswith(f"{NEW}:2: 不支持 !!python/object/apply:os.system") for e in errors)


def test_empty_front_matter_is_an_error_not_a_silently_dropped_lesson(hostile, capsys):
    hostile.write(NEW, "---\n---\n正文。\n")
    assert f"{NEW}:1: front matter 是空的：至少要写 title、summary 等信息" in hostile.run(capsys)


def test_an_empty_site_config_is_an_error(hostile, capsys):
    hostile.write("site_config.yml", "# nothing yet\n")
    assert any(e.startswith("site_config.yml:1: site_config.yml 是空的") for e in hostile.run(capsys))


def test_a_file_name_with_a_newline_does_not_pass_the_slug_rule(hostile, capsys):
    hostile.write("content/lessons/evil\n.md", GOOD_LESSON)
    errors = hostile.run(capsys)
    assert any(e.startswith("content/lessons/evil\n.md:0: 文件名 'evil\\n.md' 只能用") for e in errors) or any(
        "文件名 'evil\\n.md' 只能用" in e for e in errors
    )


# -- files outside the project -------------------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "secret.md"
    path.write_text(GOOD_LESSON.replace("正文。", "SECRET-OUTSIDE-THE-PROJECT"), encoding="utf-8")
    return path


def test_a_lesson_that_is_a_symlink_leaving_the_project_is_refused(hostile, capsys, secret):
    (hostile.project / "content/lessons/leak.md").symlink_to(secret)
    assert "content/lessons/leak.md:0: 这个文件是指向项目以外的链接：只能发布项目里的文件" in hostile.run(capsys)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("file:///etc/passwd", "图片 'file:///etc/passwd' 不是项目里的文件：请把图片放进 media/ 再用相对路径引用"),
        ("../../../../../../../../etc/passwd", "路径 '../../../../../../../../etc/passwd' 超出了项目目录，只能引用项目里的文件"),
        ("/etc/passwd", "找不到图片 '/etc/passwd'（可以写 media/… 或相对本文件的路径）"),
        ("//evil.example/x.png", "图片 '//evil.example/x.png' 在别的网站上：请把图片放进 media/ 再引用（网站不能向外部请求资源）"),
        ("JaVaScRiPt:alert", "图片 'JaVaScRiPt:alert' 不是项目里的文件：请把图片放进 media/ 再用相对路径引用"),
    ],
)
def test_images_outside_the_project_are_errors(hostile, capsys, written, message):
    hostile.write(NEW, GOOD_LESSON.replace("正文。", f"正文。\n\n![图]({written})"))
    assert f"{NEW}:15: {message}" in hostile.run(capsys)


def test_an_image_symlink_leaving_the_project_is_refused(hostile, capsys, secret):
    (hostile.project / "media/leak.png").symlink_to(secret)
    hostile.write(NEW, GOOD_LESSON.replace("正文。", '正文。\n\n<img src="../../media/leak.png" alt="x">'))
    assert f"{NEW}:15: 路径 '../../media/leak.png' 超出了项目目录，只能引用项目里的文件" in hostile.run(capsys)


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_logo_outside_the_project_is_an_error(hostile, capsys, secret, how):
    written = str(secret) if how == "absolute" else "../outside/secret.md"
    config = (hostile.project / "site_config.yml").read_text(encoding="utf-8")
    hostile.write("site_config.yml", config.replace('  color: "#1f7a4d"', f'  color: "#1f7a4d"\n  logo: {written}'))
    expected = (
        f"site_config.yml:9: 找不到图片 '{written}'（可以写 media/… 或相对本文件的路径）"
        if how == "absolute"
        else f"site_config.yml:9: 路径 '{written}' 超出了项目目录，只能引用项目里的文件"
    )
    assert expected in hostile.run(capsys)


def test_a_text_file_named_png_is_not_a_picture(hostile, capsys):
    hostile.write("media/fake.png", "not a picture at all")
    hostile.write(NEW, GOOD_LESSON.replace("reviewed_on: 2026-10-01", "reviewed_on: 2026-10-01\ncover: media/fake.png"))
    assert (
        f"{NEW}:12: 图片 'media/fake.png' 不是图片文件（或文件已损坏）：支持 PNG、JPEG、WebP、GIF 和 SVG"
        in hostile.run(capsys)
    )


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions in a few bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused(hostile, capsys):
    hostile.write("media/bomb.png", _png_header(60_000, 60_000))
    hostile.write(NEW, GOOD_LESSON.replace("正文。", "正文。\n\n![图](../../media/bomb.png)"))
    errors = hostile.run(capsys)
    assert any(e.startswith(f"{NEW}:15: 图片 '../../media/bomb.png' ") and "像素" in e for e in errors), errors


def test_music_that_is_not_audio_is_an_error(hostile, capsys):
    hostile.write("media/music.mp3", "#!/bin/sh\necho not music\n")
    config = (hostile.project / "site_config.yml").read_text(encoding="utf-8")
    hostile.write("site_config.yml", config + "video:\n  music: media/music.mp3\n")
    errors = hostile.run(capsys)
    assert any("音频 'media/music.mp3' 不是音频文件" in e for e in errors), errors


def test_a_campaign_body_image_outside_the_project_is_an_error(hostile, capsys):
    path = "content/campaigns/dust-month.md"
    text = (hostile.project / path).read_text(encoding="utf-8")
    hostile.write(path, text + "\n![附件](/../../../../etc/passwd)\n")
    errors = hostile.run(capsys)
    assert any(e.startswith(f"{path}:") and "/../../../../etc/passwd" in e for e in errors), errors


# -- every mistake in one run -----------------------------------------------------------


def test_all_hostile_mistakes_are_reported_in_one_run(hostile, capsys, secret):
    hostile.write("content/lessons/a.md", GOOD_LESSON.replace("2026-10-01", "2026-02-30"))
    hostile.write("content/lessons/b.md", GOOD_LESSON.encode("utf-16"))
    hostile.write("content/lessons/c.md", "---\n---\n")
    (hostile.project / "content/lessons/d.md").symlink_to(secret)
    errors = hostile.run(capsys)
    for path in ("a.md:11", "b.md:1", "c.md:1", "d.md:0"):
        assert any(e.startswith(f"content/lessons/{path}: ") for e in errors), (path, errors)


# -- raw HTML is warned about where it was written ----------------------------------------


def test_raw_html_that_will_be_dropped_is_a_warning_at_its_line(hostile, capsys):
    hostile.write(
        NEW,
        GOOD_LESSON.replace(
            "正文。",
            '正文。\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(1))\n\n段落{: onclick="alert(1)" }\n\n'
            "<details><summary>更多</summary>表格和折叠块可以用。</details>",
        ),
    )
    code = main(["build", "--project", str(hostile.project), "--only", "site", "--quiet", "--strict"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{NEW}:15: 警告：<script> 标签 会被去掉" in err
    assert f"{NEW}:17: 警告：链接 'javascript:alert(1' 会被去掉" in err
    assert f"{NEW}:19: 警告：事件属性 onclick 会被去掉" in err
    assert f"{NEW}:21:" not in err  # details/summary are allowed


def test_html_in_a_title_is_a_warning_that_it_shows_as_text(hostile, capsys):
    hostile.write(NEW, GOOD_LESSON.replace("title: 新课程", 'title: "<img src=x onerror=alert(1)>新课程"'))
    code = main(["build", "--project", str(hostile.project), "--only", "site", "--quiet", "--strict"])
    assert code == 1
    assert f"{NEW}:2: 警告：'title' 里的 HTML 不会生效，会按原样显示成文字：这里只写纯文字" in capsys.readouterr().err


def test_files_in_hidden_folders_are_never_content(hostile, capsys):
    hostile.write(".git-like/secret.png", (hostile.project / "media" / "bp.png").read_bytes())
    hostile.write(NEW, GOOD_LESSON.replace("正文。", "正文。\n\n![图](../../.git-like/secret.png)"))
    errors = hostile.run(capsys)
    assert any(e.startswith(f"{NEW}:15: 图片 '../../.git-like/secret.png' 在隐藏文件夹里") for e in errors), errors
