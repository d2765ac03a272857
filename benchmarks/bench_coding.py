"""Benchmark: segmentation + coding speed, peak memory and start-up time.

Builds a corpus of about one million words by repeating the bundled documents (each copy
under its own id), codes it with the full bundled codebook, and reports:

- words per second on one core (``jobs=1``) and with all cores (``jobs=os.cpu_count()``);
- peak memory (max RSS) of a fresh process that codes the million words and keeps the result;
- start-up time of ``qualcode --help`` and of ``qualcode code`` on the bundled corpus.

Run by hand (``make bench`` or ``python benchmarks/bench_coding.py``); figures go in the
README. Targets on a 2-core machine: >= 500,000 words/s on one core, < 500 MB peak for
a million words, < 0.3 s for ``qualcode --help``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_corpus(words: int):
    """Copies of the bundled documents until about ``words`` words."""
    from qualcode.corpus import load_corpus
    from qualcode.model import Document

    docs = load_corpus(ROOT / "corpus")
    per_round = sum(len(d.text[d.body_start:].split()) for d in docs)
    rounds = max(1, round(words / per_round))
    big = [Document(id=f"copy{i:04d}/{d.id}", text=d.text, meta=d.meta, body_start=d.body_start)
           for i in range(rounds) for d in docs]
    return big, per_round * rounds


def time_coding(words: int, jobs: int, repeat: int = 3) -> dict:
    """Best and median of ``repeat`` timed runs (this machine's timings vary by about 25%)."""
    from qualcode.coding import code_corpus, compile_codebook

    compiled = compile_codebook(ROOT / "codebook.yaml")
    docs, total = build_corpus(words)
    code_corpus(docs[:20], compiled)  # warm the tokenizer cache and the lexicon, as a long run would be
    times, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = len(code_corpus(docs, compiled, jobs=jobs))
        times.append(time.perf_counter() - started)
    best, median = min(times), sorted(times)[len(times) // 2]
    return {"jobs": jobs, "words": total, "documents": len(docs), "segments": count,
            "seconds": round(best, 3), "words_per_second": round(total / best),
            "median_words_per_second": round(total / median)}


def peak_memory(words: int) -> dict:
    """Max RSS of a fresh process that codes ``words`` words and keeps every segment."""
    code = ("import sys, resource; sys.path.insert(0, %r); from benchmarks.bench_coding import time_coding; "
            "r = time_coding(%d, 1, repeat=1); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)") % (str(ROOT), words)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    kib = int(out.stdout.split()[-1])
    return {"words": words, "peak_mb": round(kib / 1024, 1)}


def startup() -> dict:
    exe = [sys.executable, "-m", "qualcode"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def best(args: list[str], n: int) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(exe + args, check=True, capture_output=True, cwd=ROOT, env=env)
            times.append(time.perf_counter() - t)
        return round(min(times), 3)

    with tempfile.TemporaryDirectory() as tmp:
        return {"help_seconds": best(["--help"], 5),
                "code_bundled_seconds": best(["code", "-q", "-o", str(Path(tmp) / "c.jsonl")], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="corpus size in words (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = {
        "one_core": time_coding(args.words, 1),
        "all_cores": time_coding(args.words, os.cpu_count() or 1),
        "memory": peak_memory(args.words),
        "startup": startup(),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    one, every = results["one_core"], results["all_cores"]
    print(f"corpus: {one['words']:,} words, {one['documents']} documents, {one['segments']:,} segments")
    for r, what in ((one, "1 core:  "), (every, f"{every['jobs']} cores:")):
        print(f"segmentation + coding, {what} {r['words_per_second']:>10,} words/s best of 3 ({r['seconds']} s), "
              f"median {r['median_words_per_second']:,}")
    print(f"peak memory (1M words, kept):    {results['memory']['peak_mb']:>10} MB")
    print(f"qualcode --help:                 {results['startup']['help_seconds']:>10} s")
    print(f"qualcode code (bundled corpus):  {results['startup']['code_bundled_seconds']:>10} s")


if __name__ == "__main__":
    main()
