"""YAML parsing that remembers where every key and list item stood.

PyYAML's ``SafeLoader`` knows each node's position but drops it when it builds
Python values; these subclasses keep it, so validation can say
``content/lessons/x.md:4: …`` about the exact key, item or option.
"""

from __future__ import annotations

from typing import Any

import yaml

from builder.diagnostics import Diagnostics


class YamlMap(dict[str, Any]):
    """A YAML mapping that knows the line of the mapping and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A YAML sequence that knows the line of the sequence and of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _PositionLoader(yaml.SafeLoader):
    line_offset = 0
    duplicate_keys: list[tuple[int, str]]

    def _line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.line_offset

    def construct_yaml_map_with_lines(self, node: yaml.MappingNode):  # type: ignore[override]
        result = YamlMap()
        result.key_lines = {}
        result.line = self._line(node)
        yield result
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            # Keys are compared as text: editors write `2026: …` or `yes: …` and
            # mean the words, not a number or a boolean.
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                self.duplicate_keys.append((self._line(key_node), key))
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = self._line(key_node)

    def construct_yaml_seq_with_lines(self, node: yaml.SequenceNode):  # type: ignore[override]
        result = YamlList()
        result.line = self._line(node)
        result.item_lines = [self._line(child) for child in node.value]
        yield result
        result.extend(self.construct_object(child, deep=True) for child in node.value)


_PositionLoader.add_constructor("tag:yaml.org,2002:map", _PositionLoader.construct_yaml_map_with_lines)
_PositionLoader.add_constructor("tag:yaml.org,2002:seq", _PositionLoader.construct_yaml_seq_with_lines)


def load_yaml(text: str, path: str, diagnostics: Diagnostics, line_offset: int = 0) -> Any | None:
    """Parse ``text``; on a syntax error record it with its line and return None.

    ``line_offset`` is the number of file lines before ``text`` starts (front
    matter begins after the opening ``---``), so reported lines match the file.
    """
    loader = _PositionLoader(text)
    loader.line_offset = line_offset
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        problem = exc.problem or exc.context or "无法解析"
        diagnostics.error(path, line, f"YAML 格式错误：{problem}（检查缩进、冒号后的空格和引号是否成对）")
        return None
    except yaml.YAMLError as exc:
        diagnostics.error(path, line_offset + 1, f"YAML 格式错误：{exc}")
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicate_keys:
        diagnostics.error(path, line, f"重复的键 '{key}'：同一个键只能写一次")
    return data
