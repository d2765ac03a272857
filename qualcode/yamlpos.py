"""Safe YAML loading that remembers where every value was written, for errors with line and column.

Every YAML file qualcode reads (the codebook, front matter, and later claims or manual
codings) goes through :func:`load_located`. PyYAML's SafeLoader composes the node graph;
the values are built here, so that hostile or unusual input becomes located problems
instead of hangs or internal errors:

- aliases may expand to at most ``Limits.alias_values`` values beyond those written
  (a "billion laughs" alias bomb is refused, not expanded), and a recursive alias is refused;
- nesting deeper than ``Limits.depth`` is refused (while composing, so no RecursionError);
- a scalar longer than ``Limits.scalar`` characters, an integer of more than
  ``Limits.digits`` digits, an invalid date and a lone surrogate (``"\\ud800"``) are refused;
- only plain YAML values are read (text, numbers, booleans, null, dates, lists, mappings):
  other tags (``!!python/object``, ``!!binary``, ``!foo``) and merge keys (``<<: *base``)
  are problems, as are keys that are lists or mappings and duplicate keys.
"""
from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:  # libyaml, in PyYAML's wheels: its scanner and parser are about 10 times faster
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

from .errors import Problem


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a YAML document may hold; see the module docstring."""

    depth: int = 64
    alias_values: int = 100_000
    scalar: int = 1_000_000
    digits: int = 100


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Located:
    """A loaded YAML document plus ``positions``: key path -> (line, column), 1-based.

    For a mapping entry ``positions`` holds where its key is written and ``value_positions``
    where its value starts; for a list item both are the item's position.
    """

    value: Any
    positions: dict[tuple, tuple[int, int]]
    value_positions: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[tuple, yaml.ScalarNode] = field(default_factory=dict)  # of string values, to locate characters
    text: str = ""
    line_offset: int = 0

    def where(self, path: tuple, *, value: bool = False) -> tuple[int, int]:
        """The position of ``path`` (its value's with ``value=True``), or of its nearest written ancestor."""
        table = self.value_positions if value else self.positions
        if value and path in table:
            return table[path]
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def where_char(self, path: tuple, index: int) -> tuple[int, int]:
        """The position in the file of character ``index`` of the string at ``path``, as
        written (quotes, escapes and block indentation accounted for); ``where(path)``
        when the string cannot be followed."""
        node = self.scalars.get(path)
        if node is None or not isinstance(node.value, str) or not 0 <= index <= len(node.value):
            return self.where(path, value=True)
        offset = _source_offset(self.text, node, index)
        if offset is None:
            return self.where(path, value=True)
        line = self.text.count("\n", 0, offset)
        return line + 1 + self.line_offset, offset - (self.text.rfind("\n", 0, offset) + 1) + 1


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 5
_SHORT.maxlevel = 3


def excerpt(value: Any) -> str:
    """``repr(value)`` shortened to a few dozen characters, for quoting bad values in messages."""
    return _SHORT.repr(value)


def load_located(text: str, filename: str, *, line_offset: int = 0,
                 limits: Limits = DEFAULT_LIMITS, fast: bool = True) -> tuple[Located | None, list[Problem]]:
    """Parse ``text``; problems come with their line and column (plus ``line_offset``, for
    YAML embedded in a file, such as front matter).

    Returns (None, problems) when the text is not YAML at all, else the value with the
    problems found while building it (duplicate keys, refused tags, limits).

    With ``fast`` (and libyaml installed) the events come from libyaml's parser and are
    composed here, as PyYAML's pure-Python loader composes them (a 3,000-line codebook:
    0.45 s -> 0.05 s); text it cannot parse is parsed again by the pure-Python loader,
    so every message is that loader's. ``fast=False`` is the reference path the tests
    compare it with.
    """
    if fast and CParser is not None and not text.startswith("\ufeff"):  # libyaml counts a BOM, PyYAML not
        node = None
        try:
            loader = _FastLoader(text, limits.depth)
            node = loader.get_single_node()
        except Exception:  # noqa: BLE001 - any trouble: the reference loader says what is wrong
            node = _FAILED
        if node is not _FAILED:
            return _located(node, loader.composed, loader.aliases, text, filename, line_offset, limits)
    loader = None
    try:
        loader = _Loader(text, limits.depth)
        node = loader.get_single_node()
    except _TooDeep as err:
        return None, [Problem(filename, f"nested more than {limits.depth} levels deep: qualcode reads at most "
                                        f"{limits.depth} levels of lists and mappings", *_at(err.mark, line_offset))]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = err.problem or str(err)
        if err.context:
            what = f"{what} ({err.context})"
        if "block" in what or "mapping values are not allowed" in what:
            what += ": check the indentation of this line and the one before"
        elif "found character '\\t'" in what:
            what += ": YAML indents with spaces, not tabs"
        return None, [Problem(filename, f"invalid YAML: {what}", *_at(mark, line_offset))]
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        col = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        return None, [Problem(filename, f"invalid YAML: character U+{err.character:04X} is not allowed in YAML "
                                        "(a control character): remove it", line + line_offset, col)]
    except yaml.YAMLError as err:
        return None, [Problem(filename, f"invalid YAML: {excerpt(str(err))}", 1 + line_offset, 1)]
    finally:
        if loader is not None:
            loader.dispose()
    return _located(node, loader.composed, loader.aliases, text, filename, line_offset, limits)


_FAILED = object()


def _located(node: yaml.Node | None, composed: int, aliases: int, text: str, filename: str, line_offset: int,
             limits: Limits) -> tuple[Located | None, list[Problem]]:
    """The value of a composed document (``composed`` nodes and ``aliases`` written), with its problems."""
    if node is None:
        return Located(None, {}, {}), []
    refused = _expansion_problem(node, composed + limits.alias_values, limits, filename, line_offset) \
        if aliases else None  # without aliases nothing expands or recurs
    if refused is not None:
        return None, [refused]
    builder = _Builder(filename, line_offset, limits)
    try:
        value = builder.build(node, ())
    except _Stop:
        return None, builder.problems
    return Located(value, builder.positions, builder.value_positions, builder.scalars, text, line_offset), \
        builder.problems


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark):
        self.mark = mark


class _Stop(Exception):
    """A limit was hit: building stops at once (the problem is recorded)."""


class _Counting:
    """A composer that refuses nesting beyond ``max_depth`` while composing and counts the nodes written."""

    max_depth: int
    depth: int
    composed: int
    aliases: int = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        alias = self.check_event(yaml.AliasEvent)  # type: ignore[attr-defined]
        self.composed += not alias
        self.aliases += alias
        try:
            if self.depth > self.max_depth:
                raise _TooDeep(self.peek_event().start_mark)  # type: ignore[attr-defined]
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1


class _Loader(_Counting, yaml.SafeLoader):
    """The pure-Python loader: SafeLoader, counting and refusing deep nesting (also in the scanner)."""

    def __init__(self, text: str, depth: int):
        super().__init__(text)
        self.max_depth, self.depth, self.composed = depth, 0, 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # PyYAML's scanner takes time quadratic in the flow nesting ('[[[[...'), before the
        # composer sees the first node: refuse deep flow nesting as it is scanned.
        if self.flow_level >= self.max_depth:
            raise _TooDeep(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


if CParser is not None:
    class _FastLoader(_Counting, Composer, CParser, Resolver):  # type: ignore[misc, valid-type]
        """libyaml's events, composed by PyYAML's Python Composer (ahead of CParser's own)."""

        def __init__(self, text: str, depth: int):
            CParser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)
            self.max_depth, self.depth, self.composed = depth, 0, 0


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "timestamp")}
_STR, _INT, _VALUE, _MERGE = _TAG + "str", _TAG + "int", _TAG + "value", _TAG + "merge"
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Builder:
    """Turns composed nodes into Python values, recording positions and problems."""

    def __init__(self, filename: str, line_offset: int, limits: Limits):
        self.file, self.offset, self.limits = filename, line_offset, limits
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.value_positions: dict[tuple, tuple[int, int]] = {}
        self.scalars: dict[tuple, yaml.ScalarNode] = {}
        self.problems: list[Problem] = []
        self.constructor = SafeConstructor()

    def problem(self, node: yaml.Node, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.file, message, *_at(node.start_mark, self.offset), _dotted(path)))

    def build(self, node: yaml.Node, path: tuple) -> Any:
        if len(path) > self.limits.depth:
            self.problem(node, path, f"aliases nest values more than {self.limits.depth} levels deep")
            raise _Stop
        where = _at(node.start_mark, self.offset)
        self.positions[path] = self.value_positions[path] = where
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.problem(node, path, f"unsupported YAML tag {_tag(node.tag)}: remove it")
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.mapping(node, path)

    def mapping(self, node: yaml.MappingNode, path: tuple) -> dict[Any, Any]:
        if node.tag != _TAG + "map":
            self.problem(node, path, f"unsupported YAML tag {_tag(node.tag)}: remove it")
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "a key must be a plain value such as a word, not a list or mapping: "
                                             "write 'key: value'")
                continue
            if key_node.tag == _MERGE:
                self.problem(key_node, path, "YAML merge keys ('<<: *name') are not supported: write the keys out")
                continue
            key = self.scalar(key_node, path)
            if key in out:
                self.problem(key_node, path, f"duplicate key {excerpt(key)} (the later one would silently win); "
                                             "remove one")
            out[key] = self.build(value_node, path + (key,))
            self.positions[path + (key,)] = _at(key_node.start_mark, self.offset)
        return out

    def scalar(self, node: yaml.ScalarNode, path: tuple) -> Any:
        value = node.value
        if len(value) > self.limits.scalar:
            self.problem(node, path, f"a value of {len(value):,} characters: at most {self.limits.scalar:,} "
                                     "are read")
            return None
        if node.tag in (_STR, _VALUE):
            self.scalars[path] = node
            found = _SURROGATE.search(value)
            if found:
                self.problem(node, path, f"{excerpt(value)} holds U+{ord(found.group()):04X}, half of a UTF-16 "
                                         "surrogate pair, which is not a character: write the character itself")
                return _SURROGATE.sub("\ufffd", value)
            return value
        if node.tag not in _SCALAR_TAGS:
            self.problem(node, path, f"unsupported YAML tag {_tag(node.tag)}: qualcode reads plain values "
                                     "(text, numbers, true/false, dates); remove the tag")
            return None
        if node.tag == _INT and sum(c.isdigit() for c in value) > self.limits.digits:
            self.problem(node, path, f"a number of {sum(c.isdigit() for c in value):,} digits: quote it if it is "
                                     "text")
            return None
        try:
            return self.constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.constructor.ConstructorError) as err:
            what = "date" if node.tag.endswith("timestamp") else "value"
            self.problem(node, path, f"invalid {what} {excerpt(value)} ({excerpt(str(err))[1:-1]}): quote it to "
                                     "keep it as text")
            return value


def _children(node: yaml.Node, path: tuple) -> list[tuple[yaml.Node, tuple]]:
    if isinstance(node, yaml.MappingNode):
        return [(n, path + (k.value,)) for k, v in node.value for n in (k, v)]
    return [(n, path + (i,)) for i, n in enumerate(node.value)] if isinstance(node, yaml.SequenceNode) else []


def _expansion_problem(root: yaml.Node, budget: int, limits: Limits, filename: str,
                       line_offset: int) -> Problem | None:
    """A recursive alias, or aliases expanding to more than ``budget`` values in all, found before
    anything is built: the size of every node is counted once (iteratively, so alias chains of
    any length are fine), which takes time in the nodes written, not in the values they expand to."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, tuple, bool]] = [(root, (), False)]
    while stack:
        node, path, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c, _ in _children(node, path))
            continue
        if key in size:
            continue
        if key in on_path:
            return Problem(filename, "recursive alias: this value contains itself; write it out instead",
                           *_at(node.start_mark, line_offset), _dotted(path))
        on_path.add(key)
        stack.append((node, path, True))
        stack.extend((c, p, False) for c, p in _children(node, path) if id(c) not in size)
    if size[id(root)] <= budget:
        return None
    node, path = root, ()  # report the smallest value that alone is too big: the top of the bomb
    while True:
        bigger = [(c, p) for c, p in _children(node, path) if size[id(c)] > budget]
        if not bigger:
            break
        node, path = bigger[0]
    return Problem(filename, f"aliases expand this value to {size[id(node)]:,} values (at most "
                             f"{limits.alias_values:,} more than written are read; an alias bomb?): write the "
                             "values out or use fewer aliases", *_at(node.start_mark, line_offset), _dotted(path))


def _at(mark: yaml.Mark | None, line_offset: int) -> tuple[int, int]:
    return (mark.line + 1 + line_offset, mark.column + 1) if mark else (1 + line_offset, 1)


def _tag(tag: str) -> str:
    return excerpt("!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag)


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


_ESCAPE_LENGTHS = {"x": 4, "u": 6, "U": 10}  # source characters of a \\x, \\u, \\U escape


def _source_offset(text: str, node: yaml.ScalarNode, index: int) -> int | None:
    """The offset in ``text`` of character ``index`` of ``node``'s value, by walking the
    scalar as written next to its value; None where the two do not line up (folded
    lines, unusual escapes)."""
    value, style, pos = node.value, node.style, node.start_mark.index
    if text[pos:pos + 1] != (style or text[pos:pos + 1]):
        return None
    if style in ("|", ">"):
        pos = text.find("\n", pos) + 1  # the content starts on the line after the indicator
        if pos == 0:
            return None
        while text[pos:pos + 1] == " " and value[:1] != " ":
            pos += 1  # block indentation
    elif style in ("'", '"'):
        pos += 1
    i = 0
    while i < index:
        if pos >= len(text):
            return None
        c = text[pos]
        if style == "'" and text.startswith("''", pos):
            step = 2
        elif style == '"' and c == "\\":
            step = _ESCAPE_LENGTHS.get(text[pos + 1:pos + 2], 2)
        elif c == "\n":
            if style not in ("|", ">") or value[i] != "\n":
                return None  # a folded line break: the columns no longer line up
            step = 1
            while text[pos + step:pos + step + 1] == " " and value[i + 1:i + 2] != " ":
                step += 1  # block indentation
        elif c != value[i]:
            return None
        else:
            step = 1
        pos += step
        i += 1
    if style in ("|", ">") and text[pos:pos + 1] == "\n":
        return None
    return pos
