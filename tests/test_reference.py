"""The fast coding engine gives exactly the codings of the plain reference coder
(qualcode.reference: spaCy PhraseMatcher and Matcher, Python re), on the bundled corpus
and on every text of tests/data."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import DATA, ROOT, coding_differences, make_doc

from qualcode.codebook import load_codebook, parse_codebook
from qualcode.coding import CompiledCodebook, code_corpus
from qualcode.reference import ReferenceCoder


def _texts(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data["sentences"] if isinstance(data, dict) else data
    return [item["text"] for item in items]


@pytest.fixture(scope="module")
def reference(pipeline):
    return ReferenceCoder(load_codebook(ROOT / "codebook.yaml"), pipeline)


def test_reference_agrees_on_bundled_corpus(bundled, reference):
    docs, fast = bundled
    ref = [c for d in docs for c in reference.code(d)]
    assert sum(len(c.matches) for c in ref) > 1000  # the comparison is not vacuous
    assert coding_differences(fast, ref) == []


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.yaml")))
def test_reference_agrees_on_test_texts(compiled, reference, name):
    docs = [make_doc(text + "\n", f"{name}#{n}") for n, text in enumerate(_texts(DATA / name))]
    fast = code_corpus(docs, compiled)
    ref = [c for d in docs for c in reference.code(d)]
    assert coding_differences(fast, ref) == []


# Every pattern kind and resolution rule on a small codebook, on texts that exercise them:
# exclusions, containment, leftmost-longest cases, ignore spans, headings as context.
BOOK = """\
ignore:
  - '\\[note:[^\\]]*\\]'
codes:
  - id: finance
    label: Finance
    patterns:
      terms: [loan, working capital, capital]
      regex: ['\\binterest rates?\\b', 'cr[eé]dit']
  - id: credit
    label: Credit
    parent: finance
    patterns:
      tokens:
        - [{LEMMA: borrow}, {OP: "?"}, {LEMMA: money}]
        - [{LOWER: bank}, {OP: "{1,3}"}, {LEMMA: loan}]
  - id: design
    label: Design
    patterns:
      terms: [design]
    exclude:
      tokens:
        - [{LOWER: designed}, {LOWER: to}]
cases:
  - id: mexico
    name: Mexico
    kind: country
  - id: nuevo-leon
    name: Nuevo León
    kind: state
    parent: mexico
  - id: leon
    name: León
    kind: city
  - id: united-states
    name: United States
    exact_aliases: [US]
    kind: country
  - id: chihuahua
    name: Chihuahua
    kind: state
  - id: torreon
    name: Torreón
    kind: city
    match_case: false
"""
TEXTS = [
    "They took out Loans. Short of working capital, they borrowed some money.",
    "The bank gave them a big loan.  High interest   rates in Nuevo León and León.",
    "It was designed to last. The design of the US plant [note: loan credit design] was new.",
    "---\ncases: [mexico]\n---\n# Credit in León\n\nThe crédit union lent capital.\n\n- a *working* capital loan\n",
    "us and US; Mexico's capital; no design here, only designs.",
    "The chihuahua of Chihuahua, CHIHUAHUA state, and torreón (Torreon) near united states took a loan.",
    "Short of working capi-\ntal, they bor-\nrowed some money from the de-\nsign fund.\n",  # line-end hyphens
]


@pytest.mark.parametrize("text", TEXTS)
def test_reference_agrees_on_every_rule(pipeline, text):
    loaded = parse_codebook(BOOK, "book.yaml")
    docs = [make_doc(text, "t.md")]
    fast = code_corpus(docs, CompiledCodebook(loaded, pipeline))
    ref = ReferenceCoder(loaded, pipeline).code(docs[0])
    assert any(c.matches for c in ref)
    assert coding_differences(fast, ref) == []
