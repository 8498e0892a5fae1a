"What the benchmark scripts record about the machine they ran on (imported by bench/*.py, which run from the repo root)."
import os, platform
from pathlib import Path


def cpu_name() -> str:
    "The CPU's model name from /proc/cpuinfo with its widest vector instructions (e.g. 'AMD EPYC (AVX2)'), else what `platform` knows."
    try:
        lines = Path('/proc/cpuinfo').read_text().splitlines()
    except OSError: lines = []
    name = next((l.split(':', 1)[1].strip() for l in lines if l.startswith('model name')), None)
    if name is None: return platform.processor() or platform.machine()
    flags = set(next((l.split(':', 1)[1].split() for l in lines if l.startswith('flags')), []))
    isa = ('AVX-512' + (' with bf16' if 'avx512_bf16' in flags else '') if 'avx512f' in flags
           else 'AVX2' if 'avx2' in flags else None)  # model names like 'AMD EPYC' cover several generations; this tells them apart
    return f"{name} ({isa})" if isa else name


def loadavg() -> list:
    "The 1, 5 and 15-minute load averages, rounded."
    return [round(x, 2) for x in os.getloadavg()]


def bench_json(stdout:str, what:str) -> dict:
    "The JSON of the `BENCH_JSON ` line a child process printed, or a RuntimeError naming the run and showing its output's tail."
    import json
    line = next((l for l in stdout.splitlines() if l.startswith('BENCH_JSON ')), None)
    if line is None: raise RuntimeError(f"{what} printed no BENCH_JSON line; the end of its output:\n{stdout[-2000:]}")
    return json.loads(line[len('BENCH_JSON '):])
