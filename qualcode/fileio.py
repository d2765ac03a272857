"""Writing output without ever destroying what the user has.

- Regular files are written atomically: to a hidden temporary file beside the target
  (``.NAME.qualcode-PID-XXXXXXXX.tmp``), renamed over it on success, removed on any error.
- A symlink is followed: its final target is replaced atomically and the link stays.
- Devices and FIFOs (``/dev/null``, a named pipe), ``/dev/stdout`` and anything under
  ``/proc`` are written directly; renaming a temporary file over them would replace the
  node (as root) or the file standard output was redirected to.
- ``-`` is standard output.
- SIGTERM and SIGHUP during a write remove the temporary files and exit with 128+signal;
  SIGKILL cannot be caught, so stale temporary files of qualcode's own naming whose
  process is gone are removed on the next write into their folder.
- :func:`staged_outputs` keeps several files at their temporary names until all of them
  are written, then moves them into place together (``qualcode run``).
- :func:`check_outputs` refuses, before any work, an output that is one of the inputs.
"""
from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .errors import Problem, QualcodeError

PathLike = str | os.PathLike[str]
TEMP_NAME = re.compile(r"\.(?P<name>.+)\.qualcode-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp")
CAUGHT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
CORPUS_SUFFIXES = (".txt", ".md", ".srt", ".vtt")  # what qualcode.corpus reads (kept here so writing never imports it)


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while qualcode was writing; exit status 128+signal."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


# -- temporary files and signals --------------------------------------------------------------

_temp_files: set[str] = set()
_handler_depth = 0
_saved_handlers: dict[int, object] = {}


def _remove_temp_files() -> None:
    for tmp in list(_temp_files):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _temp_files.discard(tmp)


def _on_signal(signum: int, frame: object) -> None:
    _remove_temp_files()
    raise Terminated(signum)


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While inside, SIGTERM/SIGHUP remove qualcode's temporary files and exit with 128+signal.

    Handlers can only be set in the main thread; elsewhere this does nothing. Nested uses
    install the handlers once. (SIGXFSZ needs nothing: Python ignores it at start-up, so
    a file-size limit is a write error, EFBIG.)
    """
    global _handler_depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _handler_depth == 0:
        for sig in CAUGHT_SIGNALS:
            _saved_handlers[sig] = signal.signal(sig, _on_signal)
    _handler_depth += 1
    try:
        yield
    finally:
        _handler_depth -= 1
        if _handler_depth == 0:
            for sig, handler in _saved_handlers.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
            _saved_handlers.clear()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or not a pid we can judge: leave its files alone
    return True


def clean_stale_temp_files(folder: PathLike) -> list[Path]:
    """Remove temporary files of qualcode's naming in ``folder`` whose writing process is gone
    (left by SIGKILL or a power cut); returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_NAME.fullmatch(entry.name)
        if not m or int(m["pid"]) == os.getpid() or _pid_alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# -- staging several outputs ------------------------------------------------------------------

class _Staging:
    def __init__(self) -> None:
        self.files: dict[Path, str] = {}  # target -> temporary file holding its new content

    def add(self, tmp: str, target: Path) -> None:
        old = self.files.pop(target, None)
        if old:
            with contextlib.suppress(OSError):
                os.unlink(old)
            _temp_files.discard(old)
        self.files[target] = tmp

    def discard(self) -> None:
        for tmp in self.files.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            _temp_files.discard(tmp)
        self.files.clear()

    def commit(self) -> None:
        """Move every file into place; SIGTERM/SIGHUP wait until all are moved."""
        blocked = hasattr(signal, "pthread_sigmask") and bool(CAUGHT_SIGNALS)
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, CAUGHT_SIGNALS)
        try:
            for target, tmp in list(self.files.items()):
                os.replace(tmp, target)
                _temp_files.discard(tmp)
                del self.files[target]
        except OSError as err:
            self.discard()
            raise QualcodeError(Problem(str(target), f"cannot write the output: {err.strerror or err}")) from None
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, CAUGHT_SIGNALS)


_staging: contextvars.ContextVar[_Staging | None] = contextvars.ContextVar("qualcode_staging", default=None)


@contextlib.contextmanager
def staged_outputs() -> Iterator[None]:
    """Inside, :func:`open_output` leaves each regular file at its temporary name; when the
    block succeeds they are all moved into place, when anything fails all are removed and
    the previous files stay as they were. Nested, the outermost block decides."""
    if _staging.get() is not None:
        yield
        return
    staging = _Staging()
    token = _staging.set(staging)
    with cleanup_on_signals():
        try:
            yield
        except BaseException:
            staging.discard()
            raise
        finally:
            _staging.reset(token)
        staging.commit()


# -- checking outputs before any work ---------------------------------------------------------

def _real(path: PathLike) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def check_outputs(outputs: Iterable[PathLike], inputs: Iterable[PathLike | None] = (), *,
                  corpus: PathLike | None = None) -> None:
    """Refuse, with every problem at once, outputs that would destroy an input or cannot be
    written as files: an output that is an input (the codebook, a coding read back, any
    other file read), a corpus file or a new ``.md``/``.txt`` file inside the corpus folder
    (it would become a document), the corpus folder itself, or an existing folder.

    ``-`` (standard output) is always fine. Paths are compared after resolving symlinks.
    """
    problems: list[Problem] = []
    named = [(os.fspath(p), _real(p)) for p in inputs if p not in (None, "", "-")]
    corpus_real = _real(corpus) if corpus not in (None, "", "-") else None
    for out in outputs:
        if os.fspath(out) == "-":
            continue
        out_s, real = os.fspath(out), _real(out)
        if not out_s:
            problems.append(Problem("-o", "the output path is empty: give a file name, or - for standard output"))
            continue
        clash = next((name for name, inp in named if _same(real, inp)), None)
        if corpus_real is not None and _same(real, corpus_real):
            problems.append(Problem(out_s, "is the corpus: write the output elsewhere"))
        elif clash is not None:
            problems.append(Problem(out_s, f"is an input of this command ({clash}): writing it would destroy it; "
                                           "choose another output file"))
        elif (corpus_real is not None and corpus_real.is_dir() and corpus_real in real.parents
              and real.suffix.lower() in CORPUS_SUFFIXES):
            what = ("a file of the corpus: writing it would destroy it" if real.exists() else
                    f"inside the corpus folder {os.fspath(corpus)}, where it would be read as a document")
            problems.append(Problem(out_s, f"is {what}; write the output elsewhere"))
        elif real.is_dir():
            problems.append(Problem(out_s, "is a folder: give a file name for the output"))
        elif any(p.exists() and not p.is_dir() for p in real.parents):
            parent = next(p for p in real.parents if p.exists() and not p.is_dir())
            problems.append(Problem(out_s, f"cannot write the output: {parent} is a file, not a folder"))
    if problems:
        raise QualcodeError(problems)


# -- opening one output -----------------------------------------------------------------------

def _is_direct(path: Path) -> bool:
    """Whether ``path`` must be written in place rather than replaced: an existing device,
    FIFO or socket, anything under /proc, and a /dev link to elsewhere (``/dev/stdout`` or
    ``/dev/fd/1`` naming the file standard output was redirected to)."""
    absolute, real = os.path.abspath(path), os.path.realpath(path)
    if absolute.startswith("/proc/") or real.startswith("/proc/"):
        return True
    if absolute.startswith("/dev/") and not real.startswith("/dev/"):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_problem(name: str, err: OSError) -> QualcodeError:
    """A clear message for a failed write (full disk, file-size limit, ...)."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "no space left on the device (or over the disk quota): free some space or write elsewhere"
    elif err.errno == errno.EFBIG:
        why = "file too large: the file-size limit was reached (see 'ulimit -f')"
    else:
        why = f"cannot write the output: {err.strerror or err}"
    return QualcodeError(Problem(name, why))


@contextlib.contextmanager
def open_output(path: PathLike, mode: str = "w", *, newline: str | None = "") -> Iterator[IO]:
    """Open ``path`` for writing so that what was there is never lost (see the module doc).

    Regular files appear whole or not at all; ``-`` is standard output (text mode only).
    A failed write is a :class:`~qualcode.errors.QualcodeError` naming the file.
    """
    if os.fspath(path) == "-":
        with _stdout() as out:
            yield out
        return
    target = Path(path)
    text_args = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
    if target.is_dir():
        raise QualcodeError(Problem(str(target), "is a folder: give a file name for the output"))
    if _is_direct(target):
        with cleanup_on_signals():
            try:
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY)
                with os.fdopen(fd, mode.replace("w", "a"), **text_args) as fh:  # type: ignore[call-overload]
                    yield fh
            except BrokenPipeError:
                raise
            except OSError as err:
                raise write_problem(str(target), err) from None
        return
    resolved = _real(target) if target.is_symlink() else target
    with cleanup_on_signals():
        try:
            if resolved is target:  # a symlink's target folder is not created
                resolved.parent.mkdir(parents=True, exist_ok=True)
            clean_stale_temp_files(resolved.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{resolved.name}.qualcode-{os.getpid()}-", suffix=".tmp",
                                       dir=resolved.parent)
        except OSError as err:
            raise write_problem(str(target), err) from None
        _temp_files.add(tmp)
        try:
            with os.fdopen(fd, mode, **text_args) as fh:  # type: ignore[call-overload]
                yield fh
            os.chmod(tmp, _mode_for(resolved))
            staging = _staging.get()
            if staging is not None:
                staging.add(tmp, resolved)
            else:
                os.replace(tmp, resolved)
                _temp_files.discard(tmp)
        except BaseException as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            _temp_files.discard(tmp)
            if isinstance(err, OSError) and not isinstance(err, BrokenPipeError):
                raise write_problem(str(target), err) from None
            raise


@contextlib.contextmanager
def _stdout() -> Iterator[IO]:
    out = sys.stdout
    if out is None or getattr(out, "closed", False):
        raise QualcodeError(Problem("standard output", "is closed: give a file with -o, or leave standard output open"))
    try:
        yield out
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise write_problem("standard output", err) from None


def _mode_for(path: Path) -> int:
    """The permission bits the new file gets: the old file's, else the usual ones (mkstemp makes 0600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


# -- CSV --------------------------------------------------------------------------------------

# Every character str.splitlines() breaks on; the csv module quotes only "\n" (the line
# terminator), the delimiter and the quote character, so a bare CR would split a row in
# readers that take CR as a line end (Excel, Gephi, universal newlines).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class CsvWriter:
    """``csv.writer`` with ``\n`` line ends whose rows holding any line-break character are
    written with every field quoted, so no reader splits them."""

    def __init__(self, fh: IO[str]):
        self._minimal = csv.writer(fh, lineterminator="\n")
        self._quoted = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[Any]) -> None:
        row = list(row)
        breaks = any(isinstance(v, str) and not LINE_BREAKS.isdisjoint(v) for v in row)
        (self._quoted if breaks else self._minimal).writerow(row)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
