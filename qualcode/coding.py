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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .codebook import LoadedCodebook, PatternSpec, load_codebook
from .errors import CodebookError, CorpusError, Problem
from .model import CodedSegment, Codebook, Document, Match, Segment, fast_constructor
from .pipeline import Pipeline, fold
from .segment import Segmentation, segment_document

_match, _coded, _segment = (fast_constructor(cls) for cls in (Match, CodedSegment, Segment))
_FOLDED_ATTRS = ("LEMMA", "NORM")
_SPACES = ("term", "name", "exact")  # the key space of each kind: lemma, form, exact keys


class _SequenceIndex:
    """The term, name and exact-alias patterns: key sequences, matched with numpy.

    Patterns are grouped by key space and first key. Each token whose key starts a group
    is paired with every pattern of the group, and all pairs are checked key by key at once.
    """

    def __init__(self) -> None:
        self._patterns: list[tuple[int, tuple[int, ...], int]] = []  # (space, keys, spec index)
        self.firsts: list[np.ndarray] = [np.zeros(0, np.int64) for _ in _SPACES]  # sorted first keys
        self._base = [0] * len(_SPACES)  # group id of each space's first first key
        self.width = 1

    def add(self, space: int, keys: tuple[int, ...], spec_index: int) -> None:
        self._patterns.append((space, keys, spec_index))

    def freeze(self) -> None:
        pats = sorted(self._patterns, key=lambda p: (p[0], p[1][0]))  # stable: same order within a group
        self.width = width = max((len(k) for _, k, _ in pats), default=1)
        base = 0
        for s in range(len(_SPACES)):
            self.firsts[s] = np.array(sorted({k[0] for sp, k, _ in pats if sp == s}), dtype=np.int64)
            self._base[s] = base
            base += len(self.firsts[s])
        group = np.array([self.groups(s, np.array([k[0]]))[0] for s, k, _ in pats], dtype=np.int64)
        self._count = np.bincount(group, minlength=base).astype(np.int64)
        self._ptr = np.cumsum(self._count) - self._count  # first pattern row of each group
        self._keys = np.full((len(pats), width), -1, dtype=np.int64)
        for r, (_, k, _) in enumerate(pats):
            self._keys[r, :len(k)] = k
        self._length = np.array([len(k) for _, k, _ in pats], dtype=np.int64)
        self._tail = np.arange(width) >= self._length[:, None]  # key positions past each pattern's end
        self._spec = np.array([i for _, _, i in pats], dtype=np.int64)

    def groups(self, space: int, keys: np.ndarray) -> np.ndarray:
        """The group of patterns in ``space`` whose first key is each of ``keys``, or -1."""
        firsts = self.firsts[space]
        if not len(firsts):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(firsts, keys), len(firsts) - 1)
        return np.where(firsts[at] == keys, at + self._base[space], -1)

    def find(self, keys: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spec indexes, first tokens, last tokens + 1) of every match. ``keys`` and
        ``groups`` have a row per key space and a column per token, and end with ``width``
        columns of -1 (so that no pattern runs past the last token)."""
        n, w = keys.shape[1], self.width
        flat_keys, flat_groups = keys.ravel(), groups.ravel()
        cand = (flat_groups >= 0).nonzero()[0]
        group = flat_groups[cand]
        count = self._count[group]
        pos = np.repeat(cand, count)  # one entry per (candidate token, pattern of its group)
        row = np.arange(len(pos)) + np.repeat(self._ptr[group] - (np.cumsum(count) - count), count)
        window = flat_keys[pos[:, None] + np.arange(w)]
        ok = ((window == self._keys[row]) | self._tail[row]).all(axis=1)
        pos, row = pos[ok], row[ok]
        a = pos % n
        return self._spec[row], a, a + self._length[row]


@dataclass(slots=True)
class _TokenPattern:
    """A token pattern with its own Matcher and its anchor: the most selective required
    token, and how many tokens the pattern can reach before and after it (None: unbounded).

    ``required`` lists, for each required token with literal values, the token attribute's
    key space and the keys it accepts: a window lacking one of them cannot match, so the
    Matcher is not run on it."""

    spec_index: int
    matcher: Any
    space: str  # "lemma" or "form": which keys the anchor is compared on
    anchor_keys: np.ndarray | None
    before: int | None
    after: int | None
    required: tuple[tuple[str, frozenset[int]], ...] = ()

    @classmethod
    def build(cls, spec_index: int, pattern: list[dict[str, Any]], pipeline: Pipeline) -> "_TokenPattern":
        from spacy.matcher import Matcher

        matcher = Matcher(pipeline.nlp.vocab)
        matcher.add(str(spec_index), [pattern])
        widths = [_width(t) for t in pattern]
        required = () if pipeline.trained else _required_keys(pattern, pipeline.lexicon)
        best: tuple[tuple[int, int], int, str, list[str]] | None = None
        for k, t in enumerate(pattern):
            if t.get("OP") not in (None, "+"):
                continue
            for attr, space in (("LEMMA", "lemma"), ("NORM", "form"), ("LOWER", "form"), ("ORTH", "form"),
                                ("TEXT", "form")):
                values = _literal_values(t.get(attr))
                if values:
                    cost = (sum(v in _COMMON for v in values), len(values))
                    if best is None or cost < best[0]:
                        best = (cost, k, space, values)
        lex = pipeline.lexicon
        if best is None:  # no literal anchor: every token is a candidate, window = segment
            return cls(spec_index, matcher, "form", None, None, None, required)
        _, k, space, values = best
        keys = np.array(sorted({lex.key(fold(v)) for v in values}), dtype=np.int64)
        before = None if any(w is None for w in widths[:k]) else sum(widths[:k])
        after = None if any(w is None for w in widths[k:]) else sum(widths[k:])
        return cls(spec_index, matcher, space, keys, before, after, required)


# Token attribute -> (Lexicon array holding the attribute's value as a key, key of a pattern value).
# Valid for the offline pipeline, whose Doc gets LEMMA and NORM from the Lexicon (set_token_attrs).
_ATTR_KEYS: dict[str, tuple[str, Callable[[Any, str], int]]] = {
    "LEMMA": ("lemma", lambda lex, v: lex.key(v)),
    "NORM": ("form", lambda lex, v: lex.key(v)),
    "LOWER": ("lower", lambda lex, v: lex.key(v)),
    "ORTH": ("exact", lambda lex, v: lex.exact_key(v)),
    "TEXT": ("exact", lambda lex, v: lex.exact_key(v)),
}


def _required_keys(pattern: list[dict[str, Any]], lex: Any) -> tuple[tuple[str, frozenset[int]], ...]:
    """For each token that must occur (no OP, or ``+``) and each of its attributes with
    literal values only (a string, or ``{"IN": [strings]}``): the attribute's key space
    and the keys of those values."""
    out = []
    for t in pattern:
        if t.get("OP") not in (None, "+"):
            continue
        for attr, (space, key) in _ATTR_KEYS.items():
            value = t.get(attr)
            if isinstance(value, str):
                values = [value]
            elif isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list) \
                    and all(isinstance(v, str) for v in value["IN"]):
                values = value["IN"]
            else:
                continue
            out.append((space, frozenset(key(lex, v) for v in values)))
    return tuple(out)


class _TokenPatternIndex:
    """The token patterns as arrays, so that choosing the windows to give the Matcher is
    array work: which patterns each anchor key starts (in groups, numbered across the key
    spaces lemma and form, as in _SequenceIndex), how far each pattern reaches around
    its anchor (-1: to the segment's edge), and per vocabulary entry a bit set of the
    required literals (``_TokenPattern.required``) that the word satisfies."""

    def __init__(self, patterns: list[_TokenPattern]):
        self.patterns = patterns
        self.before = np.array([-1 if tp.before is None else tp.before for tp in patterns], dtype=np.int64)
        self.after = np.array([-1 if tp.after is None else tp.after for tp in patterns], dtype=np.int64)
        self.unanchored = np.array([t for t, tp in enumerate(patterns) if tp.anchor_keys is None], dtype=np.int64)
        self.anchor_keys: list[np.ndarray] = []  # per key space: the sorted anchor keys, one group each
        pairs: list[tuple[int, int]] = []  # (group, pattern id)
        for space in ("lemma", "form"):
            space_pairs = sorted((k, t) for t, tp in enumerate(patterns) if tp.space == space
                                 and tp.anchor_keys is not None for k in tp.anchor_keys.tolist())
            keys = sorted({k for k, _ in space_pairs})
            base = sum(len(k) for k in self.anchor_keys)  # groups are numbered across the spaces
            group = {k: g for g, k in enumerate(keys, base)}
            pairs += [(group[k], t) for k, t in space_pairs]
            self.anchor_keys.append(np.array(keys, dtype=np.int64))
        self._group_count = np.bincount(np.array([g for g, _ in pairs], dtype=np.int64),
                                        minlength=sum(len(k) for k in self.anchor_keys))
        self._group_ptr = np.cumsum(self._group_count) - self._group_count  # each group's run of ...
        self._group_patterns = np.array([t for _, t in pairs], dtype=np.int64)  # ... pattern ids
        requirements: dict[tuple[str, frozenset[int]], int] = {}
        for tp in patterns:
            for r in tp.required:
                requirements.setdefault(r, len(requirements))
        self.words = (len(requirements) + 63) // 64  # uint64 words per bit set
        self._bits: dict[str, dict[int, int]] = {}  # key space -> key -> the requirements it meets
        for (space, keys), r in requirements.items():
            table = self._bits.setdefault(space, {})
            for key in keys:
                table[key] = table.get(key, 0) | 1 << r
        need = [sum(1 << requirements[r] for r in set(tp.required)) for tp in patterns]
        self.need = np.array([self._split(bits) for bits in need], dtype=np.uint64).reshape(len(patterns), self.words)
        self.need_folded = np.array([_fold64(bits) for bits in need], dtype=np.uint64)
        self._row_bits = np.zeros((0, self.words), dtype=np.uint64)
        self._row_folded = np.zeros(0, dtype=np.uint64)  # the bit sets folded to 64 bits, a quick first test

    def _split(self, bits: int) -> list[int]:
        """A bit set as ``words`` uint64 values."""
        return [bits >> (64 * w) & 0xFFFFFFFFFFFFFFFF for w in range(self.words)]

    def _extend_rows(self, lex: Any) -> None:
        """Requirement bits for the vocabulary entries added since the last call."""
        n, have = len(lex.texts), len(self._row_folded)
        if n <= have:
            return
        bits = [0] * (n - have)
        for space, table in self._bits.items():
            bits = [b | table.get(k, 0) for b, k in zip(bits, lex.array(space)[have:n].tolist())]
        new = np.array([self._split(b) for b in bits], dtype=np.uint64).reshape(-1, self.words)
        self._row_bits = np.concatenate([self._row_bits, new])
        self._row_folded = np.concatenate([self._row_folded, np.array([_fold64(b) for b in bits], np.uint64)])

    def groups(self, space: int, keys: np.ndarray) -> np.ndarray:
        """The anchor group of each of ``keys`` in key space ``space`` (0: lemma, 1: form), or -1."""
        table = self.anchor_keys[space]
        if not len(table):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        return np.where(table[at] == keys, at + space * len(self.anchor_keys[0]), -1)

    def candidates(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pattern ids, anchor tokens): each pattern anchored at each token, given the
        anchor groups of the tokens (a row per key space, a column per token)."""
        flat = groups.ravel()
        hit = (flat >= 0).nonzero()[0]
        group = flat[hit]
        count = self._group_count[group]
        tokens = np.repeat(hit % groups.shape[1], count)
        first = np.repeat(self._group_ptr[group] - (np.cumsum(count) - count), count)
        return self._group_patterns[first + np.arange(len(tokens))], tokens

    def plausible(self, ids: np.ndarray, da: np.ndarray, db: np.ndarray, rows: np.ndarray, lex: Any) -> np.ndarray:
        """Which windows (pattern ``ids`` over the spaCy tokens ``da:db`` of a Doc whose
        tokens have vocabulary ``rows``) hold a token for each required literal. The bit
        sets folded to 64 bits rule out most windows; the full ones check the rest.
        Windows sorted by position are the fastest (see :func:`_window_or`)."""
        ok = np.ones(len(ids), dtype=bool)
        if not self.words or not len(ids):
            return ok
        self._extend_rows(lex)
        need = self.need_folded[ids]
        ok = (_window_or(self._row_folded[rows], da, db) & need) == need
        maybe = ok.nonzero()[0]
        need = self.need[ids[maybe]]
        ok[maybe] = ((_window_or(self._row_bits[rows], da[maybe], db[maybe]) & need) == need).all(axis=1)
        return ok


def _window_or(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each pair of ``a`` < ``b``, the bitwise OR of the ``values`` (rows) ``a:b``.
    ``reduceat`` also reduces the gap from each ``b`` to the next ``a``: with the pairs
    sorted by ``a``, the gaps add up to at most the length of ``values``."""
    packed = np.concatenate([values, np.zeros((1, *values.shape[1:]), values.dtype)])
    bounds = np.empty(2 * len(a), dtype=np.int64)
    bounds[0::2], bounds[1::2] = a, b
    return np.bitwise_or.reduceat(packed, bounds, axis=0)[::2]


def _fold64(bits: int) -> int:
    """A bit set folded onto 64 bits (bit ``r`` onto bit ``r % 64``)."""
    out = 0
    while bits:
        out |= bits & 0xFFFFFFFFFFFFFFFF
        bits >>= 64
    return out


# What a pattern's match does (CompiledCodebook._roles).
_CODE, _VETO, _CASE = 0, 1, 2

_COMMON = frozenset("the a an of to in on for and or by with at from is are was were be been it its their his her "
                    "this that these those we i our my".split())


def _width(token: dict[str, Any]) -> int | None:
    op = token.get("OP")
    if op in ("*", "+"):
        return None
    if isinstance(op, str) and op.startswith("{"):
        m = re.match(r"\{\s*\d*\s*(?:,\s*(\d*))?\s*\}", op)
        if not m or (m.group(1) is not None and not m.group(1)):
            return None
        nums = re.findall(r"\d+", op)
        return int(nums[-1]) if nums else None
    return 1


def _literal_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
        return [v for v in value["IN"] if isinstance(v, str)]
    return []


class CompiledCodebook:
    """A codebook's patterns compiled against a Pipeline, ready to code documents."""

    def __init__(self, loaded: LoadedCodebook, pipeline: Pipeline | None = None):
        self.loaded = loaded
        self.codebook: Codebook = loaded.codebook
        self.pipeline = pipeline or Pipeline()
        self.specs: list[PatternSpec] = loaded.patterns
        self._sequences = _SequenceIndex()
        self._regexes: list[tuple[re.Pattern[str], int]] = []
        problems: list[Problem] = []
        token_patterns: list[tuple[int, list[dict[str, Any]]]] = []
        self._ignore = [re.compile(spec.value, re.IGNORECASE) for spec in self.specs if spec.kind == "ignore"]
        for i, spec in enumerate(self.specs):
            if spec.kind == "ignore":
                continue
            if spec.kind == "regex":
                self._regexes.append((re.compile(spec.value, re.IGNORECASE), i))
            elif spec.kind == "tokens":
                pattern = [_fold_token(t) for t in spec.value]
                problems.extend(_validate_tokens(pattern, spec))
                token_patterns.append((i, pattern))
            else:
                keys = self._keys(spec)
                if not keys:
                    problems.append(_problem(spec, f"{spec.value!r} has no words to match"))
                    continue
                self._sequences.add(_SPACES.index(spec.kind), keys, i)
        if problems:
            raise CodebookError(problems)
        self._sequences.freeze()
        self._token_patterns = [_TokenPattern.build(i, pattern, self.pipeline) for i, pattern in token_patterns]
        self._patterns = _TokenPatternIndex(self._token_patterns)
        # Per vocabulary row (see _row_tables), and a last column for padding.
        self._row_anchors = np.full((2, 1), -1, dtype=np.int64)
        self._row_keys = self._row_groups = np.full((len(_SPACES), 1), -1, dtype=np.int64)
        self._ancestors = {c: self.codebook.code_ancestors(c) for c in self.codebook.codes}
        self._code_order = {c: n for n, c in enumerate(self.codebook.codes)}
        self._case_order = {c: n for n, c in enumerate(self.codebook.cases)}
        self._case_ids = {fold(c.name): c.id for c in self.codebook.cases.values()}
        for c in self.codebook.cases.values():
            for alias in c.aliases:
                self._case_ids.setdefault(fold(alias), c.id)
        self._compile_outcomes()

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
        self.spec_index = {s.rule: i for i, s in enumerate(self.specs)}  # a match's rule -> its pattern
        self._rules = [s.rule for s in self.specs]
        self._code_names = list(codes)
        self._case_names = list(cases)
        self._code_bits = [sum(1 << codes[a] for a in (c, *self._ancestors[c]) if a in codes) for c in codes]
        self._code_sets = _BitNames(self._code_names)  # bits -> code ids, in codebook order
        self._case_sets = _BitNames(self._case_names)

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
        seg = segment_document(document, self.pipeline)
        if not seg.segments:
            return []
        spec, start, end = self._hits(document, seg)
        if self._ignore and len(spec):
            keep = self._unignored(document, seg, start, end)
            spec, start, end = spec[keep], start[keep], end[keep]
        return self._assemble(document, seg, spec, start, end)

    def _unignored(self, document: Document, seg: Segmentation, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Which matches to keep: those not overlapping a span of the codebook's ``ignore``
        patterns (a match is checked against the nine last spans starting before its end)."""
        offset = document.body_start
        spans = sorted((m.start() + offset, m.end() + offset) for rx in self._ignore
                       for m in rx.finditer(seg.masked_body) if m.end() > m.start())
        if not spans:
            return np.ones(len(start), dtype=bool)
        span_starts = np.array([a for a, _ in spans], dtype=np.int64)
        span_ends = [e for _, e in spans]
        reach = np.array([max(span_ends[max(0, k - 8):k + 1]) for k in range(len(spans))], dtype=np.int64)
        k = np.searchsorted(span_starts, end, "left") - 1  # last ignored span starting before the match ends
        return (k < 0) | (reach[np.maximum(k, 0)] <= start)

    def _hits(self, document: Document, seg: Segmentation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(spec indexes, starts, ends): the character spans of every pattern match."""
        tok = seg.tokens
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        if len(tok.starts):
            row_keys, row_groups, row_anchors = self._row_tables()
            n, pad = len(tok.rows), row_keys.shape[1] - 1
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
        regex = [(i, m.start() + document.body_start, m.end() + document.body_start)
                 for rx, i in self._regexes for m in rx.finditer(seg.masked_body) if m.end() > m.start()]
        found.append(_columns(regex))
        return tuple(np.concatenate(parts) for parts in zip(*found))  # type: ignore[return-value]

    def _row_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per vocabulary entry (a column each): its lemma, form and exact keys, which group
        of term, name and exact patterns starts with it in each key space, and which group
        of token patterns can anchor at it by its lemma and by its form. The last column is
        padding: all -1.

        Extended only for the entries added since the last call, so the work is once per
        word of the vocabulary, not once per token.
        """
        lex = self.pipeline.lexicon
        n, have = len(lex.texts), self._row_keys.shape[1] - 1
        if n > have:
            keys = np.stack([lex.array(k)[have:n] for k in ("lemma", "form", "exact")])
            groups = np.stack([self._sequences.groups(s, k) for s, k in enumerate(keys)])
            anchors = np.stack([self._patterns.groups(s, k) for s, k in enumerate(keys[:2])])
            self._row_keys, self._row_groups, self._row_anchors = (
                np.concatenate([old[:, :-1], new, old[:, -1:]], axis=1)
                for old, new in ((self._row_keys, keys), (self._row_groups, groups), (self._row_anchors, anchors)))
        return self._row_keys, self._row_groups, self._row_anchors

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
        window = np.unique(((a * n + b) * npat + ids)[a < b])  # each (pattern, window) once, by position
        ids, a, b = window % npat, window // npat // n, window // npat % n
        da, db = tok.spacy_index[a], tok.spacy_index[b - 1] + 1
        ok = index.plausible(ids, da, db, tok.doc_rows, self.pipeline.lexicon)
        patterns = index.patterns
        return self._run_matchers(seg, [(patterns[t], x, y) for t, x, y in
                                        zip(ids[ok].tolist(), da[ok].tolist(), db[ok].tolist())])

    def _run_matchers(self, seg: Segmentation, windows: list[tuple[_TokenPattern, int, int]]) -> list[tuple[int, int, int]]:
        """(spec index, start, end) of the matches of each pattern in its spaCy-token window."""
        if not windows:
            return []
        tok = seg.tokens
        self.pipeline.set_token_attrs(tok)
        doc = tok.doc
        starts = tok.doc_starts
        ends = starts + self.pipeline.lexicon.array("length")[tok.doc_rows]
        found: set[tuple[int, int, int]] = set()
        for tp, da, db in windows:
            for _, ma, mb in tp.matcher(doc[da:db]):
                found.add((tp.spec_index, int(starts[da + ma]), int(ends[da + mb - 1])))
        return sorted(found)

    def _assemble(self, document: Document, seg: Segmentation, spec: np.ndarray, start: np.ndarray,
                  end: np.ndarray) -> list[CodedSegment]:
        """The coded segments, from the document's matches (in any order)."""
        segments = seg.segments
        first_tok, end_tok = seg.token_spans
        seg_starts, seg_ends = seg.tokens.starts[first_tok], seg.tokens.ends[end_tok - 1]
        k = np.searchsorted(seg_starts, start, "right") - 1
        inside = (k >= 0) & (end <= seg_ends[np.maximum(k, 0)])
        k, spec, start, end = k[inside], spec[inside], start[inside], end[inside]
        role = self._roles[spec]
        code_matches, code_bounds, code_bits = self._code_matches(document.text, k, spec, start, end, role,
                                                                  len(segments))
        case_matches, case_bounds, case_bits = self._case_matches(document.text, k, spec, start, end,
                                                                  role == _CASE, len(segments))
        return self._coded_segments(document, seg, code_matches, code_bounds, code_bits, case_matches,
                                    case_bounds, case_bits)

    def _code_matches(self, text: str, k: np.ndarray, spec: np.ndarray, start: np.ndarray, end: np.ndarray,
                      role: np.ndarray, nseg: int) -> tuple[list[Match], list[int], list[int]]:
        """The kept code matches in output order, where each segment's run of them begins
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
        names, labels, rules, bits = self._code_names, self._labels, self._rules, self._code_bits
        owners = owner.tolist()
        matches = [_match(names[o], labels[i], rules[i], a, b, text[a:b])
                   for o, i, a, b in zip(owners, spec.tolist(), start.tolist(), end.tolist())]
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
                      case: np.ndarray, nseg: int) -> tuple[list[Match], list[int], list[int]]:
        """Case namings resolved leftmost-longest (segments do not overlap, so this can run
        over the whole document), with the segment bounds and case bit of each."""
        k, spec, start, end = k[case], spec[case], start[case], end[case]
        order = np.lexsort((spec, -end, start))
        kept_k: list[int] = []
        matches: list[Match] = []
        bits: list[int] = []
        last_end = -1
        owners, names, labels, rules = self._owner_list, self._case_names, self._labels, self._rules
        for kv, i, a, b in zip(k[order].tolist(), spec[order].tolist(), start[order].tolist(), end[order].tolist()):
            if a >= last_end:
                o = owners[i]
                matches.append(_match(names[o], labels[i], rules[i], a, b, text[a:b]))
                kept_k.append(kv)
                bits.append(1 << o)
                last_end = b
        return matches, np.searchsorted(np.array(kept_k, np.int64), np.arange(nseg + 1)).tolist(), bits

    def _coded_segments(self, document: Document, seg: Segmentation, code_matches: list[Match],
                        code_bounds: list[int], code_bits: list[int], case_matches: list[Match],
                        case_bounds: list[int], case_bits: list[int]) -> list[CodedSegment]:
        """One CodedSegment per segment; codes, cases and context cases go through bit sets."""
        text = document.text
        meta = 0
        for c in self._meta_cases(document):
            meta |= 1 << self._case_order[c]
        heading_cases: dict[int, int] = {}
        context_of: dict[int | None, int] = {None: meta}  # section start -> context case bits
        chains = seg.heading_chains
        code_set, case_set = self._code_sets, self._case_sets
        out: list[CodedSegment] = []
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
            out.append(_coded(s, text[start:s.end], code_set[codes], case_set[named], case_set[context & ~named],
                              tuple(code_matches[m0:m1]), tuple(case_matches[c0:c1])))
        return out

    def _meta_cases(self, document: Document) -> tuple[str, ...]:
        raw = document.meta.get("cases") or []
        raw = [raw] if isinstance(raw, str) else raw
        found = [self.resolve_case(v) for v in raw] if isinstance(raw, list) else []
        return tuple(c for c in found if c is not None)

    def check_documents(self, documents: Sequence[Document]) -> list[Problem]:
        """Front-matter cases that name no case of the codebook, one problem each."""
        problems: list[Problem] = []
        for d in documents:
            raw = d.meta.get("cases")
            if raw is None:
                continue
            values = [raw] if isinstance(raw, str) else raw
            if not isinstance(values, list):
                problems.append(Problem(d.path or d.id, "front matter 'cases' must be a list of case ids",
                                        _meta_line(d, "cases"), 1, "cases"))
                continue
            for v in values:
                if self.resolve_case(v) is None:
                    problems.append(Problem(d.path or d.id, f"unknown case {v!r} in front matter: use a case id, "
                                                            f"name or alias from the codebook",
                                            _meta_line(d, "cases"), 1, "cases"))
        return problems


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


def _code_in_worker(index: int) -> list[tuple]:
    """Code one document in a forked worker and return it packed (see :func:`_pack`)."""
    assert _WORKER is not None
    return _pack(_WORKER.code(_DOCUMENTS[index]), _WORKER)


def _pack(coded: list[CodedSegment], compiled: CompiledCodebook) -> list[tuple]:
    """Coded segments as plain tuples without the texts, which the parent process takes from
    the document again: a third of the bytes and far faster to pickle than the objects."""
    spec = compiled.spec_index
    out = []
    for c in coded:
        s = c.segment
        out.append(((s.id, s.start, s.end, s.line, s.kind, s.paragraph, s.section, s.section_start, s.item),
                    c.codes, c.cases, c.context_cases,
                    tuple((m.code, spec[m.rule], m.start, m.end) for m in c.matches),
                    tuple((m.code, spec[m.rule], m.start, m.end) for m in c.case_matches)))
    return out


def _unpack(packed: list[tuple], document: Document, compiled: CompiledCodebook) -> list[CodedSegment]:
    text, doc_id = document.text, document.id
    labels, rules = compiled._labels, compiled._rules

    def matches(items: tuple) -> tuple[Match, ...]:
        return tuple(_match(code, labels[i], rules[i], a, b, text[a:b]) for code, i, a, b in items)

    out = []
    for seg, codes, cases, context, code_matches, case_matches in packed:
        segment = _segment(doc_id, *seg)
        out.append(_coded(segment, text[segment.start:segment.end], codes, cases, context,
                          matches(code_matches), matches(case_matches)))
    return out


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
            if progress is not None:
                progress(n, total, doc)
    return out


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
    _WORKER, _DOCUMENTS = compiled, documents  # inherited by the forked workers, never pickled
    ctx = mp.get_context("fork")
    try:
        with ctx.Pool(min(jobs, len(documents))) as pool:
            chunks = pool.imap(_code_in_worker, range(len(documents)), chunksize=max(1, len(documents) // (jobs * 8)))
            for document, packed in zip(documents, chunks):
                yield _unpack(packed, document, compiled)
    finally:
        _WORKER, _DOCUMENTS = None, ()


def _fold_token(token: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, value in token.items():
        if attr in _FOLDED_ATTRS or attr == "LOWER":
            f = fold if attr in _FOLDED_ATTRS else str.lower
            if isinstance(value, str):
                value = f(value)
            elif isinstance(value, dict):
                value = {op: [f(v) for v in arg] if op in ("IN", "NOT_IN") and isinstance(arg, list) else arg
                         for op, arg in value.items()}
        out[attr] = value
    return out


def _validate_tokens(pattern: list[dict[str, Any]], spec: PatternSpec) -> list[Problem]:
    from spacy.schemas import validate_token_pattern

    return [_problem(spec, f"invalid token pattern: {err}") for err in validate_token_pattern(pattern)]


def _problem(spec: PatternSpec, message: str) -> Problem:
    file, line, col = spec.rule.rsplit(":", 2)
    return Problem(file, message, int(line), int(col), spec.key)


def _meta_line(document: Document, key: str) -> int:
    head = document.text[: document.body_start]
    m = re.search(rf"^{re.escape(key)}\s*:", head, re.M)
    return head.count("\n", 0, m.start()) + 1 if m else 1


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
