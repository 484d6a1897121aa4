"""A synthetic content project of N lessons for benchmarks.

Lessons are assembled from the paragraphs, key points and titles of the
repository's own lessons, so the text is real Chinese of realistic length
(800–2,000 characters) with varied audiences and topics. Deterministic per seed.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _front_and_body(text: str) -> tuple[str, str]:
    _, front, body = text.split("---\n", 2)
    return front, body


def _paragraphs(body: str) -> list[str]:
    return [
        p.strip() for p in re.split(r"\n\s*\n", body) if len(p.strip()) > 40 and not p.startswith(("|", "#"))
    ]


def make_corpus(dest: Path, lessons: int, seed: int = 1) -> Path:
    """Write a project with ``lessons`` lessons, some quizzes and campaigns, into ``dest``."""
    import yaml

    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "content" / "lessons").mkdir(parents=True)
    shutil.copy(REPO / "site_config.yml", dest / "site_config.yml")
    shutil.copytree(REPO / "media", dest / "media")
    config = yaml.safe_load((REPO / "site_config.yml").read_text(encoding="utf-8"))
    audiences = [a["label"] for a in config["audiences"]]
    topics = [t["label"] for t in config["topics"]]

    paragraphs, points, titles = [], [], []
    for src in sorted((REPO / "content" / "lessons").glob("*.md")):
        front, body = _front_and_body(src.read_text(encoding="utf-8"))
        meta = yaml.safe_load(front)
        paragraphs += _paragraphs(body)
        # A key point is its text, or {text, icon} (a pictogram beside it on print).
        points += [point if isinstance(point, str) else point["text"] for point in meta["key_points"]]
        titles.append(meta["title"])

    slugs = []
    for index in range(lessons):
        slug = f"lesson-{index:04d}"
        slugs.append(slug)
        body, length, section = [], 0, 0
        target = rng.randint(800, 2000)
        while length < target:
            if length >= section * 400:
                section += 1
                body.append(f"## 第{section}部分：{rng.choice(titles)[:10]}")
            paragraph = rng.choice(paragraphs)
            body.append(paragraph)
            length += len(paragraph)
        front = {
            "title": f"第{index + 1}课 {rng.choice(titles)}"[:40],
            "summary": rng.choice(paragraphs)[:100],
            "audiences": rng.sample(audiences, rng.randint(1, 3)),
            "topics": rng.sample(topics, rng.randint(1, 2)),
            "key_points": list(dict.fromkeys(rng.sample(points, rng.randint(3, 8)))),
            "reviewed_by": "示例社区卫生服务中心 全科医师",
            "reviewed_on": f"2026-{rng.randint(3, 10):02d}-{rng.randint(1, 28):02d}",
        }
        text = (
            "---\n"
            + yaml.safe_dump(front, allow_unicode=True, sort_keys=False)
            + "---\n\n"
            + "\n\n".join(body)
            + "\n"
        )
        (dest / "content" / "lessons" / f"{slug}.md").write_text(text, encoding="utf-8")

    (dest / "content" / "quizzes").mkdir()
    quiz_src = sorted((REPO / "content" / "quizzes").glob("*.md"))
    for index in range(max(1, lessons // 20)):
        front, body = _front_and_body(quiz_src[index % len(quiz_src)].read_text(encoding="utf-8"))
        meta = yaml.safe_load(front)
        meta["lessons"] = rng.sample(slugs, min(2, len(slugs)))
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body
        (dest / "content" / "quizzes" / f"quiz-{index:03d}.md").write_text(text, encoding="utf-8")

    (dest / "content" / "campaigns").mkdir()
    campaign_src = sorted((REPO / "content" / "campaigns").glob("*.md"))
    for index in range(max(1, lessons // 100)):
        front, body = _front_and_body(campaign_src[index % len(campaign_src)].read_text(encoding="utf-8"))
        meta = yaml.safe_load(front)
        if meta.get("quiz"):  # the bundled quizzes are not in the corpus: one of its own
            meta["quiz"] = f"quiz-{index % max(1, lessons // 20):03d}"
        for activity in meta["activities"]:
            if activity.get("lessons"):
                activity["lessons"] = rng.sample(slugs, 1)
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body
        (dest / "content" / "campaigns" / f"campaign-{index:03d}.md").write_text(text, encoding="utf-8")
    return dest


def add_bundled_lessons(dest: Path) -> list[str]:
    """Copy the repository's own lessons into a corpus made by ``make_corpus``; their slugs.

    The search bench measures at scale with its query set: the lessons a query should find
    must be there, among the synthetic ones whose paragraphs were cut from them.
    """
    slugs = []
    for src in sorted((REPO / "content" / "lessons").glob("*.md")):
        shutil.copy(src, dest / "content" / "lessons" / src.name)
        slugs.append(src.stem)
    return slugs
