"""The codebook learns from review: an accepted suggestion as an example or a pattern proposal.

An **example** is inserted as text into the code's ``examples:`` in ``codebook.yaml``, the
way ``qualcode import`` merges codes (``qualcode.refi.merge``): every existing line,
comment and order stays as written; only one list item (or an ``examples:`` key before the
code's ``patterns:``) is added. The result is parsed as a codebook and checked to differ
from the old one by that example alone before it is written, atomically. Examples feed the
suggestion model's training material; they never code text by themselves.

A **pattern proposal** is never put into the patterns: candidate terms from the passage's
lemmas, ranked by how distinctive they are of the passage against the corpus (TF-IDF over
the segments' lemma n-grams, scikit-learn), each with how many segments it would code and
how many of those already carry the code, are appended to a proposals file
(``codings/review/proposals.yaml``) for the researcher to read and paste.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from .errors import CodebookError, Problem, QualcodeError

PROPOSALS_NAME = "proposals.yaml"
PROPOSALS_HEADER = ("# Pattern proposals from qualcode review. Nothing here codes text: paste the terms you\n"
                    "# want under the code's patterns: terms: in codebook.yaml, then run qualcode check.\n"
                    "# 'segments': how many segments the term would code; 'coded': how many of them\n"
                    "# already carry the code.\n"
                    "proposals:\n")
CANDIDATES = 5  # terms proposed per passage


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's; line separators escaped)."""
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\x85")


# -- examples --------------------------------------------------------------------------------

def _code_node(root: Any, code: str, name: str) -> yaml.MappingNode:
    codes = next((v for k, v in getattr(root, "value", ()) if getattr(k, "value", None) == "codes"), None)
    if not isinstance(codes, yaml.SequenceNode):
        raise CodebookError(Problem(name, "has no 'codes:' list"))
    for item in codes.value:
        if isinstance(item, yaml.MappingNode) and any(k.value == "id" and getattr(v, "value", None) == code
                                                      for k, v in item.value):
            return item
    raise CodebookError(Problem(name, f"has no code {code!r}"))


def _line_end(text: str, index: int) -> int:
    """The index just after the line break ending the line that holds ``index``."""
    nl = text.find("\n", index)
    return len(text) if nl < 0 else nl + 1


def with_example(text: str, code: str, example: str, name: str = "codebook.yaml") -> tuple[str, int]:
    """``text`` (a valid codebook) with ``example`` added to the examples of ``code``, and
    the 1-based line it was written on. Raises CodebookError when the examples are written
    in a form that text cannot be inserted into (say so, and how to write them)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = _code_node(root, code, name)
    entries = {k.value: (k, v) for k, v in node.value}
    item = _q(example)
    if "examples" in entries:
        key, value = entries["examples"]
        if isinstance(value, yaml.SequenceNode) and value.flow_style:
            close = value.end_mark.index - 1
            if text[close] != "]":
                raise CodebookError(Problem(name, "cannot find the end of this examples list", key.start_mark.line + 1,
                                            key.start_mark.column + 1))
            sep = ", " if value.value else ""
            return text[:close] + sep + item + text[close:], text.count("\n", 0, close) + 1
        if isinstance(value, yaml.SequenceNode) and value.value:
            first = value.value[0].start_mark
            line_start = text.rfind("\n", 0, first.index) + 1
            dash = text.rfind("-", line_start, first.index)
            at = _line_end(text, value.value[-1].end_mark.index)
            prefix = "" if text[:at].endswith("\n") else "\n"
            return (text[:at] + prefix + " " * (dash - line_start) + "- " + item + "\n" + text[at:],
                    text.count("\n", 0, at) + 1 + len(prefix))
        raise CodebookError(Problem(name, f"the examples of {code!r} are not a list: write them as a list "
                                          f"(examples: [\"...\"] or one '- \"...\"' per line)",
                                    key.start_mark.line + 1, key.start_mark.column + 1))
    first_key = node.value[0][0].start_mark
    indent = first_key.column
    if "patterns" in entries:  # examples conventionally before the patterns
        at = text.rfind("\n", 0, entries["patterns"][0].start_mark.index) + 1
    else:  # after the id's line
        at = _line_end(text, entries["id"][1].end_mark.index)
    block = f"{' ' * indent}examples:\n{' ' * (indent + 2)}- {item}\n"
    prefix = "" if text[:at].endswith("\n") else "\n"
    return text[:at] + prefix + block + text[at:], text.count("\n", 0, at) + 2 + len(prefix)


@dataclass(frozen=True, slots=True)
class ExampleAdded:
    """What :func:`add_example` wrote: enough to undo it while the file is as it left it."""

    path: Path
    code: str
    line: int
    before: str
    after: str


def add_example(codebook: str | os.PathLike[str], code: str, example: str) -> ExampleAdded:
    """Insert ``example`` into the examples of ``code`` in the codebook file, check the
    result (a valid codebook whose only change is that example) and write it atomically."""
    from .codebook import load_codebook, parse_codebook
    from .fileio import open_output
    from .inputs import display_path

    path = Path(codebook)
    name = display_path(path)
    old = load_codebook(path).codebook
    before = path.read_bytes().decode("utf-8-sig")
    if example in old.codes[code].examples:  # nothing to add
        return ExampleAdded(path, code, 0, before, before)
    after, line = with_example(before, code, example, name)
    new = parse_codebook(after, name).codebook
    expected = {c: (v.examples + (example,) if c == code else v.examples) for c, v in old.codes.items()}
    if {c: v.examples for c, v in new.codes.items()} != expected or list(new.codes) != list(old.codes) \
            or new.cases != old.cases:
        raise RuntimeError(f"adding an example to {code!r} would change more than the example")
    with open_output(path, newline="") as fh:
        fh.write(after)
    return ExampleAdded(path, code, line, before, after)


def remove_example(added: ExampleAdded) -> None:
    """Undo :func:`add_example`: restore the codebook, if nobody changed it since."""
    from .fileio import open_output

    if added.before == added.after:
        return
    if added.path.read_bytes().decode("utf-8-sig") != added.after:
        raise QualcodeError(Problem(str(added.path), "changed since the example was added; remove it by hand",
                                    added.line))
    with open_output(added.path, newline="") as fh:
        fh.write(added.before)


# -- pattern proposals -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Candidate:
    """A term proposed for a code: ``segments`` it would code, ``coded`` of them already carrying the code."""

    term: str
    weight: float  # TF-IDF of the term in the passage, against the corpus's segments
    segments: int
    coded: int


def _lemma_grams(pipeline: Any, texts: Sequence[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Per text: its folded lemma sequence (every word token), and its candidate terms (lemma
    unigrams and bigrams of alphabetic non-stop words of three letters or more)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    lex = pipeline.lexicon
    sequences, grams = [], []
    for doc in pipeline.nlp.tokenizer.pipe(texts):
        words = [t for t in doc if not t.is_space and not t.is_punct]
        lemmas = [lex.lemma_of(t.text) for t in words]
        good = [t.is_alpha and len(t.text) >= 3 and t.text.lower() not in STOP_WORDS
                and lem not in STOP_WORDS for t, lem in zip(words, lemmas)]
        g = [lemmas[i] for i in range(len(words)) if good[i]]
        g += [f"{lemmas[i]} {lemmas[i + 1]}" for i in range(len(words) - 1) if good[i] and good[i + 1]]
        sequences.append(lemmas)
        grams.append(g)
    return sequences, grams


def propose_terms(passage: str, code: str, segments: Sequence[Any], codebook: Any, existing: Sequence[str] = (),
                  pipeline: Any = None, limit: int = CANDIDATES) -> list[Candidate]:
    """Candidate terms for ``code`` from the lemmas of ``passage``: the most distinctive of
    the passage against ``segments`` (coded segments of the corpus), leaving out the code's
    ``existing`` terms (as written; compared by lemma), each with the segments it would
    code (its lemmas in sequence, as terms match) and how many already carry ``code``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .pipeline import Pipeline
    from .suggest import top_themes

    pipeline = pipeline or Pipeline()
    texts = [s.text for s in segments]
    sequences, grams = _lemma_grams(pipeline, [*texts, passage, *existing])
    n = len(texts)
    own = grams[n]
    if not own:
        return []
    known = {" ".join(seq) for seq in sequences[n + 1:]}
    vectorizer = TfidfVectorizer(analyzer=lambda g: g, sublinear_tf=True)
    matrix = vectorizer.fit_transform([*grams[:n], own])
    row = matrix[n].tocoo()
    vocab = vectorizer.get_feature_names_out()
    ranked = sorted(((float(w), str(vocab[j])) for j, w in zip(row.col, row.data) if str(vocab[j]) not in known),
                    key=lambda x: (-x[0], x[1]))[:limit]
    has_code = [code in top_themes(s.codes, codebook) or code in s.codes for s in segments]
    out = []
    for weight, term in ranked:
        words = term.split(" ")
        hits = [i for i, seq in enumerate(sequences[:n])
                if any(seq[k:k + len(words)] == words for k in range(len(seq) - len(words) + 1))]
        out.append(Candidate(term, round(weight, 4), len(hits), sum(has_code[i] for i in hits)))
    return out


def proposals_file(folder: str | os.PathLike[str]) -> Path:
    return Path(folder) / "review" / PROPOSALS_NAME


def proposal_block(suggestion: Any, coder: str, candidates: Sequence[Candidate]) -> str:
    """One entry of the proposals file, as YAML text."""
    lines = [f"  - code: {suggestion.code}", f"    suggestion: {_q(suggestion.id)}", f"    coder: {_q(coder)}",
             f"    where: {_q(f'{suggestion.doc}:{suggestion.line}')}", f"    passage: {_q(suggestion.text)}"]
    if candidates:
        lines.append("    terms:")
        lines += [f"      - {{term: {_q(c.term)}, segments: {c.segments}, coded: {c.coded}}}" for c in candidates]
    else:
        lines.append("    terms: []  # no word of the passage is distinctive")
    return "\n".join(lines) + "\n"


def append_proposal(folder: str | os.PathLike[str], block: str) -> Path:
    """Append one proposal to the proposals file (created with its header), atomically."""
    from .fileio import open_output

    path = proposals_file(folder)
    text = path.read_text(encoding="utf-8") if path.exists() else PROPOSALS_HEADER
    if not text.endswith("\n"):
        text += "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_output(path, newline="") as fh:
        fh.write(text + block)
    return path


def remove_proposal(folder: str | os.PathLike[str], block: str) -> None:
    """Undo :func:`append_proposal`: drop the block if it is still the file's last."""
    from .fileio import open_output

    path = proposals_file(folder)
    text = path.read_text(encoding="utf-8")
    if not text.endswith(block):
        raise QualcodeError(Problem(str(path), "changed since the proposal was written; remove it by hand"))
    rest = text[:-len(block)]
    if rest == PROPOSALS_HEADER:
        path.unlink()
        return
    with open_output(path, newline="") as fh:
        fh.write(rest)


class Proposer:
    """Pattern proposals for the suggestions of one coded project (the pipeline built once)."""

    def __init__(self, segments: Sequence[Any], loaded: Any):
        self.segments, self.loaded = segments, loaded
        self._pipeline: Any = None

    def terms_of(self, code: str) -> list[str]:
        """The terms of ``code`` and its descendants, as written."""
        book = self.loaded.codebook
        family = {c for c in book.codes if c == code or code in book.code_ancestors(c)}
        return [p.value for p in self.loaded.patterns
                if p.owner in family and p.kind == "term" and not p.exclude and not p.for_case]

    def __call__(self, suggestion: Any) -> list[Candidate]:
        from .pipeline import Pipeline

        if self._pipeline is None:
            self._pipeline = Pipeline()
        return propose_terms(suggestion.text, suggestion.code, self.segments, self.loaded.codebook,
                             self.terms_of(suggestion.code), self._pipeline)
