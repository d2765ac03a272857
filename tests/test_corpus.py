"""Loading the corpus: encodings, line endings, front matter and every kind of bad file."""
from __future__ import annotations

import warnings

import pytest

from qualcode.corpus import EmptyDocumentWarning, load_corpus, parse_document
from qualcode.errors import CorpusError


@pytest.mark.parametrize("data, text", [
    (b"\xef\xbb\xbfHello.", "Hello."),  # BOM removed
    (b"One.\r\nTwo.\r\n", "One.\r\nTwo.\r\n"),  # CRLF kept, so offsets are the file's
    ("Teziutlán.".encode(), "Teziutlán."),
])
def test_corpus_decoding(data, text):
    assert parse_document(data, "a.txt").text == text


@pytest.mark.parametrize("data, meta, body", [
    (b"---\ntitle: T\ncases: [puebla]\n---\nBody.", {"title": "T", "cases": ["puebla"]}, "Body."),
    (b"---\r\nkind: interview\r\n---\r\nBody.", {"kind": "interview"}, "Body."),
    (b"No front matter.", {}, "No front matter."),
])
def test_corpus_front_matter(data, meta, body):
    doc = parse_document(data, "a.md")
    assert doc.meta == meta and doc.text[doc.body_start:] == body


@pytest.mark.parametrize("data, message, line", [
    (b"abc\n\xff\xfe", "not UTF-8: byte 0xff at byte offset 4", 2),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file (NUL byte at byte offset 8)", 0),
    (b"---\ntitle: [unclosed\n---\nText.", "invalid YAML in front matter", 2),
    (b"---\n- a list\n---\nText.", "front matter must be a mapping", 2),
    (b"---\ntitle: x\nText without closing line.", "no closing '---' line", 1),
])
def test_corpus_bad_file_is_named(data, message, line):
    with pytest.raises(CorpusError) as err:
        parse_document(data, "bad.md", "corpus/bad.md")
    problem = err.value.problems[0]
    assert problem.file == "corpus/bad.md" and message in problem.message and problem.line == line


@pytest.mark.parametrize("data", [b"", b"  \n\n", b"---\ntitle: x\n---\n\n"])
def test_corpus_empty_file_skipped_with_warning(data):
    with pytest.warns(EmptyDocumentWarning):
        assert parse_document(data, "e.md") is None


def test_corpus_ids_are_relative_posix_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.md").write_text("X.")
    (tmp_path / "y.txt").write_text("Y.")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    assert [d.id for d in load_corpus(tmp_path)] == ["a/b/x.md", "y.txt"]


def test_corpus_reports_every_bad_file_at_once(tmp_path):
    (tmp_path / "good.md").write_text("Fine.")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "bin.md").write_bytes(b"\x00\x01")
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert sorted(p.file.rsplit("/", 1)[-1] for p in err.value.problems) == ["bin.md", "latin1.txt"]


@pytest.mark.parametrize("layout, message", [
    (None, "corpus not found"),
    ({}, "the corpus is empty"),
    ({"only.pdf": b"x"}, "the corpus is empty"),
    ({"e.md": b""}, "every file in it is empty"),
])
def test_corpus_missing_or_empty(tmp_path, layout, message):
    root = tmp_path / "corpus"
    if layout is not None:
        root.mkdir()
        for name, data in layout.items():
            (root / name).write_bytes(data)
    with pytest.raises(CorpusError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_corpus(root)
