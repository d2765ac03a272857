"""Writing REFI-QDA strictly: QDA-XML 1.0 valid against the standard's schemas, GUIDs
derived from ids (so the same project gives the same bytes), colours as ``#RRGGBB``.

A project (``.qdpx``) holds each document as a UTF-8 text source
``sources/GUID.txt`` (``internal://GUID.txt``), the whole file's text, so selection
positions are qualcode's offsets: Unicode code points from 0, end exclusive.
"""
from __future__ import annotations

import io
import os
import zipfile
from collections import defaultdict
from typing import Iterable, Sequence

from lxml import etree

from .. import __version__
from ..export.xmltext import xml_text
from ..fileio import open_output
from ..model import CodedSegment, Codebook, Coding, Document
from .ids import AUTOMATIC_USER, guid
from .notes import ClaimNote

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = f"qualcode {__version__}"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the archive's bytes do not depend on the clock


def coder_of(coding: Coding) -> str:
    """The REFI user of a coding: its coder, or ``qualcode`` for the codebook's rules."""
    return AUTOMATIC_USER if coding.source == "rule" or not coding.coder else coding.coder


def exported(codings: Iterable[Coding]) -> list[Coding]:
    """The codings a project holds: those applied (not ancestors applied by inheritance,
    vetoed or rejected ones), once each per coder."""
    seen, out = set(), []
    for c in sorted(codings, key=lambda c: (c.doc, c.start, c.end, c.code, coder_of(c))):
        key = (c.doc, c.start, c.end, c.code, coder_of(c))
        if c.status == "applied" and key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _codes(parent: etree._Element, ns: str, codebook: Codebook) -> None:
    codes = etree.SubElement(parent, f"{{{ns}}}Codes")
    kids: dict[str | None, list[str]] = defaultdict(list)
    for cid, code in codebook.codes.items():
        kids[code.parent if code.parent in codebook.codes else None].append(cid)

    def add(el: etree._Element, cid: str) -> None:
        code = codebook.codes[cid]
        c = etree.SubElement(el, f"{{{ns}}}Code", guid=guid("code", cid), name=xml_text(code.label),
                             isCodable="true", color=code.color.upper())
        if code.definition:
            etree.SubElement(c, f"{{{ns}}}Description").text = xml_text(code.definition)
        for k in kids.get(cid, []):
            add(c, k)

    for cid in kids[None]:
        add(codes, cid)


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def codebook_xml(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA codebook (``.qdc``): the hierarchy, labels as names,
    definitions as descriptions, colours."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    if codebook.codes:
        _codes(root, CODEBOOK_NS, codebook)
    return _bytes(root)


def project_xml(documents: Sequence[Document], codings: Iterable[Coding], codebook: Codebook,
                segments: Sequence[CodedSegment] = (), name: str = "qualcode project",
                notes: Sequence[ClaimNote] = ()) -> tuple[bytes, dict[str, str]]:
    """``project.qde`` and the source texts by archive entry name.

    ``segments`` (optional) give the cases: each case named in a segment or given in a
    document's front matter becomes a REFI ``Case`` referring to those documents' sources
    and to the selections inside the segments that name it. ``notes`` (the claims, see
    ``qualcode.refi.notes``) become ``Notes``, each referred to by a ``NoteRef`` on the
    selection of every passage it is linked to (a selection of its own, without codings,
    where no coding has that span).
    """
    P = f"{{{PROJECT_NS}}}"
    chosen = exported(codings)
    users = sorted({coder_of(c) for c in chosen} | {AUTOMATIC_USER})
    root = etree.Element(P + "Project", nsmap={None: PROJECT_NS}, name=xml_text(name), origin=ORIGIN,
                         creatingUserGUID=guid("user", AUTOMATIC_USER))
    users_el = etree.SubElement(root, P + "Users")
    for u in users:
        etree.SubElement(users_el, P + "User", guid=guid("user", u), name=xml_text(u))
    if codebook.codes:
        _codes(etree.SubElement(root, P + "CodeBook"), PROJECT_NS, codebook)

    by_doc: dict[str, dict[tuple[int, int], list[Coding]]] = defaultdict(lambda: defaultdict(list))
    for c in chosen:
        by_doc[c.doc][(c.start, c.end)].append(c)
    docs = sorted(documents, key=lambda d: d.id)
    known = {d.id for d in docs}
    note_refs: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for note in notes:
        for p in note.passages:
            if p.doc in known:
                note_refs[(p.doc, p.start, p.end)].append(note.guid)
    spans: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for doc_id, spans_of in by_doc.items():
        spans[doc_id].update(spans_of)
    for doc_id, start, end in note_refs:
        spans[doc_id].add((start, end))
    selections: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for d in docs:
        for (start, end) in sorted(spans.get(d.id, ())):
            selections[d.id].append((start, end, guid("selection", d.id, start, end)))

    case_docs: dict[str, set[str]] = defaultdict(set)
    case_sels: dict[str, set[str]] = defaultdict(set)
    for d in docs:
        for case in d.meta.get("cases") or ():
            if case in codebook.cases:
                case_docs[case].add(d.id)
    for s in segments:
        for case in s.cases:
            case_docs[case].add(s.segment.doc)
            for start, end, sel in selections.get(s.segment.doc, ()):
                if s.segment.start <= start and end <= s.segment.end:
                    case_sels[case].add(sel)
    cases = [c for c in codebook.cases if c in case_docs]
    if cases:
        cases_el = etree.SubElement(root, P + "Cases")
        for cid in cases:
            case = codebook.cases[cid]
            el = etree.SubElement(cases_el, P + "Case", guid=guid("case", cid), name=xml_text(case.name))
            etree.SubElement(el, P + "Description").text = xml_text(f"{case.kind} ({cid})")
            for doc_id in sorted(case_docs[cid]):
                etree.SubElement(el, P + "SourceRef", targetGUID=guid("document", doc_id))
            sel_order = [g for d in docs for *_, g in selections.get(d.id, ()) if g in case_sels[cid]]
            for g in sel_order:
                etree.SubElement(el, P + "SelectionRef", targetGUID=g)

    texts: dict[str, str] = {}
    if docs:
        sources = etree.SubElement(root, P + "Sources")
        for d in docs:
            g = guid("document", d.id)
            texts[f"sources/{g}.txt"] = d.text
            src = etree.SubElement(sources, P + "TextSource", guid=g, name=xml_text(d.id),
                                   plainTextPath=f"internal://{g}.txt")
            for start, end, sel_guid in selections.get(d.id, ()):
                first = by_doc[d.id].get((start, end), [])
                sel = etree.SubElement(src, P + "PlainTextSelection", guid=sel_guid,
                                       name=xml_text(_excerpt(d.text[start:end])), startPosition=str(start),
                                       endPosition=str(end),
                                       creatingUser=guid("user", coder_of(first[0]) if first else AUTOMATIC_USER))
                for c in first:
                    user = coder_of(c)
                    coding = etree.SubElement(sel, P + "Coding", guid=guid("coding", d.id, start, end, c.code, user),
                                              creatingUser=guid("user", user))
                    etree.SubElement(coding, P + "CodeRef", targetGUID=guid("code", c.code))
                for note_guid in note_refs.get((d.id, start, end), ()):
                    etree.SubElement(sel, P + "NoteRef", targetGUID=note_guid)
    if notes:
        notes_el = etree.SubElement(root, P + "Notes")
        for note in notes:
            el = etree.SubElement(notes_el, P + "Note", guid=note.guid, name=xml_text(note.name),
                                  creatingUser=guid("user", AUTOMATIC_USER))
            etree.SubElement(el, P + "PlainTextContent").text = xml_text(note.text)
    return _bytes(root), texts


def _excerpt(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[:limit - 1].rstrip() + "…"


def qdpx_bytes(documents: Sequence[Document], codings: Iterable[Coding], codebook: Codebook,
               segments: Sequence[CodedSegment] = (), notes: Sequence[ClaimNote] = ()) -> bytes:
    """The whole ``.qdpx`` archive: ``project.qde`` then the sources, sorted, at a fixed time."""
    qde, texts = project_xml(documents, codings, codebook, segments, notes=notes)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data in [("project.qde", qde), *sorted((k, v.encode("utf-8")) for k, v in texts.items())]:
            info = zipfile.ZipInfo(entry, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """``data`` to ``path`` atomically (see ``qualcode.fileio.open_output``)."""
    with open_output(path, "wb") as fh:
        fh.write(data)
