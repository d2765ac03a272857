"""Step 4 of coding, view: resolved numbers -> ``CodedSegment`` objects with their matches.

The objects are built with generated constructors (``qualcode.model.fast_constructor``:
about twice as fast as the dataclasses' own ``__init__``, which sets each field through
``object.__setattr__``). Manual, imported and suggested codings join later, as ``Coding``
records (``qualcode.codings``: combine, then ``coded_view``).
"""
from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from .model import CodedSegment, Document, Match, Segment, fast_constructor

if TYPE_CHECKING:
    from .compiled import CompiledCodebook
    from .resolve import Resolved

_match, _coded, _segment = (fast_constructor(cls) for cls in (Match, CodedSegment, Segment))
segment_fields = attrgetter(*Segment.__slots__)  # the arguments of _segment, as a tuple


def coded_segments(cb: CompiledCodebook, document: Document, resolved: Resolved) -> list[CodedSegment]:
    """The coded segments of ``document`` from what ``resolve_document`` found in it: the
    rule codings as ``CodedSegment`` objects, each match with its pattern and rule."""
    text = document.text
    labels, rules = cb.labels, cb.rules
    code_names, case_names = cb.code_names, cb.case_names
    owners, specs, starts, ends = resolved.code_matches
    code_matches = [_match(code_names[o], labels[i], rules[i], a, b, text[a:b], "rule", "", None)
                    for o, i, a, b in zip(owners, specs, starts, ends)]
    owners, specs, starts, ends = resolved.case_matches
    case_matches = [_match(case_names[o], labels[i], rules[i], a, b, text[a:b], "rule", "", None)
                    for o, i, a, b in zip(owners, specs, starts, ends)]
    code_set, case_set = cb.code_sets, cb.case_sets
    m, c = resolved.code_bounds, resolved.case_bounds
    out: list[CodedSegment] = []
    for n, (s, codes, named, context) in enumerate(zip(resolved.segments, resolved.codes, resolved.cases,
                                                        resolved.context)):
        if isinstance(s, tuple):  # a segment sent back by a worker as its fields
            s = _segment(*s)
        out.append(_coded(s, text[s.start:s.end], code_set[codes], case_set[named], case_set[context],
                          tuple(code_matches[m[n]:m[n + 1]]), tuple(case_matches[c[n]:c[n + 1]])))
    return out
