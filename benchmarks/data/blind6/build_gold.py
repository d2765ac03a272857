"""Build corpus/ and gold.yaml from the annotated sources in src/.

In src/, each coded unit is written as {{exact unit text|codes}} where codes are
f (finance), t (trust), d (design), g (government), l (leadership) or - (none).
The codes were typed by hand; this script only strips the markers and copies
the unit text out, so that every quote is exact."""
import os, re, yaml

SRC = "src"; OUT = "corpus"
CODE = {"f": "finance", "t": "trust", "d": "design", "g": "government", "l": "leadership"}
ORDER = ["finance", "trust", "design", "government", "leadership"]
PAT = re.compile(r"\{\{(.*?)\|([a-z,\-]+)\}\}", re.S)

units = []
for name in sorted(os.listdir(SRC)):
    with open(os.path.join(SRC, name), encoding="utf-8", newline="") as fh:
        src = fh.read()
    out = []
    pos = 0
    for m in PAT.finditer(src):
        out.append(src[pos:m.start()])
        text = m.group(1)
        codes = [c for c in m.group(2).split(",") if c != "-"]
        themes = [t for t in ORDER if t in {CODE[c] for c in codes}]
        units.append({"doc": name, "quote": text, "themes": themes})
        out.append(text)
        pos = m.end()
    out.append(src[pos:])
    text = "".join(out)
    assert "{{" not in text and "}}" not in text, name
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as fh:
        fh.write(text)

header = "# heldout-blind6 gold coding: do not tune on this set (see README.md)\n"
with open("gold.yaml", "w", encoding="utf-8", newline="") as fh:
    fh.write(header)
    yaml.safe_dump(units, fh, allow_unicode=True, sort_keys=False, width=10000, default_flow_style=None)
print(len(units), "units")
