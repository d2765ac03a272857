"""Writing output safely: atomically to a path, or to standard output for ``-``."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def open_output(path: str | os.PathLike[str], mode: str = "w", *, newline: str | None = "") -> Iterator[IO]:
    """Open ``path`` for writing so that it appears whole or not at all.

    Writes go to a temporary file in the same folder, renamed over ``path`` on success
    and removed on any error, so a failure never leaves a half-written file. ``-``
    means standard output (text mode only).
    """
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        from .errors import Problem, QualcodeError

        raise QualcodeError(Problem(str(target), f"cannot write the output: {err.strerror or err}")) from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding, newline=None if "b" in mode else newline) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
