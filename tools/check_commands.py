#!/usr/bin/env python
"""Run every `charlm-...` and `torchrun ...` command that README.md and the chapters show, as written.

Commands are the lines of ```sh blocks (in README.md and in the markdown cells of the chapters; nbs/index.ipynb is
README.md's source, so README.md stands for it) that start with
`charlm-` or `torchrun`. Each document's commands run in order in a scratch directory of their own (so a
`charlm-sample` finds the checkpoint the `charlm-train` before it wrote), through bash, with `CHARLM_SMOKE=1`
(chapter 08: every run cut to a few steps and small batches; the command text itself is unchanged) and `HEAD=127.0.0.1`.
A two-machine command (`--nnodes=2`) runs twice at once on this host, as the two machines, each in a directory of its
own (two machines share no disk unless they are set up to). A command whose comment says
`needs GPUs` is listed but not run when there is no GPU. Any command that exits non-zero, or prints nothing where it
should print a sample or help, fails the check (exit 1).

Run it in the environment to check, after an install (`pip install -e .` or `pip install -e ".[dev]"`):
    python tools/check_commands.py
"""
import json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def sh_blocks(markdown:str):
    "Lines inside ```sh fences of a markdown text."
    lines, inside = [], False
    for l in markdown.splitlines():
        if l.strip().startswith('```'): inside = l.strip() in ('```sh', '```bash'); continue
        if inside: lines.append(l.strip())
    return lines

def documented_commands():
    "{document: [command, ...]} for README.md and every chapter, in order."
    docs = {'README.md': sh_blocks((root/'README.md').read_text())}
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        if nb.name == 'index.ipynb': continue  # README.md is generated from it (tools/readme.py), so its commands are README's
        cells = json.loads(nb.read_text())['cells']
        docs[f'nbs/{nb.name}'] = [l for c in cells if c['cell_type'] == 'markdown' for l in sh_blocks(''.join(c['source']))]
    return {d: [l for l in ls if l.startswith(('charlm-', 'torchrun '))] for d, ls in docs.items()}

def main():
    has_gpu = shutil.which('nvidia-smi') is not None and subprocess.run(['nvidia-smi'], capture_output=True).returncode == 0
    env = {**os.environ, 'CHARLM_SMOKE': '1', 'HEAD': '127.0.0.1', 'PYTHONUNBUFFERED': '1'}
    failed, ran, skipped = [], 0, []
    for doc, cmds in documented_commands().items():
        if not cmds: continue
        cwd = Path(tempfile.mkdtemp(prefix='charlm-cmds-'))
        for cmd in cmds:
            if 'needs GPUs' in cmd and not has_gpu: skipped.append((doc, cmd)); continue
            copies = 2 if re.search(r'--nnodes[= ]2\b', cmd) else 1
            t0 = time.perf_counter()
            dirs = [cwd] + [Path(tempfile.mkdtemp(prefix='machine2-', dir=cwd)) for _ in range(copies - 1)]
            procs = [subprocess.Popen(['bash', '-c', cmd], cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for d in dirs]
            outs = [p.communicate(timeout=1800) for p in procs]
            codes = [p.returncode for p in procs]
            out = ''.join(o for o, _ in outs)
            expect_output = '--help' in cmd or ('charlm-sample' in cmd) or ('charlm-train' in cmd and '--quiet' not in cmd)
            ok = all(c == 0 for c in codes) and (out.strip() != '' or not expect_output)
            ran += 1
            print(f"{'ok  ' if ok else 'FAIL'} {time.perf_counter() - t0:5.1f} s  {doc}: {cmd}" + (f"  ({copies} copies)" if copies > 1 else ''), flush=True)
            if not ok:
                failed.append((doc, cmd))
                for o, e in outs: print(f"--- stdout:\n{o[-1500:]}\n--- stderr:\n{e[-3000:]}")
        shutil.rmtree(cwd, ignore_errors=True)
    for doc, cmd in skipped: print(f"not run (no GPU here): {doc}: {cmd}")
    print(f"documented commands: {ran - len(failed)} passed, {len(failed)} failed, {len(skipped)} need GPUs")
    if ran == 0: sys.exit("no documented commands found")
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
