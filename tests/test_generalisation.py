"""Generalisation: the bundled codebook against a held-out, hand-coded set of sentences.

``tests/data/heldout.yaml`` holds field-note sentences about small-firm clusters in many
countries and sectors (not the paper's wording), each with the top-level themes a careful
coder assigns and the cases it names. Every sentence is coded on its own with the real
engine; the top-level themes of its segments (``codes`` include ancestors, so a child such
as credit also brings finance) are compared with the gold per theme (precision, recall,
F1, Cohen's kappa) and overall (micro-F1), and the named cases by micro-F1.

The floors sit a little under what the codebook achieved when they were set, so that a
change to the codebook that loses held-out performance fails here; raise them as the
codebook improves. On failure the per-theme table and the sentences missed or wrongly
coded (with what fired) are printed.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scoring import Scored, ThemeScore, cohen_kappa, f1_score, gold_problems, score_sentences, table, theme_scores

from qualcode.codebook import load_codebook

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = Path(__file__).resolve().parent / "data" / "heldout.yaml"

# (F1 floor, kappa floor) per top-level theme; a theme not listed gets DEFAULT_FLOOR.
FLOORS: dict[str, tuple[float, float]] = {
    "cooperation": (0.92, 0.91),
    # 0.92 / 0.91 since promises count as trust ("the mayor promised a roof two years ago"):
    # this set's coder left "The Kenyan government promised sheds ..." without trust, while
    # the blind sets' coders gave trust to 15 of the 19 promises there (stop 21).
    "trust": (0.91, 0.90),
    "culture": (0.93, 0.92),
    "leadership": (0.93, 0.92),
    "finance": (0.92, 0.91),
    "crisis": (0.93, 0.92),
    "government": (0.93, 0.92),
    "markets": (0.90, 0.89),
    "specialisation": (0.93, 0.92),
    "quality": (0.93, 0.92),
    "design": (0.93, 0.92),
    "productivity": (0.93, 0.92),
    "technology": (0.83, 0.83),
    "education": (0.90, 0.90),
    "labour": (0.88, 0.88),
}
DEFAULT_FLOOR = (0.5, 0.45)
MICRO_F1_FLOOR = 0.92
CASE_F1_FLOOR = 0.95
UNCODED_FLOOR = 0.95  # share of the no-theme sentences (false friends, bare places) left uncoded
MIN_POSITIVES = 8  # gold sentences per theme, so that each theme's scores mean something


def _top_level_themes() -> list[str]:
    codes = load_codebook(ROOT / "codebook.yaml").codebook.codes
    return [c for c, code in codes.items() if code.parent is None]


THEMES = _top_level_themes()


def _load_heldout() -> list[dict]:
    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    return data["sentences"]


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    return _load_heldout()


@pytest.fixture(scope="module")
def scored(compiled, heldout) -> list[Scored]:
    return score_sentences(compiled, heldout, "heldout")


@pytest.fixture(scope="module")
def scores(scored) -> dict[str, ThemeScore]:
    return theme_scores(scored, THEMES)




def errors(scored: list[Scored], theme: str) -> str:
    """The sentences a theme missed and those it coded wrongly, with what fired."""
    lines = []
    for s in scored:
        if theme in s.gold and theme not in s.predicted:
            lines.append(f"  missed: {s.text}\n          (fired: {s.fired or 'nothing'})")
    for s in scored:
        if theme in s.predicted and theme not in s.gold:
            lines.append(f"  wrong:  {s.text}\n          (fired: {s.fired.get(theme)})")
    return "\n".join(lines) or "  (none)"


# -- the data itself ----------------------------------------------------------------------
def test_generalisation_heldout_is_well_formed(compiled, heldout):
    problems = gold_problems(heldout, compiled.codebook)
    assert not problems, "\n".join(problems)


def test_generalisation_heldout_covers_every_theme(heldout):
    counts = {t: sum(t in (i.get("themes") or ()) for i in heldout) for t in THEMES}
    thin = {t: n for t, n in counts.items() if n < MIN_POSITIVES}
    assert not thin, f"themes with fewer than {MIN_POSITIVES} held-out positives: {thin}"
    uncoded = sum(not i.get("themes") for i in heldout)
    assert uncoded >= 0.15 * len(heldout), f"only {uncoded} of {len(heldout)} sentences code no theme"


def test_generalisation_kappa_of_known_tables():
    assert cohen_kappa(10, 0, 0, 10) == pytest.approx(1.0)
    assert cohen_kappa(0, 10, 10, 0) == pytest.approx(-1.0)
    # 20 tp, 5 fp, 10 fn, 15 tn: po = .7, pe = (25*30 + 25*20) / 2500 = .5, kappa = .4
    assert cohen_kappa(20, 5, 10, 15) == pytest.approx(0.4)


# -- how well the codebook generalises -------------------------------------------------------
@pytest.mark.parametrize("theme", THEMES)
def test_generalisation_theme_f1_and_kappa(theme, scores, scored):
    s = scores[theme]
    f1_floor, kappa_floor = FLOORS.get(theme, DEFAULT_FLOOR)
    if s.f1 < f1_floor or s.kappa < kappa_floor:
        pytest.fail(f"{theme}: F1 {s.f1:.2f} (floor {f1_floor}), kappa {s.kappa:.2f} (floor {kappa_floor})\n"
                    f"{table(scores)}\n{theme} errors:\n{errors(scored, theme)}", pytrace=False)


def test_generalisation_micro_f1_over_themes(scores, scored):
    tp, fp, fn = (sum(getattr(s, k) for s in scores.values()) for k in ("tp", "fp", "fn"))
    micro = f1_score(tp, fp, fn)
    worst = sorted(scores.values(), key=lambda s: s.f1)[:3]
    if micro < MICRO_F1_FLOOR:
        pytest.fail(f"micro-F1 over themes {micro:.3f} < {MICRO_F1_FLOOR}\n{table(scores)}\n"
                    + "\n".join(f"{w.theme} errors:\n{errors(scored, w.theme)}" for w in worst), pytrace=False)


def test_generalisation_false_friends_stay_uncoded(scored):
    none = [s for s in scored if not s.gold]
    coded = [s for s in none if s.predicted]
    share = 1 - len(coded) / len(none)
    if share < UNCODED_FLOOR:
        pytest.fail(f"only {share:.0%} of the {len(none)} no-theme sentences stay uncoded (floor {UNCODED_FLOOR:.0%}):\n"
                    + "\n".join(f"  {s.text}\n    (fired: {s.fired})" for s in coded), pytrace=False)


def test_generalisation_named_cases_micro_f1(scored):
    tp = sum(len(s.gold_cases & s.predicted_cases) for s in scored)
    fp = sum(len(s.predicted_cases - s.gold_cases) for s in scored)
    fn = sum(len(s.gold_cases - s.predicted_cases) for s in scored)
    f1 = f1_score(tp, fp, fn)
    wrong = [f"  {s.text}\n    gold {sorted(s.gold_cases)}, got {sorted(s.predicted_cases)}"
             for s in scored if s.gold_cases != s.predicted_cases]
    if f1 < CASE_F1_FLOOR:
        pytest.fail(f"case micro-F1 {f1:.3f} < {CASE_F1_FLOOR} (tp {tp}, fp {fp}, fn {fn}):\n" + "\n".join(wrong),
                    pytrace=False)
