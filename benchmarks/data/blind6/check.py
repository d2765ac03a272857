"""Check gold.yaml against corpus/ and print counts (Python + PyYAML)."""
import os, re, sys, subprocess, yaml
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
THEMES = ["finance", "trust", "design", "government", "leadership"]
errors = []

with open(os.path.join(HERE, "gold.yaml"), encoding="utf-8", newline="") as fh:
    raw = fh.read()
if not raw.startswith("# "):
    errors.append("gold.yaml: first line is not the header comment")
gold = yaml.safe_load(raw)
if yaml.safe_load(yaml.safe_dump(gold, allow_unicode=True)) != gold:
    errors.append("gold.yaml does not round-trip through safe_dump/safe_load")

docs = sorted(os.listdir(CORPUS))
texts = {}
for d in docs:
    with open(os.path.join(CORPUS, d), encoding="utf-8", newline="") as fh:
        texts[d] = fh.read()

seen_docs = []
last_end = {}
for i, u in enumerate(gold):
    if set(u) != {"doc", "quote", "themes"}:
        errors.append(f"unit {i}: keys {sorted(u)}")
        continue
    d, q, th = u["doc"], u["quote"], u["themes"]
    if d not in texts:
        errors.append(f"unit {i}: unknown doc {d}"); continue
    if not seen_docs or seen_docs[-1] != d:
        if d in seen_docs:
            errors.append(f"unit {i}: units of {d} are not contiguous")
        seen_docs.append(d)
    if not isinstance(q, str) or not q:
        errors.append(f"unit {i}: empty quote"); continue
    if q != q.strip():
        errors.append(f"unit {i}: leading/trailing whitespace: {q!r}")
    n = texts[d].count(q)
    if n != 1:
        errors.append(f"unit {i}: quote occurs {n} times in {d}: {q!r}")
        continue
    start = texts[d].find(q)
    if start < last_end.get(d, 0):
        errors.append(f"unit {i}: out of order or overlapping in {d}: {q!r}")
    last_end[d] = start + len(q)
    if not isinstance(th, list) or any(t not in THEMES for t in th):
        errors.append(f"unit {i}: bad themes {th}")
    elif th != sorted(set(th), key=THEMES.index):
        errors.append(f"unit {i}: themes not in canonical order or repeated: {th}")
    # layout rules
    if re.match(r"^(> |- |\d+\. |[a-f]\) |Q\d*[:.] |\*\*)", q):
        errors.append(f"unit {i}: quote starts with a marker: {q!r}")
    if re.fullmatch(r"\[[^\]]*\]|<[^>]*>", q):
        errors.append(f"unit {i}: stand-alone bracketed note or placeholder: {q!r}")
    if re.search(r"^(PRESENTER|CALLER \([^)]*\)):", q, re.M) or re.search(r"^\[\d\d\.\d\d\.\d\d \d\d:\d\d\]", q, re.M):
        errors.append(f"unit {i}: quote contains a speaker label or timestamp: {q!r}")
    if "\n> " in "\n" + q:
        errors.append(f"unit {i}: quote contains a quoted reply line: {q!r}")
for d in docs:
    w = len(texts[d].split())
    if not 400 <= w <= 600:
        errors.append(f"{d}: {w} words, outside 400-600")
if seen_docs != docs:
    errors.append(f"documents with units {seen_docs} != corpus files {docs}")

if errors:
    print("\n".join(errors)); print(f"FAILED: {len(errors)} problems"); sys.exit(1)

# counts
print(f"{len(gold)} units in {len(docs)} documents")
coded = sum(1 for u in gold if u["themes"])
print(f"{coded} units ({round(100*coded/len(gold))}%) carry at least one theme, {len(gold)-coded} carry none")
per = Counter(len(u["themes"]) for u in gold if u["themes"])
print("themes per unit: " + ", ".join(f"{k}: {per[k]}" for k in sorted(per)))
tc = Counter(t for u in gold for t in u["themes"])
print("\n| theme | units |\n|---|---|")
for t in sorted(THEMES, key=lambda t: -tc[t]):
    print(f"| {t} | {tc[t]} |")
print("\n| document | words | units | " + " | ".join(THEMES) + " | none |")
print("|---|" + "---|" * (len(THEMES) + 3))
for d in docs:
    us = [u for u in gold if u["doc"] == d]
    words = len(texts[d].split())
    row = [str(sum(1 for u in us if t in u["themes"])) for t in THEMES]
    none = sum(1 for u in us if not u["themes"])
    print(f"| {d} | {words} | {len(us)} | " + " | ".join(row) + f" | {none} |")
if "--uncovered" in sys.argv:
    print("\nText not covered by any unit (should be only headings, metadata, labels, markers, placeholders):")
    for d in docs:
        t = texts[d]; cov = [False] * len(t)
        for u in gold:
            if u["doc"] == d:
                s0 = t.find(u["quote"])
                cov[s0:s0 + len(u["quote"])] = [True] * len(u["quote"])
        pieces, cur = [], ""
        for c, k in zip(t, cov):
            if not k: cur += c
            else:
                if cur.strip(): pieces.append(cur.strip())
                cur = ""
        if cur.strip(): pieces.append(cur.strip())
        print("==", d)
        for p in pieces: print("   ", repr(p))
print("\nOK: all checks passed")
