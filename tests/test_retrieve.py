"""Retrieval from the store (segments, kwic, stats) and what changed between runs (diff)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from test_store import CODEBOOK, run_cli


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A coded project; the store is made by the first retrieval (the store is missing)."""
    return _make_project(tmp_path_factory.mktemp("retrieve"))


def _make_project(root):
    corpus = root / "corpus"
    (corpus / "notes").mkdir(parents=True)
    (corpus / "a.md").write_text("---\nkind: interview\ncases: [puebla]\n---\n# Notes\n\n"
                                 "They took a loan from the bank. Design matters.\n")
    (corpus / "b.txt").write_text("Firms in Teziutlán got credit.\n\nNo money was left.\n")
    (corpus / "notes" / "c.md").write_text("---\nkind: field-notes\n---\nThe design of LOANS.\n")
    (root / "codebook.yaml").write_text(CODEBOOK)
    return root


def _segments(project, *args):
    out = run_cli("segments", "--format", "json", *args, cwd=project)
    assert out.returncode == 0, out.stderr
    return [(p["doc"], p["line"], p["text"]) for p in json.loads(out.stdout)]


def test_retrieve_codes_first_when_the_store_is_missing(project):
    out = run_cli("segments", "--code", "design", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "recoded 3 of 3 documents" in out.stderr
    assert (project / ".qualcode" / "project.sqlite").exists()
    again = run_cli("segments", "--code", "design", cwd=project)
    assert "recoded" not in again.stderr and again.stdout == out.stdout


A = ("a.md", 7, "They took a loan from the bank.")
A2 = ("a.md", 7, "Design matters.")
B = ("b.txt", 1, "Firms in Teziutlán got credit.")
B2 = ("b.txt", 3, "No money was left.")
C = ("notes/c.md", 4, "The design of LOANS.")


@pytest.mark.parametrize("args, expected", [
    (("--code", "finance"), [A, B, B2, C]),  # a code includes its sub-codes
    (("--code", "credit"), [A, B]),
    (("--code", "credit", "--code", "design"), [A, A2, B, C]),
    (("--case", "puebla"), [("a.md", 5, "Notes"), A, A2, B]),  # a state includes its cities
    (("--case", "Teziutlán"), [B]),  # names work as well as ids
    (("--docs", "interview"), [("a.md", 5, "Notes"), A, A2]),
    (("--docs", "notes/", "--code", "design"), [C]),
    (("--text", "^no\\b"), [B2]),
    (("--source", "manual"), []),
    (("--code", "design", "--source", "rule"), [A2, C]),
])
def test_retrieve_segments_filters(project, args, expected):
    assert _segments(project, *args) == expected


def test_retrieve_segments_text_shows_codes_and_who_applied_them(project):
    out = run_cli("segments", "--code", "credit", cwd=project)
    assert out.stdout.splitlines()[:4] == [
        "a.md:7  finance (rule term:loan); credit (rule term:bank)",
        "    They took a loan from the bank.",
        "b.txt:1  finance (inherited via credit); credit (rule term:credit)",
        "    Firms in Teziutlán got credit.",
    ]
    assert "\x1b" not in out.stdout  # a pipe gets plain text
    assert "2 passage(s) in 2 document(s)" in out.stderr


def test_retrieve_highlight_on_a_terminal_marks_the_matched_words(project):
    from qualcode.retrieve import BOLD, RESET, current_store, find_segments, render_passages

    db, _ = current_store(project / "corpus", project / "codebook.yaml", project / ".qualcode" / "project.sqlite")
    with db:
        passages = find_segments(db, codes=["finance"], docs=["a.md"])
    shown = render_passages(passages, color=True, codes=["finance"])
    assert f"They took a {BOLD}loan{RESET} from the bank." in shown


def test_retrieve_segments_csv(project):
    out = run_cli("segments", "--code", "design", "--format", "csv", cwd=project)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["doc"], r["line"], r["codes"], r["codings"]) for r in rows] == [
        ("a.md", "7", "design", "design=rule term:design"),
        ("notes/c.md", "4", "finance;design", "design=rule term:design;finance=rule term:loan")]


@pytest.mark.parametrize("args, message", [
    (("--code", "finanse"), "--code 'finanse': unknown code; did you mean 'finance'?"),
    (("--case", "jalisco"), "--case 'jalisco': unknown case"),
    (("--text", "(loan"), "--text '(loan': invalid regular expression"),
])
def test_retrieve_bad_filters_are_clear_errors(project, args, message):
    out = run_cli("segments", *args, cwd=project)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_retrieve_kwic_term_on_lemmas_aligned(project):
    out = run_cli("kwic", "loan", "--width", "12", cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [  # "LOANS" found on its lemma; keywords in one column
        "a.md:7         They took a loan from the ban",
        "notes/c.md:4  he design of LOANS .",
    ]


def test_retrieve_kwic_code(project):
    out = run_cli("kwic", "--code", "finance", "--format", "json", cwd=project)
    assert [(r["doc"], r["keyword"], r["code"]) for r in json.loads(out.stdout)] == [
        ("a.md", "loan", "finance"), ("a.md", "bank", "credit"), ("b.txt", "credit", "credit"),
        ("b.txt", "money", "finance"), ("notes/c.md", "LOANS", "finance")]


def test_retrieve_stats_counts_fired_never_fired_and_broad_patterns(project):
    from qualcode.codebook import load_codebook
    from qualcode.retrieve import code_stats, current_store

    db, _ = current_store(project / "corpus", project / "codebook.yaml", project / ".qualcode" / "project.sqlite")
    with db:
        stats = code_stats(db, load_codebook(project / "codebook.yaml"), broad_share=0.3)
    assert (stats.segments, stats.documents) == (6, 3)
    assert {c.code: c.by_source for c in stats.codes} == {
        "finance": {"rule": (4, 3)}, "credit": {"rule": (2, 2)}, "design": {"rule": (2, 2)}}
    assert [(p.pattern, p.fired, p.segments) for p in stats.patterns] == [  # most fired first, then codebook order
        ("term:loan", 2, 2), ("term:design", 2, 2), ("term:money", 1, 1), ("term:credit", 1, 1), ("term:bank", 1, 1)]
    assert stats.never_fired == []
    assert [p.pattern for p in stats.broad] == ["term:loan", "term:design"]  # 2 of 6 segments > 30%
    out = run_cli("stats", cwd=project)
    assert "over-broad patterns (in more than 25% of segments): 2" in out.stdout
    assert "most first:\nmatches      in       code                 pattern  (where)\n      2       2 segs  finance" \
        in out.stdout
    for share in ("2", "0", "-0.1"):  # a share, not a percentage
        bad = run_cli("stats", "--broad", share, cwd=project)
        assert bad.returncode == 2 and "--broad is a share of segments between 0 and 1" in bad.stderr


def test_retrieve_diff_shows_codings_gained_and_lost_with_pattern_and_passage(tmp_path):
    project = _make_project(tmp_path)
    book = project / "codebook.yaml"
    original = book.read_text()
    assert run_cli("code", "-o", "-", "-q", cwd=project).returncode == 0
    book.write_text(original.replace("[credit, bank]", "[credit, firm]"))
    assert run_cli("code", "-o", "-", "-q", cwd=project).returncode == 0
    out = run_cli("diff", cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "run 1 -> run 2: 2 coding(s) changed in 3 document(s) recoded, added or removed\n"
        "\n"
        "credit: +1 -1\n"
        "- a.md:7  term:bank (codebook.yaml:10:23)\n"
        "    They took a loan from the [bank].\n"
        "+ b.txt:1  term:firm (codebook.yaml:10:23)\n"
        "    [Firms] in Teziutlán got credit.\n")
    data = json.loads(run_cli("diff", "--format", "json", cwd=project).stdout)
    assert data["per_code"] == {"credit": {"gained": 1, "lost": 1}}
    assert [(c["change"], c["doc"], c["text"], c["pattern"]) for c in data["changes"]] == [
        ("lost", "a.md", "bank", "term:bank"), ("gained", "b.txt", "Firms", "term:firm")]
    back = json.loads(run_cli("diff", "2", "1", "--format", "json", cwd=project).stdout)
    assert [(c["change"], c["pattern"]) for c in back["changes"]] == [("lost", "term:firm"), ("gained", "term:bank")]
    assert back["per_source"] == {"credit": {"rule": {"gained": 1, "lost": 1}}}


def test_retrieve_diff_needs_two_runs(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("A loan.\n")
    (tmp_path / "codebook.yaml").write_text(CODEBOOK)
    assert run_cli("diff", cwd=tmp_path).returncode == 2
    assert run_cli("code", "-o", "-", cwd=tmp_path).returncode == 0
    out = run_cli("diff", cwd=tmp_path)
    assert out.returncode == 2 and "the store has 1 run(s): diff needs two" in out.stderr
    out = run_cli("diff", "7", "9", cwd=tmp_path)
    assert out.returncode == 2 and "no run 7 in the store (it has runs 1 to 1" in out.stderr


def test_retrieve_imported_codings_keep_their_source_and_coder(tmp_path):
    """A coder file written by ``qualcode import`` (with its source column, or an older one
    without it) gives codings of source imported: in the store, segments, stats and the coding."""
    project = _make_project(tmp_path)
    (project / "codings").mkdir()
    (project / "codings" / "imported-cp.csv").write_text(
        "doc,start,end,code,coder,quote,note\nb.txt,32,50,design,cp,No money was left.,\n")  # before 'source'
    (project / "codings" / "ana.yaml").write_text("codings:\n  - {doc: a.md, quote: Design matters, code: finance}\n")
    out = run_cli("code", "-q", "--codings", "codings", "-o", "-", cwd=project)
    assert out.returncode == 0, out.stderr
    by_doc = {r["doc"]: r for r in map(json.loads, out.stdout.splitlines())}
    assert [(m["code"], m["source"], m["coder"]) for m in by_doc["b.txt"]["matches"] if m["source"] != "rule"] == [
        ("design", "imported", "cp")]
    assert _segments(project, "--source", "imported") == [B2]
    assert _segments(project, "--source", "manual") == [A2]
    text = run_cli("segments", "--source", "imported", cwd=project).stdout
    assert "imported cp" in text
    from qualcode.codebook import load_codebook
    from qualcode.retrieve import code_stats, current_store

    db, _ = current_store(project / "corpus", project / "codebook.yaml", project / ".qualcode" / "project.sqlite",
                          codings=project / "codings")
    with db:
        stats = code_stats(db, load_codebook(project / "codebook.yaml"))
    assert {c.code: c.by_source for c in stats.codes}["design"] == {"rule": (2, 2), "imported": (1, 1)}


def test_retrieve_diff_compares_codings_of_every_source(tmp_path):
    """A coder file edit (no document recoded) shows as manual/imported codings gained and lost,
    each with its coder; a coding that only moved within its file is no change."""
    project = _make_project(tmp_path)
    codings = project / "codings"
    codings.mkdir()
    (codings / "ana.yaml").write_text("codings:\n  - {doc: a.md, quote: Design matters, code: finance}\n"
                                      "  - {doc: b.txt, quote: No money, code: design}\n")
    (codings / "imported-cp.csv").write_text("doc,start,end,code,coder,source,quote,note\n"
                                             "b.txt,0,5,credit,cp,imported,Firms,\n")
    assert run_cli("code", "-o", "-", "-q", cwd=project).returncode == 0
    (codings / "ana.yaml").write_text("codings:\n  - {doc: b.txt, quote: No money, code: design}\n"  # moved: no change
                                      "  - {doc: a.md, quote: took a loan, not: finance}\n")  # a rejection gained
    (codings / "imported-cp.csv").write_text("doc,start,end,code,coder,source,quote,note\n"
                                             "b.txt,0,5,design,cp,imported,Firms,\n")
    assert run_cli("code", "-o", "-", "-q", cwd=project).returncode == 0
    out = run_cli("diff", cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "run 1 -> run 2: 4 coding(s) changed in 0 document(s) recoded, added or removed (4 of them coders' codings)\n"
        "\n"
        "finance: +1 -1 (manual +1 -1)\n"
        "- a.md:7  manual ana (codings/ana.yaml:2:5)\n"
        "    [Design matters].\n"
        "+ a.md:7  manual ana rejects it (codings/ana.yaml:3:5)\n"
        "    They took a loan from the bank.\n"
        "\n"
        "credit: +0 -1 (imported +0 -1)\n"
        "- b.txt:1  imported cp (codings/imported-cp.csv:2:1)\n"
        "    [Firms] in Teziutlán got credit.\n"
        "\n"
        "design: +1 -0 (imported +1 -0)\n"
        "+ b.txt:1  imported cp (codings/imported-cp.csv:2:1)\n"
        "    [Firms] in Teziutlán got credit.\n")
    data = json.loads(run_cli("diff", "--format", "json", cwd=project).stdout)
    assert data["per_source"] == {"finance": {"manual": {"gained": 1, "lost": 1}},
                                  "credit": {"imported": {"gained": 0, "lost": 1}},
                                  "design": {"imported": {"gained": 1, "lost": 0}}}


def test_retrieve_segments_carry_kind_and_speaker(tmp_path):
    project = _make_project(tmp_path)
    (project / "corpus" / "focus.txt").write_text("Moderator: How did you pay?\nAna: With a loan from the bank.\n"
                                                  "Moderator: And then?\nAna: - We repaid the loan.\n")
    out = run_cli("segments", "--code", "finance", "--docs", "focus", "--format", "json", cwd=project)
    assert out.returncode == 0, out.stderr
    assert [(p["kind"], p["speaker"], p["text"]) for p in json.loads(out.stdout)] == [
        ("sentence", "Ana", "With a loan from the bank."), ("sentence", "Ana", "- We repaid the loan.")]
    rows = list(csv.DictReader(io.StringIO(run_cli("segments", "--code", "finance", "--docs", "focus", "--format",
                                                   "csv", cwd=project).stdout)))
    assert [(r["kind"], r["speaker"]) for r in rows] == [("sentence", "Ana")] * 2
    shown = run_cli("segments", "--code", "finance", "--docs", "focus", cwd=project).stdout
    assert "focus.txt:4  finance (rule term:loan)\n    Ana: - We repaid the loan.\n" in shown
