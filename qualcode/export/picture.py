"""A picture of the graph as it opens in Gephi: the same positions, colours and sizes
(:func:`qualcode.graph.laid_out`), drawn with matplotlib as SVG (labels as text) or PNG.

matplotlib is the optional extra ``qualcode[plot]``; it is imported only when a picture
is asked for. Edges are drawn lighter and thinner than nodes, their width and opacity
growing with their weight within their relation (weights of different relations
measure different things); every node is labelled, themes in bold.
"""
from __future__ import annotations

import io
import os
import sys
from typing import Any

import networkx as nx

from qualcode.errors import QualcodeError
from qualcode.export.tables import PathOrFile
from qualcode.export.xmltext import xml_graph
from qualcode.fileio import open_output
from qualcode.graph import LAYOUT_SEED, MAX_SIZE, laid_out

PICTURE_FORMATS = ("svg", "png")
EXTRA = "plot"
RELATION_STYLE = {"cooccurrence": ("#555555", "-"), "theme-case": ("#4292c6", "-"), "theme-document": ("#999999", ":"),
                  "claim-theme": ("#d62728", "--"), "claim-case": ("#f4a582", "--"), "evidence": ("#d62728", ":")}
NODE_KIND_LABEL = {"document": "document", "claim": "claim", "segment": "evidence passage"}
INCHES, DPI = 12.0, 150


def picture_available() -> bool:
    """Whether matplotlib (the ``plot`` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _matplotlib() -> Any:
    try:
        import matplotlib
        import matplotlib.figure
    except ImportError:
        raise QualcodeError(f"a picture (.svg, .png) needs matplotlib: pip install 'qualcode[{EXTRA}]'") from None
    return matplotlib


def picture_bytes(G: nx.Graph, format: str, *, seed: int = LAYOUT_SEED) -> bytes:
    """The picture of ``G`` as SVG or PNG bytes."""
    if format not in PICTURE_FORMATS:
        raise QualcodeError(f"unknown picture format {format!r} (known formats: {', '.join(PICTURE_FORMATS)})")
    mpl = _matplotlib()
    H = xml_graph(laid_out(G, seed=seed))  # an SVG is XML: no control characters in labels
    # a Figure without pyplot: no global backend or state changes in the caller's session
    settings = {"svg.hashsalt": "qualcode",  # element ids: the same graph gives the same file
                "svg.fonttype": "none"}  # labels stay text: searchable, and a tenth of the size
    with mpl.rc_context(settings):
        fig = mpl.figure.Figure(figsize=(INCHES, INCHES))
        _draw(fig.subplots(), H)
        buf = io.BytesIO()
        metadata = {"Date": None} if format == "svg" else {"Software": None}
        fig.savefig(buf, format=format, dpi=DPI, metadata=metadata, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def write_picture(G: nx.Graph, path_or_file: PathOrFile, *, format: str | None = None,
                  seed: int = LAYOUT_SEED) -> None:
    """Write the picture of ``G`` to a path (atomically; the suffix picks SVG or PNG; ``-`` is
    standard output) or an open binary file."""
    is_path = isinstance(path_or_file, (str, os.PathLike))
    if format is None:
        name = os.fspath(path_or_file) if is_path else getattr(path_or_file, "name", "")
        format = os.path.splitext(str(name))[1].lower().lstrip(".")
    data = picture_bytes(G, format, seed=seed)
    if is_path and os.fspath(path_or_file) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    elif is_path:
        with open_output(path_or_file, "wb") as fh:
            fh.write(data)
    else:
        getattr(path_or_file, "buffer", path_or_file).write(data)


def _draw(ax: Any, H: nx.Graph) -> None:
    pos = {n: (a["x"], a["y"]) for n, a in H.nodes(data=True)}
    top: dict[str, float] = {}
    for *_, a in H.edges(data=True):
        rel = str(a.get("relation", ""))
        top[rel] = max(top.get(rel, 0.0), float(a.get("weight", 1.0)))
    _edges(ax, H, pos, top)
    nodes = list(H)
    ax.scatter([pos[n][0] for n in nodes], [pos[n][1] for n in nodes],
               s=[(H.nodes[n]["size"] / MAX_SIZE * 28) ** 2 for n in nodes],
               c=[H.nodes[n].get("color", "#808080") for n in nodes],
               marker="o", edgecolors="white", linewidths=0.8, zorder=2)
    for n in nodes:
        a = H.nodes[n]
        theme = a.get("kind") == "theme"
        ax.annotate(str(a.get("label", n)), pos[n], xytext=(0, a["size"] / MAX_SIZE * 14 + 3),
                    textcoords="offset points", ha="center", va="bottom", zorder=3,
                    fontsize=9 if theme else 7, fontweight="bold" if theme else "normal",
                    color="#222222" if theme else "#444444")
    _legend(ax, H)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.margins(0.08)


def _edges(ax: Any, H: nx.Graph, pos: dict, top: dict[str, float]) -> None:
    """The edges, one LineCollection per relation, in edge order: one artist per edge (as
    ``ax.plot`` makes) took 27 s of a million-word run's 17,000 edges, this takes about 1 s."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    by_relation: dict[str, tuple[list, list, list]] = {}
    for u, v, a in H.edges(data=True):
        rel = str(a.get("relation", ""))
        share = float(a.get("weight", 1.0)) / top[rel] if top[rel] > 0 else 1.0
        color = RELATION_STYLE.get(rel, ("#777777", "-"))[0]
        lines, widths, colors = by_relation.setdefault(rel, ([], [], []))
        lines.append((pos[u], pos[v]))
        widths.append(0.3 + 2.7 * share)
        colors.append(to_rgba(color, 0.15 + 0.6 * share))
    for rel, (lines, widths, colors) in by_relation.items():
        ax.add_collection(LineCollection(lines, colors=colors, linewidths=widths, zorder=1, capstyle="round",
                                         linestyles=RELATION_STYLE.get(rel, ("#777777", "-"))[1]))


def _legend(ax: Any, H: nx.Graph) -> None:
    """What the colours and lines mean: case kinds and documents, and each relation's weight."""
    from matplotlib.lines import Line2D

    by_color: dict[str, list[str]] = {}  # kinds drawn in one colour share a legend entry
    for _, a in H.nodes(data=True):
        kind = str(a.get("kind"))
        name = str(a.get("case_kind") or "other") if kind == "case" else NODE_KIND_LABEL.get(kind)
        names = by_color.setdefault(str(a.get("color", "#808080")), [])
        if name and name not in names:
            names.append(name)
    handles = [Line2D([], [], marker="o", linestyle="", color=color,
                      label=("" if set(names) <= set(NODE_KIND_LABEL.values()) else "case: ") + ", ".join(names))
               for color, names in by_color.items() if names]
    relations = {str(a.get("relation")): a.get("weight_measure", "weight") for *_, a in H.edges(data=True)}
    for rel, (color, style) in RELATION_STYLE.items():
        if rel in relations:
            handles.append(Line2D([], [], color=color, linestyle=style, label=f"{rel} ({relations[rel]})"))
    if handles:
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(1.0, 0.0), fontsize=7, frameon=False,
                  title="themes: codebook colours; size: segments", title_fontsize=7)
