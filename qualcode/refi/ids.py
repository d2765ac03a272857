"""Deterministic REFI-QDA GUIDs: the same code, document, coder or coding gets the same
GUID on every export (UUID version 5 in qualcode's own namespace)."""
from __future__ import annotations

import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "qualcode:refi-qda")
AUTOMATIC_USER = "qualcode"  # the REFI user of the codebook's (rule) codings


def guid(kind: str, *key: object) -> str:
    """``guid("code", "finance")``: upper case, as ATLAS.ti and NVivo write them."""
    return str(uuid.uuid5(NAMESPACE, kind + "\x00" + "\x00".join(str(k) for k in key))).upper()
