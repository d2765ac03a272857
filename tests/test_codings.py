"""Codings as records: rule codings with provenance, inherited and vetoed codes in the trail,
manual codings combined with rule codings, and every output by source."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, make_doc, run_cli

from qualcode.codebook import parse_codebook
from qualcode.coding import CompiledCodebook, code_corpus
from qualcode.codings import coded_view, combine, rule_codings, select, trail, vetoed_codings
from qualcode.model import Coding, Rule
from qualcode.project import code_project

BOOK = ("codes:\n"
        "  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, capital]\n"
        "    exclude:\n      terms: [state capital]\n"
        "  - id: credit\n    label: Credit\n    parent: finance\n    patterns:\n      terms: [credit]\n"
        "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n")
TEXT = "They got credit and a loan in the state capital.\n\nDesign matters; credit too.\n"


@pytest.fixture(scope="module")
def small(pipeline):
    compiled = CompiledCodebook(parse_codebook(BOOK), pipeline)
    doc = make_doc(TEXT, "notes.md")
    return compiled, doc, code_corpus([doc], compiled)


def _rows(codings):
    return [(c.segment, c.code, TEXT[c.start:c.end], c.status, c.via, c.rule.pattern if c.rule else None)
            for c in codings]


def test_codings_rule_codings_with_inherited_and_vetoed(small):
    compiled, doc, segments = small
    codings = rule_codings(segments, compiled.codebook)
    assert _rows(codings) == [
        ("notes.md#1", "credit", "credit", "applied", None, "term:credit"),
        ("notes.md#1", "finance", "loan", "applied", None, "term:loan"),
        ("notes.md#2", "design", "Design", "applied", None, "term:design"),
        ("notes.md#2", "credit", "credit", "applied", None, "term:credit"),
        ("notes.md#2", "finance", "credit", "inherited", "credit", "term:credit"),
    ]
    assert codings[0].rule == Rule("term", "term:credit", "codebook.yaml", 12, 15) and codings[0].line == 1
    assert codings[3].line == 3
    vetoed = vetoed_codings(doc, compiled)
    assert _rows(vetoed) == [("notes.md#1", "finance", "capital", "vetoed", "codebook.yaml:7:15", "term:capital")]


def test_codings_view_of_rule_codings_is_the_coding(bundled, compiled):
    _, segments = bundled
    assert coded_view(segments, rule_codings(segments, compiled.codebook), compiled.codebook) == segments


def _manual(doc, text, code, status="applied", coder="ana"):
    start = TEXT.index(text)
    return Coding(None, doc.id, start, start + len(text), code, "manual", coder,
                  Rule("manual", f"manual:{coder}", "codings/ana.yaml", 3, 5), status=status)


def test_codings_combine_manual_wins_and_rejections_are_recorded(small):
    compiled, doc, segments = small
    book = compiled.codebook
    rule = rule_codings(segments, book)
    manual = [_manual(doc, "credit too", "credit", "rejected"), _manual(doc, "Design matters", "credit")]
    combined = combine(rule, manual, book)
    assert [(c.code, TEXT[c.start:c.end], c.source, c.status, c.via) for c in combined if c.segment != "notes.md#1"] \
        == [("credit", "Design matters", "manual", "applied", None),
            ("finance", "Design matters", "manual", "inherited", "credit"),
            ("design", "Design", "rule", "applied", None),
            ("credit", "credit too", "manual", "rejected", None),
            ("credit", "credit", "rule", "rejected", "ana")]
    view = coded_view(segments, combined, book)
    assert view[0] == segments[0]
    assert view[1].codes == ("finance", "credit", "design")
    assert [(m.code, m.text, m.pattern, m.source, m.coder) for m in view[1].matches] == [
        ("design", "Design", "term:design", "rule", ""), ("credit", "Design matters", "manual:ana", "manual", "ana")]
    assert view[1].matches[1].rule == "codings/ana.yaml:3:5"
    assert trail(combined, {doc.id: doc})["notes.md#2"]["rejected"] == [
        {"code": "credit", "pattern": "term:credit", "rule": "codebook.yaml:12:15", "start": 66, "end": 72,
         "text": "credit", "by": "ana"}]


def test_codings_manual_across_segments_counts_in_each(small):
    compiled, doc, segments = small
    manual = [_manual(doc, "state capital.\n\nDesign", "design")]
    view = coded_view(segments, select([], manual, "manual", compiled.codebook), compiled.codebook)
    assert [[m.text for m in s.matches] for s in view] == [["state capital."], ["Design"]]
    assert [s.codes for s in view] == [("design",), ("design",)]


BUNDLED_CODINGS = ROOT / "codings"


@pytest.fixture(scope="module")
def by_source():
    return {source: code_project(ROOT / "corpus", ROOT / "codebook.yaml", codings=BUNDLED_CODINGS, source=source,
                                 explain=True)
            for source in ("rule", "manual", "combined")}


def _applied(segments):
    return {(s.segment.id, m.code, m.start, m.end, m.source) for s in segments for m in s.matches}


def test_codings_sources_on_the_bundled_study(by_source, bundled):
    _, plain = bundled
    rule, manual, combined = (_applied(by_source[s].segments) for s in ("rule", "manual", "combined"))
    assert by_source["rule"].segments == plain
    assert manual == {
        ("paper/ruiz-duran-1998-clustering.md#161", "quality", 29090, 29139, "manual"),
        ("paper/ruiz-duran-1998-clustering.md#187", "labour", 33003, 33062, "manual"),
        ("interviews/puebla-garment.md#8", "trust", 2072, 2173, "manual"),
    }
    rejected = {("interviews/puebla-garment.md#1", "cooperation", 1160, 1172, "rule")}
    assert combined == (rule - rejected) | manual
    heading = next(s for s in by_source["combined"].segments if s.segment.id == "interviews/puebla-garment.md#1")
    assert heading.codes == () and heading.text == "Garment integradoras in Puebla"
    assert by_source["combined"].trail["interviews/puebla-garment.md#1"]["rejected"][0]["by"] == "ana"
    assert by_source["rule"].trail.get("interviews/puebla-garment.md#1", {}).get("rejected", []) == []


def test_codings_explain_lists_vetoed_codes_on_the_bundled_study(by_source):
    vetoed = by_source["rule"].trail["interviews/ciudad-hidalgo-furniture.md#7"]["vetoed"]
    assert vetoed == [{"code": "finance", "pattern": "term:capital", "rule": vetoed[0]["rule"], "start": 1719,
                       "end": 1726, "text": "capital", "by": vetoed[0]["by"]}]
    book = (ROOT / "codebook.yaml").read_text(encoding="utf-8").splitlines()
    line, col = map(int, vetoed[0]["by"].rsplit(":", 2)[1:])
    assert book[line - 1][col - 1:].startswith("state capital")
    line, col = map(int, vetoed[0]["rule"].rsplit(":", 2)[1:])
    assert book[line - 1][col - 1:].startswith("capital")


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text(TEXT)
    (tmp_path / "codebook.yaml").write_text(BOOK)
    (tmp_path / "codings").mkdir()
    (tmp_path / "codings" / "ana.yaml").write_text(
        "- doc: a.md\n  quote: Design matters\n  code: credit\n- doc: a.md\n  quote: credit too\n  not: credit\n")
    return tmp_path


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_codings_cli_code_uses_codings_folder_and_explains(project):
    out = run_cli("code", "--explain", "-o", "c.jsonl", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "codings: combined; 1 manual from 1 coder(s), 1 rule coding(s) rejected" in out.stderr
    records = _records(project / "c.jsonl")
    assert [r["codes"] for r in records] == [["finance", "credit"], ["finance", "credit", "design"]]
    assert records[1]["matches"][1] == {"code": "credit", "pattern": "manual:ana", "rule": "codings/ana.yaml:1:3",
                                        "start": 50, "end": 64, "text": "Design matters", "source": "manual",
                                        "coder": "ana"}
    assert records[0]["vetoed"][0]["text"] == "capital" and records[1]["rejected"][0]["by"] == "ana"
    assert run_cli("code", "--source", "rule", "-o", "r.jsonl", cwd=project).returncode == 0
    assert [(m["code"], m["text"], m["source"]) for m in _records(project / "r.jsonl")[1]["matches"]] == [
        ("design", "Design", "rule"), ("credit", "credit", "rule")]
    assert "vetoed" not in _records(project / "r.jsonl")[0]
    assert run_cli("code", "--codings", "", "-o", "n.jsonl", cwd=project).returncode == 0
    assert (project / "n.jsonl").read_bytes() == (project / "r.jsonl").read_bytes()


def test_codings_cli_graph_and_matrix_by_source(project):
    assert run_cli("matrix", "--kind", "theme-document", "--source", "manual", "-o", "m.csv", cwd=project).returncode == 0
    rows = (project / "m.csv").read_text().splitlines()
    assert sorted(r.split(",")[0] for r in rows[1:]) == ["credit", "finance"]
    out = run_cli("graph", "--source", "rule", "-o", "g.json", cwd=project)
    assert out.returncode == 0, out.stderr
    nodes = {n["id"] for n in json.loads((project / "g.json").read_text())["nodes"]}
    assert {"theme:finance", "theme:credit", "theme:design"} <= nodes


@pytest.mark.parametrize("args, message", [
    (["code", "-o", "c.jsonl"], "codings/ana.yaml:2:3: codings[0]: unknown code 'desing': did you mean 'design'?"),
    (["run", "-o", "out"], "codings/ana.yaml:2:3: codings[0]: unknown code 'desing': did you mean 'design'?"),
    (["code", "--codings", "elsewhere", "-o", "c.jsonl"], "elsewhere: codings folder not found"),
    (["matrix", "--coding", "x.jsonl", "--source", "rule", "-o", "m.csv"], "--codings and --source apply when coding"),
])
def test_codings_cli_bad_manual_codings_exit_2_and_nothing_written(project, args, message):
    (project / "codings" / "ana.yaml").write_text("- doc: a.md\n  code: desing\n  quote: Design\n")
    (project / "c.jsonl").write_text("previous run\n")
    out = run_cli(*args, cwd=project)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
    assert (project / "c.jsonl").read_text() == "previous run\n" and not (project / "out").exists()


def test_codings_cli_source_manual_needs_codings(project):
    out = run_cli("code", "--codings", "", "--source", "manual", cwd=project)
    assert out.returncode == 2 and "--source manual needs manual codings" in out.stderr


def test_codings_cli_check_reports_manual_problems(project):
    assert run_cli("check", cwd=project).returncode == 0
    (project / "codings" / "ana.yaml").write_text("- doc: b.md\n  code: design\n  quote: Design\n")
    out = run_cli("check", cwd=project)
    assert out.returncode == 2
    assert "error: codings/ana.yaml:1:3: codings[0]: unknown document 'b.md'; nearest: 'a.md'" in out.stderr
    assert run_cli("check", "--codings", "", cwd=project).returncode == 0


def test_codings_rejection_of_nothing_is_a_located_warning(project):
    (project / "codings" / "ana.yaml").write_text("- doc: a.md\n  quote: Design matters\n  not: finance\n")
    out = run_cli("code", "-o", "c.jsonl", cwd=project)
    assert out.returncode == 0
    assert ("warning: codings/ana.yaml:1:3: 'not: finance' rejects nothing: no rule coding of finance overlaps "
            "a.md:50:64 (line 3)") in out.stderr
