"""Random syscall sequences keep every invariant (see machine.py), and leak nothing.

The profile's sequences run in batches (see profiles.run_batch), one test per batch.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from reliability.machine import ReliabilityMachine
from reliability.profiles import STATS_VARIABLE, batch_count, chosen, run_batch
from reliability.stats import STATS

SETTINGS = chosen()

STATS.clear()


@pytest.mark.parametrize("batch", range(batch_count(SETTINGS)))
def test_random_sequences_keep_invariants(batch):
    started = time.perf_counter()
    try:
        run_batch(ReliabilityMachine, SETTINGS, batch)
    finally:
        STATS["seconds"] += time.perf_counter() - started
        _write_stats()


def _write_stats() -> None:
    path = os.environ.get(STATS_VARIABLE)
    if path:
        figures = dict(STATS, seconds=round(STATS["seconds"], 1))
        with open(path, "w", encoding="utf-8") as output:
            json.dump(figures, output, indent=2, sort_keys=True)
