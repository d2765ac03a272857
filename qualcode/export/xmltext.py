"""Text that XML 1.0 can hold: every XML writer (GEXF, GraphML) passes ids, labels and
values through here, so a control character in a file name or a title cannot make an
export invalid (XML 1.0 has no way to write most control characters, not even escaped).
"""
from __future__ import annotations

import re
from typing import Any

import networkx as nx

from qualcode.errors import QualcodeError

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(s: str) -> str:
    """``s`` without the characters XML 1.0 cannot hold (control characters but tab and line ends)."""
    return _NOT_XML.sub("", s)


def xml_graph(H: nx.Graph) -> nx.Graph:
    """A copy of the plain graph ``H`` with those characters dropped from string ids, keys
    and values; nodes keep their order. An id that only a dropped character told apart
    from another is an error rather than two nodes merged into one."""
    def clean(v: Any) -> Any:
        return xml_text(v) if isinstance(v, str) else v

    ids: dict[Any, Any] = {}
    seen: dict[Any, Any] = {}
    for n in H:
        ids[n] = clean(n)
        if ids[n] in seen:
            raise QualcodeError(f"node ids {seen[ids[n]]!r} and {n!r} differ only in control characters, "
                                "which XML cannot hold: rename one of the files")
        seen[ids[n]] = n
    out = H.__class__()
    out.graph.update({clean(k): clean(v) for k, v in H.graph.items()})
    out.add_nodes_from((ids[n], {clean(k): clean(v) for k, v in a.items()}) for n, a in H.nodes(data=True))
    out.add_edges_from((ids[u], ids[v], {clean(k): clean(v) for k, v in a.items()}) for u, v, a in H.edges(data=True))
    return out
