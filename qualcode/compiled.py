"""Step 1 of coding, compile: a codebook's patterns turned into matchers and tables.

``CompiledCodebook`` holds what the later steps read (see ``qualcode.coding`` for the
steps): the pattern indexes (``qualcode.matchers``), the compiled regular expressions, and
per pattern what a match of it does (``roles``: codes, vetoes or names a case; ``owners``:
which code or case; ``labels`` and ``rules``: its audit fields), with a bit per code and
case so that resolving a document's matches is array work. It is built once per run and
never changed by coding, except for the per-vocabulary tables that ``qualcode.matching``
extends as new words are seen (a cache: the same words give the same rows).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .codebook import LoadedCodebook, PatternSpec, load_codebook
from .errors import CodebookError, Problem
from .growing import GrowingArray
from .matchers import (KEY_SPACES, SequenceIndex, TokenPatternIndex, TokenPattern, fold_token_pattern, spec_problem,
                       validate_token_pattern)
from .model import CodedSegment, Codebook, Document
from .pipeline import Pipeline, fold
from .regexes import TIMEOUT as REGEX_TIMEOUT, UserRegex, compile_regex
from .resolve import Resolved, resolve_document, vetoed_matches
from .view import coded_segments

# What a pattern's match does (CompiledCodebook.roles).
CODE, VETO, CASE = 0, 1, 2


class CompiledCodebook:
    """A codebook's patterns compiled against a Pipeline, ready to code documents."""

    def __init__(self, loaded: LoadedCodebook, pipeline: Pipeline | None = None, *,
                 regex_timeout: float = REGEX_TIMEOUT):
        self.loaded = loaded
        self.codebook: Codebook = loaded.codebook
        self.pipeline = pipeline or Pipeline()
        self.specs: list[PatternSpec] = loaded.patterns
        self.sequences = SequenceIndex()
        self.regexes: list[tuple[UserRegex, int]] = []
        problems: list[Problem] = []
        token_patterns: list[tuple[int, list[dict[str, Any]]]] = []
        self.ignore = [(compile_regex(spec.value, regex_timeout), i) for i, spec in enumerate(self.specs)
                        if spec.kind == "ignore"]
        sequence_keys = self._sequence_keys()
        lexicon = None if self.pipeline.trained else self.pipeline.lexicon
        for i, spec in enumerate(self.specs):
            if spec.kind == "ignore":
                continue
            if spec.kind == "regex":
                self.regexes.append((compile_regex(spec.value, regex_timeout), i))
            elif spec.kind == "tokens":
                pattern = [fold_token_pattern(t, lexicon) for t in spec.value]
                problems.extend(validate_token_pattern(pattern, spec))
                token_patterns.append((i, pattern))
            else:
                keys = sequence_keys[i]
                if not keys:
                    problems.append(spec_problem(spec, f"{spec.value!r} has no words to match"))
                    continue
                self.sequences.add(KEY_SPACES.index(spec.kind), keys, i)
        if problems:
            raise CodebookError(problems)
        self.sequences.freeze()
        self.token_patterns = [TokenPattern.build(i, pattern, self.pipeline) for i, pattern in token_patterns]
        self.token_index = TokenPatternIndex(self.token_patterns)
        # Per vocabulary row (see _row_tables), padded with -1.
        self.row_keys, self.row_groups, self.row_anchors = (
            GrowingArray(np.int64, (spaces,), axis=-1, fill=-1) for spaces in (len(KEY_SPACES), len(KEY_SPACES), 2))
        self.ancestors = {c: self.codebook.code_ancestors(c) for c in self.codebook.codes}
        self.code_order = {c: n for n, c in enumerate(self.codebook.codes)}
        self.case_order = {c: n for n, c in enumerate(self.codebook.cases)}
        self.case_ids = {fold(c.name): c.id for c in self.codebook.cases.values()}
        for c in self.codebook.cases.values():
            for alias in c.aliases:
                self.case_ids.setdefault(fold(alias), c.id)
        self._compile_outcomes()
        self._compile_case_forms()

    def _compile_case_forms(self) -> None:
        """What case names need beyond their words: per name pattern of a case with
        ``match_case``, the positions of its capitalised words, which must be capitalised
        (or all capitals) in the text; and the words with full stops of every case name,
        alias and abbreviation, which the segmenter does not end a sentence after."""
        cases = self.codebook.cases
        self.capitals: dict[int, tuple[int, ...]] = {}
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
                    self.capitals[i] = capitals
        self.abbreviations: tuple[str, ...] = tuple(sorted(dotted))
        self.needs_capitals = np.zeros(len(self.specs), dtype=bool)
        self.needs_capitals[list(self.capitals)] = True

    def _compile_outcomes(self) -> None:
        """Per pattern, what a match of it does (role, owner, audit fields), and per code
        and case a bit, so that resolving a document's matches is array work."""
        codes, cases = self.code_order, self.case_order
        self.roles = np.array([CASE if s.for_case else VETO if s.exclude else CODE for s in self.specs],
                               dtype=np.int64)
        self.owners = np.array([(cases if s.for_case else codes).get(s.owner, -1) for s in self.specs],
                                dtype=np.int64)
        self.owner_list = self.owners.tolist()
        self.labels = [s.label for s in self.specs]
        self.rules = [s.rule for s in self.specs]
        self.code_names = list(codes)
        self.case_names = list(cases)
        self.code_bits = [sum(1 << codes[a] for a in (c, *self.ancestors[c]) if a in codes) for c in codes]
        self.code_sets = _BitNames(self.code_names)  # bits -> code ids, in codebook order
        self.case_sets = _BitNames(self.case_names)

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

    # -- the later steps, for one document (see qualcode.coding) ----------------------------
    def code(self, document: Document) -> list[CodedSegment]:
        """Segment and code one document: :meth:`resolve`, then :meth:`build`."""
        return coded_segments(self, document, resolve_document(self, document))

    def resolve(self, document: Document) -> Resolved:
        """Segment, match and resolve one document, as plain numbers (see
        :func:`qualcode.resolve.resolve_document`)."""
        return resolve_document(self, document)

    def build(self, document: Document, resolved: Resolved) -> list[CodedSegment]:
        """The coded segments of ``document`` from what :meth:`resolve` found in it."""
        return coded_segments(self, document, resolved)

    def vetoed(self, document: Document) -> list[tuple[str, str, int, int, int, int]]:
        """The code matches an exclusion removed (see :func:`qualcode.resolve.vetoed_matches`)."""
        return vetoed_matches(self, document)

    def resolve_case(self, value: Any) -> str | None:
        """A case id from an id, name or alias as written in front matter."""
        if isinstance(value, str):
            if value in self.codebook.cases:
                return value
            return self.case_ids.get(fold(value.strip()))
        return None

    def check_documents(self, documents: Sequence[Document]) -> list[Problem]:
        """Front-matter cases that name no case of the codebook, one problem each (see
        :func:`qualcode.frontmatter.check_front_matter`)."""
        from .frontmatter import check_front_matter

        names = {fold(c): c for c in self.codebook.cases} | self.case_ids
        return check_front_matter(documents, self.resolve_case, names)


def compile_codebook(codebook: str | Path | LoadedCodebook, *, model: str | None = None,
                     pipeline: Pipeline | None = None) -> CompiledCodebook:
    """Load (if given a path) and compile a codebook; raises CodebookError on any problem."""
    loaded = codebook if isinstance(codebook, LoadedCodebook) else load_codebook(codebook)
    return CompiledCodebook(loaded, pipeline or Pipeline(model))


class _BitNames(dict[int, tuple[str, ...]]):
    """Bit set -> the names whose position is set, in order; computed on first use."""

    def __init__(self, names: list[str]):
        super().__init__()
        self.names = names

    def __missing__(self, bits: int) -> tuple[str, ...]:
        ids = self[bits] = tuple(name for n, name in enumerate(self.names) if bits >> n & 1)
        return ids
