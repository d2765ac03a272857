"""What ``qualcode claims`` and ``qualcode trace`` print: JSON records and readable text.

Text is plain on a pipe or file; with ``colour`` (a terminal) the matched words of an
anchor are highlighted and stances coloured with ANSI escapes.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Iterable, Sequence

from .claims import Anchor, CaseLink, Claim, CodeLink, ThemeLink, short_statement
from .evidence import RELATED_NOTE, Evidence, EvidenceIndex, Trace
from .pointers import Pointer

BOLD, DIM, RESET, MARK = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[1;33m"
STANCE_COLOUR = {"supports": "\x1b[32m", "contradicts": "\x1b[31m", "qualifies": "\x1b[35m", "related": "\x1b[36m"}


# -- records ------------------------------------------------------------------------------------

def code_record(c: CodeLink) -> dict[str, Any]:
    return {"code": c.code, "source": c.source, "coder": c.coder, "pattern": c.pattern, "rule": c.rule,
            "status": c.status, "via": c.via, "start": c.start, "end": c.end}


def passage_record(p: Any) -> dict[str, Any]:
    return {"doc": p.doc, "line": p.line, "start": p.start, "end": p.end, "location": p.location, "text": p.text}


def pointer_record(p: Pointer, index: EvidenceIndex | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"text": p.text, "doc": p.doc, "line": p.line, "target": p.target,
                           "resolved": p.resolved, "passages": []}
    for a, b, line in p.passages:
        text = index.coded.documents[p.target].text[a:b] if index is not None else ""
        out["passages"].append({"doc": p.target, "start": a, "end": b, "line": line, "location": f"{p.target}:{line}",
                                "text": text})
    if p.problem:
        out["problem"] = p.problem
    return out


def anchor_record(a: Anchor, pointers: Sequence[Pointer] = (), index: EvidenceIndex | None = None) -> dict[str, Any]:
    return {**passage_record(a.passage), "where": a.where, "quote": a.quote, "note": a.note,
            "codes": [code_record(c) for c in a.codes], "cases": [asdict(c) for c in a.cases],
            "pointers": [pointer_record(p, index) for p in pointers]}


def evidence_record(e: Evidence, index: EvidenceIndex | None = None) -> dict[str, Any]:
    out = {**passage_record(e.passage), "stance": e.stance, "declared": e.declared, "segment": e.segment,
           "score": e.score, "parts": None, "reason": e.reason, "where": e.where, "note": e.note,
           "coders": list(e.coders), "codes": [code_record(c) for c in e.codes], "cases": [asdict(c) for c in e.cases],
           "pointers": [pointer_record(p, index) for p in e.pointers]}
    if e.parts is not None:
        out["parts"] = {"themes": list(e.parts.themes), "cases": list(e.parts.cases), "theme_share": e.parts.theme_share,
                        "case_share": e.parts.case_share, "similarity": e.parts.similarity}
    return out


def claim_record(claim: Claim) -> dict[str, Any]:
    return {"id": claim.id, "statement": claim.statement, "label": short_statement(claim.statement),
            "where": claim.where, "note": claim.note,
            "themes": [asdict(t) for t in claim.themes], "cases": [asdict(c) for c in claim.cases]}


def claims_records(claims: Sequence[Claim], index: EvidenceIndex) -> dict[str, Any]:
    """``qualcode claims --format json``: every claim with anchors, themes, cases and its
    evidence counts by stance (and the documents the evidence comes from)."""
    items = []
    for c in claims:
        n, docs = index.summary(c)
        items.append({**claim_record(c), "anchors": [passage_record(a.passage) for a in c.anchors],
                      "evidence": n, "documents": docs, "related_found": index.related_found(c)})
    return {"claims": items, "note": RELATED_NOTE}


def trace_record(t: Trace, index: EvidenceIndex) -> dict[str, Any]:
    return {"claim": claim_record(t.claim),
            "anchors": [anchor_record(a, p, index) for a, p in zip(t.claim.anchors, t.anchor_pointers)],
            "evidence": {s: [evidence_record(e, index) for e in t.by_stance(s)]
                         for s in ("supports", "contradicts", "qualifies", "related")},
            "note": t.note}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# -- text -----------------------------------------------------------------------------------------

def _c(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{RESET}" if colour else text


def claims_text(claims: Sequence[Claim], index: EvidenceIndex, *, colour: bool = False) -> str:
    """``qualcode claims``: one block per claim."""
    lines = []
    for c in claims:
        n, docs = index.summary(c)
        lines.append(_c(c.id, BOLD, colour) + f"  {c.statement}")
        lines.append("  anchors: " + ", ".join(a.passage.location for a in c.anchors))
        lines.append("  themes:  " + (", ".join(f"{t.theme} ({t.provenance})" for t in c.themes) or "-"))
        lines.append("  cases:   " + (", ".join(f"{k.case} ({k.provenance})" for k in c.cases) or "-"))
        found = index.related_found(c)
        best = f" (best of {found})" if found > n["related"] else ""
        lines.append("  evidence: " + ", ".join(_c(f"{n[s]} {s}", STANCE_COLOUR[s], colour) for s in n)
                     + f"{best} in {docs} document(s)")
    lines.append("")
    lines.append(f"{len(claims)} claim(s); {RELATED_NOTE}")
    return "\n".join(lines) + "\n"


def highlight(text: str, start: int, spans: Iterable[tuple[int, int]], colour: bool) -> str:
    """``text`` (starting at offset ``start``) with the spans marked: ANSI bold yellow with
    colour, ``[[...]]`` without."""
    marks = sorted((max(a, start) - start, min(b, start + len(text)) - start) for a, b in spans)
    out, at = [], 0
    for a, b in marks:
        if a < at or a >= b:
            continue
        out.append(text[at:a])
        out.append(f"{MARK}{text[a:b]}{RESET}" if colour else f"[[{text[a:b]}]]")
        at = b
    out.append(text[at:])
    return "".join(out)


def _code_line(c: CodeLink) -> str:
    who = f"{c.pattern} at {c.rule}" if c.source == "rule" else f"{c.source} coder {c.coder} ({c.rule})"
    extra = f", inherited via {c.via}" if c.status == "inherited" else ""
    return f"{c.code}: {who}{extra}"


def _case_line(k: CaseLink) -> str:
    return f"{k.case} ({k.provenance}{': ' + k.where if k.where else ''})"


def _pointer_lines(pointers: Sequence[Pointer], index: EvidenceIndex, indent: str) -> list[str]:
    out = []
    for p in pointers:
        if p.resolved:
            for a, b, line in p.passages:
                text = " ".join(index.coded.documents[p.target].text[a:b].split())
                out.append(f"{indent}cites {p.text} -> {p.target}:{line}: \"{text[:160]}{'...' if len(text) > 160 else ''}\"")
        else:
            out.append(f"{indent}cites {p.text}: not resolved ({p.problem})")
    return out


def trace_text(t: Trace, index: EvidenceIndex, *, colour: bool = False) -> str:
    """``qualcode trace CLAIM_ID``: the claim, its anchors with the matched words marked,
    the codes with who applied them, the cases, then the evidence by stance."""
    c = t.claim
    lines = [_c(f"claim {c.id}", BOLD, colour) + f" ({c.where})", f"  {c.statement}"]
    if c.note:
        lines.append(f"  note: {c.note}")
    lines.append("themes: " + (", ".join(_theme_line(x) for x in c.themes) or "-"))
    lines.append("cases:  " + (", ".join(_case_line(k) for k in c.cases) or "-"))
    lines.append("")
    for n, (a, pointers) in enumerate(zip(c.anchors, t.anchor_pointers), 1):
        p = a.passage
        lines.append(_c(f"anchor {n}: {p.location}", BOLD, colour) + f" ({a.where})")
        spans = [(x.start, x.end) for x in a.codes if x.status == "applied"]
        lines.append("  " + highlight(" ".join(p.text.split("\n")), p.start, spans, colour))
        for x in a.codes:
            lines.append("  code " + _code_line(x))
        for k in a.cases:
            lines.append("  case " + _case_line(k))
        lines.extend(_pointer_lines(pointers, index, "  "))
    for stance in ("supports", "contradicts", "qualifies", "related"):
        items = t.by_stance(stance)
        lines.append("")
        lines.append(_c(f"{stance} ({len(items)})", STANCE_COLOUR[stance], colour)
                     + (f": {RELATED_NOTE}" if stance == "related" else ""))
        for e in items:
            lines.append(f"  {e.location}  " + (f"score {e.score:.2f} = themes {e.parts.theme_share:.2f} + cases "
                                               f"{e.parts.case_share:.2f} + similarity {e.parts.similarity:.2f}"
                                               if e.parts else e.reason))
            lines.append(f"    \"{' '.join(e.passage.text.split())}\"")
            if e.parts:
                lines.append(f"    why: {e.reason}")
            if e.note:
                lines.append(f"    note: {e.note}")
            coded = sorted({x.code for x in e.codes if x.status == "applied"})
            lines.append(f"    coded: {', '.join(coded) or '-'}; by: {', '.join(e.coders) or '-'}; "
                         f"cases: {', '.join(k.case for k in e.cases) or '-'}")
            lines.extend(_pointer_lines(e.pointers, index, "    "))
    return "\n".join(lines) + "\n"


def _theme_line(t: ThemeLink) -> str:
    if t.provenance == "declared":
        return f"{t.theme} (declared)"
    return f"{t.theme} (on anchor {t.where}: {t.by})"
