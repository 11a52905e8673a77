"""A random program run twice with one seed gives byte-identical syscall traces.

Hypothesis draws a program (a sequence of state-machine steps) and a seed. The run renders
every syscall (time, process, thread, name, arguments, status, result) into one line of
text. After the run, the same steps are replayed in a new machine with the same seed, and
the two traces must be equal byte for byte.
"""

from __future__ import annotations

import hashlib

import pytest

from reliability.machine import ReliabilityMachine, replay
from reliability.profiles import batch_count, chosen, run_batch

# Each sequence runs twice, so this test uses a twentieth of the profile's sequences.
SETTINGS = chosen(0.05)


class ReplayingMachine(ReliabilityMachine):
    """Runs a sequence, then replays it and compares the two traces."""

    record_trace = True

    def teardown(self) -> None:
        session = self.session
        super().teardown()
        if session is None:
            return
        first = "\n".join(session.trace).encode()
        second, count = replay(self.steps)
        assert count == session.syscall_count, (count, session.syscall_count)
        if first != second:
            raise AssertionError(_first_difference(first, second))
        assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def _first_difference(first: bytes, second: bytes) -> str:
    for number, (one, two) in enumerate(zip(first.splitlines(), second.splitlines(), strict=False)):
        if one != two:
            return f"the traces differ at syscall {number}:\n  {one!r}\n  {two!r}"
    return f"one trace is longer: {len(first)} bytes against {len(second)}"


@pytest.mark.parametrize("batch", range(batch_count(SETTINGS)))
def test_same_seed_same_trace(batch):
    run_batch(ReplayingMachine, SETTINGS, batch)
