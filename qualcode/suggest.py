"""Code suggestions: what the patterns miss, proposed by a classifier per theme, with evidence.

Training data (deterministic, seeded): every segment of the corpus labelled with the
top-level themes its codings give (rule, manual and imported; a segment a person coded weighs
:data:`MANUAL_WEIGHT` times), plus the codebook's definition material of each theme (its
definition split into clauses, the phrasings it quotes, ``when_to_use``, ``examples``) as
positives of that theme. Segments are embedded with ``qualcode.embed``; one scikit-learn
logistic regression per theme is fitted on the vectors.

The corpus being coded is also the training set (transductive: no gold is needed), so a
corpus segment is scored *out of fold* (5-fold, seeded, cross-fitted): by a classifier that
was not fitted on that segment's own label. Scoring the training segments with the classifier
fitted on them would only repeat the lexicon's codes (a segment the patterns missed was a
negative of that very fit). Text that was not in the training set is scored by the
classifier fitted on everything.

Context (``context=``:data:`CONTEXT_WEIGHT`): a corpus segment's score is its own out-of-fold
score weighted 2/3 plus 1/3 the mean of the scores of its neighbours (the segments just before
and after it in its document), so a passage between passages about the theme needs less of its
own evidence, and an isolated one more; a segment without neighbours keeps its own score.

Threshold per theme, without gold (``threshold="quantile"``, the default): the
:data:`THRESHOLD_QUANTILE` quantile of the (context) scores of the segments the codings give
the theme, so a suggestion must score higher than the typical segment the patterns code
(``threshold="median"``: the median). The issue's rule (``threshold="precision"``):
the lowest score at which the classifier alone reaches :data:`TARGET_PRECISION` precision
against the lexicon's codes on the (context) scores; it counts every positive the patterns
missed as an error, so on text unlike the codebook's examples it sits where the classifier
only re-finds the lexicon's codes (measured in ``benchmarks/bench_suggest.py``). A theme with
fewer than :data:`MIN_POSITIVES` coded segments gets no classifier and no suggestions.

Cap (``cap=``:data:`SUGGESTION_CAP`): a theme gets at most that many suggestions per segment the
codings gave it in the corpus (the highest scores kept), so suggestions never outnumber the
theme's codes: a theme the patterns coded three times gets at most three, and a threshold
resting on few segments cannot flood the merged codes with a precision no one can check.
All three settings were chosen on the development sets (``benchmarks/bench_suggest.py``).

A suggestion is a theme the classifier scores at or above its threshold on a segment the
codings did not give it, with its evidence: the nearest definition clause or example, and
the nearest segments already coded with the theme (``doc:line``).
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .model import PERSON_SOURCES, CodedSegment, Codebook, Coding, Document

TARGET_PRECISION = 0.90
MANUAL_WEIGHT = 5.0
FOLDS = 5
SEED = 0
NEIGHBOURS = 2  # nearest coded passages shown as evidence
MIN_POSITIVES = 3  # coded segments a theme needs in the corpus to get a classifier
THRESHOLD_QUANTILE = 0.65
CONTEXT_WEIGHT = 1 / 3  # weight of the neighbours' mean in a segment's score
SUGGESTION_CAP = 1.0  # suggestions per theme, at most this many per segment the codings gave it
THRESHOLDS = ("quantile", "median", "precision")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a suggestion was made: the nearest definition material and coded passages."""

    definition: str  # the nearest clause of the definition, when_to_use or example
    definition_similarity: float
    passages: tuple[dict[str, Any], ...]  # {doc, line, text, similarity}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One code proposed for one segment. ``id`` is stable: a hash of document, span and code."""

    id: str
    doc: str
    segment: str
    start: int
    end: int
    line: int
    text: str
    code: str
    score: float
    threshold: float
    model: str
    model_sha256: str
    evidence: Evidence

    def to_record(self) -> dict[str, Any]:
        return {"id": self.id, "doc": self.doc, "segment": self.segment, "start": self.start, "end": self.end,
                "line": self.line, "text": self.text, "code": self.code, "score": round(self.score, 4),
                "threshold": round(self.threshold, 4), "model": self.model, "model_sha256": self.model_sha256,
                "evidence": {"definition": self.evidence.definition,
                             "definition_similarity": round(self.evidence.definition_similarity, 4),
                             "passages": list(self.evidence.passages)}}

    def coding(self) -> Coding:
        """The suggestion as a ``Coding(source="suggested")`` on the whole segment."""
        return Coding(self.segment, self.doc, self.start, self.end, self.code, "suggested", self.model,
                      confidence=self.score, line=self.line)


def suggestion_id(doc: str, start: int, end: int, code: str) -> str:
    return hashlib.sha256(f"{doc}\0{start}\0{end}\0{code}".encode()).hexdigest()[:12]


def themes(codebook: Codebook) -> list[str]:
    """The top-level themes, in codebook order: what the classifiers propose."""
    return [c.id for c in codebook.codes.values() if c.parent is None]


def top_themes(codes: Sequence[str], codebook: Codebook) -> set[str]:
    out = set()
    for code in codes:
        chain = (code, *codebook.code_ancestors(code))
        out.add(chain[-1])
    return out


_CLAUSE = re.compile(r"(?<=[;:.])\s+|\s+\(|\)\s*")
_QUOTED = re.compile(r"[\"“]([^\"”]{4,})[\"”]")


def definition_material(codebook: Codebook, theme: str) -> list[str]:
    """A theme's definition split into clauses, the phrasings it quotes, when_to_use and the
    examples, of the theme and its child codes (deduplicated, in that order)."""
    out: list[str] = []
    for code in codebook.codes.values():
        if code.id != theme and (not code.parent or top_themes([code.id], codebook) != {theme}):
            continue
        for text in (code.definition, code.when_to_use):
            out.extend(_QUOTED.findall(text))
            out.extend(_QUOTED.sub(lambda m: m.group(1), p).strip(" ,;:.()") for p in _CLAUSE.split(text))
        out.extend(code.examples)
    seen: set[str] = set()
    return [t for t in (s.strip() for s in out) if len(t) > 3 and not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]


@dataclass
class Suggester:
    """The fitted classifiers, thresholds and the evidence index."""

    codebook: Codebook
    encoder: Any
    themes: list[str]
    classifiers: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    material: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    coded: dict[str, tuple[list[tuple[str, int, str]], np.ndarray]] = field(default_factory=dict)
    oof: dict[str, np.ndarray] = field(default_factory=dict)  # out-of-fold score of each training row
    context: float = 0.0  # weight of the neighbours' mean in a segment's score (see the module doc)
    scored: dict[str, np.ndarray] = field(default_factory=dict)  # context score of each training row
    caps: dict[str, int] = field(default_factory=dict)  # most suggestions a theme may get (absent: no cap)
    rejected: set[tuple[str, int, int, str]] = field(default_factory=set)  # (doc, start, end, theme) a coder rejected
    rows: dict[tuple[str, int, int, str], int] = field(default_factory=dict)  # training segment -> row

    def scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Scores of text outside the training set, by the classifiers fitted on all of it."""
        return {t: clf.predict_proba(vectors)[:, 1] for t, clf in self.classifiers.items()}

    def segment_scores(self, segments: Sequence[CodedSegment], vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Context scores of segments: for the segments trained on, those of their out-of-fold
        scores in the corpus (:attr:`scored`); for others, those of :meth:`scores` among the
        given segments (their neighbours in ``segments``)."""
        raw = self.scores(vectors)
        out = {t: with_context(v, neighbours(segments), self.context) for t, v in raw.items()}
        for i, s in enumerate(segments):
            row = self.rows.get(segment_key(s))
            if row is not None:
                for t in out:
                    out[t][i] = self.scored[t][row]
        return out

    def evidence(self, theme: str, vector: np.ndarray, skip: tuple[str, int] | None = None) -> Evidence:
        texts, vecs = self.material[theme]
        sims = vecs @ vector
        k = int(np.argmax(sims))
        passages: list[dict[str, Any]] = []
        if theme in self.coded:
            items, cvecs = self.coded[theme]
            csims = cvecs @ vector
            for j in np.argsort(-csims, kind="stable"):
                doc, line, text = items[j]
                if (doc, line) == skip:
                    continue
                passages.append({"doc": doc, "line": line, "where": f"{doc}:{line}", "text": text,
                                 "similarity": round(float(csims[j]), 4)})
                if len(passages) == NEIGHBOURS:
                    break
        return Evidence(texts[k], float(sims[k]), tuple(passages))


def segment_key(s: CodedSegment) -> tuple[str, int, int, str]:
    return (s.segment.doc, s.segment.start, s.segment.end, s.text)


def neighbours(segments: Sequence[CodedSegment]) -> list[tuple[int, ...]]:
    """Per segment, the indexes of the segments just before and after it in its document
    (by position; none at a document's ends or for a document of one segment)."""
    order = sorted(range(len(segments)), key=lambda i: (segments[i].segment.doc, segments[i].segment.start,
                                                         segments[i].segment.end, i))
    out: list[tuple[int, ...]] = [()] * len(segments)
    for k, i in enumerate(order):
        doc = segments[i].segment.doc
        out[i] = tuple(order[j] for j in (k - 1, k + 1) if 0 <= j < len(order) and segments[order[j]].segment.doc == doc)
    return out


def with_context(scores: np.ndarray, near: Sequence[tuple[int, ...]], weight: float) -> np.ndarray:
    """``scores`` with each one's neighbours' mean mixed in: (1 - weight) * own + weight * mean
    of the neighbours' scores; a score without neighbours stays as it is."""
    out = np.array(scores, dtype=float)
    if not weight or not len(out):
        return out
    first = np.array([nb[0] if nb else -1 for nb in near])
    second = np.array([nb[1] if len(nb) > 1 else -1 for nb in near])
    count = (first >= 0).astype(float) + (second >= 0)
    total = np.where(first >= 0, out[first], 0.0) + np.where(second >= 0, out[second], 0.0)
    has = count > 0
    out[has] = (1 - weight) * out[has] + weight * (total[has] / count[has])
    return out


def rejections(manual: Sequence[Coding], decisions: Iterable[tuple[str, int, int, str]],
               codebook: Codebook) -> set[tuple[str, int, int, str]]:
    """(doc, start, end, theme) a coder said no to: manual ``not:`` codings and rejected
    suggestions (``decisions``: doc, start, end, code), each code taken to its theme."""
    out = {(c.doc, c.start, c.end, c.code) for c in manual if c.source in PERSON_SOURCES and c.status == "rejected"}
    out |= set(decisions)
    return {(doc, start, end, next(iter(top_themes([code], codebook))))
            for doc, start, end, code in out if code in codebook.codes}


def train(segments: Sequence[CodedSegment], codebook: Codebook, encoder: Any, cache: Any,
          manual: Sequence[Coding] = (), *, threshold: str = "quantile",
          rejected: Iterable[tuple[str, int, int, str]] = (), context: float = CONTEXT_WEIGHT,
          cap: float | None = SUGGESTION_CAP, quantile: float = THRESHOLD_QUANTILE) -> Suggester:
    """Fit a classifier per theme on the corpus's coded segments and the codebook's definition
    material, score the segments out of fold and set each theme's threshold (see the module
    doc; ``threshold`` is "quantile", "median" or "precision"; ``context`` the neighbours'
    weight in a score, 0 for none; ``cap`` the most suggestions per coded segment of the
    theme, None for no cap; ``quantile`` that of the "quantile" rule). ``rejected`` (doc, start, end, theme; see
    :func:`rejections`): negative evidence, a segment overlapping one is a negative of that
    theme weighing :data:`MANUAL_WEIGHT` (unless its codings give it the theme) and is not
    suggested it again."""
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold must be one of {THRESHOLDS}, not {threshold!r}")
    if not 0 <= context < 1:
        raise ValueError(f"context must be at least 0 and below 1, not {context!r}")
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must be between 0 and 1, not {quantile!r}")
    if cap is not None and cap < 0:
        raise ValueError(f"cap must be None or at least 0, not {cap!r}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    names = themes(codebook)
    manual_segments = {c.segment for c in manual if c.source in PERSON_SOURCES and c.status == "applied"}
    texts = [s.text for s in segments]
    labels = np.array([[t in top_themes(s.codes, codebook) for t in names] for s in segments], dtype=bool)
    said_no: dict[str, list[tuple[str, int, int]]] = {}
    for doc, start, end, theme in rejected:
        said_no.setdefault(doc, []).append((start, end, theme))
    no = np.array([[any(t == theme and a < s.segment.end and s.segment.start < b
                        for a, b, theme in said_no.get(s.segment.doc, ())) for t in names] for s in segments],
                  dtype=bool).reshape(len(segments), len(names)) & ~labels
    human = np.array([s.segment.id in manual_segments for s in segments], dtype=bool)
    base_weights = np.where(human, MANUAL_WEIGHT, 1.0)
    vectors = cache.embed(encoder, texts) if texts else np.zeros((0, 1), dtype=np.float32)
    suggester = Suggester(codebook, encoder, names, context=context)
    near = neighbours(segments)
    material = {t: definition_material(codebook, t) for t in names}
    all_material = [m for t in names for m in material[t]]
    material_vectors = cache.embed(encoder, all_material)
    owner = np.array([n for n, t in enumerate(names) for _ in material[t]])
    offset = 0
    for n, t in enumerate(names):
        size = len(material[t])
        if size:
            suggester.material[t] = (material[t], material_vectors[offset:offset + size])
        offset += size
        coded = [(s.segment.doc, s.segment.line, s.text) for s, lab in zip(segments, labels[:, n]) if lab]
        if coded:
            suggester.coded[t] = (coded, vectors[labels[:, n]])
    for n, t in enumerate(names):
        y_seg = labels[:, n]
        if y_seg.sum() < MIN_POSITIVES or (~y_seg).sum() < MIN_POSITIVES or t not in suggester.material:
            continue
        # A coder's decision (a manual coding, a rejection) is a human label: it weighs more and
        # is in every fold's training rows, so it moves its own score too.
        weights = np.where(no[:, n], MANUAL_WEIGHT, base_weights)
        pinned = np.flatnonzero(human | no[:, n])
        X = np.vstack([vectors, material_vectors])
        y = np.concatenate([y_seg, owner == n])
        w = np.concatenate([weights, np.ones(len(owner))])
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=SEED)
        model.fit(X, y, sample_weight=w)
        suggester.classifiers[t] = model
        # Out-of-fold scores of the corpus segments: for the suggestions and the threshold.
        oof = np.zeros(len(segments))
        folds = StratifiedKFold(n_splits=min(FOLDS, int(y_seg.sum()), int((~y_seg).sum())), shuffle=True, random_state=SEED)
        for fit_rows, test_rows in folds.split(vectors, y_seg):
            fit_rows = np.union1d(fit_rows, pinned)
            fold = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=SEED)
            fold.fit(np.vstack([vectors[fit_rows], material_vectors]), np.concatenate([y_seg[fit_rows], owner == n]),
                     sample_weight=np.concatenate([weights[fit_rows], np.ones(len(owner))]))
            oof[test_rows] = fold.predict_proba(vectors[test_rows])[:, 1]
        suggester.oof[t] = oof
        scored = suggester.scored[t] = with_context(oof, near, context)
        suggester.thresholds[t] = (float(np.quantile(scored[y_seg], quantile)) if threshold == "quantile"
                                   else float(np.median(scored[y_seg])) if threshold == "median"
                                   else precision_threshold(scored, y_seg, TARGET_PRECISION))
        if cap is not None:
            suggester.caps[t] = math.floor(cap * int(y_seg.sum()) + 1e-9)
    suggester.rows = {segment_key(s): i for i, s in enumerate(segments)}
    suggester.rejected = {(s.segment.doc, s.segment.start, s.segment.end, t)
                          for i, s in enumerate(segments) for n, t in enumerate(names) if no[i, n]}
    return suggester


def precision_threshold(scores: np.ndarray, truth: np.ndarray, target: float) -> float:
    """The lowest score t at which the segments scoring >= t are at least ``target`` precise
    against ``truth``; infinity when no t reaches it."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(truth[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= target)
    # A cut must fall between distinct scores: the last index of each run of equal scores.
    s = scores[order]
    ok = [i for i in ok if i == len(s) - 1 or s[i + 1] < s[i]]
    return float(s[ok[-1]]) if ok else float("inf")


def suggest(suggester: Suggester, segments: Sequence[CodedSegment], cache: Any, *,
            min_score: float = 0.0) -> list[Suggestion]:
    """For every segment, the themes scored at or above the theme's threshold that its codings
    do not give it (nor a coder's rejection), at most the theme's cap of them (the highest
    scores, then document and position), then those at or above ``min_score``; sorted by
    score (highest first), then document, position and theme."""
    vectors = cache.embed(suggester.encoder, [s.text for s in segments])
    if not len(segments):
        return []
    scores = suggester.segment_scores(segments, vectors)
    chosen: dict[str, list[tuple[float, int]]] = {}
    for i, s in enumerate(segments):
        have = top_themes(s.codes, suggester.codebook)
        for t, values in scores.items():
            score = float(values[i])
            if t in have or score < suggester.thresholds[t]:
                continue
            if (s.segment.doc, s.segment.start, s.segment.end, t) in suggester.rejected:
                continue
            chosen.setdefault(t, []).append((score, i))
    out = []
    for t, found in chosen.items():
        found.sort(key=lambda x: (-x[0], segments[x[1]].segment.doc, segments[x[1]].segment.start, x[1]))
        if t in suggester.caps:
            found = found[:suggester.caps[t]]
        for score, i in found:
            if score < min_score:
                continue
            s, seg, threshold = segments[i], segments[i].segment, suggester.thresholds[t]
            out.append(Suggestion(suggestion_id(seg.doc, seg.start, seg.end, t), seg.doc, seg.id, seg.start, seg.end,
                                  seg.line, s.text, t, score, threshold, suggester.encoder.id,
                                  suggester.encoder.sha256,
                                  suggester.evidence(t, vectors[i], skip=(seg.doc, seg.line))))
    order = {t: n for n, t in enumerate(suggester.themes)}
    out.sort(key=lambda x: (-x.score, x.doc, x.start, order[x.code]))
    return out


@dataclass
class SuggestResult:
    suggestions: list[Suggestion]
    suggester: Suggester
    coding: Any  # the CodingResult the suggestions were made on
    embedded: int = 0  # texts embedded in this run (the others came from the store)


@contextmanager
def _embedding_cache(store: str | os.PathLike[str] | None) -> Iterator[Any]:
    """The embedding cache in the project store at ``store``; without a store, or when it
    cannot be opened (it is derived data), one that embeds everything (with a warning)."""
    from .embed import EmbeddingCache

    if store is None:
        yield EmbeddingCache(None)
        return
    from .store import StoreUnavailable, StoreWarning, open_store

    try:
        db = open_store(store)
    except StoreUnavailable as err:
        warnings.warn(f"{err}; embedding without it", StoreWarning, stacklevel=3)
        yield EmbeddingCache(None)
        return
    with db:
        yield EmbeddingCache(db)


def rejected_suggestions(codings: str | os.PathLike[str] | None) -> list[tuple[str, int, int, str]]:
    """(doc, start, end, code) of every suggestion rejected in the review logs
    ``CODINGS/review/*.csv`` (``qualcode.review``), in file and row order."""
    import csv
    import io
    from pathlib import Path

    if codings is None or not (Path(codings) / "review").is_dir():
        return []
    out = []
    for path in sorted((Path(codings) / "review").glob("*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            try:
                if row.get("decision") == "reject":
                    out.append((row["doc"], int(row["start"]), int(row["end"]), row["code"]))
            except (KeyError, TypeError, ValueError):
                continue  # not a review log row: the review itself reports such a file
    return out


def suggest_project(corpus: str = "corpus", codebook: str = "codebook.yaml", *, codings: str | None = None,
                    model: str | None = None, min_score: float = 0.0, store: str | os.PathLike[str] | None = None,
                    jobs: int = 1, skip_unreadable: bool = False, threads: int = 1) -> SuggestResult:
    """Code the project (rule and manual codings combined), train on it and suggest what the
    codings miss. ``model`` is a local ONNX encoder folder (default: the bundled
    all-MiniLM-L6-v2 int8); ``store`` the project store (``qualcode.store``): coding is
    incremental and embeddings are cached in it; None for neither."""
    from .embed import load_encoder, require_extra
    from .project import code_project

    require_extra()
    result = code_project(corpus, codebook, codings=codings, jobs=jobs, skip_unreadable=skip_unreadable,
                          store=store)
    encoder = load_encoder(model, threads=threads)
    with _embedding_cache(store) as cache:
        book = result.codebook.codebook
        said_no = rejections(result.codings, rejected_suggestions(codings), book)
        suggester = train(result.segments, book, encoder, cache, manual=result.codings, rejected=said_no)
        found = suggest(suggester, result.segments, cache, min_score=min_score)
    return SuggestResult(found, suggester, result, cache.embedded)


def include(result: Any, suggestions: Sequence[Suggestion]) -> None:
    """Let the suggestions join a CodingResult's codings and coded segments: each becomes a
    ``suggested`` coding of its segment, a match with source ``suggested``, the model as
    coder and its score."""
    from .codings import coded_view, sort_codings

    book = result.codebook.codebook
    result.codings = sort_codings([*result.codings, *(s.coding() for s in suggestions)], book)
    result.segments = coded_view(result.segments, result.codings, book)


def documents_by_id(documents: Sequence[Document]) -> dict[str, Document]:
    return {d.id: d for d in documents}


def include_suggestions(result: Any, *, model: str | None = None, store: str | os.PathLike[str] | None = None,
                        codings: str | os.PathLike[str] | None = None) -> list[Suggestion]:
    """``qualcode code --suggestions include``: train on a CodingResult, suggest, and let the
    suggestions join its codings and coded segments (see :func:`include`); embeddings
    cached in the project store ``store``."""
    from .embed import load_encoder, require_extra

    require_extra()
    encoder = load_encoder(model)
    with _embedding_cache(store) as cache:
        book = result.codebook.codebook
        said_no = rejections(result.codings, rejected_suggestions(codings), book)
        suggester = train(result.segments, book, encoder, cache, manual=result.codings, rejected=said_no)
        found = suggest(suggester, result.segments, cache)
    include(result, found)
    return found


CSV_COLUMNS = ("id", "score", "threshold", "code", "doc", "line", "start", "end", "segment", "text", "definition",
               "definition_similarity", "passages", "model", "model_sha256")


def write_suggestions(suggestions: Sequence[Suggestion], path: str, *, format: str = "json") -> None:
    """Write suggestions as a JSON array of records or as CSV (one row per suggestion, the
    nearest passages as JSON), atomically."""
    import json

    from .fileio import CsvWriter, open_output

    with open_output(path) as fh:
        if format == "json":
            json.dump([s.to_record() for s in suggestions], fh, ensure_ascii=False, indent=1)
            fh.write("\n")
            return
        writer = CsvWriter(fh)
        writer.writerow(CSV_COLUMNS)
        for s in suggestions:
            r = s.to_record()
            ev = r.pop("evidence")
            r.update(definition=ev["definition"], definition_similarity=ev["definition_similarity"],
                     passages=json.dumps(ev["passages"], ensure_ascii=False, separators=(",", ":")))
            writer.writerow(r[k] for k in CSV_COLUMNS)
