"""Manual codings, kept as text: one file per coder under ``codings/``, YAML or CSV.

```yaml
coder: ana                      # optional; the file's stem otherwise
source: manual                  # optional: manual, or imported (another tool's or file's coding)
codings:
  - doc: paper/ruiz-duran-1998-clustering.md
    quote: "Self financing was the rule"   # located tolerantly, stored exactly
    code: self-financing
    note: the paper's own summary
  - doc: interviews/puebla-garment.md
    start: 1219                  # or code-point offsets, end exclusive
    end: 1229
    not: specialisation          # rejects the rule codings of this code on the passage
seen:                            # passages read where no code applies (for qualcode agree)
  - doc: interviews/puebla-garment.md
    start: 0
    end: 1219
```

A CSV file has a header row with the columns ``doc``, ``quote``, ``start``, ``end``,
``code``, ``not``, ``note`` (and optionally ``coder`` and ``source``); a row with neither
``code`` nor ``not`` says the coder read that passage and no code applies (a ``seen``
passage). The codings' source is ``manual`` unless the file says ``imported`` (``qualcode
import`` writes ``codings/imported-<coder>.csv`` with a ``source`` column; such a file
without the column, written by an earlier version, is read as imported too). Every
entry is checked against the codebook and the corpus, and every problem of every file is
reported at once as
``codings/ana.yaml:LINE:COL: what is wrong``.
"""
from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import Problem, QualcodeError
from .inputs import csv_rows
from .locate import LocateError, locate, normalise, span
from .model import PERSON_SOURCES, Codebook, Coding, Document, Rule
from .yamlpos import load_located

ENTRY_KEYS = ("doc", "quote", "start", "end", "code", "not", "note")
CSV_KEYS = (*ENTRY_KEYS, "coder", "source")
FILE_SOURCES = PERSON_SOURCES  # the sources a coder file can give its codings
FILE_KEYS = ("coder", "source", "codings", "seen")
SEEN_KEYS = ("doc", "quote", "start", "end", "note")
SUFFIXES = (".yaml", ".yml", ".csv")


class ManualCodingError(QualcodeError):
    """A manual codings file is invalid."""


@dataclass(frozen=True, slots=True)
class Seen:
    """A passage a coder read, whether or not they coded it: the sample agreement is computed
    over. ``where`` is where it is written (``codings/ana.yaml:12:5``)."""

    doc: str
    start: int
    end: int
    coder: str
    where: str


def coding_files(folder: str | Path) -> list[Path]:
    """The coder files of a codings folder (``*.yaml``, ``*.yml``, ``*.csv``), sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def load_manual(folder: str | Path, documents: Sequence[Document], codebook: Codebook) -> list[Coding]:
    """The manual codings of every coder file in ``folder``: ``Coding(source="manual")``
    records spanning the located text (``segment`` is not set yet: see
    ``qualcode.codings.attach_segments``), rejections (``not:``) with status ``rejected``.
    Raises ManualCodingError with every problem of every file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ManualCodingError(Problem(str(folder), "codings folder not found (give it with --codings, "
                                                     "or --codings '' for none)"))
    return load_sample(coding_files(folder), documents, codebook)[0]


def load_sample(paths: Sequence[str | Path], documents: Sequence[Document],
                codebook: Codebook) -> tuple[list[Coding], list[Seen]]:
    """The manual codings of coder files and the passages their coders read without coding
    (``seen:`` in YAML, CSV rows with neither ``code`` nor ``not``). Raises
    ManualCodingError with every problem of every file."""
    docs = {d.id: d for d in documents}
    problems: list[Problem] = []
    out: list[Coding] = []
    seen: list[Seen] = []
    for path in paths:
        reader = _read(Path(path), docs, codebook)
        out.extend(reader.codings)
        seen.extend(reader.seen)
        problems.extend(sorted(reader.problems, key=lambda p: (p.line, p.col, p.message)))
    if problems:
        raise ManualCodingError(problems)
    return out, seen


def read_coder_file(path: Path, documents: Mapping[str, Document],
                    codebook: Codebook) -> tuple[list[Coding], list[Problem]]:
    """One coder's file: its codings and every problem found in it."""
    reader = _read(path, documents, codebook)
    return reader.codings, sorted(reader.problems, key=lambda p: (p.line, p.col, p.message))


def _read(path: Path, documents: Mapping[str, Document], codebook: Codebook) -> "_Entries":
    name = str(path)
    reader = _Entries(name, path.stem, documents, codebook)
    if path.suffix.lower() == ".csv" and path.stem.startswith("imported-"):  # qualcode import's, also before 'source'
        reader.source = "imported"
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        reader.problems.append(Problem(name, f"not UTF-8: byte offset {err.start} cannot be decoded"))
        return reader
    except OSError as err:
        reader.problems.append(Problem(name, f"cannot read the codings file: {err.strerror or err}"))
        return reader
    if path.suffix.lower() == ".csv":
        reader.read_csv(text)
    else:
        reader.read_yaml(text)
    return reader


class _Entries:
    """Checks the entries of one file and turns them into codings."""

    def __init__(self, name: str, coder: str, documents: Mapping[str, Document], codebook: Codebook):
        self.name, self.coder, self.documents, self.codebook = name, coder, documents, codebook
        self.source = "manual"
        self.codings: list[Coding] = []
        self.seen: list[Seen] = []
        self.problems: list[Problem] = []
        self._seen: dict[tuple, int] = {}

    def problem(self, message: str, where: tuple[int, int], key: str = "") -> None:
        self.problems.append(Problem(self.name, message, where[0], where[1], key))

    # -- the two formats -----------------------------------------------------------------
    def read_yaml(self, text: str) -> None:
        located, problems = load_located(text, self.name)
        self.problems.extend(problems)
        if located is None:
            return
        value, base = located.value, ()
        if isinstance(value, dict):
            unknown = [k for k in value if k not in FILE_KEYS]
            for k in unknown:
                self.problem(f"unknown key {k!r}{_suggest(k, FILE_KEYS)}; a codings file has "
                             f"'coder', 'source', 'codings' and 'seen'", located.where((k,)))
            if "coder" in value:
                coder = value["coder"]
                if not isinstance(coder, str) or not coder.strip():
                    self.problem("'coder' must be a name", located.where(("coder",)), "coder")
                else:
                    self.coder = coder.strip()
            if "source" in value:
                if value["source"] not in FILE_SOURCES:
                    self.problem(f"'source' must be manual or imported, not {value['source']!r}",
                                 located.where(("source",)), "source")
                else:
                    self.source = value["source"]
            self.entries(value.get("seen"), ("seen",), located, seen=True)
            value, base = value.get("codings"), ("codings",)
        self.entries(value, base, located)

    def entries(self, value: Any, base: tuple, located: Any, seen: bool = False) -> None:
        name = base[0] if base else "codings"
        if value is None:
            return
        if not isinstance(value, list):
            what = "doc: ..., quote: ..." if seen else "doc: ..., quote: ..., code: ..."
            self.problem(f"{name!r} must be a list of entries (- {what})", located.where(base), name)
            return
        for i, entry in enumerate(value):
            path = (*base, i)
            key = f"{name}[{i}]"
            if not isinstance(entry, dict):
                what = "doc and quote (or start and end)" + ("" if seen else " and code (or not)")
                self.problem(f"an entry must be a mapping with {what}", located.where(path), key)
                continue
            self.entry(entry, lambda k, p=path: located.where((*p, k) if k else p), key, seen=seen)

    def read_csv(self, text: str) -> None:
        rows = csv.reader(text.splitlines(keepends=True))
        try:
            header = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            self.problem(f"invalid CSV: {err}", (1, 1))
            return
        header = [h.strip() for h in header]
        for n, h in enumerate(header):
            if h not in CSV_KEYS:
                self.problem(f"unknown column {h!r}{_suggest(h, CSV_KEYS)}; columns are {', '.join(CSV_KEYS)}",
                             (1, 1), f"column {n + 1}")
        try:
            for first, _, row in csv_rows(rows):
                entry = {h: v for h, v in zip(header, row) if h in CSV_KEYS and v.strip()}
                for k in ("start", "end"):
                    if k in entry:
                        entry[k] = _int(entry[k])
                coder = entry.pop("coder", None)
                source = entry.pop("source", None)
                if source is not None and source.strip() not in FILE_SOURCES:
                    self.problem(f"'source' must be manual or imported, not {source!r}", (first, 1), f"row {first}")
                    continue
                self.entry(entry, lambda k, first=first: (first, 1), f"row {first}", coder=coder,
                           seen="code" not in entry and "not" not in entry and "doc" in entry,
                           source=source.strip() if source else None)
        except csv.Error as err:
            self.problem(f"invalid CSV: {err}", (rows.line_num, 1))

    # -- one entry -----------------------------------------------------------------------
    def entry(self, entry: dict[str, Any], where: Any, key: str, coder: str | None = None,
              seen: bool = False, source: str | None = None) -> None:
        ok = True
        keys = SEEN_KEYS if seen else ENTRY_KEYS
        for k in entry:
            if k not in keys:
                self.problem(f"unknown key {k!r}{_suggest(str(k), keys)}", where(k), key)
                ok = False
        document = self._document(entry, where, key)
        code, rejects = (None, False) if seen else self._code(entry, where, key)
        note = entry.get("note", "")
        if not isinstance(note, str):
            self.problem("'note' must be text", where("note"), key)
            ok = False
        if document is None or (code is None and not seen) or not ok:
            return
        found = self._span(entry, document, where, key)
        if found is None:
            return
        start, end, line, at = found
        coder = coder or self.coder
        if seen:
            self.seen.append(Seen(document.id, start, end, coder, f"{self.name}:{at[0]}:{at[1]}"))
            return
        status = "rejected" if rejects else "applied"
        dup = (document.id, start, end, code, status, coder)
        if dup in self._seen:
            self.problem(f"the same coding as at line {self._seen[dup]}; remove one", at, key)
            return
        self._seen[dup] = at[0]
        source = source or self.source
        rule = Rule(source, f"{source}:{coder}", self.name, at[0], at[1])
        self.codings.append(Coding(None, document.id, start, end, code, source, coder, rule, note=note.strip(),
                                   status=status, line=line))

    def _document(self, entry: dict[str, Any], where: Any, key: str) -> Document | None:
        doc = entry.get("doc")
        if not isinstance(doc, str) or not doc.strip():
            self.problem("missing 'doc': the document's id (its path under the corpus folder)",
                         where("doc" if "doc" in entry else None), key)
            return None
        doc = doc.strip().replace("\\", "/")
        if doc not in self.documents:
            self.problem(f"unknown document {doc!r}{_nearest_doc(doc, list(self.documents))}", where("doc"), key)
            return None
        return self.documents[doc]

    def _code(self, entry: dict[str, Any], where: Any, key: str) -> tuple[str | None, bool]:
        if ("code" in entry) == ("not" in entry):
            self.problem("give either 'code' (apply a code) or 'not' (reject a code here), one of them",
                         where("code" if "code" in entry else None), key)
            return None, False
        field = "code" if "code" in entry else "not"
        code = entry[field]
        if not isinstance(code, str) or code not in self.codebook.codes:
            self.problem(f"unknown code {code!r}{_suggest(str(code), list(self.codebook.codes))}", where(field), key)
            return None, False
        return code, field == "not"

    def _span(self, entry: dict[str, Any], document: Document, where: Any,
              key: str) -> tuple[int, int, int, tuple[int, int]] | None:
        """(start, end, line in the document, where the entry is written), or None."""
        quote = entry.get("quote")
        if quote is not None and (not isinstance(quote, str) or not quote.strip()):
            self.problem("'quote' must be the passage's text", where("quote"), key)
            return None
        has_offsets = "start" in entry or "end" in entry
        if has_offsets:
            start, end = entry.get("start"), entry.get("end")
            if not _is_int(start) or not _is_int(end):
                self.problem("give both 'start' and 'end' as whole numbers (code-point offsets, end exclusive)",
                             where("start" if "start" in entry else "end"), key)
                return None
            if not document.body_start <= start < end <= len(document.text):
                self.problem(f"span {start}:{end} is outside the text of {document.id} (offsets "
                             f"{document.body_start} to {len(document.text)}, after the front matter)",
                             where("start"), key)
                return None
            if quote is not None and normalise(quote)[0] != normalise(document.text[start:end])[0]:
                self.problem(f"quote does not match the text at {start}:{end}, "
                             f"{document.text[start:end][:60]!r}: fix the offsets or drop one of them",
                             where("quote"), key)
                return None
            return start, end, span(document, start, end).line, where(None)
        if quote is None:
            self.problem("give the passage: 'quote' (its text) or 'start' and 'end'", where(None), key)
            return None
        try:
            found = locate(quote, document, within=(document.body_start, len(document.text)))
        except LocateError as err:
            self.problem(str(err), where("quote"), key)
            return None
        return found.start, found.end, found.line, where(None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: str) -> int | str:
    try:
        return int(value.strip())
    except ValueError:
        return value


def _suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f": did you mean {close[0]!r}?" if close else ""


def _nearest_doc(doc: str, known: list[str]) -> str:
    """The nearest document ids, by rapidfuzz's weighted ratio."""
    from rapidfuzz import process

    best = process.extract(doc, known, limit=2, score_cutoff=60)
    return "; nearest: " + ", ".join(repr(b[0]) for b in best) if best else ""
