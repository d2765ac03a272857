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


def _front_matters() -> list[tuple[str, str]]:
    from conftest import ROOT

    out = []
    for path in sorted((ROOT / "corpus").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            out.append((path.name, text[4:text.index("\n---", 4)]))
    return out


def _repository_yaml() -> list[tuple[str, str]]:
    from conftest import ROOT

    names = ["codebook.yaml", "claims.yaml", "codings/ana.yaml", "tests/data/paper_gold.yaml",
             "benchmarks/data/blind2/gold.yaml"]
    return [(n, (ROOT / n).read_text(encoding="utf-8")) for n in names]


TRICKY = [
    ("crlf", "a: 1\r\nb:\r\n  - x\r\n  - 'y''z'\r\n"),
    ("unicode breaks", "a: one\u2028two\nb: \"x\\u00e9\\ty\"\nc: café\n"),
    ("astral", "a: 🙏 ok 𝔘\nb: '🙏 x'\n"),
    ("bom", "\ufeffa: 1\nb: [x, {c: d}]\n"),
    ("blocks", "a: |\n  straße\n  zwei\nb: >-\n  folded\n  text\n\nc: \"esc \\\" \\x41\"\n"),
    ("hostile", LAUGHS), ("deep", "x: " + "[" * 500 + "]" * 500 + "\n"), ("bad", "a: [1\n"), ("tab", "a:\n\tb: 1\n"),
    ("control", "a: b\x01\n"), ("surrogate", "a: b\ud800\n"), ("tags", "a: !!binary aGVsbG8=\nb: !!str 1\n"),
]


@pytest.mark.parametrize("name, text", TRICKY + _repository_yaml() + _front_matters(),
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_yamlpos_fast_path_equals_the_reference_loader(name, text):
    """libyaml's events composed here give what PyYAML's pure-Python loader gives: values,
    positions, character positions inside strings, and problems."""
    fast, fast_problems = load_located(text, name, line_offset=3)
    slow, slow_problems = load_located(text, name, line_offset=3, fast=False)
    assert [str(p) for p in fast_problems] == [str(p) for p in slow_problems]
    assert (fast is None) == (slow is None)
    if slow is not None:
        assert fast.value == slow.value
        assert fast.positions == slow.positions and fast.value_positions == slow.value_positions
        assert fast.scalars.keys() == slow.scalars.keys()
        for path, node in slow.scalars.items():
            for i in sorted({0, len(node.value) // 2, len(node.value)}):
                assert fast.where_char(path, i) == slow.where_char(path, i), (path, i)


@pytest.mark.parametrize("name, text", _repository_yaml(), ids=lambda v: v if len(v) < 40 else "")
def test_yamlpos_fast_path_parses_the_repository_files(name, text):
    """The comparison above compares the fast path, not its fallback, on real files."""
    from qualcode import yamlpos

    if yamlpos.CParser is None:
        pytest.skip("PyYAML without libyaml: only the reference loader runs")
    assert yamlpos._FastLoader(text, 64).get_single_node() is not None
