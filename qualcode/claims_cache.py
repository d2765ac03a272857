"""The claims cache: a claims study kept beside the project store, so that ``qualcode claims``
and ``qualcode trace`` on an unchanged project answer without coding, lemmatising or
loading spaCy.

The cache (``project.claims.sqlite`` beside ``project.sqlite``) is derived data, like the
store, and holds what :func:`qualcode.project.study_claims` built:

- the linked claims, the documents, the codebook, the evidence index's arrays
  (:meth:`qualcode.evidence.EvidenceIndex.state`: BM25 weights, theme and case incidence,
  source pointers, the lemma of every word seen) and the warnings the study gave;
- per document, its coded segments and the codings claims show, read only when a passage of
  that document is shown (a trace reads its anchors' and evidence's documents, a claims
  listing none).

It is keyed by everything the study depends on: the store's last run (codebook, qualcode
version, pipeline, coder files, every document's text hash), which must be current for the
files as they are (:meth:`qualcode.store.Store.is_current`), the coding source, the claims
file (name and bytes) and the versions of the libraries whose objects it holds. Any
difference, or a cache that cannot be read, and the study is built again and the cache
rewritten; it is written to a temporary file and moved into place, never half-written.

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

FORMAT = 2
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE parts (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE documents (id TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


def cached_study(corpus: str | os.PathLike[str], codebook: str | os.PathLike[str], claims: str | os.PathLike[str], *,
                 store: str | os.PathLike[str], source: str = "combined", model: str | None = None,
                 codings: str | os.PathLike[str] | None = None, claim_id: str | None = None) -> Any:
    """The claims study of these inputs from the cache beside ``store`` (a
    :class:`qualcode.evidence.ClaimsStudy` with ``result`` None), when nothing it depends
    on changed; None otherwise. The warnings the study gave when it was built are given
    again; ``claim_id`` is looked up (ClaimsError naming the nearest ids when absent)."""
    from .claims import find_claim
    from .evidence import ClaimsStudy

    key = study_key(store, corpus, codebook, claims, source=source, model=model, codings=codings)
    found = load_study(cache_path(store), key) if key else None
    if found is None:
        return None
    linked, index, seen = found
    for w in seen:
        warnings.warn(w, stacklevel=2)
    if claim_id is not None:
        find_claim(linked, claim_id, str(claims))
    return ClaimsStudy(None, linked, index, cached=cache_path(store))


def cache_path(store: str | os.PathLike[str]) -> Path:
    """The claims cache of a store: ``project.claims.sqlite`` beside ``project.sqlite``."""
    store = Path(store)
    return store.with_name(f"{store.stem}.claims{store.suffix or '.sqlite'}")


def study_key(store: str | os.PathLike[str], corpus: str | os.PathLike[str], codebook: str | os.PathLike[str],
              claims: str | os.PathLike[str], *, source: str, model: str | None,
              codings: str | os.PathLike[str] | None) -> str | None:
    """The key of the claims study of these inputs, from the store's last run; None when
    the store is missing or not current for the files as they are now."""
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
    parts = {
        "format": FORMAT, "qualcode": __version__, "python": list(sys.version_info[:2]),
        "libraries": _versions("numpy", "scipy", "rank-bm25"),
        "run": [last.codebook_sha256, last.qualcode_version, last.pipeline, last.settings],
        "documents": documents, "corpus": str(corpus), "codebook": str(codebook), "source": source,
        "claims": [str(claims), hashlib.sha256(claims_bytes).hexdigest()],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _versions(*dists: str) -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in dists:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "absent"
    return out


def save_study(study: Any, path: str | os.PathLike[str], key: str, seen: list[Warning] = ()) -> Path | None:
    """Write ``study`` (a :class:`qualcode.project.ClaimsStudy` with its coding result) to
    the cache at ``path`` under ``key``, with the warnings ``seen`` while it was built.
    Returns the path, or None (with a warning) when it cannot be written: the cache is an
    optimisation, and the outputs do not depend on it."""
    from .store import StoreWarning

    index = study.index
    coded = index.coded
    head = {"claims": study.claims, "documents": coded.documents, "codebook": coded.codebook,
            "pointers": index.pointers, "memo": index.remember(study.claims), "warnings": list(seen)}
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
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [("format", str(FORMAT)), ("key", key)])
            conn.executemany("INSERT INTO parts VALUES (?, ?)", [("study", pickle.dumps(head, protocol=5)),
                                                                  ("arrays", pickle.dumps(index.arrays(), protocol=5))])
            conn.executemany("INSERT INTO documents VALUES (?, ?)",
                             ((doc, pickle.dumps(coded.parts(doc), protocol=5)) for doc in sorted(coded.indexed())))
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.replace(tmp, path)
        tmp = None
    except (OSError, sqlite3.Error, pickle.PicklingError) as err:
        warnings.warn(f"{path}: cannot write the claims cache ({err}); claims and trace will build the study "
                      f"again next time", StoreWarning, stacklevel=2)
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def load_study(path: str | os.PathLike[str], key: str) -> tuple[Any, Any, list[Warning]] | None:
    """The cached ``(claims, index, warnings)`` under ``key`` at ``path``; None when there is
    no cache, it has another key, or it cannot be read (it is then rebuilt)."""
    from .claims import Coded
    from .evidence import EvidenceIndex

    path = Path(path)
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        if meta.get("format") != str(FORMAT) or meta.get("key") != key:
            conn.close()
            return None
        head = loads(conn.execute("SELECT data FROM parts WHERE name = 'study'").fetchone()[0])
        coded = Coded.lazy(head["codebook"], head["documents"], _loader(conn, path))
        index = EvidenceIndex.restore(coded, pointers=head["pointers"], memo=head["memo"],
                                      arrays=_arrays(conn, path))
        return head["claims"], index, head["warnings"]
    except Exception:  # noqa: BLE001 - any unreadable cache (corrupt, truncated, older classes) is rebuilt
        return None


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


def _arrays(conn: sqlite3.Connection, path: Path) -> Callable[[], dict[str, Any]]:
    from .errors import Problem, QualcodeError

    def load() -> dict[str, Any]:
        try:
            return loads(conn.execute("SELECT data FROM parts WHERE name = 'arrays'").fetchone()[0])
        except Exception as err:  # noqa: BLE001 - damaged after its header was read
            raise QualcodeError(Problem(str(path), f"the claims cache is damaged ({err}): delete it, the next "
                                                   f"claims or trace rebuilds it")) from None

    return load


def _loader(conn: sqlite3.Connection, path: Path) -> Callable[[str], tuple[list, list]]:
    from .errors import Problem, QualcodeError

    def load(doc: str) -> tuple[list, list]:
        try:
            row = conn.execute("SELECT data FROM documents WHERE id = ?", (doc,)).fetchone()
            return pickle.loads(row[0]) if row else ([], [])
        except Exception as err:  # noqa: BLE001 - damaged after its header was read
            raise QualcodeError(Problem(str(path), f"the claims cache is damaged ({err}): delete it, the next "
                                                   f"claims or trace rebuilds it")) from None

    return load
