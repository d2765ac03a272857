"""Step 3 of coding, resolve: a document's raw matches -> what each segment is coded with.

- a match counts in the segment that holds it whole (``in_segments``);
- code matches: within one segment and code, a match overlapping an exclusion match of
  that code is vetoed (``vetoed_matches`` gives the trail of those, for ``--explain``),
  then, taken by start and longest first, a match inside an earlier one is dropped; a
  code's ancestors are set with it (its bit includes theirs: nesting);
- case names: leftmost-longest over the document, so "Nuevo León" is not also "León";
- context cases: the front matter's ``cases`` and the cases named in the headings above a
  segment, less those it names itself.

The result, ``Resolved``, is plain numbers (bit sets and columns of ints), so that
parallel workers send it back cheaply; ``qualcode.view`` turns it into objects.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .matching import document_matches
from .model import Document
from .segment import Segmentation, segment_document

if TYPE_CHECKING:
    from .compiled import CompiledCodebook

CODE, VETO, CASE = 0, 1, 2  # CompiledCodebook.roles: a match codes, vetoes or names a case
_Columns = tuple[list[int], list[int], list[int], list[int]]  # owner (code or case), pattern, start, end


class Resolved(NamedTuple):
    """What coding found in one document, as plain numbers: per segment its codes, named
    cases and context cases (bit sets over the codebook's codes and cases), and its run
    of code and case matches (``*_bounds``: where each segment's run begins, and the end).
    ``segments`` are Segment objects, or their fields as a worker process sends them."""

    segments: list[Any]
    codes: list[int]
    cases: list[int]
    context: list[int]
    code_matches: _Columns
    code_bounds: list[int]
    case_matches: _Columns
    case_bounds: list[int]


def resolve_document(cb: CompiledCodebook, document: Document) -> Resolved:
    """Segment ``document``, find its matches (``qualcode.matching``) and resolve them: all of
    coding but building the result objects. Parallel workers stop here, so that the
    parent, which must build the objects, builds them once."""
    seg = segment_document(document, cb.pipeline, cb.abbreviations)
    if not seg.segments:
        return Resolved([], [], [], [], ([], [], [], []), [0], ([], [], [], []), [0])
    return resolve_matches(cb, document, seg, *document_matches(cb, document, seg))


def resolve_matches(cb: CompiledCodebook, document: Document, seg: Segmentation, spec: np.ndarray,
                    start: np.ndarray, end: np.ndarray) -> Resolved:
    """What coding found in each segment, from the document's matches (in any order):
    vetoes and nesting applied to code matches, case names resolved, context cases
    inherited (see the module docstring)."""
    segments = seg.segments
    k, spec, start, end = in_segments(seg, spec, start, end)
    role = cb.roles[spec]
    code_matches, code_bounds, code_bits = _code_matches(cb, k, spec, start, end, role, len(segments))
    case_matches, case_bounds, case_bits = _case_matches(cb, k, spec, start, end, role == CASE, len(segments))
    return _segment_sets(cb, document, seg, code_matches, code_bounds, code_bits, case_matches, case_bounds,
                         case_bits)


def in_segments(seg: Segmentation, spec: np.ndarray, start: np.ndarray,
                end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The matches that lie inside one segment, with that segment's index first."""
    first_tok, end_tok = seg.token_spans
    seg_starts, seg_ends = seg.tokens.starts[first_tok], seg.tokens.ends[end_tok - 1]
    k = np.searchsorted(seg_starts, start, "right") - 1
    inside = (k >= 0) & (end <= seg_ends[np.maximum(k, 0)])
    return k[inside], spec[inside], start[inside], end[inside]


def _code_matches(cb: CompiledCodebook, k: np.ndarray, spec: np.ndarray, start: np.ndarray, end: np.ndarray,
                  role: np.ndarray, nseg: int) -> tuple[_Columns, list[int], list[int]]:
    """The kept code matches in output order (code, pattern, start, end columns), where
    each segment's run of them begins (``nseg + 1`` bounds) and the code bit of each.

    Within a segment and code, matches overlapping an exclusion match are dropped, then
    (taken by start, longest first) each match inside an earlier one.
    """
    owner = cb.owners[spec]
    veto = role == VETO
    code = role == CODE
    if veto.any():
        code &= ~_vetoed(k, owner, start, end, veto, code)
    k, spec, start, end, owner = k[code], spec[code], start[code], end[code], owner[code]
    order = np.lexsort((spec, -end, start, owner, k))
    k, spec, start, end, owner = k[order], spec[order], start[order], end[order], owner[order]
    # The ends, increasing from one (segment, code) to the next: a match is inside an
    # earlier one of its segment and code when an earlier value reaches as far.
    reach = (k * len(cb.code_names) + owner) * (int(end.max(initial=0)) + 1) + end
    kept = np.ones(len(k), dtype=bool)
    kept[1:] = reach[1:] > np.maximum.accumulate(reach)[:-1]
    k, spec, start, end, owner = k[kept], spec[kept], start[kept], end[kept], owner[kept]
    order = np.lexsort((owner, end, start, k))
    k, spec, start, end, owner = k[order], spec[order], start[order], end[order], owner[order]
    bits = cb.code_bits
    owners = owner.tolist()
    matches = (owners, spec.tolist(), start.tolist(), end.tolist())
    return matches, np.searchsorted(k, np.arange(nseg + 1)).tolist(), [bits[o] for o in owners]


def _vetoed(k: np.ndarray, owner: np.ndarray, start: np.ndarray, end: np.ndarray, veto: np.ndarray,
            code: np.ndarray) -> np.ndarray:
    """Which matches overlap an exclusion match of their code in their segment (a few
    matches per document: Python is quicker than array calls here)."""
    group = (k * (int(owner.max()) + 2) + owner + 1).tolist()  # one number per (segment, code)
    starts, ends = start.tolist(), end.tolist()
    spans: dict[int, list[tuple[int, int]]] = {}
    for n in veto.nonzero()[0].tolist():
        spans.setdefault(group[n], []).append((starts[n], ends[n]))
    out = np.zeros(len(k), dtype=bool)
    for n in code.nonzero()[0].tolist():
        vetoes = spans.get(group[n])
        if vetoes is not None:
            a, b = starts[n], ends[n]
            out[n] = any(vs < b and a < ve for vs, ve in vetoes)
    return out


def _case_matches(cb: CompiledCodebook, k: np.ndarray, spec: np.ndarray, start: np.ndarray, end: np.ndarray,
                  case: np.ndarray, nseg: int) -> tuple[_Columns, list[int], list[int]]:
    """Case namings resolved leftmost-longest (segments do not overlap, so this can run
    over the whole document), with the segment bounds and case bit of each."""
    k, spec, start, end = k[case], spec[case], start[case], end[case]
    order = np.lexsort((spec, -end, start))
    kept_k: list[int] = []
    matches: _Columns = ([], [], [], [])
    bits: list[int] = []
    last_end = -1
    owners = cb.owner_list
    for kv, i, a, b in zip(k[order].tolist(), spec[order].tolist(), start[order].tolist(), end[order].tolist()):
        if a >= last_end:
            o = owners[i]
            for column, value in zip(matches, (o, i, a, b)):
                column.append(value)
            kept_k.append(kv)
            bits.append(1 << o)
            last_end = b
    return matches, np.searchsorted(np.array(kept_k, np.int64), np.arange(nseg + 1)).tolist(), bits


def _segment_sets(cb: CompiledCodebook, document: Document, seg: Segmentation, code_matches: _Columns,
                  code_bounds: list[int], code_bits: list[int], case_matches: _Columns, case_bounds: list[int],
                  case_bits: list[int]) -> Resolved:
    """Per segment, its codes, cases and context cases as bit sets. A segment's context
    cases are the front matter's ``cases`` and those named in the headings above it, less
    the cases it names itself."""
    meta = 0
    for c in meta_cases(cb, document):
        meta |= 1 << cb.case_order[c]
    heading_cases: dict[int, int] = {}
    context_of: dict[int | None, int] = {None: meta}  # section start -> context case bits
    chains = seg.heading_chains
    all_codes: list[int] = []
    all_named: list[int] = []
    all_context: list[int] = []
    for s, m0, m1, c0, c1 in zip(seg.segments, code_bounds, code_bounds[1:], case_bounds, case_bounds[1:]):
        codes = named = 0
        for b in code_bits[m0:m1]:
            codes |= b
        for b in case_bits[c0:c1]:
            named |= b
        start, section_start = s.start, s.section_start
        if s.kind == "heading":
            heading_cases[start] = named
        context = context_of.get(section_start)
        if context is None:
            context = meta
            for h in chains.get(section_start, ()):  # type: ignore[arg-type]
                context |= heading_cases.get(h, 0)
            context_of[section_start] = context
        all_codes.append(codes)
        all_named.append(named)
        all_context.append(context & ~named)
    return Resolved(seg.segments, all_codes, all_named, all_context, code_matches, code_bounds, case_matches,
                    case_bounds)


def meta_cases(cb: CompiledCodebook, document: Document) -> tuple[str, ...]:
    """The case ids of the front matter's ``cases`` (ids, names or aliases)."""
    raw = document.meta.get("cases") or []
    raw = [raw] if isinstance(raw, str) else raw
    found = [cb.resolve_case(v) for v in raw] if isinstance(raw, list) else []
    return tuple(c for c in found if c is not None)


def vetoed_matches(cb: CompiledCodebook, document: Document) -> list[tuple[str, str, int, int, int, int]]:
    """The code matches an exclusion removed from ``document``, sorted by position: (segment
    id, code, spec index of the pattern, start, end, spec index of the exclusion). Codes
    the document again, so only ``--explain`` pays for it; a pure function like coding."""
    seg = segment_document(document, cb.pipeline, cb.abbreviations)
    if not seg.segments:
        return []
    k, spec, start, end = in_segments(seg, *document_matches(cb, document, seg))
    role, owner = cb.roles[spec], cb.owners[spec]
    vetoes: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for n in (role == VETO).nonzero()[0].tolist():
        vetoes.setdefault((int(k[n]), int(owner[n])), []).append((int(start[n]), int(end[n]), int(spec[n])))
    out = set()
    for n in (role == CODE).nonzero()[0].tolist():
        a, b = int(start[n]), int(end[n])
        for vs, ve, vi in sorted(vetoes.get((int(k[n]), int(owner[n])), ())):
            if vs < b and a < ve:
                out.add((int(k[n]), cb.code_names[int(owner[n])], int(spec[n]), a, b, vi))
                break
    ids = [s.id for s in seg.segments]
    return [(ids[kn], code, i, a, b, vi)
            for kn, code, i, a, b, vi in sorted(out, key=lambda t: (t[0], t[3], -t[4], t[1], t[2]))]
