"""Rights only shrink: no chain of zx.handle_duplicate / zx.handle_replace grows them.

Hypothesis draws a starting object and a chain of operations, each on any live handle.
The rights values include valid masks, ZX_RIGHT_SAME_RIGHTS (alone or with other bits),
unknown bits, and values C could not carry (negative, wider than 32 bits, not ints).
Every outcome is checked against the rule the kernel applies.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyzircon import zx
from pyzircon.abi.rights import RIGHT_NAMES
from support import run_guest

U32_MAX = (1 << 32) - 1
SINGLE_RIGHTS = sorted(RIGHT_NAMES)

MAKERS = {
    "event": lambda: zx.event_create(0),
    "eventpair": lambda: zx.eventpair_create(0)[0],
    "process": lambda: zx.process_create(zx.job_default(), "p", 0)[0],
    "job": lambda: zx.job_create(zx.job_default(), 0),
    "vmo": lambda: zx.vmo_create(zx.system_get_page_size(), 0),
    "vmar": zx.vmar_root_self,
    "thread": zx.thread_self,
}

rights_values = st.one_of(
    st.just(zx.ZX_RIGHT_SAME_RIGHTS),
    st.just(zx.ZX_RIGHT_NONE),
    st.sampled_from(SINGLE_RIGHTS),
    st.lists(st.sampled_from(SINGLE_RIGHTS), max_size=6).map(lambda bits: sum(set(bits))),
    st.integers(min_value=0, max_value=U32_MAX),
    st.integers(min_value=0, max_value=U32_MAX).map(lambda r: r | zx.ZX_RIGHT_SAME_RIGHTS),
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.sampled_from([None, 1.0, "0x4", b"\x04", [zx.ZX_RIGHT_READ]]),
)
operations = st.lists(
    st.tuples(st.sampled_from(["duplicate", "replace"]), st.integers(0, 63), rights_values),
    max_size=12,
)


def expected_status(operation: str, source_rights: int, requested: Any) -> int:
    """Return the status the kernel's rules give for one operation."""
    if operation == "duplicate" and not source_rights & zx.ZX_RIGHT_DUPLICATE:
        return zx.ZX_ERR_ACCESS_DENIED
    if not isinstance(requested, int) or isinstance(requested, bool):
        return zx.ZX_ERR_INVALID_ARGS
    if not 0 <= requested <= U32_MAX:
        return zx.ZX_ERR_INVALID_ARGS
    if requested == zx.ZX_RIGHT_SAME_RIGHTS or not requested & ~source_rights:
        return zx.ZX_OK
    return zx.ZX_ERR_INVALID_ARGS


def is_valid(handle: int) -> bool:
    try:
        zx.object_get_info(handle, zx.ZX_INFO_HANDLE_VALID)
    except zx.ZxError:
        return False
    return True


def rights_of(handle: int) -> int:
    return zx.object_get_info(handle, zx.ZX_INFO_HANDLE_BASIC).rights


def run_chain(kind: str, chain: list[tuple[str, int, Any]]) -> None:
    """Run `chain` in a guest and check every step against `expected_status`."""

    def body() -> None:
        root = MAKERS[kind]()
        root_rights = rights_of(root)
        live = {root: root_rights}
        for operation, pick, requested in chain:
            if not live:
                break
            source = sorted(live)[pick % len(live)]
            source_rights = live[source]
            call = zx.handle_duplicate if operation == "duplicate" else zx.handle_replace
            expected = expected_status(operation, source_rights, requested)
            try:
                new = call(source, requested)
            except zx.ZxError as error:
                assert error.status == expected, (operation, hex(source_rights), requested)
                if operation == "replace":
                    # zx_handle_replace consumes its source even when it fails.
                    del live[source]
                    assert not is_valid(source)
                continue

            assert expected == zx.ZX_OK, (operation, hex(source_rights), requested)
            new_rights = rights_of(new)
            assert new_rights & ~source_rights == 0
            expected_rights = source_rights if requested == zx.ZX_RIGHT_SAME_RIGHTS else requested
            assert new_rights == expected_rights
            if operation == "replace":
                del live[source]
                assert not is_valid(source)
            live[new] = new_rights

        for handle, rights in live.items():
            assert rights_of(handle) == rights
            assert rights & ~root_rights == 0

    run_guest(body)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(MAKERS)), chain=operations)
def test_rights_never_grow(kind, chain):
    run_chain(kind, chain)


def test_rights_chain_without_duplicate_right():
    run_chain(
        "event",
        [
            ("replace", 0, zx.ZX_RIGHT_WAIT),
            ("duplicate", 0, zx.ZX_RIGHT_SAME_RIGHTS),
            ("replace", 0, zx.ZX_RIGHT_SAME_RIGHTS),
            ("replace", 0, zx.ZX_RIGHT_WAIT | zx.ZX_RIGHT_READ),
        ],
    )
