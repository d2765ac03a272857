"""Front matter: located problems at the file's own lines, warnings for near-misses, cases checked against the codebook."""
from __future__ import annotations

import warnings

import pytest

from qualcode.corpus import parse_document
from qualcode.errors import CorpusError
from qualcode.frontmatter import FrontMatterWarning

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{x}: &{x} [{', '.join(['*' + y] * 9)}]\n" for y, x in zip("abcdefgh", "bcdefghi"))


def _problems(front: str) -> list[str]:
    with pytest.raises(CorpusError) as err:
        parse_document(f"---\n{front}---\nBody.\n".encode(), "d.md", "corpus/d.md")
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize("front, expected", [
    ("title: T\ntitle: U\n", "corpus/d.md:3:1: duplicate key 'title' (the later one would silently win)"),
    ('title: "\\ud800"\n', "corpus/d.md:2:8: title: '\\ud800' holds U+D800"),
    (LAUGHS + "cases: *i\n", "corpus/d.md:7:4: f: aliases expand this value to 597,871 values"),
    ("cases: &x [a, *x]\n", "corpus/d.md:2:8: cases[1]: recursive alias"),
    ("title: x\nmeta: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "nested more than 64 levels deep"),
    ("title: !!python/object:os.system ls\n", "corpus/d.md:2:8: title: unsupported YAML tag '!!python/object:os.system'"),
    ("base: &b {kind: paper}\n<<: *b\n", "corpus/d.md:3:1: YAML merge keys ('<<: *name') are not supported"),
    ("? [a, b]\n: c\n", "corpus/d.md:2:3: a key must be a plain value"),
    ("date: 1997-13-01\n", "corpus/d.md:2:7: date: invalid date '1997-13-01'"),
    ("n: " + "7" * 5000 + "\n", "corpus/d.md:2:4: n: a number of 5,000 digits"),
    ("- a list\n", "corpus/d.md:2:1: front matter must be a mapping"),
    ("kind: [paper]\n", "corpus/d.md:2:7: kind: 'kind' must be text such as interview, not ['paper']"),
    ("cases: {a: 1}\n", "corpus/d.md:2:8: cases: 'cases' must be a list of case ids"),
    ("cases: [puebla, [x]]\n", "corpus/d.md:2:17: cases[1]: each case must be a case id, name or alias, not ['x']"),
    ("title: [unclosed\n", "corpus/d.md:2:17: invalid YAML in front matter: expected ',' or ']'"),
])
def test_frontmatter_bad_value_is_located(front, expected):
    problems = _problems(front)
    assert any(expected in p for p in problems), problems
    assert all(len(p) < 300 for p in problems)


@pytest.mark.parametrize("front, meta", [
    ("~\n", {}),  # as empty as no keys at all
    ("", {}),
    ("sector: garment\ninterviewer: A. B.\n", {"sector": "garment", "interviewer": "A. B."}),  # free metadata
    ("cases: puebla\n", {"cases": "puebla"}),
])
def test_frontmatter_accepted_without_warning(front, meta):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = parse_document(f"---\n{front}---\nBody.\n".encode(), "d.md")
    assert doc.meta == meta


@pytest.mark.parametrize("front, expected", [
    ("case: [tonala, jalisco]\n", "d.md:2:1: unknown front-matter key 'case': did you mean 'cases'?"),
    ("titel: T\n", "d.md:2:1: unknown front-matter key 'titel': did you mean 'title'?"),
    ("kind: intervew\n", "d.md:2:7: kind: unknown kind 'intervew': did you mean 'interview'?"),
    ("kind: podcast\n", "d.md:2:7: kind: unknown kind 'podcast': known kinds: paper, interview"),
])
def test_frontmatter_near_miss_warns(front, expected):
    with pytest.warns(FrontMatterWarning) as caught:
        parse_document(f"---\n{front}---\nBody.\n".encode(), "d.md")
    assert any(expected in str(w.message) for w in caught), [str(w.message) for w in caught]


@pytest.mark.parametrize("data", [
    b"---\rtitle: Old Mac\rcases: [puebla]\r---\rBody.\r",
    b"---\r\ntitle: Old Mac\r\ncases: [puebla]\r\n---\r\nBody.\r\n",
])
def test_frontmatter_found_with_any_line_ending(data):
    doc = parse_document(data, "d.md")
    assert doc.meta == {"title": "Old Mac", "cases": ["puebla"]}
    assert doc.text[doc.body_start:].strip() == "Body." and doc.text == data.decode()  # the file's text, as it is


@pytest.mark.parametrize("front, expected", [
    ("cases: [puebla, Tonalla]\n", "d.md:2:17: cases[1]: unknown case 'Tonalla' in front matter: did you mean 'tonala'?"),
    ("cases: Atlantis\n", "d.md:2:8: cases: unknown case 'Atlantis' in front matter: use a case id, name or alias"),
    ("cases: tonala, jalisco\n",
     "d.md:2:8: cases: 'cases' is one piece of text 'tonala, jalisco', not a list: write cases: [tonala, jalisco]"),
])
def test_frontmatter_unknown_case_points_at_the_value(compiled_cases, front, expected):
    doc = parse_document(f"---\n{front}---\nBody.\n".encode(), "d.md")
    problems = [str(p) for p in compiled_cases.check_documents([doc])]
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("front", ["cases: [tonala, Jalisco, Tonalá]\n", "cases: tonala\n"])
def test_frontmatter_known_cases_pass(compiled_cases, front):
    doc = parse_document(f"---\n{front}---\nBody.\n".encode(), "d.md")
    assert compiled_cases.check_documents([doc]) == []


CASES_BOOK = """\
codes:
  - id: finance
    label: Finance
    patterns: {terms: [loan]}
cases:
  - id: puebla
    name: Puebla
    kind: state
  - id: tonala
    name: Tonalá
    kind: city
  - id: jalisco
    name: Jalisco
    kind: state
"""


@pytest.fixture(scope="module")
def compiled_cases(pipeline):
    from qualcode.codebook import parse_codebook
    from qualcode.coding import compile_codebook

    return compile_codebook(parse_codebook(CASES_BOOK), pipeline=pipeline)
