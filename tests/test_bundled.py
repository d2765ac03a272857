"""The bundled study: the paper's words kept, interview notes sourced, coding exact and sensible."""
from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from conftest import ROOT, requires_shared

from qualcode.corpus import load_corpus

PAPER = ROOT / "corpus" / "paper" / "ruiz-duran-1998-clustering.md"
INTERVIEWS = sorted((ROOT / "corpus" / "interviews").glob("*.md"))


def _words(text: str) -> Counter:
    text = re.sub(r"</?u>", " ", text)
    text = re.sub(r"^\s*\|?[\s:|-]+\|?\s*$", " ", text, flags=re.M)  # table separator rows
    text = re.sub(r"^\s*(#+|-)\s", " ", text, flags=re.M)  # heading and list markers
    text = re.sub(r"[*|\\]", " ", text)
    return Counter(text.split())


def test_bundled_paper_keeps_the_source_words():
    source = requires_shared("corpus-source", "clustering-joint-learning-ruiz-duran-1998.txt")
    doc = next(d for d in load_corpus(ROOT / "corpus") if d.id == "paper/ruiz-duran-1998-clustering.md")
    assert _words(doc.text[doc.body_start:]) == _words(source.read_text(encoding="utf-8"))


def test_bundled_paper_records_its_changes():
    meta = yaml.safe_load(PAPER.read_text(encoding="utf-8").split("---\n")[1])
    assert meta["kind"] == "paper" and "clustering-joint-learning" in str(meta["source"])
    assert len(meta["changes"]) >= 10
    assert all({"where", "what"} <= set(change) for change in meta["changes"])


@pytest.mark.parametrize("split", ["women and sports* clothes.", "is also loosening the ties",
                                   "possible to develop the requisite", "The viability of one of the member firms",
                                   "therefore a socially embedded process", "some special support for linkages"])
def test_bundled_paper_page_breaks_repaired(split):
    assert split in PAPER.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", ["ciudad-hidalgo", "distrito-federal", "puebla", "teziutlan", "xoxtla",
                                  "san-martin-texmelucan", "guadalajara", "jalisco", "morelos", "tijuana"])
def test_bundled_interviews_cover_every_site(case):
    covered = {c for p in INTERVIEWS for c in yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])["cases"]}
    assert case in covered


@pytest.mark.parametrize("path", INTERVIEWS, ids=lambda p: p.name)
def test_bundled_interview_statements_point_to_the_paper(path):
    text = path.read_text(encoding="utf-8")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["kind"] == "interview" and meta["sector"] in ("garment", "furniture")
    assert {"cases", "date", "source"} <= set(meta)
    paper = " ".join(PAPER.read_text(encoding="utf-8").split()).replace("*", "")
    body = text.split("---\n", 2)[2]
    statements = [line for line in body.splitlines() if line.startswith("- ")]
    assert statements
    for line in statements:
        assert re.search(r"\[paper: [^\]]+\]\s*$", line), line
        statement = re.sub(r"\[paper: [^\]]+\]\s*$", "", line)
        for quote in re.findall(r"“([^”]{12,})”|\"([^\"]{12,})\"", statement):
            quote = " ".join((quote[0] or quote[1]).split()).rstrip(".,")
            assert quote.replace("*", "") in paper, quote


def test_bundled_offsets_reproduce_every_segment_and_match(bundled):
    docs, segments = bundled
    texts = {d.id: d.text for d in docs}
    assert len(docs) == 11 and len(segments) > 400
    for s in segments:
        text = texts[s.segment.doc]
        assert text[s.segment.start:s.segment.end] == s.text
        for m in s.matches + s.case_matches:
            assert text[m.start:m.end] == m.text


@pytest.mark.parametrize("sentence, codes, cases", [
    ("Self financing was the rule for most of empresas integradoras.", {"finance", "self-financing"}, set()),
    ("Leaders usually are those more educated within the community.", {"leadership", "education"}, set()),
    ("Less educated groups rivalries are more frequent and mistrust among the members", {"trust"}, set()),
    ("There were some cases of government tutoring", {"government"}, {"xoxtla", "puebla"}),
    ("Design was based on traditional features rather than on day to day update", {"design", "markets"},
     {"jalisco", "distrito-federal"}),
    ("Trading companies were able to export to the US market", {"markets", "exports"}, {"united-states", "teziutlan"}),
    ("Furniture integradoras has emerged in Mexico as a response to the crisis", {"crisis", "cooperation"}, {"mexico"}),
    ("For that purpose they contracted a set of consultants", {"quality"}, set()),
])
def test_bundled_paper_sentences_coded(bundled, sentence, codes, cases):
    _, segments = bundled
    seg = next(s for s in segments if s.segment.doc.startswith("paper/") and s.text.startswith(sentence))
    assert codes <= set(seg.codes), seg.codes
    assert cases <= set(seg.cases), seg.cases


@pytest.mark.parametrize("sentence, absent", [
    ("so they decided to design a program to improve the quality", "design"),
])
def test_bundled_exclusions_hold(bundled, sentence, absent):
    _, segments = bundled
    seg = next(s for s in segments if sentence in s.text)
    assert not any(m.code == absent and "design" in m.text for m in seg.matches)


def test_bundled_codebook_and_corpus_check_clean():
    from qualcode.project import check_project

    report = check_project(ROOT / "codebook.yaml", ROOT / "corpus")
    assert report.ok, [str(p) for p in report.problems]
    assert report.documents == 11 and report.codes >= 10 and report.cases >= 19


@pytest.fixture(scope="module")
def codebook():
    from qualcode.codebook import load_codebook

    return load_codebook(ROOT / "codebook.yaml").codebook


@pytest.mark.parametrize("theme", ["finance", "trust", "design", "government", "leadership", "quality", "markets",
                                   "cooperation", "education", "crisis", "specialisation"])
def test_bundled_codebook_has_the_themes_fully_described(codebook, theme):
    code = codebook.codes[theme]
    assert code.parent is None
    assert code.label and code.definition and code.when_to_use and code.when_not_to_use and code.examples
    assert code.color != "#808080"


@pytest.mark.parametrize("case, kind, ancestors", [
    ("ciudad-hidalgo", "city", ("michoacan", "mexico")), ("teziutlan", "city", ("puebla", "mexico")),
    ("xoxtla", None, ("puebla", "mexico")), ("san-martin-texmelucan", None, ("puebla", "mexico")),
    ("guadalajara", "city", ("jalisco", "mexico")), ("leon", "city", ("guanajuato", "mexico")),
    ("tijuana", "city", ("baja-california", "mexico")), ("distrito-federal", None, ("mexico",)),
    ("jalisco", "state", ("mexico",)), ("morelos", "state", ("mexico",)), ("durango", None, ("mexico",)),
    ("chihuahua", "state", ("mexico",)), ("nuevo-leon", "state", ("mexico",)), ("queretaro", "state", ("mexico",)),
    ("tamaulipas", "state", ("mexico",)), ("mexico", "country", ()), ("italy", "country", ()),
    ("chile", "country", ()),
])
def test_bundled_codebook_cases_and_hierarchy(codebook, case, kind, ancestors):
    assert case in codebook.cases
    assert kind is None or codebook.cases[case].kind == kind
    assert codebook.case_ancestors(case) == ancestors


@pytest.mark.parametrize("text, case", [
    ("San Martin Texmeluca", "san-martin-texmelucan"), ("San Martín Texmelucan", "san-martin-texmelucan"),
    ("Mexico City", "distrito-federal"), ("Michoacan", "michoacan"), ("Nuevo Leon", "nuevo-leon"),
    ("TEZIUTLÁN", "teziutlan"), ("Teziutlan", "teziutlan"), ("Queretaro", "queretaro"), ("León", "leon"),
])
def test_bundled_codebook_case_spellings(compiled, text, case):
    from conftest import make_doc

    from qualcode.coding import code_document

    segs = code_document(make_doc(f"Firms in {text} grew."), compiled)
    assert [c for s in segs for c in s.cases] == [case]
