"""Run every benchmark in this folder, one after another, each in a process of its own, and print
its table as it comes (each benchmark measures its own reference in the same run, so every ratio
is side by side): ``python benchmarks/run_all.py [--only NAME ...] [--markdown FILE]``.

With ``--markdown FILE`` the tables are also written to FILE (as docs/benchmarks.md keeps them),
headed by the machine they came from (CPU model, cores, load average at the start) and the date.
A benchmark that fails is reported with its exit status and the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: name -> extra arguments (defaults are each benchmark's own)
BENCHMARKS: dict[str, list[str]] = {
    "gaussian_engine": [],
    "wick": [],
    "z_calculus": [],
    "random_matrices": [],
    "deep_kernels": [],
    "coord_check": [],
    "library_check": [],
}


def machine() -> str:
    """The CPU model, the number of cores and the load average, for the tables' heading."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{model}; {os.cpu_count()} cores; load average {load}; Python {platform.python_version()}"


def run(name: str, args: list[str]) -> tuple[int, str, float]:
    """(exit status, output, wall seconds) of one benchmark."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], capture_output=True,
                          text=True, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables to FILE")
    args = parser.parse_args(argv)
    heading = f"{datetime.date.today().isoformat()}, {machine()}"
    print(heading, flush=True)
    sections = [f"# Benchmarks\n\nMeasured {heading}, by `python benchmarks/run_all.py`.\n"]
    failed = 0
    for name in args.only or BENCHMARKS:
        status, out, seconds = run(name, BENCHMARKS[name])
        title = f"{name} ({seconds:.0f} s" + (f", exit {status})" if status else ")")
        print(f"\n== {title}\n{out.rstrip()}", flush=True)
        sections.append(f"## {title}\n\n```\n{out.rstrip()}\n```\n")
        failed += status != 0
    if args.markdown:
        Path(args.markdown).write_text("\n".join(sections), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
