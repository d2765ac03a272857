"""Checks gold.yaml against corpus/ and prints the counts."""
import os, sys, yaml, collections, subprocess
HERE = os.path.dirname(os.path.abspath(__file__))
C = os.path.join(HERE, 'corpus')
ORDER = ['finance', 'trust', 'design', 'government', 'leadership']
errors = []
def err(m): errors.append(m)

raw = open(os.path.join(HERE, 'gold.yaml'), encoding='utf-8', newline='').read()
if not raw.startswith('# heldout-blind5'):
    err('gold.yaml must start with the header comment')
gold = yaml.safe_load(raw)
if yaml.safe_load(yaml.safe_dump(gold, allow_unicode=True)) != gold:
    err('gold.yaml does not round-trip through safe_dump/safe_load')
if not isinstance(gold, list): sys.exit('gold.yaml is not a list')

docs = sorted(f for f in os.listdir(C) if not f.startswith('.'))
texts = {d: open(os.path.join(C, d), encoding='utf-8', newline='').read() for d in docs}
seen_docs = []
last = {}  # doc -> end offset of previous unit
for n, u in enumerate(gold):
    if set(u) != {'doc', 'quote', 'themes'}:
        err(f'unit {n}: keys {sorted(u)}'); continue
    d, q, th = u['doc'], u['quote'], u['themes']
    if d not in texts: err(f'unit {n}: unknown doc {d}'); continue
    if not seen_docs or seen_docs[-1] != d:
        if d in seen_docs: err(f'unit {n}: units of {d} are not contiguous')
        seen_docs.append(d)
    if not isinstance(q, str) or not q: err(f'unit {n}: empty quote'); continue
    if q != q.strip(): err(f'unit {n}: leading/trailing whitespace: {q!r}')
    k = texts[d].count(q)
    if k != 1: err(f'unit {n} ({d}): quote occurs {k} times: {q[:60]!r}'); continue
    i = texts[d].index(q)
    if i < last.get(d, 0): err(f'unit {n} ({d}): out of order or overlapping: {q[:60]!r}')
    last[d] = i + len(q)
    if not isinstance(th, list) or any(t not in ORDER for t in th):
        err(f'unit {n}: bad themes {th}')
    elif th != sorted(set(th), key=ORDER.index):
        err(f'unit {n}: themes not in canonical order or repeated: {th}')
if seen_docs != sorted(seen_docs): err('documents not in file-name order')
if set(seen_docs) != set(docs): err(f'docs without units: {set(docs) - set(seen_docs)}')


import re
TIMING = re.compile(r'^\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d$')
# SRT layout: numbered cues 1..n, a timing line, one or two text lines, blank line
srt = [d for d in docs if d.endswith('.srt')]
for d in srt:
    blocks = texts[d].rstrip('\n').split('\n\n')
    for k, b in enumerate(blocks, 1):
        ls = b.split('\n')
        if ls[0] != str(k) or not TIMING.match(ls[1]) or not 1 <= len(ls) - 2 <= 2:
            err(f'{d}: malformed cue {k}: {b!r}')
for n, u in enumerate(gold):
    d, q = u['doc'], u['quote']
    lines = q.split('\n')
    if d.endswith('.srt'):
        # a quote may run across cues, but must start and end in cue text
        if TIMING.match(lines[0]) or TIMING.match(lines[-1]) or lines[0].isdigit() or lines[-1].isdigit():
            err(f'unit {n}: SRT quote starts or ends with a cue number or timing line')
        if re.fullmatch(r'\[[^\]]*\]', q): err(f'unit {n}: stand-alone bracketed note coded')
    if d.startswith(('04_', '07_')):
        if re.search(r'(^|\n)(INTERVIEWER|MRS\. [A-Z]+|Facilitator|P\d \([^)]*\)):', q):
            err(f'unit {n}: transcript quote contains a speaker label')
        if q == '[crosstalk]': err(f'unit {n}: stand-alone [crosstalk] coded')
    if d.startswith('06_') and re.search(r'(^|\n)(From|To|Date|Subject):', q):
        err(f'unit {n}: e-mail header inside a quote')
    if re.match(r'(o|-|•|\*)\s', q): err(f'unit {n}: quote starts with a list marker')
    if '\f' in q or '\r' in q: err(f'unit {n}: form feed or CR in quote')

if errors:
    print('\n'.join(errors)); print(f'FAILED: {len(errors)} error(s)'); sys.exit(1)

# ---- counts
print(f'OK: {len(gold)} units in {len(docs)} documents')
tot = collections.Counter(t for u in gold for t in u['themes'])
coded = sum(1 for u in gold if u['themes'])
print(f'{coded} units ({100*coded/len(gold):.0f}%) carry at least one theme, {len(gold)-coded} carry none')
nth = collections.Counter(len(u['themes']) for u in gold if u['themes'])
print('themes per unit:', ', '.join(f'{k}: {nth[k]}' for k in sorted(nth)))
print('\n| theme | units |\n|---|---|')
for t in sorted(ORDER, key=lambda t: (-tot[t], ORDER.index(t))):
    print(f'| {t} | {tot[t]} |')
print('\n| document | words | units | ' + ' | '.join(ORDER) + ' | none |')
print('|---' * (len(ORDER) + 4) + '|')
for d in docs:
    us = [u for u in gold if u['doc'] == d]
    c = collections.Counter(t for u in us for t in u['themes'])
    words = len(texts[d].split())
    none = sum(1 for u in us if not u['themes'])
    print(f'| {d} | {words} | {len(us)} | ' + ' | '.join(str(c[t]) for t in ORDER) + f' | {none} |')
