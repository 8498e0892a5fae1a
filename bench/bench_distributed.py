#!/usr/bin/env python
"""Benchmark: one process with 2 threads vs 2 processes with 1 thread each (torchrun, gloo) vs one process with 2 batch threads, side by side in one run.

All three train chapter 06's `cpu` GPT configuration with the same global batch (32 sequences of 64 characters per
optimizer step), the same seed and the same number of steps, through the installed `charlm-train` command:

    OMP_NUM_THREADS=2 charlm-train --model gpt --config cpu ...                      # 1 process x 2 threads
    OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node=2 --no-python charlm-train --model gpt --config cpu ...
    OMP_NUM_THREADS=2 charlm-train --model gpt --config cpu --batch-threads 2 ...     # 1 process, 2 batch threads (chapter 04)

Evaluation is cut to one batch (`--eval-iters 1`) and happens only at the start and the end, so the figure is training
throughput. Runs alternate (A B C, C B A, ...) so that drifting load hits all three alike. Reported
per run: training tokens per second (as `train` measures it, from its first evaluation to its last) and the wall time
of the whole command (process start-up and rendezvous included). Writes bench/results/distributed.json.

Usage: python bench/bench_distributed.py [--steps 200] [--repeats 2] [--out bench/results/distributed.json]
"""
import argparse, datetime, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_name


def run(cmd, threads, cwd):
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    env.pop('CHARLM_SMOKE', None)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=3600)
    wall = time.perf_counter() - t0
    if r.returncode != 0: sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    m = re.search(r'best val ([\d.]+) at step (\d+).*\(([\d.]+) s, ([\d,]+) tokens/s\)', r.stderr)
    if not m: sys.exit(f"no summary line in the output of {' '.join(cmd)}:\n{r.stderr[-3000:]}")
    return dict(tokens_per_sec=float(m.group(4).replace(',', '')), train_seconds=float(m.group(3)), wall_seconds=wall,
                best_val=float(m.group(1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'distributed.json'))
    a = ap.parse_args()
    exe, torchrun = shutil.which('charlm-train'), shutil.which('torchrun')
    if not exe or not torchrun: sys.exit("needs the installed charlm-train and torchrun on PATH (pip install -e .)")
    import torch
    from charlm_nb.gpt import GPT_CONFIGS
    batch = GPT_CONFIGS['cpu']['train']['batch_size']
    tmp = Path(tempfile.mkdtemp())
    args = ['--model', 'gpt', '--config', 'cpu', '--max-iters', str(a.steps), '--eval-interval', str(a.steps),
            '--eval-iters', '1', '--sample-chars', '0', '--out', 'bench.pt', '--overwrite']
    sides = {'1 process x 2 threads': ([exe, *args], 2),
             '2 processes x 1 thread (gloo)': ([torchrun, '--standalone', '--nproc-per-node=2', '--no-python', exe, *args], 1),
             '1 process, 2 batch threads': ([exe, *args, '--batch-threads', '2'], 2)}
    load0 = os.getloadavg()
    results = {k: [] for k in sides}
    for i in range(a.repeats):
        for name, (cmd, threads) in (sides.items() if i % 2 == 0 else reversed(sides.items())):  # A B C, C B A, ...
            r = run(cmd, threads, tmp)
            results[name].append(r)
            print(f"{name}: {r['tokens_per_sec']:,.0f} tokens/s, {r['wall_seconds']:.1f} s wall, best val {r['best_val']:.4f}", flush=True)
    load1 = os.getloadavg()
    shutil.rmtree(tmp)
    med = {k: statistics.median(r['tokens_per_sec'] for r in v) for k, v in results.items()}
    one, two, threads = med['1 process x 2 threads'], med['2 processes x 1 thread (gloo)'], med['1 process, 2 batch threads']
    out = dict(date=datetime.datetime.now().astimezone().isoformat(timespec='seconds'), cpu=cpu_name(),
               cores=os.cpu_count(), omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset (the OpenMP default)'), torch=torch.__version__, python=platform.python_version(),
               loadavg_before=[round(x, 2) for x in load0], loadavg_after=[round(x, 2) for x in load1],
               config='cpu', global_batch=batch, block_size=GPT_CONFIGS['cpu']['model']['block_size'], steps=a.steps,
               repeats=a.repeats, runs=results, median_tokens_per_sec=med, ratio_2proc_over_1proc=two / one,
               ratio_batch_threads_over_1proc=threads / one)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    print(f"2 processes / 1 process: {two / one:.2f}x tokens/s; 2 batch threads / 1 process: {threads / one:.2f}x -> {a.out}")


if __name__ == '__main__': main()
