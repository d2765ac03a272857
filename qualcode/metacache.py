"""Parsed front matter kept between runs, so an unchanged document's YAML is not parsed again.

Front matter is parsed with position tracking (``qualcode.yamlpos``), which costs about
5 ms a document: on a corpus of 1,000 documents a re-run after touching one spent a
quarter of its time there. The project store keeps each document's parsed front matter
keyed by its path and the SHA-256 of its text, with the warnings parsing gave (repeated
on every run, as parsing would). The values are encoded exactly (:func:`encode`): dates,
key types and key order survive, so a document read from the cache equals one parsed.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass
from typing import Any

_DATE, _DATETIME, _MAP, _FLOAT = "\x00date", "\x00datetime", "\x00map", "\x00float"


class NotEncodable(ValueError):
    """A value outside what safe YAML gives (then the document is simply not cached)."""


def encode(value: Any) -> Any:
    """A YAML value as JSON data that :func:`decode` turns back into an equal value of the same types."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT: repr(value)}
    if isinstance(value, _dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, _dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {_MAP: [[encode(k), encode(v)] for k, v in value.items()]}
    raise NotEncodable(type(value).__name__)


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        (tag, v), = data.items()
        if tag == _MAP:
            return {decode(k): decode(x) for k, x in v}
        if tag == _DATETIME:
            return _dt.datetime.fromisoformat(v)
        if tag == _DATE:
            return _dt.date.fromisoformat(v)
        return float(v)
    return data


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one document's front matter gave."""

    meta: dict[str, Any]
    body_start: int
    warnings: tuple[tuple[str, str], ...]  # (warning category name, message)

    def dumps(self) -> str:
        return json.dumps([encode(self.meta), self.body_start, [list(w) for w in self.warnings]],
                          ensure_ascii=False, allow_nan=False)

    @classmethod
    def loads(cls, text: str) -> "Parsed":
        meta, body_start, warns = json.loads(text)
        return cls(decode(meta), body_start, tuple((c, m) for c, m in warns))


class FrontMatterCache:
    """Parsed front matter by (path, text SHA-256): ``known`` from the store, ``used`` in this
    run (what the store keeps for the next)."""

    def __init__(self, known: dict[tuple[str, str], str] | None = None):
        self.known = known or {}  # key -> Parsed.dumps() text, decoded on use
        self.used: dict[tuple[str, str], Parsed] = {}

    def get(self, key: tuple[str, str]) -> Parsed | None:
        text = self.known.get(key)
        if text is None:
            return None
        parsed = self.used[key] = Parsed.loads(text)
        return parsed

    def put(self, key: tuple[str, str], parsed: Parsed) -> None:
        try:
            parsed.dumps()
        except (NotEncodable, ValueError):  # not plain YAML data: parsed again next time
            return
        self.used[key] = parsed
