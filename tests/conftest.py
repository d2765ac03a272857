"""Shared fixtures: the repository's own corpus and codebook, one pipeline per session."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def pipeline():
    from qualcode.pipeline import Pipeline

    return Pipeline()


@pytest.fixture(scope="session")
def compiled(pipeline):
    from qualcode.coding import compile_codebook

    return compile_codebook(ROOT / "codebook.yaml", pipeline=pipeline)


@pytest.fixture(scope="session")
def bundled(compiled):
    """The bundled corpus, coded with the bundled codebook."""
    from qualcode.coding import code_corpus
    from qualcode.corpus import load_corpus

    docs = load_corpus(ROOT / "corpus")
    return docs, code_corpus(docs, compiled)


@pytest.fixture(scope="session")
def paper_segments(pipeline):
    from qualcode.corpus import read_document
    from qualcode.segment import segment_document

    doc = read_document(ROOT / "corpus" / "paper" / "ruiz-duran-1998-clustering.md", "paper/ruiz-duran-1998-clustering.md")
    return doc, segment_document(doc, pipeline).segments


def make_doc(text: str, doc_id: str = "doc.md"):
    from qualcode.corpus import parse_document

    return parse_document(text.encode("utf-8"), doc_id)


def requires_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is provided in CI, not in a user's clone)")
    return path


def run_cli(*args: str, cwd: str | Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m qualcode ARGS`` in a fresh process, in ``cwd`` (default: the repository)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "qualcode", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)


def write_small_project(folder: Path) -> Path:
    """A small project in ``folder``: a two-document corpus (one with front-matter cases and
    a heading) and a codebook of two codes and one case."""
    (folder / "corpus").mkdir()
    (folder / "corpus" / "a.md").write_text("---\ncases: [puebla]\n---\n# Notes\n\nThey took a loan. Design matters.\n")
    (folder / "corpus" / "b.txt").write_text("Firms in Puebla got credit.\n")
    (folder / "codebook.yaml").write_text(
        "codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, credit]\n"
        "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n"
        "cases:\n  - id: puebla\n    name: Puebla\n    kind: state\n")
    return folder


def coding_differences(got: list, expected: list) -> list:
    """The first few coded segments that differ, as (got, expected) pairs, for the assertion
    message; the segmentation must be the same."""
    assert [c.segment for c in got] == [c.segment for c in expected], "segmentation differs"
    return [(g, e) for g, e in zip(got, expected) if g != e][:3]
