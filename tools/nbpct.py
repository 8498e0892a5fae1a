#!/usr/bin/env python
"Convert between nbs/*.ipynb and percent-format text (`# %%` cells), keeping stable cell ids."
# Usage:  python tools/nbpct.py to-nb  SRC.pct.py  nbs/NAME.ipynb
#         python tools/nbpct.py to-pct nbs/NAME.ipynb SRC.pct.py
# Percent format: a line `# %%` starts a code cell, `# %% [markdown]` a markdown cell whose lines
# are written as `# text` (a bare `#` for an empty line). Cell ids are a hash of the notebook name
# and the cell's text, so they stay the same across `nbdev_export`/`nbdev_clean` runs and only
# change for the cells you edit. Outputs of unchanged cells are kept when converting back to a notebook.
import hashlib, json, sys
from pathlib import Path

def _cells_from_pct(text):
    cells, kind, buf = [], None, []
    def flush():
        if kind is None: return
        while buf and not buf[-1].strip(): buf.pop()
        while buf and not buf[0].strip(): buf.pop(0)
        if kind == 'markdown': src = '\n'.join(l[2:] if l.startswith('# ') else l.lstrip('#') for l in buf)
        else: src = '\n'.join(buf)
        cells.append((kind, src))
    for line in text.splitlines():
        if line.startswith('# %%'):
            flush(); buf = []
            kind = 'markdown' if '[markdown]' in line else 'code'
        elif kind is not None: buf.append(line)
    flush()
    return cells

def _id(stem, src, seen):
    h = hashlib.sha1(f'{stem}\n{src}'.encode()).hexdigest()[:8]
    while h in seen: h = hashlib.sha1(h.encode()).hexdigest()[:8]
    seen.add(h)
    return h

def _lines(src): return [l+'\n' for l in src.split('\n')[:-1]] + [src.split('\n')[-1]] if src else []

def to_nb(src, dest):
    dest = Path(dest)
    old = {}
    if dest.exists():
        for c in json.loads(dest.read_text())['cells']:
            if c['cell_type'] == 'code': old[''.join(c['source'])] = c.get('outputs', [])
    seen, cells = set(), []
    for kind, s in _cells_from_pct(Path(src).read_text()):
        c = {'cell_type': kind, 'id': _id(dest.stem, s, seen), 'metadata': {}, 'source': _lines(s)}
        if kind == 'code': c.update(execution_count=None, outputs=old.get(s, []))
        cells.append(c)
    nb = {'cells': cells,
          'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
          'nbformat': 4, 'nbformat_minor': 5}
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def to_pct(src, dest):
    out = []
    for c in json.loads(Path(src).read_text())['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            out.append('# %% [markdown]\n' + '\n'.join(('# ' + l) if l else '#' for l in s.split('\n')))
        else: out.append('# %%\n' + s)
    Path(dest).write_text('\n\n'.join(out) + '\n')

if __name__ == '__main__':
    cmd, a, b = sys.argv[1:4]
    {'to-nb': to_nb, 'to-pct': to_pct}[cmd](a, b)
