"""Words hyphenated across a line break, as text extracted from PDF or typeset reports has
them ("the develop-\\nment bank"): read as the one word they are, so that codebook terms match.

A line-end hyphen between letters is joined only when the joined word is an English word (a
lemma of spaCy's lemma index or a form of its lemma lookup table): ``coopera-tive`` is read
as ``cooperative`` and ``book-keeping`` as ``bookkeeping``, while ``well-known`` and ``self-financing`` stay
hyphenated compounds. Offsets never move: the tokeniser reads a copy of the masked text in
which each joined word is written out whole at its first part's start, padded with spaces to
its original length, and the joined word's token ends where its second part ends in the file,
so ``text[start:end]`` of a match on it is ``develop-\\nment``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

# A hyphen, then the line break (its word, and the lower-case word on the next line after any
# indentation or quote marks the mask blanks, are checked in line_end_joins).
_LINE_END_HYPHEN = re.compile(r"-[ \t]*(?:\r\n|\r|\n)")  # after a letter: checked in the loop (a look-behind
# here tried every position of the text: 1.2 s on 430,000 words, against 0.01 s)
_WORD_AFTER = re.compile(r" *([^\W\d_]+)")  # the masked text's line break is a space


@dataclass(frozen=True, slots=True)
class Join:
    """One joined word, in the masked text's offsets: it starts at ``start``; in the copy the
    tokeniser reads it ends at ``joined_end``, in the file at ``end``."""

    start: int
    word: str
    end: int

    @property
    def joined_end(self) -> int:
        return self.start + len(self.word)


def line_end_joins(masked: str, source: str, known: Callable[[str], bool]) -> list[Join]:
    """The words of ``source`` hyphenated across a line break that ``known`` (a lower-case
    word -> is it an English word) accepts joined; ``masked`` is ``source`` masked (same length)."""
    joins: list[Join] = []
    for m in _LINE_END_HYPHEN.finditer(source):
        hyphen = m.start()
        if not hyphen or not masked[hyphen - 1].isalpha():
            continue
        first = hyphen
        while first > 0 and masked[first - 1].isalpha():
            first -= 1
        after = _WORD_AFTER.match(masked, hyphen + 1)
        gap = source[m.end():after.start(1)] if after else ""
        if after is None or not after.group(1)[0].islower() or "\n" in gap or "\r" in gap or (
                joins and first < joins[-1].end):
            continue  # no lower-case word on the next line, or a word hyphenated over three lines
        word = masked[first:hyphen] + after.group(1)
        if known(word.lower()):
            joins.append(Join(first, word, after.end()))
    return joins


def joined_text(masked: str, joins: list[Join]) -> str:
    """``masked`` with every joined word written out whole, padded to its length."""
    parts, pos = [], 0
    for j in joins:
        parts += [masked[pos:j.start], j.word.ljust(j.end - j.start)]
        pos = j.end
    parts.append(masked[pos:])
    return "".join(parts)


@lru_cache(maxsize=1)
def english_lemmas() -> frozenset[str]:
    """The nouns, verbs, adjectives and adverbs of spaCy's English lemma index
    (spacy-lookups-data; 83,107 words, 0.08 s), loaded once, when a text first has a
    line-end hyphen. With the lemma lookup table's forms they tell an English word."""
    try:
        from spacy.lookups import load_lookups

        index = load_lookups("en", ["lemma_index"]).get_table("lemma_index")
    except (ValueError, ImportError, KeyError):  # pragma: no cover - dependency missing
        return frozenset()
    return frozenset(w for pos in index.keys() for w in index[pos])
