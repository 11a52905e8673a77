"""Goal 2: zx_vmar_map into a VMAR with 100,000 mappings costs at most 2x one with 100.

Two placements are measured, each against its own baseline VMAR with 100 mappings:

- anywhere: the VMAR was filled by non-specific one-page maps, so its mappings are
  contiguous and each new non-specific map lands after the last one;
- specific: the VMAR contains one-page mappings on every even page, and each new map is a
  ZX_VM_SPECIFIC map into a free odd page in the middle of them, so the new mapping is
  inserted between existing ones.

Batches of maps into the large and the small VMAR are timed in alternation. The figure
is the median batch time of the large one over that of the small one. Each batch's
mappings are unmapped afterwards, outside the timed part, so the VMAR sizes stay fixed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import benchlib

from pyzircon import Kernel, zx

LARGE = 100_000
SMALL = 100
CALLS_PER_BATCH = 50
ROUNDS = 41
LIMIT = 2.0

READ_WRITE = zx.ZX_VM_PERM_READ | zx.ZX_VM_PERM_WRITE
SUB_VMAR_OPTIONS = zx.ZX_VM_CAN_MAP_READ | zx.ZX_VM_CAN_MAP_WRITE | zx.ZX_VM_CAN_MAP_SPECIFIC


def _allocate(pages: int) -> tuple[int, int]:
    page = zx.system_get_page_size()
    return zx.vmar_allocate(zx.vmar_root_self(), SUB_VMAR_OPTIONS, 0, pages * page)


def _anywhere_timer(mappings: int, vmo: int, filler_vmo: int) -> Callable[[], float]:
    """Fill a VMAR with `mappings` contiguous maps; return a timer of further maps."""
    page = zx.system_get_page_size()
    vmar, _ = _allocate(mappings + (ROUNDS + 1) * CALLS_PER_BATCH)
    for _ in range(mappings):
        zx.vmar_map(vmar, READ_WRITE, 0, filler_vmo, 0, page)

    def time_maps() -> float:
        addresses: list[int] = []

        def map_one() -> None:
            addresses.append(zx.vmar_map(vmar, READ_WRITE, 0, vmo, 0, page))

        seconds = benchlib.time_batch(map_one, CALLS_PER_BATCH)
        zx.vmar_unmap(vmar, addresses[0], addresses[-1] + page - addresses[0])
        return seconds

    return time_maps


def _specific_timer(mappings: int, vmo: int, filler_vmo: int) -> Callable[[], float]:
    """Map every even page of a VMAR; return a timer of maps into odd pages in its middle."""
    page = zx.system_get_page_size()
    vmar, vmar_base = _allocate(2 * mappings)
    for index in range(mappings):
        zx.vmar_map(vmar, READ_WRITE | zx.ZX_VM_SPECIFIC, 2 * index * page, filler_vmo, 0, page)
    first_hole = mappings // 2 - CALLS_PER_BATCH // 2
    offsets = [(2 * (first_hole + index) + 1) * page for index in range(CALLS_PER_BATCH)]

    def time_maps() -> float:
        remaining = iter(offsets)

        def map_one() -> None:
            zx.vmar_map(vmar, READ_WRITE | zx.ZX_VM_SPECIFIC, next(remaining), vmo, 0, page)

        seconds = benchlib.time_batch(map_one, CALLS_PER_BATCH)
        for offset in offsets:
            zx.vmar_unmap(vmar, vmar_base + offset, page)
        return seconds

    return time_maps


def measure() -> list[benchlib.Result]:
    medians: dict[str, tuple[float, float]] = {}

    def program() -> int:
        page = zx.system_get_page_size()
        filler_vmo = zx.vmo_create(page, 0)
        vmo = zx.vmo_create(page, 0)
        for placement, make_timer in (("anywhere", _anywhere_timer), ("specific", _specific_timer)):
            small = make_timer(SMALL, vmo, filler_vmo)
            large = make_timer(LARGE, vmo, filler_vmo)
            medians[placement] = benchlib.interleaved_medians(small, large, ROUNDS)
        return 0

    Kernel(seed=0).run(program)
    results = []
    per_call_us = 1e6 / CALLS_PER_BATCH
    for placement, (small_seconds, large_seconds) in medians.items():
        results.append(
            benchlib.Result(
                goal=f"vmar_map ({placement}), {LARGE:,} mappings vs {SMALL}",
                figure=large_seconds / small_seconds,
                limit=LIMIT,
                comparison="<=",
                unit="x",
                detail=(
                    f"median per call: {large_seconds * per_call_us:.2f} us with {LARGE:,} "
                    f"mappings, {small_seconds * per_call_us:.2f} us with {SMALL} "
                    f"({ROUNDS} batches of {CALLS_PER_BATCH} calls each)"
                ),
            )
        )
    return results


if __name__ == "__main__":
    sys.exit(benchlib.main(measure))
