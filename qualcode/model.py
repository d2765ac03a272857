"""The data model that flows through qualcode: Document -> Segment -> CodedSegment.

Plain dataclasses, no behaviour beyond what derives from their fields. Offsets are
Unicode code points into ``Document.text`` (the file's text as read, BOM removed,
line endings kept), end exclusive, so ``doc.text[seg.start:seg.end]`` is the segment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable, Literal

def _reduce(self: Any) -> tuple:
    """Pickle as (class, field values): several times faster than the default for slotted
    dataclasses, which matters when coded segments travel back from worker processes and
    when the claims cache is written (``qualcode.claims_cache``)."""
    cls = type(self)
    get = _FIELDS.get(cls)
    if get is None:
        get = _FIELDS[cls] = attrgetter(*cls.__slots__)
    return (cls, get(self))


_FIELDS: dict[type, Callable[[Any], tuple]] = {}  # class -> its fields' getter (every class has several)


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus file: its id (path relative to the corpus root, with ``/``) and its text."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    body_start: int = 0  # offset of the first character after the front matter
    path: str = ""  # the file on disk, for messages

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.id)


@dataclass(frozen=True, slots=True)
class Segment:
    """A unit of coding: a sentence, heading, list-item sentence, table row or footnote.

    ``paragraph`` numbers the blocks of the document (a paragraph, a list item, a table
    row, a heading, a footnote) from 1; ``item`` is set for sentences of a list item and
    is that item's paragraph number; ``section`` is the enclosing heading's text;
    ``speaker`` is the label of the transcript turn the segment belongs to.
    """

    __reduce__ = _reduce

    doc: str
    id: str
    start: int
    end: int
    line: int
    kind: str
    paragraph: int
    section: str | None = None
    section_start: int | None = None  # offset of the enclosing heading, None before the first
    item: int | None = None
    speaker: str | None = None  # the speaker's label in a transcript turn ("Interviewer", "Q")


@dataclass(frozen=True, slots=True)
class Match:
    """One application of a code (or naming of a case) with its provenance.

    ``pattern`` is the pattern as written (``term:working capital``, ``regex:...``,
    ``tokens:[...]``), ``rule`` where it is written (``codebook.yaml:57:9``).
    """

    __reduce__ = _reduce

    code: str
    pattern: str
    rule: str
    start: int
    end: int
    text: str
    source: str = "rule"  # the Coding source: rule, manual, imported, suggested
    coder: str = ""  # who, for a manual or imported coding
    score: float | None = None  # the model's score, for a suggested coding


@dataclass(frozen=True, slots=True)
class CodedSegment:
    """A segment with everything coding found in it.

    ``codes`` holds every code applied and its ancestors, sorted; ``cases`` the cases
    named in the segment itself; ``context_cases`` the cases inherited from the
    document's front matter or the enclosing section's heading that the segment does
    not name itself. ``matches`` are the code applications, ``case_matches`` the case
    namings, both sorted by position.
    """

    __reduce__ = _reduce

    segment: Segment
    text: str
    codes: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    context_cases: tuple[str, ...] = ()
    matches: tuple[Match, ...] = ()
    case_matches: tuple[Match, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """The output record (the JSONL schema documented in the README)."""
        s = self.segment
        return {
            "doc": s.doc,
            "id": s.id,
            "start": s.start,
            "end": s.end,
            "line": s.line,
            "section": s.section,
            "section_start": s.section_start,
            "paragraph": s.paragraph,
            "item": s.item,
            "kind": s.kind,
            "speaker": s.speaker,
            "text": self.text,
            "codes": list(self.codes),
            "cases": list(self.cases),
            "context_cases": list(self.context_cases),
            "matches": [_match_record(m, "code") for m in self.matches],
            "case_matches": [_match_record(m, "case") for m in self.case_matches],
        }


def _match_record(m: Match, key: str) -> dict[str, Any]:
    record = {key: m.code, "pattern": m.pattern, "rule": m.rule, "start": m.start, "end": m.end, "text": m.text}
    if key == "code":
        record["source"], record["coder"] = m.source, m.coder
        if m.score is not None:
            record["score"] = round(m.score, 4)
    return record


CodingSource = Literal["rule", "manual", "imported", "suggested"]
PERSON_SOURCES = ("manual", "imported")  # codings a person applied (here, or in another tool)
CodingStatus = Literal["applied", "inherited", "vetoed", "rejected"]


@dataclass(frozen=True, slots=True)
class Rule:
    """The codebook pattern behind a rule coding: its kind (``term``, ``tokens``, ``regex``,
    ``name``, ``exact``), its text as shown in the audit trail (``term:working capital``)
    and where it is written (``codebook.yaml``, line, column)."""

    kind: str
    pattern: str
    file: str
    line: int
    col: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    __reduce__ = _reduce


@dataclass(frozen=True, slots=True)
class Coding:
    """One application of a code to an exact span of a document, and who or what applied it.

    ``source``: ``rule`` (a codebook pattern, ``rule`` says which), ``manual`` (a person,
    ``coder``), ``imported`` (another tool or file; ``coder`` is the person there),
    ``suggested`` (a model, with ``confidence``). ``segment`` is the id of the segment the
    span lies in (None for a span across segments). ``status``: ``applied``; ``inherited``
    (an ancestor applied because ``via``, a child code, was); ``vetoed`` (kept in the trail
    but not applied: ``via`` is the exclusion rule, ``file:line:col``); ``rejected`` (a rule
    coding a person rejected: ``via`` is the rejecting coding's ``coder``; a ``manual``
    coding with this status is the rejection itself, a coder's ``not:``). A manual coding's
    ``rule`` says where it is written (kind ``manual``, ``codings/ana.yaml``, line, column).
    """

    segment: str | None
    doc: str
    start: int
    end: int
    code: str
    source: CodingSource
    coder: str
    rule: Rule | None = None
    confidence: float | None = None
    note: str = ""
    status: CodingStatus = "applied"
    via: str | None = None
    line: int = 0  # 1-based line of ``start`` in the document, 0 when not known

    __reduce__ = _reduce


@dataclass(frozen=True, slots=True)
class Code:
    """A theme of the codebook; ``parent`` makes codes nest."""

    id: str
    label: str
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    examples: tuple[str, ...] = ()
    color: str = "#808080"  # "#rrggbb"
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A case of the study (a place): ``kind`` is city, state, country, region, ...

    ``abbreviations`` (``Jal.``) match as written and no sentence ends after them;
    ``match_case``: a capitalised word of the name or an alias matches only capitalised
    or all-capitals text (so the "chihuahua" dog is not the state).
    """

    id: str
    name: str
    kind: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    match_case: bool = True


@dataclass(frozen=True, slots=True)
class Codebook:
    """The codes and cases of a study, as loaded and validated from ``codebook.yaml``.

    The patterns live in the compiled form (``qualcode.coding.CompiledCodebook``) so that
    graph and export code can use the codebook without spaCy.
    """

    codes: dict[str, Code]
    cases: dict[str, Case]
    path: str = ""

    def code_ancestors(self, code_id: str) -> tuple[str, ...]:
        """The code's parents, nearest first (the codebook is checked to have no cycles)."""
        return _ancestors(self.codes, code_id)

    def case_ancestors(self, case_id: str) -> tuple[str, ...]:
        """The case's parents, nearest first: ``teziutlan`` -> ``("puebla", "mexico")``."""
        return _ancestors(self.cases, case_id)


def _ancestors(items: dict[str, Any], item_id: str) -> tuple[str, ...]:
    out: list[str] = []
    parent = items[item_id].parent if item_id in items else None
    while parent is not None and parent in items and parent not in out:
        out.append(parent)
        parent = items[parent].parent
    return tuple(out)


def fast_constructor(cls: type) -> Callable[..., Any]:
    """A constructor for a frozen slotted dataclass taking every field positionally, that
    sets the slots directly: about twice as fast as the generated ``__init__``, which goes
    through ``object.__setattr__`` per field. No defaults and no ``__post_init__``."""
    names = cls.__slots__
    env: dict[str, Any] = {"new": object.__new__, "cls": cls}
    env.update((f"set_{n}", getattr(cls, n).__set__) for n in names)
    exec(f"def make({', '.join(names)}):\n    obj = new(cls)\n"  # noqa: S102 - generated from slot names
         + "".join(f"    set_{n}(obj, {n})\n" for n in names) + "    return obj\n", env)
    return env["make"]
