"""How long the theme network and the matrices take on a large synthetic corpus.

Target: graph and matrices for 100,000 segments and 200 codes in under 2 seconds.
Run by hand (not a test):  .venv/bin/python benchmarks/bench_graph.py [--segments N] [--codes K]

Prints the best of ``--repeat`` runs for each step: counting (tally), building the
graph, the three matrices, their sum (the target), then writing every export format
(GEXF and GraphML include the seeded ForceAtlas2 layout).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qualcode.export import write_graph  # noqa: E402
from qualcode.export.tables import MATRIX_KINDS, matrix_rows, write_matrix_table  # noqa: E402
from qualcode.graph import UNITS, graph_from_tally, tally  # noqa: E402
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Segment  # noqa: E402


def corpus(n_segments: int, n_codes: int, seed: int = 1):
    """A coded corpus with a Zipf-like use of codes, nested codes, a case hierarchy and front-matter cases."""
    rng = random.Random(seed)
    parents = [f"p{i:02d}" for i in range(max(1, n_codes // 10))]
    codes = {p: Code(p, p.upper(), color="#336699") for p in parents}
    for i in range(n_codes - len(parents)):
        cid = f"c{i:03d}"
        codes[cid] = Code(cid, cid.upper(), color=f"#{rng.randrange(0x1000000):06x}", parent=rng.choice(parents))
    cases = {f"country{i}": Case(f"country{i}", f"Country {i}", "country") for i in range(3)}
    cases |= {f"state{i}": Case(f"state{i}", f"State {i}", "state", f"country{i % 3}") for i in range(10)}
    cases |= {f"city{i}": Case(f"city{i}", f"City {i}", "city", f"state{i % 10}") for i in range(40)}
    codebook = Codebook(codes, cases)
    leaves = [c for c in codes if c not in parents]
    weights = [1 / (r + 1) for r in range(len(leaves))]
    case_ids = list(cases)
    n_docs = 100
    documents = [Document(f"{'interviews' if d % 2 else 'papers'}/doc{d:03d}.md", "",
                          {"title": f"Document {d}", "kind": "interview" if d % 2 else "paper"}) for d in range(n_docs)]
    segments = []
    per_doc = n_segments // n_docs
    for d, doc in enumerate(documents):
        context = (rng.choice(case_ids),)
        for i in range(per_doc):
            paragraph = i // 4 + 1
            applied = set(rng.choices(leaves, weights, k=rng.choice((0, 0, 1, 1, 2, 3))))
            applied |= {codes[c].parent for c in applied}
            named = tuple(rng.sample(case_ids, rng.choice((0, 0, 0, 1, 2))))
            seg = Segment(doc.id, f"{doc.id}#{i}", i * 100, i * 100 + 90, i + 1, "sentence", paragraph,
                          section=f"S{paragraph // 10}", section_start=(paragraph // 10) * 4000, item=None)
            segments.append(CodedSegment(seg, "text", tuple(sorted(applied)), named,
                                         tuple(c for c in context if c not in named)))
    return segments, codebook, documents


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def graph_and_matrices(segments, codebook, documents, unit="paragraph"):
    """The measured work, from the coded segments: (seconds per step, tally, graph)."""
    t0 = time.perf_counter()
    counts = tally(segments, codebook, documents, unit=unit)
    t1 = time.perf_counter()
    G = graph_from_tally(counts)  # measures every pair (p-values included)
    t2 = time.perf_counter()
    for kind in MATRIX_KINDS:
        matrix_rows(kind, counts)
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), counts, G


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--codes", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    segments, codebook, documents = corpus(args.segments, args.codes)
    print(f"corpus: {len(segments)} segments, {len(codebook.codes)} codes, {len(codebook.cases)} cases, "
          f"{len(documents)} documents")
    runs = [graph_and_matrices(segments, codebook, documents) for _ in range(args.repeat)]
    (t_tally, t_graph, t_mat), counts, G = min(runs, key=lambda r: sum(r[0]))
    print(f"tally (paragraph, {counts.n_units} units): {t_tally:.3f} s")
    print(f"graph ({G.number_of_nodes()} nodes, {G.number_of_edges()} edges, {len(counts.themes)} themes): "
          f"{t_graph:.3f} s")
    print(f"matrices (3): {t_mat:.3f} s")
    total = t_tally + t_graph + t_mat
    print(f"TOTAL graph + matrices, best of {args.repeat}: {total:.3f} s (target < 2 s: {'ok' if total < 2 else 'MISSED'})")
    for unit in UNITS:
        (a, b, c), counts_u, _ = graph_and_matrices(segments, codebook, documents, unit)
        print(f"  per {unit:<9} ({counts_u.n_units:>6} units): tally {a:.3f} s, graph {b:.3f} s, "
              f"matrices {c:.3f} s, total {a + b + c:.3f} s")
    t, _ = best(lambda: tally(segments, codebook, documents, roll_up="state", docs=["interview"]), 1)
    print(f"  tally, roll-up to state, interviews only: {t:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("graph.gexf", "graph.graphml", "graph.json", "graph.csv"):
            t, _ = best(lambda: write_graph(G, Path(tmp) / name), 1)
            print(f"write {name}: {t:.3f} s")
        t, _ = best(lambda: [write_matrix_table(k, counts, Path(tmp) / f"m-{k}.csv") for k in MATRIX_KINDS], 1)
        print(f"write matrices: {t:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
