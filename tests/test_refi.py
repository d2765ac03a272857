"""REFI-QDA exchange: export valid and stable, import lenient, round trip, hostile input refused."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SHARED, make_doc, requires_shared
from qualcode.cli import main
from qualcode.codebook import load_codebook, parse_codebook
from qualcode.errors import QualcodeError
from qualcode.refi import RefiError, read_qdc, read_qdpx
from qualcode.refi.ids import guid
from qualcode.refi.merge import import_codebook
from qualcode.refi.notes import claim_notes
from qualcode.refi.safexml import guid_key, read_colour
from qualcode.refi.writer import codebook_xml, coder_of, exported, qdpx_bytes

SAMPLES = SHARED / "samples" / "refi-qda"
SAMPLE_FILES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".qdc", ".qdpx")) if SAMPLES.is_dir() else []
P = "urn:QDA-XML:project:1.0"
USER = "11111111-2222-3333-4444-555555555555"
CODE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def _qdpx(path: Path, qde: str | bytes, files: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde if isinstance(qde, bytes) else qde.encode("utf-8"))
        for name, data in (files or {}).items():
            z.writestr(name, data)
    return path


def _project(selections: str, *, ns: str = P, origin: str = "test", path: str = "internal://S.txt",
             code_guid: str = CODE, codes: str | None = None) -> str:
    codes = codes if codes is not None else (f'<Code guid="{code_guid}" name="Trust" isCodable="true"/>')
    return (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{ns}" name="t" origin="{origin}">'
            f'<Users><User guid="{USER}" name="Bea"/></Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
            f'<Sources><TextSource guid="{{99999999-2222-3333-4444-555555555555}}" name="s" plainTextPath="{path}">'
            f'{selections}</TextSource></Sources></Project>')


def _sel(start: int, end: int, target: str = CODE) -> str:
    return (f'<PlainTextSelection guid="{guid("s", start, end)}" startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="{guid("c", start, end)}" creatingUser="{USER}"><CodeRef targetGUID="{target}"/></Coding>'
            f'</PlainTextSelection>')


@pytest.fixture(scope="module")
def book():
    return load_codebook(ROOT / "codebook.yaml").codebook


@pytest.fixture(scope="module")
def project(bundled, book):
    """The bundled corpus with its rule codings and ana's manual ones."""
    from qualcode.codings import rule_codings
    from qualcode.manual import load_manual

    docs, segments = bundled
    return docs, segments, rule_codings(segments, book) + load_manual(ROOT / "codings", docs, book)


@pytest.fixture(scope="module")
def claims(project, book):
    """The bundled claims, linked to the bundled codings (themes and cases)."""
    from qualcode.claims import Coded, link_claims, load_claims

    docs, segments, codings = project
    return link_claims(load_claims(ROOT / "claims.yaml", docs, book), Coded(segments, codings, book, docs))


# -- export ---------------------------------------------------------------------------------------

def _validate(path: Path) -> None:
    tool = requires_shared("tools", "validate-xml")
    done = subprocess.run([sys.executable, str(tool), str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_refi_export_codebook_is_valid_and_stable(tmp_path, book):
    data = codebook_xml(book)
    assert data == codebook_xml(book)  # GUIDs from the code ids, nothing from the clock
    (tmp_path / "c.qdc").write_bytes(data)
    _validate(tmp_path / "c.qdc")
    codes = {c.name: c for c in read_qdc(tmp_path / "c.qdc")}
    credit = codes["Credit and banks"]
    assert credit.guid == guid_key(guid("code", "credit"))
    assert credit.parent == guid_key(guid("code", "finance"))  # the hierarchy
    assert credit.color == book.codes["credit"].color
    assert credit.description == book.codes["credit"].definition
    assert b'color="#' in data and all(c.isupper() or not c.isalpha() for c in data.split(b'color="')[1][:7].decode())


def test_refi_export_project_is_valid_and_selection_texts_equal_coding_texts(tmp_path, project, book, claims):
    docs, segments, codings = project
    notes = claim_notes(claims)
    data = qdpx_bytes(docs, codings, book, segments, notes)
    assert data == qdpx_bytes(docs, codings, book, segments, claim_notes(claims))
    out = tmp_path / "p.qdpx"
    out.write_bytes(data)
    _validate(out)
    from lxml import etree

    texts = {d.id: d.text for d in docs}
    chosen = {(c.doc, c.start, c.end, c.code, coder_of(c)) for c in exported(codings)}
    assert {u for *_, u in chosen} == {"ana", "qualcode"}
    found = set()
    with zipfile.ZipFile(out) as z:
        root = etree.fromstring(z.read("project.qde"))
        users = {u.get("guid"): u.get("name") for u in root.iter(f"{{{P}}}User")}
        codes = {guid("code", cid): cid for cid in book.codes}
        for src in root.iter(f"{{{P}}}TextSource"):
            text = z.read("sources/" + src.get("plainTextPath").split("://")[1]).decode("utf-8")
            assert text == texts[src.get("name")]
            for sel in src.iter(f"{{{P}}}PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                for coding in sel.iter(f"{{{P}}}Coding"):
                    code = codes[coding.find(f"{{{P}}}CodeRef").get("targetGUID")]
                    found.add((src.get("name"), start, end, code, users[coding.get("creatingUser")]))
                    assert text[start:end] == texts[src.get("name")][start:end]
        cases = {c.get("name") for c in root.iter(f"{{{P}}}Case")}
        linked: dict[str, set] = {}  # note GUID -> the passages whose selections refer to it
        for src in root.iter(f"{{{P}}}TextSource"):
            text = z.read("sources/" + src.get("plainTextPath").split("://")[1]).decode("utf-8")
            for sel in src.iter(f"{{{P}}}PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                for ref in sel.iter(f"{{{P}}}NoteRef"):
                    linked.setdefault(ref.get("targetGUID"), set()).add((src.get("name"), start, end, text[start:end]))
        written = {n.get("guid"): (n.get("name"), n.find(f"{{{P}}}PlainTextContent").text)
                   for n in root.iter(f"{{{P}}}Note")}
    assert found == chosen
    # every claim is a note (name = id, text = statement first), linked to each of its anchors
    # and declared evidence passages, and the selection's text is the passage's exact text
    assert len(written) == len(claims) == 9
    for claim in claims:
        name, text = written[guid("note", "claim", claim.id)]
        assert name == claim.id and text.startswith(" ".join(claim.statement.split()))
        assert f"themes: {', '.join(claim.theme_ids)}" in text
        passages = [a.passage for a in claim.anchors] + [e.passage for e in claim.declared_evidence]
        assert linked[guid("note", "claim", claim.id)] == {(p.doc, p.start, p.end, p.text) for p in passages}
        for e in claim.declared_evidence:
            assert f"{e.stance} {e.passage.location}: " in text
    for doc, start, end, code, _ in found:  # each selection is the coding's exact text
        match = next(c for c in codings if (c.doc, c.start, c.end, c.code) == (doc, start, end, code))
        assert texts[doc][start:end] == texts[match.doc][match.start:match.end]
    assert "Teziutlán" in cases


@pytest.mark.parametrize("with_claims", [False, True])
def test_refi_round_trip_gives_the_same_codings(project, book, claims, tmp_path, with_claims):
    docs, segments, codings = project
    notes = claim_notes(claims) if with_claims else []
    first = qdpx_bytes(docs, codings, book, segments, notes)
    (tmp_path / "1.qdpx").write_bytes(first)
    imported = read_qdpx(tmp_path / "1.qdpx", docs, book)
    assert {c.source for c in imported.codings} == {"imported"}
    assert imported.coders == ["ana", "qualcode"] and not imported.unmatched
    assert imported.notes == [c.id for c in claims if with_claims]  # read and reported, not imported
    key = lambda cs: sorted((c.doc, c.start, c.end, c.code, coder_of(c)) for c in exported(cs))  # noqa: E731
    assert key(imported.codings) == key(codings)  # claim passages without codings add no coding
    assert qdpx_bytes(docs, imported.codings, book, segments, notes) == first


def test_refi_cli_export_and_import_a_project(tmp_path, monkeypatch, capsys):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("---\ntitle: A\n---\nTrust grew between the firms.\r\nLoans came later.\n",
                                              encoding="utf-8")
    (tmp_path / "codebook.yaml").write_text(
        "codes:\n  - id: trust\n    label: Trust\n    patterns: {terms: [trust]}\n"
        "  - id: finance\n    label: Finance\n    patterns: {terms: [loan]}\n", encoding="utf-8")
    (tmp_path / "claims.yaml").write_text(
        "claims:\n  - id: trust-first\n    statement: Trust came before loans.\n    anchors:\n"
        "      - doc: a.md\n        quote: Trust grew between the firms.\n    evidence:\n"
        "      - doc: a.md\n        quote: Loans came later.\n        stance: supports\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["export", "p.qdpx"]) == 0
    assert "1 claims of claims.yaml as notes" in capsys.readouterr().err
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        qde = z.read("project.qde").decode("utf-8")
    assert qde.count("<NoteRef ") == 2 and '<Note guid="' + guid("note", "claim", "trust-first") in qde
    assert main(["export", "p.qdpx", "--claims", "", "-q"]) == 0  # '' for no claims
    with zipfile.ZipFile(tmp_path / "p.qdpx") as z:
        assert b"<Notes>" not in z.read("project.qde")
    assert main(["export", "p.qdpx", "--claims", "missing.yaml"]) == 2
    assert "missing.yaml: claims file not found" in capsys.readouterr().err
    assert main(["export", "p.qdpx", "-q"]) == 0
    assert main(["export", "c.qdc", "-q"]) == 0
    assert main(["import", "p.qdpx"]) == 0
    err = capsys.readouterr().err
    assert "left out 2 coding(s) by 'qualcode'" in err
    assert "not imported: 1 note(s) ('trust-first')" in err
    assert not (tmp_path / "codings").exists()  # only the rules coded: nothing to keep
    assert main(["export", "codebook.yaml"]) == 2
    assert main(["import", "c.qdc", "--codebook", "c.qdc"]) == 2
    assert "is an input of this command" in capsys.readouterr().err


# -- import ---------------------------------------------------------------------------------------

def _sample_docs(path: Path) -> list:
    """Corpus documents holding the sample's source texts, behind front matter (so offsets shift)."""
    docs = []
    with zipfile.ZipFile(path) as z:
        for n in sorted(z.namelist()):
            if n.lower().startswith("sources/") and n.endswith(".txt"):
                text = z.read(n).decode("utf-8")
                if text.strip():
                    docs.append(make_doc("---\ntitle: t\n---\n" + text, n.split("/")[-1] + ".md"))
    return docs


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_refi_every_sample_imports_or_gets_a_clear_message(name, tmp_path, book, capsys):
    path = requires_shared("samples", "refi-qda", name)
    codes = read_qdc(path)
    if not codes:  # ATLAS.ti's blank project: users only
        with pytest.raises(QualcodeError, match="has no codes to import"):
            import_codebook(path, tmp_path / "skeleton.yaml")
    else:
        report = import_codebook(path, tmp_path / "skeleton.yaml")
        skeleton = load_codebook(tmp_path / "skeleton.yaml").codebook  # a valid codebook
        assert len(skeleton.codes) == len(codes) == len(report.added)
    if path.suffix == ".qdpx":
        docs = _sample_docs(path)
        imported = read_qdpx(path, docs, None)
        texts = {d.id: d.text for d in docs}
        for c in imported.codings:
            assert c.source == "imported" and c.coder and texts[c.doc][c.start:c.end].strip()
        assert len(imported.sources) == len(docs)
        read_qdpx(path, [], None)  # no corpus: every source unmatched, no error
    # the workflow on the command line: import the project, merge its codes, import again
    cb, corpus, codings = tmp_path / "cb.yaml", tmp_path / "corpus", tmp_path / "codings"
    cb.write_text(SMALL_CODEBOOK, encoding="utf-8")
    corpus.mkdir()
    (corpus / "other.md").write_text("A document no project has.\n", encoding="utf-8")
    for d in (_sample_docs(path) if path.suffix == ".qdpx" else []):
        (corpus / d.id).write_text(d.text, encoding="utf-8")
    base = ["--codebook", str(cb), "--corpus", str(corpus), "--codings", str(codings)]
    first = main(["import", str(path), *base])
    err = capsys.readouterr().err
    assert first in (0, 2) and "internal error" not in err and "Traceback" not in err
    if first == 2:
        assert "is not in the codebook" in err and not codings.exists()
        assert main(["import", str(path), "--codes-only", *base]) == 0
        assert main(["import", str(path), *base]) == 0
        capsys.readouterr()
    if path.suffix == ".qdpx" and imported.codings:
        from qualcode.manual import load_manual

        book2 = load_codebook(cb).codebook
        from qualcode.corpus import load_corpus

        again = load_manual(codings, load_corpus(corpus), book2)  # the coder files read back
        assert len(again) == len(imported.codings)


SMALL_CODEBOOK = "codes:\n  - id: trust\n    label: Trust\n    patterns: {terms: [trust]}\n"


@pytest.mark.parametrize(("name", "codings", "first"), [
    ("synthetic-minimal-valid.qdpx", 1, ("trust", "coder1", "trust in the café co-op")),
    ("qc-demo.qdpx", 205, ("fun", "cp", "This district goal is engage every student in joyful")),
])
def test_refi_sample_selections_land_on_the_same_text(name, codings, first):
    path = requires_shared("samples", "refi-qda", name)
    docs = _sample_docs(path)
    imported = read_qdpx(path, docs, None)
    texts = {d.id: d.text for d in docs}
    assert len(imported.codings) == codings
    hit = [c for c in imported.codings if c.code == first[0] and texts[c.doc][c.start:c.end].startswith(first[2])]
    assert hit and hit[0].coder == first[1]
    assert all(c.start >= next(d for d in docs if d.id == c.doc).body_start for c in imported.codings)


def test_refi_notes_from_another_tool_are_reported_not_imported(tmp_path, capsys):
    note = "77777777-2222-3333-4444-555555555555"
    sel = _sel(0, 5).replace("</PlainTextSelection>", f'<NoteRef targetGUID="{note}"/></PlainTextSelection>')
    qde = _project(sel).replace("</Sources>", f'</Sources><Notes><Note guid="{note}" name="memo on trust">'
                                              f'<PlainTextContent>Trust first.</PlainTextContent></Note></Notes>')
    path = _qdpx(tmp_path / "p.qdpx", qde, {"sources/S.txt": b"Trust grew."})
    imported = read_qdpx(path, [make_doc("Trust grew.\n", "a.md")], None)
    assert imported.notes == ["memo on trust"] and len(imported.codings) == 1
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("Trust grew.\n", encoding="utf-8")
    (tmp_path / "cb.yaml").write_text(SMALL_CODEBOOK, encoding="utf-8")
    assert main(["import", str(path), "--corpus", str(tmp_path / "corpus"), "--codebook", str(tmp_path / "cb.yaml"),
                 "--codings", str(tmp_path / "codings")]) == 0
    err = capsys.readouterr().err
    assert "imported 1 coding(s)" in err and "not imported: 1 note(s) ('memo on trust')" in err


def test_refi_multibyte_offsets_count_code_points():
    path = requires_shared("samples", "refi-qda", "synthetic-minimal-valid.qdpx")
    docs = _sample_docs(path)
    (c,) = read_qdpx(path, docs, None).codings
    assert c.start - docs[0].body_start == 23  # 23 code points (29 UTF-8 bytes, 25 UTF-16 units)


@pytest.mark.parametrize(("ns", "braces", "folder"), [
    ("urn:QDA-XML:project:1.0", False, "sources/"),
    ("urn:QDA-XML:project:0:4", True, "Sources/"),
    ("urn:QDA-XML:codebook:1:0", True, "sources/"),
    ("", False, "Sources/"),
])
def test_refi_lenient_namespaces_guids_and_folders(tmp_path, ns, braces, folder):
    target = "{" + CODE.upper() + "}" if braces else CODE
    qde = _project(_sel(0, 5, target), ns=ns).replace(' xmlns=""', "")
    path = _qdpx(tmp_path / "p.qdpx", qde, {f"{folder}S.txt": "Trust grew.".encode()})
    (c,) = read_qdpx(path, [make_doc("Trust grew.\n", "a.md")], None).codings
    assert (c.doc, c.start, c.end, c.code, c.coder) == ("a.md", 0, 5, "trust", "Bea")


@pytest.mark.parametrize(("origin", "positions", "expected"), [
    ("ATLAS.ti for Windows 23.2.3", (12, 17), "Loans"),  # \r\n counted as one character
    ("QualCoder 3.5", (13, 18), "Loans"),                 # code points as written
])
def test_refi_atlas_ti_counts_crlf_as_one_character(tmp_path, origin, positions, expected):
    text = "Trust grew.\r\nLoans came.\r\n"
    path = _qdpx(tmp_path / "p.qdpx", _project(_sel(*positions), origin=origin), {"sources/S.txt": text.encode()})
    doc = make_doc(text, "a.md")
    (c,) = read_qdpx(path, [doc], None).codings
    assert doc.text[c.start:c.end] == expected


def test_refi_sources_match_by_content_not_by_name(tmp_path):
    text = "Trust grew.\nLoans came.\n"
    path = _qdpx(tmp_path / "p.qdpx", _project(_sel(13, 18), path="interview.txt"),  # positions in the CRLF text
                 {"sources/interview.txt": text.replace("\n", "\r\n").encode()})
    docs = [make_doc("Something else.\n", "interview.md"), make_doc("---\nkind: memo\n---\n" + text, "z.md")]
    imported = read_qdpx(path, docs, None)
    (c,) = imported.codings
    assert c.doc == "z.md" and docs[1].text[c.start:c.end] == "Loans"
    assert read_qdpx(path, docs[:1], None).unmatched[0].selections == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("#33CC33", "#33cc33"), ("#3c3", "#33cc33"), ("33cc33", "#33cc33"), ("#33cc33ff", "#33cc33"),
    ("rgb(51, 204, 51)", "#33cc33"), ("red", None), ("", None), ("rgb(300,0,0)", None),
])
def test_refi_colours_in_other_forms(value, expected):
    assert read_colour(value) == expected


def test_refi_codes_map_to_the_codebook_by_guid_label_or_id(tmp_path, book):
    codes = (f'<Code guid="{CODE}" name="trust" isCodable="true"/>'
             f'<Code guid="{guid("code", "finance")}" name="Money (renamed)" isCodable="true"/>'
             f'<Code guid="{USER}" name="Credit and banks" isCodable="true"/>')
    text = "Trust and loans and banks."
    sels = _sel(0, 5) + _sel(10, 15, guid("code", "finance")) + _sel(20, 25, USER)
    path = _qdpx(tmp_path / "p.qdpx", _project(sels, codes=codes), {"sources/S.txt": text.encode()})
    imported = read_qdpx(path, [make_doc(text, "a.md")], book)
    assert [c.code for c in imported.codings] == ["trust", "finance", "credit"]


def test_refi_codes_the_codebook_lacks_are_reported(tmp_path, book):
    path = _qdpx(tmp_path / "p.qdpx", _project(_sel(0, 5), codes=f'<Code guid="{CODE}" name="Joy" isCodable="true"/>'),
                 {"sources/S.txt": b"Trust grew."})
    with pytest.raises(RefiError, match=r"code 'Joy' \(1 coding\(s\)\) is not in the codebook"):
        read_qdpx(path, [make_doc("Trust grew.", "a.md")], book)


# -- codebook import ------------------------------------------------------------------------------

def test_refi_import_codebook_merges_without_losing_anything(tmp_path):
    qdc = requires_shared("samples", "refi-qda", "refi-qda-1.5-annexA1-codebook.qdc")
    original = ("# my codebook: keep this comment\nversion: 1\ncodes:\n  - id: economy   # mine\n"
                "    label: Economy\n    color: '#123456'\n    patterns: {terms: [tax]}\n"
                "cases:\n  - id: ohio\n    name: Ohio\n    kind: state\n")
    cb = tmp_path / "codebook.yaml"
    cb.write_text(original, encoding="utf-8")
    report = import_codebook(qdc, cb)
    assert [cid for _, cid in report.added] == ["topics", "health-care", "values", "conservatives", "liberals"]
    assert report.left == [("Economy", "economy", "the imported description differs, the imported colour differs")]
    merged = cb.read_text(encoding="utf-8")
    lines = merged.splitlines()
    kept = iter(lines)
    assert all(any(line == k for k in kept) for line in original.splitlines())  # every line, in order
    book = parse_codebook(merged).codebook
    assert book.codes["economy"].color == "#123456" and book.cases["ohio"].name == "Ohio"
    assert book.codes["health-care"].definition == "Health care issues, doctor, patients, etc."
    assert book.codes["health-care"].color == "#33cc33"
    again = import_codebook(qdc, cb)
    assert not again.added and cb.read_text(encoding="utf-8") == merged


def test_refi_import_codebook_skeleton_keeps_the_hierarchy(tmp_path):
    qdpx = requires_shared("samples", "refi-qda", "ponte-target-atlas-project.qdpx")
    import_codebook(qdpx, tmp_path / "new.yaml")
    book = load_codebook(tmp_path / "new.yaml").codebook
    assert book.codes["2022-05-10t02-05-59z-19e4dce"].parent == "commits"
    assert book.codes["commits"].label == "Commits"


def test_refi_taguette_empty_sets_and_backslash_names(tmp_path):
    qdc = requires_shared("samples", "refi-qda", "taguette-tests-codebook.qdc")
    assert [c.name for c in read_qdc(qdc)] == ["interesting", "people", "interesting\\places"]
    import_codebook(qdc, tmp_path / "t.yaml")
    assert "interesting-places" in load_codebook(tmp_path / "t.yaml").codebook.codes


# -- bad and hostile input ------------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + f']><Project xmlns="{P}" name="&lol9;"/>')


def _xxe(secret: Path) -> str:
    return (f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            f'<Project xmlns="{P}" name="&xxe;"><Users><User guid="{USER}" name="&xxe;"/></Users></Project>')


def _bad_zip(tmp: Path) -> Path:
    p = tmp / "bad.qdpx"
    p.write_bytes(b"PK\x03\x04 this is not really a zip file")
    return p


def _slip(name: str):
    def make(tmp: Path) -> Path:
        return _qdpx(tmp / "slip.qdpx", _project(""), {name: b"x"})
    return make


def _many(tmp: Path) -> Path:
    p = tmp / "many.qdpx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("project.qde", _project(""))
        for i in range(10_001):
            z.writestr(f"sources/{i}.txt", b"")
    return p


def _bomb(tmp: Path) -> Path:
    return _qdpx(tmp / "bomb.qdpx", _project(""), {"sources/S.txt": b"\0" * (64 * 2**20)})


HOSTILE = {
    "corrupt zip": (_bad_zip, "not a readable zip archive"),
    "not a zip": (lambda t: (t / "x.qdpx").write_text("hello") and t / "x.qdpx", "not a readable zip archive"),
    "no project.qde": (lambda t: _qdpx(t / "n.qdpx", "x") if False else _empty_zip(t), "no project.qde"),
    "qde not XML": (lambda t: _qdpx(t / "x.qdpx", "this is { not xml"), "not well-formed XML"),
    "qde truncated": (lambda t: _qdpx(t / "x.qdpx", _project(_sel(0, 5))[:200]), "not well-formed XML"),
    "wrong root": (lambda t: _qdpx(t / "x.qdpx", '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>'), "not a REFI-QDA"),
    "selection outside the text": (lambda t: _qdpx(t / "x.qdpx", _project(_sel(5, 500)),
                                                   {"sources/S.txt": b"Trust grew."}), "outside the source's text"),
    "selection backwards": (lambda t: _qdpx(t / "x.qdpx", _project(_sel(5, 2)), {"sources/S.txt": b"Trust grew."}),
                            "outside the source's text"),
    "unknown code GUID": (lambda t: _qdpx(t / "x.qdpx", _project(_sel(0, 5, USER)), {"sources/S.txt": b"Trust grew."}),
                          "which the project's codebook does not have"),
    "zip slip ..": (_slip("../../evil.txt"), "escape the archive's folder"),
    "zip slip nested ..": (_slip("sources/../../evil.txt"), "escape the archive's folder"),
    "absolute path": (_slip("/etc/evil.txt"), "escape the archive's folder"),
    "windows drive": (_slip("C:\\evil.txt"), "escape the archive's folder"),
    "too many entries": (_many, "entries, over the limit"),
    "zip bomb": (_bomb, "zip bomb"),
    "billion laughs": (lambda t: _qdpx(t / "x.qdpx", BILLION_LAUGHS), "document type declaration"),
}


def _empty_zip(tmp: Path) -> Path:
    p = tmp / "empty.qdpx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hi")
    return p


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_refi_bad_and_hostile_projects_get_one_clear_message_and_nothing_written(case, tmp_path, capsys):
    make, message = HOSTILE[case]
    work = tmp_path / "work"
    work.mkdir()
    path = make(work)
    with pytest.raises(RefiError, match=message):
        read_qdpx(path, [make_doc("Trust grew.", "a.md")], None)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.md").write_text("Trust grew.", encoding="utf-8")
    (tmp_path / "cb.yaml").write_text(SMALL_CODEBOOK, encoding="utf-8")
    args = ["import", str(path), "--codebook", str(tmp_path / "cb.yaml"), "--corpus", str(tmp_path / "corpus"),
            "--codings", str(tmp_path / "codings")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message.split("(")[0] in err and err.count("error:") >= 1 and "Traceback" not in err
    assert not (tmp_path / "codings").exists() and not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(before + ["corpus", "a.md", "cb.yaml"])


def test_refi_external_entities_read_no_file(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    path = _qdpx(tmp_path / "x.qdpx", _xxe(secret))
    with pytest.raises(RefiError, match="document type declaration") as err:
        read_qdpx(path, [], None)
    assert "TOP-SECRET" not in str(err.value)
    qdc = tmp_path / "x.qdc"
    qdc.write_text(_xxe(secret).replace("Project", "CodeBook"), encoding="utf-8")
    assert main(["import", str(qdc), "--codebook", str(tmp_path / "cb.yaml")]) == 2
    assert "TOP-SECRET" not in capsys.readouterr().err and not (tmp_path / "cb.yaml").exists()


def test_refi_entity_bomb_in_a_codebook_is_refused_fast(tmp_path):
    qdc = tmp_path / "bomb.qdc"
    qdc.write_text(BILLION_LAUGHS.replace("Project", "CodeBook"), encoding="utf-8")
    with pytest.raises(RefiError, match="document type declaration"):
        read_qdc(qdc)


@pytest.mark.parametrize(("value", "expected"), [
    ("{D7AA29DA-519B-4946-9B90-253B6DB8FD0A}", "d7aa29da-519b-4946-9b90-253b6db8fd0a"),
    ("d7aa29da-519b-4946-9b90-253b6db8fd0a", "d7aa29da-519b-4946-9b90-253b6db8fd0a"),
    (" D7AA29DA519B49469B90253B6DB8FD0A ", "d7aa29da-519b-4946-9b90-253b6db8fd0a"),
    ("not-a-guid", None), ("", None), (None, None),
])
def test_refi_guids_read_braced_or_not(value, expected):
    assert guid_key(value) == expected


@pytest.mark.parametrize("original", [
    "codes:\n  - id: trust\n    label: Trust",                                   # no final line break
    "codes:\n- id: trust\n  label: Trust\ncases: []\n",                           # items at column 0
    "codes:\n    -   id: trust\n        label: Trust\n# trailing comment\n",       # wide indents, a comment
    "codes:\n  - {id: trust, label: Trust}\n",                                    # a flow mapping item
    "version: 1\r\ncodes:\r\n  - id: trust\r\n    label: Trust\r\ncases: []\r\n",  # CRLF
])
def test_refi_merge_inserts_codes_into_any_block_layout(original, tmp_path):
    from qualcode.refi.merge import merged_text
    from qualcode.refi.reader import RefiCode

    codes = [RefiCode("g1", "Joy", "Being glad", "#ff0000"), RefiCode("g2", "Sub joy", parent="g1"),
             RefiCode("g3", "TRUST")]
    out, report = merged_text(original, codes, parse_codebook(original).codebook, "x.qdc")
    book = parse_codebook(out).codebook
    assert list(book.codes) == ["trust", "joy", "sub-joy"] and book.codes["sub-joy"].parent == "joy"
    assert report.left == [("TRUST", "trust", "")]
    assert out.startswith(original.rstrip("\r\n").split("cases")[0].rstrip("\r\n"))
