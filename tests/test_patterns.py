"""User regular expressions that cannot hang coding, and ignore spans applied exactly."""
from __future__ import annotations

import pytest

from conftest import make_doc

from qualcode.codebook import parse_codebook
from qualcode.coding import CompiledCodebook, code_document
from qualcode.errors import CodebookError

ORDINARY = ("The cooperative of aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa weavers met in Teziutlán, where "
            "everyone wanted credit and nobody wanted to wait for the bank.\n")


def _book(code_regex: list[str], ignore: list[str] = (), terms: list[str] = ()) -> str:
    lines = ["ignore:"] + [f"  - '{p}'" for p in ignore] if ignore else []
    lines += ["codes:", "  - id: x", "    label: X", "    patterns:"]
    if code_regex:
        lines.append("      regex: [" + ", ".join(f"'{p}'" for p in code_regex) + "]")
    if terms:
        lines.append("      terms: [" + ", ".join(terms) + "]")
    return "\n".join(lines) + "\n"


def _matched(book_text: str, text: str, pipeline, **kw) -> list[str]:
    book = CompiledCodebook(parse_codebook(book_text, "book.yaml"), pipeline, **kw)
    return [m.text for c in code_document(make_doc(text, "d.md"), book) for m in c.matches]


# Each of these backtracks catastrophically in Python's re on the text (``re`` never
# returns); coding must finish with the matches the pattern defines.
@pytest.mark.parametrize("pattern, expected", [
    ("(a*)*b", ["b", "b", "b"]),  # bweavers, nobody, bank
    ("([a-z]+)*!", ["a" * 40 + "!"]),
    ("(.*a){25}", []),  # no line has 25 a's but the one of 40, which has no other character
    ("(a|aa)*c", ["c", "c"]),  # the regex module times out on this one: it runs on re2
    ("(\\w+\\s?)+#", []),
])
def test_regexes_catastrophic_pattern_finishes(pipeline, pattern, expected):
    text = ORDINARY.replace("weavers", "bweavers") + "\n" + "a" * 40 + "!\n"
    assert _matched(_book([pattern]), text, pipeline) == expected


@pytest.mark.parametrize("pattern, expected", [
    ("(a*)*b", ["credit"]),
    ("([a-z]+)*!", ["credit"]),
    ("(.*a){25}", []),  # the 36 a's and the next 25th a reach past "credit"
])
def test_regexes_catastrophic_ignore_pattern_finishes(pipeline, pattern, expected):
    assert _matched(_book([], [pattern], ["credit"]), ORDINARY, pipeline) == expected


# A pattern that re2 cannot run (here for its \\b) and that backtracks on the regex
# module too (Fibonacci many ways to split the a's) is stopped at the time limit and named with its place in the
# codebook and the document; nothing is half-coded.
@pytest.mark.parametrize("regexes, ignore, where", [
    (["(a|aa)*\\bc"], [], "book.yaml:5:15: x.patterns.regex[0]"),
    (["credit"], ["(a|aa)*\\bc"], "book.yaml:2:5: ignore[0]"),
])
def test_coding_regex_time_limit_names_pattern(pipeline, regexes, ignore, where):
    text = "a" * 60 + " c credit\n"
    with pytest.raises(CodebookError) as err:
        _matched(_book(regexes, ignore), text, pipeline, regex_timeout=0.05)
    message = str(err.value)
    assert message.startswith(where.replace("x.", "codes.x.")), message
    assert "the regular expression (a|aa)*\\bc took more than 0.05 s on d.md" in message


# A match is dropped when it overlaps an ignored span, however many other ignored spans
# start between that span's start and the match (the old check looked at nine).
@pytest.mark.parametrize("inner, coded", [(0, []), (5, []), (8, []), (9, []), (10, []), (50, []), (500, [])])
def test_coding_ignore_with_many_spans_before_a_match(pipeline, inner, coded):
    digits = " ".join(str(n % 10) for n in range(inner))
    text = f"Notes <<{digits} about credit>> end. Then credit again.\n"
    book = _book([], ["<<[^>]*>>", "\\d"], ["credit"])
    assert _matched(book, text, pipeline) == coded + ["credit"]


@pytest.mark.parametrize("text, expected", [
    ("<<a>> credit <<b>>\n", ["credit"]),  # between two ignored spans
    ("<<credit>>1 credit\n", ["credit"]),  # touching spans merge without swallowing the next word
    ("<<x 1 credit>> <<credit 2>>\n", []),
])
def test_coding_ignore_span_edges(pipeline, text, expected):
    assert _matched(_book([], ["<<[^>]*>>", "\\d"], ["credit"]), text, pipeline) == expected


def test_coding_regex_time_limit_in_parallel_workers(pipeline):
    from qualcode.coding import code_corpus

    book = CompiledCodebook(parse_codebook(_book(["(a|aa)*\\bc"]), "book.yaml"), pipeline, regex_timeout=0.05)
    docs = [make_doc("a" * 60 + " c credit\n", f"d{n}.md") for n in range(4)]
    with pytest.raises(CodebookError) as err:
        code_corpus(docs, book, jobs=2)
    assert [str(p) for p in err.value.problems] == [
        "book.yaml:5:15: codes.x.patterns.regex[0]: the regular expression (a|aa)*\\bc took more than 0.05 s on "
        "d0.md: it backtracks too much; rewrite it without nested or repeated open-ended quantifiers such as "
        "(a+)+ or (.*x){20}"]


# Patterns that move to re2 when slow must give re's matches there; the others stay on
# the regex module. Checked on the bundled corpus and on accented text.
@pytest.mark.parametrize("pattern, on_re2", [
    ("cr[eé]dit", True), ("le[oó]n", True), ("[a-zñáéíóú]+ción", True), ("(?:loan|credit)s? (?:from|by)", True),
    ("\\[paper:[^\\]]*\\]", True), ("^the", True), ("\\Athe", True), ("(a|aa)*c", True), ("[^ ]+ón", True),
    ("K", True), ("s", True),
    ("\\bleón\\b", False), ("\\w+ción", False), ("\\d+", False), ("\\s+", False), ("end$", False),
    ("(?=a)b", False), ("(a)\\1", False), ("(?i)x", False), ("(?s)a.b", False), ("[\\w]", False),
])
def test_regexes_re2_only_where_exact(pattern, on_re2):
    import re

    import re2

    from conftest import ROOT
    from qualcode.regexes import RE2_OPTIONS, re2_exact

    assert re2_exact(pattern) is on_re2
    if on_re2:
        texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").rglob("*.md"))]
        texts.append("Crédito, CRÉDIT, León, LEÓN, la cooperación, Kelvin K, ſ, the end\nThe")
        rx, rx2 = re.compile(pattern, re.IGNORECASE), re2.compile(pattern, RE2_OPTIONS)
        for text in texts:
            assert [m.span() for m in rx2.finditer(text)] == [m.span() for m in rx.finditer(text)]


# The lookup table lemmatises "meeting" to "meet" but "meetings" to "meeting": a LEMMA value
# that is a noun in -ing matches both numbers, in the fast engine and the reference coder alike;
# other values are unchanged.
@pytest.mark.parametrize("pattern, text, expected", [
    ('[{LOWER: chairs}, {LOWER: every}, {LEMMA: meeting}]', "She chairs every meeting.\n", ["chairs every meeting"]),
    ('[{LOWER: chairs}, {LOWER: every}, {LEMMA: meeting}]', "She chairs every meetings.\n", ["chairs every meetings"]),
    ('[{LEMMA: {IN: [meeting, assembly]}}, {LOWER: ends}]', "The meeting ends.\n", ["meeting ends"]),
    ('[{LEMMA: {IN: [meeting, assembly]}}, {LOWER: ends}]', "The assembly ends.\n", ["assembly ends"]),
    ('[{LOWER: the}, {LEMMA: {NOT_IN: [meeting]}}, {LOWER: ends}]', "The meeting ends.\n", []),
    ('[{LOWER: the}, {LEMMA: {NOT_IN: [meeting]}}, {LOWER: ends}]', "The day ends.\n", ["The day ends"]),
    ('[{LEMMA: loan}, {LOWER: ends}]', "The loans ends.\n", ["loans ends"]),
    ('[{LEMMA: meet}, {LOWER: us}]', "They met us.\n", ["met us"]),
])
def test_patterns_lemma_of_noun_in_ing(pipeline, pattern, text, expected):
    from qualcode.reference import ReferenceCoder

    book_text = f"codes:\n  - id: x\n    label: X\n    patterns:\n      tokens:\n        - {pattern}\n"
    assert _matched(book_text, text, pipeline) == expected
    ref = ReferenceCoder(parse_codebook(book_text, "book.yaml"), pipeline)
    assert [m.text for c in ref.code(make_doc(text, "d.md")) for m in c.matches] == expected
