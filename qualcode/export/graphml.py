"""GraphML for Gephi, Cytoscape, yEd and igraph.

networkx writes GraphML well once values are plain (no None, lists or numpy
scalars): :func:`qualcode.graph.plain_graph` makes them so and sorts nodes and
edges, which keeps the output deterministic. ``label`` and ``weight`` keep their
names, which Gephi reads as the node label and the edge weight; every node gets the
``x``, ``y`` and ``size`` of the GEXF export (:func:`qualcode.graph.laid_out`), so the
graph opens laid out the same way. Characters XML cannot hold are dropped
(:mod:`qualcode.export.xmltext`).
"""
from __future__ import annotations

import os
from typing import Iterator

import networkx as nx

from qualcode.export.tables import PathOrFile, write_text
from qualcode.export.xmltext import xml_graph
from qualcode.graph import LAYOUT_SEED, laid_out


def generate_graphml(G: nx.Graph, *, seed: int = LAYOUT_SEED) -> Iterator[str]:
    """The GraphML document line by line (without line ends), XML declaration first."""
    yield '<?xml version="1.0" encoding="UTF-8"?>'
    yield from nx.generate_graphml(xml_graph(laid_out(G, seed=seed)), encoding="utf-8", prettyprint=True)


def write_graphml(G: nx.Graph, path_or_file: PathOrFile, *, seed: int = LAYOUT_SEED) -> None:
    """Write ``G`` as GraphML to a path (atomically) or an open file; ``seed`` seeds the layout."""
    write_text("\n".join(generate_graphml(G, seed=seed)) + "\n", path_or_file)


def read_graphml(path_or_file: PathOrFile) -> nx.Graph:
    """Read a GraphML file with networkx (node ids as strings, no empty default dicts)."""
    source = os.fspath(path_or_file) if isinstance(path_or_file, (str, os.PathLike)) else path_or_file
    G = nx.read_graphml(source)
    for key in ("node_default", "edge_default"):
        if not G.graph.get(key, True):
            del G.graph[key]
    return G
