"""Finding a quote in a document: tolerant in what it accepts, exact in what it returns.

A quote as a person types it rarely equals the file's characters: line breaks and runs of
spaces, Markdown emphasis (``*``, ``_``), typographic quotes and dashes, accents and case
differ. :func:`locate` compares both on a normalised form and maps the match back to the
exact code-point offsets of the file, so ``document.text[span.start:span.end]`` is the
passage. Used by manual codings (``qualcode.manual``) and meant for claims too: give
``within=(start, end)`` to search a part of the document only.

A quote that is not found, or found more than once, raises :class:`LocateError` with the
nearest candidates (rapidfuzz's ``partial_ratio_alignment``), so the message can say where
the quote probably is.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .model import Document

# Characters compared as another one; None drops the character (emphasis markers).
_SAME = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00ad": None, "*": None, "_": None,
}
CANDIDATES = 3  # nearest candidates reported for a quote not found
MIN_SCORE = 60.0  # below this a candidate is not worth showing


@dataclass(frozen=True, slots=True)
class Span:
    """An exact passage of a document: code-point offsets (end exclusive), the 1-based line
    of ``start`` and the text, ``document.text[start:end]``."""

    doc: str
    start: int
    end: int
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage like the quote: where it is and how alike (rapidfuzz score, 0-100)."""

    span: Span
    score: float

    def __str__(self) -> str:
        return f'"{_short(self.span.text)}" (line {self.span.line}, {self.score:.0f}%)'


class LocateError(ValueError):
    """The quote is not in the document (``found`` empty) or is there more than once
    (``found`` lists every place); ``candidates`` are the nearest passages."""

    def __init__(self, quote: str, doc: str, found: tuple[Span, ...], candidates: tuple[Candidate, ...]):
        self.quote, self.doc, self.found, self.candidates = quote, doc, found, candidates
        super().__init__(self.describe())

    def describe(self, *, offsets: bool = True) -> str:
        """The problem in one line; ``offsets``: the file may give ``start`` and ``end`` instead
        of an ambiguous quote (manual codings can, claims cannot)."""
        if self.found:
            lines = ", ".join(str(s.line) for s in self.found[:8]) + (", ..." if len(self.found) > 8 else "")
            fix = "quote more of the passage" + (" or give start and end" if offsets else "")
            return f'quote "{_short(self.quote)}" is found {len(self.found)} times in {self.doc} (lines {lines}); {fix}'
        nearest = "; nearest: " + ", ".join(str(c) for c in self.candidates) if self.candidates else ""
        return f'quote "{_short(self.quote)}" not found in {self.doc}{nearest}'


def normalise(text: str) -> tuple[str, list[int]]:
    """The comparison form of ``text`` and, per character of it, the offset in ``text`` it
    comes from. Whitespace runs become one space; emphasis markers and soft hyphens are
    dropped; typographic quotes and dashes become ASCII; accents go; case is folded."""
    out: list[str] = []
    where: list[int] = []
    space = True  # drops leading whitespace and collapses runs
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                where.append(i)
                space = True
            elif ch == "\n" and out and out[-1] == " ":
                where[-1] = i  # a run with a line break maps to the break, to find the lines
            continue
        mapped = _SAME.get(ch, ch)
        if mapped is None:
            continue
        for c in _fold(mapped):
            out.append(c)
            where.append(i)
        space = False
    if out and out[-1] == " ":
        out.pop()
        where.pop()
    return "".join(out), where


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=32)
def _normalised(text: str) -> tuple[str, list[int]]:
    """A document's comparison form and offsets (cached: a coder file quotes the same
    documents again and again)."""
    return normalise(text)


@lru_cache(maxsize=32)
def _line_starts(text: str) -> list[int]:
    """The offsets where the lines of ``text`` start (cached like :func:`_normalised`)."""
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def line_of(text: str, offset: int) -> int:
    """The 1-based line of ``offset`` in ``text``."""
    import bisect

    return bisect.bisect_right(_line_starts(text), offset)


def span(document: Document, start: int, end: int) -> Span:
    """The exact span ``start:end`` of ``document``."""
    return Span(document.id, start, end, line_of(document.text, start), document.text[start:end])


def locate(quote: str, document: Document, *, within: tuple[int, int] | None = None) -> Span:
    """The one place ``quote`` occurs in ``document`` (or in ``document.text[a:b]`` for
    ``within=(a, b)``), compared tolerantly; raises LocateError when it occurs nowhere or
    more than once."""
    norm_quote, _ = normalise(quote)
    if not norm_quote:
        raise LocateError(quote, document.id, (), ())
    norm, where = _normalised(document.text)
    lo, hi = _bounds(where, within, len(document.text))
    found: list[Span] = []
    at = norm.find(norm_quote, lo, hi)
    while at >= 0 and at + len(norm_quote) <= hi:
        found.append(span(document, *_balanced(document.text, where[at], where[at + len(norm_quote) - 1] + 1)))
        at = norm.find(norm_quote, at + 1, hi)
    if len(found) == 1:
        return found[0]
    return _fail(quote, norm_quote, document, norm, where, lo, hi, tuple(found))


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened over an adjacent run of emphasis markers when it holds an odd
    number of them: ``*Teziutlán*``, not ``*Teziutlán``."""
    for marker in "*_":
        if text.count(marker, start, end) % 2:
            if end < len(text) and text[end] == marker:
                while end < len(text) and text[end] == marker:
                    end += 1
            else:
                while start > 0 and text[start - 1] == marker:
                    start -= 1
    return start, end


def _bounds(where: list[int], within: tuple[int, int] | None, size: int) -> tuple[int, int]:
    """The range of the normalised text that comes from ``within`` of the document."""
    import bisect

    a, b = within if within is not None else (0, size)
    return bisect.bisect_left(where, a), bisect.bisect_left(where, b)


def _fail(quote: str, norm_quote: str, document: Document, norm: str, where: list[int], lo: int, hi: int,
          found: tuple[Span, ...]) -> Span:
    if found:
        raise LocateError(quote, document.id, found, ())
    raise LocateError(quote, document.id, (), nearest(norm_quote, document, norm, where, lo, hi))


def nearest(norm_quote: str, document: Document, norm: str, where: list[int], lo: int, hi: int,
            limit: int = CANDIDATES) -> tuple[Candidate, ...]:
    """The passages most like the (normalised) quote: the best alignment of the quote in
    each of the most similar paragraphs, by rapidfuzz's partial ratio."""
    from rapidfuzz import fuzz, process

    blocks = _blocks(norm, where, document.text, lo, hi)
    if not blocks:
        return ()
    choices = [norm[a:b] for a, b in blocks]
    best = process.extract(norm_quote, choices, scorer=fuzz.partial_ratio, limit=limit, score_cutoff=MIN_SCORE)
    out: list[Candidate] = []
    for _, _, n in best:
        a, _ = blocks[n]
        align = fuzz.partial_ratio_alignment(norm_quote, choices[n])
        if align is None:
            continue
        x, y = align.dest_start, align.dest_end
        block = choices[n]
        while x < y and not block[x].isalnum():  # a candidate starts and ends on a word
            x += 1
        while y > x and not block[y - 1].isalnum():
            y -= 1
        if x == y:
            continue
        start, end = _balanced(document.text, where[a + x], where[a + y - 1] + 1)
        out.append(Candidate(span(document, start, end), round(align.score, 1)))
    out.sort(key=lambda c: (-c.score, c.span.start))
    return tuple(out)


def _blocks(norm: str, where: list[int], text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Ranges of the normalised text, one per line of the document, in [lo, hi)."""
    out: list[tuple[int, int]] = []
    start = lo
    for i in range(lo, hi):
        if norm[i] == " " and text[where[i]] == "\n":
            if i > start:
                out.append((start, i))
            start = i + 1
    if hi > start:
        out.append((start, hi))
    return out


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
