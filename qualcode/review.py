"""Reviewing suggestions: accepted ones become a coder's manual codings, every decision is logged.

An accepted suggestion is written to the reviewer's coding file ``codings/<coder>.csv`` (a
manual codings file, see ``qualcode.manual``: doc, start, end, code, a note naming the
suggestion, its score and model, and the coder), so it counts like any manual coding. Every
decision (accept or reject) goes to ``codings/review/<coder>.csv`` (id, decision, doc,
start, end, line, code, score, model) so a rejected suggestion is not offered again; that
folder is not read as coder files. Both files are rewritten whole and atomically after each
decision (``qualcode.fileio.open_output``), so an interrupted review keeps every decision
made before it; undo rewrites them without the last one.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .errors import Problem, QualcodeError
from .suggest import Suggestion

CODING_COLUMNS = ("doc", "start", "end", "code", "note", "coder")
DECISION_COLUMNS = ("id", "decision", "doc", "start", "end", "line", "code", "score", "model")
DECISIONS = ("accept", "reject")


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


@dataclass
class Review:
    """One coder's review session: the files as they were, and the decisions made since."""

    folder: Path
    coder: str
    decisions: list[tuple[Suggestion, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.coder or any(c in self.coder for c in "/\\") or self.coder.startswith("."):
            raise QualcodeError(f"--coder {self.coder!r}: give a name usable as a file name, e.g. --coder ana")
        self._codings = _read_or_header(coding_file(self.folder, self.coder), CODING_COLUMNS)
        self._log = _read_or_header(decisions_file(self.folder, self.coder), DECISION_COLUMNS)

    def decide(self, suggestion: Suggestion, decision: str) -> None:
        if decision not in DECISIONS:
            raise ValueError(decision)
        self.decisions.append((suggestion, decision))
        self._write()

    def undo(self) -> tuple[Suggestion, str] | None:
        if not self.decisions:
            return None
        last = self.decisions.pop()
        self._write()
        return last

    def _write(self) -> None:
        from .fileio import open_output

        accepted = [s for s, d in self.decisions if d == "accept"]
        rows = [(s.doc, s.start, s.end, s.code, f"accepted suggestion {s.id} (score {s.score:.3f}, {s.model})",
                 self.coder) for s in accepted]
        log = [(s.id, d, s.doc, s.start, s.end, s.line, s.code, f"{s.score:.4f}", s.model) for s, d in self.decisions]
        for path, original, new, columns in ((coding_file(self.folder, self.coder), self._codings, rows, CODING_COLUMNS),
                                             (decisions_file(self.folder, self.coder), self._log, log, DECISION_COLUMNS)):
            if original is None and not new:
                if path.exists():  # created by this session, emptied by undo
                    path.unlink()
                continue
            with open_output(path, newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                if original is None:
                    writer.writerow(columns)
                else:
                    fh.write(original)
                writer.writerows(new)


def _read_or_header(path: Path, columns: Sequence[str]) -> str | None:
    """The file's text (ending in a line break), after checking its header has ``columns``;
    None when there is no file yet."""
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in columns if c not in [h.strip() for h in header]]
    if header != list(columns) and missing:
        raise QualcodeError(Problem(str(path), f"has the columns {', '.join(header) or '(none)'}; the review writes "
                                               f"{', '.join(columns)}: give another --coder or add the columns"))
    if [h.strip() for h in header] != list(columns):
        raise QualcodeError(Problem(str(path), f"columns must be exactly {', '.join(columns)} in that order for the "
                                               "review to append to it; give another --coder"))
    return text if text.endswith("\n") or not text else text + "\n"


def pending(suggestions: Iterable[Suggestion], decided: dict[str, str]) -> list[Suggestion]:
    """The suggestions this coder has not decided on yet."""
    return [s for s in suggestions if s.id not in decided]


def apply_decisions(review: Review, suggestions: Sequence[Suggestion], accept: Sequence[str],
                    reject: Sequence[str]) -> None:
    """The file-based review: accept and reject suggestions by id; unknown ids are an error
    (all reported at once) and nothing is written."""
    by_id = {s.id: s for s in suggestions}
    unknown = [i for i in [*accept, *reject] if i not in by_id]
    both = sorted(set(accept) & set(reject))
    problems = [f"unknown suggestion id {i!r}: run 'qualcode suggest' for the current ids" for i in unknown]
    problems += [f"suggestion {i} is both accepted and rejected: give it once" for i in both]
    if problems:
        raise QualcodeError(problems)
    for i in accept:
        review.decisions.append((by_id[i], "accept"))
    for i in reject:
        review.decisions.append((by_id[i], "reject"))
    review._write()


KEYS = "[a]ccept  [r]eject  [s]kip  [u]ndo  [q]uit"


def show(s: Suggestion, n: int, total: int, label: str) -> str:
    ev = s.evidence
    lines = [f"\n-- suggestion {n}/{total}  {s.id}  {s.doc}:{s.line}",
             f"   {s.text}",
             f"   code: {s.code} ({label})  score {s.score:.3f} (threshold {s.threshold:.3f}, {s.model})",
             f"   nearest definition: {ev.definition!r} (similarity {ev.definition_similarity:.2f})"]
    for p in ev.passages:
        lines.append(f"   coded like this at {p['where']}: {p['text'][:160]!r}")
    lines.append(f"   {KEYS}? ")
    return "\n".join(lines)


def terminal_loop(review: Review, queue: Sequence[Suggestion], labels: dict[str, str], read_key, write) -> dict[str, int]:
    """One suggestion at a time: a accept, r reject, s skip, u undo (back to the undone
    suggestion), q quit. ``read_key`` returns one character, ``write`` prints."""
    counts = {"accept": 0, "reject": 0, "skip": 0}
    i = 0
    history: list[tuple[int, str]] = []  # (queue index, action) for undo
    while i < len(queue):
        s = queue[i]
        write(show(s, i + 1, len(queue), labels.get(s.code, s.code)))
        key = read_key().lower()
        if key in ("q", "\x04", "\x03"):
            break
        if key == "a" or key == "r":
            decision = "accept" if key == "a" else "reject"
            review.decide(s, decision)
            counts[decision] += 1
            history.append((i, decision))
            write(f"{decision}ed\n" if decision == "reject" else "accepted\n")
            i += 1
        elif key == "s":
            counts["skip"] += 1
            history.append((i, "skip"))
            write("skipped\n")
            i += 1
        elif key == "u":
            if not history:
                write("nothing to undo\n")
                continue
            i, action = history.pop()
            if action != "skip":
                review.undo()
            counts[action] -= 1
            write(f"undid {action} of {queue[i].id}\n")
        else:
            write(f"unknown key {key!r}: {KEYS}\n")
    return counts
