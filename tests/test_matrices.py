"""The matrices researchers read: theme x theme (long format), theme x case, theme x document.

Hand-made corpus (codes a, b, c; cities x, y in region r, city z in region s):

    doc          seg para codes  named   context
    int/1.md     m1  1    a b    x
                 m2  1    c              y
                 m3  2    a      x y
    paper/2.md   m4  1    b
                 m5  1    a c    z       x
                 m6  2    -

Paragraphs: {a b c}, {a}, {a b c}, {}: N = 4, n_a = 3, n_b = n_c = 2.
"""
from __future__ import annotations

import csv
import io

import pytest

from qualcode.errors import QualcodeError
from qualcode.export import write_matrix
from qualcode.export.tables import THEME_THEME_COLUMNS, matrix_rows
from qualcode.graph import tally
from qualcode.model import Case, Code, CodedSegment, Codebook, Document, Segment

CODEBOOK = Codebook(
    codes={"a": Code("a", "Alpha"), "b": Code("b", "Beta"), "c": Code("c", "Gamma")},
    cases={"r": Case("r", "Region R", "region"), "s": Case("s", "Region S", "region"),
           "x": Case("x", "X", "city", "r"), "y": Case("y", "Y", "city", "r"), "z": Case("z", "Z", "city", "s")},
)
D1, D2 = "int/1.md", "paper/2.md"
DOCUMENTS = [Document(D1, "", {"kind": "interview"}), Document(D2, "", {"kind": "paper"})]


def seg(doc, n, para, codes, cases=(), context=()):
    return CodedSegment(Segment(doc, f"m{n}", n, n + 1, n, "sentence", para), "", codes, cases, context)


SEGMENTS = [
    seg(D1, 1, 1, ("a", "b"), ("x",)),
    seg(D1, 2, 1, ("c",), (), ("y",)),
    seg(D1, 3, 2, ("a",), ("x", "y")),
    seg(D2, 4, 1, ("b",)),
    seg(D2, 5, 1, ("a", "c"), ("z",), ("x",)),
    seg(D2, 6, 2, ()),
]


def text(kind, **options) -> str:
    out = io.StringIO()
    write_matrix(kind, SEGMENTS, CODEBOOK, DOCUMENTS, out, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("options", "rows"),
    [
        ({}, [("a", "b", 2, 3, 2, 4, 2 / 3, 4 / 3, 0.5),  # p = C(3,2)/C(4,2)
              ("a", "c", 2, 3, 2, 4, 2 / 3, 4 / 3, 0.5),
              ("b", "c", 2, 2, 2, 4, 1.0, 2.0, 1 / 6)]),  # p = 1/C(4,2)
        ({"unit": "sentence"}, [("a", "b", 1, 3, 2, 6, 0.25, 1.0, 0.8),  # p = 1 - C(3,2)/C(6,2)
                                ("a", "c", 1, 3, 2, 6, 0.25, 1.0, 0.8),
                                ("b", "c", 0, 2, 2, 6, 0.0, 0.0, 1.0)]),  # never together: still listed
        ({"docs": ["interview"]}, [("a", "b", 1, 2, 1, 2, 0.5, 1.0, 1.0),
                                   ("a", "c", 1, 2, 1, 2, 0.5, 1.0, 1.0),
                                   ("b", "c", 1, 1, 1, 2, 1.0, 2.0, 0.5)]),
    ],
)
def test_matrices_theme_theme_long_format(options, rows):
    table = list(csv.reader(io.StringIO(text("theme-theme", **options))))
    assert tuple(table[0]) == THEME_THEME_COLUMNS
    assert len(table) == len(rows) + 1
    for got, want in zip(table[1:], rows):
        assert got[:2] == list(want[:2])
        assert [int(v) for v in got[2:6]] == list(want[2:6])
        assert [float(v) for v in got[6:9]] == pytest.approx(want[6:9], abs=1e-9)
        assert got[9:] == ["false", "false"]  # unequal, nested


@pytest.mark.parametrize(
    ("roll_up", "expected"),
    [
        (None, "theme,label,x,y,z,x (context),y (context),z (context)\n"
               "a,Alpha,2,1,1,1,0,0\n"
               "b,Beta,1,0,0,0,0,0\n"
               "c,Gamma,0,0,1,1,1,0\n"),
        ("region", "theme,label,r,s,r (context),s (context)\n"
                   "a,Alpha,2,1,1,0\n"  # m3 names x and y: one segment for r
                   "b,Beta,1,0,0,0\n"
                   "c,Gamma,0,1,2,0\n"),
    ],
)
def test_matrices_theme_case_framework(roll_up, expected):
    assert text("theme-case", roll_up=roll_up) == expected


@pytest.mark.parametrize(
    ("docs", "expected"),
    [
        (None, "theme,label,int/1.md,paper/2.md\na,Alpha,2,1\nb,Beta,1,1\nc,Gamma,1,1\n"),
        (["interview"], "theme,label,int/1.md\na,Alpha,2\nb,Beta,1\nc,Gamma,1\n"),
        (["paper/"], "theme,label,paper/2.md\na,Alpha,1\nb,Beta,1\nc,Gamma,1\n"),
    ],
)
def test_matrices_theme_document(docs, expected):
    assert text("theme-document", docs=docs) == expected


@pytest.mark.parametrize("kind", ["theme-theme", "theme-case", "theme-document"])
def test_matrices_written_to_files_are_deterministic(tmp_path, capsys, kind):
    for name in ("one.csv", "two.csv"):
        assert write_matrix(kind, SEGMENTS, CODEBOOK, DOCUMENTS, tmp_path / name) is None
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    write_matrix(kind, list(reversed(SEGMENTS)), CODEBOOK, DOCUMENTS, "-")
    assert capsys.readouterr().out == (tmp_path / "one.csv").read_text(encoding="utf-8")
    rows = list(csv.reader((tmp_path / "one.csv").open(encoding="utf-8", newline="")))
    assert len({len(r) for r in rows}) == 1  # rectangular: opens cleanly in a spreadsheet


def test_matrices_rows_come_from_one_tally():
    t = tally(SEGMENTS, CODEBOOK, DOCUMENTS, roll_up="region")
    assert matrix_rows("theme-case", t)[1] == ["a", "Alpha", 2, 1, 1, 0]
    assert matrix_rows("theme-document", t)[0] == ["theme", "label", D1, D2]


@pytest.mark.parametrize("kind", ["theme-themes", "case-theme", ""])
def test_matrices_unknown_kind_is_quoted(tmp_path, kind):
    with pytest.raises(QualcodeError, match=f"'{kind}'.*theme-theme, theme-case, theme-document"):
        write_matrix(kind, SEGMENTS, CODEBOOK, DOCUMENTS, tmp_path / "m.csv")
    assert not (tmp_path / "m.csv").exists()


@pytest.mark.parametrize(
    ("kind", "header"),
    [("theme-theme", ",".join(THEME_THEME_COLUMNS)), ("theme-case", "theme,label"), ("theme-document", "theme,label")],
)
def test_matrices_empty_corpus_gives_header_and_warning(kind, header):
    out = io.StringIO()
    with pytest.warns(UserWarning, match="no coded segments"):
        write_matrix(kind, [], CODEBOOK, [], out)
    assert out.getvalue() == header + "\n"
