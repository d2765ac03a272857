"""Writing outputs never destroys what the user has: inputs, device nodes, symlinks, previous results."""
from __future__ import annotations

import csv
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT

from qualcode.errors import QualcodeError
from qualcode.fileio import TEMP_NAME, check_outputs, clean_stale_temp_files, open_output, staged_outputs


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def make_device(path: Path, minor: int) -> Path:
    """A private copy of a memory device (1:3 null, 1:7 full), so a regression cannot replace /dev's."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError) as err:
        pytest.skip(f"cannot create a device node here: {err}")
    return path


# -- outputs that are inputs -------------------------------------------------------------------

@pytest.fixture()
def files(tmp_path):
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    (tmp_path / "corpus" / "sub" / "a.md").write_text("A.\n")
    (tmp_path / "codebook.yaml").write_text("codes: []\n")
    (tmp_path / "c.jsonl").write_text("{}\n")
    (tmp_path / "link.yaml").symlink_to("codebook.yaml")
    (tmp_path / "folder").mkdir()
    return tmp_path


@pytest.mark.parametrize("output, message", [
    ("codebook.yaml", "is an input of this command"),
    ("link.yaml", "is an input of this command"),            # a symlink to the codebook
    ("./corpus/../codebook.yaml", "is an input of this command"),
    ("c.jsonl", "is an input of this command"),               # the coding read with --coding
    ("corpus", "is the corpus"),
    ("corpus/sub/a.md", "is a file of the corpus"),
    ("corpus/new.md", "where it would be read as a document"),
    ("corpus/sub/NEW.TXT", "where it would be read as a document"),
    ("folder", "is a folder: give a file name"),
    ("c.jsonl/x.csv", "is a file, not a folder"),
])
def test_fileio_check_outputs_refuses_inputs(files, output, message, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(QualcodeError) as err:
        check_outputs([output], ["codebook.yaml", "c.jsonl", None], corpus="corpus")
    assert len(err.value.problems) == 1 and message in str(err.value.problems[0])
    assert str(err.value.problems[0]).startswith(output + ": ")


@pytest.mark.parametrize("output", ["-", "out.jsonl", "corpus/graph.json", "new/folder/coding.csv"])
def test_fileio_check_outputs_allows_other_files(files, output, monkeypatch):
    monkeypatch.chdir(files)
    check_outputs([output], ["codebook.yaml", "c.jsonl"], corpus="corpus")


def test_fileio_check_outputs_empty_path(files, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(QualcodeError, match="^-o: the output path is empty"):
        check_outputs([""], ["codebook.yaml"], corpus="corpus")


def test_fileio_check_outputs_reports_every_problem(files, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(QualcodeError) as err:
        check_outputs(["codebook.yaml", "ok.csv", "corpus/x.md"], ["codebook.yaml"], corpus="corpus")
    assert [p.file for p in err.value.problems] == ["codebook.yaml", "corpus/x.md"]


# -- devices, FIFOs, symlinks, folders ---------------------------------------------------------

def test_fileio_null_device_stays_a_device(tmp_path):
    null = make_device(tmp_path / "null", 3)
    with open_output(null) as fh:
        fh.write("data\n" * 1000)
    assert stat.S_ISCHR(os.stat(null).st_mode) and temp_files(tmp_path) == []


def test_fileio_full_device_is_a_clear_error(tmp_path):
    full = make_device(tmp_path / "full", 7)
    with pytest.raises(QualcodeError, match="no space left on the device"):
        with open_output(full) as fh:
            fh.write("data\n" * 100_000)
    assert stat.S_ISCHR(os.stat(full).st_mode) and temp_files(tmp_path) == []


def test_fileio_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with open_output(fifo) as fh:
        fh.write("line\n" * 50_000)
    reader.join(timeout=60)
    assert got == [b"line\n" * 50_000]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and temp_files(tmp_path) == []


def test_fileio_dev_stdout_into_a_pipe():
    code = "from qualcode.fileio import open_output\nwith open_output('/dev/stdout') as fh: fh.write('x' * 100000)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0 and out.stdout == b"x" * 100000, out.stderr


def test_fileio_dev_stdout_redirected_to_a_file_appends(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("previous\n")
    code = "from qualcode.fileio import open_output\nwith open_output('/dev/stdout') as fh: fh.write('new\\n')\n"
    with open(log, "ab") as fh:  # the shell's >>
        out = subprocess.run([sys.executable, "-c", code], stdout=fh, stderr=subprocess.PIPE, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert log.read_text() == "previous\nnew\n" and temp_files(tmp_path) == []


def test_fileio_symlink_target_replaced_atomically_link_kept(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "coding.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "coding.jsonl"
    link.symlink_to(target)
    with open_output(link) as fh:
        fh.write("new\n")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temp_files(tmp_path) == [] and temp_files(tmp_path / "real") == []


def test_fileio_symlink_to_a_device_writes_the_device(tmp_path):
    null = make_device(tmp_path / "null", 3)
    (tmp_path / "out.csv").symlink_to(null)
    with open_output(tmp_path / "out.csv") as fh:
        fh.write("x\n")
    assert (tmp_path / "out.csv").is_symlink() and stat.S_ISCHR(os.stat(null).st_mode)


def test_fileio_folder_as_output_is_an_error(tmp_path):
    with pytest.raises(QualcodeError, match="is a folder: give a file name"):
        with open_output(tmp_path) as fh:
            fh.write("x")


def test_fileio_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "graph.json"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError):
        with open_output(target) as fh:
            fh.write("half")
            raise RuntimeError("stage failed")
    assert target.read_text() == "previous\n" and temp_files(tmp_path) == []


# -- staging several files ---------------------------------------------------------------------

def test_fileio_staged_outputs_appear_together(tmp_path):
    (tmp_path / "a.csv").write_text("old a\n")
    with staged_outputs():
        for name in ("a.csv", "b.csv"):
            with open_output(tmp_path / name) as fh:
                fh.write(f"new {name}\n")
        assert (tmp_path / "a.csv").read_text() == "old a\n" and not (tmp_path / "b.csv").exists()
        assert len(temp_files(tmp_path)) == 2
    assert (tmp_path / "a.csv").read_text() == "new a.csv\n" and (tmp_path / "b.csv").read_text() == "new b.csv\n"
    assert temp_files(tmp_path) == []


def test_fileio_staged_outputs_failure_changes_nothing(tmp_path):
    (tmp_path / "a.csv").write_text("old a\n")
    with pytest.raises(QualcodeError):
        with staged_outputs():
            with open_output(tmp_path / "a.csv") as fh:
                fh.write("new a\n")
            with open_output(tmp_path / "b.csv") as fh:
                fh.write("new b\n")
            raise QualcodeError("the graph stage failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"] and (tmp_path / "a.csv").read_text() == "old a\n"


# -- signals -----------------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from qualcode.fileio import open_output, staged_outputs
folder = Path(sys.argv[1])
def write(name):
    with open_output(folder / name) as fh:
        for _ in range(200):
            fh.write("x" * 10000 + "\\n")
        fh.flush()
        if name == sys.argv[2]:
            print("writing", flush=True)
            time.sleep(120)
if sys.argv[3] == "staged":
    with staged_outputs():
        write("first.txt")
        write("second.txt")
else:
    write("second.txt")
"""


def start_writer(folder: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), "second.txt", mode], stdout=subprocess.PIPE,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    assert proc.stdout.readline() == "writing\n"
    return proc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("mode", ["single", "staged"])
def test_fileio_signal_during_write_removes_temp_files(tmp_path, signum, mode):
    (tmp_path / "first.txt").write_text("previous\n")
    proc = start_writer(tmp_path, mode)
    assert temp_files(tmp_path)  # the write is under way
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == 128 + signum
    assert temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.txt"]
    assert (tmp_path / "first.txt").read_text() == "previous\n"


def test_fileio_sigkill_leftovers_cleaned_on_next_write(tmp_path):
    proc = start_writer(tmp_path, "single")
    proc.kill()
    proc.wait(timeout=60)
    left = temp_files(tmp_path)
    assert len(left) == 1 and TEMP_NAME.fullmatch(left[0])
    (tmp_path / ".notes.md.swp.tmp").write_text("not ours\n")
    with open_output(tmp_path / "other.txt") as fh:
        fh.write("x\n")
    assert temp_files(tmp_path) == [".notes.md.swp.tmp"]


def test_fileio_stale_cleanup_spares_live_writers(tmp_path):
    live = tmp_path / f".coding.jsonl.qualcode-{os.getppid()}-abc123.tmp"
    live.write_text("being written\n")
    assert clean_stale_temp_files(tmp_path) == [] and live.exists()


# -- CSV line breaks ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["a\rb", "a\nb", "a\r\nb", "a\x0cb", "a\x85b", "a\u2028b", "plain"])
def test_fileio_csv_rows_survive_every_line_break(tmp_path, text):
    from qualcode.fileio import CsvWriter

    path = tmp_path / "t.csv"
    with open_output(path) as fh:
        CsvWriter(fh).writerows([["id", "text"], [1, text], [2, "after"]])
    with open(path, encoding="utf-8") as fh:  # universal newlines, as spreadsheets read
        rows = list(csv.reader(fh))
    assert len(rows) == 3 and rows[2] == ["2", "after"]
    with open(path, encoding="utf-8", newline="") as fh:
        assert list(csv.reader(fh))[1] == ["1", text]
    if text == "plain":
        assert path.read_text() == "id,text\n1,plain\n2,after\n"  # minimal quoting otherwise


def test_fileio_temp_name_is_qualcodes_own(tmp_path):
    with open_output(tmp_path / "graph.gexf") as fh:
        seen = temp_files(tmp_path)
        fh.write("x")
    assert len(seen) == 1 and TEMP_NAME.fullmatch(seen[0])
    m = TEMP_NAME.fullmatch(seen[0])
    assert m["name"] == "graph.gexf" and int(m["pid"]) == os.getpid()


def test_fileio_nested_staging_commits_once_at_the_outer_end(tmp_path):
    with staged_outputs():
        with staged_outputs():
            with open_output(tmp_path / "inner.csv") as fh:
                fh.write("x\n")
        assert not (tmp_path / "inner.csv").exists()
    assert (tmp_path / "inner.csv").read_text() == "x\n"


def test_fileio_corpus_suffixes_match_the_corpus_reader():
    from qualcode.corpus import SUFFIXES
    from qualcode.fileio import CORPUS_SUFFIXES

    assert set(CORPUS_SUFFIXES) == set(SUFFIXES)
