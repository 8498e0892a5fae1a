#!/usr/bin/env python
"""Sampling benchmark for chapter 06 (`GPTLanguageModel.generate`), both paths side by side in one process;
writes `bench/results/sampling.json`.

The lecture-size GPT (`GPT_CONFIGS['lecture']`: 6 layers, 6 heads, n_embd 384, block_size 256; random weights, which
cost the same as trained ones) samples `block_size` new tokens from a one-token context, B=1, with
`use_cache=False` (the whole cropped context recomputed at every step) and with `use_cache=True` (a key/value cache:
one new position per step). Repeats alternate the order of the two paths so that drifting machine load hits both
alike; every repeat checks that both paths produced the same tokens from the same seeded generator.

Usage (from the repo root; on a quiet machine):
    python bench/bench_sampling.py [--threads 1] [--repeats 3] [--new-tokens 256]
then re-run chapter 06 (`tools/run_nb.sh nbs/06_gpt.ipynb`), which prints the figures from the JSON file.
"""
import argparse, datetime, json, os, platform, statistics, time
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_name, loadavg
import torch
from charlm_nb.gpt import GPT_CONFIGS, gpt_from_config

OUT = Path(__file__).parent / 'results' / 'sampling.json'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=1, help='torch threads for both paths (default 1)')
    ap.add_argument('--repeats', type=int, default=3, help='timed runs of each path (default 3)')
    ap.add_argument('--new-tokens', type=int, default=None, help="tokens to sample (default: the model's block_size)")
    ap.add_argument('--batch-size', type=int, default=1, help='sequences sampled at once (default 1)')
    ap.add_argument('--out', type=Path, default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    V = 65  # Tiny Shakespeare's characters
    torch.manual_seed(0)
    model, _ = gpt_from_config('lecture', V)
    model.eval()
    n_new = model.block_size if args.new_tokens is None else args.new_tokens
    B = args.batch_size
    ctx = torch.zeros((B, 1), dtype=torch.long)
    def run(use_cache):
        g = torch.Generator().manual_seed(1337)
        t0 = time.perf_counter()
        out = model.generate(ctx, n_new, generator=g, use_cache=use_cache)
        return time.perf_counter() - t0, out
    run(True); run(False)  # warm-up (allocator, kernels)
    load_start, t_start = loadavg(), datetime.datetime.now(datetime.timezone.utc)
    secs = {'full': [], 'cached': []}
    same = True
    for r in range(args.repeats):
        outs = {}
        for path in (('full', 'cached') if r % 2 == 0 else ('cached', 'full')):
            s, outs[path] = run(path == 'cached')
            secs[path].append(s)
            print(f"repeat {r}: {path:6s} {s:7.2f} s  {B * n_new / s:8.1f} tokens/s", flush=True)
        same &= torch.equal(outs['full'], outs['cached'])
    load_end = loadavg()
    tps = {k: B * n_new / statistics.median(v) for k, v in secs.items()}
    cache = model.new_cache(B)
    cfg = GPT_CONFIGS['lecture']['model']
    res = dict(
        date=t_start.isoformat(timespec='seconds'),
        machine=dict(cpu=cpu_name(), cpu_count=os.cpu_count(), torch=torch.__version__, torch_threads=torch.get_num_threads(),
                     python=platform.python_version(), system=f"{platform.system()} {platform.release()}"),
        loadavg_start=load_start, loadavg_end=load_end,
        model=dict(config='lecture', **{k: cfg[k] for k in ('n_layer', 'n_head', 'n_embd', 'block_size')},
                   vocab_size=V, parameters=sum(p.numel() for p in model.parameters()), weights='random (seed 0)'),
        task=f"generate {n_new} new tokens from a 1-token context, B={B}, temperature 1, no top_k, eval mode, no grad",
        method=(f"wall-clock of model.generate, median of {args.repeats} repeats per path after one warm-up run of each; "
                "repeats alternate the order of the paths; tokens/s = B x new tokens / seconds"),
        new_tokens=n_new, batch_size=B, repeats=args.repeats,
        seconds={k: [round(s, 4) for s in v] for k, v in secs.items()},
        tokens_per_sec={k: round(v, 2) for k, v in tps.items()},
        speedup=round(tps['cached'] / tps['full'], 3),
        same_tokens=bool(same),
        cache_bytes=cache.nbytes,
        paths=dict(full="use_cache=False: chapter 03's generate_tokens, the whole context (up to block_size) through the model every step",
                   cached="use_cache=True: generate_tokens with step_logits=kv_logits, a KVCache of every layer's keys and values; one new position per step"),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps({k: res[k] for k in ('tokens_per_sec', 'speedup', 'same_tokens', 'loadavg_start', 'loadavg_end')}))


if __name__ == '__main__': main()
