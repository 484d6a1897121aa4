"""End-to-end builds of the fixture project: output, manifest, atomicity, overrides."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import TODAY

from builder.diagnostics import ContentError
from builder.pipeline import build


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_build_writes_site_and_manifest(built_site: Path):
    assert (built_site / "site" / "index.html").is_file()
    manifest = json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))
    entries = {entry["path"]: entry for entry in manifest["artifacts"]}
    lesson_page = entries["site/lessons/hypertension-basics/index.html"]
    assert lesson_page == {
        "kind": "site",
        "path": "site/lessons/hypertension-basics/index.html",
        "source": "content/lessons/hypertension-basics.md",
        "audiences": ["老年人", "慢性病患者"],
        "sha256": hashlib.sha256((built_site / lesson_page["path"]).read_bytes()).hexdigest(),
    }
    # Every file in the output is in the manifest, and nothing else is.
    on_disk = set(tree_digest(built_site)) - {"manifest.json"}
    assert on_disk == set(entries)
    assert [e["path"] for e in manifest["artifacts"]] == sorted(entries)


def test_two_builds_give_identical_bytes(built_site: Path, project: Path):
    build(project, only=["site"], today=TODAY)
    first = (project / "public" / "manifest.json").read_bytes()
    build(project, only=["site"], today=TODAY)
    assert (project / "public" / "manifest.json").read_bytes() == first
    assert first == (built_site / "manifest.json").read_bytes()


def test_failed_build_leaves_previous_output_untouched(project: Path):
    build(project, only=["site"], today=TODAY)
    before = tree_digest(project / "public")
    lesson = project / "content" / "lessons" / "flu-vaccine.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("audiences: [老年人]", "audiences: [外星人]"),
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as failure:
        build(project, only=["site"], today=TODAY)
    assert next(str(d) for d in failure.value.diagnostics.errors).startswith(
        "content/lessons/flu-vaccine.md:4: 未知的人群 '外星人'"
    )
    assert tree_digest(project / "public") == before
    # No staging folders are left behind beside the output.
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".")) == [".kepu-cache"]


def test_renderer_failure_also_leaves_previous_output(project: Path, monkeypatch):
    build(project, only=["site"], today=TODAY)
    before = tree_digest(project / "public")

    def broken(_project, _ctx):
        yield from ()
        raise RuntimeError("renderer crashed")

    from builder.renderers import Renderer

    crashing = Renderer(name="site", label="网站", kinds=("site",), render=broken)
    monkeypatch.setattr("builder.pipeline.registry", lambda: {"site": crashing})
    with pytest.raises(RuntimeError):
        build(project, only=["site"], today=TODAY)
    assert tree_digest(project / "public") == before


def test_content_and_media_are_never_modified(project: Path):
    before = tree_digest(project / "content") | tree_digest(project / "media")
    build(project, only=["site"], today=TODAY)
    assert tree_digest(project / "content") | tree_digest(project / "media") == before


def test_lesson_page_shows_everything_a_reader_needs(built_site: Path):
    page = (built_site / "site" / "lessons" / "hypertension-basics" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "<h1" in page and "认识高血压" in page
    assert "血压多高算高血压，为什么要长期管理。" in page
    assert 'href="../../audiences/elderly/"' in page and 'href="../../topics/chronic-disease/"' in page
    points = page[page.index("kepu-points") :]
    assert "遵医嘱长期服药，不要自行停药" in points[: points.index("</div>")]
    assert "示例社区卫生服务中心 全科医师" in page and "2026年3月1日" in page
    # Chinese heading anchors, not #_1.
    assert 'id="什么是高血压"' in page
    # The image is copied and linked relative to the page.
    assert 'src="../../media/bp.png"' in page
    assert (built_site / "site" / "media" / "bp.png").is_file()
    # The quiz that names this lesson links back from it.
    assert 'href="../../quizzes/hypertension-quiz/"' in page


def test_audience_topic_campaign_and_quiz_pages(built_site: Path):
    site = built_site / "site"
    elderly = (site / "audiences" / "elderly" / "index.html").read_text(encoding="utf-8")
    assert "认识高血压" in elderly and "流感与疫苗接种" in elderly and "粉尘与尘肺病" not in elderly
    topic = (site / "topics" / "occupational-health" / "index.html").read_text(encoding="utf-8")
    assert "粉尘与尘肺病" in topic
    campaign = (site / "campaigns" / "dust-month" / "index.html").read_text(encoding="utf-8")
    for text in (
        "职业健康知识知晓率",
        "≥85%",
        "全面实施",
        "2026年5月8日",
        "讲座",
        "14:00-15:30",
        "示例工地生活区会议室",
    ):
        assert text in campaign
    assert 'href="../../lessons/dust-pneumoconiosis/"' in campaign
    quiz = (site / "quizzes" / "hypertension-quiz" / "index.html").read_text(encoding="utf-8")
    assert "诊断高血压的血压标准是多少？" in quiz and "很多人早期没有任何症状" in quiz


def test_pages_request_nothing_from_other_hosts(built_site: Path):
    external = re.compile(r"""(?:src|href)=["'](?:https?:)?//(?!health\.example\.org)""")
    for page in (built_site / "site").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        loads = [
            m
            for m in external.finditer(text)
            if "<link" in text[max(0, m.start() - 80) : m.start()] or "src=" in m.group(0)
        ]
        assert not loads, f"{page}: {[m.group(0) for m in loads]}"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_navigation_does_not_list_every_lesson(project: Path, write):
    for index in range(40):
        write(
            f"content/lessons/extra-{index:02d}.md",
            f"""
            ---
            title: 附加课程第{index}课
            summary: 用来测量导航大小的课程。
            audiences: [老年人]
            topics: [慢性病防治]
            key_points: [第一条, 第二条, 第三条]
            reviewed_by: 示例社区卫生服务中心 全科医师
            reviewed_on: 2026-10-01
            ---
            正文。
            """,
        )
    build(project, only=["site"], today=TODAY)
    page = (project / "public" / "site" / "lessons" / "flu-vaccine" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "附加课程" not in page  # no other lesson leaks into a lesson page's navigation


def test_project_template_overrides_the_default(project: Path, write):
    write("templates/site/pages/term.md.j2", "---\ntitle: 自定义\n---\n# 自定义人群页 {{ term.label }}\n")
    build(project, only=["site"], today=TODAY)
    page = (project / "public" / "site" / "audiences" / "elderly" / "index.html").read_text(encoding="utf-8")
    assert "自定义人群页 老年人" in page
    lesson = (project / "public" / "site" / "lessons" / "flu-vaccine" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "kepu-points" in lesson  # other templates keep their defaults


def test_jieba_user_dictionary_holds_glossary_and_vocabulary(project: Path):
    from builder.diagnostics import Diagnostics
    from builder.project import load_project
    from builder.search_terms import user_dictionary

    words = user_dictionary(load_project(project, Diagnostics(), today=TODAY))
    for word in ("尘肺病", "三减三健", "健康小屋", "流感疫苗", "慢性病患者", "老年人", "宣传栏"):
        assert word in words


def test_search_index_segments_chinese_and_carries_no_hidden_tags(built_site: Path):
    from builder.site.search_index import read_pages, read_words

    words = read_words(built_site / "site")  # the build's jieba segments, as the worker gets them
    assert {"流感疫苗", "尘肺病"} <= words  # glossary terms stay one word
    # Sub-words are found by Kepu's worker inside words; nothing hidden is shown as chips.
    assert all(set(page) == {"l", "t", "x", "s"} for page in read_pages(built_site / "site"))
    index = json.loads((built_site / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["kepu_variants"]["壓"] == "压"


def test_dashboard_and_qr_codes_made_in_a_second_process_give_the_same_site(project: Path, monkeypatch):
    """Large projects analyse lessons and draw QR codes in a worker while MkDocs runs: same bytes."""
    from builder.renderers import site
    from builder.site.guard import SHARE_QR_MARK

    build(project, only=["site"], today=TODAY, jobs=1, use_cache=False)
    in_process = tree_digest(project / "public")
    used_jobs = []
    real_background = site.background

    def recording_background(jobs: int):
        used_jobs.append(jobs)
        return real_background(jobs)

    monkeypatch.setattr(site, "BACKGROUND_MIN_LESSONS", 1)
    monkeypatch.setattr(site, "background", recording_background)
    build(project, only=["site"], today=TODAY, jobs=2, use_cache=False)
    assert used_jobs == [2]
    worker = tree_digest(project / "public")
    # Every page, picture and script is the same. The search index (and the two files that
    # list its size and hash) differed once in a full-suite run on a loaded machine and never
    # when run alone: see test_the_search_index_is_the_same_when_made_beside_a_worker.
    derived = {"site/search/search_index.json", "site/offline-files.json", "manifest.json"}
    assert {k: v for k, v in worker.items() if k not in derived} == {
        k: v for k, v in in_process.items() if k not in derived
    }
    dashboard = (project / "public/site/dashboard/index.html").read_text(encoding="utf-8")
    assert 'href="../lessons/hypertension-basics/"' in dashboard
    lesson = (project / "public/site/lessons/hypertension-basics/index.html").read_text(encoding="utf-8")
    assert '<svg role="img" aria-label="本课网址的二维码"' in lesson
    assert SHARE_QR_MARK not in lesson


def test_the_search_index_is_the_same_when_made_beside_a_worker(project: Path, monkeypatch, tmp_path: Path):
    """Same index whatever ran before in the process (it once differed in a full-suite run).

    The cause: Material loads the project's user dictionary into jieba's global
    tokenizer on every build, and each load raised the words' frequencies and the
    total, so the n-th build segmented differently. A full test run builds dozens of
    sites in one process; here the dictionary is loaded as often before the second
    build, which is also made beside a worker.
    """
    import jieba

    from builder.diagnostics import Diagnostics
    from builder.project import load_project
    from builder.renderers import site
    from builder.search_terms import user_dictionary

    build(project, only=["site"], today=TODAY, jobs=1, use_cache=False)
    in_process = (project / "public/site/search/search_index.json").read_bytes()
    userdict = tmp_path / "earlier-builds.txt"
    words = "".join(
        f"{word}\n" for word in user_dictionary(load_project(project, Diagnostics(), today=TODAY))
    )
    userdict.write_text(words, encoding="utf-8")
    for _ in range(40):
        jieba.load_userdict(str(userdict))
    monkeypatch.setattr(site, "BACKGROUND_MIN_LESSONS", 1)
    build(project, only=["site"], today=TODAY, jobs=2, use_cache=False)
    assert (project / "public/site/search/search_index.json").read_bytes() == in_process


def test_share_qr_codes_not_ready_in_time_are_filled_in_after_mkdocs(tmp_path: Path):
    from concurrent.futures import Future
    from types import SimpleNamespace

    from builder.site.guard import SHARE_QR_MARK
    from builder.site.pages import LateContent

    qr_codes: Future[dict[str, str]] = Future()
    late = LateContent(dashboard=Future(), qr_codes=qr_codes)
    built = tmp_path / "lessons/a/index.html"
    built.parent.mkdir(parents=True)
    page = SimpleNamespace(file=SimpleNamespace(src_uri="lessons/a.md", abs_dest_path=str(built)))
    output = late.on_post_page(f"<figure>{SHARE_QR_MARK}</figure>", page=page, config=None)
    assert output == f"<figure>{SHARE_QR_MARK}</figure>"  # not ready: MkDocs writes the marker
    built.write_text(output, encoding="utf-8")
    qr_codes.set_result({"a": "<svg>a</svg>"})
    late.fill_pending()
    assert built.read_text(encoding="utf-8") == "<figure><svg>a</svg></figure>"
    ready = late.on_post_page(f"<figure>{SHARE_QR_MARK}</figure>", page=page, config=None)
    assert ready == "<figure><svg>a</svg></figure>"
