#!/usr/bin/env python
"Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which these machines lack); `--check` fails if they differ."
# Markdown cells are copied; visible code cells become ```python blocks followed by their text outputs;
# `#| hide` cells are dropped and `#|` directives stripped; links to chapter notebooks gain the `nbs/` prefix.
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
HEADER = '<!-- WARNING: generated from nbs/index.ipynb by tools/readme.py; edit the notebook, then run `python tools/readme.py` -->'

def _text_outputs(outputs):
    res = []
    for o in outputs:
        if o['output_type'] == 'stream': res.append(''.join(o['text']))
        elif o['output_type'] in ('execute_result', 'display_data') and 'text/plain' in o.get('data', {}):
            if 'image/png' in o['data']: continue
            res.append(''.join(o['data']['text/plain']))
    return ''.join(res).rstrip('\n')

def render(nb_path=root/'nbs'/'index.ipynb'):
    "The README text for the notebook at `nb_path`."
    parts = [HEADER]
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            parts.append(re.sub(r'\]\((\d\d_[\w-]+\.ipynb)', r'](nbs/\1', src))
            continue
        lines = src.split('\n')
        directives = [l for l in lines if l.startswith('#|')]
        if any(re.match(r'#\|\s*(hide|exporti?|eval:\s*false)\b', d) for d in directives): continue
        code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
        if code: parts.append(f'```python\n{code}\n```')
        out = _text_outputs(c.get('outputs', []))
        if out: parts.append(f'```\n{out}\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), root/'README.md'
    if '--check' in sys.argv:
        if readme.read_text() != text:
            sys.exit('README.md is out of step with nbs/index.ipynb: run `python tools/readme.py`')
        print('README.md is in step with nbs/index.ipynb')
    else: readme.write_text(text)
