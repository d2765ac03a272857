"""The evidence report: one self-contained HTML file a reviewer opens from disk.

It holds the codebook with definitions and frequencies, the theme x case matrix and the
co-occurrence table with their measures, the claims with their anchors and evidence by
stance, every document in full with its coded passages highlighted (each passage links to
its place in the document and back), and an audit trail (material with sha256 hashes,
the codebook and its version, how the coding was made, sources and coders, findings).

Rendered with Jinja2 templates (``qualcode/templates/``) with autoescaping. Documents are
embedded as deflated JSON in base64 (:func:`packed`) in inert ``<script
type="application/octet-stream">`` blocks, one per document, inflated (the browser's
DecompressionStream), parsed and drawn only when opened, so a report of a million words
opens as fast as its summary tables. Same inputs, same bytes: there is no timestamp.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import platform
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from . import __version__
from .model import CodedSegment, Document

if TYPE_CHECKING:
    from .graph import Tally
    from .project import CodingResult

STANCES = ("supports", "contradicts", "qualifies", "related")
STANCE_TITLES = {"supports": "Supporting", "contradicts": "Contradicting", "qualifies": "Qualifying",
                 "related": "Related (found by qualcode; related is not supporting)"}
COOCCURRENCE_ROWS = 1000  # the full table is matrix-theme-theme.csv
PASSAGE_TEXT_CHARS = 600  # a claim's passage is shown up to this length, the document view has it in full


@dataclass(frozen=True, slots=True)
class Passage:
    """An exact span of a document cited in the report: ``text == document.text[start:end]``.

    ``note`` says why it is there (the score's parts, who coded it, a stance's reason).
    """

    doc: str
    start: int
    end: int
    line: int
    text: str
    note: str = ""
    pointers: tuple[Passage, ...] = ()  # the passages a source pointer in it names (``[paper: "..."]``)


@dataclass(frozen=True, slots=True)
class ReportClaim:
    """A claim as the report shows it: its statement, themes and cases (each with where it
    came from), anchor passages and evidence passages by stance (see :data:`STANCES`)."""

    id: str
    statement: str
    anchors: tuple[Passage, ...] = ()
    themes: tuple[tuple[str, str], ...] = ()  # (code id, provenance)
    cases: tuple[tuple[str, str], ...] = ()  # (case id, provenance)
    evidence: Mapping[str, Sequence[Passage]] = field(default_factory=dict)
    source: str = ""  # where the claim is written, claims.yaml:LINE:COL


def passage(document: Document, start: int, end: int, note: str = "") -> Passage:
    """The passage ``[start, end)`` of ``document`` with its 1-based line."""
    return Passage(document.id, start, end, document.text.count("\n", 0, start) + 1, document.text[start:end], note)


def report_claims(study: Any, *, limit: int | None = None) -> list[ReportClaim]:
    """The claims of a claims study (``qualcode.project.study_claims``) as the report shows
    them: anchors with their source pointers resolved, themes and cases with provenance,
    declared evidence by stance, then the related passages qualcode ranked (``limit`` per
    claim, default ``qualcode.evidence.LIMIT``) with the score's parts."""
    from .evidence import LIMIT, trace

    docs = study.index.coded.documents

    def pointed(pointers: Iterable[Any]) -> tuple[Passage, ...]:
        return tuple(Passage(p.target, a, b, line, docs[p.target].text[a:b], f"named by the source pointer {p.text}")
                     for p in pointers if p.target in docs for a, b, line in p.passages)

    def view(p: Any, note: str, pointers: Iterable[Any]) -> Passage:
        return Passage(p.doc, p.start, p.end, p.line, p.text, note, pointed(pointers))

    out = []
    for claim in study.claims:
        t = trace(claim.id, study.claims, study.index, limit=LIMIT if limit is None else limit)
        anchors = tuple(view(a.passage, "; ".join(x for x in (f"anchor at {a.where}", a.note) if x), ps)
                        for a, ps in zip(claim.anchors, t.anchor_pointers))
        evidence = {s: [view(e.passage, _evidence_note(e), e.pointers) for e in t.by_stance(s)] for s in STANCES}
        themes = tuple((th.theme, " ".join(x for x in (th.provenance, th.where, f"by {th.by}" if th.by else "") if x))
                       for th in claim.themes)
        cases = tuple((c.case, " ".join(x for x in (c.provenance, c.where) if x)) for c in claim.cases)
        out.append(ReportClaim(claim.id, claim.statement, anchors, themes, cases, evidence, claim.where))
    return out


def _evidence_note(e: Any) -> str:
    """Why an evidence passage is there and who coded it."""
    coders = ", ".join(e.coders) if getattr(e, "coders", ()) else ""
    if e.declared:
        bits = [f"declared {e.stance} at {e.where}" if e.where else f"declared {e.stance}", e.note]
    else:
        parts = e.parts
        score = (f"score {e.score:.2f} = themes {parts.theme_share:.2f} + cases {parts.case_share:.2f} + "
                 f"lemma similarity {parts.similarity:.2f}" if parts is not None and e.score is not None else "")
        bits = [score, e.reason]
    bits.append(f"coded by {coders}" if coders else "")
    return "; ".join(b for b in bits if b)


def study_of(result: CodingResult, claims: str | Path | None) -> Any:
    """The claims study of ``claims`` over ``result``, or None when there is no claims file."""
    if claims is None or not Path(claims).exists():
        return None
    from .project import study_claims

    return study_claims(result, claims)


def write_report(result: CodingResult, path: str | Path, *, claims: Sequence[ReportClaim] = (),
                 unit: str = "paragraph", roll_up: str | None = None, where: Mapping[str, list[str]] | None = None,
                 codings: str | Path | None = None, settings: Mapping[str, Any] | None = None) -> Path:
    """Write the evidence report of a coded project (``qualcode.project.code_project``) to
    ``path``, atomically. ``unit``, ``roll_up`` and ``where`` are those of the graph and
    matrices; ``codings`` is the folder of manual codings (hashed in the audit trail)."""
    from .export.tables import write_text

    write_text(render_report(result, claims=claims, unit=unit, roll_up=roll_up, where=where, codings=codings,
                             settings=settings), path)
    return Path(path)


def render_report(result: CodingResult, *, claims: Sequence[ReportClaim] = (), unit: str = "paragraph",
                  roll_up: str | None = None, where: Mapping[str, list[str]] | None = None,
                  codings: str | Path | None = None, settings: Mapping[str, Any] | None = None) -> str:
    """The report's HTML text (see :func:`write_report`)."""
    from .graph import tally

    book = result.codebook.codebook
    counts = tally(result.segments, book, result.documents, unit=unit, roll_up=roll_up,
                   where=dict(where) if where else None)
    run_settings = {"coding source": result.source, "co-occurrence unit": unit, "case roll-up": roll_up or "none",
                    "documents selected": _where_text(where), "manual codings folder": str(codings or "none")}
    run_settings.update(settings or {})
    context = _Builder(result, counts, claims, codings).context(run_settings)
    return _environment().get_template("report.html.j2").render(**context)


def report_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml",
                   output: str | Path = "report.html", *, unit: str = "paragraph", roll_up: str | None = None,
                   where: dict[str, list[str]] | None = None, codings: str | Path | None = None,
                   claims: str | Path | None = None, **coding: Any) -> CodingResult:
    """``qualcode report``: code the project (``coding`` are the options of
    :func:`qualcode.project.code_project`), link the claims of the file ``claims`` when it
    exists, and write the evidence report to ``output``."""
    from .fileio import check_outputs
    from .project import code_project

    check_outputs([output], [codebook, claims], corpus=corpus)
    if claims is not None and Path(claims).exists():
        from .project import check_claims

        check_claims(corpus, codebook, claims, skip_unreadable=coding.get("skip_unreadable", False))
    result = code_project(corpus, codebook, codings=codings, **coding)
    study = study_of(result, claims)
    write_report(result, output, claims=report_claims(study) if study else (), unit=unit, roll_up=roll_up,
                 where=where, codings=codings,
                 settings={"claims file": str(claims) if study else "none"})
    return result


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("qualcode", "templates"),
                             autoescape=jinja2.select_autoescape(("html", "html.j2"), default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["json_script"] = json_script
    env.filters["packed"] = packed
    env.filters["num"] = _num
    return env


def packed(value: Any) -> str:
    """``value`` as compact UTF-8 JSON, deflated (zlib, level 9: the same bytes every run) and
    in base64: inert inside any element, about a third of the JSON's size; the report's
    script inflates it with the browser's DecompressionStream("deflate")."""
    import base64
    import zlib

    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def unpacked(text: str) -> Any:
    """The value :func:`packed` packed (for tests and tools reading a report)."""
    import base64
    import zlib

    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def json_script(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` survives
    as itself, so no text of the corpus can close the element."""
    from markupsafe import Markup

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2g}" if value and abs(value) < 0.001 else f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def _where_text(where: Mapping[str, list[str]] | None) -> str:
    if not where:
        return "all"
    return "; ".join(f"{k} = {' or '.join(v)}" for k, v in where.items())


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


class _Builder:
    """Turns a coded project into the template's context."""

    def __init__(self, result: CodingResult, counts: Tally, claims: Sequence[ReportClaim],
                 codings: str | Path | None):
        self.result = result
        self.book = result.codebook.codebook
        self.counts = counts
        self.claims = list(claims)
        self.codings_dir = codings
        self.docs = sorted(result.documents, key=lambda d: d.id)
        self.doc_ix = {d.id: i for i, d in enumerate(self.docs)}
        codes = list(self.book.codes) + sorted({c for s in result.segments for c in s.codes} - set(self.book.codes))
        self.code_ix = {c: i for i, c in enumerate(codes)}
        cases = list(self.book.cases) + sorted({c for s in result.segments for c in (*s.cases, *s.context_cases)}
                                               - set(self.book.cases))
        self.case_ix = {c: i for i, c in enumerate(cases)}
        self.by_doc: dict[str, list[CodedSegment]] = defaultdict(list)
        for s in result.segments:
            self.by_doc[s.segment.doc].append(s)
        self.rules: dict[tuple[str, str, str, str], int] = {}
        from .pointers import resolve_pointers

        self.pointers: dict[str, list[Any]] = defaultdict(list)  # source pointers ([paper: "..."]) by document
        for ptr in resolve_pointers(result.segments, {d.id: d for d in self.docs}):
            self.pointers[ptr.doc].append(ptr)

    # -- names ------------------------------------------------------------------------------
    def code_label(self, code: str) -> str:
        return self.book.codes[code].label if code in self.book.codes else code

    def case_name(self, case: str) -> str:
        return self.book.cases[case].name if case in self.book.cases else case

    def context(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        doc_data = [self._doc_data(d) for d in self.docs]
        claims = [self._claim(c) for c in self.claims]
        return {
            "title": self._title(),
            "summary": self._summary(),
            "codes": self._codes(),
            "matrix": self._matrix(),
            "pairs": self._pairs(),
            "claims": claims,
            "stances": STANCES,
            "stance_titles": STANCE_TITLES,
            "documents": self._documents(),
            "audit": self._audit(settings),
            "index": self._index(claims),
            "doc_data": doc_data,
        }

    def _title(self) -> str:
        paper = next((d for d in self.docs if d.kind == "paper"), None)
        return f"Evidence report: {paper.title}" if paper else "Evidence report"

    def _summary(self) -> dict[str, Any]:
        segs = self.result.segments
        return {"documents": len(self.docs), "words": sum(len(d.text.split()) for d in self.docs),
                "segments": len(segs), "coded": sum(1 for s in segs if s.codes), "claims": len(self.claims),
                "codes": len(self.book.codes), "cases": len(self.counts.cases)}

    # -- codebook -----------------------------------------------------------------------------
    def _codes(self) -> list[dict[str, Any]]:
        t = self.counts
        units = t.theme_units
        by_source: Counter[tuple[str, str, str]] = Counter(
            (c.code, c.source, c.status) for c in self.result.codings)
        coders: dict[str, set[str]] = defaultdict(set)
        for c in self.result.codings:
            if c.source != "rule" and c.status == "applied":
                coders[c.code].add(c.coder)
        out = []
        for code_id, i in self.code_ix.items():
            code = self.book.codes.get(code_id)
            depth = len(self.book.code_ancestors(code_id)) if code else 0
            out.append({
                "id": code_id, "ix": i, "label": self.code_label(code_id), "color": code.color if code else "#808080",
                "parent": code.parent if code else None, "depth": depth,
                "parent_label": self.code_label(code.parent) if code and code.parent else "",
                "definition": code.definition if code else "", "when_to_use": code.when_to_use if code else "",
                "when_not_to_use": code.when_not_to_use if code else "",
                "examples": list(code.examples) if code else [],
                "segments": t.theme_segments.get(code_id, 0), "documents": t.theme_documents.get(code_id, 0),
                "units": units.get(code_id, 0),
                "rule": by_source[(code_id, "rule", "applied")], "inherited": by_source[(code_id, "rule", "inherited")],
                "manual": by_source[(code_id, "manual", "applied")],
                "rejected": by_source[(code_id, "rule", "rejected")],
                "vetoed": by_source[(code_id, "rule", "vetoed")],
                "coders": sorted(coders[code_id]),
            })
        return out

    # -- matrices -----------------------------------------------------------------------------
    def _matrix(self) -> dict[str, Any]:
        t = self.counts
        cases = [{"id": c, "name": self.case_name(c), "named": t.case_named.get(c, 0),
                  "context": t.case_context.get(c, 0)} for c in t.cases]
        top = max([t.theme_case_named.get((th, c), 0) + t.theme_case_context.get((th, c), 0)
                   for th in t.themes for c in t.cases] or [1]) or 1
        rows = []
        for th in t.themes:
            cells = []
            for c in t.cases:
                named, ctx = t.theme_case_named.get((th, c), 0), t.theme_case_context.get((th, c), 0)
                cells.append({"named": named, "context": ctx, "shade": round((named + ctx) / top, 2)})
            rows.append({"id": th, "label": self.code_label(th), "cells": cells})
        return {"cases": cases, "rows": rows, "roll_up": t.roll_up}

    def _pairs(self) -> dict[str, Any]:
        t = self.counts
        pairs = sorted(t.pairs(min_count=1), key=lambda p: (-p.c_coefficient, p.p_value, p.theme_a, p.theme_b))
        rows = [{"a": self.code_label(p.theme_a), "b": self.code_label(p.theme_b), "count": p.count, "n_a": p.n_a,
                 "n_b": p.n_b, "c": p.c_coefficient, "lift": p.lift, "p": p.p_value, "unequal": p.unequal,
                 "nested": p.nested} for p in pairs[:COOCCURRENCE_ROWS]]
        return {"rows": rows, "total": len(pairs), "n_units": t.n_units, "unit": t.unit}

    # -- claims -------------------------------------------------------------------------------
    def _claim(self, claim: ReportClaim) -> dict[str, Any]:
        def view(p: Passage, kind: str, k: int) -> dict[str, Any]:
            return {"anchor": f"claim-{claim.id}-{kind}-{k}", **self._passage(p), "codes": self._codes_at(p),
                    "pointers": [self._passage(q) for q in p.pointers]}

        evidence = {stance: [view(p, stance, k) for k, p in enumerate(claim.evidence.get(stance, ()), 1)]
                    for stance in STANCES}
        docs = {p.doc for ps in claim.evidence.values() for p in ps} | {p.doc for p in claim.anchors}
        return {"id": claim.id, "statement": claim.statement, "source": claim.source,
                "anchors": [view(p, "anchor", k) for k, p in enumerate(claim.anchors, 1)],
                "themes": [{"id": c, "label": self.code_label(c), "how": how} for c, how in claim.themes],
                "cases": [{"id": c, "name": self.case_name(c), "how": how} for c, how in claim.cases],
                "evidence": evidence, "documents": len(docs)}

    def _passage(self, p: Passage) -> dict[str, Any]:
        return {"doc": p.doc, "doc_ix": self.doc_ix.get(p.doc, -1), "start": p.start, "end": p.end, "line": p.line,
                "note": p.note,
                "text": p.text if len(p.text) <= PASSAGE_TEXT_CHARS else p.text[:PASSAGE_TEXT_CHARS] + " …"}

    def _codes_at(self, p: Passage) -> list[str]:
        segs = self.by_doc.get(p.doc, [])
        starts = [s.segment.start for s in segs]
        k = max(bisect.bisect_right(starts, p.start) - 1, 0)
        codes: list[str] = []
        for s in segs[k:]:
            if s.segment.start >= p.end and s.segment.start > p.start:
                break
            if s.segment.end > p.start:
                codes.extend(c for c in s.codes if c not in codes)
        return [self.code_label(c) for c in sorted(codes, key=lambda c: self.code_ix.get(c, 0))]

    # -- documents ----------------------------------------------------------------------------
    def _documents(self) -> list[dict[str, Any]]:
        return [{"ix": i, "id": d.id, "title": d.title, "kind": d.kind or "", "words": len(d.text.split()),
                 "segments": len(self.by_doc.get(d.id, [])),
                 "coded": sum(1 for s in self.by_doc.get(d.id, []) if s.codes)} for i, d in enumerate(self.docs)]

    def _rule(self, pattern: str, where: str, source: str, coder: str) -> int:
        return self.rules.setdefault((pattern, where, source, coder), len(self.rules))

    def _doc_data(self, doc: Document) -> dict[str, Any]:
        """What the document view draws: the text, its coded or case-naming segments, every
        match and the passages its source pointers name, as compact arrays (see templates/report.js)."""
        segs, matches = [], []
        for s in self.by_doc.get(doc.id, []):
            if not (s.codes or s.cases or s.context_cases):
                continue
            g = s.segment
            segs.append([g.start, g.end, g.line, g.id.rsplit("#", 1)[-1], [self.code_ix[c] for c in s.codes],
                         [self.case_ix[c] for c in s.cases], [self.case_ix[c] for c in s.context_cases]])
            matches.extend([m.start, m.end, self.code_ix[m.code], self._rule(m.pattern, m.rule, m.source, m.coder)]
                           for m in s.matches if m.code in self.code_ix)
        meta = {k: v if isinstance(v, (str, int, float, bool)) or v is None else json.loads(json.dumps(v, default=str))
                for k, v in doc.meta.items()}
        pointers = [[p.start, p.end, self.doc_ix[p.target], a, b, line] for p in self.pointers.get(doc.id, ())
                    if p.target in self.doc_ix for a, b, line in p.passages]
        return {"id": doc.id, "title": doc.title, "kind": doc.kind, "meta": meta, "body": doc.body_start,
                "text": doc.text, "segs": segs, "m": matches, "p": pointers}

    def _index(self, claims: list[dict[str, Any]]) -> dict[str, Any]:
        """The small index the page reads at start: names, passages per code, and which
        claim passages cite each document (the document view links back to them)."""
        refs: dict[int, list[list[int]]] = defaultdict(list)
        for s in self.result.segments:
            if s.codes and s.segment.doc in self.doc_ix:
                d = self.doc_ix[s.segment.doc]
                for c in s.codes:
                    refs[self.code_ix[c]].append([d, s.segment.start, s.segment.end, s.segment.line])
        cited: dict[int, list[list[Any]]] = defaultdict(list)
        for claim in claims:
            for kind, ps in (("anchor", claim["anchors"]), *claim["evidence"].items()):
                for p in ps:
                    if p["doc_ix"] >= 0:
                        cited[p["doc_ix"]].append([p["start"], p["end"], p["anchor"], f"{claim['id']} ({kind})"])
        codes = [{"id": c, "label": self.code_label(c),
                  "color": self.book.codes[c].color if c in self.book.codes else "#808080"} for c in self.code_ix]
        return {"codes": codes, "cases": [self.case_name(c) for c in self.case_ix],
                "docs": [d.id for d in self.docs],
                "rules": [list(r) for r in self.rules] if self.rules else [],
                "refs": {str(k): v for k, v in refs.items()}, "cited": {str(k): v for k, v in cited.items()}}

    # -- audit trail --------------------------------------------------------------------------
    def _audit(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        loaded = self.result.codebook
        book_path = loaded.path or self.book.path
        material = []
        for d in self.docs:
            src = d.path if d.path and Path(d.path).is_file() else ""
            material.append({"id": d.id, "title": d.title, "kind": d.kind, "date": str(d.meta.get("date", "")),
                             "source": str(d.meta.get("source", "")), "chars": len(d.text),
                             "sha256": sha256_of(src) if src else hashlib.sha256(d.text.encode()).hexdigest(),
                             "hashed": "file" if src else "text"})
        codebook = {"path": book_path, "sha256": sha256_of(book_path) if book_path and Path(book_path).is_file() else "",
                    "version": str(loaded.header.get("version", "")), "title": str(loaded.header.get("title", "")),
                    "codes": len(self.book.codes), "cases": len(self.book.cases), "patterns": len(loaded.patterns)}
        try:
            import spacy

            spacy_version = spacy.__version__
        except ImportError:  # pragma: no cover - spaCy is a dependency
            spacy_version = "not installed"
        software = {"qualcode": __version__, "spaCy": spacy_version,
                    "spacy-lookups-data": _version("spacy-lookups-data"), "networkx": _version("networkx"),
                    "Jinja2": _version("jinja2"), "Python": platform.python_version() + f" ({sys.platform})"}
        return {"material": material, "codebook": codebook, "software": software, "settings": dict(settings),
                "sources": self._sources(), "findings": self._findings()}

    def _sources(self) -> dict[str, Any]:
        codings = self.result.codings
        rule = Counter(c.status for c in codings if c.source == "rule")
        coders: dict[str, dict[str, Any]] = {}
        for c in codings:
            if c.source == "rule":
                continue
            file = c.rule.file if c.rule else ""
            entry = coders.setdefault(c.coder, {"coder": c.coder, "source": c.source, "files": set(),
                                                "applied": 0, "rejections": 0, "codes": set()})
            entry["files"].add(file)
            if c.status == "applied":
                entry["applied"] += 1
                entry["codes"].add(self.code_label(c.code))
            elif c.status == "rejected":
                entry["rejections"] += 1
        rows = []
        for entry in sorted(coders.values(), key=lambda e: e["coder"]):
            files = sorted(f for f in entry["files"] if f)
            rows.append({**entry, "codes": sorted(entry["codes"]),
                         "files": [{"path": f, "sha256": sha256_of(f) if Path(f).is_file() else ""} for f in files]})
        return {"rule": dict(rule), "coders": rows, "source": self.result.source}

    def _findings(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "statement": c.statement, "anchors": len(c.anchors),
                 **{s: len(c.evidence.get(s, ())) for s in STANCES}} for c in self.claims]


def claims_in(claims: Iterable[ReportClaim]) -> list[str]:
    """The ids of ``claims``, for messages and tests."""
    return [c.id for c in claims]
