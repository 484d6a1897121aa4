"""No single character alone on a line of any printed document (what a print shop rejects).

The detector reads each PDF's text lines as laid out (pypdfium2) and flags a line that is
one Chinese character (with or without punctuation) after a line ending in Chinese.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest

import builder.print_templates as print_templates
import builder.renderers.printing as printing
from builder.pipeline import build
from builder.widows import keep_last_words
from tests.conftest import TODAY

PUNCTUATION = "。，、；：？！）」》”’…—·,.;:?!)]"
# Key points that end the way the bundled ones did when they left a character alone.
ENDINGS = [
    "非同日三次测量收缩压≥140 mmHg和/或舒张压≥90 mmHg，才能诊断高血压",
    "长期接触85分贝以上的噪声，听力就可能受损",
    "出现头晕恶心时要到阴凉处休息，少量多次喝水，出汗多时补点淡盐水",
]


def widows(pdf: Path) -> list[str]:
    found = []
    document = pdfium.PdfDocument(str(pdf))
    for index in range(len(document)):
        lines = document[index].get_textpage().get_text_range().replace("\r\n", "\n").split("\n")
        for before, line in itertools.pairwise(lines):
            core = line.strip().strip(PUNCTUATION)
            if (
                len(core) == 1
                and re.match(r"[\u4e00-\u9fff]", core)
                and re.search(r"[\u4e00-\u9fff]$", before.strip())
            ):
                found.append(f"{pdf.name} p{index + 1}: …{before.strip()[-10:]}/{line.strip()}")
    return found


def with_endings(project: Path) -> None:
    lesson = project / "content" / "lessons" / "hypertension-basics.md"
    text = lesson.read_text(encoding="utf-8")
    block = "key_points:\n" + "".join(f"  - {point}\n" for point in ENDINGS)
    lesson.write_text(re.sub(r"key_points:\n(?:  - .*\n)+", block, text), encoding="utf-8")


def built_widows(project: Path, out: Path) -> list[str]:
    build(project, out, only=["print"], jobs=2, today=TODAY, use_cache=False)
    return [w for pdf in sorted((out / "print" / "lessons").rglob("*.pdf")) for w in widows(pdf)]


@pytest.mark.slow
def test_no_printed_line_is_one_character(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with_endings(project)
    assert built_widows(project, tmp_path / "kept") == []
    # The detector is not blind: the same documents without the rule leave characters alone.
    monkeypatch.setattr(printing, "keep_last_words", lambda html, words=(): html)
    # (and without key points set as whole words, which keep a point's last word too)
    monkeypatch.setattr(print_templates, "whole_words", lambda piece, words=(): piece)
    assert built_widows(project, tmp_path / "plain") != []


def test_the_last_word_is_kept_whole_with_its_punctuation():
    assert keep_last_words("<p>诊断高血压</p>") == '<p>诊断<span class="keep">高血压</span></p>'
    assert (
        keep_last_words("<li><b>1</b>听力就可能受损。</li>")
        == '<li><b>1</b>听力就可能<span class="keep">受损。</span></li>'
    )
    # A one-character word goes with the word before it; inline elements and spaces may close first.
    assert (
        keep_last_words("<span>专用容器里</span>\n  </p>")
        == '<span>专用<span class="keep">容器里</span></span>\n  </p>'
    )
    # Latin text, entities and one-word blocks are left as they are.
    for html in ("<p>Hello world</p>", "<p>a &amp;</p>", "<td>高血压</td>"):
        assert keep_last_words(html) == html


def test_finding_block_ends_takes_time_linear_in_the_text():
    # A run of text without tags ("![" or "，" a million times) was searched from each of its
    # characters, 200 characters on and back; now once. CPU time: the load of the machine
    # does not count, and the old pattern took about 10 s here.
    for seed in ("![", "，", "中"):
        text = seed * (1_000_000 // len(seed))
        started = time.process_time()
        assert keep_last_words(text) == text
        assert keep_last_words(text + "</p>").startswith(text[:-20])
        assert time.process_time() - started < 0.5, seed
    # Only the end of a long block is looked at, as before: its last word is still kept.
    assert keep_last_words("<p>" + "甲" * 1000 + "诊断高血压</p>") == (
        "<p>" + "甲" * 1000 + '诊断<span class="keep">高血压</span></p>'
    )


def test_key_point_words_are_kept_whole_and_the_text_stays_escaped():
    from builder.cjk import emphasise_figures
    from builder.print_templates import whole_words

    html = str(emphasise_figures("6个月内只吃母乳，不用喂水", whole_words))
    assert '<span class="w">母乳</span>，' in html and '<span class="figure">6个月</span>' in html
    # A one-character last word goes with the word before it (never alone on a line).
    assert str(whole_words("放进专用容器里")).endswith('<span class="w">容器里</span>')
    # Content text is text: markup in it is escaped, inside a kept word or not.
    hostile = str(emphasise_figures('<img src=x onerror=alert(1)>高血压"患者', whole_words))
    assert "<img" not in hostile and "&lt;img" in hostile and "&#34;" in hostile
