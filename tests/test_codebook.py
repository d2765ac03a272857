"""Codebook validation: every problem at once, each as file:line:col: key.path: what is wrong."""
from __future__ import annotations

import textwrap

import pytest

from qualcode.codebook import parse_codebook
from qualcode.errors import CodebookError

GOOD = """\
version: 1
codes:
  - id: finance
    label: Finance
    color: "#1f77b4"
    patterns:
      terms: [loan]
  - id: credit
    label: Credit
    parent: finance
    patterns:
      terms: [credit]
cases:
  - id: puebla
    name: Puebla
    kind: state
  - id: teziutlan
    name: Teziutlán
    kind: city
    parent: puebla
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(CodebookError) as err:
        parse_codebook(textwrap.dedent(text), "codebook.yaml")
    return [str(p) for p in err.value.problems]


def test_codebook_good_loads():
    loaded = parse_codebook(GOOD)
    assert list(loaded.codebook.codes) == ["finance", "credit"]
    assert loaded.codebook.code_ancestors("credit") == ("finance",)
    assert loaded.codebook.case_ancestors("teziutlan") == ("puebla",)
    assert [p.label for p in loaded.patterns if not p.for_case] == ["term:loan", "term:credit"]
    assert loaded.patterns[0].rule == "codebook.yaml:7:15"


@pytest.mark.parametrize("old, new, expected", [
    ("    label: Finance\n", "    labl: Finance\n",
     "codebook.yaml:4:5: codes.finance.labl: unknown key 'labl': did you mean 'label'?"),
    ("  - id: credit\n", "  - id: finance\n", "codebook.yaml:8:5: codes.finance.id: duplicate id 'finance' (first defined at codebook.yaml:3:5): give one of them another id"),
    ("    parent: finance\n", "    parent: finanse\n",
     "codebook.yaml:10:5: codes.credit.parent: unknown parent 'finanse'; did you mean 'finance'?"),
    ("      terms: [loan]\n", "      terms: [loan, '']\n", "codebook.yaml:7:21: codes.finance.patterns.terms[1]: empty term"),
    ("      terms: [loan]\n", "      regex: ['(loan']\n",
     "codebook.yaml:7:15: codes.finance.patterns.regex[0]: invalid regular expression '(loan': missing ), "
     "unterminated subpattern at position 0"),
    ("      terms: [loan]\n", "      regex: ['x*']\n", "matches the empty string"),
    ("      terms: [loan]\n", "      tokens: [[{POS: NOUN}]]\n", "codes.finance.patterns.tokens[0][0].POS: POS needs a trained pipeline"),
    ("      terms: [loan]\n", "      tokens: [[{LEMA: loan}]]\n", "unknown token attribute 'LEMA': did you mean 'LEMMA'?"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan, OP: '?'}]]\n", "has no required token"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan, OP: 'x'}]]\n", "invalid OP 'x'"),
    ("      terms: [loan]\n", "      tokens: [[{LOWER: {IN: [yes, no]}}]]\n",
     "codebook.yaml:7:31: codes.finance.patterns.tokens[0][0].LOWER.IN[0]: LOWER values must be strings, not True: "
     "quote it"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: {INN: [a]}}]]\n", "unknown operator 'INN' for LEMMA"),
    ("    color: \"#1f77b4\"\n", "    color: blue\n", "codebook.yaml:5:5: codes.finance.color: invalid colour 'blue'"),
    ("    parent: puebla\n", "    parent: teziutlan\n", "cases.teziutlan.parent: parent cycle: teziutlan -> teziutlan"),
    ("    kind: city\n", "    kind: city\n    aliases: [puebla]\n", "'puebla' is claimed by two cases, 'puebla' and 'teziutlan'"),
    ("  - id: finance\n", "  - id: Finance\n", "invalid id 'Finance': use lower-case ASCII letters"),
    ("    label: Credit\n", "    label: Credit\n    label: Again\n", "codebook.yaml:10:5: codes[1]: duplicate key 'label'"),
    ("version: 1\n", "version: 1\nthemes: []\n", "codebook.yaml:2:1: themes: unknown key 'themes'"),
    ("  - id: puebla\n    name: Puebla\n", "  - id: puebla\n", "cases.puebla: missing 'name'"),
])
def test_codebook_problem_located(old, new, expected):
    assert old in GOOD
    problems = _problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_codebook_reports_all_problems_at_once():
    text = GOOD.replace("labl", "x").replace("    label: Finance\n", "    labl: Finance\n") \
        .replace("parent: finance", "parent: nowhere").replace("terms: [credit]", "regex: ['[']")
    problems = _problems(text)
    assert len(problems) >= 3
    assert [p.split(":")[1] for p in problems] == sorted((p.split(":")[1] for p in problems), key=int)


@pytest.mark.parametrize("text, expected", [
    ("codes: [\n", "codebook.yaml:2:1: invalid YAML"),
    ("codes:\n  - id: a\n   label: x\n", "codebook.yaml:3:4: invalid YAML"),
    ("- just a list\n", "the codebook must be a mapping"),
    ("cases: []\n", "no codes"),
])
def test_codebook_invalid_yaml(text, expected):
    assert any(expected in p for p in _problems(text))


@pytest.mark.parametrize("path, message", [("missing.yaml", "codebook not found")])
def test_codebook_missing_file(tmp_path, path, message):
    from qualcode.codebook import load_codebook

    with pytest.raises(CodebookError, match=message):
        load_codebook(tmp_path / path)
