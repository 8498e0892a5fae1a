#!/usr/bin/env python
"""Benchmark: the lecture's own `bigram.py` vs `charlm_nb.training.train`, side by side on one machine, same threads.

The lecture side is the lecture's script itself (`bigram.py` from a checkout of karpathy/ng-video-lecture, given by
`--lecture`), unmodified, run in a subprocess whose working directory holds the bundled Tiny Shakespeare as
`input.txt` (the script reads it from there). It trains the bigram model with the lecture's settings (batch 32, block 8,
3000 steps, AdamW lr 1e-2, an evaluation of 200 batches per split every 300 steps), then samples 500 characters.

Our side is a script doing the same job with charlm_nb: load the corpus, build `BigramLanguageModel`, `train(...)` with
the same settings (plus a final evaluation at step 3000), sample 500 characters with `sample_text`.

A third side, "recipe", is the same script with other training settings (RECIPE below): 200 steps of 512 sequences
instead of 3000 of 32, a peak learning rate of 0.5 decayed to 0 along a cosine, and evaluations of about as many
characters as the lecture's. It asks how soon `train` reaches the lecture's loss, not how fast it runs the lecture's
steps; its exact val NLL is checked against the lecture script's (`recipe_val_ok`).

Each script runs in a fresh Python process through the same small harness (`runpy.run_path`), which times the script
from its first line (imports included) to its last, then scores the script's final `model` on the whole val split
(exact mean NLL, the same measure for both). Our script also reports how long the `train(...)` call took. The runs
alternate lecture, ours, recipe, recipe, ours, lecture, ... so that drifting machine load hits all alike; medians are
reported.
After each of our runs, a fresh process measures two one-time costs both scripts pay: importing torch, and constructing
the first torch.optim optimizer (it imports torch._dynamo; our script pays this inside the `train(...)` call), and
the floor: the same steps and evaluations as a bare loop with nothing else, and a profile of its step.

Usage: python bench/bench_training.py --lecture /path/to/ng-video-lecture [--repeats 3] [--threads 2]
"""
import argparse, datetime, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import bench_json, cpu_name, loadavg

# Idle OpenMP workers sleep instead of spinning (inherited by both subprocesses). On a machine shared with other jobs,
# spinning workers burn the CPU the others need and stall whenever a sibling thread is descheduled. Same setting for
# both sides; recorded in the JSON. Override by setting OMP_WAIT_POLICY yourself.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

HP = dict(batch_size=32, block_size=8, max_iters=3000, eval_interval=300, eval_iters=200, lr=1e-2, seed=1337)
# Fewer, larger steps to the same loss: 512 x 8 characters a step, lr 0.5 cosine-decayed to 0, one evaluation at the start
# and one at the end, each of 13 x 512 sequences a split (the lecture's are 200 x 32).
RECIPE = dict(HP, batch_size=512, max_iters=200, eval_interval=200, eval_iters=13, lr=0.5, min_lr=0.0)

# Runs a script with runpy, times it, scores its final `model` on its `val_data` (every position), prints one JSON line.
HARNESS = r'''
import json, runpy, sys, time
t0 = time.perf_counter()
g = runpy.run_path(sys.argv[1], run_name='__main__')
script_seconds = time.perf_counter() - t0
import torch
model, val = g['model'], g['val_data']
with torch.no_grad():
    model.eval()
    _, loss = model(val[:-1][None], val[1:][None])
print('BENCH_JSON ' + json.dumps(dict(script_seconds=script_seconds, val_exact=loss.item(), threads=torch.get_num_threads(),
                                      extra=g.get('BENCH_EXTRA'))))
'''

# Our side: the same job as the lecture's script, with charlm_nb.
OURS = r'''
import time
import torch
from charlm_nb.data import load_text, train_val_split
from charlm_nb.tokenizer import CharTokenizer
from charlm_nb.bigram import BigramLanguageModel
from charlm_nb.training import train, sample_text
HP = {hp!r}
torch.manual_seed(HP['seed'])
text = load_text('shakespeare')
tok = CharTokenizer.from_text(text)
train_data, val_data = train_val_split(tok.encode_tensor(text))
model = BigramLanguageModel(tok.vocab_size)
t0 = time.perf_counter()
h = train(model, train_data, val_data, device='cpu', progress=False, **HP)
train_seconds = time.perf_counter() - t0
print(sample_text(model, tok, '\n', 500))
BENCH_EXTRA = dict(train_seconds=train_seconds, evals=list(zip(h['step'], h['train'], h['val'])))
'''


# Two one-time costs both sides pay: importing torch, and constructing the first torch.optim optimizer, which imports
# torch._dynamo. Measured apart, in a fresh process each time, with the same threads.
FIXED = r'''
import json, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
t2 = time.perf_counter()
print(json.dumps(dict(import_torch=t1 - t0, first_optimizer=t2 - t1)))
'''

# The floor under any loop that does the lecture's computation with autograd and torch.optim, eagerly: the same 3000
# steps with nothing else (batches drawn beforehand, no checks, no progress, no learning-rate updates), then the same
# evaluations as `train` does (each split's 200 batches in one forward pass), and a profile of the bare step. Fresh
# process, after the first optimizer has been built (its one-time cost is measured apart, above).
FLOOR = r'''
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
HP = json.loads(sys.argv[1])
V, B, T, N = 65, HP['batch_size'], HP['block_size'], HP['max_iters']
torch.manual_seed(HP['seed'])
emb = nn.Embedding(V, V)  # the bigram: a (V,V) table of next-token logits
opt = torch.optim.AdamW(emb.parameters(), lr=HP['lr'], fused=True)
x, y = torch.randint(V, (N, B, T)), torch.randint(V, (N, B, T))  # (N,B,T) every step's batch, drawn at once
def step(i):
    loss = F.cross_entropy(emb(x[i]).view(B * T, V), y[i].view(B * T))
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
for i in range(50): step(i)  # warm-up
t0 = time.perf_counter()
for i in range(N): step(i)
steps = time.perf_counter() - t0
n_evals = N // HP['eval_interval'] + 1
xe, ye = torch.randint(V, (HP['eval_iters'] * B, T)), torch.randint(V, (HP['eval_iters'] * B, T))
t0 = time.perf_counter()
with torch.no_grad():
    for _ in range(2 * n_evals): F.cross_entropy(emb(xe).view(-1, V), ye.view(-1)).item()
evals = time.perf_counter() - t0
from torch.profiler import profile, ProfilerActivity
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for i in range(200): step(i)
ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:8]
top = [dict(op=e.key, self_us_per_step=e.self_cpu_time_total / 200, calls_per_step=e.count / 200) for e in ops]
print(json.dumps(dict(bare_steps=steps, bare_evals=evals, n_evals=n_evals, us_per_step=steps / N * 1e6, profile=top)))
'''


def floor_costs(threads):
    "The bare loop's seconds (steps, evaluations) and the profile of a bare step, in a fresh process."
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    p = subprocess.run([sys.executable, '-c', FLOOR, json.dumps(HP)], env=env, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def fixed_costs(threads):
    "Seconds to import torch and to construct the first optimizer, in a fresh process."
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    p = subprocess.run([sys.executable, '-c', FIXED], env=env, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_script(script, cwd, threads):
    "Run `script` through HARNESS in a fresh process; its JSON line, stdout, and the whole process's wall seconds."
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1')
    la0 = loadavg()
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', HARNESS, str(script)], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode: raise RuntimeError(f"{script} failed:\n{p.stderr[-3000:]}")
    r = bench_json(p.stdout, str(script))
    r.update(process_seconds=wall, loadavg_before=la0, loadavg_after=loadavg())
    return r, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--lecture', required=True, help="a checkout of karpathy/ng-video-lecture (its bigram.py is run as is)")
    ap.add_argument('--lecture-source', default=None, help="where that checkout came from (recorded in the JSON)")
    ap.add_argument('--repeats', type=int, default=3, help='runs of each side (alternating); the median is reported')
    ap.add_argument('--threads', type=int, default=2, help='torch threads of both sides (OMP_NUM_THREADS)')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'training.json'))
    a = ap.parse_args()
    import torch
    from charlm_nb.data import corpus_path
    lecture = Path(a.lecture) / 'bigram.py'
    if not lecture.is_file(): raise FileNotFoundError(f"--lecture {a.lecture!r}: no bigram.py there")
    tokens = HP['max_iters'] * HP['batch_size'] * HP['block_size']

    runs = {'lecture': [], 'ours': [], 'recipe': [], 'fixed': [], 'floor': []}
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        shutil.copyfile(corpus_path('shakespeare'), d / 'input.txt')  # the lecture's script reads ./input.txt
        (d / 'ours.py').write_text(OURS.format(hp=HP))
        (d / 'recipe.py').write_text(OURS.format(hp=RECIPE))
        for r in range(a.repeats):
            for side in (('lecture', 'ours', 'recipe') if r % 2 == 0 else ('recipe', 'ours', 'lecture')):
                res, out = run_script(lecture if side == 'lecture' else d / f'{side}.py', d, a.threads)
                if side == 'lecture':
                    evals = [(int(s), float(t), float(v)) for s, t, v in
                             re.findall(r'^step (\d+): train loss ([\d.]+), val loss ([\d.]+)', out, re.M)]
                    if not evals: raise RuntimeError(f"no 'step N: train loss …, val loss …' line in the output of {lecture}:\n{out[-2000:]}")
                    res.update(evals=evals, val_estimate=evals[-1][2], last_estimate_step=evals[-1][0])
                else:
                    ex = res.pop('extra')
                    res.update(train_seconds=ex['train_seconds'], evals=ex['evals'], val_estimate=ex['evals'][-1][2],
                               last_estimate_step=ex['evals'][-1][0])
                runs[side].append(res)
                if side == 'ours': runs['fixed'].append(fixed_costs(a.threads)); runs['floor'].append(floor_costs(a.threads))
                print(f"run {r+1}/{a.repeats} {side:>8}: script {res['script_seconds']:6.2f} s"
                      + (f" (train call {res['train_seconds']:.2f} s)" if side != 'lecture' else '')
                      + f", val estimate {res['val_estimate']:.4f} at step {res['last_estimate_step']}, "
                      f"exact val {res['val_exact']:.4f}, threads {res['threads']}, load {res['loadavg_before'][0]}", flush=True)
    load_after = loadavg()

    med = lambda side, k: statistics.median(r[k] for r in runs[side])
    lec = {k: med('lecture', k) for k in ('script_seconds', 'process_seconds', 'val_exact', 'val_estimate')}
    ours = {k: med('ours', k) for k in ('script_seconds', 'process_seconds', 'train_seconds', 'val_exact', 'val_estimate')}
    ours['train_tokens_per_sec'] = tokens / ours['train_seconds']
    recipe = {k: med('recipe', k) for k in ('script_seconds', 'process_seconds', 'train_seconds', 'val_exact', 'val_estimate')}
    recipe_tokens = RECIPE['max_iters'] * RECIPE['batch_size'] * RECIPE['block_size']
    recipe['train_tokens_per_sec'] = recipe_tokens / recipe['train_seconds']
    recipe_ok = all(r['val_exact'] <= lec['val_exact'] for r in runs['recipe'])  # the same seed: every run is the same model
    fixed = {k: statistics.median(r[k] for r in runs['fixed']) for k in ('import_torch', 'first_optimizer')}
    floor = {k: statistics.median(r[k] for r in runs['floor']) for k in ('bare_steps', 'bare_evals', 'us_per_step')}
    floor['train_call_floor'] = fixed['first_optimizer'] + floor['bare_steps'] + floor['bare_evals']
    floor['speedup_ceiling'] = lec['script_seconds'] / floor['train_call_floor']
    floor['profile'] = min(runs['floor'], key=lambda r: r['bare_steps'])['profile']  # of the fastest run
    res = dict(
        benchmark="bigram training: the lecture's own bigram.py vs charlm_nb.training.train",
        date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        cpu=cpu_name(), cpu_count=os.cpu_count(), threads=a.threads,
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'), torch=torch.__version__,
        python=platform.python_version(), platform=platform.platform(),
        loadavg_before=load_before, loadavg_after=load_after,
        lecture_script=str(lecture), lecture_source=a.lecture_source or str(Path(a.lecture).resolve()),
        hyperparameters=HP, training_tokens=tokens, repeats=a.repeats,
        lecture=lec, ours=ours, fixed_costs=fixed, floor=floor,
        speedup_train=lec['script_seconds'] / ours['train_seconds'],
        speedup_script=lec['script_seconds'] / ours['script_seconds'],
        val_exact_delta=ours['val_exact'] - lec['val_exact'],
        recipe_hyperparameters=RECIPE, recipe_training_tokens=recipe_tokens, recipe=recipe, recipe_val_ok=recipe_ok,
        recipe_speedup_train=lec['script_seconds'] / recipe['train_seconds'],
        recipe_speedup_script=lec['script_seconds'] / recipe['script_seconds'],
        runs=runs,
        method=("each side a fresh Python process running its script through the same runpy harness; script_seconds: "
                "from the script's first line (imports included) to its end (corpus, training with every evaluation, "
                "500 sampled characters); ours' train_seconds: the train(...) call alone; process_seconds: the whole "
                "process, harness and scoring included; val_exact: mean NLL of the final model over every position of "
                "the val split (same measure both sides); val_estimate: each script's last own estimate (lecture: step "
                "2700, its last evaluation; ours: step 3000); order lecture, ours, recipe, recipe, ours, lecture, ...; medians; "
                "fixed_costs: importing torch and constructing the first torch.optim optimizer (which imports "
                "torch._dynamo), in a fresh process after each of our runs; both scripts pay them, our train call "
                "the second; floor: in a fresh process after each of our runs, the bare loop of the same steps "
                "(fused AdamW, batches drawn beforehand, nothing else) and the same evaluations; train_call_floor = "
                "first_optimizer + bare_steps + bare_evals, the least a train call built on autograd and torch.optim "
                "could take; speedup_ceiling = the lecture's script_seconds over it; recipe: our script with "
                "recipe_hyperparameters instead; "
                "recipe_val_ok: every recipe run's val_exact <= the lecture's median val_exact; recipe_speedup_*: the "
                "lecture's script_seconds over the recipe's train call / whole script"),
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + '\n')
    print(f"lecture bigram.py: {lec['script_seconds']:.2f} s, exact val {lec['val_exact']:.4f}")
    print(f"ours: script {ours['script_seconds']:.2f} s, train call {ours['train_seconds']:.2f} s, exact val {ours['val_exact']:.4f}")
    print(f"fixed costs both pay: import torch {fixed['import_torch']:.2f} s, first optimizer {fixed['first_optimizer']:.2f} s")
    print(f"floor: bare steps {floor['bare_steps']:.2f} s ({floor['us_per_step']:.0f} us/step), bare evaluations {floor['bare_evals']:.2f} s; "
          f"a train call could take no less than {floor['train_call_floor']:.2f} s: at most {floor['speedup_ceiling']:.2f}x")
    print(f"recipe {RECIPE}: script {recipe['script_seconds']:.2f} s, train call {recipe['train_seconds']:.2f} s, "
          f"exact val {recipe['val_exact']:.4f} ({'<=' if recipe_ok else 'NOT <='} the lecture's): "
          f"{res['recipe_speedup_train']:.2f}x (lecture script / train call), {res['recipe_speedup_script']:.2f}x (script / script)")
    print(f"speedup: {res['speedup_train']:.2f}x (lecture script / our train call), {res['speedup_script']:.2f}x (script / script); "
          f"load {load_before} -> {load_after}; wrote {out}")


if __name__ == '__main__':
    main()
