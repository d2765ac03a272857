"""Segmentation: blocks from the text's layout, then sentences from spaCy tokens.

Blocks come from lines: Markdown headings (and, in ``.txt`` files, heading-like lines),
list items and numbered paragraphs or clauses (``4.1``, ``(a)``, ``§ 3``), speaker turns
(``Q:``, ``[00:12:31] Ana:``), table rows, footnotes and paragraphs; a blank line always
ends a block, and a line that ends a sentence ends a segment (field notes, transcripts).
Inside a paragraph, list item or footnote, sentences are split on the tokens with rules
that fix what spaCy's default ``sentencizer`` gets wrong on real papers: abbreviations
and citations (``Vol. 23. No. 1.``), ``etc.)`` in mid-sentence, a footnote mark before a
new sentence (``(eis)¹ Response``), a dotted abbreviation ending a sentence
(``the U.S. In some``). Markup is masked with spaces before tokenising, so offsets stay
those of the file.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Sequence


import numpy as np

from .model import Document, Segment, fast_constructor
from .pipeline import (ABBREV, ABBREVIATIONS, CLOSER, DOTTED, FINAL_ABBREV, INITIAL, NUMBER_ABBREV,
                       NUMBER_ABBREVIATIONS, OPENER,
                       STOP_TITLE, SUPER, SUPERSCRIPTS, TERMINAL, UPPER, Pipeline, Tokens, fold)

_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(?=\S)")
# Bullets of word processors and PDFs besides Markdown's ``-*+``: a list pasted from them
# would otherwise be one segment.
BULLETS = "•◦‣⁃▪▫■□●○►▻➢➤✓✔–—·\uf0b7\uf0a7\uf0a8\uf076\uf0d8\uf0fc"  # (U+F0xx: Symbol and Wingdings fonts' bullets)
# What starts a list item: bullets (and the "o" of word processors' second-level lists, before a
# capital or a digit), "1." "1)" "a." "a)", numbered paragraphs "4.1" "1.2.3"
# (before anything but a lower-case letter, so a wrapped line "3.5 million ..." is not one),
# clauses "(a)" "(iv)" "(3)" "iv." and sections "§ 3".
_MARKER = ("[-*+" + BULLETS + "]|" r"o(?=[ \t]+[A-Z0-9“\"‘'(])|\d{1,3}[.)]|[a-zA-Z][.)]|\d{1,3}(?:\.\d{1,3})+\.?(?=[ \t]+[^\sa-zß-öø-ÿ])"
           r"|\((?:\d{1,3}|[a-zA-Z]|[ivx]{1,5}|[IVX]{1,5})\)|(?:[ivx]{1,5}|[IVX]{1,5})[.)]|§+[ \t]*\d+(?:\.\d+)*[.)]?")
_LIST_ITEM = re.compile(rf"^[ \t]*(?:{_MARKER})[ \t]+(?=\S)")
_FOOTNOTE = re.compile(rf"^[ \t]*(?:[{SUPERSCRIPTS}]+|\[\^[^\]\s]+\]:)[ \t]*(?=\S)")
_TABLE_SEPARATOR = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
# A speaker turn: an optional timestamp, a label of at most three words, a colon, then the
# turn ("Q: ...", "[00:12:31] Ana: ...", "**Interviewer:** ..."). Whether a label is a
# speaker is decided per document (see _speakers).
# The time may follow a date, as in chat exports ("12/03/2025, 18:42 - Ana: ...",
# "[06/05/26 04:41] Ana: ...").
_STAMP = (r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?[ \t]+)?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
          r"(?:[ \t\u202f]*[AaPp]\.?[Mm]\.?)?")
_TURN = re.compile(rf"^[ \t]*(?:[\[(]?{_STAMP}[\])]?[ \t]*[-–—]?[ \t]*)?(?:\*\*|__)?"
                   r"([^\W\d_][\w.'’-]*(?:[ \t]+[\w.'’()-]+){0,2}?)(?:\*\*|__)?"
                   # a description: "P1 (woman, 40s):", "P2 [man, 50s]:", "Ana (translated from Spanish):",
                   # "P3, woman, 30s:" (a short name in parentheses stays in the label: "Owner (Juan)")
                   r"(?:[ \t]*\((?=[^()\r\n]*(?:,|\d|\S[ \t]+\S+[ \t]+\S))[^()\r\n]*\)|[ \t]*\[[^\[\]\r\n]*\]"
                   r"|(?<=\d)(?:,[ \t]*[^,:\r\n]{1,24}){1,3})?"
                   r"[ \t]*:(?:\*\*|__)?(?:[ \t]+|$)")
# A speaker's label and a time alone on a line, the turn on the lines below (exports of
# transcription services: "Speaker 1  0:03", "Ana (00:01:12):").
_LABEL_LINE = re.compile(rf"^[ \t]*(?:\*\*|__)?([^\W\d_][\w.'’-]*(?:[ \t]+[\w.'’-]+){{0,2}}?)[ \t]*"
                         rf"(?:[\[(]{_STAMP}[\])]|{_STAMP})[ \t]*:?(?:\*\*|__)?[ \t]*$")
# Labels that head a line in notes, memos and emails without being a speaker (folded).
NOT_SPEAKERS = frozenset(
    "note notes nb n.b. ps p.s. source sources from to cc bcc subject date sent re fw fwd reply-to table figure "
    "fig chart graph map see also keywords abstract summary title author authors tel phone fax email e-mail "
    "address url web website link attachment attachments location place site venue time duration topic agenda "
    "present attendees participants action actions decision decisions outcome outcomes status update comment "
    "comments warning caution important tip example examples definition objective objectives purpose aim "
    "background context result results finding findings conclusion conclusions recommendation recommendations "
    "method methods step steps category type kind name id ref reference references version page pages section "
    "chapter article annex appendix edit edited file photo photos audio transcript transcription language "
    "interview code codes theme themes memo observation observations question questions remark remarks".split())
# Words that make a label a clause ("The owner said: ...", "What we learned: ...").
_SAYING = frozenset("said says say asked asks answered replied told tells explained explains added adds wrote writes "
                    "is was are were we they he she it i you learned found think thinks".split())
# A field-note entry that starts with a time or a date ("10:30 arrived", "2024-03-12 visit")
# starts a new paragraph even without a blank line before it.
_ENTRY = re.compile(r"^[ \t]*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?(?:[ \t]*[ap]\.?m\.?)?|\d{4}-\d{2}-\d{2}"
                    r"|\d{1,2}/\d{1,2}/\d{2,4})(?=[ \t,;–—-]|$)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CLOSERS = ")]}”’\"'»"
_CONTINUES = tuple(",;:(&/–—-")  # a line ending so goes on in the next line
TRANSCRIPT_KINDS = frozenset({"transcript", "interview"})
# What ``mask`` blanks: HTML tags, footnote references, single markup characters and line breaks, and heading,
# list and quote markers at the start of a line (after a line break) unless the line starts with
# one of the single characters, which are blanked alone then.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*>")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\](?!:)")  # an inline footnote reference, [^2] (not its note's label)
# A subtitle cue's timing line (SRT "00:01:02,300 --> 00:01:06,900", WebVTT "01:02.300 --> ...").
_CUE_TIMING = re.compile(r"^[ \t]*(?:\d+:)?\d{1,2}:\d{2}[,.]\d{3}[ \t]+-->[ \t]+(?:\d+:)?\d{1,2}:\d{2}[,.]\d{3}(?:[ \t].*)?$")
# WebVTT's inline tags: voices "<v Ana>", classes "<c.yellow>", "<i>", "<lang en>", end tags and
# the timestamps of karaoke-style captions "<00:00:01.500>".
_CUE_TAG = re.compile(r"</?(?:[a-zA-Z][a-zA-Z0-9]*(?:\.[\w-]+)*(?:[ \t][^<>\r\n]*)?|\d[\d:.]*)>")
_VOICE = re.compile(r"^[ \t]*<v(?:\.[\w-]+)*[ \t]+([^<>\r\n]+?)[ \t]*>")
_MARKUP_CHARS = "*_`|\\\r\n\t"
_LINE_MARKER = re.compile(rf"(?:\r\n?|\n)(?![*_`|\\\r\n\t])(?:[ \t]{{0,3}}#{{1,6}}[ \t]|[ \t]*(?:{_MARKER})[ \t]"
                          r"|(?:[ \t]{0,3}>)+[ \t]?)")  # ... and e-mail and Markdown quote marks ("> ")
_REFERENCE = re.compile(r"^[A-Z][\w'’-]+,?\s+(?:(?:[A-Z]\.\s?)+|[A-Z][a-z]+\.\s)")
_WORD = re.compile(r"\S+")


_segment = fast_constructor(Segment)


@dataclass(slots=True)
class Block:
    """A layout unit: its kind, content span (markup excluded), heading level, the speaker
    of the transcript turn it belongs to, and offsets where a sentence must end (line ends)."""

    kind: str  # heading, paragraph, list_item, table_row, footnote, lines
    start: int
    end: int
    level: int = 0
    speaker: str | None = None
    breaks: tuple[int, ...] = ()


def subtitle_lines(text: str, start: int = 0) -> list[tuple[int, int]] | None:
    """In a subtitle file (SRT or WebVTT: text that starts with ``WEBVTT``, a cue's timing line
    or its number above one), the lines of ``text[start:]`` that are not subtitle text: the
    ``WEBVTT`` header, ``NOTE``, ``STYLE`` and ``REGION`` blocks, and each cue's number or
    identifier and timing line; else None. Timing lines inside other text (a note quoting
    a clip) do not make it a subtitle file."""
    if "-->" not in text and "WEBVTT" not in text:
        return None
    lines = _line_spans(text, start)
    filled = [i for i, (a, b) in enumerate(lines) if text[a:b].strip()]
    if not filled:
        return None
    timing = [i for i, (a, b) in enumerate(lines) if "-->" in text[a:b] and _CUE_TIMING.match(text[a:b])]
    first = text[slice(*lines[filled[0]])].strip().lstrip("\ufeff")
    if not (first.startswith("WEBVTT") or timing and timing[0] in filled[:2]):
        return None
    skip = set(timing)
    for i in timing:  # the cue identifier: the line just above, after a blank line or at the top
        if i > 0 and text[slice(*lines[i - 1])].strip() and (i == 1 or not text[slice(*lines[i - 2])].strip()):
            skip.add(i - 1)
    block = False  # inside a header, NOTE, STYLE or REGION block (until a blank line)
    for i, (a, b) in enumerate(lines):
        line = text[a:b].strip()
        if not line:
            block = False
        elif block or (i == 0 or not text[slice(*lines[i - 1])].strip()) and re.match(r"(?:WEBVTT|NOTE|STYLE|REGION)\b", line):
            block = True
            skip.add(i)
    return [lines[i] for i in sorted(skip)]


def mask(text: str) -> str:
    """``text`` with markup, list markers and line breaks replaced by spaces (same length),
    and in a subtitle file its cue numbers and timing lines."""
    if (cues := subtitle_lines(text)) is not None:
        pieces, at = [], 0
        for a, b in cues:
            pieces += [text[at:a], " " * (b - a)]
            at = b
        text = "".join(pieces) + text[at:]
        if "<" in text:
            text = _CUE_TAG.sub(_blank, text)
    text = _LINE_MARKER.sub(_blank, "\n" + text)[1:]  # a leading line break makes the first line one too
    if "<" in text:
        text = _TAG.sub(_blank, text)
    if "[^" in text:  # "in its name.[^2] Members": the reference would glue the two sentences
        text = _FOOTNOTE_REF.sub(_blank, text)
    for c in _MARKUP_CHARS:
        if c in text:
            text = text.replace(c, " ")
    return text


def _blank(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def find_blocks(text: str, start: int = 0, *, markdown: bool = True, masked: str | None = None,
                transcript: bool = False, abbreviations: frozenset[str] = frozenset()) -> list[Block]:
    """The layout blocks of ``text[start:]``; see the module docstring.

    ``masked`` is ``mask(text[start:])`` when the caller has it already; ``transcript``
    says the document is a transcript or interview (every speaker-like label is a speaker,
    and a turn lasts until the next one); ``abbreviations`` are words (with their full
    stop, as written) that a line ending with them does not end a sentence at.
    """
    if masked is None:
        masked = mask(text[start:])
    blocks: list[Block] = []
    lines = _line_spans(text, start)
    width = _wrap_width(text, lines)
    speakers: frozenset[str] | None = None  # found at the first line that looks like a turn
    speaker: str | None = None
    cues = subtitle_lines(text, start)

    def add(kind: str, a: int, b: int, level: int = 0, breaks: tuple[int, ...] = ()) -> None:
        """Add a block without the markup and blanks at its edges, if anything is left."""
        first = _NON_SPACE.search(masked, a - start, b - start)
        if first is not None:
            a = first.start()
            blocks.append(Block(kind, a + start, len(masked[a:b - start].rstrip()) + a + start, level,
                                None if kind == "heading" else speaker, breaks))

    def flush() -> None:
        # a plain-text heading: a short line of a .txt file, never a speaker's turn
        for block in _paragraph_blocks(text, para, para_kind, not markdown and speaker is None, abbreviations, width):
            add(*block)

    if cues is not None:
        for a, b, speaker in _subtitle_blocks(text, lines, cues, abbreviations, masked, start, transcript):
            add("paragraph", a, b)
        return blocks
    para: list[tuple[int, int]] = []  # lines (start, end) of the open paragraph-like block
    para_kind = "paragraph"
    for line_start, line_end in lines:
        line = text[line_start:line_end]
        level = 0
        stripped = line.strip()
        turn = None
        if not stripped:
            kind = "blank"
        elif markdown and (h := _HEADING.match(line)):
            kind, level = "heading", len(h.group(1))
        elif "|" in line and _TABLE_SEPARATOR.match(line):
            kind = "separator"
        elif stripped[0] == "|" or "\t" in stripped and not _LIST_ITEM.match(line):
            kind = "table_row"  # (a word processor's "•<tab>item" is a list item)
        elif _FOOTNOTE.match(line):
            kind = "footnote"
        elif _LIST_ITEM.match(line) and not (stripped[0] == "o" and para and para_kind == "paragraph"
                                             and not _ends_sentence(text[slice(*para[-1])].rstrip(), abbreviations)
                                             and not text[slice(*para[-1])].rstrip().endswith(":")):
            kind = "list_item"  # (but "o" at the start of a wrapped line of prose is a word: "o Zapopan")
        elif ":" in line and (turn := _TURN.match(line)) \
                and (kind := _labelled(turn, speakers := _speakers(text, lines, transcript) if speakers is None else speakers)) \
                and (kind == "turn" or speaker is not None or para_kind != "paragraph"):
            pass  # a speaker's turn, or a line headed "Note:", "Source:" ... that ends a turn or list item
        elif ":" in line and (label_line := _LABEL_LINE.match(line)) and _label(label_line) in (
                speakers := _speakers(text, lines, transcript) if speakers is None else speakers):
            kind = "speaker"  # the turn is on the lines below
        elif para and _ENTRY.match(line):
            kind = "entry"
        else:
            para.append((line_start, line_end))  # a paragraph, or the next line of a list item or footnote
            continue
        if para:
            flush()
        para, para_kind = [], "paragraph"
        if kind == "heading" or (kind == "blank" and not transcript):
            speaker = None  # a turn ends at a heading, and outside transcripts at a blank line
        if kind == "heading" or kind == "table_row":
            add(kind, line_start, line_end, level)
        elif kind == "footnote" or kind == "list_item":
            para, para_kind = [(line_start, line_end)], kind
        elif kind == "turn":
            assert turn is not None
            speaker = _label(turn)
            para = [(line_start + turn.end(), line_end)]
        elif kind == "speaker":
            speaker = _label(label_line)
        elif kind == "entry" or kind == "label":
            para = [(line_start, line_end)]
            if kind == "label":
                speaker = None
    if para:
        flush()
    return blocks


def _subtitle_blocks(text: str, lines: list[tuple[int, int]], cues: list[tuple[int, int]],
                     abbreviations: frozenset[str], masked: str, start: int,
                     transcript: bool) -> list[tuple[int, int, str | None]]:
    """The blocks (start, end, speaker) of a subtitle file: its cues' text, a cue joined to
    the next until one ends a sentence (a sentence runs on across cues; the cue numbers and
    timing lines between are blanked by :func:`mask`). A turn starts a new block: a voice
    tag (``<v Ana>``), a speaker's label (``ANA:``, as in transcripts) or a dialogue dash
    (``- No.``). Captions without punctuation (fewer than half the cues with a ``.``, ``?``
    or ``!`` outside tags) give a block per cue instead. ``masked`` is ``mask(text[start:])``."""
    meta = set(cues)
    groups: list[list[tuple[int, int]]] = [[]]
    for span in lines:
        if span in meta:
            if groups[-1]:
                groups.append([])
        elif text[span[0]:span[1]].strip():
            groups[-1].append(span)
    groups = [g for g in groups if g]
    punctuated = 2 * sum(any(c in masked[g[0][0] - start:g[-1][1] - start] for c in ".?!") for g in groups) >= len(groups)
    speakers = _speakers(text, [span for g in groups for span in g], transcript)
    blocks: list[tuple[int, int, str | None]] = []
    first, last, speaker = None, 0, None
    for n, g in enumerate(groups):
        for a, b in g:
            line = text[a:b]
            turn = None
            if (voice := _VOICE.match(line)) is not None:
                turn = (a, " ".join(voice.group(1).split()))
            elif ":" in line and (label := _TURN.match(line)) is not None and _label(label) in speakers:
                turn = (a + label.end(), _label(label))
            elif line.lstrip()[:2] in ("- ", "– ", "— "):
                turn = (a, None)
            if turn is not None:
                if first is not None:
                    blocks.append((first, last, speaker))
                first, speaker = turn
            elif first is None:
                first = a
            last = b
        following = text[slice(*groups[n + 1][0])] if n + 1 < len(groups) else ""
        if not punctuated or _ends_sentence(masked[g[-1][0] - start:g[-1][1] - start].rstrip(), abbreviations, following):
            blocks.append((first, last, speaker))
            first = None
    if first is not None:
        blocks.append((first, last, speaker))
    return blocks


def _line_spans(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text[start:]``, line breaks excluded; a lone CR (old
    Mac files) breaks a line as LF and CRLF do."""
    spans = []
    pos = start
    if "\r" not in text:  # the common case, twice as fast
        for line in text[start:].split("\n"):
            spans.append((pos, pos + len(line)))
            pos += len(line) + 1
        return spans
    for m in _LINE_BREAK.finditer(text, start):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _label(turn: re.Match[str]) -> str:
    return " ".join(turn.group(1).split())


def _labelled(turn: re.Match[str], speakers: frozenset[str]) -> str | None:
    """``turn`` for a speaker's label, ``label`` for a header word (``Note:``), else None."""
    label = _label(turn)
    if label in speakers:
        return "turn"
    return "label" if label[0].isupper() and fold(label) in NOT_SPEAKERS else None


def _speakers(text: str, lines: list[tuple[int, int]], transcript: bool) -> frozenset[str]:
    """The labels that are speakers in this document: in a transcript or interview every
    label of a turn (not a list item) that is not a header word like ``Note`` or ``From``;
    elsewhere, once a label heads two lines or more or two labels stand alone on a line
    with a time (a dialogue), every such label (a speaker may speak once), and ``Q`` and
    ``A`` together."""
    counts: dict[str, int] = {}
    alone: dict[str, int] = {}  # labels alone on a line with a time
    for a, b in lines:
        line = text[a:b]
        if ":" not in line:
            continue
        if (label_line := _LABEL_LINE.match(line)) is not None:
            label = _label(label_line)
            alone[label] = alone.get(label, 0) + 1
        elif not _LIST_ITEM.match(line) and (turn := _TURN.match(line)) is not None:
            label = _label(turn)
            if _speaker_like(label):
                counts[label] = counts.get(label, 0) + 1
    qa = "Q" in counts and "A" in counts  # a question and its answer
    # then a label heading one line is a speaker too
    dialogue = any(n >= 2 for n in counts.values()) or sum(alone.values()) >= 2
    return frozenset(label for label in counts if transcript or dialogue or qa and label in "QA") \
        | frozenset(label for label in alone if (transcript or dialogue) and _speaker_like(label))


def _speaker_like(label: str) -> bool:
    """A capitalised label that is not a header word (``Note``) nor a clause (``He said``)."""
    return label[0].isupper() and fold(label) not in NOT_SPEAKERS and not _SAYING.intersection(label.split())


WRAPPED_MAX = 100  # hard-wrapped text (editors, e-mail) has lines of at most this many characters
WRAP_SLACK = 0.15  # text wrapped by eye or in a proportional font fills its lines this much less evenly


def _wrap_width(text: str, lines: list[tuple[int, int]]) -> int:
    """The longest line that another line follows without a blank line between them: the
    width the text is wrapped at, when it is hard-wrapped."""
    width = 0
    for (s, e), (s2, e2) in zip(lines, lines[1:]):
        if e2 > s2 and not text[s2:e2].isspace():
            width = max(width, len(text[s:e].rstrip()))
    return width


def _paragraph_blocks(text: str, lines: list[tuple[int, int]], kind: str, plain_headings: bool,
                      abbreviations: frozenset[str], width: int = 0) -> list[tuple[str, int, int, int, tuple[int, ...]]]:
    """The blocks (kind, start, end, level, breaks) of a paragraph, list item or footnote;
    with ``plain_headings`` a heading-like one-line paragraph is a heading.

    A line that ends a sentence (a full stop, not after an abbreviation; ``?``; ``!``)
    ends a segment whatever the next line starts with, and in a block of three or more
    lines that each start with a capital or a digit and none ends mid-phrase (field
    notes, a line per entry) each line is a segment; so it is in a block of three or more
    lines of which at least half end a sentence and none has a sentence end inside it.

    A line break also ends a segment where the writer pressed Enter before the line was
    full: in a document whose lines are longer than hard-wrapped text has
    (:data:`WRAPPED_MAX`, ``width`` being its longest line followed by another) at every
    line end; in a hard-wrapped one where the next line's first word would have fitted on
    the line within that width, with :data:`WRAP_SLACK` to spare (a wrapping editor would
    have put it there), and the line does not end mid-phrase; and in a block of three or
    more lines where that is so, without the slack, for most line ends, at every line end
    not mid-phrase (lines typed one per note). Splitting a sentence costs little (its
    segments keep its codes between them); joining two entries gives each the other's codes.
    """
    start, end = lines[0][0], lines[-1][1]
    if kind == "paragraph" and len(lines) == 1:
        line = text[start:end]
        if plain_headings and _heading_like(line):
            return [("heading", start, end, 1, ())]
    if kind == "paragraph" and len(lines) > 1 and all(e - s <= 50 for s, e in lines) \
            and all(_starts_upper(text, s, e) for s, e in lines[1:]):
        return [("lines", s, e, 0, ()) for s, e in lines]  # an address or title block: a line each
    if len(lines) == 1:
        return [(kind, start, end, 0, ())]
    texts = [text[s:e].rstrip() for s, e in lines]
    ends = [_ends_sentence(line, abbreviations, following) for line, following in zip(texts, texts[1:] + [""])]
    if len(lines) >= 3 and (
            all(_starts_upper(text, s, e) for s, e in lines[1:]) and not any(t.endswith(_CONTINUES) for t in texts[:-1])
            or 2 * sum(ends) >= len(lines) and not any(_MID_LINE_END.search(t) for t in texts)):
        breaks = tuple(e for s, e in lines[:-1])  # a line per sentence or entry
    else:
        open_ends = [not t.endswith(_CONTINUES) for t in texts[:-1]]
        fits = [_fits(t, following, width, 0) for t, following in zip(texts, texts[1:])]
        by_hand = len(lines) >= 3 and 2 * sum(f and o for f, o in zip(fits, open_ends)) > len(lines) - 1
        breaks = tuple(e for (s, e), end, t, following, open_end in zip(lines[:-1], ends, texts, texts[1:], open_ends)
                       if end or width > WRAPPED_MAX
                       or open_end and (by_hand or _fits(t, following, width, WRAP_SLACK)))
    return [(kind, start, end, 0, breaks)]


def _fits(line: str, following: str, width: int, slack: float) -> bool:
    """Whether the first word of ``following`` would have fitted at the end of ``line``
    within ``width`` characters with ``slack`` of it to spare: then the line was ended by
    hand, not wrapped."""
    word = following.split(None, 1)
    return bool(word) and len(line) + 1 + len(word[0]) <= (1 - slack) * width


def _ends_sentence(line: str, abbreviations: frozenset[str], following: str = "") -> bool:
    """Whether a line ends with a sentence's end: ``?``, ``!`` or a full stop that is not an
    ellipsis and does not follow an abbreviation, an initial or a dotted word (``U.S.``);
    after an abbreviation of numbers (``No.``, ``p.``) it does when ``following``, the next
    line, does not start with a digit (``the bank said no.``)."""
    s = line.rstrip(_CLOSERS + " \t")
    if not s or s[-1] not in ".!?" or s.endswith(".."):
        return False
    if s[-1] != ".":
        return True
    words = s.split()
    word = words[-1].lstrip(_OPENING) if words else ""
    if word in abbreviations or (len(words) > 1 and " ".join(words[-2:]) in abbreviations):
        return False
    stem = word[:-1]
    if stem.lower() in NUMBER_ABBREVIATIONS and len(stem) > 1 and not _NUMBERED.match(following.lstrip()):
        return True
    return not (stem.lower() in ABBREVIATIONS or "." in stem or (len(stem) == 1 and stem.isalpha()))


_OPENING = "([{“‘\"'«¿¡"
_NUMBERED = re.compile(r"\d|[IVXLC]{2,}\b|[VX]\b")  # what follows "No." or "Vol." in a reference: 4, XII
_MID_LINE_END = re.compile(r"[.!?][)\]}”’\"'»]*[ \t]+\S")


def _starts_upper(text: str, start: int, end: int) -> bool:
    m = re.search(r"[^\W_]", text[start:end])
    return bool(m) and (m.group().isupper() or m.group().isdigit())


def _heading_like(line: str) -> bool:
    """A plain-text heading: a short single-line paragraph without closing punctuation."""
    s = line.strip()
    words = s.split()
    return 0 < len(words) <= 12 and (s[0].isupper() or s[0].isdigit()) and s[-1] not in ".,;:!?"


_NON_SPACE = re.compile(r"\S")


@dataclass(slots=True)
class Segmentation:
    """A document's segments, its tokens, and for each heading the headings enclosing it."""

    segments: list[Segment]
    tokens: Tokens
    heading_chains: dict[int, tuple[int, ...]]  # heading start -> starts of it and its ancestors
    masked_body: str  # the text after the front matter with markup blanked out (same offsets)
    token_spans: tuple[np.ndarray, np.ndarray]  # per segment, its first token and its last token + 1


def segment_document(doc: Document, pipeline: Pipeline, abbreviations: Sequence[str] = ()) -> Segmentation:
    """Split a document into segments (and keep its tokens for coding).

    ``abbreviations`` (as written, with their full stops: ``Jal.``, ``Edo. Méx.``) are
    never split inside, and a sentence ends after one only before a capitalised stop word
    (``The``, ``In``); the compiled codebook passes those of its cases.
    """
    text = doc.text
    markdown = not doc.id.lower().endswith(".txt")
    masked_body = mask(text[doc.body_start:])
    abbrevs = frozenset(abbreviations)
    blocks = find_blocks(text, doc.body_start, markdown=markdown, masked=masked_body,
                         transcript=fold(doc.kind) in TRANSCRIPT_KINDS, abbreviations=abbrevs)
    tokens = pipeline.tokenize(masked_body, doc.body_start, source=text[doc.body_start:])
    flag_array = pipeline.lexicon.array("flags")[tokens.rows]
    # Tokens that may end a sentence; Python lists, as the sentence rules look at tokens one by one.
    breaks = (flag_array & (TERMINAL | DOTTED | SUPER)).nonzero()[0].tolist()
    tok = _TokenLists(flag_array.tolist(), tokens.starts.tolist(), tokens.ends.tolist(), breaks,
                      _abbreviations(abbrevs) if abbrevs else None, masked_body, doc.body_start)
    bounds = np.searchsorted(tokens.starts, [x for b in blocks for x in (b.start, b.end)]).tolist()
    first_tokens, end_tokens = bounds[0::2], bounds[1::2]  # of each block
    segments: list[Segment] = []
    headings: list[tuple[int, str, int]] = []  # open headings: (level, text, start)
    chains: dict[int, tuple[int, ...]] = {}
    paragraph = 0
    line, line_at = 1, 0  # the line number of offset line_at
    lone_cr = "\r" in text  # then a CR not followed by LF breaks a line too
    doc_id = doc.id
    firsts: list[int] = []
    lasts: list[int] = []
    for block, a, b in zip(blocks, first_tokens, end_tokens):
        if a >= b:
            continue
        paragraph += 1
        if block.kind == "heading":
            level = block.level
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text[block.start:block.end], block.start))
            chains[block.start] = tuple(h[2] for h in headings)
        if block.kind in ("heading", "table_row", "lines"):
            spans = [(a, b)]
        elif block.kind == "footnote" and _REFERENCE.match(_footnote_content(text, block)):
            spans = [(a, b)]  # a bibliographic reference stays whole
        elif block.breaks:
            cuts = [a, *np.searchsorted(tokens.starts, block.breaks).tolist(), b]
            spans = [span for x, y in zip(cuts, cuts[1:]) if x < y for span in _sentences(tok, x, y)]
        else:
            spans = _sentences(tok, a, b)
        kind = _SEGMENT_KIND.get(block.kind, block.kind)
        section, section_start = (headings[-1][1], headings[-1][2]) if headings else (None, None)
        item = paragraph if block.kind == "list_item" else None
        for s, e in spans:
            firsts.append(s)
            lasts.append(e)
            start = tok.starts[s]
            line += text.count("\n", line_at, start)
            if lone_cr:
                line += text.count("\r", line_at, start) - text.count("\r\n", line_at, start)
            line_at = start
            segments.append(_segment(doc_id, f"{doc_id}#{len(segments) + 1}", start, tok.ends[e - 1], line, kind,
                                     paragraph, section, section_start, item, block.speaker))
    return Segmentation(segments, tokens, chains, masked_body, (np.array(firsts, np.int64), np.array(lasts, np.int64)))


MAX_SEGMENT_CHARS = 1000  # longer segments are reported: usually a layout the segmenter did not see


def long_segments(segments: Sequence[Segment], limit: int = MAX_SEGMENT_CHARS) -> list[Segment]:
    """The segments longer than ``limit`` characters, but for footnotes (a bibliographic
    reference stays whole) and table rows."""
    return [s for s in segments if s.end - s.start > limit and s.kind not in ("footnote", "table_row")]


@functools.lru_cache(maxsize=16)
def _abbreviations(abbreviations: frozenset[str]) -> "_Abbreviations":
    return _Abbreviations(abbreviations)


class _Abbreviations:
    """Abbreviations as written, by their words, to tell at a full stop the sentence rules
    would break at whether it lies inside one (``Edo.`` of ``Edo. Méx.``) or ends one
    (``Jal.``). Looked up only at breaks, so it costs nothing on text without them."""

    def __init__(self, abbreviations: frozenset[str]):
        self.by_word: dict[str, list[tuple[tuple[str, ...], int]]] = {}  # word -> (words, its position)
        for abbr in abbreviations:
            words = tuple(abbr.split())
            for k, w in enumerate(words):
                if w.endswith("."):
                    self.by_word.setdefault(w, []).append((words, k))

    def at(self, text: str, end: int) -> str | None:
        """``inner``, ``final`` or None for the full stop ending at ``text[end - 1]``."""
        begin = text.rfind(" ", 0, end) + 1  # the masked text's line breaks and tabs are spaces
        word = text[begin:end]
        if not word.isprintable():  # another space (NBSP ...) inside
            word = word.split()[-1] if word.split() else ""
            begin = end - len(word)
        candidates = self.by_word.get(word.lstrip(_OPENING))
        if candidates is None:
            return None
        found = None
        for words, k in candidates:
            before = text[max(0, begin - 40):begin].split()[-k:] if k else []
            after = text[end:end + 40].split()[:len(words) - k - 1]
            if tuple(before) == words[:k] and tuple(w.rstrip(",;:)") for w in after) == words[k + 1:]:
                if k < len(words) - 1:
                    return "inner"
                found = "final"
        return found


_SEGMENT_KIND = {"paragraph": "sentence", "lines": "sentence"}


@dataclass(slots=True)
class _TokenLists:
    """A document's token flags and offsets as Python lists, and the sorted indexes of the
    tokens that may end a sentence (terminal punctuation, dotted words, footnote marks)."""

    flags: list[int]
    starts: list[int]
    ends: list[int]
    breaks: list[int]
    abbreviations: _Abbreviations | None  # the codebook's, if any
    masked: str  # the masked text the tokens are of, from ``offset``
    offset: int


def _footnote_content(text: str, block: Block) -> str:
    content = text[block.start:block.end].lstrip(SUPERSCRIPTS + " \t")
    return re.sub(r"^\[\^[^\]]+\]:\s*", "", content)


def _sentences(tok: _TokenLists, a: int, b: int) -> list[tuple[int, int]]:
    """Sentence spans (token index ranges) within tokens ``a:b`` of one block."""
    lo, hi = bisect.bisect_left(tok.breaks, a), bisect.bisect_left(tok.breaks, b - 1)
    if lo == hi:
        return [(a, b)]
    flags, starts, ends = tok.flags, tok.starts, tok.ends
    spans: list[tuple[int, int]] = []
    begin = a
    skip_to = a
    for i in tok.breaks[lo:hi]:
        if i < skip_to:
            continue
        f = flags[i]
        j = i + 1
        while j < b and flags[j] & (CLOSER | TERMINAL | SUPER) and not (flags[j] & OPENER and starts[j] > ends[j - 1]):
            j += 1
        if j >= b:
            break
        nxt = flags[j]
        prev = flags[i - 1] if i > begin and ends[i - 1] == starts[i] else 0
        if f & TERMINAL:
            if prev & (ABBREV | INITIAL) and ends[i] - starts[i] == 1:  # a full stop after an abbreviation
                # ... ends a sentence after "etc." before "The", and after "no." unless a number follows
                number_word = prev & NUMBER_ABBREV and ends[i - 1] - starts[i - 1] > 1 \
                    and not _NUMBERED.match(tok.masked, starts[j] - tok.offset)
                if not (prev & FINAL_ABBREV and nxt & STOP_TITLE or number_word):
                    continue
            starts_sentence = nxt & UPPER or (nxt & OPENER and j + 1 < b and flags[j + 1] & UPPER)
            if not starts_sentence:
                continue
            if nxt & NUMBER_ABBREV and j + 1 < b and flags[j + 1] & TERMINAL:
                continue  # "23. No. 1." in a citation
        elif f & DOTTED:
            if not nxt & STOP_TITLE:
                continue
        elif f & SUPER:
            if not nxt & UPPER or prev & TERMINAL or i == a:
                continue
        if tok.abbreviations is not None and f & (TERMINAL | DOTTED):
            where = tok.abbreviations.at(tok.masked, ends[i] - tok.offset)
            if where == "inner" or where == "final" and not nxt & STOP_TITLE:
                continue
        spans.append((begin, j))
        begin = skip_to = j
    spans.append((begin, b))
    return spans
