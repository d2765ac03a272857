"""Theme networks: which themes co-occur, and in which cases and documents they show up.

One pass over the coded segments (:func:`tally`) counts everything; the graph
(:func:`graph_from_tally`) and the matrices (``qualcode.export.tables``) are read off
that tally. Co-occurrence is counted per unit (sentence, paragraph, section,
document): segments are grouped into units, each unit's set of codes becomes a row
of a sparse unit x code incidence matrix ``X``, and ``X.T @ X`` gives, for every
pair of codes, the number of units holding both (its diagonal: the units holding
each code). No pair of segments is ever compared.

Node ids are ``theme:<code id>``, ``case:<case id>`` and ``doc:<document id>``.
One order everywhere: themes and cases in codebook order (as in the coding records;
codes or cases the codebook lacks come after, by id), documents by id; nodes are
inserted themes, cases, documents, and edges in the order of their nodes, so every
export of the same input is the same.
"""
from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Collection, Iterable, Literal, Mapping, NamedTuple, get_args

import networkx as nx
import numpy as np
from scipy import sparse

from qualcode import measures
from qualcode.errors import Problem, QualcodeError
from qualcode.model import CodedSegment, Codebook, Document, Match, Segment

Unit = Literal["sentence", "paragraph", "section", "document"]
NodeKind = Literal["theme", "case", "document"]
UNITS: tuple[str, ...] = get_args(Unit)
NODE_KINDS: tuple[str, ...] = get_args(NodeKind)

DOCUMENT_COLOR = "#a0a0a0"
UNKNOWN_THEME_COLOR = "#808080"  # a code the segments use but the codebook lacks
# case nodes are coloured by case kind: blues and teals, apart from the codebook's theme colours
CASE_KIND_COLORS = {"country": "#08306b", "region": "#2171b5", "state": "#4292c6", "province": "#4292c6",
                    "federal-district": "#4292c6", "city": "#17becf", "town": "#9ecae1"}
OTHER_CASE_COLOR = "#6baed6"
LABEL_LENGTH = 45  # a document's label: its title shortened to this many characters
LAYOUT_SEED = 42
MIN_SIZE, MAX_SIZE = 5.0, 30.0  # node sizes in Gephi's units
WEIGHT_MEASURES = {"cooccurrence": "c_coefficient", "theme-case": "share_of_theme_segments",
                   "theme-document": "share_of_theme_segments"}

Documents = Mapping[str, Document] | Iterable[Document] | None
Where = Mapping[str, str | Collection[str]]

_UNIT_KEYS = {
    "sentence": lambda s: (s.doc, s.id),
    "paragraph": lambda s: (s.doc, s.paragraph),
    "section": lambda s: (s.doc, s.section_start),
    "document": lambda s: s.doc,
}


def theme_node(code_id: str) -> str:
    return f"theme:{code_id}"


def case_node(case_id: str) -> str:
    return f"case:{case_id}"


def doc_node(doc_id: str) -> str:
    return f"doc:{doc_id}"


class Pair(NamedTuple):
    """Two themes (``theme_a`` before ``theme_b`` in codebook order) and how they co-occur over ``n_units`` units."""

    theme_a: str
    theme_b: str
    count: int  # units holding both
    n_a: int  # units holding theme_a
    n_b: int
    c_coefficient: float
    lift: float
    p_value: float
    unequal: bool  # one theme is in more than five times as many units: the c-coefficient misleads
    nested: bool  # one theme is an ancestor of the other in the codebook


@dataclass(frozen=True)
class Tally:
    """Everything the graph and the matrices are read from, counted in one pass.

    Theme-case and theme-document counts are numbers of segments; co-occurrence
    counts are numbers of units. ``themes`` are the codes used, in codebook order
    (see :func:`codebook_order`), and index the rows and columns of ``cooccurrence``.
    """

    codebook: Codebook
    documents: dict[str, Document]
    unit: str
    roll_up: str | None
    n_units: int
    themes: tuple[str, ...]
    cooccurrence: np.ndarray
    theme_segments: dict[str, int]
    theme_documents: dict[str, int]
    theme_doc: dict[tuple[str, str], int]
    theme_case_named: dict[tuple[str, str], int]
    theme_case_context: dict[tuple[str, str], int]
    case_named: dict[str, int]  # segments naming the case, coded or not
    case_context: dict[str, int]
    doc_segments: dict[str, int]

    @property
    def theme_units(self) -> dict[str, int]:
        return dict(zip(self.themes, np.diag(self.cooccurrence).tolist()))

    @property
    def cases(self) -> list[str]:
        """The cases (rolled up) that hold evidence of some theme, in codebook order."""
        return codebook_order({c for _, c in self.theme_case_named} | {c for _, c in self.theme_case_context},
                              self.codebook.cases)

    @property
    def docs(self) -> list[str]:
        """The documents that hold evidence of some theme, sorted."""
        return sorted({d for _, d in self.theme_doc})

    def pairs(self, *, min_count: int = 0) -> list[Pair]:
        """Every pair of themes co-occurring in at least ``min_count`` units, with its measures."""
        return [p for p in self._all_pairs if p.count >= min_count]

    @cached_property
    def _all_pairs(self) -> list[Pair]:
        """All pairs, measured once: the graph and the matrices share them."""
        i, j = np.triu_indices(len(self.themes), 1)
        n12 = self.cooccurrence[i, j]
        diag = np.diag(self.cooccurrence)
        n1, n2, n = diag[i], diag[j], self.n_units
        # the exact p-value is the costly measure: ask scipy once per distinct (n12, n1, n2)
        triples, back = np.unique(np.stack([n12, n1, n2]), axis=1, return_inverse=True)
        p = measures.p_value(triples[0], triples[1], triples[2], n)[back.ravel()] if len(n12) else n12 * 0.0
        columns = (
            n12.tolist(), n1.tolist(), n2.tolist(),
            measures.c_coefficient(n12, n1, n2).tolist(), measures.lift(n12, n1, n2, n).tolist(),
            p.tolist(), measures.unequal(n1, n2).tolist(),
        )
        ancestors = {t: set(self.codebook.code_ancestors(t)) for t in self.themes}
        out = []
        for a, b, *values in zip(i.tolist(), j.tolist(), *columns):
            ta, tb = self.themes[a], self.themes[b]
            out.append(Pair(ta, tb, *values, tb in ancestors[ta] or ta in ancestors[tb]))
        return out


def tally(
    segments: Iterable[CodedSegment],
    codebook: Codebook,
    documents: Documents = None,
    *,
    unit: Unit = "paragraph",
    roll_up: str | None = None,
    docs: Collection[str] | None = None,
    where: Where | None = None,
) -> Tally:
    """Count co-occurrence per ``unit`` and theme evidence per case and document.

    Pass all segments, coded or not: the uncoded ones count as units too, so that
    ``n_units`` (the N of the measures) is the size of the corpus. ``docs`` keeps
    only some documents (see :func:`select_documents`), and so does ``where``, on
    front-matter fields (see :func:`select_where`); ``roll_up`` replaces each
    case by its nearest ancestor-or-self of that case kind (see :func:`roll_up_map`).
    Warns (does not fail) when fewer than two themes are coded.
    """
    _check_choice("unit", unit, UNITS)
    documents = documents_by_id(documents)
    if docs is not None:
        segments = select_documents(segments, documents, docs)
    if where:
        segments = select_where(segments, documents, where)
    rolled = roll_up_map(codebook, roll_up) if roll_up is not None else None
    key_of = _UNIT_KEYS[unit]
    units: dict[Any, int] = {}
    codes_ix: dict[str, int] = {}
    docs_ix: dict[str, int] = {}
    cases_ix: dict[str, int] = {}
    seg_unit: list[int] = []
    seg_doc: list[int] = []
    coded = _Incidence()  # segment -> code
    named = _Incidence()  # segment -> case it names (rolled up)
    around = _Incidence()  # segment -> case of its context that it does not name
    for i, cs in enumerate(segments):
        s = cs.segment
        seg_unit.append(units.setdefault(key_of(s), len(units)))
        seg_doc.append(docs_ix.setdefault(s.doc, len(docs_ix)))
        if cs.codes:
            coded.add(i, [codes_ix.setdefault(c, len(codes_ix)) for c in cs.codes])
        if cs.cases or cs.context_cases:
            here = {rolled.get(c, c) for c in cs.cases} if rolled else set(cs.cases)
            there = ({rolled.get(c, c) for c in cs.context_cases} if rolled else set(cs.context_cases)) - here
            if here:
                named.add(i, [cases_ix.setdefault(c, len(cases_ix)) for c in here])
            if there:
                around.add(i, [cases_ix.setdefault(c, len(cases_ix)) for c in there])
    n_seg = len(seg_unit)
    code_names, doc_names, case_names = list(codes_ix), list(docs_ix), list(cases_ix)
    S = coded.matrix(n_seg, len(code_names))
    N = named.matrix(n_seg, len(case_names))
    X = around.matrix(n_seg, len(case_names))
    by_unit = _binary(_onehot(seg_unit, len(units)).T @ S)  # unit x code, 0/1
    themes = tuple(codebook_order(code_names, codebook.codes))
    order = [codes_ix[t] for t in themes]
    cooc = (by_unit.T @ by_unit).toarray()[np.ix_(order, order)] if themes else np.zeros((0, 0), np.int64)
    theme_doc = _pairs_of(S.T @ _onehot(seg_doc, len(doc_names)), code_names, doc_names)
    if not themes:
        warnings.warn("no coded segments: the graph and the matrices are empty", stacklevel=2)
    elif len(themes) == 1:
        warnings.warn(f"only one theme ({themes[0]!r}) is coded: there is no co-occurrence to show", stacklevel=2)
    return Tally(
        codebook=codebook, documents=documents, unit=unit, roll_up=roll_up, n_units=len(units),
        themes=themes, cooccurrence=cooc,
        theme_segments=dict(zip(code_names, np.asarray(S.sum(axis=0)).ravel().tolist())),
        theme_documents=dict(Counter(c for c, _ in theme_doc)), theme_doc=theme_doc,
        theme_case_named=_pairs_of(S.T @ N, code_names, case_names),
        theme_case_context=_pairs_of(S.T @ X, code_names, case_names),
        case_named=_nonzero(dict(zip(case_names, np.asarray(N.sum(axis=0)).ravel().tolist()))),
        case_context=_nonzero(dict(zip(case_names, np.asarray(X.sum(axis=0)).ravel().tolist()))),
        doc_segments=dict(zip(doc_names, np.bincount(np.asarray(seg_doc, dtype=np.int64),
                                                     minlength=len(doc_names)).tolist())),
    )


class _Incidence:
    """Rows and columns of a sparse 0/1 matrix, collected one row at a time."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []

    def add(self, row: int, cols: list[int]) -> None:
        self.rows.extend([row] * len(cols))
        self.cols.extend(cols)

    def matrix(self, n_rows: int, n_cols: int) -> sparse.csr_matrix:
        data = np.ones(len(self.rows), dtype=np.int64)
        return _binary(sparse.csr_matrix((data, (self.rows, self.cols)), shape=(n_rows, n_cols)))


def _onehot(cols: list[int], n_cols: int) -> sparse.csr_matrix:
    """Row i has a single 1, in column ``cols[i]`` (segment -> its unit or document)."""
    n = len(cols)
    return sparse.csr_matrix((np.ones(n, dtype=np.int64), (np.arange(n), cols)), shape=(n, n_cols))


def _binary(m: sparse.spmatrix) -> sparse.csr_matrix:
    """``m`` with every stored value set to 1 (a code twice in a unit counts once)."""
    m = sparse.csr_matrix(m)
    m.sum_duplicates()
    m.data[:] = 1
    return m


def _pairs_of(m: sparse.spmatrix, row_names: list[str], col_names: list[str]) -> dict[tuple[str, str], int]:
    m = sparse.coo_matrix(m)
    return {(row_names[r], col_names[c]): v
            for r, c, v in zip(m.row.tolist(), m.col.tolist(), m.data.tolist()) if v}


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def build_graph(
    segments: Iterable[CodedSegment],
    codebook: Codebook,
    documents: Documents = None,
    *,
    unit: Unit = "paragraph",
    roll_up: str | None = None,
    min_weight: float = 0.0,
    min_count: int = 0,
    kinds: Collection[NodeKind] | None = None,
    docs: Collection[str] | None = None,
    where: Where | None = None,
    include_nested: bool = False,
) -> nx.Graph:
    """The theme network of a coded corpus: themes, cases and documents, and their links.

    See :func:`tally` for ``unit``, ``roll_up``, ``docs`` and ``where`` and
    :func:`graph_from_tally` for the filters and for what nodes and edges hold.
    """
    counts = tally(segments, codebook, documents, unit=unit, roll_up=roll_up, docs=docs, where=where)
    return graph_from_tally(counts, min_weight=min_weight, min_count=min_count, kinds=kinds,
                            include_nested=include_nested)


def graph_from_tally(
    t: Tally, *, min_weight: float = 0.0, min_count: int = 0, kinds: Collection[NodeKind] | None = None,
    include_nested: bool = False,
) -> nx.Graph:
    """Build the graph from a tally.

    Nodes: every coded theme (``label``, ``kind``, ``segments``, ``documents``,
    ``units``, ``definition``, ``parent``, ``color`` from the codebook), every case and
    document holding evidence of a theme (cases: ``case_kind``, ``parent``,
    ``segments`` naming it, ``context_segments``, ``color`` by case kind; documents:
    shortened title as ``label``, the full ``title``, ``doc_kind``, ``segments`` and
    every other front-matter field, see :func:`document_attributes`); every node has
    ``isolated`` (no edge).

    Edges carry ``relation``, ``count``, a ``weight`` in [0, 1] comparable within its
    relation and ``weight_measure`` naming it (:data:`WEIGHT_MEASURES`): theme-theme
    (``cooccurrence``) the c-coefficient, plus ``lift``, ``p_value``, ``unequal``,
    ``nested``; theme-case the share of the theme's segments that name the case or sit
    in its context (``named`` and ``context`` apart); theme-document the share of the
    theme's segments in that document. A theme paired with its own ancestor always
    co-occurs, so such pairs are left out unless ``include_nested``.

    Edges below ``min_count`` or ``min_weight`` are left out; cases and documents
    left without an edge go with them, themes stay (``isolated``). ``kinds`` keeps
    only nodes of those kinds and the edges between them (cases and documents are the
    ones holding theme evidence either way).
    """
    kinds = _check_kinds(kinds)
    nodes: dict[str, dict[str, Any]] = {}
    for kind, make in (("theme", _theme_nodes), ("case", _case_nodes), ("document", _doc_nodes)):
        if kind in kinds:
            nodes.update(make(t))
    edges: list[tuple[str, str, dict[str, Any]]] = []
    if "theme" in kinds:
        edges += _cooccurrence_edges(t, max(1, min_count), include_nested)
    if "case" in kinds and "theme" in kinds:
        edges += _case_edges(t)
    if "document" in kinds and "theme" in kinds:
        edges += _doc_edges(t)
    kept = [e for e in edges if e[2]["count"] >= min_count and e[2]["weight"] >= min_weight]
    linked = {n for u, v, _ in kept for n in (u, v)}
    if "theme" in kinds:  # a case or document node is there for its links to themes
        nodes = {n: a for n, a in nodes.items() if a["kind"] == "theme" or n in linked}
    G = nx.Graph(unit=t.unit, roll_up=t.roll_up or "", n_units=t.n_units,
                 description=f"qualcode theme network: co-occurrence per {t.unit} over {t.n_units} units")
    G.add_nodes_from((n, {**a, "isolated": n not in linked}) for n, a in nodes.items())
    rank = {n: i for i, n in enumerate(G)}
    G.add_edges_from(sorted(((u, v, a) if rank[u] < rank[v] else (v, u, a) for u, v, a in kept),
                            key=lambda e: (rank[e[0]], rank[e[1]])))
    return G


def codebook_order(ids: Iterable[str], known: Mapping[str, Any]) -> list[str]:
    """``ids`` in the order of ``known`` (the codebook's codes or cases), unknown ids after, sorted."""
    rank = {k: i for i, k in enumerate(known)}
    return sorted(set(ids), key=lambda x: (x not in rank, rank.get(x, 0), x))


def _theme_nodes(t: Tally) -> dict[str, dict[str, Any]]:
    units, out = t.theme_units, {}
    for th in t.themes:
        code = t.codebook.codes.get(th)
        out[theme_node(th)] = {
            "label": code.label if code else th, "kind": "theme",
            "segments": t.theme_segments[th], "documents": t.theme_documents[th], "units": units[th],
            "definition": code.definition if code else "", "parent": (code.parent or "") if code else "",
            "color": code.color.lower() if code else UNKNOWN_THEME_COLOR,
        }
    return out


def _case_nodes(t: Tally) -> dict[str, dict[str, Any]]:
    out = {}
    for c in t.cases:
        case = t.codebook.cases.get(c)
        out[case_node(c)] = {
            "label": case.name if case else c, "kind": "case", "case_kind": case.kind if case else "",
            "parent": (case.parent or "") if case else "", "segments": t.case_named.get(c, 0),
            "context_segments": t.case_context.get(c, 0),
            "color": CASE_KIND_COLORS.get(case.kind, OTHER_CASE_COLOR) if case else OTHER_CASE_COLOR,
        }
    return out


def _doc_nodes(t: Tally) -> dict[str, dict[str, Any]]:
    out = {}
    for d in t.docs:
        doc = t.documents.get(d)
        out[doc_node(d)] = {
            "label": short_label(doc) if doc else d, "kind": "document", "title": doc.title if doc else d,
            "doc_kind": doc.kind if doc else "", "segments": t.doc_segments[d], "color": DOCUMENT_COLOR,
        }
        out[doc_node(d)].update(document_attributes(doc, out[doc_node(d)]) if doc else {})
    return out


def short_label(doc: Document) -> str:
    """A document's node label: its front-matter ``label``, else its title without the
    subtitle (after ``": "``), cut at a word to :data:`LABEL_LENGTH` characters with "…"."""
    if doc.meta.get("label"):
        return str(doc.meta["label"])
    title = doc.title.split(": ", 1)[0].strip() or doc.title
    if len(title) <= LABEL_LENGTH:
        return title
    cut = title[: LABEL_LENGTH - 1]
    if " " in cut.strip():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip(" ,;:-–—(") + "…"


def document_attributes(doc: Document, taken: Collection[str]) -> dict[str, Any]:
    """A document's front-matter fields as node attributes (``kind`` and ``title`` are
    ``doc_kind`` and ``title``; a field whose name the node already uses gets ``meta_``)."""
    out = {}
    for k, v in doc.meta.items():
        if k in ("kind", "title"):
            continue
        out[f"meta_{k}" if k in taken else k] = v
    return out


def _cooccurrence_edges(t: Tally, min_count: int, include_nested: bool) -> list[tuple[str, str, dict[str, Any]]]:
    return [(theme_node(p.theme_a), theme_node(p.theme_b), {
        "relation": "cooccurrence", "weight": p.c_coefficient, "weight_measure": WEIGHT_MEASURES["cooccurrence"],
        "count": p.count,
        "c_coefficient": p.c_coefficient, "lift": p.lift, "p_value": p.p_value,
        "unequal": p.unequal, "nested": p.nested,
    }) for p in t.pairs(min_count=min_count) if include_nested or not p.nested]


def _case_edges(t: Tally) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for th, c in t.theme_case_named.keys() | t.theme_case_context.keys():
        n, x = t.theme_case_named.get((th, c), 0), t.theme_case_context.get((th, c), 0)
        out.append((theme_node(th), case_node(c), {
            "relation": "theme-case", "weight": (n + x) / t.theme_segments[th],
            "weight_measure": WEIGHT_MEASURES["theme-case"], "count": n + x,
            "named": n, "context": x,
        }))
    return out


def _doc_edges(t: Tally) -> list[tuple[str, str, dict[str, Any]]]:
    return [(theme_node(th), doc_node(d), {
        "relation": "theme-document", "weight": n / t.theme_segments[th],
        "weight_measure": WEIGHT_MEASURES["theme-document"], "count": n,
    }) for (th, d), n in t.theme_doc.items()]


def documents_by_id(documents: Documents) -> dict[str, Document]:
    if documents is None:
        return {}
    if isinstance(documents, Mapping):
        return dict(documents)
    return {d.id: d for d in documents}


def selected_documents(segments: Iterable[CodedSegment], documents: Documents, *,
                       docs: Collection[str] | None = None, where: Where | None = None) -> set[str] | None:
    """The ids of the documents ``docs`` and ``where`` keep (as :func:`build_graph` selects
    them), None when neither is given (every document)."""
    if docs is None and not where:
        return None
    segments = list(segments)
    if docs is not None:
        segments = select_documents(segments, documents, docs)
    if where:
        segments = select_where(segments, documents, where)
    return {s.segment.doc for s in segments}


def select_documents(
    segments: Iterable[CodedSegment], documents: Documents, docs: Collection[str]
) -> list[CodedSegment]:
    """The segments of the documents picked by ``docs``.

    Each entry picks the documents whose kind (front matter ``kind``, e.g.
    ``interview``) equals it or whose id starts with it (e.g. ``interviews/``). An
    entry that picks nothing is an error, since it is most likely a typo.
    """
    segments = list(segments)
    documents = documents_by_id(documents)
    ids = {s.segment.doc for s in segments} | set(documents)
    kind = {d: documents[d].kind if d in documents else "" for d in ids}
    chosen: set[str] = set()
    for entry in [docs] if isinstance(docs, str) else docs:
        picked = {d for d in ids if kind[d] == entry or d.startswith(entry)}
        if not picked:
            known = ", ".join(sorted({k for k in kind.values() if k})) or "none"
            raise QualcodeError(f"docs: {entry!r} is neither a document kind ({known}) nor the start of a document id")
        chosen |= picked
    return [s for s in segments if s.segment.doc in chosen]


def select_where(segments: Iterable[CodedSegment], documents: Documents, where: Where) -> list[CodedSegment]:
    """The segments of the documents whose front matter matches ``where``.

    ``where`` maps a field to a value or to several (any of them matches); every field
    must match. Values compare as text (``true``/``false`` for booleans); a list field
    matches when one of its items does. A field no document has, or a value no document
    holds, is an error listing what there is, since it is most likely a typo.
    """
    segments = list(segments)
    documents = documents_by_id(documents)
    ids = {s.segment.doc for s in segments}
    values = {d: _meta_values(documents[d].meta) if d in documents else {} for d in ids}
    chosen = set(ids)
    problems = []
    for key, wanted in where.items():
        wanted = {wanted} if isinstance(wanted, str) else {str(w) for w in wanted}
        held = sorted({v for d in ids for v in values[d].get(key, ())})
        if not held:
            fields = sorted({k for d in ids for k in values[d]})
            problems.append(f"where: no document has the field {key!r} (fields: {', '.join(fields) or 'none'})")
            continue
        for w in sorted(wanted - set(held)):
            problems.append(f"where: no document has {key}={w!r} ({key} values: {', '.join(held)})")
        chosen &= {d for d in ids if wanted & values[d].get(key, set())}
    if problems:
        raise QualcodeError(problems)
    return [s for s in segments if s.segment.doc in chosen]


def _meta_values(meta: Mapping[str, Any]) -> dict[str, set[str]]:
    def text(v: Any) -> str:
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    return {k: {text(x) for x in v} if isinstance(v, (list, tuple, set)) else {text(v)}
            for k, v in meta.items() if v is not None}


def roll_up_map(codebook: Codebook, kind: str) -> dict[str, str]:
    """Each case id -> its nearest ancestor-or-self whose case kind is ``kind`` (itself if none).

    ``roll_up_map(cb, "state")["teziutlan"] == "puebla"``: a city's evidence counts for its state.
    """
    kinds = sorted({c.kind for c in codebook.cases.values()})
    if kind not in kinds:
        raise QualcodeError(f"roll-up: {kind!r} is not a case kind of the codebook (kinds: {', '.join(kinds) or 'none'})")
    out = {}
    for cid in codebook.cases:
        chain = (cid, *codebook.case_ancestors(cid))
        out[cid] = next((c for c in chain if codebook.cases[c].kind == kind), cid)
    return out


RING_RADIUS = {"case": 1.6, "document": 2.1, "claim": 1.3, "segment": 2.6}  # themes fill the unit disc


def layout(G: nx.Graph, *, seed: int = LAYOUT_SEED, scale: float = 1000.0) -> dict[Any, tuple[float, float]]:
    """Node positions that keep the kinds apart, seeded and rounded to 0.01, spanning ``[-scale, scale]``.

    Themes are laid out by ``networkx.forceatlas2_layout`` (Gephi's ForceAtlas2) on
    their co-occurrence edges alone, then spread over a disc in the middle (each keeps
    its direction, :func:`_spread`); cases sit on a ring
    around it and documents on an outer ring, each at the angle of the weighted
    centre of the themes it is linked to (so a case lies beside its themes), spaced
    evenly in that order so that none overlap; claims sit on a ring between the themes
    and the cases, at the angle of their themes and cases, and evidence passages
    outside everything, beside their claims (:data:`RING_RADIUS`). Laid out together, every case and
    document linked to most themes would pull everything into one hairball. A graph
    without themes, or with nodes of other kinds, gets ForceAtlas2 for all its nodes.
    The same graph always gets the same positions.
    """
    nodes = list(G)
    if not nodes:
        return {}
    kind = {n: G.nodes[n].get("kind") for n in nodes}
    themes = [n for n in nodes if kind[n] == "theme"]
    ring = {k: [n for n in nodes if kind[n] == k] for k in RING_RADIUS}
    if not themes or len(themes) + sum(map(len, ring.values())) < len(nodes):
        xy = _forceatlas2(G, nodes, seed)
    else:
        pos = _spread(dict(zip(themes, _forceatlas2(G.subgraph(themes), themes, seed))))
        theme_pos = dict(pos)
        for k, members in ring.items():  # cases and documents by their themes; claims, passages by all placed
            pos.update(_ring(G, members, theme_pos if k in ("case", "document") else dict(pos), RING_RADIUS[k]))
        xy = np.array([pos[n] for n in nodes])
    xy = nx.rescale_layout(xy, scale=scale) if len(nodes) > 1 else np.zeros((1, 2))
    return {n: (round(float(x), 2) + 0.0, round(float(y), 2) + 0.0) for n, (x, y) in zip(nodes, xy)}


def _forceatlas2(G: nx.Graph, nodes: list[Any], seed: int) -> np.ndarray:
    """Seeded ForceAtlas2 positions of ``nodes`` (edge weights; node sizes against overlap)."""
    if len(nodes) == 1:
        return np.zeros((1, 2))
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_weighted_edges_from((u, v, float(w)) for u, v, w in G.edges(data="weight", default=1.0))
    sizes = node_sizes(G)
    # start on a circle in graph order, turned and shaken a little by the seed
    shake = np.random.default_rng(seed).uniform(-0.1, 0.1, len(nodes))
    angles = np.linspace(0, 2 * math.pi, len(nodes), endpoint=False) + shake
    start = {n: np.array([math.cos(a), math.sin(a)]) for n, a in zip(nodes, angles)}
    pos = nx.forceatlas2_layout(H, pos=start, max_iter=300, seed=seed, weight="weight", scaling_ratio=2.0,
                                gravity=1.0, node_size={n: sizes[n] / MAX_SIZE for n in nodes})
    return np.array([pos[n] for n in nodes], dtype=float)


def _spread(pos: dict[Any, np.ndarray]) -> dict[Any, np.ndarray]:
    """The theme positions in the unit disc, each at its angle about their centre and
    at a distance set by its rank, evenly over the disc's area: ForceAtlas2 leaves a
    dense core with a few far outliers, which drawn to scale hides the core."""
    centre = np.mean(list(pos.values()), axis=0)
    rel = {n: p - centre for n, p in pos.items()}
    ranked = sorted(rel, key=lambda n: (math.hypot(*rel[n]), list(rel).index(n)))
    out = {}
    for i, n in enumerate(ranked):
        r = math.sqrt((i + 0.5) / len(ranked))
        a = math.atan2(rel[n][1], rel[n][0])
        out[n] = np.array([r * math.cos(a), r * math.sin(a)])
    return out


def _ring(G: nx.Graph, members: list[Any], theme_pos: dict[Any, np.ndarray], radius: float) -> dict[Any, np.ndarray]:
    """``members`` on a circle of ``radius``, in the order of the angle of the weighted
    centre of their neighbours placed in ``theme_pos``, evenly spaced and turned to lie as
    near those angles as they can."""
    if not members:
        return {}
    angle = {}
    for n in members:
        links = [(theme_pos[m], float(G.edges[n, m].get("weight", 1.0))) for m in G[n] if m in theme_pos]
        total = sum(w for _, w in links)
        centre = sum((p * w for p, w in links), np.zeros(2)) / total if total > 0 else np.zeros(2)
        angle[n] = math.atan2(centre[1], centre[0])
    ordered = sorted(members, key=lambda n: (angle[n], members.index(n)))
    slots = np.arange(len(ordered)) * 2 * math.pi / len(ordered)
    turn = math.atan2(sum(math.sin(angle[n] - s) for n, s in zip(ordered, slots)),
                      sum(math.cos(angle[n] - s) for n, s in zip(ordered, slots)))
    return {n: radius * np.array([math.cos(s + turn), math.sin(s + turn)]) for n, s in zip(ordered, slots)}


def node_sizes(G: nx.Graph) -> dict[Any, float]:
    """Node sizes for drawing, on one scale for every kind: ``size`` where given, else
    ``MIN_SIZE`` plus an area proportional to ``segments`` (the largest node of the
    graph gets ``MAX_SIZE``), else ``MIN_SIZE``."""
    def number(v: Any) -> bool:
        return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))

    top = max((float(a["segments"]) for _, a in G.nodes(data=True) if number(a.get("segments"))), default=0.0)
    out = {}
    for n, a in G.nodes(data=True):
        if number(a.get("size")):
            out[n] = float(a["size"])
        elif top > 0 and number(a.get("segments")):
            share = max(0.0, float(a["segments"])) / top
            out[n] = round(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * math.sqrt(share), 2)
        else:
            out[n] = MIN_SIZE
    return out


def laid_out(G: nx.Graph, *, seed: int = LAYOUT_SEED) -> nx.Graph:
    """:func:`plain_graph` of ``G`` with ``x``, ``y`` (:func:`layout`) and ``size``
    (:func:`node_sizes`) on every node that lacks them: the graph as it opens in Gephi."""
    H = plain_graph(G)
    sizes = node_sizes(H)
    positions = layout(H, seed=seed) if any("x" not in a or "y" not in a for _, a in H.nodes(data=True)) else {}
    for n, a in H.nodes(data=True):
        if "x" not in a or "y" not in a:
            a["x"], a["y"] = positions[n]
        a.setdefault("size", sizes[n])
    return H


def plain_graph(G: nx.Graph) -> nx.Graph:
    """A copy, nodes and edges in the graph's order, with plain values that every file format can hold.

    numpy scalars become Python numbers, lists, tuples and sets ``; ``-joined strings,
    dicts JSON strings; None and non-finite numbers are dropped.
    """
    H = nx.DiGraph() if G.is_directed() else nx.Graph()
    H.graph.update(_plain_attrs(G.graph))
    for n in G:
        H.add_node(n, **_plain_attrs(G.nodes[n]))
    for u, v, a in G.edges(data=True):  # undirected: u is the earlier node
        H.add_edge(u, v, **_plain_attrs(a))
    return H


def _plain_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in attrs.items():
        v = plain_value(v)
        if v is not None:
            out[str(k)] = v
    return out


def plain_value(v: Any) -> Any:
    """``v`` as a bool, int, float or str; None when it cannot be stored (None, NaN, inf)."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v, key=str) if isinstance(v, (set, frozenset)) else v
        return "; ".join(str(plain_value(x)) for x in items)
    if isinstance(v, Mapping):
        return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)
    return str(v)


def segments_from_records(records: Iterable[Mapping[str, Any]], *, source: str = "<records>") -> list[CodedSegment]:
    """Coded segments back from the coding step's JSONL records (``CodedSegment.to_record``).

    Records carry the section's heading text but not its offset, so when
    ``section_start`` is absent each run of consecutive segments of a document under
    the same heading becomes one section, starting at its first segment. A missing
    key raises a QualcodeError naming ``source`` and the record's number.
    """
    out: list[CodedSegment] = []
    runs: dict[str, tuple[str | None, int | None]] = {}  # doc -> (section text, its start)
    for n, r in enumerate(records, 1):
        try:
            doc, section = r["doc"], r["section"]
            if "section_start" in r:
                start_of_section = r["section_start"]
            elif section is None:
                start_of_section = None
            elif doc in runs and runs[doc][0] == section:
                start_of_section = runs[doc][1]
            else:
                start_of_section = r["start"]
            runs[doc] = (section, start_of_section)
            seg = Segment(doc=doc, id=r["id"], start=r["start"], end=r["end"], line=r["line"], kind=r["kind"],
                          paragraph=r["paragraph"], section=section, section_start=start_of_section, item=r["item"],
                          speaker=r.get("speaker"))
            out.append(CodedSegment(
                segment=seg, text=r["text"], codes=tuple(sorted(set(r["codes"]))), cases=tuple(r["cases"]),
                context_cases=tuple(r["context_cases"]),
                matches=tuple(_match(m, "code") for m in r["matches"]),
                case_matches=tuple(_match(m, "case") for m in r["case_matches"]),
            ))
        except KeyError as e:
            raise QualcodeError(Problem(source, f"record {n} has no key {e.args[0]!r}", line=n)) from None
        except TypeError as e:
            raise QualcodeError(Problem(source, f"record {n} is malformed: {e}", line=n)) from None
    return out


def _match(m: Mapping[str, Any], key: str) -> Match:
    return Match(code=m[key], pattern=m["pattern"], rule=m["rule"], start=m["start"], end=m["end"], text=m["text"],
                 source=m.get("source", "rule"), coder=m.get("coder", ""), score=m.get("score"))


def _check_choice(what: str, value: Any, known: tuple[str, ...]) -> None:
    if value not in known:
        raise QualcodeError(f"{what}: unknown value {value!r} (choose one of {', '.join(known)})")


def _check_kinds(kinds: Collection[str] | None) -> set[str]:
    if kinds is None:
        return set(NODE_KINDS)
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    for k in sorted(kinds):
        _check_choice("kinds", k, NODE_KINDS)
    return kinds
