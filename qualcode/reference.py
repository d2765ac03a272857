"""A plain reference coder: the specification that the fast engine (qualcode.coding) is
tested against, written with spaCy's PhraseMatcher and Matcher and Python's ``re``.

It segments as coding does, then per segment:

- ``terms`` match on folded lemmas, case names and aliases on folded word forms, exact
  aliases on the words as written (PhraseMatcher over the segment's words; whitespace
  tokens left out, as the fast engine leaves them out);
- token patterns match with a Matcher over the segment's span of the Doc;
- ``regex`` patterns match with ``re`` (case-insensitive) on the masked text, and count
  when they lie inside one segment;
- a match overlapping an ``ignore`` span is dropped; a code match overlapping an
  exclusion match of its code is dropped; of the rest, a match inside an earlier one of
  its code (by start, longest first, then codebook order) is dropped;
- a case name's capitalised words must be capitalised in the text (unless the case has
  ``match_case: false``); case namings are resolved leftmost-longest;
- a segment has the codes it matched and their ancestors, the cases it names, and as
  context the cases of the front matter and of its section's headings it does not name.

Slow and simple on purpose; only for the offline pipeline (no ``--model``).
"""
from __future__ import annotations

import re
from typing import Any

from .codebook import LoadedCodebook
from .matchers import fold_token_pattern, spaced_token_pattern, trim_spaces
from .model import CodedSegment, Document, Match
from .pipeline import Pipeline, fold
from .segment import segment_document

_PHRASE_ATTRS = {"term": "LEMMA", "name": "NORM", "exact": "ORTH"}


class ReferenceCoder:
    """Codes documents with a LoadedCodebook the plain way."""

    def __init__(self, loaded: LoadedCodebook, pipeline: Pipeline | None = None):
        from spacy.matcher import Matcher, PhraseMatcher

        self.pipeline = pipeline or Pipeline()
        self.codebook = loaded.codebook
        self.specs = loaded.patterns
        vocab = self.pipeline.nlp.vocab
        self.phrases = {kind: PhraseMatcher(vocab, attr=attr) for kind, attr in _PHRASE_ATTRS.items()}
        self.tokens = Matcher(vocab)
        lexicon = None if self.pipeline.trained else self.pipeline.lexicon
        self.regexes: list[tuple[int, re.Pattern[str]]] = []
        self.ignore: list[re.Pattern[str]] = []
        self.capitals: dict[int, list[int]] = {}  # name pattern -> its words that must be capitalised
        for i, spec in enumerate(self.specs):
            if spec.kind == "ignore":
                self.ignore.append(re.compile(spec.value, re.IGNORECASE))
            elif spec.kind == "regex":
                self.regexes.append((i, re.compile(spec.value, re.IGNORECASE)))
            elif spec.kind == "tokens":
                self.tokens.add(str(i), [spaced_token_pattern([fold_token_pattern(t, lexicon) for t in spec.value])])
            else:
                words = self._words(self.pipeline.nlp.tokenizer(spec.value))
                self.phrases[spec.kind].add(str(i), [words])
                case = self.codebook.cases.get(spec.owner) if spec.kind == "name" else None
                if case is not None and case.match_case:
                    self.capitals[i] = [n for n, t in enumerate(words) if t.text[:1].isupper()]
        self.case_of: dict[str, str] = {fold(c.name): c.id for c in self.codebook.cases.values()}
        for c in self.codebook.cases.values():
            for alias in c.aliases:
                self.case_of.setdefault(fold(alias), c.id)

    def _annotate(self, doc: Any) -> None:
        """LEMMA and NORM of each token: its folded lookup lemma and folded form."""
        lexicon = self.pipeline.lexicon
        for token in doc:
            token.lemma_ = lexicon.lemma_of(token.text)
            token.norm_ = fold(token.text)

    def _words(self, doc: Any, start: int = 0, end: int | None = None) -> Any:
        """A Doc of the words of ``doc[start:end]``, whitespace tokens left out, annotated."""
        from spacy.tokens import Doc

        words = [t.text for t in doc[start:end] if not t.is_space]
        out = Doc(doc.vocab, words=words, spaces=[True] * len(words))
        self._annotate(out)
        return out

    def resolve_case(self, value: Any) -> str | None:
        if isinstance(value, str):
            return value if value in self.codebook.cases else self.case_of.get(fold(value.strip()))
        return None

    def code(self, document: Document) -> list[CodedSegment]:
        """Segment and code one document."""
        seg = segment_document(document, self.pipeline)
        doc, text, offset = seg.tokens.doc, document.text, document.body_start
        self._annotate(doc)
        ignored = [(m.start() + offset, m.end() + offset) for rx in self.ignore
                   for m in rx.finditer(seg.masked_body) if m.end() > m.start()]
        regex_hits = [(i, m.start() + offset, m.end() + offset) for i, rx in self.regexes
                      for m in rx.finditer(seg.masked_body) if m.end() > m.start()]
        raw = document.meta.get("cases") or []
        meta = {self.resolve_case(v) for v in ([raw] if isinstance(raw, str) else raw if isinstance(raw, list) else [])}
        heading_cases: dict[int, set[str]] = {}
        first_tok, end_tok = seg.token_spans
        out = []
        for s, a, b in zip(seg.segments, first_tok.tolist(), end_tok.tolist()):
            hits = self._segment_hits(seg, a, b, offset, regex_hits)
            hits = [h for h in hits if not any(x < h[2] and h[1] < y for x, y in ignored)]
            matches = self._code_matches(hits, text)
            case_matches = self._case_matches(hits, text)
            codes = {m.code for m in matches}
            codes |= {a for c in list(codes) for a in self.codebook.code_ancestors(c)}
            named = {m.code for m in case_matches}
            if s.kind == "heading":
                heading_cases[s.start] = named
            context = set(meta)
            for h in seg.heading_chains.get(s.section_start, ()) if s.section_start is not None else ():
                context |= heading_cases.get(h, set())
            out.append(CodedSegment(s, text[s.start:s.end], self._ordered(codes, self.codebook.codes),
                                    self._ordered(named, self.codebook.cases),
                                    self._ordered(context - named, self.codebook.cases),
                                    tuple(matches), tuple(case_matches)))
        return out

    def _segment_hits(self, seg: Any, a: int, b: int, offset: int,
                      regex_hits: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """(spec index, start, end) of every match inside the segment of (non-space) tokens
        ``a:b``; ``offset``: where the tokenised body starts in the file."""
        if a >= b:
            return []
        tok = seg.tokens
        da, db = int(tok.spacy_index[a]), int(tok.spacy_index[b - 1]) + 1
        lo, hi = int(tok.starts[a]), int(tok.ends[b - 1])
        doc = tok.doc
        hits = []
        words = self._words(doc, da, db)
        starts, ends = tok.starts[a:b].tolist(), tok.ends[a:b].tolist()  # of the words
        for matcher in self.phrases.values():
            for key, x, y in matcher(words):
                i = int(self.pipeline.nlp.vocab.strings[key])
                if all(words[x + n].text[:1].isupper() for n in self.capitals.get(i, ())):
                    hits.append((i, starts[x], ends[y - 1]))
        for key, x, y in self.tokens(doc[da:db]):  # a joined word ends in the file, not in the Doc
            x, y = trim_spaces(da + x, da + y, lambda i: doc[i].is_space)
            if x < y:
                hits.append((int(self.pipeline.nlp.vocab.strings[key]), doc[x].idx + offset, int(tok.doc_ends[y - 1])))
        hits += [h for h in regex_hits if lo <= h[1] and h[2] <= hi]
        return sorted(set(hits))

    def _code_matches(self, hits: list[tuple[int, int, int]], text: str) -> list[Match]:
        specs = self.specs
        vetoes = [(specs[i].owner, a, b) for i, a, b in hits if specs[i].exclude and not specs[i].for_case]
        hits = [(i, a, b) for i, a, b in hits if not specs[i].exclude and not specs[i].for_case
                and not any(o == specs[i].owner and x < b and a < y for o, x, y in vetoes)]
        hits.sort(key=lambda h: (h[1], -h[2], h[0]))
        kept = [h for n, h in enumerate(hits)
                if not any(specs[e[0]].owner == specs[h[0]].owner and e[2] >= h[2] for e in hits[:n])]
        order = list(self.codebook.codes)
        kept.sort(key=lambda h: (h[1], h[2], order.index(specs[h[0]].owner)))
        return [Match(specs[i].owner, specs[i].label, specs[i].rule, a, b, text[a:b]) for i, a, b in kept]

    def _case_matches(self, hits: list[tuple[int, int, int]], text: str) -> list[Match]:
        specs = self.specs
        out, last_end = [], -1
        for i, a, b in sorted((h for h in hits if self.specs[h[0]].for_case), key=lambda h: (h[1], -h[2], h[0])):
            if a >= last_end:
                out.append(Match(specs[i].owner, specs[i].label, specs[i].rule, a, b, text[a:b]))
                last_end = b
        return out

    @staticmethod
    def _ordered(ids: set[str | None], order: dict[str, Any]) -> tuple[str, ...]:
        return tuple(i for i in order if i in ids)


def reference_code(loaded: LoadedCodebook, documents: list[Document], pipeline: Pipeline | None = None
                   ) -> list[CodedSegment]:
    """Every document coded by the reference coder, in document order."""
    coder = ReferenceCoder(loaded, pipeline)
    return [c for d in documents for c in coder.code(d)]


__all__ = ["ReferenceCoder", "reference_code"]
