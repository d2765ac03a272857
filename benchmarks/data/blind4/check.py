"""Check heldout-blind4: quotes exact and unique, document order, themes valid,
YAML round-trip; then print counts. Run: python3 check.py"""
import os, sys, collections, yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ORDER = ["finance", "trust", "design", "government", "leadership"]
HEADER = "# heldout-blind4 gold coding. Do not tune on this set. See README.md."

errors = []
with open(os.path.join(HERE, "gold.yaml"), encoding="utf-8", newline="") as f:
    raw = f.read()
if raw.splitlines()[0] != HEADER:
    errors.append("first line of gold.yaml is not the header comment")
gold = yaml.safe_load(raw)
if not isinstance(gold, list):
    sys.exit("gold.yaml is not a list")

# round-trip
again = yaml.safe_load(yaml.safe_dump(gold, allow_unicode=True, sort_keys=False))
if again != gold:
    errors.append("gold.yaml does not round-trip through yaml.safe_dump/safe_load")

files = sorted(f for f in os.listdir(CORPUS) if not f.startswith("."))
for f in files:
    if not (f.endswith(".txt") or f.endswith(".md")):
        errors.append(f"{f}: extension is not .txt or .md")
texts = {}
for f in files:
    with open(os.path.join(CORPUS, f), encoding="utf-8", newline="") as fh:
        texts[f] = fh.read()

last_pos = {}
seen_docs = []
for n, u in enumerate(gold, 1):
    if set(u) != {"doc", "quote", "themes"}:
        errors.append(f"unit {n}: keys {sorted(u)}")
        continue
    doc, q, th = u["doc"], u["quote"], u["themes"]
    if doc not in texts:
        errors.append(f"unit {n}: unknown doc {doc}")
        continue
    if seen_docs and seen_docs[-1] != doc:
        if doc in seen_docs:
            errors.append(f"unit {n}: {doc} units are not contiguous")
    if not seen_docs or seen_docs[-1] != doc:
        seen_docs.append(doc)
    if not isinstance(q, str) or not q or q != q.strip():
        errors.append(f"unit {n}: empty quote or leading/trailing whitespace: {q!r}")
        continue
    c = texts[doc].count(q)
    if c != 1:
        errors.append(f"unit {n} ({doc}): quote occurs {c} times: {q[:60]!r}")
        continue
    pos = texts[doc].index(q)
    if pos < last_pos.get(doc, -1):
        errors.append(f"unit {n} ({doc}): out of document order: {q[:60]!r}")
    # units must not overlap
    if pos < last_pos.get(doc + "#end", -1):
        errors.append(f"unit {n} ({doc}): overlaps the previous unit: {q[:60]!r}")
    last_pos[doc] = pos
    last_pos[doc + "#end"] = pos + len(q)
    if not isinstance(th, list) or any(t not in ORDER for t in th):
        errors.append(f"unit {n}: invalid themes {th}")
    elif th != [t for t in ORDER if t in th] or len(set(th)) != len(th):
        errors.append(f"unit {n}: themes not in canonical order or repeated: {th}")
    if "\f" in q:
        errors.append(f"unit {n}: quote contains a form feed (page break)")

# survey export: the units must be exactly the non-empty answer fields, in order
import csv, io
sv = "08_survey_takeo_silk.txt"
if sv in texts:
    rows = list(csv.reader(io.StringIO(texts[sv], newline="")))[1:]
    answers = [r[3] for r in rows if len(r) == 4 and r[3].strip()]
    qs = [u["quote"] for u in gold if u["doc"] == sv]
    if answers != qs:
        errors.append(f"{sv}: units differ from the CSV answer fields")
# PDF extract: no quote may contain the running header or a page number line
for u in gold:
    if u["doc"] == "01_report_rudnik_wicker.txt" and ("RUDNIK WICKER STUDY" in u["quote"] or "- 1 -" in u["quote"]):
        errors.append("01: a quote contains the running header or page number")

for f in files:
    if f not in seen_docs:
        errors.append(f"{f}: no units")
if seen_docs != sorted(seen_docs):
    errors.append("documents are not in file-name order")

if errors:
    print("FAIL")
    for e in errors:
        print(" -", e)
    sys.exit(1)

# ---- counts
print(f"OK: {len(gold)} units in {len(files)} documents")
coded = sum(1 for u in gold if u["themes"])
print(f"{coded} units ({100*coded/len(gold):.0f}%) carry at least one theme, {len(gold)-coded} carry none")
k = collections.Counter(len(u["themes"]) for u in gold)
print("themes per unit:", ", ".join(f"{i}: {k[i]}" for i in sorted(k)))
tc = collections.Counter(t for u in gold for t in u["themes"])
print("\n| theme | units |\n|---|---|")
for t in sorted(ORDER, key=lambda t: -tc[t]):
    print(f"| {t} | {tc[t]} |")
print("\n| document | words | units | " + " | ".join(ORDER) + " | none |")
print("|---|---|---|" + "---|" * (len(ORDER) + 1))
for f in files:
    us = [u for u in gold if u["doc"] == f]
    c = collections.Counter(t for u in us for t in u["themes"])
    print(f"| {f} | {len(texts[f].split())} | {len(us)} | " + " | ".join(str(c[t]) for t in ORDER)
          + f" | {sum(1 for u in us if not u['themes'])} |")
low = [t for t in ORDER if tc[t] < 20]
if low:
    print("WARNING: fewer than 20 units for", low)
