"""Claims as REFI-QDA notes: one ``Note`` per claim of claims.yaml (name = claim id, text =
statement with its themes, cases, anchors and evidence), referred to by a ``NoteRef`` on the
``PlainTextSelection`` of each anchor and declared evidence passage.

A ``NoteRef`` on a selection is how QDA-XML attaches a memo to a passage (the annotation of
a quotation); a ``Set`` of notes would group them but link no passage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..claims import Claim, Passage
from .ids import guid


@dataclass(frozen=True, slots=True)
class ClaimNote:
    """A claim as a note: its GUID, name, text, and the passages it is linked to (in
    claims.yaml order: anchors, then declared evidence)."""

    guid: str
    name: str
    text: str
    passages: tuple[Passage, ...]


def _quote(p: Passage, limit: int = 160) -> str:
    one = " ".join(p.text.split())
    return one if len(one) <= limit else one[:limit - 1].rstrip() + "…"


def note_text(claim: Claim) -> str:
    """The note's text: the statement, then themes, cases, anchors and evidence (with stance)."""
    lines = [" ".join(claim.statement.split()), ""]
    lines.append(f"themes: {', '.join(claim.theme_ids) or 'none'}")
    lines.append(f"cases: {', '.join(claim.case_ids) or 'none'}")
    for a in claim.anchors:
        lines.append(f"anchor {a.passage.location}: \"{_quote(a.passage)}\"")
    for e in claim.declared_evidence:
        note = f" ({' '.join(e.note.split())})" if e.note else ""
        lines.append(f"{e.stance} {e.passage.location}: \"{_quote(e.passage)}\"{note}")
    if claim.note:
        lines.append(f"note: {' '.join(claim.note.split())}")
    return "\n".join(lines)


def claim_notes(claims: Sequence[Claim]) -> list[ClaimNote]:
    """The claims as notes, in claims.yaml order (linked claims give themes and cases)."""
    out = []
    for claim in claims:
        passages: dict[tuple[str, int, int], Passage] = {}
        for p in [a.passage for a in claim.anchors] + [e.passage for e in claim.declared_evidence]:
            passages.setdefault((p.doc, p.start, p.end), p)
        out.append(ClaimNote(guid("note", "claim", claim.id), claim.id, note_text(claim), tuple(passages.values())))
    return out
