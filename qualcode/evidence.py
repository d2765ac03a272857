"""Evidence for claims: the researcher's declared passages first, then related passages qualcode finds.

A related passage is a coded segment (of the paper or the interview notes) that shares at
least one of the claim's themes (or, for a claim without themes, one of its cases). Its
score is the sum of three parts, each in [0, 1], all shown:

- ``themes``: the share of the claim's themes the passage is coded with;
- ``cases``: the share of the claim's cases the passage names or sits in;
- ``similarity``: Okapi BM25 (``rank-bm25``) of the claim's statement and anchors against the
  passage, on folded lookup lemmas without stop words, divided by the best BM25 score among
  the claim's candidates (so 1 is the most similar related passage).

BM25 rather than TF-IDF cosine: it saturates repeated words and normalises for length,
which suits short passages of very different lengths, and ``rank-bm25`` is a small
numpy-only library (scikit-learn would be a large dependency for one vectoriser).

Related is not supporting: qualcode finds passages about the same themes and cases; whether
one supports, contradicts or qualifies the claim is the researcher's call (declare it in
claims.yaml). Every output says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .claims import CaseLink, Claim, Coded, CodeLink, Passage, find_claim
from .model import CodedSegment
from .pointers import Pointer, resolve_pointers

RELATED_NOTE = ("related passages share the claim's themes or cases and its words: related is not supporting; "
                "declare a stance (supports, contradicts, qualifies) in claims.yaml after reading them")
LIMIT = 10  # related passages per claim, by default
SKIP_KINDS = frozenset({"heading", "table_row"})
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The parts of a related passage's score: the themes and cases it shares with the
    claim, their shares, and the normalised BM25 similarity (see the module docstring)."""

    themes: tuple[str, ...]
    cases: tuple[str, ...]
    theme_share: float
    case_share: float
    similarity: float

    @property
    def total(self) -> float:
        return round(self.theme_share + self.case_share + self.similarity, 4)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A passage bearing on a claim. ``stance``: supports, contradicts, qualifies (declared
    by the researcher, ``declared`` true, ``where`` in claims.yaml) or ``related`` (found by
    qualcode: ``score`` with its ``parts``, ``reason`` why it was selected). ``codes`` are
    the codes on it with who applied them (``coders`` their names, ``rule`` for codebook
    patterns), ``cases`` its cases with provenance, ``pointers`` the source pointers in it
    resolved to the passages they cite."""

    claim: str
    passage: Passage
    stance: str
    declared: bool
    segment: str | None = None
    score: float | None = None
    parts: ScoreParts | None = None
    reason: str = ""
    where: str = ""
    note: str = ""
    codes: tuple[CodeLink, ...] = ()
    cases: tuple[CaseLink, ...] = ()
    pointers: tuple[Pointer, ...] = ()

    @property
    def coders(self) -> tuple[str, ...]:
        return tuple(sorted({c.coder if c.source != "rule" else "rule" for c in self.codes}))

    @property
    def location(self) -> str:
        return self.passage.location


class EvidenceIndex:
    """A coded corpus ready for evidence searches: the :class:`qualcode.claims.Coded`
    index, per segment its theme and case sets and lemmas, a BM25 model over all of
    them, and the resolved source pointers. Build once, query for every claim."""

    def __init__(self, coded: Coded, lemmatise: Any = None):
        from rank_bm25 import BM25Okapi

        self.coded = coded
        self._lemmatise = lemmatise or default_lemmatiser()
        self.units = [s for s in coded.segments if s.segment.kind not in SKIP_KINDS]
        self.codes = [frozenset(s.codes) for s in self.units]
        self.cases = [frozenset(s.cases) | frozenset(s.context_cases) for s in self.units]
        self.tokens = [self._lemmatise(s.text) for s in self.units]
        self.bm25 = BM25Okapi([t or ["\x00"] for t in self.tokens]) if self.units else None
        self.by_theme: dict[str, list[int]] = {}
        self.by_case: dict[str, list[int]] = {}
        for i, (codes, cases) in enumerate(zip(self.codes, self.cases)):
            for c in codes:
                self.by_theme.setdefault(c, []).append(i)
            for c in cases:
                self.by_case.setdefault(c, []).append(i)
        self.pointers = resolve_pointers(coded.segments, coded.documents)
        self._pointers_by_doc: dict[str, list[Pointer]] = {}
        for p in self.pointers:
            self._pointers_by_doc.setdefault(p.doc, []).append(p)

    def pointers_in(self, doc: str, start: int, end: int) -> tuple[Pointer, ...]:
        return tuple(p for p in self._pointers_by_doc.get(doc, ()) if p.start < end and p.end > start)

    def passage_of(self, s: CodedSegment) -> Passage:
        return Passage(s.segment.doc, s.segment.start, s.segment.end, s.segment.line, s.text)

    def declared(self, claim: Claim) -> list[Evidence]:
        out = []
        for d in claim.declared_evidence:
            p = d.passage
            segs = self.coded.segments_in(p.doc, p.start, p.end)
            out.append(Evidence(claim.id, p, d.stance, True, segs[0].segment.id if segs else None,
                                reason=f"declared in {d.where}", where=d.where, note=d.note,
                                codes=tuple(self.coded.codes_on(p.doc, p.start, p.end)),
                                cases=tuple(self.coded.cases_on(p.doc, p.start, p.end)),
                                pointers=self.pointers_in(p.doc, p.start, p.end)))
        return out

    def related(self, claim: Claim, limit: int | None = LIMIT) -> list[Evidence]:
        """The passages most related to ``claim`` (see the module docstring), best first,
        leaving out its anchors and declared evidence; ``limit`` None for all."""
        themes, cases = set(claim.theme_ids), set(claim.case_ids)
        pool: set[int] = set()
        for t in themes:
            pool.update(self.by_theme.get(t, ()))
        if not themes:
            for c in cases:
                pool.update(self.by_case.get(c, ()))
        taken = [a.passage for a in claim.anchors] + [d.passage for d in claim.declared_evidence]
        pool = {i for i in pool if not any(_overlaps(self.units[i], p) for p in taken)}
        if not pool:
            return []
        ids = sorted(pool)
        query = self._lemmatise(" ".join([claim.statement, *(a.passage.text for a in claim.anchors)]))
        raw = self.bm25.get_batch_scores(query, ids) if query and self.bm25 is not None else [0.0] * len(ids)
        top = max((float(x) for x in raw), default=0.0)
        scored = []
        for i, bm in zip(ids, raw):
            shared_t = tuple(t for t in claim.theme_ids if t in self.codes[i])
            shared_c = tuple(c for c in claim.case_ids if c in self.cases[i])
            parts = ScoreParts(shared_t, shared_c, round(len(shared_t) / len(themes), 4) if themes else 0.0,
                               round(len(shared_c) / len(cases), 4) if cases else 0.0,
                               round(max(0.0, float(bm)) / top, 4) if top > 0 else 0.0)
            s = self.units[i].segment
            scored.append((-parts.total, s.doc, s.start, i, parts))
        scored.sort()
        out = []
        for _, _, _, i, parts in scored[:limit] if limit is not None else scored:
            s = self.units[i]
            p = self.passage_of(s)
            out.append(Evidence(claim.id, p, "related", False, s.segment.id, parts.total, parts, _reason(parts),
                                codes=tuple(self.coded.codes_on(p.doc, p.start, p.end)),
                                cases=tuple(self.coded.cases_on(p.doc, p.start, p.end)),
                                pointers=self.pointers_in(p.doc, p.start, p.end)))
        return out


def _overlaps(s: CodedSegment, p: Passage) -> bool:
    return s.segment.doc == p.doc and s.segment.start < p.end and p.start < s.segment.end


def _reason(parts: ScoreParts) -> str:
    bits = []
    if parts.themes:
        bits.append("shares theme" + ("s " if len(parts.themes) > 1 else " ") + ", ".join(parts.themes))
    if parts.cases:
        bits.append("shares case" + ("s " if len(parts.cases) > 1 else " ") + ", ".join(parts.cases))
    if parts.similarity:
        bits.append(f"lemma similarity {parts.similarity:.2f}")
    return "; ".join(bits)


def default_lemmatiser() -> Any:
    """Words to folded lookup lemmas without stop words (spaCy's English lookup table, as
    coding uses it), cached per word."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from .pipeline import Pipeline

    lexicon = Pipeline().lexicon
    cache: dict[str, str | None] = {}

    def lemmas(text: str) -> list[str]:
        out = []
        for w in _WORD.findall(text):
            lemma = cache.get(w, "")
            if lemma == "":
                folded = lexicon.lemma_of(w)
                lemma = cache[w] = None if (folded in STOP_WORDS or w.lower() in STOP_WORDS or folded.isdigit()
                                            or len(folded) < 2) else folded
            if lemma is not None:
                out.append(lemma)
        return out

    return lemmas


def evidence(claim: Claim, index: EvidenceIndex, *, limit: int | None = LIMIT) -> list[Evidence]:
    """The claim's evidence: declared passages (by stance, in the file's order), then the
    related passages qualcode found, best first."""
    order = {s: n for n, s in enumerate(("supports", "contradicts", "qualifies"))}
    declared = sorted(index.declared(claim), key=lambda e: order[e.stance])
    return declared + index.related(claim, limit)


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything about one claim: the linked claim (anchors with their codes and cases),
    its evidence (declared by stance, then related), the source pointers in its anchors,
    and the reminder that related is not supporting."""

    claim: Claim
    evidence: tuple[Evidence, ...]
    anchor_pointers: tuple[tuple[Pointer, ...], ...]
    note: str = RELATED_NOTE

    def by_stance(self, stance: str) -> list[Evidence]:
        return [e for e in self.evidence if e.stance == stance]


def trace(claim_id: str, claims: Sequence[Claim], index: EvidenceIndex, *, limit: int | None = LIMIT,
          name: str = "claims.yaml") -> Trace:
    """The :class:`Trace` of the claim ``claim_id`` of (linked) ``claims``; ClaimsError
    naming the nearest ids when there is no such claim."""
    claim = find_claim(claims, claim_id, name)
    pointers = tuple(index.pointers_in(a.passage.doc, a.passage.start, a.passage.end) for a in claim.anchors)
    return Trace(claim, tuple(evidence(claim, index, limit=limit)), pointers)


def counts(items: Iterable[Evidence]) -> dict[str, int]:
    """Evidence per stance: supports, contradicts, qualifies, related (every key present)."""
    out = {"supports": 0, "contradicts": 0, "qualifies": 0, "related": 0}
    for e in items:
        out[e.stance] += 1
    return out
