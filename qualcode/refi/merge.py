"""Bringing another tool's codebook into ``codebook.yaml``: a skeleton when there is none,
else a merge that adds the codes the codebook lacks and leaves every existing line as it
was written (comments, patterns, order): new codes are inserted as text at the end of
the ``codes:`` list, and the result is checked as a codebook before it is written."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from ..codebook import _slugify, load_codebook, parse_codebook
from ..errors import CodebookError, Problem, QualcodeError
from ..fileio import check_outputs, open_output
from ..inputs import display_path
from ..model import Codebook
from .reader import RefiCode, code_map, read_qdc

DEFAULT_COLOR = "#808080"


@dataclass(slots=True)
class CodebookImport:
    """What ``import_codebook`` did: codes added (their new ids), codes left as they were
    (the codebook already had them: ``(REFI name, code id, what differs)``) and where."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (REFI name, new code id)
    left: list[tuple[str, str, str]] = field(default_factory=list)
    output: str = ""
    created: bool = False


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's, and line separators escaped)."""
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\x85")


def _entry(code_id: str, code: RefiCode, parent: str | None, indent: str, source: str) -> str:
    lines = [f"{indent}- id: {code_id}", f"{indent}  label: {_q(code.name or code_id)}"]
    if parent:
        lines.append(f"{indent}  parent: {parent}")
    lines.append(f"{indent}  color: \"{code.color or DEFAULT_COLOR}\"")
    if code.description:
        lines.append(f"{indent}  definition: {_q(code.description)}")
    lines.append(f"{indent}  # imported from {source}: add patterns (terms, tokens, regex) for it to code text")
    return "\n".join(lines) + "\n"


def _plan(codes: Sequence[RefiCode], book: Codebook | None) -> tuple[dict[str, str], CodebookImport]:
    """The id of every imported code (existing or new) and the report."""
    report = CodebookImport()
    existing = code_map(codes, book) if book is not None else {c.guid: None for c in codes}
    taken = set(book.codes) if book is not None else set()
    ids: dict[str, str] = {}
    for c in codes:
        cid = existing.get(c.guid)
        if cid is not None:
            ids[c.guid] = cid
            old = book.codes[cid]  # type: ignore[union-attr]
            diffs = [what for what, new, was in (("description", c.description, old.definition),
                                                 ("colour", c.color, old.color)) if new and new != was]
            report.left.append((c.name, cid, ", ".join(f"the imported {d} differs" for d in diffs)))
            continue
        base = _slugify(c.name.replace("\\", " ").replace("/", " "))
        cid, n = base, 2
        while cid in taken:
            cid, n = f"{base}-{n}", n + 1
        taken.add(cid)
        ids[c.guid] = cid
        report.added.append((c.name, cid))
    return ids, report


def merged_text(text: str, codes: Sequence[RefiCode], book: Codebook | None, source: str,
                name: str = "codebook.yaml") -> tuple[str, CodebookImport]:
    """``text`` (a valid codebook, or "" for none) with the codes it lacks appended."""
    ids, report = _plan(codes, book)
    added = {cid for _, cid in report.added}
    new = [c for c in codes if ids[c.guid] in added]
    if not text.strip():
        body = "".join(_entry(ids[c.guid], c, ids.get(c.parent) if c.parent else None, "  ", source)
                       for c in new)
        header = (f"# Codebook skeleton imported from {source} by qualcode.\n"
                  f"# Codes, hierarchy, descriptions and colours come from there; the patterns are yours to write.\n")
        return header + "version: 1\ncodes:\n" + body + "cases: []\n", report
    if not new:
        return text, report
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    codes_node = next((v for k, v in root.value if k.value == "codes"), None)
    if codes_node is None or not isinstance(codes_node, yaml.SequenceNode):
        raise CodebookError(Problem(name, "has no 'codes:' list to merge into"))
    if codes_node.flow_style and codes_node.value:
        line = codes_node.start_mark.line + 1
        raise CodebookError(Problem(name, "the codes are written as a [flow, list]: write them as a block list "
                                          "(one '- id:' per code) to merge into it", line, codes_node.start_mark.column + 1))
    if codes_node.value:
        first = codes_node.value[0].start_mark
        line_start = text.rfind("\n", 0, first.index) + 1
        dash = text.rfind("-", line_start, first.index)
        indent = " " * (dash - line_start)
        at = codes_node.end_mark.index
        if at > 0 and text[at - 1] != "\n":  # insert at the start of the line after the list
            nl = text.find("\n", at)
            if nl < 0:
                text += "\n"
                at = len(text)
            else:
                at = nl + 1
        block = "".join(_entry(ids[c.guid], c, ids.get(c.parent) if c.parent else None, indent, source) for c in new)
        return text[:at] + block + text[at:], report
    # codes: [] (or empty): replace the empty list by a block list
    a, b = codes_node.start_mark.index, codes_node.end_mark.index
    block = "".join(_entry(ids[c.guid], c, ids.get(c.parent) if c.parent else None, "  ", source) for c in new)
    return text[:a].rstrip(" ") + "\n" + block + text[b:].lstrip(" ").lstrip("\n"), report


def import_codebook(source: str | os.PathLike[str], codebook: str | os.PathLike[str] = "codebook.yaml",
                    output: str | os.PathLike[str] | None = None) -> CodebookImport:
    """Read a REFI-QDA codebook (``.qdc``, or the codebook of a ``.qdpx``) into ``codebook``:
    a skeleton when that file does not exist, else a merge that only adds. Written
    atomically to ``output`` (default: ``codebook`` itself), never over ``source``."""
    output = codebook if output is None else output
    check_outputs([output], [source])
    codes = read_qdc(source)
    if not codes:
        raise QualcodeError(Problem(display_path(source), "has no codes to import"))
    cb = Path(codebook)
    exists = os.path.lexists(cb)
    text, book = "", None
    if exists:
        loaded = load_codebook(cb)  # a codebook with problems is not merged into
        book = loaded.codebook
        text = cb.read_bytes().decode("utf-8-sig")
    new_text, report = merged_text(text, codes, book, Path(source).name, display_path(cb))
    try:
        parse_codebook(new_text, display_path(output))
    except CodebookError as err:  # would be a bug: the merge must give a valid codebook
        raise RuntimeError(f"the merged codebook is invalid: {err}") from None
    if new_text != text or not exists:
        with open_output(output, newline="") as fh:
            fh.write(new_text)
    report.output, report.created = display_path(output), not exists
    return report
