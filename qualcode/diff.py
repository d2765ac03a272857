"""What changed between two runs in the store: codings gained and lost per code.

Codings are compared by content, not by offset: (code, source, coder, status, pattern,
the segment's text, the matched text). An edit early in a document therefore does not
make every later coding look lost and gained again, and a codebook edit that only moves
patterns to other lines changes nothing. The rule's ``file:line:col`` shown is the one
in the run that has the coding.

Codings of every source are compared: the rule codings of the documents recoded between
the runs, and the coders' codings (manual, imported, suggested; stored with each run) of
every document, by (code, source, coder, status, the coded text), so an entry that only
moved in its coder file changes nothing either.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from .errors import Problem, QualcodeError
from .store import Store


@dataclass(frozen=True, slots=True)
class Change:
    """One coding gained (in run B, not A) or lost (in A, not B)."""

    gained: bool
    code: str
    doc: str
    line: int
    segment: str
    passage: str
    text: str  # the matched words (the whole passage for an inherited coding)
    source: str
    coder: str
    status: str
    pattern: str | None
    rule: str | None
    via: str | None
    offset: int  # where ``text`` starts in ``passage``

    def record(self) -> dict[str, Any]:
        return {"change": "gained" if self.gained else "lost", "code": self.code, "doc": self.doc, "line": self.line,
                "segment": self.segment, "passage": self.passage, "text": self.text, "source": self.source,
                "coder": self.coder, "status": self.status, "pattern": self.pattern, "rule": self.rule,
                "via": self.via}


@dataclass(slots=True)
class RunDiff:
    run_a: int
    run_b: int
    changes: list[Change]  # by code (codebook order of run B), then lost before gained, then position
    documents_changed: int

    def per_code(self) -> dict[str, tuple[int, int]]:
        """Code -> (gained, lost)."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for c in self.changes:
            out[c.code][0 if c.gained else 1] += 1
        return {k: (v[0], v[1]) for k, v in out.items()}

    def per_source(self) -> dict[str, dict[str, tuple[int, int]]]:
        """Code -> source -> (gained, lost)."""
        out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for c in self.changes:
            out[c.code][c.source][0 if c.gained else 1] += 1
        return {k: {s: (v[0], v[1]) for s, v in by.items()} for k, by in out.items()}


def diff_runs(store: Store, run_a: int | None = None, run_b: int | None = None) -> RunDiff:
    """The codings gained and lost from run ``run_a`` to run ``run_b`` (default: the last
    two runs; a negative number counts back from the last run, -1 being the last)."""
    runs = [r.id for r in store.runs()]
    if run_a is None and run_b is None:
        if len(runs) < 2:
            raise QualcodeError(Problem(str(store.path), f"the store has {len(runs)} run(s): diff needs two "
                                                         f"(edit the codebook or the corpus and run 'qualcode code')"))
        run_a, run_b = runs[-2], runs[-1]
    elif run_b is None:
        run_b = runs[-1] if runs else None
    a, b = _resolve(runs, run_a, store), _resolve(runs, run_b, store)
    docs_a, docs_b = store.run_documents(a), store.run_documents(b)
    kept = [r for r, in store.conn.execute("SELECT DISTINCT run_id FROM run_documents ORDER BY run_id")]
    for run, docs in ((a, docs_a), (b, docs_b)):
        if not docs and run not in kept:
            raise QualcodeError(Problem(str(store.path), f"run {run}'s codings are no longer in the store: it keeps "
                                                         f"those of the last runs only (--keep-runs of the commands that "
                                                         f"code the corpus); "
                                                         + (f"runs {', '.join(map(str, kept))} can be compared"
                                                            if len(kept) > 1 else
                                                            f"only run {kept[0]} is kept, so there is nothing to compare"
                                                            if kept else "no run is kept")))
    changed_docs = sorted(d for d in set(docs_a) | set(docs_b) if docs_a.get(d) != docs_b.get(d))
    changes: list[Change] = []
    for doc in changed_docs:
        _compare(_codings(store, docs_a.get(doc)), _codings(store, docs_b.get(doc)), changes)
    coders_a, coders_b = _coder_codings(store, a), _coder_codings(store, b)
    for doc in sorted(set(coders_a) | set(coders_b)):
        _compare(coders_a.get(doc, []), coders_b.get(doc, []), changes)
    order = {c: n for n, (c,) in enumerate(store.conn.execute("SELECT id FROM codes ORDER BY position"))}
    changes.sort(key=lambda c: (order.get(c.code, len(order)), c.code, c.gained, c.doc, c.line, c.source, c.coder))
    return RunDiff(a, b, changes, len(changed_docs))


def _resolve(runs: list[int], run: int | None, store: Store) -> int:
    if run is not None and run < 0 and -run <= len(runs):
        return runs[run]
    if run not in runs:
        have = f"runs {runs[0]} to {runs[-1]}" if runs else "no runs"
        raise QualcodeError(Problem(str(store.path), f"no run {run} in the store (it has {have}; "
                                                     f"-1 is the last run, -2 the one before)"))
    return run  # type: ignore[return-value]


def _compare(before: list[tuple[tuple, Any]], after: list[tuple[tuple, Any]], changes: list[Change]) -> None:
    """The changes from ``before`` to ``after`` (keyed codings of one document), by key count."""
    old, new = Counter(k for k, _ in before), Counter(k for k, _ in after)
    lost, gained = old - new, new - old
    for gained_flag, items, wanted in ((False, before, lost), (True, after, gained)):
        for key, change in items:
            if wanted[key] > 0:
                wanted[key] -= 1
                changes.append(change(gained_flag))


def _coder_codings(store: Store, run: int) -> dict[str, list[tuple[tuple, Any]]]:
    """Document -> the coders' codings of one run (applied, inherited and rejections), keyed
    by content; the passage is the segment holding the coding in that run (the coded text
    itself when it spans several)."""
    out: dict[str, list[tuple[tuple, Any]]] = defaultdict(list)
    for code, doc, line, seg, passage, text, source, coder, status, pattern, rfile, rline, rcol, via, offset in \
            store.conn.execute(
                "SELECT c.code, c.doc_id, c.line, c.segment, coalesce(s.text, c.text), c.text, c.source, c.coder, "
                "c.status, c.pattern, c.rule_file, c.rule_line, c.rule_col, c.via, "
                "CASE WHEN s.text IS NULL THEN 0 ELSE c.start - s.start END FROM codings c "
                "LEFT JOIN run_documents rd ON rd.run_id = c.run_id AND rd.doc_id = c.doc_id "
                "LEFT JOIN segments s ON s.coded_id = rd.coded_id AND s.id = c.segment "
                "WHERE c.coded_id IS NULL AND c.run_id = ? AND c.status IN ('applied', 'inherited', 'rejected') "
                "ORDER BY c.doc_id, c.seq", (run,)):
        rule = f"{rfile}:{rline}:{rcol}" if rfile else None
        key = (code, source, coder, status, via, text)
        out[doc].append((key, lambda g, v=(code, doc, line, seg or "", passage, text, source, coder, status, pattern,
                                           rule, via, offset): Change(g, *v)))
    return out


def _codings(store: Store, coded_id: int | None) -> list[tuple[tuple, Any]]:
    if coded_id is None:
        return []
    out = []
    for code, doc, line, seg, passage, text, source, coder, status, pattern, rfile, rline, rcol, via, offset in \
            store.conn.execute(
                "SELECT c.code, c.doc_id, c.line, c.segment, s.text, c.text, c.source, c.coder, c.status, c.pattern, "
                "c.rule_file, c.rule_line, c.rule_col, c.via, c.start - s.start FROM codings c "
                "JOIN segments s ON s.coded_id = c.coded_id AND s.id = c.segment WHERE c.coded_id = ? AND c.status IN ('applied', 'inherited') "
                "ORDER BY c.seq", (coded_id,)):
        rule = f"{rfile}:{rline}:{rcol}" if rfile else None
        # an inherited code belongs to the segment (one per ancestor, on its first sub-code's span):
        # it changes when the segment gains or loses it, not when another sub-code brings it first
        key = (code, source, coder, status, via, passage) if status == "inherited" else \
            (code, source, coder, status, pattern, via, passage, text)
        out.append((key, lambda g, v=(code, doc, line, seg, passage, text, source, coder, status, pattern, rule, via,
                                               offset):
                    Change(g, *v)))
    return out


def render_diff(diff: RunDiff, fmt: str = "text") -> str:
    """Per code, the codings gained (+) and lost (-), each with ``doc:line``, the pattern
    (or coder) responsible and the passage with the matched words in [brackets]."""
    if fmt == "json":
        import json

        return json.dumps({"run_a": diff.run_a, "run_b": diff.run_b, "documents_changed": diff.documents_changed,
                           "per_code": {k: {"gained": g, "lost": lost} for k, (g, lost) in diff.per_code().items()},
                           "per_source": {k: {s: {"gained": g, "lost": lost} for s, (g, lost) in by.items()}
                                          for k, by in diff.per_source().items()},
                           "changes": [c.record() for c in diff.changes]}, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        columns = ("change", "code", "doc", "line", "segment", "passage", "text", "source", "coder", "status",
                   "pattern", "rule", "via")
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(c.record() for c in diff.changes)
        return buf.getvalue()
    per_code, per_source = diff.per_code(), diff.per_source()
    coders = sum(c.source != "rule" for c in diff.changes)
    out = [f"run {diff.run_a} -> run {diff.run_b}: {len(diff.changes)} coding(s) changed in "
           f"{diff.documents_changed} document(s) recoded, added or removed"
           + (f" ({coders} of them coders' codings)" if coders else "") + "\n"]
    code = None
    for c in diff.changes:
        if c.code != code:
            code = c.code
            gained, lost = per_code[code]
            by = per_source[code]
            sources = "" if set(by) == {"rule"} else " (" + ", ".join(
                f"{s} +{g} -{lost}" for s, (g, lost) in sorted(by.items())) + ")"
            out.append(f"\n{code}: +{gained} -{lost}{sources}\n")
        why = c.pattern if c.source == "rule" and c.status == "applied" else (
            f"inherited via {c.via}" if c.status == "inherited" else
            f"{c.source} {c.coder}" + (" rejects it" if c.status == "rejected" else ""))
        where = f" ({c.rule})" if c.rule else ""
        passage = c.passage
        if c.status == "applied" and c.text:
            i = c.offset
            passage = f"{passage[:i]}[{c.text}]{passage[i + len(c.text):]}"
        out.append(f"{'+' if c.gained else '-'} {c.doc}:{c.line}  {why}{where}\n    {' '.join(passage.split())}\n")
    return "".join(out)
