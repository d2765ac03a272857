"""Shared fixtures: the repository's own corpus and codebook, one pipeline per session."""
from __future__ import annotations

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
