"""The evidence report in a real browser: Debian's chromium, headless, driven through
chromedriver (selenium, a test extra). Skips with the reason when any of them is absent.

Screenshots go to the pytest temporary folder and, when ``QUALCODE_TEST_ARTIFACTS`` names a
folder, there too; each test's log names them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--window-size=1400,1000")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install 'qualcode[test]')")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="chromium and chromedriver are not installed "
                                       "(apt-get install chromium chromium-driver; .ci/run does it)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The bundled study's report, with its claims (claims.yaml)."""
    from qualcode.report import report_project

    path = tmp_path_factory.mktemp("report") / "report.html"
    report_project(ROOT / "corpus", ROOT / "codebook.yaml", path, codings=ROOT / "codings",
                   claims=ROOT / "claims.yaml")
    return path


@pytest.fixture(scope="module")
def study():
    from qualcode.project import code_project, study_claims
    from qualcode.report import report_claims

    result = code_project(ROOT / "corpus", ROOT / "codebook.yaml", codings=ROOT / "codings")
    return report_claims(study_claims(result, ROOT / "claims.yaml"))


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def screenshot(driver, tmp_path, name, record_property):
    path = tmp_path / name
    driver.save_screenshot(str(path))
    folder = os.environ.get("QUALCODE_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / name)
    record_property("screenshot", str(path))
    print(f"screenshot: {path}")
    return path


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def drawn(driver):
    """Wait until the document view shows the place the hash names (documents are inflated
    asynchronously: the view says which place it drew in data-shown)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.getElementById('doc-view').dataset.shown === location.hash.slice(1)"))


def test_report_browser_renders_every_claim_and_its_passages(browser, report, study, tmp_path, record_property):
    browser.get(report.as_uri())
    assert study, "the bundled study has claims"
    for claim in study:
        shown = js(browser, """
            var a = document.getElementById('claim-' + arguments[0]);
            return a && a.offsetHeight > 0 ? a.innerText : null;""", claim.id)
        assert shown is not None, claim.id
        assert " ".join(claim.statement.split()) in " ".join(shown.split())
        passages = [*claim.anchors, *(p for ps in claim.evidence.values() for p in ps)]
        links = js(browser, """return Array.from(document.querySelectorAll(
            '#claim-' + CSS.escape(arguments[0]) + ' blockquote.passage > a.passage-link')).map(a => a.textContent)""",
                   claim.id)
        assert links == [f"{p.doc}:{p.line}" for p in passages]
    assert js(browser, "return document.querySelectorAll('#doc-items li:not([hidden])').length") == 11
    assert js(browser, "return document.getElementById('doc-view').innerText").startswith("Open a document")
    screenshot(browser, tmp_path, "report-claims.png", record_property)


def test_report_browser_passage_link_opens_and_highlights_it(browser, report, study, tmp_path, record_property):
    browser.get(report.as_uri())
    claim = study[0]
    anchor = claim.anchors[0]
    link = browser.find_element("css selector", f"#claim-{claim.id}-anchor-1 > a.passage-link")
    link.click()
    assert js(browser, "return location.hash") == f"#{link.get_attribute('href').split('#', 1)[1]}"
    drawn(browser)
    highlighted = js(browser, "return Array.from(document.querySelectorAll('#doc-view .doc-text .target'))"
                              ".map(e => e.textContent).join('')")
    assert highlighted == anchor.text
    assert js(browser, "return document.querySelector('#doc-view .doc-bar h3').textContent") != ""
    top = js(browser, "var r = document.getElementById('qc-target').getBoundingClientRect(); return [r.top, r.bottom]")
    assert 0 <= top[0] and top[1] <= js(browser, "return window.innerHeight")  # scrolled into sight
    screenshot(browser, tmp_path, "report-document.png", record_property)
    # ... and back: the coded passage names its codes and the claims citing it
    mark = browser.find_element("css selector", "#doc-view mark.target")
    mark.click()
    panel = browser.find_element("id", "passage-info")
    assert panel.is_displayed()
    assert claim.id in panel.text and "Cited by" in panel.text
    screenshot(browser, tmp_path, "report-passage.png", record_property)
    back = panel.find_element("css selector", f'a[href="#claim-{claim.id}-anchor-1"]')
    back.click()
    assert js(browser, "return location.hash") == f"#claim-{claim.id}-anchor-1"
    assert js(browser, "var r = document.getElementById(arguments[0]).getBoundingClientRect(); return r.top >= 0 "
                       "&& r.top < window.innerHeight", f"claim-{claim.id}-anchor-1")


def test_report_browser_code_passages_and_document_list(browser, report, tmp_path, record_property):
    browser.get(report.as_uri())
    button = browser.find_element("css selector", "#code-finance button.show-passages")
    js(browser, "arguments[0].scrollIntoView()", button)
    button.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.querySelector('#code-finance .passages').dataset.drawn"))
    shown = browser.find_elements("css selector", "#code-finance .passages blockquote")
    assert 0 < len(shown) <= 25
    assert all(b.find_element("css selector", "a.passage-link").text.count(":") == 1 for b in shown)
    first = shown[0].find_element("css selector", "a.passage-link")
    text = shown[0].find_element("css selector", ".passage-text").text
    first.click()
    drawn(browser)
    assert js(browser, "return Array.from(document.querySelectorAll('#doc-view .doc-text .target'))"
                       ".map(e => e.textContent).join('')").strip() == text.strip()
    box = browser.find_element("id", "doc-filter")
    box.send_keys("tijuana")
    visible = js(browser, "return Array.from(document.querySelectorAll('#doc-items li:not([hidden])'))"
                          ".map(li => li.querySelector('a').title)")
    assert visible == ["interviews/tijuana-furniture.md"]
    screenshot(browser, tmp_path, "report-codebook.png", record_property)


def test_report_browser_source_pointer_links_to_the_paper_passage(browser, report, tmp_path, record_property):
    from qualcode.corpus import load_corpus
    from qualcode.pointers import resolve_pointers
    from qualcode.project import code_project

    result = code_project(ROOT / "corpus", ROOT / "codebook.yaml", codings=ROOT / "codings")
    docs = {d.id: d for d in load_corpus(ROOT / "corpus")}
    notes = "interviews/ciudad-hidalgo-furniture.md"
    first = next(p for p in resolve_pointers(result.segments, docs) if p.doc == notes and p.passages)
    a, b, line = first.passages[0]
    order = sorted(docs)
    browser.get(report.as_uri() + f"#doc/{order.index(notes)}")
    drawn(browser)
    link = browser.find_elements("css selector", "#doc-view a.pointer-link")[0]
    assert link.text == f"→ {first.target}:{line}"
    js(browser, "arguments[0].click()", link)  # the link may sit under the sticky document title
    drawn(browser)
    assert js(browser, "return location.hash") == f"#doc/{order.index(first.target)}/{a}/{b}"
    assert js(browser, "return Array.from(document.querySelectorAll('#doc-view .doc-text .target'))"
                       ".map(e => e.textContent).join('')") == docs[first.target].text[a:b]
    assert notes in browser.find_element("css selector", "#doc-view .doc-bar .back").text
    screenshot(browser, tmp_path, "report-pointer.png", record_property)


def test_report_browser_document_loaded_lazily(browser, report, tmp_path, record_property):
    """A document is not in the page until opened: its block is deflated base64, not text
    or DOM; opening it from the list inflates and draws it in full."""
    from qualcode.corpus import load_corpus
    from qualcode.report import unpacked

    docs = {d.id: d for d in load_corpus(ROOT / "corpus")}
    order = sorted(docs)
    name = "interviews/tijuana-furniture.md"
    n = order.index(name)
    browser.get(report.as_uri())
    block = js(browser, "return document.getElementById('qc-doc-' + arguments[0]).textContent", n)
    assert unpacked(block)["text"] == docs[name].text  # packed, and exactly the document
    body = docs[name].text[docs[name].body_start:]
    probe = " ".join(body.split()[10:22])
    assert probe not in " ".join(js(browser, "return document.body.innerText").split())  # not drawn yet
    assert js(browser, "return document.querySelectorAll('#doc-view .doc-text').length") == 0
    link = browser.find_element("css selector", f'#doc-items a[data-doc="{n}"]')
    js(browser, "arguments[0].click()", link)
    drawn(browser)
    shown = js(browser, "return document.querySelector('#doc-view .doc-text').textContent")
    assert body.rstrip()[-200:] in shown and probe in " ".join(shown.split())  # (pointer links are added)
    assert js(browser, "return document.querySelectorAll('#doc-view mark.coded').length") > 0
    fields = js(browser, "return document.querySelector('#doc-view .doc-fields').innerText")
    assert "object Object" not in fields  # a mapping in the front matter (source:) is shown as text
    assert "id: paper/ruiz-duran-1998-clustering.md; title: Clustering: Joint Learning Experience" in fields
    screenshot(browser, tmp_path, "report-lazy-document.png", record_property)
