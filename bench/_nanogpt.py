"nanoGPT's side of the races in bench/: a runnable copy of a nanoGPT checkout, fed the bundled corpus (no download)."
import importlib.util, os, re, shutil, subprocess, sys, time
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


# nanoGPT's train.py log lines: `iter N: loss L, time MSms, ...` and, at every evaluation, `step N: train loss T, val loss V`
ITER_LINE = re.compile(r'^iter (\d+): loss [\d.]+, time ([\d.]+)ms', re.M)
EVAL_LINE = re.compile(r'^step (\d+): train loss ([\d.]+), val loss ([\d.]+)', re.M)


def start_train(work, args, threads):
    "Start the checkout's train.py with `args` and a fresh `work/out`; return (process, its out dir, perf_counter at start)."
    out_dir = Path(work) / 'out'
    shutil.rmtree(out_dir, ignore_errors=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, 'train.py', *args, f'--out_dir={out_dir}'], cwd=work, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p, out_dir, t0


def load_checkpoint_model(work, out_dir):
    "nanoGPT's last saved checkpoint in `out_dir` (loaded with weights_only) and its model, built by the checkout's model.py."
    import torch
    ck = torch.load(Path(out_dir) / 'ckpt.pt', map_location='cpu', weights_only=True)
    spec = importlib.util.spec_from_file_location('nanogpt_model', Path(work) / 'model.py')
    ng = importlib.util.module_from_spec(spec); spec.loader.exec_module(ng)
    model = ng.GPT(ng.GPTConfig(**ck['model_args'])); model.load_state_dict(ck['model'])
    return ck, model
