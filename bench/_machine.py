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
