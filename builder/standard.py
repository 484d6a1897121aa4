"""The community-health-assistant standard (社群健康助理员, 4-14-01-04, 2021 edition).

Facts from §3 (functions and work items) and §4.1 (theory-knowledge weights per
level), used to tag lessons and questions and to assemble practice exams.
"""

from __future__ import annotations

import re

LEVELS = ("四级", "三级", "二级")  # 中级工, 高级工, 技师 — each covers the ones before it

# Areas of the theory-knowledge weight table, in the table's order. The first two
# are the standard's "基本要求" and have no work-item codes: content tags them by name.
AREAS = (
    "职业道德",
    "基础知识",
    "健康档案管理",
    "健康科普教育",
    "健康咨询",
    "就诊协助",
    "健康促进协助",
    "公共卫生事务协助",
    "培训、指导与研究",
)
NAMED_AREAS = AREAS[:2]
FUNCTION_AREAS = {str(number): area for number, area in enumerate(AREAS[2:], start=1)}  # "1" → 健康档案管理

# §4.1 理论知识权重表, percent per area for 四级 / 三级 / 二级.
THEORY_WEIGHTS: dict[str, tuple[int, ...]] = {
    "四级": (5, 20, 10, 10, 10, 20, 10, 15, 0),
    "三级": (5, 10, 10, 15, 15, 15, 15, 10, 5),
    "二级": (5, 5, 10, 15, 20, 10, 15, 10, 10),
}

# §3 work items: "1.1:3" = work content 1.1 has items 1.1.1–1.1.3 at that level. Taken from
# the standard's tables; 三级 4.2 has five (4.2.4 "提醒客户执行、遵从医嘱" is written without 能).
_WORK_ITEMS = {
    "四级": "1.1:3 1.2:3 1.3:2 2.1:3 2.2:3 2.3:3 3.1:3 3.2:2 3.3:2 4.1:4 4.2:4 4.3:3 5.1:3 5.2:4 5.3:3 "
    "6.1:4 6.2:4 6.3:3 6.4:3",
    "三级": "1.1:2 1.2:3 1.3:3 2.1:4 2.2:2 2.3:3 3.1:2 3.2:3 3.3:4 4.1:4 4.2:5 4.3:3 5.1:3 5.2:3 5.3:2 "
    "6.1:4 6.2:3 6.3:2 6.4:2 7.1:3 7.2:3",
    "二级": "1.1:2 1.2:3 1.3:2 2.1:3 2.2:3 2.3:3 3.1:3 3.2:4 3.3:2 4.1:4 4.2:3 5.1:3 5.2:3 5.3:2 6.1:3 "
    "6.2:3 6.3:2 6.4:2 7.1:4 7.2:3 7.3:5",
}
WORK_ITEMS: dict[str, frozenset[str]] = {
    level: frozenset(
        code
        for entry in table.split()
        for content, count in [entry.split(":")]
        for code in (content, *(f"{content}.{n}" for n in range(1, int(count) + 1)))
    )
    for level, table in _WORK_ITEMS.items()
}


def levels_with(code: str) -> list[str]:
    """The levels whose §3 table has this work content or item (a named area: every level)."""
    return [level for level in LEVELS if code in NAMED_AREAS or code in WORK_ITEMS[level]]


# §4.2 技能要求权重表, percent per function area (健康档案管理 … 培训、指导与研究).
SKILL_WEIGHTS: dict[str, tuple[int, ...]] = {
    "四级": (10, 15, 15, 25, 15, 20, 0),
    "三级": (10, 10, 20, 20, 15, 20, 5),
    "二级": (10, 10, 20, 20, 15, 15, 10),
}

CODE = re.compile(r"^[1-7]\.[1-9](\.[1-9]\d?)?$")


def is_competency(tag: str) -> bool:
    return bool(CODE.match(tag)) or tag in NAMED_AREAS


def area_of(tag: str) -> str:
    """The weight-table area a competency tag belongs to ("2.1.3" → 健康科普教育)."""
    return tag if tag in NAMED_AREAS else FUNCTION_AREAS[tag.split(".")[0]]


def level_rank(level: str) -> int:
    return LEVELS.index(level)
