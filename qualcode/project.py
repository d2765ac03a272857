"""Whole-project operations behind the CLI: check everything, code a corpus, run the main job."""
from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal

from .codebook import LoadedCodebook, load_codebook
from .corpus import load_corpus
from .errors import CodebookError, CorpusError, Problem, QualcodeError
from .model import CodedSegment, Coding, Document

if TYPE_CHECKING:
    from .evidence import ClaimsStudy

Progress = Callable[[int, int, Document], None]


@dataclass(slots=True)
class Inputs:
    """A project's text inputs, read and checked: the codebook, the corpus and the manual codings."""

    codebook: LoadedCodebook
    documents: list[Document]
    manual: list[Coding] = field(default_factory=list)
    front_matter: object | None = None  # the front-matter cache the corpus was read with


def load_inputs(codebook: str | Path, corpus: str | Path, *, codings: str | Path | None = None,
                skip_unreadable: bool = False, front_matter: Callable[[], object | None] | None = None) -> Inputs:
    """Read the codebook, the corpus and (given their folder ``codings``) the manual codings,
    and raise one QualcodeError with the problems of all of them. The manual codings are
    read only when codebook and corpus are valid (they are located in the documents and
    checked against the codes). ``front_matter`` gives the corpus reader's front-matter
    cache (see ``qualcode.corpus.load_corpus``); it is called only when the codebook loaded."""
    problems: list[Problem] = []
    loaded: LoadedCodebook | None = None
    documents: list[Document] = []
    cache = None
    try:
        loaded = load_codebook(codebook)
    except QualcodeError as err:
        problems.extend(err.problems)
    try:
        cache = front_matter() if front_matter is not None and loaded is not None else None
        documents = load_corpus(corpus, skip_unreadable=skip_unreadable, front_matter=cache)  # type: ignore[arg-type]
    except QualcodeError as err:
        problems.extend(err.problems)
    if problems or loaded is None:
        raise QualcodeError(problems)
    inputs = Inputs(loaded, documents, front_matter=cache)
    if codings is not None:
        from .manual import load_manual

        inputs.manual = load_manual(codings, documents, loaded.codebook)  # ManualCodingError, every problem
    return inputs


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
                  model: str | None = None, codings: str | Path | None = None,
                  skip_unreadable: bool = False) -> CheckReport:
    """Validate the codebook (schema, ids, parents, cycles, patterns, aliases), the corpus
    (readable files, front matter, known cases) and the manual codings in the folder
    ``codings`` (known codes and documents, quotes found once), collecting every problem
    at once.

    When codebook and corpus are valid the corpus is coded too, to warn about patterns
    that fire on more than :data:`BROAD_SHARE` of the segments; terms and case names that
    are a single stop word are warned about in any case.
    """
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
                documents = load_corpus(corpus, skip_unreadable=skip_unreadable)
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
        else:
            report.warnings.extend(str(w) for w in stop_word_patterns(loaded))
            report.warnings.extend(str(w) for w in uncoded_examples(loaded, compiled))
            if documents and not report.problems:
                from .coding import code_corpus

                report.warnings.extend(str(w) for w in broad_patterns(code_corpus(documents, compiled), loaded))
        if codings is not None and corpus is not None and not report.problems:
            from .manual import ManualCodingError, load_manual

            try:
                load_manual(codings, documents, loaded.codebook)
            except ManualCodingError as err:
                report.problems.extend(err.problems)
        report.codes, report.cases = len(loaded.codebook.codes), len(loaded.codebook.cases)
        report.patterns = len(loaded.patterns)
    report.documents = len(documents)
    return report


from .retrieve import BROAD_SHARE  # noqa: E402 - defined with the stats, so retrieval need not import this module
BROAD_MIN_SEGMENTS = 20  # ... in a corpus of at least this many segments


def stop_word_patterns(loaded: LoadedCodebook) -> list[Problem]:
    """Terms and case names that are one stop word ("the", "also"): they match nearly everywhere."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from .pipeline import fold

    out = []
    for spec in loaded.patterns:
        words = fold(spec.value).split() if spec.kind in ("term", "name") else []
        if len(words) == 1 and words[0] in STOP_WORDS:
            what = "case name" if spec.for_case else "term"
            out.append(_spec_problem(spec, f"the {what} {spec.value!r} is a stop word: it matches nearly every "
                                           "segment; use a phrase or a token pattern"))
    return out


def uncoded_examples(loaded: LoadedCodebook, compiled: Any) -> list[Problem]:
    """A code's ``examples`` that its own patterns do not code with it (each coded as a
    document by itself, ancestors included): the codebook's test cases, so a researcher sees
    where the patterns miss how the code is said."""
    from .coding import code_document
    from .corpus import parse_document

    out = []
    for code in loaded.codebook.codes.values():
        for n, (example, (line, col, key)) in enumerate(zip(code.examples, loaded.examples_at.get(code.id, ())), 1):
            doc = parse_document(example.encode("utf-8"), "example.txt")
            coded = {c for s in code_document(doc, compiled) for c in s.codes} if doc is not None else set()
            if code.id not in coded:
                got = f" (it gets {', '.join(sorted(coded))})" if coded else ""
                shown = example if len(example) <= 60 else example[:57] + "..."
                out.append(Problem(loaded.path, f"example {n} of {code.id!r} ({shown!r}) is not coded {code.id!r} by "
                                                f"the codebook's patterns{got}: add a term or token pattern for how "
                                                f"it says it, or move it to another code", line, col, key))
    return out


def broad_patterns(segments: list[CodedSegment], loaded: LoadedCodebook) -> list[Problem]:
    """Patterns that code more than BROAD_SHARE of the segments: probably too broad."""
    if len(segments) < BROAD_MIN_SEGMENTS:
        return []
    fired: dict[str, int] = {}
    for coded in segments:
        for rule in {m.rule for m in coded.matches}:
            fired[rule] = fired.get(rule, 0) + 1
    out = []
    for spec in loaded.patterns:
        n = fired.pop(spec.rule, 0)
        if n > BROAD_SHARE * len(segments):
            out.append(_spec_problem(spec, f"{spec.label} codes {n} of {len(segments)} segments "
                                           f"({n / len(segments):.0%}): probably too broad for "
                                           f"{spec.owner!r}; narrow it or add an exclude"))
    return out


def _spec_problem(spec, message: str) -> Problem:
    file, line, col = spec.rule.rsplit(":", 2)
    return Problem(file, message, int(line), int(col), spec.key)


@dataclass(slots=True)
class CodingResult:
    """A coded corpus with what produced it."""

    segments: list[CodedSegment]
    documents: list[Document]
    codebook: LoadedCodebook
    seconds: float = 0.0
    _codings: list[Coding] | None = None  # the codings ``segments`` show: see ``codings``
    source: str = "combined"
    trail: dict[str, dict[str, list]] | None = None  # with ``explain``: vetoed and rejected codings per segment
    store: Path | None = None  # the project store updated, None without one
    recoded: int = 0  # documents coded in this run (all of them without a store)
    unchanged: int = 0  # documents whose stored coding was reused
    codebook_changed: bool = False  # the codebook differs from the store's last run
    run_id: int | None = None
    manual: list[Coding] = field(default_factory=list)  # the coders' codings read (manual and imported)
    _pending: Callable[[], list[Coding]] | None = None

    @property
    def codings(self) -> list[Coding]:
        """The codings ``segments`` show (see ``source``). Made on first use when the
        segments do not depend on them (no coders' codings, no ``explain``): a ``code``
        run that only writes the segments does not build 100,000 Coding objects."""
        if self._codings is None:
            self._codings = self._pending() if self._pending is not None else []
            self._pending = None
        return self._codings

    @codings.setter
    def codings(self, value: list[Coding]) -> None:
        self._codings, self._pending = value, None


def code_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml", *, jobs: int = 1,
                 model: str | None = None, progress: Progress | None = None, codings: str | Path | None = None,
                 source: str = "combined", explain: bool = False, skip_unreadable: bool = False,
                 store: str | Path | None = None, inputs: Inputs | None = None,
                 keep_runs: int | None = None) -> CodingResult:
    """Load the corpus and the codebook (and the manual codings in the folder ``codings``),
    then code every document.

    ``source`` picks what the coded segments show: ``rule`` (the codebook), ``manual`` (the
    coders) or ``combined`` (both; manual wins, see ``qualcode.codings.combine``).
    ``explain`` also keeps the vetoed and rejected rule codings (``CodingResult.trail``).
    All inputs are read and checked before any coding starts, and their problems are
    reported together. With ``store`` (a path, see ``qualcode.store``), only documents
    whose text, codebook, qualcode version or pipeline changed since a stored run are
    coded by the codebook; the others come from the store, identical to coding them again;
    the run is recorded there. ``inputs`` are the inputs already read by :func:`load_inputs`
    (with the same ``codings`` and front matter), so that a caller that checked them first
    does not read them twice. ``keep_runs``: the store keeps the codings of that many runs
    (default ``qualcode.store.KEEP_RUNS``; ``qualcode diff`` compares two of them).
    """
    from .coding import CompiledCodebook, code_corpus
    from .codings import SOURCES
    from .pipeline import Pipeline

    if source not in SOURCES:
        raise QualcodeError(f"unknown coding source {source!r}: use one of {', '.join(SOURCES)}")
    if source == "manual" and codings is None:
        raise QualcodeError("--source manual needs manual codings: give their folder with --codings DIR")
    # an existing store only, and a readable codebook: bad input leaves the project as it was
    stored = (lambda: _stored_front_matter(store)) if store is not None else None
    if inputs is None:
        inputs = load_inputs(codebook, corpus, codings=codings, skip_unreadable=skip_unreadable, front_matter=stored)
    loaded, documents, manual, front_matter = inputs.codebook, inputs.documents, inputs.manual, inputs.front_matter
    started = time.perf_counter()
    compiled_once: list[CompiledCodebook] = []

    def compiled() -> CompiledCodebook:  # only when something is coded (or explained)
        if not compiled_once:
            compiled_once.append(CompiledCodebook(loaded, Pipeline(model)))
        return compiled_once[0]

    def code(todo: list[Document]) -> list[CodedSegment]:
        problems = compiled().check_documents(documents)  # every document, also those reused
        if problems:
            raise CorpusError(problems)
        return code_corpus(todo, compiled(), jobs=jobs, progress=progress)

    result = CodingResult(documents=documents, codebook=loaded, source=source, segments=[])
    known_rules: dict[str, list[Coding]] = {}  # rule codings the store already made, by document
    if store is not None:
        from .store import StoreUnavailable, StoreWarning, code_incrementally, coder_files_sha256, open_store

        try:
            db = open_store(store)
        except StoreUnavailable as err:  # the store is derived data: code without it rather than fail
            warnings.warn(f"{err}; coding without it", StoreWarning, stacklevel=2)
        else:
            with db:
                inc = code_incrementally(db, documents, str(codebook), loaded, model=model, corpus=str(corpus),
                                         settings={"model": model, "codings": coder_files_sha256(codings)}, code=code,
                                         coders=manual, front_matter=front_matter,
                                         **({} if keep_runs is None else {"keep_runs": keep_runs}))
            result.segments, result.store, result.recoded = inc.segments, Path(store), inc.recoded
            result.unchanged, result.codebook_changed, result.run_id = inc.unchanged, inc.codebook_changed, inc.run_id
            known_rules = inc.rule_codings
    if result.store is None:
        result.segments, result.recoded = code(documents), len(documents)
    _apply_codings(result, compiled() if explain else None, manual, explain, known_rules)
    result.seconds = time.perf_counter() - started
    return result


def _stored_front_matter(store: str | Path) -> object | None:
    """The front matter the store parsed last run, empty for a new store (None when the store
    cannot be opened: coding says why)."""
    from .metacache import FrontMatterCache
    from .store import StoreUnavailable, open_store

    if not Path(store).is_file():  # a new store: filled by this run, so the next run reuses it
        return FrontMatterCache()
    try:
        with open_store(store) as db:
            return db.front_matter()
    except StoreUnavailable:
        return None


def _apply_codings(result: CodingResult, compiled: object, manual: list[Coding], explain: bool,
                   known_rules: dict[str, list[Coding]] | None = None) -> None:
    """The codings of the chosen source, and the coded segments and trail they give
    (``known_rules``: documents' rule codings made already, by the store's write)."""
    from itertools import groupby

    from .codings import attach_segments, coded_view, idle_rejections, rule_codings, select, trail, vetoed_codings

    book = result.codebook.codebook
    result.manual = manual
    segments = result.segments

    def rules() -> list[Coding]:
        if not known_rules:
            return rule_codings(segments, book)
        out: list[Coding] = []  # the same list rule_codings(segments) gives: per document, in segment order
        for doc, group in groupby(segments, key=lambda s: s.segment.doc):
            known = known_rules.get(doc)
            out.extend(known if known is not None else rule_codings(list(group), book))
        return out

    if not manual and not explain and result.source != "manual":  # segments are the rule coding: codings made on use
        result._pending = lambda: select(rules(), [], result.source, book)
        return
    rule = rules()
    if explain:
        rule += [v for d in result.documents for v in vetoed_codings(d, compiled)]
    result.codings = select(rule, attach_segments(manual, result.segments), result.source, book)
    if result.source == "combined":
        for c in idle_rejections(result.codings):
            where = c.rule.where if c.rule else c.coder
            warnings.warn(f"{where}: 'not: {c.code}' rejects nothing: no rule coding of {c.code} overlaps "
                          f"{c.doc}:{c.start}:{c.end} (line {c.line})", stacklevel=2)
    if result.source == "manual" or (result.source == "combined" and manual):
        result.segments = coded_view(result.segments, result.codings, book)
    if explain:
        result.trail = trail(result.codings, {d.id: d for d in result.documents})


@dataclass(slots=True)
class RunReport:
    """What ``qualcode run`` wrote."""

    result: CodingResult
    files: list[Path]


RUN_FILES = ("coding.jsonl", "coding.csv", "graph.gexf", "graph.graphml", "graph.json", "graph.nodes.csv",
             "graph.edges.csv", "graph.svg", "matrix-theme-theme.csv", "matrix-theme-case.csv", "matrix-theme-document.csv",
             "report.html")


def run_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml", outdir: str | Path = "out", *,
                unit: Literal["sentence", "paragraph", "section", "document"] = "paragraph",
                roll_up: str | None = None, where: dict[str, list[str]] | None = None, jobs: int = 1,
                model: str | None = None, progress: Progress | None = None, codings: str | Path | None = None,
                source: str = "combined", skip_unreadable: bool = False,
                store: str | Path | None = None, claims: str | Path | None = None,
                claims_required: bool = False, keep_runs: int | None = None) -> RunReport:
    """The main job: code the corpus (with the manual codings in ``codings``, as ``source``
    says: see :func:`code_project`; incrementally with a ``store``), then write the coding,
    the graph in every format (and its picture when matplotlib, the ``plot`` extra, is
    installed) and the matrices into ``outdir``. ``where`` keeps the documents with those
    front-matter values in the graph, the matrices and the report's tables (see
    ``qualcode.graph.select_where``). The evidence report goes there too (``report.html``,
    see ``qualcode.report``).

    When the claims file ``claims`` exists (it must when ``claims_required``), the claim
    nodes join the graph (every format) and the claims outputs are written too
    (:data:`CLAIMS_FILES`: every claim with its evidence as JSON, the claim x case and
    claim x theme matrices).

    The outputs are checked against the inputs before any work, and all files are
    written to temporary names and moved into place only when every one succeeded, so a
    failure (or SIGTERM) leaves the previous run's files as they were.
    """
    from .fileio import check_outputs, staged_outputs
    from .output import write_coding

    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise QualcodeError(Problem(str(outdir), "is a file, not a folder: give a folder for the outputs of run"))
    if claims is not None and not Path(claims).exists():
        if claims_required:
            raise QualcodeError(Problem(str(claims), "claims file not found"))
        claims = None
    names = RUN_FILES + (CLAIMS_FILES if claims is not None else ())
    check_outputs([outdir / name for name in names], [codebook, claims], corpus=corpus)
    checked = None
    with _warnings_kept() as seen:
        if claims is not None:
            checked = _check_claims(corpus, codebook, claims, skip_unreadable=skip_unreadable, codings=codings,
                                    store=store)
        result = code_project(corpus, codebook, jobs=jobs, model=model, progress=progress, codings=codings,
                              source=source, skip_unreadable=skip_unreadable, store=store,
                              inputs=checked[0] if checked else None, keep_runs=keep_runs)
        study = study_claims(result, claims, loaded=checked[1] if checked else None) if claims is not None else None
    if study is not None and store is not None and not skip_unreadable:  # so that claims and trace answer at once
        from .claims_cache import keep_study

        keep_study(study, corpus, codebook, claims, store=store, source=source, model=model, codings=codings,  # type: ignore[arg-type]
                   seen=seen)
    files = []
    from .export import export_all

    with staged_outputs():
        for name, fmt in (("coding.jsonl", "jsonl"), ("coding.csv", "csv")):
            write_coding(result.segments, outdir / name, format=fmt)  # type: ignore[arg-type]
            files.append(outdir / name)
        docs = {d.id: d for d in result.documents}
        from .report import report_claims, write_report

        files.append(write_report(result, outdir / "report.html", unit=unit, roll_up=roll_up, where=where,
                                  codings=codings, claims=report_claims(study) if study else (),
                                  settings={"claims file": str(claims) if study else "none"}))
        extend = None
        if study is not None:
            from .claim_map import add_claims
            from .graph import selected_documents

            kept = selected_documents(result.segments, result.documents, where=where)
            extend = lambda G: add_claims(G, study.claims, study.index, documents=kept)  # noqa: E731 - the claim nodes join the graph
        files.extend(export_all(result.segments, result.codebook.codebook, docs, outdir, unit=unit, roll_up=roll_up,
                                where=where, extend=extend))
        if study is not None:
            files.extend(write_claims_outputs(study, outdir, unit=unit, roll_up=roll_up, where=where))
    return RunReport(result, files)


CLAIMS_FILES = ("claims.json", "matrix-claim-case.csv", "matrix-claim-theme.csv")


def write_claims_outputs(study: ClaimsStudy, outdir: str | Path, *, unit: str = "paragraph",
                         roll_up: str | None = None, where: dict[str, list[str]] | None = None) -> list[Path]:
    """The claims outputs of ``qualcode run`` in ``outdir`` (:data:`CLAIMS_FILES`): ``claims.json``
    (every claim's trace, as ``qualcode trace --format json``) and the two claim matrices
    (the claim nodes are in run's graph: ``export_all(extend=...)``)."""
    from .claim_map import claim_matrix_rows
    from .claims_output import dumps, trace_record
    from .evidence import trace
    from .export.tables import csv_text, write_text

    outdir = Path(outdir)
    records = {"claims": [trace_record(trace(c.id, study.claims, study.index), study.index) for c in study.claims]}
    write_text(dumps(records), outdir / "claims.json")
    for kind in ("claim-case", "claim-theme"):
        write_text(csv_text(claim_matrix_rows(kind, study.claims, study.index)), outdir / f"matrix-{kind}.csv")
    return [outdir / name for name in CLAIMS_FILES]


DEFAULT_CLAIMS = "claims.yaml"


def study_claims(result: CodingResult, claims: str | Path = DEFAULT_CLAIMS, *, loaded: list | None = None) -> ClaimsStudy:
    """The claims of ``claims`` checked against a coded corpus, linked to its codings
    (themes and cases with provenance), with the evidence index built. ``loaded``: the
    claims already loaded from ``claims`` against the same documents (not read again)."""
    from .claims import Coded, link_claims, load_claims
    from .evidence import ClaimsStudy, EvidenceIndex

    book = result.codebook.codebook
    if loaded is None:
        loaded = load_claims(claims, result.documents, book)
    coded = Coded(result.segments, result.codings, book, result.documents)
    return ClaimsStudy(result, link_claims(loaded, coded), EvidenceIndex(coded))


def claims_project(corpus: str | Path = "corpus", codebook: str | Path = "codebook.yaml",
                   claims: str | Path = DEFAULT_CLAIMS, *, claim_id: str | None = None,
                   cache: Literal["off", "use", "write"] = "off", **options: object) -> ClaimsStudy:
    """Code the corpus (:func:`code_project` with ``options``) and :func:`study_claims`.

    The claims file (and ``claim_id``, when given, for a trace) is checked before the
    coding starts, so a bad file fails at once.

    ``cache`` (with a ``store`` in ``options``; see ``qualcode.claims_cache``): ``use`` takes
    the study from the claims cache beside the store when nothing it depends on changed
    (``result`` is then None, and the warnings the study gave are given again) and saves it
    there when it was built, what ``qualcode claims`` and ``qualcode trace`` do; ``write``
    only saves it (the caller looked in the cache already); ``off`` neither."""
    if not Path(claims).exists():
        raise QualcodeError(Problem(str(claims), "claims file not found: give it with --claims FILE"))
    store = options.get("store")
    if cache not in ("off", "use", "write"):
        raise QualcodeError(f"cache must be off, use or write, not {cache!r}")
    if store is None or options.get("skip_unreadable"):
        cache = "off"
    where = {"store": store, "source": str(options.get("source") or "combined"), "model": options.get("model"),
             "codings": options.get("codings")}
    if cache == "use":
        from .claims_cache import cached_study

        found = cached_study(corpus, codebook, claims, claim_id=claim_id, **where)  # type: ignore[arg-type]
        if found is not None:
            return found
    with _warnings_kept() as seen:
        checked = _check_claims(corpus, codebook, claims, claim_id=claim_id, codings=options.get("codings"),  # type: ignore[arg-type]
                                skip_unreadable=bool(options.get("skip_unreadable", False)),
                                store=store)  # type: ignore[arg-type]
        inputs, loaded = checked if checked is not None else (None, None)
        study = study_claims(code_project(corpus, codebook, inputs=inputs, **options), claims,  # type: ignore[arg-type]
                             loaded=loaded)
    if cache != "off":
        from .claims_cache import keep_study

        keep_study(study, corpus, codebook, claims, seen=seen, **where)  # type: ignore[arg-type]
    return study


@contextlib.contextmanager
def _warnings_kept() -> Iterator[list[Warning]]:
    """Record the warnings given inside, give them again on leaving (also after an error),
    and put them in the list yielded: the claims cache gives them again when it is read."""
    kept: list[Warning] = []
    recorder = warnings.catch_warnings(record=True)
    seen = recorder.__enter__()
    warnings.simplefilter("always")
    try:
        yield kept
    finally:
        recorder.__exit__(None, None, None)
        registry: dict = {}  # one registry for all: a repeated warning is shown once, as without the recorder
        for w in seen:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=registry)
        kept.extend(w.message for w in seen)  # type: ignore[misc]


def check_claims(corpus: str | Path, codebook: str | Path, claims: str | Path, *, claim_id: str | None = None,
                 skip_unreadable: bool = False) -> None:
    """Load the claims against the codebook and the corpus (no coding), and find ``claim_id``:
    raises QualcodeError with every problem. Codebook and corpus problems are left to
    :func:`code_project`, which reports them all."""
    _check_claims(corpus, codebook, claims, claim_id=claim_id, skip_unreadable=skip_unreadable)


def _check_claims(corpus: str | Path, codebook: str | Path, claims: str | Path, *, claim_id: str | None = None,
                  skip_unreadable: bool = False, codings: str | Path | None = None,
                  store: str | Path | None = None) -> tuple[Inputs, list] | None:
    """:func:`check_claims`, giving the inputs read (with the manual codings of the folder
    ``codings``, for ``code_project(inputs=...)``; front matter from ``store``'s cache) and
    the claims loaded; None when the inputs have problems (code_project reports them)."""
    from .claims import find_claim, load_claims

    stored = (lambda: _stored_front_matter(store)) if store is not None else None
    try:
        inputs = load_inputs(codebook, corpus, skip_unreadable=skip_unreadable, front_matter=stored)
    except QualcodeError:
        return None
    loaded = load_claims(claims, inputs.documents, inputs.codebook.codebook)
    if claim_id is not None:
        find_claim(loaded, claim_id, str(claims))
    if codings is not None:
        from .manual import load_manual

        try:
            inputs.manual = load_manual(codings, inputs.documents, inputs.codebook.codebook)
        except QualcodeError:
            return None
    return inputs, loaded
