"""Claims and evidence: claims.yaml checks, themes and cases with provenance, evidence ranking,
source pointers, candidates, the claim matrices and graph, and the claims/trace commands."""
from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import ROOT, make_doc, requires_shared, run_cli

from qualcode.claims import ClaimsError, Coded, link_claims, parse_claims
from qualcode.codebook import parse_codebook

PAPER = "paper/ruiz-duran-1998-clustering.md"


@pytest.fixture(scope="module")
def study():
    from qualcode.project import claims_project

    return claims_project(ROOT / "corpus", ROOT / "codebook.yaml", ROOT / "claims.yaml", codings=ROOT / "codings")


# -- the claims file ------------------------------------------------------------------------------

LOADED = parse_codebook(
    "codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, credit, bank]\n"
    "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n"
    "cases:\n  - id: puebla\n    name: Puebla\n    kind: state\n")
BOOK = LOADED.codebook
DOCS = [make_doc("---\ntitle: A\n---\n# Notes\n\nThe bank would not lend to them.\nDesign matters. Design matters.\n",
                 "interviews/a.md")]
GOOD = ("claims:\n  - id: no-loans\n    statement: Banks did not lend\n    anchors:\n"
        "      - doc: interviews/a.md\n        quote: the bank would not lend\n")


def test_claims_good_file_locates_anchor_exactly():
    (claim,) = parse_claims(GOOD, "claims.yaml", DOCS, BOOK)
    a = claim.anchors[0]
    assert (claim.id, a.passage.text, a.passage.line, a.where) == ("no-loans", "The bank would not lend", 6,
                                                                     "claims.yaml:5:9")
    assert DOCS[0].text[a.passage.start:a.passage.end] == a.passage.text


@pytest.mark.parametrize("text, messages", [
    ("claims: [\n", ["claims.yaml:2:1: invalid YAML"]),
    ("- id: x\n", ["claims.yaml:1:1: a claims file is a mapping with 'claims:'"]),
    ("claims: {id: x}\n", ["claims.yaml:1:1: claims: 'claims' must be a list"]),
    (GOOD + GOOD[8:], ["claims.yaml:7:9: claims[no-loans]: duplicate claim id 'no-loans' (first at line 2)"]),
    ("claims:\n  - id: a b\n    statement: s\n    anchors: [{doc: interviews/a.md, quote: design matters. design matters}]\n",
     ["claims.yaml:2:9: claims[0]: 'id' must be a short name"]),
    ("claims:\n  - id: a\n    anchors: [{doc: interviews/a.md, quote: bank}]\n",
     ["claims.yaml:2:5: claims[a]: missing 'statement'"]),
    ("claims:\n  - id: a\n    statement: s\n", ["claims.yaml:2:5: claims[a]: missing 'anchors'"]),
    ("claims:\n  - id: a\n    statement: s\n    anchors:\n      - doc: interviews/b.md\n        quote: bank\n",
     ["claims.yaml:5:14: claims[a].anchors[0]: unknown document 'interviews/b.md'; nearest: 'interviews/a.md'"]),
    ("claims:\n  - id: a\n    statement: s\n    anchors:\n      - doc: interviews/a.md\n        quote: the bank will lend\n",
     ['claims.yaml:6:16: claims[a].anchors[0]: quote "the bank will lend" not found in interviews/a.md; '
      'nearest: "The bank would']),
    ("claims:\n  - id: a\n    statement: s\n    anchors:\n      - doc: interviews/a.md\n        quote: design matters\n",
     ['claims.yaml:6:16: claims[a].anchors[0]: quote "design matters" is found 2 times in interviews/a.md (lines 7, 7)']),
    (GOOD + "    themes: [finanse, design]\n    cases: [pueblo]\n",
     ["claims.yaml:7:14: claims[no-loans]: unknown code 'finanse': did you mean 'finance'?",
      "claims.yaml:8:13: claims[no-loans]: unknown case 'pueblo': did you mean 'puebla'?"]),
    (GOOD + "    evidence:\n      - {doc: interviews/a.md, quote: bank, stance: proves}\n",
     ["claims.yaml:8:53: claims[no-loans].evidence[0]: 'stance' must be one of supports, contradicts, qualifies, "
      "not 'proves'"]),
    (GOOD + "    evidence:\n      - {doc: interviews/a.md, quote: bank}\n",
     ["claims.yaml:8:9: claims[no-loans].evidence[0]: missing 'stance'"]),
    (GOOD + "    colour: red\n", ["claims.yaml:7:5: claims[no-loans]: unknown key 'colour'"]),
    ("claims:\n  - id: a\n    statement: s\n    anchors: [{doc: interviews/a.md, quote: bank, page: 3}]\n",
     ["claims.yaml:4:51: claims[a].anchors[0]: unknown key 'page'"]),
    ("claims: []\nversion: 2\n", ["claims.yaml:2:1: unknown key 'version'"]),
])
def test_claims_bad_input_is_located(text, messages):
    with pytest.raises(ClaimsError) as err:
        parse_claims(text, "claims.yaml", DOCS, BOOK)
    got = [str(p) for p in err.value.problems]
    assert len(got) == len(messages), got
    for g, m in zip(got, messages):
        assert g.startswith(m), (g, m)


@pytest.mark.parametrize(("text", "message"), [
    ("claims:\n  - id: a\n    statement: s\n    anchors:\n      - doc: interviews/a.md\n        quote: design matters\n",
     'claims.yaml:6:16: claims[a].anchors[0]: quote "design matters" is found 2 times in interviews/a.md (lines 7, 7); '
     "quote more of the passage"),  # no "or give start and end": a claim's passage has no such keys
    (GOOD + "    themes: [finanse]\n",
     "claims.yaml:7:14: claims[no-loans]: unknown code 'finanse': did you mean 'finance'? (themes must be codes of "
     "the codebook)"),
    (GOOD + "    colur: red\n",
     "claims.yaml:7:5: claims[no-loans]: unknown key 'colur' (a claim has id, statement, anchors, themes, cases, "
     "evidence, note)"),
])
def test_claims_messages_say_what_the_file_can_do(text, message):
    with pytest.raises(ClaimsError) as err:
        parse_claims(text, "claims.yaml", DOCS, BOOK)
    assert [str(p) for p in err.value.problems] == [message]


def test_claims_every_problem_at_once():
    text = ("claims:\n  - id: a\n    statement: s\n    anchors: [{doc: nowhere.md, quote: x}]\n    themes: [nope]\n"
            "  - id: a\n    statement: t\n    anchors: [{doc: interviews/a.md, quote: lend to them}]\n"
            "  - id: b\n    statement: u\n    anchors: [{doc: interviews/a.md, quote: not here at all}]\n"
            "    evidence: [{doc: interviews/a.md, quote: bank, stance: maybe}]\n")
    with pytest.raises(ClaimsError) as err:
        parse_claims(text, "claims.yaml", DOCS, BOOK)
    lines = [p.line for p in err.value.problems]
    assert lines == [4, 5, 6, 11, 12], [str(p) for p in err.value.problems]  # line 6: the second 'a', a duplicate


def test_claims_duplicate_id_after_a_good_one():
    text = GOOD + "  - id: no-loans\n    statement: again\n    anchors: [{doc: interviews/a.md, quote: lend to them}]\n"
    with pytest.raises(ClaimsError, match=r"claims.yaml:7:9: .*duplicate claim id 'no-loans' \(first at line 2\)"):
        parse_claims(text, "claims.yaml", DOCS, BOOK)


# -- the bundled study -------------------------------------------------------------------------------

def test_claims_bundled_file_loads_with_every_stance(study):
    ids = [c.id for c in study.claims]
    assert 6 <= len(ids) <= 12 and len(set(ids)) == len(ids)
    stances = {d.stance for c in study.claims for d in c.declared_evidence}
    assert stances == {"supports", "contradicts", "qualifies"}
    docs = {d.id: d for d in study.result.documents}
    for c in study.claims:
        for a in c.anchors:
            assert docs[a.passage.doc].text[a.passage.start:a.passage.end] == a.passage.text
        assert c.themes, c.id


@pytest.mark.parametrize("claim, themes, cases", [
    ("small-numbers", [("cooperation", "declared"), ("leadership", "declared")], []),
    ("self-financing-rule", [("cooperation", "anchor"), ("finance", "anchor"), ("self-financing", "anchor")], []),
    ("bureaucracy-failure", [("cooperation", "anchor"), ("government", "anchor")],
     [("xoxtla", "anchor, named"), ("puebla", "anchor, named")]),
    ("financial-learning", [("finance", "anchor"), ("education", "anchor")], [("ciudad-hidalgo", "declared")]),
])
def test_claims_themes_and_cases_with_provenance(study, claim, themes, cases):
    c = next(x for x in study.claims if x.id == claim)
    assert [(t.theme, t.provenance) for t in c.themes] == themes
    assert [(k.case, k.provenance) for k in c.cases] == cases
    for t in c.themes:
        assert t.where and (t.provenance == "declared" or re.search(r"codebook\.yaml:\d+:\d+", t.by))


def test_claims_case_from_front_matter_and_section():
    loaded = parse_codebook("codes:\n  - id: finance\n    label: F\n    patterns:\n      terms: [bank]\n"
                            "cases:\n  - id: puebla\n    name: Puebla\n    kind: state\n"
                            "  - id: morelos\n    name: Morelos\n    kind: state\n")
    book = loaded.codebook
    docs = [make_doc("---\ntitle: A\ncases: [puebla]\n---\n# Morelos\n\nThe bank said no.\n", "a.md")]
    from qualcode.coding import code_corpus, compile_codebook
    from qualcode.codings import rule_codings

    compiled = compile_codebook(loaded)
    segs = code_corpus(docs, compiled)
    (claim,) = parse_claims("claims:\n  - id: x\n    statement: s\n    anchors: [{doc: a.md, quote: bank said no}]\n",
                            "claims.yaml", docs, book)
    (linked,) = link_claims([claim], Coded(segs, rule_codings(segs, book), book, docs))
    assert sorted((k.case, k.provenance) for k in linked.cases) == [("morelos", "anchor, section"),
                                                                    ("puebla", "anchor, front matter")]
    assert [(c.code, c.pattern, c.source) for c in linked.anchors[0].codes] == [("finance", "term:bank", "rule")]


def test_evidence_declared_first_then_related_with_score_parts(study):
    from qualcode.evidence import evidence

    claim = next(c for c in study.claims if c.id == "banks-distrust")
    found = evidence(claim, study.index)
    stances = [e.stance for e in found]
    assert stances[:3] == ["supports", "supports", "qualifies"] and set(stances[3:]) == {"related"}
    related = found[3:]
    assert len(related) == 10
    assert [e.score for e in related] == sorted((e.score for e in related), reverse=True)
    anchors = [(a.passage.doc, a.passage.start) for a in claim.anchors]
    for e in related:
        p = e.parts
        assert p.themes and set(p.themes) <= set(claim.theme_ids)
        assert e.score == round(p.theme_share + p.case_share + p.similarity, 4)
        assert 0 <= p.similarity <= 1 and e.reason.startswith("shares theme")
        assert (e.passage.doc, e.passage.start) not in anchors
        assert e.coders  # who coded it
    assert max(e.parts.similarity for e in related) == 1.0
    assert {e.passage.doc.split("/")[0] for e in related} == {"paper", "interviews"}


def test_evidence_related_is_not_supporting_is_said(study):
    from qualcode.claims_output import claims_text, trace_text
    from qualcode.evidence import trace

    t = trace("small-numbers", study.claims, study.index)
    assert "related is not supporting" in trace_text(t, study.index)
    coloured = trace_text(t, study.index, colour=True)
    assert "\x1b[1;33m" in coloured and "\x1b[" not in trace_text(t, study.index)
    assert "related is not supporting" in claims_text(study.claims, study.index)


def test_pointers_every_pointer_of_the_notes_resolves_to_the_passage_it_quotes(study):
    """Each note's quoted words ("...") are found in the paper passage its pointer names."""
    from qualcode.locate import LocateError, locate

    docs = study.index.coded.documents
    pointers = study.index.pointers
    assert len(pointers) > 100 and all(p.resolved for p in pointers), [p.problem for p in pointers if not p.resolved]
    checked = 0
    for p in pointers:
        text = docs[p.doc].text
        line = text[text.rfind("\n", 0, p.start) + 1:p.start]
        for quote in (q for q in re.findall(r'"([^"]+)"', line) if len(q) >= 15):
            hits = 0
            for a, b, _ in p.passages:
                try:
                    locate(quote.rstrip("."), docs[p.target], within=(a, b))
                    hits += 1
                except LocateError as err:
                    hits += bool(err.found)
            assert hits, (p.doc, p.line, p.text, quote)
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("pointer, starts", [
    ('[paper: "Emergence of horizontal cooperation", para 5]', "To analyze specific responses"),
    ('[paper: "Furniture integradoras: crisis networks", para 4]', "Integradora de Muebles del Oriente"),
    ('[paper: "Furniture integradoras: crisis networks", item 1]', "1) Learning process began"),
    ('[paper: "Garment industry integradoras: the learning experience", item 2]', "There were some cases of government tutoring"),
    ("[paper: footnote 7]", "⁷ A group of small furniture producers"),
])
def test_pointers_resolve_para_item_footnote(study, pointer, starts):
    docs = study.index.coded.documents
    p = next(x for x in study.index.pointers if x.text == pointer)
    a, b, _ = p.passages[0]
    assert docs[PAPER].text[a:b].startswith(starts)


@pytest.mark.parametrize("pointer, problem", [
    ('[paper: "No such section", para 1]', "no section 'No such section'"),
    ('[paper: "Furniture integradoras: crisis networks", para 99]', "has no para 99"),
    ('[paper: "Furniture integradoras: crisis networks", page 3]', "cannot read 'page 3'"),
])
def test_pointers_unresolved_say_why(pointer, problem):
    from qualcode.coding import code_corpus, compile_codebook
    from qualcode.pointers import resolve_pointers

    paper = make_doc("---\nkind: paper\n---\n## Furniture integradoras: crisis networks.\n\nOne. Two.\n", "p.md")
    note = make_doc(f"---\nkind: interview\n---\n- A note. {pointer}\n", "n.md")
    segs = code_corpus([paper, note], compile_codebook(LOADED))
    (p,) = resolve_pointers(segs, {"p.md": paper, "n.md": note})
    assert not p.resolved and problem in p.problem


# -- candidates ------------------------------------------------------------------------------------

def test_candidates_are_stable_and_adoptable(paper_segments):
    from qualcode.candidates import candidate_id, candidates_yaml, find_candidates
    from qualcode.corpus import load_corpus

    docs = load_corpus(ROOT / "corpus")
    found = find_candidates(docs, paper_segments[1])
    texts = [c.text for c in found]
    assert "Integradoras success was related to small numbers, the larger the number of associated members more " \
           "coordination and communication problems were found." in texts
    assert any(t.startswith("1) Learning process began not at the production level") for t in texts)  # a list item
    assert {c.kind for c in found} == {"emphasis", "list item"} and len({c.id for c in found}) == len(found)
    assert all(c.id == candidate_id(c.text) and re.fullmatch(r"c-[0-9a-f]{8}", c.id) for c in found)
    assert candidate_id("Self  financing was *the* rule") == candidate_id("self financing was the rule")
    from qualcode.codebook import load_codebook

    adopted = parse_claims(candidates_yaml(found), "claims.yaml", docs, load_codebook(ROOT / "codebook.yaml").codebook)
    assert [c.id for c in adopted] == [c.id for c in found]


# -- matrices and graph -----------------------------------------------------------------------------

def test_claim_matrix_rows_count_stances_and_documents(study):
    from qualcode.claim_map import claim_matrix_rows

    rows = claim_matrix_rows("claim-case", study.claims, study.index)
    assert rows[0] == ["claim", "case", "claim_case", "anchors", "supports", "contradicts", "qualifies", "related",
                       "documents"]
    by = {(r[0], r[1]): r for r in rows[1:]}
    assert by[("crisis-origin", "tijuana")][2] is True and by[("crisis-origin", "ciudad-hidalgo")][2] is True
    xo = by[("bureaucracy-failure", "xoxtla")]
    assert xo[3] == 1 and xo[4] == 1 and xo[8] == 2  # the paper's anchor, the Xoxtla note: two documents
    themes = claim_matrix_rows("claim-theme", study.claims, study.index)
    gov = {(r[0], r[1]): r for r in themes[1:]}[("no-government-benefits", "government")]
    assert gov[2] is True and gov[3] == 1 and gov[5] == 1  # the contradicting passage is coded government


def test_claim_graph_nodes_and_gephi_rules(study, tmp_path):
    import subprocess as sp

    from qualcode.claim_map import add_claims
    from qualcode.export import write_graph
    from qualcode.graph import build_graph

    r = study.result
    G = build_graph(r.segments, r.codebook.codebook, {d.id: d for d in r.documents})
    add_claims(G, study.claims, study.index, with_evidence=True)
    node = G.nodes["claim:crisis-origin"]
    assert node["kind"] == "claim" and node["label"].startswith("Furniture integradoras emerged")
    assert len(node["label"]) <= 48 and node["statement"] == "Furniture integradoras emerged as a response to the financial crisis."
    edge = G.edges["claim:crisis-origin", "case:tijuana"]
    assert edge["relation"] == "claim-case" and edge["count"] >= 1 and edge["claimed"] is True
    assert G.edges["claim:crisis-origin", "theme:crisis"]["relation"] == "claim-theme"
    segs = [n for n in G["claim:crisis-origin"] if G.nodes[n]["kind"] == "segment"]
    assert segs and all({"doc", "line", "text"} <= set(G.nodes[n]) for n in segs)
    path = tmp_path / "claims.gexf"
    write_graph(G, path)
    pytest.importorskip("lxml")
    tool = requires_shared("tools", "validate-xml")
    done = sp.run([sys.executable, str(tool), str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    from test_export_gexf import gephi_lite

    lite = gephi_lite(path)
    assert lite.returncode == 0, lite.stdout + lite.stderr


# -- commands ----------------------------------------------------------------------------------------

def test_cli_claims_json_and_text():
    done = run_cli("claims", "--format", "json", "-q")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    ids = [c["id"] for c in data["claims"]]
    assert "banks-distrust" in ids and "related is not supporting" in data["note"]
    c = data["claims"][ids.index("no-government-benefits")]
    assert c["evidence"]["contradicts"] == 1 and c["anchors"][0]["location"] == f"{PAPER}:155"


def test_cli_trace_text_json_and_unknown_id(tmp_path):
    done = run_cli("trace", "crisis-origin", "-q")
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout  # plain on a pipe
    assert "anchor 1: paper/ruiz-duran-1998-clustering.md:167" in done.stdout
    assert "[[Furniture]]" in done.stdout or "[[crisis]]" in done.stdout  # matched words marked
    assert re.search(r"code crisis: term:crisis at codebook\.yaml:\d+:\d+", done.stdout)
    assert "supports (2)" in done.stdout and "qualifies (1)" in done.stdout
    js = json.loads(run_cli("trace", "banks-distrust", "-q", "--format", "json").stdout)
    related = js["evidence"]["related"]
    assert related and {"themes", "cases", "theme_share", "case_share", "similarity"} == set(related[0]["parts"])
    cited = [p for e in related for p in e["pointers"]]
    assert cited and all(p["resolved"] and p["passages"][0]["doc"] == PAPER for p in cited)
    bad = run_cli("trace", "banks-distrus", "-q")
    assert bad.returncode == 2 and "unknown claim id 'banks-distrus'; did you mean 'banks-distrust'?" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_claims_bad_file_exit_2(tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text("claims:\n  - id: x\n    statement: s\n    anchors: [{doc: paper/nope.md, quote: q}]\n"
                   "    themes: [nope]\n  - id: x\n  - id: y\n")
    done = run_cli("claims", "--claims", str(bad), "-q")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert any(":4:" in x and "unknown document 'paper/nope.md'" in x for x in lines)
    assert any(":5:" in x and "unknown code 'nope'" in x for x in lines)
    assert any(":6:" in x and "duplicate claim id 'x'" in x for x in lines)
    assert any(":7:" in x and "missing 'statement'" in x for x in lines)


def test_cli_candidates_yaml_is_valid_claims(tmp_path):
    done = run_cli("claims", "--candidates", "--format", "yaml", "-q")
    assert done.returncode == 0, done.stderr
    (tmp_path / "claims.yaml").write_text(done.stdout)
    listed = run_cli("claims", "--claims", str(tmp_path / "claims.yaml"), "--format", "json", "-q")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["claims"]) >= 20


def test_cli_run_writes_claims_outputs(tmp_path):
    import shutil

    for name in ("corpus", "codings"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("codebook.yaml", "claims.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    done = run_cli("run", "-q", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    for name in ("claims.json", "matrix-claim-case.csv", "matrix-claim-theme.csv"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "graph-claims.gexf").exists()  # the claim nodes are in graph.gexf itself
    assert len(json.loads((out / "claims.json").read_text())["claims"]) == 9
    with_claims = _graph_files(out)
    for G in with_claims.values():
        claims = [n for n, k in G.nodes(data="kind") if k == "claim"]
        assert len(claims) == 9 and all(n.startswith("claim:") for n in claims)
        relations = {G.edges[e].get("relation") for e in G.edges(claims)}
        assert relations == {"claim-case", "claim-theme"}
    from test_export_gexf import validate

    done = validate(out / "graph.gexf")
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "claims.yaml").unlink()
    shutil.rmtree(out)
    assert run_cli("run", "-q", "-o", "out", cwd=tmp_path).returncode == 0
    assert not (out / "claims.json").exists()
    without = _graph_files(out)
    for name, G in without.items():
        assert not [n for n, k in G.nodes(data="kind") if k == "claim"]
        assert with_claims[name].number_of_nodes() == G.number_of_nodes() + 9, name


def _graph_files(out):
    from qualcode.export import read_graph

    return {name: read_graph(out / name) for name in ("graph.gexf", "graph.graphml", "graph.json")}


@pytest.mark.parametrize("option, claim_nodes", [((), 9), (("--claims", ""), 0)])
def test_cli_graph_has_the_claims_beside_the_codebook(tmp_path, option, claim_nodes):
    """graph takes claims.yaml beside the codebook when it exists; --claims '' for none."""
    import shutil

    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    for name in ("codebook.yaml", "claims.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    done = run_cli("graph", "-q", *option, "-o", "g.gexf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from qualcode.export import read_graph

    G = read_graph(tmp_path / "g.gexf")
    assert sum(k == "claim" for _, k in G.nodes(data="kind")) == claim_nodes


def test_evidence_bm25_matrix_equals_rank_bm25_scores(study):
    """The sparse weight matrix gives rank-bm25's own BM25Okapi scores."""
    import numpy as np

    index = study.index
    query = index._lemmatise("Banks would not lend to integradoras, so they relied on self-financing and credit")
    ids = list(range(0, index.n_units, 7))
    expected = index.bm25.get_batch_scores(query, ids)
    assert np.allclose(index.similarity(query)[ids], expected) and max(expected) > 0


@pytest.mark.parametrize("limit", [0, 1, 3, 10, None])
def test_evidence_limit_keeps_the_best_in_order(study, limit):
    claim = next(c for c in study.claims if c.id == "small-numbers")
    everything = study.index.rank(claim, None)
    assert study.index.rank(claim, limit) == (everything if limit is None else everything[:limit])
    totals = [round(t + c + s, 4) for _, t, c, s in everything]
    assert totals == sorted(totals, reverse=True)


def test_cli_claims_and_trace_from_the_store_equal_computing_from_scratch(tmp_path):
    """claims and trace read the codings from a built store; their output is byte for byte
    that of coding from scratch (--no-store), also when the store is stale or missing, and
    standard error says which it was."""
    import shutil

    for name in ("corpus", "codings"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("codebook.yaml", "claims.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    commands = [("claims",), ("claims", "--format", "json"), ("trace", "small-numbers"),
                ("trace", "banks-distrust", "--format", "json")]

    def outputs(*extra):
        done = [run_cli(*c, *extra, cwd=tmp_path) for c in commands]
        assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
        return [d.stdout for d in done], [d.stderr for d in done]

    cached = "claims and evidence read from the claims cache"
    scratch, notes = outputs("--no-store")
    assert all("no project store used: coded all 11 documents" in n for n in notes)
    missing, notes = outputs()  # the first run builds the store and the claims cache
    assert missing == scratch and "store missing or stale: coded 11 of 11" in notes[0]
    assert all(cached in n for n in notes[1:])
    (tmp_path / ".qualcode" / "project.claims.sqlite").unlink()
    assert run_cli("code", "-q", cwd=tmp_path).returncode == 0
    built, notes = outputs()
    assert built == scratch and "codings read from the store" in notes[0] and "11 documents unchanged" in notes[0]
    assert all(cached in n and "11 documents unchanged" in n for n in notes[1:])
    notes_file = tmp_path / "corpus" / "interviews" / "tijuana-furniture.md"
    notes_file.write_text(notes_file.read_text(encoding="utf-8") + "\nOne more line about credit.\n", encoding="utf-8")
    stale_scratch, _ = outputs("--no-store")
    stale, notes = outputs()
    assert stale == stale_scratch and "coded 1 of 11 documents again" in notes[0]
    assert all(cached in n for n in notes[1:])
    assert all(isinstance(s, str) and s for s in built)


@pytest.mark.parametrize(("option", "kept"), [(("--where", "sector=garment"), 2), (("--where", "sector=furniture"), 8),
                                             (("--docs", "interviews/"), 9)])
def test_cli_graph_filtered_claims_count_only_the_kept_documents(tmp_path, option, kept):
    """With --where or --docs, a claim counts only passages in the kept documents (a claim
    with none there is left out) and brings no case or theme from the other documents."""
    import shutil

    from qualcode.export import read_graph

    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    for name in ("codebook.yaml", "claims.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for out, claims in (("with.gexf", ()), ("without.gexf", ("--claims", ""))):
        done = run_cli("graph", "-q", *option, *claims, "-o", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    G, plain = read_graph(tmp_path / "with.gexf"), read_graph(tmp_path / "without.gexf")
    claims = [n for n, k in G.nodes(data="kind") if k == "claim"]
    assert len(claims) == kept
    assert set(G) - set(claims) == set(plain)
    everything = read_graph(_full_graph(tmp_path))
    assert all(G.nodes[c]["segments"] <= everything.nodes[c]["segments"] for c in claims)


def _full_graph(tmp_path):
    done = run_cli("graph", "-q", "-o", "all.gexf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "all.gexf"


def test_claims_listing_counts_what_is_shown_and_what_was_found(study):
    """A claim's listing says how many related passages it shows and how many qualcode
    found: the same number trace gives with no limit."""
    from qualcode.claims_output import claims_records, claims_text

    records = {r["id"]: r for r in claims_records(study.claims, study.index)["claims"]}
    text = claims_text(study.claims, study.index)
    for claim in study.claims:
        found = len(study.index.rank(claim, None))
        r = records[claim.id]
        assert r["related_found"] == found and r["evidence"]["related"] == min(found, 10)
        if found > 10:
            assert f"10 related (best of {found}) in" in text
