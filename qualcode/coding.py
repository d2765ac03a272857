"""Coding: a pure function of (document, compiled codebook), in steps that each source
of codings plugs into the same way.

1. compile (``qualcode.compiled``): codebook -> ``CompiledCodebook``, the pattern indexes
   and per pattern what its match does; once per run;
2. match (``qualcode.matching``): a segmented document -> its raw matches (pattern,
   start, end) of every pattern;
3. resolve (``qualcode.resolve``): raw matches -> per segment its codes (exclusions veto,
   nested matches dropped, ancestors inherited), its cases (leftmost-longest) and its
   context cases (front matter and headings), as plain numbers (``Resolved``);
4. view (``qualcode.view``): ``Resolved`` -> ``CodedSegment`` objects with their matches;
5. combine (``qualcode.codings``): the rule codings of those segments as ``Coding``
   records, with manual, imported and suggested ones (manual wins, ``not:`` rejects), and
   the coded segments as a view over the chosen codings.

``code_document(document, compiled)`` runs steps 2-4 for one document, so coding can be
cached (the project store), run in parallel (``code_corpus(..., jobs=N)``: workers stop
after step 3) and checked against a plain reference (``qualcode.reference``).

How patterns match (see the README for examples):

- ``terms``: token sequences compared on case- and accent-folded lemmas;
- case ``name``/``aliases``: token sequences compared on folded word forms;
  ``exact_aliases`` on the words as written;
- ``tokens``: spaCy ``Matcher`` patterns over a Doc whose LEMMA and NORM are folded;
- ``regex``: Python regular expressions, case-insensitive, on the text with markup blanked;
- ``exclude``: any of the above; a code match overlapping an exclusion match of the same
  code is dropped.
"""
from __future__ import annotations

import gc
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from .compiled import CompiledCodebook, compile_codebook
from .errors import CorpusError
from .model import CodedSegment, Document
from .resolve import Resolved
from .segment import MAX_SEGMENT_CHARS, long_segments
from .view import segment_fields

__all__ = ["CompiledCodebook", "Resolved", "code_corpus", "code_document", "compile_codebook"]


def code_document(document: Document, compiled: CompiledCodebook) -> list[CodedSegment]:
    """Segment and code one document: a pure function of its arguments."""
    return compiled.code(document)


_WORKER: CompiledCodebook | None = None
_DOCUMENTS: Sequence[Document] = ()


def _code_in_worker(index: int) -> Resolved:
    """Code one document in a forked worker, without building result objects: the plain
    numbers pickle small and fast, and the parent builds each object once (building them
    here too, then packing and unpacking them, cost the parent as much as coding saved)."""
    assert _WORKER is not None
    resolved = _WORKER.resolve(_DOCUMENTS[index])
    return resolved._replace(segments=[segment_fields(s) for s in resolved.segments])


def code_corpus(documents: Sequence[Document], compiled: CompiledCodebook, *, jobs: int = 1,
                progress: Callable[[int, int, Document], None] | None = None) -> list[CodedSegment]:
    """Code every document, in document order; ``jobs > 1`` uses that many processes.

    Raises CorpusError when a document's front matter names an unknown case.
    """
    problems = compiled.check_documents(documents)
    if problems:
        raise CorpusError(problems)
    if not documents:
        warnings.warn("the corpus has no documents: nothing to code", stacklevel=2)
        return []
    out: list[CodedSegment] = []
    total = len(documents)
    with _gc_paused():
        for n, (doc, coded) in enumerate(zip(documents, _map(documents, compiled, jobs)), 1):
            out.extend(coded)
            _warn_long_segments(doc, coded)
            if progress is not None:
                progress(n, total, doc)
    return out


def _warn_long_segments(document: Document, coded: list[CodedSegment]) -> None:
    """Warn of segments longer than MAX_SEGMENT_CHARS: a layout the segmenter did not see
    makes one segment of many passages, and every code of them lands on each."""
    long = long_segments([c.segment for c in coded])
    if long:
        s = long[0]
        more = f" (and {len(long) - 1} more in this document)" if len(long) > 1 else ""
        warnings.warn(f"{document.path or document.id}:{s.line}:1: a segment of {s.end - s.start} characters, over "
                      f"{MAX_SEGMENT_CHARS}{more}: its passages were not told apart, so every code in it applies to "
                      f"all of it; start each passage on its own line with a marker (-, 1., 4.1, (a), Speaker:) or "
                      f"leave a blank line between them", stacklevel=3)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: coding makes no reference cycles, but its many
    long-lived result objects make each full collection slower (about a tenth of the
    time of a large corpus). Reference counting still frees everything else."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _map(documents: Sequence[Document], compiled: CompiledCodebook, jobs: int) -> Iterator[list[CodedSegment]]:
    if jobs <= 1 or len(documents) < 2:
        yield from (compiled.code(d) for d in documents)
        return
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        warnings.warn("this platform cannot fork worker processes: coding with one process", stacklevel=3)
        yield from (compiled.code(d) for d in documents)
        return
    global _WORKER, _DOCUMENTS
    # Inherited by the forked workers, never pickled: pickling the compiled bundled codebook
    # alone is 3.2 MB and 0.1 s per worker before unpickling it there, and the workers
    # start with the parent's warm lexicon and tokenizer cache.
    _WORKER, _DOCUMENTS = compiled, documents
    ctx = mp.get_context("fork")
    try:
        with ctx.Pool(min(jobs, len(documents))) as pool:
            chunks = pool.imap(_code_in_worker, range(len(documents)), chunksize=max(1, len(documents) // (jobs * 8)))
            for document, resolved in zip(documents, chunks):
                yield compiled.build(document, resolved)
    finally:
        _WORKER, _DOCUMENTS = None, ()
