"""YAML loading that remembers where every value was written, for errors with line and column."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Problem


@dataclass(frozen=True, slots=True)
class Located:
    """A loaded YAML document plus ``positions``: key path -> (line, column), 1-based."""

    value: Any
    positions: dict[tuple, tuple[int, int]]

    def where(self, path: tuple) -> tuple[int, int]:
        """The position of ``path``, or of its nearest written ancestor."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))


def load_located(text: str, filename: str) -> tuple[Located | None, list[Problem]]:
    """Parse ``text``; on a syntax error return the problem with its line and column.

    Duplicate keys in a mapping are reported (PyYAML silently keeps the last one).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = err.problem or str(err)
        if err.context:
            what = f"{what} ({err.context})"
        if "block" in what or "mapping values are not allowed" in what:
            what += ": check the indentation of this line and the one before"
        elif "found character '\\t'" in what:
            what += ": YAML indents with spaces, not tabs"
        return None, [Problem(filename, f"invalid YAML: {what}", line, col)]
    except yaml.YAMLError as err:
        return None, [Problem(filename, f"invalid YAML: {err}", 1, 1)]
    positions: dict[tuple, tuple[int, int]] = {}
    problems: list[Problem] = []
    value = _convert(node, (), positions, problems, filename) if node is not None else None
    return Located(value, positions), problems


def _convert(node: yaml.Node, path: tuple, positions: dict, problems: list[Problem], filename: str) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                problems.append(Problem(filename, f"duplicate key {key!r} (the later one would silently win); "
                                                  "remove one", key_node.start_mark.line + 1,
                                        key_node.start_mark.column + 1, _dotted(path)))
            out[key] = _convert(value_node, path + (key,), positions, problems, filename)
            positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, path + (i,), positions, problems, filename) for i, v in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return str(node.value)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out

