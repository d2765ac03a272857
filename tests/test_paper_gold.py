"""Agreement with a blind hand-coding of the paper.

``tests/data/paper_gold.yaml`` holds every third segment of the bundled paper, coded by a
person from the codebook's definitions alone (without the patterns or the engine's
output): the top-level themes and the named cases. This guards the coding of the study's
own text, as the held-out sets guard other field notes.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

GOLD = yaml.safe_load((Path(__file__).resolve().parent / "data" / "paper_gold.yaml").read_text(encoding="utf-8"))
MICRO_F1_FLOOR = 0.88  # 0.91 when the gold was made, 0.92 now
CASE_F1_FLOOR = 0.95


def _f1(pairs: list[tuple[set, set]]) -> float:
    tp = sum(len(g & p) for g, p in pairs)
    fp = sum(len(p - g) for g, p in pairs)
    fn = sum(len(g - p) for g, p in pairs)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


@pytest.fixture(scope="module")
def coded(bundled, compiled):
    _, segments = bundled
    by_id = {s.segment.id: s for s in segments}
    top = {c for c, code in compiled.codebook.codes.items() if code.parent is None}
    out = []
    for item in GOLD:
        seg = by_id.get(item["id"])
        assert seg is not None and seg.text == item["text"], f"segmentation changed at {item['id']}"
        out.append((item, {c for c in seg.codes if c in top}, set(seg.cases)))
    return out


def test_paper_gold_is_a_real_sample():
    assert len(GOLD) >= 100 and all({"id", "text", "themes", "cases"} <= set(item) for item in GOLD)


def test_paper_gold_theme_agreement(coded):
    pairs = [(set(item["themes"]), themes) for item, themes, _ in coded]
    assert _f1(pairs) >= MICRO_F1_FLOOR, [(i["text"][:60], sorted(i["themes"]), sorted(t)) for i, t, _ in coded
                                          if set(i["themes"]) != t]


def test_paper_gold_case_agreement(coded):
    pairs = [(set(item["cases"]), cases) for item, _, cases in coded]
    assert _f1(pairs) >= CASE_F1_FLOOR
