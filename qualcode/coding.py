"""Coding: compile the codebook's patterns once, then code each document.

``code_document(document, compiled)`` is a pure function of its two arguments, so coding
can be cached, run in parallel (``code_corpus(..., jobs=N)``) and later distributed.

How patterns match (see the README for examples):

- ``terms``: token sequences compared on case- and accent-folded lemmas;
- case ``name``/``aliases``: token sequences compared on folded word forms;
  ``exact_aliases`` on the words as written;
- ``tokens``: spaCy ``Matcher`` patterns over a Doc whose LEMMA and NORM are folded;
- ``regex``: Python regular expressions, case-insensitive, on the text with markup blanked;
- ``exclude``: any of the above; a code match overlapping an exclusion match of the same
  code is dropped.

Within one code, a match inside a longer match of the same code is dropped; case names
are resolved leftmost-longest, so "Nuevo León" is not also "León".
"""
from __future__ import annotations

import gc
import re
import warnings
from contextlib import contextmanager
from operator import attrgetter
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np

from .codebook import LoadedCodebook, PatternSpec, load_codebook
from .errors import CodebookError, CorpusError, Problem
from .growing import GrowingArray
from .model import CodedSegment, Codebook, Document, Match, Segment, fast_constructor
from .pipeline import UPPER, Pipeline, fold
from .matchers import (KEY_SPACES, SequenceIndex, TokenPattern, TokenPatternIndex, fold_token_pattern, spec_problem,
                       validate_token_pattern)
from .regexes import TIMEOUT as REGEX_TIMEOUT, RegexTimeout, UserRegex, compile_regex
from .segment import MAX_SEGMENT_CHARS, Segmentation, long_segments, segment_document

# What a pattern's match does (CompiledCodebook._roles).
_CODE, _VETO, _CASE = 0, 1, 2
_match, _coded, _segment = (fast_constructor(cls) for cls in (Match, CodedSegment, Segment))
_segment_fields = attrgetter(*Segment.__slots__)  # the arguments of _segment, as a tuple
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


class CompiledCodebook:
    """A codebook's patterns compiled against a Pipeline, ready to code documents."""

    def __init__(self, loaded: LoadedCodebook, pipeline: Pipeline | None = None, *,
                 regex_timeout: float = REGEX_TIMEOUT):
        self.loaded = loaded
        self.codebook: Codebook = loaded.codebook
        self.pipeline = pipeline or Pipeline()
        self.specs: list[PatternSpec] = loaded.patterns
        self._sequences = SequenceIndex()
        self._regexes: list[tuple[UserRegex, int]] = []
        problems: list[Problem] = []
        token_patterns: list[tuple[int, list[dict[str, Any]]]] = []
        self._ignore = [(compile_regex(spec.value, regex_timeout), i) for i, spec in enumerate(self.specs)
                        if spec.kind == "ignore"]
        sequence_keys = self._sequence_keys()
        for i, spec in enumerate(self.specs):
            if spec.kind == "ignore":
                continue
            if spec.kind == "regex":
                self._regexes.append((compile_regex(spec.value, regex_timeout), i))
            elif spec.kind == "tokens":
                pattern = [fold_token_pattern(t) for t in spec.value]
                problems.extend(validate_token_pattern(pattern, spec))
                token_patterns.append((i, pattern))
            else:
                keys = sequence_keys[i]
                if not keys:
                    problems.append(spec_problem(spec, f"{spec.value!r} has no words to match"))
                    continue
                self._sequences.add(KEY_SPACES.index(spec.kind), keys, i)
        if problems:
            raise CodebookError(problems)
        self._sequences.freeze()
        self._token_patterns = [TokenPattern.build(i, pattern, self.pipeline) for i, pattern in token_patterns]
        self._patterns = TokenPatternIndex(self._token_patterns)
        # Per vocabulary row (see _row_tables), padded with -1.
        self._row_keys, self._row_groups, self._row_anchors = (
            GrowingArray(np.int64, (spaces,), axis=-1, fill=-1) for spaces in (len(KEY_SPACES), len(KEY_SPACES), 2))
        self._ancestors = {c: self.codebook.code_ancestors(c) for c in self.codebook.codes}
        self._code_order = {c: n for n, c in enumerate(self.codebook.codes)}
        self._case_order = {c: n for n, c in enumerate(self.codebook.cases)}
        self._case_ids = {fold(c.name): c.id for c in self.codebook.cases.values()}
        for c in self.codebook.cases.values():
            for alias in c.aliases:
                self._case_ids.setdefault(fold(alias), c.id)
        self._compile_outcomes()
        self._compile_case_forms()

    def _compile_case_forms(self) -> None:
        """What case names need beyond their words: per name pattern of a case with
        ``match_case``, the positions of its capitalised words, which must be capitalised
        (or all capitals) in the text; and the words with full stops of every case name,
        alias and abbreviation, which the segmenter does not end a sentence after."""
        cases = self.codebook.cases
        self._capitals: dict[int, tuple[int, ...]] = {}
        dotted: set[str] = set()
        for i, spec in enumerate(self.specs):
            if not spec.for_case or spec.kind not in ("name", "exact"):
                continue
            if "." in spec.value:
                dotted.add(" ".join(spec.value.split()))
            case = cases.get(spec.owner)
            if spec.kind == "name" and case is not None and case.match_case:
                tokens = self.pipeline.tokenize(spec.value)
                words = [self.pipeline.lexicon.texts[r] for r in tokens.rows.tolist()]
                capitals = tuple(n for n, w in enumerate(words) if w[:1].isupper())
                if capitals:
                    self._capitals[i] = capitals
        self.abbreviations: tuple[str, ...] = tuple(sorted(dotted))
        self._needs_capitals = np.zeros(len(self.specs), dtype=bool)
        self._needs_capitals[list(self._capitals)] = True

    def _compile_outcomes(self) -> None:
        """Per pattern, what a match of it does (role, owner, audit fields), and per code
        and case a bit, so that resolving a document's matches is array work."""
        codes, cases = self._code_order, self._case_order
        self._roles = np.array([_CASE if s.for_case else _VETO if s.exclude else _CODE for s in self.specs],
                               dtype=np.int64)
        self._owners = np.array([(cases if s.for_case else codes).get(s.owner, -1) for s in self.specs],
                                dtype=np.int64)
        self._owner_list = self._owners.tolist()
        self._labels = [s.label for s in self.specs]
        self._rules = [s.rule for s in self.specs]
        self._code_names = list(codes)
        self._case_names = list(cases)
        self._code_bits = [sum(1 << codes[a] for a in (c, *self._ancestors[c]) if a in codes) for c in codes]
        self._code_sets = _BitNames(self._code_names)  # bits -> code ids, in codebook order
        self._case_sets = _BitNames(self._case_names)

    def _sequence_keys(self) -> dict[int, tuple[int, ...]]:
        """The keys of every term, name and exact-alias pattern, by pattern index; offline,
        all pattern values are tokenised as one batch (``Pipeline.token_rows``). ``_keys``,
        one pattern at a time, is the reference and the path for a trained pipeline."""
        wanted = [(i, s) for i, s in enumerate(self.specs) if s.kind in KEY_SPACES]
        if self.pipeline.trained:
            return {i: self._keys(s) for i, s in wanted}
        rows = self.pipeline.token_rows([s.value for _, s in wanted])
        lex = self.pipeline.lexicon
        column = {"term": lex.array("lemma"), "name": lex.array("form"), "exact": lex.array("exact")}
        return {i: tuple(column[s.kind][r].tolist()) for (i, s), r in zip(wanted, rows)}

    def _keys(self, spec: PatternSpec) -> tuple[int, ...]:
        tokens = self.pipeline.tokenize(spec.value)
        lex = self.pipeline.lexicon
        if spec.kind == "term":
            return tuple(tokens.lemmas.tolist())
        if spec.kind == "name":
            return tuple(lex.array("form")[tokens.rows].tolist())
        return tuple(lex.array("exact")[tokens.rows].tolist())

    def resolve_case(self, value: Any) -> str | None:
        """A case id from an id, name or alias as written in front matter."""
        if isinstance(value, str):
            if value in self.codebook.cases:
                return value
            return self._case_ids.get(fold(value.strip()))
        return None

    # -- coding ----------------------------------------------------------------------------
    def code(self, document: Document) -> list[CodedSegment]:
        """Segment and code one document."""
        return self.build(document, self.resolve(document))

    def resolve(self, document: Document) -> Resolved:
        """Segment and code one document, as plain numbers (see :class:`Resolved`): all of
        coding but building the result objects, which :meth:`build` does. Parallel workers
        stop here, so that the parent, which must build the objects, builds them once."""
        seg = segment_document(document, self.pipeline, self.abbreviations)
        if not seg.segments:
            return Resolved([], [], [], [], ([], [], [], []), [0], ([], [], [], []), [0])
        spec, start, end = self._document_hits(document, seg)
        return self._assemble(document, seg, spec, start, end)

    def vetoed(self, document: Document) -> list[tuple[str, str, int, int, int, int]]:
        """The code matches an exclusion removed from ``document``, sorted by position: (segment
        id, code, spec index of the pattern, start, end, spec index of the exclusion). Codes
        the document again, so only ``--explain`` pays for it; a pure function like ``code``."""
        seg = segment_document(document, self.pipeline)
        if not seg.segments:
            return []
        k, spec, start, end = self._in_segments(seg, *self._document_hits(document, seg))
        role, owner = self._roles[spec], self._owners[spec]
        vetoes: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        for n in (role == _VETO).nonzero()[0].tolist():
            vetoes.setdefault((int(k[n]), int(owner[n])), []).append((int(start[n]), int(end[n]), int(spec[n])))
        out = set()
        for n in (role == _CODE).nonzero()[0].tolist():
            a, b = int(start[n]), int(end[n])
            for vs, ve, vi in sorted(vetoes.get((int(k[n]), int(owner[n])), ())):
                if vs < b and a < ve:
                    out.add((int(k[n]), self._code_names[int(owner[n])], int(spec[n]), a, b, vi))
                    break
        ids = [s.id for s in seg.segments]
        return [(ids[kn], code, i, a, b, vi) for kn, code, i, a, b, vi in sorted(out, key=lambda t: (t[0], t[3], -t[4], t[1], t[2]))]

    def _document_hits(self, document: Document, seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spec indexes, starts, ends) of the matches outside the ``ignore`` spans."""
        spec, start, end = self._hits(document, seg)
        if self._capitals and len(spec):
            keep = self._capitalised(seg, spec, start)
            spec, start, end = spec[keep], start[keep], end[keep]
        if self._ignore and len(spec):
            keep = self._unignored(document, seg, start, end)
            spec, start, end = spec[keep], start[keep], end[keep]
        return spec, start, end

    def _capitalised(self, seg: Segmentation, spec: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Which matches to keep: all but case names whose capitalised words are written
        in lower case in the text ("the chihuahua", a dog, is not the state)."""
        keep = np.ones(len(spec), dtype=bool)
        check = self._needs_capitals[spec].nonzero()[0]
        if not len(check):
            return keep
        tok, capitals = seg.tokens, self._capitals
        flags = self.pipeline.lexicon.array("flags")
        rows, n = tok.rows, len(tok.rows)
        firsts = np.searchsorted(tok.starts, start[check]).tolist()
        for m, first, i in zip(check.tolist(), firsts, spec[check].tolist()):
            keep[m] = all(first + p < n and flags[rows[first + p]] & UPPER for p in capitals[i])
        return keep

    def build(self, document: Document, resolved: Resolved) -> list[CodedSegment]:
        """The coded segments of ``document`` from what :meth:`resolve` found in it."""
        text = document.text
        labels, rules = self._labels, self._rules
        code_names, case_names = self._code_names, self._case_names
        owners, specs, starts, ends = resolved.code_matches
        code_matches = [_match(code_names[o], labels[i], rules[i], a, b, text[a:b], "rule", "", None)
                        for o, i, a, b in zip(owners, specs, starts, ends)]
        owners, specs, starts, ends = resolved.case_matches
        case_matches = [_match(case_names[o], labels[i], rules[i], a, b, text[a:b], "rule", "", None)
                        for o, i, a, b in zip(owners, specs, starts, ends)]
        code_set, case_set = self._code_sets, self._case_sets
        m, c = resolved.code_bounds, resolved.case_bounds
        out: list[CodedSegment] = []
        for n, (s, codes, named, context) in enumerate(zip(resolved.segments, resolved.codes, resolved.cases,
                                                            resolved.context)):
            if isinstance(s, tuple):  # a segment sent back by a worker as its fields
                s = _segment(*s)
            out.append(_coded(s, text[s.start:s.end], code_set[codes], case_set[named], case_set[context],
                              tuple(code_matches[m[n]:m[n + 1]]), tuple(case_matches[c[n]:c[n + 1]])))
        return out

    def _unignored(self, document: Document, seg: Segmentation, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Which matches to keep: those not overlapping a span of the codebook's ``ignore``
        patterns. The spans are merged into disjoint intervals first, so a match overlaps
        one of them exactly when it overlaps the last interval starting before its end."""
        offset = document.body_start
        merged: list[list[int]] = []
        for a, b in sorted(span for _, span in self._regex_spans(self._ignore, document, seg.masked_body)):
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

    def _regex_spans(self, regexes: list[tuple[UserRegex, int]], document: Document,
                     text: str) -> Iterator[tuple[int, tuple[int, int]]]:
        """(spec index, (start, end)) of every match of ``regexes`` in ``text``; a pattern
        that runs past its time limit is a CodebookError naming it and the document."""
        for rx, i in regexes:
            try:
                for span in rx.spans(text):
                    yield i, span
            except RegexTimeout:
                spec = self.specs[i]
                raise CodebookError(spec_problem(
                    spec, f"the regular expression {spec.value} took more than {rx.timeout:g} s on "
                          f"{document.path or document.id}: it backtracks too much; rewrite it without nested "
                          f"or repeated open-ended quantifiers such as (a+)+ or (.*x){{20}}")) from None

    def _hits(self, document: Document, seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spec indexes, starts, ends): the character spans of every pattern match."""
        tok = seg.tokens
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if len(tok.starts):
            row_keys, row_groups, row_anchors = self._row_tables()
            n, pad = len(tok.rows), len(self._row_keys)  # the first padding column
            rows = np.concatenate([tok.rows, np.full(self._sequences.width, pad)])  # padded for find()
            keys, groups, anchors = row_keys[:, rows], row_groups[:, rows], row_anchors[:, tok.rows]
            if self.pipeline.trained:  # lemmas are per token, not per vocabulary entry
                keys[0, :n] = tok.lemmas
                groups[0, :n] = self._sequences.groups(0, tok.lemmas)
                anchors[0] = self._patterns.groups(0, tok.lemmas)
            spec, a, b = self._sequences.find(keys, groups)
            found.append((spec, tok.starts[a], tok.ends[b - 1]))
            if self._token_patterns:
                found.append(_columns(self._token_hits(seg, anchors)))
        offset = document.body_start
        regex = [(i, a + offset, b + offset) for i, (a, b) in self._regex_spans(self._regexes, document, seg.masked_body)]
        found.append(_columns(regex))
        return tuple(np.concatenate(parts) for parts in zip(*found))  # type: ignore[return-value]

    def _row_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per vocabulary entry (a column each): its lemma, form and exact keys, which group
        of term, name and exact patterns starts with it in each key space, and which group
        of token patterns can anchor at it by its lemma and by its form. The columns past
        the vocabulary are padding: all -1.

        Extended only for the entries added since the last call, so the work is once per
        word of the vocabulary, not once per token.
        """
        lex = self.pipeline.lexicon
        n, have = len(lex.texts), len(self._row_keys)
        if n > have:
            keys = np.stack([lex.array(k)[have:n] for k in ("lemma", "form", "exact")])
            self._row_keys.extend(keys)
            self._row_groups.extend(np.stack([self._sequences.groups(s, k) for s, k in enumerate(keys)]))
            self._row_anchors.extend(np.stack([self._patterns.groups(s, k) for s, k in enumerate(keys[:2])]))
        return self._row_keys.padded, self._row_groups.padded, self._row_anchors.padded

    def _token_hits(self, seg: Segmentation, anchors: np.ndarray) -> list[tuple[int, int, int]]:
        """Token patterns, run by spaCy's Matcher only on short windows around an anchor
        token (a required word of the pattern), never over the whole document, and only on
        windows that hold every required literal token of the pattern. ``anchors``: the
        anchor group of each token, a row per key space (lemma, form)."""
        tok = seg.tokens
        index = self._patterns
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
                                          self.pipeline.lexicon)
            ids, a, b = ids[quick], a[quick], b[quick]
        window = np.unique((a * n + b) * npat + ids)  # each (pattern, window) once, by position
        ids, a, b = window % npat, window // npat // n, window // npat % n
        da, db = tok.spacy_index[a], tok.spacy_index[b - 1] + 1
        ok = index.plausible(ids, da, db, tok.doc_rows, self.pipeline.lexicon)
        patterns = index.patterns
        return self._run_matchers(seg, [(patterns[t], x, y) for t, x, y in
                                        zip(ids[ok].tolist(), da[ok].tolist(), db[ok].tolist())])

    def _run_matchers(self, seg: Segmentation, windows: list[tuple[TokenPattern, int, int]]) -> list[tuple[int, int, int]]:
        """(spec index, start, end) of the matches of each pattern in its spaCy-token window."""
        if not windows:
            return []
        tok = seg.tokens
        self.pipeline.set_token_attrs(tok)
        doc = tok.doc
        starts = tok.doc_starts
        ends = starts + self.pipeline.lexicon.array("length")[tok.doc_rows]
        from spacy.tokens import Span

        found: set[tuple[int, int, int]] = set()
        for tp, da, db in windows:
            for _, ma, mb in tp.matcher(Span(doc, da, db)):  # as doc[da:db], without the slice handling
                found.add((tp.spec_index, int(starts[da + ma]), int(ends[da + mb - 1])))
        return sorted(found)

    def _assemble(self, document: Document, seg: Segmentation, spec: np.ndarray, start: np.ndarray,
                  end: np.ndarray) -> Resolved:
        """What coding found in each segment, from the document's matches (in any order)."""
        segments = seg.segments
        k, spec, start, end = self._in_segments(seg, spec, start, end)
        role = self._roles[spec]
        code_matches, code_bounds, code_bits = self._code_matches(document.text, k, spec, start, end, role,
                                                                  len(segments))
        case_matches, case_bounds, case_bits = self._case_matches(document.text, k, spec, start, end,
                                                                  role == _CASE, len(segments))
        return self._resolved(document, seg, code_matches, code_bounds, code_bits, case_matches,
                              case_bounds, case_bits)

    @staticmethod
    def _in_segments(seg: Segmentation, spec: np.ndarray, start: np.ndarray,
                     end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The matches that lie inside one segment, with that segment's index first."""
        first_tok, end_tok = seg.token_spans
        seg_starts, seg_ends = seg.tokens.starts[first_tok], seg.tokens.ends[end_tok - 1]
        k = np.searchsorted(seg_starts, start, "right") - 1
        inside = (k >= 0) & (end <= seg_ends[np.maximum(k, 0)])
        return k[inside], spec[inside], start[inside], end[inside]

    def _code_matches(self, text: str, k: np.ndarray, spec: np.ndarray, start: np.ndarray, end: np.ndarray,
                      role: np.ndarray, nseg: int) -> tuple[_Columns, list[int], list[int]]:
        """The kept code matches in output order (code, pattern, start, end columns), where
        each segment's run of them begins
        (``nseg + 1`` bounds) and the code bit of each.

        Within a segment and code, matches overlapping an exclusion match are dropped, then
        (taken by start, longest first) each match inside an earlier one.
        """
        owner = self._owners[spec]
        veto = role == _VETO
        code = role == _CODE
        if veto.any():
            code &= ~self._vetoed(k, owner, start, end, veto, code)
        k, spec, start, end, owner = k[code], spec[code], start[code], end[code], owner[code]
        order = np.lexsort((spec, -end, start, owner, k))
        k, spec, start, end, owner = k[order], spec[order], start[order], end[order], owner[order]
        # The ends, increasing from one (segment, code) to the next: a match is inside an
        # earlier one of its segment and code when an earlier value reaches as far.
        reach = (k * len(self._code_names) + owner) * (int(end.max(initial=0)) + 1) + end
        kept = np.ones(len(k), dtype=bool)
        kept[1:] = reach[1:] > np.maximum.accumulate(reach)[:-1]
        k, spec, start, end, owner = k[kept], spec[kept], start[kept], end[kept], owner[kept]
        order = np.lexsort((owner, end, start, k))
        k, spec, start, end, owner = k[order], spec[order], start[order], end[order], owner[order]
        bits = self._code_bits
        owners = owner.tolist()
        matches = (owners, spec.tolist(), start.tolist(), end.tolist())
        return matches, np.searchsorted(k, np.arange(nseg + 1)).tolist(), [bits[o] for o in owners]

    @staticmethod
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

    def _case_matches(self, text: str, k: np.ndarray, spec: np.ndarray, start: np.ndarray, end: np.ndarray,
                      case: np.ndarray, nseg: int) -> tuple[_Columns, list[int], list[int]]:
        """Case namings resolved leftmost-longest (segments do not overlap, so this can run
        over the whole document), with the segment bounds and case bit of each."""
        k, spec, start, end = k[case], spec[case], start[case], end[case]
        order = np.lexsort((spec, -end, start))
        kept_k: list[int] = []
        matches: _Columns = ([], [], [], [])
        bits: list[int] = []
        last_end = -1
        owners = self._owner_list
        for kv, i, a, b in zip(k[order].tolist(), spec[order].tolist(), start[order].tolist(), end[order].tolist()):
            if a >= last_end:
                o = owners[i]
                for column, value in zip(matches, (o, i, a, b)):
                    column.append(value)
                kept_k.append(kv)
                bits.append(1 << o)
                last_end = b
        return matches, np.searchsorted(np.array(kept_k, np.int64), np.arange(nseg + 1)).tolist(), bits

    def _resolved(self, document: Document, seg: Segmentation, code_matches: _Columns, code_bounds: list[int],
                  code_bits: list[int], case_matches: _Columns, case_bounds: list[int],
                  case_bits: list[int]) -> Resolved:
        """Per segment, its codes, cases and context cases as bit sets."""
        meta = 0
        for c in self._meta_cases(document):
            meta |= 1 << self._case_order[c]
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

    def _meta_cases(self, document: Document) -> tuple[str, ...]:
        raw = document.meta.get("cases") or []
        raw = [raw] if isinstance(raw, str) else raw
        found = [self.resolve_case(v) for v in raw] if isinstance(raw, list) else []
        return tuple(c for c in found if c is not None)

    def check_documents(self, documents: Sequence[Document]) -> list[Problem]:
        """Front-matter cases that name no case of the codebook, one problem each (see
        :func:`qualcode.frontmatter.check_front_matter`)."""
        from .frontmatter import check_front_matter

        names = {fold(c): c for c in self.codebook.cases} | self._case_ids
        return check_front_matter(documents, self.resolve_case, names)


def compile_codebook(codebook: str | Path | LoadedCodebook, *, model: str | None = None,
                     pipeline: Pipeline | None = None) -> CompiledCodebook:
    """Load (if given a path) and compile a codebook; raises CodebookError on any problem."""
    loaded = codebook if isinstance(codebook, LoadedCodebook) else load_codebook(codebook)
    return CompiledCodebook(loaded, pipeline or Pipeline(model))


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
    return resolved._replace(segments=[_segment_fields(s) for s in resolved.segments])


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





def _columns(rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three int64 arrays from a list of triples."""
    arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return arr[:, 0], arr[:, 1], arr[:, 2]


class _BitNames(dict[int, tuple[str, ...]]):
    """Bit set -> the names whose position is set, in order; computed on first use."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.names = names

    def __missing__(self, bits: int) -> tuple[str, ...]:
        ids = self[bits] = tuple(name for n, name in enumerate(self.names) if bits >> n & 1)
        return ids
