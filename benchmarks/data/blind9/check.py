"""Check gold.yaml of heldout-blind9 against corpus/ and print counts."""
import os, re, sys, yaml
HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = ['finance', 'trust', 'design', 'government', 'leadership']
with open(os.path.join(HERE, 'gold.yaml'), newline='') as fh:
    raw = fh.read()
assert raw.startswith('# heldout-blind9 '), 'header comment missing'
units = yaml.safe_load(raw)
assert isinstance(units, list) and units
assert yaml.safe_load(yaml.safe_dump(units, allow_unicode=True, sort_keys=False)) == units, 'round-trip'
docs = sorted(f for f in os.listdir(os.path.join(HERE, 'corpus')))
texts = {}
for d in docs:
    with open(os.path.join(HERE, 'corpus', d), newline='') as fh:
        texts[d] = fh.read()
errors = []
seen_docs = []
last_end = {}
for i, u in enumerate(units):
    assert set(u) == {'doc', 'quote', 'themes'}, (i, u)
    d, q, th = u['doc'], u['quote'], u['themes']
    if d not in texts:
        errors.append(f'{i}: unknown doc {d}'); continue
    if not seen_docs or seen_docs[-1] != d:
        if d in seen_docs:
            errors.append(f'{i}: units of {d} not contiguous')
        seen_docs.append(d)
    if not isinstance(q, str) or not q or q != q.strip():
        errors.append(f'{i}: empty quote or leading/trailing whitespace: {q!r}'); continue
    n = texts[d].count(q)
    if n != 1:
        errors.append(f'{i}: quote occurs {n} times in {d}: {q[:60]!r}'); continue
    start = texts[d].index(q)
    if start < last_end.get(d, 0):
        errors.append(f'{i}: out of order or overlapping in {d}: {q[:60]!r}')
    last_end[d] = start + len(q)
    if not isinstance(th, list) or any(t not in ORDER for t in th) or th != sorted(set(th), key=ORDER.index):
        errors.append(f'{i}: bad themes {th}')
    if q.startswith(('- ', 'Q: ', 'A: ', '> ', '**', '#')) or q[:3].rstrip('.').isdigit():
        errors.append(f'{i}: quote starts with a marker: {q[:30]!r}')
    if re.search(r'\[\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d\]', q) or '<This message was edited>' in q or q.endswith('omitted') or q == 'This message was deleted.':
        errors.append(f'{i}: chat timestamp, edit note or placeholder in quote: {q[:40]!r}')
    if re.search(r'(^|\n)(Interviewer|Respondent): ', q):
        errors.append(f'{i}: speaker label in quote: {q[:40]!r}')
    if re.match(r'R\d\d: ', q):
        errors.append(f'{i}: survey respondent code in quote: {q[:40]!r}')
    if '\n' in q or '\r' in q:
        errors.append(f'{i}: line break in quote (every unit in this set is on one line): {q[:40]!r}')
    if re.search(r'(^|\n)(I|R|Moderator|Beto|Don Lucio|Marisol|Chepe|Tina): ', q) or re.search(r'\*\*[^*]+:\*\*', q):
        errors.append(f'{i}: speaker label (I:/R:, bold name or focus-group name) in quote: {q[:40]!r}')
    if re.match(r'(From|To|Date|Subject|Signed|Present|Chair|Minutes):', q):
        errors.append(f'{i}: header or metadata line in quote: {q[:40]!r}')
    if q.startswith('|'):
        eol = texts[d].find('\n', start)
        line = texts[d][texts[d].rfind('\n', 0, start) + 1:eol if eol >= 0 else None]
        if line != q or not q.endswith('|') or set(q) <= set('|- '):
            errors.append(f'{i}: table-row unit is not a whole data row: {q[:40]!r}')
    elif '|' in q:
        errors.append(f'{i}: pipe inside a non-table unit: {q[:40]!r}')
    if re.fullmatch(r'\[[^\]]*\]', q):
        errors.append(f'{i}: stand-alone bracketed note coded: {q!r}')
if seen_docs != docs:
    errors.append(f'documents with units {seen_docs} != corpus {docs}')
for d in docs:
    w = len(texts[d].split())
    if not 450 <= w <= 600:
        errors.append(f'{d}: {w} words')

if '--uncovered' in sys.argv:
    for d in docs:
        t, pos, spans = texts[d], 0, []
        for u in units:
            if u['doc'] == d:
                s = t.index(u['quote'], pos); spans.append((s, s + len(u['quote']))); pos = s + len(u['quote'])
        rest, prev = [], 0
        for s, e in spans:
            rest.append(t[prev:s]); prev = e
        rest.append(t[prev:])
        print(f'== {d}')
        for chunk in rest:
            for line in chunk.split('\n'):
                if line.strip():
                    print('   ', repr(line.strip()))
if errors:
    print('\n'.join(errors)); sys.exit(1)
print(f'OK: {len(units)} units in {len(docs)} documents')
themed = sum(1 for u in units if u['themes'])
print(f'{themed} units carry at least one theme, {len(units) - themed} carry none')
from collections import Counter
print('themes per unit:', dict(sorted(Counter(len(u['themes']) for u in units if u['themes']).items())))
print('| theme | units |\n|---|---|')
for t in ORDER:
    print(f'| {t} | {sum(t in u["themes"] for u in units)} |')
print('| document | words | units | ' + ' | '.join(ORDER) + ' | none |')
print('|---' * 9 + '|')
for d in docs:
    us = [u for u in units if u['doc'] == d]
    row = [d, len(texts[d].split()), len(us)] + [sum(t in u['themes'] for u in us) for t in ORDER] + [sum(not u['themes'] for u in us)]
    print('| ' + ' | '.join(map(str, row)) + ' |')
