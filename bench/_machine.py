"What the benchmark scripts record about the machine they ran on (imported by bench/*.py, which run from the repo root)."
import os, platform
from pathlib import Path


def cpu_name() -> str:
    "The CPU's model name from /proc/cpuinfo, else what `platform` knows."
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()


def loadavg() -> list:
    "The 1, 5 and 15-minute load averages, rounded."
    return [round(x, 2) for x in os.getloadavg()]


def bench_json(stdout:str, what:str) -> dict:
    "The JSON of the `BENCH_JSON ` line a child process printed, or a RuntimeError naming the run and showing its output's tail."
    import json
    line = next((l for l in stdout.splitlines() if l.startswith('BENCH_JSON ')), None)
    if line is None: raise RuntimeError(f"{what} printed no BENCH_JSON line; the end of its output:\n{stdout[-2000:]}")
    return json.loads(line[len('BENCH_JSON '):])
