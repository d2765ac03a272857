"""The evidence report: every section holds what the project says, spans reproduce, nothing
reaches the network, the corpus cannot break out of its script blocks, CLI and run write it."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import run_cli, write_small_project

from qualcode.report import ReportClaim, passage, render_report, write_report

ROOT = Path(__file__).resolve().parents[1]
lxml_html = pytest.importorskip("lxml.html")


@pytest.fixture(scope="module")
def result():
    from qualcode.project import code_project

    return code_project(ROOT / "corpus", ROOT / "codebook.yaml", codings=ROOT / "codings")


def body_passage(doc, quote, note=""):
    i = doc.text.index(quote, doc.body_start)
    return passage(doc, i, i + len(quote), note)


@pytest.fixture(scope="module")
def claim(result):
    docs = {d.id: d for d in result.documents}
    paper, notes = docs["paper/ruiz-duran-1998-clustering.md"], docs["interviews/teziutlan-garment.md"]
    return ReportClaim(
        "self-financing", "Integradoras financed themselves rather than borrow from banks",
        anchors=(body_passage(paper, "Self financing was the rule for most of empresas integradoras."),),
        themes=(("self-financing", "declared"), ("finance", "code on the anchor")),
        cases=(("mexico", "declared"),),
        evidence={"supports": [body_passage(paper, "Self financing was the rule", "declared by the researcher")],
                  "related": [passage(notes, notes.body_start + 60, notes.body_start + 140, "shared themes: finance")]},
        source="claims.yaml:3:5")


@pytest.fixture(scope="module")
def page(result, claim):
    return render_report(result, claims=[claim], codings=ROOT / "codings")


@pytest.fixture(scope="module")
def tree(page):
    return lxml_html.fromstring(page)


def scripts(tree):
    index = json.loads(tree.get_element_by_id("qc-index").text)
    from qualcode.report import unpacked

    docs = [unpacked(s.text) for s in tree.xpath('//script[starts-with(@id, "qc-doc-")]')]
    return index, docs


def test_report_has_every_section(tree):
    for section in ("claims", "codebook", "matrix", "cooccurrence", "documents", "audit"):
        assert tree.get_element_by_id(section) is not None
        assert tree.xpath(f'//nav/a[@href="#{section}"]'), section


def test_report_codebook_has_every_code_with_definition_and_frequencies(tree, result):
    from qualcode.graph import tally

    book = result.codebook.codebook
    t = tally(result.segments, book, result.documents)
    for code in book.codes.values():
        art = tree.get_element_by_id(f"code-{code.id}")
        text = art.text_content()
        assert code.label in text and (code.definition in " ".join(text.split()) if code.definition else True)
        assert f"{t.theme_segments.get(code.id, 0):,} segments in {t.theme_documents.get(code.id, 0):,} documents" in text
    rows = {r.xpath("td[1]")[0].text_content().strip(): [c.text_content() for c in r.xpath("td")[1:]]
            for r in tree.xpath('//table[@class="codes"]/tbody/tr')}
    assert rows["Finance"][:2] == [str(t.theme_segments["finance"]), str(t.theme_documents["finance"])]


def test_report_matrix_and_cooccurrence_match_the_tally(tree, result):
    from qualcode.graph import tally

    book = result.codebook.codebook
    t = tally(result.segments, book, result.documents)
    heads = [th.text_content() for th in tree.xpath('//table[@class="matrix"]/thead/tr/th')[1:]]
    assert heads == [book.cases[c].name for c in t.cases]
    row = next(r for r in tree.xpath('//table[@class="matrix"]/tbody/tr') if r.xpath("th")[0].text_content() == "Finance")
    col = t.cases.index("jalisco")
    cell = row.xpath("td")[col].text_content()
    named, ctx = t.theme_case_named.get(("finance", "jalisco"), 0), t.theme_case_context.get(("finance", "jalisco"), 0)
    assert cell == (str(named) if named else "") + (f"+{ctx}" if ctx else "")
    pairs = tree.xpath('//table[@class="pairs"]/tbody/tr')
    strongest = max((p for p in t.pairs(min_count=1)), key=lambda p: p.c_coefficient)
    first = [td.text_content() for td in pairs[0].xpath("td")]
    assert first[:3] == [book.codes[strongest.theme_a].label, book.codes[strongest.theme_b].label, str(strongest.count)]
    assert len(pairs) == len(t.pairs(min_count=1))


def test_report_claim_with_anchors_and_evidence_by_stance(tree, claim, result):
    art = tree.get_element_by_id("claim-self-financing")
    text = art.text_content()
    assert claim.statement in text and "claims.yaml:3:5" in text
    assert "Supporting (1)" in text and "related is not supporting" in text and "Contradicting" not in text
    links = art.xpath('.//a[@class="passage-link"]')
    assert [a.text for a in links] == [f"{p.doc}:{p.line}" for p in (*claim.anchors, *claim.evidence["supports"],
                                                                       *claim.evidence["related"])]
    assert claim.anchors[0].text in text and "Self financing" in text
    anchor = art.xpath('.//blockquote[@id="claim-self-financing-anchor-1"]')[0]
    labels = [result.codebook.codebook.codes[c].label for c in ("cooperation", "finance", "self-financing")]
    assert [c.text for c in anchor.xpath('.//span[@class="chip theme"]')] == labels  # the codes on the anchor


def test_report_passage_links_point_at_exact_spans(tree, result, claim):
    index, docs = scripts(tree)
    for a in tree.xpath('//a[@class="passage-link"]'):
        d, start, end = int(a.get("data-doc")), int(a.get("data-start")), int(a.get("data-end"))
        assert a.get("href") == f"#doc/{d}/{start}/{end}"
        doc = next(x for x in result.documents if x.id == index["docs"][d])
        assert docs[d]["text"][start:end] == doc.text[start:end]
    back = index["cited"][str(index["docs"].index("paper/ruiz-duran-1998-clustering.md"))]
    assert ["claim-self-financing-anchor-1" in c for c in back].count(True) == 1  # the document links back


def test_report_document_data_reproduces_every_span(tree, result):
    index, docs = scripts(tree)
    by_id = {d.id: d for d in result.documents}
    assert [d["id"] for d in docs] == index["docs"] == sorted(by_id)
    segments = {s.segment.id: s for s in result.segments}
    for d in docs:
        assert d["text"] == by_id[d["id"]].text
        for start, end, line, n, codes, cases, context in d["segs"]:
            s = segments[f"{d['id']}#{n}"]
            assert (start, end, line) == (s.segment.start, s.segment.end, s.segment.line)
            assert d["text"][start:end] == s.text
            assert [index["codes"][c]["id"] for c in codes] == list(s.codes)
        for start, end, code, rule in d["m"]:
            pattern, where, source, coder = index["rules"][rule]
            assert any(m.start == start and m.end == end and m.code == index["codes"][code]["id"]
                       and m.pattern == pattern and m.rule == where
                       for s in result.segments if s.segment.doc == d["id"] for m in s.matches)
    n_refs = sum(len(v) for v in index["refs"].values())
    assert n_refs == sum(len(s.codes) for s in result.segments)


def test_report_audit_trail_hashes_and_versions(tree, result):
    import spacy

    audit = tree.get_element_by_id("audit").text_content()
    for d in result.documents:
        assert hashlib.sha256(Path(d.path).read_bytes()).hexdigest() in audit, d.id
    assert hashlib.sha256((ROOT / "codebook.yaml").read_bytes()).hexdigest() in audit
    assert hashlib.sha256((ROOT / "codings" / "ana.yaml").read_bytes()).hexdigest() in audit
    assert f"spaCy{spacy.__version__}" in audit.replace(" ", "").replace("\n", "")
    manual = [c for c in result.codings if c.source == "manual" and c.status == "applied"]
    assert f"{len(manual)} coding(s)" in audit and "manual: ana" in audit
    assert "combined" in audit and "paragraph" in audit


def test_report_is_self_contained(page):
    tree = lxml_html.fromstring(page)
    assert not tree.xpath("//link | //img | //iframe | //script[@src] | //*[@src]")
    for a in tree.xpath("//a[@href]"):
        assert a.get("href").startswith("#"), a.get("href")
    assert "http://" not in page.split("<script", 1)[0].split("</style>", 1)[0] and "@import" not in page


@pytest.mark.filterwarnings("ignore:only one theme")
@pytest.mark.parametrize("nasty", [
    "</script><script>alert(1)</script>",
    "<!-- <script> -->",
    "a & b < c > d \u2028 line separator",
    "{{ jinja }} {% raw %}",
])
def test_report_corpus_text_cannot_escape_its_script(tmp_path, nasty):
    from qualcode.project import code_project

    (tmp_path / "corpus").mkdir()
    text = f"# Notes\n\nThey took a loan {nasty} here.\n"
    (tmp_path / "corpus" / "a.md").write_text(text)
    (tmp_path / "codebook.yaml").write_text(
        "codes:\n  - id: finance\n    label: Finance <b>\n    definition: 'money & <i>credit</i>'\n"
        "    patterns:\n      terms: [loan]\ncases: []\n")
    result = code_project(tmp_path / "corpus", tmp_path / "codebook.yaml")
    page = render_report(result)
    assert "<script>alert" not in page and "Finance <b>" not in page and "<i>credit" not in page
    tree = lxml_html.fromstring(page)
    _, docs = scripts(tree)
    assert docs[0]["text"] == text
    assert "Finance <b>" in tree.get_element_by_id("code-finance").text_content()


def test_report_is_deterministic(result, claim, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    write_report(result, a, claims=[claim])
    write_report(result, b, claims=[claim])
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture()
def project(tmp_path):
    return write_small_project(tmp_path)


def test_report_cli_writes_the_file(project):
    out = run_cli("report", "-o", "r.html", "--where", "cases=puebla", cwd=project)
    assert out.returncode == 0 and "wrote r.html" in out.stderr, out.stderr
    tree = lxml_html.fromstring((project / "r.html").read_text())
    assert tree.get_element_by_id("code-finance") is not None
    assert "cases = puebla" in tree.get_element_by_id("audit").text_content()


@pytest.mark.parametrize("args, message", [
    (["report", "-o", "codebook.yaml"], "codebook.yaml: is an input of this command"),
    (["report", "-o", "corpus/r.md"], "corpus/r.md: is inside the corpus folder"),
    (["report", "--codebook", "missing.yaml"], "missing.yaml: codebook not found"),
])
def test_report_cli_bad_input_exit_2_nothing_written(project, args, message):
    before = sorted(p.name for p in project.rglob("*"))
    out = run_cli(*args, cwd=project)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert sorted(p.name for p in project.rglob("*")) == before


def test_report_run_writes_report_into_its_folder(project):
    out = run_cli("run", "-q", "-o", "out", cwd=project)
    assert out.returncode == 0, out.stderr
    page = (project / "out" / "report.html").read_text()
    assert lxml_html.fromstring(page).get_element_by_id("code-design") is not None
