"""What the speed work must not change: amortised tables equal plain ones, batch paths
equal their one-at-a-time references, parallel output equals serial output byte for
byte, and what progress and the summary show. (No timings here: see benchmarks/.)"""
from __future__ import annotations

import argparse
import io
import sys

import numpy as np
import pytest

from conftest import ROOT, make_doc

from qualcode.cli import _progress, main
from qualcode.growing import GrowingArray
from qualcode.pipeline import fold

sys.path.insert(0, str(ROOT))
from benchmarks.synthetic import growing_corpus, invented  # noqa: E402


@pytest.mark.parametrize("shape, axis, batches", [
    ((), 0, [[1, 2], [], [3], list(range(4, 3000))]),
    ((3,), -1, [np.arange(6).reshape(3, 2), np.arange(3000).reshape(3, 1000), np.zeros((3, 0))]),
    ((2,), 0, [np.ones((5, 2)), np.arange(4000).reshape(2000, 2)]),
])
def test_growing_array_equals_concatenation(shape, axis, batches):
    grown = GrowingArray(np.int64, shape, axis=axis, fill=-1, capacity=4)
    for b in batches:
        grown.extend(b)
    whole = np.concatenate([np.asarray(b, dtype=np.int64).reshape((-1, *shape) if axis == 0 else (*shape, -1))
                            for b in batches], axis=axis)
    assert np.array_equal(grown.view, whole)
    assert len(grown) == whole.shape[axis]
    padding = grown.padded[len(grown)] if axis == 0 else grown.padded[..., len(grown)]
    assert (padding == -1).all()


def test_pipeline_lexicon_arrays_equal_plain_computation(pipeline):
    """Rows added in many small batches hold what each word's own analysis gives."""
    for doc in growing_corpus(30, words_per_document=200):
        pipeline.tokenize(doc.text)
    lex = pipeline.lexicon
    texts = lex.texts
    assert len(lex.array("form")) == len(texts) > 1000
    assert lex.array("form").tolist() == [lex.key(fold(t)) for t in texts]
    assert lex.array("lemma").tolist() == [lex.key(lex.lemma_of(t)) for t in texts]
    assert lex.array("exact").tolist() == [lex.exact_key(t) for t in texts]
    assert lex.array("lower").tolist() == [lex.key(t.lower()) for t in texts]
    assert lex.array("length").tolist() == [len(t) for t in texts]
    assert lex.array("flags").tolist() == [lex._flags_of(t) for t in texts]
    strings = pipeline.nlp.vocab.strings
    assert [strings[int(h)] for h in lex.array("form_hash")] == [fold(t) for t in texts]
    assert np.array_equal(lex.attr_values, np.stack([lex.array("lemma_hash"), lex.array("form_hash")], axis=1))


def test_coding_sequence_keys_batch_equals_one_by_one(compiled):
    batch = compiled._sequence_keys()
    assert len(batch) > 1000
    assert batch == {i: compiled._keys(s) for i, s in enumerate(compiled.specs) if i in batch}


def test_coding_build_of_resolve_is_code(compiled, bundled):
    docs, segs = bundled
    rebuilt = [s for d in docs for s in compiled.build(d, compiled.resolve(d))]
    assert [s.to_record() for s in rebuilt] == [s.to_record() for s in segs]


@pytest.mark.parametrize("corpus", ["bundled", "generated"])
def test_coding_parallel_output_byte_identical(compiled, bundled, tmp_path, corpus):
    from qualcode.coding import code_corpus
    from qualcode.output import write_coding

    docs = bundled[0] if corpus == "bundled" else growing_corpus(60, words_per_document=300, seed=7)
    for jobs in (1, 2):
        write_coding(code_corpus(docs, compiled, jobs=jobs), tmp_path / f"j{jobs}.jsonl")
    serial = (tmp_path / "j1.jsonl").read_bytes()
    assert serial.count(b'"codes":["') > 10
    assert (tmp_path / "j2.jsonl").read_bytes() == serial


def test_synthetic_corpus_vocabulary_grows():
    """The benchmark corpus brings new words with every document, unlike copies of one."""
    docs = growing_corpus(20, words_per_document=300, new_words=50)
    assert len({d.text for d in docs}) == 20
    seen: set[str] = set()
    for d in docs:
        words = set(d.text.split())
        assert len(words - seen) >= 50
        seen |= words
    assert len({invented(n) for n in range(20000)}) == 20000


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _clock(times):
    it = iter(times)
    return lambda: next(it)


@pytest.mark.parametrize("times, shown", [
    # first document done at t=10: the rate and time left start from there
    ([10.0, 11.0, 12.0, 14.0], ["coding 1/4 documents (25%), - words/s, - left",
                                "coding 2/4 documents (50%), 4 words/s, 0:02 left",
                                "coding 3/4 documents (75%), 4 words/s, 0:01 left",
                                "coding 4/4 documents (100%), 3 words/s, 0:00 left"]),
    ([0.0, 4000.0, 4000.5, 4001.0], ["coding 1/4 documents (25%), - words/s, - left",
                                     "coding 2/4 documents (50%), 0 words/s, 2:13:20 left",
                                     "coding 3/4 documents (75%), 0 words/s, 33:20 left",
                                     "coding 4/4 documents (100%), 0 words/s, 0:00 left"]),
    # redrawn at most ten times a second; the last document is always shown
    ([0.0, 0.01, 0.02, 0.03], ["coding 1/4 documents (25%), - words/s, - left",
                               "coding 4/4 documents (100%), 400 words/s, 0:00 left"]),
])
def test_cli_progress_shows_done_percent_rate_and_time_left(times, shown):
    out = Terminal()
    show = _progress(argparse.Namespace(quiet=False), stream=out, clock=_clock(times))
    doc = make_doc("Four words in here.")
    for n in range(1, 5):
        show(n, 4, doc)
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    assert [line.removesuffix("\x1b[K") for line in text.strip().split("\r") if line] == shown


@pytest.mark.parametrize("quiet, stream", [(False, io.StringIO()), (True, Terminal())])
def test_cli_progress_none_off_a_terminal_or_quiet(quiet, stream):
    assert _progress(argparse.Namespace(quiet=quiet), stream=stream) is None


def test_cli_summary_gives_wall_time_of_the_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no codings/ folder of the repository's
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("They took a loan.\n")
    (tmp_path / "book.yaml").write_text("codes:\n  - id: finance\n    label: Finance\n    patterns:\n"
                                        "      terms: [loan]\n")
    assert main(["code", "--corpus", str(tmp_path / "corpus"), "--codebook", str(tmp_path / "book.yaml"),
                 "-o", str(tmp_path / "c.jsonl")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("coded 1 segments in 1 documents: 1 with codes, 1 code applications, 0 case mentions; ")
    assert " s in all, coding " in err and err.count("coding ") == 1  # no progress: stderr is not a terminal
