"""Reading a ``.qdpx`` archive without trusting it: entries are read into memory (never
extracted), and an archive with an entry path that would escape a folder (zip slip:
``..``, absolute paths, drive letters), too many entries or too much unpacked data is
refused as a whole before anything is read from it."""
from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from ..errors import Problem
from ..inputs import MiB, display_path
from .safexml import RefiError

MAX_ENTRIES = 10_000
MAX_ENTRY_BYTES = 256 * MiB
MAX_UNPACKED_BYTES = 1024 * MiB
MAX_RATIO = 200  # unpacked / packed bytes of one entry; text compresses about 3-10x


class Archive:
    """An open, checked ``.qdpx``: entries by name, read with the caps enforced as they unpack."""

    def __init__(self, path: str | os.PathLike[str]):
        self.name = display_path(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise RefiError(Problem(self.name, "file not found")) from None
        except OSError as err:
            raise RefiError(Problem(self.name, f"cannot read the file: {err.strerror or err}")) from None
        if not stat.S_ISREG(st.st_mode):
            raise RefiError(Problem(self.name, "not a regular file: give a .qdpx file saved on disk"))
        try:
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
            raise RefiError(Problem(self.name, f"not a readable zip archive ({err}): a .qdpx project is a zip "
                                               f"file; export it again from the program that made it")) from None
        self._check(infos)
        self.entries = {i.filename: i for i in infos if not i.is_dir()}
        self._read = 0

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        if len(infos) > MAX_ENTRIES:
            raise RefiError(Problem(self.name, f"the archive has {len(infos)} entries, over the limit of "
                                               f"{MAX_ENTRIES}: refused (a zip bomb?)"))
        bad = [i.filename for i in infos if not safe_entry_name(i.filename)]
        if bad:
            shown = ", ".join(repr(b) for b in bad[:5])
            raise RefiError(Problem(self.name, f"archive entries whose paths escape the archive's folder "
                                               f"(absolute or with '..'): {shown}: refused"))
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise RefiError(Problem(self.name, f"the archive unpacks to {total / MiB:.0f} MiB, over the limit of "
                                               f"{MAX_UNPACKED_BYTES / MiB:.0f} MiB: refused (a zip bomb?)"))
        for i in infos:
            if i.flag_bits & 0x1:
                raise RefiError(Problem(self.name, f"entry {i.filename!r} is encrypted: export the project "
                                                   f"without a password"))

    def find(self, *names: str) -> str | None:
        """The first entry among ``names``; a name is also found in another letter case
        (``Sources/`` and ``sources/``)."""
        lower = {n.lower(): n for n in sorted(self.entries)}
        for n in names:
            if n in self.entries:
                return n
            if n.lower() in lower:
                return lower[n.lower()]
        return None

    def read(self, entry: str) -> bytes:
        """The entry's bytes, unpacked in chunks so that a size the header understates is still caught."""
        info = self.entries[entry]
        limit = min(MAX_ENTRY_BYTES, max(info.compress_size, 1) * MAX_RATIO + MiB)
        chunks, size = [], 0
        try:
            with self.zip.open(info) as fh:
                while chunk := fh.read(MiB):
                    size += len(chunk)
                    self._read += len(chunk)
                    if size > limit or self._read > MAX_UNPACKED_BYTES:
                        raise RefiError(Problem(f"{self.name}:{entry}", "unpacks to more than its header says or "
                                                                        "than the limit: refused (a zip bomb?)"))
                    chunks.append(chunk)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError, NotImplementedError, ValueError) as err:
            raise RefiError(Problem(f"{self.name}:{entry}", f"cannot be unpacked ({err}): the archive is "
                                                            f"damaged")) from None
        return b"".join(chunks)

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def safe_entry_name(name: str) -> bool:
    """False for a path that would land outside a folder it were extracted to."""
    if not name or "\x00" in name:
        return False
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return False
    return ".." not in PurePosixPath(norm).parts
