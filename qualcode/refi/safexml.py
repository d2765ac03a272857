"""Reading REFI-QDA XML from other people's machines: safe, lenient, namespace-blind.

lxml parses with entities, DTDs and network access off, and any document type
declaration is refused, so neither a "billion laughs" entity bomb nor an external entity
(XXE) can expand or reach a file. lxml is used (not ElementTree) because it is the parser
the schema validation in the tests uses too, and it reports line numbers for messages.
"""
from __future__ import annotations

import re
import uuid

from lxml import etree

from ..errors import Problem, QualcodeError

NAMESPACES = ("urn:QDA-XML:project:1.0", "urn:QDA-XML:codebook:1.0")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})\}?$")
_HEX6 = re.compile(r"^#?([0-9a-fA-F]{6})(?:[0-9a-fA-F]{2})?$")
_HEX3 = re.compile(r"^#?([0-9a-fA-F]{3})$")
_RGB = re.compile(r"^rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,[^)]*)?\)$", re.I)


_DOCTYPE = tuple(form.encode(enc) for form in ("<!DOCTYPE", "<!doctype") for enc in ("utf-8", "utf-16-le", "utf-16-be"))
_NO_DTD = ("the XML has a document type declaration (<!DOCTYPE ...>), which REFI-QDA files never need: refused, "
           "as its entities could expand without end (\"billion laughs\") or read other files")


class RefiError(QualcodeError):
    """A REFI-QDA file cannot be read."""


def parse_xml(data: bytes, name: str) -> etree._Element:
    """The root element of ``data``; refuses a DTD (entity bombs, XXE) and malformed XML."""
    if any(mark in data for mark in _DOCTYPE):
        raise RefiError(Problem(name, _NO_DTD))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        line, col = (err.position if err.position else (0, 0))
        raise RefiError(Problem(name, f"not well-formed XML: {err.msg}; the file is damaged or not a "
                                      f"REFI-QDA file", line, col + 1 if line else 0)) from None
    except ValueError as err:
        raise RefiError(Problem(name, f"not XML: {err}")) from None
    if root.getroottree().docinfo.doctype:
        raise RefiError(Problem(name, _NO_DTD))
    return root


def local(el: etree._Element) -> str:
    """The element's name without its namespace (any QDA-XML namespace version is read)."""
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if local(c) == name]


def child(el: etree._Element, name: str) -> etree._Element | None:
    found = children(el, name)
    return found[0] if found else None


def text_of(el: etree._Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def guid_key(value: str | None) -> str | None:
    """A GUID as one canonical key: braces and case dropped (``{ABC...}`` is ``abc...``)."""
    m = _GUID.match((value or "").strip())
    return str(uuid.UUID(m.group(1))) if m else None


def read_colour(value: str | None) -> str | None:
    """``#rrggbb`` from the forms tools write (``#RGB``, ``#RRGGBBAA``, ``RRGGBB``, ``rgb(r,g,b)``), or None."""
    v = (value or "").strip()
    if m := _HEX6.match(v):
        return "#" + m.group(1).lower()
    if m := _HEX3.match(v):
        return "#" + "".join(c * 2 for c in m.group(1).lower())
    if (m := _RGB.match(v)) and all(int(x) <= 255 for x in m.groups()):
        return "#" + "".join(f"{int(x):02x}" for x in m.groups())
    return None


def line_of(el: etree._Element) -> int:
    return el.sourceline or 0
