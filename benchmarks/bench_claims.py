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

With ``--end-to-end FOLDER``: the same corpus and 200 claims are written to ``FOLDER``
(``corpus/``, ``codebook.yaml``, ``claims.yaml``), ``qualcode code`` builds the project store
once, the first ``qualcode claims`` builds the study and writes the claims cache (timed once:
``claims_first``), then ``qualcode claims``, ``qualcode claims --format json``, ``qualcode
trace bench-005`` (text and JSON) and ``trace bench-005 --limit 30`` (not remembered by the
cache: it ranks again) run as separate processes, ``--repeat`` times each: best and median
wall seconds, best CPU seconds (user + system), and the load average before and after; then
one ``claims`` after a comment is added to the claims file and one after a statement gains a
word the corpus lacks (``claims_relinked``, ``claims_relinked_new_word``: the claims are linked
again over the cached evidence index).

Run by hand: ``python benchmarks/bench_claims.py [--end-to-end /tmp/claims-bench]``; figures
go in the README. Target on a 2-core machine: ``qualcode claims`` and ``qualcode trace``
each under 1 s end to end on a built store.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
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


def write_project(folder: Path, docs, claims_text: str) -> None:
    """The corpus, the codebook and the claims as files of a project in ``folder``."""
    if (folder / "corpus").exists():
        shutil.rmtree(folder / "corpus")
    for d in docs:
        path = folder / "corpus" / d.id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(d.text, encoding="utf-8")
    shutil.copy(ROOT / "codebook.yaml", folder / "codebook.yaml")
    (folder / "claims.yaml").write_text(claims_text, encoding="utf-8")


def timed(args: list[str], cwd: Path, repeat: int) -> dict:
    """Wall seconds (best, median) and the best CPU seconds of ``repeat`` runs of ``qualcode ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qualcode", *args], cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"best": round(min(walls), 3), "median": round(sorted(walls)[len(walls) // 2], 3),
            "cpu": round(min(cpus), 3)}


def end_to_end(folder: Path, words: int, n: int, repeat: int) -> dict:
    """Write the project, build its store with ``qualcode code``, time claims and trace as processes."""
    from bench_coding import build_corpus

    from qualcode.coding import code_corpus, compile_codebook

    folder.mkdir(parents=True, exist_ok=True)
    docs, total = build_corpus(words)
    segments = code_corpus(docs, compile_codebook(ROOT / "codebook.yaml"))
    write_project(folder, docs, claims_yaml(docs, segments, n))
    shutil.rmtree(folder / ".qualcode", ignore_errors=True)  # a new store: code builds it, claims its cache
    out: dict = {"words": total, "documents": len(docs), "segments": len(segments), "claims_count": n,
                 "load_before": os.getloadavg()}
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "qualcode", "code", "-q", "-o", "coding.jsonl"], cwd=folder, env=env,
                   check=True)
    out["code"] = round(time.perf_counter() - started, 1)
    out["claims_first"] = timed(["claims"], folder, 1)  # builds the study and writes the claims cache
    cache = folder / ".qualcode" / "project.claims.sqlite"
    out["claims_cache_mb"] = round(cache.stat().st_size / 1e6, 1) if cache.exists() else None
    for name, args in (("claims", ["claims"]), ("claims_json", ["claims", "--format", "json"]),
                       ("trace", ["trace", "bench-005"]), ("trace_json", ["trace", "bench-005", "--format", "json"]),
                       ("trace_limit_30", ["trace", "bench-005", "--limit", "30"])):
        out[name] = timed(args, folder, repeat)
    claims = folder / "claims.yaml"
    text = claims.read_text(encoding="utf-8")
    try:  # only the claims file changes: its claims are linked again over the cached evidence index
        claims.write_text(text + "# edited\n", encoding="utf-8")
        out["claims_relinked"] = timed(["claims"], folder, 1)
        claims.write_text(text.replace("statement: ", "statement: Zygomorphic ", 1), encoding="utf-8")
        out["claims_relinked_new_word"] = timed(["claims"], folder, 1)  # a lemma spaCy must look up
    finally:
        claims.write_text(text, encoding="utf-8")
    out["load_after"] = os.getloadavg()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--end-to-end", type=Path, default=None, metavar="FOLDER",
                        help="write the project to FOLDER and time qualcode claims and trace as processes")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.end_to_end is not None:
        print(json.dumps(end_to_end(args.end_to_end, args.words, args.claims, args.repeat), indent=2))
        return

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
