"""The project store: incremental coding identical to a full run, runs, schema versions, bad stores."""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

CODEBOOK = """\
codes:
  - id: finance
    label: Finance
    patterns:
      terms: [loan, money]
  - id: credit
    label: Credit
    parent: finance
    patterns:
      terms: [credit, bank]
  - id: design
    label: Design
    patterns:
      terms: [design]
cases:
  - id: puebla
    name: Puebla
    kind: state
  - id: teziutlan
    name: Teziutlán
    kind: city
    parent: puebla
"""


@pytest.fixture()
def project(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "notes").mkdir(parents=True)
    (corpus / "a.md").write_text("---\nkind: interview\ncases: [puebla]\n---\n# Notes\n\n"
                                 "They took a loan from the bank. Design matters.\n")
    (corpus / "b.txt").write_text("Firms in Teziutlán got credit.\n\nNo money was left.\n")
    (corpus / "notes" / "c.md").write_text("---\nkind: field-notes\n---\nThe design of loans.\n")
    (tmp_path / "codebook.yaml").write_text(CODEBOOK)
    return tmp_path


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_store_incremental_run_is_byte_identical_to_a_full_run(tmp_path):
    """The bundled study: a run after touching one document reuses the ten others and writes
    exactly what a full run without the store writes, every output file."""
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    shutil.copy(ROOT / "codebook.yaml", tmp_path / "codebook.yaml")
    first = run_cli("run", "-o", "first", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "recoded 11 of 11 documents (0 unchanged)" in first.stderr
    doc = tmp_path / "corpus" / "interviews" / "puebla-garment.md"
    doc.write_text(doc.read_text() + "\nThey asked the bank for a loan to buy new machines.\n")
    again = run_cli("run", "-o", "incremental", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "recoded 1 of 11 documents (10 unchanged)" in again.stderr
    full = run_cli("run", "--no-store", "-o", "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    incremental, complete = _outputs(tmp_path / "incremental"), _outputs(tmp_path / "full")
    assert incremental.keys() == complete.keys() and {"coding.jsonl", "coding.csv", "graph.gexf"} <= incremental.keys()
    for name in complete:
        assert incremental[name] == complete[name], name
    assert incremental["coding.jsonl"] != _outputs(tmp_path / "first")["coding.jsonl"]


def test_store_codebook_change_recodes_everything_and_says_so(project):
    assert run_cli("code", "-o", "one.jsonl", cwd=project).returncode == 0
    book = project / "codebook.yaml"
    book.write_text(book.read_text().replace("[design]", "[design, firm]"))
    out = run_cli("code", "-o", "two.jsonl", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "codebook changed: recoded 3 of 3 documents (0 unchanged)" in out.stderr
    full = run_cli("code", "--no-store", "-o", "full.jsonl", cwd=project)
    assert full.returncode == 0, full.stderr
    assert (project / "two.jsonl").read_bytes() == (project / "full.jsonl").read_bytes()


def test_store_unchanged_rerun_recodes_nothing(project):
    assert run_cli("code", "-o", "one.jsonl", cwd=project).returncode == 0
    out = run_cli("code", "-o", "two.jsonl", cwd=project)
    assert "recoded 0 of 3 documents (3 unchanged)" in out.stderr
    assert (project / "one.jsonl").read_bytes() == (project / "two.jsonl").read_bytes()


def test_store_coded_by_an_earlier_coding_revision_is_recoded(project):
    """A store coded before a change to segmentation or matching (CODING_REVISION) is not
    current: qualcode's version alone would not tell."""
    import sqlite3

    assert run_cli("code", "-o", "one.jsonl", cwd=project).returncode == 0
    db = sqlite3.connect(project / ".qualcode" / "project.sqlite")
    with db:
        for table in ("runs", "coded_documents"):
            db.execute(f"UPDATE {table} SET pipeline = replace(pipeline, ' coding=', ' coding=old')")
    db.close()
    out = run_cli("code", "-o", "two.jsonl", cwd=project)
    assert "recoded 3 of 3 documents (0 unchanged)" in out.stderr
    assert (project / "one.jsonl").read_bytes() == (project / "two.jsonl").read_bytes()
    assert "recoded 0 of 3" in run_cli("code", "-o", "two.jsonl", cwd=project).stderr


def test_store_lives_beside_the_codebook_and_is_ignored_by_git(project):
    assert run_cli("code", "-o", "-", cwd=project).returncode == 0
    store = project / ".qualcode" / "project.sqlite"
    assert store.is_file()
    assert (project / ".qualcode" / ".gitignore").read_text().splitlines()[-1] == "*"


@pytest.mark.parametrize("args, made", [(("--no-store",), False), (("--store", "elsewhere/s.sqlite"), True)])
def test_store_options(project, args, made):
    assert run_cli("code", "-o", "-", *args, cwd=project).returncode == 0
    assert not (project / ".qualcode" / "project.sqlite").exists()
    assert (project / "elsewhere" / "s.sqlite").exists() == made


def test_store_tables_hold_documents_segments_codings_and_runs(project):
    assert run_cli("code", "-o", "-", cwd=project).returncode == 0
    db = sqlite3.connect(project / ".qualcode" / "project.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert db.execute("SELECT version FROM schema_migrations").fetchall() == [(1,), (2,), (3,)]
    docs = db.execute("SELECT id, kind, length(sha256) FROM documents ORDER BY id").fetchall()
    assert docs == [("a.md", "interview", 64), ("b.txt", "", 64), ("notes/c.md", "field-notes", 64)]
    run = db.execute("SELECT qualcode_version, spacy_version, codebook, documents, recoded, finished > started "
                     "FROM runs").fetchall()
    assert run[0][2:] == ("codebook.yaml", 3, 3, 1) and run[0][0] and run[0][1]
    codings = db.execute('SELECT doc_id, code, status, via, pattern, rule_file, rule_line, rule_col, text, line '
                         "FROM codings WHERE doc_id = 'a.md' ORDER BY seq").fetchall()
    assert codings == [
        ("a.md", "finance", "applied", None, "term:loan", "codebook.yaml", 5, 15, "loan", 7),
        ("a.md", "credit", "applied", None, "term:bank", "codebook.yaml", 10, 23, "bank", 7),
        ("a.md", "design", "applied", None, "term:design", "codebook.yaml", 14, 15, "Design", 7),
    ]
    # every stored span reproduces its text from the file
    text = (project / "corpus" / "b.txt").read_text()
    for start, end, quoted in db.execute("SELECT start, \"end\", text FROM codings WHERE doc_id = 'b.txt' "
                                         "AND status = 'applied'"):
        assert text[start:end] == quoted
    inherited = db.execute("SELECT code, via, text FROM codings WHERE status = 'inherited'").fetchall()
    assert inherited == [("finance", "credit", "credit")]  # on the sub-code's span, as rule_codings gives it


def test_store_accepts_codings_of_any_source(project):
    from qualcode.model import Coding
    from qualcode.store import open_store

    assert run_cli("code", "-o", "-", cwd=project).returncode == 0
    with open_store(project / ".qualcode" / "project.sqlite") as store:
        run = store.last_run().id
        coded = store.run_documents(run)["b.txt"]
        with store.transaction():
            store.add_codings([Coding("b.txt#2", "b.txt", 35, 40, "finance", "manual", "ana", note="cash"),
                               Coding("b.txt#2", "b.txt", 35, 40, "design", "suggested", "model-x", confidence=0.4,
                                      status="rejected", via="ana")], run_id=run, coded_id=coded,
                              texts={"b.txt": "Firms in Teziutlán got credit.\n\nNo money was left.\n"})
        rows = store.conn.execute("SELECT source, coder, status, confidence, note, text FROM codings "
                                  "WHERE source != 'rule' ORDER BY id").fetchall()
    assert rows == [("manual", "ana", "applied", None, "cash", "money"),
                    ("suggested", "model-x", "rejected", 0.4, "", "money")]


def test_store_interrupted_run_leaves_the_previous_state(project):
    """A run is one transaction: an error while writing it leaves the store as it was."""
    from qualcode.codebook import load_codebook
    from qualcode.corpus import load_corpus
    from qualcode.store import CodingKey, open_store

    assert run_cli("code", "-o", "-", cwd=project).returncode == 0
    path = project / ".qualcode" / "project.sqlite"
    before = sqlite3.connect(path).execute("SELECT count(*) FROM codings").fetchone()
    docs = load_corpus(project / "corpus")
    with open_store(path) as store, pytest.raises(KeyError):
        store.record_run(started="now", documents=docs, coded={"missing.md": []}, reused={},
                         key=CodingKey("x", "y", "z"),
                         codebook=load_codebook(project / "codebook.yaml").codebook, codebook_path="codebook.yaml",
                         corpus="corpus", settings={})
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM codings").fetchone() == before


def test_store_corrupt_file_is_rebuilt_with_a_warning(project):
    assert run_cli("code", "-o", "good.jsonl", cwd=project).returncode == 0
    store = project / ".qualcode" / "project.sqlite"
    store.write_bytes(os.urandom(3000))
    out = run_cli("code", "-o", "again.jsonl", cwd=project)
    assert out.returncode == 0, out.stderr
    assert re.search(r"warning: .*project\.sqlite: the store is not a readable SQLite database .* rebuilding",
                     out.stderr)
    assert "recoded 3 of 3 documents" in out.stderr
    assert (project / "good.jsonl").read_bytes() == (project / "again.jsonl").read_bytes()
    assert (project / ".qualcode" / "project.sqlite.corrupt").exists()


def test_store_version_1_is_migrated_keeping_its_runs(project):
    """A store written before the embeddings table (schema 1) gains it and keeps its data."""
    from qualcode.store import MIGRATIONS

    path = project / ".qualcode" / "project.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0][1] + "INSERT INTO schema_migrations VALUES (1, 'then', 'v1');"
                     "INSERT INTO runs VALUES (1, 'a', 'b', '0', '3', 'p', 'codebook.yaml', 'x', 'corpus', '{}', 3, 3);"
                     "PRAGMA user_version = 1;")
    db.close()
    out = run_cli("code", "-o", "-", cwd=project)
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3  # through schema 2 (embeddings) to 3 (coders' codings)
    assert [v for v, in db.execute("SELECT version FROM schema_migrations")] == [1, 2, 3]
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2  # the old run and this one
    assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0


@pytest.mark.parametrize("setup, message", [
    ("PRAGMA user_version = 99", r"schema version 99, newer than this qualcode \(3\) knows: upgrade qualcode"),
    ("CREATE TABLE other (x)", r"not a qualcode store"),
])
def test_store_unknown_schema_is_refused(project, setup, message):
    path = project / ".qualcode" / "project.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.execute(setup)
    db.commit()
    db.close()
    out = run_cli("code", "-o", "out.jsonl", cwd=project)
    assert out.returncode == 2
    assert re.search(message, out.stderr), out.stderr
    assert "Traceback" not in out.stderr and not (project / "out.jsonl").exists()


def test_store_readme_tables_and_queries_run_on_a_real_store(project):
    """The README's "Project store" section: every table it lists exists, and its example
    SQL queries run and return rows."""
    assert run_cli("code", "-o", "-", cwd=project).returncode == 0
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Project store", 1)[1].split("\n## ", 1)[0]
    db = sqlite3.connect(project / ".qualcode" / "project.sqlite")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    listed = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert listed and listed <= tables and {"documents", "segments", "codings", "runs"} <= listed
    queries = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(queries) >= 2
    for q in queries:
        assert db.execute(q).fetchall(), q


def test_store_rule_codings_are_those_of_rule_codings_on_the_bundled_corpus(tmp_path):
    """The store writes the records of qualcode.codings.rule_codings, one function for both."""
    from qualcode.codings import rule_codings
    from qualcode.project import code_project

    store = tmp_path / "project.sqlite"
    result = code_project(ROOT / "corpus", ROOT / "codebook.yaml", store=store, source="rule")
    expected = [(c.segment, c.doc, c.start, c.end, c.line, c.code, c.source, c.coder, c.status, c.via,
                 c.rule.kind if c.rule else None, c.rule.pattern if c.rule else None,
                 c.rule.file if c.rule else None, c.rule.line if c.rule else None, c.rule.col if c.rule else None)
                for c in rule_codings(result.segments, result.codebook.codebook)]
    db = sqlite3.connect(store)
    stored = db.execute('SELECT c.segment, c.doc_id, c.start, c."end", c.line, c.code, c.source, c.coder, c.status, '
                        "c.via, c.rule_kind, c.pattern, c.rule_file, c.rule_line, c.rule_col FROM current_codings c "
                        "JOIN documents d ON d.id = c.doc_id WHERE c.source = 'rule' ORDER BY c.doc_id, c.seq"
                        ).fetchall()
    assert len(expected) > 1000 and sorted(stored, key=lambda r: r[1]) == sorted(expected, key=lambda r: r[1])
    assert stored == sorted(expected, key=lambda r: r[1])  # and in rule_codings' order within each document


ANA = """\
coder: ana
codings:
  - doc: b.txt
    quote: "No money was left"
    code: design
    note: a design problem
  - doc: a.md
    quote: "They took a loan"
    not: finance
"""


def test_store_holds_the_coders_codings_of_each_run(project):
    """Manual codings are stored per run from the coder files (the files stay the source):
    `segments --source manual` answers from them, and an edited coder file is read again."""
    (project / "codings").mkdir()
    (project / "codings" / "ana.yaml").write_text(ANA)
    assert run_cli("code", "-q", "-o", "-", cwd=project).returncode == 0
    path = project / ".qualcode" / "project.sqlite"
    rows = sqlite3.connect(path).execute(
        'SELECT run_id, coded_id, segment, doc_id, code, source, coder, status, note, text FROM current_codings '
        "WHERE source != 'rule' ORDER BY doc_id, start").fetchall()
    assert rows == [(1, None, "a.md#2", "a.md", "finance", "manual", "ana", "rejected", "", "They took a loan"),
                    (1, None, "b.txt#2", "b.txt", "design", "manual", "ana", "applied", "a design problem",
                     "No money was left")]
    out = run_cli("segments", "--source", "manual", "--format", "json", cwd=project)
    assert out.returncode == 0, out.stderr
    import json

    passages = json.loads(out.stdout)
    assert [(p["doc"], p["line"], [(c["code"], c["source"], c["coder"]) for c in p["codings"]]) for p in passages] \
        == [("b.txt", 3, [("finance", "rule", ""), ("design", "manual", "ana")])]  # the passage, with all its codings
    out = run_cli("segments", "--code", "design", "--format", "json", cwd=project)
    assert [p["doc"] for p in json.loads(out.stdout)] == ["a.md", "b.txt", "notes/c.md"]

    # the coder file changes: retrieval sees the store is stale, codes (nothing: the corpus is as it
    # was) and reads the file again; the first run keeps the codings it read
    (project / "codings" / "ana.yaml").write_text(ANA.replace("code: design", "code: finance"))
    out = run_cli("segments", "--source", "manual", "--format", "json", cwd=project)
    assert out.returncode == 0, out.stderr
    assert [[(c["code"], c["coder"]) for c in p["codings"] if c["source"] == "manual"]
            for p in json.loads(out.stdout)] == [[("finance", "ana")]]
    db = sqlite3.connect(path)
    assert db.execute("SELECT run_id, code FROM codings WHERE source = 'manual' AND status = 'applied' "
                      "ORDER BY run_id").fetchall() == [(1, "design"), (2, "finance")]
    assert db.execute("SELECT recoded FROM runs WHERE id = 2").fetchone() == (0,)
    stats = run_cli("stats", "--format", "json", cwd=project)
    assert stats.returncode == 0, stats.stderr
    by_code = {c["code"]: c["by_source"] for c in json.loads(stats.stdout)["codes"]}
    assert by_code["finance"]["manual"] == {"segments": 1, "documents": 1}


def test_store_of_schema_version_1_is_migrated(project):
    """A store made by the previous qualcode (version 1) is migrated in place and keeps its runs."""
    from qualcode.store import _SCHEMA_V1

    path = project / ".qualcode" / "project.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_V1 + "INSERT INTO schema_migrations VALUES (1, 'then', 'v1'); PRAGMA user_version = 1;")
    db.close()
    out = run_cli("code", "-q", "-o", "-", cwd=project)
    assert out.returncode == 0, out.stderr
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (3,)
    assert [r[0] for r in db.execute("SELECT version FROM schema_migrations")] == [1, 2, 3]
    assert db.execute("SELECT count(*) FROM current_codings").fetchone()[0] > 0


def test_store_rerun_repeats_front_matter_warnings_from_the_stored_parse(project):
    """Unchanged front matter is not parsed again on a re-run, but its warnings are given again."""
    doc = project / "corpus" / "notes" / "c.md"
    doc.write_text(doc.read_text().replace("kind: field-notes", "kind: field-notes\ntitel: Notes"))
    first = run_cli("code", "-o", "a.jsonl", cwd=project)
    again = run_cli("code", "-o", "b.jsonl", cwd=project)
    assert first.returncode == again.returncode == 0, again.stderr
    for out in (first, again):
        assert "unknown front-matter key 'titel': did you mean 'title'?" in out.stderr
    assert "recoded 0 of 3 documents" in again.stderr
    assert (project / "a.jsonl").read_bytes() == (project / "b.jsonl").read_bytes()
    assert sqlite3.connect(project / ".qualcode" / "project.sqlite").execute(
        "SELECT count(*) FROM front_matter").fetchone() == (3,)


def test_store_first_run_keeps_the_parsed_front_matter(project, tmp_path, monkeypatch):
    """A new store's first run fills the front-matter cache, so the second run (one document
    touched) parses only that document's front matter: each other one comes from the store."""
    import qualcode.corpus
    from qualcode.project import code_project

    store = tmp_path / "new.sqlite"
    code_project(project / "corpus", project / "codebook.yaml", store=store)
    assert sqlite3.connect(store).execute("SELECT count(*) FROM front_matter").fetchone() == (3,)
    doc = project / "corpus" / "a.md"
    doc.write_text(doc.read_text() + "Another loan.\n")
    parsed: list[str] = []
    real = qualcode.corpus.parse_front_matter
    monkeypatch.setattr(qualcode.corpus, "parse_front_matter", lambda text, path: parsed.append(path) or real(text, path))
    result = code_project(project / "corpus", project / "codebook.yaml", store=store)
    assert (result.recoded, result.unchanged) == (1, 2)
    assert [p.rsplit("/", 1)[-1] for p in parsed] == ["a.md"]


@pytest.mark.parametrize("keep, edits", [(2, 5), (1, 3)])
def test_store_keeps_the_codings_of_the_last_runs_only(project, keep, edits):
    """Each codebook edit recodes everything; only the last ``keep`` runs' codings stay, so
    the store stops growing, and the current run reads back as a full coding."""
    from qualcode.diff import diff_runs
    from qualcode.errors import QualcodeError
    from qualcode.project import code_project
    from qualcode.store import open_store

    store, book = project / ".qualcode" / "project.sqlite", project / "codebook.yaml"
    counts = []
    for n in range(edits):
        book.write_text(book.read_text().replace("[design", f"[design, word{n}"))
        result = code_project(project / "corpus", book, store=store, keep_runs=keep)
        db = sqlite3.connect(store)
        counts.append([db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in ("runs", "coded_documents", "segments", "codings")])
        kept = [r for r, in db.execute("SELECT DISTINCT run_id FROM run_documents ORDER BY run_id")]
        db.close()
        assert kept == list(range(max(1, n + 2 - keep), n + 2))
    assert [c[0] for c in counts] == list(range(1, edits + 1))  # every run's record stays
    assert counts[-1][1:] == counts[keep - 1][1:]  # the coding rows stopped growing
    assert counts[-1][1] == 3 * keep
    full = code_project(project / "corpus", book, store=None)
    assert [(s.segment, s.codes, s.matches) for s in result.segments] == \
        [(s.segment, s.codes, s.matches) for s in full.segments]
    with open_store(store) as db:
        with pytest.raises(QualcodeError, match="run 1's codings are no longer in the store") as err:
            diff_runs(db, 1, edits)
        assert ("can be compared" if keep > 1 else f"only run {edits} is kept, so there is nothing to compare") \
            in str(err.value)
        if keep > 1:
            assert diff_runs(db).run_b == edits


def test_store_keep_runs_default_and_bad_value(project):
    from qualcode import cli, store

    assert cli.KEEP_RUNS == store.KEEP_RUNS
    out = run_cli("code", "--keep-runs", "0", "-o", "x.jsonl", cwd=project)
    assert out.returncode == 2 and "--keep-runs must be 1 or more, not 0" in out.stderr
    assert not (project / "x.jsonl").exists()
