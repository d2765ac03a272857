"""Agreement between the automatic coding and human coders, or between coders.

The units are the segments every compared coder read (the segments their codings, ``not:``
rejections and ``seen`` passages touch), grouped by ``unit`` (segment, paragraph or
document: a coarser unit holds the codes of its read segments). Each code is a yes/no
decision per unit and rater; a code applies with its ancestors, as in coding. The codes
compared are those at least two raters use on those units, or the ones asked for.

Per code and overall (every unit-code decision pooled): percent agreement, precision,
recall and F1 against a reference rater, Cohen's kappa (two raters), Fleiss' kappa and
Krippendorff's alpha (the ``krippendorff`` package), each with a seeded percentile
bootstrap interval over units. Cohen's and Fleiss' kappa are computed here, vectorised
over the bootstrap resamples: statsmodels takes seconds to import and about 160 us a call
(measured), which is seconds more per code at 1000 resamples; the tests check them against statsmodels and
scikit-learn and against published examples.

Every pair of raters gets its own figures (percent agreement, Cohen's kappa and
Krippendorff's alpha, per code and overall, on the same units) and every rater a breakdown:
its codings, and its mean agreement with the others and with the rules (the text output
shows them for three raters or more; with two the pair is the main table).
"""
from __future__ import annotations

import bisect
import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import Problem, QualcodeError
from .model import CodedSegment, Codebook, Coding, Document

UNITS: tuple[str, ...] = ("segment", "paragraph", "document")
RULES = "rules"  # the automatic coding's name among the raters
MEASURES = ("percent", "precision", "recall", "f1", "cohen_kappa", "fleiss_kappa", "alpha")
PAIR_MEASURES = ("percent", "cohen_kappa", "alpha")


@dataclass(slots=True)
class Agreement:
    """What ``qualcode agree`` found."""

    raters: list[str]
    reference: str
    unit: str
    units: int
    segments: int  # segments read by every human coder
    codes: list[str]
    left_out: dict[str, list[str]]  # code -> the raters that used it, for codes not compared
    overall: dict[str, Any]
    per_code: dict[str, dict[str, Any]]
    disagreements: list[dict[str, Any]]
    resamples: int
    seed: int
    confidence: float
    coders_units: dict[str, int] = field(default_factory=dict)  # segments each human coder read
    pairs: list[dict[str, Any]] = field(default_factory=list)  # every pair of raters: see pairwise()
    by_rater: dict[str, dict[str, Any]] = field(default_factory=dict)  # see rater_breakdown()

    def to_dict(self) -> dict[str, Any]:
        out = {"raters": self.raters, "reference": self.reference, "unit": self.unit, "units": self.units,
               "segments": self.segments, "segments_read": self.coders_units, "codes": self.codes,
               "left_out": self.left_out, "bootstrap": {"resamples": self.resamples, "seed": self.seed,
                                                        "confidence": self.confidence},
               "overall": self.overall, "per_code": self.per_code}
        if self.pairs:
            out["by_rater"] = self.by_rater
            out["pairs"] = self.pairs
        out["disagreements"] = self.disagreements
        return out


# -- the statistics ---------------------------------------------------------------------------

def batch_stats(x: np.ndarray, ref: int = 0) -> dict[str, np.ndarray]:
    """Percent agreement, precision/recall/F1 (every other rater pooled against rater
    ``ref``), Cohen's kappa (two raters) and Fleiss' kappa for binary decisions ``x`` of
    shape (resamples, units, raters). NaN where a figure is undefined (no variation)."""
    x = x.astype(bool)
    _, n, r = x.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        out: dict[str, np.ndarray] = {"percent": (x.all(axis=2) | ~x.any(axis=2)).mean(axis=1)}
        gold = x[:, :, ref:ref + 1]
        others = np.delete(x, ref, axis=2)
        tp = (gold & others).sum(axis=(1, 2)).astype(float)
        fp = (~gold & others).sum(axis=(1, 2))
        fn = (gold & ~others).sum(axis=(1, 2))
        out["precision"] = tp / (tp + fp)
        out["recall"] = tp / (tp + fn)
        out["f1"] = 2 * tp / (2 * tp + fp + fn)
        if r == 2:
            a, b = x[:, :, 0], x[:, :, 1]
            po = (a == b).mean(axis=1)
            pa, pb = a.mean(axis=1), b.mean(axis=1)
            pe = pa * pb + (1 - pa) * (1 - pb)
            out["cohen_kappa"] = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
        yes = x.sum(axis=2)
        out["fleiss_kappa"] = fleiss(np.stack([r - yes, yes], axis=2))
    return out


def fleiss(counts: np.ndarray) -> np.ndarray:
    """Fleiss' kappa of ``counts`` (..., units, categories): how many raters put each unit in
    each category, the same number of raters per unit. NaN when one category takes all."""
    counts = counts.astype(float)
    r = counts[..., 0, :].sum(axis=-1)
    n = counts.shape[-2]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = ((counts * (counts - 1)).sum(axis=-1) / (r * (r - 1))[..., None]).mean(axis=-1)
        p_j = counts.sum(axis=-2) / (n * r)[..., None]
        pe = (p_j ** 2).sum(axis=-1)
        return np.where(pe < 1, (p_bar - pe) / (1 - pe), np.nan)


def alpha(x: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of binary decisions ``x`` (units, raters), by the
    ``krippendorff`` package; NaN when every decision is the same."""
    import krippendorff

    yes = x.sum(axis=1)
    counts = np.stack([x.shape[1] - yes, yes], axis=1)
    if (counts[:, 0].sum() == 0) or (counts[:, 1].sum() == 0):
        return math.nan
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


def measure(x: np.ndarray, ref: int, resamples: int, seed: int, confidence: float,
            groups: int = 1, alpha_interval: bool = True) -> dict[str, Any]:
    """The figures of ``x`` (units*groups, raters: ``groups`` blocks of the same units, one
    per code) with a percentile bootstrap interval from ``resamples`` resamples of the units
    (for alpha only with ``alpha_interval``: one ``krippendorff`` call per resample)."""
    n = x.shape[0] // groups
    point = {k: float(v[0]) for k, v in batch_stats(x[None], ref).items()}
    point["alpha"] = alpha(x)
    out: dict[str, Any] = {"units": n, "yes": {}, **{k: _num(v) for k, v in point.items()}}
    if resamples and n:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(resamples, n))
        rows = (idx[:, None, :] + (np.arange(groups) * n)[None, :, None]).reshape(resamples, -1)
        boot = batch_stats(x[rows], ref)
        if alpha_interval:
            boot["alpha"] = np.array([alpha(x[r]) for r in rows])
        tail = (1 - confidence) / 2 * 100
        for k, v in boot.items():
            v = v[~np.isnan(v)]
            out[f"{k}_ci"] = ([_num(float(np.percentile(v, tail))), _num(float(np.percentile(v, 100 - tail)))]
                              if len(v) else None)
    return out


def _num(v: float) -> float | None:
    return None if math.isnan(v) else round(v, 4)


def pairwise(x: np.ndarray, raters: Sequence[str], codes: Sequence[str], resamples: int, seed: int,
             confidence: float) -> list[dict[str, Any]]:
    """Every pair of raters on decisions ``x`` (codes, units, raters): percent agreement and
    Cohen's kappa with bootstrap intervals, Krippendorff's alpha without one (its bootstrap
    costs about 0.26 s per pair and code at 1000 resamples, measured: seconds per run with
    four raters), per code and overall (every unit-code decision pooled)."""
    out = []
    for i in range(len(raters)):
        for j in range(i + 1, len(raters)):
            pair = x[:, :, [i, j]]
            names = (raters[i], raters[j])

            def figures(d: np.ndarray, groups: int = 1) -> dict[str, Any]:
                got = measure(d, 0, resamples, seed, confidence, groups, alpha_interval=False)
                row = {"units": got["units"], "yes": {n: int(d[:, k].sum()) for k, n in enumerate(names)}}
                for m in PAIR_MEASURES:
                    row[m] = got[m]
                    if f"{m}_ci" in got:
                        row[f"{m}_ci"] = got[f"{m}_ci"]
                return row

            per_code = {code: figures(pair[k]) for k, code in enumerate(codes)}
            overall = figures(pair.reshape(-1, 2), max(len(codes), 1)) if len(codes) else {}
            if overall:
                overall["units"] = x.shape[1]
                overall["decisions"] = x.shape[1] * len(codes)
            out.append({"raters": list(names), "overall": overall, "per_code": per_code})
    return out


def rater_breakdown(pairs: Sequence[dict[str, Any]], raters: Sequence[str],
                    codings: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each rater's codings, its yes decisions, and its agreement overall: the mean over the
    pairs it is in (``with_others``: for kappa, Light's kappa of the rater) and its pair with
    the rules (``with_rules``, when the rules are a rater)."""
    out: dict[str, dict[str, Any]] = {}
    for name in raters:
        mine = [p for p in pairs if name in p["raters"] and p["overall"]]
        row: dict[str, Any] = {"codings": codings.get(name, 0),
                               "yes": mine[0]["overall"]["yes"][name] if mine else 0, "with_others": {}}
        for m in PAIR_MEASURES:
            values = [p["overall"][m] for p in mine if p["overall"].get(m) is not None]
            row["with_others"][m] = round(float(np.mean(values)), 4) if values else None
        if name != RULES and RULES in raters:
            rules = next((p for p in mine if RULES in p["raters"]), None)
            row["with_rules"] = {m: rules["overall"].get(m) for m in PAIR_MEASURES} if rules else None
        out[name] = row
    return out


# -- reading the raters -------------------------------------------------------------------

@dataclass(slots=True)
class _Rater:
    name: str
    codes: dict[int, set[str]] = field(default_factory=dict)  # segment index -> codes (with ancestors)
    seen: set[int] = field(default_factory=set)
    codings: dict[int, list[Coding]] = field(default_factory=dict)


def coder_files(paths: Sequence[str | Path]) -> list[Path]:
    """Coder files: the files given (coding files, agreement CSV, REFI-QDA ``.qdpx`` projects)
    and the coder files (``*.yaml``, ``*.yml``, ``*.csv``) of the folders given."""
    from .manual import coding_files

    out: list[Path] = []
    problems = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(coding_files(p))
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(p), "coder file or folder not found"))
    if problems:
        raise QualcodeError(problems)
    return out


def agree(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml",
          coders: Sequence[str | Path] = ("codings",), *, rules: bool = True, only: Sequence[str] | None = None,
          codes: Sequence[str] | None = None, unit: str = "segment", reference: str | None = None,
          resamples: int = 1000, seed: int = 0, confidence: float = 0.95, model: str | None = None,
          jobs: int = 1, skip_unreadable: bool = False) -> Agreement:
    """Agreement of the automatic coding (``rules``) with the human coders of the coder
    files ``coders`` (manual coding files or the agreement CSV: see the README), or of the
    coders with each other. ``only`` picks coders by name; ``reference`` is the rater the
    others are measured against for precision, recall and F1 (default: the first coder)."""
    from .manual import ManualCodingError, load_sample
    from .project import load_inputs

    if unit not in UNITS:
        raise QualcodeError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")
    if resamples < 0 or not 0 < confidence < 1:
        raise QualcodeError("--resamples must be 0 or more and --confidence between 0 and 1")
    problems: list[Problem] = []
    files = coder_files(coders)
    if not files:
        raise QualcodeError("no coder files: give the human codings (a file or a folder of .yaml/.csv files)")
    inputs = load_inputs(codebook, corpus, skip_unreadable=skip_unreadable)
    loaded, documents = inputs.codebook, inputs.documents
    book = loaded.codebook
    manual: list[Coding] = []
    seen: list[Any] = []
    projects = [f for f in files if f.suffix.lower() == ".qdpx"]
    try:
        manual, seen = load_sample([f for f in files if f not in projects], documents, book)
    except ManualCodingError as err:
        problems.extend(err.problems)
    for path in projects:
        from .refi.ids import AUTOMATIC_USER
        from .refi.reader import read_qdpx

        try:  # the REFI user of qualcode's own rule codings is the rules, coded afresh here
            manual.extend(c for c in read_qdpx(path, documents, book).codings if c.coder != AUTOMATIC_USER)
        except QualcodeError as err:
            problems.extend(err.problems)
    if problems:
        raise QualcodeError(problems)
    names = sorted({c.coder for c in manual} | {s.coder for s in seen})
    if only:
        unknown = [c for c in only if c not in names]
        if unknown:
            raise QualcodeError(f"unknown coder(s) {', '.join(unknown)}: the files have {', '.join(names) or 'none'}")
        names = [c for c in names if c in only]
    raters = ([RULES] if rules else []) + names
    if len(raters) < 2 or not names:
        raise QualcodeError(f"agreement needs two raters or more and one human coder at least; found: "
                            f"{', '.join(raters) or 'none'}")
    if codes:
        bad = [c for c in codes if c not in book.codes]
        if bad:
            raise QualcodeError([f"--codes: unknown code {c!r}" for c in bad])
    reference = reference or names[0]
    if reference not in raters:
        raise QualcodeError(f"--reference {reference!r} is not one of the raters: {', '.join(raters)}")

    from .coding import CompiledCodebook, code_corpus
    from .pipeline import Pipeline

    segments = code_corpus(documents, CompiledCodebook(loaded, Pipeline(model)), jobs=jobs)
    by_name = {n: _Rater(n) for n in raters}
    if rules:
        r = by_name[RULES]
        for i, s in enumerate(segments):
            if s.codes:
                r.codes[i] = set(s.codes)
    locate = _Locator(segments)
    for c in manual:
        if c.coder in by_name:
            for i in locate(c.doc, c.start, c.end):
                r = by_name[c.coder]
                r.seen.add(i)
                r.codings.setdefault(i, []).append(c)
                if c.status == "applied":
                    r.codes.setdefault(i, set()).update((c.code, *book.code_ancestors(c.code)))
    for s in seen:
        if s.coder in by_name:
            by_name[s.coder].seen.update(locate(s.doc, s.start, s.end))
    read = set.intersection(*(by_name[n].seen for n in names))
    groups = _units(segments, sorted(read), unit)
    used: dict[str, set[str]] = {}
    for name in raters:
        r = by_name[name]
        for members in groups.values():
            for i in members:
                for code in r.codes.get(i, ()):
                    used.setdefault(code, set()).add(name)
    order = list(book.codes)
    if codes:
        compared = [c for c in order if c in set(codes)]
    else:
        compared = [c for c in order if len(used.get(c, ())) >= 2]
    left_out = {c: sorted(used[c], key=raters.index) for c in order if c in used and c not in compared}
    keys = list(groups)
    x = np.zeros((len(compared), len(keys), len(raters)), dtype=bool)
    for k, code in enumerate(compared):
        for u, key in enumerate(keys):
            for j, name in enumerate(raters):
                x[k, u, j] = any(code in by_name[name].codes.get(i, ()) for i in groups[key])
    ref = raters.index(reference)
    per_code = {}
    for k, code in enumerate(compared):
        per_code[code] = measure(x[k], ref, resamples, seed, confidence)
        per_code[code]["yes"] = {name: int(x[k, :, j].sum()) for j, name in enumerate(raters)}
    pooled = x.reshape(-1, len(raters)) if compared else np.zeros((0, len(raters)), dtype=bool)
    overall = measure(pooled, ref, resamples, seed, confidence, groups=max(len(compared), 1)) if compared else {}
    if overall:
        overall["units"] = len(keys)
        overall["decisions"] = len(keys) * len(compared)
        overall["yes"] = {name: int(pooled[:, j].sum()) for j, name in enumerate(raters)}
    pairs: list[dict[str, Any]] = []
    by_rater: dict[str, dict[str, Any]] = {}
    if compared:
        pairs = pairwise(x, raters, compared, resamples, seed, confidence)
        in_units = sorted({i for members in groups.values() for i in members})
        codings = {name: len({id(c) for i in in_units for c in by_name[name].codings.get(i, ())
                              if c.status == "applied"}) for name in names}
        if rules:
            codings[RULES] = sum(len({m.code for m in segments[i].matches}) for i in in_units)
        by_rater = rater_breakdown(pairs, raters, codings)
    docs = {d.id: d for d in documents}
    disagreements = [
        _disagreement(key, groups[key], code, x[k, u], raters, by_name, segments, docs, book)
        for u, key in enumerate(keys) for k, code in enumerate(compared) if x[k, u].any() and not x[k, u].all()]
    return Agreement(raters, reference, unit, len(keys), len(read), compared, left_out, overall, per_code,
                     disagreements, resamples, seed, confidence, {n: len(by_name[n].seen) for n in names},
                     pairs, by_rater)


class _Locator:
    """The indexes of the segments a span overlaps."""

    def __init__(self, segments: Sequence[CodedSegment]):
        self.starts: dict[str, list[int]] = {}
        self.index: dict[str, list[int]] = {}
        self.segments = segments
        for i, s in enumerate(segments):
            self.starts.setdefault(s.segment.doc, []).append(s.segment.start)
            self.index.setdefault(s.segment.doc, []).append(i)

    def __call__(self, doc: str, start: int, end: int) -> list[int]:
        starts, index = self.starts.get(doc, []), self.index.get(doc, [])
        k = max(0, bisect.bisect_right(starts, start) - 1)
        out = []
        for i in index[k:]:
            seg = self.segments[i].segment
            if seg.start >= end:
                break
            if seg.start < end and start < seg.end:
                out.append(i)
        return out


def _units(segments: Sequence[CodedSegment], read: list[int], unit: str) -> dict[tuple, list[int]]:
    """The read segments grouped by unit, in document order."""
    out: dict[tuple, list[int]] = {}
    for i in read:
        s = segments[i].segment
        key = (s.doc, s.id) if unit == "segment" else (s.doc, s.paragraph) if unit == "paragraph" else (s.doc,)
        out.setdefault(key, []).append(i)
    return out


def _disagreement(key: tuple, members: list[int], code: str, applied: np.ndarray, raters: list[str],
                  by_name: dict[str, _Rater], segments: Sequence[CodedSegment], docs: dict[str, Document],
                  book: Codebook) -> dict[str, Any]:
    first, last = segments[members[0]].segment, segments[members[-1]].segment
    record: dict[str, Any] = {
        "doc": first.doc, "line": first.line, "start": first.start, "end": last.end,
        "unit": key[1] if len(key) > 1 else first.doc, "code": code,
        "text": docs[first.doc].text[first.start:last.end] if first.doc in docs else segments[members[0]].text,
        "applied": {name: bool(v) for name, v in zip(raters, applied)}, "why": []}
    for name, v in zip(raters, applied):
        if not v:
            continue
        if name == RULES:
            for i in members:
                for m in segments[i].matches:
                    if m.code == code or code in book.code_ancestors(m.code):
                        record["why"].append({"rater": name, "code": m.code, "pattern": m.pattern, "rule": m.rule,
                                              "text": m.text})
        else:
            for i in members:
                for c in by_name[name].codings.get(i, ()):
                    if c.status == "applied" and (c.code == code or code in book.code_ancestors(c.code)):
                        item = {"rater": name, "code": c.code, "pattern": f"manual:{c.coder}",
                                "rule": c.rule.where if c.rule else "", "text": docs[c.doc].text[c.start:c.end]}
                        if c.note:
                            item["note"] = c.note
                        if item not in record["why"]:
                            record["why"].append(item)
    return record


# -- output -------------------------------------------------------------------------------

TABLES = ("codes", "raters", "pairs", "disagreements")


def render(result: Agreement, fmt: str = "text", table: str = "codes") -> str:
    """The result as ``text``, ``json`` or ``csv`` (``table``: ``codes`` gives the figures per
    code and overall, ``raters`` the breakdown per rater, ``pairs`` the figures of every pair
    of raters per code and overall, ``disagreements`` the disagreement list)."""
    if fmt == "json":
        return json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    if fmt == "csv":
        return _csv(result, table)
    return _text(result)


def _csv(result: Agreement, table: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if table == "disagreements":
        w.writerow(["doc", "line", "start", "end", "code", *(f"applied_{r}" for r in result.raters), "why", "text"])
        for d in result.disagreements:
            why = "; ".join(f"{y['rater']}: {y['pattern']} at {y['rule']}" for y in d["why"])
            w.writerow([d["doc"], d["line"], d["start"], d["end"], d["code"],
                        *(int(d["applied"][r]) for r in result.raters), why, d["text"]])
        return buf.getvalue()
    if table == "raters":
        w.writerow(["rater", "codings", "yes", *(f"{m}_with_others" for m in PAIR_MEASURES),
                    *(f"{m}_with_rules" for m in PAIR_MEASURES)])
        for name, row in result.by_rater.items():
            rules = row.get("with_rules") or {}
            w.writerow([name, row["codings"], row["yes"], *(_cell(row["with_others"].get(m)) for m in PAIR_MEASURES),
                        *(_cell(rules.get(m)) for m in PAIR_MEASURES)])
        return buf.getvalue()
    if table == "pairs":
        with_ci = ("percent", "cohen_kappa")  # alpha has no interval per pair (see pairwise)
        w.writerow(["rater_a", "rater_b", "code", "units", "yes_a", "yes_b",
                    *(c for m in with_ci for c in (m, f"{m}_low", f"{m}_high")), "alpha"])
        for pair in result.pairs:
            a, b = pair["raters"]
            for code, row in [*pair["per_code"].items(), ("(overall)", pair["overall"])]:
                cells = []
                for m in with_ci:
                    ci = row.get(f"{m}_ci") or [None, None]
                    cells.extend(_cell(v) for v in (row.get(m), *ci))
                w.writerow([a, b, code, row["units"], row["yes"][a], row["yes"][b], *cells, _cell(row.get("alpha"))])
        return buf.getvalue()
    w.writerow(["code", "units", *(f"yes_{r}" for r in result.raters),
                *(c for m in MEASURES for c in (m, f"{m}_low", f"{m}_high"))])
    for code, row in [*result.per_code.items(), *([("(overall)", result.overall)] if result.overall else [])]:
        cells = []
        for m in MEASURES:
            ci = row.get(f"{m}_ci") or [None, None]
            cells.extend(["" if v is None else v for v in (row.get(m), *ci)])
        w.writerow([code, row["units"], *(row["yes"].get(r, 0) for r in result.raters), *cells])
    return buf.getvalue()


def _cell(v: Any) -> Any:
    return "" if v is None else v


def _fmt(row: dict[str, Any], m: str) -> str:
    v = row.get(m)
    if v is None:
        return "n/a" if m in row else "-"
    ci = row.get(f"{m}_ci")
    return f"{v:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci and None not in ci else f"{v:.2f}"


def _text(result: Agreement) -> str:
    lines = []
    unit_word = {"segment": "segments", "paragraph": "paragraphs", "document": "documents"}[result.unit]
    read = ", ".join(f"{n} read {k}" for n, k in result.coders_units.items())
    lines.append(f"raters: {', '.join(result.raters)}; reference for precision/recall/F1: {result.reference}")
    lines.append(f"units: {result.units} {unit_word} ({result.segments} segments read by every coder; {read})")
    lines.append(f"codes compared: {', '.join(result.codes) or 'none'}")
    if result.left_out:
        lines.append("codes left out (used by one rater only): "
                     + ", ".join(f"{c} ({', '.join(r)})" for c, r in result.left_out.items()))
    if result.resamples:
        lines.append(f"intervals: {result.confidence:.0%} percentile bootstrap, {result.resamples} resamples of "
                     f"units, seed {result.seed}")
    kappa = "cohen_kappa" if len(result.raters) == 2 else "fleiss_kappa"
    heads = ["code", "units", "yes " + "/".join(result.raters), "agree", "precision", "recall", "F1",
             "Cohen's kappa" if kappa == "cohen_kappa" else "Fleiss' kappa", "alpha"]
    rows = []
    for code, row in [*result.per_code.items(), *([("overall", result.overall)] if result.overall else [])]:
        rows.append([code, str(row["units"]) if code != "overall" else f"{row['units']}x{len(result.codes)}",
                     "/".join(str(row["yes"][r]) for r in result.raters),
                     *(_fmt(row, m) for m in ("percent", "precision", "recall", "f1", kappa, "alpha"))])
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    lines.append("")
    lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip())
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if len(result.raters) >= 3 and result.pairs:
        lines.extend(_rater_lines(result))
    lines.append("")
    lines.append(f"disagreements: {len(result.disagreements)}")
    for d in result.disagreements:
        yes = [r for r in result.raters if d["applied"][r]]
        no = [r for r in result.raters if not d["applied"][r]]
        text = " ".join(d["text"].split())
        lines.append(f"{d['doc']}:{d['line']}: {d['code']}: applied by {', '.join(yes)}; not by {', '.join(no)}")
        lines.append(f"    {text[:200]}{'...' if len(text) > 200 else ''}")
        for y in d["why"]:
            via = f" (via {y['code']})" if y["code"] != d["code"] else ""
            note = f" - {y['note']}" if y.get("note") else ""
            lines.append(f"    {y['rater']}: {y['pattern']} at {y['rule']}{via}: {y['text']!r}{note}")
    return "\n".join(lines) + "\n"


def _table(heads: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [heads, *rows]]


def _rater_lines(result: Agreement) -> list[str]:
    """The breakdown per rater and the table of pairs, for three raters or more."""
    rules = RULES in result.raters
    lines = ["", "by rater (overall; with others: the mean over the rater's pairs" +
             ("; with rules: the rater's pair with the rules)" if rules else ")")]
    heads = ["rater", "codings", "yes", "agree with others", "kappa with others", "alpha with others"]
    if rules:
        heads += ["agree with rules", "kappa with rules", "alpha with rules"]
    rows = []
    for name, row in result.by_rater.items():
        cells = [name, str(row["codings"]), str(row["yes"]),
                 *(_fmt(row["with_others"], m) for m in PAIR_MEASURES)]
        if rules:
            cells += [_fmt(row["with_rules"], m) if row.get("with_rules") else "-" for m in PAIR_MEASURES]
        rows.append(cells)
    lines.extend(_table(heads, rows))
    lines += ["", "pairs (intervals for agreement and kappa; alpha without one)"]
    rows = []
    for pair in result.pairs:
        a, b = pair["raters"]
        for code, row in [*pair["per_code"].items(), ("overall", pair["overall"])]:
            rows.append([f"{a} - {b}", code, str(row["units"]), f"{row['yes'][a]}/{row['yes'][b]}",
                         *(_fmt(row, m) for m in PAIR_MEASURES)])
    lines.extend(_table(["pair", "code", "units", "yes", "agree", "Cohen's kappa", "alpha"], rows))
    return lines
