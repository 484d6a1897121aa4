"""Chinese search: the jieba user dictionary and the sub-word index.

mkdocs-material segments Chinese text with ``jieba.cut`` at build time and the
browser matches query words against those segments (prefix matches only). Two
things follow:

* Domain terms jieba does not know (尘肺病, 三减三健, 健康小屋) must be single
  words, or a search for them matches every page that has 尘 or 健康. Kepu
  writes a user dictionary from the vocabularies, the glossary in
  ``site_config.yml`` and terms editors put in quotes (「三减三健」) in titles,
  summaries and key points.
* A long word hides the short words inside it: 流感疫苗 is one segment, so a
  search for 疫苗 would miss it. After the build, each long segment's dictionary
  sub-words are added to the index as hidden keywords of that page section.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jieba

from builder.model import Project

HAN_WORD = re.compile(r"^[\u4e00-\u9fff]{2,12}$")
QUOTED_TERM = re.compile(r"[「“《『]([\u4e00-\u9fff]{2,12})[」”》』]")
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")


def user_dictionary(project: Project) -> list[str]:
    config = project.config
    words = set(config.glossary)
    for vocabulary in (config.audiences, config.topics, config.channels):
        words.update(vocabulary.labels())
    for lesson in project.lessons:
        for text in (lesson.title, lesson.summary, *lesson.key_points):
            words.update(QUOTED_TERM.findall(text))
    return sorted(word for word in words if HAN_WORD.match(word))


def subwords(token: str) -> list[str]:
    """The words a long segment is made of: 流感疫苗 → 流感, 疫苗; 慢性病患者 → 慢性病, 慢性, 患者.

    jieba's best split of the segment *without* the whole-segment word, applied
    recursively. Unlike every dictionary word inside the segment, this never
    yields words that straddle a boundary (性病 in 慢性病患者).
    """
    if len(token) < 3:
        return []
    tokenizer = jieba.dt
    dag = tokenizer.get_DAG(token)
    dag[0] = [end for end in dag[0] if end != len(token) - 1] or [0]
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(token, dag, route)
    parts, start = [], 0
    while start < len(token):
        end = route[start][1] + 1
        parts.append(token[start:end])
        start = end
    if len(parts) == 1:
        return []
    found: list[str] = []
    for part in parts:
        for word in ([part] if len(part) >= 2 else []) + subwords(part):
            if word not in found:
                found.append(word)
    return found


def add_search_subwords(index_file: Path) -> None:
    """Give every indexed section the sub-words of its long segments as keywords.

    They go into the ``tags`` field, which material indexes and searches; the
    site stylesheet hides the tags of search results, so readers never see them.
    """
    jieba.initialize()
    index = json.loads(index_file.read_text(encoding="utf-8"))
    known: dict[str, list[str]] = {}
    for doc in index["docs"]:
        segments = set()
        for field in ("title", "text"):
            for run in HAN_RUN.findall(doc.get(field, "").replace("\u200b", " ")):
                segments.add(run)
        extra: list[str] = []
        for segment in sorted(segments):
            if segment not in known:  # the same segments recur on many pages
                known[segment] = subwords(segment)
            for word in known[segment]:
                if word not in extra:
                    extra.append(word)
        if extra:
            doc["tags"] = extra
    index_file.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
