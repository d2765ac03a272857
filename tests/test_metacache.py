"""Parsed front matter kept in the store: decoded values equal the parsed ones, types included."""
from __future__ import annotations

import datetime as dt

import pytest

from qualcode.metacache import NotEncodable, Parsed, decode, encode


@pytest.mark.parametrize("value", [
    {"title": "A", "cases": ["puebla", "teziutlan"], "date": dt.date(1998, 6, 1)},
    {"when": dt.datetime(1998, 6, 1, 12, 30, tzinfo=dt.timezone.utc), "n": 3, "x": 1.0, "ok": True, "none": None},
    {"source": {"id": "paper.md", 1: "one", False: "no", dt.date(2000, 1, 2): "d"}},
    {"inf": float("inf"), "nested": [[1, 2], {"a": [dt.date(2001, 1, 1)]}]},
    {"tagged-looking": {"\x00date": "not a tag"}},
])
def test_metacache_round_trip_keeps_values_and_types(value):
    back = decode(encode(value))
    assert back == value
    assert repr(back) == repr(value)  # same types and key order, not only equal
    parsed = Parsed(value, 12, (("FrontMatterWarning", "a.md:2:1: unknown kind 'intervew'"),))
    assert repr(Parsed.loads(parsed.dumps())) == repr(parsed)


def test_metacache_refuses_what_yaml_does_not_give():
    with pytest.raises(NotEncodable):
        encode({"x": object()})
