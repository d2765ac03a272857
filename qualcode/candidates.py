"""Candidate claims: the passages a paper marks as findings, ready to adopt into claims.yaml.

A paper (a document of ``kind: paper``, or every document when none is) marks its
findings in two ways: passages in ``*emphasis*`` (``***...***`` too; bold alone,
``**...**``, is a title or a citation) and the bullet lists of findings after each set
of interviews (list items). Each candidate gets a stable id from its text's hash
(``c-`` and 8 hex digits of SHA-1 of its normalised text: the same passage has the same
id after the file is edited elsewhere) and a ready-to-paste YAML entry.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .locate import line_of, normalise
from .model import Document, Segment

MIN_WORDS = 8  # shorter emphasised passages are names and terms, not findings
_EMPHASIS = re.compile(r"(?<![*\w])(\*{1}|\*{3})(?!\s)([^*\n]+?)(?<!\s)\1(?![*\w])")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage that may state a finding: ``kind`` ``emphasis`` or ``list item``, where it
    is, its text (Markdown markers removed) and its stable ``id``."""

    id: str
    kind: str
    doc: str
    start: int
    end: int
    line: int
    section: str
    text: str

    def yaml(self) -> str:
        """The claims.yaml entry for this candidate (statement to be rewritten by the reviewer)."""
        quoted = _yaml_string(self.text)
        return (f"  - id: {self.id}\n"
                f"    statement: {quoted}  # rewrite as the claim in your words\n"
                f"    anchors:\n"
                f"      - doc: {self.doc}\n"
                f"        quote: {quoted}\n")


def candidate_id(text: str) -> str:
    """``c-`` and the first 8 hex digits of SHA-1 of the text's normalised form."""
    return "c-" + hashlib.sha1(normalise(text)[0].encode("utf-8")).hexdigest()[:8]


def find_candidates(documents: Iterable[Document], segments: Sequence[Segment] | None = None) -> list[Candidate]:
    """The candidates of the papers among ``documents``: emphasised passages of at least
    :data:`MIN_WORDS` words, and list items (from ``segments``, the documents'
    segmentation: kind ``list_item``) that hold no emphasised candidate. In document
    order, each id once."""
    documents = list(documents)
    papers = [d for d in documents if d.kind == "paper"] or documents
    wanted = {d.id for d in papers}
    by_doc: dict[str, list[Segment]] = {}
    for s in segments or ():
        if s.doc in wanted:
            by_doc.setdefault(s.doc, []).append(s)
    out: list[Candidate] = []
    seen: set[str] = set()
    for doc in sorted(papers, key=lambda d: d.id):
        found: list[Candidate] = []
        sections = _sections(by_doc.get(doc.id, []))
        for m in _EMPHASIS.finditer(doc.text, doc.body_start):
            text = " ".join(m.group(2).split())
            if len(text.split()) < MIN_WORDS:
                continue
            found.append(_candidate("emphasis", doc, m.start(2), m.end(2), text, sections))
        items: dict[int, list[Segment]] = {}
        for s in by_doc.get(doc.id, []):
            if s.kind == "list_item" and s.item is not None:
                items.setdefault(s.item, []).append(s)
        for parts in items.values():
            start, end = parts[0].start, parts[-1].end
            if any(c.start < end and start < c.end for c in found):
                continue
            text = " ".join(re.sub(r"\*+", "", doc.text[start:end]).split())
            if len(text.split()) >= MIN_WORDS:
                found.append(_candidate("list item", doc, start, end, text, sections))
        for c in sorted(found, key=lambda c: c.start):
            if c.id not in seen and _unique(c.text, doc):
                seen.add(c.id)
                out.append(c)
    return out


def _unique(text: str, doc: Document) -> bool:
    """Whether the passage's text occurs once in the document, so its entry's quote anchors it."""
    from .locate import LocateError, locate

    try:
        locate(text, doc, within=(doc.body_start, len(doc.text)))
    except LocateError:
        return False
    return True


def _sections(segments: list[Segment]) -> list[tuple[int, str]]:
    return [(s.start, s.section or "") for s in segments]


def _candidate(kind: str, doc: Document, start: int, end: int, text: str, sections: list[tuple[int, str]]) -> Candidate:
    section = ""
    for at, name in sections:
        if at > start:
            break
        section = name
    return Candidate(candidate_id(text), kind, doc.id, start, end, line_of(doc.text, start), section, text)


def _yaml_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def candidates_yaml(candidates: Sequence[Candidate]) -> str:
    """The candidates as a claims.yaml fragment: ``claims:`` then one entry each, with where it is."""
    lines = ["# candidate claims found by qualcode claims --candidates: adopt the ones that are findings,",
             "# rewrite the statement, and add themes, cases and evidence as you read the material",
             "claims:"]
    for c in candidates:
        lines.append(f"  # {c.kind}, {c.doc}:{c.line}, section \"{c.section}\"")
        lines.append(c.yaml().rstrip("\n"))
    return "\n".join(lines) + "\n"


def candidates_project(corpus: str, *, skip_unreadable: bool = False) -> list[Candidate]:
    """The candidates of a corpus folder: its papers segmented (no coding needed)."""
    from .corpus import load_corpus
    from .pipeline import Pipeline
    from .segment import segment_document

    documents = load_corpus(corpus, skip_unreadable=skip_unreadable)
    papers = [d for d in documents if d.kind == "paper"] or documents
    pipeline = Pipeline()
    segments = [s for d in papers for s in segment_document(d, pipeline).segments]
    return find_candidates(documents, segments)


def candidates_text(candidates: Sequence[Candidate]) -> str:
    """``qualcode claims --candidates``: each candidate with where it is and its entry."""
    out = []
    for c in candidates:
        out.append(f"{c.id}  {c.kind}  {c.doc}:{c.line}  section \"{c.section}\"")
        out.append(f"  {c.text}")
        out.append("  entry:")
        out.extend("  " + line for line in c.yaml().splitlines())
        out.append("")
    out.append(f"{len(candidates)} candidate(s): paste the entries you adopt under 'claims:' in claims.yaml "
               "(--format yaml gives them as one fragment)")
    return "\n".join(out) + "\n"
