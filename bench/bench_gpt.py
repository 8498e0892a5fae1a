#!/usr/bin/env python
"""Benchmarks for chapter 06 (`charlm_nb.gpt`), each side by side in one run; writes `bench/results/gpt.json`.

1. Attention two ways: the same `GPTLanguageModel` weights run with `attention='explicit'` (chapter 05's `Head`s) and
   `attention='sdpa'` (`F.scaled_dot_product_attention`): training-step throughput (forward + backward, tokens/s;
   rounds alternate between the two paths so machine load hits both alike) and peak memory of one step.
2. The race: our `cpu` configuration against nanoGPT's published CPU recipe for shakespeare_char on the same number of
   training tokens (1,536,000), all scored on the same 200 val batches:
   - nanoGPT's own `train.py`, run with the recipe's command from a checkout given by `--nanogpt` (the checkout is
     copied to a temporary directory and its `prepare.py` fed the bundled corpus, so nothing is downloaded), twice,
     in the order nanoGPT, ours, recipe, variant, recipe, ours, nanoGPT so that drifting machine load hits every side
     alike (nanoGPT's train.py in a subprocess, ours in this process, both with the same threads);
   - the same recipe trained with chapter 04's `train` on our model, which isolates what our code changes (twice);
   - a batch-16 variant between the two batch shapes.
3. Threads: training steps with 1 vs 2 torch threads.
Every part runs with OMP_WAIT_POLICY=PASSIVE unless it is set (as in bench_gpt_fast.py); the JSON records it.

Usage (from the repo root):
    git clone https://github.com/karpathy/nanoGPT /tmp/nanoGPT
    python bench/bench_gpt.py --threads 2 --nanogpt /tmp/nanoGPT [--nanogpt-source "where the checkout came from"]
Chapter 06 reads the race against nanoGPT's own code, so the results it uses need `--nanogpt`.
"""
import argparse, datetime, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # before torch starts OpenMP; recorded in the JSON (omp_wait_policy)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_name, loadavg
from _nanogpt import EVAL_LINE, ITER_LINE, load_checkpoint_model, nanogpt_checkout, start_train
import torch
from charlm_nb.data import get_batch, load_text, train_val_split
from charlm_nb.tokenizer import CharTokenizer
from charlm_nb.training import estimate_loss, train
from charlm_nb.gpt import GPT_CONFIGS, GPTLanguageModel

# nanoGPT's README recipe for a CPU (config file: lr 1e-3, min_lr 1e-4, warmup 100, beta2 0.99, weight_decay 0.1,
# grad_clip 1.0, eval_interval 250, seed 1337):
NANOGPT_ARGS = ['config/train_shakespeare_char.py', '--device=cpu', '--compile=False', '--eval_iters=20', '--log_interval=1',
                '--block_size=64', '--batch_size=12', '--n_layer=4', '--n_head=4', '--n_embd=128', '--max_iters=2000',
                '--lr_decay_iters=2000', '--dropout=0.0']
NANOGPT_CPU = dict(model=dict(n_embd=128, n_head=4, n_layer=4, block_size=64, dropout=0.0),
                   train=dict(max_iters=2000, eval_interval=200, eval_iters=20, lr=1e-3, batch_size=12,
                              warmup_iters=100, min_lr=1e-4, weight_decay=0.1, grad_clip=1.0))
DIFFERENCES = [
    "architecture: the recipe run here uses charlm_nb's GPTLanguageModel (ReLU MLP, biases, untied lm_head, plain 0.02 "
    "init); nanoGPT's model uses GELU, bias=False, weight tying and a 0.02/sqrt(2*n_layer) init on residual projections",
    "optimizer: chapter 04's train uses AdamW with torch's default betas (0.9, 0.999); the recipe uses beta2=0.99",
    "weight decay: recipe 0.1 on 2-D weights only; chapter 04's train applies its weight_decay as AdamW does to all "
    "parameters it is given (see training.train)",
    "evaluation: every run is scored on the same 200 val batches of 32 x 64 after training (nanoGPT's own printed "
    "figure is its eval_iters=20 estimate, 20 batches of 12); the curves are each run's own estimates during training "
    "(recipe runs: 20 batches of 12; cpu config: 8 batches of 32; batch-16 variant: 15 batches of 16)",
    "eval_interval 200 steps for the recipe on our code (nanoGPT: 250) so both curves share token positions "
    "(every 153,600 training tokens)",
    "steps: nanoGPT's loop makes one more update than max_iters (2001); its score here is its checkpoint from the "
    "evaluation at step 2000, i.e. after exactly 1,536,000 training tokens, and its tokens/s counts all 2001 steps",
]
def threads_note(n):
    "The thread count every run of the race used."
    return (f"threads: every run here, nanoGPT's included (OMP_NUM_THREADS), uses {n} torch thread(s) (see the threads "
            "section of the JSON)")

REPORTED = ("nanoGPT's README says this recipe runs in about 3 minutes and \"gets us a loss of only 1.88\"; the nanoGPT "
            "runs in this file are measured here, side by side with ours")


def machine_info():
    cpu = cpu_name()
    return (f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def step_fn(model, x, y):
    def f():
        model.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
    return f


def peak_memory_mb(fn):
    "Peak bytes of live CPU tensors during `fn()`, from torch.profiler's memory timeline (all categories summed)."
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import MemoryProfileTimeline
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as prof:
        fn()
    _, sizes = MemoryProfileTimeline(prof._memory_profile())._coalesce_timeline(torch.device('cpu'))
    return max(sum(s) for s in sizes) / 1e6


def bench_attention(data, V, shapes, rounds, steps):
    results, speedup = [], []
    for name, cfg, B in shapes:
        torch.manual_seed(0)
        models = {'explicit': GPTLanguageModel(V, **cfg, attention='explicit')}
        models['sdpa'] = GPTLanguageModel(V, **{**cfg, 'attention': 'sdpa'})
        models['sdpa'].load_state_dict(models['explicit'].state_dict())
        T = cfg['block_size']
        x, y = get_batch(data, B, T, generator=torch.Generator().manual_seed(0))
        fns = {k: step_fn(m, x, y) for k, m in models.items()}
        for f in fns.values(): f()  # warm-up
        rates = {k: [] for k in fns}
        for r in range(rounds):
            for k in (('explicit', 'sdpa') if r % 2 == 0 else ('sdpa', 'explicit')):
                t0 = time.perf_counter()
                for _ in range(steps): fns[k]()
                rates[k].append(steps * B * T / (time.perf_counter() - t0))
        shape = f"{name}: {cfg['n_layer']}L {cfg['n_head']}H C={cfg['n_embd']}, B={B} T={T}"
        row = {}
        for k in fns:
            models[k].zero_grad(set_to_none=True)
            row[k] = dict(shape=shape, model=cfg, batch_size=B, attention=k, tokens_per_sec=statistics.median(rates[k]),
                          rounds=[round(v) for v in rates[k]], peak_mb=peak_memory_mb(fns[k]))
            results.append(row[k])
            print(row[k], flush=True)
        speedup.append(dict(shape=shape, model=cfg, batch_size=B, speed_ratio=row['sdpa']['tokens_per_sec'] / row['explicit']['tokens_per_sec'],
                            memory_ratio=row['sdpa']['peak_mb'] / row['explicit']['peak_mb']))
    return dict(memory_method=(
        "torch.profiler memory timeline (profile_memory=True; torch.profiler._memory_profiler.MemoryProfileTimeline): "
        "peak total bytes of live CPU tensors (parameters, gradients, activations, temporaries) during one forward+"
        "backward step; allocator caching and non-tensor memory are not counted"),
        throughput_method=f"median over {rounds} alternating rounds of {steps} forward+backward steps (no optimizer step), "
                          "training mode (dropout as configured), same weights and batch for both paths, after one "
                          "warm-up step",
        results=results, speedup=speedup)


def bench_threads(data, V, cfg, B, rounds, steps):
    "Training steps (forward, backward, AdamW) per second with 1 and 2 torch threads, alternating rounds."
    torch.manual_seed(0)
    model = GPTLanguageModel(V, **cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x, y = get_batch(data, B, cfg['block_size'], generator=torch.Generator().manual_seed(0))
    def step():
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    before = torch.get_num_threads()
    rates = {1: [], 2: []}
    try:
        step()
        for r in range(rounds):
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                torch.set_num_threads(n)
                t0 = time.perf_counter()
                for _ in range(steps): step()
                rates[n].append(steps * B * cfg['block_size'] / (time.perf_counter() - t0))
    finally: torch.set_num_threads(before)
    res = dict(shape=f"{cfg['n_layer']}L {cfg['n_head']}H C={cfg['n_embd']}, B={B} T={cfg['block_size']}", model=cfg, batch_size=B,
               loadavg=loadavg(), tokens_per_sec={str(n): statistics.median(v) for n, v in rates.items()},
               rounds={str(n): [round(v) for v in vs] for n, vs in rates.items()})
    print(res, flush=True)
    return res


def score_val(model, val_data, block_size, quick):
    "Mean val loss of `model` on the fixed batches every run of the race is scored on (200 batches of 32, seed 2024)."
    return estimate_loss(model, {'val': val_data}, eval_iters=4 if quick else 200, batch_size=32, block_size=block_size,
                         device='cpu', generator=torch.Generator().manual_seed(2024))['val']


def race_one(name, cfg, V, train_data, val_data, quick):
    tr = dict(cfg['train'])
    if quick: tr.update(max_iters=tr['max_iters'] // 20, eval_interval=tr['eval_interval'] // 20, eval_iters=2)
    torch.manual_seed(1337)
    model = GPTLanguageModel(V, **cfg['model'])
    T, B = cfg['model']['block_size'], tr['batch_size']
    la0 = loadavg()
    t0 = time.perf_counter()
    h = train(model, train_data, val_data, block_size=T, device='cpu', seed=1337, progress=False, **tr)
    wall = time.perf_counter() - t0
    la1 = loadavg()
    val = score_val(model, val_data, T, quick)
    tokens = tr['max_iters'] * B * T
    r = dict(name=name, config=dict(model=cfg['model'], train=tr), train_tokens=tokens, val_loss=val,
             best_val_during_training=h['best_val'], seconds=h['seconds'], wall_seconds=wall,
             tokens_per_sec=h['tokens_per_sec'], loadavg_before=la0, loadavg_after=la1,
             curve=dict(step=h['step'], tokens=[s * B * T for s in h['step']], train=h['train'], val=h['val']))
    print({k: v for k, v in r.items() if k != 'curve'}, flush=True)
    return r


def race_nanogpt(work, threads, val_data, quick, source):
    "One run of nanoGPT's own `train.py` with the CPU recipe in `work`; its step-2000 checkpoint scored like our runs."
    max_iters = 100 if quick else NANOGPT_CPU['train']['max_iters']
    B, T = NANOGPT_CPU['train']['batch_size'], NANOGPT_CPU['model']['block_size']  # the recipe's, as in NANOGPT_ARGS
    args = list(NANOGPT_ARGS)
    if quick: args += [f'--max_iters={max_iters}', f'--lr_decay_iters={max_iters}', '--warmup_iters=10', '--eval_interval=50']
    la0 = loadavg()
    p, out_dir, t0 = start_train(work, args, threads)
    stdout, stderr = p.communicate()
    wall = time.perf_counter() - t0
    la1 = loadavg()
    if p.returncode: raise RuntimeError(f"nanoGPT's train.py failed:\n{stderr[-2000:]}")
    iters = [(int(i), float(ms)) for i, ms in ITER_LINE.findall(stdout)]
    evals = [(int(i), float(t), float(v)) for i, t, v in EVAL_LINE.findall(stdout)]
    if not iters or not evals: raise RuntimeError(f"could not read nanoGPT's log:\n{stdout[-2000:]}")
    seconds = sum(ms for _, ms in iters) / 1000  # every iteration's dt, evaluations included, as nanoGPT logs them
    # nanoGPT saves a checkpoint whenever its val estimate improves, normally last at step max_iters (its last
    # evaluation, after exactly max_iters * B * T training tokens); score it with the model class of the same checkout
    ck, model = load_checkpoint_model(work, out_dir)
    val = score_val(model, val_data, T, quick)
    r = dict(name="nanoGPT's own train.py (B=12, 2000 steps)", source=source,
             command='python train.py ' + ' '.join(args), train_tokens=max_iters * B * T, steps_run=len(iters),
             scored_step=ck['iter_num'], scored_tokens=ck['iter_num'] * B * T,
             val_loss=val, val_reported=evals[-1][2], best_val_during_training=min(v for *_, v in evals),
             seconds=seconds, wall_seconds=wall, tokens_per_sec=len(iters) * B * T / seconds,
             loadavg_before=la0, loadavg_after=la1,
             curve=dict(step=[i for i, *_ in evals], tokens=[i * B * T for i, *_ in evals],
                        train=[t for _, t, _ in evals], val=[v for *_, v in evals]))
    print({k: v for k, v in r.items() if k != 'curve'}, flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='tiny smoke run (not for the chapter)')
    ap.add_argument('--out', default=None, help='output JSON (default bench/results/gpt.json; --quick: /tmp)')
    ap.add_argument('--only', choices=['attention'], default=None,
                    help="rerun only this part and merge it into the existing output JSON")
    ap.add_argument('--threads', type=int, default=2,
                    help='torch threads for the race and attention benchmarks (the threads section compares 1 and 2)')
    ap.add_argument('--nanogpt', default=None, help="a checkout of karpathy/nanoGPT: race its own train.py too")
    ap.add_argument('--nanogpt-source', default=None, help="where that checkout came from (recorded in the JSON; "
                    "default: its git commit if it is a git checkout)")
    args = ap.parse_args()
    if not (args.nanogpt or args.quick or args.only): ap.error("the race needs --nanogpt (chapter 06 reads the race against nanoGPT's own code)")
    out = Path(args.out or ('/tmp/gpt_quick.json' if args.quick else Path(__file__).parent / 'results' / 'gpt.json'))
    torch.set_num_threads(args.threads)
    text = load_text('shakespeare')
    tok = CharTokenizer.from_text(text)
    data = tok.encode_tensor(text)
    train_data, val_data = train_val_split(data)
    V = tok.vocab_size
    res = dict(torch_threads=args.threads, machine=machine_info(), date=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
               loadavg_start=loadavg(), quick=args.quick, omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'))
    print(res, flush=True)

    cpu = GPT_CONFIGS['cpu']
    lec = GPT_CONFIGS['lecture']['model']
    shapes = [('cpu config', cpu['model'], cpu['train']['batch_size']),
              ('lecture config', lec, 4),
              ('lecture config, dropout 0', dict(lec, dropout=0.0), 4)]
    if args.quick: shapes = [('quick', dict(n_embd=32, n_head=4, n_layer=1, block_size=32, dropout=0.0), 4)]
    if args.only == 'attention':
        old = json.loads(out.read_text())
        old['attention'] = dict(bench_attention(train_data, V, shapes, rounds=2 if args.quick else 4,
                                                steps=1 if args.quick else 3),
                                date=res['date'], loadavg_start=res['loadavg_start'], loadavg_end=loadavg(),
                                torch_threads=args.threads)
        if 'race' in old: old['race'].update(differences=DIFFERENCES + [threads_note(old.get('torch_threads', 1))], reported_nanogpt=REPORTED)  # text only
        res = old
    else: res = run_all(args, res, cpu, shapes, V, train_data, val_data, text)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix('.tmp')
    tmp.write_text(json.dumps(res, indent=1) + '\n')
    os.replace(tmp, out)
    print('wrote', out)


def checkout_source(path):
    "The git commit of a checkout, if it is one."
    try:
        out = subprocess.run(['git', '-C', str(path), 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True)
        return f"git checkout of karpathy/nanoGPT at commit {out.stdout.strip()}"
    except (OSError, subprocess.CalledProcessError): return f"{path} (not a git checkout)"


def run_all(args, res, cpu, shapes, V, train_data, val_data, text):
    res['threads'] = bench_threads(train_data, V, cpu['model'], cpu['train']['batch_size'],
                                   rounds=2 if args.quick else 4, steps=2 if args.quick else 10)
    ours = dict(model=cpu['model'], train=cpu['train'])
    ours_name = f"ours: cpu config (B={cpu['train']['batch_size']}, {cpu['train']['max_iters']} steps)"
    b16 = dict(model=cpu['model'], train=dict(cpu['train'], batch_size=16, max_iters=1500, eval_interval=150,
                                              eval_iters=15, lr=2e-3, min_lr=1e-4, warmup_iters=100))
    la0 = loadavg()
    with tempfile.TemporaryDirectory() as d:
        # order: nanoGPT, ours, recipe on our code, variant, recipe, ours, nanoGPT (drifting load hits every side alike)
        work = nanogpt_checkout(args.nanogpt, text, d) if args.nanogpt else None
        source = args.nanogpt_source or (checkout_source(args.nanogpt) if args.nanogpt else None)
        nano = [race_nanogpt(work, args.threads, val_data, args.quick, source)] if work else []
        mine = [race_one(ours_name, ours, V, train_data, val_data, args.quick)]
        base_name = 'recipe on our code (B=12, 2000 steps)'
        base = [race_one(base_name, NANOGPT_CPU, V, train_data, val_data, args.quick)]
        variant = race_one('variant: smaller batch (B=16, 1500 steps)', b16, V, train_data, val_data, args.quick)
        if not args.quick: base.append(race_one(base_name, NANOGPT_CPU, V, train_data, val_data, args.quick))
        if work:
            mine.append(race_one(ours_name, ours, V, train_data, val_data, args.quick))
            nano.append(race_nanogpt(work, args.threads, val_data, args.quick, source))
    mean_rate = lambda rs: statistics.mean(r['tokens_per_sec'] for r in rs)
    res['race'] = dict(reported_nanogpt=REPORTED, loadavg=dict(before=la0, after=loadavg()),
                       baseline=base[0], baseline_runs=base, ours=mine[0], variants=[variant],
                       same_train_tokens=base[0]['train_tokens'] == mine[0]['train_tokens'],
                       val_ratio=mine[0]['val_loss'] / base[0]['val_loss'],
                       baseline_tokens_per_sec=mean_rate(base), ours_tokens_per_sec=mean_rate(mine),
                       speed_ratio=mean_rate(mine) / mean_rate(base),
                       differences=DIFFERENCES + [threads_note(args.threads)])
    if nano:
        res['race']['nanogpt'] = dict(
            runs=nano, ours_runs=mine, same_train_tokens=all(r['scored_tokens'] == mine[0]['train_tokens'] for r in nano),
            val_loss=nano[0]['val_loss'], val_repeatable=len({r['val_loss'] for r in nano}) == 1,
            tokens_per_sec=mean_rate(nano), ours_tokens_per_sec=mean_rate(mine),
            speed_ratio=mean_rate(mine) / mean_rate(nano), val_ratio=mine[0]['val_loss'] / nano[0]['val_loss'],
            method=("nanoGPT's train.py in a subprocess and our cpu config in this process, in the order nanoGPT, "
                    "ours, [recipe on our code, variant, recipe on our code], ours, nanoGPT; tokens/s = training steps x 12 x 64 (ours: "
                    "x 32 x 64) / loop seconds, evaluations included, averaged over the two runs of each"))
    la, started = loadavg(), datetime.datetime.now().astimezone().isoformat(timespec='seconds')  # when this part starts, after the race
    res['attention'] = dict(bench_attention(train_data, V, shapes, rounds=2 if args.quick else 4,
                                            steps=1 if args.quick else 3),
                            date=started, loadavg_start=la, torch_threads=args.threads)
    res['attention']['loadavg_end'] = res['loadavg_end'] = loadavg()
    return res


if __name__ == '__main__': main()
