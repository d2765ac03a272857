"""qualcode: transparent, reproducible qualitative coding and evidence mapping.

The library behind the ``qualcode`` command. Typical use::

    from qualcode import load_corpus, compile_codebook, code_corpus, write_coding
    docs = load_corpus("corpus")
    book = compile_codebook("codebook.yaml")
    segments = code_corpus(docs, book)
    write_coding(segments, "coding.jsonl")

Names are imported lazily so that ``import qualcode`` (and ``qualcode --help``) stays fast.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_corpus": "corpus", "read_document": "corpus",
    "load_codebook": "codebook", "parse_codebook": "codebook",
    "compile_codebook": "coding", "code_corpus": "coding", "code_document": "coding", "CompiledCodebook": "coding",
    "segment_document": "segment", "Pipeline": "pipeline", "fold": "pipeline",
    "write_coding": "output", "read_coding_records": "output",
    "check_project": "project", "code_project": "project", "run_project": "project",
    "open_store": "store", "find_segments": "retrieve", "kwic_term": "retrieve", "kwic_code": "retrieve",
    "code_stats": "retrieve", "diff_runs": "diff",
    "build_graph": "graph", "write_graph": "export", "export_all": "export",
    "Document": "model", "Segment": "model", "CodedSegment": "model", "Match": "model", "Code": "model",
    "Case": "model", "Codebook": "model", "Coding": "model", "Rule": "model",
    "load_manual": "manual", "load_sample": "manual", "locate": "locate", "combine": "codings",
    "rule_codings": "codings",
    "QualcodeError": "errors", "CodebookError": "errors", "CorpusError": "errors", "Problem": "errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qualcode' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"qualcode.{module}"), name)
