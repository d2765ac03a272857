"""The claims cache (qualcode.claims_cache): claims and trace read from it give exactly what
building the study gives, and every change to what the study depends on rebuilds it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

COMMANDS = [("claims", "--format", "json"), ("trace", "small-numbers"), ("trace", "banks-distrust", "--limit", "3")]
CACHED = "claims and evidence read from the claims cache"


def _project(folder: Path) -> Path:
    for name in ("corpus", "codings"):
        shutil.copytree(ROOT / name, folder / name)
    for name in ("codebook.yaml", "claims.yaml"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def _outputs(folder: Path, *extra: str) -> tuple[list[str], list[str]]:
    done = [run_cli(*c, *extra, cwd=folder) for c in COMMANDS]
    assert all(d.returncode == 0 for d in done), [d.stderr for d in done]
    return [d.stdout for d in done], [d.stderr for d in done]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the bundled project whose store and claims cache are built."""
    folder = _project(tmp_path_factory.mktemp("cached"))
    _outputs(folder)
    return folder


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _edit_claims(folder: Path) -> None:
    """A statement with a word the corpus does not have (its lemma needs spaCy)."""
    path = folder / "claims.yaml"
    text = path.read_text(encoding="utf-8")
    assert "statement: " in text
    path.write_text(text.replace("statement: ", "statement: Zygomorphic ", 1), encoding="utf-8")


def _comment_claims(folder: Path) -> None:
    _append(folder / "claims.yaml", "# a comment changes the file's bytes\n")


def _edit_document(folder: Path) -> None:
    _append(folder / "corpus" / "interviews" / "tijuana-furniture.md", "\nOne more line about credit and trust.\n")


def _edit_codebook(folder: Path) -> None:
    _append(folder / "codebook.yaml", "# an edit\n")


def _edit_codings(folder: Path) -> None:
    coder = sorted((folder / "codings").glob("*.yaml"))[0]
    _append(coder, "\n")


def _edit_document_same_size_and_time(folder: Path) -> None:
    """An edit the store's size-and-time check cannot see: the cache must."""
    import os

    path = folder / "corpus" / "interviews" / "ciudad-hidalgo-furniture.md"
    text = path.read_text(encoding="utf-8")
    assert "1000 operating" in text
    before = path.stat()
    path.write_text(text.replace("1000 operating", "1001 operating"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def _damage_cache(folder: Path) -> None:
    (folder / ".qualcode" / "project.claims.sqlite").write_bytes(b"not a database at all")


RELINKED = "claims file changed: its claims linked again over the evidence index of the claims cache"
REBUILT = "codings read from the store"


@pytest.mark.parametrize(("change", "extra", "first"), [
    (_edit_claims, (), RELINKED), (_comment_claims, (), RELINKED), (_edit_document, (), "coded 1 of 11 documents again"),
    (_edit_codebook, (), "codebook changed: coded 11 of 11"), (_edit_codings, (), REBUILT),
    (_edit_document_same_size_and_time, (), "coded 1 of 11 documents again"),
    (_damage_cache, (), "the claims cache cannot be read"),
    (None, ("--source", "rule"), REBUILT), (None, ("--codings", ""), REBUILT),
])
def test_claims_cache_rebuilds_on_every_change_it_depends_on(tmp_path, built, change, extra, first):
    """After each change (or with other options), the first command builds the study again
    (or, when only the claims file changed, links its claims again over the cached index)
    and the rest read the cache; every output is that of coding from scratch."""
    folder = tmp_path / "p"
    shutil.copytree(built, folder)
    assert (folder / ".qualcode" / "project.claims.sqlite").is_file()
    if change is not None:
        change(folder)
    scratch, _ = _outputs(folder, "--no-store", *extra)
    got, notes = _outputs(folder, *extra)
    assert got == scratch
    assert first in notes[0], notes[0]
    assert all(CACHED in n for n in notes[1:]), notes


def test_claims_cache_bad_claims_file_gives_the_errors_of_building(tmp_path, built):
    """A claims file broken after the cache was built: the same located errors, exit 2, and
    the cache keeps its claims for when the file is mended."""
    folder = tmp_path / "p"
    shutil.copytree(built, folder)
    good = (folder / "claims.yaml").read_text(encoding="utf-8")
    (folder / "claims.yaml").write_text(good.replace("stance: supports", "stance: proves", 1), encoding="utf-8")
    for command in (("claims",), ("trace", "small-numbers")):
        scratch = run_cli(*command, "--no-store", cwd=folder)
        cached = run_cli(*command, cwd=folder)
        assert cached.returncode == scratch.returncode == 2
        errors = [line for line in cached.stderr.splitlines() if line.startswith("error:")]
        assert errors and errors == [line for line in scratch.stderr.splitlines() if line.startswith("error:")]
    (folder / "claims.yaml").write_text(good, encoding="utf-8")
    done = run_cli("claims", cwd=folder)
    assert done.returncode == 0 and CACHED in done.stderr


def test_claims_cache_unchanged_project_reads_the_cache(tmp_path, built):
    folder = tmp_path / "p"
    shutil.copytree(built, folder)
    scratch, _ = _outputs(folder, "--no-store")
    got, notes = _outputs(folder)
    assert got == scratch and all(CACHED in n and "11 documents unchanged" in n for n in notes)


def test_claims_cache_listing_and_trace_need_neither_spacy_nor_scipy(built):
    """A claims listing and a trace of the default length answer from the remembered
    results: no coding pipeline, no sparse matrices (what makes them fast)."""
    probe = ("import sys; from qualcode.cli import main; rc = main(sys.argv[1:]); "
             "print('MODULES', 'spacy' in sys.modules, 'scipy' in sys.modules, file=sys.stderr); sys.exit(rc)")
    for args in (["claims"], ["trace", "small-numbers", "--format", "json"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=built,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
        assert done.returncode == 0, done.stderr
        assert CACHED in done.stderr and "MODULES False False" in done.stderr, done.stderr


def test_claims_cache_unknown_claim_id_is_the_same_error(built):
    scratch = run_cli("trace", "no-such-claim", "--no-store", cwd=built)
    cached = run_cli("trace", "no-such-claim", cwd=built)
    assert cached.returncode == scratch.returncode == 2
    assert cached.stderr.splitlines()[-1] == scratch.stderr.splitlines()[-1]


def test_claims_cache_paused_collector_loads_the_same(built):
    """Unpickling with the collector paused (the speed path) gives what plain unpickling
    gives, for every part of the cache and every document's segments and codings."""
    import pickle
    import sqlite3

    from qualcode.claims_cache import loads

    conn = sqlite3.connect(built / ".qualcode" / "project.claims.sqlite")
    try:
        rows = conn.execute("SELECT data FROM parts UNION ALL SELECT data FROM documents").fetchall()
    finally:
        conn.close()
    assert len(rows) > 4
    for (data,) in rows:
        assert pickle.dumps(loads(data), protocol=5) == pickle.dumps(loads(data, pause_gc=False), protocol=5)


def test_claims_cache_written_by_run(tmp_path):
    """qualcode run keeps the study it built, so claims and trace after it answer from the cache."""
    folder = _project(tmp_path / "p")
    done = run_cli("run", "-q", "-o", "out", cwd=folder)
    assert done.returncode == 0, done.stderr
    scratch, _ = _outputs(folder, "--no-store")
    got, notes = _outputs(folder)
    assert got == scratch and all(CACHED in n for n in notes), notes
