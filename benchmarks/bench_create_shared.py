"""Goal 1: zx_process_create_shared costs the same whatever the shared part contains.

Two prototypes are made: one with an empty shared address space and one whose shared
root VMAR contains 100,000 one-page mappings. Batches of zx.process_create_shared calls on
each are timed in alternation; the figure is the median batch time with 100,000 mappings
over the median without. The new members' handles are closed between batches, outside
the timed part, so every batch starts from the same state.
"""

from __future__ import annotations

import sys

import benchlib

from pyzircon import Kernel, zx

SHARED_MAPPINGS = 100_000
CALLS_PER_BATCH = 200
ROUNDS = 31
LIMIT = 1.2


def _time_creates(prototype: int) -> float:
    created: list[int] = []

    def create_member() -> None:
        created.extend(zx.process_create_shared(prototype, 0, "member"))

    seconds = benchlib.time_batch(create_member, CALLS_PER_BATCH)
    zx.handle_close_many(created)
    return seconds


def measure() -> list[benchlib.Result]:
    medians: list[float] = []

    def program() -> int:
        job = zx.job_default()
        empty, _ = zx.process_create(job, "proto-empty", zx.ZX_PROCESS_SHARED)
        full, full_vmar = zx.process_create(job, "proto-full", zx.ZX_PROCESS_SHARED)

        page = zx.system_get_page_size()
        vmo = zx.vmo_create(page, 0)
        for _ in range(SHARED_MAPPINGS):
            zx.vmar_map(full_vmar, zx.ZX_VM_PERM_READ, 0, vmo, 0, page)

        medians.extend(
            benchlib.interleaved_medians(
                lambda: _time_creates(empty), lambda: _time_creates(full), ROUNDS
            )
        )
        return 0

    Kernel(seed=0).run(program)
    empty_seconds, full_seconds = medians
    per_call_us = 1e6 / CALLS_PER_BATCH
    result = benchlib.Result(
        goal=f"process_create_shared, {SHARED_MAPPINGS:,} shared mappings vs none",
        figure=full_seconds / empty_seconds,
        limit=LIMIT,
        comparison="<=",
        unit="x",
        detail=(
            f"median per call: {full_seconds * per_call_us:.2f} us with "
            f"{SHARED_MAPPINGS:,} mappings, {empty_seconds * per_call_us:.2f} us with none "
            f"({ROUNDS} batches of {CALLS_PER_BATCH} calls each)"
        ),
    )
    return [result]


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
