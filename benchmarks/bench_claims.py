"""Benchmark: claims and traces over the million-word corpus.

Builds the corpus of ``bench_coding`` (copies of the bundled documents, about one million
words) and codes it once (not timed: that is ``qualcode code``'s work), then makes 200
claims from the candidates of the copies' papers (each anchored in its own copy) and
reports the seconds of:

- ``index``: building the evidence index (lemmas and BM25 of every segment, source
  pointers): done once per coded corpus, the part a project store would keep;
- ``link``: loading and checking the 200 claims (locating every anchor) and linking them;
- ``claims``: the evidence counts of all 200 claims (what ``qualcode claims`` computes);
- ``trace``: one claim's trace (what ``qualcode trace`` computes), median of 20 claims.

Run by hand: ``python benchmarks/bench_claims.py``; figures go in the README. Target on
a 2-core machine: ``claims`` and ``trace`` each under 1 s.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def claims_yaml(docs, segments, n: int) -> str:
    from qualcode.candidates import find_candidates

    papers = [d for d in docs if d.kind == "paper"]
    by_doc: dict[str, list] = {}
    for s in segments:
        by_doc.setdefault(s.segment.doc, []).append(s.segment)
    found = []
    for paper in papers:  # one paper at a time: the same passage in two copies is one candidate id
        found += find_candidates([paper], by_doc.get(paper.id, []))
        if len(found) >= n:
            break
    lines = ["claims:"]
    for i, c in enumerate(found[:n]):
        lines.append(c.yaml().replace(f"id: {c.id}", f"id: bench-{i:03d}").rstrip("\n"))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=200)
    args = parser.parse_args()

    from bench_coding import build_corpus

    from qualcode.claims import Coded, link_claims, parse_claims
    from qualcode.coding import code_corpus, compile_codebook
    from qualcode.codings import rule_codings
    from qualcode.evidence import EvidenceIndex, trace

    compiled = compile_codebook(ROOT / "codebook.yaml")
    docs, words = build_corpus(args.words)
    segments = code_corpus(docs, compiled)
    book = compiled.codebook
    codings = rule_codings(segments, book)
    text = claims_yaml(docs, segments, args.claims)
    out: dict = {"words": words, "documents": len(docs), "segments": len(segments)}

    started = time.perf_counter()
    coded = Coded(segments, codings, book, docs)
    index = EvidenceIndex(coded)
    out["index"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    claims = link_claims(parse_claims(text, "claims.yaml", docs, book), coded)
    out["link"] = round(time.perf_counter() - started, 3)
    out["claims_count"] = len(claims)

    started = time.perf_counter()
    for c in claims:
        index.summary(c)
    out["claims"] = round(time.perf_counter() - started, 3)

    times = []
    for c in claims[:20]:
        started = time.perf_counter()
        trace(c.id, claims, index)
        times.append(time.perf_counter() - started)
    out["trace"] = round(sorted(times)[len(times) // 2], 4)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
