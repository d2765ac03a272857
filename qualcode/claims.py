"""Registered claims (``claims.yaml``): statements anchored in exact passages, with their themes and cases.

```yaml
claims:
  - id: small-numbers                      # letters, digits, '-', '_', '.'
    statement: Integradoras succeed when they have few members
    anchors:                               # one or more passages that state the claim
      - doc: paper/ruiz-duran-1998-clustering.md
        quote: "Integradoras success was related to small numbers"
    themes: [coordination]                 # optional: else the codes on the anchors
    cases: [ciudad-hidalgo]                # optional: else the cases the anchors name or sit in
    evidence:                              # optional: passages the researcher chose
      - doc: interviews/ciudad-hidalgo-furniture.md
        quote: "It was small: only 15 firms"
        stance: supports                   # supports, contradicts or qualifies
        note: why it bears on the claim
```

:func:`load_claims` reads and checks the file against the codebook and the corpus (every
problem at once, ``claims.yaml:LINE:COL``); quotes are located with the tolerant-but-exact
locator of manual codings (``qualcode.locate``). :func:`link_claims` gives each claim its
themes and cases with their provenance from the codings; :mod:`qualcode.evidence` ranks the
related passages and :func:`trace` puts everything about one claim together.
"""
from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from .errors import Problem, QualcodeError
from .locate import LocateError, locate
from .model import CodedSegment, Codebook, Coding, Document
from .yamlpos import load_located

Stance = Literal["supports", "contradicts", "qualifies"]
STANCES: tuple[str, ...] = ("supports", "contradicts", "qualifies")
CLAIM_KEYS = ("id", "statement", "anchors", "themes", "cases", "evidence", "note")
ANCHOR_KEYS = ("doc", "quote", "note")
EVIDENCE_KEYS = ("doc", "quote", "stance", "note")
MAX_BYTES = 50_000_000
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ClaimsError(QualcodeError):
    """The claims file is invalid, or names a claim it does not hold."""


@dataclass(frozen=True, slots=True)
class CodeLink:
    """A code on a passage and who or what applied it: ``source`` rule (``pattern`` written
    at ``rule``, ``codebook.yaml:line:col``), manual or imported (``coder``, ``rule`` where
    the coding is written); ``status`` applied or inherited (``via`` the child code)."""

    code: str
    source: str
    coder: str
    pattern: str
    rule: str
    status: str
    start: int
    end: int
    via: str | None = None


@dataclass(frozen=True, slots=True)
class CaseLink:
    """A case of a passage or claim and where it comes from: ``named`` (the passage names
    it: ``text``), ``segment`` (the segment holding the passage names it elsewhere),
    ``front matter`` (the document's ``cases``), ``section`` (the enclosing heading names it), ``declared`` (claims.yaml), ``anchor`` (a claim's case taken from
    its anchors: ``where`` says which anchor and how)."""

    case: str
    provenance: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class ThemeLink:
    """A theme of a claim: ``declared`` in claims.yaml (``where``) or coded on an anchor
    (``anchor``: ``where`` is the anchor's ``doc:line``, ``by`` the code's rule or coder)."""

    theme: str
    provenance: str
    where: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class Passage:
    """An exact passage of a document: offsets (code points, end exclusive), 1-based line, text."""

    doc: str
    start: int
    end: int
    line: int
    text: str

    @property
    def location(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A passage that states the claim, as located from ``claims.yaml`` (``where``), with
    the codes on it and its cases (filled by :func:`link_claims`)."""

    passage: Passage
    where: str
    quote: str
    note: str = ""
    codes: tuple[CodeLink, ...] = ()
    cases: tuple[CaseLink, ...] = ()


@dataclass(frozen=True, slots=True)
class DeclaredEvidence:
    """A passage the researcher chose as evidence, with its stance, as written in claims.yaml."""

    passage: Passage
    stance: str
    where: str
    quote: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    """A registered claim: ``id``, ``statement``, its anchors, declared evidence, and (after
    :func:`link_claims`) its themes and cases with their provenance. ``where`` is the
    position of the entry in claims.yaml."""

    id: str
    statement: str
    anchors: tuple[Anchor, ...]
    where: str
    declared_themes: tuple[ThemeLink, ...] = ()
    declared_cases: tuple[CaseLink, ...] = ()
    declared_evidence: tuple[DeclaredEvidence, ...] = ()
    note: str = ""
    themes: tuple[ThemeLink, ...] = ()
    cases: tuple[CaseLink, ...] = ()

    @property
    def theme_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.theme for t in self.themes))

    @property
    def case_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.case for c in self.cases))


def short_statement(statement: str, width: int = 48) -> str:
    """The statement shortened on a word boundary, for graph labels."""
    text = " ".join(statement.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


# -- loading --------------------------------------------------------------------------------------

def load_claims(path: str | Path, documents: Iterable[Document], codebook: Codebook) -> list[Claim]:
    """The claims of ``path``, checked: ids unique and well formed, a statement, at least one
    anchor, known documents, codes and cases, stances, every quote located exactly once.
    Raises ClaimsError with every problem at once."""
    from .inputs import read_regular_file

    name = str(path)
    data = read_regular_file(path, MAX_BYTES, "claims file", error=ClaimsError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ClaimsError(Problem(name, f"not UTF-8: byte offset {err.start} cannot be decoded; save it as UTF-8")) from None
    return parse_claims(text, name, documents, codebook)


def parse_claims(text: str, name: str, documents: Iterable[Document], codebook: Codebook) -> list[Claim]:
    """:func:`load_claims` on the text of a claims file named ``name`` in messages."""
    reader = _Reader(name, {d.id: d for d in documents}, codebook)
    reader.read(text)
    if reader.problems:
        raise ClaimsError(sorted(reader.problems, key=lambda p: (p.line, p.col, p.message)))
    return reader.claims


class _Reader:
    def __init__(self, name: str, documents: Mapping[str, Document], codebook: Codebook):
        self.name, self.documents, self.codebook = name, documents, codebook
        self.problems: list[Problem] = []
        self.claims: list[Claim] = []

    def problem(self, message: str, where: tuple[int, int], key: str = "") -> None:
        self.problems.append(Problem(self.name, message, where[0], where[1], key))

    def at(self, where: tuple[int, int]) -> str:
        return f"{self.name}:{where[0]}:{where[1]}"

    def read(self, text: str) -> None:
        located, problems = load_located(text, self.name)
        self.problems.extend(problems)
        if located is None:
            return
        self.loc = located
        value = located.value
        if value is None:
            return
        if not isinstance(value, dict) or "claims" not in value:
            self.problem("a claims file is a mapping with 'claims:', a list of claims (- id: ..., statement: ..., "
                         "anchors: ...)", (1, 1))
            return
        for k in value:
            if k != "claims":
                self.problem(f"unknown key {k!r}; a claims file has 'claims'", located.where((k,)))
        items = value["claims"]
        if items is None:
            return
        if not isinstance(items, list):
            self.problem("'claims' must be a list of claims", located.where(("claims",)), "claims")
            return
        seen: dict[str, int] = {}
        for i, entry in enumerate(items):
            path = ("claims", i)
            key = f"claims[{i}]"
            if not isinstance(entry, dict):
                self.problem("a claim must be a mapping with id, statement and anchors", located.where(path), key)
                continue
            raw = entry.get("id")
            if isinstance(raw, str) and raw.strip():
                raw = raw.strip()
                if raw in seen:
                    self.problem(f"duplicate claim id {raw!r} (first at line {seen[raw]}): ids must be unique",
                                 located.where((*path, "id"), value=True), f"claims[{raw}]")
                    continue
                seen[raw] = located.where((*path, "id"))[0]
            claim = self.claim(entry, path, key)
            if claim is not None:
                self.claims.append(claim)

    def where(self, path: tuple, value: bool = False) -> tuple[int, int]:
        return self.loc.where(path, value=value)

    def claim(self, entry: dict[str, Any], path: tuple, key: str) -> Claim | None:
        before = len(self.problems)
        cid = entry.get("id")
        if not isinstance(cid, str) or not _ID.fullmatch(cid.strip()):
            self.problem("'id' must be a short name of letters, digits, '-', '_' or '.', e.g. small-numbers"
                         if "id" in entry else "missing 'id'", self.where((*path, "id"), value=True), key)
            cid = None
        else:
            cid = cid.strip()
            key = f"claims[{cid}]"
        for k in entry:
            if k not in CLAIM_KEYS:
                self.problem(f"unknown key {k!r}{_suggest(str(k), CLAIM_KEYS)} (a claim has "
                             f"{', '.join(CLAIM_KEYS)})", self.where((*path, k)), key)
        statement = entry.get("statement")
        if not isinstance(statement, str) or not statement.strip():
            self.problem("'statement' must be the claim in a sentence" if "statement" in entry
                         else "missing 'statement': the claim in a sentence", self.where((*path, "statement"), True), key)
        note = entry.get("note", "")
        if not isinstance(note, str):
            self.problem("'note' must be text", self.where((*path, "note"), True), key)
        anchors = self.anchors(entry, path, key)
        themes = self.ids(entry, path, key, "themes", self.codebook.codes, "code")
        cases = self.ids(entry, path, key, "cases", self.codebook.cases, "case")
        evidence = self.evidence(entry, path, key)
        if len(self.problems) > before or cid is None:
            return None
        return Claim(cid, " ".join(statement.split()), tuple(anchors), self.at(self.where(path)),
                     tuple(ThemeLink(t, "declared", w) for t, w in themes),
                     tuple(CaseLink(c, "declared", w) for c, w in cases), tuple(evidence), note.strip())

    def ids(self, entry: dict[str, Any], path: tuple, key: str, field_: str, known: Mapping[str, Any],
            what: str) -> list[tuple[str, str]]:
        value = entry.get(field_)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(f"'{field_}' must be a list of {what} ids", self.where((*path, field_), True), key)
            return []
        out = []
        for n, v in enumerate(value):
            at = self.where((*path, field_, n))
            if not isinstance(v, str) or v not in known:
                self.problem(f"unknown {what} {v!r}{_suggest(str(v), list(known))} ({field_} must be "
                             f"{'codes' if what == 'code' else 'cases'} of the codebook)", at, key)
            elif v not in (o for o, _ in out):
                out.append((v, self.at(at)))
        return out

    def anchors(self, entry: dict[str, Any], path: tuple, key: str) -> list[Anchor]:
        value = entry.get("anchors")
        if not isinstance(value, list) or not value:
            self.problem("'anchors' must list one or more passages (- doc: ..., quote: ...) that state the claim"
                         if "anchors" in entry else "missing 'anchors': one or more passages (- doc: ..., quote: ...) "
                         "that state the claim", self.where((*path, "anchors"), True), key)
            return []
        out = []
        for n, a in enumerate(value):
            found = self.passage(a, (*path, "anchors", n), f"{key}.anchors[{n}]", ANCHOR_KEYS)
            if found is not None:
                passage, at, quote, note = found
                out.append(Anchor(passage, at, quote, note))
        return out

    def evidence(self, entry: dict[str, Any], path: tuple, key: str) -> list[DeclaredEvidence]:
        value = entry.get("evidence")
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem("'evidence' must be a list of passages (- doc: ..., quote: ..., stance: supports)",
                         self.where((*path, "evidence"), True), key)
            return []
        out = []
        for n, e in enumerate(value):
            p, k = (*path, "evidence", n), f"{key}.evidence[{n}]"
            stance = e.get("stance") if isinstance(e, dict) else None
            if isinstance(e, dict) and stance not in STANCES:
                self.problem(f"'stance' must be one of {', '.join(STANCES)}, not {stance!r}"
                             if "stance" in e else f"missing 'stance': one of {', '.join(STANCES)}",
                             self.where((*p, "stance"), True), k)
            found = self.passage(e, p, k, EVIDENCE_KEYS)
            if found is not None and stance in STANCES:
                passage, at, quote, note = found
                out.append(DeclaredEvidence(passage, stance, at, quote, note))
        return out

    def passage(self, entry: Any, path: tuple, key: str, keys: tuple[str, ...]) -> tuple[Passage, str, str, str] | None:
        if not isinstance(entry, dict):
            self.problem("a passage is a mapping with 'doc' and 'quote'", self.where(path), key)
            return None
        ok = True
        for k in entry:
            if k not in keys:
                self.problem(f"unknown key {k!r}{_suggest(str(k), keys)} (a passage has {', '.join(keys)})",
                             self.where((*path, k)), key)
                ok = False
        doc = entry.get("doc")
        document = None
        if not isinstance(doc, str) or not doc.strip():
            self.problem("missing 'doc': the document's id (its path under the corpus folder)",
                         self.where((*path, "doc"), True), key)
        else:
            doc = doc.strip().replace("\\", "/")
            document = self.documents.get(doc)
            if document is None:
                self.problem(f"unknown document {doc!r}{_nearest_doc(doc, list(self.documents))}",
                             self.where((*path, "doc"), True), key)
        quote = entry.get("quote")
        if not isinstance(quote, str) or not quote.strip():
            self.problem("missing 'quote': the passage's text, as it is in the document" if "quote" not in entry
                         else "'quote' must be the passage's text", self.where((*path, "quote"), True), key)
            quote = None
        note = entry.get("note", "")
        if not isinstance(note, str):
            self.problem("'note' must be text", self.where((*path, "note"), True), key)
            ok = False
        if document is None or quote is None or not ok:
            return None
        try:
            span = locate(quote, document, within=(document.body_start, len(document.text)))
        except LocateError as err:  # a claim's passage is a quote: no start and end to give instead
            self.problem(err.describe(offsets=False), self.where((*path, "quote"), True), key)
            return None
        return (Passage(span.doc, span.start, span.end, span.line, span.text), self.at(self.where(path)),
                quote, note.strip())


def _suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f": did you mean {close[0]!r}?" if close else ""


def _nearest_doc(doc: str, known: list[str]) -> str:
    from rapidfuzz import process

    best = process.extract(doc, known, limit=2, score_cutoff=60)
    return "; nearest: " + ", ".join(repr(b[0]) for b in best) if best else ""


# -- themes and cases -----------------------------------------------------------------------------

class Coded:
    """The coded corpus that claims are linked to, indexed by document and position:
    coded segments, the codings they show, the codebook and the documents.

    Built from the whole corpus's segments and codings, or (:meth:`lazy`) from a loader that
    gives one document's segments and codings when a passage of it is first asked about,
    as the claims cache (``qualcode.claims_cache``) does."""

    def __init__(self, segments: Sequence[CodedSegment], codings: Iterable[Coding], codebook: Codebook,
                 documents: Iterable[Document] | Mapping[str, Document]):
        self.segments = list(segments)
        self.codebook = codebook
        self.documents = dict(documents) if isinstance(documents, Mapping) else {d.id: d for d in documents}
        self._load: Callable[[str], tuple[list[CodedSegment], list[Coding]]] | None = None
        self._by_doc: dict[str, list[CodedSegment]] = {}
        for s in self.segments:
            self._by_doc.setdefault(s.segment.doc, []).append(s)
        by_doc: dict[str, list[Coding]] = {}
        for c in codings:
            by_doc.setdefault(c.doc, []).append(c)
        self._codings: dict[str, list[Coding]] = {}
        self._coding_starts: dict[str, list[int]] = {}
        self._max_len: dict[str, int] = {}
        self._starts: dict[str, list[int]] = {}
        for doc in self.documents.keys() | self._by_doc.keys() | by_doc.keys():
            self._index(doc, self._by_doc.get(doc, []), by_doc.get(doc, []))

    @classmethod
    def lazy(cls, codebook: Codebook, documents: Mapping[str, Document],
             load: Callable[[str], tuple[list[CodedSegment], list[Coding]]]) -> "Coded":
        """A Coded whose documents' segments and codings come from ``load(doc)`` on first
        use (``segments`` stays empty: ask per document, with :meth:`doc_segments`)."""
        self = cls([], [], codebook, {})
        self.documents = dict(documents)
        self._load = load
        return self

    def _index(self, doc: str, segments: list[CodedSegment], codings: Iterable[Coding]) -> None:
        self._by_doc[doc] = segments
        self._starts[doc] = [s.segment.start for s in segments]
        items = sorted((c for c in codings if c.status in ("applied", "inherited")), key=lambda c: (c.start, c.end))
        self._codings[doc] = items
        self._coding_starts[doc] = [c.start for c in items]
        self._max_len[doc] = max((c.end - c.start for c in items), default=0)

    def doc_segments(self, doc: str) -> list[CodedSegment]:
        """The coded segments of ``doc``, in order."""
        if doc not in self._by_doc:
            if self._load is None:
                return []
            self._index(doc, *self._load(doc))
        return self._by_doc[doc]

    def indexed(self) -> list[str]:
        """The documents whose segments and codings are indexed (loaded, for a lazy Coded)."""
        return list(self._by_doc)

    def parts(self, doc: str) -> tuple[list[CodedSegment], list[Coding]]:
        """What :meth:`lazy`'s loader gives for ``doc``: its segments and codings."""
        return self.doc_segments(doc), self.doc_codings(doc)

    def doc_codings(self, doc: str) -> list[Coding]:
        """The applied and inherited codings of ``doc``, by position (the ones claims show)."""
        self.doc_segments(doc)
        return self._codings.get(doc, [])

    def segments_in(self, doc: str, start: int, end: int) -> list[CodedSegment]:
        """The coded segments overlapping ``start:end`` of ``doc``, in order."""
        items = self.doc_segments(doc)
        k = max(0, bisect.bisect_right(self._starts.get(doc, []), start) - 1)
        out = []
        for s in items[k:]:
            if s.segment.start >= end:
                break
            if s.segment.end > start:
                out.append(s)
        return out

    def codes_on(self, doc: str, start: int, end: int) -> list[CodeLink]:
        """The applied and inherited codings overlapping ``start:end``, with who applied them."""
        items = self.doc_codings(doc)
        starts = self._coding_starts.get(doc, [])
        lo = bisect.bisect_left(starts, start - self._max_len.get(doc, 0))
        hi = bisect.bisect_left(starts, end)
        out = []
        for c in items[lo:hi]:
            if c.end > start and c.start < end:
                rule = c.rule
                out.append(CodeLink(c.code, c.source, c.coder, rule.pattern if rule else "", rule.where if rule else "",
                                    c.status, c.start, c.end, c.via))
        return sorted(set(out), key=lambda x: (x.start, x.end, x.code, x.source, x.coder, x.rule))

    def cases_on(self, doc: str, start: int, end: int) -> list[CaseLink]:
        """The cases of ``start:end``: those it names, then those of its context (the
        document's front matter or the enclosing section)."""
        named: dict[str, CaseLink] = {}
        context: dict[str, CaseLink] = {}
        document = self.documents.get(doc)
        front = _front_cases(document)
        for s in self.segments_in(doc, start, end):
            for m in s.case_matches:
                if m.end > start and m.start < end and m.code not in named:
                    named[m.code] = CaseLink(m.code, "named", f'"{m.text}" ({m.pattern}, {m.rule})')
                elif m.code not in context:  # named in the same segment, outside the passage
                    context[m.code] = CaseLink(m.code, "segment", f'"{m.text}" in {s.segment.id}')
            for c in s.context_cases:
                if c not in context:
                    if c in front:
                        context[c] = CaseLink(c, "front matter", f"{doc}: cases")
                    else:
                        context[c] = CaseLink(c, "section", f'section "{s.segment.section or ""}"')
        return list(named.values()) + [c for k, c in context.items() if k not in named]


def _front_cases(document: Document | None) -> set[str]:
    if document is None:
        return set()
    value = document.meta.get("cases")
    if isinstance(value, str):
        return {value}
    return {str(v) for v in value} if isinstance(value, list) else set()


def link_claims(claims: Iterable[Claim], coded: Coded) -> list[Claim]:
    """The claims with each anchor's codes and cases, and the claim's themes (declared, else
    the codes applied on its anchors) and cases (declared, else those the anchors name,
    else those of the anchors' context), each with its provenance."""
    out = []
    for claim in claims:
        anchors = tuple(replace(a, codes=tuple(coded.codes_on(a.passage.doc, a.passage.start, a.passage.end)),
                                cases=tuple(coded.cases_on(a.passage.doc, a.passage.start, a.passage.end)))
                        for a in claim.anchors)
        themes = claim.declared_themes
        if not themes:
            seen: dict[str, ThemeLink] = {}
            for a in anchors:
                for c in a.codes:
                    if c.status == "applied" and c.code not in seen:
                        by = f"{c.pattern} ({c.rule})" if c.source == "rule" else f"{c.source}: {c.coder} ({c.rule})"
                        seen[c.code] = ThemeLink(c.code, "anchor", a.passage.location, by)
            order = {c: n for n, c in enumerate(coded.codebook.codes)}
            themes = tuple(sorted(seen.values(), key=lambda t: order.get(t.theme, len(order))))
        cases = claim.declared_cases
        if not cases:
            named = [(a, c) for a in anchors for c in a.cases if c.provenance == "named"]
            chosen = named or [(a, c) for a in anchors for c in a.cases]
            seen_cases: dict[str, CaseLink] = {}
            for a, c in chosen:
                if c.case not in seen_cases:
                    seen_cases[c.case] = CaseLink(c.case, f"anchor, {c.provenance}", f"{a.passage.location}: {c.where}")
            cases = tuple(seen_cases.values())
        out.append(replace(claim, anchors=anchors, themes=themes, cases=cases))
    return out


def find_claim(claims: Sequence[Claim], claim_id: str, name: str = "claims.yaml") -> Claim:
    """The claim with ``claim_id``; ClaimsError (with the nearest ids) when there is none."""
    for c in claims:
        if c.id == claim_id:
            return c
    ids = [c.id for c in claims]
    close = difflib.get_close_matches(claim_id, ids, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else (
        f"; the claims are {', '.join(ids[:10])}{', ...' if len(ids) > 10 else ''}" if ids else "; it holds no claims")
    raise ClaimsError(Problem(name, f"unknown claim id {claim_id!r}{hint}"))


@dataclass(frozen=True, slots=True)
class ClaimSummary:
    """One line of ``qualcode claims``: a linked claim and its evidence counts by stance
    (declared ``supports``/``contradicts``/``qualifies``, and ``related`` found passages)."""

    claim: Claim
    counts: dict[str, int] = field(default_factory=dict)
    documents: int = 0
