"""The safe YAML loader: hostile and unusual YAML gives located problems, never a hang or an internal error."""
from __future__ import annotations

import datetime

import pytest

from qualcode.yamlpos import Limits, excerpt, load_located

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{x}: &{x} [{', '.join(['*' + y] * 9)}]\n" for y, x in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("text, message, line, col", [
    (LAUGHS, "aliases expand this value to 597,871 values (at most 100,000 more than written are read; "
              "an alias bomb?)", 6, 4),
    ("a: &x [1, *x]\n", "recursive alias: this value contains itself", 1, 4),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep", 1, 68),
    ("x:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), "nested more than 64 levels deep", None, None),
    ("a: !!python/object:os.system ls\n", "unsupported YAML tag '!!python/object:os.system'", 1, 4),
    ("a: !!python/object/apply:os.system [ls]\n", "unsupported YAML tag '!!python/object/apply:os.system'", 1, 4),
    ("a: !custom 1\n", "unsupported YAML tag '!custom'", 1, 4),
    ("a: !!binary aGVsbG8=\n", "unsupported YAML tag '!!binary'", 1, 4),
    ("a: !!set {x, y}\n", "unsupported YAML tag '!!set'", 1, 4),
    ("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", "YAML merge keys ('<<: *name') are not supported", 3, 3),
    ("? [a, b]\n: 1\n", "a key must be a plain value such as a word, not a list or mapping", 1, 3),
    ("? {a: 1}\n: 1\n", "a key must be a plain value", 1, 3),
    ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (the later one would silently win)", 3, 1),
    ('t: "\\ud800"\n', "holds U+D800, half of a UTF-16 surrogate pair", 1, 4),
    ("n: " + "9" * 5000 + "\n", "a number of 5,000 digits: quote it if it is text", 1, 4),
    ("d: 2001-13-45\n", "invalid date '2001-13-45' (month must be in 1..12): quote it", 1, 4),
    ("a: b\x01\n", "character U+0001 is not allowed in YAML", 1, 5),
    ("a: [1\n", "invalid YAML: expected ',' or ']'", 2, 1),
    ("a: 1\n---\nb: 2\n", "invalid YAML: but found another document", 2, 1),
    ("a: *nowhere\n", "invalid YAML: found undefined alias 'nowhere'", 1, 4),
])
def test_yamlpos_hostile_yaml_is_a_located_problem(text, message, line, col):
    _, problems = load_located(text, "f.yaml")
    assert problems, "no problem reported"
    found = [p for p in problems if message in p.message]
    assert found, [str(p) for p in problems]
    if line is not None:
        assert (found[0].line, found[0].col) == (line, col)
    assert all(len(str(p)) < 300 for p in problems)  # a short excerpt, never the whole value


@pytest.mark.parametrize("text, value", [
    ("", None),
    ("~\n", None),
    ("a: &x [1, 2]\nb: *x\n", {"a": [1, 2], "b": [1, 2]}),  # ordinary aliases still work
    ("a: 1997-06-01\nb: 1997-summer\nc: =\nd: 1.0e+999\n",
     {"a": datetime.date(1997, 6, 1), "b": "1997-summer", "c": "=", "d": float("inf")}),
    ("a: !!str 12\nb: yes\nc: null\n1: x\n", {"a": "12", "b": True, "c": None, 1: "x"}),
])
def test_yamlpos_plain_yaml_loads(text, value):
    located, problems = load_located(text, "f.yaml")
    assert problems == [] and located is not None and located.value == value


def test_yamlpos_positions_of_keys_and_values_with_line_offset():
    located, problems = load_located("title: T\ncases: [a, bb]\n", "doc.md", line_offset=1)
    assert problems == []
    assert located.where(("cases",)) == (3, 1) and located.where(("cases",), value=True) == (3, 8)
    assert located.where(("cases", 1)) == (3, 12)
    _, problems = load_located("a: 1\na: 2\n", "doc.md", line_offset=1)
    assert (problems[0].line, problems[0].col) == (3, 1)


def test_yamlpos_limits_are_configurable():
    _, problems = load_located("a: [[[1]]]\n", "f.yaml", limits=Limits(depth=3))
    assert "nested more than 3 levels deep" in problems[0].message
    _, problems = load_located("a: &a [1, 2]\nb: [*a, *a, *a]\n", "f.yaml", limits=Limits(alias_values=4))
    assert "aliases expand this value to 16 values (at most 4 more" in problems[0].message


@pytest.mark.parametrize("value, expected", [
    ("x" * 1000, "'" + "x" * 27 + "..." + "x" * 28 + "'"),
    (list(range(1000)), "[0, 1, 2, 3, 4, ...]"),
    ("short", "'short'"),
])
def test_yamlpos_excerpt_is_short(value, expected):
    assert excerpt(value) == expected
