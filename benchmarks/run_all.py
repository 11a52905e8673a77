"""Run every benchmark script, each in a fresh interpreter, and print a table of results.

Each script runs as `python bench_x.py --json` so that one benchmark's heap and garbage
collector state cannot slow down the next. The exit status is 0 only if every goal is met.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import benchlib

SCRIPTS = (
    "bench_create_shared.py",
    "bench_vmar_map.py",
    "bench_read_memory.py",
    "bench_member_memory.py",
    "bench_scheduler_switch.py",
    "bench_event_wake.py",
    "bench_futex_memory.py",
    "bench_inspect.py",
    "bench_vmo_snapshot.py",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(script: Path) -> list[benchlib.Result]:
    completed = subprocess.run(
        [sys.executable, str(script), "--json"], capture_output=True, text=True, check=False
    )
    # A missed goal exits with status 1 and still prints its results. Any other status is a crash.
    if completed.returncode not in (0, 1) or not completed.stdout.strip():
        sys.stderr.write(completed.stderr)
        raise RuntimeError(
            f"{script.name} failed with exit status {completed.returncode}. "
            "Its standard error output is printed above."
        )
    results = []
    for record in json.loads(completed.stdout.strip().splitlines()[-1]):
        record.pop("passed")
        results.append(benchlib.Result(**record))
    return results


def main() -> int:
    directory = Path(__file__).resolve().parent
    print(f"CPU: {_cpu_model()}, Python {platform.python_version()}")
    print()
    print("| goal | measured | limit | result |")
    print("| --- | --- | --- | --- |")
    details: list[str] = []
    all_passed = True
    for script in SCRIPTS:
        for result in _run(directory / script):
            verdict = "PASS" if result.passed else "FAIL"
            all_passed = all_passed and result.passed
            print(
                f"| {result.goal} | {result.format_figure()} | {result.format_limit()} "
                f"| {verdict} |"
            )
            details.append(f"- {result.goal}: {result.detail}")
    print()
    print("\n".join(details))
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
