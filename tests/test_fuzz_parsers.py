"""Property-based fuzzing of the parsers editors' files go through, and a time budget for
every regular expression in ``builder/`` on adversarial text.

The property: whatever the bytes of a lesson, quiz or campaign file, loading gives either
a clean model or `path:line` errors — never an exception.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import builder
from builder.campaigns import load_campaign
from builder.config import load_config
from builder.content import load_lesson, load_quiz, read_source
from builder.diagnostics import Diagnostics
from tests.conftest import FIXTURE, TODAY

# Pieces editors (and attackers) put into front matter and bodies.
YAML_PIECES = [
    "title: 认识高血压", "summary: 摘要。", "audiences: [老年人]", "topics: [慢性病防治]",
    "key_points:\n  - 一\n  - 二\n  - 三", "reviewed_on: 2026-02-30", "reviewed_on: 2026-13-01",
    "reviewed_on: 2026-10-01", "start: 2026-04-01", "end: 2026-03-01", "organizer: 示例",
    "goals:\n  - {indicator: 知晓率, target: ≥85%}", "activities:\n  - {title: 讲座, date: 2026-04-02, channel: 讲座}",
    "lessons: [hypertension-basics, nope]", "title: !!binary 5Lit", "a: &a [x]\nb: [*a, *a]", "time: 14:00",
    "cover: ../../../etc/passwd", "cover: file:///etc/passwd", "level: 四级", "competencies: [\"2.1.3\", x]",
    "title: [[[[", "title: '<script>alert(1)</script>'", "key_points: 单个", "? complex\n: key", "- list",
    "title:", ": :", "title: {a: b}", "checks: {ignore: [x]}", "\t", "...",
]  # fmt: skip
BODY_PIECES = [
    "## 题目？", "- [ ] 选项", "- [x] 正确", "- [X] 对", "- [ ] 错", "> 解析", "<!-- competencies: 2.1.3 -->",
    "```", "![图](../../media/bp.png)", "![图](https://x/y.png)", "<img src=x onerror=alert(1)>", "正文。",
    "[链接](javascript:alert(1))", "![" * 30, "<details><summary>x</summary>", "", "- 普通列表", "## ",
]  # fmt: skip


def front_matter_file() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=40))
    body = st.lists(st.one_of(st.sampled_from(BODY_PIECES), st.text(max_size=30)), max_size=12)
    opening = st.sampled_from(["---\n", "", "---\r\n", "\ufeff---\n"])
    closing = st.sampled_from(["---\n", "...\n", "", "--- \n"])
    return st.builds(
        lambda o, pieces, c, b: o + "\n".join(pieces) + "\n" + c + "\n".join(b),
        opening, st.lists(piece, max_size=10), closing, body,
    )  # fmt: skip


@pytest.fixture(scope="module")
def config_and_root(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fuzz") / "project"
    shutil.copytree(FIXTURE, root)
    diagnostics = Diagnostics()
    config = load_config(root, diagnostics)
    assert config is not None and not diagnostics.errors
    return config, root


def load_any(root: Path, config, kind: str, data: bytes) -> Diagnostics:
    folder = root / "content" / kind
    path = folder / "fuzz-case.md"
    path.write_bytes(data)
    diagnostics = Diagnostics()
    try:
        src = read_source(root, path, diagnostics)
        if src is None:
            return diagnostics
        if kind == "lessons":
            load_lesson(root, src, config, diagnostics, TODAY)
        elif kind == "quizzes":
            load_quiz(src, config, {}, diagnostics)
        else:
            load_campaign(src, config, {}, diagnostics)
    finally:
        path.unlink()
    return diagnostics


def assert_clean_diagnostics(diagnostics: Diagnostics) -> None:
    for item in diagnostics.items:
        assert item.path == f"content/{item.path.split('/')[1]}/fuzz-case.md"
        assert isinstance(item.line, int) and item.line >= 0
        assert item.message and "Traceback" not in item.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=front_matter_file(), kind=st.sampled_from(["lessons", "quizzes", "campaigns"]))
def test_any_structured_file_loads_or_gives_path_line_errors(config_and_root, text, kind):
    config, root = config_and_root
    assert_clean_diagnostics(load_any(root, config, kind, text.encode("utf-8")))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), kind=st.sampled_from(["lessons", "quizzes", "campaigns"]))
def test_any_bytes_load_or_give_path_line_errors(config_and_root, data, kind):
    config, root = config_and_root
    assert_clean_diagnostics(load_any(root, config, kind, b"---\n" + data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.sampled_from([*YAML_PIECES, "site: x", "brand: {logo: /etc/passwd}"]), max_size=6))
def test_any_site_config_loads_or_gives_path_line_errors(tmp_path_factory, extra):
    root = tmp_path_factory.mktemp("config")
    base = (FIXTURE / "site_config.yml").read_text(encoding="utf-8")
    (root / "site_config.yml").write_text(base + "\n".join(extra) + "\n", encoding="utf-8")
    diagnostics = Diagnostics()
    load_config(root, diagnostics)
    for item in diagnostics.items:
        assert item.path == "site_config.yml" and item.line >= 0


# -- regular expressions on adversarial text -------------------------------------------

SIZE = 100_000
# CPU seconds of this process, not the wall clock: a backtracking pattern burns CPU whatever
# the load, while a linear one must not fail because other processes share the cores.
BUDGET_SECONDS = 2.0


def builder_patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for info in pkgutil.walk_packages(builder.__path__, "builder."):
        if info.name.endswith("__main__"):  # importing it runs the command line
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{info.name}.{name}", value))
    return found


def adversarial_texts(pattern: re.Pattern[str]) -> list[str]:
    """Repetitions of the pattern's own literals and of Markdown/HTML openers, 100 KB each."""
    literals = set(re.sub(r"\\[a-zA-Z]|[\\^$.|?*+()\[\]{}]", "", pattern.pattern)) - {" "}
    seeds = ["![", "[", "](", "![a](", "<img ", "<", "a", " ", "\t", "-", "*", "#", "`", ">", "=", '"', "1", "中", "，",
             "{:", "\\", "- [ ] ", "<!--", "&#", "url(", "\n"]  # fmt: skip
    seeds += sorted(literals - set("".join(seeds)))[:12]
    texts = [seed * (SIZE // len(seed)) for seed in seeds]
    texts += [seed * (SIZE // len(seed) // 2) + "\u0000!" for seed in ("![", "<img src=", " ", "a1")]
    return texts


@pytest.mark.slow
@pytest.mark.parametrize(("name", "pattern"), builder_patterns(), ids=lambda value: value if isinstance(value, str) else "")
def test_no_regex_in_builder_backtracks_catastrophically(name, pattern):
    for text in adversarial_texts(pattern):
        started = time.process_time()
        for _ in pattern.finditer(text):
            if time.process_time() - started > BUDGET_SECONDS:
                break
        elapsed = time.process_time() - started
        assert elapsed < BUDGET_SECONDS, f"{name} took {elapsed:.1f}s on {text[:12]!r}×{len(text)}"


def test_the_pattern_list_is_not_empty():
    names = [name for name, _ in builder_patterns()]
    assert "builder.content.IMAGE_MARKDOWN" in names and len(names) > 20


