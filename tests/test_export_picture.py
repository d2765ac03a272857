"""The picture of the graph (``.svg``, ``.png``): drawn with the optional matplotlib, as
the graph opens in Gephi, deterministic, with a clear message when the extra is missing."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from conftest import ROOT

from qualcode.errors import QualcodeError
from qualcode.export import export_all, write_graph
from qualcode.graph import build_graph
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Segment

CODEBOOK = Codebook(
    codes={"finance": Code("finance", "Finance", color="#1f77b4"), "trust": Code("trust", "Confianza", color="#ff7f0e"),
           "learning": Code("learning", "Aprendizaje", color="#9467bd")},
    cases={"puebla": Case("puebla", "Puebla", "state"), "teziutlan": Case("teziutlan", "Teziutlán", "city", "puebla")},
)
DOCUMENTS = [Document("paper/p.md", "", {"title": "Clustering: Joint Learning Experience", "kind": "paper"}),
             Document("interviews/i.md", "", {"title": "Entrevista <1997> & más", "kind": "interview"})]


def seg(doc, n, para, codes, cases=()):
    return CodedSegment(Segment(doc, f"s{n}", n, n + 1, n, "sentence", para), "", tuple(sorted(codes)), cases, ())


SEGMENTS = [seg("paper/p.md", 1, 1, ("finance", "trust"), ("teziutlan",)), seg("paper/p.md", 2, 2, ("learning",)),
            seg("interviews/i.md", 3, 1, ("learning", "finance", "trust"), ("puebla",))]



def graph() -> nx.Graph:
    return build_graph(SEGMENTS, CODEBOOK, DOCUMENTS)


def run(code: str) -> subprocess.CompletedProcess:
    """Python with qualcode from this tree and matplotlib made unimportable (as when the extra is missing)."""
    blocked = "import sys; sys.modules['matplotlib'] = None\n"
    return subprocess.run([sys.executable, "-c", blocked + code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


@pytest.mark.parametrize(("name", "magic"), [("g.svg", b"<?xml"), ("g.png", b"\x89PNG\r\n\x1a\n")])
def test_export_picture_svg_and_png_are_deterministic(tmp_path, name, magic):
    pytest.importorskip("matplotlib")
    assert write_graph(graph(), tmp_path / name) == [tmp_path / name]
    write_graph(graph(), tmp_path / ("again-" + name))
    data = (tmp_path / name).read_bytes()
    assert data.startswith(magic) and data == (tmp_path / ("again-" + name)).read_bytes()
    write_graph(graph(), tmp_path / ("seed-" + name), seed=7)
    assert (tmp_path / ("seed-" + name)).read_bytes() != data  # the layout's seed shows
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # written atomically


def test_export_picture_svg_shows_every_label_and_the_legend(tmp_path):
    pytest.importorskip("matplotlib")
    write_graph(graph(), tmp_path / "g.svg")
    root = ET.parse(tmp_path / "g.svg").getroot()
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Finance", "Confianza", "Aprendizaje", "Puebla", "Teziutlán", "Clustering",
            "Entrevista <1997> & más"} <= texts
    assert {"case: state", "case: city", "document", "cooccurrence (c_coefficient)",
            "theme-case (share_of_theme_segments)"} <= texts


@pytest.mark.parametrize("G", [nx.Graph(), nx.path_graph(1)], ids=["empty", "one-node"])
def test_export_picture_of_a_tiny_graph(tmp_path, G):
    pytest.importorskip("matplotlib")
    write_graph(G, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0


def test_export_picture_without_matplotlib_names_the_extra(tmp_path):
    done = run("from qualcode.export import write_graph\nimport networkx as nx\n"
               "from qualcode.errors import QualcodeError\n"
               f"try: write_graph(nx.path_graph(2), {str(tmp_path / 'g.svg')!r})\n"
               "except QualcodeError as e: print(e)\n")
    assert "needs matplotlib: pip install 'qualcode[plot]'" in done.stdout, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_picture_without_matplotlib_cli_exits_2(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("They took a loan. Design matters, design and loans.\n")
    (tmp_path / "codebook.yaml").write_text(
        "codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan]\n"
        "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n")
    done = run(f"import os; os.chdir({str(tmp_path)!r})\nfrom qualcode.cli import main\n"
               "raise SystemExit(main(['graph', '-o', 'g.png', '-o', 'g.gexf']))")
    assert done.returncode == 2 and "qualcode[plot]" in done.stderr and "Traceback" not in done.stderr


def test_export_picture_run_output_has_it_only_with_the_extra(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        without = export_all(SEGMENTS, CODEBOOK, DOCUMENTS, tmp_path / "a", picture=False)
    assert "graph.svg" not in {p.name for p in without}
    done = run(f"from qualcode.export import export_all\nfrom qualcode.model import Codebook\n"
               f"print(sorted(p.name for p in export_all([], Codebook({{}}, {{}}), [], {str(tmp_path / 'b')!r})))")
    assert done.returncode == 0 and "graph.gexf" in done.stdout and "graph.svg" not in done.stdout, done.stderr
    pytest.importorskip("matplotlib")
    files = export_all(SEGMENTS, CODEBOOK, DOCUMENTS, tmp_path / "c")
    assert (tmp_path / "c" / "graph.svg") in files and (tmp_path / "c" / "graph.svg").stat().st_size > 0


def test_export_picture_help_does_not_import_matplotlib():
    code = ("import sys; from qualcode.cli import main\ntry: main(['graph', '--help'])\nexcept SystemExit: pass\n"
            "assert 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_export_picture_unknown_format_is_an_error(tmp_path):
    pytest.importorskip("matplotlib")
    from qualcode.export.picture import write_picture

    with pytest.raises(QualcodeError, match="'pdf'"):
        write_picture(graph(), tmp_path / "g.pdf")


def test_export_layout_puts_claims_on_a_ring_between_themes_and_cases(tmp_path):
    """Claim nodes do not turn the layout into one ForceAtlas2 hairball: cases, documents and
    claims each lie on their own circle about the themes' centre (claims inside the cases),
    and the picture's legend names claims and their relations."""
    import numpy as np

    from qualcode.graph import RING_RADIUS, layout

    G = graph()
    themes = [n for n, a in G.nodes(data=True) if a["kind"] == "theme"]
    cases = [n for n, a in G.nodes(data=True) if a["kind"] == "case"]
    for i, theme in enumerate(themes):
        case = cases[i % len(cases)]
        G.add_node(f"claim:c{i}", kind="claim", label=f"claim {i}", color="#d62728", segments=1)
        G.add_edge(f"claim:c{i}", theme, relation="claim-theme", weight=1.0, weight_measure="share_of_claim_passages")
        G.add_edge(f"claim:c{i}", case, relation="claim-case", weight=0.5, weight_measure="share_of_claim_passages")
    pos = {n: np.array(p) for n, p in layout(G).items()}
    assert len(themes) >= 3
    a, b, c = (pos[f"claim:c{i}"] for i in range(3))  # the circle through three claims
    A = 2 * np.array([b - a, c - a])
    centre = np.linalg.solve(A, [b @ b - a @ a, c @ c - a @ a])
    radius = {kind: [float(np.linalg.norm(pos[n] - centre)) for n, k in G.nodes(data="kind") if k == kind]
              for kind in ("case", "document", "claim")}
    for kind, rs in radius.items():
        assert max(rs) - min(rs) < 1e-3 * max(rs), kind
        assert rs[0] / radius["case"][0] == pytest.approx(RING_RADIUS[kind] / RING_RADIUS["case"], rel=1e-3)
    pytest.importorskip("matplotlib")
    write_graph(G, tmp_path / "g.svg")
    texts = {"".join(t.itertext()).strip() for t in ET.parse(tmp_path / "g.svg").getroot().iter(
        "{http://www.w3.org/2000/svg}text")}
    assert {"claim", "claim-theme (share_of_claim_passages)", "claim-case (share_of_claim_passages)",
            "case: state", "document"} <= texts
