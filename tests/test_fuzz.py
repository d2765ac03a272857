"""Random mutations of a codebook and of front matter: each is read or refused with a QualcodeError,
never another exception, and never slowly (an alias bomb or deep nesting would hang or crash).

Seeded, so a failure names the case that reproduces it (``pytest -k 'fuzz and 17'``).
"""
from __future__ import annotations

import random
import re
import signal
from contextlib import contextmanager

import pytest

from qualcode.codebook import parse_codebook
from qualcode.coding import CompiledCodebook
from qualcode.corpus import parse_document
from qualcode.errors import QualcodeError

pytestmark = pytest.mark.filterwarnings("ignore")  # mutated front matter warns, as it should

BUDGET_SECONDS = 10  # per case; a case takes milliseconds, an alias bomb refused about half a second

CODEBOOK = """\
version: 1
ignore: ['\\[paper:[^\\]]*\\]']
codes:
  - id: finance
    label: Finance
    color: "#1f77b4"
    definition: Money and credit.
    examples: ["Self financing was the rule."]
    patterns:
      terms: [loan, working capital]
      tokens:
        - [{LEMMA: borrow}, {OP: "?"}, {LEMMA: money}]
      regex: ['\\binterest rates?\\b']
    exclude:
      terms: [loan shark]
  - id: credit
    label: Credit
    parent: finance
    patterns: {terms: [credit, collateral]}
cases:
  - id: puebla
    name: Puebla
    kind: state
  - id: teziutlan
    name: Teziutlán
    kind: city
    parent: puebla
    aliases: [Teziutlan]
    exact_aliases: [TZ]
"""

FRONT_MATTER = """\
---
title: "Garment producers of Teziutlán: interview notes"
kind: interview
cases: [teziutlan, puebla]
date: 1997-06-01
source: paper/ruiz-duran-1998-clustering.md
sector: garment
---
# Garment producers
They took a loan in Puebla.
"""

# Flow values that are valid YAML where any value may stand, each hostile in its own way.
BOMB = "[&a [l, l, l, l, l, l, l, l, l], " + ", ".join(
    f"&{x} [{', '.join(['*' + y] * 9)}]" for y, x in zip("abcdefgh", "bcdefghi")) + "]"
VALUES = [
    BOMB, "&r [x, *r]", "&r {k: *r}", "!!python/object:os.system ls", "!!python/name:os.system", "!foo x",
    "!!binary aGk=", "!!set {a, b}", "!!omap [a: 1]", "{<<: {a: 1}}", "{[a, b]: c}", "{{a: 1}: b}", "{a: 1, a: 2}",
    "9" * 5000, "-" + "9" * 5000, '"\\ud800"', '"x\\udfff"', "2001-13-45", "2001-02-30", "1:30", "0x1F", ".nan",
    "[" * 3000 + "]" * 3000, "{a: " * 3000 + "1" + "}" * 3000, "[" * 60 + "x" + "]" * 60, "*undefined", "~", "",
    "[]", "{}", "[~]", "[[]]", "[{}]", "[{LEMMA: {REGEX: '('}}]", "[{OP: '*'}]", "yes", "3.5", "[1, 2]",
    "'" + "x" * 200_000 + "'",
]
KEYS = ["<<", "? [a]\n", "case", "titel", "kind", "labl", "id", "parent", "1", "~", "[a]", "{a: 1}", '"\\ud800"']
PIECES = [":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "'", '"', "\t", "\n", "\n  ", "#", "|", ">", "\x01",
          "\u2028", "\ufeff", "%YAML 1.1\n", "---\n"]
_VALUE_AT = re.compile(r"(?<=: )[^\n]+|(?<=- )[^\n]+|(?<=\[)[^\],\n]+|(?<=, )[^\],\n]+")
_KEY_AT = re.compile(r"^ *(?:- )?([A-Za-z_]+)(?=:)", re.M)


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits, most of which keep the YAML valid: replace a value with a hostile one,
    replace a key, duplicate or swap lines; or break the syntax with a stray character or a deletion."""
    for _ in range(rng.randint(1, 3)):
        op = rng.choices(range(6), weights=(6, 2, 1, 1, 1, 1))[0]
        if op == 0:
            m = rng.choice(list(_VALUE_AT.finditer(text)))
            text = text[: m.start()] + rng.choice(VALUES) + text[m.end():]
        elif op == 1:
            m = rng.choice(list(_KEY_AT.finditer(text)))
            text = text[: m.start(1)] + rng.choice(KEYS) + text[m.end(1):]
        elif op in (2, 3):
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == 2:
                lines.insert(i, lines[j])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            pos = rng.randrange(len(text) + 1)
            end = pos + rng.randint(1, 12) if op == 4 else pos
            text = text[:pos] + ("" if op == 4 else rng.choice(PIECES)) + text[end:]
    return text


@contextmanager
def time_budget(seconds: float):
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def book(pipeline):
    return CompiledCodebook(parse_codebook(CODEBOOK), pipeline)


@pytest.mark.parametrize("seed", range(300))
def test_codebook_fuzz_only_clean_errors(seed, pipeline):
    text = mutate(CODEBOOK, random.Random(seed))
    with time_budget(BUDGET_SECONDS):
        try:
            CompiledCodebook(parse_codebook(text), pipeline)
        except QualcodeError as err:
            assert err.problems and all(len(str(p)) < 1000 for p in err.problems)


@pytest.mark.parametrize("seed", range(300))
def test_frontmatter_fuzz_only_clean_errors(seed, book):
    head, body = FRONT_MATTER.split("---\n#", 1)
    text = "---\n" + mutate(head[4:], random.Random(seed)) + "---\n#" + body
    with time_budget(BUDGET_SECONDS):
        try:
            doc = parse_document(text.encode("utf-8", "surrogatepass"), "d.md")
            problems = book.check_documents([doc]) if doc is not None else []
        except QualcodeError as err:
            problems = err.problems
        assert all(len(str(p)) < 1000 for p in problems)
