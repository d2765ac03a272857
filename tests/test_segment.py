"""Segmentation: the faults of spaCy's default sentencizer on the paper must not survive."""
from __future__ import annotations

import pytest

from conftest import make_doc

from qualcode.segment import segment_document


def _texts(doc, pipeline):
    return [doc.text[s.start:s.end] for s in segment_document(doc, pipeline).segments]


def _find(segments_text, needle):
    return [t for t in segments_text if needle in t]


@pytest.fixture(scope="module")
def paper_texts(paper_segments):
    doc, segments = paper_segments
    return [doc.text[s.start:s.end] for s in segments]


def test_segment_offsets_reproduce_text(paper_segments):
    doc, segments = paper_segments
    for s in segments:
        text = doc.text[s.start:s.end]
        assert text == text.strip() and text
        assert "\n\n" not in text  # no segment crosses a blank line
        assert doc.text.count("\n", 0, s.start) + 1 == s.line


@pytest.mark.parametrize("expected", [
    "Clustering: Joint Learning Experience", "Clemente Ruiz Durán", "Emergence of horizontal cooperation",
    "What moves small business to get together and develop clusters?",
])
def test_segment_title_block_not_merged(paper_texts, expected):
    assert expected in paper_texts


@pytest.mark.parametrize("needle", ["legal, etc.), as well as"])
def test_segment_no_split_after_etc_paren(paper_texts, needle):
    hits = _find(paper_texts, needle)
    assert len(hits) == 1 and hits[0].endswith("the advantages of specialization among members.")


@pytest.mark.parametrize("before, after", [("“empresas integradoras” (eis)¹", "Response was limited")])
def test_segment_split_after_footnote_mark(paper_texts, before, after):
    first = _find(paper_texts, before)[0]
    assert first.endswith(before)
    assert any(t.startswith(after) for t in paper_texts)


@pytest.mark.parametrize("end, start", [("suppliers in the U.S.", "In some maquilas")])
def test_segment_split_after_dotted_abbreviation(paper_texts, end, start):
    assert any(t.endswith(end) for t in paper_texts)
    assert any(t.startswith(start) for t in paper_texts)


@pytest.mark.parametrize("row", ["Services | 30 | 297 | 952", "Furniture | 9 | 95 | 54", "Total | 229 | 8333 | 19087"])
def test_segment_table_rows_are_segments(paper_segments, row):
    doc, segments = paper_segments
    rows = [doc.text[s.start:s.end] for s in segments if s.kind == "table_row"]
    assert row in rows
    assert len(rows) == 26  # header + 24 sectors + total


@pytest.mark.parametrize("citation", [
    "Humphrey J. Industrial reorganization in developing countries: from models to trajectories. "
    "World Development Vol. 23. No. 1. 1995.",
    "Morgan K. “Learning by interacting: inter firm networks and enterprise support” in **Networks of "
    "Enterprise and Local Development** OECD 1996 Pag. 53-65",
])
def test_segment_citation_stays_whole(paper_texts, citation):
    assert any(t.endswith(citation) for t in paper_texts)
    assert "World Development Vol." not in paper_texts and "23." not in paper_texts


@pytest.mark.parametrize("text, expected", [
    ("First one. Second one.\n", ["First one.", "Second one."]),
    ("- An item. Its second sentence.\n- Another item\n", ["An item.", "Its second sentence.", "Another item"]),
    ("# Heading\nA paragraph line\ncontinued here.\n\nNext para.", ["Heading", "A paragraph line\ncontinued here.", "Next para."]),
    ("Ends without stop\n\nNew paragraph", ["Ends without stop", "New paragraph"]),
    ("He met Dr. Smith at 4 a.m. on Monday. Then he left.", ["He met Dr. Smith at 4 a.m. on Monday.", "Then he left."]),
    ("Costs fell (see Vol. 2, p. 3). Sales rose.", ["Costs fell (see Vol. 2, p. 3).", "Sales rose."]),
    ("“Is it good?” he asked. “Yes.” She left.", ["“Is it good?” he asked.", "“Yes.”", "She left."]),
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", ["a | b", "1 | 2"]),
    ("¹ A footnote. With two sentences.\n² Smith J. A Title. Journal Vol. 3. 1999.",
     ["¹ A footnote.", "With two sentences.", "² Smith J. A Title. Journal Vol. 3. 1999."]),
    ("Line one\r\nline two.\r\n\r\nNext.\r\n", ["Line one\r\nline two.", "Next."]),
    # a sentence ending on a.m./p.m./Ltd. before a capitalised stop word; not before a name
    ("Back by 4 p.m. In the evening, rain.", ["Back by 4 p.m.", "In the evening, rain."]),
    ("Left at 9 a.m. Monday was hot. Sold to Acme Ltd. The firm paid.",
     ["Left at 9 a.m. Monday was hot.", "Sold to Acme Ltd.", "The firm paid."]),
    # an inline footnote reference after the full stop does not glue two sentences together
    ("Not in its name.[^2] Members lend pumps.\n\n[^2]: A note.\n",
     ["Not in its name.", "Members lend pumps.", "[^2]: A note."]),
    ("See [^a] below. It rose.", ["See [^a] below.", "It rose."]),
    # word processors' second-level bullets: an "o" before a capital or a digit
    ("Results:\n\n  o Loans were approved.\n  o 44 members save.\n", ["Results:", "Loans were approved.", "44 members save."]),
])
def test_segment_rules(pipeline, text, expected):
    assert _texts(make_doc(text), pipeline) == expected


WRAPPED = ("The treasurer then explained that the loan from the rural bank had been repaid in\n"
           "full, two months early, and that the cooperative could now apply for a second\n"
           "loan to buy a truck.\n")


@pytest.mark.parametrize("text, expected", [
    # bullets pasted from word processors and PDFs
    ("Checked:\n– cans cleaned\n▪ tank running\n● book up to date\n◦ design not printed\n",
     ["Checked:", "cans cleaned", "tank running", "book up to date", "design not printed"]),
    # lines longer than hard-wrapped text has: each line break was the writer's
    ("asked about the association. she said it started when the three bakeries next to the bus station started "
     "buying flour\nthe leader is her brother in law\nno one keeps written records\n",
     ["asked about the association. she said it started when the three bakeries next to the bus station started "
      "buying flour", "the leader is her brother in law", "no one keeps written records"]),
    # hard-wrapped: a line ended well before the wrap width ends its entry, full lines do not
    ("Field notes, Tuesday 14 May\nMarket day in the square. The women from the weaving group\nshare two tables "
     "and take turns selling, so the others\nkeep working at home.\n",
     ["Field notes, Tuesday 14 May", "Market day in the square.",
      "The women from the weaving group\nshare two tables and take turns selling, so the others\nkeep working at "
      "home."]),
    (WRAPPED, [WRAPPED.strip()]),
    ("- receipts go in a notebook kept by the secretary of the group, who is new\n- the box\nLeft at noon.\n",
     ["receipts go in a notebook kept by the secretary of the group, who is new", "the box", "Left at noon."]),
    # lines typed one per note, without punctuation: most lines had room for the next line's first word
    ("the owners said the bank refused every loan this year\nthey lend each other hides when one runs short\n"
     "the mayor came for the photo and left\nnobody trusts the new buyer from the city\n",
     ["the owners said the bank refused every loan this year", "they lend each other hides when one runs short",
      "the mayor came for the photo and left", "nobody trusts the new buyer from the city"]),
    # lines ended by hand without punctuation: the next line's first word would have fitted
    ("Visited the tannery cluster with the two extension officers today.\nthe owners said the bank refused every "
     "loan\nthey lend each other hides when one runs short\nthe mayor came for the photo and left\n",
     ["Visited the tannery cluster with the two extension officers today.", "the owners said the bank refused every loan",
      "they lend each other hides when one runs short", "the mayor came for the photo and left"]),
    # quote marks of e-mail replies are markup
    ("> On Monday Mehmet wrote:\n> We should ship the container together again.\n",
     ["On Monday Mehmet wrote:", "We should ship the container together again."]),
])
def test_segment_layouts_of_other_genres(pipeline, text, expected):
    assert _texts(make_doc(text), pipeline) == expected


@pytest.mark.parametrize("text, speakers", [
    # once a label heads two lines (a dialogue), a label heading one line is a speaker too
    ("Rosa: the buyer wants scarves by june\nJuan: we can do it\nMarta: i will ask about the grant\n"
     "Juan: the bank said no\n", ["Rosa", "Juan", "Marta", "Juan"]),
    ("MODERATOR: How did you pay?\nP1: Savings.\nP2: The bank asked for titles.\nMODERATOR: And then?\n",
     ["MODERATOR", "P1", "P2", "MODERATOR"]),
    # a description with a comma after the label: the speaker is the label
    ("Facilitator: Who decides?\nP1 (woman, 40s): The chair.\nP2 (man, 30s): Yes.\nP1 (woman, 40s): Always.\n",
     ["Facilitator", "P1", "P2", "P1"]),
    # no label heads two lines: header-like lines are not speakers
    ("Budget: 40,000 dollars\nDeadline: the end of May\n", [None, None]),
    # other descriptions: in brackets, in parentheses without a comma or with a time, or after commas
    ("Interviewer: Tell me.\nP2 [man, 50s]: We borrow.\nP3, woman, 30s: We trust her.\n"
     "Ana (translated from Spanish): It is far.\nP2 (man, 50s, 10:32): Again.\nInterviewer: Thanks.\n",
     ["Interviewer", "P2", "P3", "Ana", "P2", "Interviewer"]),
])
def test_segment_speakers_of_a_dialogue(pipeline, text, speakers):
    assert [s.speaker for s in segment_document(make_doc(text), pipeline).segments] == speakers


@pytest.mark.parametrize("text, doc_id, expected", [
    # chat exports: a date and a time before the sender (WhatsApp on Android and on iOS, Signal)
    ("12/03/2025, 18:42 - Amina: The buyer has not paid yet\n12/03/2025, 18:43 - Joseph: He always pays late. "
     "I told you not to trust him\n12/03/2025, 18:44 - Amina: OK\nwe will ask the chairman tomorrow\n", "chat.txt",
     [("Amina", "The buyer has not paid yet"), ("Joseph", "He always pays late."),
      ("Joseph", "I told you not to trust him"), ("Amina", "OK"), ("Amina", "we will ask the chairman tomorrow")]),
    ("[06/05/26 04:41] Moussa Diouf: Wind is down.\n\n[06/05/26 04:43] Ablaye Ndiaye: Ok. Bring the ice.\n\n"
     "[06/05/26 04:50] Moussa Diouf: Going.\n", "chat.md",
     [("Moussa Diouf", "Wind is down."), ("Ablaye Ndiaye", "Ok."), ("Ablaye Ndiaye", "Bring the ice."),
      ("Moussa Diouf", "Going.")]),
    ("[12/03/2025, 6:42:05\u202fPM] Ana: Paid.\n[12/03/2025, 6:43:10\u202fPM] Rui: Thanks\n"
     "[12/03/2025, 6:44:00\u202fPM] Ana: Bye\n", "chat.txt", [("Ana", "Paid."), ("Rui", "Thanks"), ("Ana", "Bye")]),
    # transcription services: the speaker and a time alone on a line, the turn below it
    ("Speaker 1  0:03\nSo how did the group get its first loan\n\nSpeaker 2  0:10\nThe mayor signed the letter\n"
     "\nSpeaker 1  0:35\nAnd the designs\n", "otter.txt",
     [("Speaker 1", "So how did the group get its first loan"), ("Speaker 2", "The mayor signed the letter"),
      ("Speaker 1", "And the designs")]),
    ("Ana (00:01:12):\nWe pay the rent together.\n\nRui (00:01:30):\nSince 2019.\n", "rev.md",
     [("Ana", "We pay the rent together."), ("Rui", "Since 2019.")]),
    # a time after a word once is not a speaker
    ("Arrived 10:30\n\nThe market was empty.\n", "notes.txt", [(None, "Arrived 10:30"), (None, "The market was empty.")]),
])
def test_segment_turns_of_chat_exports_and_transcription_services(pipeline, text, doc_id, expected):
    doc = make_doc(text, doc_id)
    assert [(s.speaker, doc.text[s.start:s.end]) for s in segment_document(doc, pipeline).segments] == expected


SRT = ("1\n00:00:01,000 --> 00:00:04,200\nGood evening, thank you\nfor coming.\n\n"
       "2\n00:00:04,300 --> 00:00:08,900\nWe must decide about the loan\nfrom the savings group, because the\n\n"
       "3\n00:00:09,000 --> 00:00:12,500\ntreasurer says the box is empty. Who keeps the key?\n")
VTT = ("WEBVTT\nKind: captions\n\nNOTE recorded at the co-op\nby Ana\n\nintro\n00:01.000 --> 00:04.200 align:start\n"
       "we started saving in march\nbecause the bank said no\n\n00:04.300 --> 00:08.900\nthe chairman keeps the book\n")


@pytest.mark.parametrize("text, doc_id, expected", [
    # a sentence runs on across cues; cue numbers and timing lines are never a segment
    (SRT, "meeting.srt", ["Good evening, thank you\nfor coming.",
                          "We must decide about the loan\nfrom the savings group, because the\n\n3\n"
                          "00:00:09,000 --> 00:00:12,500\ntreasurer says the box is empty.", "Who keeps the key?"]),
    (SRT.replace("\n", "\r\n"), "meeting.txt", ["Good evening, thank you\r\nfor coming.",
                                                "We must decide about the loan\r\nfrom the savings group, because the\r\n\r\n3\r\n"
                                                "00:00:09,000 --> 00:00:12,500\r\ntreasurer says the box is empty.",
                                                "Who keeps the key?"]),
    # WebVTT: header, NOTE block and cue identifier blanked; captions without punctuation: a segment per cue
    (VTT, "captions.vtt", ["we started saving in march\nbecause the bank said no", "the chairman keeps the book"]),
    # one arrow is not a subtitle file
    ("Prices 10:00,000 --> up.\nThen down.\n", "notes.txt", ["Prices 10:00,000 --> up.", "Then down."]),
    # nor are timing lines inside a note: its heading, items and turns stay as they are
    ("# Visit\n\n- About money.\n- Two.\n\nAna: We saved.\nBen: Yes.\nAna: Good.\n\n## Clip\n\n"
     "00:00:01,000 --> 00:00:02,000\n00:00:03,000 --> 00:00:04,000\n", "notes.md",
     ["Visit", "About money.", "Two.", "We saved.", "Yes.", "Good.", "Clip", "00:00:01,000 --> 00:00:02,000",
      "00:00:03,000 --> 00:00:04,000"]),
    # a single cue is a subtitle file; a header alone has no text
    ("1\n00:00:01,000 --> 00:00:02,000\nOne cue about a loan.\n", "one.srt", ["One cue about a loan."]),
    ("WEBVTT\n\n", "empty.vtt", []),
    # inline timestamps and class tags of karaoke captions are blanked (and do not count as punctuation)
    ("WEBVTT\n\n00:00.000 --> 00:02.000\nwe<00:00.500><c> went</c><00:01.000><c> to</c>\n\n"
     "00:02.000 --> 00:04.000\nthe<00:02.500><c> bank</c>\n", "yt.vtt",
     ["we<00:00.500><c> went</c><00:01.000><c> to", "the<00:02.500><c> bank"]),
    # "no." ends a sentence (it is "No. 4" only before a number), in cues as in prose
    ("1\n00:00:01,000 --> 00:00:02,000\nThe bank said no.\n\n2\n00:00:02,000 --> 00:00:03,000\nSo we saved.\n",
     "no.srt", ["The bank said no.", "So we saved."]),
    ("They said no. So we used our savings. See Vol. 23, No. 4 of the review.\n", "no.txt",
     ["They said no.", "So we used our savings.", "See Vol. 23, No. 4 of the review."]),
])
def test_segment_subtitle_files(pipeline, text, doc_id, expected):
    doc = make_doc(text, doc_id)
    assert [doc.text[s.start:s.end] for s in segment_document(doc, pipeline).segments] == expected


@pytest.mark.parametrize("text, codes", [(SRT, {"finance", "credit", "self-financing"})])
def test_segment_subtitle_cue_lines_are_never_coded(text, codes, compiled):
    from qualcode.coding import code_document

    coded = code_document(make_doc(text, "meeting.srt"), compiled)
    assert {c for s in coded for c in s.codes} == codes
    assert all(not m.text[:1].isdigit() for s in coded for m in s.matches)


@pytest.mark.parametrize("text, kinds", [
    ("# Title\n\nSome text. More.\n\n- item\n\n| x | y |\n\n¹ Note.", ["heading", "sentence", "sentence", "list_item",
                                                                 "table_row", "footnote"]),
])
def test_segment_kinds(pipeline, text, kinds):
    assert [s.kind for s in segment_document(make_doc(text), pipeline).segments] == kinds


@pytest.mark.parametrize("text", ["---\ntitle: T\ncases: [puebla]\n---\n# Head\n\nBody sentence here. Another one.\n"])
def test_segment_offsets_count_front_matter(pipeline, text):
    doc = make_doc(text)
    segs = segment_document(doc, pipeline).segments
    assert [doc.text[s.start:s.end] for s in segs] == ["Head", "Body sentence here.", "Another one."]
    assert segs[0].start == text.index("Head") and segs[0].line == 5
    assert [s.section for s in segs] == ["Head"] * 3


@pytest.mark.parametrize("text, items", [("- One. Two.\n- Three.\n\nFour.", [1, 1, 2, None])])
def test_segment_list_item_sentences_know_their_item(pipeline, text, items):
    assert [s.item for s in segment_document(make_doc(text), pipeline).segments] == items


@pytest.mark.parametrize("text, expected", [("Clustering\n\nJoint learning in firms.\n", ["heading", "sentence"])])
def test_segment_plain_text_heading_like_lines(pipeline, text, expected):
    segs = segment_document(make_doc(text, "notes.txt"), pipeline).segments
    assert [s.kind for s in segs] == expected


@pytest.fixture(scope="module")
def source_texts(pipeline):
    """The paper as converted to plain text, in ../shared (the faults were counted there)."""
    from conftest import requires_shared

    from qualcode.corpus import read_document

    path = requires_shared("corpus-source", "clustering-joint-learning-ruiz-duran-1998.txt")
    doc = read_document(path, path.name)
    segments = segment_document(doc, pipeline).segments
    return [doc.text[s.start:s.end] for s in segments], segments


@pytest.mark.parametrize("check", [
    lambda t: {"Clustering: Joint Learning Experience", "Clemente Ruiz Durán", "Emergence of horizontal cooperation",
               "What moves small business to get together and develop clusters?"} <= set(t),
    lambda t: any("legal, etc.), as well as" in x and x.endswith("specialization among members.") for x in t),
    lambda t: any(x.endswith("(eis)¹") for x in t) and any(x.startswith("Response was limited") for x in t),
    lambda t: any(x.endswith("suppliers in the U.S.") for x in t) and any(x.startswith("In some maquilas") for x in t),
    lambda t: "Services\t30\t297\t952" in t and "Total\t229\t8333\t19087" in t,
    lambda t: any(x.endswith("World Development Vol. 23. No. 1. 1995.") for x in t) and "23." not in t,
], ids=["title-block", "etc-paren", "footnote-mark", "us-abbreviation", "table-rows", "citation"])
def test_segment_plain_text_source_has_none_of_the_sentencizer_faults(source_texts, check):
    assert check(source_texts[0])


def test_segment_plain_text_source_no_segment_crosses_a_blank_line(source_texts):
    texts, _ = source_texts
    assert all("\n\n" not in t and "\n \n" not in t for t in texts)


VOICES = ("WEBVTT\n\n00:00.000 --> 00:02.000\n<v Ana>We went to the bank.</v>\n\n00:02.000 --> 00:04.000\n"
          "<v.loud Ben Ruiz>They said no.\n\n00:04.000 --> 00:06.000\n<v Ben Ruiz>So we saved money</v>\n\n"
          "00:06.000 --> 00:08.000\ntogether.\n")
LABELS = ("1\n00:00:01,000 --> 00:00:02,000\nANA: We went to the bank\nfor a loan.\n\n2\n00:00:02,000 --> 00:00:04,000\n"
          "- Did you trust them?\n- No.\n\n3\n00:00:04,000 --> 00:00:05,000\nBEN: The bank refused.\n\n"
          "4\n00:00:05,000 --> 00:00:06,000\nANA: Then we saved.\n")


@pytest.mark.parametrize("text, doc_id, expected", [
    # WebVTT voice tags name the speaker and are never segment text
    (VOICES, "voices.vtt", [("Ana", "We went to the bank."), ("Ben Ruiz", "They said no."),
                            ("Ben Ruiz", "So we saved money</v>\n\n00:06.000 --> 00:08.000\ntogether.")]),
    # speaker labels in cues, as in transcripts; a dialogue dash starts a turn
    (LABELS, "labels.srt", [("ANA", "We went to the bank\nfor a loan."), (None, "Did you trust them?"), (None, "No."),
                            ("BEN", "The bank refused."), ("ANA", "Then we saved.")]),
])
def test_segment_subtitle_speakers(pipeline, text, doc_id, expected):
    doc = make_doc(text, doc_id)
    assert [(s.speaker, doc.text[s.start:s.end]) for s in segment_document(doc, pipeline).segments] == expected


@pytest.mark.parametrize("text, expected", [
    # word processors' plain-text export: a tab after the bullet, and the Symbol font's bullet
    ("\u2022\tThe bank refused our loan. We trust the chair.\no\tThe market is far.\n1.\tNumbered item.\n"
     "\uf0b7 Symbol bullet about credit.\n",
     [("list_item", "The bank refused our loan."), ("list_item", "We trust the chair."),
      ("list_item", "The market is far."), ("list_item", "Numbered item."), ("list_item", "Symbol bullet about credit.")]),
    # "o" at the start of a wrapped line of prose is the word "or", not a bullet
    ("Vendemos en los mercados de Jalisco y a veces\no Guadalajara o Zapopan cuando hay ferias\nen la temporada.\n",
     [("sentence", "Vendemos en los mercados de Jalisco y a veces\no Guadalajara o Zapopan cuando hay ferias\nen la temporada.")]),
])
def test_segment_word_processor_lists(pipeline, text, expected):
    doc = make_doc(text, "list.txt")
    assert [(s.kind, doc.text[s.start:s.end]) for s in segment_document(doc, pipeline).segments] == expected
