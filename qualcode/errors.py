"""Errors users can act on: each names the file, line and column, what is wrong and how to fix it.

Exit codes (documented in the README): 0 ok, 1 internal error, 2 bad input.
"""
from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, at ``file:line:col`` (1-based; 0 when unknown)."""

    file: str
    message: str
    line: int = 0
    col: int = 0
    key: str = ""  # dotted path in a YAML file: ``codes[3].patterns.regex[0]``

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class QualcodeError(Exception):
    """Bad input: one or more problems, reported together, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("qualcode", p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))


class CodebookError(QualcodeError):
    """The codebook is invalid."""


class CorpusError(QualcodeError):
    """The corpus cannot be read."""
