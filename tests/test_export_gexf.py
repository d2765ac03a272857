"""GEXF export: valid GEXF 1.3, read by Gephi Lite's parser without loss, and by networkx.

The schema and Gephi Lite checks use the tools in ../shared (present in CI, absent in
a user's clone: those tests then skip and say why).
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from qualcode.errors import QualcodeError
from qualcode.export import generate_gexf, read_gexf, write_gexf
from qualcode.graph import build_graph
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Segment

SHARED = Path(__file__).resolve().parents[2] / "shared"
NS = {"g": "http://gexf.net/1.3", "viz": "http://gexf.net/1.3/viz"}

CODEBOOK = Codebook(
    codes={"finance": Code("finance", "Finance & credit", definition='Money, "loans" <and> more', color="#1f77b4"),
           "trust": Code("trust", "Confianza", color="#FF7F0E", parent="cooperation"),
           "cooperation": Code("cooperation", "Cooperación", color="#2ca02c"),
           "learning": Code("learning", "Aprendizaje conjunto", color="#9467bd")},
    cases={"mexico": Case("mexico", "México", "country"),
           "puebla": Case("puebla", "Puebla", "state", "mexico"),
           "teziutlan": Case("teziutlan", "Teziutlán", "city", "puebla")},
)
DOCUMENTS = [Document("paper/p.md", "", {"title": "Clustering: Joint Learning", "kind": "paper"}),
             Document("interviews/ä.md", "", {"title": "Entrevista — Teziutlán", "kind": "interview"})]


def seg(doc, n, para, codes, cases=(), context=()):
    s = Segment(doc, f"s{n}", n, n + 1, n, "sentence", para)
    return CodedSegment(s, "", tuple(sorted(codes)), cases, context)


SEGMENTS = [
    seg("paper/p.md", 1, 1, ("finance", "trust", "cooperation"), ("teziutlan",)),
    seg("paper/p.md", 2, 1, ("learning",), (), ("puebla",)),
    seg("paper/p.md", 3, 2, ("finance",)),
    seg("interviews/ä.md", 4, 1, ("learning", "finance"), ("puebla", "mexico")),
    seg("interviews/ä.md", 5, 2, ("trust", "cooperation"), (), ("teziutlan",)),
]


def corpus_graph(**options) -> nx.Graph:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_graph(SEGMENTS, CODEBOOK, DOCUMENTS, **options)


def odd_graph() -> nx.Graph:
    """A graph not built by qualcode: None, lists, numpy numbers, reserved names, control characters."""
    G = nx.Graph(description="odd\x0b graph")
    G.add_node("a", label="A\x01 <b>", size=np.float32(12.5), x=1.5, y=-2, color="#abc",
               count=np.int64(7), ratio=np.float64(0.25), flag=np.bool_(True), missing=None, tags=["x", "y"])
    G.add_node(2, mixed=1)
    G.add_node("c", mixed=2.5, nan=float("nan"))
    G.add_edge("a", 2, weight=np.float64(2.0), label="e", hits=np.int32(3), note=None)
    G.add_edge("c", "a")
    return G


GRAPHS = {
    "corpus": lambda: corpus_graph(),
    "roll-up": lambda: corpus_graph(roll_up="state", unit="sentence"),
    "themes-only": lambda: corpus_graph(kinds=["theme"]),
    "single-node": lambda: corpus_graph(kinds=["theme"], docs=["paper"], min_count=99).subgraph(["theme:finance"]),
    "odd": odd_graph,
}


def shared_tool(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is provided in CI, not in a user's clone)")
    return path


def validate(path: Path) -> subprocess.CompletedProcess:
    tool = shared_tool("tools", "validate-xml")
    pytest.importorskip("lxml", reason="validate-xml needs lxml")
    return subprocess.run([sys.executable, str(tool), str(path)], capture_output=True, text=True, timeout=120)


def gephi_lite(path: Path, node: str = "") -> subprocess.CompletedProcess:
    tool = shared_tool("tools", "gexf-check", "run")
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("gexf-check needs node and npm, which are not installed")
    done = subprocess.run(["bash", str(tool), str(path), *([node] if node else []), "--lite", "--strict"],
                          capture_output=True, text=True, timeout=600)
    if done.returncode == 4:
        pytest.skip(f"gexf-check could not run: {done.stderr.strip()}")
    return done


def written(tmp_path: Path, G: nx.Graph, name: str = "graph.gexf") -> Path:
    path = tmp_path / name
    write_gexf(G, path)
    return path


def control_graph() -> nx.Graph:
    """A corpus whose file name, title and front matter hold control characters."""
    docs = [Document("paper/p\x01\x1b.md", "", {"title": "Clustering\x0b: Joint", "kind": "paper", "sector": "a\x02b"}),
            DOCUMENTS[1]]
    renamed = {"paper/p.md": docs[0].id}
    segs = [seg(renamed.get(s.segment.doc, s.segment.doc), s.segment.line, s.segment.paragraph, s.codes, s.cases,
                s.context_cases) for s in SEGMENTS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = build_graph(segs, CODEBOOK, docs)
    assert G.nodes["doc:paper/p\x01\x1b.md"]["sector"] == "a\x02b"
    return G


@pytest.mark.parametrize("name", [*GRAPHS, "empty", "control"])
def test_export_gexf_valid_against_gexf_1_3_schemas(tmp_path, name):
    if name == "empty":
        with pytest.warns(UserWarning):
            G = build_graph([], CODEBOOK)
    elif name == "control":
        G = control_graph()
    else:
        G = GRAPHS[name]()
    done = validate(written(tmp_path, G))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", [*GRAPHS, "control"])
def test_export_gexf_parsed_by_gephi_lite_strictly(tmp_path, name):
    G = control_graph() if name == "control" else GRAPHS[name]()
    done = gephi_lite(written(tmp_path, G))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"nodes={G.number_of_nodes()} edges={G.number_of_edges()}" in done.stdout
    if G.number_of_edges():
        assert "graph type=undirected" in done.stdout


def test_export_gexf_gephi_lite_sees_colours_sizes_positions_and_types(tmp_path):
    done = gephi_lite(written(tmp_path, corpus_graph()), "theme:trust")
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith('node "theme:trust" attributes: '))
    attrs = json.loads(line.split("attributes: ", 1)[1])
    assert attrs["color"] == "rgb(255,127,14)"  # no alpha: Gephi Lite would show it grey
    assert attrs["label"] == "Confianza"
    assert attrs["segments"] == 2 and attrs["units"] == 2 and attrs["parent"] == "cooperation"
    assert isinstance(attrs["size"], (int, float)) and isinstance(attrs["x"], (int, float))
    edge = next(x for x in done.stdout.splitlines() if x.startswith("edge "))
    assert "undirected=true" in edge and '"weight":' in edge


@pytest.mark.parametrize("name", GRAPHS)
def test_export_gexf_round_trips_through_networkx(tmp_path, name):
    G = GRAPHS[name]()
    H = read_gexf(written(tmp_path, G))
    assert sorted(H, key=str) == sorted(map(str, G))
    if name == "odd":
        return  # values were changed on purpose (see test_export_gexf_plain_values)
    for n, a in G.nodes(data=True):
        got = H.nodes[n]
        assert {k: got[k] for k in a} == a
        assert set(got) - set(a) == {"size", "x", "y"}
    assert sorted(tuple(sorted(e)) for e in H.edges()) == sorted(tuple(sorted(e)) for e in G.edges())
    for u, v, a in G.edges(data=True):
        assert H.edges[u, v] == a


def test_export_gexf_plain_values(tmp_path):
    H = read_gexf(written(tmp_path, odd_graph()))
    a = H.nodes["a"]
    assert a == {"label": "A <b>", "count": 7, "ratio": 0.25, "flag": True, "tags": "x; y",
                 "color": "#aabbcc", "size": 12.5, "x": 1.5, "y": -2.0}
    assert H.nodes["2"]["mixed"] == 1.0 and H.nodes["c"]["mixed"] == 2.5  # int and float: double
    assert "nan" not in H.nodes["c"]
    assert H.edges["a", "2"] == {"weight": 2.0, "label": "e", "hits": 3}
    assert H.edges["a", "c"] == {"weight": 1.0}


def test_export_gexf_header_and_declared_types(tmp_path):
    root = ET.parse(written(tmp_path, corpus_graph())).getroot()
    assert root.tag == "{http://gexf.net/1.3}gexf" and root.get("version") == "1.3"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").startswith("http://gexf.net/1.3 ")
    graph = root.find("g:graph", NS)
    assert graph.attrib == {"defaultedgetype": "undirected"}  # no name=""
    declared = {(cls.get("class"), a.get("title")): a.get("type")
                for cls in graph.iterfind("g:attributes", NS) for a in cls.iterfind("g:attribute", NS)}
    assert declared[("node", "segments")] == "long" and declared[("node", "kind")] == "string"
    assert declared[("node", "definition")] == "string"
    assert declared[("edge", "c_coefficient")] == "double" and declared[("edge", "p_value")] == "double"
    assert declared[("edge", "unequal")] == "boolean" and declared[("edge", "count")] == "long"
    assert declared[("edge", "weight_measure")] == "string" and declared[("node", "isolated")] == "boolean"
    reserved = {"label", "color", "size", "x", "y", "weight"}
    assert not reserved & {title for _, title in declared}
    for color in root.iter("{http://gexf.net/1.3/viz}color"):
        assert set(color.attrib) == {"r", "g", "b"}
    node = graph.find("g:nodes/g:node[@id='theme:finance']", NS)
    assert node.get("label") == "Finance & credit"
    assert node.find("viz:color", NS).attrib == {"r": "31", "g": "119", "b": "180"}
    sizes = {n.get("id"): float(n.find("viz:size", NS).get("value")) for n in graph.iterfind("g:nodes/g:node", NS)}
    assert sizes["theme:finance"] > sizes["theme:learning"]  # 3 segments against 2
    assert all(e.get("weight") for e in graph.iterfind("g:edges/g:edge", NS))


def test_export_gexf_is_deterministic_and_seeded(tmp_path):
    a = written(tmp_path, corpus_graph(), "a.gexf").read_bytes()
    b = written(tmp_path, corpus_graph(), "b.gexf").read_bytes()
    assert a == b
    buf = io.BytesIO()
    write_gexf(corpus_graph(), buf)
    text = io.StringIO()
    write_gexf(corpus_graph(), text)
    assert buf.getvalue() == a == text.getvalue().encode("utf-8")
    assert ("\n".join(generate_gexf(corpus_graph())) + "\n").encode("utf-8") == a
    other = io.StringIO()
    write_gexf(corpus_graph(), other, seed=7)
    assert other.getvalue() != text.getvalue()


def test_export_gexf_bad_colour_raises_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "graph.gexf"
    path.write_text("old")
    G = nx.Graph()
    G.add_node("n", color="teal")
    with pytest.raises(QualcodeError, match="'teal'"):
        write_gexf(G, path)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["graph.gexf"]
