"""Writing theme networks and matrices to files; the format follows the file's suffix.

=============  =============================  ===================================
suffix         format                         opens in
=============  =============================  ===================================
``.gexf``      GEXF 1.3, coloured, laid out   Gephi, Gephi Lite
``.graphml``   GraphML                        Gephi, Cytoscape, yEd, igraph
``.json``      node-link JSON                 d3 and other web tools
``.csv``       Gephi spreadsheet tables       Gephi (Import Spreadsheet), spreadsheets
``.svg``       picture (needs ``[plot]``)     browsers, documents
``.png``       picture (needs ``[plot]``)     anything
=============  =============================  ===================================

For ``.csv``, ``X.nodes.csv`` gets the nodes table, ``X.edges.csv`` the edges table
and any other ``X.csv`` both (``X.nodes.csv`` and ``X.edges.csv``). Every file is
written through ``qualcode.fileio.open_output`` (atomically for regular files); ``-`` is
standard output.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, get_args

import networkx as nx

from qualcode.errors import Problem, QualcodeError
from qualcode.fileio import staged_outputs
from qualcode.export.gexf import generate_gexf, read_gexf, write_gexf
from qualcode.export.graphml import generate_graphml, read_graphml, write_graphml
from qualcode.export.jsonlink import generate_json, read_json, write_json
from qualcode.export.tables import (
    MATRIX_KINDS, MatrixKind, PathOrFile, gephi_csv_paths, read_gephi_csv, write_edges_csv, write_gephi_csv,
    write_matrix_table, write_nodes_csv,
)
from qualcode.export.picture import picture_available, write_picture
from qualcode.graph import LAYOUT_SEED, Documents, Unit, Where, graph_from_tally, laid_out, tally
from qualcode.model import CodedSegment, Codebook

GraphFormat = Literal["gexf", "graphml", "json", "csv", "nodes-csv", "edges-csv", "svg", "png"]
GRAPH_FORMATS: tuple[str, ...] = get_args(GraphFormat)
SUFFIXES = {".gexf": "gexf", ".graphml": "graphml", ".json": "json", ".csv": "csv", ".svg": "svg", ".png": "png"}

__all__ = [
    "GRAPH_FORMATS", "MATRIX_KINDS", "GraphFormat", "MatrixKind", "export_all", "generate_gexf",
    "generate_graphml", "generate_json", "graph_format", "graph_outputs", "read_gephi_csv", "read_gexf", "read_graph",
    "read_graphml", "read_json", "write_edges_csv", "write_gephi_csv", "write_gexf", "write_graph",
    "write_graphml", "write_json", "write_matrix", "write_nodes_csv", "write_picture", "picture_available",
]


def graph_format(path: str | os.PathLike[str]) -> GraphFormat:
    """The format a file name asks for (``graph.nodes.csv`` -> ``nodes-csv``)."""
    name = Path(path).name.lower()
    for fmt in ("nodes-csv", "edges-csv"):
        if name.endswith("." + fmt.replace("-", ".")):
            return fmt  # type: ignore[return-value]
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise QualcodeError(f"{str(path)!r}: unknown graph file suffix {suffix!r} (known suffixes: {known})")
    return SUFFIXES[suffix]  # type: ignore[return-value]


def graph_outputs(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files that writing the graph to each of ``paths`` creates (``X.csv`` is two), after
    checking every suffix, so no file is written when one of them is wrong."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if os.fspath(path) == "-":
            problems.append(Problem("-", f"the graph is written to files: give a file name ending in "
                                         f"{', '.join(sorted(SUFFIXES))}"))
            continue
        try:
            fmt = graph_format(path)
        except QualcodeError:
            problems.append(Problem(os.fspath(path), f"unknown graph file suffix {Path(path).suffix.lower()!r}: use "
                                                     f"{', '.join(sorted(SUFFIXES))} (-o once per format)"))
            continue
        if fmt == "csv":
            files.extend(p for p in gephi_csv_paths(path) if p)
        else:
            files.append(Path(path))
    if problems:
        raise QualcodeError(problems)
    return files


def write_graph(
    G: nx.Graph, path_or_file: PathOrFile, *, format: GraphFormat | None = None, seed: int = LAYOUT_SEED
) -> list[Path]:
    """Write ``G`` in ``format``, or else in the format its file name asks for.

    Returns the files written (none for ``-`` or an open file). ``csv`` writes two
    files, so it needs a path; ``nodes-csv`` and ``edges-csv`` write one table;
    ``svg`` and ``png`` draw the graph (:mod:`qualcode.export.picture`, needs the
    ``plot`` extra). ``seed`` seeds the layout of the GEXF, GraphML and pictures.
    """
    is_path = isinstance(path_or_file, (str, os.PathLike))
    if format is None:
        name = path_or_file if is_path else getattr(path_or_file, "name", None)
        if not isinstance(name, (str, os.PathLike)) or str(name) == "-":
            raise QualcodeError(f"writing to standard output or an open file needs a format ({', '.join(GRAPH_FORMATS)})")
        format = graph_format(name)
    if format not in GRAPH_FORMATS:
        raise QualcodeError(f"unknown graph format {format!r} (known formats: {', '.join(GRAPH_FORMATS)})")
    if format == "csv":
        if not is_path or str(path_or_file) == "-":
            raise QualcodeError("format 'csv' writes a nodes and an edges table: give a file name, "
                                "or ask for 'nodes-csv' or 'edges-csv'")
        return write_gephi_csv(G, path_or_file)  # type: ignore[arg-type]
    if format in ("svg", "png"):
        write_picture(G, path_or_file, format=format, seed=seed)
    elif format in ("gexf", "graphml"):
        (write_gexf if format == "gexf" else write_graphml)(G, path_or_file, seed=seed)
    else:
        {"json": write_json,
         "nodes-csv": write_nodes_csv, "edges-csv": write_edges_csv}[format](G, path_or_file)
    return [Path(path_or_file)] if is_path and str(path_or_file) != "-" else []  # type: ignore[arg-type]


def read_graph(path: str | os.PathLike[str]) -> nx.Graph:
    """Read back a graph file written by :func:`write_graph`, by its suffix (for round trips)."""
    fmt = graph_format(path)
    if fmt in ("svg", "png"):
        raise QualcodeError(f"{str(path)!r}: a picture cannot be read back as a graph")
    if fmt in ("csv", "nodes-csv", "edges-csv"):
        return read_gephi_csv(path)
    return {"gexf": read_gexf, "graphml": read_graphml, "json": read_json}[fmt](path)


def write_matrix(
    kind: MatrixKind,
    segments: Iterable[CodedSegment],
    codebook: Codebook,
    documents: Documents,
    path_or_file: PathOrFile,
    *,
    unit: Unit = "paragraph",
    roll_up: str | None = None,
    docs: Iterable[str] | None = None,
    where: Where | None = None,
) -> None:
    """Count and write one matrix as CSV (``theme-theme``, ``theme-case`` or ``theme-document``).

    See ``qualcode.export.tables.matrix_rows`` for the layouts; ``unit`` matters for
    ``theme-theme`` only (the others count segments).
    """
    if kind not in MATRIX_KINDS:
        raise QualcodeError(f"matrix: unknown kind {kind!r} (choose one of {', '.join(MATRIX_KINDS)})")
    counts = tally(segments, codebook, documents, unit=unit, roll_up=roll_up, docs=docs, where=where)
    write_matrix_table(kind, counts, path_or_file)


def export_all(
    segments: Iterable[CodedSegment],
    codebook: Codebook,
    documents: Documents,
    outdir: str | os.PathLike[str],
    *,
    unit: Unit = "paragraph",
    roll_up: str | None = None,
    docs: Iterable[str] | None = None,
    where: Where | None = None,
    seed: int = LAYOUT_SEED,
    picture: bool | None = None,
    extend: Callable[[Any], None] | None = None,
) -> list[Path]:
    """Write the graph in every format and the three matrices into ``outdir``; returns the files.

    ``extend`` adds to the graph before it is laid out and written (the claim nodes:
    ``lambda G: qualcode.claim_map.add_claims(G, claims, index)``).

    Files: ``graph.gexf``, ``graph.graphml``, ``graph.json``, ``graph.nodes.csv``,
    ``graph.edges.csv``, ``graph.svg`` (the picture: when ``picture``, by default when
    matplotlib is installed), ``matrix-theme-theme.csv``, ``matrix-theme-case.csv``,
    ``matrix-theme-document.csv``. Counting is done once for all of them. The files are
    moved into place together once all are written (``qualcode.fileio.staged_outputs``).
    """
    out = Path(outdir)
    counts = tally(segments, codebook, documents, unit=unit, roll_up=roll_up, docs=docs, where=where)
    G = graph_from_tally(counts)
    if extend is not None:
        extend(G)
    placed = laid_out(G, seed=seed)  # the layout costs most of the writing: compute it once for all
    written: list[Path] = []
    names = ["graph.gexf", "graph.graphml", "graph.json", "graph.csv"]
    if picture_available() if picture is None else picture:
        names.append("graph.svg")
    with staged_outputs():
        for name in names:
            with_layout = name.endswith((".gexf", ".graphml", ".svg"))  # JSON and CSV: the graph as built
            written += write_graph(placed if with_layout else G, out / name, seed=seed)
        for kind in MATRIX_KINDS:
            path = out / f"matrix-{kind}.csv"
            write_matrix_table(kind, counts, path)  # type: ignore[arg-type]
            written.append(path)
    return written
