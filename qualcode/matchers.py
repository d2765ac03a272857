"""Compiled pattern indexes: the data structures that find pattern matches in a document.

- ``SequenceIndex``: every ``terms`` pattern and case name, as sequences of keys (folded
  lemmas, folded forms or exact words), grouped by their first key so that one pass over
  the tokens finds every match;
- ``TokenPattern`` and ``TokenPatternIndex``: spaCy ``Matcher`` patterns with the words
  they require, so the Matcher runs only on short windows that contain all of them.

What each vocabulary entry contributes (its keys, its groups, its required-word bits) is
computed once per entry, never per token.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .codebook import PatternSpec
from .errors import Problem
from .growing import GrowingArray
from .pipeline import Pipeline, fold

FOLDED_ATTRS = ("LEMMA", "NORM")
KEY_SPACES = ("term", "name", "exact")  # the key space of each kind: lemma, form, exact keys


class SequenceIndex:
    """The term, name and exact-alias patterns: key sequences, matched with numpy.

    Patterns are grouped by key space and first key. Each token whose key starts a group
    is paired with every pattern of the group, and all pairs are checked key by key at once.
    """

    def __init__(self) -> None:
        self._patterns: list[tuple[int, tuple[int, ...], int]] = []  # (space, keys, spec index)
        self.firsts: list[np.ndarray] = [np.zeros(0, np.int64) for _ in KEY_SPACES]  # sorted first keys
        self._base = [0] * len(KEY_SPACES)  # group id of each space's first first key
        self.width = 1

    def add(self, space: int, keys: tuple[int, ...], spec_index: int) -> None:
        self._patterns.append((space, keys, spec_index))

    def freeze(self) -> None:
        pats = sorted(self._patterns, key=lambda p: (p[0], p[1][0]))  # stable: same order within a group
        self.width = width = max((len(k) for _, k, _ in pats), default=1)
        base = 0
        for s in range(len(KEY_SPACES)):
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
class TokenPattern:
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
    def build(cls, spec_index: int, pattern: list[dict[str, Any]], pipeline: Pipeline) -> "TokenPattern":
        from spacy.matcher import Matcher

        matcher = Matcher(pipeline.nlp.vocab)
        matcher.add(str(spec_index), [spaced_token_pattern(pattern)])
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


class TokenPatternIndex:
    """The token patterns as arrays, so that choosing the windows to give the Matcher is
    array work: which patterns each anchor key starts (in groups, numbered across the key
    spaces lemma and form, as in SequenceIndex), how far each pattern reaches around
    its anchor (-1: to the segment's edge), and per vocabulary entry a bit set of the
    required literals (``TokenPattern.required``) that the word satisfies."""

    def __init__(self, patterns: list[TokenPattern]):
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
        self._row_bits = GrowingArray(np.uint64, (self.words,))
        self._row_folded = GrowingArray(np.uint64)  # the bit sets folded to 64 bits, a quick first test

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
        self._row_bits.extend(np.array([self._split(b) for b in bits], dtype=np.uint64).reshape(-1, self.words))
        self._row_folded.extend([_fold64(b) for b in bits])

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

    def quick_plausible(self, ids: np.ndarray, da: np.ndarray, db: np.ndarray, rows: np.ndarray,
                        lex: Any) -> np.ndarray:
        """The first, quick test of :meth:`plausible` alone (bit sets folded to 64 bits): a
        window failing it cannot match. Windows need not be sorted, nor unique."""
        self._extend_rows(lex)
        need = self.need_folded[ids]
        return (_window_or(self._row_folded.view[rows], da, db) & need) == need

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
        ok = (_window_or(self._row_folded.view[rows], da, db) & need) == need
        maybe = ok.nonzero()[0]
        need = self.need[ids[maybe]]
        ok[maybe] = ((_window_or(self._row_bits.view[rows], da[maybe], db[maybe]) & need) == need).all(axis=1)
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


def fold_token_pattern(token: dict[str, Any], lexicon: Any = None) -> dict[str, Any]:
    """A token pattern's values as the Doc holds them: folded, lower-cased, and each LEMMA
    value with the lemmas it stands for (``Lexicon.lemma_variants``) when a ``lexicon`` of
    the offline pipeline is given."""
    out: dict[str, Any] = {}
    for attr, value in token.items():
        if attr in FOLDED_ATTRS or attr == "LOWER":
            f = fold if attr in FOLDED_ATTRS else str.lower
            variants = lexicon.lemma_variants if attr == "LEMMA" and lexicon is not None else None
            if isinstance(value, str):
                value = f(value)
                if variants is not None and len(variants(value)) > 1:
                    value = {"IN": list(variants(value))}
            elif isinstance(value, dict):
                value = {op: _folded_list(arg, f, variants) if op in ("IN", "NOT_IN") and isinstance(arg, list) else arg
                         for op, arg in value.items()}
        out[attr] = value
    return out


def _folded_list(values: list[Any], f: Callable[[str], str], variants: Any) -> list[Any]:
    out: list[Any] = []
    for v in values:
        v = f(v) if isinstance(v, str) else v
        for w in (variants(v) if variants is not None and isinstance(v, str) else (v,)):
            if w not in out:
                out.append(w)
    return out


SPACES = {"IS_SPACE": True, "OP": "*"}


def spaced_token_pattern(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``pattern`` with any whitespace tokens allowed between its tokens: spaCy makes a token
    of the spaces beyond the first, so a line break followed by indentation, a CRLF or a quote
    mark ("> "), once masked, sat between two words and no pattern matched across it. A pattern
    that names IS_SPACE itself is left as written. Matches are trimmed of whitespace tokens at
    their edges (:func:`trim_spaces`)."""
    if any("IS_SPACE" in t for t in pattern):
        return pattern
    out: list[dict[str, Any]] = []
    for t in pattern:
        if out:
            out.append(SPACES)
        out.append(t)
    return out


def trim_spaces(start: int, end: int, is_space: Any) -> tuple[int, int]:
    """Token span ``start:end`` without whitespace tokens at its edges (``is_space(i)``)."""
    while start < end and is_space(start):
        start += 1
    while end > start and is_space(end - 1):
        end -= 1
    return start, end


def validate_token_pattern(pattern: list[dict[str, Any]], spec: PatternSpec) -> list[Problem]:
    from spacy.schemas import validate_token_pattern as spacy_validate

    return [spec_problem(spec, f"invalid token pattern: {err}") for err in spacy_validate(pattern)]


def spec_problem(spec: PatternSpec, message: str) -> Problem:
    file, line, col = spec.rule.rsplit(":", 2)
    return Problem(file, message, int(line), int(col), spec.key)
