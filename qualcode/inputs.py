"""Reading input files safely: regular files only, never blocking on a FIFO or device, with
a size cap, and UTF-8 decoding errors located at line and column.

Every file qualcode reads (the codebook, corpus files, and later claims or manual codings)
goes through :func:`read_regular_file`.
"""
from __future__ import annotations

import os
import stat
from typing import Iterator

from .errors import Problem, QualcodeError

MiB = 1 << 20


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as printable text: bytes that are not UTF-8 in a file name are shown escaped (``caf\\xe9.md``)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_regular_file(path: str | os.PathLike[str], max_bytes: int, what: str, *,
                      error: type[QualcodeError] = QualcodeError) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``.

    A FIFO, device or folder is refused without being opened (reading ``/dev/zero`` or a
    FIFO would never end), and the file is opened non-blocking and checked again, so it
    cannot be swapped for one in between. Raises ``error`` with a message naming ``what``
    ("codebook", "corpus file").
    """
    name = display_path(path)
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
            try:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode):
                    if st.st_size > max_bytes:
                        raise error(Problem(name, _too_big(st.st_size, max_bytes, what)))
                    with os.fdopen(fd, "rb", closefd=False) as fh:
                        data = fh.read(max_bytes + 1)
                    if len(data) > max_bytes:
                        raise error(Problem(name, _too_big(len(data), max_bytes, what)))
                    return data
            finally:
                os.close(fd)
    except FileNotFoundError:
        raise error(Problem(name, f"{what} not found")) from None
    except OSError as err:
        raise error(Problem(name, f"cannot read the {what}: {err.strerror or err}")) from None
    kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode)
            else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
    raise error(Problem(name, f"the {what} is {kind}, not a regular file: give a file saved on disk"))


def _too_big(size: int, max_bytes: int, what: str) -> str:
    return (f"the {what} is {size / MiB:.1f} MiB or more, over the limit of {max_bytes / MiB:.0f} MiB: "
            f"split it into smaller files")


def decode_utf8(data: bytes, name: str, *, error: type[QualcodeError] = QualcodeError) -> str:
    """``data`` decoded as UTF-8, any BOM removed; an undecodable byte is an error at its line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = data.rfind(b"\n", 0, err.start) + 1
        line = data.count(b"\n", 0, err.start) + 1
        col = len(data[line_start:err.start].decode("utf-8", "replace")) + 1
        raise error(Problem(name, f"not UTF-8: byte 0x{data[err.start]:02x} at byte offset {err.start} "
                                  f"cannot be decoded; save the file as UTF-8", line, col)) from None
    return text[1:] if text.startswith("\ufeff") else text


def csv_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, int, list[str]]]:
    """The non-blank rows of a ``csv.reader`` (header already read) with their line span.

    Yields ``(first, end, row)``: the row's first line and the line after it (a quoted field
    may span lines), so a problem can be located in the file.
    """
    line = reader.line_num + 1
    for row in reader:
        first, line = line, reader.line_num + 1
        if any(v.strip() for v in row):
            yield first, line, row
