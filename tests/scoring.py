"""Scoring coded sentences against hand-coded gold: shared by the generalisation tests.

Per theme: precision, recall, F1 and Cohen's kappa (from the 2x2 table of one theme's
presence in gold and prediction); overall micro-F1; a printable table for failures.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from conftest import make_doc

from qualcode.coding import code_document


@dataclass
class Scored:
    """One sentence: gold and predicted top-level themes and cases, and what fired."""

    text: str
    gold: frozenset[str]
    predicted: frozenset[str]
    gold_cases: frozenset[str]
    predicted_cases: frozenset[str]
    fired: dict[str, list[str]] = field(default_factory=dict)  # top-level theme -> ["code:'words'"]


@dataclass
class ThemeScore:
    theme: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return f1_score(self.tp, self.fp, self.fn)

    @property
    def kappa(self) -> float:
        return cohen_kappa(self.tp, self.fp, self.fn, self.tn)


def f1_score(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def cohen_kappa(tp: int, fp: int, fn: int, tn: int) -> float:
    """Cohen's kappa of two binary codings from their 2x2 table (1.0 when chance agreement is total)."""
    n = tp + fp + fn + tn
    if n == 0:
        return 1.0
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def score_sentences(compiled, items: list[dict], prefix: str) -> list[Scored]:
    """Code each gold item's text as its own document and pair it with its gold labels."""
    codes = compiled.codebook.codes

    def top(code: str) -> str:
        while codes[code].parent is not None:
            code = codes[code].parent
        return code

    out = []
    for i, item in enumerate(items):
        segments = code_document(make_doc(item["text"], f"{prefix}/{i:03d}.md"), compiled)
        fired: dict[str, list[str]] = {}
        for s in segments:
            for m in s.matches:
                fired.setdefault(top(m.code), []).append(f"{m.code}:{m.text!r}")
        out.append(Scored(
            text=item["text"],
            gold=frozenset(item.get("themes") or ()),
            predicted=frozenset(c for s in segments for c in s.codes if codes[c].parent is None),
            gold_cases=frozenset(item.get("cases") or ()),
            predicted_cases=frozenset(c for s in segments for c in s.cases),
            fired=fired,
        ))
    return out


def theme_scores(scored: list[Scored], themes: list[str]) -> dict[str, ThemeScore]:
    result = {}
    for theme in themes:
        tp = sum(theme in s.gold and theme in s.predicted for s in scored)
        fp = sum(theme not in s.gold and theme in s.predicted for s in scored)
        fn = sum(theme in s.gold and theme not in s.predicted for s in scored)
        result[theme] = ThemeScore(theme, tp, fp, fn, len(scored) - tp - fp - fn)
    return result


def micro(scores: dict[str, ThemeScore]) -> tuple[int, int, int]:
    return tuple(sum(getattr(s, k) for s in scores.values()) for k in ("tp", "fp", "fn"))  # type: ignore[return-value]


def table(scores: dict[str, ThemeScore]) -> str:
    lines = [f"{'theme':<16}{'P':>6}{'R':>6}{'F1':>6}{'kappa':>7}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for s in scores.values():
        lines.append(f"{s.theme:<16}{s.precision:6.2f}{s.recall:6.2f}{s.f1:6.2f}{s.kappa:7.2f}{s.tp:5d}{s.fp:5d}{s.fn:5d}")
    tp, fp, fn = micro(scores)
    lines.append(f"{'micro':<16}{tp / max(tp + fp, 1):6.2f}{tp / max(tp + fn, 1):6.2f}{f1_score(tp, fp, fn):6.2f}")
    return "\n".join(lines)


def gold_problems(items: list[dict], codebook) -> list[str]:
    """What is wrong with gold items: no text, themes that are not top-level codes, unknown
    cases, duplicate sentences."""
    codes, cases = codebook.codes, codebook.cases
    problems = []
    for item in items:
        if not isinstance(item.get("text"), str) or not item["text"].strip():
            problems.append(f"entry without text: {item!r}")
            continue
        problems += [f"{item['text'][:50]!r}: {t!r} is not a top-level theme" for t in item.get("themes") or ()
                     if t not in codes or codes[t].parent is not None]
        problems += [f"{item['text'][:50]!r}: {c!r} is not a case" for c in item.get("cases") or () if c not in cases]
    texts = [i["text"] for i in items if isinstance(i.get("text"), str)]
    problems += [f"duplicate sentence: {t!r}" for t in {t for t in texts if texts.count(t) > 1}]
    return problems
