"""Agreement: the statistics against published worked examples and second implementations,
the units a coder read, the disagreement list with its rules, and the command's outputs."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import DATA, ROOT

from qualcode.agree import agree, alpha, batch_stats, fleiss, measure, pairwise, rater_breakdown, render
from qualcode.errors import QualcodeError


def rows(*pairs: tuple[tuple[int, ...], int]) -> np.ndarray:
    """Decisions (units, raters) from (decision of each rater, how many units) pairs."""
    return np.array([d for d, k in pairs for _ in range(k)], dtype=bool)


# -- published worked examples ------------------------------------------------------------

def test_agree_cohen_kappa_worked_example():
    # Wikipedia, "Cohen's kappa", simple example: 50 grant proposals read by A and B; both
    # yes 20, A yes B no 5, A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    x = rows(((1, 1), 20), ((1, 0), 5), ((0, 1), 10), ((0, 0), 15))
    got = batch_stats(x[None])
    assert got["percent"][0] == pytest.approx(0.7)
    assert got["cohen_kappa"][0] == pytest.approx(0.4)
    # A as reference: B says yes to 30, 20 of them right; A's 25 yeses, B finds 20.
    assert got["precision"][0] == pytest.approx(20 / 30)
    assert got["recall"][0] == pytest.approx(20 / 25)
    assert got["f1"][0] == pytest.approx(2 * 20 / (2 * 20 + 10 + 5))


FLEISS_1971_WIKIPEDIA = [  # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]


def test_agree_fleiss_kappa_worked_example():
    # P-bar = 0.378, P-e = 0.213, kappa = 0.210 (to three places, as published).
    assert float(fleiss(np.array(FLEISS_1971_WIKIPEDIA))) == pytest.approx(0.210, abs=5e-4)


def test_agree_krippendorff_alpha_worked_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", A: binary data,
    # two observers, no missing data: alpha = 1 - 19 * 4 / (14 * 6) = 0.095.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert alpha(np.array([a, b], dtype=bool).T) == pytest.approx(1 - 19 * 4 / (14 * 6))


@pytest.mark.parametrize("x, percent, kappa", [
    (rows(((1, 1), 5)), 1.0, None),                 # one category everywhere: kappa undefined, not 1 or 0
    (rows(((0, 0), 3), ((1, 1), 3)), 1.0, 1.0),
    (rows(((1, 0), 2), ((0, 1), 2)), 0.0, -1.0),
])
def test_agree_degenerate_tables(x, percent, kappa):
    got = measure(x, 0, 0, 0, 0.95)
    assert got["percent"] == percent and got["cohen_kappa"] == kappa
    assert (got["alpha"] is None) == (kappa is None)


# -- second implementations ----------------------------------------------------------------

def random_tables():
    rng = np.random.default_rng(7)
    for n in (8, 30, 200):
        for p in (0.1, 0.5):
            base = rng.random(n) < p
            yield np.stack([base ^ (rng.random(n) < 0.2), base ^ (rng.random(n) < 0.3), base], axis=1)


def test_agree_kappas_equal_scikit_learn_and_statsmodels():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    for x in random_tables():
        two = x[:, :2]
        got = batch_stats(two[None])
        assert got["cohen_kappa"][0] == pytest.approx(sklearn_metrics.cohen_kappa_score(two[:, 0], two[:, 1]))
        table = np.array([[np.sum(~two[:, 0] & ~two[:, 1]), np.sum(~two[:, 0] & two[:, 1])],
                          [np.sum(two[:, 0] & ~two[:, 1]), np.sum(two[:, 0] & two[:, 1])]])
        assert got["cohen_kappa"][0] == pytest.approx(inter_rater.cohens_kappa(table, return_results=False))
        p, r, f, _ = sklearn_metrics.precision_recall_fscore_support(two[:, 0], two[:, 1], average="binary")
        assert (got["precision"][0], got["recall"][0], got["f1"][0]) == pytest.approx((p, r, f))
        counts, _ = inter_rater.aggregate_raters(x.astype(int))
        assert batch_stats(x[None])["fleiss_kappa"][0] == pytest.approx(inter_rater.fleiss_kappa(counts))
    assert float(fleiss(np.array(FLEISS_1971_WIKIPEDIA))) == pytest.approx(
        inter_rater.fleiss_kappa(np.array(FLEISS_1971_WIKIPEDIA)))


def test_agree_bootstrap_is_seeded_and_brackets_the_estimate():
    x = next(iter(random_tables()))
    x = np.concatenate([x] * 5)[:, :2]
    a, b = measure(x, 0, 300, 1, 0.95), measure(x, 0, 300, 1, 0.95)
    assert a == b
    assert measure(x, 0, 300, 2, 0.95)["cohen_kappa_ci"] != a["cohen_kappa_ci"]
    for m in ("percent", "cohen_kappa", "alpha", "f1"):
        low, high = a[f"{m}_ci"]
        assert low <= a[m] <= high and low < high


# -- three raters or more: every pair, every rater -------------------------------------------

WIKIPEDIA_COHEN = rows(((1, 1), 20), ((1, 0), 5), ((0, 1), 10), ((0, 0), 15))  # raters A, B as above
KRIPPENDORFF_2011_BINARY = np.array([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]], dtype=bool).T


def _with_copy(x: np.ndarray, of: int) -> np.ndarray:
    """Decisions (1 code, units, 3 raters): raters A and B of ``x``, and C a copy of rater ``of``."""
    return np.concatenate([x, x[:, of:of + 1]], axis=1)[None]


def _pair(pairs, a, b):
    return next(p for p in pairs if p["raters"] == [a, b])


@pytest.mark.parametrize("x, pair, figure, expected", [
    # Wikipedia, "Cohen's kappa", simple example (p_o = 0.7, kappa = 0.4) as the pair A-B;
    # C copies A, so A-C agree fully and B-C is the published example again.
    (_with_copy(WIKIPEDIA_COHEN, 0), ("A", "B"), "cohen_kappa", 0.4),
    (_with_copy(WIKIPEDIA_COHEN, 0), ("A", "B"), "percent", 0.7),
    (_with_copy(WIKIPEDIA_COHEN, 0), ("A", "C"), "cohen_kappa", 1.0),
    (_with_copy(WIKIPEDIA_COHEN, 0), ("B", "C"), "cohen_kappa", 0.4),
    # Krippendorff (2011), binary data, two observers: alpha = 0.095 as the pair A-B; C copies B.
    (_with_copy(KRIPPENDORFF_2011_BINARY, 1), ("A", "B"), "alpha", 1 - 19 * 4 / (14 * 6)),
    (_with_copy(KRIPPENDORFF_2011_BINARY, 1), ("A", "C"), "alpha", 1 - 19 * 4 / (14 * 6)),
    (_with_copy(KRIPPENDORFF_2011_BINARY, 1), ("B", "C"), "alpha", 1.0),
    (_with_copy(KRIPPENDORFF_2011_BINARY, 1), ("A", "B"), "percent", 0.6),
])
def test_agree_pairwise_worked_examples(x, pair, figure, expected):
    pairs = pairwise(x, ["A", "B", "C"], ["c"], 0, 0, 0.95)
    assert [p["raters"] for p in pairs] == [["A", "B"], ["A", "C"], ["B", "C"]]
    got = _pair(pairs, *pair)
    assert got["per_code"]["c"][figure] == pytest.approx(expected, abs=1e-4)
    assert got["overall"][figure] == got["per_code"]["c"][figure]  # one code: overall is that code


def test_agree_rater_breakdown_is_the_mean_of_its_pairs():
    # Wikipedia's example with C a copy of A: A's pairs have kappa 0.4 (B) and 1 (C), so A's
    # mean with the others (Light's kappa for one rater) is 0.7; B's pairs are both 0.4.
    pairs = pairwise(_with_copy(WIKIPEDIA_COHEN, 0), ["A", "B", "C"], ["c"], 0, 0, 0.95)
    got = rater_breakdown(pairs, ["A", "B", "C"], {"A": 25, "B": 30})
    assert got["A"]["with_others"]["cohen_kappa"] == pytest.approx(0.7)
    assert got["B"]["with_others"]["cohen_kappa"] == pytest.approx(0.4)
    assert got["B"]["with_others"]["percent"] == pytest.approx(0.7)
    assert (got["A"]["codings"], got["A"]["yes"], got["B"]["yes"], got["C"]["codings"]) == (25, 25, 30, 0)
    assert "with_rules" not in got["A"]  # no rules among the raters
    with_rules = rater_breakdown(pairwise(_with_copy(WIKIPEDIA_COHEN, 0), ["rules", "B", "C"], ["c"], 0, 0, 0.95),
                                 ["rules", "B", "C"], {})
    assert with_rules["B"]["with_rules"]["cohen_kappa"] == pytest.approx(0.4)
    assert with_rules["C"]["with_rules"]["cohen_kappa"] == pytest.approx(1.0)


def test_agree_pairwise_equals_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(11)
    for n in (12, 40, 300):
        base = rng.random((3, n)) < 0.3  # three codes
        x = np.stack([base ^ (rng.random((3, n)) < p) for p in (0.05, 0.15, 0.25, 0.4)], axis=2)  # four raters
        names = ["r0", "r1", "r2", "r3"]
        pairs = pairwise(x, names, ["c0", "c1", "c2"], 0, 0, 0.95)
        assert len(pairs) == 6
        for pair in pairs:
            i, j = (names.index(r) for r in pair["raters"])
            for k in range(3):
                a, b = x[k, :, i], x[k, :, j]
                row = pair["per_code"][f"c{k}"]
                assert row["cohen_kappa"] == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b), abs=1e-4)
                assert row["percent"] == pytest.approx(np.mean(a == b), abs=1e-4)
                assert row["alpha"] == pytest.approx(krippendorff.alpha(
                    reliability_data=np.stack([a, b]).astype(int), level_of_measurement="nominal"), abs=1e-4)
            a, b = x[:, :, i].ravel(), x[:, :, j].ravel()  # overall: every unit-code decision pooled
            assert pair["overall"]["cohen_kappa"] == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b), abs=1e-4)
            assert pair["overall"]["decisions"] == 3 * n


def test_agree_pairwise_intervals_are_seeded():
    x = _with_copy(WIKIPEDIA_COHEN, 0)
    a, b = pairwise(x, ["A", "B", "C"], ["c"], 200, 3, 0.95), pairwise(x, ["A", "B", "C"], ["c"], 200, 3, 0.95)
    assert a == b
    low, high = _pair(a, "A", "B")["per_code"]["c"]["cohen_kappa_ci"]
    assert low < 0.4 < high
    assert "alpha_ci" not in _pair(a, "A", "B")["per_code"]["c"]  # see pairwise: alpha has no interval per pair


# -- the bundled sample ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    return agree(ROOT / "corpus", ROOT / "codebook.yaml", [DATA / "agreement" / "garment-sample.csv"],
                 resamples=200)


def test_agree_bundled_sample_units_codes_and_figures(sample):
    assert sample.raters == ["rules", "coder1"] and sample.reference == "coder1"
    assert sample.units == sample.segments == 41 and sample.coders_units == {"coder1": 41}
    assert sample.codes == ["cooperation", "finance", "crisis", "government", "markets", "exports", "quality",
                            "design", "labour"]
    assert sample.left_out == {"specialisation": ["coder1"], "education": ["coder1"],
                               "technical-assistance": ["coder1"]}
    assert sample.per_code["exports"]["yes"] == {"rules": 5, "coder1": 5}
    assert sample.per_code["exports"]["cohen_kappa"] == 1.0
    assert sample.overall["decisions"] == 41 * 9
    # Every figure is what the disagreements imply: agreement = 1 - disagreements / decisions.
    assert sample.overall["percent"] == pytest.approx(1 - len(sample.disagreements) / (41 * 9), abs=1e-4)


def test_agree_disagreements_name_the_rule_and_the_passage(sample):
    d = next(d for d in sample.disagreements if d["doc"] == "interviews/xoxtla-garment.md")
    assert (d["code"], d["applied"]) == ("cooperation", {"rules": True, "coder1": False})
    assert d["text"] == "Garment integradora case of Xoxtla, Puebla"
    text = (ROOT / "corpus" / d["doc"]).read_text(encoding="utf-8")
    assert text[d["start"]:d["end"]] == d["text"] and text.count("\n", 0, d["start"]) + 1 == d["line"]
    [why] = d["why"]
    assert why["pattern"] == "term:integradora" and why["text"] == "integradora"
    line, col = map(int, why["rule"].split(":")[1:])
    assert "integradora" in (ROOT / "codebook.yaml").read_text(encoding="utf-8").splitlines()[line - 1][col - 1:]


def test_agree_outputs_text_json_csv(sample):
    text = render(sample, "text")
    assert "units: 41 segments (41 segments read by every coder; coder1 read 41)" in text
    assert "codes left out (used by one rater only): specialisation (coder1)" in text
    assert "interviews/xoxtla-garment.md:18: cooperation: applied by rules; not by coder1" in text
    data = json.loads(render(sample, "json"))
    assert data["per_code"]["markets"] == sample.per_code["markets"] and data["bootstrap"]["resamples"] == 200
    table = list(csv.DictReader(io.StringIO(render(sample, "csv"))))
    assert [r["code"] for r in table] == [*sample.codes, "(overall)"]
    assert float(table[0]["cohen_kappa"]) == sample.per_code["cooperation"]["cohen_kappa"]
    listed = list(csv.DictReader(io.StringIO(render(sample, "csv", "disagreements"))))
    assert len(listed) == len(sample.disagreements) and listed[0]["why"].startswith("rules: term:")


# -- a small project: units, coders, errors ------------------------------------------------

CODEBOOK = ("codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, credit]\n"
            "  - id: credit\n    label: Credit\n    parent: finance\n    patterns:\n      terms: [credit]\n"
            "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n")
DOC_A = "They took a loan from the bank. Design matters here.\n\nThe firms got credit. Nothing else.\n"


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text(DOC_A, encoding="utf-8")
    (tmp_path / "corpus" / "b.md").write_text("A new design. Credit was short.\n", encoding="utf-8")
    (tmp_path / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "ana.yaml").write_text(
        "coder: ana\ncodings:\n  - {doc: a.md, quote: They took a loan, code: finance}\n"
        "  - {doc: a.md, quote: The firms got credit, code: credit}\n"
        "seen:\n  - {doc: a.md, quote: Design matters here.}\n  - {doc: a.md, quote: Nothing else.}\n",
        encoding="utf-8")
    (tmp_path / "ben.csv").write_text(
        "doc,start,end,code,coder\n"
        "a.md,0,31,,ben\na.md,32,52,design,ben\na.md,54,75,credit,ben\na.md,76,89,,ben\nb.md,0,13,design,ben\n",
        encoding="utf-8")
    return tmp_path


def run(project, *coders, **options):
    return agree(project / "corpus", project / "codebook.yaml", [project / c for c in coders], resamples=50,
                 **options)


@pytest.mark.parametrize("coders, options, units, codes, percent", [
    # ana read the four sentences of a.md; the rules code all of them as she does but 'design'.
    (("ana.yaml",), {}, 4, ["finance", "credit"], 1.0),
    (("ana.yaml",), {"codes": ["design"]}, 4, ["design"], 0.75),
    # ben read a.md and the first sentence of b.md: five units.
    (("ben.csv",), {}, 5, ["finance", "credit", "design"], 1 - 1 / 15),
    # coder against coder on the four sentences both read: design is ben's alone; finance both
    # use (ben's by credit), they differ on it in the first sentence only: 7 of 8 decisions agree.
    (("ana.yaml", "ben.csv"), {"rules": False}, 4, ["finance", "credit"], 7 / 8),
    # three raters by paragraph: the first paragraph has loan and design (rules), finance (ana),
    # design (ben): finance and design differ there, the second paragraph agrees: 4 of 6.
    (("ana.yaml", "ben.csv"), {"unit": "paragraph"}, 2, ["finance", "credit", "design"], 4 / 6),
    (("ana.yaml", "ben.csv"), {"unit": "document"}, 1, ["finance", "credit", "design"], 2 / 3),
])
def test_agree_units_read_and_codes_compared(project, coders, options, units, codes, percent):
    got = run(project, *coders, **options)
    assert (got.units, got.codes) == (units, codes)
    assert got.overall["percent"] == pytest.approx(percent, abs=1e-4)


def test_agree_three_raters_fleiss_and_reference(project):
    got = run(project, "ana.yaml", "ben.csv", reference="rules")
    assert got.raters == ["rules", "ana", "ben"] and got.reference == "rules"
    assert "fleiss_kappa" in got.overall and "cohen_kappa" not in got.overall
    assert "Fleiss' kappa" in render(got)


def test_agree_three_raters_pairs_and_breakdown_in_every_output(project):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    got = run(project, "ana.yaml", "ben.csv", codes=["finance", "credit", "design"])
    assert [p["raters"] for p in got.pairs] == [["rules", "ana"], ["rules", "ben"], ["ana", "ben"]]
    # the four sentences of a.md: finance is ana's in the first and third (credit), ben's in
    # the third only; design is ben's and the rules' in the second.
    ana_ben = _pair(got.pairs, "ana", "ben")
    assert ana_ben["per_code"]["finance"]["yes"] == {"ana": 2, "ben": 1}
    assert ana_ben["per_code"]["finance"]["percent"] == 0.75
    assert ana_ben["per_code"]["finance"]["cohen_kappa"] == pytest.approx(
        sklearn_metrics.cohen_kappa_score([1, 0, 1, 0], [0, 0, 1, 0]))  # = 0.5
    assert _pair(got.pairs, "rules", "ben")["per_code"]["design"]["cohen_kappa"] == 1.0
    assert got.by_rater["ana"]["codings"] == 2 and got.by_rater["ben"]["codings"] == 2
    assert got.by_rater["rules"]["codings"] == 4  # loan, design, credit (finance and credit)
    assert got.by_rater["ana"]["with_rules"] == {m: _pair(got.pairs, "rules", "ana")["overall"][m]
                                                 for m in ("percent", "cohen_kappa", "alpha")}
    text = render(got)
    assert "by rater (overall; with others: the mean over the rater's pairs" in text
    assert any(line.split()[:5] == ["ana", "-", "ben", "finance", "4"] for line in text.splitlines())
    data = json.loads(render(got, "json"))
    assert data["pairs"] == got.pairs and data["by_rater"] == got.by_rater
    pairs_csv = list(csv.DictReader(io.StringIO(render(got, "csv", "pairs"))))
    assert len(pairs_csv) == 3 * 4  # three pairs, three codes and the overall row each
    row = next(r for r in pairs_csv if (r["rater_a"], r["rater_b"], r["code"]) == ("ana", "ben", "finance"))
    assert (row["yes_a"], row["yes_b"], float(row["cohen_kappa"])) == ("2", "1", 0.5)
    raters_csv = list(csv.DictReader(io.StringIO(render(got, "csv", "raters"))))
    assert [r["rater"] for r in raters_csv] == ["rules", "ana", "ben"] and raters_csv[0]["cohen_kappa_with_rules"] == ""
    two = run(project, "ana.yaml")  # two raters: the pair is the main table, text unchanged
    assert "by rater" not in render(two) and len(two.pairs) == 1


@pytest.mark.parametrize("coders, options, message", [
    (("nobody.csv",), {}, "nobody.csv: coder file or folder not found"),
    (("ana.yaml",), {"only": ["carl"]}, "unknown coder(s) carl: the files have ana"),
    (("ana.yaml",), {"codes": ["desing"]}, "--codes: unknown code 'desing'"),
    (("ana.yaml",), {"rules": False}, "agreement needs two raters or more"),
    (("ana.yaml",), {"reference": "ben"}, "--reference 'ben' is not one of the raters: rules, ana"),
    (("ana.yaml",), {"unit": "page"}, "unknown unit 'page'"),
])
def test_agree_bad_requests(project, coders, options, message):
    with pytest.raises(QualcodeError) as err:
        run(project, *coders, **options)
    assert message in str(err.value)


def test_agree_bad_coder_file_every_problem_located(project):
    (project / "carl.csv").write_text("doc,start,end,code,cdoer\na.md,0,500,,\nz.md,0,3,credit,\n", encoding="utf-8")
    with pytest.raises(QualcodeError) as err:
        run(project, "carl.csv")
    assert [str(p) for p in err.value.problems] == [
        f"{project}/carl.csv:1:1: column 5: unknown column 'cdoer': did you mean 'coder'?; columns are doc, quote, "
        "start, end, code, not, note, coder, source",
        f"{project}/carl.csv:2:1: row 2: span 0:500 is outside the text of a.md (offsets 0 to 90, after the front "
        "matter)",
        f"{project}/carl.csv:3:1: row 3: unknown document 'z.md'; nearest: 'a.md', 'b.md'"]


def test_agree_cli_json_and_exit_codes(project):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "qualcode", "agree", *args], capture_output=True, text=True,
                              cwd=project, env={"PYTHONPATH": str(ROOT), "PATH": ""})

    ok = cli("ana.yaml", "ben.csv", "--format", "json", "--resamples", "20", "-o", "agree.json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads((project / "agree.json").read_text(encoding="utf-8"))
    assert data["raters"] == ["rules", "ana", "ben"] and data["bootstrap"] == {"resamples": 20, "seed": 0,
                                                                               "confidence": 0.95}
    bad = cli("missing.csv", "-o", "out.json")
    assert bad.returncode == 2 and "error: missing.csv: coder file or folder not found" in bad.stderr
    assert not (project / "out.json").exists()


def test_agree_reads_a_refi_qda_project(project):
    from qualcode.refi.project import export_refi

    (project / "codings").mkdir()
    (project / "ana.yaml").rename(project / "codings" / "ana.yaml")
    export_refi(project / "hand.qdpx", project / "corpus", project / "codebook.yaml",
                codings=str(project / "codings"), source="manual")
    got = run(project, "hand.qdpx")
    # A project has no passages read without a code: the units are the two ana coded.
    assert (got.raters, got.units, got.codes) == (["rules", "ana"], 2, ["finance", "credit"])
    assert got.overall["percent"] == 1.0 and got.disagreements == []
    assert got.per_code["credit"]["yes"] == {"rules": 1, "ana": 1}


def test_agree_corrupt_project_is_a_clear_error(project):
    (project / "broken.qdpx").write_bytes(b"not a zip at all")
    with pytest.raises(QualcodeError) as err:
        run(project, "broken.qdpx")
    assert [p.message.split(" (")[0] for p in err.value.problems] == ["not a readable zip archive"]
