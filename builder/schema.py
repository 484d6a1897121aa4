"""Reading typed values out of a YAML mapping, reporting every problem with its line.

One :class:`FieldReader` wraps one mapping (front matter, a campaign activity,
a config section). Each accessor returns the value or ``None`` and records a
diagnostic instead of raising, so validation always runs to the end.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from typing import Any

from builder.diagnostics import Diagnostics
from builder.yamlpos import YamlList, YamlMap

# YAML's own date forms: 2026-05-01, or with a time after it (the time is dropped).
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ][0-9:.]{1,15}(?:[Zz]|[+-]\d{1,2}(?::\d{2})?)?)?")

TYPE_NAMES = {str: "文字", int: "整数", list: "列表", dict: "键值对", dt.date: "日期（YYYY-MM-DD）"}


def describe(value: Any) -> str:
    if isinstance(value, dict):
        return "键值对"
    if isinstance(value, list):
        return "列表"
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return "是/否"
    if isinstance(value, dt.date):
        return "日期"
    if isinstance(value, int | float):
        return "数字"
    return "文字"


class FieldReader:
    def __init__(self, data: YamlMap, path: str, diagnostics: Diagnostics, where: str = ""):
        self.data = data
        self.path = path
        self.diagnostics = diagnostics
        self.where = where  # e.g. "活动 3" — prefixes messages about nested mappings

    # -- reporting -----------------------------------------------------------
    def line(self, key: str | None = None) -> int:
        return self.data.line_of(key) if key else self.data.line

    def error(self, key: str | None, message: str) -> None:
        self.diagnostics.error(self.path, self.line(key), self._prefix(message))

    def warning(self, key: str | None, message: str) -> None:
        self.diagnostics.warning(self.path, self.line(key), self._prefix(message))

    def _prefix(self, message: str) -> str:
        return f"{self.where}：{message}" if self.where else message

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Unknown keys are errors: they are nearly always typos of a known key."""
        allowed = list(allowed)
        for key in self.data:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"，是不是想写 '{close[0]}'？" if close else f"（可用的键：{', '.join(allowed)}）"
            self.error(key, f"未知的键 '{key}'{hint}")

    # -- typed accessors -----------------------------------------------------
    def raw(self, key: str, required: bool) -> Any | None:
        value = self.data.get(key)
        if value is None or value == "" or value == []:
            if required:
                self.error(None if key not in self.data else key, f"缺少必填项 '{key}'")
            return None
        return value

    def text(self, key: str, required: bool = True, max_len: int | None = None) -> str | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, (bool, dict | list | dt.date)):
            self.error(key, f"'{key}' 应是一段文字，这里是{describe(value)}")
            return None
        value = str(value).strip()
        if max_len is not None and len(value) > max_len:
            self.error(key, f"'{key}' 有 {len(value)} 个字，最多 {max_len} 个字")
        return value

    def integer(self, key: str, required: bool = True, minimum: int | None = None) -> int | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"'{key}' 应是整数，这里是{describe(value)}")
            return None
        if minimum is not None and value < minimum:
            self.error(key, f"'{key}' 不能小于 {minimum}")
            return None
        return value

    def date(self, key: str, required: bool = True) -> dt.date | None:
        """A date written as YYYY-MM-DD (the YAML loader hands dates over as text)."""
        value = self.raw(key, required)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        match = _DATE.fullmatch(text) if isinstance(value, str) else None
        if match is None:
            self.error(key, f"'{key}' 应是日期，写成 2026-05-01 这样的格式，这里是 '{value}'")
            return None
        year, month, day = (int(part) for part in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            # Unprefixed, as the YAML loader worded it before: the line already says where.
            self.diagnostics.error(self.path, self.line(key), f"日期 '{text}' 不存在（检查月份和日子）")
            return None

    def items(
        self,
        key: str,
        required: bool = True,
        min_items: int | None = None,
        max_items: int | None = None,
    ) -> list[tuple[Any, int]]:
        """A list value as (item, line) pairs; a single scalar is taken as a one-item list."""
        value = self.raw(key, required)
        if value is None:
            if min_items and not required and key in self.data:
                self.error(key, f"'{key}' 至少要有 {min_items} 项")
            return []
        if not isinstance(value, list):
            if isinstance(value, dict):
                self.error(key, f"'{key}' 应是列表，这里是键值对")
                return []
            value = [value]
        lines = value.item_lines if isinstance(value, YamlList) else []
        pairs = [(item, lines[i] if i < len(lines) else self.line(key)) for i, item in enumerate(value)]
        count = len(pairs)
        if min_items is not None and count < min_items:
            self.error(key, f"'{key}' 至少要有 {min_items} 项，现在有 {count} 项")
        if max_items is not None and count > max_items:
            self.error(key, f"'{key}' 最多 {max_items} 项，现在有 {count} 项")
        return pairs

    def text_items(self, key: str, required: bool = True, **limits: int) -> list[tuple[str, int]]:
        result = []
        for item, line in self.items(key, required, **limits):
            if isinstance(item, dict | list) or item is None:
                self.diagnostics.error(
                    self.path, line, self._prefix(f"'{key}' 的每一项应是一段文字，这里是{describe(item)}")
                )
                continue
            result.append((str(item).strip(), line))
        return result

    def mapping_items(self, key: str, required: bool = True) -> list[FieldReader]:
        readers = []
        for index, (item, line) in enumerate(self.items(key, required), start=1):
            if not isinstance(item, YamlMap):
                self.diagnostics.error(
                    self.path, line, self._prefix(f"'{key}' 第 {index} 项应是键值对（如 name: …）")
                )
                continue
            readers.append(FieldReader(item, self.path, self.diagnostics))
        return readers
