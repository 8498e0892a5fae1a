#!/usr/bin/env python
"""Time to nanoGPT's loss, and how much of the CPU each side uses; writes `bench/results/gpt_fast.json`.

1. Peak: this CPU's float32 matmul rate at the benchmark's thread count (square matrices, best size, best of several rounds, measured before and after the race),
   and the rate of matmuls of the shapes a training step of the 4-layer, width-128 model actually runs.
2. The race, each side a fresh Python process timed from its start (`Popen`) by this script:
   - nanoGPT's own `train.py` with its README's CPU recipe (2000 steps of 12 x 64 tokens), from a checkout given by
     `--nanogpt` (copied to a temporary directory, `prepare.py` fed the bundled corpus): its whole run, start to exit;
   - ours: chapter 04's `train` on a `GPT_CONFIGS` configuration, with frequent cheap evaluations. Its time to loss is
     the wall time from process start until the end of the first evaluation whose val estimate is at or below
     nanoGPT's own final val estimate (the figure nanoGPT prints at step 2000), evaluations, imports and compilation
     included. The model at that moment is kept and scored afterwards on the same 200 val batches as nanoGPT's final
     checkpoint, so the crossing can be checked on a larger sample than the estimate that detected it.
   The race runs under two OpenMP wait policies: OMP_WAIT_POLICY=PASSIVE (idle OpenMP threads sleep; the setting of
   this script and of the other benchmarks) and OMP_WAIT_POLICY unset (the OpenMP library's default, which a user
   gets: idle threads spin a while first). Under each the order is nanoGPT, ours, ours, nanoGPT, so drifting load hits
   both sides alike, and the two policies interleave A B B A (P: PASSIVE, U: unset; nanoGPT P, nanoGPT U, ours P,
   ours U, ours U, ours P, nanoGPT U, nanoGPT P), so a steady drift hits both policies alike too. Each run records the policy it was started with (ours:
   its own environment; nanoGPT: read from /proc) and its place in the order.
3. What changes buy: the same harness, with the configuration's own evaluations, on variants of it, once each:
   AdamW (with its own batch size, peak learning rate and steps), Muon at batch 16 (with its own learning rate and
   steps), the `cpu` configuration, torch.compile (which runs with one batch thread: `train` refuses the two together),
   GELU, one batch thread (torch's threads on every operation, `batch_threads=1`), Muon's Newton–Schulz products in
   float32 (where the configuration's `ns_dtype='auto'` chose bfloat16). Each run records its model and training
   settings, the batch threads it used and the precision of Muon's products, so the chapter prints what each one
   changes. torch.compile always starts with an empty cache (its own TORCHINDUCTOR_CACHE_DIR), so its compile time
   is what a first run pays.
4. Utilisation: model FLOPs per training token (6N + 12·L·C·T, N = weights in matrix multiplies, nanoGPT's estimate
   from the PaLM paper) x training tokens per second (evaluation time excluded) / the peak of 1; for ours also with
   Muon's Newton–Schulz products counted (they are real work, but not model FLOPs).
5. Where the time goes: torch.profiler's top operators for one eager training step and for one compiled step (each
   of inductor's generated kernels under its own name), and compiled vs eager step time, with ReLU and with GELU.
   These steps run as compile can: one batch, torch's threads on every operation, Muon's products in float32.

Usage (from the repo root):
    python bench/bench_gpt_fast.py --nanogpt /path/to/nanoGPT [--threads 2] [--nanogpt-source "..."] [--no-default-policy]
    python bench/bench_gpt_fast.py --profile-only [--threads 2]   # part 5 alone, into the existing results file
"""
import argparse, atexit, copy, datetime, functools, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import bench_json, cpu_name, loadavg
from _nanogpt import EVAL_LINE, ITER_LINE, load_checkpoint_model, nanogpt_checkout, start_train

NANOGPT_ARGS = ['config/train_shakespeare_char.py', '--device=cpu', '--compile=False', '--eval_iters=20', '--log_interval=1',
                '--block_size=64', '--batch_size=12', '--n_layer=4', '--n_head=4', '--n_embd=128', '--max_iters=2000',
                '--lr_decay_iters=2000', '--dropout=0.0']
NANOGPT_SHAPE = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000, vocab_size=65)


def machine_info(threads):
    import torch
    cpu = cpu_name()
    return dict(cpu=cpu, cpu_count=os.cpu_count(), torch=torch.__version__, threads=threads,
                python=platform.python_version(), platform=f"{platform.system()} {platform.release()}")


def flops_per_token(n_layer, n_embd, block_size, vocab_size):
    "6N + 12·L·C·T: N = 12·L·C² (attention and MLP weights) + V·C (the output layer), all in matrix multiplies."
    N = 12 * n_layer * n_embd**2 + vocab_size * n_embd
    return 6 * N + 12 * n_layer * n_embd * block_size, N


def muon_flops_per_step(model):
    "FLOPs of Muon's Newton–Schulz products in one step over the matrices MuonAdamW gives it: per p×q matrix (p ≤ q) and iteration, 4p²q + 2p³."
    from charlm_nb.gpt import MuonAdamW
    groups = MuonAdamW(model).muon.param_groups  # the matrices, and the iterations, that training uses
    return sum(g['ns_steps'] * (4 * p * p * q + 2 * p**3) for g in groups for p, q in (sorted(w.shape) for w in g['params']))


def matmul_peak(threads, rounds=5):
    "float32 GFLOP/s of square matmuls (best size, best round) and of the training step's own matmul shapes (best round)."
    import torch
    torch.set_num_threads(threads)
    def rate(m, k, n, reps):
        a, b = torch.randn(m, k), torch.randn(k, n)
        for _ in range(2): a @ b
        rs = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(reps): a @ b
            rs.append(2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9)
        return max(rs)  # other processes can only slow a round down: the best round is the closest to the CPU's rate
    square = {n: rate(n, n, n, max(2, int(4e9 // (2 * n**3)))) for n in (512, 1024, 2048)}
    # a (B*T=2048)-row batch through the model's Linear layers: qkv 128→384, proj 128→128, MLP 128→512 and 512→128, head 128→65
    shapes = {f"{m}x{k}@{k}x{n}": rate(m, k, n, 50) for m, k, n in
              ((2048, 128, 384), (2048, 128, 128), (2048, 128, 512), (2048, 512, 128), (2048, 128, 65))}
    return dict(peak_gflops=max(square.values()), square_gflops={str(k): v for k, v in square.items()},
                model_shapes_gflops=shapes,
                method=f"torch.matmul on float32, {threads} thread(s); peak = best square size, best of {rounds} rounds")


# ---------------------------------------------------------------------------------------------------------------------
# Our side: a child process (`--child SPEC`) that trains and reports the wall-clock time of every evaluation.

def use_gelu(model):
    "GELU (GPT-2's, nanoGPT's) in place of ReLU in every feed-forward of `model`; the same parameters."
    import torch
    from charlm_nb.gpt import FeedForward
    for m in model.modules():
        if isinstance(m, FeedForward): m.net[1] = torch.nn.GELU()
    return model


def child(spec):
    t_start = time.time()
    import torch
    torch.set_num_threads(spec['threads'])
    import charlm_nb.training as tr
    from charlm_nb.data import load_text, train_val_split
    from charlm_nb.tokenizer import CharTokenizer
    from charlm_nb.gpt import GPT_CONFIGS, GPTLanguageModel, config_optimizer
    text = load_text('shakespeare')
    tok = CharTokenizer.from_text(text)
    train_data, val_data = train_val_split(tok.encode_tensor(text))
    cfg = GPT_CONFIGS[spec['config']]
    model_kw = {**cfg['model'], **spec.get('model', {})}
    train_kw = {**cfg['train'], **spec.get('train', {})}
    torch.manual_seed(1337)
    model = GPTLanguageModel(tok.vocab_size, **model_kw)
    if spec.get('gelu'): use_gelu(model)
    evals, crossing = [], {}
    real_estimate = tr.estimate_loss
    def timed_estimate(*a, **k):  # train's evaluations, timed; the model is kept the first time val reaches the target
        t0 = time.time()
        out = real_estimate(*a, **k)
        evals.append(dict(t=time.time(), seconds=time.time() - t0, train=out['train'], val=out['val']))
        if 'state' not in crossing and out['val'] <= spec['target']:
            crossing.update(state=copy.deepcopy(model.state_dict()), index=len(evals) - 1)
        return out
    tr.estimate_loss = timed_estimate
    t_train = time.time()
    optimizer = train_kw.get('optimizer', 'adamw')  # a name of OPTIMIZERS
    base_opt = config_optimizer(optimizer, spec['config'])  # with the configuration's settings for it (fast: ns_dtype='auto')
    if spec.get('ns_dtype'): base_opt = functools.partial(base_opt, ns_dtype=getattr(torch, spec['ns_dtype']))  # Muon's products
    made = []
    def make_opt(*a, **k):  # keeps the optimizer, to record the precision Muon's products ran in
        made.append(base_opt(*a, **k)); return made[-1]
    h = tr.train(model, train_data, val_data, block_size=model_kw['block_size'], device='cpu', seed=1337, progress=False,
                 **{**train_kw, 'optimizer': make_opt})
    t_end = time.time()
    tr.estimate_loss = real_estimate
    def score(m):  # the same 200 val batches of 32 x 64 that nanoGPT's checkpoint is scored on
        return tr.estimate_loss(m, {'val': val_data}, eval_iters=200, batch_size=32, block_size=64, device='cpu',
                                generator=torch.Generator().manual_seed(2024))['val']
    final_score = score(model)
    cross_score = None
    if 'state' in crossing:
        model.load_state_dict(crossing['state']); cross_score = score(model)
    B, T = train_kw['batch_size'], model_kw['block_size']
    eval_seconds = sum(e['seconds'] for e in evals)
    fpt, N = flops_per_token(model_kw['n_layer'], model_kw['n_embd'], T, tok.vocab_size)
    n_linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    opt_fps = muon_flops_per_step(model) if optimizer == 'muon' else 0
    used = getattr(getattr(made[0], 'muon', None), 'ns_dtype', False)  # False: no Muon; None: the gradients' float32
    ns_used = None if used is False else str(used or torch.float32).removeprefix('torch.')
    res = dict(config=spec['config'], gelu=bool(spec.get('gelu')), optimizer=optimizer, ns_dtype=spec.get('ns_dtype'), ns_dtype_used=ns_used,
               batch_threads_used=h['batch_threads'], optimizer_flops_per_step=opt_fps, model=model_kw, train={k: v for k, v in train_kw.items()}, t_start=t_start,
               t_train_start=t_train, t_end=t_end, compile_seconds=h['compile_seconds'], loop_seconds=h['seconds'],
               eval_seconds=eval_seconds, steps=h['step'], evals=evals, crossing_index=crossing.get('index'),
               crossing_score_200=cross_score, final_score_200=final_score, train_tokens=train_kw['max_iters'] * B * T,
               train_tokens_per_sec=train_kw['max_iters'] * B * T / (h['seconds'] - eval_seconds),
               flops_per_token=fpt, matmul_weights=N, matmul_weights_counted=n_linear,
               omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'))
    print('BENCH_JSON ' + json.dumps(res), flush=True)


def run_ours(name, spec, threads):
    spec = dict(spec, threads=threads)
    with tempfile.TemporaryDirectory(prefix='inductor_') as cache:  # torch.compile starts cold, as on a first run
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED='1', TORCHINDUCTOR_CACHE_DIR=cache)
        la0 = loadavg()
        t0 = time.time()
        p = subprocess.run([sys.executable, __file__, '--child', json.dumps(spec)], env=env, capture_output=True, text=True)
        wall = time.time() - t0
    if p.returncode: raise RuntimeError(f"{name} failed:\n{p.stderr[-3000:]}")
    r = bench_json(p.stdout, name)
    B, T = r['train']['batch_size'], r['model']['block_size']
    curve = [dict(step=s, tokens=s * B * T, wall=e['t'] - t0, val=e['val'], train=e['train']) for s, e in zip(r['steps'], r['evals'])]
    i = r['crossing_index']
    out = dict(name=name, config=r['config'], gelu=r['gelu'], optimizer=r['optimizer'], ns_dtype=r['ns_dtype'],
               ns_dtype_used=r['ns_dtype_used'], batch_threads_used=r['batch_threads_used'],
               optimizer_flops_per_step=r['optimizer_flops_per_step'], model=r['model'], train=r['train'], process_seconds=wall,
               startup_seconds=r['t_train_start'] - t0, compile_seconds=r['compile_seconds'], loop_seconds=r['loop_seconds'],
               eval_seconds=r['eval_seconds'], evals=len(r['evals']), train_tokens=r['train_tokens'],
               train_tokens_per_sec=r['train_tokens_per_sec'], flops_per_token=r['flops_per_token'],
               matmul_weights=r['matmul_weights'], matmul_weights_counted=r['matmul_weights_counted'],
               final_score_200=r['final_score_200'], target=spec['target'],
               crossed=i is not None, time_to_loss=None if i is None else curve[i]['wall'],
               tokens_to_loss=None if i is None else curve[i]['tokens'], crossing_estimate=None if i is None else curve[i]['val'],
               crossing_score_200=r['crossing_score_200'], omp_wait_policy=r['omp_wait_policy'], loadavg_before=la0,
               loadavg_after=loadavg(), curve=curve)
    print({k: v for k, v in out.items() if k != 'curve'}, flush=True)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# nanoGPT's side


def _child_policy(pid):
    "OMP_WAIT_POLICY in the environment process `pid` was started with ('unset' if absent), read from /proc (Linux)."
    env = dict(kv.split('=', 1) for kv in Path(f'/proc/{pid}/environ').read_text(errors='replace').split('\0') if '=' in kv)
    if not env: raise RuntimeError(f"/proc/{pid}/environ is empty: process {pid} has not finished starting, or has ended")
    return env.get('OMP_WAIT_POLICY', 'unset')


def run_nanogpt(work, threads, val_data, source):
    "nanoGPT's train.py, start to exit, its log lines timestamped as they arrive; its final checkpoint scored like ours."
    import torch
    from charlm_nb.training import estimate_loss
    la0 = loadavg()
    p, out_dir, t0 = start_train(work, NANOGPT_ARGS, threads)
    lines, policy, policy_error = [], None, None
    for line in p.stdout:
        lines.append((time.perf_counter() - t0, line))
        # Read while train.py runs, after its first line. Read right after Popen returned, it once gave 'unset' for a run
        # started with PASSIVE, for a reason we do not know; `_child_policy` now refuses an empty environment.
        if policy is None:
            try: policy = _child_policy(p.pid)
            except (OSError, RuntimeError) as e: policy_error = e  # tried again at the next line
    err = p.stderr.read(); p.wait()
    wall = time.perf_counter() - t0
    if p.returncode: raise RuntimeError(f"nanoGPT's train.py failed:\n{err[-2000:]}")
    if policy is None: raise RuntimeError(f"could not read the wait policy of nanoGPT's train.py from /proc: {policy_error}")
    iters, curve = [], []
    for t, line in lines:
        m = ITER_LINE.match(line)
        if m: iters.append((int(m[1]), float(m[2])))
        m = EVAL_LINE.match(line)
        if m: curve.append(dict(step=int(m[1]), tokens=int(m[1]) * 12 * 64, wall=t, train=float(m[2]), val=float(m[3])))
    if not curve or not iters:
        raise RuntimeError("nanoGPT's train.py printed no 'iter …' or 'step …: train loss …, val loss …' lines that this "
                           "benchmark recognises; the end of its output:\n" + ''.join(l for _, l in lines[-20:]))
    ck, model = load_checkpoint_model(work, out_dir)
    score = estimate_loss(model, {'val': val_data}, eval_iters=200, batch_size=32, block_size=64, device='cpu',
                          generator=torch.Generator().manual_seed(2024))['val']
    S = NANOGPT_SHAPE
    step_ms = [ms for i, ms in iters if i % 250 != 0 and i > 0]  # iterations without an evaluation (and not the first)
    fpt, N = flops_per_token(S['n_layer'], S['n_embd'], S['block_size'], S['vocab_size'])
    r = dict(name="nanoGPT's own train.py (B=12, 2000 steps)", source=source, command='python train.py ' + ' '.join(NANOGPT_ARGS),
             process_seconds=wall, final_val=curve[-1]['val'], final_step=curve[-1]['step'], final_score_200=score,
             scored_step=ck['iter_num'], steps_run=len(iters),
             train_tokens_per_sec=12 * 64 * 1000 / statistics.mean(step_ms), flops_per_token=fpt, matmul_weights=N,
             matmul_weights_counted=sum(v.numel() for k, v in model.named_parameters() if v.dim() == 2 and 'wpe' not in k),
             omp_wait_policy=policy, loadavg_before=la0, loadavg_after=loadavg(), curve=curve)
    print({k: v for k, v in r.items() if k != 'curve'}, flush=True)
    return r


# ---------------------------------------------------------------------------------------------------------------------
# Where the time goes

def training_step(model_kw, B, optimizer, vocab_size=65, batch_threads=1, ns_dtype=None):
    "`(model, step)`: a GPT, its optimizer (a name of OPTIMIZERS; Muon's products in `ns_dtype`) and a fixed (B,T) batch; `step(f)` trains once through `f` as `train` does (forward, backward, clip_grad_norm_, the optimizer's step), on `batch_threads` threads as `train(batch_threads=...)` runs them."
    import contextlib, torch
    from concurrent.futures import ThreadPoolExecutor
    from charlm_nb.gpt import GPTLanguageModel, OPTIMIZERS
    from charlm_nb.training import _batch_pool, _sharded_backward  # what train's steps run, with batch threads
    torch.manual_seed(0)
    model = GPTLanguageModel(vocab_size, **model_kw)
    kw = {} if optimizer != 'muon' else dict(ns_dtype=ns_dtype)
    opt = OPTIMIZERS[optimizer](model, 1e-4, 0.1, torch.device('cpu'), **kw)
    x, y = torch.randint(0, vocab_size, (B, model_kw['block_size'])), torch.randint(0, vocab_size, (B, model_kw['block_size']))
    pool = ThreadPoolExecutor(batch_threads) if batch_threads > 1 else None
    def step(f):
        with _batch_pool(pool, batch_threads):
            opt.zero_grad(set_to_none=True)
            if pool is None: f(x, y)[1].backward()
            else: _sharded_backward(f, x, y, pool, batch_threads, 1.0, contextlib.nullcontext)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    return model, step


def _top_ops(prof, steps, n=18):
    "The `n` operators (or generated kernels) of largest self time in `prof`: per step, share of the total, calls per step."
    ka = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in ka)
    return total, [dict(op=e.key, self_ms_per_step=e.self_cpu_time_total / 1000 / steps, share=e.self_cpu_time_total / total,
                        calls_per_step=e.count / steps) for e in ka[:n]]


def _eager_vs_compiled(model, cm, step, tokens, rounds, steps):
    "Median tokens/s of `step` through the eager model and through the compiled one, in alternating rounds."
    rates = {'eager': [], 'compiled': []}
    for r in range(rounds):
        for k in (('eager', 'compiled') if r % 2 == 0 else ('compiled', 'eager')):
            f = model if k == 'eager' else cm
            t0 = time.perf_counter()
            for _ in range(steps): step(f)
            rates[k].append(steps * tokens / (time.perf_counter() - t0))
    return {k: statistics.median(v) for k, v in rates.items()}, {k: [round(v) for v in vs] for k, vs in rates.items()}


def profile_step(threads, cfg_name, model_over=None, B=None, compiled_rounds=4, steps=10):
    "torch.profiler's top operators for one eager and one compiled training step; eager vs compiled step time (alternating rounds), with ReLU and with GELU."
    import torch
    import torch._inductor.config as inductor_config
    from torch.profiler import ProfilerActivity, profile
    from charlm_nb.gpt import GPT_CONFIGS
    torch.set_num_threads(threads)
    la0 = loadavg()
    cfg = GPT_CONFIGS[cfg_name]
    optimizer = cfg['train'].get('optimizer', 'adamw')
    mk = {**cfg['model'], **(model_over or {})}
    B = B or cfg['train']['batch_size']
    T = mk['block_size']
    model, step = training_step(mk, B, optimizer)
    for _ in range(3): step(model)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps): step(model)
    table = prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=18, max_name_column_width=40)
    total, top = _top_ops(prof, steps)
    inductor_config.cpp.enable_kernel_profile = True  # each generated kernel shows in the profiler under its own name
    t0 = time.perf_counter()
    cm = torch.compile(model)
    step(cm)
    compile_s = time.perf_counter() - t0
    for _ in range(3): step(cm)
    with profile(activities=[ProfilerActivity.CPU]) as prof_c:
        for _ in range(steps): step(cm)
    total_c, top_c = _top_ops(prof_c, steps)
    tps, rounds = _eager_vs_compiled(model, cm, step, B * T, compiled_rounds, steps)
    # the same with GELU in place of ReLU (a fresh model: another graph to compile)
    model_g, step_g = training_step(mk, B, optimizer)
    use_gelu(model_g)
    cm_g = torch.compile(model_g)
    for _ in range(4): step_g(cm_g); step_g(model_g)
    tps_g, rounds_g = _eager_vs_compiled(model_g, cm_g, step_g, B * T, compiled_rounds, steps)
    return dict(shape=f"{mk['n_layer']}L C={mk['n_embd']} B={B} T={T}, act=relu, optimizer {optimizer}",
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), loadavg_start=la0,
                step_ms_profiled=total / 1000 / steps, top_ops=top, table=table, compile_seconds=compile_s,
                compiled_step_ms_profiled=total_c / 1000 / steps, compiled_top_ops=top_c,
                tokens_per_sec=tps, rounds=rounds, gelu_tokens_per_sec=tps_g, gelu_rounds=rounds_g, loadavg_end=loadavg(),
                method=(f"one training step = forward, backward, clip_grad_norm_, the optimizer step ({optimizer}) on a fixed batch; profiler "
                        f"over {steps} eager steps after 3 warm-up steps, then over {steps} compiled steps (torch.compile, inductor, "
                        f"cpp.enable_kernel_profile: each generated kernel under its own name); eager vs compiled, "
                        f"{compiled_rounds} alternating rounds of {steps} steps, median tokens/s; the same with GELU in place of ReLU"))


def add_utilisation(r, peak):
    "Model FLOPs/s over the peak; and counting the optimizer's own matrix products too (Muon's Newton–Schulz), per token."
    r['utilisation'] = r['flops_per_token'] * r['train_tokens_per_sec'] / peak
    if 'optimizer_flops_per_step' in r:  # ours
        tokens_per_step = r['train']['batch_size'] * r['model']['block_size']
        r['utilisation_with_optimizer'] = (r['flops_per_token'] + r['optimizer_flops_per_step'] / tokens_per_step) * r['train_tokens_per_sec'] / peak


def check_policy(r, policy, what=None):
    "Raise unless run `r` reports that it ran under OMP_WAIT_POLICY=`policy`; `what` names the run (default: its name)."
    if r['omp_wait_policy'] != policy:
        raise RuntimeError(f"{what or r['name']} ran with OMP_WAIT_POLICY={r['omp_wait_policy']}, not {policy}")


def _set_policy(policy):
    "Start the next runs with OMP_WAIT_POLICY=`policy` ('unset': without the variable)."
    if policy == 'unset': os.environ.pop('OMP_WAIT_POLICY', None)
    else: os.environ['OMP_WAIT_POLICY'] = policy


def race_order(policies):
    "The runs of the race as (side, policy): nanoGPT, ours, ours, nanoGPT under each policy; two policies A, B interleaved A B B A."
    if len(policies) == 1: return [(s, policies[0]) for s in ('nanogpt', 'ours', 'ours', 'nanogpt')]
    A, B = policies
    return [('nanogpt', A), ('nanogpt', B), ('ours', A), ('ours', B), ('ours', B), ('ours', A), ('nanogpt', B), ('nanogpt', A)]


def race(work, threads, val_data, source, config, policies):
    "The race under each OpenMP wait policy of `policies`, runs in `race_order`; ours chases nanoGPT's first final val estimate."
    saved, runs, target = os.environ.get('OMP_WAIT_POLICY'), {p: dict(nanogpt=[], ours=[]) for p in policies}, None
    try:
        for i, (side, policy) in enumerate(race_order(policies)):
            _set_policy(policy)
            if side == 'nanogpt':
                r = run_nanogpt(work, threads, val_data, source)
                if target is None: target = r['final_val']  # nanoGPT's own final val estimate (its print at step 2000)
                if r['final_val'] != target:  # ours chases `target` under every policy
                    raise RuntimeError(f"nanoGPT ended at val {r['final_val']} under OMP_WAIT_POLICY={policy}, at {target} in its "
                                       f"first run: its seeded run should not depend on the run or the wait policy")
            else: r = run_ours(f"ours: {config} config", dict(config=config, target=target), threads)
            check_policy(r, policy)  # each run reports the policy it ran under
            r['run_index'] = i  # its place in the order
            runs[policy][side].append(r)
    finally:
        if saved is None: os.environ.pop('OMP_WAIT_POLICY', None)
        else: os.environ['OMP_WAIT_POLICY'] = saved
    return {p: (v['nanogpt'][0]['final_val'], v['nanogpt'], v['ours']) for p, v in runs.items()}


def race_summary(target, nano, ours, peak, policy, peak_policy, order):
    "The race's figures: time to loss against nanoGPT's whole run, and utilisation, under one wait policy."
    for r in [*nano, *ours]: add_utilisation(r, peak)
    ng_wall = statistics.mean(r['process_seconds'] for r in nano)
    ttl = [r['time_to_loss'] for r in ours]
    crossed = all(t is not None for t in ttl)
    return dict(
        omp_wait_policy=policy, target=target,
        target_what="nanoGPT's own val estimate at its final evaluation (step 2000), as it prints it",
        nanogpt_score_200=nano[0]['final_score_200'], nanogpt=nano, ours=ours, nanogpt_seconds=ng_wall,
        all_crossed=crossed, time_to_loss=statistics.mean(ttl) if crossed else None,
        speedup=ng_wall / statistics.mean(ttl) if crossed else None,
        utilisation=dict(ours=statistics.mean(r['utilisation'] for r in ours),
                         nanogpt=statistics.mean(r['utilisation'] for r in nano),
                         ours_with_optimizer=statistics.mean(r['utilisation_with_optimizer'] for r in ours)),
        method=(f"order {order}, each a fresh process timed by the benchmark from its start; "
                "nanoGPT: its whole 2000-step run, start to exit, averaged over its two runs; ours: from process start "
                "to the end of the first evaluation whose val estimate <= target, averaged over two runs; speedup = "
                f"the ratio of the two; utilisation against the peak measured by this process (OMP_WAIT_POLICY={peak_policy})"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--nanogpt', default=None, help="a checkout of karpathy/nanoGPT")
    ap.add_argument('--nanogpt-source', default=None)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--config', default='fast', help="our configuration in the race (a key of GPT_CONFIGS)")
    ap.add_argument('--no-ablation', action='store_true')
    ap.add_argument('--no-default-policy', action='store_true', help="skip the runs with OMP_WAIT_POLICY unset; chapter 06 reads them, so use this only to try things")
    ap.add_argument('--profile-only', action='store_true', help="rerun only part 5 (where the time goes) and replace it in --out")
    ap.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'gpt_fast.json'))
    a = ap.parse_args()
    if a.child: return child(json.loads(a.child))  # with the wait policy its parent gave it
    # Idle OpenMP workers sleep instead of spinning, in this process and (inherited) in every run it starts, nanoGPT's
    # included: on a machine shared with other jobs spinning workers stall whenever a sibling thread is descheduled.
    # Set before torch is imported. Half the race's runs use it (see omp_wait_policy in the JSON; set OMP_WAIT_POLICY
    # to override), the other half, interleaved with them, run with the variable unset.
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    if not (a.nanogpt or a.profile_only): ap.error('--nanogpt is required')
    cache = tempfile.mkdtemp(prefix='inductor_')  # the profile's compilation starts cold too
    atexit.register(shutil.rmtree, cache, True)
    os.environ['TORCHINDUCTOR_CACHE_DIR'] = cache
    if a.profile_only:
        out = Path(a.out)
        res = json.loads(out.read_text())
        res['profile'] = profile_step(a.threads, res['race']['ours'][0]['config'])
        out.write_text(json.dumps(res, indent=1) + '\n')
        print(res['profile']['table'], f"\nwrote the profile into {out}", flush=True)
        return
    import torch
    torch.set_num_threads(a.threads)
    from charlm_nb.data import load_text, train_val_split
    from charlm_nb.tokenizer import CharTokenizer
    text = load_text('shakespeare')
    tok = CharTokenizer.from_text(text)
    _, val_data = train_val_split(tok.encode_tensor(text))
    res = dict(machine=machine_info(a.threads), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               loadavg_start=loadavg(), omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'))
    print(res, flush=True)
    res['peak'] = matmul_peak(a.threads); print(res['peak'], flush=True)
    peaks = [res['peak']]
    source = a.nanogpt_source or str(Path(a.nanogpt).resolve())
    with tempfile.TemporaryDirectory() as d:
        work = nanogpt_checkout(a.nanogpt, text, d)
        policies = [res['omp_wait_policy'], *([] if a.no_default_policy else ['unset'])]
        races = race(work, a.threads, val_data, source, a.config, policies)
    peaks.append(matmul_peak(a.threads))  # once more after the race: the better of the two is the peak
    res['peak'] = max(peaks, key=lambda p: p['peak_gflops'])
    res['peak']['measurements'] = [dict(peak_gflops=p['peak_gflops'], when=w) for p, w in zip(peaks, ('before the race', 'after the race'))]
    res['peak']['method'] += '; measured before and after the race, the better of the two kept'
    peak = res['peak']['peak_gflops'] * 1e9
    res['race_order'] = [f"{'nanoGPT' if s == 'nanogpt' else 'ours'} ({p})" for s, p in race_order(policies)]
    for k, p in zip(('race', 'race_default_policy'), policies):
        res[k] = race_summary(*races[p], peak, p, res['omp_wait_policy'], ', '.join(res['race_order']))
    target = races[policies[0]][0]
    if not a.no_ablation:
        from charlm_nb.gpt import GPT_CONFIGS
        ev = {k: GPT_CONFIGS[a.config]['train'][k] for k in ('eval_interval', 'eval_iters')}
        abl = [(f'{a.config} with AdamW (B=16, lr 2e-3, 1000 steps)',
                dict(config=a.config, target=target, train=dict(optimizer='adamw', batch_size=16, lr=2e-3, max_iters=1000))),
               (f'{a.config} with batch 16 (lr 4e-3, 500 steps)',
                dict(config=a.config, target=target, train=dict(batch_size=16, lr=4e-3, max_iters=500))),
               (f'cpu config (its evaluations: every {ev["eval_interval"]} steps, {ev["eval_iters"]} batches)',
                dict(config='cpu', target=target, train=ev)),
               (f'{a.config} + torch.compile', dict(config=a.config, target=target, train=dict(compile=True))),
               (f'{a.config} + GELU', dict(config=a.config, target=target, gelu=True))]
        if GPT_CONFIGS[a.config]['train'].get('batch_threads', 1) != 1:  # torch's threads on every operation instead
            abl.append((f'{a.config}, one batch thread', dict(config=a.config, target=target, train=dict(batch_threads=1))))
        if GPT_CONFIGS[a.config]['train'].get('optimizer') == 'muon':  # Muon's products only
            abl.append((f'{a.config}, float32 Newton–Schulz', dict(config=a.config, target=target, ns_dtype='float32')))
        res['ablation'] = [run_ours(n, s, a.threads) for n, s in abl]
        for r in res['ablation']: add_utilisation(r, peak)
    res['profile'] = profile_step(a.threads, a.config)
    print(res['profile']['table'], flush=True)
    res['loadavg_end'] = loadavg()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + '\n')
    for k in ('race', 'race_default_policy'):
        if k not in res: continue
        r = res[k]
        print(f"{k}: target {r['target']}; nanoGPT {r['nanogpt_seconds']:.1f} s; ours to loss {r['time_to_loss']}; "
              f"speedup {r['speedup']}; utilisation {r['utilisation']}")
    print(f"wrote {out}")


if __name__ == '__main__': main()
