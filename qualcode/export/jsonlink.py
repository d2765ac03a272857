"""Node-link JSON for d3 and other web tools: ``{"nodes": [...], "edges": [...]}``.

networkx's ``node_link_data`` with ``edges="edges"``, over the plain copy of
the graph (:func:`qualcode.graph.plain_graph`), pretty-printed with the keys in
insertion order (``id`` first), so the same graph gives the same bytes.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterator

import networkx as nx

from qualcode.export.tables import PathOrFile, write_text
from qualcode.graph import plain_graph


def node_link(G: nx.Graph) -> dict[str, Any]:
    """The node-link dict: ``directed``, ``multigraph``, ``graph``, ``nodes`` (``id`` first), ``edges``."""
    data = nx.node_link_data(plain_graph(G), edges="edges")
    data["nodes"] = [{"id": n.pop("id"), **n} for n in data["nodes"]]
    return data


def json_text(G: nx.Graph) -> str:
    return json.dumps(node_link(G), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def generate_json(G: nx.Graph) -> Iterator[str]:
    """The JSON document line by line (without line ends)."""
    yield from json_text(G).splitlines()


def write_json(G: nx.Graph, path_or_file: PathOrFile) -> None:
    """Write ``G`` as node-link JSON to a path (atomically) or an open file."""
    write_text(json_text(G), path_or_file)


def read_json(path_or_file: PathOrFile) -> nx.Graph:
    """Read node-link JSON back into a networkx graph."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, encoding="utf-8") as fh:
            data = json.load(fh)
    else:
        data = json.load(path_or_file)
    return nx.node_link_graph(data, edges="edges")
