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
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

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


@dataclass(slots=True)
class ClaimsStudy:
    """A coded corpus with its claims linked and an evidence index built
    (``qualcode.project.study_claims``). ``result`` (a ``qualcode.project.CodingResult``) is
    None when the study was read from the claims cache (``cached``, see
    ``qualcode.claims_cache``): the claims and index are the same, the coding was not redone."""

    result: Any
    claims: list[Claim]  # linked
    index: "EvidenceIndex"
    cached: Path | None = None
    relinked: bool = False  # from the cache, with the claims file's claims linked again (it changed)


class EvidenceIndex:
    """A coded corpus ready for evidence searches: the :class:`qualcode.claims.Coded`
    index, per segment (``unit``: every segment but headings and table rows) its theme and
    case sets and lemmas, a BM25 model over all of them, and the resolved source pointers.
    Build once, query for every claim.

    The claims cache keeps an index as plain data: its :meth:`arrays` and lemmas, its
    pointers and the :meth:`remember`-ed results of its claims. :meth:`restore` gives it
    back over a lazily loaded ``Coded``: the remembered results answer without the arrays,
    which (with numpy and scipy) are read only when something new is ranked; a unit's
    segment is fetched from ``coded`` when a passage is shown."""

    ARRAYS = ("unit_doc", "unit_pos", "unit_start", "unit_end", "theme_ids", "case_ids", "theme_matrix",
              "case_matrix", "by_doc", "vocab", "weights")
    _LAZY = frozenset(ARRAYS + ("_theme_names", "_case_names", "_unit_starts", "_lemmatise"))

    def __init__(self, coded: Coded, lemmatise: Any = None):
        from rank_bm25 import BM25Okapi

        self.coded = coded
        self._memo: dict[tuple[str, str, int | None], tuple[Claim, Any]] = {}
        self._lemmatise = lemmatise or default_lemmatiser()
        units: list[CodedSegment] = []
        self.unit_pos: list[int] = []  # a unit's position among its document's segments
        seen: dict[str, int] = {}
        for s in coded.segments:
            doc = s.segment.doc
            n = seen[doc] = seen.get(doc, -1) + 1
            if s.segment.kind not in SKIP_KINDS:
                units.append(s)
                self.unit_pos.append(n)
        self.unit_doc = [s.segment.doc for s in units]
        self.unit_start = [s.segment.start for s in units]
        self.unit_end = [s.segment.end for s in units]
        codes = [frozenset(s.codes) for s in units]
        cases = [frozenset(s.cases) | frozenset(s.context_cases) for s in units]
        self.tokens = [self._lemmatise(s.text) for s in units]
        self.bm25 = BM25Okapi([t or ["\x00"] for t in self.tokens]) if units else None
        self.theme_ids = {t: n for n, t in enumerate(sorted({c for x in codes for c in x}))}
        self.case_ids = {c: n for n, c in enumerate(sorted({c for x in cases for c in x}))}
        self.theme_matrix = _incidence(codes, self.theme_ids).tocsr()
        self.case_matrix = _incidence(cases, self.case_ids).tocsr()
        self.by_doc: dict[str, list[int]] = {}
        for i, doc in enumerate(self.unit_doc):
            self.by_doc.setdefault(doc, []).append(i)
        self._bm25_weights()
        self._derived_arrays()
        self.pointers = resolve_pointers(coded.segments, coded.documents)
        self._derived_pointers()

    def _derived_arrays(self) -> None:
        self._theme_names = sorted(self.theme_ids, key=self.theme_ids.__getitem__)
        self._case_names = sorted(self.case_ids, key=self.case_ids.__getitem__)
        self._unit_starts: dict[str, list[int]] = {}

    def _derived_pointers(self) -> None:
        self._pointers_by_doc: dict[str, list[Pointer]] = {}
        for p in self.pointers:
            self._pointers_by_doc.setdefault(p.doc, []).append(p)

    def arrays(self) -> dict[str, Any]:
        """What ranking reads (:data:`ARRAYS`); the words' lemmas are :meth:`lemmas`."""
        return {name: getattr(self, name) for name in self.ARRAYS}

    def lemmas(self) -> dict[str, str | None]:
        """The lemma of every word seen (see :class:`Lemmatiser`)."""
        return dict(getattr(self._lemmatise, "known", {}))

    def remember(self, claims: Sequence[Claim], limit: int | None = LIMIT) -> dict[tuple[str, str, int | None], Any]:
        """Work out every claim's :meth:`summary` and :meth:`related` passages (``limit``) and
        keep them, so that a restored index answers them without ranking; returns the memo."""
        for c in claims:
            self._memo[("summary", c.id, limit)] = (c, self.summary(c, limit))
            self._memo[("related", c.id, limit)] = (c, tuple(self.related(c, limit)))
            self._memo[("found", c.id, None)] = (c, self.related_found(c))
        return dict(self._memo)

    def _remembered(self, kind: str, claim: Claim, limit: int | None) -> Any:
        hit = self._memo.get((kind, claim.id, limit))
        return hit[1] if hit is not None and hit[0] == claim else None

    @classmethod
    def restore(cls, coded: Coded, *, pointers: list[Pointer], memo: dict[tuple[str, str, int | None], Any],
                arrays: Callable[[], dict[str, Any]]) -> "EvidenceIndex":
        """An index over ``coded`` (the same corpus, coded the same way) with its ``pointers``
        and remembered results, and its :meth:`arrays` read by ``arrays()`` on first use;
        it lemmatises with the words it knew (spaCy loads only for a new word)."""
        self = cls.__new__(cls)
        self.coded, self.pointers, self._memo = coded, pointers, dict(memo)
        self.tokens, self.bm25 = None, None  # the weights hold what ranking needs
        self._pending = arrays
        self._derived_pointers()
        return self

    def __getattr__(self, name: str) -> Any:
        """A restored index's arrays, read on first use (see :meth:`restore`)."""
        pending = self.__dict__.get("_pending")
        if pending is None or name not in self._LAZY:
            raise AttributeError(name)
        del self.__dict__["_pending"]
        state = pending()
        self._lemmatise = Lemmatiser(state.pop("lemmas"))
        for key, value in state.items():
            setattr(self, key, value)
        self._derived_arrays()
        return getattr(self, name)

    @property
    def n_units(self) -> int:
        return len(self.unit_doc)

    def unit(self, i: int) -> CodedSegment:
        """The coded segment of unit ``i``."""
        return self.coded.doc_segments(self.unit_doc[i])[self.unit_pos[i]]

    def unit_codes(self, i: int) -> frozenset[str]:
        """The codes of unit ``i`` (its row of the theme matrix)."""
        m = self.theme_matrix
        return frozenset(self._theme_names[j] for j in m.indices[m.indptr[i]:m.indptr[i + 1]])

    def unit_cases(self, i: int) -> frozenset[str]:
        """The cases unit ``i`` names or sits in (its row of the case matrix)."""
        m = self.case_matrix
        return frozenset(self._case_names[j] for j in m.indices[m.indptr[i]:m.indptr[i + 1]])

    def query(self, claim: Claim) -> list[str]:
        """The lemmas a claim is compared with: its statement and anchors'."""
        return self._lemmatise(" ".join([claim.statement, *(a.passage.text for a in claim.anchors)]))

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

    def _bm25_weights(self) -> None:
        """Every segment's BM25 term weights as one sparse matrix (segments x lemmas), from
        rank-bm25's model (its idf, k1, b and lengths), so that a query is one sparse
        product. rank-bm25's own ``get_batch_scores`` loops over the query's words and the
        candidates in Python: 0.45 s per claim on 200,000 words, against a few milliseconds
        here (benchmarks/bench_claims.py); the scores are equal (tests/test_claims.py)."""
        import numpy as np
        from scipy import sparse

        bm = self.bm25
        self.vocab: dict[str, int] = {}
        if bm is None:
            self.weights = sparse.csr_matrix((0, 0))
            return
        rows, cols, vals = [], [], []
        for i, (freqs, length) in enumerate(zip(bm.doc_freqs, bm.doc_len)):
            norm = bm.k1 * (1 - bm.b + bm.b * length / bm.avgdl)
            for word, tf in freqs.items():
                j = self.vocab.setdefault(word, len(self.vocab))
                rows.append(i)
                cols.append(j)
                vals.append(bm.idf[word] * tf * (bm.k1 + 1) / (tf + norm))
        self.weights = sparse.csr_matrix((np.array(vals, dtype=float), (rows, cols)),
                                         shape=(len(bm.doc_freqs), len(self.vocab)))

    def similarity(self, words: Sequence[str]) -> Any:
        """The BM25 score of the query ``words`` against every segment (numpy array)."""
        import numpy as np

        q = np.zeros(len(self.vocab))
        for w in words:
            j = self.vocab.get(w)
            if j is not None:
                q[j] += 1.0
        return self.weights @ q if len(self.vocab) else np.zeros(self.n_units)

    def _pool(self, claim: Claim) -> tuple[Any, Any, Any]:
        """The units related to ``claim`` (sharing a theme, or a case for a claim without
        themes; not its anchors and declared evidence), and per unit the themes and cases shared."""
        import numpy as np

        shared_t = self._shared(self.theme_matrix, self.theme_ids, claim.theme_ids)
        shared_c = self._shared(self.case_matrix, self.case_ids, claim.case_ids)
        pool = shared_t > 0 if claim.theme_ids else shared_c > 0
        for p in [a.passage for a in claim.anchors] + [d.passage for d in claim.declared_evidence]:
            for i in self._units_in(p):
                pool[i] = False
        return np.flatnonzero(pool), shared_t, shared_c

    def related_found(self, claim: Claim) -> int:
        """How many passages are related to ``claim``: all that :meth:`rank` orders, however
        many are shown."""
        known = self._remembered("found", claim, None)
        if known is not None:
            return int(known)
        return int(len(self._pool(claim)[0])) if self.n_units else 0

    def rank(self, claim: Claim, limit: int | None = LIMIT) -> list[tuple[int, float, float, float]]:
        """The related passages of ``claim`` as (unit index, theme share, case share,
        similarity), best first (ties in corpus order), leaving out its anchors and
        declared evidence; ``limit`` None for all. Sparse products over the whole corpus."""
        import numpy as np

        if not self.n_units:
            return []
        n_themes, n_cases = len(claim.theme_ids), len(claim.case_ids)
        ids, shared_t, shared_c = self._pool(claim)
        if not len(ids):
            return []
        raw = np.maximum(self.similarity(self.query(claim))[ids], 0.0)
        top = float(raw.max())
        sim = np.round(raw / top, 4) if top > 0 else np.zeros(len(ids))
        t_share = np.round(shared_t[ids] / n_themes, 4) if n_themes else np.zeros(len(ids))
        c_share = np.round(shared_c[ids] / n_cases, 4) if n_cases else np.zeros(len(ids))
        total = np.round(t_share + c_share + sim, 4)
        if limit is not None and limit < len(total):
            # the best ``limit`` (and every tie of the last) by partition, then sorted: linear, not n log n
            cut = -np.partition(-total, limit - 1)[limit - 1] if limit > 0 else np.inf
            keep = np.flatnonzero(total >= cut)
            order = keep[np.argsort(-total[keep], kind="stable")][:limit]
        else:
            order = np.argsort(-total, kind="stable")  # ids are in corpus order: ties stay in document order
        return [(int(ids[k]), float(t_share[k]), float(c_share[k]), float(sim[k])) for k in order]

    def _shared(self, matrix: Any, ids: dict[str, int], wanted: Sequence[str]) -> Any:
        """Per unit, how many of ``wanted`` it has (one sparse matrix-vector product)."""
        import numpy as np

        v = np.zeros(len(ids))
        for w in wanted:
            if w in ids:
                v[ids[w]] = 1.0
        return matrix @ v if len(ids) else np.zeros(self.n_units)

    def _units_in(self, p: Passage) -> list[int]:
        """The units overlapping a passage."""
        import bisect

        items = self.by_doc.get(p.doc, [])
        starts = self._unit_starts.setdefault(p.doc, [self.unit_start[i] for i in items])
        k = max(0, bisect.bisect_right(starts, p.start) - 1)
        out = []
        for i in items[k:]:
            if self.unit_start[i] >= p.end:
                break
            if self.unit_end[i] > p.start:
                out.append(i)
        return out

    def related(self, claim: Claim, limit: int | None = LIMIT) -> list[Evidence]:
        """The passages most related to ``claim`` (see the module docstring and :meth:`rank`)
        as Evidence with their score parts, codes, cases and source pointers."""
        known = self._remembered("related", claim, limit)
        if known is not None:
            return list(known)
        out = []
        for i, t_share, c_share, sim in self.rank(claim, limit):
            s = self.unit(i)
            codes, cases = self.unit_codes(i), self.unit_cases(i)
            parts = ScoreParts(tuple(t for t in claim.theme_ids if t in codes),
                               tuple(c for c in claim.case_ids if c in cases), t_share, c_share, sim)
            p = self.passage_of(s)
            out.append(Evidence(claim.id, p, "related", False, s.segment.id, parts.total, parts, _reason(parts),
                                codes=tuple(self.coded.codes_on(p.doc, p.start, p.end)),
                                cases=tuple(self.coded.cases_on(p.doc, p.start, p.end)),
                                pointers=self.pointers_in(p.doc, p.start, p.end)))
        return out

    def summary(self, claim: Claim, limit: int | None = LIMIT) -> tuple[dict[str, int], int]:
        """The claim's evidence counts by stance (as :func:`counts` of :func:`evidence`) and
        the number of distinct documents of its evidence, without building the passages."""
        known = self._remembered("summary", claim, limit)
        if known is not None:
            return dict(known[0]), known[1]
        n = {"supports": 0, "contradicts": 0, "qualifies": 0, "related": 0}
        docs = set()
        for d in claim.declared_evidence:
            n[d.stance] += 1
            docs.add(d.passage.doc)
        ranked = self.rank(claim, limit)
        n["related"] = len(ranked)
        docs.update(self.unit_doc[i] for i, *_ in ranked)
        return n, len(docs)


def _incidence(sets: Sequence[frozenset], ids: dict[str, int]) -> Any:
    """A binary sparse matrix: a row per set, a column per id."""
    import numpy as np
    from scipy import sparse

    rows = [i for i, x in enumerate(sets) for _ in x]
    cols = [ids[v] for x in sets for v in x]
    return sparse.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), len(ids)))


def _reason(parts: ScoreParts) -> str:
    bits = []
    if parts.themes:
        bits.append("shares theme" + ("s " if len(parts.themes) > 1 else " ") + ", ".join(parts.themes))
    if parts.cases:
        bits.append("shares case" + ("s " if len(parts.cases) > 1 else " ") + ", ".join(parts.cases))
    if parts.similarity:
        bits.append(f"lemma similarity {parts.similarity:.2f}")
    return "; ".join(bits)


class Lemmatiser:
    """Words to folded lookup lemmas without stop words (spaCy's English lookup table, as
    coding uses it), cached per word: ``known`` maps each word seen to its lemma (None for
    a word left out). Given the words of an earlier run, it loads spaCy only for a new word."""

    def __init__(self, known: dict[str, str | None] | None = None):
        self.known: dict[str, str | None] = dict(known or {})
        self._tables: tuple[Any, frozenset[str]] | None = None

    def __call__(self, text: str) -> list[str]:
        known, out = self.known, []
        for w in _WORD.findall(text):
            lemma = known.get(w, "")
            if lemma == "":
                lemma = known[w] = self._lemma(w)
            if lemma is not None:
                out.append(lemma)
        return out

    def _lemma(self, word: str) -> str | None:
        if self._tables is None:
            from spacy.lang.en.stop_words import STOP_WORDS

            from .pipeline import Pipeline

            self._tables = (Pipeline().lexicon, frozenset(STOP_WORDS))
        lexicon, stop = self._tables
        folded = lexicon.lemma_of(word)
        drop = folded in stop or word.lower() in stop or folded.isdigit() or len(folded) < 2
        return None if drop else folded


def default_lemmatiser() -> Lemmatiser:
    """The lemmatiser of evidence searches (:class:`Lemmatiser`)."""
    return Lemmatiser()


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
