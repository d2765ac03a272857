"""Load a corpus: ``.txt`` and ``.md`` files with optional YAML front matter.

A document's text is the file decoded as UTF-8 with any BOM removed and line endings
kept as they are (LF or CRLF; an old Mac lone CR is read as LF, which keeps every offset),
so offsets count code points of the file's own text, front matter included. Every
unreadable file is reported at once; empty files are skipped with a warning.

The walk is iterative (any depth) and sorted. Hidden files and folders (``.name``) are
skipped. Symbolic links to folders and to corpus files are not followed, each with a
warning: one leading inside the corpus would read its target twice, one leading outside
would make the corpus more than its folder (a link to ``/`` would read the whole disk).
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CorpusError, Problem
from .inputs import MiB, decode_utf8, display_path, read_regular_file
from .frontmatter import parse_front_matter
from .model import Document

SUFFIXES = (".txt", ".md", ".srt", ".vtt")  # .srt/.vtt: subtitle files (recorded meetings, transcription services)
MAX_DOCUMENT_BYTES = 64 * MiB
_LONE_CR = re.compile(r"\r(?!\n)")
_SURROGATE = re.compile("[\udc80-\udcff]")  # how os.fsdecode keeps bytes that are not UTF-8


class EmptyDocumentWarning(UserWarning):
    """A corpus file has no text and was skipped."""


class UnreadableFileError(CorpusError):
    """A corpus file cannot be read at all: permissions, not a regular file, too big."""


class CorpusWalkWarning(UserWarning):
    """A file or folder of the corpus was not read: a symbolic link not followed, or skipped as unreadable."""


if TYPE_CHECKING:
    from .metacache import FrontMatterCache


def load_corpus(root: str | Path, *, skip_unreadable: bool = False,
                front_matter: "FrontMatterCache | None" = None) -> list[Document]:
    """Read every ``.txt``/``.md`` file under ``root`` (sorted by id) into Documents.

    Raises CorpusError listing every problem: missing or empty corpus, undecodable,
    binary or unreadable files and folders, file names that are not UTF-8, invalid front
    matter. With ``skip_unreadable`` a file or folder that cannot be read (permissions,
    not a regular file, a name that is not UTF-8) is skipped with a warning instead.
    A single file may be given too. ``front_matter`` (path, text SHA-256 -> parsed front
    matter, see ``qualcode.metacache``) spares parsing the front matter of documents seen
    before; the entries of the others are added to it.
    """
    root = Path(root)
    problems: list[Problem] = []
    if not os.path.exists(root):
        raise CorpusError(Problem(display_path(root), "corpus not found: no such file or folder "
                                                      "(give the folder with --corpus)"))
    if root.is_dir():
        paths = _walk(root, problems, skip_unreadable)
    else:
        paths = [(root, root.name)]
    if not paths and not problems:
        raise CorpusError(Problem(display_path(root), f"the corpus is empty: no {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} files in it"))
    docs: list[Document] = []
    for path, doc_id in paths:
        try:
            doc = read_document(path, doc_id, front_matter)
        except UnreadableFileError as err:
            if not skip_unreadable:
                problems.extend(Problem(p.file, f"{p.message}; or pass --skip-unreadable to skip it") for p in err.problems)
                continue
            _warn(f"{err.problems[0]} (skipped)")
            continue
        except CorpusError as err:
            problems.extend(err.problems)
            continue
        if doc is not None:
            docs.append(doc)
    if problems:
        raise CorpusError(problems)
    if not docs:
        raise CorpusError(Problem(display_path(root), "the corpus is empty: every file in it is empty"))
    return sorted(docs, key=lambda d: d.id)


def _walk(root: Path, problems: list[Problem], skip_unreadable: bool) -> list[tuple[Path, str]]:
    """The corpus files under ``root`` as (path, id), depth first in name order, without recursion."""
    real_root = os.path.realpath(root)
    seen: set[tuple[int, int]] = set()
    files: list[tuple[Path, str]] = []
    stack: list[tuple[Path, str]] = [(root, "")]

    def unreadable(path: Path, message: str) -> None:
        if skip_unreadable:
            _warn(f"{display_path(path)}: {message} (skipped)")
        else:
            problems.append(Problem(display_path(path), f"{message}; or pass --skip-unreadable to skip it"))

    while stack:
        folder, prefix = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                _warn(f"{display_path(folder)}: not read again: this folder was already read (a symbolic link "
                      "loop or a second link to it)")
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            unreadable(folder, f"cannot read the folder: {err.strerror or err}")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = folder / entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()
            except OSError as err:
                unreadable(path, f"cannot read: {err.strerror or err}")
                continue
            if not is_dir and not entry.name.lower().endswith(SUFFIXES):
                continue
            if _SURROGATE.search(entry.name):
                unreadable(path, "cannot read a name that is not valid UTF-8 (shown with \\x escapes): rename it")
                continue
            if is_link:
                target = os.path.realpath(path)
                inside = target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)
                leads = ("nowhere (it is broken)" if not os.path.exists(target) else
                         f"to {display_path(os.path.relpath(target, real_root))} inside the corpus, which is read "
                         "under its own name" if inside else f"outside the corpus, to {display_path(target)}")
                _warn(f"{display_path(path)}: symbolic link not followed: it leads {leads}")
                continue
            doc_id = prefix + entry.name
            if is_dir:
                subfolders.append((path, doc_id + "/"))
            else:
                files.append((path, doc_id))
        stack.extend(reversed(subfolders))
    return files


def read_document(path: str | Path, doc_id: str | None = None,
                  front_matter: "FrontMatterCache | None" = None) -> Document | None:
    """Read one file; None (with a warning) when it holds no text."""
    data = read_regular_file(path, MAX_DOCUMENT_BYTES, "corpus file", error=UnreadableFileError)
    return parse_document(data, doc_id or Path(path).name, display_path(path), front_matter)


def parse_document(data: bytes, doc_id: str, path: str = "",
                   front_matter: "FrontMatterCache | None" = None) -> Document | None:
    """Decode ``data`` and split off its front matter; see :func:`load_corpus`."""
    path = path or doc_id
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff") or nul <= 1
        raise CorpusError(Problem(path, "UTF-16 text: save it as UTF-8 (in most editors: Save As, encoding UTF-8)"
                                  if utf16 else f"binary file (NUL byte at byte offset {nul}): only UTF-8 text files "
                                  f"({', '.join(SUFFIXES)}) can be coded; remove it from the corpus"))
    text = decode_utf8(data, path, error=CorpusError)
    if not text.strip():
        warnings.warn(f"{path}: empty file, skipped", EmptyDocumentWarning, stacklevel=2)
        return None
    # Old Mac files break lines with a lone CR: the front matter is found on a copy where
    # it is LF (same length, so the same offsets); the text itself stays the file's.
    lines = _LONE_CR.sub("\n", text) if "\r" in text else text
    if front_matter is None:
        meta, body_start = parse_front_matter(lines, path)
    else:
        meta, body_start = _cached_front_matter(lines, path, front_matter)
    if not text[body_start:].strip():
        warnings.warn(f"{path}: no text after the front matter, skipped", EmptyDocumentWarning, stacklevel=2)
        return None
    return Document(id=doc_id, text=text, meta=meta, body_start=body_start, path=path)


def _warn(message: str) -> None:
    warnings.warn(message, CorpusWalkWarning, stacklevel=3)


def _cached_front_matter(text: str, path: str, cache: "FrontMatterCache") -> tuple[dict, int]:
    """parse_front_matter through ``cache``: the same values and the same warnings."""
    import hashlib

    from .frontmatter import FrontMatterWarning
    from .metacache import Parsed

    key = (path, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())
    parsed = cache.get(key)
    if parsed is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, body_start = parse_front_matter(text, path)
        cache.put(key, Parsed(meta, body_start, tuple((w.category.__name__, str(w.message)) for w in caught)))
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return meta, body_start
    for category, message in parsed.warnings:
        warnings.warn(message, FrontMatterWarning if category == "FrontMatterWarning" else UserWarning, stacklevel=4)
    return parsed.meta, parsed.body_start
