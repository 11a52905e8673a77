"""Hypothesis settings for the reliability suite, chosen by PYZIRCON_RELIABILITY.

- `ci` (the default): a fixed set of 2,000 sequences of up to 50 steps, the same on
  every run (derandomized), sized to fit the normal test run;
- `soak`: fresh random sequences, 20,000 of them by default, for a long run by hand;
- `quick`: 50 sequences, for working on the suite itself.

PYZIRCON_RELIABILITY_EXAMPLES overrides the number of sequences of any profile, and
PYZIRCON_RELIABILITY_STATS names a JSON file that receives the run's figures.
"""

from __future__ import annotations

import gc
import math
import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

PROFILE_VARIABLE = "PYZIRCON_RELIABILITY"
EXAMPLES_VARIABLE = "PYZIRCON_RELIABILITY_EXAMPLES"
STATS_VARIABLE = "PYZIRCON_RELIABILITY_STATS"

_COMMON = {
    "deadline": None,
    "stateful_step_count": 50,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

settings.register_profile(
    "reliability-ci", max_examples=2000, derandomize=True, database=None, **_COMMON
)
settings.register_profile("reliability-soak", max_examples=20_000, **_COMMON)
settings.register_profile(
    "reliability-quick", max_examples=50, derandomize=True, database=None, **_COMMON
)


def chosen(scale: float = 1.0) -> settings:
    """Return the selected profile's settings, with `scale` times its sequence count."""
    name = os.environ.get(PROFILE_VARIABLE, "ci")
    profile = settings.get_profile(f"reliability-{name}")
    examples = int(os.environ.get(EXAMPLES_VARIABLE, profile.max_examples))
    return settings(profile, max_examples=max(1, int(examples * scale)))


# Sequences per Hypothesis run. Hypothesis keeps every choice of a run in memory (about
# 0.4 MB a sequence for this machine, measured with the quick profile), so one run of
# 2,000 sequences would peak near 1 GB.
BATCH_SIZE = 500


def batch_count(total: settings) -> int:
    """Return how many runs of at most BATCH_SIZE sequences `total` needs."""
    return math.ceil(total.max_examples / BATCH_SIZE)


def run_batch(machine: type[RuleBasedStateMachine], total: settings, batch: int) -> None:
    """Run batch `batch` of `total`'s sequences as a Hypothesis run of its own.

    Each batch runs a subclass of `machine` named after the batch, which gives it its own
    derandomized sequences. What exists before the run is frozen out of garbage
    collection, because a sequence may end with a full collection (the leak check).
    """
    subclass = type(f"{machine.__name__}Batch{batch}", (machine,), {})
    size = min(BATCH_SIZE, total.max_examples - batch * BATCH_SIZE)
    gc.freeze()
    try:
        run_state_machine_as_test(subclass, settings=settings(total, max_examples=size))
    finally:
        gc.unfreeze()
        # Free the run's cyclic garbage now, before the next batch freezes it for good.
        gc.collect()
