"""Whole documents of other genres: the hand-coded sets ``benchmarks/data/blind*`` (each a
``corpus/`` of eight documents in layouts unlike the paper's, and a ``gold.yaml`` of units
``{doc, quote, themes}``; see each set's README).

These sets were each read once as unseen text and are development sets now; the tests guard
what they showed about segmentation rather than measure generalisation:
- every document of the folder is read (a subtitle file once was not);
- no segment joins two gold units (a joined segment gives each unit the other's codes: a
  footnote reference and a sentence ending on ``p.m.`` once did);
- the lexicon's macro-F1 over the five themes stays above a floor about 0.05 under what it
  scored when this test was written (a unit gets the themes of the segments overlapping it).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from qualcode.codebook import load_codebook
from qualcode.corpus import SUFFIXES
from qualcode.project import code_project
from qualcode.suggest import top_themes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
THEMES = ("finance", "trust", "design", "government", "leadership")
FLOORS = {"blind": 0.64, "blind2": 0.51, "blind3": 0.63, "blind4": 0.59, "blind5": 0.51, "blind6": 0.63, "blind7": 0.54,
          "blind8": 0.56, "blind9": 0.47}  # macro-F1 - 0.05


@pytest.fixture(scope="module", params=sorted(FLOORS))
def coded_set(request, tmp_path_factory):
    folder = DATA / request.param
    corpus = tmp_path_factory.mktemp(request.param) / "corpus"
    shutil.copytree(folder / "corpus", corpus)
    coded = code_project(str(corpus), str(ROOT / "codebook.yaml"), store=None)
    gold = yaml.safe_load((folder / "gold.yaml").read_text(encoding="utf-8"))
    return request.param, folder, coded, gold


def _units(coded, gold):
    """(unit, its segments) per gold unit."""
    texts = {d.id: d.text for d in coded.documents}
    out = []
    for unit in gold:
        start = texts[unit["doc"]].index(unit["quote"])
        end = start + len(unit["quote"])
        out.append((unit, [s for s in coded.segments
                           if s.segment.doc == unit["doc"] and s.segment.start < end and start < s.segment.end]))
    return out


def test_generalisation_documents_every_file_is_read(coded_set):
    name, folder, coded, _ = coded_set
    files = sorted(p.name for p in (folder / "corpus").iterdir() if p.name.lower().endswith(SUFFIXES))
    assert files == sorted(p.name for p in (folder / "corpus").iterdir())  # the sets hold only corpus files
    assert sorted(d.id for d in coded.documents) == files


def test_generalisation_documents_no_segment_joins_two_units(coded_set):
    name, _, coded, gold = coded_set
    texts = {d.id: d.text for d in coded.documents}
    spans: dict[str, list[tuple[int, int]]] = {}
    for unit in gold:
        start = texts[unit["doc"]].index(unit["quote"])
        spans.setdefault(unit["doc"], []).append((start, start + len(unit["quote"])))
    joined = [f"{s.segment.doc}:{s.segment.line}: {s.text[:80]!r}" for s in coded.segments
              if sum(a < s.segment.end and s.segment.start < b for a, b in spans.get(s.segment.doc, ())) > 1]
    assert joined == []


def test_generalisation_documents_lexicon_macro_f1_floor(coded_set):
    name, _, coded, gold = coded_set
    book = load_codebook(str(ROOT / "codebook.yaml")).codebook
    f1s = []
    for theme in THEMES:
        tp = fp = fn = 0
        for unit, segments in _units(coded, gold):
            predicted = any(theme in top_themes(s.codes, book) for s in segments)
            actual = theme in unit["themes"]
            tp, fp, fn = tp + (predicted and actual), fp + (predicted and not actual), fn + (actual and not predicted)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    macro = sum(f1s) / len(f1s)
    assert macro >= FLOORS[name], dict(zip(THEMES, f1s))
