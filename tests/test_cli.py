"""The `kepu` command as users run it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import REPO


def kepu(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "builder", *args],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )


def break_lesson(project: Path) -> None:
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    text = lesson.read_text(encoding="utf-8").replace("audiences: [老年人]", "audiences: [外星人]")
    lesson.write_text(text.replace("title: 流感与疫苗接种", "titel: 流感与疫苗接种"), encoding="utf-8")


def test_build_with_content_errors_exits_1_with_every_error_and_no_traceback(project: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert kepu("build", "--project", str(project), "--out", str(out), "--only", "site").returncode == 0
    before = (out / "manifest.json").read_bytes()
    break_lesson(project)
    result = kepu("build", "--project", str(project), "--out", str(out), "--only", "site")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert "content/lessons/flu-vaccine.md:2: 未知的键 'titel'，是不是想写 'title'？" in lines
    assert any(line.startswith("content/lessons/flu-vaccine.md:4: 未知的人群 '外星人'") for line in lines)
    assert lines[-1] == "构建失败：3 个错误。原有输出没有改动。"
    assert (out / "manifest.json").read_bytes() == before


def test_check_json_lists_diagnostics_and_writes_nothing(project: Path):
    break_lesson(project)
    result = kepu("check", "--project", str(project), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 3
    first = report["diagnostics"][0]
    assert set(first) == {"path", "line", "message", "severity"}
    assert not (project / "public").exists()


def test_strict_turns_warnings_into_failure(project: Path):
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("2026-09-15", "2020-01-01"), encoding="utf-8"
    )
    relaxed = kepu("check", "--project", str(project))
    assert relaxed.returncode == 0 and "警告：内容审核已超过 365 天" in relaxed.stderr
    assert kepu("check", "--project", str(project), "--strict").returncode == 1
    strict_build = kepu("build", "--project", str(project), "--only", "site", "--strict")
    assert strict_build.returncode == 1 and not (project / "public").exists()


def test_unknown_output_is_a_clear_error(project: Path):
    result = kepu("build", "--project", str(project), "--only", "site,fax")
    assert result.returncode == 1 and "未知的输出 fax" in result.stderr and "Traceback" not in result.stderr


def test_new_writes_valid_files_and_refuses_to_overwrite(project: Path):
    for kind, name in (("lesson", "sleep-well"), ("quiz", "sleep-quiz"), ("campaign", "sleep-month")):
        result = kepu("new", kind, name, "--project", str(project))
        assert result.returncode == 0, result.stderr
    folder = {"lesson": "lessons", "quiz": "quizzes", "campaign": "campaigns"}
    for kind, name in (("lesson", "sleep-well"), ("quiz", "sleep-quiz"), ("campaign", "sleep-month")):
        assert (project / "content" / folder[kind] / f"{name}.md").is_file()
    check = kepu("check", "--project", str(project))
    assert check.returncode == 0, check.stderr
    lesson = project / "content" / "lessons" / "sleep-well.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n编辑过的内容\n", encoding="utf-8")
    again = kepu("new", "lesson", "sleep-well", "--project", str(project))
    assert again.returncode == 1 and "已经存在，不会覆盖" in again.stderr
    assert lesson.read_text(encoding="utf-8").endswith("编辑过的内容\n")
    bad = kepu("new", "lesson", "睡眠", "--project", str(project))
    assert bad.returncode == 1 and "只能用小写英文字母" in bad.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_previews_the_site_and_rebuilds_on_change(project: Path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "builder", "serve", "--project", str(project), "--port", str(port)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/lessons/flu-vaccine/"

    def fetch() -> str | None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode("utf-8")
        except OSError:
            return None

    def wait_for(condition, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            page = fetch()
            if page is not None and condition(page):
                return page
            time.sleep(0.3)
        raise AssertionError("condition not met in time")

    try:
        wait_for(lambda page: "流感与疫苗接种" in page)
        lesson = project / "content" / "lessons" / "flu-vaccine.md"
        lesson.write_text(
            lesson.read_text(encoding="utf-8").replace("title: 流感与疫苗接种", "title: 流感疫苗每年打"),
            encoding="utf-8",
        )
        wait_for(lambda page: "流感疫苗每年打" in page)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_piped_build_shows_plain_progress_and_a_summary(project: Path):
    # Posts, not print: the same per-unit progress, at a tenth of the time.
    first = kepu("build", "--project", str(project), "--only", "site,posts")
    assert first.returncode == 0, first.stderr
    assert "[posts] 3 项" in first.stderr and "[posts] 3/3" in first.stderr
    assert "\x1b" not in first.stderr + first.stdout and "\r" not in first.stderr + first.stdout
    assert "新渲染 " in first.stdout and "从缓存复用 0 个" in first.stdout
    again = kepu("build", "--project", str(project), "--only", "site,posts")
    assert "新渲染 0 个" in again.stdout
    assert "posts " in again.stdout.splitlines()[-1]  # seconds per stage
