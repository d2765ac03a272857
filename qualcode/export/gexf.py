"""GEXF 1.3 for Gephi and Gephi Lite, written with ElementTree.

networkx's ``write_gexf`` writes files that neither the GEXF 1.3 schemas nor Gephi
Lite accept as they are (``<graph name="">``, a wrong xsi namespace, ``a="1.0"`` on
colours that leaves Gephi Lite's nodes grey, no None or lists, numpy ints as
``int``). This writer produces files that validate against the GEXF 1.3 RelaxNG and
XSD and that graphology-gexf (Gephi Lite, sigma.js) reads without loss:

- ``defaultedgetype="undirected"``, numeric edge ``weight``, edge ids ``0..n-1``;
- typed attributes: ints ``long``, floats ``double``, bools ``boolean``, others ``string``;
- ``label`` goes to the XML label (nodes and edges), ``color`` (``#rrggbb``) to ``viz:color``
  (r, g, b, no alpha), ``size`` (or else ``segments``, on one scale for all kinds) to
  ``viz:size``, ``x``/``y`` (or else a seeded ForceAtlas2 layout) to ``viz:position``, so
  the file opens coloured, sized and laid out (:func:`qualcode.graph.laid_out`); those
  names are never attributes;
- characters XML 1.0 cannot hold (control characters) are dropped from ids, labels and values;
- nodes and edges in the graph's order (see :mod:`qualcode.graph`), no dates: the same graph gives
  byte-identical files.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any, Iterable, Iterator

import networkx as nx

from qualcode.errors import QualcodeError
from qualcode.export.tables import PathOrFile, write_text
from qualcode.export.xmltext import xml_graph, xml_text as _xml
from qualcode.graph import LAYOUT_SEED, laid_out

GEXF_NS = "http://gexf.net/1.3"
VIZ_NS = "http://gexf.net/1.3/viz"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd"

NODE_RESERVED = frozenset({"label", "color", "size", "x", "y", "z", "viz"})
EDGE_RESERVED = frozenset({"label", "weight", "id", "viz"})
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


def gexf_text(G: nx.Graph, *, seed: int = LAYOUT_SEED) -> str:
    """The GEXF document for ``G``, as one string."""
    H = xml_graph(laid_out(G, seed=seed))
    root = ET.Element("gexf", {"xmlns": GEXF_NS, "xmlns:viz": VIZ_NS, "xmlns:xsi": XSI_NS,
                               "xsi:schemaLocation": SCHEMA_LOCATION, "version": "1.3"})
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "qualcode"
    if H.graph.get("description"):
        ET.SubElement(meta, "description").text = _xml(str(H.graph["description"]))
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "directed" if H.is_directed() else "undirected"})
    node_types = _declare(graph, "node", (a for _, a in H.nodes(data=True)), NODE_RESERVED)
    edge_types = _declare(graph, "edge", (a for *_, a in H.edges(data=True)), EDGE_RESERVED)
    nodes = ET.SubElement(graph, "nodes", {"count": str(H.number_of_nodes())})
    for n, a in H.nodes(data=True):
        el = ET.SubElement(nodes, "node", {"id": _xml(str(n)), "label": _xml(str(a.get("label", n)))})
        _attvalues(el, a, node_types)
        if "color" in a:
            r, g, b = _rgb(a["color"], n)
            ET.SubElement(el, "viz:color", {"r": str(r), "g": str(g), "b": str(b)})
        ET.SubElement(el, "viz:position", {"x": repr(float(a["x"])), "y": repr(float(a["y"]))})
        ET.SubElement(el, "viz:size", {"value": repr(float(a["size"]))})
    edges = ET.SubElement(graph, "edges", {"count": str(H.number_of_edges())})
    for i, (u, v, a) in enumerate(H.edges(data=True)):
        el = ET.SubElement(edges, "edge", {"id": str(i), "source": _xml(str(u)), "target": _xml(str(v)),
                                           **({"label": _xml(str(a["label"]))} if "label" in a else {}),
                                           "weight": repr(float(a.get("weight", 1.0)))})
        _attvalues(el, a, edge_types)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def generate_gexf(G: nx.Graph, *, seed: int = LAYOUT_SEED) -> Iterator[str]:
    """The GEXF document line by line (without line ends), like ``networkx.generate_gexf``."""
    yield from gexf_text(G, seed=seed).splitlines()


def write_gexf(G: nx.Graph, path_or_file: PathOrFile, *, seed: int = LAYOUT_SEED) -> None:
    """Write ``G`` as GEXF 1.3 to a path (atomically) or an open file."""
    write_text(gexf_text(G, seed=seed), path_or_file)


def read_gexf(path_or_file: PathOrFile) -> nx.Graph:
    """Read a GEXF 1.3 file with networkx, with viz back as ``color`` (hex), ``size``, ``x``, ``y``."""
    G = nx.read_gexf(path_or_file, version="1.3")
    for k in ("node_default", "edge_default", "mode"):
        G.graph.pop(k, None)
    for _, a in G.nodes(data=True):
        viz = a.pop("viz", {})
        if "color" in viz:
            a["color"] = "#{r:02x}{g:02x}{b:02x}".format(**viz["color"])
        if "size" in viz:
            a["size"] = viz["size"]
        if "position" in viz:
            a["x"], a["y"] = viz["position"]["x"], viz["position"]["y"]
    for *_, a in G.edges(data=True):
        a.pop("id", None)
    return G


def _declare(graph: ET.Element, cls: str, items: Iterable[dict[str, Any]], reserved: frozenset[str]) -> dict[str, str]:
    """Declare the attributes found in ``items`` (in order of first use), typed; returns name -> type."""
    seen: dict[str, set[type]] = defaultdict(set)
    for attrs in items:
        for k, v in attrs.items():
            if k not in reserved:
                seen[k].add(type(v))
    types = {k: _gexf_type(ts) for k, ts in seen.items()}
    if types:
        el = ET.SubElement(graph, "attributes", {"class": cls})
        for k, t in types.items():
            ET.SubElement(el, "attribute", {"id": _xml(k), "title": _xml(k), "type": t})
    return types


def _gexf_type(types: set[type]) -> str:
    if types == {bool}:
        return "boolean"
    if types <= {int}:
        return "long"
    if types <= {int, float}:
        return "double"
    return "string"


def _attvalues(el: ET.Element, attrs: dict[str, Any], types: dict[str, str]) -> None:
    values = [(k, _format(v, types[k])) for k, v in attrs.items() if k in types]
    if values:
        av = ET.SubElement(el, "attvalues")
        for k, s in values:
            ET.SubElement(av, "attvalue", {"for": _xml(k), "value": s})


def _format(v: Any, gexf_type: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if gexf_type == "double":
        return repr(float(v))
    return str(v) if gexf_type == "long" else _xml(str(v))


def _rgb(color: Any, node: Any) -> tuple[int, int, int]:
    m = _HEX.fullmatch(str(color).strip())
    if not m:
        raise QualcodeError(f"node {node!r}: colour {color!r} is not #rrggbb")
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
