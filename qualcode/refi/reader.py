"""Reading REFI-QDA codebooks (``.qdc``) and projects (``.qdpx``) leniently.

Lenient: any QDA-XML namespace version (``urn:QDA-XML:codebook:0:4``, ``...:1:0``) or none,
braced or unbraced GUIDs in any case, ``Sources/`` or ``sources/``, ``internal://`` or bare
source paths, colours as ``#RGB``, ``#RRGGBB``, ``#RRGGBBAA`` or ``rgb()``, an empty
``<Sets/>``, and ATLAS.ti's positions that count ``\\r\\n`` as one character. Every problem
of a file is reported at once; nothing here writes.
"""
from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import Problem
from ..inputs import MiB, decode_utf8, display_path, read_regular_file
from ..locate import line_of
from ..model import Codebook, Coding, Document, Rule
from .archive import Archive
from .ids import guid
from .safexml import RefiError, child, children, guid_key, line_of as xml_line, local, parse_xml, read_colour, text_of

MAX_XML_BYTES = 256 * MiB


@dataclass(frozen=True, slots=True)
class RefiCode:
    """A code as another tool wrote it: ``parent`` is the enclosing code's GUID key."""

    guid: str
    name: str
    description: str = ""
    color: str | None = None
    parent: str | None = None
    codable: bool = True
    line: int = 0


@dataclass(frozen=True, slots=True)
class UnmatchedSource:
    """A source of the project that no corpus document matches, and why."""

    name: str
    guid: str
    reason: str
    selections: int = 0


@dataclass(slots=True)
class ImportedProject:
    """A hand-coded project read from a ``.qdpx``, aligned to qualcode's documents.

    ``codings`` are ``Coding(source="imported", coder=<REFI user name>)`` spans into the
    matched documents' text; ``unmatched`` the sources no document matches (their
    selections are not in ``codings``); ``sources`` maps matched source GUIDs to doc ids.
    """

    codings: list[Coding]
    codes: list[RefiCode]
    unmatched: list[UnmatchedSource]
    sources: dict[str, str] = field(default_factory=dict)
    coders: list[str] = field(default_factory=list)
    origin: str = ""
    name: str = ""
    skipped: list[str] = field(default_factory=list)  # what is not imported (non-text sources), for the report
    notes: list[str] = field(default_factory=list)  # the names of the project's notes (memos): read, not imported


def read_codes(root, name: str) -> list[RefiCode]:
    """The codes of a ``<CodeBook>`` (root of a ``.qdc``, or inside a project), in document
    order, parents before children."""
    book = root if local(root) == "CodeBook" else child(root, "CodeBook")
    if book is None:
        return []
    codes_el = child(book, "Codes")
    out: list[RefiCode] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}

    def walk(el, parent: str | None) -> None:
        for c in children(el, "Code"):
            key = guid_key(c.get("guid"))
            line = xml_line(c)
            if key is None:
                problems.append(Problem(name, f"code {c.get('name')!r} has no valid guid ({c.get('guid')!r})", line))
                continue
            if key in seen:
                problems.append(Problem(name, f"code guid {c.get('guid')} is used twice (first at line {seen[key]})",
                                        line))
                continue
            seen[key] = line
            out.append(RefiCode(key, (c.get("name") or "").strip(), text_of(child(c, "Description")).strip(),
                                read_colour(c.get("color")), parent,
                                (c.get("isCodable") or "true").strip().lower() not in ("false", "0"), line))
            walk(c, key)

    if codes_el is not None:
        walk(codes_el, None)
    if problems:
        raise RefiError(problems)
    return out


def read_qdc(path: str | os.PathLike[str]) -> list[RefiCode]:
    """The codes of a REFI-QDA codebook file (``.qdc``), or of a project's codebook (``.qdpx``)."""
    name = display_path(path)
    if str(path).lower().endswith(".qdpx"):
        with Archive(path) as archive:
            entry, root = _project_root(archive)
            return read_codes(root, f"{name}:{entry}")
    root = parse_xml(read_regular_file(path, MAX_XML_BYTES, "REFI-QDA codebook", error=RefiError), name)
    if local(root) not in ("CodeBook", "Project"):
        raise RefiError(Problem(name, f"the root element is <{local(root)}>, not a REFI-QDA <CodeBook>", xml_line(root)))
    return read_codes(root, name)


def _project_root(archive: Archive):
    entry = archive.find("project.qde") or next((n for n in sorted(archive.entries) if n.lower().endswith(".qde")
                                                 and "/" not in n), None)
    if entry is None:
        raise RefiError(Problem(archive.name, "no project.qde inside the archive: not a REFI-QDA project (.qdpx)"))
    root = parse_xml(archive.read(entry), f"{archive.name}:{entry}")
    if local(root) != "Project":
        raise RefiError(Problem(f"{archive.name}:{entry}", f"the root element is <{local(root)}>, not a REFI-QDA "
                                                           f"<Project>", xml_line(root)))
    return entry, root


def code_map(codes: Sequence[RefiCode], codebook: Codebook | None) -> dict[str, str | None]:
    """Each REFI code's qualcode code id: the code whose GUID qualcode gives it, else the
    one whose id, label or slug is the REFI name (case and accents aside); None for none.
    Without a codebook, the slug of the name."""
    from ..codebook import _slugify

    out: dict[str, str | None] = {}
    if codebook is None:
        taken: set[str] = set()
        for c in codes:
            slug = base = _slugify(c.name.replace("\\", " ").replace("/", " "))
            n = 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
            taken.add(slug)
            out[c.guid] = slug
        return out
    by_guid = {guid_key(guid("code", cid)): cid for cid in codebook.codes}
    by_name: dict[str, str] = {}
    for cid, code in codebook.codes.items():
        for name in (code.label, cid):
            by_name.setdefault(_slugify(name), cid)
    uses: dict[str, int] = {}
    for c in codes:
        slug = _slugify(c.name)
        uses[slug] = n = uses.get(slug, 0) + 1
        again = f"{slug}-{n}" if n > 1 and f"{slug}-{n}" in codebook.codes else None  # a merge's second 'x'
        last = c.name.replace("\\", "/").rsplit("/", 1)[-1]
        out[c.guid] = (by_guid.get(c.guid) or again or by_name.get(slug) or by_name.get(_slugify(last)))
    return out


def read_qdpx(path: str | os.PathLike[str], documents: Sequence[Document],
              codebook: Codebook | None) -> ImportedProject:
    """The codings of a REFI-QDA project, per coder, aligned to ``documents`` by content.

    A source matches the document whose text (or body after the front matter) is the
    source's text, line endings and surrounding white space aside; its selections'
    positions (code points from 0, end exclusive) become offsets into that document.
    Codes map to ``codebook``'s (see :func:`code_map`); a coded code the codebook lacks,
    a selection outside its text, a coding of an unknown GUID, a damaged or hostile
    archive are problems, all raised at once as RefiError.
    """
    with Archive(path) as archive:
        entry, root = _project_root(archive)
        return _Project(archive, entry, root, documents, codebook).read()


class _Project:
    def __init__(self, archive: Archive, entry: str, root, documents: Sequence[Document], codebook: Codebook | None):
        self.archive, self.root, self.codebook = archive, root, codebook
        self.name = f"{archive.name}:{entry}"
        self.problems: list[Problem] = []
        self.origin = root.get("origin") or ""
        self.atlas = "atlas.ti" in self.origin.lower()
        self.index = _DocumentIndex(documents)

    def problem(self, message: str, el=None) -> None:
        self.problems.append(Problem(self.name, message, xml_line(el) if el is not None else 0))

    def read(self) -> ImportedProject:
        root = self.root
        users = {}
        users_el = child(root, "Users")
        for u in children(users_el, "User") if users_el is not None else []:
            key = guid_key(u.get("guid"))
            if key:
                users[key] = (u.get("name") or u.get("id") or key).strip() or key
        self.users = users
        self.default_user = guid_key(root.get("creatingUserGUID"))
        codes = read_codes(root, self.name)
        self.codes = {c.guid: c for c in codes}
        self.ids = code_map(codes, self.codebook)
        self.missing: dict[str, list] = {}
        result = ImportedProject([], codes, [], origin=self.origin, name=root.get("name") or "")
        sources = child(root, "Sources")
        for src in list(sources) if sources is not None else []:
            kind = local(src)
            if kind != "TextSource":
                if kind:
                    n = len([e for e in src if local(e).endswith("Selection")])
                    result.skipped.append(f"{kind} {src.get('name') or src.get('guid')!r}: only text sources are "
                                          f"imported" + (f" ({n} selections)" if n else ""))
                continue
            self.text_source(src, result)
        notes = child(root, "Notes")
        for note in children(notes, "Note") if notes is not None else []:
            result.notes.append((note.get("name") or "").strip() or guid_key(note.get("guid")) or "?")
        for key, els in sorted(self.missing.items(), key=lambda kv: self.codes[kv[0]].line):
            c = self.codes[key]
            self.problems.append(Problem(self.name, f"code {c.name!r} ({len(els)} coding(s)) is not in the codebook: "
                                                    f"add it to codebook.yaml (qualcode import --codes-only "
                                                    f"{self.archive.name} merges the project's codes)", c.line))
        if self.problems:
            raise RefiError(self.problems)
        seen: set[tuple] = set()
        unique = []
        for c in sorted(result.codings, key=lambda c: (c.doc, c.start, c.end, c.code, c.coder)):
            key = (c.doc, c.start, c.end, c.code, c.coder)
            if key not in seen:
                seen.add(key)
                unique.append(c)
        result.codings = unique
        result.coders = sorted({c.coder for c in unique})
        result.unmatched.sort(key=lambda u: (u.name, u.guid))
        return result

    def source_text(self, src) -> tuple[str | None, str]:
        """The source's plain text, or None and why not."""
        path = (src.get("plainTextPath") or "").strip()
        if path:
            rel = path.split("://", 1)[1] if "://" in path else path
            rel = rel.replace("\\", "/").lstrip("/")
            base = rel.rsplit("/", 1)[-1]
            entry = self.archive.find(f"sources/{rel}", rel, f"sources/{base}")
            if entry is None:
                content = child(src, "PlainTextContent")
                if content is not None:
                    return text_of(content), ""
                return None, f"its text file {path!r} is not in the archive"
            data = self.archive.read(entry)
            try:
                return decode_utf8(data, f"{self.archive.name}:{entry}", error=RefiError), ""
            except RefiError as err:
                return None, str(err.problems[0])
        content = child(src, "PlainTextContent")
        if content is not None:
            return text_of(content), ""
        return None, "it has no plain text (no plainTextPath, no PlainTextContent)"

    def text_source(self, src, result: ImportedProject) -> None:
        key = guid_key(src.get("guid")) or ""
        name = src.get("name") or src.get("guid") or "?"
        selections = children(src, "PlainTextSelection")
        text, why = self.source_text(src)
        match = None
        if text is not None:
            match = self.index.match(text)
            why = ("its text is empty" if not text.strip() else
                   "no corpus document has its text (compared by content, line endings and surrounding white space "
                   "aside)")
        if match is None:
            result.unmatched.append(UnmatchedSource(name, key, why, len(selections)))
            return
        document, to_doc = match
        result.sources[key] = document.id
        positions = _AtlasPositions(text) if self.atlas else None
        for sel in selections:
            try:
                start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
            except ValueError:
                self.problem(f"selection {sel.get('guid')} of {name!r}: startPosition and endPosition must be whole "
                             f"numbers", sel)
                continue
            if positions is not None:
                start, end = positions.to_text(start), positions.to_text(end)
            if not 0 <= start < end <= len(text):
                self.problem(f"selection {sel.get('guid')} of {name!r} at {sel.get('startPosition')}:"
                             f"{sel.get('endPosition')} is outside the source's text (0 to {len(text)} characters)",
                             sel)
                continue
            a, b = to_doc(start, end)
            if a >= b:
                result.skipped.append(f"selection {sel.get('guid')} of {name!r}: only white space around the text")
                continue
            for coding in children(sel, "Coding"):
                ref = child(coding, "CodeRef")
                target = guid_key(ref.get("targetGUID")) if ref is not None else None
                if target not in self.codes:
                    self.problem(f"a coding of selection {sel.get('guid')} refers to code "
                                 f"{ref.get('targetGUID') if ref is not None else None!r}, which the project's "
                                 f"codebook does not have", coding)
                    continue
                code = self.ids[target]
                if code is None:
                    self.missing.setdefault(target, []).append(coding)
                    continue
                user = (guid_key(coding.get("creatingUser")) or guid_key(sel.get("creatingUser"))
                        or self.default_user)
                coder = self.users.get(user, user or "unknown")
                rule = Rule("imported", f"imported:{coder}", self.name, xml_line(coding), 1)
                result.codings.append(Coding(None, document.id, a, b, code, "imported", coder, rule,
                                             note=(sel.get("name") or "").strip(), line=line_of(document.text, a)))


class _AtlasPositions:
    """ATLAS.ti counts ``\\r\\n`` as one character: its position p is p plus the number of
    ``\\r\\n`` pairs before it in the text."""

    def __init__(self, text: str):
        self.pairs, i = [], text.find("\r\n")
        while i >= 0:
            self.pairs.append(i - len(self.pairs))  # the pair's position as ATLAS.ti counts
            i = text.find("\r\n", i + 2)

    def to_text(self, p: int) -> int:
        return p + bisect.bisect_left(self.pairs, p)


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` with a BOM dropped, CRLF and CR as LF and surrounding white space stripped,
    and for each of its characters (and its end) the offset in ``text``."""
    chars, where = [], []
    i, n = (1 if text.startswith("\ufeff") else 0), len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            chars.append("\n")
            where.append(i)
            i += 2 if i + 1 < n and text[i + 1] == "\n" else 1
            continue
        chars.append(ch)
        where.append(i)
        i += 1
    norm = "".join(chars)
    lead = len(norm) - len(norm.lstrip())
    stripped = norm.strip()
    ends = where[lead:lead + len(stripped)]
    ends.append(where[lead + len(stripped)] if lead + len(stripped) < len(where) else n)
    return stripped, ends


class _DocumentIndex:
    """Documents by normalised content (whole text, and body after the front matter)."""

    def __init__(self, documents: Sequence[Document]):
        self.by_text: dict[str, tuple[Document, list[int]]] = {}
        for d in sorted(documents, key=lambda d: d.id):
            for part, offset in ((d.text, 0), (d.text[d.body_start:], d.body_start)):
                norm, where = _normalised(part)
                if norm and norm not in self.by_text:
                    self.by_text[norm] = (d, [w + offset for w in where])

    def match(self, text: str):
        """(document, map from source (start, end) to document offsets), or None."""
        norm, src_where = _normalised(text)
        found = self.by_text.get(norm) if norm else None
        if found is None:
            return None
        document, doc_where = found

        def to_doc(start: int, end: int) -> tuple[int, int]:
            a = bisect.bisect_left(src_where, start)
            b = bisect.bisect_left(src_where, end)
            a, b = min(a, len(doc_where) - 1), min(b, len(doc_where) - 1)
            return doc_where[a], doc_where[b]

        return document, to_doc
