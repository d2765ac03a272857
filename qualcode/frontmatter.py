"""Front matter: the YAML block between ``---`` lines at the top of a corpus file.

Read with the safe loader of :mod:`qualcode.yamlpos` (limits, refused tags, duplicate
keys), problems located at the file's own lines (the YAML starts on line 2). Known keys
are :data:`FRONT_MATTER_KEYS`; any other key is kept as free metadata (``sector``,
``interviewer`` ...) and only a near-miss of a known key (``case:`` for ``cases:``) is
warned about. Checking ``cases`` against a codebook is :func:`check_front_matter`.
"""
from __future__ import annotations

import difflib
import re
import warnings
from typing import Any, Callable, Sequence

from .errors import CorpusError, Problem
from .model import Document
from .yamlpos import Located, excerpt, load_located

FRONT_MATTER_KEYS = ("title", "kind", "cases", "date", "source", "author", "note", "sector", "language", "changes")
KNOWN_KINDS = ("paper", "interview", "field-notes", "report", "article", "book", "chapter", "transcript", "survey",
               "memo", "minutes", "letter", "news", "web", "policy", "document")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


class FrontMatterWarning(UserWarning):
    """Front matter that is read but probably not what was meant (a misspelt key, an unknown kind)."""


def parse_front_matter(text: str, path: str) -> tuple[dict[str, Any], int]:
    """The metadata of ``text`` and the offset where its body starts ({} and 0 without front matter).

    Raises CorpusError with every problem; warns (FrontMatterWarning) about near-miss keys
    and unknown kinds.
    """
    located, end, problems = _locate(text, path)
    if located is None:
        if problems:
            raise CorpusError(problems)
        return {}, end
    meta = located.value
    if meta is None:
        meta = {}  # "---\n~\n---" is as empty as "---\n---"
    if not isinstance(meta, dict):
        raise CorpusError(problems + [Problem(path, "front matter must be a mapping of keys to values "
                                                    "(title: ..., cases: [...])", 2, 1)])
    meta = {str(k): v for k, v in meta.items()}

    def where(key: tuple, value: bool = False) -> tuple[int, int]:
        return located.where(key, value=value)

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1, cutoff=0.8)
            if close:
                _warn(Problem(path, f"unknown front-matter key {excerpt(key)}: did you mean {close[0]!r}? "
                                    "(other keys are kept as free metadata)", *where((key,))))
    kind = meta.get("kind")
    if kind is not None:
        if not isinstance(kind, str):
            problems.append(Problem(path, f"'kind' must be text such as interview, not {excerpt(kind)}",
                                    *where(("kind",), True), "kind"))
        elif kind not in KNOWN_KINDS:
            close = difflib.get_close_matches(kind, KNOWN_KINDS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known kinds: {', '.join(KNOWN_KINDS)}"
            _warn(Problem(path, f"unknown kind {excerpt(kind)}: {hint} (it is used as written)",
                          *where(("kind",), True), "kind"))
    cases = meta.get("cases")
    if cases is not None and not isinstance(cases, str):
        if not isinstance(cases, list):
            problems.append(Problem(path, f"'cases' must be a list of case ids such as [teziutlan, puebla], not "
                                          f"{excerpt(cases)}", *where(("cases",), True), "cases"))
        for i, v in enumerate(cases if isinstance(cases, list) else ()):
            if not isinstance(v, str):
                problems.append(Problem(path, f"each case must be a case id, name or alias, not {excerpt(v)}",
                                        *where(("cases", i), True), f"cases[{i}]"))
    if problems:
        raise CorpusError(problems)
    return meta, end


def locate_front_matter(document: Document) -> Located | None:
    """The front matter of ``document`` with the position of every value (None without front matter)."""
    located, _, _ = _locate(document.text[: document.body_start], document.path or document.id)
    return located


def check_front_matter(documents: Sequence[Document], resolve_case: Callable[[Any], str | None],
                       case_names: dict[str, str]) -> list[Problem]:
    """Front-matter ``cases`` that name no case, each at its value with the nearest case suggested.

    ``resolve_case`` maps an id, name or alias to a case id; ``case_names`` maps every id,
    name and alias (folded) to its case id, for the suggestions. A single string is one
    case; a string with commas that is not itself a case is refused (write a list).
    """
    problems: list[Problem] = []
    for d in documents:
        raw = d.meta.get("cases")
        if raw is None:
            continue
        path = d.path or d.id

        def where(key: tuple, value: bool = False, d: Document = d) -> tuple[int, int]:
            located = locate_front_matter(d)  # parsed again only to place a problem: valid front matter is not
            return located.where(key, value=value) if located else (1, 1)
        if isinstance(raw, str):
            if resolve_case(raw) is None and ("," in raw or ";" in raw):
                items = ", ".join(s.strip() for s in re.split("[,;]", raw) if s.strip())
                problems.append(Problem(path, f"'cases' is one piece of text {excerpt(raw)}, not a list: write "
                                              f"cases: [{excerpt(items)[1:-1]}]", *where(("cases",), value=True),
                                        "cases"))
                continue
            entries = [(raw, ("cases",), "cases")]
        elif isinstance(raw, list):
            entries = [(v, ("cases", i), f"cases[{i}]") for i, v in enumerate(raw)]
        else:
            continue  # refused when the document was read
        for value, key, dotted in entries:
            if not isinstance(value, str) or resolve_case(value) is not None:
                continue
            from .pipeline import fold  # here: the corpus reader (and retrieval's freshness check) need no numpy

            close = difflib.get_close_matches(fold(value.strip()), list(case_names), n=1)
            hint = (f"did you mean {case_names[close[0]]!r}?" if close
                    else "use a case id, name or alias from the codebook")
            problems.append(Problem(path, f"unknown case {excerpt(value)} in front matter: {hint}",
                                    *where(key, value=True), dotted))
    return problems


def _locate(text: str, path: str) -> tuple[Located | None, int, list[Problem]]:
    if not text.startswith("---"):
        return None, 0, []
    m = _FRONT_MATTER.match(text)
    if m is None:
        return None, 0, [Problem(path, "front matter starts with '---' but has no closing '---' line", 1, 1)]
    if not m.group(1).strip():
        return Located({}, {}), m.end(), []
    located, problems = load_located(m.group(1), path, line_offset=1)
    problems = [Problem(p.file, p.message.replace("invalid YAML", "invalid YAML in front matter", 1), p.line, p.col,
                        p.key) for p in problems]
    return located, m.end(), problems


def _warn(problem: Problem) -> None:
    warnings.warn(str(problem), FrontMatterWarning, stacklevel=3)
