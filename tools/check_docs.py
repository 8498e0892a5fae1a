#!/usr/bin/env python
"""Check that the docs site builds, without Quarto: nbdev's docs processing, the processed notebooks,
the sidebar and cross-links, every chapter page rendered to HTML and opened in headless Chromium, and the pinned
Quarto release of the deploy workflow.

Usage: python tools/check_docs.py [--screenshots DIR] [--keep] [--timeout SECONDS]

Runs on a copy of the tree in a temporary directory, so the working tree is left alone (`nbdev_proc_nbs`
rewrites nbs/nbdev.yml and charlm_nb/_modidx.py, and without Quarto it would try to install it and re-run
`pip install -e` on the tree it runs in). Exits non-zero on any failure.
Needs the dev install (`pip install -e ".[dev]"`) and Chromium (`apt-get install -y chromium`).
"""
import argparse, ast, json, os, re, shutil, signal, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT/'nbs'
COPY_IGNORE = shutil.ignore_patterns('.git', '.venv', '.ci-venv', '_proc', '_docs', '_site', '.quarto',
                                     '__pycache__', '*.egg-info', '.ipynb_checkpoints', '*.pt')
# nbdev removes cells carrying these directives from the docs (processors `rm_export` and `hide_`)
HIDDEN_DIRS = {'hide', 'export', 'exporti', 'default_exp'}
# a Quarto cell option, `#| key: value`: nbdev leaves these for Quarto (e.g. the `echo: false` it adds to show_doc cells)
RE_QUARTO_OPT = re.compile(r'^#\|\s*[\w-]+\s*:')
RE_LINK = re.compile(r'\]\(\s*<?(?:\./)?([\w.-]+\.(?:ipynb|html))(#[^)\s>]*)?>?\s*\)|^\s*\[[^\]]+\]:\s*(?:\./)?([\w.-]+\.(?:ipynb|html))',
                     re.MULTILINE)

failures, warnings = [], []
def fail(part, msg): failures.append((part, msg)); print(f'  FAIL {msg}')
def warn(part, msg): warnings.append((part, msg)); print(f'  warning: {msg}')
def ok(msg): print(f'  ok   {msg}')

def run(cmd, timeout, **kw):
    "Run `cmd`, killing its whole process group after `timeout` seconds; returns (returncode or None on timeout, output)."
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors='replace',
                         start_new_session=True, **kw)
    try: out, _ = p.communicate(timeout=timeout); return p.returncode, out
    except subprocess.TimeoutExpired:
        try: os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError: pass
        out, _ = p.communicate()
        return None, out

def chapters(nbs=NBS):
    "Chapter notebooks in course order: index first, then the rest sorted by file name."
    names = sorted(p.name for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(names, key=lambda n: (n != 'index.ipynb', n))

def code_body(src):
    "A code cell's source without `#|` lines, for comparing source and processed cells."
    return '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')).strip()

def src_cells(path):
    "The cells of a source notebook with nbdev's parsed directives (`directives_`)."
    from nbdev.process import NBProcessor
    return NBProcessor(path, procs=[]).nb.cells

def tool(name):
    "An executable of the running venv (or from PATH)."
    p = Path(sys.executable).parent/name
    return str(p) if p.exists() else (shutil.which(name) or name)

# ---------------------------------------------------------------- 1. nbdev_proc_nbs
PROC_ONE = '''import sys
from pathlib import Path
import nbdev.serve_drv
from nbdev.processors import FilterDefaults
nbdev.serve_drv.main((Path(sys.argv[1]), Path(sys.argv[2]), FilterDefaults))
'''

def check_proc(work, chaps, timeout):
    part = '1. nbdev_proc_nbs'
    print(f'\n== {part} (on a copy of the tree in {work})')
    env = dict(os.environ)
    env.pop('IN_TEST', None)
    if not shutil.which('quarto'):
        # Without Quarto, nbdev_proc_nbs tries to install it (sudo, GitHub) and then runs `pip install -e` on the tree it
        # is in, which would re-point this venv's install at the temporary copy. A stub `quarto` on PATH skips that;
        # processing the notebooks does not use Quarto.
        stub = work.parent/'stub-bin'; stub.mkdir(exist_ok=True)
        (stub/'quarto').write_text('#!/bin/sh\necho "quarto stub (check_docs.py): Quarto is not installed" >&2\nexit 1\n')
        (stub/'quarto').chmod(0o755)
        env['PATH'] = f'{stub}{os.pathsep}{env["PATH"]}'
    t0 = time.time()
    rc, out = run([tool('nbdev_proc_nbs')], timeout, cwd=work, env=env)
    print(f'  nbdev_proc_nbs: exit {rc if rc is not None else "TIMEOUT"} in {time.time()-t0:.0f}s')
    failed = {}
    if rc != 0 or 'Error in notebook' in out or 'Traceback' in out:
        fail(part, f'nbdev_proc_nbs failed (exit {rc if rc is not None else "timeout"})')
    proc = work/'_proc'
    missing = [n for n in chaps if not (proc/n).exists()]
    if missing and (rc != 0):
        # nbdev_proc_nbs stops at the first failing notebook: process each missing one alone to name every failure
        print(f'  processing the {len(missing)} notebook(s) it did not write, one at a time: {", ".join(missing)}')
        def one(n):
            return n, *run([sys.executable, '-c', PROC_ONE, f'nbs/{n}', f'_proc/{n}'], timeout, cwd=work, env=env)
        with ThreadPoolExecutor(2) as ex:
            for n, rc1, out1 in ex.map(one, missing):
                if rc1 == 0: continue
                m = list(re.finditer(r'Error in notebook: .*? in cell (\d+) :\n(.*)', out1, re.S))[-1:]
                m = m[0] if m else None
                cause = [l for l in out1.splitlines() if re.match(r'^\w+(Error|Exception|Interrupt): ', l)
                         and 'Error in notebook' not in l]
                failed[n] = (m.group(1), m.group(2)) if m else ('?', out1.strip()[-1500:] if rc1 is not None else 'TIMEOUT')
                if cause: failed[n] = (*failed[n], cause[0])
    if rc != 0 and not failed:   # no single notebook to blame: show how nbdev_proc_nbs ended
        print('    ' + '\n    '.join(out.strip().splitlines()[-20:]))
    for n, (cell, src, *cause) in sorted(failed.items()):
        fail(part, f'{n}: error in processed cell {cell}' + (f' ({cause[0]})' if cause else '') + ':\n      '
             + src.strip().replace('\n', '\n      '))
    missing = [n for n in chaps if not (proc/n).exists()]
    if missing: fail(part, f'_proc/ lacks {len(missing)} chapter notebook(s): {", ".join(missing)}')
    else: ok(f'_proc/ holds all {len(chaps)} chapter notebooks')
    for n in chaps:   # cells nbdev runs because of an import, that also run other code (the rule: imports in their own cells)
        cells = src_cells(work/'nbs'/n)
        if not any(c.cell_type == 'code' and (c.directives_.keys() & {'export', 'exports', 'exec_doc'}
                   or re.search(r'^show_doc', c.source, re.M)) for c in cells): continue   # nbdev runs nothing here
        for c in cells:
            if c.cell_type != 'code' or c.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: continue
            if c.directives_.get('eval:', [''])[0].lower() == 'false': continue
            try: tree = ast.parse(code_body(c.source))
            except SyntaxError: continue
            if any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in tree.body) and \
               any(not isinstance(s, (ast.Import, ast.ImportFrom)) for s in tree.body):
                warn(part, f'{n}: a cell mixes imports with other code (it runs during docs processing): '
                     f'{code_body(c.source).splitlines()[0][:90]}')
    return [n for n in chaps if (proc/n).exists()]

# ---------------------------------------------------------------- 2. processed notebooks
def check_processed(work, done):
    part = '2. processed notebooks'
    print(f'\n== {part}')
    for n in done:
        pnb = json.loads((work/'_proc'/n).read_text())
        pcells = [c for c in pnb['cells'] if c['cell_type'] == 'code']
        bad = 0
        # nbdev directives left in code (Quarto options `#| key: value` at the top of a cell are for Quarto and stay)
        for c in pcells:
            lines = ''.join(c['source']).splitlines()
            top = True
            for l in lines:
                s = l.strip()
                if top and s.startswith('#|') and RE_QUARTO_OPT.match(s): continue
                top = False
                if s.startswith('#|') or re.search(r'#\|\s*hide_line\s*$', l):
                    fail(part, f'{n}: directive line left in a code cell: {s[:80]!r}'); bad += 1
        # error outputs
        for c in pcells:
            for o in c.get('outputs', []):
                if o.get('output_type') == 'error':
                    fail(part, f'{n}: error output {o.get("ename")}: {o.get("evalue", "")[:100]} in cell '
                         f'{code_body("".join(c["source"])).splitlines()[:1]}'); bad += 1
                elif o.get('output_type') == 'stream' and o.get('name') == 'stderr' and 'Traceback' in ''.join(o['text']):
                    fail(part, f'{n}: a traceback on stderr in cell {code_body("".join(c["source"])).splitlines()[:1]}'); bad += 1
        # cells nbdev hides (hide, export, exporti, default_exp) must be gone
        bodies = {code_body(''.join(c['source'])) for c in pcells}
        scells = src_cells(work/'nbs'/n)
        for c in scells:
            if c.cell_type == 'code' and c.directives_.keys() & HIDDEN_DIRS and code_body(c.source) \
               and code_body(c.source) in bodies:
                fail(part, f'{n}: a #| {"/".join(sorted(c.directives_.keys() & HIDDEN_DIRS))} cell is visible: '
                     f'{code_body(c.source).splitlines()[0][:80]!r}'); bad += 1
        # show_doc: every show_doc the chapter calls is there with its output; every show_doc cell has output
        called = []
        for c in scells:
            if c.cell_type != 'code' or c.directives_.keys() & HIDDEN_DIRS: continue
            called += re.findall(r'^show_doc\((.+?)\)\s*$', code_body(c.source), re.M)
        shown = {}
        for c in pcells:
            for nm in re.findall(r'^show_doc\((.+?)\)\s*$', code_body(''.join(c['source'])), re.M):
                has = any(o.get('output_type') in ('execute_result', 'display_data') and
                          ''.join(o.get('data', {}).get('text/markdown', '')).strip() for o in c.get('outputs', []))
                shown.setdefault(nm, []).append(has)
        for nm in called:
            if not any(shown.get(nm, [])): fail(part, f'{n}: show_doc({nm}) has no documentation output'); bad += 1
        for nm, hs in shown.items():
            if not all(hs): fail(part, f'{n}: a show_doc({nm}) cell has no output'); bad += 1
            if len(hs) > 1: warn(part, f'{n}: show_doc({nm}) appears {len(hs)} times on the page '
                                 '(nbdev 2.4 adds one after the export cell of a @patch method even when the chapter shows it)')
        if not bad: ok(f'{n}: no directives, no errors, no hidden cells, {len(called)} show_doc call(s) rendered '
                       f'({sum(len(v) for v in shown.values())} show_doc cells in all)')

# ---------------------------------------------------------------- 3. sidebar and cross-links
def sidebar_entries(node):
    if isinstance(node, str): return [node]
    if isinstance(node, list): return [e for x in node for e in sidebar_entries(x)]
    if isinstance(node, dict):
        res = [node[k] for k in ('href', 'file') if isinstance(node.get(k), str)]
        return res + sidebar_entries(node.get('contents', []))
    return []

def check_sidebar_links(work, chaps, done):
    part = '3. sidebar and links'
    print(f'\n== {part}')
    import yaml
    sb = yaml.safe_load((work/'nbs'/'sidebar.yml').read_text())
    entries = sidebar_entries(((sb or {}).get('website') or {}).get('sidebar', {}).get('contents', []))
    entries = [e.removeprefix('./') for e in entries]
    if entries == chaps: ok(f'nbs/sidebar.yml lists the {len(chaps)} chapters in course order')
    else:
        missing = [n for n in chaps if n not in entries]; extra = [e for e in entries if e not in chaps]
        dup = sorted({e for e in entries if entries.count(e) > 1})
        msg = 'nbs/sidebar.yml does not list the chapters in course order (index first, then by file name)'
        if missing: msg += f'; missing: {", ".join(missing)}'
        if extra: msg += f'; not a chapter notebook: {", ".join(extra)}'
        if dup: msg += f'; listed twice: {", ".join(dup)}'
        if not (missing or extra or dup): msg += f'; it has {", ".join(entries)}; want {", ".join(chaps)}'
        fail(part, msg)
    # page names on the site: nbdev gives each page an output-file (the notebook name without its number prefix)
    pages = {}
    for n in done:
        fm = json.loads((work/'_proc'/n).read_text())['cells'][0]
        m = re.search(r'^output-file:\s*(\S+)', ''.join(fm['source']), re.M) if fm['cell_type'] == 'raw' else None
        pages[n] = m.group(1) if m else Path(n).with_suffix('.html').name
    html_pages = set(pages.values())
    n_links, bad = 0, 0
    for n in chaps:
        for i, c in enumerate(json.loads((work/'nbs'/n).read_text())['cells']):
            if c['cell_type'] != 'markdown': continue
            for m in RE_LINK.finditer(''.join(c['source'])):
                target = m.group(1) or m.group(3); n_links += 1
                if target.endswith('.ipynb'):
                    if not (work/'nbs'/target).exists(): fail(part, f'{n} (cell {i}): link to {target}, which does not exist'); bad += 1
                elif target not in html_pages:
                    nb = Path(target).with_suffix('.ipynb').name
                    hint = (f'; the page of {nb} is {pages[nb]}: link to {nb} and Quarto writes the right name'
                            if nb in pages else '')
                    fail(part, f'{n} (cell {i}): link to {target}, which is no page of the site{hint}'); bad += 1
    if not bad: ok(f'{n_links} links between chapters all point to existing notebooks/pages')

# ---------------------------------------------------------------- 4. HTML in headless Chromium
PROBE = '''<script>
window.__check = {errors: [], failed_resources: []};
window.addEventListener('error', function (e) {
  if (e.target && e.target !== window && (e.target.src || e.target.href))
    window.__check.failed_resources.push(e.target.src || e.target.href);
  else window.__check.errors.push(String(e.message) + ' at ' + (e.filename || '?') + ':' + (e.lineno || '?'));
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__check.errors.push('unhandled rejection: ' + String(e.reason)); });
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img[src^="data:image/png"]'));
  var c = window.__check;
  c.loaded = true; c.png = imgs.length;
  c.png_drawn = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  c.h1 = Array.prototype.map.call(document.querySelectorAll('h1'), function (h) { return h.textContent.replace('\\u00b6', '').trim(); });
  c.text_chars = document.body.innerText.length;
  var d = document.createElement('pre'); d.id = 'check-docs-probe'; d.style.display = 'none';
  d.textContent = JSON.stringify(c); document.body.appendChild(d);
});
</script>
'''

def render_copy(pnb):
    "The processed notebook as Quarto would show it: title block from the front matter, Quarto cell options applied."
    import yaml
    nb = json.loads(json.dumps(pnb)); cells = []
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.startswith('---'):
            fm = yaml.safe_load(src.strip().strip('-')) or {}
            head = f"# {fm.get('title', '')}" + (f"\n\n> {fm['description']}" if fm.get('description') else '')
            cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': head, 'id': 'check-docs-title'})
            continue
        if c['cell_type'] == 'code':
            lines = src.splitlines(); opts = {}
            while lines and RE_QUARTO_OPT.match(lines[0].strip()):
                k, _, v = lines.pop(0).strip()[2:].partition(':'); opts[k.strip()] = v.strip().strip('"\'')
            if opts.get('include') == 'false': continue
            c['source'] = '\n'.join(lines)
            tags = c.setdefault('metadata', {}).setdefault('tags', [])
            if opts.get('echo') == 'false': tags.append('remove_input')
            if opts.get('output') == 'false': c['outputs'] = []
        cells.append(c)
    nb['cells'] = cells
    return nb

def n_png(nb): return sum('image/png' in o.get('data', {}) for c in nb['cells'] for o in c.get('outputs', []))

def check_browser(work, done, shots, timeout, convert_timeout):
    part = '4. pages in headless Chromium'
    print(f'\n== {part}')
    chromium = next((shutil.which(b) for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)
    html_dir = work/'_html'; html_dir.mkdir(exist_ok=True)
    rdir = work/'_render'; rdir.mkdir(exist_ok=True)
    want_png = {}
    for n in done:
        nb = render_copy(json.loads((work/'_proc'/n).read_text()))
        want_png[n] = n_png(nb)
        (rdir/n).write_text(json.dumps(nb))
    t0 = time.time()
    rc, out = run([sys.executable, '-m', 'nbconvert', '--to', 'html', '--output-dir', str(html_dir),
                   '--TagRemovePreprocessor.enabled=True', '--TagRemovePreprocessor.remove_input_tags=remove_input',
                   *[str(rdir/n) for n in done]], convert_timeout)
    print(f'  nbconvert --to html: {len(done)} pages, exit {rc if rc is not None else "TIMEOUT"} in {time.time()-t0:.0f}s')
    if rc != 0: fail(part, 'jupyter nbconvert --to html failed:\n    ' + '\n    '.join(out.strip().splitlines()[-10:]))
    if not chromium:
        fail(part, 'Chromium not found: install it (apt-get install -y chromium) to open the pages')
        return
    shots.mkdir(parents=True, exist_ok=True)
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost',  # offline: fail fast
             '--enable-logging=stderr', '--v=0', '--virtual-time-budget=5000']
    def browse(n):
        html = html_dir/Path(n).with_suffix('.html').name
        if not html.exists(): return n, None, 'no HTML written', None
        text = html.read_text()
        png_html = len(re.findall(r'<img[^>]+src="data:image/png', text))
        probed = html.with_name(html.stem + '.probe.html')
        probed.write_text(text.replace('<head>', '<head>\n' + PROBE, 1))
        res = {}
        for mode in ('dom', 'shot'):
            prof = Path(tempfile.mkdtemp(prefix='chromium-', dir=work))
            extra = ['--dump-dom'] if mode == 'dom' else [f'--screenshot={shots/Path(n).with_suffix(".png").name}',
                                                          '--window-size=1280,4000', '--hide-scrollbars']
            res[mode] = run([chromium, *flags, f'--user-data-dir={prof}', *extra, probed.as_uri()], timeout)
        return n, png_html, res, text
    with ThreadPoolExecutor(2) as ex: results = list(ex.map(browse, done))
    for n, png_html, res, text in results:
        if png_html is None: fail(part, f'{n}: {res}'); continue
        rc_dom, dom = res['dom']; rc_shot, shot_log = res['shot']
        m = re.search(r'<pre id="check-docs-probe"[^>]*>(.*?)</pre>', dom or '', re.S)
        import html as _html
        probe = json.loads(_html.unescape(m.group(1))) if m else None
        console = [l for l in (dom + shot_log).splitlines() if 'CONSOLE' in l and ('Uncaught' in l or 'Error' in l)
                   and 'Failed to load resource' not in l]
        bad = 0
        if rc_dom is None or rc_shot is None: fail(part, f'{n}: Chromium timed out'); bad += 1
        if probe is None or not probe.get('loaded'):
            fail(part, f'{n}: the page did not finish loading in Chromium (exit {rc_dom}); last lines:\n    '
                 + '\n    '.join((dom or '').strip().splitlines()[-5:])); bad += 1
        else:
            for e in probe['errors']: fail(part, f'{n}: JavaScript error: {e}'); bad += 1
            if not probe['h1'] or not probe['text_chars']: fail(part, f'{n}: the page has no title or no text'); bad += 1
            if probe['png_drawn'] != probe['png']:
                fail(part, f'{n}: {probe["png"] - probe["png_drawn"]} of {probe["png"]} plots did not draw'); bad += 1
        for l in console:
            if not (probe and any(e.split(' at ')[0] in l for e in probe['errors'])):
                fail(part, f'{n}: console error: {l.strip()[:200]}'); bad += 1
        if png_html != want_png[n]:
            fail(part, f'{n}: {png_html} PNG images in the HTML, {want_png[n]} image/png outputs in the notebook'); bad += 1
        shot = shots/Path(n).with_suffix('.png').name
        if not shot.exists() or shot.stat().st_size < 5000: fail(part, f'{n}: no screenshot written'); bad += 1
        if not bad:
            ok(f'{n}: loads without JavaScript errors, title {probe["h1"][0]!r}, {png_html} plot(s) drawn'
               + (f' ({len(probe["failed_resources"])} external script(s)/style(s) unreachable offline)' if probe['failed_resources'] else ''))
    print(f'  screenshots: {shots}')

def check_deploy(work):
    "The deploy workflow sets up a pinned Quarto release (the README says so), not whatever is newest that day."
    part = '5. deploy workflow'
    print(f'\n== {part}')
    wf = (work/'.github'/'workflows'/'deploy.yaml').read_text()
    # the setup step: its `uses:` line and the more indented lines under it (its `with:` block), comments dropped
    m = re.search(r'^(\s*)-?\s*uses:\s*quarto-dev/quarto-actions/setup@\S*[^\n]*\n((?:\1\s+[^\n]*\n|\s*\n)*)', wf, re.MULTILINE)
    v = m and re.search(r'^\s*version:\s*[\'"]?([^\'"\s#]+)', re.sub(r'#[^\n]*', '', m[2]), re.MULTILINE)
    if m is None: fail(part, 'deploy.yaml has no quarto-dev/quarto-actions/setup step')
    elif v is None: fail(part, 'deploy.yaml: the quarto-actions/setup step has no `with: version:` (it would install the newest Quarto)')
    elif not re.fullmatch(r'\d+\.\d+\.\d+', v[1]): fail(part, f'deploy.yaml: Quarto version {v[1]!r} is not a release number like 1.6.40')
    else: ok(f'deploy.yaml sets up Quarto {v[1]}')

QUARTO_ADDS = '''A real Quarto build (nbdev_docs / nbdev_preview, and the deploy workflow) would still add what this check cannot show:
  - the site itself: the cosmo theme and nbs/styles.css, the navbar, the sidebar built from nbs/sidebar.yml, each page's
    table of contents, the search index, the title block from each notebook's front matter (here only imitated);
  - Quarto's reading of the cell options nbdev leaves (echo, output: asis, code-fold for exports cells; here imitated),
    and its rewriting of `.ipynb` links to each page's output file (e.g. 01_tokenizer.ipynb -> tokenizer.html);
  - Quarto's own warnings (unresolved links and cross-references, YAML errors) and the files written to _docs/,
    which .github/workflows/deploy.yaml publishes to the gh-pages branch.'''

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--screenshots', help='directory for the page screenshots (default: a new temporary directory)')
    ap.add_argument('--keep', action='store_true', help='keep the temporary copy of the tree (_proc/, HTML) and print where')
    ap.add_argument('--timeout', type=int, default=900, help='seconds allowed for nbdev_proc_nbs and for nbconvert (each Chromium run: 1/10 of it, at least 60)')
    a = ap.parse_args()
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix='check_docs-'))
    shots = Path(a.screenshots).resolve() if a.screenshots else Path(tempfile.mkdtemp(prefix='check_docs-screenshots-'))
    try:
        work = tmp/'tree'
        shutil.copytree(ROOT, work, ignore=COPY_IGNORE, symlinks=True)
        check_deploy(work)  # first: it needs nothing the other checks build
        chaps = chapters(work/'nbs')
        print(f'Checking the docs of {len(chaps)} chapter notebooks: {", ".join(chaps)}')
        done = check_proc(work, chaps, a.timeout)
        check_processed(work, done)
        check_sidebar_links(work, chaps, done)
        check_browser(work, done, shots, max(60, a.timeout // 10), a.timeout)
    except Exception as e:
        import traceback; traceback.print_exc()
        fail('check_docs.py', f'the check itself crashed: {e!r}')
    finally:
        if a.keep: print(f'\nkept the processed tree in {tmp}/tree (_proc/, _html/)')
        else: shutil.rmtree(tmp, ignore_errors=True)
    print(f'\n== summary ({time.time()-t0:.0f}s)')
    parts = ['1. nbdev_proc_nbs', '2. processed notebooks', '3. sidebar and links', '4. pages in headless Chromium', '5. deploy workflow']
    for p in parts + sorted({p for p, _ in failures} - set(parts)):
        nf, nw = sum(q == p for q, _ in failures), sum(q == p for q, _ in warnings)
        print(f'  {"FAIL" if nf else "ok  "} {p}' + (f': {nf} failure(s)' if nf else '') + (f', {nw} warning(s)' if nw else ''))
    print(f'  screenshots of the pages: {shots}')
    print('\n' + QUARTO_ADDS)
    if failures:
        print(f'\ncheck_docs: FAILED ({len(failures)} failure(s); see the FAIL lines above)')
        sys.exit(1)
    print('\ncheck_docs: all checks passed')

if __name__ == '__main__': main()
