"""The claims cache: a claims study kept beside the project store, so that ``qualcode claims``
and ``qualcode trace`` on an unchanged project answer without coding, lemmatising or
loading spaCy.

The cache (``project.claims.sqlite`` beside ``project.sqlite``) is derived data, like the
store, in two levels:

- **the evidence index** of the coded corpus: the documents, the codebook, the source
  pointers, the warnings the coding gave, the index's arrays
  (:meth:`qualcode.evidence.EvidenceIndex.arrays`: BM25 weights, theme and case incidence),
  the lemma of every word seen and, per document, its coded segments and the codings claims
  show (read only when a passage of that document is shown). Keyed by the store's last run
  (codebook, qualcode version, pipeline, coder files, every document's text hash), which must
  be current for the files as they are (:meth:`qualcode.store.Store.is_current`), the coding
  source and the versions of the libraries whose objects it holds;
- **the claims**: the linked claims and every claim's remembered evidence counts and related
  passages (:meth:`qualcode.evidence.EvidenceIndex.remember`), keyed by the index's key and
  the claims file (name and bytes).

An unchanged project reads both (a claims listing loads neither numpy nor scipy). When only
the claims file changed, its claims are loaded and linked again over the cached index, and
the claims level is replaced in one transaction. Any other difference, or a cache that
cannot be read, and the study is built again (:func:`qualcode.project.claims_project`) and
the whole cache rewritten: to a temporary file, moved into place, never half-written.

The cache holds Python pickles: qualcode reads only the cache it wrote in the project's
``.qualcode/`` folder (git-ignored); do not take a ``.qualcode/`` folder from someone you do
not trust (delete it: everything in it is rebuilt from the text files).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sqlite3
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

FORMAT = 4
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE parts (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE documents (id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
_DAMAGED = "the claims cache is damaged ({}): delete it, the next claims or trace rebuilds it"


def cached_study(corpus: str | os.PathLike[str], codebook: str | os.PathLike[str], claims: str | os.PathLike[str], *,
                 store: str | os.PathLike[str], source: str = "combined", model: str | None = None,
                 codings: str | os.PathLike[str] | None = None, claim_id: str | None = None) -> Any:
    """The claims study of these inputs from the cache beside ``store`` (a
    :class:`qualcode.evidence.ClaimsStudy` with ``result`` None; ``relinked`` when the claims
    file changed and its claims were linked again over the cached index), or None when the
    index is not current. The warnings the coding gave are given again; ``claim_id`` is
    looked up (ClaimsError naming the nearest ids when absent); a bad claims file raises its
    ClaimsError, as building the study would."""
    from .claims import find_claim, link_claims, load_claims
    from .evidence import ClaimsStudy

    keys = study_keys(store, corpus, codebook, claims, source=source, model=model, codings=codings)
    path = cache_path(store)
    opened = _open(path, keys[0]) if keys else None
    if opened is None:
        return None
    conn, head = opened
    for w in head["warnings"]:
        warnings.warn(w, stacklevel=2)
    level = _part(conn, path, "claims") if _meta(conn).get("claims_key") == keys[1] else None  # type: ignore[index]
    index = _index(conn, path, head, memo=level["memo"] if level is not None else {})
    if level is not None:
        linked, relinked = level["claims"], False
    else:
        loaded = load_claims(claims, list(head["documents"].values()), head["codebook"])
        linked, relinked = link_claims(loaded, index.coded), True
        _save_claims(path, keys, linked, index)  # type: ignore[arg-type]
    if claim_id is not None:
        find_claim(linked, claim_id, str(claims))
    return ClaimsStudy(None, linked, index, cached=path, relinked=relinked)


def cache_path(store: str | os.PathLike[str]) -> Path:
    """The claims cache of a store: ``project.claims.sqlite`` beside ``project.sqlite``."""
    store = Path(store)
    return store.with_name(f"{store.stem}.claims{store.suffix or '.sqlite'}")


def study_keys(store: str | os.PathLike[str], corpus: str | os.PathLike[str], codebook: str | os.PathLike[str],
               claims: str | os.PathLike[str], *, source: str, model: str | None,
               codings: str | os.PathLike[str] | None) -> tuple[str, str] | None:
    """The keys of the evidence index and of the claims of these inputs, from the store's
    last run; None when the store is missing or not current for the files as they are now,
    or the claims file cannot be read."""
    from . import __version__
    from .store import StoreUnavailable, open_store

    if not Path(store).is_file():
        return None
    try:
        claims_bytes = Path(claims).read_bytes()
    except OSError:
        return None
    try:
        with open_store(store) as db:
            if not db.is_current(corpus, codebook, model, codings):
                return None
            last = db.last_run()
            documents = db.conn.execute("SELECT id, sha256 FROM documents ORDER BY id").fetchall()
    except (StoreUnavailable, sqlite3.Error):
        return None
    if last is None:
        return None
    files = _corpus_digest(corpus)
    if files is None:
        return None
    parts = {
        "format": FORMAT, "qualcode": __version__, "python": list(sys.version_info[:2]),
        "libraries": _versions("numpy", "scipy", "rank-bm25"),
        "run": [last.codebook_sha256, last.qualcode_version, last.pipeline, last.settings],
        "documents": documents, "files": files, "corpus": str(corpus), "codebook": str(codebook), "source": source,
    }
    index_key = _digest(parts)
    return index_key, _digest([index_key, str(claims), hashlib.sha256(claims_bytes).hexdigest()])


def _corpus_digest(corpus: str | os.PathLike[str]) -> str | None:
    """The SHA-256 of every corpus file's bytes, by document id: the store's freshness check
    trusts an unchanged size and modification time, the cache does not (a file edited
    within the same second to the same size). About 30 ms for a million words."""
    from .corpus import _walk  # the corpus walk that load_corpus does
    from .errors import Problem

    root = Path(corpus)
    problems: list[Problem] = []
    paths = _walk(root, problems, False) if root.is_dir() else [(root, root.name)]
    if problems:
        return None
    h = hashlib.sha256()
    try:
        for path, doc_id in sorted(paths, key=lambda p: p[1]):
            h.update(doc_id.encode("utf-8") + b"\0" + hashlib.sha256(Path(path).read_bytes()).digest())
    except OSError:
        return None
    return h.hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _versions(*dists: str) -> dict[str, str]:
    from .store import dist_version

    return {dist: dist_version(dist) for dist in dists}


def keep_study(study: Any, corpus: str | os.PathLike[str], codebook: str | os.PathLike[str],
               claims: str | os.PathLike[str], *, store: str | os.PathLike[str], source: str = "combined",
               model: str | None = None, codings: str | os.PathLike[str] | None = None,
               seen: list[Warning] = ()) -> Path | None:
    """Save a study just built with the store (:func:`save_study`) under the keys of its
    inputs as they are now; nothing when its run was not recorded or the store is not current."""
    if study.result is None or study.result.run_id is None:
        return None
    keys = study_keys(store, corpus, codebook, claims, source=source, model=model, codings=codings)
    return save_study(study, cache_path(store), keys, seen) if keys else None


def save_study(study: Any, path: str | os.PathLike[str], keys: tuple[str, str], seen: list[Warning] = ()) -> Path | None:
    """Write ``study`` (a :class:`qualcode.evidence.ClaimsStudy` with its coding result) to
    the cache at ``path`` under ``keys`` (:func:`study_keys`), with the warnings ``seen``
    while it was built. Returns the path, or None (with a warning) when it cannot be
    written: the cache is an optimisation, and the outputs do not depend on it."""
    index = study.index
    coded = index.coded
    memo = index.remember(study.claims)
    head = {"documents": coded.documents, "codebook": coded.codebook, "pointers": index.pointers,
            "warnings": list(seen)}
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as the store's own file: mkstemp makes it private
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [("format", str(FORMAT)), ("index_key", keys[0]),
                                                               ("claims_key", keys[1])])
            conn.executemany("INSERT INTO parts VALUES (?, ?)", [
                ("index", _dumps(head)), ("arrays", _dumps(index.arrays())), ("lemmas", _dumps(index.lemmas())),
                ("claims", _dumps({"claims": study.claims, "memo": memo}))])
            conn.executemany("INSERT INTO documents VALUES (?, ?)",
                             ((doc, _dumps(coded.parts(doc))) for doc in sorted(coded.indexed())))
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.replace(tmp, path)
        tmp = None
    except (OSError, sqlite3.Error, pickle.PicklingError) as err:
        _cannot_write(path, err)
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def _save_claims(path: Path, keys: tuple[str, str], linked: list, index: Any) -> None:
    """Replace the claims level of the cache (claims linked again over its index), and the
    lemmas with the words those claims added, in one transaction."""
    memo = index.remember(linked)
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            if _meta(conn).get("index_key") != keys[0]:  # rebuilt meanwhile by another process
                conn.execute("ROLLBACK")
                return
            conn.executemany("REPLACE INTO parts VALUES (?, ?)", [
                ("claims", _dumps({"claims": linked, "memo": memo})), ("lemmas", _dumps(index.lemmas()))])
            conn.execute("REPLACE INTO meta VALUES ('claims_key', ?)", (keys[1],))
            conn.execute("COMMIT")
        finally:
            conn.close()
    except (OSError, sqlite3.Error, pickle.PicklingError) as err:
        _cannot_write(path, err)


def _cannot_write(path: Path, err: Exception) -> None:
    from .store import StoreWarning

    warnings.warn(f"{path}: cannot write the claims cache ({err}); claims and trace will build the study "
                  f"again next time", StoreWarning, stacklevel=3)


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=5)


def _open(path: Path, index_key: str) -> tuple[sqlite3.Connection, dict[str, Any]] | None:
    """The cache's connection and index level when it is of ``index_key``; None when there
    is no cache, it is of another key, or it cannot be read (it is then rebuilt)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        meta = _meta(conn)
        if meta.get("format") != str(FORMAT) or meta.get("index_key") != index_key:
            conn.close()
            return None
        return conn, loads(conn.execute("SELECT data FROM parts WHERE name = 'index'").fetchone()[0])
    except Exception as err:  # noqa: BLE001 - any unreadable cache (corrupt, truncated, older classes) is rebuilt
        from .store import StoreWarning

        warnings.warn(f"{path}: the claims cache cannot be read ({type(err).__name__}: {err}); building the "
                      f"study again and rewriting it", StoreWarning, stacklevel=3)
        return None


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta"))


def _index(conn: sqlite3.Connection, path: Path, head: dict[str, Any], *, memo: dict) -> Any:
    """The cached evidence index over a lazily loaded ``Coded``, with the remembered results
    ``memo``; its arrays and lemmas are read on first use."""
    from .claims import Coded
    from .evidence import EvidenceIndex

    coded = Coded.lazy(head["codebook"], head["documents"], _loader(conn, path))

    def arrays() -> dict[str, Any]:
        return {**_part(conn, path, "arrays", required=True), "lemmas": _part(conn, path, "lemmas", required=True)}

    return EvidenceIndex.restore(coded, pointers=head["pointers"], memo=memo, arrays=arrays)


def _part(conn: sqlite3.Connection, path: Path, name: str, *, required: bool = False) -> Any:
    """A part of the cache (None when absent and not ``required``); a damaged one is a
    QualcodeError saying to delete the cache."""
    from .errors import Problem, QualcodeError

    try:
        row = conn.execute("SELECT data FROM parts WHERE name = ?", (name,)).fetchone()
        if row is None and required:
            raise LookupError(f"no part {name!r}")
        return loads(row[0]) if row is not None else None
    except Exception as err:  # noqa: BLE001 - damaged after its index level was read
        raise QualcodeError(Problem(str(path), _DAMAGED.format(err))) from None


def loads(data: bytes, *, pause_gc: bool = True) -> Any:
    """Unpickle ``data``. The cyclic collector is paused while the objects of the study are
    made (none is garbage, yet each 700 allocations trigger a scan of the growing heap):
    0.15 s -> 0.08 s for the 200 claims of the million-word benchmark (bench_claims.py
    --end-to-end). ``pause_gc=False`` is the plain path, which the tests compare it with."""
    if not pause_gc:
        return pickle.loads(data)
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if enabled:
            gc.enable()


def _loader(conn: sqlite3.Connection, path: Path) -> Callable[[str], tuple[list, list]]:
    from .errors import Problem, QualcodeError

    def load(doc: str) -> tuple[list, list]:
        try:
            row = conn.execute("SELECT data FROM documents WHERE id = ?", (doc,)).fetchone()
            return loads(row[0]) if row else ([], [])
        except Exception as err:  # noqa: BLE001 - damaged after its index level was read
            raise QualcodeError(Problem(str(path), _DAMAGED.format(err))) from None

    return load
