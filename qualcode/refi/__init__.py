"""REFI-QDA (QDA-XML 1.0) exchange with ATLAS.ti, NVivo, MAXQDA, QualCoder and others:
codebooks (``.qdc``) and projects (``.qdpx``, a zip of ``project.qde`` and the sources).
Read leniently (``reader``), written strictly and deterministically (``writer``)."""
from .reader import ImportedProject, RefiCode, UnmatchedSource, code_map, read_qdc, read_qdpx
from .safexml import RefiError

__all__ = ["ImportedProject", "RefiCode", "RefiError", "UnmatchedSource", "code_map", "read_qdc", "read_qdpx"]
