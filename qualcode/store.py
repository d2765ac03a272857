"""The project store: a SQLite database derived from the text files, rebuildable at any time.

It holds the documents (content hash, metadata), their segments, the codings of every
source and coder, and the runs (time, versions, codebook hash, settings). It is a cache
and an index, never the only copy of anything a person wrote: deleting it loses nothing,
the next ``qualcode code`` rebuilds it.

A document's coding is stored once per *coding key* (document text hash, codebook hash,
qualcode version, pipeline): a run reuses the stored coding of every document whose key
it has seen, codes the rest, and records which coded version of each document it used
(``run_documents``), so any two runs can be compared (``qualcode diff``).

Standard ``sqlite3``: the schema version is ``PRAGMA user_version`` with the applied
migrations listed in ``schema_migrations``; each run is one transaction, so an interrupted
run leaves the previous state intact. The journal is the default rollback journal, not
WAL, so the store is one file that Datasette, DB Browser for SQLite and DuckDB open as it is.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .codings import rule_codings
from .errors import Problem, QualcodeError
from .model import Coding, CodedSegment, Codebook, Document, Match, Segment, fast_constructor

_match, _coded, _segment = (fast_constructor(cls) for cls in (Match, CodedSegment, Segment))

STORE_DIR = ".qualcode"
STORE_NAME = "project.sqlite"
SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    applied TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    qualcode_version TEXT NOT NULL,
    spacy_version TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    codebook TEXT NOT NULL,
    codebook_sha256 TEXT NOT NULL,
    corpus TEXT NOT NULL,
    settings TEXT NOT NULL,
    documents INTEGER NOT NULL,
    recoded INTEGER NOT NULL
);
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    meta TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    chars INTEGER NOT NULL,
    body_start INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id)
);
CREATE TABLE codes (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    parent TEXT,
    color TEXT NOT NULL,
    definition TEXT NOT NULL
);
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT
);
CREATE TABLE coded_documents (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    codebook_sha256 TEXT NOT NULL,
    qualcode_version TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    UNIQUE (doc_id, doc_sha256, codebook_sha256, qualcode_version, pipeline)
);
CREATE TABLE run_documents (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    doc_id TEXT NOT NULL,
    coded_id INTEGER NOT NULL REFERENCES coded_documents(id),
    recoded INTEGER NOT NULL,
    PRIMARY KEY (run_id, doc_id)
);
CREATE TABLE segments (
    coded_id INTEGER NOT NULL REFERENCES coded_documents(id),
    n INTEGER NOT NULL,
    id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    line INTEGER NOT NULL,
    kind TEXT NOT NULL,
    paragraph INTEGER NOT NULL,
    item INTEGER,
    section TEXT,
    section_start INTEGER,
    speaker TEXT,
    text TEXT NOT NULL,
    codes TEXT NOT NULL,
    cases TEXT NOT NULL,
    context_cases TEXT NOT NULL,
    PRIMARY KEY (coded_id, n)
);
CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    coded_id INTEGER REFERENCES coded_documents(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    segment TEXT,
    doc_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    line INTEGER NOT NULL,
    code TEXT NOT NULL,
    source TEXT NOT NULL,
    coder TEXT NOT NULL,
    status TEXT NOT NULL,
    via TEXT,
    rule_kind TEXT,
    pattern TEXT,
    rule_file TEXT,
    rule_line INTEGER,
    rule_col INTEGER,
    confidence REAL,
    note TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX codings_by_code ON codings (code, coded_id);
CREATE INDEX codings_by_segment ON codings (coded_id, segment);
CREATE INDEX segments_by_id ON segments (coded_id, id);
CREATE TABLE case_mentions (
    coded_id INTEGER NOT NULL REFERENCES coded_documents(id),
    seq INTEGER NOT NULL,
    segment TEXT NOT NULL,
    "case" TEXT NOT NULL,
    pattern TEXT NOT NULL,
    rule TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    PRIMARY KEY (coded_id, seq)
);
CREATE VIEW current_segments AS
    SELECT s.* FROM segments s
    JOIN run_documents rd ON rd.coded_id = s.coded_id AND rd.run_id = (SELECT max(id) FROM runs);
CREATE VIEW current_codings AS
    SELECT c.* FROM codings c
    JOIN run_documents rd ON rd.coded_id = c.coded_id AND rd.run_id = (SELECT max(id) FROM runs);
"""

# Sentence embeddings of code suggestions (qualcode.embed), keyed by the encoder and the
# text, so a re-run embeds only new text; float32 vectors of ``dimension`` values.
_SCHEMA_V2 = """
CREATE TABLE embeddings (
    model TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_sha256)
) WITHOUT ROWID;
"""

# Version 3: manual and imported codings are stored per run (coded_id NULL, run_id the run that
# read them from the coder files), and current_codings shows them; the parsed front matter of
# the last run's documents (qualcode.metacache), so a re-run does not parse it again.
_SCHEMA_V3 = """
CREATE INDEX codings_of_coders ON codings (run_id, doc_id, segment) WHERE coded_id IS NULL;
CREATE TABLE front_matter (
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    parsed TEXT NOT NULL,
    PRIMARY KEY (path, sha256)
);
DROP VIEW current_codings;
CREATE VIEW current_codings AS
    SELECT c.* FROM codings c
    JOIN run_documents rd ON rd.coded_id = c.coded_id AND rd.run_id = (SELECT max(id) FROM runs)
    UNION ALL
    SELECT c.* FROM codings c WHERE c.coded_id IS NULL AND c.run_id = (SELECT max(id) FROM runs);
"""

# Migrations: MIGRATIONS[v] brings a store at schema version v to version v + 1.
MIGRATIONS: dict[int, tuple[str, str]] = {
    0: ("create the store: runs, documents, coded documents, segments, codings, case mentions", _SCHEMA_V1),
    1: ("embeddings of code suggestions, by model and text", _SCHEMA_V2),
    2: ("manual and imported codings of each run, in current_codings too; parsed front matter", _SCHEMA_V3),
}


class StoreWarning(UserWarning):
    """The store could not be used as it was (corrupt: rebuilt; or not writable: skipped)."""


class StoreUnavailable(QualcodeError):
    """The store cannot be opened or written (permissions, full disk, file-size limit, locked)."""


def default_store_path(codebook: str | os.PathLike[str]) -> Path:
    """``.qualcode/project.sqlite`` in the codebook's folder."""
    return Path(codebook).parent / STORE_DIR / STORE_NAME


@dataclass(frozen=True, slots=True)
class CodingKey:
    """What a document's coding depends on: when all four match, the stored coding is reused."""

    codebook_sha256: str
    qualcode_version: str
    pipeline: str  # "blank-en spacy=3.8.2 lookups=1.0.5 coding=2" or the named model and its version


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One row of ``runs``."""

    id: int
    started: str
    finished: str
    qualcode_version: str
    spacy_version: str
    pipeline: str
    codebook: str
    codebook_sha256: str
    corpus: str
    settings: dict[str, Any]
    documents: int
    recoded: int


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def codebook_sha256(path: str | os.PathLike[str]) -> str:
    """The hash of the codebook as given: its name (which every rule's ``file:line:col``
    repeats) and its bytes."""
    h = hashlib.sha256(str(path).encode("utf-8") + b"\0")
    with contextlib.suppress(OSError):
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def coder_files_sha256(folder: str | os.PathLike[str] | None) -> dict[str, str]:
    """The coder files of a manual codings folder (as ``qualcode.manual`` reads them), name
    -> SHA-256 of the bytes: a run records them, so retrieval knows when they changed."""
    if folder is None or not Path(folder).is_dir():
        return {}
    from .manual import coding_files

    out = {}
    for path in coding_files(folder):
        with contextlib.suppress(OSError):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def dist_version(dist: str) -> str:
    """The installed version of the distribution ``dist`` (from its metadata: no import), or "absent"."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


# Raised whenever a change to segmentation or matching changes some coding, so that a store
# coded before it is not taken as current (qualcode's own version has stayed 0.1.0).
# 2: line-end hyphens joined, token patterns across whitespace tokens.
# 3: a sentence may end on a.m./p.m./Ltd. before The, In ...; inline footnote references blanked;
#    subtitle files: cue lines blanked, sentences across cues; "P1 (woman, 40s):" labels.
# 4: subtitle files by how they start (one cue is enough), WebVTT tags and voices, speakers in cues;
#    "no." ends a sentence unless a number follows; "•<tab>" bullets; more speaker descriptions;
#    the bundled codebook's design and government vocabulary.
# 5: a LEMMA value that is a noun in -ing ("meeting") also matches its singular ("meet").
CODING_REVISION = 5
KEEP_RUNS = 5  # runs whose codings a store keeps (for ``qualcode diff``); see Store.prune


def pipeline_id(model: str | None) -> str:
    """The pipeline a coding was made with, the versions its lemmas come from and the
    coding revision (:data:`CODING_REVISION`)."""
    base = f"spacy={dist_version('spacy')} lookups={dist_version('spacy-lookups-data')} coding={CODING_REVISION}"
    if not model:
        return f"blank-en {base}"
    return f"{model}={dist_version(model.replace('_', '-'))} {base}"


def spacy_version() -> str:
    return dist_version("spacy")


# -- opening -----------------------------------------------------------------------------------

class Store:
    """An open project store. Use :func:`open_store` (or ``with open_store(path) as store``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self._lists = _JsonTuples()
        self._dumps = _TupleJson()
        self._rules: dict[tuple[str, int, int], str] = {}

    def list_of(self, text: str) -> tuple[str, ...]:
        """A JSON list column (a segment's codes or cases) as a tuple, decoded once per distinct text."""
        return self._lists[text]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction: everything in it is written, or (on any error, Ctrl-C
        included) nothing is."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- embeddings ----------------------------------------------------------------------------
    def embeddings(self, model: str, keys: Iterable[str]) -> dict[str, bytes]:
        """The stored vectors (float32 bytes) of the texts with these sha256 keys, by key."""
        unique = sorted(set(keys))
        found: dict[str, bytes] = {}
        for k in range(0, len(unique), 500):  # under SQLite's limit of bound parameters
            chunk = unique[k:k + 500]
            found.update(self.conn.execute(
                f"SELECT text_sha256, vector FROM embeddings WHERE model = ? AND text_sha256 IN "
                f"({','.join('?' * len(chunk))})", [model, *chunk]))
        return found

    def add_embeddings(self, model: str, dimension: int, vectors: Iterable[tuple[str, bytes]]) -> None:
        """Store vectors (sha256 of the text, float32 bytes) of one model, in one transaction."""
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                             ((model, key, dimension, blob) for key, blob in vectors))

    # -- runs --------------------------------------------------------------------------------
    def runs(self) -> list[RunInfo]:
        rows = self.conn.execute("SELECT id, started, finished, qualcode_version, spacy_version, pipeline, codebook, "
                                 "codebook_sha256, corpus, settings, documents, recoded FROM runs ORDER BY id")
        return [RunInfo(*r[:9], json.loads(r[9]), r[10], r[11]) for r in rows]  # type: ignore[misc]

    def last_run(self) -> RunInfo | None:
        row = self.conn.execute("SELECT id, started, finished, qualcode_version, spacy_version, pipeline, codebook, "
                                "codebook_sha256, corpus, settings, documents, recoded FROM runs "
                                "ORDER BY id DESC LIMIT 1").fetchone()
        return RunInfo(*row[:9], json.loads(row[9]), row[10], row[11]) if row else None  # type: ignore[misc]

    def run_documents(self, run_id: int) -> dict[str, int]:
        """Document id -> coded-document id, for one run."""
        return dict(self.conn.execute("SELECT doc_id, coded_id FROM run_documents WHERE run_id = ? ORDER BY doc_id",
                                      (run_id,)))

    # -- the cache ---------------------------------------------------------------------------
    def front_matter(self) -> Any:
        """The parsed front matter of the last run's documents (a qualcode.metacache.FrontMatterCache)."""
        from .metacache import FrontMatterCache

        return FrontMatterCache({(p, h): t for p, h, t in self.conn.execute("SELECT path, sha256, parsed "
                                                                             "FROM front_matter")})

    def coded_ids(self, documents: Sequence[Document], key: CodingKey) -> dict[str, int]:
        """Document id -> stored coded-document id, for the documents whose text hash and key
        have a stored coding."""
        found: dict[str, int] = {}
        rows = self.conn.execute("SELECT doc_id, doc_sha256, id FROM coded_documents WHERE codebook_sha256 = ? "
                                 "AND qualcode_version = ? AND pipeline = ?",
                                 (key.codebook_sha256, key.qualcode_version, key.pipeline))
        stored = {(doc_id, sha): cid for doc_id, sha, cid in rows}
        for d in documents:
            cid = stored.get((d.id, sha256_text(d.text)))
            if cid is not None:
                found[d.id] = cid
        return found

    def load_coded(self, document: Document, coded_id: int) -> list[CodedSegment]:
        """A document's stored coding as CodedSegments, exactly as coding made them."""
        text, doc_id = document.text, document.id
        lists, rules = self._lists, self._rules  # the same few code lists and rules recur: decoded once
        matches: dict[str, list[Match]] = {}
        for seg, code, pattern, rfile, rline, rcol, a, b in self.conn.execute(
                'SELECT segment, code, pattern, rule_file, rule_line, rule_col, start, "end" FROM codings '
                "WHERE coded_id = ? AND status = 'applied' AND source = 'rule' ORDER BY seq", (coded_id,)):
            rule = rules.get((rfile, rline, rcol))
            if rule is None:
                rule = rules[(rfile, rline, rcol)] = f"{rfile}:{rline}:{rcol}"
            matches.setdefault(seg, []).append(_match(code, pattern, rule, a, b, text[a:b], "rule", "", None))
        case_matches: dict[str, list[Match]] = {}
        for seg, case, pattern, rule, a, b in self.conn.execute(
                'SELECT segment, "case", pattern, rule, start, "end" FROM case_mentions WHERE coded_id = ? '
                "ORDER BY seq", (coded_id,)):
            case_matches.setdefault(seg, []).append(_match(case, pattern, rule, a, b, text[a:b], "rule", "", None))
        out = []
        for sid, start, end, line, kind, paragraph, section, section_start, item, speaker, codes, cases, context in \
                self.conn.execute('SELECT id, start, "end", line, kind, paragraph, section, section_start, item, '
                                  "speaker, codes, cases, context_cases FROM segments WHERE coded_id = ? ORDER BY n",
                                  (coded_id,)):
            segment = _segment(doc_id, sid, start, end, line, kind, paragraph, section, section_start, item, speaker)
            out.append(_coded(segment, text[start:end], lists[codes], lists[cases], lists[context],
                              tuple(matches.get(sid, ())), tuple(case_matches.get(sid, ()))))
        return out

    def record_run(self, *, started: str, documents: Sequence[Document], coded: dict[str, list[CodedSegment]],
                   reused: dict[str, int], key: CodingKey, codebook: Codebook, codebook_path: str, corpus: str,
                   settings: dict[str, Any], coders: Sequence[Coding] = (), front_matter: Any = None,
                   rule_codings_out: dict[str, list[Coding]] | None = None, keep_runs: int | None = KEEP_RUNS) -> int:
        """Write one run in one transaction: the newly coded documents (``coded``), which
        stored coding every other document reused, the coders' codings read in this run
        (``coders``: manual and imported, stored with this run and no coded document), and
        the documents' current state; then drop the codings of runs before the last
        ``keep_runs`` (see :meth:`prune`; None keeps every run's). The rule codings stored for each coded document are
        put in ``rule_codings_out`` (by document id) when given, for the caller to reuse."""
        db = self.conn
        with self.transaction():
            cur = db.execute(
                "INSERT INTO runs (started, finished, qualcode_version, spacy_version, pipeline, codebook, "
                "codebook_sha256, corpus, settings, documents, recoded) VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (started, key.qualcode_version, spacy_version(), key.pipeline, codebook_path, key.codebook_sha256,
                 corpus, json.dumps(settings, sort_keys=True), len(documents), len(coded)))
            run_id = int(cur.lastrowid)  # type: ignore[arg-type]
            by_id = {d.id: d for d in documents}
            for doc_id, segments in coded.items():
                doc = by_id[doc_id]
                cur = db.execute("INSERT INTO coded_documents (doc_id, doc_sha256, codebook_sha256, "
                                 "qualcode_version, pipeline, run_id) VALUES (?, ?, ?, ?, ?, ?)",
                                 (doc_id, sha256_text(doc.text), key.codebook_sha256, key.qualcode_version,
                                  key.pipeline, run_id))
                coded_id = int(cur.lastrowid)  # type: ignore[arg-type]
                rules = self._insert_coding(coded_id, run_id, doc, segments, codebook)
                if rule_codings_out is not None:
                    rule_codings_out[doc_id] = rules
                db.execute("INSERT INTO run_documents VALUES (?, ?, ?, 1)", (run_id, doc_id, coded_id))
            db.executemany("INSERT INTO run_documents VALUES (?, ?, ?, 0)",
                           [(run_id, doc_id, cid) for doc_id, cid in reused.items()])
            self.add_codings(coders, run_id=run_id, texts={d.id: d.text for d in documents})
            db.execute("DELETE FROM documents")
            db.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(d.id, d.path, sha256_text(d.text), json.dumps(d.meta, sort_keys=True, default=str,
                                                                           ensure_ascii=False),
                             d.kind, d.title, len(d.text), d.body_start, *_stat(d.path), run_id) for d in documents])
            if front_matter is not None:  # what this run parsed or reused, for the next
                db.execute("DELETE FROM front_matter")
                db.executemany("INSERT INTO front_matter VALUES (?, ?, ?)",
                               [(p, h, front_matter.known.get((p, h)) or parsed.dumps())
                                for (p, h), parsed in sorted(front_matter.used.items())])
            db.execute("DELETE FROM codes")
            db.executemany("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?)",
                           [(c.id, n, c.label, c.parent, c.color, c.definition)
                            for n, c in enumerate(codebook.codes.values())])
            db.execute("DELETE FROM cases")
            db.executemany("INSERT INTO cases VALUES (?, ?, ?, ?, ?)",
                           [(c.id, n, c.name, c.kind, c.parent) for n, c in enumerate(codebook.cases.values())])
            if keep_runs is not None:
                self.prune(keep_runs)
            db.execute("UPDATE runs SET finished = ? WHERE id = ?", (_now(), run_id))
        return run_id

    def prune(self, keep: int) -> int:
        """Drop what only runs before the last ``keep`` use: their document lists, their
        coders' codings and every coded document (segments, codings, case mentions) no kept
        run uses. Their rows in ``runs`` stay, as the history of what was run. Without it a
        store grows by a full copy of the coding at every codebook edit; SQLite reuses the
        freed pages, so the file stops growing. Returns the coded documents dropped."""
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep!r}")
        db = self.conn
        row = db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (keep - 1,)).fetchone()
        if row is None:
            return 0
        cutoff = row[0]
        db.execute("DELETE FROM codings WHERE coded_id IS NULL AND run_id < ?", (cutoff,))
        db.execute("DELETE FROM run_documents WHERE run_id < ?", (cutoff,))
        db.execute("CREATE TEMP TABLE IF NOT EXISTS unused (id INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM unused")
        db.execute("INSERT INTO unused SELECT id FROM coded_documents "
                   "WHERE id NOT IN (SELECT coded_id FROM run_documents)")
        dropped = db.execute("SELECT count(*) FROM unused").fetchone()[0]
        if dropped:
            for table in ("codings", "segments", "case_mentions"):
                db.execute(f"DELETE FROM {table} WHERE coded_id IN (SELECT id FROM unused)")
            db.execute("DELETE FROM coded_documents WHERE id IN (SELECT id FROM unused)")
        return dropped

    def _insert_coding(self, coded_id: int, run_id: int, document: Document, segments: list[CodedSegment],
                       codebook: Codebook) -> list[Coding]:
        db = self.conn
        dumps = self._dumps
        db.executemany('INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
            (coded_id, n, c.segment.id, c.segment.doc, c.segment.start, c.segment.end, c.segment.line, c.segment.kind,
             c.segment.paragraph, c.segment.item, c.segment.section, c.segment.section_start, c.segment.speaker, c.text,
             dumps[c.codes], dumps[c.cases], dumps[c.context_cases])
            for n, c in enumerate(segments, 1)])
        rules = rule_codings(segments, codebook)
        self.add_codings(rules, run_id=run_id, coded_id=coded_id, texts={document.id: document.text}, first=1)
        db.executemany("INSERT INTO case_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            (coded_id, n, c.segment.id, m.code, m.pattern, m.rule, m.start, m.end)
            for n, (c, m) in enumerate(((c, m) for c in segments for m in c.case_matches), 1)])
        return rules

    def add_codings(self, codings: Iterable[Coding], *, run_id: int, coded_id: int | None = None,
                    texts: dict[str, str] | None = None, first: int | None = None) -> int:
        """Store codings of any source, coder and status (rule, manual, imported, suggested).
        ``texts`` (document id -> text) gives the quoted span where the caller has it;
        ``first`` the first ``seq`` (default: after the coded document's stored codings)."""
        rows = []
        if first is None:
            first = 1 if coded_id is None else self.conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM codings WHERE coded_id = ?", (coded_id,)).fetchone()[0]
        for n, c in enumerate(codings, first):
            r = c.rule
            text = texts[c.doc][c.start:c.end] if texts and c.doc in texts else ""
            rows.append((coded_id, run_id, n, c.segment, c.doc, c.start, c.end, c.line, c.code, c.source, c.coder,
                         c.status, c.via, r.kind if r else None, r.pattern if r else None, r.file if r else None,
                         r.line if r else None, r.col if r else None, c.confidence, c.note, text))
        self.conn.executemany("INSERT INTO codings (coded_id, run_id, seq, segment, doc_id, start, \"end\", line, "
                              "code, source, coder, status, via, rule_kind, pattern, rule_file, rule_line, rule_col, "
                              "confidence, note, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "?, ?, ?)", rows)
        return len(rows)


    def is_current(self, corpus: str | os.PathLike[str], codebook: str | os.PathLike[str], model: str | None,
                   codings: str | os.PathLike[str] | None = None) -> bool:
        """Whether the last run coded exactly these files with this codebook, qualcode
        version and pipeline, and read these coder files (``codings``, the manual codings
        folder) as they are now (corpus files whose size and modification time are
        unchanged are taken as unchanged; the others are read and their text hashed)."""
        from . import __version__
        from .corpus import _walk, read_document  # the corpus walk that load_corpus does

        last = self.last_run()
        if last is None or (last.codebook_sha256, last.qualcode_version, last.pipeline) != (
                codebook_sha256(codebook), __version__, pipeline_id(model)):
            return False
        if last.settings.get("codings", {}) != coder_files_sha256(codings):
            return False
        root = Path(corpus)
        if not root.exists():
            return False
        problems: list[Problem] = []
        paths = _walk(root, problems, False) if root.is_dir() else [(root, root.name)]
        if problems:
            return False  # coding reports them
        stored = {doc_id: (sha, size, mtime) for doc_id, sha, size, mtime in
                  self.conn.execute("SELECT id, sha256, size, mtime_ns FROM documents")}
        seen = 0
        for path, doc_id in paths:
            entry = stored.get(doc_id)
            if entry is not None and _stat(str(path)) == entry[1:]:
                seen += 1
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    doc = read_document(path, doc_id)
                except QualcodeError:
                    return False
            if doc is None:  # an empty file: skipped by coding too
                continue
            if entry is None or sha256_text(doc.text) != entry[0]:
                return False
            seen += 1
        return seen == len(stored)


class _JsonTuples(dict[str, tuple[str, ...]]):
    """JSON list text -> tuple, decoded on first use."""

    def __missing__(self, key: str) -> tuple[str, ...]:
        value = self[key] = tuple(json.loads(key))
        return value


class _TupleJson(dict[tuple[str, ...], str]):
    """Tuple -> JSON list text, encoded on first use."""

    def __missing__(self, key: tuple[str, ...]) -> str:
        value = self[key] = json.dumps(key)
        return value


def _stat(path: str) -> tuple[int, int]:
    """A file's size and modification time in nanoseconds, (-1, -1) when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1
    return st.st_size, st.st_mtime_ns


def open_store(path: str | os.PathLike[str]) -> Store:
    """Open (creating or migrating) the store at ``path``.

    A file that is not a readable SQLite database is moved aside to ``PATH.corrupt`` and a
    new store is made, with a warning (the store is derived data: the next run refills it).
    A store of a newer schema version than this qualcode knows is refused (QualcodeError).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise QualcodeError(Problem(str(path), f"cannot create the store's folder: {err.strerror or err} "
                                               f"(give another place with --store, or --no-store)")) from None
    _ignore_store_dir(path)
    try:
        conn = _connect(path)
    except sqlite3.OperationalError as err:  # I/O, permissions, full disk, locked: not the file's content
        raise StoreUnavailable(Problem(str(path), f"cannot use the store: {err} "
                                                  f"(give another place with --store, or --no-store)")) from None
    except sqlite3.DatabaseError as err:  # "file is not a database", "database disk image is malformed"
        backup = path.with_name(path.name + ".corrupt")
        os.replace(path, backup)
        warnings.warn(f"{path}: the store is not a readable SQLite database ({err}); moved it to {backup} and "
                      f"rebuilding it from the text files", StoreWarning, stacklevel=2)
        conn = _connect(path)
    return Store(path, conn)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)  # transactions are explicit (Store.transaction)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = DELETE")  # one file, readable by every SQLite tool as it is
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise QualcodeError(Problem(str(path), f"the store has schema version {version}, newer than this "
                                                   f"qualcode ({SCHEMA_VERSION}) knows: upgrade qualcode, or delete "
                                                   f"the store (it is rebuilt from the text files), or use "
                                                   f"--store elsewhere or --no-store"))
        if version == 0 and tables:
            raise QualcodeError(Problem(str(path), "this SQLite file is not a qualcode store (it has tables but no "
                                                   "qualcode schema version): give another path with --store"))
        _migrate(conn, version)
        if version:
            conn.execute("SELECT count(*) FROM runs").fetchone()  # reads a page: a corrupt body fails here
    except BaseException:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply MIGRATIONS from ``version`` up to SCHEMA_VERSION, each in its own transaction."""
    while version < SCHEMA_VERSION:
        description, script = MIGRATIONS[version]
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n"
                           f"INSERT INTO schema_migrations VALUES ({version + 1}, '{_now()}', "
                           f"'{description.replace(chr(39), chr(39) * 2)}');\n"
                           f"PRAGMA user_version = {version + 1};\nCOMMIT;")
        version += 1


def _ignore_store_dir(path: Path) -> None:
    """A ``.gitignore`` of ``*`` in ``.qualcode/``, so the derived store stays out of git."""
    if path.parent.name == STORE_DIR:
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            with contextlib.suppress(OSError):
                ignore.write_text("# qualcode's project store: derived from the text files, rebuilt at will\n*\n")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


# -- incremental coding ------------------------------------------------------------------------

@dataclass(slots=True)
class IncrementalResult:
    """Coded segments of a corpus, and how many documents were recoded."""

    segments: list[CodedSegment]
    recoded: int
    unchanged: int
    codebook_changed: bool
    run_id: int | None  # None when the store could not be written
    rule_codings: dict[str, list[Coding]] = field(default_factory=dict)  # of the recoded documents, as stored


def code_incrementally(store: Store, documents: Sequence[Document], codebook_path: str, loaded: Any, *,
                       model: str | None, corpus: str, settings: dict[str, Any],
                       code: Callable[[Sequence[Document]], list[CodedSegment]],
                       coders: Sequence[Coding] = (), front_matter: Any = None,
                       keep_runs: int | None = KEEP_RUNS) -> IncrementalResult:
    """Reuse the stored coding of every document whose text, codebook, qualcode version and
    pipeline are unchanged; ``code`` the others (in document order); record the run with
    the coders' codings (``coders``, manual and imported, read from their files this run:
    the store keeps a copy per run, the files stay the only source)."""
    from .codings import attach_segments

    from . import __version__

    started = _now()
    key = CodingKey(codebook_sha256(codebook_path), __version__, pipeline_id(model))
    reused = store.coded_ids(documents, key)
    todo = [d for d in documents if d.id not in reused]
    last = store.last_run()
    coded: dict[str, list[CodedSegment]] = {}
    if todo:
        coded = dict(_by_document(code(todo), [d.id for d in todo]))
    out: list[CodedSegment] = []
    for d in documents:
        out.extend(coded[d.id] if d.id in coded else store.load_coded(d, reused[d.id]))
    rules: dict[str, list[Coding]] = {}
    try:
        run_id: int | None = store.record_run(started=started, documents=documents, coded=coded, reused=reused,
                                              key=key, codebook=loaded.codebook, codebook_path=codebook_path,
                                              corpus=corpus, settings=settings,
                                              coders=attach_segments(coders, out), front_matter=front_matter,
                                              rule_codings_out=rules, keep_runs=keep_runs)
    except sqlite3.OperationalError as err:  # rolled back: the store keeps its previous state
        warnings.warn(f"{store.path}: cannot update the store ({err}); it keeps its previous runs, the coding "
                      f"and outputs are unaffected", StoreWarning, stacklevel=2)
        run_id = None
        rules = {}
    changed = last is not None and last.codebook_sha256 != key.codebook_sha256
    return IncrementalResult(out, len(todo), len(reused), changed, run_id, rules)


def _by_document(segments: list[CodedSegment], ids: list[str]) -> Iterator[tuple[str, list[CodedSegment]]]:
    """Split a corpus's coded segments (in document order) per document; documents
    without segments get an empty list."""
    groups: dict[str, list[CodedSegment]] = {i: [] for i in ids}
    for s in segments:
        groups[s.segment.doc].append(s)
    yield from groups.items()
