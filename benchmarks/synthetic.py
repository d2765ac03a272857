"""Synthetic corpora and codebooks whose vocabulary grows the way real ones do.

Copies of one document add no new words after the first, so they cannot show how time
grows with the vocabulary. ``growing_corpus`` writes documents whose sentences are the
bundled corpus's sentences with their words shuffled, so the codebook's terms still occur,
mixed with invented names: about ``new_words`` names no earlier document used (people,
firms, places of a field site) and earlier names drawn by a Zipf law, so a few recur
often and most rarely. ``term_codebook`` is a codebook of ``terms`` invented
multi-word terms spread over 100 codes, for timing ``check`` (which compiles them).
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from qualcode.corpus import load_corpus
from qualcode.model import Document

ROOT = Path(__file__).resolve().parents[1]
_ONSETS = "b c d f g h j k l m n p r s t v x z ch tl tz br gr pl tr".split()
_VOWELS = "a e i o u ia ue".split()


def invented(n: int) -> str:
    """The ``n``-th invented word: distinct for every ``n``, pronounceable, made of
    syllables (``0`` -> ``Ba``; three syllables cover 6 million words)."""
    syllables = []
    while True:
        n, s = divmod(n, len(_ONSETS) * len(_VOWELS))
        syllables.append(_ONSETS[s // len(_VOWELS)] + _VOWELS[s % len(_VOWELS)])
        if not n:
            break
        n -= 1
    return "".join(syllables).capitalize() + "n"  # "n": never an English word or a codebook term


def _sentences(corpus: Path) -> list[list[str]]:
    out = []
    for d in load_corpus(corpus):
        body = re.sub(r"[#*_>|`\[\]()]", " ", d.text[d.body_start:])
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            words = sentence.split()
            if len(words) >= 6:
                out.append(words)
    return out


def growing_corpus(documents: int, *, words_per_document: int = 1000, new_words: int = 50, seed: int = 1,
                   corpus: Path = ROOT / "corpus") -> list[Document]:
    """``documents`` distinct documents (``synthetic/00000.md`` ...) of about
    ``words_per_document`` words each, about ``new_words`` of them words no earlier
    document had. Deterministic for a given ``seed``."""
    rng = random.Random(seed)
    sentences = _sentences(corpus)
    docs = []
    names = 0  # invented names used so far
    for i in range(documents):
        paragraphs, count, fresh = [], 0, 0
        while count < words_per_document:
            sentence = []
            for _ in range(rng.randrange(3, 7)):
                words = rng.choice(sentences)[:]
                rng.shuffle(words)
                words = words[:rng.randrange(6, 20)]
                for _ in range(max(1, len(words) // 6)):  # a name in every sixth word or so
                    if fresh < new_words:
                        n, fresh, names = names, fresh + 1, names + 1
                    else:  # an earlier name, rarer the later it came
                        n = min(int(rng.paretovariate(1.1)) - 1, names - 1)
                    words.insert(rng.randrange(len(words) + 1), invented(n))
                words[0] = words[0].capitalize()
                sentence.append(" ".join(words).rstrip(".,;:") + ".")
                count += len(words)
            paragraphs.append(" ".join(sentence))
        text = f"# Field notes {i}\n\n" + "\n\n".join(paragraphs) + "\n"
        docs.append(Document(id=f"synthetic/{i:05d}.md", text=text, meta={}, body_start=0))
    return docs


def term_codebook(terms: int, *, seed: int = 1) -> str:
    """A codebook (YAML text) of 100 codes with ``terms`` distinct invented terms of one
    to three words between them; every term brings new words to the vocabulary."""
    rng = random.Random(seed)
    per_code: list[list[str]] = [[] for _ in range(100)]
    word = 0
    for t in range(terms):
        length = rng.choice((1, 2, 2, 3))
        per_code[t % 100].append(" ".join(invented(word + k).lower() for k in range(length)))
        word += length
    lines = ["codes:"]
    for c, items in enumerate(per_code):
        lines += [f"  - id: code{c:03d}", f"    label: Code {c}", "    patterns:", "      terms:"]
        lines += [f"        - {t}" for t in items]
    return "\n".join(lines) + "\n"


def write_corpus(docs: list[Document], folder: Path) -> None:
    """Write documents as files under ``folder`` (for timing the command end to end)."""
    for d in docs:
        path = folder / d.id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(d.text, encoding="utf-8")
