"""The command line: thin commands, documented exit codes, clean errors, no half-written files."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, write_small_project

from qualcode.cli import build_parser, main

COMMANDS = ["code", "check", "graph", "matrix", "report", "run", "segments", "kwic", "stats", "diff"]


@pytest.fixture()
def project(tmp_path):
    """A small project: a two-document corpus and a codebook."""
    return write_small_project(tmp_path)


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_every_command_has_help(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert sub.description and len(sub.description) > 30
    for action in sub._actions:
        if action.dest not in ("help",):
            assert action.help, f"{command} {action.option_strings} has no help"


def test_cli_help_does_not_import_spacy():
    code = "import sys; from qualcode.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n" \
           "assert 'spacy' not in sys.modules and 'networkx' not in sys.modules, 'heavy import at start-up'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


def test_cli_code_jsonl_and_csv(project):
    out = run_cli("code", "-o", "coding.jsonl", cwd=project)
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in (project / "coding.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == ["Notes", "They took a loan.", "Design matters.", "Firms in Puebla got credit."]
    assert records[1]["codes"] == ["finance"] and records[1]["context_cases"] == ["puebla"]
    assert records[3]["cases"] == ["puebla"] and records[3]["matches"][0]["text"] == "credit"
    assert set(records[0]) >= {"doc", "id", "start", "end", "line", "section", "kind", "text", "codes", "cases",
                               "context_cases", "matches"}
    assert run_cli("code", "--format", "csv", "-o", "coding.csv", cwd=project).returncode == 0
    rows = list(csv.DictReader(io.StringIO((project / "coding.csv").read_text())))
    assert [r["codes"] for r in rows] == ["", "finance", "design", "finance"]


def test_cli_code_to_stdout(project):
    out = run_cli("code", "-q", cwd=project)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 4 and out.stderr == ""


@pytest.mark.parametrize("setup, message", [
    (lambda p: (p / "corpus" / "bad.txt").write_bytes(b"caf\xe9"), "bad.txt:1:4: not UTF-8: byte 0xe9 at byte offset 3"),
    (lambda p: (p / "corpus" / "img.md").write_bytes(b"\x89PNG\x00"), "img.md: binary file"),
    (lambda p: (p / "corpus" / "fm.md").write_text("---\ntitle: [x\n---\nT."), "fm.md:2:"),
    (lambda p: (p / "codebook.yaml").write_text("codes: [\n"), "codebook.yaml:2:1: invalid YAML"),
    (lambda p: (p / "codebook.yaml").write_text("codes:\n  - id: x\n    label: X\n    patterns: {regex: ['(']}\n"),
     "codebook.yaml:4:25: codes.x.patterns.regex[0]: invalid regular expression"),
    (lambda p: [f.unlink() for f in (p / "corpus").iterdir()], "the corpus is empty"),
    (lambda p: (p / "codebook.yaml").unlink(), "codebook not found"),
])
def test_cli_bad_input_exit_2_and_no_output(project, setup, message):
    (project / "coding.jsonl").write_text("previous run\n")
    setup(project)
    out = run_cli("code", "-o", "coding.jsonl", cwd=project)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert (project / "coding.jsonl").read_text() == "previous run\n"  # untouched
    assert [p.name for p in project.iterdir() if p.name.startswith(".coding")] == []


def test_cli_empty_file_is_a_warning(project):
    (project / "corpus" / "empty.md").write_text("")
    out = run_cli("code", "-o", "c.jsonl", cwd=project)
    assert out.returncode == 0 and "empty.md: empty file, skipped" in out.stderr


def test_cli_check_reports_all_problems(project):
    (project / "codebook.yaml").write_text(
        "codes:\n  - id: x\n    labl: X\n    parent: y\n    patterns: {terms: ['']}\n"
        "cases:\n  - id: a\n    name: A\n    kind: city\n  - id: b\n    name: B\n    kind: city\n    aliases: [a]\n")
    (project / "corpus" / "c.md").write_text("---\ncases: [atlantis]\n---\nText.\n")
    out = run_cli("check", cwd=project)
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 5, out.stderr
    for expected in ("codebook.yaml:3:5: codes.x.labl: unknown key 'labl'", "codes.x.parent: unknown parent 'y'",
                     "codes.x.patterns.terms[0]: empty term", "'a' is claimed by two cases",
                     "codes.x: missing 'label'"):
        assert any(expected in line for line in lines), (expected, lines)


def test_cli_check_ok(project):
    out = run_cli("check", cwd=project)
    assert out.returncode == 0 and out.stdout.startswith("ok: 2 codes, 1 cases")


def test_cli_internal_error_exit_1(monkeypatch, capsys):
    import qualcode.cli as cli

    def boom(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_check", boom)
    assert main(["check"]) == 1
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_every_command_is_documented_in_readme(command):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"qualcode {command}" in readme


@pytest.mark.parametrize("key", ["terms", "tokens", "regex", "exclude", "aliases", "exact_aliases", "ignore", "parent"])
def test_cli_codebook_keys_documented_in_readme(key):
    assert f"{key}:" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_cli_missing_corpus_exit_2(project):
    out = run_cli("code", "--corpus", "nowhere", "-o", "c.jsonl", cwd=project)
    assert out.returncode == 2 and "nowhere: corpus not found" in out.stderr
    assert not (project / "c.jsonl").exists()


def test_cli_graph_formats_and_options(project):
    out = run_cli("graph", "--unit", "sentence", "--roll-up", "state", "-o", "g.gexf", "-o", "g.graphml",
                  "-o", "g.json", "-o", "g.csv", cwd=project)
    assert out.returncode == 0, out.stderr
    for name in ("g.gexf", "g.graphml", "g.json", "g.nodes.csv", "g.edges.csv"):
        assert (project / name).stat().st_size > 0
    gexf = (project / "g.gexf").read_text()
    assert 'id="theme:finance"' in gexf and 'id="case:puebla"' in gexf


@pytest.mark.parametrize("args, message", [
    (["graph", "-o", "g.gexff"], "'.gexff'"),
    (["graph", "--unit", "page", "-o", "g.gexf"], "invalid choice: 'page'"),
    (["matrix", "--kind", "theme-theme", "--coding", "missing.jsonl", "-o", "m.csv"], "coding file not found"),
])
def test_cli_graph_bad_options_exit_2(project, args, message):
    out = run_cli(*args, cwd=project)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("kind, header", [("theme-theme", "theme_a,theme_b,count"), ("theme-case", "theme,label,puebla"),
                                          ("theme-document", "theme,label")])
def test_cli_matrix_from_saved_coding(project, kind, header):
    assert run_cli("code", "-o", "coding.jsonl", cwd=project).returncode == 0
    out = run_cli("matrix", "--kind", kind, "--coding", "coding.jsonl", "-o", "m.csv", cwd=project)
    assert out.returncode == 0, out.stderr
    assert (project / "m.csv").read_text().startswith(header)


def test_cli_run_is_deterministic(project):
    assert run_cli("run", "-o", "out1", cwd=project).returncode == 0
    assert run_cli("run", "-o", "out2", cwd=project).returncode == 0
    names = sorted(p.name for p in (project / "out1").iterdir())
    assert {"coding.jsonl", "coding.csv", "graph.gexf", "graph.graphml", "graph.json", "graph.nodes.csv",
            "graph.edges.csv", "matrix-theme-theme.csv", "matrix-theme-case.csv", "matrix-theme-document.csv",
            "report.html"} <= set(names)
    for name in names:
        assert (project / "out1" / name).read_bytes() == (project / "out2" / name).read_bytes(), name


def test_cli_readme_example_record_is_real(bundled):
    """The README's example record matches what qualcode produces today."""
    import re as _re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    _, segments = bundled
    seg = next(s for s in segments if s.segment.id == "paper/ruiz-duran-1998-clustering.md#92")
    record = seg.to_record()
    for key in ("start", "end", "line", "section_start", "paragraph"):
        assert f'"{key}": {record[key]},' in readme, key
    for m in record["matches"]:
        assert f'"rule": "{m["rule"].rsplit("/", 1)[-1]}"' in readme and f'"start": {m["start"]}, "end": {m["end"]}' in readme
    count = _re.search(r"ok: (\d+) codes, (\d+) cases, (\d+) patterns", readme)
    from qualcode.project import check_project

    report = check_project(ROOT / "codebook.yaml", None)
    assert count and tuple(map(int, count.groups())) == (report.codes, report.cases, report.patterns)


@pytest.mark.parametrize("target", ["/proc/qualcode-test/coding.jsonl"])
def test_cli_unwritable_output_exit_2(project, target):
    out = run_cli("code", "-o", target, cwd=project)
    assert out.returncode == 2 and "cannot write the output" in out.stderr and "Traceback" not in out.stderr


def test_cli_graph_where_include_nested_and_picture_options(project):
    (project / "corpus" / "a.md").write_text("---\ncases: [puebla]\nsector: furniture\n---\n# Notes\n\n"
                                             "They took a loan. Design matters.\n")
    (project / "corpus" / "c.md").write_text("---\nsector: garment\n---\nCredit for design.\n")
    out = run_cli("graph", "--where", "sector=furniture", "-o", "f.json", cwd=project)
    assert out.returncode == 0, out.stderr
    docs = {n["id"] for n in json.loads((project / "f.json").read_text())["nodes"] if n["kind"] == "document"}
    assert docs == {"doc:a.md"}
    out = run_cli("matrix", "--kind", "theme-document", "--where", "sector=garment", "--where", "sector=furniture",
                  "-o", "m.csv", cwd=project)
    assert out.returncode == 0 and (project / "m.csv").read_text().splitlines()[0] == "theme,label,a.md,c.md"
    for args, message in [(["--where", "sector"], "expected KEY=VALUE"),
                          (["--where", "sectr=furniture"], "no document has the field 'sectr'")]:
        out = run_cli("graph", *args, "-o", "g.gexf", cwd=project)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
        assert not (project / "g.gexf").exists()


# -- outputs never destroy inputs ---------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args, message", [
    (["code", "-o", "codebook.yaml"], "codebook.yaml: is an input of this command"),
    (["code", "-o", "corpus/a.md"], "corpus/a.md: is a file of the corpus"),
    (["code", "-o", "corpus/notes.md"], "corpus/notes.md: is inside the corpus folder corpus"),
    (["code", "-o", "corpus"], "corpus: is the corpus"),
    (["matrix", "--coding", "c.jsonl", "-o", "c.jsonl"], "c.jsonl: is an input of this command"),
    (["graph", "--coding", "c.jsonl", "-o", "g.json", "-o", "codebook.yaml"], "codebook.yaml: unknown graph file suffix"),
    (["graph", "--codebook", "c.nodes.csv", "-o", "c.csv"], "c.nodes.csv: is an input of this command"),
    (["graph", "-o", "a.json", "-o", "b.xyz"], "b.xyz: unknown graph file suffix '.xyz'"),
    (["code", "-o", "out"], "out: is a folder: give a file name"),
    (["run", "-o", "c.jsonl"], "c.jsonl: is a file, not a folder"),
    (["run", "-o", "corpus/a.md"], "corpus/a.md: is a file, not a folder"),
])
def test_cli_output_onto_an_input_exit_2_nothing_written(project, args, message):
    (project / "c.jsonl").write_text('{"doc": "a.md"}\n')  # refused before it is read
    (project / "c.nodes.csv").write_text("Id,Label\n")
    (project / "out").mkdir()
    before = snapshot(project)
    out = run_cli(*args, cwd=project)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert snapshot(project) == before  # no input changed, no output (a.json) written


def test_cli_run_failing_late_keeps_every_previous_file(project):
    assert run_cli("run", "-q", "-o", "out", cwd=project).returncode == 0
    last = project / "out" / "matrix-theme-document.csv"
    last.unlink()
    last.symlink_to("/proc/qualcode-test/matrix.csv")  # written last; fails only when written
    (project / "corpus" / "b.txt").write_text("Firms in Puebla got a loan and credit.\n")
    before = snapshot(project / "out")
    out = run_cli("run", "-q", "-o", "out", cwd=project)
    assert out.returncode == 2 and "matrix-theme-document.csv: cannot write the output" in out.stderr, out.stderr
    assert snapshot(project / "out") == before  # coding.* and the graphs of the first run, untouched
    assert [p.name for p in (project / "out").iterdir() if p.name.startswith(".")] == []


def run_limited(args: list[str], cwd: Path, max_bytes: int) -> subprocess.CompletedProcess:
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run([sys.executable, "-m", "qualcode", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=limit, timeout=300)


def test_cli_file_size_limit_is_a_clear_error(project):
    (project / "coding.jsonl").write_text("previous\n")
    out = run_limited(["code", "-o", "coding.jsonl"], project, 1000)
    assert out.returncode == 2 and "coding.jsonl: file too large: the file-size limit was reached" in out.stderr
    assert (project / "coding.jsonl").read_text() == "previous\n"
    assert "warning: .qualcode/project.sqlite: cannot use the store" in out.stderr  # derived data: skipped
    assert [p.name for p in project.iterdir() if p.name.startswith(".") and p.name != ".qualcode"] == []


def test_cli_full_device_as_output(project):
    full = project / "full"
    try:
        os.mknod(full, 0o20666, os.makedev(1, 7))  # a private /dev/full
    except OSError as err:
        pytest.skip(f"cannot create a device node here: {err}")
    out = run_cli("code", "-o", "full", cwd=project)
    assert out.returncode == 2 and "full: no space left on the device" in out.stderr, out.stderr
    with open(full, "wb") as fh:
        stdout_full = subprocess.run([sys.executable, "-m", "qualcode", "code", "-q"], stdout=fh, stderr=subprocess.PIPE,
                                     text=True, cwd=project, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert stdout_full.returncode == 2
    assert stdout_full.stderr == ("error: standard output: no space left on the device (or over the disk quota): "
                                  "free some space or write elsewhere\n")


def test_cli_closed_stdout_is_a_clear_error(project):
    out = subprocess.run(f"exec {sys.executable} -m qualcode code -q >&-", shell=True, capture_output=True, text=True,
                         cwd=project, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 2 and "standard output: is closed" in out.stderr and "Traceback" not in out.stderr


def test_cli_bare_cr_in_a_segment_stays_in_its_csv_row(project):
    (project / "corpus" / "b.txt").write_bytes(b"Firms in Puebla\rgot credit.\n")
    assert run_cli("code", "-o", "coding.csv", cwd=project).returncode == 0
    with open(project / "coding.csv", encoding="utf-8") as fh:  # universal newlines, as spreadsheets read
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and rows[-1]["doc"] == "b.txt" and rows[-1]["codes"] == "finance"
    from qualcode.output import read_coding_records

    assert read_coding_records(project / "coding.csv")[-1]["text"] == "Firms in Puebla\rgot credit."


@pytest.mark.parametrize("name", ["coding.jsonl", "coding.csv"])
def test_cli_coding_read_back_keeps_unicode_line_breaks(project, name):
    (project / "corpus" / "b.txt").write_text("Firms in\u2028Puebla got\x85credit.\x0cThey got a loan\u2029too.\n")
    assert run_cli("code", "-o", name, cwd=project).returncode == 0
    from qualcode.output import read_coding_records

    records = read_coding_records(project / name)
    assert any("\u2028" in r["text"] for r in records) and len(records) == len(run_cli("code", cwd=project).stdout.split("\n")) - 1
    saved = run_cli("matrix", "--kind", "theme-document", "--coding", name, cwd=project)
    fresh = run_cli("matrix", "--kind", "theme-document", cwd=project)
    assert saved.returncode == 0 and saved.stdout == fresh.stdout


def test_cli_graph_several_outputs_all_or_none(project):
    (project / "g.gexf").symlink_to("/proc/qualcode-test/g.gexf")  # fails only when written, after g.json
    out = run_cli("graph", "-q", "-o", "g.json", "-o", "g.gexf", cwd=project)
    assert out.returncode == 2 and "g.gexf: cannot write the output" in out.stderr, out.stderr
    assert not (project / "g.json").exists() and [p.name for p in project.iterdir() if p.name.startswith(".")] == []


def test_cli_run_sigterm_during_writing_keeps_the_previous_run(project):
    import signal
    import time

    assert run_cli("run", "-q", "-o", "out", cwd=project).returncode == 0
    last = project / "out" / "matrix-theme-document.csv"
    last.unlink()
    os.mkfifo(last)  # written last and directly: run blocks there with every other file staged
    before = snapshot_files(project / "out")
    staged = len(before)  # every file but the FIFO
    proc = subprocess.Popen([sys.executable, "-m", "qualcode", "run", "-q", "-o", "out"], cwd=project,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while len([p for p in (project / "out").iterdir() if p.name.endswith(".tmp")]) < staged:
        assert proc.poll() is None and time.monotonic() < deadline, "run did not reach the last file"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert "terminated by signal 15" in proc.stderr.read()
    assert snapshot_files(project / "out") == before
    assert [p.name for p in (project / "out").iterdir() if p.name.startswith(".")] == []


def snapshot_files(folder: Path) -> dict[str, bytes]:
    """Regular files' contents (a FIFO is left unopened)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{x}: &{x} [{', '.join(['*' + y] * 9)}]\n" for y, x in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("args, setup, message", [
    (["check", "--codebook", "/dev/zero"], None, "error: /dev/zero: the codebook is a device, not a regular file"),
    (["check", "--codebook", "fifo.yaml"], lambda p: os.mkfifo(p / "fifo.yaml"),
     "error: fifo.yaml: the codebook is a FIFO (named pipe), not a regular file"),
    (["matrix", "--coding", "pipe.jsonl"], lambda p: os.mkfifo(p / "pipe.jsonl"),
     "error: pipe.jsonl: the coding file is a FIFO (named pipe), not a regular file"),
    (["run", "-o", "out"], lambda p: os.mkfifo(p / "corpus" / "pipe.md"),
     "pipe.md: the corpus file is a FIFO (named pipe), not a regular file: give a file saved on disk; or pass "
     "--skip-unreadable to skip it"),
    (["run", "-o", "out"], lambda p: (p / "corpus" / "bomb.md").write_text(f"---\n{LAUGHS}---\nText.\n"),
     "bomb.md:7:4: f: aliases expand this value to 597,871 values"),
    (["check"], lambda p: (p / "codebook.yaml").write_text(
        (p / "codebook.yaml").read_text().replace("terms: [design]", "terms: &t [design, *t]")),
     "codebook.yaml:9:14: codes[1].patterns.terms[1]: recursive alias"),
    (["check"], lambda p: (p / "corpus" / "c.md").write_text("---\ntitle: !!python/object:os.system ls\n---\nT.\n"),
     "c.md:2:8: title: unsupported YAML tag '!!python/object:os.system'"),
    (["check"], lambda p: (p / "corpus" / "c.md").write_text('---\ntitle: "\\ud800"\n---\nT.\n'),
     "c.md:2:8: title: '\\ud800' holds U+D800"),
    (["check"], lambda p: (p / "corpus" / "c.md").write_text("---\ncases: tonala, puebla\n---\nT.\n"),
     "c.md:2:8: cases: 'cases' is one piece of text 'tonala, puebla', not a list"),
    (["check"], lambda p: (p / "corpus" / "c.md").write_text("---\ncases: [Puebal]\n---\nT.\n"),
     "c.md:2:9: cases[0]: unknown case 'Puebal' in front matter: did you mean 'puebla'?"),
    (["check"], lambda p: (p / "corpus" / "c.md").write_text("---\nkind: paper\nkind: interview\n---\nT.\n"),
     "c.md:3:1: duplicate key 'kind'"),
    (["code", "-o", "c.jsonl"], lambda p: open(os.path.join(os.fsencode(p / "corpus"), b"caf\xe9.md"), "w").close(),
     "caf\\xe9.md: cannot read a name that is not valid UTF-8"),
])
def test_cli_hostile_input_exit_2_with_a_located_message(project, args, setup, message):
    if setup:
        setup(project)
    out = run_cli(*args, cwd=project)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr and "internal error" not in out.stderr
    assert len(out.stderr) < 2000
    assert not (project / "out").exists()


def test_cli_skip_unreadable_warns_and_codes_the_rest(project):
    os.mkfifo(project / "corpus" / "pipe.md")
    out = run_cli("code", "--skip-unreadable", "-o", "c.jsonl", cwd=project)
    assert out.returncode == 0, out.stderr
    assert "warning: " in out.stderr and "pipe.md: the corpus file is a FIFO" in out.stderr and "(skipped)" in out.stderr
    assert {json.loads(line)["doc"] for line in (project / "c.jsonl").read_text().splitlines()} == {"a.md", "b.txt"}


def test_cli_check_warns_near_miss_front_matter_key(project):
    (project / "corpus" / "c.md").write_text("---\ncase: [puebla]\nsector: garment\n---\nText.\n")
    out = run_cli("check", cwd=project)
    assert out.returncode == 0
    assert "warning: " + "corpus/c.md:2:1: unknown front-matter key 'case': did you mean 'cases'?" in out.stderr
    assert "sector" not in out.stderr
