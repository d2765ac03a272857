"""Case names on text that is not the paper: capitalisation, accents, abbreviations."""
from __future__ import annotations

import pytest

from conftest import make_doc

from qualcode.coding import compile_codebook
from qualcode.codebook import load_codebook
from qualcode.errors import CodebookError


def _cases(compiled, text):
    return [(c.text, list(c.cases)) for c in compiled.code(make_doc(text))]


@pytest.mark.parametrize("text, cases", [
    # accents and capitals do not matter, lower-case common words are not places
    ("We met in Queretaro and TEZIUTLÁN.", ["queretaro", "teziutlan"]),
    ("Her chihuahua barked at the buyers from Chihuahua.", ["chihuahua"]),
    ("They drank puebla-style coffee; the colima beans were sold out.", []),
    ("Prices in mexico city fell.", []),
    ("Prices in Mexico City fell.", ["distrito-federal"]),
    # the capital's usual names
    ("Ciudad de México, CDMX, D.F. and DF are one place.", ["distrito-federal"]),
    ("A buyer from the DF came.", ["distrito-federal"]),
    # "Cd." abbreviates Ciudad in any case name
    ("The accountant lives in Cd. Hidalgo, not in Cd Hidalgo's outskirts.", ["ciudad-hidalgo"]),
    # the states' abbreviations, as written
    ("Firms in Gto., Pue. and Jal. export.", ["puebla", "jalisco", "guanajuato"]),
    ("Plants in N.L., Chih., Coah., Oax., Ver. and Yuc. closed.",
     ["chihuahua", "nuevo-leon", "coahuila", "oaxaca", "veracruz", "yucatan"]),
    ("Toluca, Edo. Méx. and Cancún, Q. Roo grew.", ["estado-de-mexico", "quintana-roo"]),
    ("The firm in Tijuana, B.C. and the one in La Paz, B.C.S. merged.",
     ["tijuana", "baja-california", "baja-california-sur"]),
    ("gto. and jal. in lower case are not abbreviations.", []),
])
def test_coding_case_names_on_field_notes(compiled, text, cases):
    coded = compiled.code(make_doc(text))
    assert len(coded) == 1, [c.text for c in coded]  # no sentence ends after an abbreviation
    assert sorted(coded[0].cases) == sorted(cases)


@pytest.mark.parametrize("text, expected", [
    ("We drove to Monterrey, N.L. The road was closed.", [("We drove to Monterrey, N.L.", ["nuevo-leon"]),
                                                          ("The road was closed.", [])]),
    ("The office in Guadalajara, Jal. promised a course.", [("The office in Guadalajara, Jal. promised a course.",
                                                            ["jalisco", "guadalajara"])]),
])
def test_coding_case_abbreviation_sentence_ends(compiled, text, expected):
    assert _cases(compiled, text) == expected


@pytest.fixture(scope="module")
def custom(tmp_path_factory, pipeline):
    path = tmp_path_factory.mktemp("book") / "codebook.yaml"
    path.write_text(
        "version: 1\ncodes:\n  - id: finance\n    label: Finance\n    patterns: {terms: [loan]}\n"
        "cases:\n  - id: georgia\n    name: Georgia\n    kind: state\n"
        "  - id: el-alto\n    name: El Alto\n    kind: city\n    match_case: false\n"
        "  - id: sao-paulo\n    name: São Paulo\n    kind: state\n    abbreviations: [S. Pe., Spo.]\n",
        encoding="utf-8")
    return compile_codebook(path, pipeline=pipeline)


@pytest.mark.parametrize("text, cases", [
    ("She moved to Georgia.", ["georgia"]),
    ("She moved to GEORGIA.", ["georgia"]),
    ("The georgia pine is a tree.", []),
    ("Workshops in el alto and El Alto.", ["el-alto"]),  # match_case: false
    ("The loan came from Spo. Banks there lend.", ["sao-paulo"]),
])
def test_coding_case_match_case_and_declared_abbreviations(custom, text, cases):
    found = sorted({c for s in custom.code(make_doc(text)) for c in s.cases})
    assert found == cases
    assert "Spo." in custom.abbreviations and "S. Pe." in custom.abbreviations


def test_coding_case_abbreviation_is_one_sentence(custom):
    assert [c.text for c in custom.code(make_doc("A loan in S. Pe. Paulistas say so."))] == [
        "A loan in S. Pe. Paulistas say so."]


@pytest.mark.parametrize("case_yaml, message", [
    ("    abbreviations: [Jal]\n", "abbreviation 'Jal' has no full stop: put it in 'exact_aliases'"),
    ("    match_case: maybe\n", "'match_case' must be true or false, not 'maybe'"),
])
def test_coding_case_keys_checked(tmp_path, case_yaml, message):
    path = tmp_path / "codebook.yaml"
    path.write_text("version: 1\ncodes:\n  - id: finance\n    label: Finance\n    patterns: {terms: [loan]}\n"
                    f"cases:\n  - id: jalisco\n    name: Jalisco\n    kind: state\n{case_yaml}", encoding="utf-8")
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    assert message in str(err.value)


def test_coding_bundled_codebook_knows_every_mexican_state(compiled):
    states = [c for c in compiled.codebook.cases.values() if c.parent == "mexico" and c.kind == "state"]
    assert len(states) == 31  # and the capital, kind federal-district
    assert compiled.codebook.cases["distrito-federal"].parent == "mexico"
    missing = [c.id for c in states if not c.abbreviations]
    assert missing == ["colima"]  # "Col." is colonia in addresses: left out on purpose
