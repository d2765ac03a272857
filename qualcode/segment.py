"""Segmentation: blocks from the text's layout, then sentences from spaCy tokens.

Blocks come from lines: Markdown headings (and, in ``.txt`` files, heading-like lines),
list items, table rows, footnotes and paragraphs; a blank line always ends a block.
Inside a paragraph, list item or footnote, sentences are split on the tokens with rules
that fix what spaCy's default ``sentencizer`` gets wrong on real papers: abbreviations
and citations (``Vol. 23. No. 1.``), ``etc.)`` in mid-sentence, a footnote mark before a
new sentence (``(eis)¹ Response``), a dotted abbreviation ending a sentence
(``the U.S. In some``). Markup is masked with spaces before tokenising, so offsets stay
those of the file.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


import numpy as np

from .model import Document, Segment, fast_constructor
from .pipeline import (ABBREV, CLOSER, DOTTED, FINAL_ABBREV, INITIAL, NUMBER_ABBREV, OPENER, STOP_TITLE, SUPER,
                       SUPERSCRIPTS, TERMINAL, UPPER, Pipeline, Tokens)

_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(?=\S)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)]|[a-zA-Z][.)])[ \t]+(?=\S)")
_FOOTNOTE = re.compile(rf"^[ \t]*(?:[{SUPERSCRIPTS}]+|\[\^[^\]\s]+\]:)[ \t]*(?=\S)")
_TABLE_SEPARATOR = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
# What ``mask`` blanks: HTML tags, single markup characters and line breaks, and heading
# and list markers at the start of a line (after a line break) unless the line starts with
# one of the single characters, which are blanked alone then.
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*>")
_MARKUP_CHARS = "*_`|\\\r\n\t"
_LINE_MARKER = re.compile(r"\n(?![*_`|\\\r\n\t])(?:[ \t]{0,3}#{1,6}[ \t]|[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t])")
_REFERENCE = re.compile(r"^[A-Z][\w'’-]+,?\s+(?:(?:[A-Z]\.\s?)+|[A-Z][a-z]+\.\s)")
_WORD = re.compile(r"\S+")


_segment = fast_constructor(Segment)


@dataclass(slots=True)
class Block:
    """A layout unit: its kind, content span (markup excluded) and heading level."""

    kind: str  # heading, paragraph, list_item, table_row, footnote, lines
    start: int
    end: int
    level: int = 0


def mask(text: str) -> str:
    """``text`` with markup, list markers and line breaks replaced by spaces (same length)."""
    text = _LINE_MARKER.sub(_blank, "\n" + text)[1:]  # a leading line break makes the first line one too
    if "<" in text:
        text = _TAG.sub(_blank, text)
    for c in _MARKUP_CHARS:
        if c in text:
            text = text.replace(c, " ")
    return text


def _blank(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def find_blocks(text: str, start: int = 0, *, markdown: bool = True, masked: str | None = None) -> list[Block]:
    """The layout blocks of ``text[start:]``; see the module docstring.

    ``masked`` is ``mask(text[start:])`` when the caller has it already.
    """
    if masked is None:
        masked = mask(text[start:])
    blocks: list[Block] = []

    def add(kind: str, a: int, b: int, level: int = 0) -> None:
        """Add a block without the markup and blanks at its edges, if anything is left."""
        first = _NON_SPACE.search(masked, a - start, b - start)
        if first is not None:
            a = first.start()
            blocks.append(Block(kind, a + start, len(masked[a:b - start].rstrip()) + a + start, level))

    para: list[tuple[int, int]] = []  # lines (start, end) of the open paragraph-like block
    para_kind = "paragraph"
    pos = start
    for line in text[start:].split("\n"):
        line_start, pos = pos, pos + len(line) + 1
        if line.endswith("\r"):
            line = line[:-1]
        line_end = line_start + len(line)
        level = 0
        stripped = line.strip()
        if not stripped:
            kind = "blank"
        elif markdown and (h := _HEADING.match(line)):
            kind, level = "heading", len(h.group(1))
        elif "|" in line and _TABLE_SEPARATOR.match(line):
            kind = "separator"
        elif stripped[0] == "|" or "\t" in stripped:
            kind = "table_row"
        elif _FOOTNOTE.match(line):
            kind = "footnote"
        elif _LIST_ITEM.match(line):
            kind = "list_item"
        else:
            para.append((line_start, line_end))  # a paragraph, or the next line of a list item or footnote
            continue
        if para:
            for block in _paragraph_blocks(text, para, para_kind, markdown):
                add(*block)
        para, para_kind = [], "paragraph"
        if kind == "heading" or kind == "table_row":
            add(kind, line_start, line_end, level)
        elif kind == "footnote" or kind == "list_item":
            para, para_kind = [(line_start, line_end)], kind
    if para:
        for block in _paragraph_blocks(text, para, para_kind, markdown):
            add(*block)
    return blocks


def _paragraph_blocks(text: str, lines: list[tuple[int, int]], kind: str,
                      markdown: bool) -> list[tuple[str, int, int, int]]:
    """The blocks (kind, start, end, level) of a paragraph, list item or footnote."""
    start, end = lines[0][0], lines[-1][1]
    if kind == "paragraph" and len(lines) == 1:
        line = text[start:end]
        if not markdown and _heading_like(line):
            return [("heading", start, end, 1)]
    if kind == "paragraph" and len(lines) > 1 and all(e - s <= 50 for s, e in lines) \
            and all(_starts_upper(text, s, e) for s, e in lines[1:]):
        return [("lines", s, e, 0) for s, e in lines]  # an address or title block: a line each
    return [(kind, start, end, 0)]


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


def segment_document(doc: Document, pipeline: Pipeline) -> Segmentation:
    """Split a document into segments (and keep its tokens for coding)."""
    text = doc.text
    markdown = not doc.id.lower().endswith(".txt")
    masked_body = mask(text[doc.body_start:])
    blocks = find_blocks(text, doc.body_start, markdown=markdown, masked=masked_body)
    tokens = pipeline.tokenize(masked_body, doc.body_start)
    flag_array = pipeline.lexicon.array("flags")[tokens.rows]
    # Tokens that may end a sentence; Python lists, as the sentence rules look at tokens one by one.
    breaks = (flag_array & (TERMINAL | DOTTED | SUPER)).nonzero()[0].tolist()
    tok = _TokenLists(flag_array.tolist(), tokens.starts.tolist(), tokens.ends.tolist(), breaks)
    bounds = np.searchsorted(tokens.starts, [x for b in blocks for x in (b.start, b.end)]).tolist()
    first_tokens, end_tokens = bounds[0::2], bounds[1::2]  # of each block
    segments: list[Segment] = []
    headings: list[tuple[int, str, int]] = []  # open headings: (level, text, start)
    chains: dict[int, tuple[int, ...]] = {}
    paragraph = 0
    line, line_at = 1, 0  # the line number of offset line_at
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
        spans = [(a, b)] if block.kind in ("heading", "table_row", "lines") else _sentences(tok, a, b)
        if block.kind == "footnote" and _REFERENCE.match(_footnote_content(text, block)):
            spans = [(a, b)]  # a bibliographic reference stays whole
        kind = _SEGMENT_KIND.get(block.kind, block.kind)
        section, section_start = (headings[-1][1], headings[-1][2]) if headings else (None, None)
        item = paragraph if block.kind == "list_item" else None
        for s, e in spans:
            firsts.append(s)
            lasts.append(e)
            start = tok.starts[s]
            line += text.count("\n", line_at, start)
            line_at = start
            segments.append(_segment(doc_id, f"{doc_id}#{len(segments) + 1}", start, tok.ends[e - 1], line, kind,
                                     paragraph, section, section_start, item))
    return Segmentation(segments, tokens, chains, masked_body, (np.array(firsts, np.int64), np.array(lasts, np.int64)))


_SEGMENT_KIND = {"paragraph": "sentence", "lines": "sentence"}


@dataclass(slots=True)
class _TokenLists:
    """A document's token flags and offsets as Python lists, and the sorted indexes of the
    tokens that may end a sentence (terminal punctuation, dotted words, footnote marks)."""

    flags: list[int]
    starts: list[int]
    ends: list[int]
    breaks: list[int]


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
                if not (prev & FINAL_ABBREV and nxt & STOP_TITLE):
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
        spans.append((begin, j))
        begin = skip_to = j
    spans.append((begin, b))
    return spans
