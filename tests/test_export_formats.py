"""GraphML, node-link JSON and Gephi CSV exports; ``write_graph`` dispatch; ``export_all``."""
from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from qualcode.errors import QualcodeError
from qualcode.export import export_all, graph_format, read_graph, write_graph
from qualcode.graph import build_graph
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Segment

CODEBOOK = Codebook(
    codes={"finance": Code("finance", "Finance, credit", definition='"Money"\nand loans', color="#1f77b4"),
           "trust": Code("trust", "Confianza", color="#ff7f0e"),
           "learning": Code("learning", "Aprendizaje", color="#9467bd")},
    cases={"puebla": Case("puebla", "Puebla", "state"), "teziutlan": Case("teziutlan", "Teziutlán", "city", "puebla")},
)
DOCUMENTS = [Document("paper/p.md", "", {"title": "Clustering", "kind": "paper"}),
             Document("interviews/i.md", "", {"title": "Entrevista", "kind": "interview"})]


def seg(doc, n, para, codes, cases=(), context=()):
    return CodedSegment(Segment(doc, f"s{n}", n, n + 1, n, "sentence", para), "", tuple(sorted(codes)), cases, context)


SEGMENTS = [
    seg("paper/p.md", 1, 1, ("finance", "trust"), ("teziutlan",)),
    seg("paper/p.md", 2, 1, ("learning",), (), ("puebla",)),
    seg("paper/p.md", 3, 2, ("finance",)),
    seg("interviews/i.md", 4, 1, ("learning", "finance", "trust"), ("puebla",)),
    seg("interviews/i.md", 5, 2, ("trust",), (), ("teziutlan",)),
]


def corpus_graph(segments=SEGMENTS) -> nx.Graph:
    return build_graph(segments, CODEBOOK, DOCUMENTS)


LAYOUT = ("x", "y", "size")  # what GraphML adds to every node: the GEXF layout


def same_graph(G: nx.Graph, H: nx.Graph, *, empty_is_missing: bool = False, ignore: tuple[str, ...] = ()) -> None:
    """Nodes, edges and every attribute equal (CSV cannot tell an empty string from a missing value)."""
    def clean(a):
        return {k: v for k, v in a.items() if not (empty_is_missing and v == "") and k not in ignore}

    assert sorted(H) == sorted(G)
    assert {n: clean(a) for n, a in H.nodes(data=True)} == {n: clean(a) for n, a in G.nodes(data=True)}
    assert {frozenset(e) for e in H.edges()} == {frozenset(e) for e in G.edges()}
    for u, v, a in G.edges(data=True):
        assert H.edges[u, v] == a


@pytest.mark.parametrize("name", ["graph.graphml", "graph.json"])
def test_export_formats_round_trip(tmp_path, name):
    G = corpus_graph()
    assert write_graph(G, tmp_path / name) == [tmp_path / name]
    H = read_graph(tmp_path / name)
    same_graph(G, H, ignore=LAYOUT if name.endswith(".graphml") else ())
    assert H.graph == G.graph


def test_export_formats_graphml_carries_the_gexf_layout(tmp_path):
    G = corpus_graph()
    write_graph(G, tmp_path / "g.graphml")
    write_graph(G, tmp_path / "g.gexf")
    write_graph(G, tmp_path / "g.json")
    H, X = read_graph(tmp_path / "g.graphml"), read_graph(tmp_path / "g.gexf")
    for n in G:
        assert {k: H.nodes[n][k] for k in LAYOUT} == {k: X.nodes[n][k] for k in LAYOUT}
    assert len({(H.nodes[n]["x"], H.nodes[n]["y"]) for n in G}) == G.number_of_nodes()
    assert "x" not in read_graph(tmp_path / "g.json").nodes["theme:finance"]  # JSON keeps the graph as it is


def test_export_formats_gephi_csv_round_trip(tmp_path):
    G = corpus_graph()
    written = write_graph(G, tmp_path / "graph.csv")
    assert written == [tmp_path / "graph.nodes.csv", tmp_path / "graph.edges.csv"]
    same_graph(G, read_graph(tmp_path / "graph.csv"), empty_is_missing=True)


def test_export_formats_gephi_csv_headers(tmp_path):
    write_graph(corpus_graph(), tmp_path / "g.csv")
    nodes = list(csv.reader((tmp_path / "g.nodes.csv").open(encoding="utf-8")))
    edges = list(csv.reader((tmp_path / "g.edges.csv").open(encoding="utf-8")))
    assert nodes[0][:2] == ["Id", "Label"] and "kind" in nodes[0] and "label" not in nodes[0]
    assert edges[0][:4] == ["Source", "Target", "Type", "Weight"] and "weight" not in edges[0]
    assert {row[2] for row in edges[1:]} == {"Undirected"}
    finance = next(r for r in nodes if r[0] == "theme:finance")
    assert finance[1] == "Finance, credit" and finance[nodes[0].index("definition")] == '"Money"\nand loans'
    assert [r[0] for r in nodes[1:]] == list(corpus_graph())  # the graph's order: codebook order, then ids
    measure = edges[0].index("weight_measure")  # what each row's Weight means
    assert {r[measure] for r in edges[1:]} == {"c_coefficient", "share_of_theme_segments"}
    unequal = edges[0].index("unequal")
    assert {r[unequal] for r in edges[1:]} == {"", "false"}  # theme-case edges have no such value


@pytest.mark.parametrize(
    ("name", "files"),
    [("x.nodes.csv", ["x.nodes.csv"]), ("x.edges.csv", ["x.edges.csv"]), ("X.CSV", ["X.nodes.csv", "X.edges.csv"])],
)
def test_export_formats_csv_naming_rule(tmp_path, name, files):
    assert write_graph(corpus_graph(), tmp_path / name) == [tmp_path / f for f in files]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.gexf", "gexf"), ("a.GEXF", "gexf"), ("a.graphml", "graphml"), ("a.json", "json"), ("a.csv", "csv"),
     ("out/a.nodes.csv", "nodes-csv"), ("a.edges.csv", "edges-csv")],
)
def test_export_formats_format_from_suffix(name, fmt):
    assert graph_format(name) == fmt


@pytest.mark.parametrize("name", ["graph.gexff", "graph", "graph.xml"])
def test_export_formats_unknown_suffix_is_quoted(tmp_path, name):
    with pytest.raises(QualcodeError) as err:
        write_graph(corpus_graph(), tmp_path / name)
    assert repr(Path(name).suffix) in str(err.value) and ".csv, .gexf, .graphml, .json" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("target", "fmt", "message"), [
    ("-", None, "needs a format"), (io.StringIO(), None, "needs a format"), ("-", "csv", "a nodes and an edges table"),
    ("-", "yaml", "'yaml'"),
])
def test_export_formats_dispatch_errors(target, fmt, message):
    with pytest.raises(QualcodeError, match=message):
        write_graph(corpus_graph(), target, format=fmt)


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "json", "nodes-csv", "edges-csv"])
def test_export_formats_stdout_and_open_files_match_the_file(tmp_path, capsys, fmt):
    G = corpus_graph()
    suffix = {"nodes-csv": ".nodes.csv", "edges-csv": ".edges.csv"}.get(fmt, "." + fmt)
    path = tmp_path / f"g{suffix}"
    write_graph(G, path)
    assert write_graph(G, "-", format=fmt) == []
    assert capsys.readouterr().out == path.read_text(encoding="utf-8")
    binary, text = io.BytesIO(), io.StringIO()
    write_graph(G, binary, format=fmt)
    write_graph(G, text, format=fmt)
    assert binary.getvalue() == path.read_bytes() == text.getvalue().encode("utf-8")
    with path.open("w", encoding="utf-8", newline="") as fh:  # an open file's name tells the format
        write_graph(G, fh)
    assert path.read_bytes() == binary.getvalue()


@pytest.mark.parametrize("name", ["g.gexf", "g.graphml", "g.json", "g.nodes.csv", "g.edges.csv"])
def test_export_formats_deterministic(tmp_path, name):
    shuffled = SEGMENTS[:]
    random.Random(5).shuffle(shuffled)
    write_graph(corpus_graph(), tmp_path / "a" / name)
    write_graph(corpus_graph(), tmp_path / "b" / name)
    write_graph(corpus_graph(shuffled), tmp_path / "c" / name)
    a, b, c = ((tmp_path / d / name).read_bytes() for d in "abc")
    assert a == b == c and a.endswith(b"\n")


def test_export_formats_json_is_sorted_node_link(tmp_path):
    write_graph(corpus_graph(), tmp_path / "g.json")
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert set(data) == {"directed", "multigraph", "graph", "nodes", "edges"}
    ids = [n["id"] for n in data["nodes"]]
    assert ids == list(corpus_graph()) and all(next(iter(n)) == "id" for n in data["nodes"])
    assert ids == ["theme:finance", "theme:trust", "theme:learning", "case:puebla", "case:teziutlan",
                   "doc:interviews/i.md", "doc:paper/p.md"]  # themes and cases in codebook order, documents by id
    pairs = [(e["source"], e["target"]) for e in data["edges"]]
    assert pairs == [tuple(e) for e in corpus_graph().edges()] and all(ids.index(s) < ids.index(t) for s, t in pairs)
    assert "Teziutlán" in (tmp_path / "g.json").read_text(encoding="utf-8")  # UTF-8, not \\u escapes


@pytest.mark.parametrize("name", ["g.graphml", "g.json", "g.csv"])
def test_export_formats_hold_values_networkx_cannot(tmp_path, name):
    G = nx.Graph()
    G.add_node("a", count=np.int64(3), share=np.float32(0.5), none=None, tags=["x", "y"], nan=float("nan"))
    G.add_node("b", label="B")
    G.add_edge("a", "b", weight=np.float64(0.5), note=None, flag=np.bool_(False))
    write_graph(G, tmp_path / name)
    H = read_graph(tmp_path / name)
    got = {k: v for k, v in H.nodes["a"].items() if k != "label" and k not in LAYOUT}
    assert got == {"count": 3, "share": 0.5, "tags": "x; y"}
    assert H.edges["a", "b"] == {"weight": 0.5, "flag": False}


def test_export_formats_export_all_writes_every_file(tmp_path):
    out = tmp_path / "out"
    paths = export_all(SEGMENTS, CODEBOOK, DOCUMENTS, out, unit="sentence", roll_up="state", picture=False)
    names = ["graph.gexf", "graph.graphml", "graph.json", "graph.nodes.csv", "graph.edges.csv",
             "matrix-theme-theme.csv", "matrix-theme-case.csv", "matrix-theme-document.csv"]
    assert paths == [out / n for n in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temporary files left
    G = build_graph(SEGMENTS, CODEBOOK, DOCUMENTS, unit="sentence", roll_up="state")
    for name in ("graph.gexf", "graph.graphml", "graph.json"):
        H = read_graph(out / name)
        assert sorted(H) == sorted(G) == ["case:puebla", "doc:interviews/i.md", "doc:paper/p.md",
                                          "theme:finance", "theme:learning", "theme:trust"]
        assert H.number_of_edges() == G.number_of_edges()
    for name in ("graph.gexf", "graph.graphml", "graph.json", "graph.nodes.csv"):  # the same as one by one
        write_graph(G, tmp_path / "single" / name)
        assert (out / name).read_bytes() == (tmp_path / "single" / name).read_bytes(), name
    header = (out / "matrix-theme-case.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "theme,label,puebla,puebla (context)"


def test_export_formats_export_all_on_empty_corpus(tmp_path):
    with pytest.warns(UserWarning, match="no coded segments"):
        paths = export_all([], CODEBOOK, [], tmp_path, picture=False)
    assert len(paths) == 8 and all(p.exists() for p in paths)
    assert (tmp_path / "matrix-theme-theme.csv").read_text().startswith("theme_a,theme_b,count,")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_graph(tmp_path / "graph.json").number_of_nodes() == 0


def test_export_formats_every_xml_export_valid_with_control_characters_in_names(tmp_path):
    """A control character in a file name, a title or a front-matter value cannot make an export invalid."""
    from conftest import requires_shared

    from qualcode.project import run_project

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes\x01\x1b.md").write_text(
        '---\ntitle: "Visit\\x0b notes\\x01: Puebla"\nkind: interview\nsector: "gar\\x02ment"\n---\n'
        "They took a loan in Puebla. Design matters.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Firms got credit and design help.\n", encoding="utf-8")
    (tmp_path / "codebook.yaml").write_text(
        "codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, credit]\n"
        "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n"
        "cases:\n  - id: puebla\n    name: Puebla\n    kind: state\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_project(corpus, tmp_path / "codebook.yaml", tmp_path / "out")
    names = {p.name for p in report.files}
    assert {"graph.gexf", "graph.graphml"} <= names
    for path in report.files:
        if path.suffix in (".gexf", ".graphml", ".svg"):
            root = ET.parse(path).getroot()  # well-formed XML, or this raises
            assert "Visit notes" in ET.tostring(root, encoding="unicode") or path.suffix == ".svg", path.name
    G = read_graph(tmp_path / "out" / "graph.graphml")
    assert "doc:notes.md" in G and G.nodes["doc:notes.md"]["sector"] == "garment"
    assert "doc:notes\x01\x1b.md" in read_graph(tmp_path / "out" / "graph.json")  # JSON can hold them: kept
    tool = requires_shared("tools", "validate-xml")
    pytest.importorskip("lxml", reason="validate-xml needs lxml")
    done = subprocess.run([sys.executable, str(tool), str(tmp_path / "out" / "graph.gexf")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_export_formats_ids_told_apart_only_by_control_characters_are_an_error(tmp_path):
    G = nx.Graph()
    G.add_edge("doc:a\x01.md", "doc:a.md")
    with pytest.raises(QualcodeError, match="differ only in control characters"):
        write_graph(G, tmp_path / "g.graphml")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kind", "first_column", "header"), [
    ("theme-theme", ["theme_a", "finance", "finance", "trust"], None),
    ("theme-case", ["theme", "finance", "trust", "learning"],
     "theme,label,puebla,teziutlan,puebla (context),teziutlan (context)"),
    ("theme-document", ["theme", "finance", "trust", "learning"], "theme,label,interviews/i.md,paper/p.md"),
])
def test_export_formats_matrices_in_codebook_order(tmp_path, kind, first_column, header):
    from qualcode.export import write_matrix

    write_matrix(kind, SEGMENTS, CODEBOOK, DOCUMENTS, tmp_path / "m.csv")
    rows = list(csv.reader((tmp_path / "m.csv").open(encoding="utf-8")))
    assert [r[0] for r in rows] == first_column  # the codebook's order, as in the coding records
    if header:
        assert ",".join(rows[0]) == header
