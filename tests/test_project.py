"""Whole-project checks: the warnings `qualcode check` gives about patterns that would code too much."""
from __future__ import annotations

import pytest

from qualcode.project import check_project

CODEBOOK = """\
codes:
  - id: finance
    label: Finance
    patterns:
      terms: [loan, the, working capital]
  - id: design
    label: Design
    patterns:
      terms: [design]
      regex: ['\\bfirms?\\b']
cases:
  - id: puebla
    name: Puebla
    kind: state
    aliases: [also]
"""


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "corpus").mkdir()
    sentences = [f"The firm number {i} grew." if i % 2 else f"Design number {i} matters." if i % 10 == 2
                 else f"A loan number {i} came." if i % 10 == 4 else f"Number {i} matters." for i in range(40)]
    (tmp_path / "corpus" / "a.md").write_text("\n\n".join(sentences) + "\n")
    (tmp_path / "codebook.yaml").write_text(CODEBOOK)
    return tmp_path


def test_project_check_warns_stop_words_and_broad_patterns(project):
    report = check_project(project / "codebook.yaml", project / "corpus")
    assert report.ok, report.problems
    book = str(project / "codebook.yaml")
    assert sorted(report.warnings) == sorted([
        f"{book}:5:21: codes.finance.patterns.terms[1]: the term 'the' is a stop word: it matches nearly every "
        "segment; use a phrase or a token pattern",
        f"{book}:15:15: cases.puebla.aliases[0]: the case name 'also' is a stop word: it matches nearly every "
        "segment; use a phrase or a token pattern",
        f"{book}:5:21: codes.finance.patterns.terms[1]: term:the codes 20 of 40 segments (50%): probably too "
        "broad for 'finance'; narrow it or add an exclude",
        f"{book}:10:15: codes.design.patterns.regex[0]: regex:\\bfirms?\\b codes 20 of 40 segments (50%): "
        "probably too broad for 'design'; narrow it or add an exclude",
    ])


def test_project_check_no_broad_warning_for_a_small_corpus(project):
    (project / "corpus" / "a.md").write_text("The firm took a loan.\n")
    report = check_project(project / "codebook.yaml", project / "corpus")
    assert not [w for w in report.warnings if "too broad" in w]


def test_project_check_bundled_study_has_no_pattern_warnings():
    from conftest import ROOT

    report = check_project(ROOT / "codebook.yaml", ROOT / "corpus")
    assert report.ok and report.warnings == []


BAD_CODEBOOK = "codes:\n  - id: finance\n    label: Finance\n    parent: nowhere\n"


@pytest.mark.parametrize("codebook, corpus_file, expected", [
    (BAD_CODEBOOK, None, ["codebook.yaml:4:", "corpus"]),  # both sides' problems, in one error
    (CODEBOOK, None, ["corpus"]),
    (BAD_CODEBOOK, "a.md", ["codebook.yaml:4:"]),
])
def test_project_load_inputs_collects_both_sides_problems(tmp_path, codebook, corpus_file, expected):
    from qualcode.errors import QualcodeError
    from qualcode.project import load_inputs

    (tmp_path / "codebook.yaml").write_text(codebook)
    if corpus_file:
        (tmp_path / "corpus").mkdir()
        (tmp_path / "corpus" / corpus_file).write_text("A loan.\n")
    with pytest.raises(QualcodeError) as err:
        load_inputs(tmp_path / "codebook.yaml", tmp_path / "corpus")
    found = [str(p) for p in err.value.problems]
    assert len(found) == len(expected), found
    for text, want in zip(found, expected):
        assert want in text, found


def test_project_load_inputs_reads_manual_codings_located(project):
    from qualcode.manual import ManualCodingError
    from qualcode.project import load_inputs

    (project / "codings").mkdir()
    (project / "codings" / "ana.yaml").write_text("coder: ana\ncodings:\n  - {doc: a.md, quote: A loan number 4 came, "
                                                  "code: finance}\n")
    inputs = load_inputs(project / "codebook.yaml", project / "corpus", codings=project / "codings")
    assert [d.id for d in inputs.documents] == ["a.md"] and "finance" in inputs.codebook.codebook.codes
    [coding] = inputs.manual
    text = inputs.documents[0].text
    assert (coding.code, coding.coder, text[coding.start:coding.end]) == ("finance", "ana", "A loan number 4 came")
    (project / "codings" / "ana.yaml").write_text("coder: ana\ncodings:\n  - {doc: a.md, quote: no such words, "
                                                  "code: finance}\n")
    with pytest.raises(ManualCodingError) as err:
        load_inputs(project / "codebook.yaml", project / "corpus", codings=project / "codings")
    assert "ana.yaml:3:" in str(err.value)


def test_project_warnings_recorded_for_the_claims_cache_are_shown_as_without_it(monkeypatch):
    """Warnings recorded while a study is built (the claims cache gives them again) are
    shown on leaving, a repeated one once, as Python's default filter shows them."""
    import warnings

    from qualcode.project import _warnings_kept

    shown: list[str] = []
    monkeypatch.setattr(warnings, "showwarning", lambda m, *a, **k: shown.append(str(m)))
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        with _warnings_kept() as kept:
            for _ in range(3):
                warnings.warn("corpus/a.md: the same problem", UserWarning)
            warnings.warn("corpus/b.md: another", UserWarning)
    assert shown == ["corpus/a.md: the same problem", "corpus/b.md: another"]
    assert [str(k) for k in kept][-1] == "corpus/b.md: another"


EXAMPLES = """\
codes:
  - id: finance
    label: Finance
    examples:
      - "They took a loan from the bank."
      - "Nobody wanted to pay the rent, which had gone up twice since the spring of last year."
    patterns:
      terms: [loan]
  - id: credit
    label: Credit
    parent: finance
    examples: ["The bank gave credit."]
    patterns:
      terms: [credit]
  - id: trust
    label: Trust
    examples: ["He never counts the loan money."]
    patterns:
      terms: [trust]
"""


def test_project_check_warns_examples_the_patterns_do_not_code(tmp_path):
    """A code's examples are its test cases: each is coded by itself, ancestors included."""
    book = tmp_path / "codebook.yaml"
    book.write_text(EXAMPLES)
    report = check_project(book, None)
    assert report.ok, report.problems
    assert sorted(w for w in report.warnings if "example" in w) == [
        f"{book}:17:16: codes.trust.examples[0]: example 1 of 'trust' ('He never counts the loan money.') is not "
        "coded 'trust' by the codebook's patterns (it gets finance): add a term or token pattern for how it says "
        "it, or move it to another code",
        f"{book}:6:9: codes.finance.examples[1]: example 2 of 'finance' ('Nobody wanted to pay the rent, which had "
        "gone up twice si...') is not coded 'finance' by the codebook's patterns: add a term or token pattern for "
        "how it says it, or move it to another code",
    ]
