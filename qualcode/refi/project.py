"""The REFI-QDA commands as library calls: ``export_refi`` (``qualcode export``) and
``import_refi`` (``qualcode import``)."""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..codebook import _slugify, load_codebook
from ..errors import Problem, QualcodeError
from ..fileio import check_outputs, staged_outputs
from ..inputs import display_path
from .merge import CodebookImport, import_codebook
from .notes import claim_notes
from .reader import ImportedProject, UnmatchedSource, read_qdpx
from .ids import AUTOMATIC_USER
from .writer import _excerpt, codebook_xml, exported, qdpx_bytes, write_bytes

CSV_COLUMNS = ("doc", "start", "end", "code", "coder", "source", "quote", "note")


@dataclass(slots=True)
class ExportReport:
    output: str
    codes: int = 0
    documents: int = 0
    codings: int = 0
    coders: list[str] = field(default_factory=list)
    claims: int = 0
    claims_file: str = ""


def export_refi(output: str | os.PathLike[str], corpus: str | os.PathLike[str] = "corpus",
                codebook: str | os.PathLike[str] = "codebook.yaml", *, codings: str | None = None,
                source: str = "combined", jobs: int = 1, model: str | None = None,
                skip_unreadable: bool = False, claims: str | os.PathLike[str] | None = None,
                claims_required: bool = False) -> ExportReport:
    """Write the codebook (``output`` ending ``.qdc``) or the coded project (``.qdpx``).

    A project holds the claims of ``claims`` as notes linked to their passages (see
    ``qualcode.refi.notes``) when that file exists; it must when ``claims_required``. The
    claims are checked before the coding starts."""
    suffix = Path(output).suffix.lower()
    if suffix not in (".qdc", ".qdpx"):
        raise QualcodeError(Problem(display_path(output), "give a REFI-QDA file: NAME.qdc (the codebook) or "
                                                          "NAME.qdpx (the coded project)"))
    if suffix == ".qdc":
        check_outputs([output], [codebook])
        book = load_codebook(codebook).codebook
        write_bytes(output, codebook_xml(book))
        return ExportReport(display_path(output), codes=len(book.codes))
    from ..project import check_claims, code_project, study_claims

    if claims is not None and not Path(claims).exists():
        if claims_required:
            raise QualcodeError(Problem(display_path(claims), "claims file not found"))
        claims = None
    check_outputs([output], [codebook, claims], corpus=corpus)
    if claims is not None:
        check_claims(corpus, codebook, claims, skip_unreadable=skip_unreadable)
    result = code_project(corpus, codebook, codings=codings, source=source, jobs=jobs, model=model,
                          skip_unreadable=skip_unreadable)
    book = result.codebook.codebook
    notes = claim_notes(study_claims(result, claims).claims) if claims is not None else []
    write_bytes(output, qdpx_bytes(result.documents, result.codings, book, result.segments, notes))
    chosen = exported(result.codings)
    from .writer import coder_of

    return ExportReport(display_path(output), len(book.codes), len(result.documents), len(chosen),
                        sorted({coder_of(c) for c in chosen}), len(notes),
                        display_path(claims) if claims is not None else "")


@dataclass(slots=True)
class ProjectImport:
    """What ``import_refi`` did with a project: the codings per coder file written, and the
    sources that match no document."""

    imported: ImportedProject
    files: dict[str, int] = field(default_factory=dict)  # coding file -> codings in it
    automatic: int = 0  # codings by qualcode's own rules (user "qualcode"): not written, coding gives them

    @property
    def unmatched(self) -> list[UnmatchedSource]:
        return self.imported.unmatched


def coder_file_name(coder: str, taken: set[str]) -> str:
    base = f"imported-{_slugify(coder)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name + ".csv"


def codings_csv(imported: ImportedProject, coder: str, texts: dict[str, str]) -> str:
    """One coder's imported codings as a coder file of ``codings/`` (see ``qualcode.manual``)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(CSV_COLUMNS)
    for c in imported.codings:
        if c.coder == coder:
            quote = texts[c.doc][c.start:c.end]
            w.writerow([c.doc, c.start, c.end, c.code, c.coder, "imported", quote,
                        "" if c.note == _excerpt(quote) else c.note])
    return buf.getvalue()


def import_refi(path: str | os.PathLike[str], corpus: str | os.PathLike[str] = "corpus",
                codebook: str | os.PathLike[str] = "codebook.yaml", codings: str | os.PathLike[str] = "codings",
                *, codes_only: bool = False, skip_unreadable: bool = False) -> CodebookImport | ProjectImport:
    """``.qdc`` (or a ``.qdpx`` with ``codes_only``): its codes into ``codebook`` (see
    ``qualcode.refi.merge``). ``.qdpx``: its codings, aligned to the corpus, as one CSV
    coder file per REFI user, ``codings/imported-<coder>.csv`` (written together, or none)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".qdc", ".qdpx"):
        raise QualcodeError(Problem(display_path(path), "give a REFI-QDA file: NAME.qdc (a codebook) or NAME.qdpx "
                                                        "(a project)"))
    if suffix == ".qdc" or codes_only:
        return import_codebook(path, codebook)
    from ..project import load_inputs

    inputs = load_inputs(codebook, corpus, skip_unreadable=skip_unreadable)
    documents = inputs.documents
    imported = read_qdpx(path, documents, inputs.codebook.codebook)
    texts = {d.id: d.text for d in documents}
    folder = Path(codings)
    taken: set[str] = set()
    outputs = {coder: folder / coder_file_name(coder, taken) for coder in imported.coders if coder != AUTOMATIC_USER}
    check_outputs(list(outputs.values()), [path, codebook], corpus=corpus)
    report = ProjectImport(imported, automatic=sum(c.coder == AUTOMATIC_USER for c in imported.codings))
    with staged_outputs():
        for coder, out in outputs.items():
            write_bytes(out, codings_csv(imported, coder, texts).encode("utf-8"))
            report.files[display_path(out)] = sum(c.coder == coder for c in imported.codings)
    return report
