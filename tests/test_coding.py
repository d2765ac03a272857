"""Coding: how each pattern kind matches, exclusions, nesting, cases and the audit trail."""
from __future__ import annotations

import textwrap

import pytest

from conftest import coding_differences, make_doc

from qualcode.codebook import parse_codebook
from qualcode.coding import CompiledCodebook, code_document

BOOK = textwrap.dedent("""\
    codes:
      - id: finance
        label: Finance
        patterns:
          terms: [loan, working capital, pay supplier]
          regex: ['\\binterest rates?\\b']
      - id: credit
        label: Credit
        parent: finance
        patterns:
          tokens:
            - [{LEMMA: borrow}, {OP: "?"}, {LEMMA: money}]
      - id: design
        label: Design
        patterns:
          terms: [design]
        exclude:
          terms: [decide to design]
          tokens:
            - [{LOWER: designed}, {LOWER: to}]
    cases:
      - id: mexico
        name: Mexico
        kind: country
      - id: puebla
        name: Puebla
        kind: state
        parent: mexico
      - id: teziutlan
        name: Teziutlán
        kind: city
        parent: puebla
      - id: nuevo-leon
        name: Nuevo León
        kind: state
        parent: mexico
      - id: leon
        name: León
        kind: city
      - id: distrito-federal
        name: Distrito Federal
        aliases: [Mexico City]
        kind: state
        parent: mexico
      - id: united-states
        name: United States
        exact_aliases: [US]
        kind: country
    """)


@pytest.fixture(scope="module")
def book(pipeline):
    return CompiledCodebook(parse_codebook(BOOK, "book.yaml"), pipeline)


def _code(book, text, doc_id="d.md"):
    return code_document(make_doc(text, doc_id), book)


@pytest.mark.parametrize("text, codes, matched", [
    ("They took out Loans.", ["finance"], ["Loans"]),
    ("LOAN officers came.", ["finance"], ["LOAN"]),
    ("Short of working capital.", ["finance"], ["working capital"]),
    ("They paid their suppliers late. They paid suppliers late.", ["finance"], ["paid suppliers"]),
    ("High interest rates hurt.", ["finance"], ["interest rates"]),
    ("They borrowed some money.", ["finance", "credit"], ["borrowed some money"]),
    ("Designs were copied.", ["design"], ["Designs"]),
    ("They decided to design a program.", [], []),
    ("It was designed to fail, but the design was good.", ["design"], ["design"]),
    ("Nothing relevant here.", [], []),
    ("They took a loan.[^1] It helped.\n\n[^1]: From 2020.\n", ["finance"], ["loan"]),  # word before a footnote reference
])
def test_coding_patterns(book, text, codes, matched):
    segs = _code(book, text)
    assert sorted({c for s in segs for c in s.codes}) == sorted(codes)
    assert [m.text for s in segs for m in s.matches] == matched


@pytest.mark.parametrize("text, cases", [
    ("Producers of Teziutlán, Puebla.", ["puebla", "teziutlan"]),
    ("Producers of Teziutlan.", ["teziutlan"]),
    ("PRODUCERS OF TEZIUTLÁN.", ["teziutlan"]),
    ("Firms in Nuevo León export.", ["nuevo-leon"]),
    ("Footwear in León grew.", ["leon"]),
    ("Three hours from Mexico City.", ["distrito-federal"]),
    ("Mexico exports.", ["mexico"]),
    ("The US market is huge.", ["united-states"]),
    ("They told us the truth.", []),
])
def test_coding_cases_folded_and_longest(book, text, cases):
    segs = _code(book, text)
    assert sorted({c for s in segs for c in s.cases}) == cases


def test_coding_match_offsets_reproduce_text(book):
    text = "---\ntitle: t\n---\n# Finance in Teziutlán\n\nA loan from the bank. Interest rate rose.\n"
    doc = make_doc(text)
    for s in code_document(doc, book):
        assert doc.text[s.segment.start:s.segment.end] == s.text
        for m in s.matches + s.case_matches:
            assert doc.text[m.start:m.end] == m.text
            assert s.segment.start <= m.start < m.end <= s.segment.end
            assert m.rule.startswith("book.yaml:")


@pytest.mark.parametrize("text, expected", [
    ("---\ncases: [puebla]\n---\n# Teziutlán\n\nA loan was made.\n\n## Later\n\nAnother loan in Mexico.\n",
     [("Teziutlán", ["teziutlan"], ["puebla"]), ("A loan was made.", [], ["puebla", "teziutlan"]),
      ("Later", [], ["puebla", "teziutlan"]), ("Another loan in Mexico.", ["mexico"], ["puebla", "teziutlan"])]),
    ("---\ncases: [Teziutlan]\n---\nIn Teziutlán.\n", [("In Teziutlán.", ["teziutlan"], [])]),
])
def test_coding_context_cases(book, text, expected):
    segs = _code(book, text)
    assert [(s.text, list(s.cases), list(s.context_cases)) for s in segs] == expected


@pytest.mark.parametrize("text, pattern, rule", [
    ("A loan.", "term:loan", "book.yaml:5:15"),
    ("They borrowed money.", 'tokens:[{"LEMMA":"borrow"},{"OP":"?"},{"LEMMA":"money"}]', "book.yaml:12:11"),
])
def test_coding_provenance(book, text, pattern, rule):
    m = _code(book, text)[0].matches[0]
    assert (m.pattern, m.rule) == (pattern, rule)


def test_coding_unknown_front_matter_case_is_an_error(book):
    from qualcode.coding import code_corpus
    from qualcode.errors import CorpusError

    with pytest.raises(CorpusError, match="unknown case 'Atlantis'"):
        code_corpus([make_doc("---\ncases: [Atlantis]\n---\nText.")], book)


def test_coding_is_deterministic_and_parallel_equal(compiled, bundled):
    from qualcode.coding import code_corpus

    docs, segs = bundled
    again = code_corpus(docs, compiled, jobs=2)
    assert coding_differences(again, segs) == []


@pytest.fixture(scope="module")
def saved_pipeline(tmp_path_factory):
    """A spaCy pipeline saved to disk with a lookup lemmatizer: stands in for an installed
    trained model (none can be downloaded here), to exercise the ``--model`` path."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    path = tmp_path_factory.mktemp("model") / "en_test"
    nlp.to_disk(path)
    return str(path)


@pytest.mark.parametrize("text, codes, cases", [
    ("They took out Loans in Teziutlan.", ["finance"], ["teziutlan"]),
    ("They borrowed some money.", ["finance", "credit"], []),
    ("They decided to design a program.", [], []),
])
def test_coding_with_a_named_pipeline(saved_pipeline, text, codes, cases):
    from qualcode.pipeline import Pipeline

    book = CompiledCodebook(parse_codebook(BOOK, "book.yaml"), Pipeline(saved_pipeline))
    segs = _code(book, text)
    assert sorted({c for s in segs for c in s.codes}) == sorted(codes)
    assert sorted({c for s in segs for c in s.cases}) == cases


@pytest.mark.parametrize("name", ["en_core_web_nonexistent"])
def test_coding_unknown_model_is_bad_input(name):
    from qualcode.errors import QualcodeError
    from qualcode.pipeline import Pipeline

    with pytest.raises(QualcodeError, match="not installed"):
        Pipeline(name)
