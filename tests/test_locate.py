"""The quote locator: tolerant of how a person types a quote, exact in the span it returns."""
from __future__ import annotations

import pytest

from conftest import ROOT, make_doc

from qualcode.corpus import load_corpus
from qualcode.locate import LocateError, locate, normalise

TEXT = ("---\ntitle: Notes on working capital\n---\n"
        "# Finance in *Teziutlán*\n\n"
        "Producers said “we never had\nworking capital” — so they *self-financed* the orders.\n"
        "The co-operative’s  loans ran out in 1995–1996.\n\n"
        "Credit was scarce. Credit was scarce again later.\n")


@pytest.mark.parametrize("quote, expected", [
    ("we never had working capital", "we never had\nworking capital"),  # a line break in the file
    ("WE NEVER HAD   WORKING CAPITAL", "we never had\nworking capital"),  # case and spaces
    ('"we never had working capital"', "“we never had\nworking capital”"),  # straight for typographic quotes
    ("so they self-financed the orders", "so they *self-financed* the orders"),  # emphasis markers
    ("capital\" - so they", "capital” — so they"),  # dashes, quote marks
    ("Finance in Teziutlan", "Finance in *Teziutlán*"),  # accents and emphasis
    ("self-financed", "self-financed"),  # starts and ends inside the emphasis
    ("the co-operative's loans", "The co-operative’s  loans"),  # apostrophe, double space
    ("1995-1996", "1995–1996"),  # en dash
    ("  loans ran out  ", "loans ran out"),  # the quote's own outer spaces
])
def test_locate_tolerant_quote_gives_exact_span(quote, expected):
    doc = make_doc(TEXT)
    span = locate(quote, doc)
    assert span.text == expected
    assert doc.text[span.start:span.end] == expected
    assert span.line == doc.text.count("\n", 0, span.start) + 1


def test_locate_within_restricts_the_search():
    doc = make_doc(TEXT)
    with pytest.raises(LocateError):
        locate("working capital", doc)  # front matter and body
    body = locate("working capital", doc, within=(doc.body_start, len(doc.text)))
    assert body.line == 7 and body.text == "working capital"


def test_locate_ambiguous_quote_lists_every_place():
    doc = make_doc(TEXT)
    with pytest.raises(LocateError) as err:
        locate("credit was scarce", doc)
    assert len(err.value.found) == 2 and not err.value.candidates
    assert str(err.value) == ('quote "credit was scarce" is found 2 times in doc.md (lines 10, 10); '
                              'quote more of the passage or give start and end')


def test_locate_not_found_names_the_nearest_passages():
    paper = next(d for d in load_corpus(ROOT / "corpus") if d.id.startswith("paper/"))
    with pytest.raises(LocateError) as err:
        locate("Self financing was the exception for most", paper)
    best = err.value.candidates[0]
    assert best.span.text == "Self financing was the rule for most"
    assert paper.text[best.span.start:best.span.end] == best.span.text
    assert str(err.value).startswith('quote "Self financing was the exception for most" not found in '
                                     'paper/ruiz-duran-1998-clustering.md; nearest: "Self financing was the rule '
                                     'for most" (line 152, 84%)')


def test_locate_nothing_like_it_has_no_candidates():
    with pytest.raises(LocateError) as err:
        locate("zzzz qqqq xxxx", make_doc(TEXT))
    assert err.value.candidates == () and str(err.value).endswith("not found in doc.md")


@pytest.mark.parametrize("text, expected", [
    ("A  b\n\tc", "a b c"),
    ("**Bold** _it_", "bold it"),
    ("“Qu’est”—", "\"qu'est\"-"),
    ("Ñandú", "nandu"),
    ("Straße", "strasse"),
])
def test_locate_normalise_table(text, expected):
    norm, where = normalise(text)
    assert norm == expected and len(where) == len(norm)
