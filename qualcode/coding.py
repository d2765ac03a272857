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

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .codebook import LoadedCodebook, PatternSpec, load_codebook
from .errors import CodebookError, CorpusError, Problem
from .model import CodedSegment, Codebook, Document, Match, Segment
from .pipeline import Pipeline, fold
from .segment import Segmentation, segment_document

_FOLDED_ATTRS = ("LEMMA", "NORM")
# Bits of the per-vocabulary-entry marks (CompiledCodebook._marks).
_LEMMA_FIRST, _FORM_FIRST, _EXACT_FIRST, _LEMMA_ANCHOR, _FORM_ANCHOR = 1, 2, 4, 8, 16


@dataclass(slots=True)
class _Index:
    """Token-sequence patterns of one key kind, indexed by their first key."""

    by_first: dict[int, list[tuple[tuple[int, ...], int]]] = field(default_factory=dict)
    firsts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add(self, keys: tuple[int, ...], spec_index: int) -> None:
        self.by_first.setdefault(keys[0], []).append((keys, spec_index))

    def freeze(self) -> None:
        for entries in self.by_first.values():
            entries.sort(key=lambda e: -len(e[0]))
        self.firsts = np.array(sorted(self.by_first), dtype=np.int64)

    def find(self, seq: list[int], positions: list[int]) -> Iterator[tuple[int, int, int]]:
        """(spec index, first token, last token + 1) for every match starting at ``positions``."""
        n = len(seq)
        by_first = self.by_first
        for p in positions:
            for pattern, spec_index in by_first[seq[p]]:
                m = len(pattern)
                if m == 1 or (p + m <= n and tuple(seq[p:p + m]) == pattern):
                    yield spec_index, p, p + m


@dataclass(slots=True)
class _TokenPattern:
    """A token pattern with its own Matcher and its anchor: the most selective required
    token, and how many tokens the pattern can reach before and after it (None: unbounded)."""

    spec_index: int
    matcher: Any
    space: str  # "lemma" or "form": which keys the anchor is compared on
    anchor_keys: np.ndarray | None
    before: int | None
    after: int | None

    @classmethod
    def build(cls, spec_index: int, pattern: list[dict[str, Any]], pipeline: Pipeline) -> "_TokenPattern":
        from spacy.matcher import Matcher

        matcher = Matcher(pipeline.nlp.vocab)
        matcher.add(str(spec_index), [pattern])
        widths = [_width(t) for t in pattern]
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
            return cls(spec_index, matcher, "form", None, None, None)
        _, k, space, values = best
        keys = np.array(sorted({lex.key(fold(v)) for v in values}), dtype=np.int64)
        before = None if any(w is None for w in widths[:k]) else sum(widths[:k])
        after = None if any(w is None for w in widths[k:]) else sum(widths[k:])
        return cls(spec_index, matcher, space, keys, before, after)


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
        self._lemma, self._form, self._exact = _Index(), _Index(), _Index()
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
                index = {"term": self._lemma, "name": self._form, "exact": self._exact}[spec.kind]
                index.add(keys, i)
        if problems:
            raise CodebookError(problems)
        for index in (self._lemma, self._form, self._exact):
            index.freeze()
        self._token_patterns = [_TokenPattern.build(i, pattern, self.pipeline) for i, pattern in token_patterns]
        self._anchored_lemma: dict[int, list[_TokenPattern]] = {}
        self._anchored_form: dict[int, list[_TokenPattern]] = {}
        self._unanchored = [tp for tp in self._token_patterns if tp.anchor_keys is None]
        for tp in self._token_patterns:
            table = self._anchored_lemma if tp.space == "lemma" else self._anchored_form
            for key in (tp.anchor_keys.tolist() if tp.anchor_keys is not None else ()):
                table.setdefault(key, []).append(tp)
        self._lemma_anchor_keys = np.array(sorted(self._anchored_lemma), dtype=np.int64)
        self._form_anchor_keys = np.array(sorted(self._anchored_form), dtype=np.int64)
        self._row_marks = np.zeros(0, dtype=np.int64)
        self._ancestors = {c: self.codebook.code_ancestors(c) for c in self.codebook.codes}
        self._code_order = {c: n for n, c in enumerate(self.codebook.codes)}
        self._case_order = {c: n for n, c in enumerate(self.codebook.cases)}
        self._case_ids = {fold(c.name): c.id for c in self.codebook.cases.values()}
        for c in self.codebook.cases.values():
            for alias in c.aliases:
                self._case_ids.setdefault(fold(alias), c.id)

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
        hits = list(self._hits(document, seg))
        if self._ignore:
            hits = self._unignored(document, seg, hits)
        return self._assemble(document, seg, hits)

    def _unignored(self, document: Document, seg: Segmentation, hits: list[tuple[int, int, int]]):
        """Drop matches that overlap a span of the codebook's ``ignore`` patterns."""
        offset = document.body_start
        spans = sorted((m.start() + offset, m.end() + offset) for rx in self._ignore
                       for m in rx.finditer(seg.masked_body) if m.end() > m.start())
        if not spans:
            return hits
        import bisect

        starts = [a for a, _ in spans]
        kept = []
        for hit in hits:
            _, start, end = hit
            k = bisect.bisect_left(starts, end) - 1  # last ignored span starting before the hit ends
            if k >= 0 and any(spans[j][1] > start for j in range(max(0, k - 8), k + 1)):
                continue
            kept.append(hit)
        return kept

    def _hits(self, document: Document, seg: Segmentation) -> Iterator[tuple[int, int, int]]:
        """(spec index, start, end) character spans of every pattern match."""
        tok = seg.tokens
        lex = self.pipeline.lexicon
        starts, ends = tok.starts, tok.ends
        offset = document.body_start
        if len(starts):
            marks = self._marks()[tok.rows]
            if self.pipeline.trained:  # lemmas are per token, not per vocabulary entry
                marks = (marks & ~(_LEMMA_FIRST | _LEMMA_ANCHOR)) \
                    | np.isin(tok.lemmas, self._lemma.firsts) * _LEMMA_FIRST \
                    | np.isin(tok.lemmas, self._lemma_anchor_keys) * _LEMMA_ANCHOR
            for bit, index, keys in ((_LEMMA_FIRST, self._lemma, tok.lemmas), (_FORM_FIRST, self._form, "form"),
                                     (_EXACT_FIRST, self._exact, "exact")):
                positions = np.flatnonzero(marks & bit)
                if len(positions):
                    if isinstance(keys, str):
                        keys = lex.array(keys)[tok.rows]
                    for spec_index, a, b in index.find(keys.tolist(), positions.tolist()):
                        yield spec_index, int(starts[a]), int(ends[b - 1])
            if self._token_patterns:
                yield from self._token_hits(seg, marks, offset)
        for rx, spec_index in self._regexes:
            for m in rx.finditer(seg.masked_body):
                if m.end() > m.start():
                    yield spec_index, m.start() + offset, m.end() + offset

    def _marks(self) -> np.ndarray:
        """Per vocabulary entry: which pattern indexes can start, or anchor, at that word.

        Extended only for the entries added since the last call, so the work is once per
        word of the vocabulary, not once per token.
        """
        lex = self.pipeline.lexicon
        n, have = len(lex.texts), len(self._row_marks)
        if n > have:
            lemma, form, exact = (lex.array(k)[have:n] for k in ("lemma", "form", "exact"))
            new = (np.isin(lemma, self._lemma.firsts) * _LEMMA_FIRST
                   | np.isin(form, self._form.firsts) * _FORM_FIRST
                   | np.isin(exact, self._exact.firsts) * _EXACT_FIRST
                   | np.isin(lemma, self._lemma_anchor_keys) * _LEMMA_ANCHOR
                   | np.isin(form, self._form_anchor_keys) * _FORM_ANCHOR)
            self._row_marks = np.concatenate([self._row_marks, new.astype(np.int64)])
        return self._row_marks

    def _token_hits(self, seg: Segmentation, marks: np.ndarray, offset: int) -> Iterator[tuple[int, int, int]]:
        """Token patterns, run by spaCy's Matcher only on short windows around an anchor
        token (a required word of the pattern), never over the whole document."""
        tok = seg.tokens
        nseg = len(seg.segments)
        seg_starts = np.fromiter((s.start for s in seg.segments), np.int64, nseg)
        seg_ends = np.fromiter((s.end for s in seg.segments), np.int64, nseg)
        first_tok = np.searchsorted(tok.starts, seg_starts, "left")
        end_tok = np.searchsorted(tok.starts, seg_ends, "left")
        candidates: list[tuple[_TokenPattern, int]] = []
        lemmas = tok.lemmas
        forms = self.pipeline.lexicon.array("form")[tok.rows]
        for p in np.flatnonzero(marks & (_LEMMA_ANCHOR | _FORM_ANCHOR)).tolist():
            candidates.extend((tp, p) for tp in self._anchored_lemma.get(int(lemmas[p]), ()))
            candidates.extend((tp, p) for tp in self._anchored_form.get(int(forms[p]), ()))
        if self._unanchored:
            for k in np.flatnonzero(first_tok < end_tok).tolist():
                candidates.extend((tp, int(first_tok[k])) for tp in self._unanchored)
        if not candidates:
            return
        self.pipeline.set_token_attrs(tok)
        doc = tok.doc
        tok_seg = np.searchsorted(seg_starts, tok.starts, "right") - 1
        done: set[tuple[int, int, int]] = set()
        found: set[tuple[int, int, int]] = set()
        for tp, p in candidates:
            k = int(tok_seg[p])
            if k < 0:
                continue
            lo, hi = int(first_tok[k]), int(end_tok[k])
            a = lo if tp.before is None else max(lo, p - tp.before)
            b = hi if tp.after is None else min(hi, p + tp.after)
            if a >= b or (tp.spec_index, a, b) in done:
                continue
            done.add((tp.spec_index, a, b))
            da, db = int(tok.spacy_index[a]), int(tok.spacy_index[b - 1]) + 1
            for _, ma, mb in tp.matcher(doc[da:db]):
                first, last = doc[da + ma], doc[da + mb - 1]
                found.add((tp.spec_index, first.idx + offset, last.idx + len(last) + offset))
        yield from sorted(found)

    def _assemble(self, document: Document, seg: Segmentation, hits: list[tuple[int, int, int]]) -> list[CodedSegment]:
        segments = seg.segments
        seg_starts = [s.start for s in segments]
        per_segment: dict[int, list[tuple[int, int, int]]] = {}
        for spec_index, start, end in hits:
            k = _bisect_right(seg_starts, start) - 1
            if k >= 0 and end <= segments[k].end:
                per_segment.setdefault(k, []).append((start, end, spec_index))
        text = document.text
        meta_cases = self._meta_cases(document)
        heading_cases: dict[int, tuple[str, ...]] = {}
        out: list[CodedSegment] = []
        for k, s in enumerate(segments):
            matches, case_matches = self._resolve(per_segment.get(k, ()), text)
            codes: set[str] = set()
            for m in matches:
                codes.add(m.code)
                codes.update(self._ancestors.get(m.code, ()))
            named = sorted({m.code for m in case_matches}, key=self._case_order.__getitem__)
            if s.kind == "heading":
                heading_cases[s.start] = tuple(named)
            context = set(meta_cases)
            if s.section_start is not None:
                for h in seg.heading_chains.get(s.section_start, ()):
                    context.update(heading_cases.get(h, ()))
            context.difference_update(named)
            out.append(CodedSegment(
                segment=s, text=text[s.start:s.end],
                codes=tuple(sorted(codes, key=self._code_order.__getitem__)),
                cases=tuple(named), context_cases=tuple(sorted(context, key=self._case_order.__getitem__)),
                matches=tuple(matches), case_matches=tuple(case_matches),
            ))
        return out

    def _resolve(self, hits: Iterable[tuple[int, int, int]], text: str) -> tuple[list[Match], list[Match]]:
        specs = self.specs
        code_hits: dict[str, list[tuple[int, int, int]]] = {}
        vetoes: dict[str, list[tuple[int, int]]] = {}
        case_hits: list[tuple[int, int, int]] = []
        for start, end, i in hits:
            spec = specs[i]
            if spec.for_case:
                case_hits.append((start, end, i))
            elif spec.exclude:
                vetoes.setdefault(spec.owner, []).append((start, end))
            else:
                code_hits.setdefault(spec.owner, []).append((start, end, i))
        matches: list[Match] = []
        for code, spans in code_hits.items():
            veto = vetoes.get(code, ())
            kept: list[tuple[int, int, int]] = []
            for start, end, i in sorted(spans, key=lambda h: (h[0], -h[1], h[2])):
                if any(vs < end and start < ve for vs, ve in veto):
                    continue
                if any(ks <= start and end <= ke for ks, ke, _ in kept):
                    continue
                kept.append((start, end, i))
            matches.extend(self._match(code, s, e, i, text) for s, e, i in kept)
        case_matches: list[Match] = []
        last_end = -1
        for start, end, i in sorted(case_hits, key=lambda h: (h[0], -h[1], h[2])):
            if start >= last_end:
                case_matches.append(self._match(specs[i].owner, start, end, i, text))
                last_end = end
        matches.sort(key=lambda m: (m.start, m.end, self._code_order[m.code]))
        return matches, case_matches

    def _match(self, owner: str, start: int, end: int, i: int, text: str) -> Match:
        spec = self.specs[i]
        return Match(code=owner, pattern=spec.label, rule=spec.rule, start=start, end=end, text=text[start:end])

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


def _code_in_worker(document: Document) -> list[CodedSegment]:
    assert _WORKER is not None
    return _WORKER.code(document)


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
    for n, (doc, coded) in enumerate(zip(documents, _map(documents, compiled, jobs)), 1):
        out.extend(coded)
        if progress is not None:
            progress(n, total, doc)
    return out


def _map(documents: Sequence[Document], compiled: CompiledCodebook, jobs: int) -> Iterator[list[CodedSegment]]:
    if jobs <= 1 or len(documents) < 2:
        yield from (compiled.code(d) for d in documents)
        return
    import multiprocessing as mp

    global _WORKER
    _WORKER = compiled  # inherited by forked workers: nothing to pickle but documents and results
    ctx = mp.get_context("fork")
    with ctx.Pool(min(jobs, len(documents))) as pool:
        yield from pool.imap(_code_in_worker, documents, chunksize=max(1, len(documents) // (jobs * 8)))


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


def _bisect_right(values: list[int], x: int) -> int:
    import bisect

    return bisect.bisect_right(values, x)
