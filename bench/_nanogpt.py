"nanoGPT's side of the races in bench/: a runnable copy of a nanoGPT checkout, fed the bundled corpus (no download)."
import shutil, subprocess, sys
from pathlib import Path


def nanogpt_checkout(src, text, workdir):
    "Copy the nanoGPT checkout `src` into `workdir` and run its shakespeare_char `prepare.py` on `text` (no download)."
    src = Path(src)
    for f in ('train.py', 'model.py', 'configurator.py', 'config/train_shakespeare_char.py', 'data/shakespeare_char/prepare.py'):
        if not (src / f).is_file(): raise FileNotFoundError(f"--nanogpt {str(src)!r} is not a nanoGPT checkout: no {f}")
    work = Path(workdir) / 'nanoGPT'
    shutil.copytree(src, work, ignore=shutil.ignore_patterns('.git', 'out*', '*.bin', '*.pkl', 'input.txt'))
    prep = work / 'data' / 'shakespeare_char'
    (prep / 'input.txt').write_text(text)  # prepare.py downloads input.txt only when it is missing
    p = subprocess.run([sys.executable, 'prepare.py'], cwd=prep, capture_output=True, text=True)
    if p.returncode: raise RuntimeError(f"nanoGPT's prepare.py failed:\n{p.stderr[-2000:]}")
    return work
