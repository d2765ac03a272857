"""Write corpus/ and gold.yaml from annotated sources in src/.
Each unit is typed by hand as {{unit text|codes}} with codes from f,t,d,g,l or '-'."""
import os, re, yaml
HERE = os.path.dirname(os.path.abspath(__file__))
MAP = {'f': 'finance', 't': 'trust', 'd': 'design', 'g': 'government', 'l': 'leadership'}
ORDER = ['finance', 'trust', 'design', 'government', 'leadership']
PAT = re.compile(r'\{\{(.*?)\|([ftdgl -]+)\}\}', re.S)
units = []
for name in sorted(os.listdir(os.path.join(HERE, 'src'))):
    with open(os.path.join(HERE, 'src', name), newline='') as fh:
        src = fh.read()
    text = PAT.sub(lambda m: m.group(1), src)
    assert '{{' not in text and '}}' not in text, name
    with open(os.path.join(HERE, 'corpus', name), 'w', newline='') as fh:
        fh.write(text)
    for m in PAT.finditer(src):
        codes = set(MAP[c] for c in m.group(2) if c not in "- ")
        if '-' in m.group(2):
            assert not codes, (name, m.group(1))
        units.append({'doc': name, 'quote': m.group(1),
                      'themes': [t for t in ORDER if t in codes]})
with open(os.path.join(HERE, 'gold.yaml'), 'w', newline='') as fh:
    fh.write('# heldout-blind9 gold coding; do not tune on this set\n')
    fh.write(yaml.safe_dump(units, allow_unicode=True, sort_keys=False, width=1000))
print(len(units), 'units')
