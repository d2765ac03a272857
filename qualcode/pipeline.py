"""The offline spaCy pipeline and the per-vocabulary-entry analysis that coding relies on.

qualcode needs no trained model: it tokenises with ``spacy.blank("en")`` and takes lemmas
from the lookup table of ``spacy-lookups-data``. Everything it needs of a word (folded
form, folded lemma, flags for the sentence rules) is computed once per vocabulary entry
and cached, so per-token work is array indexing. A trained pipeline is used only when
the user names one (``--model en_core_web_sm``); its lemmas then come from the model.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .growing import GrowingArray
from .hyphenation import english_lemmas, joined_text, line_end_joins

if TYPE_CHECKING:  # spaCy is imported only when a pipeline is built
    from spacy.tokens import Doc

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"

# Flags, one bit each, computed per vocabulary entry.
TERMINAL = 1  # . ! ? … and runs of them
CLOSER = 2  # ) ] ” ’ " ' »
OPENER = 4  # ( [ “ ‘ " ' « ¿ ¡
UPPER = 8  # starts with an upper-case letter
STOP_TITLE = 16  # a capitalised stop word: The, In, This ...
SUPER = 32  # a footnote mark: ¹ ²³
ABBREV = 64  # a word that a full stop after it does not end: Vol, No, Mr, e.g, etc
INITIAL = 128  # a single upper-case letter: the K of "Morgan K."
DOTTED = 256  # a token ending in a full stop that is not only punctuation: U.S.
FINAL_ABBREV = 512  # an abbreviation that may end a sentence: etc, p.m, Ltd
NUMBER_ABBREV = 1024  # an abbreviation that is followed by a number: Vol, No, pp
SPACE = 2048  # only whitespace: spaCy's IS_SPACE

# The Lexicon's per-row arrays; the two hashes last (they also make up ``attr_values``).
COLUMNS = ("form", "lemma", "exact", "lower", "flags", "length", "lemma_hash", "form_hash")

ABBREVIATIONS = frozenset(
    "a.m p.m e.g i.e etc al vol vols no nos pp pag p mr mrs ms dr prof st jr sr inc ltd co corp fig figs "
    "ed eds vs cf approx dept univ jan feb apr aug sep sept oct nov dec gen gov op cit ibid s.a s.c a.c "
    "u.s u.k d.f ch sec art n.d "
    # Spanish abbreviations in place names and addresses: Cd. (Ciudad), Edo. (Estado), Col.
    # (colonia), Av., Sta., Gral.
    "cd edo col av sta gral".split()
)
NUMBER_ABBREVIATIONS = frozenset("vol vols no nos pp pag p fig figs ch sec art".split())
# Abbreviations a sentence often ends on ("Back by 4 p.m. In the evening", "sold to Acme Ltd.
# The firm"): a full stop after one ends a sentence before a capitalised stop word.
FINAL_ABBREVIATIONS = frozenset("etc al a.m p.m ltd inc corp co".split())
_TERMINAL = re.compile(r"^[.!?…]+$")
_CLOSERS = frozenset(")]}”’\"'»")
_OPENERS = frozenset("([{“‘\"'«¿¡")


def fold(text: str) -> str:
    """Case- and accent-folded form: ``TEZIUTLÁN`` -> ``teziutlan``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(slots=True)
class Tokens:
    """The non-space tokens of a text: offsets and vocabulary rows (numpy arrays)."""

    starts: np.ndarray  # int64, offsets into the analysed text
    ends: np.ndarray
    rows: np.ndarray  # int64, index into the Lexicon's per-entry arrays
    lemmas: np.ndarray  # int64, folded-lemma key per token
    doc: Any  # the spaCy Doc, for token patterns
    spacy_index: np.ndarray  # int64, position of each token in ``doc``
    doc_rows: np.ndarray | None = None  # int64, the row of every token of ``doc``, spaces included
    doc_starts: np.ndarray | None = None  # int64, the offset of every token of ``doc``
    doc_ends: np.ndarray | None = None  # int64, where every token of ``doc`` ends (a joined word: in the file)


class Lexicon:
    """Per-vocabulary-entry facts, computed once per distinct word and cached."""

    def __init__(self, strings: Any, lemma_table: Any, stop_words: frozenset[str]):
        self._strings = strings
        self._lemma_table = lemma_table
        self._stop_words = stop_words
        self.keys: dict[str, int] = {}  # folded string -> key id (forms and lemmas share one space)
        self._row_of: dict[int, int] = {}  # spaCy orth hash -> row
        self.texts: list[str] = []
        self._columns = {name: GrowingArray(np.uint64 if name.endswith("hash") else np.int64) for name in COLUMNS}
        self._attrs = GrowingArray(np.uint64, (2,))  # per row: the LEMMA and NORM hashes, for Doc.from_array
        self._index_slots(1 << 12)  # _slot_orths, _slot_rows: see rows_for

    def exact_key(self, text: str) -> int:
        """The key of a word as written (case and accents kept)."""
        return self.key("\x00" + text)

    def key(self, folded: str) -> int:
        """The key id of an already folded string (interned)."""
        k = self.keys.get(folded)
        if k is None:
            k = self.keys[folded] = len(self.keys)
        return k

    def is_english(self, word: str) -> bool:
        """Whether a lower-case word is an English word: a form of the lemma lookup table or
        a lemma of the lemma index (for line-end hyphens: :mod:`qualcode.hyphenation`)."""
        table = self._lemma_table
        return (table is not None and word in table) or word in english_lemmas()

    def lemma_of(self, text: str) -> str:
        """The folded lookup lemma of a word: ``Loans`` -> ``loan``, ``Teziutlán`` -> ``teziutlan``."""
        table = self._lemma_table
        lemma = table.get(text) if table is not None else None
        if lemma is None and table is not None:
            lemma = table.get(text.lower())
        return fold(lemma if isinstance(lemma, str) else text)

    def lemma_variants(self, lemma: str) -> tuple[str, ...]:
        """The lemmas a pattern's LEMMA value stands for. The lookup table lemmatises a noun
        in -ing by its verb in the singular and by itself in the plural ("meeting" -> "meet",
        "meetings" -> "meeting"), so ``LEMMA: meeting`` alone matched only the plural; such a
        value also stands for the verb's lemma. Any other value stands for itself."""
        table = self._lemma_table
        if table is None or not lemma.endswith("ing") or table.get(lemma + "s") != lemma:
            return (lemma,)
        verb = table.get(lemma)
        return (lemma,) if not isinstance(verb, str) or fold(verb) == lemma else (lemma, fold(verb))

    def rows_for(self, orths: np.ndarray) -> np.ndarray:
        """Rows for an array of orth hashes, looked up in a table indexed by their low bits.
        The few hashes not found there (another hash holds their slot, or the word is new)
        are looked up in Python; only new words are analysed."""
        orths = np.asarray(orths, dtype=np.uint64).reshape(-1)
        slot = (orths & self._slot_mask).astype(np.intp)
        rows = self._slot_rows[slot]
        miss = (self._slot_orths[slot] != orths).nonzero()[0]
        if len(miss):
            hashes = orths[miss].tolist()
            row_of = self._row_of
            new = sorted({h for h in hashes if h not in row_of})
            if new:
                self._extend(new)
            rows[miss] = [row_of[h] for h in hashes]
        return rows

    def _extend(self, new: list[int]) -> None:
        """Add rows for the unseen hashes ``new`` (in that order), and put them in the table."""
        rows = list(range(len(self.texts), len(self.texts) + len(new)))
        values = [self._analyse(h) for h in new]
        for name, column in zip(COLUMNS, zip(*values)):
            self._columns[name].extend(column)
        self._attrs.extend([(v[-2], v[-1]) for v in values])
        if 4 * len(self.texts) > len(self._slot_rows):
            self._index_slots(4 * len(self._slot_rows))
        else:
            self._fill_slots(np.array(new, dtype=np.uint64), np.array(rows, dtype=np.int64))

    def _index_slots(self, size: int) -> None:
        """A new table of ``size`` (a power of two) slots, filled with the known hashes. An
        empty slot ``s`` holds the hash ``s + 1``, which no hash looked up there can equal."""
        self._slot_mask = size - 1
        self._slot_orths = np.arange(1, size + 1, dtype=np.uint64) & np.uint64(self._slot_mask)
        self._slot_rows = np.full(size, -1, dtype=np.int64)
        known, n = self._row_of, len(self._row_of)
        self._fill_slots(np.fromiter(known.keys(), np.uint64, n), np.fromiter(known.values(), np.int64, n))

    def _fill_slots(self, orths: np.ndarray, rows: np.ndarray) -> None:
        """Put each hash in its slot unless that slot is taken (first come, first served)."""
        slot = (orths & self._slot_mask).astype(np.intp)
        free = (self._slot_rows[slot] < 0).nonzero()[0]
        slot, first = np.unique(slot[free], return_index=True)
        self._slot_orths[slot] = orths[free[first]]
        self._slot_rows[slot] = rows[free[first]]

    def array(self, name: str) -> np.ndarray:
        """The per-row array ``form``, ``lemma``, ``exact``, ``lower``, ``flags``, ``length``,
        ``form_hash`` or ``lemma_hash`` (a view, valid until new words are added)."""
        return self._columns[name].view

    @property
    def attr_values(self) -> np.ndarray:
        """Per row, its folded lemma and form hashes: the LEMMA and NORM of its tokens."""
        return self._attrs.view

    def _analyse(self, orth: int) -> tuple[int, ...]:
        """Add the word of hash ``orth`` as the next row; its values in ``COLUMNS`` order."""
        text = self._strings[orth]
        self._row_of[orth] = len(self.texts)
        self.texts.append(text)
        form, lemma = fold(text), self.lemma_of(text)
        return (self.key(form), self.key(lemma), self.key("\x00" + text),
                self.key(text.lower()),  # spaCy's LOWER, for token-pattern filters
                self._flags_of(text), len(text), self._strings.add(lemma), self._strings.add(form))

    def _flags_of(self, text: str) -> int:
        flags = 0
        low = text.lower()
        if _TERMINAL.match(text):
            flags |= TERMINAL
        elif text.endswith(".") and len(text) > 1:
            flags |= DOTTED
        if text in _CLOSERS:
            flags |= CLOSER
        if text in _OPENERS:
            flags |= OPENER
        if text[:1].isupper():
            flags |= UPPER
            if low in self._stop_words and text[1:].islower() or low in ("a", "i"):
                flags |= STOP_TITLE
        if text and all(c in SUPERSCRIPTS for c in text):
            flags |= SUPER
        if low in ABBREVIATIONS or ("." in text.strip(".") and text[:1].isalpha()):
            flags |= ABBREV
        if low in FINAL_ABBREVIATIONS:
            flags |= FINAL_ABBREV
        if low in NUMBER_ABBREVIATIONS:
            flags |= NUMBER_ABBREV
        if len(text) == 1 and text.isupper():
            flags |= INITIAL
        if text.isspace():
            flags |= SPACE
        return flags


class Pipeline:
    """A spaCy tokenizer (or a named trained pipeline) plus its Lexicon."""

    def __init__(self, model: str | None = None):
        import spacy
        from spacy.attrs import IDX, LEMMA, NORM, ORTH
        from spacy.lang.en.stop_words import STOP_WORDS

        self.model = model
        if model:
            try:
                self.nlp = spacy.load(model)
            except OSError as err:
                from .errors import QualcodeError

                raise QualcodeError(f"cannot load the spaCy pipeline {model!r}: it is not installed "
                                    f"(leave out --model to use the built-in offline pipeline)") from err
            lemma_table = _lookup_table()
        else:
            self.nlp = spacy.blank("en")
            _tune_tokenizer(self.nlp)
            lemma_table = _lookup_table()
        self.lexicon = Lexicon(self.nlp.vocab.strings, lemma_table, frozenset(STOP_WORDS))
        self._orth_idx, self._lemma_norm = [ORTH, IDX], [LEMMA, NORM]  # spaCy attribute ids

    @property
    def trained(self) -> bool:
        return self.model is not None

    def tokenize(self, text: str, offset: int = 0, *, source: str | None = None) -> Tokens:
        """Tokenise ``text`` (already masked: markup and line breaks as spaces); token
        offsets are counted from ``offset``. With ``source`` (the text before masking),
        words hyphenated across a line break are read whole (see :mod:`qualcode.hyphenation`)."""
        joins = line_end_joins(text, source, self.lexicon.is_english) if source and "-" in source else []
        read = joined_text(text, joins) if joins else text
        doc: Doc = self.nlp(read) if self.trained else self.nlp.tokenizer(read)
        lex = self.lexicon
        if not len(doc):
            empty = np.zeros(0, np.int64)
            return Tokens(empty, empty, empty, empty, doc, empty, empty, empty, empty)
        arr = doc.to_array(self._orth_idx)  # each attribute costs a pass over the tokens: IS_SPACE is a flag
        doc_rows = lex.rows_for(arr[:, 0])
        doc_starts = arr[:, 1].astype(np.int64)
        if offset:
            doc_starts += offset
        doc_ends = doc_starts + lex.array("length")[doc_rows]
        if joins:  # a joined word's token ends where its second part ends in the file
            at = np.searchsorted(doc_starts, [j.start + offset for j in joins])
            for i, j in zip(at.tolist(), joins):
                if i < len(doc_starts) and doc_ends[i] == j.joined_end + offset:
                    doc_ends[i] = j.end + offset
        keep = (lex.array("flags")[doc_rows] & SPACE == 0).nonzero()[0]
        rows = doc_rows[keep]
        starts = doc_starts[keep]
        if self.trained:
            lemmas = np.fromiter((lex.key(self._model_lemma(doc[i])) for i in keep.tolist()),
                                 dtype=np.int64, count=len(keep))
        else:
            lemmas = lex.array("lemma")[rows]
        return Tokens(starts=starts, ends=doc_ends[keep], rows=rows, lemmas=lemmas, doc=doc,
                      spacy_index=keep, doc_rows=doc_rows, doc_starts=doc_starts, doc_ends=doc_ends)

    def token_rows(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The vocabulary rows of the non-space tokens of each of ``texts`` (offline
        pipeline), as ``tokenize`` gives them, with one Lexicon update for all: compiling a
        codebook of 40,000 terms one ``tokenize`` at a time spent most of its time in the
        fixed cost per call."""
        orth = self._orth_idx[0]
        arrays = [doc.to_array([orth]).reshape(-1) for doc in self.nlp.tokenizer.pipe(texts)]
        if not arrays:
            return []
        rows = self.lexicon.rows_for(np.concatenate(arrays))
        words = self.lexicon.array("flags")[rows] & SPACE == 0
        bounds = np.cumsum([len(a) for a in arrays])[:-1]
        return [r[w] for r, w in zip(np.split(rows, bounds), np.split(words, bounds))]

    def _model_lemma(self, token: Any) -> str:
        """The named pipeline's lemma, folded; where it has none (or leaves the word as it
        is, as lookup lemmatizers do for capitalised words) the lookup-table lemma."""
        lemma = token.lemma_
        if not lemma or lemma == token.text:
            return self.lexicon.lemma_of(token.text)
        return fold(lemma)

    def set_token_attrs(self, tokens: Tokens) -> None:
        """Give the spaCy Doc folded NORM and LEMMA values, for token patterns."""
        doc = tokens.doc
        if not len(doc) or self.trained:
            return  # a trained model's own lemmas and norms stay
        doc.from_array(self._lemma_norm, self.lexicon.attr_values[tokens.doc_rows])


def _lookup_table() -> Any:
    """spaCy's English lemma lookup table (from spacy-lookups-data), or None if absent."""
    try:
        from spacy.lookups import load_lookups

        return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, ImportError, KeyError):  # pragma: no cover - dependency missing
        return None


def _tune_tokenizer(nlp: Any) -> None:
    """No special-case rules (they slow spaCy's tokenizer tenfold on long texts; the
    sentence rules handle abbreviations); footnote marks split off as suffixes, and hyphens
    used as dashes at a word's edge ("from Michoacan- is", "-one which") split off too."""
    from spacy.util import compile_prefix_regex, compile_suffix_regex

    tok = nlp.tokenizer
    tok.rules = {}
    suffixes = [f"[{SUPERSCRIPTS}]+", r"(?<=[^\W\d_])-+", *nlp.Defaults.suffixes]
    tok.suffix_search = compile_suffix_regex(suffixes).search
    prefixes = [r"-+(?=[^\W\d_])", *nlp.Defaults.prefixes]
    tok.prefix_search = compile_prefix_regex(prefixes).search
