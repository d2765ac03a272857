"""Step 2 of coding, match: a segmented document's raw pattern matches.

``document_matches(compiled, document, segmentation)`` gives the character spans of every
match of every pattern (terms, case names and exact aliases through the
``SequenceIndex``; token patterns through spaCy's Matcher on short windows; regular
expressions on the text with markup blanked), as three arrays: pattern (spec index),
start, end. Nothing is decided here about what a match does: that is ``qualcode.resolve``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np

from .errors import CodebookError
from .matchers import TokenPattern, spec_problem, trim_spaces
from .model import Document
from .pipeline import SPACE, UPPER
from .regexes import RegexTimeout, UserRegex
from .segment import Segmentation

if TYPE_CHECKING:
    from .compiled import CompiledCodebook


def document_matches(cb: CompiledCodebook, document: Document,
                     seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spec indexes, starts, ends) of every match in the segmented ``document``, in no
    particular order: all patterns (codes, exclusions, case names) but case names whose
    capitals are written in lower case and matches overlapping an ``ignore`` span."""
    spec, start, end = _hits(cb, document, seg)
    if cb.capitals and len(spec):
        keep = _capitalised(cb, seg, spec, start)
        spec, start, end = spec[keep], start[keep], end[keep]
    if cb.ignore and len(spec):
        keep = _unignored(cb, document, seg, start, end)
        spec, start, end = spec[keep], start[keep], end[keep]
    return spec, start, end


def _capitalised(cb: CompiledCodebook, seg: Segmentation, spec: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Which matches to keep: all but case names whose capitalised words are written
    in lower case in the text ("the chihuahua", a dog, is not the state)."""
    keep = np.ones(len(spec), dtype=bool)
    check = cb.needs_capitals[spec].nonzero()[0]
    if not len(check):
        return keep
    tok, capitals = seg.tokens, cb.capitals
    flags = cb.pipeline.lexicon.array("flags")
    rows, n = tok.rows, len(tok.rows)
    firsts = np.searchsorted(tok.starts, start[check]).tolist()
    for m, first, i in zip(check.tolist(), firsts, spec[check].tolist()):
        keep[m] = all(first + p < n and flags[rows[first + p]] & UPPER for p in capitals[i])
    return keep


def _unignored(cb: CompiledCodebook, document: Document, seg: Segmentation, start: np.ndarray,
               end: np.ndarray) -> np.ndarray:
    """Which matches to keep: those not overlapping a span of the codebook's ``ignore``
    patterns. The spans are merged into disjoint intervals first, so a match overlaps
    one of them exactly when it overlaps the last interval starting before its end."""
    offset = document.body_start
    merged: list[list[int]] = []
    for a, b in sorted(span for _, span in regex_spans(cb, cb.ignore, document, seg.masked_body)):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if not merged:
        return np.ones(len(start), dtype=bool)
    interval_starts = np.array([a for a, _ in merged], dtype=np.int64) + offset
    interval_ends = np.array([b for _, b in merged], dtype=np.int64) + offset
    k = np.searchsorted(interval_starts, end, "left") - 1  # last interval starting before the match ends
    return (k < 0) | (interval_ends[np.maximum(k, 0)] <= start)


def regex_spans(cb: CompiledCodebook, regexes: list[tuple[UserRegex, int]], document: Document,
                text: str) -> Iterator[tuple[int, tuple[int, int]]]:
    """(spec index, (start, end)) of every match of ``regexes`` in ``text``; a pattern
    that runs past its time limit is a CodebookError naming it and the document."""
    for rx, i in regexes:
        try:
            for span in rx.spans(text):
                yield i, span
        except RegexTimeout:
            spec = cb.specs[i]
            raise CodebookError(spec_problem(
                spec, f"the regular expression {spec.value} took more than {rx.timeout:g} s on "
                      f"{document.path or document.id}: it backtracks too much; rewrite it without nested "
                      f"or repeated open-ended quantifiers such as (a+)+ or (.*x){{20}}")) from None


def _hits(cb: CompiledCodebook, document: Document,
          seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spec indexes, starts, ends): the character spans of every pattern match."""
    tok = seg.tokens
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(tok.starts):
        row_keys, row_groups, row_anchors = _row_tables(cb)
        n, pad = len(tok.rows), len(cb.row_keys)  # the first padding column
        rows = np.concatenate([tok.rows, np.full(cb.sequences.width, pad)])  # padded for find()
        keys, groups, anchors = row_keys[:, rows], row_groups[:, rows], row_anchors[:, tok.rows]
        if cb.pipeline.trained:  # lemmas are per token, not per vocabulary entry
            keys[0, :n] = tok.lemmas
            groups[0, :n] = cb.sequences.groups(0, tok.lemmas)
            anchors[0] = cb.token_index.groups(0, tok.lemmas)
        spec, a, b = cb.sequences.find(keys, groups)
        found.append((spec, tok.starts[a], tok.ends[b - 1]))
        if cb.token_patterns:
            found.append(_columns(_token_hits(cb, seg, anchors)))
    offset = document.body_start
    regex = [(i, a + offset, b + offset) for i, (a, b) in regex_spans(cb, cb.regexes, document, seg.masked_body)]
    found.append(_columns(regex))
    return tuple(np.concatenate(parts) for parts in zip(*found))  # type: ignore[return-value]


def _row_tables(cb: CompiledCodebook) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vocabulary entry (a column each): its lemma, form and exact keys, which group
    of term, name and exact patterns starts with it in each key space, and which group
    of token patterns can anchor at it by its lemma and by its form. The columns past
    the vocabulary are padding: all -1.

    Extended only for the entries added since the last call, so the work is once per
    word of the vocabulary, not once per token.
    """
    lex = cb.pipeline.lexicon
    n, have = len(lex.texts), len(cb.row_keys)
    if n > have:
        keys = np.stack([lex.array(k)[have:n] for k in ("lemma", "form", "exact")])
        cb.row_keys.extend(keys)
        cb.row_groups.extend(np.stack([cb.sequences.groups(s, k) for s, k in enumerate(keys)]))
        cb.row_anchors.extend(np.stack([cb.token_index.groups(s, k) for s, k in enumerate(keys[:2])]))
    return cb.row_keys.padded, cb.row_groups.padded, cb.row_anchors.padded


def _token_hits(cb: CompiledCodebook, seg: Segmentation, anchors: np.ndarray) -> list[tuple[int, int, int]]:
    """Token patterns, run by spaCy's Matcher only on short windows around an anchor
    token (a required word of the pattern), never over the whole document, and only on
    windows that hold every required literal token of the pattern. ``anchors``: the
    anchor group of each token, a row per key space (lemma, form)."""
    tok = seg.tokens
    index = cb.token_index
    first_tok, end_tok = seg.token_spans
    ids, at = index.candidates(anchors)
    k = np.searchsorted(first_tok, at, "right") - 1  # the anchor's segment
    ids, at, k = ids[k >= 0], at[k >= 0], k[k >= 0]
    lo, hi = first_tok[k], end_tok[k]
    before, after = index.before[ids], index.after[ids]
    a = np.where(before < 0, lo, np.maximum(lo, at - before))
    b = np.where(after < 0, hi, np.minimum(hi, at + after))
    if len(index.unanchored):  # windows of whole segments
        nonempty = (first_tok < end_tok).nonzero()[0]
        ids = np.concatenate([ids, np.repeat(index.unanchored, len(nonempty))])
        a = np.concatenate([a, np.tile(first_tok[nonempty], len(index.unanchored))])
        b = np.concatenate([b, np.tile(end_tok[nonempty], len(index.unanchored))])
    n, npat = len(tok.starts) + 1, len(index.patterns)
    nonempty = a < b
    ids, a, b = ids[nonempty], a[nonempty], b[nonempty]
    if len(ids) and index.words:  # the quick test of plausible() first, so that fewer windows are sorted
        quick = index.quick_plausible(ids, tok.spacy_index[a], tok.spacy_index[b - 1] + 1, tok.doc_rows,
                                      cb.pipeline.lexicon)
        ids, a, b = ids[quick], a[quick], b[quick]
    window = np.unique((a * n + b) * npat + ids)  # each (pattern, window) once, by position
    ids, a, b = window % npat, window // npat // n, window // npat % n
    da, db = tok.spacy_index[a], tok.spacy_index[b - 1] + 1
    ok = index.plausible(ids, da, db, tok.doc_rows, cb.pipeline.lexicon)
    patterns = index.patterns
    return _run_matchers(cb, seg, [(patterns[t], x, y) for t, x, y in
                                    zip(ids[ok].tolist(), da[ok].tolist(), db[ok].tolist())])


def _run_matchers(cb: CompiledCodebook, seg: Segmentation,
                  windows: list[tuple[TokenPattern, int, int]]) -> list[tuple[int, int, int]]:
    """(spec index, start, end) of the matches of each pattern in its spaCy-token window."""
    if not windows:
        return []
    tok = seg.tokens
    cb.pipeline.set_token_attrs(tok)
    doc = tok.doc
    starts, ends = tok.doc_starts, tok.doc_ends
    from spacy.tokens import Span

    space = cb.pipeline.lexicon.array("flags")[tok.doc_rows] & SPACE != 0
    is_space = space.__getitem__
    found: set[tuple[int, int, int]] = set()
    for tp, da, db in windows:
        for _, ma, mb in tp.matcher(Span(doc, da, db)):  # as doc[da:db], without the slice handling
            ma, mb = trim_spaces(da + ma, da + mb, is_space)
            if ma < mb:
                found.add((tp.spec_index, int(starts[ma]), int(ends[mb - 1])))
    return sorted(found)


def _columns(rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three int64 arrays from a list of triples."""
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return arr[:, 0], arr[:, 1], arr[:, 2]
