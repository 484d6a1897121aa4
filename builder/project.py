"""Load and validate a whole content project: the first two steps of the pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from builder.campaigns import load_campaign
from builder.config import load_config
from builder.content import load_lesson, load_quiz, read_source, sources_in
from builder.diagnostics import Diagnostics
from builder.kits import load_handbooks, load_rooms
from builder.model import Lesson, Project
from builder.results import load_results, stray_result_folders
from builder.skills import load_skills
from builder.sources import load_sources


def load_project(root: Path, diagnostics: Diagnostics, today: dt.date | None = None) -> Project | None:
    """Read ``site_config.yml`` and ``content/``; return None when any error was found.

    Validation never stops at the first problem: every file is read and every
    mistake recorded, so one run shows the editor the whole list.
    """
    today = today or dt.date.today()
    config = load_config(root, diagnostics)
    if config is None:
        return None
    sources = load_sources(root, diagnostics, today)  # before the lessons that cite them

    lessons: dict[str, Lesson] = {}
    for src_path in sources_in(root, "lessons"):
        src = read_source(root, src_path, diagnostics)
        lesson = load_lesson(root, src, config, diagnostics, today) if src else None
        if lesson:
            lessons[lesson.slug] = lesson
    if not sources_in(root, "lessons"):
        diagnostics.warning("content/lessons", 0, "还没有课程：用 kepu new lesson 名称 新建一个")

    quizzes = []
    for src_path in sources_in(root, "quizzes"):
        src = read_source(root, src_path, diagnostics)
        quiz = load_quiz(src, config, lessons, diagnostics) if src else None
        if quiz:
            quizzes.append(quiz)
            for lesson in quiz.lessons:
                lesson.quizzes.append(quiz)

    campaigns = []
    for src_path in sources_in(root, "campaigns"):
        src = read_source(root, src_path, diagnostics)
        campaign = load_campaign(src, config, lessons, diagnostics, {q.slug: q for q in quizzes}) if src else None
        if campaign:
            campaign.results = load_results(root, campaign, diagnostics)
            campaigns.append(campaign)
            for lesson in campaign.lessons:
                lesson.campaigns.append(campaign)

    handbooks = load_handbooks(root, config, lessons, quizzes, diagnostics)

    skills = []  # skill-test scenario cards for kepu exam
    for src_path in sources_in(root, "skills"):
        src = read_source(root, src_path, diagnostics)
        skill_set = load_skills(src, diagnostics) if src else None
        if skill_set:
            skills.append(skill_set)
    rooms = load_rooms(root, lessons, diagnostics)

    stray_result_folders(root, {path.stem for path in sources_in(root, "campaigns")}, diagnostics)

    if diagnostics.errors:
        return None
    return Project(
        root=root,
        config=config,
        lessons=list(lessons.values()),
        quizzes=quizzes,
        campaigns=campaigns,
        handbooks=handbooks,
        rooms=rooms,
        sources=sources,
        skills=skills,
    )
