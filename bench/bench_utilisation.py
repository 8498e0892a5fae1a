#!/usr/bin/env python
"""How much of the CPU a training step uses, by model width, optimizer and OpenMP wait policy; writes `bench/results/utilisation.json`.

1. Step rates. For each OpenMP wait policy (PASSIVE: idle threads sleep, the setting of the other benchmarks; and the
   library's default, OMP_WAIT_POLICY unset: idle threads spin a while before they sleep), a fresh process measures this
   CPU's float32 matmul peak (as bench_gpt_fast.py does) and then the steady-state speed of one training step, as
   `train` runs it (forward, backward, clip_grad_norm_, the optimizer's step, on a fixed batch), for these shapes:
   the `fast` configuration as `train` runs it (width 128, 4 layers, Muon, batch 32, as many batch threads as torch
   threads, Muon's products in bfloat16 where `native_bf16` says so); the same with float32 products; the same on one
   batch with torch's threads on every operation, as all the rows below run; the same with AdamW, with Muon at batch 64,
   width 256 with AdamW and with Muon, and width 256 with 2 layers (half the FLOPs per token of 4 layers, on the same
   matrix shapes) with AdamW and with Muon. Utilisation = model FLOPs per token (6N + 12·L·C·T) x tokens/s / that
   process's peak. The two policies alternate (PASSIVE, default, default, PASSIVE, ...); medians over the rounds.
   The same processes also split the width-128 Muon step on torch's threads into its phases (forward, backward, clip_grad_norm_, Muon's step,
   AdamW's step), timed one after another on the same fixed batch, so that the utilisation the step would have if
   the optimizer cost nothing (forward and backward alone) can be read off.
2. The shape that uses the CPU best in part 1 (PASSIVE; of the rows on torch's threads), by the clock, on torch's threads: trained with its optimizer (lr 3e-3 for AdamW,
   the `fast` configuration's 1e-2 for Muon; 30 warmup steps, 300 steps) by the same harness as bench_gpt_fast.py's
   race, against the same target (nanoGPT's final val loss, read from gpt_fast.json): does it reach the loss, and when?

Usage (from the repo root, after bench_gpt_fast.py has written its results):
    python bench/bench_utilisation.py [--threads 2] [--rounds 2]
"""
import argparse, datetime, json, os, statistics, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import bench_json, loadavg
from bench_gpt_fast import check_policy, flops_per_token, machine_info, matmul_peak, run_ours, training_step

FAST = dict(n_embd=128, n_head=4, n_layer=4, block_size=64, dropout=0.0)
SHAPES = [  # (name, model overrides of FAST, batch, optimizer[, how the step runs: training_step's batch_threads, ns_dtype])
    ('fast: width 128, Muon, batch 32, batch threads, Newton–Schulz auto', {}, 32, 'muon', dict(batch_threads='auto', ns_dtype='auto')),
    ('width 128, Muon, batch 32, batch threads', {}, 32, 'muon', dict(batch_threads='auto')),
    ('width 128, Muon, batch 32', {}, 32, 'muon'),
    ('width 128, AdamW, batch 32', {}, 32, 'adamw'),
    ('width 128, Muon, batch 64', {}, 64, 'muon'),
    ('width 256, AdamW, batch 32', {'n_embd': 256}, 32, 'adamw'),
    ('width 256, Muon, batch 32', {'n_embd': 256}, 32, 'muon'),
    ('width 256, 2 layers, AdamW, batch 32', {'n_embd': 256, 'n_layer': 2}, 32, 'adamw'),
    ('width 256, 2 layers, Muon, batch 32', {'n_embd': 256, 'n_layer': 2}, 32, 'muon'),
]
POLICIES = ('PASSIVE', 'default')
WIDE_TRAIN = dict(warmup_iters=30, max_iters=300)  # how part 2 trains the best shape,
WIDE_LR = dict(adamw=3e-3, muon=1e-2)              # at this peak learning rate for its optimizer


PHASES = ('forward', 'backward', 'clip', 'muon', 'adamw')  # the parts of the width-128 Muon step, in the order they run
FAST_BATCH = SHAPES[0][2]  # the `fast` configuration's batch size


def phases(steps=10, rounds=3):
    "Milliseconds per step of each phase of the width-128 Muon step (batch 32, torch's threads on every operation, float32) on a fixed batch, from the round of least total time."
    import torch
    from charlm_nb.gpt import GPTLanguageModel, MuonAdamW
    torch.manual_seed(0)
    model = GPTLanguageModel(65, **FAST)
    opt = MuonAdamW(model, 1e-4, 0.1, torch.device('cpu'))
    x, y = (torch.randint(0, 65, (FAST_BATCH, FAST['block_size'])) for _ in range(2))
    def step(acc):
        t = [time.perf_counter()]
        _, loss = model(x, y); t.append(time.perf_counter())
        opt.zero_grad(set_to_none=True); loss.backward(); t.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); t.append(time.perf_counter())
        opt.muon.step(); t.append(time.perf_counter())
        opt.adamw.step(); t.append(time.perf_counter())
        for k, a, b in zip(PHASES, t, t[1:]): acc[k] += (b - a) * 1000 / steps
    for _ in range(3): step(dict.fromkeys(PHASES, 0.0))
    best = None
    for _ in range(rounds):
        acc = dict.fromkeys(PHASES, 0.0)
        for _ in range(steps): step(acc)
        if best is None or sum(acc.values()) < sum(best.values()): best = acc
    return best


def child(threads, steps=8, rounds=3):
    "Peak and step rates in this process (its OpenMP policy is the one it was started with)."
    import torch
    from charlm_nb.gpt import native_bf16
    from charlm_nb.training import _batch_threads
    torch.set_num_threads(threads)
    peak = matmul_peak(threads)['peak_gflops'] * 1e9
    out = []
    for name, over, B, opt, *how in SHAPES:
        mk = {**FAST, **over}
        how = dict(how[0]) if how else {}
        if how.get('batch_threads') == 'auto':  # what train's 'auto' picks for this batch on this CPU
            how['batch_threads'] = _batch_threads('auto', B, torch.device('cpu'), 1, False, torch.nn.Identity())
        model, step = training_step(mk, B, opt, **how)
        for _ in range(3): step(model)
        rates = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(steps): step(model)
            rates.append(steps * B * mk['block_size'] / (time.perf_counter() - t0))
        fpt, _ = flops_per_token(mk['n_layer'], mk['n_embd'], mk['block_size'], 65)
        if how.get('ns_dtype') == 'auto': how['ns_dtype_used'] = 'bfloat16' if native_bf16('cpu') else 'float32'  # MuonAdamW's choice
        out.append(dict(name=name, model=mk, batch_size=B, optimizer=opt, tokens_per_sec=max(rates), how=how,
                        flops_per_token=fpt, utilisation=fpt * max(rates) / peak))
    print('BENCH_JSON ' + json.dumps(dict(peak_gflops=peak / 1e9, shapes=out, phases_ms=phases(), omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'default'))), flush=True)


def run_child(policy, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if policy == 'default': env.pop('OMP_WAIT_POLICY', None)
    else: env['OMP_WAIT_POLICY'] = policy
    la0 = loadavg()
    p = subprocess.run([sys.executable, __file__, '--child', str(threads)], env=env, capture_output=True, text=True)
    if p.returncode: raise RuntimeError(f"the {policy} run failed:\n{p.stderr[-3000:]}")
    r = bench_json(p.stdout, f"the {policy} run")
    check_policy(r, policy, f"the {policy} run")
    r.update(policy=policy, loadavg_before=la0, loadavg_after=loadavg())
    print(policy, f"peak {r['peak_gflops']:.0f} GFLOP/s;", ', '.join(f"{s['name']}: {s['utilisation']:.0%}" for s in r['shapes']), flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--child', type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--rounds', type=int, default=2, help='processes per policy (alternating)')
    ap.add_argument('--race', default=str(Path(__file__).parent / 'results' / 'gpt_fast.json'))
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'utilisation.json'))
    a = ap.parse_args()
    if a.child is not None: return child(a.child)
    race_file = json.loads(Path(a.race).read_text())
    race = race_file['race']
    res = dict(machine=machine_info(a.threads), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               loadavg_start=loadavg())
    runs = []
    for r in range(a.rounds):
        for policy in (POLICIES if r % 2 == 0 else POLICIES[::-1]): runs.append(run_child(policy, a.threads))
    table = []
    for i, (name, *_) in enumerate(SHAPES):
        row = dict(runs[0]['shapes'][i], name=name)
        for policy in POLICIES:
            mine = [x for x in runs if x['policy'] == policy]
            row[policy] = dict(utilisation=statistics.median(x['shapes'][i]['utilisation'] for x in mine),
                               tokens_per_sec=statistics.median(x['shapes'][i]['tokens_per_sec'] for x in mine))
        del row['utilisation'], row['tokens_per_sec']
        table.append(row)
    fpt, _ = flops_per_token(FAST['n_layer'], FAST['n_embd'], FAST['block_size'], 65)
    peaks = {p: statistics.median(x['peak_gflops'] for x in runs if x['policy'] == p) for p in POLICIES}
    split = {}
    for policy in POLICIES:
        ms = {k: statistics.median(x['phases_ms'][k] for x in runs if x['policy'] == policy) for k in PHASES}
        util = lambda step_ms: fpt * FAST_BATCH * FAST['block_size'] / (step_ms / 1000) / (peaks[policy] * 1e9)
        fwd_bwd = ms['forward'] + ms['backward']  # what a step would cost if clipping and the optimizer were free
        split[policy] = dict(ms=ms, step_ms=sum(ms.values()), utilisation=util(sum(ms.values())),
                             utilisation_forward_backward=util(fwd_bwd))
        print(policy, "phases of the width-128 Muon step on torch's threads (ms):", {k: round(v, 1) for k, v in ms.items()},
              f"forward and backward alone: {split[policy]['utilisation_forward_backward']:.0%}", flush=True)
    res.update(peak_gflops=peaks, shapes=table, fast_phases=split, runs=runs)
    os.environ['OMP_WAIT_POLICY'] = 'PASSIVE'  # the race's setting
    best = max((i for i, s in enumerate(SHAPES) if len(s) == 4), key=lambda i: table[i]['PASSIVE']['utilisation'])  # rows on torch's threads
    name, over, B, opt, *_ = SHAPES[best]
    spec = dict(config='fast', model=over, target=race['target'],
                train=dict(WIDE_TRAIN, batch_size=B, optimizer=opt, lr=WIDE_LR[opt], batch_threads=1))  # on torch's threads, as the rows it is chosen from
    wide = run_ours(f"{name}: lr {WIDE_LR[opt]:g}, {WIDE_TRAIN['max_iters']} steps", spec, a.threads)
    check_policy(wide, 'PASSIVE')
    res['wide'] = dict(wide, shape=name, race_date=race_file['date'])  # the shape it trained, the race whose target it chased
    res.update(loadavg_end=loadavg(), method=(
        "step rates: a fresh process per policy and round (PASSIVE, default alternating), each measuring its own matmul "
        "peak first; one step = forward, backward, clip_grad_norm_, optimizer step on a fixed batch, 3 warm-up steps, "
        "best of 3 rounds of 8 steps; medians over the processes of a policy. fast_phases: in the same processes, the width-128 Muon "
        "step timed phase by phase (perf_counter between phases; CPU operations finish before they return), 3 warm-up "
        "steps, the round of least total time of 3 rounds of 10 steps, medians over the processes; utilisation_forward_backward "
        "= model FLOPs of the step / (forward + backward time) / peak. wide: the shape of highest PASSIVE "
        "utilisation, by bench_gpt_fast.py's race harness (OMP_WAIT_POLICY=PASSIVE, as in the race), once"))
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f"wrote {a.out}")


if __name__ == '__main__': main()
