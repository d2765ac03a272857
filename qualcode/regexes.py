"""User regular expressions (``patterns.regex`` and ``ignore``), run so that they cannot hang.

Patterns are written in Python ``re`` syntax and match case-insensitively. They run on
the ``regex`` module, which stops a search after a time limit. A pattern that uses only
what google-re2 does exactly as ``re`` does moves to re2 (linear time: it cannot backtrack
at all) when it is slow; any other pattern that runs past ``TIMEOUT`` seconds is reported
as ``codebook.yaml:LINE:COL`` with the document it was searching. re2 is not the first
choice because it is slower on ordinary patterns: the bundled ``ignore`` pattern over a
million words took 20-41 ms on ``re``, 118-145 ms on ``regex`` and 330-490 ms on re2.

re2 lacks backreferences and lookaround, and its ``\\w``, ``\\b``, ``\\d``, ``\\s`` are
ASCII-only ("León" would be two words) and its ``$`` does not match before a final line
break, so patterns with those stay on ``regex``, whose ``\\w`` follows Unicode's word
characters: it differs from ``re`` only on combining marks, some number symbols (², ½)
and characters newer than Python's Unicode tables; accented letters are word characters
in both. Measured here: ``regex`` finished ``(a*)*b``, ``([a-z]+)*!``, ``(.*a){25}`` and
``^(a+)+$`` in under 2 ms where ``re`` hangs, but not ``(a|aa)*c`` on a run of 40 a's (which
re2 does in microseconds); over the whole bundled corpus (92,000 characters) a pattern
took 0.1-2.0 ms on ``regex``, 0.7-1.1 ms on re2 and 0.1-2.2 ms on ``re``. Case-insensitive
matching is that of ``re`` on both engines except for the Turkish İ and ı, which ``re``
makes equal to i and I and to each other.
"""
from __future__ import annotations

from typing import Any, Iterator

import regex
import re2

try:  # the parser behind Python's re, to tell which patterns re2 runs exactly as re does
    from re import _constants as _sre, _parser as _sre_parse  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

TIMEOUT = 5.0  # seconds per pattern and document; ordinary patterns take milliseconds
SWITCH = 0.25  # seconds after which a pattern that re2 can run moves to re2
FLAGS = regex.IGNORECASE | regex.VERSION0


error = regex.error  # raised by compile_regex, with ``msg`` and ``pos``


class RegexTimeout(Exception):
    """A user regular expression searched one text for longer than its time limit."""


class UserRegex:
    """A compiled user regular expression. It runs on ``regex`` with a time limit; one that
    re2 runs exactly as ``re`` does moves to re2 (for good) when a search takes longer than
    ``SWITCH`` seconds, so it never times out; any other is reported when it times out."""

    __slots__ = ("pattern", "linear", "timeout", "_re2")

    def __init__(self, pattern: str, timeout: float = TIMEOUT):
        self.pattern: Any = regex.compile(pattern, FLAGS)
        self.timeout = timeout
        self.linear = False  # running on re2
        self._re2: Any = None
        if re2_exact(pattern):
            try:
                self._re2 = re2.compile(pattern, RE2_OPTIONS)
            except re2.error:  # e.g. a repeat count above re2's limit of 1000
                pass

    def search(self, text: str) -> bool:
        return self.pattern.search(text) is not None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """The (start, end) of each non-empty match in ``text``; raises RegexTimeout."""
        if not self.linear:
            limit = self.timeout if self._re2 is None else min(self.timeout, SWITCH)
            try:
                found = [m.span() for m in self.pattern.finditer(text, timeout=limit)]
            except TimeoutError:
                if self._re2 is None:
                    raise RegexTimeout(self.pattern.pattern) from None
                self.pattern, self.linear = self._re2, True
            else:
                yield from ((a, b) for a, b in found if b > a)
                return
        for m in self.pattern.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end()


def compile_regex(pattern: str, timeout: float = TIMEOUT) -> UserRegex:
    """Compile a user pattern (valid ``re`` syntax); raises ``regex.error`` if ``regex``
    cannot compile it."""
    return UserRegex(pattern, timeout)


RE2_OPTIONS = re2.Options()
RE2_OPTIONS.case_sensitive = False
RE2_OPTIONS.log_errors = False  # a pattern re2 rejects goes to regex, silently
# Python re's parse tree opcodes whose meaning re2 shares exactly (str patterns, no flags
# but IGNORECASE): literals, ranges, ``.``, alternation, groups, repeats, ``^`` and ``\\A``.
_SAME = {_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN, _sre.RANGE, _sre.NEGATE, _sre.BRANCH,
         _sre.SUBPATTERN, _sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.AT}
_SAME_AT = {_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING}


def re2_exact(pattern: str) -> bool:
    """Whether re2 matches ``pattern`` exactly as Python's re does (ASCII-only classes,
    ``$``, ``\\b``, lookaround, backreferences, inline flags and possessive or atomic
    groups are not)."""
    try:
        tree = _sre_parse.parse(pattern)
    except Exception:  # invalid: reported by the codebook check
        return False
    return tree.state.flags & ~(_sre.SRE_FLAG_UNICODE) == 0 and _same(tree)


def _same(items: Any) -> bool:
    for op, arg in items:
        if op not in _SAME:
            return False
        if op == _sre.AT and arg not in _SAME_AT:
            return False
        if op == _sre.IN and not _same(arg):
            return False
        if op == _sre.BRANCH and not all(_same(b) for b in arg[1]):
            return False
        if op == _sre.SUBPATTERN and (arg[1] or arg[2] or not _same(arg[3])):  # inline flags
            return False
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and not _same(arg[2]):
            return False
    return True


__all__ = ["FLAGS", "TIMEOUT", "RegexTimeout", "UserRegex", "compile_regex", "error", "re2_exact", "RE2_OPTIONS"]
