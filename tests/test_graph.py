"""Theme networks on a hand-made corpus whose counts and measures are worked out by hand.

The corpus (3 documents, 10 segments; codes include their ancestors, so every
``trust`` segment is also ``cooperation``):

    doc                    seg para section codes                       named cases          context
    paper/ruiz-duran.md    s1  1    -       cooperation finance trust   teziutlan
                           s2  1    -       finance                                          puebla
                           s3  2    100     learning                    guadalajara
                           s4  2    100     cooperation trust
                           s5  3    100     -
    interviews/a.md        s6  1    -       finance learning            puebla
                           s7  2    -       finance                                          teziutlan
                           s8  2    -       cooperation trust
    interviews/b.md        s9  1    -       learning                                         puebla
                           s10 1    -       cooperation finance trust   teziutlan mexico     puebla

Paragraph units: P1 {coop fin trust}, P2 {learn coop trust}, P3 {}, A1 {fin learn},
A2 {fin coop trust}, B1 {learn coop fin trust}: N = 6; n(finance) = n(trust) = 4,
n(learning) = 3.
"""
from __future__ import annotations

import random
import warnings

import networkx as nx
import numpy as np
import pytest

from qualcode import measures
from qualcode.errors import QualcodeError
from qualcode.graph import build_graph, layout, plain_value, segments_from_records, tally
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Match, Segment

CODEBOOK = Codebook(
    codes={
        "finance": Code("finance", "Finance", definition="Credit & <money>", color="#1f77b4"),
        "cooperation": Code("cooperation", "Cooperation", color="#2ca02c"),
        "trust": Code("trust", "Trust", color="#ff7f0e", parent="cooperation"),
        "learning": Code("learning", "Joint learning", color="#9467bd"),
    },
    cases={
        "mexico": Case("mexico", "México", "country"),
        "puebla": Case("puebla", "Puebla", "state", "mexico"),
        "teziutlan": Case("teziutlan", "Teziutlán", "city", "puebla"),
        "jalisco": Case("jalisco", "Jalisco", "state", "mexico"),
        "guadalajara": Case("guadalajara", "Guadalajara", "city", "jalisco"),
    },
)
P, A, B = "paper/ruiz-duran.md", "interviews/a.md", "interviews/b.md"
DOCUMENTS = [
    Document(P, "", {"title": "Clustering: Joint Learning Experience", "kind": "paper"}),
    Document(A, "", {"title": "Interview A", "kind": "interview"}),
    Document(B, "", {"title": "Interview B", "kind": "interview", "sector": "garment", "date": "1997"}),
]
C, F, T, L = "cooperation", "finance", "trust", "learning"
ROWS = [  # doc, n, paragraph, section_start, codes, cases, context_cases
    (P, 1, 1, None, (C, F, T), ("teziutlan",), ()),
    (P, 2, 1, None, (F,), (), ("puebla",)),
    (P, 3, 2, 100, (L,), ("guadalajara",), ()),
    (P, 4, 2, 100, (C, T), (), ()),
    (P, 5, 3, 100, (), (), ()),
    (A, 6, 1, None, (F, L), ("puebla",), ()),
    (A, 7, 2, None, (F,), (), ("teziutlan",)),
    (A, 8, 2, None, (C, T), (), ()),
    (B, 9, 1, None, (L,), (), ("puebla",)),
    (B, 10, 1, None, (C, F, T), ("teziutlan", "mexico"), ("puebla",)),
]


def coded(doc, n, paragraph, section_start, codes, cases=(), context=()):
    seg = Segment(doc, f"s{n}", n * 10, n * 10 + 9, n, "sentence", paragraph,
                  section="Findings" if section_start is not None else None, section_start=section_start)
    return CodedSegment(seg, f"text {n}", tuple(sorted(codes)), tuple(cases), tuple(context))


SEGMENTS = [coded(*row) for row in ROWS]


def graph(**options) -> nx.Graph:
    return build_graph(SEGMENTS, CODEBOOK, DOCUMENTS, **options)


def th(code):
    return f"theme:{code}"


# measures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("n12", "n1", "n2", "n", "c", "lift", "p"),
    [
        (2, 4, 3, 10, 0.4, 20 / 12, 40 / 120),  # p = (C(4,2)C(6,1) + C(4,3)) / C(10,3)
        (3, 4, 4, 6, 0.6, 1.125, 9 / 15),  # p = (C(4,3)C(2,1) + 1) / C(6,4)
        (4, 4, 4, 6, 1.0, 1.5, 1 / 15),
        (2, 4, 3, 6, 0.4, 1.0, 16 / 20),  # p = 1 - C(4,1)C(2,2)/C(6,3)
        (2, 5, 4, 10, 2 / 7, 1.0, 155 / 210),  # p = 1 - (5 + 50)/210
        (1, 5, 3, 10, 1 / 7, 10 / 15, 110 / 120),
        (1, 1, 1, 100, 1.0, 100.0, 0.01),
        (0, 2, 3, 10, 0.0, 0.0, 1.0),
        (0, 0, 0, 10, 0.0, 0.0, 1.0),
    ],
)
def test_measures_match_hand_computed_values(n12, n1, n2, n, c, lift, p):
    assert measures.c_coefficient(n12, n1, n2) == pytest.approx(c, abs=1e-9)
    assert measures.lift(n12, n1, n2, n) == pytest.approx(lift, abs=1e-9)
    assert measures.p_value(n12, n1, n2, n) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize(("n1", "n2", "unequal"), [(1, 5, False), (1, 6, True), (6, 1, True), (10, 50, False),
                                                   (10, 51, True), (4, 4, False)])
def test_measures_unequal_flags_more_than_five_times(n1, n2, unequal):
    assert measures.unequal(n1, n2) is unequal


def test_measures_arrays_equal_scalars_also_when_computed_in_threads():
    rng = np.random.default_rng(7)
    n = 500
    n1 = rng.integers(1, 200, 3000)
    n2 = rng.integers(1, 200, 3000)
    n12 = np.minimum(n1, n2) // 3
    p = measures.p_value(n12, n1, n2, n)  # long enough to go parallel
    assert p.shape == (3000,)
    for k in (0, 1, 1234, 2999):
        assert p[k] == measures.p_value(int(n12[k]), int(n1[k]), int(n2[k]), n)
    assert measures.c_coefficient(n12, n1, n2)[5] == measures.c_coefficient(int(n12[5]), int(n1[5]), int(n2[5]))


# co-occurrence ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("unit", "n_units", "pair", "count", "c", "lift", "p"),
    [
        ("paragraph", 6, (F, T), 3, 0.6, 1.125, 0.6),
        ("paragraph", 6, (F, L), 2, 0.4, 1.0, 0.8),
        ("paragraph", 6, (L, T), 2, 0.4, 1.0, 0.8),
        ("paragraph", 6, (C, T), 4, 1.0, 1.5, 1 / 15),
        ("sentence", 10, (F, T), 2, 2 / 7, 1.0, 31 / 42),
        ("sentence", 10, (F, L), 1, 1 / 7, 2 / 3, 11 / 12),
        ("sentence", 10, (T, C), 4, 1.0, 2.5, 1 / 210),  # nested: shown with include_nested
        ("section", 4, (F, L), 2, 0.5, 8 / 9, 1.0),  # sections: P-, P100, A-, B-
        ("section", 4, (F, T), 3, 0.75, 1.0, 1.0),
        ("document", 3, (F, L), 3, 1.0, 1.0, 1.0),
    ],
)
def test_graph_cooccurrence_per_unit(unit, n_units, pair, count, c, lift, p):
    G = graph(unit=unit, include_nested=True)
    assert G.graph["n_units"] == n_units
    e = G.edges[th(pair[0]), th(pair[1])]
    assert (e["relation"], e["count"], e["weight_measure"]) == ("cooccurrence", count, "c_coefficient")
    assert e["weight"] == e["c_coefficient"] == pytest.approx(c, abs=1e-9)
    assert e["lift"] == pytest.approx(lift, abs=1e-9)
    assert e["p_value"] == pytest.approx(p, abs=1e-9)
    assert e["unequal"] is False


def test_graph_pairs_never_seen_together_have_no_edge():
    assert not graph(unit="sentence").has_edge(th(L), th(T))


def test_graph_nested_flags_a_code_and_its_ancestor():
    G = graph(include_nested=True)
    assert G.edges[th(C), th(T)]["nested"] is True
    assert G.edges[th(F), th(T)]["nested"] is False


@pytest.mark.parametrize(("include_nested", "pairs"), [
    (False, {(F, C), (F, T), (F, L), (C, L), (T, L)}),  # trust is a kind of cooperation: always together
    (True, {(F, C), (F, T), (F, L), (C, T), (C, L), (T, L)}),
])
def test_graph_parent_child_pairs_left_out_by_default(include_nested, pairs):
    G = graph(include_nested=include_nested)
    got = {(u[6:], v[6:]) for u, v, a in G.edges(data=True) if a["relation"] == "cooccurrence"}
    assert got == pairs
    t = tally(SEGMENTS, CODEBOOK, DOCUMENTS)
    assert len(t.pairs()) == 6  # the matrix keeps every pair, with its nested flag


def test_graph_unequal_flags_a_lopsided_pair():
    segs = [coded("d.md", i, i, None, ("a", "b") if i == 1 else ("a",)) for i in range(1, 8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = build_graph(segs, CODEBOOK)
    assert G.edges["theme:a", "theme:b"]["unequal"] is True  # 7 paragraphs vs 1


# nodes ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (th(F), {"label": "Finance", "kind": "theme", "segments": 5, "documents": 3, "units": 4,
                 "definition": "Credit & <money>", "parent": "", "color": "#1f77b4", "isolated": False}),
        (th(T), {"label": "Trust", "kind": "theme", "segments": 4, "documents": 3, "units": 4,
                 "definition": "", "parent": "cooperation", "color": "#ff7f0e", "isolated": False}),
        (th(L), {"label": "Joint learning", "kind": "theme", "segments": 3, "documents": 3, "units": 3,
                 "definition": "", "parent": "", "color": "#9467bd", "isolated": False}),
        ("case:teziutlan", {"label": "Teziutlán", "kind": "case", "case_kind": "city", "parent": "puebla",
                            "segments": 2, "context_segments": 1, "color": "#17becf", "isolated": False}),
        ("case:puebla", {"label": "Puebla", "kind": "case", "case_kind": "state", "parent": "mexico",
                         "segments": 1, "context_segments": 3, "color": "#4292c6", "isolated": False}),
        ("doc:" + P, {"label": "Clustering", "title": "Clustering: Joint Learning Experience", "kind": "document",
                      "doc_kind": "paper", "segments": 5, "color": "#a0a0a0", "isolated": False}),
        ("doc:" + B, {"label": "Interview B", "title": "Interview B", "kind": "document", "doc_kind": "interview",
                      "segments": 2, "color": "#a0a0a0", "sector": "garment", "date": "1997", "isolated": False}),
    ],
)
def test_graph_node_attributes(node, expected):
    assert graph().nodes[node] == expected


def test_graph_nodes_are_the_evidence():
    assert sorted(graph()) == [
        "case:guadalajara", "case:mexico", "case:puebla", "case:teziutlan",
        "doc:interviews/a.md", "doc:interviews/b.md", "doc:paper/ruiz-duran.md",
        th(C), th(F), th(L), th(T),
    ]  # no jalisco: no segment names it


# theme-case and theme-document edges ----------------------------------------------------------

def case_links(G):
    return {(u.split(":", 1)[1], v.split(":", 1)[1]): (a["named"], a["context"])
            for u, v, a in G.edges(data=True) if a["relation"] == "theme-case"}


@pytest.mark.parametrize(
    ("roll_up", "expected"),
    [
        (None, {(F, "teziutlan"): (2, 1), (F, "puebla"): (1, 2), (F, "mexico"): (1, 0),
                (T, "teziutlan"): (2, 0), (T, "mexico"): (1, 0), (T, "puebla"): (0, 1),
                (C, "teziutlan"): (2, 0), (C, "mexico"): (1, 0), (C, "puebla"): (0, 1),
                (L, "guadalajara"): (1, 0), (L, "puebla"): (1, 1)}),
        # s10 names Teziutlán (-> Puebla) and has Puebla in context: named wins; Mexico has no state
        ("state", {(F, "puebla"): (3, 2), (F, "mexico"): (1, 0),
                   (T, "puebla"): (2, 0), (T, "mexico"): (1, 0),
                   (C, "puebla"): (2, 0), (C, "mexico"): (1, 0),
                   (L, "jalisco"): (1, 0), (L, "puebla"): (1, 1)}),
        ("country", {(F, "mexico"): (3, 2), (T, "mexico"): (2, 0), (C, "mexico"): (2, 0), (L, "mexico"): (2, 1)}),
    ],
)
def test_graph_case_edges_keep_named_and_context_apart(roll_up, expected):
    assert case_links(graph(roll_up=roll_up)) == expected


def test_graph_roll_up_moves_case_nodes_up():
    G = graph(roll_up="state")
    assert sorted(n for n in G if n.startswith("case:")) == ["case:jalisco", "case:mexico", "case:puebla"]
    assert (G.nodes["case:puebla"]["segments"], G.nodes["case:puebla"]["context_segments"]) == (3, 3)
    assert G.graph["roll_up"] == "state"


def test_graph_case_edge_weight_is_share_of_theme_segments():
    e = graph().edges["case:teziutlan", th(F)]
    assert (e["count"], e["weight"], e["weight_measure"]) == (3, pytest.approx(3 / 5), "share_of_theme_segments")


@pytest.mark.parametrize(("theme", "doc", "count"), [(F, P, 2), (F, A, 2), (F, B, 1), (T, P, 2), (L, A, 1)])
def test_graph_document_edges_count_segments(theme, doc, count):
    e = graph().edges["doc:" + doc, th(theme)]
    total = {F: 5, T: 4, L: 3}[theme]
    assert (e["relation"], e["count"], e["weight"]) == ("theme-document", count, pytest.approx(count / total))
    assert e["weight_measure"] == "share_of_theme_segments"


# filters ---------------------------------------------------------------------------------

def edge_set(G):
    return {(u.split(":", 1)[1], v.split(":", 1)[1]) for u, v in G.edges()}  # themes first, codebook order


@pytest.mark.parametrize(
    ("options", "edges"),
    [
        ({"min_count": 3}, {(F, C), (F, T), (F, "teziutlan"), (F, "puebla")}),
        ({"min_count": 3, "include_nested": True}, {(F, C), (C, T), (F, T), (F, "teziutlan"), (F, "puebla")}),
        ({"min_weight": 0.5}, {(F, C), (F, T), (F, "teziutlan"), (F, "puebla"), (T, "teziutlan"),
                               (C, "teziutlan"), (L, "puebla"), (T, P), (C, P)}),
        ({"min_weight": 0.5, "min_count": 3}, {(F, C), (F, T), (F, "teziutlan"), (F, "puebla")}),
        ({"kinds": ["theme"], "min_weight": 0.5}, {(F, C), (F, T)}),
    ],
)
def test_graph_filters_drop_weak_edges(options, edges):
    assert edge_set(graph(**options)) == edges


@pytest.mark.parametrize(
    ("options", "nodes", "isolated"),
    [
        ({}, 11, set()),
        # cases and documents left without an edge go; themes stay, flagged
        ({"min_count": 3}, 6, {th(L)}),
        ({"min_count": 99}, 4, {th(F), th(C), th(T), th(L)}),
        ({"kinds": ["case", "document"]}, 7, {"case:teziutlan", "case:puebla", "case:mexico", "case:guadalajara",
                                             "doc:" + P, "doc:" + A, "doc:" + B}),  # nothing to link them
    ],
)
def test_graph_isolated_nodes_after_filtering_are_dropped_or_flagged(options, nodes, isolated):
    G = graph(**options)
    assert G.number_of_nodes() == nodes
    assert {n for n, a in G.nodes(data=True) if a["isolated"]} == isolated == set(nx.isolates(G))


@pytest.mark.parametrize(
    ("kinds", "node_kinds", "relations"),
    [
        (["theme"], {"theme"}, {"cooccurrence"}),
        (["theme", "case"], {"theme", "case"}, {"cooccurrence", "theme-case"}),
        (["theme", "document"], {"theme", "document"}, {"cooccurrence", "theme-document"}),
        (["case", "document"], {"case", "document"}, set()),
        ("case", {"case"}, set()),
        (None, {"theme", "case", "document"}, {"cooccurrence", "theme-case", "theme-document"}),
    ],
)
def test_graph_kinds_keep_only_those_nodes(kinds, node_kinds, relations):
    G = graph(kinds=kinds)
    assert {a["kind"] for _, a in G.nodes(data=True)} == node_kinds
    assert {a["relation"] for *_, a in G.edges(data=True)} == relations


@pytest.mark.parametrize(
    ("docs", "n_units", "pairs", "doc_nodes"),
    [
        (["interview"], 3, {(F, T): 2, (F, L): 2, (L, T): 1}, ["doc:" + A, "doc:" + B]),
        (["interviews/b"], 1, {(F, T): 1, (F, L): 1, (L, T): 1}, ["doc:" + B]),
        (["paper/"], 3, {(F, T): 1, (L, T): 1}, ["doc:" + P]),
        ("paper", 3, {(F, T): 1, (L, T): 1}, ["doc:" + P]),
        (["paper", "interviews/a.md"], 5, {(F, T): 2, (F, L): 1, (L, T): 1}, ["doc:" + A, "doc:" + P]),
    ],
)
def test_graph_docs_selects_documents_by_kind_or_prefix(docs, n_units, pairs, doc_nodes):
    G = graph(docs=docs)
    assert G.graph["n_units"] == n_units
    got = {tuple(sorted((u[6:], v[6:]))): a["count"] for u, v, a in G.edges(data=True)
           if a["relation"] == "cooccurrence" and th(C) not in (u, v)}
    assert got == pairs
    assert sorted(n for n in G if n.startswith("doc:")) == doc_nodes


@pytest.mark.parametrize(
    ("options", "quoted"),
    [
        ({"docs": ["intervew"]}, "'intervew'"),
        ({"roll_up": "province"}, "'province'"),
        ({"unit": "page"}, "'page'"),
        ({"kinds": ["theme", "place"]}, "'place'"),
    ],
)
def test_graph_bad_options_raise_quoting_the_value(options, quoted):
    with pytest.raises(QualcodeError, match=quoted):
        graph(**options)


def test_graph_docs_error_lists_the_known_kinds():
    with pytest.raises(QualcodeError, match="interview, paper"):
        graph(docs=["intervew"])


# empty and degenerate corpora ---------------------------------------------------------------

@pytest.mark.parametrize("segments", [[], [coded(P, 5, 3, None, ())], [coded(P, 1, 1, None, (), ("puebla",))]])
def test_graph_empty_corpus_gives_empty_graph_and_warning(segments):
    with pytest.warns(UserWarning, match="no coded segments"):
        G = build_graph(segments, CODEBOOK, DOCUMENTS)
    assert (G.number_of_nodes(), G.number_of_edges()) == (0, 0)


def test_graph_single_theme_gives_no_cooccurrence_and_warning():
    segs = [coded(P, 1, 1, None, (F,), ("puebla",)), coded(A, 2, 1, None, (F,))]
    with pytest.warns(UserWarning, match="only one theme"):
        G = build_graph(segs, CODEBOOK, DOCUMENTS)
    assert [a["relation"] for *_, a in G.edges(data=True)] == ["theme-case", "theme-document", "theme-document"]
    with pytest.warns(UserWarning, match="only one theme"):
        G = build_graph(segs, CODEBOOK, DOCUMENTS, kinds=["theme"])
    assert (list(G), G.number_of_edges()) == ([th(F)], 0)


def test_graph_codes_and_cases_missing_from_codebook_still_show():
    segs = [coded("x.md", 1, 1, None, ("new", F), ("atlantis",))]
    G = build_graph(segs, CODEBOOK)
    assert G.nodes["theme:new"] == {"label": "new", "kind": "theme", "segments": 1, "documents": 1, "units": 1,
                                    "definition": "", "parent": "", "color": "#808080", "isolated": False}
    assert list(G)[:2] == [th(F), "theme:new"]  # codebook order, then codes it lacks
    assert G.nodes["case:atlantis"]["case_kind"] == ""
    assert G.nodes["doc:x.md"]["label"] == "x.md"  # no Document given: the id


# determinism ---------------------------------------------------------------------------------

def test_graph_is_in_codebook_order_and_independent_of_segment_order():
    G = graph()
    shuffled = SEGMENTS[:]
    random.Random(3).shuffle(shuffled)
    H = build_graph(shuffled, CODEBOOK, list(reversed(DOCUMENTS)))
    # one order everywhere: themes and cases as in the codebook (and the records), documents by id
    assert list(G) == list(H) == [th(F), th(C), th(T), th(L), "case:mexico", "case:puebla", "case:teziutlan",
                                  "case:guadalajara", "doc:" + A, "doc:" + B, "doc:" + P]
    assert list(G.edges(data=True)) == list(H.edges(data=True))
    rank = {n: i for i, n in enumerate(G)}
    assert [(rank[u], rank[v]) for u, v in G.edges()] == sorted((rank[u], rank[v]) for u, v in G.edges())
    assert all(rank[u] < rank[v] for u, v in G.edges())


def test_graph_layout_is_seeded():
    G = graph()
    assert layout(G) == layout(graph())
    assert layout(G, seed=1) != layout(G, seed=2)


def rings(G, pos):
    """For each node kind, the (nearest, farthest) distance of its nodes from the themes' centre."""
    themes = [pos[n] for n in G if G.nodes[n]["kind"] == "theme"]
    cx, cy = np.mean(themes, axis=0)
    out = {}
    for n, (x, y) in pos.items():
        d, kind = float(np.hypot(x - cx, y - cy)), G.nodes[n]["kind"]
        lo, hi = out.get(kind, (d, d))
        out[kind] = (min(lo, d), max(hi, d))
    return out


def test_graph_layout_keeps_the_kinds_apart(bundled):
    docs, segments = bundled
    G = build_graph(segments, bundled_codebook(), docs)
    pos = layout(G)
    r = rings(G, pos)
    assert r["theme"][1] < r["case"][0] <= r["case"][1] < r["document"][0]  # themes inside, then cases, documents
    assert max(max(abs(x), abs(y)) for x, y in pos.values()) == pytest.approx(1000.0, abs=0.01)
    assert len(set(pos.values())) == len(pos)  # no two nodes in one place


def test_graph_layout_puts_a_case_beside_its_themes():
    # two groups of themes that never meet, each named with its own case
    segs = [coded("d.md", 1, 1, None, (F, C), ("puebla",)), coded("d.md", 2, 2, None, (F, C), ("puebla",)),
            coded("e.md", 3, 1, None, (L, T), ("jalisco",)), coded("e.md", 4, 2, None, (L, T), ("jalisco",))]
    G = build_graph(segs, CODEBOOK, kinds=["theme", "case"])
    pos = layout(G)
    near = {c: min((th(x) for x in (F, C, L, T)), key=lambda t: np.hypot(*np.subtract(pos[t], pos[c])))
            for c in ("case:puebla", "case:jalisco")}
    assert near["case:puebla"] in (th(F), th(C)) and near["case:jalisco"] in (th(L), th(T))


def bundled_codebook():
    from conftest import ROOT

    from qualcode.codebook import load_codebook

    return load_codebook(ROOT / "codebook.yaml").codebook


@pytest.mark.parametrize(
    ("value", "plain"),
    [(np.int64(3), 3), (np.float64(0.5), 0.5), (np.bool_(True), True), (None, None), (float("nan"), None),
     (float("inf"), None), (["a", 1], "a; 1"), ({"b", "a"}, "a; b"), ({"k": 1}, '{"k": 1}'), ("é", "é")],
)
def test_graph_plain_value(value, plain):
    assert plain_value(value) == plain and type(plain_value(value)) is type(plain)


# records ---------------------------------------------------------------------------------

def test_graph_segments_from_records_round_trip():
    m = Match("finance", "term:credit", "codebook.yaml:3:5", 10, 16, "credit")
    segs = [CodedSegment(s.segment, s.text, s.codes, s.cases, s.context_cases, (m,), (m,)) for s in SEGMENTS]
    back = segments_from_records([s.to_record() for s in segs])
    assert [b.to_record() for b in back] == [s.to_record() for s in segs]
    G1, G2 = build_graph(segs, CODEBOOK, DOCUMENTS, unit="section"), build_graph(back, CODEBOOK, DOCUMENTS,
                                                                                   unit="section")
    assert list(G1.edges(data=True)) == list(G2.edges(data=True))


def test_graph_segments_from_records_rebuilds_sections_from_heading_runs():
    base = {k: v for k, v in SEGMENTS[0].to_record().items() if k != "section_start"}  # an older coding file
    records = [{**base, "id": f"r{i}", "section": sec, "start": i}
               for i, sec in enumerate([None, "Intro", "Intro", "Method", "Intro"])]
    starts = [s.segment.section_start for s in segments_from_records(records)]
    assert starts == [None, 1, 1, 3, 4]  # a heading that comes back is a new section


def test_graph_segments_from_records_names_the_bad_record():
    records = [SEGMENTS[0].to_record(), {k: v for k, v in SEGMENTS[1].to_record().items() if k != "paragraph"}]
    with pytest.raises(QualcodeError, match=r"coding.jsonl:2:1: record 2 has no key 'paragraph'"):
        segments_from_records(records, source="coding.jsonl")


def test_graph_tally_counts_each_unit_once():
    t = tally(SEGMENTS, CODEBOOK, DOCUMENTS)
    assert t.n_units == 6
    assert t.theme_units == {C: 4, F: 4, L: 3, T: 4}
    assert t.theme_segments == {C: 4, F: 5, L: 3, T: 4}
    assert t.themes == (F, C, T, L)  # codebook order
    assert [(p.theme_a, p.theme_b, p.count) for p in t.pairs()] == [
        (F, C, 3), (F, T, 3), (F, L, 2), (C, T, 4), (C, L, 2), (T, L, 2)]


# documents: labels, front matter, --where ------------------------------------------------------

@pytest.mark.parametrize(
    ("meta", "label"),
    [
        ({"title": "Interview A"}, "Interview A"),
        ({"title": "Clustering: Joint Learning Experience"}, "Clustering"),  # the subtitle goes
        ({"title": "Integradora de Muebles del Oriente de Michoacán, Ciudad Hidalgo (furniture): visit notes"},
         "Integradora de Muebles del Oriente de…"),  # cut at a word, at most 45 characters
        ({"title": "Averyveryveryveryveryveryveryveryveryverylongwordwithoutspaces"},
         "Averyveryveryveryveryveryveryveryveryverylon…"),
        ({"title": "Long title that a researcher shortened by hand herself", "label": "Short"}, "Short"),
        ({}, "x.md"),  # no title: the id
    ],
)
def test_graph_document_label_is_the_title_shortened(meta, label):
    G = build_graph([coded("x.md", 1, 1, None, (F, L))], CODEBOOK, [Document("x.md", "", meta)])
    node = G.nodes["doc:x.md"]
    assert node["label"] == label and len(label) <= 45
    assert node["title"] == meta.get("title", "x.md")


def test_graph_document_front_matter_fields_are_node_attributes():
    meta = {"title": "T", "kind": "interview", "sector": "furniture", "date": "1997-summer", "cases": ["puebla"],
            "source": {"id": "paper.md"}, "segments": "clashes", "color": "red"}
    G = build_graph([coded("x.md", 1, 1, None, (F, L))], CODEBOOK, [Document("x.md", "", meta)])
    node = G.nodes["doc:x.md"]
    assert node["doc_kind"] == "interview" and node["sector"] == "furniture" and node["date"] == "1997-summer"
    assert node["cases"] == ["puebla"] and node["source"] == {"id": "paper.md"}
    assert (node["segments"], node["meta_segments"], node["color"], node["meta_color"]) == (1, "clashes", "#a0a0a0",
                                                                                          "red")


@pytest.mark.parametrize(
    ("case_id", "color"),
    [("mexico", "#08306b"), ("puebla", "#4292c6"), ("teziutlan", "#17becf"), ("atlantis", "#6baed6")],
)
def test_graph_case_nodes_are_coloured_by_case_kind(case_id, color):
    G = build_graph([coded("x.md", 1, 1, None, (F, L), (case_id,))], CODEBOOK)
    assert G.nodes[f"case:{case_id}"]["color"] == color


SECTORS = [Document("f1.md", "", {"kind": "interview", "sector": "furniture", "tags": ["crisis", "exports"]}),
           Document("f2.md", "", {"kind": "field-notes", "sector": "furniture", "public": True}),
           Document("g1.md", "", {"kind": "interview", "sector": "garment", "year": 1997}),
           Document("p.md", "", {"kind": "paper"})]
SECTOR_SEGMENTS = [coded(d.id, i, 1, None, (F, L)) for i, d in enumerate(SECTORS, 1)]


@pytest.mark.parametrize(
    ("where", "docs"),
    [
        ({"sector": "furniture"}, ["f1.md", "f2.md"]),
        ({"sector": "garment"}, ["g1.md"]),
        ({"sector": ["furniture", "garment"]}, ["f1.md", "f2.md", "g1.md"]),  # values of one key: any
        ({"sector": "furniture", "kind": "interview"}, ["f1.md"]),  # different keys: all
        ({"tags": "exports"}, ["f1.md"]),  # a list field: one of its items
        ({"public": "true"}, ["f2.md"]),
        ({"year": "1997"}, ["g1.md"]),
        ({"sector": "garment", "kind": "field-notes"}, []),
    ],
)
def test_graph_where_selects_documents_by_front_matter(where, docs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the empty selection warns
        G = build_graph(SECTOR_SEGMENTS, CODEBOOK, SECTORS, where=where)
        t = tally(SECTOR_SEGMENTS, CODEBOOK, SECTORS, where=where)
    assert sorted(n[4:] for n in G if n.startswith("doc:")) == docs
    assert t.n_units == len(docs) and t.theme_segments.get(F, 0) == len(docs)


@pytest.mark.parametrize(
    ("where", "messages"),
    [
        ({"sectr": "furniture"}, ["no document has the field 'sectr' (fields: kind, public, sector, tags, year)"]),
        ({"sector": "furnture"}, ["no document has sector='furnture' (sector values: furniture, garment)"]),
        ({"sector": "x", "kind": "y"}, ["sector='x'", "kind='y'"]),  # every problem at once
    ],
)
def test_graph_where_typo_is_an_error_listing_what_there_is(where, messages):
    with pytest.raises(QualcodeError) as err:
        build_graph(SECTOR_SEGMENTS, CODEBOOK, SECTORS, where=where)
    assert len(err.value.problems) == len(messages)
    for problem, message in zip(err.value.problems, messages):
        assert message in str(problem)
