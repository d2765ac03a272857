"""Codings: one record per code application, whoever applied it, and the views built from them.

Rule coding gives CodedSegments; :func:`rule_codings` turns them into ``Coding`` records
(applied, inherited by an ancestor, and with :func:`vetoed_codings` the matches an exclusion
removed). :func:`combine` merges them with a coder's manual codings (``qualcode.manual``):
manual codings are never vetoed or removed by rules, and a coder's rejection (``not:``)
marks the rule codings of that code on that passage ``rejected``. :func:`coded_view` gives
the CodedSegments (and so every output and the graph) of a chosen set of codings, and
:func:`trail` the vetoed and rejected codings per segment for ``qualcode code --explain``.
"""
from __future__ import annotations

import bisect
from dataclasses import replace
from functools import lru_cache
from typing import Any, Iterable, Literal, Sequence

from .model import PERSON_SOURCES, CodedSegment, Codebook, Coding, Document, Match, Rule

Source = Literal["rule", "manual", "combined"]
SOURCES: tuple[str, ...] = ("rule", "manual", "combined")


@lru_cache(maxsize=65536)  # the same few thousand rules recur in 100,000 codings: 0.5 s of a million words
def rule_of(pattern: str, where: str) -> Rule:
    """The Rule of a match: ``term:loan`` written at ``codebook.yaml:12:9`` (a frozen value, shared)."""
    file, line, col = where.rsplit(":", 2)
    return Rule(pattern.split(":", 1)[0], pattern, file, int(line), int(col))


def rule_codings(segments: Sequence[CodedSegment], codebook: Codebook) -> list[Coding]:
    """The applied and inherited rule codings of coded segments, in segment order."""
    out: list[Coding] = []
    for s in segments:
        seg = s.segment
        applied = [Coding(seg.id, seg.doc, m.start, m.end, m.code, "rule", "", rule_of(m.pattern, m.rule),
                          line=seg.line + s.text.count("\n", 0, m.start - seg.start))
                   for m in s.matches]
        out.extend(applied)
        out.extend(inherited(applied, codebook))
    return out


def vetoed_codings(document: Document, compiled: Any) -> list[Coding]:
    """The code matches of ``document`` that an exclusion vetoed, ``via`` the exclusion's
    ``file:line:col`` (codes the document again: see ``CompiledCodebook.vetoed``)."""
    specs = compiled.specs
    out = []
    for seg_id, code, i, a, b, veto in compiled.vetoed(document):
        spec = specs[i]
        out.append(Coding(seg_id, document.id, a, b, code, "rule", "", rule_of(spec.label, spec.rule),
                          status="vetoed", via=specs[veto].rule, line=document.text.count("\n", 0, a) + 1))
    return out


def inherited(applied: Iterable[Coding], codebook: Codebook) -> list[Coding]:
    """For applied codings, one ``inherited`` coding per ancestor code a segment (or, for a
    coding across segments, its span) does not have directly, ``via`` the first child code
    that brings it, on that child's span."""
    groups: dict[tuple, list[Coding]] = {}
    for c in applied:
        if c.status == "applied":
            key = (c.doc, c.segment) if c.segment is not None else (c.doc, None, c.start, c.end)
            groups.setdefault(key, []).append(c)
    out: list[Coding] = []
    for group in groups.values():
        have = {c.code for c in group}
        for c in group:
            for ancestor in codebook.code_ancestors(c.code):
                if ancestor not in have:
                    have.add(ancestor)
                    out.append(replace(c, code=ancestor, status="inherited", via=c.code))
    return out


def combine(rule: Iterable[Coding], manual: Iterable[Coding], codebook: Codebook) -> list[Coding]:
    """Rule and manual codings together; manual wins. A manual rejection (``status``
    ``rejected``: a coder's ``not: CODE``) turns every applied rule coding of that code
    overlapping its span into ``rejected``, ``via`` the coder. Inherited codings are
    derived again from what stays applied. Sorted by document, position and code."""
    manual = list(manual)
    rejections: dict[tuple[str, str], list[Coding]] = {}
    for m in manual:
        if m.status == "rejected":
            rejections.setdefault((m.doc, m.code), []).append(m)
    out: list[Coding] = []
    for c in rule:
        if c.status == "inherited":
            continue
        if c.status == "applied":
            by = next((r for r in rejections.get((c.doc, c.code), ()) if r.start < c.end and c.start < r.end), None)
            if by is not None:
                c = replace(c, status="rejected", via=by.coder)
        out.append(c)
    out.extend(m for m in manual if m.status != "inherited")
    out.extend(inherited(out, codebook))
    return sort_codings(out, codebook)


def idle_rejections(codings: Iterable[Coding]) -> list[Coding]:
    """The manual rejections of combined codings that rejected no rule coding (a stale
    ``not:``, or one on a passage the codebook never coded with that code)."""
    codings = list(codings)
    rejected: dict[tuple[str, str, str | None], list[Coding]] = {}
    for r in codings:
        if r.source == "rule" and r.status == "rejected":
            rejected.setdefault((r.doc, r.code, r.via), []).append(r)
    return [c for c in codings if c.source in PERSON_SOURCES and c.status == "rejected"
            and not any(r.start < c.end and c.start < r.end for r in rejected.get((c.doc, c.code, c.coder), ()))]


def select(rule: list[Coding], manual: list[Coding], source: str, codebook: Codebook) -> list[Coding]:
    """The codings for ``--source``: ``rule`` (the codebook's alone), ``manual`` (the coders'
    alone, with their inherited codes) or ``combined`` (:func:`combine`)."""
    if source == "rule":
        return sort_codings(rule, codebook)
    if source == "manual":
        kept = [m for m in manual if m.status != "inherited"]
        return sort_codings(kept + inherited(kept, codebook), codebook)
    if source == "combined":
        return combine(rule, manual, codebook)
    raise ValueError(f"unknown coding source {source!r}: use one of {', '.join(SOURCES)}")


def sort_codings(codings: Iterable[Coding], codebook: Codebook) -> list[Coding]:
    """By document and position (longest first), an inherited code after what brings it,
    then codebook order."""
    order = {c: n for n, c in enumerate(codebook.codes)}
    return sorted(codings, key=lambda c: (c.doc, c.start, -c.end, c.status == "inherited", order.get(c.code, len(order)), c.source,
                                          c.coder, c.status, c.rule.where if c.rule else ""))


def coded_view(segments: Sequence[CodedSegment], codings: Iterable[Coding], codebook: Codebook) -> list[CodedSegment]:
    """The coded segments as ``codings`` code them: each segment's matches are the applied
    codings inside it (a coding across segments counts in each, clipped to it), its codes
    those and their ancestors. Cases stay as coding found them. With the codings of
    :func:`rule_codings` this gives back ``segments`` unchanged."""
    order = {c: n for n, c in enumerate(codebook.codes)}
    by_doc: dict[str, list[Coding]] = {}
    for c in codings:
        if c.status == "applied":
            by_doc.setdefault(c.doc, []).append(c)
    starts: dict[str, list[int]] = {}
    index: dict[str, list[int]] = {}
    for n, s in enumerate(segments):
        starts.setdefault(s.segment.doc, []).append(s.segment.start)
        index.setdefault(s.segment.doc, []).append(n)
    matches: list[list[Match]] = [[] for _ in segments]
    for doc, items in by_doc.items():
        if doc not in starts:
            continue
        for c in items:
            k = max(0, bisect.bisect_right(starts[doc], c.start) - 1)
            for n in index[doc][k:]:
                seg = segments[n].segment
                if seg.start >= c.end:
                    break
                a, b = max(c.start, seg.start), min(c.end, seg.end)
                if a < b:
                    matches[n].append(_as_match(c, a, b, segments[n]))
    out = []
    for s, found in zip(segments, matches):
        found.sort(key=lambda m: (m.start, m.end, order.get(m.code, len(order)), m.source != "rule", m.coder))
        codes = {m.code for m in found}
        for m in found:
            codes.update(codebook.code_ancestors(m.code))
        out.append(CodedSegment(s.segment, s.text, tuple(sorted(codes, key=lambda c: order.get(c, len(order)))),
                                s.cases, s.context_cases, tuple(found), s.case_matches))
    return out


def _as_match(c: Coding, a: int, b: int, s: CodedSegment) -> Match:
    text = s.text[a - s.segment.start:b - s.segment.start]
    if c.source == "rule" and c.rule is not None:
        return Match(c.code, c.rule.pattern, c.rule.where, a, b, text)
    where = c.rule.where if c.rule is not None else ""
    return Match(c.code, f"{c.source}:{c.coder}", where, a, b, text, c.source, c.coder, c.confidence)


def trail(codings: Iterable[Coding], documents: dict[str, Document]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per segment id, what was not applied and why: ``vetoed`` (by an exclusion) and
    ``rejected`` (by a coder) rule codings, as records {code, pattern, rule, start, end,
    text, by}."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for c in codings:
        if c.source != "rule" or c.status not in ("vetoed", "rejected") or c.segment is None:
            continue
        text = documents[c.doc].text[c.start:c.end] if c.doc in documents else ""
        record = {"code": c.code, "pattern": c.rule.pattern if c.rule else "", "rule": c.rule.where if c.rule else "",
                  "start": c.start, "end": c.end, "text": text, "by": c.via}
        out.setdefault(c.segment, {"vetoed": [], "rejected": []})[c.status].append(record)
    return out


def attach_segments(codings: Iterable[Coding], segments: Sequence[CodedSegment]) -> list[Coding]:
    """Codings with ``segment`` set to the id of the segment that holds their span (None
    for a span across segments or outside every segment)."""
    spans: dict[str, tuple[list[int], list[CodedSegment]]] = {}
    for s in segments:
        starts, items = spans.setdefault(s.segment.doc, ([], []))
        starts.append(s.segment.start)
        items.append(s)
    out = []
    for c in codings:
        seg_id = None
        if c.doc in spans:
            starts, items = spans[c.doc]
            k = bisect.bisect_right(starts, c.start) - 1
            if k >= 0 and c.end <= items[k].segment.end:
                seg_id = items[k].segment.id
        out.append(replace(c, segment=seg_id))
    return out
