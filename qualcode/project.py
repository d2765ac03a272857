"""Whole-project operations behind the CLI: check everything, code a corpus, run the main job."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from .codebook import LoadedCodebook, load_codebook
from .corpus import load_corpus
from .errors import CodebookError, CorpusError, Problem, QualcodeError
from .model import CodedSegment, Document

Progress = Callable[[int, int, Document], None]


@dataclass(slots=True)
class CheckReport:
    """What ``qualcode check`` found: problems (errors), warnings and what was read."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    codes: int = 0
    cases: int = 0
    patterns: int = 0
    documents: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_project(codebook: str | Path = "codebook.yaml", corpus: str | Path | None = "corpus", *,
                  model: str | None = None) -> CheckReport:
    """Validate the codebook (schema, ids, parents, cycles, patterns, aliases) and the corpus
    (readable files, front matter, known cases), collecting every problem at once."""
    report = CheckReport()
    loaded: LoadedCodebook | None = None
    try:
        loaded = load_codebook(codebook)
        report.warnings.extend(str(w) for w in loaded.warnings)
    except CodebookError as err:
        report.problems.extend(err.problems)
    documents: list[Document] = []
    if corpus is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                documents = load_corpus(corpus)
            except CorpusError as err:
                report.problems.extend(err.problems)
        report.warnings.extend(str(w.message) for w in caught)
    if loaded is not None:
        from .coding import CompiledCodebook
        from .pipeline import Pipeline

        try:
            compiled = CompiledCodebook(loaded, Pipeline(model))
            report.problems.extend(compiled.check_documents(documents))
        except CodebookError as err:
            report.problems.extend(err.problems)
        report.codes, report.cases = len(loaded.codebook.codes), len(loaded.codebook.cases)
        report.patterns = len(loaded.patterns)
    report.documents = len(documents)
    return report


@dataclass(slots=True)
class CodingResult:
    """A coded corpus with what produced it."""

    segments: list[CodedSegment]
    documents: list[Document]
    codebook: LoadedCodebook
    seconds: float = 0.0


def code_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml", *, jobs: int = 1,
                 model: str | None = None, progress: Progress | None = None) -> CodingResult:
    """Load the corpus and the codebook, then code every document.

    Both inputs are read and checked before any coding starts, and their problems are
    reported together.
    """
    from .coding import CompiledCodebook, code_corpus
    from .pipeline import Pipeline

    problems: list[Problem] = []
    documents: list[Document] = []
    loaded = None
    try:
        loaded = load_codebook(codebook)
    except CodebookError as err:
        problems.extend(err.problems)
    try:
        documents = load_corpus(corpus)
    except CorpusError as err:
        problems.extend(err.problems)
    if problems or loaded is None:
        raise QualcodeError(problems)
    started = time.perf_counter()
    compiled = CompiledCodebook(loaded, Pipeline(model))
    segments = code_corpus(documents, compiled, jobs=jobs, progress=progress)
    return CodingResult(segments, documents, loaded, time.perf_counter() - started)


@dataclass(slots=True)
class RunReport:
    """What ``qualcode run`` wrote."""

    result: CodingResult
    files: list[Path]


RUN_FILES = ("coding.jsonl", "coding.csv", "graph.gexf", "graph.graphml", "graph.json", "graph.nodes.csv",
             "graph.edges.csv", "graph.svg", "matrix-theme-theme.csv", "matrix-theme-case.csv", "matrix-theme-document.csv")


def run_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml", outdir: str | Path = "out", *,
                unit: Literal["sentence", "paragraph", "section", "document"] = "paragraph",
                roll_up: str | None = None, where: dict[str, list[str]] | None = None, jobs: int = 1,
                model: str | None = None, progress: Progress | None = None) -> RunReport:
    """The main job: code the corpus, then write the coding, the graph in every format
    (and its picture when matplotlib, the ``plot`` extra, is installed) and the matrices
    into ``outdir``. ``where`` keeps the documents with those front-matter values in the
    graph and the matrices (see ``qualcode.graph.select_where``).

    The outputs are checked against the inputs before any work, and all files are
    written to temporary names and moved into place only when every one succeeded, so a
    failure (or SIGTERM) leaves the previous run's files as they were.
    """
    from .fileio import check_outputs, staged_outputs
    from .output import write_coding

    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise QualcodeError(Problem(str(outdir), "is a file, not a folder: give a folder for the outputs of run"))
    check_outputs([outdir / name for name in RUN_FILES], [codebook], corpus=corpus)
    result = code_project(corpus, codebook, jobs=jobs, model=model, progress=progress)
    files = []
    from .export import export_all

    with staged_outputs():
        for name, fmt in (("coding.jsonl", "jsonl"), ("coding.csv", "csv")):
            write_coding(result.segments, outdir / name, format=fmt)  # type: ignore[arg-type]
            files.append(outdir / name)
        docs = {d.id: d for d in result.documents}
        files.extend(export_all(result.segments, result.codebook.codebook, docs, outdir, unit=unit, roll_up=roll_up,
                                where=where))
    return RunReport(result, files)
