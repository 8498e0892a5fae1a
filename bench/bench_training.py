#!/usr/bin/env python
"""Benchmark: the lecture's bigram training loop vs `charlm_nb.training.train`, side by side in one process.

Both sides train `BigramLanguageModel` on Tiny Shakespeare with the lecture's hyper-parameters (batch 32, block 8,
3000 steps, AdamW lr 1e-2, evaluation every 300 steps over 200 batches per split, plus a final evaluation) from the
same seed. The lecture side is the loop as written in the lecture: `get_batch` stacks a Python list of slices, and
`estimate_loss` loops over 200 batches per split calling `.item()` on each. The other side is
`train(..., progress=False)`. Runs alternate (lecture, train, lecture, train, ...) and the median is reported, because
the machine may be shared. Wall time, CPU time, training tokens per second, the final val loss each loop reports,
and the exact val NLL of each final model (every position of the val split, the same measure for both) are printed
and written to bench/results/training.json.

Usage: python bench/bench_training.py [--repeats 3] [--threads N] [--out bench/results/training.json]
"""
import argparse, datetime, json, os, platform, statistics, sys, time
from pathlib import Path

# Idle OpenMP workers sleep instead of spinning (set before torch loads OpenMP). On a machine shared with other jobs,
# spinning workers burn the CPU the others need and stall whenever a sibling thread is descheduled; with the default
# policy both loops here ran 5-20x slower and the comparison measured the scheduler. Same setting for both sides;
# recorded in the JSON. Override by setting OMP_WAIT_POLICY yourself.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

HP = dict(batch_size=32, block_size=8, max_iters=3000, eval_interval=300, eval_iters=200, lr=1e-2, seed=1337)


def lecture_loop(torch, BigramLanguageModel, train_data, val_data, vocab_size, batch_size, block_size, max_iters,
                 eval_interval, eval_iters, lr, seed):
    "The lecture's bigram script (bigram.py), unchanged apart from being a function and a final evaluation."
    torch.manual_seed(seed)
    model = BigramLanguageModel(vocab_size)

    def get_batch(split):
        data = train_data if split == 'train' else val_data
        ix = torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([data[i:i+block_size] for i in ix])
        y = torch.stack([data[i+1:i+block_size+1] for i in ix])
        return x, y

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ['train', 'val']:
            losses = torch.zeros(eval_iters)
            for k in range(eval_iters):
                X, Y = get_batch(split)
                logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    t0, c0 = time.perf_counter(), time.process_time()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for iter in range(max_iters):
        if iter % eval_interval == 0:
            losses = estimate_loss()
        xb, yb = get_batch('train')
        logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    losses = estimate_loss()  # final evaluation, as train() does
    return model, time.perf_counter() - t0, time.process_time() - c0, losses['val'].item()


def train_side(torch, BigramLanguageModel, train, train_data, val_data, vocab_size, seed, **hp):
    torch.manual_seed(seed)
    model = BigramLanguageModel(vocab_size)
    t0, c0 = time.perf_counter(), time.process_time()
    h = train(model, train_data, val_data, seed=seed, device='cpu', progress=False, **hp)
    return model, time.perf_counter() - t0, time.process_time() - c0, h['val'][-1]


def exact_val(torch, model, val_data):
    "Mean NLL over every position of the val split (deterministic: the same measure for both sides)."
    with torch.no_grad():
        model.eval()
        _, loss = model(val_data[:-1][None], val_data[1:][None])
    return loss.item()


def cpu_name():
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=3, help='runs of each side (alternating); the median is reported')
    ap.add_argument('--threads', type=int, default=None, help='torch.set_num_threads for both sides (default: torch default)')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'training.json'))
    a = ap.parse_args()
    import torch
    from charlm_nb.data import load_text, train_val_split
    from charlm_nb.tokenizer import CharTokenizer
    from charlm_nb.bigram import BigramLanguageModel
    from charlm_nb.training import train
    if a.threads: torch.set_num_threads(a.threads)

    text = load_text('shakespeare')
    tok = CharTokenizer.from_text(text)
    train_data, val_data = train_val_split(tok.encode_tensor(text))
    V = tok.vocab_size
    hp = {k: v for k, v in HP.items() if k != 'seed'}
    tokens = HP['max_iters'] * HP['batch_size'] * HP['block_size']

    load_before = [round(x, 2) for x in os.getloadavg()]
    runs = {'lecture_loop': [], 'train': []}
    for r in range(a.repeats):
        for name in ('lecture_loop', 'train'):
            if name == 'lecture_loop':
                model, wall, cpu, val = lecture_loop(torch, BigramLanguageModel, train_data, val_data, V, seed=HP['seed'], **hp)
            else:
                model, wall, cpu, val = train_side(torch, BigramLanguageModel, train, train_data, val_data, V, seed=HP['seed'], **hp)
            run = dict(seconds=wall, cpu_seconds=cpu, tokens_per_sec=tokens / wall, val=val,
                       val_exact=exact_val(torch, model, val_data), loadavg=round(os.getloadavg()[0], 2))
            runs[name].append(run)
            print(f"run {r+1}/{a.repeats} {name:>12}: {wall:7.2f} s wall, {cpu:7.2f} s CPU, "
                  f"{run['tokens_per_sec']:>9,.0f} tokens/s, val {val:.4f} (exact {run['val_exact']:.4f}), "
                  f"load {run['loadavg']}", flush=True)
    load_after = [round(x, 2) for x in os.getloadavg()]

    def med(name):
        rs = runs[name]
        m = {k: statistics.median(r[k] for r in rs) for k in ('seconds', 'cpu_seconds', 'val', 'val_exact')}
        m['tokens_per_sec'] = tokens / m['seconds']
        return m
    lec, ours = med('lecture_loop'), med('train')
    res = dict(
        benchmark='bigram training: lecture loop vs charlm_nb.training.train',
        date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        cpu=cpu_name(), cpu_count=os.cpu_count(), threads=torch.get_num_threads(),
        omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'), torch=torch.__version__,
        python=platform.python_version(), platform=platform.platform(),
        loadavg_before=load_before, loadavg_after=load_after,
        hyperparameters=HP, training_tokens=tokens, repeats=a.repeats,
        lecture_loop=lec, train=ours,
        speedup=lec['seconds'] / ours['seconds'], cpu_speedup=lec['cpu_seconds'] / ours['cpu_seconds'],
        runs=runs,
        note='median over alternating runs; seconds include all evaluations (10 periodic + 1 final); '
             'val = the loop\'s own final estimate, val_exact = NLL over every val position',
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + '\n')
    print(f"lecture loop: {lec['seconds']:.2f} s, {lec['tokens_per_sec']:,.0f} tokens/s, val {lec['val']:.4f} (exact {lec['val_exact']:.4f})")
    print(f"       train: {ours['seconds']:.2f} s, {ours['tokens_per_sec']:,.0f} tokens/s, val {ours['val']:.4f} (exact {ours['val_exact']:.4f})")
    print(f"speedup {res['speedup']:.2f}x wall, {res['cpu_speedup']:.2f}x CPU; torch {torch.__version__}, "
          f"{res['threads']} threads, {res['cpu']}; load {load_before} -> {load_after}; wrote {out}")


if __name__ == '__main__':
    main()
