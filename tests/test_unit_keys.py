"""Cache keys made from a unit's inputs must miss nothing its rendered document shows.

Print, pocket cards and slides key a unit by what it is made from (the lesson, the
config, templates, pictograms, media, fonts, the engine) so a cached build renders no
template. The digest of the planned document itself (its HTML at every step, the
files it links) cannot miss an input, so it is the judge here: after each edit an
editor or a project can make, every unit whose document changed must have a new
key. A key that stayed would publish last week's flyer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURE, TODAY

from builder.diagnostics import Diagnostics
from builder.project import load_project
from builder.renderers import printing
from builder.renderers.fieldkit import cards, slides
from builder.templates import default_templates_dir

Keys = dict[str, tuple[str, str]]  # unit path → (cache key, digest of the planned document)


def unit_keys(root: Path) -> Keys:
    project = load_project(root, Diagnostics(), TODAY)
    assert project is not None
    keys: Keys = {unit.path: (unit.key, unit.plan().job_key) for unit in printing.plan(project)}
    for renderer in (cards, slides):
        keys.update({unit.path: (unit.key, unit.plan().job_key) for unit in renderer.plan(project)})
    return keys


def replace_in(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def own_template(root: Path, rel: str, old: str, new: str) -> None:
    """The project's own copy of a bundled template, with one change."""
    target = root / "templates" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default_templates_dir() / rel, target)
    replace_in(root, f"templates/{rel}", old, new)


FLU = "content/lessons/flu-vaccine.md"
HYPERTENSION = "content/lessons/hypertension-basics.md"
DUST = "content/lessons/dust-pneumoconiosis.md"
CAMPAIGN = "content/campaigns/dust-month.md"
QUIZ = "content/quizzes/hypertension-quiz.md"

EDITS: dict[str, Callable[[Path], None]] = {
    "a lesson's body": lambda root: replace_in(root, FLU, "带上身份证", "带上身份证和医保卡"),
    "a lesson's title": lambda root: replace_in(root, FLU, "title: 流感与疫苗接种", "title: 流感疫苗接种"),
    "a key point": lambda root: replace_in(root, FLU, "每年接种一次流感疫苗", "每年秋季接种一次流感疫苗"),
    "a key point's pictogram": lambda root: replace_in(root, FLU, "icon: vaccine", "icon: calendar"),
    "a lesson's reviewer": lambda root: replace_in(root, FLU, "预防保健科医师", "全科医师"),
    "a lesson's audience": lambda root: replace_in(root, FLU, "audiences: [老年人]", "audiences: [老年人, 慢性病患者]"),
    "the title of a lesson a quiz and a campaign name": lambda root: (
        replace_in(root, HYPERTENSION, "title: ", "title: 新版"),
        replace_in(root, DUST, "title: ", "title: 新版"),
    ),
    "an image's bytes": lambda root: (root / "media" / "bp.png").write_bytes(
        (root / "media" / "bp.png").read_bytes() + b"\0"
    ),
    "the organisation": lambda root: replace_in(root, "site_config.yml", "organization: 示例", "organization: 样例"),
    "the brand colour": lambda root: replace_in(root, "site_config.yml", "#1f7a4d", "#1f5a7a"),
    "the glossary": lambda root: replace_in(root, "site_config.yml", "glossary: [", "glossary: [疫苗接种, "),
    "a print template": lambda root: own_template(root, "print/_footer.html", "</", "<b>修订</b></"),
    "a field-kit template": lambda root: own_template(root, "fieldkit/_kit.css", "{", "{ letter-spacing: 0.01em; ", ),
    "a pictogram": lambda root: own_template(root, "pictograms/vaccine.svg", "</svg>", '<circle cx="4" cy="4" r="2"/></svg>'),
    "a quiz question": lambda root: replace_in(root, QUIZ, "规律运动", "每周规律运动"),
    "an activity's place": lambda root: replace_in(root, CAMPAIGN, "生活区会议室", "生活区食堂"),
    "a campaign's body": lambda root: replace_in(root, CAMPAIGN, "一线。", "一线和宿舍。"),
}


def copy_project(root: Path) -> Path:
    """The test project, with a pictogram on a key point and a picture in the campaign's plan."""
    shutil.copytree(FIXTURE, root)
    replace_in(root, FLU, "  - 每年接种一次流感疫苗", "  - {text: 每年接种一次流感疫苗, icon: vaccine}")
    replace_in(root, CAMPAIGN, "一线。", "一线。\n\n![血压计](../../media/bp.png)")
    return root


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return unit_keys(copy_project(tmp_path_factory.mktemp("baseline") / "project"))


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_every_unit_whose_document_changes_gets_a_new_key(edit: str, baseline: Keys, tmp_path: Path):
    root = copy_project(tmp_path / "project")
    EDITS[edit](root)
    after = unit_keys(root)
    assert after.keys() == baseline.keys()
    changed = [path for path in after if after[path][1] != baseline[path][1]]
    assert changed, f"{edit} changed no document: the edit tests nothing"
    stale = [path for path in changed if after[path][0] == baseline[path][0]]
    assert not stale, f"{edit}: these documents changed but kept their cache key: {stale}"


def test_an_edit_to_one_lesson_leaves_the_other_lessons_keys(baseline: Keys, tmp_path: Path):
    root = copy_project(tmp_path / "project")
    EDITS["a lesson's body"](root)
    after = unit_keys(root)
    moved = sorted(path for path in after if after[path][0] != baseline[path][0])
    assert moved and all("flu-vaccine" in path for path in moved), moved
