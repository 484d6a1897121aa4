"""YAML parsing that remembers where every key and list item stood.

PyYAML's ``SafeLoader`` knows each node's position but drops it when it builds
Python values; these subclasses keep it, so validation can say
``content/lessons/x.md:4: …`` about the exact key, item or option.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

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


class _RefusedYaml(ConstructorError):
    """A document Kepu refuses on purpose: its message is complete as it is."""


# Bounds that no honest front matter comes near: they turn a nesting bomb
# (RecursionError) or an alias bomb (memory for minutes) into a line-numbered error.
MAX_DEPTH = 30
MAX_NODES = 50_000  # counted with every alias expanded
MAX_ALIASES = 100


class _PositionLoader(yaml.SafeLoader):
    line_offset = 0
    duplicate_keys: list[tuple[int, str]]
    depth = 0
    aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _RefusedYaml(
                    None, None, f"别名（*…）超过 {MAX_ALIASES} 个", self.peek_event().start_mark
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _RefusedYaml(
                    None,
                    None,
                    f"嵌套超过 {MAX_DEPTH} 层：front matter 和配置里用不到这么深",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_date_as_text(self, node: yaml.ScalarNode) -> str:
        # A date stays the text the editor wrote: an impossible one (2026-02-30) must not
        # abort the whole front matter, or the file's other mistakes only show up on the
        # next run. schema.FieldReader.date turns the text into a date and reports it there.
        return str(node.value)

    def refuse_tag(self, node: yaml.Node) -> None:
        raise _RefusedYaml(
            None,
            None,
            f"不支持 {node.tag.replace('tag:yaml.org,2002:', '!!')} 这种写法：这里只写文字、数字、日期和列表",
            node.start_mark,
        )

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
_PositionLoader.add_constructor("tag:yaml.org,2002:timestamp", _PositionLoader.construct_date_as_text)
for _tag in ("binary", "set", "omap", "pairs"):
    _PositionLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _PositionLoader.refuse_tag)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document with every alias expanded, computed without expanding them."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [root]
    while stack:  # iterative post-order: the depth is bounded, but stay off the C stack anyway
        node = stack.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = -1
        order.append(node)
        stack.extend(_children(node))
    for node in reversed(order):
        sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in _children(node)), MAX_NODES + 1)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str, path: str, diagnostics: Diagnostics, line_offset: int = 0) -> Any | None:
    """Parse ``text``; on a syntax error record it with its line and return None.

    ``line_offset`` is the number of file lines before ``text`` starts (front
    matter begins after the opening ``---``), so reported lines match the file.
    """
    try:
        loader = _PositionLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: checked before parsing starts
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        diagnostics.error(
            path, line, f"这一行有不能出现在 YAML 里的控制字符（编码 {exc.character!r}）：请删掉它"
        )
        return None
    loader.line_offset = line_offset
    loader.duplicate_keys = []
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_NODES:
            raise _RefusedYaml(None, None, f"内容展开后超过 {MAX_NODES} 项（别名套别名？）", node.start_mark)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        problem = exc.problem or exc.context or "无法解析"
        if isinstance(exc, _RefusedYaml):
            diagnostics.error(path, line, problem)
        elif isinstance(exc, ConstructorError) and exc.problem and "constructor for the tag" in exc.problem:
            tag = exc.problem.rsplit("for the tag ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
            diagnostics.error(path, line, f"不支持 {tag} 这种写法：这里只写文字、数字、日期和列表")
        else:
            diagnostics.error(path, line, f"YAML 格式错误：{problem}（检查缩进、冒号后的空格和引号是否成对）")
        return None
    except yaml.YAMLError as exc:
        diagnostics.error(path, line_offset + 1, f"YAML 格式错误：{exc}")
        return None
    except (RecursionError, MemoryError):
        diagnostics.error(path, line_offset + 1, "YAML 嵌套太深或太大，无法读取")
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicate_keys:
        diagnostics.error(path, line, f"重复的键 '{key}'：同一个键只能写一次")
    return data
