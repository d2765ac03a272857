"""Words hyphenated across a line break (text extracted from PDF reports) are read whole when
the joined word is English, so codebook terms match them; offsets stay those of the file."""
from __future__ import annotations

import pytest

from conftest import make_doc

from qualcode.coding import code_corpus
from qualcode.hyphenation import joined_text, line_end_joins
from qualcode.segment import mask


@pytest.mark.parametrize("source, words", [
    ("the develop-\nment bank", ["development"]),
    ("the develop-\r\nment bank", ["development"]),  # CRLF
    ("the develop-\n   ment bank", ["development"]),  # an indented line
    ("> the coopera-\n> tive\n", ["cooperative"]),  # quoted lines: the mask blanks the marks
    ("book-\nkeeping and coopera-\ntion", ["bookkeeping", "cooperation"]),
    ("a well-\nknown firm", []),  # "wellknown" is no English word: a compound
    ("self-\nfinancing", []),
    ("Develop-\nMent", []),  # the second part is capitalised: a name or a list
    ("develop- ment", []),  # no line break
    ("1998-\n99", []),  # not letters
    ("develop-\n\nment", []),  # a paragraph break
])
def test_hyphenation_joins_only_english_words(pipeline, source, words):
    masked = mask(source)
    joins = line_end_joins(masked, source, pipeline.lexicon.is_english)
    assert [j.word for j in joins] == words
    for j in joins:
        assert "".join(c for c in source[j.start:j.end] if c.isalpha()) == j.word
    text = joined_text(masked, joins)
    assert len(text) == len(source)
    assert all(text[j.start:j.joined_end] == j.word for j in joins)


@pytest.mark.parametrize("text, code, matched", [
    ("They asked the develop-\nment bank for help.\n", "government", "develop-\nment bank"),
    ("They asked the develop-\r\nment bank for help.\r\n", "government", "develop-\r\nment bank"),
    ("The workshops formed a coopera-\ntive last year.\n", "cooperation", "coopera-\ntive"),
    ("Nobody checked the book-\nkeeping of the group.\n", "finance", "book-\nkeeping"),
])
def test_hyphenation_codes_the_joined_word_with_file_offsets(compiled, text, code, matched):
    doc = make_doc(text, "report.txt")
    [coded] = code_corpus([doc], compiled)
    assert code in coded.codes
    found = [m for m in coded.matches if m.code == code]
    assert [m.text for m in found] == [matched]
    assert all(doc.text[m.start:m.end] == m.text for m in coded.matches)
    assert coded.text == doc.text[coded.segment.start:coded.segment.end]


def test_hyphenation_leaves_text_without_line_end_hyphens_alone(compiled):
    text = "The development bank and a well-known cooperative.\n"
    hyphenated = "The develop-\nment bank and a well-known coopera-\ntive.\n"
    [plain] = code_corpus([make_doc(text, "a.txt")], compiled)
    [joined] = code_corpus([make_doc(hyphenated, "b.txt")], compiled)
    assert plain.codes == joined.codes
    assert [(m.code, m.text.replace("-\n", "")) for m in joined.matches] == [(m.code, m.text) for m in plain.matches]


TOKEN_BOOK = """\
codes:
  - id: credit
    label: Credit
    patterns:
      tokens:
        - [{LEMMA: borrow}, {OP: "?"}, {LEMMA: money}]
        - [{LOWER: joint}, {LOWER: account, OP: "?"}]
"""


@pytest.mark.parametrize("text, matched", [
    ("They borrowed some money.\n", ["borrowed some money"]),
    ("They borrowed\r\nsome money.\r\n", ["borrowed\r\nsome money"]),  # CRLF: two blanked characters
    ("They borrowed\n    some money.\n", ["borrowed\n    some money"]),  # an indented line
    ("> They borrowed\n> some money.\n", ["borrowed\n> some money"]),  # e-mail quote marks
    ("They bor-\nrowed some money.\n", ["bor-\nrowed some money"]),
    ("a joint  \naccount and a joint   \n\n", ["joint  \naccount", "joint"]),  # no match ends on spaces
])
def test_hyphenation_token_patterns_match_across_line_breaks(pipeline, text, matched):
    from qualcode.codebook import parse_codebook
    from qualcode.coding import CompiledCodebook
    from qualcode.reference import ReferenceCoder

    loaded = parse_codebook(TOKEN_BOOK, "book.yaml")
    doc = make_doc(text, "mail.txt")
    fast = [m.text for c in code_corpus([doc], CompiledCodebook(loaded, pipeline)) for m in c.matches]
    reference = [m.text for c in ReferenceCoder(loaded, pipeline).code(doc) for m in c.matches]
    assert fast == reference == matched
