"""The codebook: its YAML schema, loading with positions, and validation of everything at once.

Loading needs no spaCy; compiling the patterns into matchers is ``qualcode.coding``'s job.
Every problem is reported as ``codebook.yaml:LINE:COL: key.path: what is wrong``.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import CodebookError, Problem
from .inputs import MiB, decode_utf8, display_path, read_regular_file
from .model import Case, Code, Codebook
from .pipeline import fold
from .regexes import compile_regex, error as regex_error
from .yamlpos import Located, _dotted, excerpt, load_located

PatternKind = Literal["term", "tokens", "regex", "name", "exact", "ignore"]

TOP_KEYS = ("version", "title", "description", "ignore", "codes", "cases")
CODE_KEYS = ("id", "label", "color", "parent", "definition", "when_to_use", "when_not_to_use", "examples",
             "patterns", "exclude")
PATTERN_KEYS = ("terms", "tokens", "regex")
CASE_KEYS = ("id", "name", "kind", "parent", "aliases", "exact_aliases", "abbreviations", "match_case")
TOKEN_ATTRS = ("ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER",
               "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP", "IS_SENT_START", "LIKE_NUM", "LIKE_URL",
               "LIKE_EMAIL", "SHAPE", "PREFIX", "SUFFIX", "OP")
STRING_ATTRS = ("ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "SHAPE", "PREFIX", "SUFFIX")
MODEL_ATTRS = ("POS", "TAG", "MORPH", "DEP", "ENT_TYPE", "ENT_IOB", "ENT_ID", "SENT_START")
TOKEN_OPS = ("!", "?", "*", "+", "{")
MAX_CODEBOOK_BYTES = 16 * MiB
_COUNT = re.compile(r"^\{(\d*)(?:,(\d*))?\}$")
MAX_TOKEN_LENGTH = 1_000_000  # spaCy's default nlp.max_length: no token of a text is longer
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """One pattern as written: whose it is, its kind and value, and where it was written."""

    owner: str  # code or case id
    kind: PatternKind
    value: Any  # a string, or for ``tokens`` a list of dicts
    rule: str  # "codebook.yaml:57:9"
    key: str  # "codes.finance.patterns.terms[3]"
    exclude: bool = False
    for_case: bool = False

    @property
    def label(self) -> str:
        """The pattern as shown in the audit trail: ``term:working capital``."""
        if self.kind == "tokens":
            import json

            return "tokens:" + json.dumps(self.value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return f"{self.kind}:{self.value}"


@dataclass(slots=True)
class LoadedCodebook:
    """A validated codebook with its patterns, ready to compile."""

    codebook: Codebook
    patterns: list[PatternSpec]
    warnings: list[Problem] = field(default_factory=list)
    path: str = ""
    header: dict[str, Any] = field(default_factory=dict)  # version, title, description as written (the report shows them)
    examples_at: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)  # code -> (line, col, key) per example


def load_codebook(path: str | Path) -> LoadedCodebook:
    """Read and validate ``path``; raises CodebookError with every problem found."""
    name = display_path(path)
    if not os.path.lexists(path):
        raise CodebookError(Problem(name, "codebook not found (give it with --codebook)"))
    data = read_regular_file(path, MAX_CODEBOOK_BYTES, "codebook", error=CodebookError)
    text = decode_utf8(data, name, error=CodebookError)
    return parse_codebook(text, name)


def parse_codebook(text: str, filename: str = "codebook.yaml") -> LoadedCodebook:
    """Validate codebook YAML ``text``; see :func:`load_codebook`."""
    located, problems = load_located(text, filename)
    if located is None:
        raise CodebookError(problems)
    checker = _Checker(located, filename, problems)
    loaded = checker.run()
    if checker.problems:
        raise CodebookError(sorted(checker.problems, key=lambda p: (p.line, p.col, p.message)))
    return loaded


class _Checker:
    """Walks the YAML once, building the codebook and collecting every problem."""

    def __init__(self, located: Located, filename: str, problems: list[Problem]):
        self.doc = located
        self.file = filename
        # The loader's problems keyed as the checker's are: codes.finance.label, not codes[0].label.
        paths = {_dotted(p): p for p in located.positions}
        self.problems = [dataclasses.replace(p, key=self._key(paths[p.key])) if p.key in paths else p
                         for p in problems]
        self.warnings: list[Problem] = []
        self.patterns: list[PatternSpec] = []
        self.examples_at: dict[str, list[tuple[int, int, str]]] = {}

    def problem(self, path: tuple, message: str, *, warn: bool = False) -> None:
        line, col = self.doc.where(path)
        (self.warnings if warn else self.problems).append(Problem(self.file, message, line, col, self._key(path)))

    def _key(self, path: tuple) -> str:
        """``codes.finance.patterns`` rather than ``codes[0].patterns`` where the id is known."""
        parts: list[Any] = []
        value = self.doc.value
        for p in path:
            if isinstance(value, list) and isinstance(p, int) and p < len(value) and isinstance(value[p], dict) \
                    and isinstance(value[p].get("id"), str) and parts and parts[-1] in ("codes", "cases"):
                parts.append("." + value[p]["id"])
            else:
                parts.append(p)
            value = value[p] if isinstance(value, (dict, list)) and _has(value, p) else None
        return _join(parts)

    def run(self) -> LoadedCodebook:
        root = self.doc.value
        if not isinstance(root, dict):
            self.problem((), "the codebook must be a mapping with 'codes:' and 'cases:' lists")
            return LoadedCodebook(Codebook({}, {}), [], self.warnings, self.file)
        self.unknown_keys(root, (), TOP_KEYS)
        if root.get("version", 1) != 1:
            self.problem(("version",), f"unsupported version {excerpt(root.get('version'))}: this qualcode reads version 1")
        for value, p in self.strings(root.get("ignore"), ("ignore",), "ignore patterns"):
            if self.regex(value, p):
                self.add("", "ignore", value, p, False)
        codes = self.items(root, "codes", CODE_KEYS, self.code)
        cases = self.items(root, "cases", CASE_KEYS, self.case)
        if not codes:
            self.problem(("codes",) if "codes" in root else (), "no codes: add a 'codes:' list with at least one code")
        self.parents(codes, "codes")
        self.parents(cases, "cases")
        self.alias_clashes()
        book = Codebook({c.id: c for c, _ in codes}, {c.id: c for c, _ in cases}, self.file)
        header = {k: root[k] for k in ("version", "title", "description") if isinstance(root.get(k), (str, int, float))}
        return LoadedCodebook(book, self.patterns, self.warnings, self.file, header, self.examples_at)

    # -- structure -------------------------------------------------------------------------
    def unknown_keys(self, mapping: dict, path: tuple, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
                self.problem(path + (key,), f"unknown key {excerpt(key)}: {hint}")

    def items(self, root: dict, name: str, keys: tuple[str, ...], build) -> list[tuple[Any, int]]:
        raw = root.get(name)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem((name,), f"'{name}' must be a list of mappings, one per {name[:-1]}")
            return []
        out: list[tuple[Any, int]] = []
        seen: dict[str, tuple[int, int]] = {}
        for i, entry in enumerate(raw):
            path = (name, i)
            if not isinstance(entry, dict):
                self.problem(path, f"each {name[:-1]} must be a mapping with at least 'id:'")
                continue
            self.unknown_keys(entry, path, keys)
            ident = entry.get("id")
            if not isinstance(ident, str) or not ident:
                self.problem(path + (("id",) if "id" in entry else ()), "missing or empty 'id' (a slug such as 'finance')")
                continue
            if not _SLUG.match(ident):
                self.problem(path + ("id",), f"invalid id {excerpt(ident)}: use lower-case ASCII letters, digits and "
                                              f"hyphens, e.g. {_slugify(ident)!r}")
            if ident in seen:
                line, col = seen[ident]
                self.problem(path + ("id",), f"duplicate id {excerpt(ident)} (first defined at {self.file}:{line}:{col}):"
                                              " give one of them another id")
                continue
            seen[ident] = self.doc.where(path + ("id",))
            item = build(entry, path)
            if item is not None:
                out.append((item, i))
        return out

    def text(self, entry: dict, path: tuple, key: str, *, required: bool = False, default: str = "") -> str:
        value = entry.get(key)
        if value is None:
            if required:
                self.problem(path, f"missing '{key}'")
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.problem(path + (key,), f"'{key}' must be text, not {type(value).__name__}")
            return default
        return str(value).strip()

    def strings(self, value: Any, path: tuple, what: str) -> list[tuple[str, tuple]]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
            single = True
        else:
            single = False
        if not isinstance(value, list):
            self.problem(path, f"{what} must be a list of strings")
            return []
        out = []
        for i, v in enumerate(value):
            p = path if single else path + (i,)
            if not isinstance(v, str) or isinstance(v, bool):
                self.problem(p, f"{what} must be a string, not {type(v).__name__} {excerpt(v)}")
            elif not v.strip():
                self.problem(p, f"empty {what[:-1] if what.endswith('s') else what}: remove it or write the words to match")
            else:
                out.append((v.strip(), p))
        return out

    # -- codes and cases -------------------------------------------------------------------
    def code(self, entry: dict, path: tuple) -> Code:
        ident = entry["id"]
        color = self.text(entry, path, "color", default="#808080")
        if not _COLOR.match(color):
            self.problem(path + ("color",), f"invalid colour {color!r}: write it as \"#rrggbb\", e.g. \"#1f77b4\"")
            color = "#808080"
        found = 0
        for block, exclude in (("patterns", False), ("exclude", True)):
            spec = entry.get(block)
            if spec is None:
                continue
            if not isinstance(spec, dict):
                self.problem(path + (block,), f"'{block}' must be a mapping with terms:, tokens: and/or regex:")
                continue
            self.unknown_keys(spec, path + (block,), PATTERN_KEYS)
            n = self.code_patterns(ident, spec, path + (block,), exclude)
            found += 0 if exclude else n
        if not found:
            self.problem(path, f"code {ident!r} has no patterns: it can only be applied as a parent of other codes",
                         warn=True)
        located = self.strings(entry.get("examples"), path + ("examples",), "examples")
        examples = [s for s, _ in located]
        self.examples_at[ident] = [(*self.doc.where(p), self._key(p)) for _, p in located]
        return Code(
            id=ident, label=self.text(entry, path, "label", required=True, default=ident), color=color.lower(),
            definition=self.text(entry, path, "definition"), when_to_use=self.text(entry, path, "when_to_use"),
            when_not_to_use=self.text(entry, path, "when_not_to_use"), examples=tuple(examples),
            parent=self.parent_of(entry, path),
        )

    def code_patterns(self, owner: str, spec: dict, path: tuple, exclude: bool) -> int:
        n = 0
        for value, p in self.strings(spec.get("terms"), path + ("terms",), "terms"):
            self.add(owner, "term", value, p, exclude)
            n += 1
        for value, p in self.strings(spec.get("regex"), path + ("regex",), "regex"):
            if self.regex(value, p):
                self.add(owner, "regex", value, p, exclude)
                n += 1
        tokens = spec.get("tokens")
        if tokens is not None:
            if not isinstance(tokens, list):
                self.problem(path + ("tokens",), "tokens must be a list of token patterns (each a list of mappings)")
            else:
                for i, pattern in enumerate(tokens):
                    if self.token_pattern(pattern, path + ("tokens", i)):
                        self.add(owner, "tokens", pattern, path + ("tokens", i), exclude)
                        n += 1
        return n

    def case(self, entry: dict, path: tuple) -> Case:
        ident = entry["id"]
        name = self.text(entry, path, "name", required=True, default=ident)
        aliases = self.strings(entry.get("aliases"), path + ("aliases",), "aliases")
        exact = self.strings(entry.get("exact_aliases"), path + ("exact_aliases",), "exact_aliases")
        abbreviations = self.strings(entry.get("abbreviations"), path + ("abbreviations",), "abbreviations")
        for value, p in abbreviations:
            if "." not in value:
                self.problem(p, f"abbreviation {value!r} has no full stop: put it in 'exact_aliases'")
        match_case = entry.get("match_case", True)
        if not isinstance(match_case, bool):
            self.problem(path + ("match_case",), f"'match_case' must be true or false, not {match_case!r}")
            match_case = True
        names = ([(name, path + ("name",))] if name else []) + aliases
        for value, p in names:
            self.add(ident, "name", value, p, False, for_case=True)
            if re.match(r"Ciudad\s", value):  # "Cd." abbreviates Ciudad in a name: Cd. Hidalgo, Cd Juárez
                for prefix in ("Cd.", "Cd"):
                    self.add(ident, "name", prefix + value[6:], p, False, for_case=True)
        for value, p in exact + abbreviations:
            self.add(ident, "exact", value, p, False, for_case=True)
        return Case(id=ident, name=name, kind=self.text(entry, path, "kind", required=True, default="place"),
                    parent=self.parent_of(entry, path), aliases=tuple(v for v, _ in aliases + exact),
                    abbreviations=tuple(v for v, _ in abbreviations), match_case=match_case)

    def parent_of(self, entry: dict, path: tuple) -> str | None:
        parent = entry.get("parent")
        if parent is None:
            return None
        if not isinstance(parent, str):
            self.problem(path + ("parent",), f"'parent' must be an id, not {excerpt(parent)}")
            return None
        return parent

    def add(self, owner: str, kind: PatternKind, value: Any, path: tuple, exclude: bool, *, for_case: bool = False):
        line, col = self.doc.where(path)
        self.patterns.append(PatternSpec(owner, kind, value, f"{self.file}:{line}:{col}", self._key(path),
                                         exclude, for_case))

    def parents(self, items: list[tuple[Any, int]], name: str) -> None:
        ids = {item.id: i for item, i in items}
        for item, i in items:
            if item.parent is not None and item.parent not in ids:
                close = difflib.get_close_matches(item.parent, list(ids), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; it must be the id of another entry in '{name}'"
                self.problem((name, i, "parent"), f"unknown parent {item.parent!r}{hint}")
        parent_of = {item.id: item.parent for item, _ in items}
        reported: set[str] = set()
        for item, i in items:
            chain, node = [item.id], item.parent
            while node is not None and node in parent_of:
                if node in chain:
                    cycle = chain[chain.index(node):] + [node]
                    if not reported.intersection(cycle):
                        self.problem((name, i, "parent"), "parent cycle: " + " -> ".join(cycle))
                        reported.update(cycle)
                    break
                chain.append(node)
                node = parent_of[node]

    def alias_clashes(self) -> None:
        owner: dict[str, str] = {}
        for spec in self.patterns:
            if spec.kind != "name":
                continue
            folded = " ".join(fold(spec.value).split())
            first = owner.setdefault(folded, spec.owner)
            if first != spec.owner:
                self.problems.append(Problem(self.file, f"{spec.value!r} is claimed by two cases, {first!r} and "
                                                        f"{spec.owner!r}: keep it on one", *_pos(spec.rule), spec.key))

    # -- pattern checks --------------------------------------------------------------------
    def regex(self, value: str, path: tuple) -> bool:
        """A user regular expression is Python ``re`` syntax and compiles on the engine that
        runs it (qualcode.regexes); an error is placed at its column in the file, and the
        pattern is shown as written in the value (backslashes not doubled)."""
        try:
            re.compile(value, re.IGNORECASE)  # Python's syntax, with its clearer messages and positions
            rx = compile_regex(value)
        except (re.error, regex_error) as err:
            message = f"invalid regular expression '{value}': {err.msg}"
            if err.pos is None:
                self.problem(path, message)
            else:
                raw = self.doc.scalars[path].value if path in self.doc.scalars else value
                line, col = self.doc.where_char(path, err.pos + len(raw) - len(raw.lstrip()))
                self.problems.append(Problem(self.file, message, line, col, self._key(path)))
            return False
        if rx.search(""):
            self.problem(path, f"regular expression '{value}' matches the empty string: it would match everywhere")
            return False
        return True

    def token_value(self, value: Any, path: tuple, attr: str) -> bool:
        """A string attribute's value: a string, or {IN|NOT_IN: [strings]} / {REGEX: string}."""
        if isinstance(value, str):
            return True
        if isinstance(value, dict):
            ok = True
            for op, arg in value.items():
                if op in ("IN", "NOT_IN"):
                    if not isinstance(arg, list):
                        self.problem(path + (op,), f"{op} takes a list of strings, not {arg!r}")
                        ok = False
                        continue
                    for k, v in enumerate(arg):
                        if not isinstance(v, str):
                            hint = f": {_YAML_BOOL_HINT}" if isinstance(v, bool) else ""
                            self.problem(path + (op, k), f"{attr} values must be strings, not {v!r}{hint}")
                            ok = False
                elif op == "REGEX":
                    if not isinstance(arg, str):
                        self.problem(path + (op,), f"REGEX takes a string, not {arg!r}")
                        ok = False
                    else:
                        try:
                            re.compile(arg)  # spaCy's Matcher runs it with Python re
                        except re.error as err:
                            self.token_regex_problem(path + (op,), arg, err)
                            ok = False
                else:
                    self.problem(path + (op,), f"unknown operator {op!r} for {attr}: use IN, NOT_IN or REGEX")
                    ok = False
            return ok
        hint = f": {_YAML_BOOL_HINT}" if isinstance(value, bool) else ""
        self.problem(path, f"{attr} must be a string, not {value!r}{hint}")
        return False

    def token_regex_problem(self, path: tuple, value: str, err: re.error) -> None:
        line, col = self.doc.where(path) if err.pos is None else self.doc.where_char(path, err.pos)
        self.problems.append(Problem(self.file, f"invalid regular expression '{value}': {err.msg}", line, col,
                                     self._key(path)))

    def token_op(self, value: Any, path: tuple) -> bool:
        """OP is one of ! ? * + or a count {n}, {n,m}, {n,} or {,m} with n <= m (spaCy's forms)."""
        if isinstance(value, str) and value in TOKEN_OPS[:4]:
            return True
        count = _COUNT.match(value) if isinstance(value, str) else None
        if count is None or count.group(0) in ("{}", "{,}"):
            self.problem(path, f"invalid OP {value!r}: use one of ! ? * + or a count {{n}}, {{n,m}}, {{n,}} or "
                               f"{{,m}} (whole numbers, no spaces)")
            return False
        low, high = count.group(1), count.group(2)
        if low and high and int(low) > int(high):
            self.problem(path, f"invalid OP {value!r}: the minimum {low} is larger than the maximum {high}; "
                               f"write {{{high},{low}}}")
            return False
        return True

    def token_length(self, value: Any, path: tuple) -> bool:
        """LENGTH is a whole number of characters, or {==|!=|>=|<=|>|<: n} or {IN|NOT_IN: [n, ...]}."""
        if isinstance(value, dict):
            ok = True
            for op, arg in value.items():
                if op in ("IN", "NOT_IN"):
                    if not isinstance(arg, list):
                        self.problem(path + (op,), f"{op} takes a list of whole numbers, not {arg!r}")
                        ok = False
                    else:
                        ok &= all([self.token_length(v, path + (op, k)) for k, v in enumerate(arg)])
                elif op in ("==", "!=", ">=", "<=", ">", "<"):
                    ok &= self.token_length(arg, path + (op,))
                else:
                    self.problem(path + (op,), f"unknown operator {op!r} for LENGTH: use ==, !=, >=, <=, >, <, IN "
                                               f"or NOT_IN")
                    ok = False
            return ok
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(path, f"LENGTH must be a whole number of characters, not {value!r}")
            return False
        if not 0 <= value <= MAX_TOKEN_LENGTH:
            self.problem(path, f"LENGTH {value} is not a possible token length: use a number from 0 to "
                               f"{MAX_TOKEN_LENGTH}")
            return False
        return True

    def token_pattern(self, pattern: Any, path: tuple) -> bool:
        if not isinstance(pattern, list) or not pattern:
            self.problem(path, "a token pattern must be a non-empty list of mappings, e.g. [{LEMMA: pay}, {LEMMA: supplier}]")
            return False
        ok = True
        required = 0
        for j, tok in enumerate(pattern):
            p = path + (j,)
            if not isinstance(tok, dict):
                self.problem(p, f"each token must be a mapping such as {{LEMMA: pay}}, not {tok!r}")
                ok = False
                continue
            for attr, value in tok.items():
                if attr in MODEL_ATTRS:
                    self.problem(p + (attr,), f"{attr} needs a trained pipeline, which qualcode does not use by "
                                              f"default: use LEMMA, LOWER or NORM")
                    ok = False
                elif attr not in TOKEN_ATTRS:
                    close = [str(attr).upper()] if str(attr).upper() in TOKEN_ATTRS \
                        else difflib.get_close_matches(str(attr).upper(), TOKEN_ATTRS, n=1)
                    hint = f"did you mean {close[0]!r}? (attributes are upper case)" if close and close[0] == str(attr).upper() \
                        else f"did you mean {close[0]!r}?" if close else "see the README for the attributes"
                    self.problem(p + (attr,), f"unknown token attribute {attr!r}: {hint}")
                    ok = False
                elif attr.startswith(("IS_", "LIKE_")) and not isinstance(value, bool):
                    self.problem(p + (attr,), f"{attr} takes true or false, not {value!r}")
                    ok = False
                elif attr == "OP":
                    if not self.token_op(value, p + (attr,)):
                        ok = False
                elif attr in STRING_ATTRS and not self.token_value(value, p + (attr,), attr):
                    ok = False
                elif attr == "LENGTH" and not self.token_length(value, p + (attr,)):
                    ok = False
                elif isinstance(value, dict):
                    for op, arg in value.items():
                        if op == "REGEX":
                            try:
                                re.compile(str(arg))
                            except re.error as err:
                                self.token_regex_problem(p + (attr, op), str(arg), err)
                                ok = False
            if isinstance(tok, dict) and tok.get("OP") in (None, "+", "!") and tok:
                required += tok.get("OP") != "!"
        if ok and required == 0:
            self.problem(path, "the token pattern has no required token: every token is optional, so it "
                               "would match nothing or everything")
            ok = False
        return ok


_YAML_BOOL_HINT = "quote it: YAML reads unquoted yes/no/on/off/true/false as booleans"


def _has(value: Any, p: Any) -> bool:
    return (isinstance(value, dict) and p in value) or (isinstance(value, list) and isinstance(p, int) and p < len(value))


def _join(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, str) and p.startswith("."):
            out += p
        elif isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _pos(rule: str) -> tuple[int, int]:
    _, line, col = rule.rsplit(":", 2)
    return int(line), int(col)


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "code"


__all__ = ["LoadedCodebook", "PatternSpec", "load_codebook", "parse_codebook"]
