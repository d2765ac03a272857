"""Segmentation of genres other than the paper: field notes, transcripts, memos, policy
reports, emails (tests/data/genres/), and the length check that catches a layout missed."""
from __future__ import annotations

import json
import warnings

import pytest

from conftest import DATA, ROOT, make_doc

from qualcode.coding import code_corpus
from qualcode.corpus import load_corpus, read_document
from qualcode.graph import segments_from_records
from qualcode.output import CSV_COLUMNS, read_coding_records, write_coding
from qualcode.segment import MAX_SEGMENT_CHARS, long_segments, segment_document

GENRES = DATA / "genres"


def _segments(compiled, doc):
    return [(s.line, s.kind, s.speaker, doc.text[s.start:s.end])
            for s in segment_document(doc, compiled.pipeline, compiled.abbreviations).segments]


@pytest.mark.parametrize("name, expected", [
    ("policy-report.md", [
        (5, "heading", None, "4. Financing the integradoras"),
        (7, "list_item", None,
         "The development bank opened a credit line for integradoras in 1994, but few firms used it."),
        (8, "list_item", None, "Commercial banks asked for collateral that small workshops could not offer."),
        (8, "list_item", None, "Interest rates doubled after the devaluation."),
        (9, "list_item", None, "The ministry proposes three measures:"),
        (10, "list_item", None, "a guarantee fund shared by the state governments;"),
        (11, "list_item", None, "training for the managers of each integradora;"),
        (12, "list_item", None, "a review of the tax regime after two years."),
        (13, "list_item", None, "The measures apply in Jalisco, Gto. and Pue. from 1999."),
        (14, "list_item", None, "Each state government reports every year on the use of the fund."),
        (15, "list_item", None, "Reports are public."),
        (16, "list_item", None, "3.5 million pesos were set aside for the first year."),  # a number, not a marker
    ]),
    ("field-notes.txt", [
        (1, "heading", None, "Field notes, Teziutlán, 12 March 1998"),
        (3, "sentence", None, "10:30 arrived at the workshop of the integradora"),
        (4, "sentence", None, "owner not there, spoke with his wife"),
        (5, "sentence", None, "she says the bank refused them credit again."),
        (6, "sentence", None, "the members now pay suppliers in cash."),
        (7, "sentence", None, "14:00 meeting with the cooperative's accountant in Cd. Hidalgo, Mich."),
        (7, "sentence", None, "He keeps the books for six firms."),
        (9, "list_item", None, "visit the dyeing plant on Friday"),
        (10, "list_item", None, "ask about the training programme"),
        (11, "list_item", None, "The state office in Guadalajara, Jal. promised a new course."),
        (12, "list_item", None, "We drove on to Monterrey, N.L."),
        (12, "list_item", None, "The road was closed at Saltillo."),
    ]),
    ("interview-transcript.md", [
        (5, "heading", None, "Interview"),
        (7, "sentence", "Interviewer", "How did the integradora start?"),
        (8, "sentence", "Owner", "Six of us met at the church hall."),
        (8, "sentence", "Owner", "We had no money for a cutting machine,\nso we bought one together."),
        (9, "sentence", "Owner", "Then we shared the orders."),
        (10, "sentence", "Interviewer", "And the bank?"),
        (11, "sentence", "Owner", "The bank never lent to us."),
        (13, "sentence", "Owner", "We paid everything ourselves."),  # a transcript's turn goes on after a blank line
        (14, "sentence", "Ana", "I keep the accounts."),
        (14, "sentence", "Ana", "Every firm pays a fee each month."),
        (15, "sentence", "Interviewer", "Who decides on new members?"),
        (16, "sentence", "Ana", "The assembly decides."),
    ]),
    ("interview-qa.md", [
        (5, "sentence", "Q", "Do you export?"),
        (6, "sentence", "A", "Yes, to San Diego."),
        (6, "sentence", "A", "Most of our furniture goes north."),
        (7, "sentence", "Q", "Who designs the pieces?"),
        (8, "sentence", "A", "A designer from the university."),
        (9, "sentence", None, "Note: the call was cut after ten minutes."),
        (10, "sentence", None, "Source: notes taken during the call."),
    ]),
    ("email.txt", [
        (1, "sentence", None, "From: Ana López"),
        (2, "sentence", None, "To: Research team"),
        (3, "sentence", None, "Subject: Visit to León"),
        (5, "sentence", None, "Dear all,\nThe shoe makers in León agreed to meet us on Tuesday."),
        (6, "sentence", None, "They want to talk about credit."),
        (7, "sentence", None, "Note: bring the consent forms."),
        (9, "heading", None, "Best, Ana"),
    ]),
    ("memo.md", [
        (5, "heading", None, "Memo: trust between members"),
        (7, "list_item", None, "Trust grows when members share a machine."),
        (8, "list_item", None, "Where the government set up the integradora, members trusted it less."),
        (9, "sentence", None, "Decision: code distrust of officials under government as well."),
    ]),
])
def test_segment_genre_boundaries(compiled, name, expected):
    doc = read_document(GENRES / name, name)
    assert _segments(compiled, doc) == expected


@pytest.mark.parametrize("text, expected", [
    # numbered paragraphs and clauses, one per line, no blank lines
    ("4.1 First point here.\n4.2 Second point.\n4.12 Twelfth point.\n",
     ["First point here.", "Second point.", "Twelfth point."]),
    ("1.2.3 Deep point.\n1.2.4. Next one.\n", ["Deep point.", "Next one."]),
    ("(a) the first clause;\n(b) the second;\na) third\n(iv) fourth\nii. fifth\n",
     ["the first clause;", "the second;", "third", "fourth", "fifth"]),
    ("§ 3 The fund.\n§4 The board.\n", ["The fund.", "The board."]),
    ("In the first year of the programme the costs of the fund rose by\n3.5 million pesos in a year.\n",
     ["In the first year of the programme the costs of the fund rose by\n3.5 million pesos in a year."]),
    # a line that ends a sentence ends a segment, whatever the next line starts with
    ("the bank refused.\nthe owner went home\n", ["the bank refused.", "the owner went home"]),
    ("They met in the U.S.\nand in Canada.\n", ["They met in the U.S.\nand in Canada."]),
    ("The figures for each state are given in detail in Vol.\n3 of the report.\n",
     ["The figures for each state are given in detail in Vol.\n3 of the report."]),
    ("He waited...\nthen he left.\n", ["He waited...\nthen he left."]),
    # hard-wrapped prose stays together
    ("The members of the integradora agreed that\nthe purchases would be made together\nand paid from a common fund.\n",
     ["The members of the integradora agreed that\nthe purchases would be made together\n"
      "and paid from a common fund."]),
    # a line per entry: capitalised lines without final punctuation
    ("Arrived at the workshop at ten in the morning after the bus\n"
     "Owner away until noon, his daughter showed us round\n"
     "Two new cutting machines bought with the loan\n",
     ["Arrived at the workshop at ten in the morning after the bus",
      "Owner away until noon, his daughter showed us round",
      "Two new cutting machines bought with the loan"]),
    # times and dates start an entry
    ("Visit to the cooperative\n09:15 the manager arrives\n2024-03-12 second visit\n",
     ["Visit to the cooperative", "09:15 the manager arrives", "2024-03-12 second visit"]),
    # old Mac line endings: a lone CR breaks lines like LF
    ("# Head\r\rFirst line of a\rparagraph.\r\r- item one\r- item two\r",
     ["Head", "First line of a\rparagraph.", "item one", "item two"]),
    ("4.1 One.\r4.2 Two.\r", ["One.", "Two."]),
])
def test_segment_genre_rules(compiled, text, expected):
    assert [t for _, _, _, t in _segments(compiled, make_doc(text))] == expected


@pytest.mark.parametrize("text, kind, speakers", [
    ("Interviewer: Why?\nOwner: Because. It paid.\n", "transcript", ["Interviewer", "Owner", "Owner"]),
    ("Q: Why?\nA: Because.\nQ: And then?\nA: We left.\n", "field-notes", ["Q", "A", "Q", "A"]),
    ("[00:12:31] Ana: I keep the accounts.\n[00:13:05] Luis: I sell.\n", "transcript", ["Ana", "Luis"]),
    ("**Interviewer:** Why?\n**Ana:** Credit.\n", "interview", ["Interviewer", "Ana"]),
    ("Interviewer:\nHow did it start?\nOwner: Slowly.\n", "transcript", ["Interviewer", "Owner"]),
    # a label heading one line outside a transcript is not a speaker, nor are header words
    ("Owner: credit is scarce here.\nWe left at noon.\n", "field-notes", [None, None]),
    ("Note: see the map.\nNote: ask again.\n", "field-notes", [None, None]),
    ("Source: INEGI census.\n", "transcript", [None]),
    ("Q: Why?\nA: Credit.\n\nWe left after the interview.\n", "field-notes", ["Q", "A", None]),
])
def test_segment_speakers(compiled, text, kind, speakers):
    doc = make_doc(f"---\nkind: {kind}\n---\n{text}")
    assert [s for _, _, s, _ in _segments(compiled, doc)] == speakers


def test_segment_speaker_label_is_not_in_the_segment(compiled):
    doc = make_doc("---\nkind: transcript\n---\nOwner: The bank in Puebla refused. We paid cash.\n")
    coded = compiled.code(doc)
    assert [c.text for c in coded] == ["The bank in Puebla refused.", "We paid cash."]
    assert [c.segment.speaker for c in coded] == ["Owner", "Owner"]


def test_segment_no_segment_of_a_test_corpus_is_over_the_length_limit(compiled):
    """No segment grows to a whole section: every corpus the tests use stays under the limit."""
    docs = load_corpus(ROOT / "corpus") + load_corpus(GENRES)
    long = [(d.id, s.line, s.end - s.start) for d in docs
            for s in long_segments(segment_document(d, compiled.pipeline, compiled.abbreviations).segments)]
    assert long == []


def test_segment_numbered_section_is_not_one_segment(compiled):
    """The fault behind the issue: a section of numbered paragraphs without blank lines."""
    paras = "\n".join(f"4.{n} The ministry shall report on the credit programme of region {n} to the assembly, "
                      f"with the accounts of each integradora and the trust its members place in it."
                      for n in range(1, 31))
    segs = segment_document(make_doc(f"# 4. Credit\n{paras}\n"), compiled.pipeline, compiled.abbreviations).segments
    assert len(paras) > 3000 and len(segs) == 31 and not long_segments(segs)
    assert max(s.end - s.start for s in segs) < 200


def test_segment_long_segment_warns(compiled):
    text = "# Notes\n\n" + " ".join(["the bank lent money to the firm and the owner paid it back"] * 30) + "\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code_corpus([make_doc(text, "notes.md")], compiled)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and messages[0].startswith(f"notes.md:3:1: a segment of 1769 characters, over "
                                                         f"{MAX_SEGMENT_CHARS}")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_segment_speaker_in_output_and_read_back(compiled, tmp_path, fmt):
    doc = read_document(GENRES / "interview-qa.md", "interview-qa.md")
    coded = code_corpus([doc], compiled)
    path = tmp_path / f"coding.{fmt}"
    write_coding(coded, path, format=fmt)
    records = read_coding_records(path)
    assert [r["speaker"] for r in records] == ["Q", "A", "A", "Q", "A", None, None]
    assert [s.segment.speaker for s in segments_from_records(records)] == [r["speaker"] for r in records]
    if fmt == "jsonl":
        keys = list(json.loads(path.read_text(encoding="utf-8").splitlines()[0]))
        assert keys[keys.index("kind") + 1] == "speaker"
    else:
        assert CSV_COLUMNS[CSV_COLUMNS.index("kind") + 1] == "speaker"
        assert path.read_text(encoding="utf-8").splitlines()[0].split(",")[9:11] == ["kind", "speaker"]


def test_segment_records_without_speaker_read_back(compiled):
    doc = make_doc("One sentence here.\n")
    record = code_corpus([doc], compiled)[0].to_record()
    del record["speaker"]  # a coding written before the field existed
    assert segments_from_records([record])[0].segment.speaker is None


def test_segment_genres_coded_in_parallel_equal(compiled):
    docs = load_corpus(GENRES)
    serial = [s.to_record() for s in code_corpus(docs, compiled)]
    assert [s.to_record() for s in code_corpus(docs, compiled, jobs=2)] == serial
    assert {r["speaker"] for r in serial} >= {"Q", "A", "Ana", "Owner", "Interviewer"}


@pytest.mark.parametrize("text", ["The owner said: we never borrow.\nThe owner said: the bank refused.\n",
                                  "What we learned: little.\nWhat we learned: more.\n",
                                  "Ana López wrote: fine.\n> Luis wrote: see you.\nAna López wrote: bye.\n"])
def test_segment_clause_before_colon_is_no_speaker(compiled, text):
    assert {s for _, _, s, _ in _segments(compiled, make_doc(text))} == {None}
