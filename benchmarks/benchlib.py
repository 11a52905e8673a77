"""Shared parts of the benchmark scripts: interleaved timing, results and the command line.

Every goal is a ratio of two figures measured in the same process, one right after the
other, so that a slower or busier machine moves both alike.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    """The outcome of one benchmark goal.

    `figure` is compared with `limit` using `comparison`: "<=" means the figure must not
    exceed the limit, and ">=" means it must reach it.
    """

    goal: str
    figure: float
    limit: float
    comparison: str
    unit: str
    detail: str

    @property
    def passed(self) -> bool:
        if self.comparison == "<=":
            return self.figure <= self.limit
        return self.figure >= self.limit

    def format_figure(self) -> str:
        if self.unit == "x":
            return f"{self.figure:.3f}x"
        return f"{self.figure:,.0f} {self.unit}"

    def format_limit(self) -> str:
        limit = f"{self.limit:g}x" if self.unit == "x" else f"{self.limit:,.0f} {self.unit}"
        return f"{self.comparison} {limit}"


def time_batch(action: Callable[[], None], calls: int) -> float:
    """Return the seconds taken by `calls` calls of `action`, with the cyclic GC paused.

    The GC is paused during the batch, as `timeit` does, so that a full collection of the
    large setup heap is not charged to whichever batch happens to trigger it.
    """
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            action()
        return time.perf_counter() - start
    finally:
        gc.enable()


def interleaved_medians(
    baseline: Callable[[], float], measured: Callable[[], float], rounds: int
) -> tuple[float, float]:
    """Alternate the two timing callables `rounds` times each; return their median times.

    Alternating (baseline, measured, baseline, ...) spreads any drift of the machine's
    speed over both sides. A first unrecorded round of each warms caches and allocators.
    """
    baseline()
    measured()
    baseline_times: list[float] = []
    measured_times: list[float] = []
    for _ in range(rounds):
        baseline_times.append(baseline())
        measured_times.append(measured())
    return statistics.median(baseline_times), statistics.median(measured_times)


def main(measure: Callable[[], list[Result]]) -> int:
    """Run `measure`, print its results and return the exit status (0 if every goal is met).

    With `--json` the results are printed as one JSON list, which run_all.py reads.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--json", action="store_true", help="print the results as one JSON list on stdout"
    )
    arguments = parser.parse_args()

    results = measure()
    if arguments.json:
        print(json.dumps([{**asdict(result), "passed": result.passed} for result in results]))
    else:
        for result in results:
            verdict = "PASS" if result.passed else "FAIL"
            print(
                f"{result.goal}: {result.format_figure()} (limit {result.format_limit()}) {verdict}"
            )
            print(f"  {result.detail}")
    return 0 if all(result.passed for result in results) else 1
