"""Benchmark: the evidence report's size, time to write, and time to render in Chromium.

For the bundled study (with its claims) and for the million-word benchmark corpus (copies
of the bundled documents, as ``bench_coding.py`` builds it; codebook rules only, no claims):

- seconds to render the HTML (``qualcode.report.write_report``, coding excluded) and its size;
- in headless Chromium (Debian's ``chromium`` with ``chromedriver``, through selenium): time
  until the page's load event, and time to open the largest document from the list and to
  follow a passage link into it (drawing the document view).

Run by hand (``python benchmarks/bench_report.py [--words N]``); figures go in the README.
Chromium timings are skipped with a note when chromium, chromedriver or selenium is missing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1400,1000")


def bundled():
    from qualcode.project import code_project, study_claims
    from qualcode.report import report_claims

    result = code_project(ROOT / "corpus", ROOT / "codebook.yaml", codings=ROOT / "codings")
    return result, report_claims(study_claims(result, ROOT / "claims.yaml"))


def large(words: int):
    from bench_coding import build_corpus

    from qualcode.codebook import load_codebook
    from qualcode.coding import CompiledCodebook, code_corpus
    from qualcode.codings import rule_codings
    from qualcode.pipeline import Pipeline
    from qualcode.project import CodingResult

    docs, total = build_corpus(words)
    loaded = load_codebook(ROOT / "codebook.yaml")
    segments = code_corpus(docs, CompiledCodebook(loaded, Pipeline()))
    result = CodingResult(segments, docs, loaded, source="rule")
    result.codings = rule_codings(segments, loaded.codebook)
    return result, total


def write(result, claims, path: Path, repeat: int = 3) -> dict:
    from qualcode.report import write_report

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        write_report(result, path, claims=claims)
        times.append(time.perf_counter() - started)
    return {"write_seconds": round(min(times), 2), "bytes": path.stat().st_size}


def chromium(path: Path, repeat: int = 3) -> dict:
    chrome, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return {"chromium": "skipped: selenium is not installed"}
    if not (chrome and driver_path):
        return {"chromium": "skipped: chromium or chromedriver is not installed"}
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(600)
    driver.set_script_timeout(600)
    loads, opens, follows = [], [], []
    try:
        for _ in range(repeat):
            driver.get("about:blank")
            driver.get(path.as_uri())
            loads.append(driver.execute_script(
                "return performance.getEntriesByType('navigation')[0].loadEventEnd"))
            # documents are inflated asynchronously: the view sets data-shown once it has drawn the place
            timed = """
                var done = arguments[arguments.length - 1], hash = arguments[0];
                var view = document.getElementById('doc-view'), t0 = performance.now();
                (function poll() {
                  if (view.dataset.shown === hash.slice(1)) done(performance.now() - t0);
                  else requestAnimationFrame(poll); })();
                location.hash = hash;"""
            largest = driver.execute_script("""
                var best = 0, n = -1;
                document.querySelectorAll('script[id^="qc-doc-"]').forEach(function (s, i) {
                  if (s.textContent.length > best) { best = s.textContent.length; n = i; } });
                return n;""")
            opens.append(driver.execute_async_script(timed, f"#doc/{largest}"))
            link = driver.execute_script("var a = document.querySelector('a.passage-link'); "
                                         "return a ? a.getAttribute('href') : null")
            if link:
                driver.execute_script("location.hash = ''")
                follows.append(driver.execute_async_script(timed, link))
    finally:
        driver.quit()
    out = {"load_ms": round(min(loads)), "open_largest_document_ms": round(min(opens))}
    if follows:
        out["follow_passage_ms"] = round(min(follows))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="large corpus size in words (default 1,000,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        result, claims = bundled()
        path = Path(tmp) / "bundled.html"
        figures["bundled"] = {"documents": len(result.documents), "segments": len(result.segments),
                              "claims": len(claims), **write(result, claims, path), **chromium(path)}
        result, words = large(args.words)
        path = Path(tmp) / "large.html"
        figures["large"] = {"words": words, "documents": len(result.documents), "segments": len(result.segments),
                            **write(result, (), path, repeat=1), **chromium(path, repeat=2)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name, f in figures.items():
        print(f"{name}: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in f.items()))


if __name__ == "__main__":
    main()
