"""Readability scores kept between builds (prose.Readings): the same scores, never a forged one."""

from __future__ import annotations

from builder.prose import Readings, cldc, read_prose, readability

BODY = """## 怎么量血压

量血压前先安静坐五分钟，不喝咖啡，不抽烟。
袖带绑在上臂，和心脏差不多高。收缩压和舒张压都要记下来。

每天早晚各量一次，复诊时把本子带给医生看。
"""


def sentences():
    return read_prose(BODY, 1).sentences


def test_kept_scores_are_the_scores_worked_out_afresh():
    fresh = (readability(sentences(), skip=["血压"]), cldc(sentences()))
    first = Readings()
    assert first.scores(sentences(), skip=["血压"]) == fresh
    again = Readings(first.used)
    assert again.scores(sentences(), skip=["血压"]) == fresh
    assert again.used == first.used  # what the next build keeps
    # Other skipped words or other sentences are another entry, not this one.
    other = Readings(first.used)
    other.scores(sentences(), skip=[])
    assert set(other.used) != set(first.used)


def test_an_entry_that_is_not_what_kepu_writes_is_worked_out_again():
    fresh = (readability(sentences()), cldc(sentences()))
    key = Readings.key(sentences(), ())
    for forged in (
        "0",
        [[1, 2, 3, 4, [["词", 1]]]],
        [[1, 2, 3, -4, []], [1, 2, 3, 4]],
        [[1, 2, 3, True, []], [1, 2, 3, 4]],
        [[1, 2, 3, 4, [["词", "1"]]], [1, 2, 3, 4]],
        [[1, 2, 3, 4, []], [1, 2, 3]],
    ):
        assert Readings({key: forged}).scores(sentences()) == fresh
