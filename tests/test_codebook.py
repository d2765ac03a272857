"""Codebook validation: every problem at once, each as file:line:col: key.path: what is wrong."""
from __future__ import annotations

import os
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
     "codebook.yaml:7:16: codes.finance.patterns.regex[0]: invalid regular expression '(loan': missing ), "
     "unterminated subpattern"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan, OP: '{5,1}'}]]\n",
     "codebook.yaml:7:31: codes.finance.patterns.tokens[0][0].OP: invalid OP '{5,1}': the minimum 5 is larger than "
     "the maximum 1; write {1,5}"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan, OP: '{2, 3}'}]]\n", "invalid OP '{2, 3}'"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan, OP: '{}'}]]\n", "invalid OP '{}'"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LENGTH: 100000000000000000000}]]\n",
     "codebook.yaml:7:33: codes.finance.patterns.tokens[0][1].LENGTH: LENGTH 100000000000000000000 is not a "
     "possible token length"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LENGTH: -1}]]\n", "LENGTH -1 is not a possible"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LENGTH: {IN: [3, 18446744073709551616]}}]]\n",
     "tokens[0][1].LENGTH.IN[1]: LENGTH 18446744073709551616 is not a possible token length"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LENGTH: 3.5}]]\n",
     "LENGTH must be a whole number of characters, not 3.5"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LENGTH: {'>': 3, '~': 2}}]]\n",
     "unknown operator '~' for LENGTH"),
    ("      terms: [loan]\n", "      regex: ['x*']\n", "matches the empty string"),
    ("      terms: [loan]\n", "      tokens: [[{POS: NOUN}]]\n", "codes.finance.patterns.tokens[0][0].POS: POS needs a trained pipeline"),
    ("      terms: [loan]\n", "      tokens: [[{LEMA: loan}]]\n", "unknown token attribute 'LEMA': did you mean 'LEMMA'?"),
    ("      terms: [loan]\n", "      tokens: [[{lemma: loan}]]\n",
     "unknown token attribute 'lemma': did you mean 'LEMMA'? (attributes are upper case)"),
    # a flag's value: found with the other problems, at the attribute (spaCy's schema would say it later, alone)
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {IS_ALPHA: 'yes'}]]\n",
     "codebook.yaml:7:33: codes.finance.patterns.tokens[0][1].IS_ALPHA: IS_ALPHA takes true or false, not 'yes'"),
    ("      terms: [loan]\n", "      tokens: [[{LEMMA: loan}, {LIKE_NUM: 1}]]\n", "LIKE_NUM takes true or false, not 1"),
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
    ("    label: Credit\n", "    label: Credit\n    label: Again\n", "codebook.yaml:10:5: codes.credit: duplicate key 'label'"),
    ("version: 1\n", "version: 1\nthemes: []\n", "codebook.yaml:2:1: themes: unknown key 'themes'"),
    ("  - id: puebla\n    name: Puebla\n", "  - id: puebla\n", "cases.puebla: missing 'name'"),
])
def test_codebook_problem_located(old, new, expected):
    assert old in GOOD
    problems = _problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


def test_codebook_reports_all_problems_at_once():
    text = GOOD.replace("labl", "x").replace("    label: Finance\n", "    labl: Finance\n") \
        .replace("parent: finance", "parent: nowhere").replace("terms: [credit]", "regex: ['[']") \
        .replace("      terms: [loan]\n", "      terms: [loan]\n      tokens: [[{IS_TITLE: 'yes'}]]\n", 1)
    problems = _problems(text)
    assert len(problems) >= 4 and any("IS_TITLE takes true or false" in p for p in problems), problems
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


LAUGHS = "".join(f"    - &{x} [{', '.join(['*' + y] * 9)}]\n" for y, x in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("old, new, expected", [
    ("      terms: [loan]\n", "      terms: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n    examples:\n" + LAUGHS
     + "    - *i\n", "codebook.yaml:13:7: codes[0].examples[4]: aliases expand this value to 597,871 values"),
    ("    name: Puebla\n", "    name: Puebla\n    aliases: &a [Puebla de Zaragoza, *a]\n",
     "codebook.yaml:16:14: cases[0].aliases[1]: recursive alias"),
    ("    label: Finance\n", "    label: !!python/object:os.system ls\n",
     "codebook.yaml:4:12: codes.finance.label: unsupported YAML tag '!!python/object:os.system'"),
    ("  - id: credit\n    label: Credit\n", "  - &c {id: credit2, label: Credit2}\n  - <<: *c\n    id: credit\n    label: Credit\n",
     "codebook.yaml:9:5: codes.credit: YAML merge keys ('<<: *name') are not supported: write the keys out"),
    ("    label: Finance\n", "    ? [label]\n    : Finance\n", "codebook.yaml:4:7: codes.finance: a key must be a plain value"),
    ("version: 1\n", "version: " + "1" * 5000 + "\n", "codebook.yaml:1:10: version: a number of 5,000 digits"),
    ("      terms: [loan]\n", "      terms: [" + "[" * 3000 + "]" * 3000 + "]\n", "codebook.yaml:7:78: nested more than 64 levels deep"),
    ("      terms: [loan]\n", '      terms: ["lo\\udc00an"]\n', "codebook.yaml:7:15: codes.finance.patterns.terms[0]: 'lo\\udc00an' holds U+DC00"),
    ("    label: Finance\n", "    label: [" + ", ".join(["x" * 50] * 2000) + "]\n",
     "codebook.yaml:4:5: codes.finance.label: 'label' must be text, not list"),
])
def test_codebook_hostile_yaml_is_located(old, new, expected):
    assert old in GOOD
    problems = _problems(GOOD.replace(old, new, 1))
    assert any(expected in p for p in problems), problems
    assert all(len(p) < 300 for p in problems)


def test_codebook_not_utf8_located_at_line_and_column(tmp_path):
    from qualcode.codebook import load_codebook

    path = tmp_path / "codebook.yaml"
    path.write_bytes(GOOD.replace("Finance", "Fin\u00e1nce").encode().replace(b"Credit\n", b"Cr\xe9dit\n"))
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    assert str(err.value.problems[0]) == (f"{path}:9:14: not UTF-8: byte 0xe9 at byte offset 137 cannot be "
                                          "decoded; save the file as UTF-8")


@pytest.mark.parametrize("make, message", [
    (lambda p: "/dev/zero", "/dev/zero: the codebook is a device, not a regular file"),
    (lambda p: os.mkfifo(p / "fifo.yaml") or p / "fifo.yaml", "fifo.yaml: the codebook is a FIFO (named pipe), not a "
                                                              "regular file"),
    (lambda p: p, ": the codebook is a folder, not a regular file"),
    (lambda p: (p / "big.yaml").write_bytes(b"#" * (16 * 2**20 + 1)) and p / "big.yaml",
     "big.yaml: the codebook is 16.0 MiB or more, over the limit of 16 MiB"),
])
def test_codebook_only_regular_files_are_read(tmp_path, make, message):
    from qualcode.codebook import load_codebook

    with pytest.raises(CodebookError) as err:
        load_codebook(make(tmp_path))
    assert message in str(err.value)


# The column of a regular expression error is that of the offending character as written
# in the file, through YAML quoting, escapes and block scalars; the pattern is shown as
# the user wrote it in the value, with single backslashes.
@pytest.mark.parametrize("written, line, col, shown", [
    ("regex: ['(loan']", 5, 16, "'(loan'"),
    ("regex: ['\\bloan\\b(']", 5, 24, "'\\bloan\\b('"),
    ('regex: ["\\\\bloan\\\\b("]', 5, 26, "'\\bloan\\b('"),
    ("regex: ['it''s (']", 5, 22, "'it's ('"),
    ('regex: ["caf\\u00e9 ("]', 5, 26, "'café ('"),
    ("regex: \\b[a", 5, 16, "'\\b[a'"),
    ("regex: ['  x(']", 5, 19, "'x('"),
    ("regex:\n        - |\n          abc\n          d(e", 8, 12, "'abc\nd(e"),
    ("tokens: [[{LOWER: {REGEX: 'ab('}}]]", 5, 36, "'ab('"),
])
def test_codebook_regex_error_column(written, line, col, shown):
    text = f"codes:\n  - id: x\n    label: X\n    patterns:\n      {written}\n"
    problems = _problems(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"codebook.yaml:{line}:{col}: "), problems
    assert f"invalid regular expression {shown}" in problems[0]
