"""Source pointers: the interview notes cite the paper as ``[paper: "Heading", para N]``.

A pointer names a section of the cited document by its heading (without its final
period) and a part of it: ``para N`` (the Nth prose paragraph under that heading:
footnotes, list items and a table with its caption, source and note lines are not
counted), ``item N`` (the Nth list item of the section), ``items N and M``, or
``footnote N`` (the document's footnote N). The cited document is the note's front-matter
``source.id``, else the one document of that kind (``kind: paper``).
:func:`resolve_pointers` turns each into the exact passage it names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .model import CodedSegment, Document

POINTER = re.compile(r'\[(?P<kind>[A-Za-z][\w-]*):\s*(?:"(?P<heading>[^"\]]+)",\s*)?(?P<part>[^\]"]+)\]')
_PART = re.compile(r"(?P<what>paras?|items?|footnotes?)\s+(?P<numbers>\d+(?:\s*(?:,|and)\s*\d+)*)$")
_SIDE_LINE = re.compile(r"^\s*(?:\\?\*|source\b|note\b|notes\b)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pointer:
    """A pointer as written (``text``, at ``start:end`` of ``doc``, line ``line``) and the
    passages it names in ``target`` (empty when it cannot be resolved: ``problem`` says why)."""

    doc: str
    start: int
    end: int
    line: int
    text: str
    target: str
    passages: tuple[tuple[int, int, int], ...] = ()  # (start, end, line) in the target document
    problem: str = ""

    @property
    def resolved(self) -> bool:
        return bool(self.passages)


def resolve_pointers(segments: Sequence[CodedSegment], documents: Mapping[str, Document]) -> list[Pointer]:
    """Every source pointer in the documents' text (after the front matter), resolved."""
    from .locate import line_of

    blocks = _Blocks(segments)
    of_kind: dict[str, list[str]] = {}
    for d in documents.values():
        of_kind.setdefault(d.kind, []).append(d.id)
    out = []
    for doc in sorted(documents):
        document = documents[doc]
        text = document.text
        for m in POINTER.finditer(text, document.body_start):
            target = _target(document, m.group("kind"), documents, of_kind)
            line = line_of(text, m.start())
            base = Pointer(doc, m.start(), m.end(), line, m.group(0), target or "")
            if target is None:
                out.append(_with(base, problem=f"no document to resolve [{m.group('kind')}: ...] to: give the note "
                                               f"a front-matter source.id"))
                continue
            out.append(blocks.resolve(base, m.group("heading"), m.group("part").strip(), documents[target]))
    return out


def _with(p: Pointer, **kw: object) -> Pointer:
    from dataclasses import replace

    return replace(p, **kw)


def _target(document: Document, kind: str, documents: Mapping[str, Document],
            of_kind: Mapping[str, list[str]]) -> str | None:
    source = document.meta.get("source")
    if isinstance(source, dict) and isinstance(source.get("id"), str) and source["id"] in documents:
        return source["id"]
    found = of_kind.get(kind, [])
    return found[0] if len(found) == 1 else None


class _Blocks:
    """The blocks (paragraph numbers) of each document by section, with their kinds."""

    def __init__(self, segments: Iterable[CodedSegment]):
        self.by_doc: dict[str, list[CodedSegment]] = {}
        self._cache: dict[str, list[list[CodedSegment]]] = {}
        for s in segments:
            self.by_doc.setdefault(s.segment.doc, []).append(s)

    def resolve(self, p: Pointer, heading: str | None, part: str, target: Document) -> Pointer:
        m = _PART.match(part)
        if m is None:
            return _with(p, problem=f"cannot read {part!r}: expected para N, item N or footnote N")
        what = m.group("what").rstrip("s")
        numbers = [int(n) for n in re.findall(r"\d+", m.group("numbers"))]
        blocks = self._blocks(target.id)
        if what == "footnote":
            chosen = [b for b in blocks if b[0].segment.kind == "footnote"]
            found = {n: next((b for b in chosen if _footnote_number(target, b) == n), None) for n in numbers}
        else:
            if heading is None:
                return _with(p, problem=f"{what} {numbers[0]} needs the section heading: [kind: \"Heading\", {part}]")
            section = [b for b in blocks if _same_heading(b[0].segment.section, heading) and b[0].segment.kind != "heading"]
            if not section:
                return _with(p, problem=f"no section {heading!r} in {target.id}")
            if what == "para":
                section = _prose(section, target)
            else:
                section = [b for b in section if b[0].segment.kind == "list_item"]
            found = {n: section[n - 1] if 0 < n <= len(section) else None for n in numbers}
        missing = [n for n, b in found.items() if b is None]
        if missing:
            return _with(p, problem=f"{target.id} has no {what} {missing[0]}"
                                    + (f' in section "{heading}"' if heading and what != "footnote" else ""))
        passages = tuple((b[0].segment.start, b[-1].segment.end, b[0].segment.line) for b in found.values() if b)
        return _with(p, passages=passages)

    def _blocks(self, doc: str) -> list[list[CodedSegment]]:
        if doc in self._cache:
            return self._cache[doc]
        out: list[list[CodedSegment]] = self._cache.setdefault(doc, [])
        for s in self.by_doc.get(doc, []):
            if out and out[-1][0].segment.paragraph == s.segment.paragraph:
                out[-1].append(s)
            else:
                out.append([s])
        return out


def _same_heading(section: str | None, heading: str) -> bool:
    if section is None:
        return False
    a, b = " ".join(section.split()).rstrip(". "), " ".join(heading.split()).rstrip(". ")
    return a.casefold() == b.casefold()


def _prose(section: list[list[CodedSegment]], target: Document) -> list[list[CodedSegment]]:
    """The prose paragraphs of a section: sentence blocks, without a table's caption (the
    block right before it) and its source and note lines (right after it)."""
    kinds = [b[0].segment.kind for b in section]
    skip = set()
    for i, k in enumerate(kinds):
        if k == "table_row" and (i == 0 or kinds[i - 1] != "table_row"):
            if i > 0 and kinds[i - 1] == "sentence":
                skip.add(i - 1)
        if k == "table_row" and (i + 1 == len(kinds) or kinds[i + 1] != "table_row"):
            j = i + 1
            while j < len(kinds) and kinds[j] == "sentence" and _SIDE_LINE.match(_line_at(target.text, section[j][0].segment.start)):
                skip.add(j)
                j += 1
    return [b for i, b in enumerate(section) if kinds[i] == "sentence" and i not in skip]


def _line_at(text: str, offset: int) -> str:
    """The line of ``text`` holding ``offset``, from its start (a segment may start after a marker)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start:end if end >= 0 else len(text)]


def _footnote_number(target: Document, block: list[CodedSegment]) -> int | None:
    head = target.text[block[0].segment.start:block[0].segment.start + 8].lstrip()
    digits = ""
    for ch in head:
        if ch in "⁰¹²³⁴⁵⁶⁷⁸⁹":
            digits += str("⁰¹²³⁴⁵⁶⁷⁸⁹".index(ch))
        elif ch.isdigit():
            digits += ch
        else:
            break
    return int(digits) if digits else None
