"""Load a corpus: ``.txt`` and ``.md`` files with optional YAML front matter.

A document's text is the file decoded as UTF-8 with any BOM removed and line endings
kept as they are (LF or CRLF), so offsets count code points of the file's own text,
front matter included. Every unreadable file is reported at once; empty files are
skipped with a warning.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import yaml

from .errors import CorpusError, Problem
from .model import Document

SUFFIXES = (".txt", ".md")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


class EmptyDocumentWarning(UserWarning):
    """A corpus file has no text and was skipped."""


def load_corpus(root: str | Path) -> list[Document]:
    """Read every ``.txt``/``.md`` file under ``root`` (sorted by id) into Documents.

    Raises CorpusError listing every problem: missing or empty corpus, undecodable,
    binary or unreadable files, invalid front matter. A single file may be given too.
    """
    root = Path(root)
    if not root.exists():
        raise CorpusError(Problem(str(root), "corpus not found: no such file or folder (give the folder with --corpus)"))
    if root.is_file():
        paths, base = [root], root.parent
    else:
        paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(root).parts))
        base = root
    if not paths:
        raise CorpusError(Problem(str(root), f"the corpus is empty: no {' or '.join(SUFFIXES)} files in it"))
    docs: list[Document] = []
    problems: list[Problem] = []
    for path in paths:
        doc_id = path.relative_to(base).as_posix()
        try:
            doc = read_document(path, doc_id)
        except CorpusError as err:
            problems.extend(err.problems)
            continue
        if doc is not None:
            docs.append(doc)
    if problems:
        raise CorpusError(problems)
    if not docs:
        raise CorpusError(Problem(str(root), "the corpus is empty: every file in it is empty"))
    return sorted(docs, key=lambda d: d.id)


def read_document(path: str | Path, doc_id: str | None = None) -> Document | None:
    """Read one file; None (with a warning) when it holds no text."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorpusError(Problem(str(path), f"cannot read the file: {err.strerror or err}")) from None
    return parse_document(data, doc_id or path.name, str(path))


def parse_document(data: bytes, doc_id: str, path: str = "") -> Document | None:
    """Decode ``data`` and split off its front matter; see :func:`load_corpus`."""
    path = path or doc_id
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        raise CorpusError(Problem(path, f"binary file (NUL byte at byte offset {nul}): "
                                        "only UTF-8 .txt and .md files can be coded; remove it from the corpus"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise CorpusError(Problem(path, f"not UTF-8: byte 0x{data[err.start]:02x} at byte offset {err.start} "
                                        f"cannot be decoded; save the file as UTF-8", line, col)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        warnings.warn(f"{path}: empty file, skipped", EmptyDocumentWarning, stacklevel=2)
        return None
    meta, body_start = _front_matter(text, path)
    if not text[body_start:].strip():
        warnings.warn(f"{path}: no text after the front matter, skipped", EmptyDocumentWarning, stacklevel=2)
        return None
    return Document(id=doc_id, text=text, meta=meta, body_start=body_start, path=path)


def _front_matter(text: str, path: str) -> tuple[dict[str, Any], int]:
    if not text.startswith("---"):
        return {}, 0
    m = _FRONT_MATTER.match(text)
    if m is None:
        raise CorpusError(Problem(path, "front matter starts with '---' but has no closing '---' line", 1, 1))
    try:
        meta = yaml.safe_load(m.group(1)) if m.group(1).strip() else {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, col = (mark.line + 2, mark.column + 1) if mark else (1, 1)
        what = getattr(err, "problem", None) or str(err)
        raise CorpusError(Problem(path, f"invalid YAML in front matter: {what}", line, col)) from None
    if not isinstance(meta, dict):
        raise CorpusError(Problem(path, "front matter must be a mapping of keys to values (title: ..., cases: [...])", 2, 1))
    return {str(k): v for k, v in meta.items()}, m.end()
