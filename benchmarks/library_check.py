"""Benchmark: checking the whole proof library, cold and warm, in one and in two processes.

Each row runs ``tpcheck check proofs/`` in a fresh process and reports its wall time and the CPU
time of it and all its children: cold with ``-j 1`` (the reference), cold with ``-j 2``, and
warm (a verdict cache filled by a first run, in a scratch folder). The verdicts of every run are
compared with the reference's. Issue 16's criterion: under 20 s cold and under 2 s warm on two
idle cores.

    python benchmarks/library_check.py [--repeat 3] [--proofs proofs]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, dict[str, str]]:
    """(wall s, CPU s of the process tree, verdict by theorem) of one ``tpcheck check``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = cwd / "report.json"
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import sys; from tpcheck.cli import main; sys.exit(main())",
                    "check", *args, "--json", str(report)], cwd=cwd, env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    data = json.loads(report.read_text())
    verdicts = {f"{f['path']}::{t['name']}": t["verdict"] for f in data["files"] for t in f["theorems"]}
    return wall, cpu, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (the fastest is shown)")
    parser.add_argument("--proofs", default=str(ROOT / "proofs"))
    args = parser.parse_args(argv)
    proofs = str(Path(args.proofs).resolve())
    env = {**os.environ, "TPCHECK_CACHE_KEY": os.environ.get("TPCHECK_CACHE_KEY", "benchmark-key")}
    rows = []
    with tempfile.TemporaryDirectory(prefix="tpcheck-bench-") as scratch:
        folder = Path(scratch)
        cases = [("cold, -j 1 (reference)", ["--no-cache", "-j", "1", proofs], False),
                 ("cold, -j 2", ["--no-cache", "-j", "2", proofs], False),
                 ("warm cache, -j 2", ["-j", "2", proofs], True)]
        reference = None
        for label, check_args, warm in cases:
            best = None
            for _ in range(args.repeat):
                if warm:
                    run(["--clear-cache", "-j", "2", proofs], folder, env)  # fill the cache
                wall, cpu, verdicts = run(check_args, folder, env)
                if best is None or wall < best[0]:
                    best = (wall, cpu, verdicts)
            assert best is not None
            reference = reference or best
            rows.append((label, best[0], best[1], best[2] == reference[2], len(best[2])))
    ref_wall = rows[0][1]
    print(f"{'run':<26} {'wall s':>8} {'CPU s':>8} {'ratio':>7}  same verdicts  theorems")
    print("-" * 78)
    for label, wall, cpu, same, count in rows:
        print(f"{label:<26} {wall:8.2f} {cpu:8.2f} {ref_wall / wall:6.1f}x  {str(same):<13} {count}")
    return 0 if all(same for *_, same, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
