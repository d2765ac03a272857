"""Loading the corpus: encodings, line endings, front matter and every kind of bad file."""
from __future__ import annotations

import os
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
    # UTF-16 (as Windows tools save subtitles and transcripts): named, with the way out
    ("1\n00:00:01,000 --> 00:00:02,000\nHi.\n".encode("utf-16"), "UTF-16 text: save it as UTF-8", 0),
    ("Plain notes.".encode("utf-16-le"), "UTF-16 text: save it as UTF-8", 0),
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
    (tmp_path / "meeting.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello.\n")
    (tmp_path / "call.VTT").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nHi.\n")
    (tmp_path / "ignored.csv").write_text("a,b\n")
    assert [d.id for d in load_corpus(tmp_path)] == ["a/b/x.md", "call.VTT", "meeting.srt", "y.txt"]


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


def _quiet_load(root, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        docs = load_corpus(root, **kw)
    return docs, [str(w.message) for w in caught]


def _nest(root, name: str, levels: int) -> None:
    """``levels`` folders ``name`` inside each other with a deep.md at the bottom, made relative to open
    folders, so that the full path may be longer than the system allows."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            new = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("deep.md", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as fh:
            fh.write("Deep.")
    finally:
        os.close(fd)


def _unnest(root, name: str) -> None:
    """Remove what _nest made, one level at a time (shutil.rmtree, and so pytest's clean-up, recurses)."""
    top, peel = root / name, root / "peel"
    while top.exists():
        if (top / name).exists():
            (top / name).rename(peel)
            top.rmdir()
            peel.rename(top)
        else:
            (top / "deep.md").unlink()
            top.rmdir()


@pytest.fixture
def nested(tmp_path):
    made = []

    def make(name: str, levels: int):
        made.append(name)
        _nest(tmp_path, name, levels)

    yield make
    for name in made:
        _unnest(tmp_path, name)


def test_corpus_folder_nested_a_thousand_levels_deep(tmp_path, nested):
    nested("d", 1000)
    (tmp_path / "top.md").write_text("Top.")
    assert [d.id for d in load_corpus(tmp_path)] == ["d/" * 1000 + "deep.md", "top.md"]


def test_corpus_folder_whose_path_is_too_long_is_named(tmp_path, nested):
    nested("d" * 50, 100)  # 5,100 characters: over Linux's PATH_MAX of 4,096
    (tmp_path / "top.md").write_text("Top.")
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert len(err.value.problems) == 1
    assert "cannot read the folder: File name too long; or pass --skip-unreadable" in err.value.problems[0].message
    docs, caught = _quiet_load(tmp_path, skip_unreadable=True)
    assert [d.id for d in docs] == ["top.md"] and any("File name too long (skipped)" in w for w in caught)


def test_corpus_nested_folders_read_in_order(tmp_path):
    deep = tmp_path.joinpath(*["d"] * 200)
    deep.mkdir(parents=True)
    (deep / "x.md").write_text("X.")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "y.md").write_text("Y.")
    (tmp_path / "a.md").write_text("A.")
    assert [d.id for d in load_corpus(tmp_path)] == ["a.md", "b/y.md", "/".join(["d"] * 200) + "/x.md"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read folders without permission")
def test_corpus_unreadable_folder_is_named(tmp_path):
    (tmp_path / "ok.md").write_text("Fine.")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x.md").write_text("X.")
    locked.chmod(0)
    try:
        with pytest.raises(CorpusError, match="locked: cannot read the folder: Permission denied"):
            load_corpus(tmp_path)
        docs, caught = _quiet_load(tmp_path, skip_unreadable=True)
        assert [d.id for d in docs] == ["ok.md"] and any("locked" in w and "(skipped)" in w for w in caught)
    finally:
        locked.chmod(0o755)


def test_corpus_symbolic_links_are_named_not_followed(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "x.md").write_text("X.")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.md").write_text("O.")
    (root / "inside-link").symlink_to(root / "sub")
    (root / "outside-link").symlink_to(tmp_path / "outside")
    (root / "loop").symlink_to(root)
    (root / "broken.md").symlink_to(tmp_path / "nowhere.md")
    docs, caught = _quiet_load(root)
    assert [d.id for d in docs] == ["sub/x.md"]
    assert sorted(w.split(": ", 1)[1] for w in caught) == [
        "symbolic link not followed: it leads nowhere (it is broken)",
        "symbolic link not followed: it leads outside the corpus, to " + str((tmp_path / "outside").resolve()),
        "symbolic link not followed: it leads to . inside the corpus, which is read under its own name",
        "symbolic link not followed: it leads to sub inside the corpus, which is read under its own name",
    ]


def test_corpus_name_not_utf8_is_named_escaped(tmp_path):
    (tmp_path / "ok.md").write_text("Fine.")
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.md"), "w") as fh:
        fh.write("Caf\u00e9.")
    with pytest.raises(CorpusError) as err:
        load_corpus(tmp_path)
    assert str(err.value.problems[0]).startswith(f"{tmp_path}/caf\\xe9.md: cannot read a name that is not valid UTF-8")
    docs, caught = _quiet_load(tmp_path, skip_unreadable=True)
    assert [d.id for d in docs] == ["ok.md"] and any("caf\\xe9.md" in w for w in caught)


def test_corpus_fifo_is_refused_without_blocking(tmp_path):
    (tmp_path / "ok.md").write_text("Fine.")
    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(CorpusError, match=r"pipe.md: the corpus file is a FIFO \(named pipe\), not a regular file"):
        load_corpus(tmp_path)
    assert [d.id for d in _quiet_load(tmp_path, skip_unreadable=True)[0]] == ["ok.md"]
