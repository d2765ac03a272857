"""Spreadsheet exports: Gephi's node and edge tables, and the matrices researchers read.

Gephi tables (Data Laboratory > Import Spreadsheet): a nodes CSV (``Id``, ``Label``,
then the other attributes) and an edges CSV (``Source``, ``Target``, ``Type``,
``Weight``, then the others). A path ``X.nodes.csv`` gets the nodes table,
``X.edges.csv`` the edges table, and any other ``X.csv`` both, as ``X.nodes.csv`` and
``X.edges.csv``. Cells: booleans ``true``/``false``, missing values empty; UTF-8
without BOM, ``\\n`` line ends.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import IO, Any, Iterable, Literal, Union, get_args

import networkx as nx

from qualcode.errors import QualcodeError
from qualcode.fileio import CsvWriter, open_output
from qualcode.graph import Tally, plain_graph, plain_value

MatrixKind = Literal["theme-theme", "theme-case", "theme-document"]
MATRIX_KINDS: tuple[str, ...] = get_args(MatrixKind)
PathOrFile = Union[str, "os.PathLike[str]", IO]

THEME_THEME_COLUMNS = ("theme_a", "theme_b", "count", "n_a", "n_b", "n_units",
                       "c_coefficient", "lift", "p_value", "unequal", "nested")


def write_text(text: str, path_or_file: PathOrFile) -> None:
    """Write ``text`` as UTF-8 to a path (atomically; ``-`` is stdout) or to an open text or binary file."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open_output(path_or_file, "w") as fh:
            fh.write(text)
    elif isinstance(path_or_file, io.TextIOBase):
        path_or_file.write(text)
    else:
        path_or_file.write(text.encode("utf-8"))


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    buf = io.StringIO()
    CsvWriter(buf).writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def _cell(v: Any) -> Any:
    v = plain_value(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


# Gephi tables --------------------------------------------------------------------------

def node_rows(G: nx.Graph) -> list[list[Any]]:
    """Gephi's nodes table: header then one row per node, in the graph's order."""
    H = plain_graph(G)
    names = sorted({k for _, a in H.nodes(data=True) for k in a} - {"label"})
    rows: list[list[Any]] = [["Id", "Label", *names]]
    rows += [[n, a.get("label", n), *(a.get(k) for k in names)] for n, a in H.nodes(data=True)]
    return rows


def edge_rows(G: nx.Graph) -> list[list[Any]]:
    """Gephi's edges table: header then one row per edge, in the graph's order."""
    H = plain_graph(G)
    names = sorted({k for *_, a in H.edges(data=True) for k in a} - {"weight"})
    kind = "Directed" if H.is_directed() else "Undirected"
    rows: list[list[Any]] = [["Source", "Target", "Type", "Weight", *names]]
    rows += [[u, v, kind, a.get("weight", 1.0), *(a.get(k) for k in names)] for u, v, a in H.edges(data=True)]
    return rows


def write_nodes_csv(G: nx.Graph, path_or_file: PathOrFile) -> None:
    write_text(csv_text(node_rows(G)), path_or_file)


def write_edges_csv(G: nx.Graph, path_or_file: PathOrFile) -> None:
    write_text(csv_text(edge_rows(G)), path_or_file)


def gephi_csv_paths(path: str | os.PathLike[str]) -> tuple[Path | None, Path | None]:
    """(nodes path, edges path) that ``path`` stands for; None where that table is not wanted."""
    p = Path(path)
    name = p.name.lower()
    if not name.endswith(".csv"):
        raise QualcodeError(f"{str(path)!r}: a Gephi table needs a .csv name (X.csv, X.nodes.csv or X.edges.csv)")
    if name.endswith(".nodes.csv"):
        return p, None
    if name.endswith(".edges.csv"):
        return None, p
    stem = p.name[: -len(".csv")]
    return p.with_name(f"{stem}.nodes.csv"), p.with_name(f"{stem}.edges.csv")


def write_gephi_csv(G: nx.Graph, path: str | os.PathLike[str]) -> list[Path]:
    """Write the table(s) that ``path`` names (see the module doc); returns the files written."""
    nodes, edges = gephi_csv_paths(path)
    if nodes:
        write_nodes_csv(G, nodes)
    if edges:
        write_edges_csv(G, edges)
    return [p for p in (nodes, edges) if p]


def read_gephi_csv(path: str | os.PathLike[str]) -> nx.Graph:
    """Read back what :func:`write_gephi_csv` wrote to ``path`` (same naming rule).

    Values are typed by their look (``true``/``false``, integers, decimals); empty
    cells are left out, ``Type`` is dropped and ``Weight`` becomes ``weight``.
    """
    nodes, edges = gephi_csv_paths(path)
    G = nx.Graph()
    if nodes:
        for row in _read_rows(nodes):
            n = row.pop("Id")
            G.add_node(n, label=row.pop("Label"), **_typed(row))
    if edges:
        for row in _read_rows(edges):
            u, v = row.pop("Source"), row.pop("Target")
            row.pop("Type", None)
            attrs = _typed(row)
            if "Weight" in attrs:
                attrs["weight"] = float(attrs.pop("Weight"))
            G.add_edge(u, v, **attrs)
    return G


def _read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def _typed(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, s in row.items():
        if s == "":
            continue
        if s in ("true", "false"):
            out[k] = s == "true"
        elif _INT.fullmatch(s):
            out[k] = int(s)
        elif _FLOAT.fullmatch(s):
            out[k] = float(s)
        else:
            out[k] = s
    return out


# Matrices ------------------------------------------------------------------------------

def matrix_rows(kind: MatrixKind, t: Tally) -> list[list[Any]]:
    """A matrix as rows (header first), themes and cases in codebook order, documents by id.

    ``theme-theme``: long format, one row per pair of coded themes (co-occurring or
    not) with ``count`` (units holding both), ``n_a``, ``n_b``, ``n_units`` and the
    measures. ``theme-case``: one row per theme, a column per case with the number of
    segments naming it, then a ``<case> (context)`` column per case with the number of
    segments in its context. ``theme-document``: one row per theme, a column per
    document with its number of segments.
    """
    if kind not in MATRIX_KINDS:
        raise QualcodeError(f"matrix: unknown kind {kind!r} (choose one of {', '.join(MATRIX_KINDS)})")
    if kind == "theme-theme":
        return [list(THEME_THEME_COLUMNS)] + [[p.theme_a, p.theme_b, p.count, p.n_a, p.n_b, t.n_units,
                                               p.c_coefficient, p.lift, p.p_value, p.unequal, p.nested]
                                              for p in t.pairs()]
    label = {th: t.codebook.codes[th].label if th in t.codebook.codes else th for th in t.themes}
    if kind == "theme-case":
        cases = t.cases
        rows = [["theme", "label", *cases, *(f"{c} (context)" for c in cases)]]
        for th in t.themes:
            rows.append([th, label[th], *(t.theme_case_named.get((th, c), 0) for c in cases),
                         *(t.theme_case_context.get((th, c), 0) for c in cases)])
        return rows
    docs = t.docs
    return [["theme", "label", *docs]] + [[th, label[th], *(t.theme_doc.get((th, d), 0) for d in docs)]
                                          for th in t.themes]


def write_matrix_table(kind: MatrixKind, t: Tally, path_or_file: PathOrFile) -> None:
    """Write one matrix of ``t`` as CSV (see :func:`matrix_rows`)."""
    write_text(csv_text(matrix_rows(kind, t)), path_or_file)
