"""Reviewing suggestions: accepted ones become a coder's manual codings, every decision is logged.

An accepted suggestion is written to the reviewer's coding file ``codings/<coder>.csv`` (a
manual codings file, see ``qualcode.manual``: doc, start, end, code, a note naming the
suggestion, its score and model, and the coder), so it counts like any manual coding. Every
decision (accept or reject) goes to ``codings/review/<coder>.csv`` (:data:`DECISION_COLUMNS`)
so a decided suggestion is not offered again; that folder is not read as coder files. Both
files are rewritten whole and atomically after each decision (``qualcode.fileio.open_output``),
so an interrupted review keeps every decision made before it; undo rewrites them without the
last one (and takes back the example or proposal it made, see ``qualcode.learn``).

Three ways to decide: the terminal loop (:func:`terminal_loop`), ids (:func:`apply_decisions`)
and a decisions CSV for tools (:func:`read_decisions_csv`), checked whole before anything is
written.
"""
from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .errors import Problem, QualcodeError
from .inputs import csv_rows, display_path
from .suggest import CSV_COLUMNS, Suggestion

CODING_COLUMNS = ("doc", "start", "end", "code", "note", "coder")
DECISION_COLUMNS = ("id", "decision", "doc", "start", "end", "line", "code", "score", "model", "learned", "note")
DECISIONS = ("accept", "reject")
FILE_DECISIONS = ("accept", "reject", "skip")
FILE_COLUMNS = ("id", "decision", "coder", "note")


def coding_file(folder: str | Path, coder: str) -> Path:
    return Path(folder) / f"{coder}.csv"


def decisions_file(folder: str | Path, coder: str) -> Path:
    return Path(folder) / "review" / f"{coder}.csv"


def read_decisions(folder: str | Path, coder: str) -> dict[str, str]:
    """Suggestion id -> its last decision by this coder."""
    path = decisions_file(folder, coder)
    if not path.is_file():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    if rows.fieldnames is None or not {"id", "decision"} <= set(rows.fieldnames):
        raise QualcodeError(Problem(str(path), "not a review log: the header must have the columns "
                                               + ", ".join(DECISION_COLUMNS)))
    return {r["id"]: r["decision"] for r in rows}


def check_coder(coder: str) -> str | None:
    """What is wrong with ``coder`` as a name (it names files), or None."""
    if not coder or any(c in coder for c in "/\\") or coder.startswith(".") or coder.strip() != coder:
        return f"coder {coder!r}: give a name usable as a file name, e.g. ana"
    return None


@dataclass
class Decision:
    """One decision of a session; ``undo_learned`` takes back its example or proposal."""

    suggestion: Suggestion
    decision: str
    note: str = ""
    learned: str = ""  # "", "example" or "proposal"
    undo_learned: Callable[[], None] | None = None
    result: Any = None  # the ExampleAdded, or the proposed Candidates


@dataclass
class Review:
    """One coder's review session: the files as they were, and the decisions made since.
    ``codebook`` is where accepted examples go; ``proposer`` gives a suggestion's candidate
    terms (``qualcode.learn.Proposer``)."""

    folder: Path
    coder: str
    codebook: Path | None = None
    proposer: Callable[[Suggestion], Any] | None = None
    decisions: list[Decision] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        wrong = check_coder(self.coder)
        if wrong:
            raise QualcodeError(f"--coder: {wrong}")
        self._codings = _read_or_header(coding_file(self.folder, self.coder), CODING_COLUMNS)
        self._log = _read_or_header(decisions_file(self.folder, self.coder), DECISION_COLUMNS)

    def decide(self, suggestion: Suggestion, decision: str, *, note: str = "", learn: str = "") -> Any:
        """Record a decision and write the files; ``learn`` ("example" or "proposal", with
        accept) also adds the passage as an example of the code or writes a pattern
        proposal. Returns what was learned (an ``ExampleAdded`` or the candidate terms)."""
        self.decisions.append(self._learn(Decision(suggestion, decision, note), learn))
        self._write()
        return self.decisions[-1].result

    def _learn(self, d: Decision, learn: str) -> Decision:
        from . import learn as learning

        if d.decision not in DECISIONS or learn not in ("", "example", "proposal"):
            raise ValueError((d.decision, learn))
        if not learn:
            return d
        if d.decision != "accept":
            raise ValueError("only an accepted suggestion is learned from")
        s = d.suggestion
        if learn == "example":
            if self.codebook is None:
                raise QualcodeError("no codebook to add the example to")
            added = learning.add_example(self.codebook, s.code, s.text)
            d.result = added
            d.undo_learned = lambda: learning.remove_example(added)
        else:
            if self.proposer is None:
                raise QualcodeError("no corpus to propose terms from")
            candidates = self.proposer(s)
            block = learning.proposal_block(s, self.coder, candidates)
            learning.append_proposal(self.folder, block)
            d.result = candidates
            d.undo_learned = lambda: learning.remove_proposal(self.folder, block)
        d.learned = learn
        return d

    def undo(self) -> Decision | None:
        if not self.decisions:
            return None
        last = self.decisions.pop()
        if last.undo_learned is not None:
            last.undo_learned()
        self._write()
        return last

    def _write(self) -> None:
        from .fileio import open_output

        rows = []
        for d in self.decisions:
            if d.decision == "accept":
                s = d.suggestion
                note = f"accepted suggestion {s.id} (score {s.score:.3f}, {s.model})" + (f": {d.note}" if d.note else "")
                rows.append((s.doc, s.start, s.end, s.code, note, self.coder))
        log = [(d.suggestion.id, d.decision, d.suggestion.doc, d.suggestion.start, d.suggestion.end,
                d.suggestion.line, d.suggestion.code, f"{d.suggestion.score:.4f}", d.suggestion.model, d.learned,
                d.note) for d in self.decisions]
        for path, original, new, columns in ((coding_file(self.folder, self.coder), self._codings, rows, CODING_COLUMNS),
                                             (decisions_file(self.folder, self.coder), self._log, log, DECISION_COLUMNS)):
            if original is None and not new:
                if path.exists():  # created by this session, emptied by undo
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with open_output(path, newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                if original is None:
                    writer.writerow(columns)
                else:
                    fh.write(original)
                writer.writerows(new)


def _read_or_header(path: Path, columns: Sequence[str]) -> str | None:
    """The file's text (ending in a line break), after checking its header is ``columns``;
    None when there is no file yet."""
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8-sig")
    header = [h.strip() for h in next(csv.reader(io.StringIO(text)), [])]
    if header != list(columns):
        raise QualcodeError(Problem(str(path), f"has the columns {', '.join(header) or '(none)'}; the review "
                                               f"appends rows of exactly {', '.join(columns)}: give another "
                                               f"--coder, or move the file away", 1, 1))
    return text if text.endswith("\n") or not text else text + "\n"


def pending(suggestions: Iterable[Suggestion], decided: dict[str, str]) -> list[Suggestion]:
    """The suggestions this coder has not decided on yet."""
    return [s for s in suggestions if s.id not in decided]


def apply_decisions(review: Review, suggestions: Sequence[Suggestion], accept: Sequence[str],
                    reject: Sequence[str], *, learn: str = "") -> None:
    """Accept and reject suggestions by id; unknown ids are an error (all reported at once)
    and nothing is written. ``learn`` applies to every accepted one."""
    by_id = {s.id: s for s in suggestions}
    unknown = [i for i in [*accept, *reject] if i not in by_id]
    both = sorted(set(accept) & set(reject))
    problems = [f"unknown suggestion id {i!r}: run 'qualcode suggest' for the current ids" for i in unknown]
    problems += [f"suggestion {i} is both accepted and rejected: give it once" for i in both]
    if problems:
        raise QualcodeError(problems)
    for i in accept:
        review.decisions.append(review._learn(Decision(by_id[i], "accept"), learn))
    for i in reject:
        review.decisions.append(Decision(by_id[i], "reject"))
    review._write()


# -- the decisions file ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileDecision:
    """One row of a decisions file: ``where`` is ``FILE:LINE``."""

    coder: str
    suggestion: Suggestion
    decision: str
    note: str
    where: str


def _field_columns(raw: str) -> list[tuple[int, int]]:
    """(line, column), 1-based within ``raw``, where each field of the CSV record ``raw``
    starts: after each delimiter outside quotes (the csv module parses the values but does
    not say where they are)."""
    out, line, col, quoted = [(1, 1)], 1, 1, False
    for ch in raw:
        col += 1
        if ch == '"':
            quoted = not quoted  # a doubled quote toggles twice
        elif ch == "," and not quoted:
            out.append((line, col))
        elif ch == "\n":
            line, col = line + 1, 1
    return out


def read_decisions_csv(path: str | Path, suggestions: Sequence[Suggestion], folder: str | Path,
                       coder: str | None) -> list[FileDecision]:
    """Read and check a decisions file (columns ``id``, ``decision`` accept|reject|skip,
    optional ``coder`` and ``note``; the other columns of ``qualcode suggest --format csv``
    are allowed and ignored, so its output with a decision column added is a decisions
    file). Every problem is reported at once as ``FILE:LINE:COL``. An empty decision or
    ``skip`` decides nothing; a row repeating a decision the coder's log already has is
    left out, so a file can be applied twice."""

    name = display_path(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise QualcodeError(Problem(name, f"cannot read the decisions file: {err.strerror or err}")) from None
    except UnicodeDecodeError as err:
        raise QualcodeError(Problem(name, f"not UTF-8 text ({err.reason} at byte {err.start})")) from None
    lines = text.splitlines(keepends=True)
    rows = csv.reader(lines)
    problems: list[Problem] = []
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise QualcodeError(Problem(name, f"empty: a decisions file has the columns {', '.join(FILE_COLUMNS)}")) from None
    except csv.Error as err:
        raise QualcodeError(Problem(name, f"invalid CSV: {err}", 1, 1)) from None
    allowed = (*FILE_COLUMNS, *CSV_COLUMNS)
    columns = _field_columns(lines[0]) if lines else []
    for n, h in enumerate(header):
        if h not in allowed:
            near = difflib.get_close_matches(h, FILE_COLUMNS, 1)
            problems.append(Problem(name, f"unknown column {h!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
                                    + f"; a decisions file has {', '.join(FILE_COLUMNS)}", *columns[n]))
    for required in ("id", "decision"):
        if required not in header:
            problems.append(Problem(name, f"missing the column {required!r}: the header needs id and decision "
                                          f"(coder and note optional)", 1, 1))
    if problems:
        raise QualcodeError(problems)
    by_id = {s.id: s for s in suggestions}
    logs: dict[str, dict[str, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    out: list[FileDecision] = []
    try:
        for first, line, row in csv_rows(rows):
            at = [(first + a - 1, b) for a, b in _field_columns("".join(lines[first - 1:line - 1]))]
            cell = {h: (v.strip(), at[i] if i < len(at) else (first, 1)) for i, (h, v) in enumerate(zip(header, row))}

            def problem(column: str, message: str) -> None:
                problems.append(Problem(name, message, *cell.get(column, ("", (first, 1)))[1]))

            sid = cell.get("id", ("", None))[0]
            decision = cell.get("decision", ("", None))[0].lower()
            who = cell.get("coder", ("", None))[0] or coder
            note = cell.get("note", ("", None))[0]
            if decision not in ("", *FILE_DECISIONS):
                problem("decision", f"decision {decision!r}: write accept, reject or skip (or leave it empty)")
                continue
            if decision in ("", "skip"):
                continue
            if not who:
                problem("coder" if "coder" in cell else "id", "no coder: give --coder NAME or a coder column")
                continue
            wrong = check_coder(who)
            if wrong:
                problem("coder", wrong)
                continue
            if not sid:
                problem("id", "empty id: give the suggestion's id from 'qualcode suggest'")
                continue
            if (who, sid) in seen:
                problem("id", f"suggestion {sid} decided twice by {who}: first at line {seen[who, sid]}; keep one")
                continue
            seen[who, sid] = first
            if who not in logs:
                logs[who] = read_decisions(folder, who)
            earlier = logs[who].get(sid)
            if earlier == decision:
                continue  # applied before
            if sid not in by_id:
                if earlier == "reject":
                    problem("decision", f"suggestion {sid} was rejected by {who} earlier and is no longer suggested: "
                                        f"to code the passage, add a manual coding to {coding_file(folder, who)}")
                elif earlier == "accept":
                    problem("decision", f"suggestion {sid} was accepted by {who} earlier: to take it back, remove "
                                        f"its row from {coding_file(folder, who)}")
                else:
                    problem("id", f"unknown suggestion id {sid!r}: run 'qualcode suggest' for the current ids")
                continue
            out.append(FileDecision(who, by_id[sid], decision, note, f"{name}:{first}"))
    except csv.Error as err:
        problems.append(Problem(name, f"invalid CSV: {err}", rows.line_num, 1))
    if problems:
        raise QualcodeError(problems)
    return out


def apply_decisions_file(path: str | Path, suggestions: Sequence[Suggestion], folder: str | Path,
                         coder: str | None, *, codebook: Path | None = None, proposer: Any = None,
                         learn: str = "") -> dict[str, int]:
    """Apply a decisions file (see :func:`read_decisions_csv`): nothing is written unless
    every row is valid. ``learn`` ("example") applies to every accepted row. Returns the
    counts of accepted and rejected suggestions."""
    decided = read_decisions_csv(path, suggestions, folder, coder)
    reviews: dict[str, Review] = {}
    for d in decided:
        if d.coder not in reviews:
            reviews[d.coder] = Review(Path(folder), d.coder, codebook, proposer)
    if learn == "example":  # every example checked before anything is written
        from .learn import with_example

        if codebook is None:
            raise QualcodeError("--as-example needs the codebook")
        from .codebook import parse_codebook

        text = codebook.read_bytes().decode("utf-8-sig")
        for d in decided:
            if d.decision == "accept" and d.suggestion.text not in \
                    parse_codebook(text, str(codebook)).codebook.codes[d.suggestion.code].examples:
                text = with_example(text, d.suggestion.code, d.suggestion.text, str(codebook))[0]
    counts = {"accept": 0, "reject": 0}
    for d in decided:
        review = reviews[d.coder]
        review.decisions.append(review._learn(Decision(d.suggestion, d.decision, d.note),
                                              learn if d.decision == "accept" else ""))
        counts[d.decision] += 1
    for review in reviews.values():
        review._write()
    return counts


# -- the terminal loop ----------------------------------------------------------------------

KEYS = "[a]ccept  [e]xample  [p]roposal  [r]eject  [s]kip  [u]ndo  [q]uit"
END_KEYS = "[u]ndo  [q]uit"


def show(s: Suggestion, n: int, total: int, label: str) -> str:
    ev = s.evidence
    lines = [f"\n-- suggestion {n}/{total}  {s.id}  {s.doc}:{s.line}",
             f"   {s.text}",
             f"   code: {s.code} ({label})  score {s.score:.3f} (threshold {s.threshold:.3f}, {s.model})",
             f"   nearest definition: {ev.definition!r} (similarity {ev.definition_similarity:.2f})"]
    for p in ev.passages:
        lines.append(f"   coded like this at {p['where']}: {p['text'][:160]!r}")
    lines.append(f"   a accept, e accept as an example of {s.code}, p accept and propose terms")
    lines.append(f"   {KEYS}? ")
    return "\n".join(lines)


def _said(learned: Any, s: Suggestion, folder: Path) -> str:
    from .learn import ExampleAdded, proposals_file

    if isinstance(learned, ExampleAdded):
        if not learned.line:
            return f"accepted; already an example of {s.code}\n"
        return f"accepted; example of {s.code} added at {learned.path}:{learned.line}\n"
    terms = "\n".join(f"     {c.term!r}: would code {c.segments} segment(s), {c.coded} already {s.code}"
                      for c in learned) or "     (no word of the passage is distinctive)"
    return f"accepted; terms proposed in {proposals_file(folder)} (not applied):\n{terms}\n"


def terminal_loop(review: Review, queue: Sequence[Suggestion], labels: dict[str, str], read_key, write) -> dict[str, int]:
    """One suggestion at a time: a accept, e accept as an example, p accept and propose
    terms, r reject, s skip, u undo (back to the undone suggestion), q quit; after the
    last, undo or quit. ``read_key`` returns one character, ``write`` prints."""
    counts = {"accept": 0, "reject": 0, "skip": 0}
    i = 0
    history: list[tuple[int, str]] = []  # (queue index, action) for undo
    while True:
        if i < len(queue):
            s = queue[i]
            write(show(s, i + 1, len(queue), labels.get(s.code, s.code)))
        else:
            write(f"\n-- all {len(queue)} reviewed. {END_KEYS}? ")
        key = read_key().lower()
        if key in ("q", "\x04", "\x03", ""):
            break
        if key == "u":
            if not history:
                write("nothing to undo\n")
                continue
            i, action = history.pop()
            if action != "skip":
                review.undo()
            counts[action] -= 1
            write(f"undid {action} of {queue[i].id}\n")
        elif i >= len(queue):
            write(f"unknown key {key!r}: {END_KEYS}\n")
        elif key in ("a", "e", "p", "r"):
            decision = "reject" if key == "r" else "accept"
            try:
                learned = review.decide(s, decision, learn={"e": "example", "p": "proposal"}.get(key, ""))
            except QualcodeError as err:
                write(f"not done: {err}\n")
                continue
            counts[decision] += 1
            history.append((i, decision))
            write(_said(learned, s, review.folder) if learned is not None else f"{decision}ed\n")
            i += 1
        elif key == "s":
            counts["skip"] += 1
            history.append((i, "skip"))
            write("skipped\n")
            i += 1
        else:
            write(f"unknown key {key!r}: {KEYS}\n")
    return counts
