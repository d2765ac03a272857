"""Benchmark: time grows linearly with the vocabulary, and parallel coding pays.

- ``growth``: coding 400, 800, 1,600 and 3,200 distinct documents of about 1,000 words
  with about 50 new words each (``benchmarks/synthetic.py``); seconds per 100 documents
  should stay flat. (Before the tables grew by doubling: 3.1, 14.5, 61.6 s for 400, 1,600,
  3,200 documents.)
- ``check``: ``check_project`` on codebooks of 10,000, 20,000 and 40,000 invented terms;
  seconds per 1,000 terms should stay flat.
- ``parallel``: the coding step (``code_corpus``) with 1 and 2 processes on the growing
  corpus of about a million words, and the whole ``qualcode code`` command end to end
  (start-up, reading the files, compiling, coding, writing JSONL) with ``-j 1`` and ``-j 2``.

CPU time (``process_time``; for ``-j 2`` the parent's plus the workers') is reported
beside the wall time: on a shared machine it is the steadier figure. Every figure is the
best of ``--repeat`` runs. Run by hand: ``python benchmarks/bench_growth.py [--quick]``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import growing_corpus, term_codebook, write_corpus  # noqa: E402


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _best(run, repeat: int, setup=lambda: None) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` calls of ``run(setup())``."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        arg = setup()
        wall, cpu = time.perf_counter(), _cpu()
        run() if arg is None else run(arg)
        best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
    return best


def growth(sizes: list[int], repeat: int) -> None:
    from qualcode.coding import code_corpus, compile_codebook

    print("coding a growing vocabulary (1 process, ~1,000 words and ~50 new words per document)")
    for n in sizes:
        docs = growing_corpus(n)

        # a fresh lexicon for each run (compiled untimed): the vocabulary grows from the codebook's
        wall, cpu = _best(lambda compiled: code_corpus(docs, compiled), repeat,
                          lambda: compile_codebook(ROOT / "codebook.yaml"))
        print(f"  {n:>5} documents: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {100 * cpu / n:.3f} s CPU per 100 documents",
              flush=True)


def check(sizes: list[int], repeat: int) -> None:
    from qualcode.project import check_project

    print("check on codebooks of invented terms")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"book{n}.yaml"
            path.write_text(term_codebook(n), encoding="utf-8")
            wall, cpu = _best(lambda: check_project(path, None), repeat)
            print(f"  {n:>6} terms: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {1000 * cpu / n:.3f} s CPU per 1,000 terms",
                  flush=True)


def parallel(documents: int, repeat: int) -> None:
    from qualcode.coding import code_corpus, compile_codebook

    docs = growing_corpus(documents)
    words = sum(len(d.text.split()) for d in docs)
    print(f"parallel coding: {documents} documents, {words:,} words")
    compiled = compile_codebook(ROOT / "codebook.yaml")
    code_corpus(docs, compiled)  # the vocabulary is known: both runs time coding alone
    serial = None
    for jobs in (1, 2):
        wall, cpu = _best(lambda: code_corpus(docs, compiled, jobs=jobs), repeat)
        serial = serial or wall
        print(f"  coding step, -j {jobs}: {wall:6.2f} s wall ({words / wall:,.0f} words/s), {cpu:6.2f} s CPU, "
              f"{serial / wall:.2f}x", flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(docs, Path(tmp) / "corpus")
        serial = None
        for jobs in (1, 2):
            cmd = [sys.executable, "-m", "qualcode", "code", "-q", "-j", str(jobs), "--corpus", str(Path(tmp) / "corpus"),
                   "--codebook", str(ROOT / "codebook.yaml"), "-o", str(Path(tmp) / "coding.jsonl")]
            wall, cpu = _best(lambda: subprocess.run(cmd, check=True, env=env), repeat)
            serial = serial or wall
            print(f"  qualcode code end to end, -j {jobs}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {serial / wall:.2f}x",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, the best counts (default 3)")
    parser.add_argument("--only", choices=("growth", "check", "parallel"), action="append",
                        help="run only this part (repeatable)")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    parts = args.only or ["growth", "check", "parallel"]
    if "growth" in parts:
        growth([100, 200, 400] if args.quick else [400, 800, 1600, 3200], repeat)
    if "check" in parts:
        check([2500, 5000, 10000] if args.quick else [10000, 20000, 40000], repeat)
    if "parallel" in parts:
        parallel(100 if args.quick else 1000, repeat)


if __name__ == "__main__":
    main()
