"""Benchmark: the project store on a million words, every figure from a separate process.

Builds 1,000 distinct documents of about 1,000 words each by shuffling the paragraphs of the
bundled documents across them (seeded), writes them to a temporary project with the bundled
codebook, and reports:

- a full ``qualcode run`` end to end (files to every output) with a new store, and the same
  with ``--no-store`` (what the store costs);
- a re-run after touching one document (target: under 10% of the full run), for ``run``
  (which rewrites every output) and for ``code`` (the coding output only);
- the store's size;
- ``qualcode segments --code finance`` on that store (target: under 0.5 s).

Run by hand (``python benchmarks/bench_store.py``); figures go in the README.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_project(folder: Path, documents: int = 1000, words: int = 1000, seed: int = 1998) -> int:
    """Write ``documents`` files of about ``words`` words, each a seeded shuffle of paragraphs
    drawn from all bundled documents, with the front matter of one of them. Returns the words."""
    from qualcode.corpus import load_corpus

    rng = random.Random(seed)
    bundled = load_corpus(ROOT / "corpus")
    paragraphs = [p.strip() for d in bundled for p in re.split(r"\n\s*\n", d.text[d.body_start:]) if p.strip()]
    heads = [d.text[:d.body_start] for d in bundled]
    corpus = folder / "corpus"
    total = 0
    for n in range(documents):
        body, count = [], 0
        while count < words:
            p = rng.choice(paragraphs)
            body.append(p)
            count += len(p.split())
        total += count
        sub = corpus / f"set{n % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{n:04d}.md").write_text(rng.choice(heads) + "\n\n".join(body) + "\n", encoding="utf-8")
    shutil.copy(ROOT / "codebook.yaml", folder / "codebook.yaml")
    return total


CPU: dict[str, float] = {}  # the CPU seconds (user + system) of each timed command, best of its repeats


def timed(args: list[str], cwd: Path, repeat: int = 1) -> tuple[float, str]:
    """The best wall time of ``repeat`` runs of ``qualcode ARGS`` (its CPU time goes to ``CPU``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times, cpus, err = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "qualcode", *args], capture_output=True, text=True, cwd=cwd,
                             env=env, check=True)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        err = out.stderr
    CPU[" ".join(args)] = round(min(cpus), 3)
    return round(min(times), 3), err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--words", type=int, default=1000, help="words per document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        words = build_project(folder, args.documents, args.words)
        full, err = timed(["run", "-q", "-o", "out"], folder)
        no_store, _ = timed(["run", "-q", "--no-store", "-o", "out-full"], folder)
        store = folder / ".qualcode" / "project.sqlite"
        size = store.stat().st_size
        rerun_times = []
        for i in range(3):
            doc = folder / "corpus" / "set3" / "doc0003.md"
            doc.write_text(doc.read_text() + f"\nThey asked the bank for loan number {i}.\n")
            t, err = timed(["run", "-o", "out"], folder)
            rerun_times.append(t)
        assert "recoded 1 of" in err, err
        code_full, _ = timed(["code", "-q", "--store", "code.sqlite", "-o", "c.jsonl"], folder)
        doc.write_text(doc.read_text() + "\nThey asked the bank again.\n")
        code_rerun, _ = timed(["code", "-q", "--store", "code.sqlite", "-o", "c.jsonl"], folder)
        segments, _ = timed(["segments", "-q", "--code", "finance"], folder, repeat=3)
        result = {
            "documents": args.documents, "words": words,
            "full_run_seconds": full, "full_run_no_store_seconds": no_store,
            "rerun_one_touched_seconds": min(rerun_times),
            "rerun_share_of_full": round(min(rerun_times) / full, 3),
            "code_full_seconds": code_full, "code_rerun_one_touched_seconds": code_rerun,
            "code_rerun_share_of_full": round(code_rerun / code_full, 3),
            "store_mb": round(size / 2**20, 1),
            "segments_code_finance_seconds": segments,
            "rerun_message": [line for line in err.splitlines() if line.startswith("recoded")],
            "cpu_seconds": dict(CPU), "load_average": os.getloadavg(),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
