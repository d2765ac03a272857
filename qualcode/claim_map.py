"""The evidence map of the claims: claim x case and claim x theme matrices, and claim nodes in the graph.

Per claim, its passages are its anchors and its evidence (declared by stance, and the
related passages qualcode found, see ``qualcode.evidence``). A passage counts for a case
when it names it or sits in its context, for a theme when it is coded with it.
"""
from __future__ import annotations

from typing import Any, Collection, Literal, Sequence, get_args

import networkx as nx

from .claims import Claim, short_statement
from .evidence import LIMIT, EvidenceIndex, evidence
from .graph import CASE_KIND_COLORS, OTHER_CASE_COLOR, case_node, theme_node

ClaimMatrixKind = Literal["claim-case", "claim-theme"]
CLAIM_MATRIX_KINDS: tuple[str, ...] = get_args(ClaimMatrixKind)
STANCE_COLUMNS = ("supports", "contradicts", "qualifies", "related")
CLAIM_COLOR = "#d62728"
SEGMENT_COLOR = "#c7c7c7"
CLAIM_LABEL_LENGTH = 48


def _passages(claim: Claim, index: EvidenceIndex, limit: int | None) -> list[tuple[str, Any, set[str], set[str]]]:
    """(stance or 'anchor', passage, its cases, its themes) for every passage of the claim."""
    out = []
    for a in claim.anchors:
        out.append(("anchor", a.passage, {c.case for c in a.cases}, {c.code for c in a.codes}))
    for e in evidence(claim, index, limit=limit):
        out.append((e.stance, e.passage, {c.case for c in e.cases}, {c.code for c in e.codes}))
    return out


def claim_matrix_rows(kind: str, claims: Sequence[Claim], index: EvidenceIndex, *,
                      limit: int | None = LIMIT) -> list[list[Any]]:
    """``claim-case`` (or ``claim-theme``): a header, then one row per claim and case (theme)
    that any of its passages has, the claim's own cases (themes) first: the number of
    anchors, of supporting, contradicting, qualifying and related passages, and of the
    distinct documents among them."""
    if kind not in CLAIM_MATRIX_KINDS:
        from .errors import QualcodeError

        raise QualcodeError(f"matrix: unknown kind {kind!r} (choose one of {', '.join(CLAIM_MATRIX_KINDS)})")
    what = "case" if kind == "claim-case" else "theme"
    known = index.coded.codebook.cases if what == "case" else index.coded.codebook.codes
    order = {k: n for n, k in enumerate(known)}
    rows: list[list[Any]] = [["claim", what, f"claim_{what}", "anchors", *STANCE_COLUMNS, "documents"]]
    for claim in claims:
        own = claim.case_ids if what == "case" else claim.theme_ids
        passages = _passages(claim, index, limit)
        keys: set[str] = set()
        for _, _, cases, themes in passages:
            keys |= cases if what == "case" else themes
        for key in sorted(keys, key=lambda k: (k not in own, order.get(k, len(order)), k)):
            hits = [(s, p) for s, p, cases, themes in passages if key in (cases if what == "case" else themes)]
            n = {s: sum(1 for x, _ in hits if x == s) for s in ("anchor", *STANCE_COLUMNS)}
            rows.append([claim.id, key, key in own, n["anchor"], *(n[s] for s in STANCE_COLUMNS),
                         len({p.doc for _, p in hits})])
    return rows


def claim_node(claim_id: str) -> str:
    return f"claim:{claim_id}"


def segment_node(segment_id: str) -> str:
    return f"segment:{segment_id}"


def add_claims(G: nx.Graph, claims: Sequence[Claim], index: EvidenceIndex, *, with_evidence: bool = False,
               limit: int | None = LIMIT, documents: Collection[str] | None = None) -> nx.Graph:
    """``G`` with a node per claim (``claim:<id>``, kind ``claim``, the shortened statement as
    ``label``, the full ``statement``, ``anchors``, counts per stance, ``segments`` its
    passages) linked to its cases and themes (relation ``claim-case``/``claim-theme``,
    ``count`` passages, ``weight`` their share of the claim's passages; ``claimed`` when
    the claim declares or takes it from its anchors). A case or theme missing from ``G``
    is added. ``with_evidence`` adds each passage as a ``segment`` node (doc, line, text,
    stance) linked to its claim (relation ``evidence``, ``stance``). ``documents`` (ids, as
    :func:`qualcode.graph.selected_documents` gives for ``--docs``/``--where``): only passages
    in those documents count, and a claim with none there is left out."""
    book = index.coded.codebook
    for claim in claims:
        passages = _passages(claim, index, limit)
        if documents is not None:
            passages = [p for p in passages if p[1].doc in documents]
            if not passages:
                continue
        n = {s: sum(1 for x, *_ in passages if x == s) for s in ("anchor", *STANCE_COLUMNS)}
        cn = claim_node(claim.id)
        G.add_node(cn, label=short_statement(claim.statement, CLAIM_LABEL_LENGTH), kind="claim", statement=claim.statement,
                   anchors=n["anchor"], supports=n["supports"], contradicts=n["contradicts"],
                   qualifies=n["qualifies"], related=n["related"], segments=len(passages),
                   documents=len({p.doc for _, p, *_ in passages}), color=CLAIM_COLOR)
        for what, own, make in (("case", claim.case_ids, case_node), ("theme", claim.theme_ids, theme_node)):
            counts: dict[str, int] = {}
            for _, _, cases, themes in passages:
                for k in cases if what == "case" else themes:
                    counts[k] = counts.get(k, 0) + 1
            for k in own:  # under a filter, only those the filtered graph has
                if documents is None or make(k) in G:
                    counts.setdefault(k, 0)
            for k, count in counts.items():
                node = make(k)
                if node not in G:
                    G.add_node(node, **_missing_node(what, k, book))
                G.add_edge(cn, node, relation=f"claim-{what}", count=count,
                           weight=round(count / len(passages), 4) if passages else 0.0,
                           weight_measure="share_of_claim_passages", claimed=k in own)
        if with_evidence:
            for stance, p, *_ in passages:
                sn = segment_node(f"{p.doc}:{p.start}-{p.end}")
                if sn not in G:
                    G.add_node(sn, label=f"{p.doc}:{p.line}", kind="segment", doc=p.doc, line=p.line, start=p.start,
                               end=p.end, text=" ".join(p.text.split()), color=SEGMENT_COLOR, segments=1)
                G.add_edge(cn, sn, relation="evidence", stance=stance, count=1, weight=1.0,
                           weight_measure="passage")
    for n, a in G.nodes(data=True):
        a["isolated"] = G.degree(n) == 0
    return G


def _missing_node(what: str, key: str, book: Any) -> dict[str, Any]:
    if what == "case":
        case = book.cases.get(key)
        return {"label": case.name if case else key, "kind": "case", "case_kind": case.kind if case else "",
                "parent": (case.parent or "") if case else "", "segments": 0, "context_segments": 0,
                "color": CASE_KIND_COLORS.get(case.kind, OTHER_CASE_COLOR) if case else OTHER_CASE_COLOR}
    code = book.codes.get(key)
    return {"label": code.label if code else key, "kind": "theme", "segments": 0, "documents": 0, "units": 0,
            "definition": code.definition if code else "", "parent": (code.parent or "") if code else "",
            "color": code.color.lower() if code else "#808080"}

