"""The architecture's promises: the model is the only reader of sources, and an output is
one module behind the renderer contract (built, checked, cached and listed by the registry)."""

from __future__ import annotations

import builtins
import io
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import builder.pipeline
from builder.cli import main
from builder.pipeline import build, check
from tests.conftest import TODAY


@pytest.fixture
def opened_sources(monkeypatch: pytest.MonkeyPatch, project: Path) -> list[str]:
    """Files under content/ opened after the project has loaded (the list should stay empty)."""
    opened: list[str] = []
    content = (project / "content").resolve()
    real_open, real_io_open = builtins.open, io.open
    loading = [False]

    def watch(real):
        def guarded(file, *args, **kwargs):
            if not loading[0] and isinstance(file, str | Path):
                try:
                    if Path(file).resolve().is_relative_to(content):
                        opened.append(Path(file).resolve().relative_to(content).as_posix())
                except (OSError, ValueError):
                    pass
            return real(file, *args, **kwargs)

        return guarded

    real_load = builder.pipeline.load_project

    def load_then_guard(*args, **kwargs):
        loading[0] = True  # loading is the one stage that reads sources
        try:
            return real_load(*args, **kwargs)
        finally:
            loading[0] = False

    monkeypatch.setattr(builtins, "open", watch(real_open))
    monkeypatch.setattr(io, "open", watch(real_io_open))
    monkeypatch.setattr(builder.pipeline, "load_project", load_then_guard)
    return opened


@pytest.mark.slow
def test_nothing_reads_content_after_loading_in_build_and_check(project: Path, opened_sources: list[str]):
    # One job: every renderer runs in this process, where the guard is.
    build(project, only=["site", "posts", "print"], jobs=1, today=TODAY, use_cache=False)
    check(project, today=TODAY, jobs=1, use_cache=False)
    assert opened_sources == []


def test_the_guard_sees_a_read_of_content(project: Path, opened_sources: list[str]):
    builder.pipeline.load_project(project, builder.pipeline.Diagnostics(), TODAY)
    assert opened_sources == []  # loading may read
    (project / "content" / "lessons" / "flu-vaccine.md").read_text(encoding="utf-8")
    assert opened_sources == ["lessons/flu-vaccine.md"]


# -- a toy output through the registry alone -------------------------------------------

TOY = '''
"""A toy output: one text card per lesson, to prove the contract."""

from builder.diagnostics import Diagnostics
from builder.cache import fingerprint
from builder.renderers.base import Renderer, Unit
from builder.writer import Artifact


def card(job):
    slug, title, points = job
    return f"{title}\\n" + "".join(f"- {point}\\n" for point in points)


def render(project, ctx):
    units = [
        Unit(fingerprint("toy", lesson.slug, lesson.title, lesson.key_points), lesson, lesson.source,
             f"toy/{lesson.slug}.txt")
        for lesson in project.lessons
    ]

    def finish(unit, text, diagnostics: Diagnostics):
        if len(unit.plan.key_points) > 4:
            diagnostics.warning(unit.source, unit.plan.lines.get("key_points", 0), "玩具卡片：要点超过 4 条")
        return [Artifact("toy-card", unit.what, unit.source, data=text.encode("utf-8"))]

    yield from ctx.render_units(
        units, lambda lesson: (lesson.slug, lesson.title, tuple(lesson.key_points)), card, finish
    )


def check(project, diagnostics, cache, jobs):
    for lesson in project.lessons:
        if len(lesson.title) > 4:
            diagnostics.warning(lesson.source, lesson.lines.get("title", 0), "玩具卡片：标题太长")


RENDERER = Renderer(name="toy", label="玩具卡片", kinds=("toy-card",), render=render, check=check)
'''


@pytest.fixture
def toy_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    folder = tmp_path / "toy_module"
    folder.mkdir()
    (folder / "kepu_toy.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    import builder.renderers.base as base

    monkeypatch.setattr(base, "RENDERER_MODULES", [*base.RENDERER_MODULES, "kepu_toy"])
    yield


def test_a_toy_renderer_is_built_checked_cached_and_listed(project: Path, toy_registered, capsys):
    first = build(project, only=["toy"], today=TODAY)
    manifest = json.loads((project / "public" / "manifest.json").read_text(encoding="utf-8"))
    cards = [item for item in manifest["artifacts"] if item["kind"] == "toy-card"]
    assert len(cards) == 3 and first.cache.rendered["toy"] == 3
    assert (project / "public" / "toy" / "flu-vaccine.txt").read_text(encoding="utf-8").startswith("流感")

    again = build(project, only=["toy"], today=TODAY)
    assert again.cache.reused["toy"] == 3 and again.cache.rendered["toy"] == 0
    # A cached unit reports the warnings the fresh one did.
    assert [str(d) for d in again.diagnostics.warnings] == [str(d) for d in first.diagnostics.warnings]

    diagnostics = check(project, today=TODAY)
    assert any("玩具卡片：标题太长" in str(d) for d in diagnostics.warnings)

    with pytest.raises(SystemExit):
        main(["build", "--help"])
    assert "toy（玩具卡片）" in capsys.readouterr().out


def test_every_output_converts_markdown_with_the_sites_extensions():
    """Posts, print and exams use builder.markup; the site uses mkdocs.yml: the same extensions."""
    import re

    from builder.markup import EXTENSION_CONFIGS, EXTENSIONS, markdown_to_html

    template = (Path(__file__).parent.parent / "templates/site/mkdocs.yml.j2").read_text(encoding="utf-8")
    block = template.split("markdown_extensions:", 1)[1].split("\n\n", 1)[0]
    site = {name for name in re.findall(r"^  - ([\w.]+)", block, re.MULTILINE)} - {"toc"}
    assert site == set(EXTENSIONS)
    assert "use_align_attribute: true" in block and EXTENSION_CONFIGS["tables"]["use_align_attribute"] is True

    html = markdown_to_html('!!! warning "马上打 120"\n    胸痛超过 15 分钟\n\n| 项目 | 次数 |\n|:--|--:|\n| 量血压 | 2 |\n')
    assert 'class="admonition warning"' in html and "马上打 120" in html
    assert 'align="right"' in html and "style=" not in html
    # A converter keeps footnotes between calls unless it is reset.
    assert "fn:1" in markdown_to_html("有脚注的一段[^1]。\n\n[^1]: 来源：国家卫生健康委")
    assert "fn:1" not in markdown_to_html("没有脚注的一段。") and markdown_to_html("") == ""
