"""Retrieval from the project store: coded segments, keyword in context, code and pattern statistics.

Everything reads the last run in the store (``qualcode.store``); :func:`current_store`
codes the corpus first when the store is missing or stale, so what is retrieved is
always what coding the files now gives.
"""
from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from .errors import Problem, QualcodeError
from .store import Store, open_store

APPLIED = ("applied", "inherited")


def current_store(corpus: str | Path, codebook: str | Path, store: str | Path, *, model: str | None = None,
                  jobs: int = 1, codings: str | Path | None = None) -> tuple[Store, Any]:
    """The store, brought up to date: when its last run is not of these files, this
    codebook, qualcode version and pipeline, and the coder files in ``codings`` as they
    are, the corpus is coded (incrementally) first. Returns the open store and the
    CodingResult of that coding (None when it was current)."""
    db = open_store(store)
    if db.is_current(corpus, codebook, model, codings):
        return db, None
    db.close()
    from .project import code_project

    result = code_project(corpus, codebook, jobs=jobs, model=model, store=store, codings=codings)
    return open_store(store), result


# -- segments -----------------------------------------------------------------------------------

class Applied(NamedTuple):
    """One coding of a passage: the code, who or what applied it, and the matched span (a
    named tuple: made straight from a store row, several times faster than a frozen dataclass)."""

    code: str
    source: str
    coder: str
    status: str
    pattern: str | None
    rule: str | None
    via: str | None
    start: int
    end: int
    text: str

    @property
    def who(self) -> str:
        if self.status == "inherited":
            return f"inherited via {self.via}" if self.via else "inherited"
        if self.source == "rule":
            return f"rule {self.pattern}"
        return f"{self.source} {self.coder}"


@dataclass(frozen=True, slots=True)
class Passage:
    """A coded segment as retrieval shows it: where it is, its text and its codings."""

    doc: str
    line: int
    segment: str
    start: int
    end: int
    text: str
    codes: tuple[str, ...]
    codings: tuple[Applied, ...] = field(default=())
    kind: str = "sentence"  # the segment's kind (sentence, heading, list_item, table_row ...)
    speaker: str | None = None  # the speaker of the transcript turn it is in

    def record(self) -> dict[str, Any]:
        return {"doc": self.doc, "line": self.line, "segment": self.segment, "start": self.start, "end": self.end,
                "kind": self.kind, "speaker": self.speaker, "text": self.text, "codes": list(self.codes),
                "codings": [{"code": c.code, "source": c.source, "coder": c.coder, "status": c.status,
                             "pattern": c.pattern, "rule": c.rule, "via": c.via, "start": c.start, "end": c.end,
                             "text": c.text} for c in self.codings]}


def find_segments(store: Store, *, codes: Sequence[str] = (), case: str | None = None,
                  docs: Sequence[str] = (), source: str | None = None, text: str | None = None) -> list[Passage]:
    """The coded segments of the last run that have any of ``codes`` (a code includes its
    sub-codes), sit in or name ``case`` (or a case inside it), belong to ``docs``
    (document kinds or id prefixes), carry a coding of ``source``, and whose text matches
    the regular expression ``text`` (case-insensitive); in document order."""
    run = _last_run_id(store)
    db = store.conn
    known_codes = [r[0] for r in db.execute("SELECT id FROM codes ORDER BY position")]
    for c in codes:
        _known(c, known_codes, "code", "--code")
    cases = _case_and_descendants(store, case) if case else None
    rx = _regex(text) if text else None
    where, params = ["rd.run_id = ?"], [run]
    coding_filter, coding_params = ["c.status IN ('applied', 'inherited')"], []
    if codes:
        coding_filter.append(f"c.code IN ({','.join('?' * len(codes))})")
        coding_params.extend(codes)
    if source:
        coding_filter.append("c.source = ?")
        coding_params.append(source)
    if codes or source:  # a rule coding of the segment's coded document, or a coder's of this run
        cond = " AND ".join(coding_filter)
        where.append(f"(EXISTS (SELECT 1 FROM codings c WHERE c.coded_id = s.coded_id AND c.segment = s.id AND {cond}) "
                     f"OR EXISTS (SELECT 1 FROM codings c WHERE c.coded_id IS NULL AND c.run_id = rd.run_id AND "
                     f"c.doc_id = s.doc_id AND c.segment = s.id AND {cond}))")
        params.extend(coding_params + coding_params)
    if docs:
        where.append("(" + " OR ".join(["d.kind = ? OR s.doc_id LIKE ? ESCAPE '\\'"] * len(docs)) + ")")
        for d in docs:
            params.extend([d, _like_prefix(d)])
    rows = db.execute(
        'SELECT s.coded_id, s.id, s.doc_id, s.line, s.start, s."end", s.text, s.codes, s.cases, s.context_cases, '
        "s.kind, s.speaker "
        "FROM segments s JOIN run_documents rd ON rd.coded_id = s.coded_id JOIN documents d ON d.id = s.doc_id "
        f"WHERE {' AND '.join(where)} ORDER BY s.doc_id, s.n", params).fetchall()
    decoded = store.list_of  # codes lists repeat: decoded once each
    picked = []
    for row in rows:
        if cases is not None and not cases.intersection(decoded(row[8]) + decoded(row[9])):
            continue
        if rx is not None and not rx.search(row[6]):
            continue
        picked.append(row)
    codings = _codings_of(store, run, [(r[0], r[1], r[2]) for r in picked])
    return [Passage(doc, line, sid, start, end, seg_text, decoded(seg_codes), tuple(codings.get((cid, sid), ())),
                    kind, speaker)
            for cid, sid, doc, line, start, end, seg_text, seg_codes, _, _, kind, speaker in picked]


def _codings_of(store: Store, run: int, keys: list[tuple[int, str, str]]) -> dict[tuple[int, str], list[Applied]]:
    """The applied and inherited codings of these (coded document, segment, document)
    triples: the rule codings, then the coders' codings of run ``run``."""
    out: dict[tuple[int, str], list[Applied]] = defaultdict(list)
    if not keys:
        return out
    db = store.conn
    db.execute("CREATE TEMP TABLE IF NOT EXISTS picked (coded_id INTEGER, segment TEXT)")
    # One deferred transaction (it takes no lock on the store): in the store's autocommit mode
    # each insert was its own; refilling 7,476 keys took 0.19 s against 0.008 s (a first fill in a
    # new process gained less, about 0.05 s).
    db.execute("BEGIN")
    db.execute("DELETE FROM picked")
    db.executemany("INSERT INTO picked VALUES (?, ?)", [k[:2] for k in keys])
    db.execute("COMMIT")
    rows: dict[tuple[int, str], list[tuple]] = defaultdict(list)
    # No ORDER BY (SQLite would sort all 31,312 rows of segments --code finance on the
    # million-word benchmark, 0.06 s): each segment's rows are sorted by id below.
    for row in db.execute(
            "SELECT c.coded_id, c.segment, c.id, c.code, c.source, c.coder, c.status, c.pattern, c.rule_file, "
            'c.rule_line, c.rule_col, c.via, c.start, c."end", c.text FROM picked p '  # picked drives the loop,
            "CROSS JOIN codings c ON c.coded_id = p.coded_id AND c.segment = p.segment "  # on codings_by_segment
            "WHERE c.status IN ('applied', 'inherited')"):
        rows[row[:2]].append(row[2:])
    rules: dict[tuple[Any, Any, Any], str | None] = {}
    for key, found in rows.items():
        found.sort()
        out[key] = [Applied(code, source, coder, status, pattern, _rule(rules, rfile, rline, rcol), via, start, end, text)
                    for _, code, source, coder, status, pattern, rfile, rline, rcol, via, start, end, text in found]
    coded = {(doc, seg): cid for cid, seg, doc in keys}
    for doc, seg, code, source, coder, status, pattern, rfile, rline, rcol, via, start, end, text in db.execute(
            'SELECT doc_id, segment, code, source, coder, status, pattern, rule_file, rule_line, rule_col, via, start, '
            '"end", text FROM codings WHERE coded_id IS NULL AND run_id = ? AND status IN (\'applied\', \'inherited\') '
            "ORDER BY seq", (run,)):
        cid = coded.get((doc, seg))
        if cid is not None:
            out[(cid, seg)].append(Applied(code, source, coder, status, pattern, _rule(rules, rfile, rline, rcol), via,
                                           start, end, text))
    return out


def _rule(memo: dict[tuple[Any, Any, Any], str | None], file: str | None, line: int | None, col: int | None) -> str | None:
    """A coding's rule as the audit trail writes it, ``file:line:col`` (None for no rule file)."""
    key = (file, line, col)
    if key not in memo:
        memo[key] = f"{file}:{line}:{col}" if file else None
    return memo[key]


def _last_run_id(store: Store) -> int:
    last = store.last_run()
    if last is None:
        raise QualcodeError(Problem(str(store.path), "the store has no runs yet: run 'qualcode code' first"))
    return last.id


def _known(value: str, known: list[str], what: str, option: str) -> None:
    if value not in known:
        near = difflib.get_close_matches(value, known, 1)
        hint = f"; did you mean {near[0]!r}?" if near else f" (the codebook's {what}s: {', '.join(known[:12])})"
        raise QualcodeError(Problem("qualcode", f"{option} {value!r}: unknown {what}{hint}"))


def _case_and_descendants(store: Store, case: str) -> set[str]:
    from .pipeline import fold

    rows = store.conn.execute("SELECT id, name, parent FROM cases").fetchall()
    by_name = {fold(name): cid for cid, name, _ in rows}
    case = case if case in {r[0] for r in rows} else by_name.get(fold(case), case)
    _known(case, [r[0] for r in rows], "case", "--case")
    children: dict[str, list[str]] = defaultdict(list)
    for cid, _, parent in rows:
        if parent:
            children[parent].append(cid)
    out, todo = set(), [case]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(children[c])
    return out


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as err:
        raise QualcodeError(Problem("qualcode", f"--text {text!r}: invalid regular expression: {err}")) from None


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# -- keyword in context ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Concordance:
    """One keyword occurrence with its context in the segment."""

    doc: str
    line: int
    segment: str
    left: str
    keyword: str
    right: str
    code: str | None = None

    def record(self) -> dict[str, Any]:
        return {"doc": self.doc, "line": self.line, "segment": self.segment, "left": self.left,
                "keyword": self.keyword, "right": self.right, "code": self.code}


def kwic_term(store: Store, term: str, *, model: str | None = None, docs: Sequence[str] = ()) -> list[Concordance]:
    """Every occurrence of ``term`` in the last run's segments, compared like a codebook
    term: token by token on case- and accent-folded lemmas ("loan" finds "Loans")."""
    from .pipeline import Pipeline

    pipe = Pipeline(model)
    keys = pipe.tokenize(term).lemmas.tolist()
    if not keys:
        raise QualcodeError(Problem("qualcode", f"kwic {term!r}: the term has no words to look for"))
    n = len(keys)
    first = keys[0]
    out = []
    for doc, sid, line, seg_text in _segment_texts(store, docs):
        tokens = pipe.tokenize(seg_text)
        lemmas = tokens.lemmas.tolist()
        for i, key in enumerate(lemmas):
            if key == first and lemmas[i:i + n] == keys:
                a, b = int(tokens.starts[i]), int(tokens.ends[i + n - 1])
                out.append(_concordance(doc, sid, line, seg_text, a, b))
    return out


def kwic_code(store: Store, code: str, *, docs: Sequence[str] = ()) -> list[Concordance]:
    """The spans coded ``code`` (or one of its sub-codes) in the last run, in context."""
    run = _last_run_id(store)
    db = store.conn
    rows = db.execute("SELECT id, parent FROM codes ORDER BY position").fetchall()
    _known(code, [r[0] for r in rows], "code", "--code")
    wanted = {code}
    changed = True
    while changed:
        more = {cid for cid, parent in rows if parent in wanted} - wanted
        changed = bool(more)
        wanted |= more
    allowed = set(_doc_filter(store, docs)) if docs else None
    out = []
    for doc, sid, line, seg_start, seg_text, c_code, a, b in db.execute(
            'SELECT s.doc_id, s.id, s.line, s.start, s.text, c.code, c.start, c."end" FROM codings c '
            "JOIN run_documents rd ON rd.coded_id = c.coded_id AND rd.run_id = ? "
            "JOIN segments s ON s.coded_id = c.coded_id AND s.id = c.segment "
            f"WHERE c.status = 'applied' AND c.code IN ({','.join('?' * len(wanted))}) "
            "ORDER BY s.doc_id, s.n, c.start, c.seq", [run, *sorted(wanted)]):
        if allowed is None or doc in allowed:
            out.append(_concordance(doc, sid, line, seg_text, a - seg_start, b - seg_start, c_code))
    return out


def _segment_texts(store: Store, docs: Sequence[str]) -> list[tuple[str, str, int, str]]:
    run = _last_run_id(store)
    allowed = set(_doc_filter(store, docs)) if docs else None
    rows = store.conn.execute("SELECT s.doc_id, s.id, s.line, s.text FROM segments s JOIN run_documents rd "
                              "ON rd.coded_id = s.coded_id AND rd.run_id = ? ORDER BY s.doc_id, s.n", (run,))
    return [r for r in rows if allowed is None or r[0] in allowed]


def _doc_filter(store: Store, docs: Sequence[str]) -> list[str]:
    return [doc_id for doc_id, kind in store.conn.execute("SELECT id, kind FROM documents")
            if any(kind == d or doc_id.startswith(d) for d in docs)]


def _concordance(doc: str, sid: str, line: int, text: str, a: int, b: int, code: str | None = None) -> Concordance:
    return Concordance(doc, line + text.count("\n", 0, a), sid, _flat(text[:a]), _flat(text[a:b]), _flat(text[b:]),
                       code)


def _flat(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\t" in text or "  " in text else text


# -- statistics --------------------------------------------------------------------------------

@dataclass(slots=True)
class CodeStats:
    code: str
    label: str
    by_source: dict[str, tuple[int, int]]  # source -> (segments, documents)


@dataclass(slots=True)
class PatternStats:
    code: str
    pattern: str
    rule: str
    fired: int  # matches
    segments: int  # segments it matched in

    def record(self) -> dict[str, Any]:
        return {"code": self.code, "pattern": self.pattern, "rule": self.rule, "fired": self.fired,
                "segments": self.segments}


@dataclass(slots=True)
class Stats:
    segments: int
    documents: int
    codes: list[CodeStats]
    patterns: list[PatternStats]  # every code pattern of the codebook, most fired first
    broad_share: float

    @property
    def never_fired(self) -> list[PatternStats]:
        return [p for p in self.patterns if not p.fired]

    @property
    def broad(self) -> list[PatternStats]:
        """Patterns that match in more than ``broad_share`` of all segments."""
        return [p for p in self.patterns if self.segments and p.segments > self.broad_share * self.segments]

    def record(self) -> dict[str, Any]:
        return {"segments": self.segments, "documents": self.documents,
                "codes": [{"code": c.code, "label": c.label,
                           "by_source": {s: {"segments": n, "documents": d} for s, (n, d) in c.by_source.items()}}
                          for c in self.codes],
                "patterns": [p.record() for p in self.patterns],
                "never_fired": [p.rule for p in self.never_fired], "broad": [p.rule for p in self.broad],
                "broad_share": self.broad_share}


BROAD_SHARE = 0.25  # a pattern coding more than this share of the segments is over-broad (`check` warns too)


def code_stats(store: Store, loaded: Any, *, broad_share: float = BROAD_SHARE) -> Stats:
    """Per code, segments and documents by source; per code pattern of the codebook
    (``loaded``: a LoadedCodebook), how often it fired in the last run."""
    run = _last_run_id(store)
    db = store.conn
    join = "JOIN run_documents rd ON rd.coded_id = c.coded_id AND rd.run_id = ?"
    nseg = db.execute("SELECT count(*) FROM segments s JOIN run_documents rd ON rd.coded_id = s.coded_id "
                      "AND rd.run_id = ?", (run,)).fetchone()[0]
    ndoc = db.execute("SELECT count(*) FROM run_documents WHERE run_id = ?", (run,)).fetchone()[0]
    per_code: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for code, source, segs, docs in db.execute(  # rule codings of the run's coded documents, coders' of the run
            "SELECT code, source, count(DISTINCT doc_id || ' ' || segment), count(DISTINCT doc_id) FROM ("
            f"SELECT c.code, c.source, c.doc_id, c.segment FROM codings c {join} "
            "WHERE c.status IN ('applied', 'inherited') UNION ALL "
            "SELECT code, source, doc_id, coalesce(segment, start || '-' || \"end\") FROM codings "
            "WHERE coded_id IS NULL AND run_id = ? AND status IN ('applied', 'inherited')) "
            "GROUP BY code, source ORDER BY code, source", (run, run)):
        per_code[code][source] = (segs, docs)
    codes = [CodeStats(c.id, c.label, per_code.get(c.id, {})) for c in loaded.codebook.codes.values()]
    fired = {f"{rfile}:{rline}:{rcol}": (n, segs) for rfile, rline, rcol, n, segs in db.execute(
        f"SELECT c.rule_file, c.rule_line, c.rule_col, count(*), count(DISTINCT c.coded_id || ' ' || c.segment) "
        f"FROM codings c {join} WHERE c.source = 'rule' AND c.status = 'applied' "
        f"GROUP BY c.rule_file, c.rule_line, c.rule_col", (run,))}
    patterns = [PatternStats(s.owner, s.label, s.rule, *fired.get(s.rule, (0, 0))) for s in loaded.patterns
                if not s.for_case and not s.exclude and s.kind != "ignore"]
    patterns.sort(key=lambda p: -p.fired)  # stable: codebook order among equals
    return Stats(nseg, ndoc, codes, patterns, broad_share)


# -- showing ------------------------------------------------------------------------------------

BOLD, RESET = "\x1b[1;31m", "\x1b[0m"


def render_passages(passages: Sequence[Passage], fmt: str = "text", *, color: bool = False,
                    codes: Sequence[str] = ()) -> str:
    """Passages as text (``doc:line``, codes and who applied them, the passage with the
    matched words highlighted when ``color``), JSON or CSV."""
    if fmt == "json":
        return _json_list([p.record() for p in passages])
    if fmt == "csv":
        return _csv([{"doc": p.doc, "line": p.line, "segment": p.segment, "start": p.start, "end": p.end,
                      "kind": p.kind, "speaker": p.speaker or "", "codes": ";".join(p.codes),
                      "codings": ";".join(f"{c.code}={c.who}" for c in p.codings), "text": p.text}
                     for p in passages],
                    ("doc", "line", "segment", "start", "end", "kind", "speaker", "codes", "codings", "text"))
    out = []
    for p in passages:
        who: dict[str, list[str]] = {}
        for c in p.codings:
            who.setdefault(c.code, [])
            if c.who not in who[c.code]:
                who[c.code].append(c.who)
        shown = list(p.codes) + [c for c in who if c not in p.codes]  # the segment's rule codes, then coders' codes
        listed = "; ".join(f"{code} ({', '.join(who.get(code, []))})" if who.get(code) else code for code in shown)
        spans = [(c.start - p.start, c.end - p.start) for c in p.codings
                 if c.status == "applied" and (not codes or c.code in codes)]
        said = f"{p.speaker}: " if p.speaker else ""
        out.append(f"{p.doc}:{p.line}  {listed}\n    {said}{_highlight(p.text, spans) if color else p.text}\n")
    return "".join(out)


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out += [text[pos:a], BOLD, text[a:b], RESET]
        pos = b
    out.append(text[pos:])
    return "".join(out)


def render_kwic(lines: Sequence[Concordance], fmt: str = "text", *, width: int = 40, color: bool = False) -> str:
    """Concordance lines aligned on the keyword: ``doc:line``, left context right-aligned
    to ``width`` characters, the keyword, the right context cut at ``width``."""
    if fmt == "json":
        return _json_list([c.record() for c in lines])
    if fmt == "csv":
        return _csv([c.record() for c in lines], ("doc", "line", "segment", "left", "keyword", "right", "code"))
    where = [f"{c.doc}:{c.line}" for c in lines]
    pad = max(map(len, where), default=0)
    out = []
    for w, c in zip(where, lines):
        left = c.left.rstrip()[-width:].rjust(width)
        key = f"{BOLD}{c.keyword}{RESET}" if color else c.keyword
        out.append(f"{w:<{pad}}  {left} {key} {c.right.lstrip()[:width]}".rstrip() + "\n")
    return "".join(out)


def render_stats(stats: Stats, fmt: str = "text") -> str:
    """Per code: segments and documents by source; per pattern: matches; the patterns
    that never fire and those over-broad."""
    if fmt == "json":
        import json

        return json.dumps(stats.record(), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return _csv([p.record() for p in stats.patterns], ("code", "pattern", "rule", "fired", "segments"))
    sources = sorted({s for c in stats.codes for s in c.by_source}) or ["rule"]
    out = [f"{stats.segments} segments in {stats.documents} documents\n\n",
           f"{'code':<24}" + "".join(f"{s + ' segs':>14}{s + ' docs':>14}" for s in sources) + "\n"]
    for c in stats.codes:
        out.append(f"{c.code:<24}" + "".join(f"{c.by_source.get(s, (0, 0))[0]:>14}{c.by_source.get(s, (0, 0))[1]:>14}"
                                            for s in sources) + "\n")
    fired = [p for p in stats.patterns if p.fired]
    out.append(f"\npatterns that fired ({len(fired)} of {len(stats.patterns)}), most first:\n")
    if fired:
        out.append(f"{'matches':>7} {'in':>7}       {'code':<20} pattern  (where)\n")
    out += [f"{p.fired:>7} {p.segments:>7} segs  {p.code:<20} {p.pattern}  ({p.rule})\n" for p in fired]
    never = stats.never_fired
    out.append(f"\npatterns that never fire on the corpus ({len(never)}):\n")
    out += [f"  {p.code:<20} {p.pattern}  ({p.rule})\n" for p in never]
    broad = stats.broad
    out.append(f"\nover-broad patterns (in more than {stats.broad_share:.0%} of segments): {len(broad)}\n")
    out += [f"  {p.code:<20} {p.pattern}  ({p.rule}): {p.segments} of {stats.segments} segments\n" for p in broad]
    return "".join(out)


def _json_list(records: list[dict[str, Any]]) -> str:
    import json

    if not records:
        return "[]\n"
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one for all records: see output._COMPACT
    return "[\n" + ",\n".join(encoder.encode(r) for r in records) + "\n]\n"


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
