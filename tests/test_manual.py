"""Manual codings kept as text: coder files read, quotes located exactly, every problem reported at once."""
from __future__ import annotations

import pytest

from conftest import make_doc

from qualcode.codebook import parse_codebook
from qualcode.manual import ManualCodingError, load_manual

CODEBOOK = parse_codebook(
    "codes:\n  - id: finance\n    label: Finance\n    patterns:\n      terms: [loan, credit]\n"
    "  - id: credit\n    label: Credit\n    parent: finance\n    patterns:\n      terms: [credit]\n"
    "  - id: design\n    label: Design\n    patterns:\n      terms: [design]\n").codebook
DOCS = [
    make_doc("---\ntitle: A\n---\n# Notes\n\nThey took a *loan* from the bank.\nDesign matters. Design matters.\n",
             "interviews/a.md"),
    make_doc("Firms in Puebla got “credit” for\nworking capital.\n", "interviews/b.txt"),
]


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_manual_yaml_and_csv_codings_are_exact_spans(tmp_path):
    folder = write(tmp_path / "codings", "ana.yaml",
                   "codings:\n"
                   "  - doc: interviews/a.md\n    quote: they took a loan\n    code: finance\n    note: ' a bank loan '\n"
                   "  - doc: interviews/b.txt\n    quote: '\"credit\" for working capital'\n    not: credit\n")
    write(folder, "ben.csv", "doc,start,end,code,note\ninterviews/b.txt,0,5,design,\"firms, many\"\n")
    write(folder, "shared.yml", "coder: carla\ncodings:\n  - {doc: interviews/a.md, start: 60, end: 66, code: design}\n")
    codings = load_manual(folder, DOCS, CODEBOOK)
    docs = {d.id: d for d in DOCS}
    got = [(c.coder, c.doc, docs[c.doc].text[c.start:c.end], c.code, c.status, c.line, c.note, c.rule.where)
           for c in codings]
    assert got == [
        ("ana", "interviews/a.md", "They took a *loan*", "finance", "applied", 6, "a bank loan",
         f"{folder}/ana.yaml:2:5"),
        ("ana", "interviews/b.txt", "“credit” for\nworking capital", "credit", "rejected", 1, "",
         f"{folder}/ana.yaml:6:5"),
        ("ben", "interviews/b.txt", "Firms", "design", "applied", 1, "firms, many", f"{folder}/ben.csv:2:1"),
        ("carla", "interviews/a.md", "Design", "design", "applied", 7, "", f"{folder}/shared.yml:3:5"),
    ]
    assert all(c.source == "manual" and c.segment is None for c in codings)


def test_manual_every_problem_at_once_with_file_line_col(tmp_path):
    folder = write(tmp_path / "codings", "ana.yaml",
                   "coder: ana\n"
                   "codings:\n"
                   "  - doc: interviews/a.md\n    quote: they took a lone\n    code: finance\n"     # 3: not found
                   "  - doc: interviews/a.md\n    quote: design matters\n    code: design\n"      # 6: twice
                   "  - doc: interviews/c.md\n    quote: anything\n    code: finance\n"           # 9: unknown doc
                   "  - doc: interviews/b.txt\n    quote: got credit\n    code: finanse\n"        # 12: unknown code
                   "  - doc: interviews/b.txt\n    start: 10\n    end: 500\n    code: design\n"   # 15: out of range
                   "  - doc: interviews/b.txt\n    quote: got credit\n    code: design\n    not: design\n"  # 19
                   "  - doc: interviews/b.txt\n    qoute: got credit\n    code: design\n"         # 23: unknown key
                   "  - doc: interviews/b.txt\n    start: 0\n    end: 5\n    quote: Puebla\n    code: design\n")  # 26
    write(folder, "ben.csv", "doc,quote,code,nte\ninterviews/a.md,took a loan,credit,\ninterviews/a.md,,design,\n")
    with pytest.raises(ManualCodingError) as err:
        load_manual(folder, DOCS, CODEBOOK)
    assert [str(p) for p in err.value.problems] == [
        f"{folder}/ana.yaml:4:5: codings[0]: quote \"they took a lone\" not found in interviews/a.md; "
        "nearest: \"They took a *loan*\" (line 6, 94%)",
        f"{folder}/ana.yaml:7:5: codings[1]: quote \"design matters\" is found 2 times in interviews/a.md "
        "(lines 7, 7); quote more of the passage or give start and end",
        f"{folder}/ana.yaml:9:5: codings[2]: unknown document 'interviews/c.md'; nearest: 'interviews/a.md', "
        "'interviews/b.txt'",
        f"{folder}/ana.yaml:14:5: codings[3]: unknown code 'finanse': did you mean 'finance'?",
        f"{folder}/ana.yaml:16:5: codings[4]: span 10:500 is outside the text of interviews/b.txt (offsets 0 to 50, "
        "after the front matter)",
        f"{folder}/ana.yaml:21:5: codings[5]: give either 'code' (apply a code) or 'not' (reject a code here), "
        "one of them",
        f"{folder}/ana.yaml:24:5: codings[6]: unknown key 'qoute': did you mean 'quote'?",
        f"{folder}/ana.yaml:29:5: codings[7]: quote does not match the text at 0:5, 'Firms': fix the offsets or "
        "drop one of them",
        f"{folder}/ben.csv:1:1: column 4: unknown column 'nte': did you mean 'note'?; columns are doc, quote, start, "
        "end, code, not, note, coder, source",
        f"{folder}/ben.csv:3:1: row 3: give the passage: 'quote' (its text) or 'start' and 'end'",
    ]


@pytest.mark.parametrize("text, message", [
    ("codings:\n  - doc: [a\n", "invalid YAML"),
    ("codings: {doc: interviews/a.md}\n", "'codings' must be a list of entries"),
    ("coder: ''\ncodings: []\n", "'coder' must be a name"),
    ("coders: ana\n", "unknown key 'coders': did you mean 'coder'?"),
    ("- just a string\n", "an entry must be a mapping"),
    ("- doc: interviews/a.md\n  quote: They took\n  code: design\n- doc: interviews/a.md\n  quote: they  TOOK\n"
     "  code: design\n", "the same coding as at line 1; remove one"),
    ("- doc: interviews/a.md\n  quote: Notes\n  code: design\n  note: 3\n", "'note' must be text"),
    ("- doc: interviews/a.md\n  start: 0\n  end: 4\n  code: design\n", "span 0:4 is outside the text"),
])
def test_manual_bad_files(tmp_path, text, message):
    folder = write(tmp_path / "codings", "ana.yaml", text)
    with pytest.raises(ManualCodingError) as err:
        load_manual(folder, DOCS, CODEBOOK)
    assert len(err.value.problems) == 1
    assert message in str(err.value.problems[0]) and str(err.value.problems[0]).startswith(f"{folder}/ana.yaml:")


def test_manual_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ManualCodingError, match="codings folder not found"):
        load_manual(tmp_path / "nowhere", DOCS, CODEBOOK)


def test_manual_seen_passages_from_yaml_and_csv(tmp_path):
    from qualcode.manual import Seen, load_sample

    folder = write(tmp_path / "codings", "ana.yaml",
                   "codings:\n  - {doc: interviews/a.md, quote: they took a loan, code: finance}\n"
                   "seen:\n  - {doc: interviews/a.md, quote: Design matters. Design matters.}\n")
    write(folder, "ben.csv", "doc,start,end,code,coder\ninterviews/b.txt,0,5,,ben\n")
    codings, seen = load_sample([folder / "ana.yaml", folder / "ben.csv"], DOCS, CODEBOOK)
    assert [c.code for c in codings] == ["finance"]
    docs = {d.id: d for d in DOCS}
    assert [(s.coder, docs[s.doc].text[s.start:s.end], s.where) for s in seen] == [
        ("ana", "Design matters. Design matters.", f"{folder}/ana.yaml:4:5"),
        ("ben", "Firms", f"{folder}/ben.csv:2:1")]
    assert all(isinstance(s, Seen) for s in seen)
    assert load_manual(folder, DOCS, CODEBOOK) == codings  # coding ignores what was only read


@pytest.mark.parametrize("text, message", [
    ("seen:\n  - {doc: interviews/a.md, quote: They took, code: finance}\n", "seen[0]: unknown key 'code'"),
    ("seen: {doc: interviews/a.md}\n", "'seen' must be a list of entries"),
    ("seen:\n  - {doc: interviews/a.md}\n", "seen[0]: give the passage"),
])
def test_manual_bad_seen_entries(tmp_path, text, message):
    folder = write(tmp_path / "codings", "ana.yaml", text)
    with pytest.raises(ManualCodingError) as err:
        load_manual(folder, DOCS, CODEBOOK)
    assert message in str(err.value)


@pytest.mark.parametrize("name, text, expected", [
    ("ana.csv", "doc,start,end,code\ninterviews/b.txt,0,5,design\n", "manual"),
    ("ana.csv", "doc,start,end,code,source\ninterviews/b.txt,0,5,design,imported\n", "imported"),
    ("ana.csv", "doc,start,end,code,source\ninterviews/b.txt,0,5,design,\n", "manual"),
    # written by qualcode import: with the source column, and before it (old files stay imported)
    ("imported-cp.csv", "doc,start,end,code,coder,source,quote,note\ninterviews/b.txt,0,5,design,cp,imported,Firms,\n",
     "imported"),
    ("imported-cp.csv", "doc,start,end,code,coder,quote,note\ninterviews/b.txt,0,5,design,cp,Firms,\n", "imported"),
    ("ana.yaml", "source: imported\ncodings:\n  - {doc: interviews/b.txt, start: 0, end: 5, code: design}\n", "imported"),
    ("ana.yaml", "codings:\n  - {doc: interviews/b.txt, start: 0, end: 5, code: design}\n", "manual"),
])
def test_manual_coder_file_source_manual_or_imported(tmp_path, name, text, expected):
    (coding,) = load_manual(write(tmp_path / "codings", name, text), DOCS, CODEBOOK)
    assert (coding.source, coding.rule.kind, coding.rule.pattern.split(":")[0]) == (expected, expected, expected)


@pytest.mark.parametrize("name, text, message", [
    ("ana.csv", "doc,start,end,code,source\ninterviews/b.txt,0,5,design,suggested\n",
     "ana.csv:2:1: row 2: 'source' must be manual or imported, not 'suggested'"),
    ("ana.yaml", "source: rule\ncodings: []\n", "ana.yaml:1:1: source: 'source' must be manual or imported, not 'rule'"),
])
def test_manual_coder_file_bad_source(tmp_path, name, text, message):
    with pytest.raises(ManualCodingError) as err:
        load_manual(write(tmp_path / "codings", name, text), DOCS, CODEBOOK)
    assert message in str(err.value)
